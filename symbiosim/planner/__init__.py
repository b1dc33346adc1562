"""The coordinated optimum: build -> solve (HiGHS) -> extract => ``Plan``."""

from __future__ import annotations

import time
from typing import Any

from symbiosim.errors import BaselineInfeasibleError, InfeasibleError, ModelError, SolverError, UnboundedError
from symbiosim.plan import Plan
from symbiosim.planner.build import OBJECTIVES, build_planner_model
from symbiosim.planner.diagnose import diagnose_infeasible, diagnose_unbounded
from symbiosim.planner.extract import extract_plan
from symbiosim.planner.solve import DEFAULT_MIP_GAP, solve_model, write_lp
from symbiosim.scenario.data import build_model_data
from symbiosim.scenario.schema import Scenario

__all__ = ["OBJECTIVES", "build_planner_model", "finish_solve", "optimise", "raise_diagnosis", "solve_model", "write_lp"]


def optimise(
    scenario: Scenario,
    objective: str = "cluster_npv",
    *,
    weights: dict[str, float] | None = None,
    baseline: bool = False,
    coalition: frozenset[str] | None = None,
    time_limit: float | None = None,
    threads: int | None = None,
    mip_gap: float = DEFAULT_MIP_GAP,
    save_lp: str | None = None,
) -> Plan:
    """Find the coordinated optimum (or, with ``baseline``, the no-new-symbiosis plan).

    Args:
        scenario: a validated scenario.
        objective: cluster_npv (default), value_added, jobs, emissions, weighted.
        weights: key figure -> weight, for ``weighted``.
        baseline: solve the contract's baseline (existing links only, no entry).
        coalition: only these actors may form new exchanges or enter; the
            others stay at the baseline (cooperative-game values).
        time_limit: seconds; on reaching it the best plan is returned with
            ``meta["status"] == "time_limit"`` and its gap.
        threads: HiGHS threads.
        mip_gap: relative MIP gap (default 1e-4).
        save_lp: write the model to this LP file before solving.

    Returns:
        The plan; ``meta`` holds status, objective, objective_value, gap,
        build and solve seconds, and any modelling notes.

    Raises:
        InfeasibleError: with a diagnosis naming the likely culprits
            (``BaselineInfeasibleError`` for the baseline: the optimum may exist).
        UnboundedError: naming the free lunch.
        SolverError: when HiGHS itself fails (its own message).
        ModelError: when the model's numbers are outside what HiGHS can use,
            or no plan is found in the time limit.
    """
    t0 = time.perf_counter()
    data = build_model_data(scenario, baseline=baseline, coalition=coalition)
    m = build_planner_model(data, objective, weights)
    build_seconds = time.perf_counter() - t0
    if save_lp:
        write_lp(m, save_lp)
    result = solve_model(m, time_limit=time_limit, threads=threads, mip_gap=mip_gap)
    source = "baseline" if baseline else ("coalition" if coalition is not None else "planner")
    meta = {"source": source, "coalition": sorted(coalition) if coalition is not None else None, "build_seconds": build_seconds}
    return finish_solve(m, data, result, objective, weights, meta, time_limit)


def finish_solve(
    m: Any,
    data: Any,
    result: Any,
    objective: str,
    weights: dict[str, float] | None,
    meta: dict[str, Any],
    time_limit: float | None = None,
    values: Any = None,
) -> Plan:
    """Turn a solve into a Plan, or raise the diagnosis (shared by every solve path).

    ``meta`` brings what the caller knows (source, coalition, build_seconds);
    the solver's figures are added here.
    """
    if result.status == "error" and not result.has_solution:  # the solver failed, not the scenario
        raise SolverError(result.message)
    if result.status in ("infeasible", "unbounded", "infeasible_or_unbounded"):
        raise_diagnosis(data, result.status, objective, weights)
    if not result.has_solution:
        raise ModelError(f"no plan found ({result.status}) within the time limit of {time_limit} s: raise --time-limit")
    meta = {
        **meta,
        "status": result.status,
        "objective": objective,
        "weights": weights,
        "objective_value": result.objective_value,
        "bound": result.bound,
        "gap": result.gap,
        "solve_seconds": result.seconds,
        "notes": list(m.data_notes),
        "scenario": data.scenario.settings.name,
    }
    return extract_plan(m, data, meta, values)


def raise_diagnosis(data: Any, status: str, objective: str, weights: dict[str, float] | None) -> None:
    diagnosis = diagnose_infeasible(data)
    if status == "infeasible" and not diagnosis:
        diagnosis = ["every balance can close: a capacity, link or presence constraint conflicts"]
    if diagnosis and data.baseline:
        raise BaselineInfeasibleError(diagnosis)
    if diagnosis:
        raise InfeasibleError(diagnosis)
    raise UnboundedError(diagnose_unbounded(data, objective, weights))
