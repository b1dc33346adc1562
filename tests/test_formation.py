"""Decentralised formation under the default rules, with hand-derived answers (issue 11, item 8).

The measured case: two firms, one heat pipe. A smelter's waste heat (1500 MWh/yr,
no disposal cost) can replace a greenhouse's gas boiler (1200 MWh/yr of warmth,
gas at 45/MWh): a gain G = 54,000/yr for a pipe of I = 200,000 (simple payback
3.7 years) on a 10-year horizon, no discounting in the scenario.

Default rules (``symbiosim.simulator.behaviour``): hurdle rate 10 %, payback limit
4 years, contract 5 years, equal bargaining power, trust 0.5, transaction cost per
side = 2.5 % of the exchange's annual value, no fixed part. Firms discount year y
by 1.1^-y from year 0, so n years are worth A_n = sum_{y<n} 1.1^-y discounted
years: A_4 = 3.48685, A_5 = 4.16987, A_7 = 5.35526, A_8 = 5.86842.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from symbiosim.accounts import evaluate
from symbiosim.planner import optimise
from symbiosim.planner.verify import plan_violations
from symbiosim.simulator import simulate
from tests.tiny import HEAT_LINK, build

HEAT_PIPE: dict[str, Any] = copy.deepcopy(HEAT_LINK)
HEAT_PIPE["settings"] = {**HEAT_LINK["settings"], "name": "heat_pipe", "years": 10}
HEAT_PIPE["processes"][0] = {"id": "smelt", "outputs": {"heat": 1500}}
HEAT_PIPE["actor_processes"][3] = {"actor": "greenhouse", "process": "grow", "fixed_activity": 1200}
HEAT_PIPE["purchases"] = [{"actor": "greenhouse", "product": "gas", "price": 45}]
HEAT_PIPE["links"] = [{"from": "smelter", "to": "greenhouse", "product": "heat", "build_cost": 200_000, "capacity": 2000}]


def annuity(years: int, rate: float = 0.10) -> float:
    return sum((1 + rate) ** -y for y in range(years))


def first_deal(result: Any) -> Any:
    accepted = result.offers[result.offers.outcome == "accepted"]
    assert not accepted.empty, set(result.offers.reason)
    return accepted.iloc[0]


def heat_pipe(**changes: Any) -> Any:
    raw = copy.deepcopy(HEAT_PIPE)
    for key, value in changes.items():
        raw[key] = value
    return build(raw)


def test_heat_pipe_forms_under_the_default_rules():
    """Each side's transaction cost is 2.5 % x 54,000 x (1.5 - 0.5) = 1,350/yr, so the deal
    nets 54,000 - 2,700 = 51,300/yr. The pipe pays back at 10 % when A_n >= 200,000 / 51,300
    = 3.8986: n = 5 (A_4 = 3.487 < 3.899 <= A_5 = 4.170), so the term stays 5 years.
    Joint surplus over the term: 51,300 A_5 - 200,000 = 13,914.3, half each (6,957.2).
    The smelter gains nothing but the price and pays its 1,350 A_5; on 1,200 A_5 MWh:
    price = (6,957.2 + 1,350 A_5) / (1,200 A_5) = 22.5 - 100,000 / (1,200 A_5) = 2.5154/MWh.
    Payback: each side carries 100,000 and earns (6,957.2 + 100,000) / A_5 = 25,650/yr:
    3.90 years <= 4. The decentralised plan is feasible and not above the optimum."""
    s = heat_pipe()
    result = simulate(s, seed=1)
    deal = first_deal(result)
    a5 = annuity(5)
    assert (deal.period, deal.source, deal.target) == (0, "smelter", "greenhouse")
    assert deal.price == pytest.approx(22.5 - 100_000 / (1200 * a5), abs=1e-6)
    assert deal.price == pytest.approx(2.5154, abs=1e-4)
    assert deal.volume == pytest.approx(1200 * 5)
    assert plan_violations(s, result.plan) == []
    optimum = optimise(s).meta["objective_value"]
    assert evaluate(s, result.plan).kpis["cluster_npv"] <= optimum + 1e-6
    assert result.plan.builds[result.plan.builds.kind == "link"].year.tolist() == [0]


def test_heat_pipe_forms_without_discounting():
    """Hurdle rate 0 (every year counts 1): the pipe pays back in 200,000 / 51,300 = 3.9 -> 4 years,
    less than the 5-year contract, which stays. Joint surplus 51,300 x 5 - 200,000 = 56,500,
    half each; price = (28,250 + 1,350 x 5) / (1,200 x 5) = 22.5 - 100,000 / 6,000 = 5.8333/MWh.
    Payback 100,000 / ((28,250 + 100,000) / 5) = 3.90 years <= 4."""
    result = simulate(heat_pipe(behaviour=[{"actor": "*", "hurdle_rate": 0.0}]), seed=1)
    deal = first_deal(result)
    assert deal.price == pytest.approx(22.5 - 100_000 / 6000, abs=1e-6)
    assert deal.volume == pytest.approx(1200 * 5)


def test_a_pipe_that_needs_a_longer_term_gets_it():
    """Pipe 300,000, payback limit 6 years. At 10 % it pays back when A_n >= 300,000 / 51,300
    = 5.848: n = 8 (A_7 = 5.355, A_8 = 5.868), so the term is 8 years, not 5 (asset
    specificity). Joint surplus 51,300 A_8 - 300,000 = 1,050.0; price = 22.5 - 150,000 /
    (1,200 A_8) = 1.2999/MWh. Payback 150,000 / 25,650 = 5.85 years <= 6."""
    links = [{**HEAT_PIPE["links"][0], "build_cost": 300_000}]
    result = simulate(heat_pipe(links=links, behaviour=[{"actor": "*", "max_payback_years": 6}]), seed=1)
    deal = first_deal(result)
    assert deal.price == pytest.approx(22.5 - 150_000 / (1200 * annuity(8)), abs=1e-6)
    assert deal.volume == pytest.approx(1200 * 8)


def test_a_pipe_that_does_not_pay_back_in_time_does_not_form():
    """The same 300,000 pipe under the default 4-year limit: each side carries 150,000 and earns
    25,650/yr from the deal, a payback of 5.85 years > 4: rejected by both firms' own test,
    whatever the term."""
    links = [{**HEAT_PIPE["links"][0], "build_cost": 300_000}]
    result = simulate(heat_pipe(links=links), seed=1)
    assert (result.offers.outcome == "accepted").sum() == 0
    assert any(r.startswith("payback longer than") for r in result.offers.reason)
    assert result.plan.builds[result.plan.builds.kind == "link"].empty


def test_an_explicit_transaction_cost_keeps_its_meaning():
    """``transaction_cost: 20000`` alone is the whole cost, as before contract v1.4: 40,000/yr for
    both sides leaves 14,000/yr. The pipe never pays back at 10 % within the horizon
    (14,000 A_10 = 94,626 < 200,000), so the term is the whole horizon, and the joint surplus
    14,000 A_10 - 200,000 < 0 although the gross 54,000 A_10 - 200,000 > 0: rejected, as
    measured in issue 11."""
    result = simulate(heat_pipe(behaviour=[{"actor": "*", "transaction_cost": 20_000}]), seed=1)
    assert (result.offers.outcome == "accepted").sum() == 0
    assert "transaction costs exceed the joint gain" in set(result.offers.reason)


# ---- one case per deal type (issue 11, item 8): the same economics as the heat pipe,
# with the 200,000 investment made by a different party. The deal's joint gain is the
# same 51,300/yr after transaction costs, so the term is 5 years and the joint surplus
# 51,300 A_5 - 200,000 is split equally; what differs is who pays what.
def without_pipe(raw: dict[str, Any]) -> dict[str, Any]:
    """The two firms share a site: heat moves without a link to build (no transport cost)."""
    raw["products"] = [{**p, "needs_link": False} if p["id"] == "heat" else p for p in raw["products"]]
    raw["links"] = []
    return raw


def supplier_invests(build_cost: float) -> Any:
    """No pipe to build; the smelter makes no heat today, but could build a heat-recovery unit
    (1,500 MWh/yr, no running cost): it must invest to supply."""
    raw = copy.deepcopy(HEAT_PIPE)
    raw["processes"] += [{"id": "recover", "outputs": {"heat": 1}}]
    raw["actor_processes"][0] = {"actor": "smelter", "process": "recover", "exists": False, "capacity": 1500, "build_cost": build_cost}
    return build(without_pipe(raw))


def receiver_invests(build_cost: float) -> Any:
    """No pipe to build; the smelter's heat goes to waste; the greenhouse must build its
    heat exchanger (``recv``) to use it (the receiver's burner for an off-gas)."""
    raw = copy.deepcopy(HEAT_PIPE)
    raw["actor_processes"][2] = {"actor": "greenhouse", "process": "recv", "exists": False, "build_cost": build_cost}
    return build(without_pipe(raw))


def test_a_supplier_investment_forms_at_a_hand_derived_price():
    """The smelter offers what it could make with its candidate process (search from both
    sides). It carries the 200,000 and its transaction cost 1,350 A_5; it must end with half
    the joint surplus, 25,650 A_5 - 100,000: price x 1,200 A_5 = 27,000 A_5 + 100,000, so
    price = 22.5 + 100,000 / (1,200 A_5) = 42.4846/MWh (the greenhouse saves 45). The smelter
    builds ``recover`` in year 0; payback 100,000 / 25,650 = 3.90 years for each side."""
    s = supplier_invests(200_000)
    result = simulate(s, seed=1)
    deal = first_deal(result)
    assert (deal.source, deal.target) == ("smelter", "greenhouse")
    assert deal.price == pytest.approx(22.5 + 100_000 / (1200 * annuity(5)), abs=1e-6)
    assert deal.volume == pytest.approx(1200 * 5)
    builds = result.plan.builds
    assert builds[builds.kind == "process"][["actor", "process", "year"]].values.tolist() == [["smelter", "recover", 0]]
    assert plan_violations(s, result.plan) == []
    assert evaluate(s, result.plan).kpis["cluster_npv"] <= optimise(s).meta["objective_value"] + 1e-6


def test_a_supplier_investment_that_does_not_pay_back_does_not_form():
    """A 300,000 unit: each side would carry 150,000 against 25,650/yr, 5.85 years > 4."""
    result = simulate(supplier_invests(300_000), seed=1)
    assert (result.offers.outcome == "accepted").sum() == 0
    assert any(r.startswith("payback longer than") for r in result.offers.reason)
    assert result.plan.builds.empty


def test_a_receiver_investment_forms_at_a_hand_derived_price():
    """The greenhouse builds its exchanger (200,000) to take heat the smelter wastes: the same
    split as the heat pipe, price = 22.5 - 100,000 / (1,200 A_5) = 2.5154/MWh."""
    s = receiver_invests(200_000)
    result = simulate(s, seed=1)
    deal = first_deal(result)
    assert deal.price == pytest.approx(22.5 - 100_000 / (1200 * annuity(5)), abs=1e-6)
    builds = result.plan.builds
    assert builds[builds.kind == "process"][["actor", "process", "year"]].values.tolist() == [["greenhouse", "recv", 0]]
    assert plan_violations(s, result.plan) == []


def test_a_receiver_investment_that_does_not_pay_back_does_not_form():
    result = simulate(receiver_invests(300_000), seed=1)
    assert (result.offers.outcome == "accepted").sum() == 0
    assert any(r.startswith("payback longer than") for r in result.offers.reason)


def two_greenhouses(build_cost: float) -> Any:
    """The smelter could build a heat-recovery unit (1,500 MWh/yr) for ``build_cost``; two
    greenhouses on the site each need 600 MWh/yr of warmth from gas at 45 (27,000/yr each)."""
    raw = copy.deepcopy(HEAT_PIPE)
    raw["processes"] += [{"id": "recover", "outputs": {"heat": 1}}]
    raw["actors"] += [{**raw["actors"][1], "id": "greenhouse2"}]
    raw["actor_processes"] = [{"actor": "smelter", "process": "recover", "exists": False, "capacity": 1500, "build_cost": build_cost}]
    for gh in ("greenhouse", "greenhouse2"):
        raw["actor_processes"] += [
            {"actor": gh, "process": "boil"},
            {"actor": gh, "process": "recv"},
            {"actor": gh, "process": "grow", "fixed_activity": 600},
        ]
    raw["purchases"] = [{"actor": gh, "product": "gas", "price": 45} for gh in ("greenhouse", "greenhouse2")]
    return build(without_pipe(raw))


def test_a_package_forms_when_one_buyer_cannot_repay_the_supplier():
    """Alone, a greenhouse's deal nets 27,000 - 2 x 675 = 25,650/yr (transaction costs 2.5 % x
    27,000 per side): the 200,000 unit never pays back at 10 % within the horizon (A_10 = 6.759
    < 200,000 / 25,650 = 7.797), so no two-firm deal forms. Together the three firms net 51,300/yr
    as in the heat pipe: term 5 years, joint surplus 51,300 A_5 - 200,000, a third each
    (equal bargaining power). Each greenhouse saves 27,000 A_5, pays its transaction cost
    675 A_5 and keeps a third: price = 43.875 - 28.5 + 200,000 / (1,800 A_5) = 42.0215/MWh.
    Payback: each party carries 66,667 and earns (joint / 3 + 66,667) / A_5 = 17,100/yr: 3.9
    years <= 4. (At year 5 the contracts are renegotiated one by one: the unit is sunk.)"""
    s = two_greenhouses(200_000)
    result = simulate(s, seed=1)
    offers = result.offers
    accepted = offers[(offers.outcome == "accepted") & (offers.period == 0)]
    assert sorted(accepted.target) == ["greenhouse", "greenhouse2"]
    assert set(accepted.reason) == {"accepted (package)"}
    expected = 43.875 - 28.5 + 200_000 / (1800 * annuity(5))
    assert accepted.price.tolist() == pytest.approx([expected, expected], abs=1e-6)
    assert accepted.volume.tolist() == pytest.approx([600 * 5, 600 * 5])
    builds = result.plan.builds
    assert builds[["kind", "actor", "process", "year"]].values.tolist() == [["process", "smelter", "recover", 0]]
    assert plan_violations(s, result.plan) == []
    assert evaluate(s, result.plan).kpis["cluster_npv"] <= optimise(s).meta["objective_value"] + 1e-6


def test_a_package_that_does_not_pay_back_does_not_form():
    """A 300,000 unit: the term becomes 8 years (A_7 = 5.355 < 300,000 / 51,300 = 5.848 <= A_8 =
    5.868), the joint surplus 51,300 A_8 - 300,000 = 1,050; each party carries 100,000 and earns
    (350 + 100,000) / A_8 = 17,100/yr: 5.85 years > 4."""
    result = simulate(two_greenhouses(300_000), seed=1)
    assert (result.offers.outcome == "accepted").sum() == 0
    assert "no package" in set(result.offers.outcome)


def chain() -> Any:
    """A smelter already sends a district-heating firm the 500 MWh/yr of heat it needs (a
    standing exchange); 1,000 MWh/yr more go to waste (no disposal cost). The DH firm could
    turn more heat into hot water (exchanger capacity 2,000 MWh/yr, no running cost); a
    greenhouse heats 600 MWh/yr with gas at 45, or with hot water it can take as it is."""
    raw: dict[str, Any] = {
        "settings": {"name": "chain", "years": 10, "periods_per_year": 1, "discount_rate": 0.0},
        "products": [
            {"id": "heat", "unit": "MWh", "kind": "energy", "disposal_cost": 0},
            {"id": "hot", "unit": "MWh", "kind": "energy"},
            {"id": "gas", "unit": "MWh", "kind": "energy"},
            {"id": "warmth", "unit": "MWh", "kind": "energy"},
        ],
        "actors": [{"id": a, "lat": 63.3, "lon": 9.86} for a in ("smelter", "dh", "greenhouse")],
        "processes": [
            {"id": "smelt", "outputs": {"heat": 1500}},
            {"id": "exchange", "inputs": {"heat": 1}, "outputs": {"hot": 1}},
            {"id": "deliver", "inputs": {"hot": 1}},
            {"id": "boil", "inputs": {"gas": 1}, "outputs": {"warmth": 1}},
            {"id": "radiate", "inputs": {"hot": 1}, "outputs": {"warmth": 1}},
            {"id": "grow", "inputs": {"warmth": 1}},
        ],
        "actor_processes": [
            {"actor": "smelter", "process": "smelt", "fixed_activity": 1},
            {"actor": "dh", "process": "exchange", "capacity": 2000},
            {"actor": "dh", "process": "deliver", "fixed_activity": 500},
            {"actor": "greenhouse", "process": "boil"},
            {"actor": "greenhouse", "process": "radiate"},
            {"actor": "greenhouse", "process": "grow", "fixed_activity": 600},
        ],
        "purchases": [{"actor": "greenhouse", "product": "gas", "price": 45}],
        "links": [{"from": "smelter", "to": "dh", "product": "heat", "exists": True, "price": 0}],
    }
    return build(raw)


def test_a_chain_opens_once_an_earlier_deal_exists():
    """The greenhouse's hot water needs more of the smelter's heat, which reaches the DH firm
    under its standing contract: the deal is a chain of three. Hot water saves the greenhouse
    27,000/yr; its only exchange costs 2.5 % x 27,000 = 675/yr per side, so the chain nets
    25,650/yr over the 5-year term (no dedicated asset), a third to each firm (equal power).
    The smelter gives up nothing (its heat went to waste): its price is its third over its
    volume, 25,650 / (3 x 600) = 14.25/MWh. The DH firm pays that, bears its own 675/yr and
    keeps a third: it charges 14.25 + 1.125 + 14.25 = 29.625/MWh. The greenhouse saves 27,000,
    pays 17,775 and 675 a year: 8,550 = 25,650 / 3."""
    s = chain()
    result = simulate(s, seed=1)
    offers = result.offers
    first = offers[(offers.outcome == "accepted") & (offers.period == 0)].set_index(["source", "target"])
    assert set(first.index) == {("dh", "greenhouse"), ("smelter", "dh")}
    assert first.loc[("smelter", "dh")].reason == "accepted (chain)"
    assert first.loc[("smelter", "dh")].price == pytest.approx(14.25, abs=1e-6)
    assert first.loc[("dh", "greenhouse")].price == pytest.approx(29.625, abs=1e-6)
    assert first.volume.tolist() == pytest.approx([600 * 5, 600 * 5])
    assert plan_violations(s, result.plan) == []
    assert evaluate(s, result.plan).kpis["cluster_npv"] <= optimise(s).meta["objective_value"] + 1e-6


def test_no_chain_without_the_earlier_deal():
    """The same firms without the earlier deal (no standing exchange, no delivery of its own):
    the DH firm has no heat to turn into hot water, so it has nothing to offer the greenhouse,
    and no use for the smelter's heat on its own: nothing forms."""
    raw = chain().model_dump(by_alias=True, exclude_none=True, mode="json")
    raw["links"] = []
    raw["actor_processes"] = [r for r in raw["actor_processes"] if r["process"] != "deliver"]
    result = simulate(build(raw), seed=1)
    assert not (result.offers.outcome == "accepted").any()
    assert "receiver has no use for it" in set(result.offers.reason)


# ---- formation over time (item 5): attention and learning from neighbours -----------------
def scrap_market(**mill_rules: Any) -> Any:
    """A mill dumps 300 t/yr of scrap (no cost); three foundries, each 10 km from the next,
    buy 100 t/yr of virgin scrap at 10/t. Only the mill looks far (50 km); the foundries look
    within 1 km, so they never ask the mill themselves. No transaction costs or discounting."""
    raw: dict[str, Any] = {
        "settings": {"name": "scrap_market", "years": 4, "periods_per_year": 1, "discount_rate": 0.0},
        "products": [{"id": "scrap", "unit": "t", "kind": "material", "disposal_cost": 0, "transport_cost": 0}],
        "actors": [{"id": "mill", "lat": 63.30, "lon": 9.80}]
        + [{"id": f"foundry{i}", "lat": 63.30 + 0.09 * (i + 1), "lon": 9.80} for i in range(3)],
        "processes": [{"id": "roll", "outputs": {"scrap": 300}}, {"id": "cast", "inputs": {"scrap": 100}}],
        "actor_processes": [{"actor": "mill", "process": "roll", "fixed_activity": 1}]
        + [{"actor": f"foundry{i}", "process": "cast", "fixed_activity": 1} for i in range(3)],
        "purchases": [{"actor": f"foundry{i}", "product": "scrap", "price": 10} for i in range(3)],
        "behaviour": [
            {"actor": "*", "hurdle_rate": 0.0, "transaction_cost": 0, "search_radius_km": 1, "discovery_rate": 0, "imitation": 0},
            {"actor": "mill", "search_radius_km": 50, **mill_rules},
        ],
    }
    return build(raw)


def deal_years(result: Any) -> list[int]:
    offers = result.offers
    return sorted(offers[offers.outcome == "accepted"].groupby("target").period.min().tolist())


def test_limited_attention_spreads_formation_over_years():
    """The mill starts one negotiation a year (``attention: 1``): nearest foundry first, one
    deal a year, in years 0, 1 and 2; with attention 3 all three deals come in year 0. Each
    deal splits the 10/t saving: price 5/t."""
    slow = simulate(scrap_market(attention=1), seed=1)
    assert deal_years(slow) == [0, 1, 2]
    assert slow.offers[slow.offers.outcome == "accepted"].price.tolist() == pytest.approx([5.0] * 3, abs=1e-5)
    assert deal_years(simulate(scrap_market(attention=3), seed=1)) == [0, 0, 0]


def test_firms_learn_of_partners_from_their_neighbours_deals():
    """The mill now looks only 1 km far too, but knows foundry0 (a search radius of 11 km).
    Foundry1 sits 10 km from foundry0 and knows it; it never meets the mill on its own. When
    the mill and foundry0 sign, foundry1 learns of the mill (``imitation: 1``: referral for
    sure) and asks it for scrap in the next year. With ``imitation: 0`` it never does."""
    def run(imitation: float) -> Any:
        raw = scrap_market().model_dump(by_alias=True, exclude_none=True, mode="json")
        raw["behaviour"] = [
            {"actor": "*", "hurdle_rate": 0.0, "transaction_cost": 0, "search_radius_km": 11, "discovery_rate": 0, "imitation": imitation},
            {"actor": "mill", "search_radius_km": 11},
        ]
        raw["actors"] = raw["actors"][:3]  # the mill, foundry0 (10 km), foundry1 (20 km)
        raw["actor_processes"] = raw["actor_processes"][:3]
        raw["purchases"] = raw["purchases"][:2]
        return simulate(build(raw), seed=1)

    assert deal_years(run(1.0)) == [0, 1]
    assert deal_years(run(0.0)) == [0]


def feed_entry(entry_cost: float) -> Any:
    """Two fish plants dump 10 t/yr of offcuts each at 100/t; a candidate feed mill (entry cost
    ``entry_cost``, no other cost) turns 1 t of offcuts into 1 t of feed sold at 50/t. All on one
    site; 5 years; the scenario's default behaviour rules."""
    raw: dict[str, Any] = {
        "settings": {"name": "feed_entry", "years": 5, "periods_per_year": 1, "discount_rate": 0.0},
        "products": [
            {"id": "offcuts", "unit": "t", "kind": "material", "disposal_cost": 100, "transport_cost": 0},
            {"id": "feed", "unit": "t", "kind": "material"},
        ],
        "actors": [{"id": "plant_a", "lat": 63.3, "lon": 9.8}, {"id": "plant_b", "lat": 63.3, "lon": 9.8},
                   {"id": "feedmill", "exists": False, "lat": 63.3, "lon": 9.8, "entry_cost": entry_cost}],
        "processes": [{"id": "fillet", "outputs": {"offcuts": 10}}, {"id": "mill", "inputs": {"offcuts": 1}, "outputs": {"feed": 1}}],
        "actor_processes": [
            {"actor": "plant_a", "process": "fillet", "fixed_activity": 1},
            {"actor": "plant_b", "process": "fillet", "fixed_activity": 1},
            {"actor": "feedmill", "process": "mill", "exists": False, "capacity": 100},
        ],
        "sales": [{"actor": "feedmill", "product": "feed", "price": 50}],
    }
    return build(raw)


def test_an_entrant_with_two_suppliers_forms_at_a_hand_derived_price():
    """The mill's term is the horizon (5 years: an entrant signs for its plant's life). It
    earns 50 x 20 = 1,000/yr from feed; each plant saves 100 x 10 = 1,000/yr of disposal. Each
    exchange's annual value is 1,000 / 2 + 1,000 = 1,500, so each side pays 2.5 % = 37.5/yr:
    150/yr in all. Joint surplus 2,850 A_5 - 5,000 = 6,884.1, a third each (three parties,
    equal power). A plant keeps a third after its transaction cost: price x 10 A_5 =
    6,884.1 / 3 - 962.5 A_5, i.e. price = -1.25 - 5,000 / (30 A_5) = -41.22/t, a gate fee the
    plant pays. Payback: each carries 5,000 / 3 and earns (joint / 3 + 5,000 / 3) / A_5 = 950/yr:
    1.75 years <= 4."""
    s = feed_entry(5000)
    result = simulate(s, seed=1)
    offers = result.offers
    accepted = offers[offers.outcome == "accepted"].sort_values("source")
    assert accepted.source.tolist() == ["plant_a", "plant_b"] and set(accepted.period) == {0}
    expected = -1.25 - 5000 / (30 * annuity(5))
    assert accepted.price.tolist() == pytest.approx([expected, expected], abs=1e-6)
    assert accepted.volume.tolist() == pytest.approx([50.0, 50.0])
    assert result.plan.builds[result.plan.builds.kind == "actor"].year.tolist() == [0]
    assert plan_violations(s, result.plan) == []
    assert evaluate(s, result.plan).kpis["cluster_npv"] <= optimise(s).meta["objective_value"] + 1e-6


def test_an_entrant_that_its_suppliers_cannot_pay_for_does_not_enter():
    """Entry cost 13,000: the joint surplus 2,850 A_5 - 13,000 = -1,115.9 < 0, and the mill's own
    gain 1,000 A_5 - 13,000 < 0: no entry, for that reason."""
    result = simulate(feed_entry(13_000), seed=1)
    assert (result.offers.outcome == "accepted").sum() == 0
    assert set(result.offers.reason) == {"entry and build costs exceed what the contracts earn"}
