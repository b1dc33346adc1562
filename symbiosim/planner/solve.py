"""Solve a built model with HiGHS (Pyomo's ``highspy`` interface).

The only module that touches solver code. The solver object is persistent:
keep it to re-solve the same model after changing numbers (``model.PlannerModel``
does; nothing outside ``symbiosim/planner/`` calls this module).

Private attributes of Pyomo's persistent HiGHS interface are read here and
nowhere else, each marked ``# private:``. They were tested with the versions
locked in ``requirements/constraints.txt`` (Pyomo 6.10.1, highspy 1.16.0):

* ``solver._solver_model``: the ``highspy.Highs`` object Pyomo fills;
* ``solver._pyomo_var_to_solver_var_map``: ``id(var)`` -> HiGHS column;
* ``solver._model``: the Pyomo model the solver holds;
* ``solver._last_results_object``: the last solve's results (timing only);
* ``_BatchedHighs`` overrides ``add_block`` (public, but its call order is Pyomo's).

``tests/test_planner_model.py`` fails when one of them is missing.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.solver.common.results import TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from symbiosim.errors import ModelError, SolverError

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
    message: str = ""  # HiGHS's own words when status is "error"


# HiGHS runs one global thread scheduler per process, started by the first solve with
# that solve's thread count; a later solve asking for another count fails ("scheduler has
# already been initialized", highspy >= 1.12). The count the scheduler runs with is kept
# here, and the scheduler is restarted when a solve asks for a different one. The lock keeps
# a restart from pulling the scheduler away under a solve of another thread (Dask workers
# may run several tasks in one process).
_SCHEDULER_LOCK = threading.RLock()
_scheduler_threads: int | None = None  # None: not started by us, or started with HiGHS's default


def _use_threads(threads: int | None) -> None:
    """Make HiGHS's global scheduler run ``threads`` threads (None: whatever runs)."""
    global _scheduler_threads
    if threads is None or threads == _scheduler_threads:
        return
    import highspy

    reset = getattr(highspy.Highs, "resetGlobalScheduler", None)
    if reset is not None:  # older highspy has no global scheduler to restart
        reset(True)
    _scheduler_threads = threads


