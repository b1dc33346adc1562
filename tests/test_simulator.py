"""The decentralised outcome on hand-checkable cases and invariants."""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from symbiosim.accounts import cashflows, evaluate
from symbiosim.planner import optimise
from symbiosim.planner.verify import plan_violations
from symbiosim.simulator import simulate
from tests.test_properties import clusters
from tests.tiny import HEAT_LINK, build

# Rules that make hand derivations easy: no friction unless a test adds one.
FRICTIONLESS = {"actor": "*", "hurdle_rate": 0.0, "transaction_cost": 0, "max_payback_years": 10, "search_radius_km": 50, "discovery_rate": 0}


def with_rules(raw: dict[str, Any], **rules: Any) -> dict[str, Any]:
    return {**copy.deepcopy(raw), "behaviour": [{**FRICTIONLESS, **rules}]}


def new_contracts(result) -> pd.DataFrame:
    return result.contracts[~result.contracts.existing]


def reasons(result) -> set[str]:
    return set(result.offers.reason)


def test_two_firm_deal_both_accept():
    """Heat pipe (1000) replaces 80 MWh/yr of gas at 50 for 2 years (r = 0):
    joint gain 8000 - 1000 = 7000, split equally: the smelter is paid 3500 for
    160 MWh (21.875/MWh); the greenhouse pays 1000 + 3500 and saves 8000.
    The firms find the optimum (NPV -1000), each better off than alone."""
    s = build(with_rules(HEAT_LINK))
    result = simulate(s, seed=1)
    c = new_contracts(result)
    assert list(zip(c["from"], c.to, c["product"], strict=True)) == [("smelter", "greenhouse", "heat")]
    assert c.price.iloc[0] == pytest.approx(3500 / 160)
    acc = evaluate(s, result.plan)
    assert acc.kpis["cluster_npv"] == pytest.approx(-1000)
    profit = acc.actors.set_index("actor").profit
    assert profit["smelter"] == pytest.approx(3500)
    assert profit["greenhouse"] == pytest.approx(-4500)
    assert plan_violations(s, result.plan) == []


SCRAP = {
    "settings": {"name": "scrap", "years": 4, "periods_per_year": 4, "discount_rate": 0.0},
    "products": [{"id": "scrap", "unit": "t", "kind": "material", "disposal_cost": 0}],
    "actors": [{"id": "mill", "lat": 63.30, "lon": 9.80}, {"id": "foundry", "lat": 63.30, "lon": 9.80}],
    "processes": [{"id": "roll", "outputs": {"scrap": 100}}, {"id": "cast", "inputs": {"scrap": 100}}],
    "actor_processes": [
        {"actor": "mill", "process": "roll", "fixed_activity": 1},
        {"actor": "foundry", "process": "cast", "fixed_activity": 1},
    ],
    "purchases": [{"actor": "foundry", "product": "scrap", "price": 10}],
}


def test_buyer_rejects_when_the_supplier_wants_more_than_its_virgin_input():
    """The mill can sell its scrap at 12/t; the foundry buys virgin scrap at 10/t.
    Any price the mill accepts (>= 12) is above the foundry's own input: no deal."""
    raw = with_rules(SCRAP)
    raw["sales"] = [{"actor": "mill", "product": "scrap", "price": 12}]
    result = simulate(build(raw), seed=1)
    assert new_contracts(result).empty
    assert "receiver rejects: the supplier's reservation price is above its own inputs" in reasons(result)


def test_pipe_rejected_when_its_payback_exceeds_the_limit():
    """Pipe 7000; gas saved 4000/yr (r = 0, hurdle 0). Over a 2-year contract the
    joint gain is 8000 - 7000 = 1000 > 0: each side nets 500 and carries half
    the pipe (3500), which pays back in 3500 / ((500 + 3500) / 2) = 1.75 years:
    rejected with a 1-year limit, accepted with a 2-year limit."""
    raw = with_rules(HEAT_LINK, contract_years=2)
    raw["links"] = [{**HEAT_LINK["links"][0], "build_cost": 7000}]
    strict = simulate(build({**raw, "behaviour": [{**raw["behaviour"][0], "max_payback_years": 1}]}), seed=1)
    assert new_contracts(strict).empty
    assert "payback longer than greenhouse's limit" in reasons(strict)
    lenient = simulate(build({**raw, "behaviour": [{**raw["behaviour"][0], "max_payback_years": 2}]}), seed=1)
    assert len(new_contracts(lenient)) == 1


