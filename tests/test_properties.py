"""Invariants of the planner on random small scenarios (hypothesis)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symbiosim.accounts import balance_residuals, evaluate
from symbiosim.planner import optimise
from symbiosim.planner.verify import plan_violations
from symbiosim.scenario import scenario_from_dict

PRODUCTS = ["virgin", "scrap", "heat", "goods"]


@st.composite
def clusters(draw: Any) -> dict[str, Any]:
    """A feasible, bounded random cluster: every product can be disposed of,
    every input bought, every sale is limited, every candidate has a capacity."""
    n = draw(st.integers(2, 4))
    ppy = draw(st.sampled_from([1, 2, 4]))
    years = draw(st.integers(1, 3))
    money = st.floats(0, 100, allow_nan=False).map(lambda x: round(x, 2))
    coef = st.floats(0.1, 3, allow_nan=False).map(lambda x: round(x, 3))
    actors = [
        {"id": f"a{i}", "lat": 63.3 + draw(st.floats(0, 0.05)), "lon": 9.8 + draw(st.floats(0, 0.05)), "region": f"r{i % 2}"}
        for i in range(n)
    ]
    products = [
        {"id": "virgin", "unit": "t", "kind": "material", "disposal_cost": draw(money)},
        {"id": "scrap", "unit": "t", "kind": "material", "disposal_cost": draw(money), "transport_cost": draw(st.floats(0, 5))},
        {"id": "heat", "unit": "MWh", "kind": "energy", "disposal_cost": 0, "needs_link": True},
        {"id": "goods", "unit": "t", "kind": "material", "disposal_cost": draw(money)},
    ]
    processes, aps, purchases, sales = [], [], [], []
    for i, a in enumerate(actors):
        main = {"id": f"main{i}", "inputs": {"virgin": draw(coef)}, "outputs": {"goods": 1.0}}
        if draw(st.booleans()):
            main["outputs"]["scrap"] = draw(coef)
        if draw(st.booleans()):
            main["outputs"]["heat"] = draw(coef)
        alt = {"id": f"alt{i}", "inputs": {draw(st.sampled_from(["scrap", "heat"])): draw(coef)}, "outputs": {"goods": 1.0}}
        processes += [main, alt]
        aps.append(
            {
                "actor": a["id"],
                "process": main["id"],
                "fixed_activity": draw(st.floats(0, 50).map(lambda x: round(x, 1))),
                "variable_cost": draw(money),
                "value_added_per_unit": draw(money),
                "jobs_per_unit": 0.01,
                "emissions_per_unit": draw(st.floats(0, 1)),
            }
        )
        aps.append(
            {"actor": a["id"], "process": alt["id"], "exists": draw(st.booleans()), "capacity": draw(st.floats(1, 60)), "variable_cost": draw(money)}
        )
        if not aps[-1]["exists"]:
            aps[-1]["build_cost"] = draw(st.floats(0, 5000))
            aps[-1]["earliest_year"] = draw(st.integers(0, years - 1))
        for p in ("virgin", "scrap"):
            purchases.append({"actor": a["id"], "product": p, "price": draw(money), "emissions_per_unit": 0.1})
        sales.append({"actor": a["id"], "product": "goods", "price": draw(money), "limit": draw(st.floats(1, 100))})
    links = []
    for i in range(n):
        for j in range(n):
            if i != j and draw(st.integers(0, 3)) == 0:
                links.append(
                    {
                        "from": f"a{i}",
                        "to": f"a{j}",
                        "product": "heat",
                        "exists": draw(st.booleans()),
                        "capacity": draw(st.floats(1, 100)),
                    }
                )
                if not links[-1]["exists"]:
                    links[-1]["build_cost"] = draw(st.floats(0, 3000))
    raw: dict[str, Any] = {
        "settings": {"name": "random", "years": years, "periods_per_year": ppy, "discount_rate": draw(st.sampled_from([0.0, 0.05]))},
        "products": products,
        "actors": actors,
        "processes": processes,
        "actor_processes": aps,
        "purchases": purchases,
        "sales": sales,
        "links": links,
    }
    if ppy > 1 and draw(st.booleans()):
        raw["storage"] = [{"actor": "a0", "product": "scrap", "capacity": draw(st.floats(1, 50)), "cost": draw(st.floats(0, 2))}]
    if draw(st.booleans()):
        raw["policies"] = {
            draw(st.sampled_from(["exchange_subsidy", "disposal_tax", "virgin_tax", "carbon_price"])): draw(st.floats(0, 20)),
            "investment_subsidy": draw(st.floats(0, 0.5)),
        }
    return raw


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


@SETTINGS
@given(clusters())
def test_balances_close_and_objective_equals_accounts(raw):
    s = scenario_from_dict(raw)
    for baseline in (False, True):
        plan = optimise(s, baseline=baseline)
        residual = balance_residuals(s, plan)
        assert residual.residual.abs().max() < 1e-5 if len(residual) else True
        assert _close(evaluate(s, plan).kpis["cluster_npv"], plan.meta["objective_value"])
        per_actor = evaluate(s, plan).actors.profit.sum()
        assert _close(per_actor, plan.meta["objective_value"])
        assert plan_violations(s, plan) == []


def _tolerance(value: float) -> float:
    # both solves stop within the relative MIP gap (1e-4) of their optimum
    return 2e-4 * max(1.0, abs(value))


@SETTINGS
@given(clusters())
def test_baseline_never_beats_the_optimum(raw):
    s = scenario_from_dict(raw)
    best = optimise(s).meta["objective_value"]
    base = optimise(s, baseline=True).meta["objective_value"]
    assert base <= best + _tolerance(best)


@SETTINGS
@given(clusters(), st.floats(0, 3000), st.floats(1, 50), st.floats(0, 50))
def test_adding_a_candidate_never_lowers_the_optimum(raw, build_cost, capacity, price):
    s = scenario_from_dict(raw)
    before = optimise(s).meta["objective_value"]
    more = copy.deepcopy(raw)
    more["processes"].append({"id": "extra", "inputs": {"scrap": 1.0}, "outputs": {"goods": 1.0}})
    more["actor_processes"].append({"actor": "a1", "process": "extra", "exists": False, "capacity": capacity, "build_cost": build_cost})
    after = optimise(scenario_from_dict(more)).meta["objective_value"]
    assert after >= before - _tolerance(before)


@SETTINGS
@given(clusters())
def test_time_limited_solve_reports_its_gap(raw):
    plan = optimise(scenario_from_dict(raw), time_limit=5.0)
    assert plan.meta["status"] in ("optimal", "time_limit")
    assert plan.meta["gap"] is not None and plan.meta["gap"] >= 0
    if plan.meta["status"] == "optimal":
        assert plan.meta["gap"] <= 1e-4 + 1e-9


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(clusters())
def test_many_random_clusters_stay_consistent(raw):
    s = scenario_from_dict(raw)
    plan = optimise(s)
    assert _close(evaluate(s, plan).kpis["cluster_npv"], plan.meta["objective_value"])