class _BatchedHighs(Highs):
    """Adds every variable in one batch before the constraints; Pyomo otherwise makes one
    addVars/changeColsIntegrality call per constraint (translation about a third faster)."""

    def add_block(self, block: Any) -> None:
        # private: _solver_model is the highspy.Highs that set_instance has just created
        # keep every coefficient as given (HiGHS would drop entries up to 1e-9 and refuse the
        # rows with entries from 1e15 on), so that check_coefficients sees and names them
        self._solver_model.setOptionValue("small_matrix_value", KEPT_MATRIX_VALUE)
        self._solver_model.setOptionValue("large_matrix_value", 1e300)
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
            of an earlier solve of ``solver`` (``solution_values``), or
            ``(columns, values)`` for some columns; columns not given
            (added since) are completed by HiGHS. With a start, a time-limited
            solve always returns a plan at least as good as the start.
        load: load the solution into the Pyomo variables (a batch re-solve
            reads it from the solver instead: ``extract.ColumnReader``).
    """
    if mip_gap < 0 or not math.isfinite(mip_gap):
        raise ModelError(f"mip_gap must be a number >= 0, got {mip_gap}")
    if time_limit is not None and not time_limit > 0:
        raise ModelError(f"time_limit must be a number of seconds > 0, got {time_limit}")
    if threads is not None and threads < 1:
        raise ModelError(f"threads must be >= 1, got {threads}")
    solver = solver or make_solver()
    t0 = time.perf_counter()
    kwargs: dict[str, Any] = {
        "load_solutions": False,
        "raise_exception_on_nonoptimal_result": False,
        "rel_gap": mip_gap,
        # HiGHS always logs into the captured stream (Pyomo prints it only with tee), so a
        # failure can be reported in HiGHS's own words
        "solver_options": {"output_flag": True, **(options or {})},
    }
    held = _highs(solver)
    if held is None:
        # hand the model over first, so its numbers are checked before HiGHS solves it
        held = load_model(solver, m)
        if refresh == "all":
            refresh = "objective"  # the instance was just set: nothing changed since
    if start is not None:
        # bring HiGHS up to date first: changing the model afterwards would discard the start
        solver.update()
        if isinstance(start, tuple):  # (columns, values): a partial start, HiGHS completes the rest
            index, values = np.asarray(start[0], dtype=np.int32), np.asarray(start[1], dtype=float)
        else:
            values = np.asarray(start, dtype=float)
            index = np.arange(len(values), dtype=np.int32)
        held.setSolution(len(values), index, values)
        kwargs["auto_updates"] = REFRESH["none"]
    elif REFRESH[refresh] is not None:
        kwargs["auto_updates"] = REFRESH[refresh]
        held.clearSolver()
    if tee:
        kwargs["tee"] = True
    if time_limit is not None:
        kwargs["time_limit"] = float(time_limit)
    if threads is not None:
        kwargs["threads"] = int(threads)
    try:
        with _SCHEDULER_LOCK:
            _use_threads(threads)
            res = solver.solve(m, **kwargs)
    except Exception as exc:  # the solver's own failure: report it in our words
        raise SolverError(str(exc)) from exc
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
    obj, bound = res.incumbent_objective, res.objective_bound
    if status == "error" and held.getNumCol() == 0:
        # a model without variables (a greenfield baseline: nobody there yet) is solved by its
        # objective's constant; HiGHS calls that "model empty", Pyomo "unknown"
        status, has_solution = "optimal", True
        obj = bound = float(held.getObjectiveOffset()[1])
    if has_solution and load and held.getNumCol():
        res.solution_loader.load_vars()
    gap = None
    if obj is not None and bound is not None and math.isfinite(bound):
        gap = abs(obj - bound) / max(abs(obj), 1e-9) if abs(obj - bound) > 1e-9 else 0.0
    message = solver_message(res.solver_log) if status == "error" else ""
    return SolveResult(status, has_solution, obj, bound, gap, seconds, res.solver_log, solver, message)


def _highs(solver: Highs) -> Any:
    """The ``highspy.Highs`` object of ``solver``, None before it was given a model."""
    return getattr(solver, "_solver_model", None)  # private: Pyomo's highspy object


def holds_model(solver: Highs) -> bool:
    """Has ``solver`` been given a model (``set_instance``)?"""
    return _highs(solver) is not None


def load_model(solver: Highs, m: pyo.ConcreteModel) -> Any:
    """Hand ``m`` to ``solver`` and check its numbers (``check_coefficients``); returns the highspy object."""
    solver.set_instance(m)
    check_coefficients(solver)
    return _highs(solver)


def solver_message(log: str) -> str:
    """HiGHS's own account of a failure: its ERROR/WARNING lines, else the log's last line."""
    lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.upper().startswith(("ERROR", "WARNING"))]
    return "; ".join(errors) if errors else (lines[-1] if lines else "no message")


# What HiGHS can use: it drops matrix entries below ``small_matrix_value`` (1e-9), refuses
# entries above ``large_matrix_value`` (1e15) and reads costs or bounds from
# ``infinite_cost``/``infinite_bound`` (1e20) on as infinite. Between, a spread of the
# matrix's magnitudes wider than 1e12 is where simplex tolerances (1e-7) stop being reliable.
SMALLEST_COEFFICIENT = 1e-9
LARGEST_COEFFICIENT = 1e15
WIDEST_SPREAD = 1e12
KEPT_MATRIX_VALUE = 1e-12  # the smallest small_matrix_value HiGHS accepts


def check_coefficients(solver: Highs) -> list[str]:
    """Refuse a model whose numbers HiGHS cannot use, before it solves it.

    Raises ``ModelError`` naming the worst constraint or variable; returns
    warnings (a spread of magnitudes wide enough to make results unreliable).
    """
    lp = _highs(solver).getLp()
    problems: list[str] = []
    values = np.abs(np.asarray(lp.a_matrix_.value_, dtype=float))
    nz = values[values > 0]
    if len(nz):
        bad = np.flatnonzero((values > 0) & ((values < SMALLEST_COEFFICIENT) | (values >= LARGEST_COEFFICIENT) | ~np.isfinite(values)))
        if len(bad):
            col = _column_of_entry(lp, int(bad[0]))
            problems.append(
                f"{len(bad)} constraint coefficient(s) outside [{SMALLEST_COEFFICIENT:g}, {LARGEST_COEFFICIENT:g}), "
                f"e.g. {values[bad[0]]:.3g} on {_column_name(solver, col)}"
            )
    for what, arr, limit in (
        ("objective coefficient", lp.col_cost_, LARGEST_COEFFICIENT),
        ("lower bound", lp.col_lower_, None),
        ("upper bound", lp.col_upper_, None),
    ):
        a = np.asarray(arr, dtype=float)
        finite = np.isfinite(a)
        # denormal numbers (below ~2.2e-308) have crashed HiGHS's parallel code
        tiny = np.finfo(float).tiny
        bad = np.flatnonzero(np.isnan(a) | (finite & (np.abs(a) >= (limit or 1e20))) | (finite & (a != 0) & (np.abs(a) < tiny)))
        if len(bad):
            problems.append(f"{len(bad)} {what}(s) HiGHS cannot use, e.g. {a[bad[0]]:.3g} on {_column_name(solver, int(bad[0]))}")
    if problems:
        raise ModelError("the model's numbers are outside what HiGHS solves reliably: " + "; ".join(problems))
    warnings = []
    if len(nz) and nz.max() / nz.min() > WIDEST_SPREAD:
        warnings.append(
            f"constraint coefficients span {nz.min():.3g} to {nz.max():.3g} (more than {WIDEST_SPREAD:g}): "
            "results may be inaccurate; express quantities in larger or smaller units"
        )
    for w in warnings:
        log.warning(w)
    return warnings


def _column_of_entry(lp: Any, k: int) -> int:
    """The column of the ``k``-th matrix entry (HiGHS stores the matrix column-wise)."""
    start = np.asarray(lp.a_matrix_.start_)
    return int(np.searchsorted(start, k, side="right") - 1)


def _column_name(solver: Highs, col: int) -> str:
    """The Pyomo name of a HiGHS column (only on the error path: a scan of the model)."""
    columns = solver._pyomo_var_to_solver_var_map  # private: id(var) -> HiGHS column
    for v in solver._model.component_data_objects(pyo.Var, descend_into=True):  # private: the model held
        if columns.get(id(v)) == col:
            return f"variable {v.name}"
    return f"column {col}"


def solution_values(solver: Highs) -> Any:
    """The column values of ``solver``'s last solution (a ``start`` for a later solve)."""
    return np.array(_highs(solver).getSolution().col_value, dtype=float)


