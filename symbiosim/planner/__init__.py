"""The coordinated optimum: one ``PlannerModel`` (build -> solve with HiGHS -> extract) => ``Plan``.

Everything that solves the planner goes through ``PlannerModel``
(``planner/model.py``); Pyomo and HiGHS stay inside this package.
"""

from __future__ import annotations

from symbiosim.plan import Plan
from symbiosim.planner.build import OBJECTIVES, build_planner_model
from symbiosim.planner.model import (
    SINGLE_OBJECTIVES,
    PlannerModel,
    finish_solve,
    objective_figure,
    raise_diagnosis,
    structure_signature,
)
from symbiosim.planner.solve import DEFAULT_MIP_GAP, SolveResult, solve_model, write_lp
from symbiosim.scenario.schema import Scenario

__all__ = [
    "DEFAULT_MIP_GAP",
    "OBJECTIVES",
    "PlannerModel",
    "SINGLE_OBJECTIVES",
    "SolveResult",
    "build_planner_model",
    "finish_solve",
    "objective_figure",
    "optimise",
    "raise_diagnosis",
    "solve_model",
    "structure_signature",
    "write_lp",
]


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
    pm = PlannerModel.from_scenario(
        scenario, objective, weights, baseline=baseline, coalition=coalition, time_limit=time_limit, threads=threads, mip_gap=mip_gap
    )
    if save_lp:
        pm.write_lp(save_lp)
    return pm.plan(pm.solve("optimum"))
