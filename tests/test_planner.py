"""The coordinated optimum on tiny scenarios whose answer is derived by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from symbiosim.accounts import balance_residuals, evaluate
from symbiosim.errors import InfeasibleError, ModelError, UnboundedError
from symbiosim.planner import optimise
from tests.tiny import FEED_ENTRY, HEAT_LINK, build, edit, market_split


def npv(plan) -> float:
    return plan.meta["objective_value"]


def built(plan, kind: str) -> list[tuple]:
    b = plan.builds[plan.builds.kind == kind]
    return sorted(tuple(x for x in r if pd.notna(x)) for r in b[["actor", "process", "target", "year"]].itertuples(index=False))


def assert_consistent(scenario, plan) -> None:
    """Every plan closes every balance, and its accounts equal its objective.

    Every scenario checked here runs processes, so a plan without activities
    is itself a failure (it would balance trivially and check nothing)."""
    assert len(plan.activities) > 0, "the plan runs no process: nothing to balance"
    residuals = balance_residuals(scenario, plan)
    assert len(residuals) > 0
    assert residuals.residual.abs().max() < 1e-6
    assert evaluate(scenario, plan).kpis["cluster_npv"] == pytest.approx(npv(plan), rel=1e-9, abs=1e-6)


def test_heat_link_that_pays_back():
    """Gas for 80 MWh/yr of warmth costs 80 x 50 = 4000/yr, 8000 over 2 years
    (r = 0). The pipe costs 1000 once and carries up to 100 MWh/yr of free heat.
    Optimum: build in year 0, NPV = -1000. Baseline (no new link): -8000."""
    s = build(HEAT_LINK)
    plan = optimise(s)
    assert npv(plan) == pytest.approx(-1000)
    assert built(plan, "link") == [("smelter", "greenhouse", 0)]
    assert plan.purchases.empty
    base = optimise(s, baseline=True)
    assert npv(base) == pytest.approx(-8000)
    assert base.flows.empty and base.builds.empty
    assert_consistent(s, plan)
    assert_consistent(s, base)


def test_heat_link_that_does_not_pay_back():
    """Same cluster, pipe at 10 000: savings 8000 < 10 000, so no pipe; NPV -8000."""
    s = build(HEAT_LINK, links=[{**HEAT_LINK["links"][0], "build_cost": 10000}])
    plan = optimise(s)
    assert npv(plan) == pytest.approx(-8000)
    assert plan.builds.empty and plan.flows.empty


def test_candidate_actor_with_earliest_year():
    """Offcuts 10 t/yr, disposal 100/t; a feed mill may enter from year 2
    (entry 500) and sells feed at 50/t. r = 0, 4 years.
    Baseline: 4 x 10 x 100 = 4000 of disposal -> -4000.
    Optimum: enter in year 2 (as early as allowed): years 0-1 dispose (-2000),
    years 2-3 sell 10 t of feed (+1000), entry -500 -> -1500."""
    s = build(FEED_ENTRY)
    plan = optimise(s)
    assert npv(plan) == pytest.approx(-1500)
    assert built(plan, "actor") == [("feedmill", 2)]
    assert built(plan, "process") == [("feedmill", "mill", 2)]
    assert set(plan.flows.year) == {2, 3}
    assert npv(optimise(s, baseline=True)) == pytest.approx(-4000)
    assert_consistent(s, plan)


def test_nothing_moves_to_a_candidate_actor_before_it_enters():
    """Entry at 5000 never pays (gain 1500/yr x 2 yr = 3000): the mill stays out,
    so no flow, sale or activity may appear at it in any year."""
    raw = edit(FEED_ENTRY, "actors", 1, entry_cost=5000)
    s = build(raw)
    plan = optimise(s)
    assert npv(plan) == pytest.approx(-4000)
    assert plan.builds.empty
    assert "feedmill" not in set(plan.flows.target) | set(plan.sales.actor) | set(plan.activities.actor)


@pytest.mark.parametrize(
    ("rate", "builds", "expected"),
    [
        # r = 0.10: saving 4000 x (1 + 1/1.1 + 1/1.21) = 10 942.15 > 10 000 -> build in year 0, NPV = -10 000
        (0.10, True, -10000.0),
        # r = 0.25: saving 4000 x (1 + 0.8 + 0.64) = 9760 < 10 000 -> no pipe, NPV = -9760
        (0.25, False, -9760.0),
    ],
)
def test_discounting_flips_the_decision(rate, builds, expected):
    """3 years, pipe 10 000 paid in the build year, gas 4000/yr discounted by (1 + r)^-y."""
    s = build(
        HEAT_LINK,
        settings={"years": 3, "discount_rate": rate},
        links=[{**HEAT_LINK["links"][0], "build_cost": 10000}],
    )
    plan = optimise(s)
    assert npv(plan) == pytest.approx(expected, rel=1e-9)
    assert (not plan.builds.empty) is builds
    assert_consistent(s, plan)


def test_seasonal_profile_with_binding_link_capacity():
    """4 quarters, 1 year. Warmth demand 80/yr shaped [2, 1, .5, .5] -> 40, 20,
    10, 10 per quarter. The smelter has 400 MWh/yr of heat (100 a quarter) but
    the pipe carries 100/yr = 25 a quarter. Quarter 0 needs 15 MWh of gas
    (40 - 25) = 750; pipe 100. Optimum NPV = -850; baseline = -4000."""
    aps = [dict(r) for r in HEAT_LINK["actor_processes"]]
    aps[3] = {**aps[3], "profile": "winter"}
    s = build(
        HEAT_LINK,
        settings={"years": 1, "periods_per_year": 4},
        profiles={"winter": [2, 1, 0.5, 0.5]},
        processes=[{"id": "smelt", "outputs": {"heat": 400}}, *HEAT_LINK["processes"][1:]],
        actor_processes=aps,
        links=[{**HEAT_LINK["links"][0], "build_cost": 100}],
    )
    plan = optimise(s)
    assert npv(plan) == pytest.approx(-850)
    assert plan.flows.value.max() == pytest.approx(25)
    gas = plan.purchases.set_index("period").value
    assert gas.to_dict() == pytest.approx({0: 15.0})
    assert npv(optimise(s, baseline=True)) == pytest.approx(-4000)
    assert_consistent(s, plan)


def _storage_scenario(with_storage: bool):
    """Chips 100 t/yr flat (25 a quarter) from a sawmill; a greenhouse burns
    them (or gas at 50) for warmth shaped [.5, .5, 1, 2] -> 10, 10, 20, 40.
    Without storage quarter 3 lacks 15 -> gas 750. With a chip store
    (cost 1 per t per quarter, starts empty) the cheapest way keeps 10 t
    after quarter 1 and 15 t after quarter 2 (surpluses are 15, 15, 5):
    holding cost 10 + 15 = 25. NPV: -25 with storage, -750 without."""
    raw = {
        "settings": {"name": "storage", "years": 1, "periods_per_year": 4, "discount_rate": 0.0},
        "products": [
            {"id": "chips", "unit": "t", "kind": "material", "disposal_cost": 0},
            {"id": "gas", "unit": "MWh", "kind": "energy"},
            {"id": "warmth", "unit": "MWh", "kind": "energy"},
        ],
        "actors": [{"id": "sawmill", "lat": 63.3, "lon": 9.8}, {"id": "greenhouse", "lat": 63.3, "lon": 9.8}],
        "processes": [
            {"id": "saw", "outputs": {"chips": 100}},
            {"id": "burn", "inputs": {"chips": 1}, "outputs": {"warmth": 1}},
            {"id": "boil", "inputs": {"gas": 1}, "outputs": {"warmth": 1}},
            {"id": "grow", "inputs": {"warmth": 1}},
        ],
        "actor_processes": [
            {"actor": "sawmill", "process": "saw", "fixed_activity": 1},
            {"actor": "greenhouse", "process": "burn"},
            {"actor": "greenhouse", "process": "boil"},
            {"actor": "greenhouse", "process": "grow", "fixed_activity": 80, "profile": "late"},
        ],
        "purchases": [{"actor": "greenhouse", "product": "gas", "price": 50}],
        "profiles": {"late": [0.5, 0.5, 1, 2]},
    }
    if with_storage:
        raw["storage"] = [{"actor": "greenhouse", "product": "chips", "capacity": 100, "cost": 1}]
    return build(raw)


def test_storage_shifts_a_seasonal_surplus():
    s = _storage_scenario(with_storage=True)
    plan = optimise(s)
    assert npv(plan) == pytest.approx(-25)
    assert plan.purchases.empty
    levels = plan.storage.set_index("period").value.to_dict()
    assert levels == pytest.approx({1: 10.0, 2: 15.0})
    assert_consistent(s, plan)
    no_store = optimise(_storage_scenario(with_storage=False))
    assert npv(no_store) == pytest.approx(-750)


# Policy instruments on the pipe that does not pay (10 000 > 8000 of gas saved).
EXPENSIVE = {"links": [{**HEAT_LINK["links"][0], "build_cost": 10000}]}


@pytest.mark.parametrize(
    ("policies", "expected_npv", "expected_public_cost"),
    [
        # none: no pipe, -8000
        ({}, -8000.0, 0.0),
        # exchange subsidy 15/MWh on the 80 MWh/yr actually used (the safeguard
        # stops the other 20 from being shipped for the subsidy):
        # -10 000 + 2 x 80 x 15 = -7600 > -8000 -> build. State pays 2400.
        ({"exchange_subsidy": 15}, -7600.0, 2400.0),
        # virgin tax 15/MWh on gas: not building costs 2 x 80 x 65 = 10 400 -> build, -10 000; tax collected 0.
        ({"virgin_tax": {"gas": 15}}, -10000.0, 0.0),
        # carbon price 100/t on gas at 0.2 t/MWh (+20/MWh): no pipe costs 11 200 -> build, -10 000
        ({"carbon_price": 100}, -10000.0, 0.0),
        # investment subsidy 30%: pipe costs 7000 < 8000 -> build, -7000; state pays 3000
        ({"investment_subsidy": 0.3}, -7000.0, 3000.0),
        # disposal tax 15/MWh of heat dumped: baseline dumps 100/yr (-8000 - 3000 = -11 000);
        # with the pipe 20/yr is dumped: -10 000 - 2 x 20 x 15 = -10 600 -> build; tax 600
        ({"disposal_tax": {"heat": 15}}, -10600.0, -600.0),
    ],
)
def test_each_policy_instrument_moves_the_answer(policies, expected_npv, expected_public_cost):
    purchases = [{**HEAT_LINK["purchases"][0], "emissions_per_unit": 0.2}]
    raw = {**HEAT_LINK, "purchases": purchases, **EXPENSIVE}
    if policies:
        raw = {**raw, "policies": policies}
    s = build(raw)
    plan = optimise(s)
    assert npv(plan) == pytest.approx(expected_npv)
    assert (not plan.builds.empty) is bool(policies)
    accounts = evaluate(s, plan)
    assert accounts.kpis["public_cost"] == pytest.approx(expected_public_cost)
    assert_consistent(s, plan)


CIRCULAR = {
    "settings": {"name": "circular", "years": 1, "periods_per_year": 1, "discount_rate": 0.0},
    "products": [{"id": "scrap", "unit": "t", "kind": "material", "disposal_cost": 5, "transport_cost": 1}],
    "actors": [{"id": "a", "lat": 63.3, "lon": 9.8}, {"id": "b", "lat": 63.3, "lon": 9.8}],
    "processes": [{"id": "make", "outputs": {"scrap": 10}}, {"id": "use", "inputs": {"scrap": 10}}],
    "actor_processes": [
        {"actor": "a", "process": "make", "fixed_activity": 1},
        {"actor": "a", "process": "use", "fixed_activity": 1},
        {"actor": "b", "process": "make", "fixed_activity": 1},
        {"actor": "b", "process": "use", "fixed_activity": 1},
    ],
    "policies": {"exchange_subsidy": 100},
}


def test_subsidy_does_not_pay_for_goods_circulating():
    """a and b each make and use 10 t of scrap, 0 km apart. A subsidy of 100/t
    would pay 2000 for swapping (a -> b 10 t, b -> a 10 t) if allowed. The
    safeguard forbids it: no flow, NPV 0."""
    s = build(CIRCULAR)
    plan = optimise(s)
    assert plan.flows.empty
    assert npv(plan) == pytest.approx(0)


def test_subsidy_does_not_pay_for_relaying_purchases():
    """a can buy scrap at 1/t and b needs 10 t; b can buy too at 1/t. With a
    subsidy of 100/t, a relaying its purchase to b would earn 1000; only own
    output may be sent, so b buys its own: NPV -10."""
    raw = {
        **CIRCULAR,
        "processes": [{"id": "use", "inputs": {"scrap": 10}}],
        "actor_processes": [{"actor": "b", "process": "use", "fixed_activity": 1}],
        "purchases": [{"actor": "a", "product": "scrap", "price": 1}, {"actor": "b", "product": "scrap", "price": 1}],
        "sales": [{"actor": "b", "product": "scrap", "price": 0, "limit": 1}],
    }
    plan = optimise(build(raw))
    assert plan.flows.empty
    assert npv(plan) == pytest.approx(-10)


def test_subsidy_does_not_pay_for_dumping_own_output_to_take_a_neighbours():
    """a makes 10 t (disposal 5/t); b makes 10 t and uses 10 t. Taking a's
    scrap and dumping its own would earn b 1000 of subsidy for nothing;
    received goods must replace a real need, so a disposes: NPV -50."""
    raw = {**CIRCULAR, "actor_processes": CIRCULAR["actor_processes"][:1] + CIRCULAR["actor_processes"][2:]}
    plan = optimise(build(raw))
    assert plan.flows.empty
    assert npv(plan) == pytest.approx(-50)


def test_subsidy_still_pays_a_real_exchange():
    """a makes 10 t (disposal 5/t), b needs 10 t (buys at 3/t otherwise), same
    place. Exchange: no disposal, no purchase, +10 x 1 subsidy; NPV +10."""
    raw = {
        **CIRCULAR,
        "actor_processes": [CIRCULAR["actor_processes"][0], CIRCULAR["actor_processes"][3]],
        "purchases": [{"actor": "b", "product": "scrap", "price": 3}],
        "policies": {"exchange_subsidy": 1},
    }
    s = build(raw)
    plan = optimise(s)
    assert plan.flows.value.sum() == pytest.approx(10)
    assert npv(plan) == pytest.approx(10)
    assert_consistent(s, plan)


def test_objectives_other_than_npv():
    """Emissions: gas at 0.2 t/MWh. Minimising emissions builds even the pipe at
    10 000 (emissions 0 instead of 2 x 80 x 0.2 = 32 t); value added and jobs
    follow the greenhouse's growing (80/yr x 10 and x 0.01)."""
    purchases = [{**HEAT_LINK["purchases"][0], "emissions_per_unit": 0.2}]
    aps = [dict(r) for r in HEAT_LINK["actor_processes"]]
    aps[3] = {**aps[3], "value_added_per_unit": 10, "jobs_per_unit": 0.01}
    s = build({**HEAT_LINK, "purchases": purchases, "actor_processes": aps, **EXPENSIVE})
    npv_plan = optimise(s)
    assert evaluate(s, npv_plan).kpis["emissions"] == pytest.approx(32)
    green = optimise(s, "emissions")
    assert green.meta["objective_value"] == pytest.approx(0)
    assert not green.builds.empty
    acc = evaluate(s, green)
    assert acc.kpis["emissions"] == pytest.approx(0)
    assert acc.kpis["value_added"] == pytest.approx(1600)
    assert acc.kpis["jobs"] == pytest.approx(0.8)
    assert acc.kpis["value_added_region_south"] == pytest.approx(1600)
    weighted = optimise(s, "weighted", weights={"cluster_npv": 1, "emissions": -100})
    # 32 t x 100 = 3200 penalty > 2000 extra cost of the pipe -> build
    assert not weighted.builds.empty
    assert weighted.meta["objective_value"] == pytest.approx(-10000)


