"""Solve a built model with HiGHS (Pyomo's ``highspy`` interface).

The only module that touches solver code. The solver object is persistent:
keep it to re-solve the same model after changing numbers.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.solver.common.results import TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from symbiosim.errors import ModelError

log = logging.getLogger(__name__)

DEFAULT_MIP_GAP = 1e-4

# Re-solves after an objective change: Pyomo re-reads only the objective (not
# every constraint and variable, ~0.25 s on the default scenario).
_NO_MODEL_UPDATES = {
    "check_for_new_or_removed_constraints": False,
    "check_for_new_or_removed_vars": False,
    "check_for_new_or_removed_params": False,
    "update_constraints": False,
    "update_vars": False,
    "update_parameters": False,
    "update_named_expressions": False,
}
REFRESH = {
    "all": None,  # Pyomo compares the whole model with what HiGHS holds
    "objective": _NO_MODEL_UPDATES,  # only the objective changed
    "none": {**_NO_MODEL_UPDATES, "check_for_new_objective": False, "update_objective": False},  # set_linear_objective did it
}


@dataclass
class SolveResult:
    """What the solver said, in our words."""

    status: str  # optimal | time_limit | infeasible | unbounded | infeasible_or_unbounded | error
    has_solution: bool
    objective_value: float | None
    bound: float | None
    gap: float | None
    seconds: float
    log: str = ""
    solver: Any = field(default=None, repr=False)


class _BatchedHighs(Highs):
    """Adds every variable in one batch before the constraints; Pyomo otherwise makes one
    addVars/changeColsIntegrality call per constraint (translation about a third faster)."""

    def add_block(self, block: Any) -> None:
        self.add_variables(list(block.component_data_objects(pyo.Var, descend_into=True)))
        super().add_block(block)


def make_solver() -> Highs:
    solver = _BatchedHighs()
    if not solver.available():
        raise ModelError("HiGHS is not available: install the highspy package (pip install highspy)")
    return solver


def solve_model(
    m: pyo.ConcreteModel,
    time_limit: float | None = None,
    threads: int | None = None,
    mip_gap: float = DEFAULT_MIP_GAP,
    solver: Highs | None = None,
    tee: bool = False,
    refresh: str = "all",
    options: dict[str, Any] | None = None,
    start: Any = None,
    load: bool = True,
) -> SolveResult:
    """Solve ``m`` and load the best solution found (if any) into its variables.

    Args:
        m: the model.
        time_limit: seconds; the best plan found by then is returned, flagged.
        threads: HiGHS threads (default: HiGHS decides).
        mip_gap: relative MIP gap at which to stop (default 1e-4).
        solver: a persistent solver that already holds ``m`` (re-solve).
        tee: stream the HiGHS log.
        refresh: what changed since ``solver`` last solved ``m``: ``all``
            (anything: Pyomo compares the model), ``objective`` (only the
            objective: skip the scan of constraints and variables) or ``none``
            (the objective was handed to HiGHS by ``set_linear_objective``).
            Unless ``all``, HiGHS's solution and basis are cleared, so the
            result does not depend on what was solved before.
        options: further HiGHS options (``{"presolve_rule_off": ...}``).
        start: a feasible point to start from (MIP start): the column values
            of an earlier solve of ``solver`` (``solution_values``); columns
            added since are completed by HiGHS. With a start, a time-limited
            solve always returns a plan at least as good as the start.
        load: load the solution into the Pyomo variables (a batch re-solve
            reads it from the solver instead: ``extract.ColumnReader``).
    """
    solver = solver or make_solver()
    t0 = time.perf_counter()
    kwargs: dict[str, Any] = {
        "load_solutions": False,
        "raise_exception_on_nonoptimal_result": False,
        "rel_gap": mip_gap,
        "solver_options": {"output_flag": bool(tee), **(options or {})},
    }
    held = getattr(solver, "_solver_model", None)  # the highspy object once a model was passed
    if start is not None and held is not None:
        # bring HiGHS up to date first: changing the model afterwards would discard the start
        solver.update()
        values = np.asarray(start, dtype=float)
        held.setSolution(len(values), np.arange(len(values), dtype=np.int32), values)
        kwargs["auto_updates"] = REFRESH["none"]
    elif REFRESH[refresh] is not None and held is not None:
        kwargs["auto_updates"] = REFRESH[refresh]
        held.clearSolver()
    if tee:
        kwargs["tee"] = True
    if time_limit is not None:
        kwargs["time_limit"] = float(time_limit)
    if threads is not None:
        kwargs["threads"] = int(threads)
    try:
        res = solver.solve(m, **kwargs)
    except Exception as exc:  # the solver's own failure: report it in our words
        raise ModelError(f"HiGHS failed: {exc}") from exc
    seconds = time.perf_counter() - t0
    tc = res.termination_condition
    status = {
        TerminationCondition.convergenceCriteriaSatisfied: "optimal",
        TerminationCondition.maxTimeLimit: "time_limit",
        TerminationCondition.provenInfeasible: "infeasible",
        TerminationCondition.locallyInfeasible: "infeasible",
        TerminationCondition.unbounded: "unbounded",
        TerminationCondition.infeasibleOrUnbounded: "infeasible_or_unbounded",
        TerminationCondition.iterationLimit: "time_limit",
    }.get(tc, "error")
    has_solution = res.incumbent_objective is not None
    if has_solution and load:
        res.solution_loader.load_vars()
    obj, bound = res.incumbent_objective, res.objective_bound
    gap = None
    if obj is not None and bound is not None and math.isfinite(bound):
        gap = abs(obj - bound) / max(abs(obj), 1e-9) if abs(obj - bound) > 1e-9 else 0.0
    return SolveResult(status, has_solution, obj, bound, gap, seconds, res.solver_log, solver)


def solution_values(solver: Highs) -> Any:
    """The column values of ``solver``'s last solution (a ``start`` for a later solve)."""
    return np.array(solver._solver_model.getSolution().col_value, dtype=float)


