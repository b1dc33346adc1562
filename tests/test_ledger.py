"""The one ledger of money (``symbiosim.ledger``, ``accounts.cashflows``) on cases listed by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from symbiosim import ledger
from symbiosim.accounts import cashflows, evaluate
from symbiosim.plan import Plan, empty_table, make_table
from symbiosim.planner import optimise
from symbiosim.scenario.data import build_model_data
from symbiosim.simulator import simulate
from tests.test_simulator import with_rules
from tests.tiny import HEAT_LINK, build, edit


def rows(frame: pd.DataFrame) -> set[tuple[str, int, int, str, float, float]]:
    return {(r.actor, r.period, r.year, r.item, round(r.amount, 6), round(r.discounted, 6)) for r in frame.itertuples()}


def test_items_cover_every_planner_variable_once_per_item():
    """Every priced planner variable has its items; names are the accounts' columns."""
    assert set(ledger.BY_VARIABLE) == {*ledger.PER_PERIOD, *ledger.PER_YEAR, *ledger.ONE_OFF}
    assert all(ledger.BY_VARIABLE[v] for v in ledger.BY_VARIABLE)
    assert {i.name for i in ledger.ITEMS} | set(ledger.TRANSFER_ITEMS) == set(ledger.ITEM_NAMES)


def test_heat_link_optimum_and_baseline_ledgers():
    """HEAT_LINK (2 years, 1 period a year, r = 0). The optimum builds the pipe in
    year 0 (1000, paid by its receiver, the greenhouse) and takes 80 MWh of heat a
    year instead of gas; no price, no transport cost, heat disposal costs 0, so the
    whole ledger is one row: (greenhouse, 0, 0, investment, -1000). The baseline buys
    80 MWh of gas at 50 each year: (greenhouse, t, t, purchases, -4000) for t = 0, 1."""
    s = build(HEAT_LINK)
    assert rows(cashflows(s, optimise(s))) == {("greenhouse", 0, 0, "investment", -1000.0, -1000.0)}
    assert rows(cashflows(s, optimise(s, baseline=True))) == {
        ("greenhouse", 0, 0, "purchases", -4000.0, -4000.0),
        ("greenhouse", 1, 1, "purchases", -4000.0, -4000.0),
    }


def test_a_hand_made_plan_books_every_item_to_its_payer():
    """HEAT_LINK with r = 10 %, a greenhouse fixed cost of 50 a year, a pipe fixed cost of
    100 a year and an investment subsidy of 20 %. The plan: gas 80 MWh in year 0 (at 50),
    the pipe built in year 1 (1000 x 0.8 = 800), 80 MWh of heat in year 1 at a transfer
    price of 10 (800 from the greenhouse to the smelter). Rows, by hand (discount 1/1.1 in year 1):

    greenhouse 0 purchases -4000; greenhouse 0 fixed_costs -50;
    greenhouse 1 fixed_costs -50 - 100 = -150 (-136.363636); greenhouse 1 investment -800 (-727.272727);
    greenhouse 1 transfer_out -800 (-727.272727); smelter 1 transfer_in +800 (+727.272727).
    Profits: smelter 727.27, greenhouse -4000 - 50 - 136.36 - 727.27 - 727.27 = -5640.91.
    """
    raw = edit(HEAT_LINK, "links", 0, fixed_cost=100)
    raw = edit(raw, "actors", 1, fixed_cost=50)
    s = build(raw, settings={"discount_rate": 0.1}, policies={"investment_subsidy": 0.2})
    plan = Plan(
        activities=empty_table("activities"),
        purchases=make_table("purchases", [("greenhouse", "gas", 0, 0, 80.0)]),
        sales=empty_table("sales"),
        disposals=empty_table("disposals"),
        flows=make_table("flows", [("smelter", "greenhouse", "heat", 1, 1, 80.0, 10.0)]),
        storage=empty_table("storage"),
        builds=make_table("builds", [("link", "smelter", None, "greenhouse", "heat", 1)]),
        meta={},
    )
    d1 = 1 / 1.1
    expected = {
        ("greenhouse", 0, 0, "purchases", -4000.0, -4000.0),
        ("greenhouse", 0, 0, "fixed_costs", -50.0, -50.0),
        ("greenhouse", 1, 1, "fixed_costs", -150.0, round(-150 * d1, 6)),
        ("greenhouse", 1, 1, "investment", -800.0, round(-800 * d1, 6)),
        ("greenhouse", 1, 1, "transfer_out", -800.0, round(-800 * d1, 6)),
        ("smelter", 1, 1, "transfer_in", 800.0, round(800 * d1, 6)),
    }
    flows = cashflows(s, plan)
    assert rows(flows) == expected
    profit = evaluate(s, plan).actors.set_index("actor").profit
    assert profit["smelter"] == pytest.approx(800 * d1)
    assert profit["greenhouse"] == pytest.approx(-4000 - 50 - (150 + 800 + 800) * d1)
    assert flows.groupby("actor").discounted.sum().to_dict() == pytest.approx(profit.to_dict())
    # the investment subsidy is public money: 20 % of 1000 in year 1
    assert evaluate(s, plan).kpis["public_cost"] == pytest.approx(200 * d1)


def test_per_unit_values_are_the_planners_coefficients():
    """A flow is worth -transport + subsidy to its receiver; a commitment is its one-off cost
    at the given discount plus its fixed cost over the given annuity."""
    raw = edit(HEAT_LINK, "links", 0, fixed_cost=100)
    d = build_model_data(build(raw, policies={"exchange_subsidy": 3, "investment_subsidy": 0.25}))
    key = ("smelter", "greenhouse", "heat")
    assert d.arcs[key].unit_cost == 0  # both ends at the same place
    assert ledger.unit_value(d, "flow", key) == 3.0
    assert list(ledger.entries(d, "flow", key)) == [("subsidy", "greenhouse", 3.0)]  # zero transport left out
    assert ledger.commitment_cost(d, "linked", key, 0.5, 2.0) == pytest.approx(1000 * 0.75 * 0.5 + 100 * 2.0)


def test_simulated_firms_cash_is_their_ledger():
    """The frictionless HEAT_LINK deal (``test_two_firm_deal_both_accept``): the greenhouse
    pays 3500 for 160 MWh over two years (1750 a year) and the pipe (1000, year 0).
    Cash: smelter [1750, 1750]; greenhouse [-1000 - 1750, -1750]; the same as the ledger."""
    s = build(with_rules(HEAT_LINK))
    result = simulate(s, seed=1)
    cash = result.firms.set_index(["actor", "period"]).cash
    assert cash[("smelter", 0)] == pytest.approx(1750) and cash[("smelter", 1)] == pytest.approx(1750)
    assert cash[("greenhouse", 0)] == pytest.approx(-2750) and cash[("greenhouse", 1)] == pytest.approx(-1750)
    book = cashflows(s, result.plan).groupby(["actor", "period"]).amount.sum()
    assert book.reindex(cash.index, fill_value=0.0).to_numpy() == pytest.approx(cash.to_numpy())