FEED = {
    "settings": {"name": "feed", "years": 6, "periods_per_year": 1, "discount_rate": 0.0},
    "products": [
        {"id": "offcuts", "unit": "t", "kind": "material", "disposal_cost": 100},
        {"id": "feed", "unit": "t", "kind": "material"},
    ],
    "actors": [
        {"id": "plant_a", "lat": 63.30, "lon": 9.80},
        {"id": "plant_b", "lat": 63.57, "lon": 9.80},  # 30 km north
        {"id": "feedmill", "exists": False, "lat": 63.30, "lon": 9.81, "entry_cost": 10000},
    ],
    "processes": [{"id": "fillet", "outputs": {"offcuts": 10}}, {"id": "mill", "inputs": {"offcuts": 1}, "outputs": {"feed": 1}}],
    "actor_processes": [
        {"actor": "plant_a", "process": "fillet", "fixed_activity": 1},
        {"actor": "plant_b", "process": "fillet", "fixed_activity": 1},
        {"actor": "feedmill", "process": "mill", "exists": False, "capacity": 100},
    ],
    "sales": [{"actor": "feedmill", "product": "feed", "price": 50, "limit": 100}],
}


@pytest.mark.parametrize(("radius", "facilitator", "enters"), [(10, False, False), (50, False, True), (10, True, True)])
def test_entrepreneur_enters_only_when_two_suppliers_are_known(radius, facilitator, enters):
    """Each plant has 10 t/yr of offcuts (disposal 100/t); feed sells at 50/t.
    Over a 5-year contract one plant brings 10 x (100 + 50) x 5 = 7500 of joint
    gain, less than the entry cost 10 000; two bring 15 000. Plant B is 30 km
    away: known only with a 50 km radius or a facilitator."""
    raw = with_rules(FEED, search_radius_km=radius)
    result = simulate(build(raw), seed=1, facilitator=facilitator)
    entered = not result.plan.builds[result.plan.builds.kind == "actor"].empty
    assert entered is enters
    if enters:
        assert set(new_contracts(result)["from"]) == {"plant_a", "plant_b"}
    else:
        assert "entry and build costs exceed what the contracts earn" in reasons(result)


def test_facilitator_unlocks_a_deal_beyond_the_search_radius():
    """The foundry (scrap at 10/t) is 30 km from the mill, whose scrap costs
    nothing to dump; with a 10 km radius they never meet, with a platform they do."""
    raw = with_rules(SCRAP, search_radius_km=10)
    raw["actors"] = [SCRAP["actors"][0], {**SCRAP["actors"][1], "lat": 63.57}]
    alone = simulate(build(raw), seed=1)
    assert new_contracts(alone).empty
    platform = simulate(build(raw), seed=1, facilitator=True)
    assert len(new_contracts(platform)) == 1


def test_contract_ended_by_a_price_shock():
    """Scrap costs the mill nothing to dump; the foundry buys virgin scrap at
    10/t, so they split 10/t: price 5. When virgin scrap falls to 1/t in period
    6, paying 5 no longer pays for the foundry: it ends the contract (the
    mill's trust in it falls from 0.5 to 0.2), and they strike a new one at
    half the new saving, 0.5/t (a fixed price: the foundry's ``price_rule``)."""
    s = build(with_rules(SCRAP, price_rule="fixed"))
    result = simulate(s, seed=1, price_shocks=[("purchases[product=scrap].price", 6, 0.1)])
    ended = result.offers[result.offers.outcome == "ended"]
    assert list(ended.period) == [6]
    assert set(ended.reason) == {"foundry: no longer pays at current prices"}
    prices = result.plan.flows.set_index("period").price
    assert prices.loc[0:5].tolist() == pytest.approx([5.0] * 6, rel=1e-5)
    assert prices.loc[6:].tolist() == pytest.approx([0.5] * 10, rel=1e-5)
    assert plan_violations(s, result.plan) == []


