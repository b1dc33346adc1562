"""From a solve to a ``Plan``, or to the error that says why there is none.

Shared by every solve path (``PlannerModel.plan``): a solver failure is a
``SolverError`` in HiGHS's words, never a diagnosis; an infeasible or
unbounded model is diagnosed in the scenario's words (the baseline's own
error when it is the stand-alone baseline that has no plan).
"""

from __future__ import annotations

from typing import Any

from symbiosim.errors import BaselineInfeasibleError, InfeasibleError, ModelError, SolverError, UnboundedError
from symbiosim.plan import Plan
from symbiosim.planner.diagnose import diagnose_infeasible, diagnose_unbounded
from symbiosim.planner.extract import extract_plan
from symbiosim.planner.solve import SolveResult
from symbiosim.scenario.data import ModelData


def finish_solve(
    m: Any,
    data: ModelData,
    result: SolveResult,
    objective: str,
    weights: dict[str, float] | None,
    meta: dict[str, Any],
    time_limit: float | None = None,
    values: Any = None,
    extra: dict[str, Any] | None = None,
) -> Plan:
    """Turn a solve into a Plan, or raise the diagnosis (shared by every solve path).

    ``meta`` brings what the caller knows (source, coalition, build_seconds);
    the solver's figures are added here, then ``extra`` (which wins).
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
        **(extra or {}),
    }
    return extract_plan(m, data, meta, values)


def raise_diagnosis(data: ModelData, status: str, objective: str, weights: dict[str, float] | None) -> None:
    """Raise the error that explains an infeasible or unbounded model, in the scenario's words."""
    diagnosis = diagnose_infeasible(data)
    if status == "infeasible" and not diagnosis:
        diagnosis = ["every balance can close: a capacity, link or presence constraint conflicts"]
    if diagnosis and data.baseline:
        raise BaselineInfeasibleError(diagnosis)
    if diagnosis:
        raise InfeasibleError(diagnosis)
    raise UnboundedError(diagnose_unbounded(data, objective, weights))
