"""``PlannerModel``: every capability on tiny scenarios whose answer is derived by hand,
and the rule that Pyomo and solver internals stay inside ``symbiosim/planner/``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from symbiosim.errors import InfeasibleError, ModelError
from symbiosim.planner import PlannerModel, optimise, structure_signature
from symbiosim.scenario.data import build_model_data
from tests.tiny import FEED_ENTRY, HEAT_LINK, build, market_split

ROOT = Path(__file__).resolve().parents[1]
PIPE = "link:smelter->greenhouse:heat"

# Heat link with the pipe at 10 000, gas at 0.2 t/MWh: the NPV optimum buys gas
# (2 x 80 x 50 = 8000, emissions 2 x 80 x 0.2 = 32 t); the pipe gives emissions 0 at NPV -10 000.
GREEN = {
    **HEAT_LINK,
    "purchases": [{**HEAT_LINK["purchases"][0], "emissions_per_unit": 0.2}],
    "links": [{**HEAT_LINK["links"][0], "build_cost": 10000}],
}


def test_build_exposes_declared_attributes():
    """Heat link: both actors exist (present every year), every variable has a finite bound
    (no notes), and the key figures are expressions of the model."""
    pm = PlannerModel.from_scenario(build(HEAT_LINK))
    assert pm.source == "planner" and pm.coalition is None and pm.objective == "cluster_npv"
    assert pm.notes == [] and pm.fallback is None and pm.build_seconds > 0
    assert {"cluster_npv", "value_added", "jobs", "jobs_final_year", "emissions"} <= set(pm.key_figures)
    assert pm.presence[("smelter", 0)] == 1 and pm.presence[("greenhouse", 1)] == 1
    assert pm.size() == {}  # HiGHS holds nothing before the first solve
    assert PlannerModel.from_scenario(build(HEAT_LINK), baseline=True).source == "baseline"
    assert PlannerModel.from_scenario(build(HEAT_LINK), coalition=frozenset({"smelter"})).source == "coalition"


def test_solve_and_plan_give_what_optimise_gives():
    """Pipe in year 0, NPV -1000; the plan's meta is optimise's."""
    pm = PlannerModel.from_scenario(build(HEAT_LINK))
    res = pm.solve()
    assert (res.status, res.objective_value) == ("optimal", pytest.approx(-1000))
    plan = pm.plan(res, note="mine")
    assert plan.meta["note"] == "mine" and plan.meta["objective_value"] == pytest.approx(-1000)
    assert list(plan.builds[["kind", "actor", "target", "year"]].itertuples(index=False, name=None)) == [("link", "smelter", "greenhouse", 0)]
    ref = optimise(build(HEAT_LINK))
    timing = {"build_seconds", "solve_seconds", "note"}
    assert {k: v for k, v in plan.meta.items() if k not in timing} == {k: v for k, v in ref.meta.items() if k not in timing}
    assert pm.value("cluster_npv") == pytest.approx(-1000)
    assert len(pm.snapshot()) == pm.size()["highs_cols"] > 0
    assert pm.solves[-1]["label"] == "solve" and pm.solves[-1]["warm_start"] is False


def test_set_objective_by_name():
    """Emissions minimised: the pipe (0 t, NPV -10 000); weighted NPV - 100 x emissions:
    32 t x 100 = 3200 > 2000 extra for the pipe, so the pipe again; an unknown name
    leaves the objective as it was."""
    pm = PlannerModel.from_scenario(build(GREEN))
    assert pm.solve().objective_value == pytest.approx(-8000)
    assert pm.value("emissions") == pytest.approx(32)
    pm.set_objective("emissions")
    assert pm.solve().objective_value == pytest.approx(0)
    assert pm.value("cluster_npv") == pytest.approx(-10000)
    assert pm.objective_value("cluster_npv") == pytest.approx(-10000)
    pm.set_objective("weighted", {"cluster_npv": 1, "emissions": -100})
    assert pm.solve().objective_value == pytest.approx(-10000)
    for bad, weights in (("profit", None), ("weighted", {"profit": 1}), ("weighted", None)):
        with pytest.raises(ModelError):
            pm.set_objective(bad, weights)
    assert pm.objective == "weighted"
    assert pm.solve().objective_value == pytest.approx(-10000)
    assert pm.maximises("cluster_npv") and not pm.maximises("emissions")


def test_bounds_on_objectives_are_added_and_removed():
    """Max NPV with emissions <= 10 t: only the pipe meets it (-10 000); removed: -8000.
    NPV >= 0 is impossible (the greenhouse pays at least 8000 or 10 000)."""
    pm = PlannerModel.from_scenario(build(GREEN))
    pm.add_bound("cap", "emissions", upper=10)
    assert pm.solve().objective_value == pytest.approx(-10000)
    pm.remove("cap")
    assert pm.solve().objective_value == pytest.approx(-8000)
    pm.add_bound("cap", "emissions", lower=5, upper=40)  # both sides: gas (32 t) fits
    assert pm.solve().objective_value == pytest.approx(-8000)
    pm.add_bound("cap", None, lower=0)  # replaces the emissions bound; None: the objective
    res = pm.solve("impossible")
    assert res.status in ("infeasible", "infeasible_or_unbounded") and not res.has_solution
    with pytest.raises(InfeasibleError):
        pm.plan(res)
    with pytest.raises(InfeasibleError, match="impossible"):
        pm.solve("impossible", strict=True)
    with pytest.raises(ModelError, match="part of the planner's model"):
        pm.add_bound("balance", "cluster_npv", lower=0)
    with pytest.raises(ModelError, match="part of the planner's model"):
        pm.remove("objective")


def test_set_bounds_of_variables():
    """Feed entry (optimum -1500, baseline -4000): with the mill's feed sales bounded to 0,
    entering cannot pay, so the offcuts are disposed: -4000. Bounds back: -1500."""
    pm = PlannerModel.from_scenario(build(FEED_ENTRY))
    assert pm.solve().objective_value == pytest.approx(-1500)
    closed = {("feedmill", "feed", t): (0.0, 0.0) for t in range(4)}
    pm.set_bounds("sell", closed)
    assert pm.solve().objective_value == pytest.approx(-4000)
    pm.set_bounds("sell", {k: (0.0, None) for k in closed})
    assert pm.solve().objective_value == pytest.approx(-1500)
    with pytest.raises(ModelError, match="unknown variable"):
        pm.set_bounds("balance", {})


def test_reprice_hands_new_money_to_highs():
    """Gas at 5/MWh: 2 x 80 x 5 = 800 < 1000 for the pipe, so gas (NPV -800); back at 50:
    the pipe (-1000). A new link capacity is structure: refused, nothing changed."""
    pm = PlannerModel.from_scenario(build(HEAT_LINK))
    assert pm.solve().objective_value == pytest.approx(-1000)
    cheap = build_model_data(build(HEAT_LINK, purchases=[{**HEAT_LINK["purchases"][0], "price": 5}]))
    assert structure_signature(cheap) == pm.signature
    assert pm.reprice(cheap) and pm.data is cheap
    res = pm.solve(load=False)  # read from HiGHS, as a batch does
    plan = pm.plan(res)
    assert res.objective_value == pytest.approx(-800) and plan.builds.empty and plan.purchases.value.sum() == pytest.approx(160)
    assert pm.solve().objective_value == pytest.approx(-800)  # solved again: Pyomo must not send the old prices
    pm.add_bound("floor", "cluster_npv", lower=-900)
    assert pm.solve().objective_value == pytest.approx(-800)
    pm.remove("floor")
    assert pm.reprice(build_model_data(build(HEAT_LINK)))
    assert pm.solve().objective_value == pytest.approx(-1000)
    assert pm.value("cluster_npv") == pytest.approx(-1000)  # Pyomo's key figures follow the new numbers
    wider = build_model_data(build(HEAT_LINK, links=[{**HEAT_LINK["links"][0], "capacity": 50}]))
    assert not pm.reprice(wider) and pm.data is not wider


def test_reprice_of_another_objective():
    """Minimising emissions, gas twice as dirty (0.4 t/MWh): still the pipe, emissions 0,
    and the NPV of that plan is -10 000 whatever gas costs."""
    pm = PlannerModel.from_scenario(build(GREEN), "emissions")
    assert pm.solve().objective_value == pytest.approx(0)
    dirty = build(GREEN, purchases=[{**GREEN["purchases"][0], "emissions_per_unit": 0.4, "price": 1}])
    assert pm.reprice(build_model_data(dirty))
    assert pm.solve().objective_value == pytest.approx(0)
    assert pm.value("cluster_npv") == pytest.approx(-10000)


def test_warm_start_from_a_plan():
    """A hard MIP: with the plan of a first time-limited solve as a start, a second,
    shorter solve returns a plan at least as good (purchases make any start feasible)."""
    s = build(market_split(n=24))
    first = PlannerModel.from_scenario(s, time_limit=1.0)
    plan = first.plan(first.solve())
    again = PlannerModel.from_scenario(s, time_limit=0.3)
    again.warm_start(plan)
    res = again.solve()
    assert res.has_solution and res.objective_value >= plan.meta["objective_value"] - 1e-6 * abs(plan.meta["objective_value"])
    assert again.solves[-1]["warm_start"] is True
    # a start from the heat-link optimum is kept: the solve ends at it
    pm = PlannerModel.from_scenario(build(HEAT_LINK))
    pm.warm_start(optimise(build(HEAT_LINK)))
    assert pm.solve().objective_value == pytest.approx(-1000)


def test_alternatives_terms():
    """Heat link, one candidate decision (the pipe; heat needs a link, so no exchange
    indicator). Within 10 x |-1000| of the optimum, gas (-8000) is at distance 1 from the
    pipe plan; within 0.5 x |-1000| (>= -1500) no other plan is, so the best distance is 0."""
    pm = PlannerModel.from_scenario(build(HEAT_LINK))
    opt = pm.plan(pm.solve())
    assert pm.begin_alternatives(-1000.0, 10.0) == [PIPE]
    assert pm.decision_kinds == {PIPE: "link"}
    pm.add_distance([PIPE])
    pm.set_distance_objective(smallest=True, spread=1e-3, objective=1e-4 / 1000)
    res = pm.solve("alt_1", start=pm.snapshot())
    assert pm.smallest_distance() == pytest.approx(1) and pm.distances() == [pytest.approx(1)]
    assert pm.objective_value() == pytest.approx(-8000) and pm.plan(res).builds.empty
    assert pm.distance_start()[-1] == 0.0
    with pytest.raises(ModelError, match="already"):
        pm.begin_alternatives(-1000.0, 10.0)
    with pytest.raises(ModelError):
        pm.reprice(pm.data)

    near = PlannerModel.from_scenario(build(HEAT_LINK))
    near.solve()
    near.begin_alternatives(-1000.0, 0.5)
    near.add_distance([PIPE])
    near.set_distance_objective(smallest=False, spread=1.0, objective=0.0)
    near.solve(start=opt)
    assert near.distances() == [pytest.approx(0)] and near.objective_value() == pytest.approx(-1000)


def test_exchange_indicators():
    """Feed entry: the mill's entry, its process and the trucked offcuts arc (no link needed)."""
    pm = PlannerModel.from_scenario(build(FEED_ENTRY))
    pm.solve()
    kinds = dict(zip(pm.begin_alternatives(-1500.0, 0.1), ("entry", "build", "exchange"), strict=True))
    assert kinds == {"entry:feedmill": "entry", "build:feedmill/mill": "build", "exchange:fishplant->feedmill:offcuts": "exchange"}
    assert pm.decision_kinds == kinds
    with pytest.raises(ModelError, match="begin_alternatives"):
        PlannerModel.from_scenario(build(FEED_ENTRY)).add_distance([])


