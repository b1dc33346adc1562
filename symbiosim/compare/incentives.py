"""Incentive mechanisms tested in the simulator, and the least-cost level of one.

Every setting is run with the same seeds as the reference (no new policy), so
differences are paired. The ruler is the scenario without the new policy:
taxes and subsidies are transfers, so the share of the potential realised is
(NPV at the scenario's own prices - baseline) / (optimum - baseline).
Per setting:

* share of the potential realised (mean and standard deviation over seeds);
* net public cost = subsidies paid - taxes collected, relative to the
  reference run (discounted);
* cost per tonne diverted (disposals in t avoided against the reference) and
  per t CO2e avoided (public cost / quantity; NaN when nothing is avoided);
* deadweight: subsidy paid on exchanges (or investments) that happen without it;
* actors below their stand-alone profit under the same policy (the most over seeds), and
  ``below_standalone``: each such actor with the most it ends below its stand-alone profit
  over the seeds (discounted, at the policy's prices), largest first, as records
  ``{"actor", "shortfall"}`` (a list: it goes into CSV, Parquet and JSON as it is).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from symbiosim.accounts import cashflows, evaluate
from symbiosim.compare.coalitions import cluster_npv
from symbiosim.compare.gap import share_of_potential
from symbiosim.plan import Plan, empty_table
from symbiosim.planner import optimise
from symbiosim.progress import progress
from symbiosim.scenario.schema import Scenario
from symbiosim.simulator import simulate

INSTRUMENTS = ("exchange_subsidy", "disposal_tax", "virgin_tax", "carbon_price", "investment_subsidy", "facilitator")


@dataclass
class Reference:
    """The no-new-policy world: baseline, optimum and decentralised runs per seed."""

    scenario: Scenario
    seeds: list[int]
    baseline: Plan
    optimum_npv: float
    baseline_npv: float
    runs: dict[int, Plan]

    @classmethod
    def build(cls, scenario: Scenario, seeds: list[int]) -> Reference:
        baseline = optimise(scenario, baseline=True)
        optimum = optimise(scenario)
        runs = {seed: simulate(scenario, seed, baseline=baseline).plan for seed in progress(seeds, desc="reference runs", unit="run")}
        return cls(scenario, seeds, baseline, cluster_npv(scenario, optimum), cluster_npv(scenario, baseline), runs)


def with_instrument(scenario: Scenario, instrument: str, level: float) -> Scenario:
    if instrument == "facilitator":
        return scenario
    if instrument not in INSTRUMENTS:
        raise ValueError(f"unknown instrument {instrument!r}: expected one of {', '.join(INSTRUMENTS)}")
    return scenario.with_policies(**{instrument: float(level)})


def _deadweight(ref: Reference, policy_scenario: Scenario, instrument: str, level: float, plan: Plan, seed: int) -> float:
    """Subsidy paid on what also happens without the subsidy (same seed), from the ledger."""
    without = ref.runs[seed]
    if instrument == "exchange_subsidy":
        keys = ["source", "target", "product", "period"]
        both = plan.flows.merge(without.flows, on=keys, suffixes=("", "_ref"))
        if both.empty:
            return 0.0
        both["value"] = np.minimum(both.value, both.value_ref)
        common = Plan(**{name: empty_table(name) for name in without.tables()} | {"flows": both[list(without.flows.columns)]}, meta={})
        flows = cashflows(policy_scenario, common)
        return float(flows.discounted[flows["item"] == "subsidy"].sum())
    if instrument == "investment_subsidy":
        common = plan.builds.merge(without.builds, on=["kind", "actor", "process", "target", "product", "year"])
        if common.empty:
            return 0.0
        # investment costs of the common builds at the scenario's own prices, times the subsidy share
        cost = evaluate(ref.scenario, Plan(**{**without.tables(), "builds": common}, meta={})).actors.investment.sum()
        return float(cost * level)
    return 0.0


def evaluate_setting(ref: Reference, instrument: str, level: float) -> dict[str, Any]:
    """Run every seed under one instrument level; the paired results against the reference."""
    s = with_instrument(ref.scenario, instrument, level)
    facilitator = instrument == "facilitator" and level > 0
    base_p = optimise(s, baseline=True) if s is not ref.scenario else ref.baseline
    alone = evaluate(s, base_p).actors.set_index("actor").profit
    shares, costs, diverted, avoided, deadweight, below = [], [], [], [], [], []
    shortfall: dict[str, float] = {}  # actor -> the most it ends below stand-alone over the seeds
    for seed in progress(ref.seeds, desc=f"{instrument} {level:g}", unit="run"):
        plan = simulate(s, seed, facilitator=facilitator, baseline=base_p).plan
        ruler = evaluate(ref.scenario, plan).kpis
        reference = evaluate(ref.scenario, ref.runs[seed]).kpis
        shares.append(share_of_potential(ref.baseline_npv, ruler["cluster_npv"], ref.optimum_npv))
        under_policy = evaluate(s, plan)
        costs.append(under_policy.kpis["public_cost"] - reference["public_cost"])
        diverted.append(reference.get("disposed_t", 0.0) - ruler.get("disposed_t", 0.0))
        avoided.append(reference["emissions"] - ruler["emissions"])
        deadweight.append(_deadweight(ref, s, instrument, level, plan, seed))
        mine = under_policy.actors.set_index("actor").profit
        losing = mine < alone - 1e-6 * (1 + alone.abs())
        below.append(int(losing.sum()))
        for actor, lost in (alone - mine)[losing].items():
            shortfall[str(actor)] = max(shortfall.get(str(actor), 0.0), float(lost))
    cost = float(np.mean(costs))
    return {
        "instrument": instrument,
        "level": level,
        "share_of_potential": float(np.nanmean(shares)) if not all(math.isnan(x) for x in shares) else math.nan,
        "share_sd": float(np.nanstd(shares)) if len(shares) > 1 else 0.0,
        "public_cost": cost,
        "tonnes_diverted": float(np.mean(diverted)),
        "cost_per_tonne_diverted": cost / np.mean(diverted) if np.mean(diverted) > 1e-9 else math.nan,
        "co2e_avoided": float(np.mean(avoided)),
        "cost_per_t_co2e": cost / np.mean(avoided) if np.mean(avoided) > 1e-9 else math.nan,
        "deadweight": float(np.mean(deadweight)),
        "actors_below_standalone": int(max(below)),
        "below_standalone": [{"actor": a, "shortfall": v} for a, v in sorted(shortfall.items(), key=lambda kv: (-kv[1], kv[0]))],
        "seeds": list(ref.seeds),
    }


def test_settings(ref: Reference, settings: list[tuple[str, float]]) -> pd.DataFrame:
    """One row per (instrument, level), paired on the reference's seeds."""
    return pd.DataFrame([evaluate_setting(ref, instrument, level) for instrument, level in progress(settings, desc="settings", unit="setting")])


