"""Invariants of the planner on random small scenarios (hypothesis)."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symbiosim.accounts import balance_residuals, cashflows, evaluate
from symbiosim.errors import ScenarioError
from symbiosim.planner import optimise
from symbiosim.planner.verify import plan_violations
from symbiosim.scenario import scenario_from_dict

PRODUCTS = ["virgin", "scrap", "heat", "goods"]


def real(low: float, high: float, digits: int = 3) -> st.SearchStrategy[float]:
    """A realistic number in [low, high]: finite, never subnormal, rounded to ``digits``
    decimals, so it is 0 or at least 10**-digits (every scenario number is 0 or has a
    magnitude from 1e-9 to 1e12; a denormal such as 5e-324 is rejected by validation)."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False).map(
        lambda x: round(x, digits)
    )


@st.composite
def clusters(draw: Any) -> dict[str, Any]:
    """A feasible, bounded random cluster: every product can be disposed of,
    every input bought, every sale is limited, every candidate has a capacity."""
    n = draw(st.integers(2, 4))
    ppy = draw(st.sampled_from([1, 2, 4]))
    years = draw(st.integers(1, 3))
    money = real(0, 100, 2)
    coef = real(0.1, 3)
    actors = [
        {"id": f"a{i}", "lat": 63.3 + draw(real(0, 0.05, 4)), "lon": 9.8 + draw(real(0, 0.05, 4)), "region": f"r{i % 2}"}
        for i in range(n)
    ]
    products = [
        {"id": "virgin", "unit": "t", "kind": "material", "disposal_cost": draw(money)},
        {"id": "scrap", "unit": "t", "kind": "material", "disposal_cost": draw(money), "transport_cost": draw(real(0, 5))},
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
                "fixed_activity": draw(real(0, 50, 1)),
                "variable_cost": draw(money),
                "value_added_per_unit": draw(money),
                "jobs_per_unit": 0.01,
                "emissions_per_unit": draw(real(0, 1)),
            }
        )
        aps.append(
            {"actor": a["id"], "process": alt["id"], "exists": draw(st.booleans()), "capacity": draw(real(1, 60)), "variable_cost": draw(money)}
        )
        if not aps[-1]["exists"]:
            aps[-1]["build_cost"] = draw(real(0, 5000, 2))
            aps[-1]["earliest_year"] = draw(st.integers(0, years - 1))
        for p in ("virgin", "scrap"):
            purchases.append({"actor": a["id"], "product": p, "price": draw(money), "emissions_per_unit": 0.1})
        sales.append({"actor": a["id"], "product": "goods", "price": draw(money), "limit": draw(real(1, 100))})
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
                        "capacity": draw(real(1, 100)),
                    }
                )
                if not links[-1]["exists"]:
                    links[-1]["build_cost"] = draw(real(0, 3000, 2))
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
        raw["storage"] = [{"actor": "a0", "product": "scrap", "capacity": draw(real(1, 50)), "cost": draw(real(0, 2))}]
    if draw(st.booleans()):
        raw["policies"] = {
            draw(st.sampled_from(["exchange_subsidy", "disposal_tax", "virgin_tax", "carbon_price"])): draw(real(0, 20)),
            "investment_subsidy": draw(real(0, 0.5)),
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
        # the ledger: its discounted sum per actor is each actor's profit
        profit = evaluate(s, plan).actors.set_index("actor").profit
        ledger = cashflows(s, plan).groupby("actor").discounted.sum().reindex(profit.index, fill_value=0.0)
        assert all(_close(a, b) for a, b in zip(ledger, profit, strict=True)), (ledger - profit).to_dict()


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
@given(clusters(), real(0, 3000, 2), real(1, 50), real(0, 50))
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


# --------------------------------------------------------------------------- number range

RANGE = "expected 0 or a number of magnitude 1e-9 to 1e12"
BELOW = math.nextafter(1e-9, 0.0)  # 9.999999999999999e-10
ABOVE = math.nextafter(1e12, math.inf)  # 1000000000000.0001


def _boundary_base() -> dict[str, Any]:
    return {
        "settings": {"name": "range", "years": 2, "periods_per_year": 2},
        "products": [
            {"id": "heat", "unit": "MWh", "kind": "energy", "disposal_cost": 1.0, "transport_cost": 0.5},
            {"id": "goods", "unit": "t", "kind": "material"},
        ],
        "actors": [{"id": "a", "lat": 63.3, "lon": 9.8}],
        "processes": [{"id": "make", "inputs": {"heat": 1.0}, "outputs": {"goods": 1.0}}],
        "actor_processes": [{"actor": "a", "process": "make", "value_added_per_unit": 1.0}],
        "sales": [{"actor": "a", "product": "goods", "price": 5.0}],
        "profiles": {"flat": [1.0, 1.0]},
        "policies": {"carbon_price": {"heat": 1.0}},
    }


def _with(value: float, where: str) -> dict[str, Any]:
    raw = _boundary_base()
    if where == "transport_cost":
        raw["products"][0]["transport_cost"] = value
    elif where == "price":
        raw["sales"][0]["price"] = value
    elif where == "recipe":
        raw["processes"][0]["inputs"]["heat"] = value
    elif where == "policy":
        raw["policies"]["carbon_price"]["heat"] = value
    elif where == "profile":
        raw["profiles"]["flat"] = [value, 2.0 - value]
    elif where == "start_year":
        raw["settings"]["start_year"] = value
    return raw


LOCATIONS = {
    "transport_cost": "products[heat].transport_cost: ",
    "price": "sales[a/goods].price: ",
    "recipe": "processes[make].inputs: entry heat: ",
    "policy": "policies.carbon_price: entry heat: ",
}


@pytest.mark.parametrize("value", [0.0, 1e-9, 1e12, 5e-9, 123.0, 1e11])
def test_numbers_at_the_range_boundary_are_accepted(value: float) -> None:
    s = scenario_from_dict(_with(value, "transport_cost"))
    assert s.products[0].transport_cost == value
    assert scenario_from_dict(_with(-value, "price")).sales[0].price == -value  # a signed column: both signs
    assert scenario_from_dict(_with(value, "policy")).policies.rate("carbon_price", "heat") == value
    assert scenario_from_dict(_with(10**12, "start_year")).settings.start_year == 10**12  # integers too


@pytest.mark.parametrize("value", [BELOW, ABOVE, 5e-324, 1.1125369292536007e-308, 1e-10, 1e13, 1e300])
@pytest.mark.parametrize("where", list(LOCATIONS))
def test_numbers_beyond_the_range_are_rejected_with_the_exact_message(value: float, where: str) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(_with(value, where))
    assert [str(i) for i in info.value.issues] == [f"{LOCATIONS[where]}{RANGE}, got {value!r}"]


def test_the_denormal_of_issue_10_is_rejected_and_located() -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(_with(1.1125369292536007e-308, "transport_cost"))
    assert str(info.value.issues[0]) == (
        "products[heat].transport_cost: expected 0 or a number of magnitude 1e-9 to 1e12, got 1.1125369292536007e-308"
    )
    assert [str(i) for i in info.value.issues] == [str(info.value.issues[0])]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (BELOW, f"profiles[flat]: entry 0: {RANGE}, got {BELOW!r}"),
        (float("nan"), "profiles[flat]: entry 0: expected a finite number, got nan"),
        (float("inf"), "profiles[flat]: entry 0: expected a finite number, got inf"),
        (10**400, f"profiles[flat]: entry 0: {RANGE}, got 1{'0' * 27}...{'0' * 29}"),  # shortened, never 400 digits
    ],
    ids=["below", "nan", "inf", "huge_integer"],
)
def test_profile_factors_are_numbers_in_range(value: float, message: str) -> None:
    raw = _boundary_base()
    raw["profiles"]["flat"] = [value, 1.0]
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(raw)
    assert [str(i) for i in info.value.issues] == [message]


def test_an_integer_column_beyond_the_range_is_rejected() -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(_with(10**12 + 1, "start_year"))
    assert [str(i) for i in info.value.issues] == [f"settings.start_year: {RANGE}, got 1000000000001"]


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from([1e-9, BELOW, 1e12, ABOVE, -1e-9, -BELOW, -1e12, -ABOVE, 0.0, -0.0, 5e-324]),
        st.floats(1e-12, 1e-6),
        st.floats(1e10, 1e14),
    ),
    st.sampled_from(["price", "policy"]),
)
def test_a_number_is_accepted_exactly_when_it_is_zero_or_in_range(value: float, where: str) -> None:
    """Signed columns (a sale price, a carbon price): accepted iff 0 or 1e-9 <= |x| <= 1e12."""
    usable = value == 0 or 1e-9 <= abs(value) <= 1e12
    try:
        scenario_from_dict(_with(value, where))
        accepted = True
    except ScenarioError as exc:
        accepted = False
        assert [str(i) for i in exc.issues] == [f"{LOCATIONS[where]}{RANGE}, got {value!r}"]
    assert accepted == usable