def test_an_indexed_price_follows_the_alternative_through_a_price_shock():
    """The same shock under the default rule: the price is indexed to what the deal replaces,
    the foundry's purchase of virgin scrap. It moves from 5 to 0.5 with the scrap price; the
    deal keeps paying for both sides, so nobody ends it and trust is not lost."""
    s = build(with_rules(SCRAP))
    result = simulate(s, seed=1, price_shocks=[("purchases[product=scrap].price", 6, 0.1)])
    assert "ended" not in set(result.offers.outcome)
    prices = result.plan.flows.set_index("period").price
    assert prices.loc[0:5].tolist() == pytest.approx([5.0] * 6, rel=1e-5)
    assert prices.loc[6:].tolist() == pytest.approx([0.5] * 10, rel=1e-5)
    assert result.contracts.price_rule.tolist() == ["indexed to purchase of scrap"]
    assert plan_violations(s, result.plan) == []


def test_same_seed_same_run_and_seed_in_every_output():
    raw = with_rules(FEED, search_radius_km=10, discovery_rate=2.0)
    s = build(raw)
    a, b = simulate(s, seed=7), simulate(s, seed=7)
    for name in ("flows", "activities", "builds"):
        pd.testing.assert_frame_equal(getattr(a.plan, name), getattr(b.plan, name))
    pd.testing.assert_frame_equal(a.offers, b.offers)
    assert a.plan.meta["seed"] == 7 and a.seed == 7


def test_time_series_are_tidy():
    result = simulate(build(with_rules(HEAT_LINK)), seed=1)
    assert list(result.series.columns) == ["period", "links_active", "quantity_exchanged", "offers_made", "offers_accepted", "offers_rejected"]
    assert result.series.links_active.tolist() == [1, 1]
    assert set(result.firms.columns) == {"period", "actor", "cash"}
    assert {"period", "source", "target", "product", "outcome", "reason", "price", "volume"} <= set(result.offers.columns)


SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(clusters())
def test_decentralised_plan_is_feasible_and_never_beats_the_optimum(raw):
    """On random clusters: the simulator's plan satisfies every constraint of
    the planner's model, so its NPV cannot exceed the optimum; no firm ends
    below its stand-alone profit (deals are signed only with a gain for both,
    and these clusters have no fixed costs that outlive a contract)."""
    s = build(raw)
    base = optimise(s, baseline=True)
    result = simulate(s, seed=3, baseline=base)
    assert plan_violations(s, result.plan) == []
    best = optimise(s).meta["objective_value"]
    sim = evaluate(s, result.plan)
    assert sim.kpis["cluster_npv"] <= best + 2e-4 * max(1.0, abs(best))
    alone = evaluate(s, base).actors.set_index("actor").profit
    mine = sim.actors.set_index("actor").profit
    assert (mine >= alone - 1e-6 * (1 + alone.abs())).all(), (mine - alone).to_dict()
    # each firm's cash per period is the ledger's amount for it (storage, fixed and one-off costs included)
    cash = result.firms.set_index(["actor", "period"]).cash
    book = cashflows(s, result.plan).groupby(["actor", "period"]).amount.sum()
    assert set(book.index) <= set(cash.index)
    assert book.reindex(cash.index, fill_value=0.0).to_numpy() == pytest.approx(cash.to_numpy(), rel=1e-9, abs=1e-6)