test_settings.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def default_upper(scenario: Scenario, instrument: str) -> float:
    """A first upper level for the search: the largest money figure that instrument could need."""
    if instrument == "investment_subsidy":
        return 1.0
    if instrument == "carbon_price":
        return 2000.0
    prices = [r.price for r in scenario.purchases] + [p.disposal_cost or 0.0 for p in scenario.products]
    return max([1.0, *prices])


def least_cost_level(
    scenario: Scenario,
    instrument: str,
    target: float,
    seeds: list[int],
    *,
    upper: float | None = None,
    grid: int = 8,
    iterations: int = 8,
    ref: Reference | None = None,
) -> dict[str, Any]:
    """The smallest level of ``instrument`` whose runs reach ``target`` share of the
    potential on average with no actor below stand-alone in any seed.

    A coarse grid of ``grid`` levels over (0, upper] finds the first level that
    works (more is not always better: a large investment subsidy brings in
    entrants that do not pay for the cluster); bisection between it and the
    grid level below then refines it. Without a passing level the upper end
    doubles (up to 3 times; a share such as investment_subsidy stops at 1).
    All levels use the same seeds. Returns the level, its evaluation and
    every level tried.
    """
    if not (isinstance(target, int | float) and 0 <= target <= 1):
        raise ValueError(f"target must be a share of the potential in [0, 1], got {target!r}")
    ref = ref or Reference.build(scenario, seeds)
    tried: dict[float, dict[str, Any]] = {}
    bar = progress(total=1 + 4 * grid + iterations, desc=f"least-cost {instrument}", unit="level")  # at most

    def ok(level: float) -> bool:
        if level not in tried:
            tried[level] = evaluate_setting(ref, instrument, level)
            bar.update(1)
        row = tried[level]
        share = row["share_of_potential"]
        return not math.isnan(share) and share >= target - 1e-9 and row["actors_below_standalone"] == 0

    def answer(level: float | None) -> dict[str, Any]:
        rows = sorted(tried.values(), key=lambda r: r["level"])
        result = tried[level] if level is not None else max(rows, key=lambda r: -math.inf if math.isnan(r["share_of_potential"]) else r["share_of_potential"])
        bar.close()
        return {"instrument": instrument, "target": target, "reached": level is not None, "level": level, "result": result, "tried": rows}

    if instrument == "facilitator":
        return answer(1.0 if ok(1.0) else None)
    if ok(0.0):
        return answer(0.0)
    hi = upper if upper is not None else default_upper(scenario, instrument)
    lo = 0.0
    for _ in range(4):
        levels = [lo + (hi - lo) * (i + 1) / grid for i in range(grid)]
        passing = next((x for x in levels if ok(x)), None)
        if passing is not None:
            below = max([x for x in [lo, *levels] if x < passing])
            lo, hi = below, passing
            break
        if instrument == "investment_subsidy":
            return answer(None)
        lo, hi = hi, hi * 2
    else:
        return answer(None)
    for _ in range(iterations):
        mid = (lo + hi) / 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return answer(hi)