def test_infeasible_names_the_culprit():
    """Slag from a fixed activity with no use, no sale and no disposal cost."""
    raw = {
        "settings": {"name": "slag", "years": 2},
        "products": [{"id": "slag", "unit": "t", "kind": "material"}, {"id": "metal", "unit": "t", "kind": "material"}],
        "actors": [{"id": "mill"}],
        "processes": [{"id": "smelt", "outputs": {"metal": 1, "slag": 0.2}}],
        "actor_processes": [{"actor": "mill", "process": "smelt", "fixed_activity": 100}],
        "sales": [{"actor": "mill", "product": "metal", "price": 10}],
    }
    with pytest.raises(InfeasibleError) as err:
        optimise(build(raw))
    text = str(err.value)
    assert "product `slag` at actor `mill` is produced by a fixed activity (`smelt`) but can be neither used, sold nor disposed" in text
    assert "20 per year" in text


def test_infeasible_shortage_is_named():
    """A fixed process needs 50 t/yr of ore but only 30 t/yr may be bought."""
    raw = {
        "settings": {"name": "ore", "years": 1},
        "products": [{"id": "ore", "unit": "t", "kind": "material"}],
        "actors": [{"id": "mill"}],
        "processes": [{"id": "crush", "inputs": {"ore": 1}}],
        "actor_processes": [{"actor": "mill", "process": "crush", "fixed_activity": 50}],
        "purchases": [{"actor": "mill", "product": "ore", "price": 1, "limit": 30}],
    }
    with pytest.raises(InfeasibleError) as err:
        optimise(build(raw))
    assert "product `ore` at actor `mill` is needed by a fixed activity (`crush`) but more than can be bought (limit 30 t/yr)" in str(err.value)
    assert "20 per year" in str(err.value)


