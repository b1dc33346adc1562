"""The cooperative game of a scenario: v(S) = the optimum when only coalition S may
form new exchanges (everyone else at the baseline) minus the baseline.

Each v(S) is one planner solve, so the game is evaluated lazily and cached.
Values are the accounts' cluster NPV (``evaluate``, the ledger's sum), the
same ruler as the gap report, not the solver's objective value.
By default the players are the actors that take part in the optimum's new
exchanges or investments; every other actor is held at the baseline in all
coalitions (a documented approximation that keeps 2^n solves small; pass
``players`` to choose them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from symbiosim.accounts import evaluate
from symbiosim.plan import Plan
from symbiosim.planner import optimise
from symbiosim.progress import progress
from symbiosim.scenario.schema import Scenario


def cluster_npv(scenario: Scenario, plan: Plan) -> float:
    """A plan's cluster NPV from the accounts (the sum of its ledger)."""
    return float(evaluate(scenario, plan).kpis["cluster_npv"])


def trading_actors(optimum: Plan, baseline: Plan) -> list[str]:
    """Actors with a flow, an entry, a process or a link in the optimum that the baseline lacks."""
    base_arcs = set(zip(baseline.flows.source, baseline.flows.target, baseline.flows["product"], strict=True))
    actors: set[str] = set()
    for s, t, p in zip(optimum.flows.source, optimum.flows.target, optimum.flows["product"], strict=True):
        if (s, t, p) not in base_arcs:
            actors |= {s, t}
    base_builds = set(map(tuple, baseline.builds.astype(str).to_numpy()))
    for row in optimum.builds.itertuples():
        if tuple(map(str, row[1:])) not in base_builds:
            actors.add(row.actor)
            if row.kind == "link":
                actors.add(row.target)
    return sorted(actors)


@dataclass
class CoalitionGame:
    """v(S) in money (cluster NPV gain over the baseline), solved on demand and cached."""

    scenario: Scenario
    players: list[str]
    baseline_npv: float
    mip_gap: float = 1e-4
    cache: dict[frozenset[str], float] = field(default_factory=dict)
    _bar: Any = field(default=None, repr=False, compare=False)

    def __call__(self, coalition: frozenset[str]) -> float:
        coalition = frozenset(coalition)
        if not coalition:
            return 0.0
        if coalition not in self.cache:
            total = 2 ** len(self.players) - 1
            if self._bar is None:  # one bar over every coalition the sharing rules ask for
                self._bar = progress(total=total, desc="coalitions", unit="solve")
                self._bar.update(len(self.cache))
            plan = optimise(self.scenario, coalition=coalition, mip_gap=self.mip_gap)
            self.cache[coalition] = cluster_npv(self.scenario, plan) - self.baseline_npv
            self._bar.update(1)
            if len(self.cache) >= total:
                self._bar.close()
        return self.cache[coalition]


def coalition_game(scenario: Scenario, optimum: Plan, baseline: Plan, players: list[str] | None = None) -> CoalitionGame:
    """The game over ``players`` (default: the actors trading in the optimum)."""
    chosen = players if players is not None else trading_actors(optimum, baseline)
    game = CoalitionGame(scenario, chosen, cluster_npv(scenario, baseline))
    # the grand coalition of the chosen players is the optimum when they are all who trade
    if players is None and chosen:
        game.cache[frozenset(chosen)] = cluster_npv(scenario, optimum) - game.baseline_npv
    return game
