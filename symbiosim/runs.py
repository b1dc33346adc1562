"""One call per command: solve what the command reports, once, and keep it for every output.

The command line (``symbiosim.cli``) parses arguments, calls one function
here and prints; ``--json`` and ``--out`` reuse the same result (its
``to_json()`` is computed once). Nothing is solved that the command does not
report: ``plan`` solves the optimum and, for the comparison, the stand-alone
baseline (``plan --baseline`` solves the baseline only); if the baseline has
no plan the optimum still stands, with the baseline's diagnosis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from symbiosim.accounts import Accounts, evaluate
from symbiosim.errors import BaselineInfeasibleError, InfeasibleError, ModelError, UnboundedError
from symbiosim.plan import Plan
from symbiosim.report.jsonable import finite, records
from symbiosim.scenario.schema import Scenario

# ---------------------------------------------------------------- plan


@dataclass
class PlanRun:
    """``plan``: the optimum (or the baseline with ``baseline=True``) and what it is measured against.

    ``error`` is set (and ``plan`` None) when the requested problem has no plan
    (infeasible or unbounded); ``baseline_error`` when only the stand-alone
    baseline of the comparison has none (the optimum stands).
    """

    scenario: Scenario
    objective: str
    baseline_only: bool
    plan: Plan | None = None
    accounts: Accounts | None = None
    baseline: Accounts | None = None
    baseline_error: BaselineInfeasibleError | None = None
    error: InfeasibleError | UnboundedError | None = None

    @property
    def status(self) -> str | None:
        """``infeasible`` or ``unbounded`` (``error``), else the plan's status."""
        if self.error is not None:
            return "infeasible" if isinstance(self.error, InfeasibleError) else "unbounded"
        return None if self.plan is None else self.plan.meta.get("status")

    @property
    def baseline_record(self) -> dict[str, Any] | None:
        """The ``baseline`` entry of the JSON object (None for ``--baseline``)."""
        from symbiosim.report.summary import baseline_json

        return None if self.baseline_only else baseline_json(self.baseline, self.baseline_error)

    @cached_property
    def json(self) -> dict[str, Any]:
        """The ``--json`` object (also ``kpis.json``), built once."""
        from symbiosim.report.summary import plan_json

        if self.error is not None:
            return {"status": self.status, "objective": self.objective, "diagnosis": self.error.diagnosis}
        assert self.plan is not None and self.accounts is not None
        return plan_json(self.scenario, self.plan, self.accounts, self.baseline_record)

    def summary(self) -> str:
        from symbiosim.report.summary import plan_summary

        assert self.plan is not None and self.accounts is not None
        return plan_summary(self.scenario, self.plan, self.accounts, self.baseline, self.baseline_error)


def run_plan(
    scenario: Scenario,
    objective: str = "cluster_npv",
    *,
    weights: dict[str, float] | None = None,
    baseline: bool = False,
    save_lp: str | None = None,
    time_limit: float | None = None,
    threads: int | None = None,
    mip_gap: float = 1e-4,
    objective_scenario: Scenario | None = None,
) -> PlanRun:
    """Solve the requested problem once, then (unless ``baseline``) the stand-alone baseline once.

    ``objective_scenario``: solve this variant instead (same structure, other objective
    coefficients, e.g. ``--effects total``), and value the plans with ``scenario``.

    An infeasible or unbounded requested problem is returned as ``error``;
    a stand-alone baseline without a plan as ``baseline_error``. Other
    errors of the baseline solve (unbounded, solver failure) are raised.
    """
    from symbiosim.planner import optimise

    options: dict[str, Any] = {"time_limit": time_limit, "threads": threads, "mip_gap": mip_gap}
    run = PlanRun(scenario, objective, baseline)
    solved = objective_scenario if objective_scenario is not None else scenario
    try:
        run.plan = optimise(solved, objective, weights=weights, baseline=baseline, save_lp=save_lp, **options)
    except (InfeasibleError, UnboundedError) as exc:
        run.error = exc
        return run
    baseline_plan = None
    if not baseline:
        try:
            baseline_plan = optimise(solved, objective, weights=weights, baseline=True, **options)
        except BaselineInfeasibleError as exc:  # the optimum stands; gains against the baseline are undefined
            run.baseline_error = exc
    run.accounts = evaluate(scenario, run.plan, baseline_plan)
    run.baseline = evaluate(scenario, baseline_plan) if baseline_plan is not None else None
    return run