def test_unbounded_names_the_free_lunch():
    """A trader buys at 5 and sells at 10 with no limit on either."""
    raw = {
        "settings": {"name": "lunch", "years": 1},
        "products": [{"id": "ore", "unit": "t", "kind": "material"}],
        "actors": [{"id": "trader"}],
        "processes": [{"id": "hold", "inputs": {"ore": 1}, "outputs": {"ore": 1}}],
        "actor_processes": [{"actor": "trader", "process": "hold", "capacity": 1}],
        "purchases": [{"actor": "trader", "product": "ore", "price": 5}],
        "sales": [{"actor": "trader", "product": "ore", "price": 10}],
    }
    with pytest.raises(UnboundedError) as err:
        optimise(build(raw))
    text = str(err.value)
    assert "purchase of `ore` by `trader`" in text and "sale of `ore` by `trader`" in text


def test_unknown_objective_is_a_clear_error():
    with pytest.raises(ModelError, match="unknown objective 'profit'"):
        optimise(build(HEAT_LINK), "profit")
    with pytest.raises(ModelError, match="needs weights"):
        optimise(build(HEAT_LINK), "weighted")


def test_save_lp_writes_the_model(tmp_path):
    path = tmp_path / "model.lp"
    optimise(build(HEAT_LINK), save_lp=str(path))
    text = path.read_text()
    assert "balance" in text and "link" in text