def column_of(solver: Highs, var: Any) -> int:
    """The HiGHS column of a Pyomo variable ``solver`` holds."""
    return int(solver._pyomo_var_to_solver_var_map[id(var)])


def set_column_bounds(solver: Highs, variables: list[Any], lower: list[float | None], upper: list[float | None]) -> None:
    """Hand HiGHS new bounds of variables it holds (``None``: unbounded); Pyomo's own
    bounds are the caller's to keep in step."""
    import highspy

    inf = highspy.kHighsInf
    idx = np.array([solver._pyomo_var_to_solver_var_map[id(v)] for v in variables], dtype=np.int32)
    lo = np.array([-inf if x is None else x for x in lower], dtype=float)
    hi = np.array([inf if x is None else x for x in upper], dtype=float)
    solver._solver_model.changeColsBounds(len(idx), idx, lo, hi)


def set_linear_objective(solver: Highs, constant: float, terms: Any, maximise: bool) -> None:
    """Hand HiGHS a new linear objective directly (then solve with ``refresh="none"``).

    ``terms`` maps ``id(var)`` to ``[var, coef]`` (``build.LinearTerms.coefs``);
    every other column's cost becomes 0. Uses the persistent interface's
    column map, so ``solver`` must already hold the model. Pyomo's own
    objective is left as it was: only re-solves through this function may follow.
    """
    import highspy

    h = solver._solver_model
    columns = solver._pyomo_var_to_solver_var_map
    n = len(columns)
    costs = np.zeros(n)
    for vid, (_, coef) in terms.items():
        costs[columns[vid]] += coef
    h.changeColsCost(n, np.arange(n, dtype=np.int32), costs)
    h.changeObjectiveOffset(float(constant))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize)


def write_lp(m: pyo.ConcreteModel, path: str) -> None:
    """Write the model as an LP file with readable names, without solving it."""
    m.write(path, io_options={"symbolic_solver_labels": True})
