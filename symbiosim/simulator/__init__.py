"""The decentralised outcome: a Mesa model in which each firm follows its own
profit rules and accepts or rejects symbiosis offers. ``simulate`` => ``Plan``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mesa
import pandas as pd

from symbiosim.plan import Plan
from symbiosim.scenario.schema import Scenario

__all__ = ["SimulationResult", "simulate"]


@dataclass(frozen=True)
class SimulationResult:
    """A run's plan (valued by ``evaluate`` like any plan) and its time series."""

    seed: int
    plan: Plan
    series: pd.DataFrame  # per period: links_active, quantity_exchanged, offers made/accepted/rejected
    firms: pd.DataFrame  # per period and firm: cash (undiscounted)
    offers: pd.DataFrame  # every negotiation: period, source, target, product, outcome, reason, price, volume
    contracts: pd.DataFrame  # from, to, product, start_year, end_year, price (at signing), price_rule, amount (per year)


def simulate(
    scenario: Scenario,
    seed: int = 0,
    *,
    facilitator: bool = False,
    baseline: Plan | None = None,
    rule_overrides: dict[str, Any] | None = None,
    price_shocks: list[tuple[str, int, float]] | None = None,
) -> SimulationResult:
    """Run the agent-based model over the whole horizon.

    Args:
        scenario: the scenario.
        seed: every random draw comes from ``numpy.random.default_rng(seed)``
            (Mesa's ``Model(rng=seed)``); the same seed gives the same run.
        facilitator: a platform makes every firm known to every other.
        baseline: the stand-alone plan (``optimise(scenario, baseline=True)``);
            solved here when not given. Pass it to reuse it across runs.
        rule_overrides: replace behaviour rules for every firm (e.g.
            ``{"transaction_cost": 0}``), to remove one friction at a time.
        price_shocks: ``(target, period, multiplier)`` applied from that period
            on, e.g. ``("purchases[product=gas].price", 8, 0.3)``.
    """
    from symbiosim.planner import optimise
    from symbiosim.simulator.model import SymbiosisModel

    if baseline is None:
        baseline = optimise(scenario, baseline=True)
    model = SymbiosisModel(scenario, baseline, seed, facilitator, rule_overrides, price_shocks)
    for _ in range(model.data.periods):
        model.step()
    plan = model.to_plan()
    series = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    series.insert(0, "period", range(len(series)))
    firms = model.datacollector.get_agent_vars_dataframe().reset_index()
    firms = firms.rename(columns={"Step": "step"})[["step", "actor", "cash"]]
    firms["period"] = firms.pop("step") - 1
    offers = model.datacollector.get_table_dataframe("offers")
    result = SimulationResult(seed, plan, series, firms, offers, contracts_table(model))
    release_from_mesa_registry(model)
    return result


def release_from_mesa_registry(model: mesa.Model) -> None:
    """Drop ``model`` from Mesa's class-level registry of agent ids.

    Mesa <= 3.3.1 counts agent ids per model in ``mesa.Agent._ids``, a class-level
    ``defaultdict`` keyed by the model, so every model (and all its firms, LPs and
    data) stays alive until the process ends: a batch of runs grows without bound.
    Upstream: https://github.com/mesa/mesa/issues/3179 (fixed by
    https://github.com/mesa/mesa/pull/3180, which removes ``_ids``).
    ``tests/test_simulator_internals.py`` checks that the private attribute still
    behaves as assumed here; it fails when Mesa changes it, so this patch can go then.
    """
    registry = getattr(mesa.Agent, "_ids", None)
    if isinstance(registry, dict):
        registry.pop(model, None)


def contracts_table(model: Any) -> pd.DataFrame:
    data = model.data
    rows = []
    for c in model.contracts:
        v = c.active_volumes()
        active = v.nonzero()[0]
        if len(active) == 0:
            continue
        first, last = data.year_of(int(active[0])), data.year_of(int(active[-1]))
        rows.append(
            {
                "from": c.source,
                "to": c.target,
                "product": c.product,
                "start_year": first,
                "end_year": last,
                "price": c.price,
                "price_rule": f"indexed to {c.indexed_to}" if c.index is not None else "fixed",
                "amount": float(v.sum()) / (last - first + 1),
                "existing": c.existing,
            }
        )
    return pd.DataFrame(rows, columns=["from", "to", "product", "start_year", "end_year", "price", "price_rule", "amount", "existing"])