def test_time_limit_returns_the_best_plan_flagged_with_its_gap():
    """A market-split MIP cannot be closed in 1 s: the best plan found comes
    back with status time_limit and a positive gap, and is a valid plan."""
    s = build(market_split())
    plan = optimise(s, time_limit=1.0)
    assert plan.meta["status"] == "time_limit"
    assert plan.meta["gap"] > 1e-3
    assert_consistent(s, plan)


def test_accounts_against_the_baseline_count_avoided_virgin_purchases():
    """The pipe replaces 2 x 80 MWh of gas: 160 MWh of virgin purchases avoided,
    and 2 x 80 MWh less heat dumped."""
    s = build(HEAT_LINK)
    acc = evaluate(s, optimise(s), baseline=optimise(s, baseline=True))
    assert acc.kpis["virgin_avoided_MWh"] == pytest.approx(160)
    assert acc.kpis["disposal_avoided_MWh"] >= 160 - 1e-6


def test_plan_violations_accepts_the_optimum_and_catches_tampering():
    """The optimum is feasible for its own model; a plan with 10 MWh more heat
    sent than the greenhouse can take, or a flow over a pipe never built,
    breaks a balance or the link constraint."""
    from symbiosim.plan import make_table
    from symbiosim.planner.verify import plan_violations

    s = build(HEAT_LINK)
    plan = optimise(s)
    assert plan_violations(s, plan) == []
    flows = plan.flows.copy()
    flows.loc[0, "value"] += 10
    broken = plan_violations(s, type(plan)(**{**plan.tables(), "flows": flows}, meta=plan.meta))
    assert any("balance" in v.constraint for v in broken)
    no_pipe = type(plan)(**{**plan.tables(), "builds": make_table("builds", [])}, meta=plan.meta)
    assert any("link_capacity" in v.constraint for v in plan_violations(s, no_pipe))