# ---------------------------------------------------------------- no baseline


@dataclass
class NoBaseline:
    """The stand-alone baseline has no plan: the optimum (or why it has none) and the reason (exit 1)."""

    scenario: Scenario
    command: str
    error: BaselineInfeasibleError
    optimum: Accounts | None = None
    optimum_error: ModelError | None = None

    def to_json(self) -> dict[str, Any]:
        from symbiosim.report.summary import no_baseline_json

        return no_baseline_json(self.command, self.optimum, self.error, self.optimum_error)

    def summary(self) -> str:
        from symbiosim.report.summary import no_baseline_summary

        return no_baseline_summary(self.scenario, self.command, self.optimum, self.error, self.optimum_error)


def no_baseline(scenario: Scenario, command: str, error: BaselineInfeasibleError) -> NoBaseline:
    """Solve the optimum to report it next to the baseline's diagnosis."""
    from symbiosim.planner import optimise

    out = NoBaseline(scenario, command, error)
    try:
        out.optimum = evaluate(scenario, optimise(scenario))
    except ModelError as exc:
        out.optimum_error = exc
    return out


# ---------------------------------------------------------------- simulate


@dataclass
class SimulationRun:
    scenario: Scenario
    result: Any  # symbiosim.simulator.SimulationResult
    accounts: Accounts
    baseline_plan: Plan

    @cached_property
    def json(self) -> dict[str, Any]:
        from symbiosim.report.summary import simulation_json

        return simulation_json(self.result, self.accounts)

    def summary(self) -> str:
        from symbiosim.report.summary import simulation_summary

        return simulation_summary(self.scenario, self.result, self.accounts, evaluate(self.scenario, self.baseline_plan))


def run_simulation(scenario: Scenario, seed: int = 0, *, facilitator: bool = False) -> SimulationRun:
    """The stand-alone baseline (the firms start from it), then one simulator run.

    Raises:
        BaselineInfeasibleError, UnboundedError: the baseline has no plan.
    """
    from symbiosim.planner import optimise
    from symbiosim.simulator import simulate

    baseline = optimise(scenario, baseline=True)
    result = simulate(scenario, seed, facilitator=facilitator, baseline=baseline)
    return SimulationRun(scenario, result, evaluate(scenario, result.plan, baseline), baseline)


# ---------------------------------------------------------------- compare


@dataclass
class CompareRun:
    scenario: Scenario
    result: Any  # symbiosim.compare.gap.Comparison
    decomposition: pd.DataFrame | None

    @cached_property
    def json(self) -> dict[str, Any]:
        obj: dict[str, Any] = self.result.to_json()
        if self.decomposition is not None:
            obj["decomposition"] = records(self.decomposition)
        return obj

    def summary(self) -> str:
        from symbiosim.report.compare_text import compare_summary

        return compare_summary(self.scenario, self.result, self.decomposition)


def run_compare(scenario: Scenario, seed: int = 0, *, players: list[str] | None = None, decomposition: bool = True) -> CompareRun:
    """Baseline vs decentralised vs optimum and (unless ``decomposition=False``) why the gap exists
    (32 simulator runs with frictions removed).

    Raises:
        BaselineInfeasibleError: the stand-alone baseline has no plan.
        InfeasibleError, UnboundedError: the optimum has none.
    """
    from symbiosim.compare.decompose import decompose_gap
    from symbiosim.compare.gap import compare

    result = compare(scenario, seed, players=players)
    table = None
    if decomposition:
        table = decompose_gap(scenario, result.plans["baseline"], result.accounts["optimum"].kpis["cluster_npv"], seed)
    return CompareRun(scenario, result, table)


# ---------------------------------------------------------------- incentives


@dataclass
class IncentiveSearch:
    """``incentives``: the least level of ``instrument`` reaching ``target`` (``result`` of
    ``least_cost_level``), the levels tried sorted by level."""

    instrument: str
    target: float
    seeds: list[int]
    result: dict[str, Any]
    tried: pd.DataFrame = field(default_factory=pd.DataFrame)
    currency: str = ""  # the scenario's, for the summary

    @cached_property
    def json(self) -> dict[str, Any]:
        obj = {k: v for k, v in self.result.items() if k != "tried"}
        obj["tried"] = records(self.tried)
        obj["result"] = {k: finite(v) for k, v in self.result["result"].items()}
        return obj

    def summary(self) -> str:
        from symbiosim.report.compare_text import incentive_summary

        return incentive_summary(self.instrument, self.target, self.seeds, self.result, self.tried, self.currency)