def test_solver_facts_for_the_benchmarks():
    """Every private Pyomo attribute ``planner/solve.py`` reads is still there."""
    pm = PlannerModel.from_scenario(build(HEAT_LINK))
    pm.solve()
    facts = pm.solver_facts()
    assert facts["highs"]["run_time"] >= 0 and "optimize" in facts["solve_breakdown"]
    assert set(pm.size()) == {"highs_cols", "highs_rows", "nonzeros"}


PRIVATE = re.compile(
    r"_solver_model|_pyomo_var_to_solver_var_map|_last_results_object"
    r"|\bm\.(kpi|present|arcs_in|arcs_out|data_notes)\b|\.data_notes\b|\.arcs_in\b|\.kpi\["
    r"|^\s*(import|from) pyomo\b"
)


def test_pyomo_and_solver_internals_stay_inside_the_planner():
    """Nothing outside ``symbiosim/planner/`` reads Pyomo's private solver attributes or the
    model's undeclared attributes, or imports Pyomo (``PlannerModel`` declares what others need)."""
    offenders = []
    for path in sorted([*(ROOT / "symbiosim").rglob("*.py"), *(ROOT / "benchmarks").rglob("*.py")]):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("symbiosim/planner/"):
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if PRIVATE.search(line):
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert offenders == []