def test_consistency_check_on_orkanger():
    """The default scenario: the decentralised plan is feasible for the planner's
    model and worth no more than the optimum."""
    from symbiosim.scenario import load_scenario
    from symbiosim.simulator.consistency import check_against_optimum

    s = load_scenario("scenarios/orkanger.yaml")
    result = simulate(s, seed=2)
    report = check_against_optimum(s, result.plan)
    assert report.feasible, report.violations[:3]
    assert report.below_optimum and report.ok
    assert report.simulated_npv <= report.optimum_npv


def test_a_dependent_contract_unwinds_when_its_supply_ends():
    """Regression (sample 10 of a 1,000-sample Orkanger batch crashed): Norsk
    Kylling ends its chicken-offcut contract with the biogas plant at current
    prices; the plant, still bound to deliver biogas to the district heating,
    can no longer operate, so it ends the delivery contract too (logged), and
    the run finishes with a plan the planner's model accepts."""
    from symbiosim.experiments.design import apply_sample
    from symbiosim.scenario import load_scenario

    s = apply_sample(load_scenario("scenarios/orkanger.yaml"), {
        "in_purchases_product_wood_chips_price": 1.168741309239274,
        "in_sales_product_biogas_price": 1.410144172740698,
        "in_sales_product_animal_feed_price": 0.9326936209754881,
        "in_sales_actor_allskog_product_wood_chips_limit": 1.0,
        "in_products_id_chicken_offcuts_disposal_cost": 1.9102288976966697,
        "in_links_to_thamshavn_greenhouse_build_cost": 1.3107988400027777,
        "in_settings_discount_rate": 0.07057995859504781,
    })
    result = simulate(s, seed=1601685488)
    assert plan_violations(s, result.plan) == []  # the cascade itself: test_settle_unwinds_a_chain


def test_settle_unwinds_a_chain():
    """A fish plant sends offcuts to a feed mill, which must deliver feed to a farm; the
    mill has no other source of offcuts or feed. When the fish plant ends its contract,
    the mill cannot honour the feed contract and ends it (logged); the farm, which can
    buy feed, needs nothing more; every firm keeps a feasible plan."""
    import numpy as np

    from symbiosim.simulator.model import SymbiosisModel
    from symbiosim.simulator.negotiation import Contract

    raw = {
        "settings": {"name": "chain", "years": 3, "periods_per_year": 1, "discount_rate": 0.0},
        "products": [
            {"id": "offcuts", "unit": "t", "kind": "material", "disposal_cost": 100},
            {"id": "feed", "unit": "t", "kind": "material"},
            {"id": "meat", "unit": "t", "kind": "material"},
        ],
        "actors": [{"id": a, "lat": 63.3, "lon": 9.85} for a in ("fishplant", "mill", "farm")],
        "processes": [
            {"id": "fillet", "outputs": {"offcuts": 10}},
            {"id": "grind", "inputs": {"offcuts": 1}, "outputs": {"feed": 1}},
            {"id": "raise", "inputs": {"feed": 1}, "outputs": {"meat": 1}},
        ],
        "actor_processes": [
            {"actor": "fishplant", "process": "fillet", "fixed_activity": 1},
            {"actor": "mill", "process": "grind", "capacity": 20},
            {"actor": "farm", "process": "raise", "fixed_activity": 5},
        ],
        "purchases": [{"actor": "farm", "product": "feed", "price": 80}],
        "sales": [{"actor": "farm", "product": "meat", "price": 200}],
    }
    s = build({**raw})
    from symbiosim.planner import optimise

    model = SymbiosisModel(s, optimise(s, baseline=True), seed=0)
    offcuts = Contract(0, "fishplant", "mill", "offcuts", 0, 3, 0.0, np.full(3, 5.0))
    feed = Contract(1, "mill", "farm", "feed", 0, 3, 10.0, np.full(3, 5.0))
    model._sign(offcuts)
    model._sign(feed)
    model._end(offcuts, 1, broken_by="fishplant")
    model._settle(("fishplant", "mill"), 1)
    assert feed.broken_at == 1
    assert all(model.firms[a].plan(1).ok for a in ("fishplant", "mill", "farm"))
    log = model.datacollector.get_table_dataframe("offers")
    assert list(log.reason) == ["mill: cannot honour it after another contract ended"]
    from symbiosim.simulator import release_from_mesa_registry

    release_from_mesa_registry(model)


