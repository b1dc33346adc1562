"""evaluate is the sum of the ledger (cashflows); one meaning per key figure."""

from __future__ import annotations

import pytest

from symbiosim.accounts import CASHFLOW_COLUMNS, cashflows, evaluate
from symbiosim.planner import optimise
from symbiosim.scenario import load_scenario
from symbiosim.simulator import simulate
from tests.tiny import FEED_ENTRY, build, edit

ORKANGER_NPV = 4_991_399_164.83


@pytest.fixture(scope="module")
def orkanger():
    s = load_scenario("scenarios/orkanger.yaml")
    return s, optimise(s), optimise(s, baseline=True)


def test_orkanger_ledger_sums_to_the_accounts_and_the_optimum(orkanger):
    """The default scenario: the discounted ledger per actor is each actor's profit, and in
    total the planner's optimum (4,991,399,164.83 NOK); per item it is the accounts' columns."""
    s, plan, _ = orkanger
    flows = cashflows(s, plan)
    assert tuple(flows.columns) == CASHFLOW_COLUMNS
    assert not flows.duplicated(["actor", "period", "item"]).any()
    acc = evaluate(s, plan)
    profit = acc.actors.set_index("actor").profit
    per_actor = flows.groupby("actor").discounted.sum().reindex(profit.index, fill_value=0.0)
    assert per_actor.to_numpy() == pytest.approx(profit.to_numpy(), rel=1e-12, abs=1e-3)
    assert flows.discounted.sum() == pytest.approx(ORKANGER_NPV, abs=0.01)
    assert plan.meta["objective_value"] == pytest.approx(ORKANGER_NPV, abs=0.01)
    by_item = flows.groupby("item").discounted.sum()
    assert by_item["sales"] == pytest.approx(acc.actors.sales.sum())
    assert -by_item["purchases"] == pytest.approx(acc.actors.purchases.sum())
    assert by_item["transfer_in"] == pytest.approx(-by_item["transfer_out"])  # transfers cancel


def test_orkanger_simulated_cash_equals_the_ledger(orkanger):
    """Seed 1: each firm's cash per period is the ledger's amount for it in that period
    (storage, fixed and one-off costs included)."""
    s, _, base = orkanger
    result = simulate(s, seed=1, baseline=base)
    cash = result.firms.set_index(["actor", "period"]).cash
    book = cashflows(s, result.plan).groupby(["actor", "period"]).amount.sum()
    assert set(book.index) <= set(cash.index)
    assert book.reindex(cash.index, fill_value=0.0).to_numpy() == pytest.approx(cash.to_numpy(), rel=1e-9, abs=1e-6)


def test_jobs_is_mean_annual_and_jobs_final_year_the_last_years():
    """FEED_ENTRY with 0.1 jobs per t of feed: the feed mill enters in year 2 of 4 and mills
    10 t a year (avoids 1000 of disposal and sells 500 of feed a year: worth its 500 entry).
    Jobs: 1 a year in years 2 and 3: mean annual jobs 2 / 4 = 0.5, final year 1.
    The objective jobs maximises the same figure: 0.5."""
    raw = edit(FEED_ENTRY, "actor_processes", 1, jobs_per_unit=0.1)
    s = build(raw)
    acc = evaluate(s, optimise(s))
    assert acc.kpis["jobs"] == pytest.approx(0.5)
    assert "mean_jobs" not in acc.kpis  # one name per meaning
    assert acc.kpis["jobs_final_year"] == pytest.approx(1.0)
    actors = acc.actors.set_index("actor")
    assert actors.jobs["feedmill"] == pytest.approx(0.5) and actors.jobs_final_year["feedmill"] == pytest.approx(1.0)
    best = optimise(s, objective="jobs")
    assert best.meta["objective_value"] == pytest.approx(0.5)
    assert evaluate(s, best).kpis["jobs"] == pytest.approx(best.meta["objective_value"])
