"""The gap report: baseline, decentralised outcome and coordinated optimum side by
side, the share of the potential realised, and who wins or loses under each
rule for sharing the coordinated gain."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from symbiosim.accounts import Accounts, evaluate
from symbiosim.compare.coalitions import CoalitionGame, coalition_game
from symbiosim.plan import Plan
from symbiosim.planner import optimise
from symbiosim.report.jsonable import finite
from symbiosim.scenario.schema import Scenario
from symbiosim.simulator import SimulationResult, simulate

RULES = ("shapley", "nucleolus", "least_core", "equal_split", "proportional")
SOURCES = ("baseline", "decentralised", "optimum")


def share_of_potential(baseline: float, decentralised: float, optimum: float) -> float:
    """(decentralised - baseline) / (optimum - baseline); NaN when there is no potential."""
    potential = optimum - baseline
    if abs(potential) <= 1e-9 * max(1.0, abs(optimum)):
        return math.nan
    return (decentralised - baseline) / potential


def allocations(game: CoalitionGame, rules: tuple[str, ...] = RULES) -> dict[str, dict[str, float]]:
    """Each rule's share of the coordinated gain v(N), per player (money)."""
    from symbiosim.compare import games

    players = game.players
    if not players:
        return {rule: {} for rule in rules}
    out: dict[str, dict[str, float]] = {}
    for rule in rules:
        if rule == "least_core":
            out[rule] = dict(games.least_core(players, game).allocation)
        else:
            out[rule] = dict(getattr(games, rule)(players, game))
    return out


@dataclass(frozen=True)
class Comparison:
    seed: int
    kpis: pd.DataFrame  # key figure x (baseline, decentralised, optimum, gap, share)
    actors: pd.DataFrame  # one row per actor: profits and wins/losses per rule
    transfers: pd.DataFrame  # rule x actor: payment that implements the rule (+ received)
    share_of_potential: float
    game: CoalitionGame
    plans: dict[str, Plan]
    accounts: dict[str, Accounts]
    simulation: SimulationResult
    core: dict[str, Any]  # empty?, least subsidy that makes it non-empty, per rule: in the core?

    def to_json(self) -> dict[str, Any]:
        """The object ``symbiosim compare --json`` prints."""
        kpis = {src: {k: finite(v) for k, v in self.kpis[src].items()} for src in SOURCES}
        return {
            "status": "ok",
            "seed": self.seed,
            **kpis,
            "share_of_potential": finite(self.share_of_potential),
            "actors": [{k: finite(v) for k, v in row.items()} for row in self.actors.to_dict("records")],
            "allocation": {rule: {a: finite(v) for a, v in row.items()} for rule, row in self.transfers.iterrows()},
            "players": self.game.players,
            "core": {k: finite(v) if not isinstance(v, dict) else v for k, v in self.core.items()},
            "side_payments": self.side_payments(),
        }

    def side_payments(self) -> dict[str, dict[str, Any]]:
        """Side payments as an incentive: the coordinated plan with each rule's transfers.
        It realises the whole potential; the public pays only what an empty core
        needs (the least subsidy) and nothing otherwise."""
        out = {}
        for rule in self.transfers.index:
            out[rule] = {
                "share_of_potential": 1.0 if math.isfinite(self.share_of_potential) else None,
                "public_cost": finite(float(self.core.get("least_subsidy") or 0.0)),
                "transfers_paid": finite(float(self.transfers.loc[rule].clip(lower=0).sum())),
                "actors_below_standalone": int(self.actors[f"below_standalone_{rule}"].sum()),
                "in_core": self.core.get("in_core", {}).get(rule),
            }
        return out




def compare(
    scenario: Scenario,
    seed: int = 0,
    *,
    rules: tuple[str, ...] = RULES,
    players: list[str] | None = None,
    facilitator: bool = False,
    baseline: Plan | None = None,
    optimum: Plan | None = None,
) -> Comparison:
    """Baseline vs decentralised vs optimum, and the sharing of the coordinated gain.

    Args:
        scenario: the scenario.
        seed: the simulator's seed.
        rules: allocation rules to report (shapley, nucleolus, least_core,
            equal_split, proportional).
        players: players of the coalition game (default: actors trading in
            the optimum; the others stay at the baseline in every coalition).
        facilitator: run the simulator with a facilitator.
        baseline, optimum: reuse solved plans.
    """
    baseline = baseline if baseline is not None else optimise(scenario, baseline=True)
    optimum = optimum if optimum is not None else optimise(scenario)
    sim = simulate(scenario, seed, facilitator=facilitator, baseline=baseline)
    plans = {"baseline": baseline, "decentralised": sim.plan, "optimum": optimum}
    accounts = {name: evaluate(scenario, plan, baseline) for name, plan in plans.items()}

    keys = list(dict.fromkeys(k for acc in accounts.values() for k in acc.kpis))
    kpis = pd.DataFrame({name: [accounts[name].kpis.get(k, 0.0) for k in keys] for name in SOURCES}, index=keys)
    kpis["gap"] = kpis.optimum - kpis.decentralised
    kpis["share"] = [share_of_potential(b, d, o) for b, d, o in zip(kpis.baseline, kpis.decentralised, kpis.optimum, strict=True)]
    share = share_of_potential(*(accounts[name].kpis["cluster_npv"] for name in SOURCES))

    game = coalition_game(scenario, optimum, baseline, players)
    shares = allocations(game, rules)
    profit = {name: accounts[name].actors.set_index("actor").profit for name in SOURCES}
    actors = pd.DataFrame({"actor": list(profit["baseline"].index)})
    actors["baseline_profit"] = actors.actor.map(profit["baseline"])
    actors["decentralised_profit"] = actors.actor.map(profit["decentralised"])
    actors["coordinated_profit"] = actors.actor.map(profit["optimum"])
    transfers = {}
    for rule in rules:
        gain = actors.actor.map(shares[rule]).fillna(0.0)
        actors[f"coordinated_profit_{rule}"] = actors.baseline_profit + gain
        transfers[rule] = (actors[f"coordinated_profit_{rule}"] - actors.coordinated_profit).to_numpy()
    tol = 1e-6 * max(1.0, float(actors.baseline_profit.abs().max()))
    actors["decentralised_wins"] = actors.decentralised_profit > actors.baseline_profit + tol
    actors["decentralised_loses"] = actors.decentralised_profit < actors.baseline_profit - tol
    actors["coordinated_loses_without_transfers"] = actors.coordinated_profit < actors.baseline_profit - tol
    transfer_table = pd.DataFrame(transfers, index=actors.actor).T
    for rule in rules:
        actors[f"below_standalone_{rule}"] = actors[f"coordinated_profit_{rule}"] < actors.baseline_profit - tol
    return Comparison(seed, kpis, actors, transfer_table, share, game, plans, accounts, sim, core_report(game, shares))


def core_report(game: CoalitionGame, shares: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Would a coalition do better alone? Per rule; the least subsidy when the core is empty."""
    from symbiosim.compare import games

    if not game.players or len(game.players) > games.MAX_ENUMERATION_PLAYERS:
        return {"checked": False, "reason": f"{len(game.players)} players (limit {games.MAX_ENUMERATION_PLAYERS})"}
    subsidy = games.least_subsidy_for_core(game.players, game)
    return {
        "checked": True,
        "empty": games.core_is_empty(game.players, game),
        "least_subsidy": subsidy,
        "in_core": {rule: games.in_core(game.players, game, alloc, tol=1e-6) for rule, alloc in shares.items()},
    }
