"""The solver layer: thread settings, HiGHS's own failures, numbers HiGHS cannot use."""

from __future__ import annotations

import pyomo.environ as pyo
import pytest

from symbiosim.errors import ModelError, SolverError
from symbiosim.experiments.reuse import ReusablePlanner
from symbiosim.planner import finish_solve, optimise
from symbiosim.planner.solve import SolveResult, check_coefficients, make_solver, solve_model
from symbiosim.scenario.data import build_model_data
from tests.tiny import HEAT_LINK, build


def _knapsack(coef: float = 1.0, cost: float = 1.0) -> pyo.ConcreteModel:
    """max x + 2y s.t. x + y <= 7.5, x, y integer in [0, 10]: y = 7, x = 0, objective 14."""
    m = pyo.ConcreteModel()
    m.x = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(0, 10))
    m.y = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(0, 10))
    m.c = pyo.Constraint(expr=coef * m.x + m.y <= 7.5)
    m.objective = pyo.Objective(expr=cost * m.x + 2 * m.y, sense=pyo.maximize)
    return m


def test_thread_counts_can_change_within_one_process():
    """HiGHS starts one scheduler per process; optimise() (HiGHS's default threads) followed by
    a batch re-solve with one thread used to fail with 'scheduler already initialised' (issue 10)."""
    for threads in (None, 2, 1, None, 2, 1):
        r = solve_model(_knapsack(), threads=threads)
        assert (r.status, r.objective_value) == ("optimal", 14.0), (threads, r.message)


def test_reusable_planner_after_optimise_in_the_same_process():
    """The issue's reproduction: optimise() first, then a ReusablePlanner re-solve (threads=1).
    Heat link optimum: NPV -1000 (the pipe), baseline -8000 (gas for 2 years)."""
    sc = build(HEAT_LINK)
    assert optimise(sc, threads=2).meta["objective_value"] == pytest.approx(-1000)
    planner = ReusablePlanner()
    assert planner.solve(sc).meta["objective_value"] == pytest.approx(-1000)
    assert planner.solve(sc, baseline=True).meta["objective_value"] == pytest.approx(-8000)
    assert optimise(sc).meta["objective_value"] == pytest.approx(-1000)


def test_a_solver_error_is_reported_as_such_with_highs_message():
    """A thread count smuggled past the scheduler handling makes HiGHS refuse to run:
    that is a solver error in HiGHS's words, never 'infeasible' or 'unbounded'."""
    solve_model(_knapsack(), threads=2)
    r = solve_model(_knapsack(), options={"threads": 1})
    assert r.status == "error" and not r.has_solution
    assert "scheduler" in r.message
    data = build_model_data(build(HEAT_LINK))
    with pytest.raises(SolverError, match="scheduler") as info:
        finish_solve(None, data, r, "cluster_npv", None, {})
    assert "infeasible" not in str(info.value) and "unbounded" not in str(info.value)


def test_finish_solve_never_diagnoses_an_error_status():
    data = build_model_data(build(HEAT_LINK))
    r = SolveResult("error", False, None, None, None, 0.0, message="HiGHS: out of memory")
    with pytest.raises(SolverError, match="out of memory"):
        finish_solve(None, data, r, "cluster_npv", None, {})


@pytest.mark.parametrize(("coef", "cost"), [(1e-11, 1.0), (1e16, 1.0), (1.0, 1e-310), (1.0, 1e16)])
def test_coefficients_outside_what_highs_uses_are_refused_before_solving(coef, cost):
    with pytest.raises(ModelError, match=r"outside what HiGHS solves reliably.*variable x"):
        solve_model(_knapsack(coef, cost))


def test_coefficients_at_the_boundary_are_solved():
    """1e-9 is the smallest matrix entry HiGHS keeps: x's coefficient 1e-9 makes y the
    only binding variable (y = 7), and x = 10 is free: objective 10 + 14 = 24."""
    r = solve_model(_knapsack(1e-9))
    assert (r.status, r.objective_value) == ("optimal", 24.0)


def test_a_wide_spread_of_coefficients_is_warned_about():
    m = _knapsack(1e-8)
    m.c2 = pyo.Constraint(expr=1e5 * m.x <= 1e6)
    solver = make_solver()
    solver.set_instance(m)
    warnings = check_coefficients(solver)
    assert warnings and "span 1e-08 to 1e+05" in warnings[0]


@pytest.mark.parametrize(
    ("option", "value", "text"),
    [("mip_gap", -1.0, "mip_gap must be"), ("time_limit", -5.0, "time_limit must be"), ("threads", 0, "threads must be")],
)
def test_solver_options_are_checked_in_our_words(option, value, text):
    with pytest.raises(ModelError, match=text):
        solve_model(_knapsack(), **{option: value})