def test_consistency_check_catches_an_infeasible_plan():
    from symbiosim.simulator.consistency import check_against_optimum

    s = build(with_rules(HEAT_LINK))
    plan = simulate(s, seed=1).plan
    flows = plan.flows.copy()
    flows["value"] *= 2  # ship twice what was produced
    broken = type(plan)(**{**plan.tables(), "flows": flows}, meta=plan.meta)
    assert not check_against_optimum(s, broken).feasible


def test_reporters_and_results_pickle():
    """Reporters are named module-level functions and a result crosses process
    boundaries (process pools, Dask)."""
    import pickle

    from symbiosim.simulator import model

    for reporter in (model.links_active, model.quantity_exchanged, model.offers_made, model.firm_cash):
        assert pickle.loads(pickle.dumps(reporter)) is reporter
    result = simulate(build(with_rules(HEAT_LINK)), seed=1)
    again = pickle.loads(pickle.dumps(result))
    pd.testing.assert_frame_equal(again.plan.flows, result.plan.flows)



def test_a_gate_fee_follows_the_disposal_cost_it_replaces():
    """The mill dumps 100 t/yr of scrap at 10/t; a recycler can take it (sorting costs 2/t) and
    buys nothing it would displace. The deal saves 10 - 2 = 8/t, split equally: the mill pays a
    gate fee of 6/t (price -6). When the disposal cost halves in period 6, the indexed fee halves
    to 3/t (the mill still saves 2/t, the recycler earns 1/t): nobody ends it. A fixed fee of 6
    would cost the mill more than dumping at 5: the mill ends it."""
    raw = with_rules(SCRAP)
    raw["products"] = [{"id": "scrap", "unit": "t", "kind": "material", "disposal_cost": 10}]
    raw["actors"] = [SCRAP["actors"][0], {**SCRAP["actors"][1], "id": "recycler"}]
    raw["processes"] = [SCRAP["processes"][0], {"id": "sort", "inputs": {"scrap": 1}}]
    raw["actor_processes"] = [SCRAP["actor_processes"][0], {"actor": "recycler", "process": "sort", "capacity": 200, "variable_cost": 2}]
    raw["purchases"] = []
    shock = [("products[id=scrap].disposal_cost", 6, 0.5)]
    indexed = simulate(build(raw), seed=1, price_shocks=shock)
    assert "ended" not in set(indexed.offers.outcome)
    prices = indexed.plan.flows.set_index("period").price
    assert prices.loc[0:5].tolist() == pytest.approx([-6.0] * 6, abs=1e-5)
    assert prices.loc[6:].tolist() == pytest.approx([-3.0] * 10, abs=1e-5)
    assert indexed.contracts.price_rule.tolist() == ["indexed to disposal of scrap"]
    raw["behaviour"] = [{**raw["behaviour"][0], "price_rule": "fixed"}]
    fixed = simulate(build(raw), seed=1, price_shocks=shock)
    assert set(fixed.offers[fixed.offers.outcome == "ended"].reason) == {"mill: no longer pays at current prices"}


def test_trust_rules_are_the_scenarios_to_set():
    """The fixed-price shock again, with ``trust_loss: 0.4``: when the foundry ends the contract
    the mill's trust in it falls from 0.5 to 0.1, below the 0.2 threshold: no new deal (with the
    default 0.3 they strike one at 0.5/t, ``test_contract_ended_by_a_price_shock``)."""
    s = build(with_rules(SCRAP, price_rule="fixed", trust_loss=0.4))
    result = simulate(s, seed=1, price_shocks=[("purchases[product=scrap].price", 6, 0.1)])
    assert list(result.offers[result.offers.outcome == "ended"].period) == [6]
    assert result.plan.flows.period.max() == 5  # nothing flows after the break
