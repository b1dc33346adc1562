"""Why the gap exists: rerun the simulator with frictions removed.

Six frictions, each removed by overriding every firm's rules:

=====================  ====================================================
friction               removed by
=====================  ====================================================
information            a facilitator: every firm knows every other
transaction_costs      transaction_cost = 0
hurdle_premium         hurdle_rate = the scenario's discount rate
contract_length        contract_years = the whole horizon
attention              unlimited attention: a firm starts every negotiation it
                       can each year (attention = 1,000)
bargaining_failure     no payback limit and no risk margin: every deal with
                       a joint surplus is struck
=====================  ====================================================

The effect of removing a set R of frictions is f(R) = NPV(decentralised
without R) - NPV(decentralised). Removals interact, so one-at-a-time effects
need not add up; the table therefore also gives each friction's Shapley value
over the 64 subsets, which sums exactly to f(all). What removing all six
does not close is reported as the residual (e.g. myopic, contract-by-contract
decisions). Same seed in every run (paired).
"""

from __future__ import annotations

import itertools
from typing import Any

import pandas as pd

from symbiosim.accounts import evaluate
from symbiosim.plan import Plan
from symbiosim.progress import progress
from symbiosim.scenario.schema import Scenario
from symbiosim.simulator import simulate

FRICTIONS = ("information", "transaction_costs", "hurdle_premium", "contract_length", "attention", "bargaining_failure")


def removal(scenario: Scenario, removed: frozenset[str]) -> tuple[dict[str, Any], bool]:
    """Rule overrides and the facilitator flag that remove ``removed``."""
    overrides: dict[str, Any] = {}
    if "transaction_costs" in removed:
        overrides["transaction_cost"] = 0.0
    if "hurdle_premium" in removed:
        overrides["hurdle_rate"] = scenario.settings.discount_rate
    if "contract_length" in removed:
        overrides["contract_years"] = scenario.settings.years
    if "attention" in removed:
        overrides["attention"] = 1000
    if "bargaining_failure" in removed:
        overrides["max_payback_years"] = 1e9
        overrides["risk_aversion"] = 0.0
    return overrides, "information" in removed


def decompose_gap(scenario: Scenario, baseline: Plan, optimum_npv: float, seed: int = 0) -> pd.DataFrame:
    """One row per friction: gap closed when removed alone, Shapley share, share of the gap;
    plus rows ``all frictions`` and ``residual``."""
    from symbiosim.compare.games import shapley

    subsets = [frozenset(s) for size in range(len(FRICTIONS) + 1) for s in itertools.combinations(FRICTIONS, size)]
    npv: dict[frozenset[str], float] = {}
    for removed in progress(subsets, desc="gap decomposition", unit="run"):
        overrides, facilitator = removal(scenario, removed)
        result = simulate(scenario, seed, facilitator=facilitator, baseline=baseline, rule_overrides=overrides)
        npv[removed] = evaluate(scenario, result.plan).kpis["cluster_npv"]
    start = npv[frozenset()]
    gap = optimum_npv - start
    closed = {s: value - start for s, value in npv.items()}
    values = shapley(list(FRICTIONS), lambda s: closed[frozenset(s)])
    rows = []
    for f in FRICTIONS:
        rows.append(
            {
                "friction": f,
                "closed_alone": closed[frozenset({f})],
                "closed_shapley": values[f],
                "share_of_gap": values[f] / gap if gap else float("nan"),
            }
        )
    everything = closed[frozenset(FRICTIONS)]
    rows.append({"friction": "all frictions", "closed_alone": everything, "closed_shapley": everything, "share_of_gap": everything / gap if gap else float("nan")})
    rows.append({"friction": "residual", "closed_alone": gap - everything, "closed_shapley": gap - everything, "share_of_gap": (gap - everything) / gap if gap else float("nan")})
    table = pd.DataFrame(rows)
    table.attrs["gap"] = gap
    return table