def incentive_search(scenario: Scenario, instrument: str, target: float, seeds: list[int], *, upper: float | None = None) -> IncentiveSearch:
    """Search the least level (``symbiosim.compare.incentives.least_cost_level``).

    Raises:
        ValueError: the search cannot start (e.g. no potential to share).
    """
    from symbiosim.compare.incentives import least_cost_level

    result = least_cost_level(scenario, instrument, target, seeds, upper=upper)
    tried = pd.DataFrame(result["tried"]).sort_values("level")
    return IncentiveSearch(instrument, target, seeds, result, tried, scenario.settings.currency)


@dataclass
class IncentiveTable:
    """``incentives --levels``: every level as one paired row (no search)."""

    instrument: str
    seeds: list[int]
    table: pd.DataFrame
    currency: str = ""  # the scenario's, for the summary

    @cached_property
    def json(self) -> dict[str, Any]:
        return {"instrument": self.instrument, "seeds": self.seeds, "settings": records(self.table)}

    def summary(self) -> str:
        from symbiosim.report.compare_text import incentive_table

        return incentive_table(self.table, self.currency)


def incentive_levels(scenario: Scenario, instrument: str, levels: list[float], seeds: list[int]) -> IncentiveTable:
    from symbiosim.compare.incentives import Reference, test_settings

    ref = Reference.build(scenario, seeds)
    return IncentiveTable(instrument, seeds, test_settings(ref, [(instrument, level) for level in levels]), scenario.settings.currency)


# ---------------------------------------------------------------- report


@dataclass
class ReportRun:
    """``report``: the comparison (with the gap's decomposition unless skipped) and, per instrument
    asked for, the least-cost search (or why it could not start, as text)."""

    scenario: Scenario
    seed: int
    compare: CompareRun
    incentives: list[IncentiveSearch | str] = field(default_factory=list)
    effects: dict[str, Any] | None = None  # outcome -> ripple.effects.Effects, with an input-output table

    def write(self, out: str | Path, scenario_path: str | Path | None = None, io_path: str | Path | None = None) -> Path:
        """``DIR/report.html`` (``symbiosim.report.html``); returns its path."""
        from symbiosim.report.html import write_scenario_report

        return write_scenario_report(self.scenario, self.compare.result, self.compare.decomposition, out, self.incentives,
                                     seed=self.seed, scenario_path=scenario_path, effects=self.effects, io_path=io_path)


def run_report(scenario: Scenario, seed: int = 0, *, instruments: list[str] | None = None, target: float = 0.8,
               seeds: int = 3, decomposition: bool = True,
               effects: Callable[[pd.DataFrame], Any] | None = None) -> ReportRun:
    """Everything ``symbiosim report`` shows: ``run_compare`` and, per instrument, ``incentive_search``
    over seeds ``seed .. seed + seeds - 1`` (the reference runs solved once for all instruments).
    ``effects`` maps an outcome's ``Accounts.actors`` to its ripple effects (``ripple.effects.ripple_effects``
    with a table bound), applied to the stand-alone, decentralised and coordinated outcomes.

    Raises:
        BaselineInfeasibleError: the stand-alone baseline has no plan.
        InfeasibleError, UnboundedError: the optimum has none.
    """
    from symbiosim.compare.incentives import Reference, least_cost_level

    run = ReportRun(scenario, seed, run_compare(scenario, seed, decomposition=decomposition))
    if effects is not None:
        run.effects = {src: effects(acc.actors) for src, acc in run.compare.result.accounts.items()}
    if instruments:
        seed_list = list(range(seed, seed + seeds))
        ref = Reference.build(scenario, seed_list)
        for instrument in instruments:
            try:
                result = least_cost_level(scenario, instrument, target, seed_list, ref=ref)
            except ValueError as exc:  # the search cannot start (e.g. no potential to share)
                run.incentives.append(f"{instrument}: {exc}")
                continue
            tried = pd.DataFrame(result["tried"]).sort_values("level")
            run.incentives.append(IncentiveSearch(instrument, target, seed_list, result, tried))
    return run