def columns_of(solver: Highs, variables: Any) -> np.ndarray:
    """The HiGHS columns of Pyomo variables ``solver`` holds (one array)."""
    columns = solver._pyomo_var_to_solver_var_map  # private: id(var) -> HiGHS column
    return np.array([columns[id(v)] for v in variables], dtype=np.int64)


def model_size(solver: Highs) -> dict[str, int]:
    """Columns, rows and nonzeros HiGHS holds (empty before the solver was given a model)."""
    h = _highs(solver)
    if h is None:
        return {}
    return {"highs_cols": h.getNumCol(), "highs_rows": h.getNumRow(), "nonzeros": h.getNumNz()}


def last_solve_facts(solver: Highs) -> dict[str, Any]:
    """HiGHS's run time, nodes and iterations of the last solve, and Pyomo's timer of it
    (update, optimize, load solution, set_instance), for the benchmarks."""
    import contextlib

    out: dict[str, Any] = {}
    h = _highs(solver)
    if h is not None:
        try:
            info = h.getInfo()
            out["highs"] = {
                "run_time": h.getRunTime(),
                "mip_node_count": int(getattr(info, "mip_node_count", -1)),
                "simplex_iterations": int(getattr(info, "simplex_iteration_count", -1)),
            }
        except Exception as exc:  # a highspy without these getters: the facts are optional
            out["highs"] = {"error": str(exc)}
    res = getattr(solver, "_last_results_object", None)  # private: Pyomo's last results
    timer = getattr(getattr(res, "timing_info", None), "timer", None)
    breakdown: dict[str, float] = {}
    if timer is not None:
        for key in ("update", "optimize", "load solution", "set_instance"):
            with contextlib.suppress(Exception):  # a key not timed in this solve
                breakdown[key.replace(" ", "_")] = timer.get_total_time(key)
    out["solve_breakdown"] = breakdown
    return out


def set_column_bounds(solver: Highs, variables: list[Any], lower: list[float | None], upper: list[float | None]) -> None:
    """Hand HiGHS new bounds of variables it holds (``None``: unbounded); Pyomo's own
    bounds are the caller's to keep in step."""
    import highspy

    inf = highspy.kHighsInf
    idx = columns_of(solver, variables).astype(np.int32)
    lo = np.array([-inf if x is None else x for x in lower], dtype=float)
    hi = np.array([inf if x is None else x for x in upper], dtype=float)
    _highs(solver).changeColsBounds(len(idx), idx, lo, hi)


def set_linear_objective(solver: Highs, constant: float, terms: Any, maximise: bool) -> None:
    """Hand HiGHS a new linear objective directly (then solve with ``refresh="none"``).

    ``terms`` maps ``id(var)`` to ``[var, coef]`` (``build.LinearTerms.coefs``);
    every other column's cost becomes 0. Uses the persistent interface's
    column map, so ``solver`` must already hold the model. Pyomo's own
    objective is left as it was: only re-solves through this function may follow.
    """
    import highspy

    h = _highs(solver)
    columns = solver._pyomo_var_to_solver_var_map  # private: id(var) -> HiGHS column
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
