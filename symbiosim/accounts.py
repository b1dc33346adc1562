"""One accounting function for every plan: ``evaluate(scenario, plan)``.

Cash flows are priced with the same per-unit coefficients the planner uses
(``ModelData``), discounted by year, and booked to actors:

* sales revenue, purchases (with virgin tax and carbon), activity costs
  (with carbon), disposals (with tax and carbon) and storage go to the actor
  that does them;
* a flow's transport cost is paid by the receiver, who also receives the
  exchange subsidy; at a transfer price (``flows.price``) the receiver pays
  the sender price x quantity; without a price the goods' value goes to
  nobody;
* a link's build and fixed costs are paid by its receiving actor;
* fixed costs run while the actor is present or the process/link built;
  one-off entry and build costs fall in the year of the decision, net of
  the investment subsidy.

Transfers cancel in the cluster total, so the sum of actor profits is the
cluster NPV, which equals the planner's objective for its own plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from symbiosim.plan import Plan
from symbiosim.scenario.data import ModelData, build_model_data
from symbiosim.scenario.schema import Scenario

ACTOR_COLUMNS = (
    "actor",
    "sales",
    "transfer_in",
    "subsidy",
    "purchases",
    "activity_costs",
    "disposal_costs",
    "transport",
    "transfer_out",
    "storage_costs",
    "fixed_costs",
    "investment",
    "revenue",
    "costs",
    "profit",
    "value_added",
    "jobs",
    "emissions",
)


@dataclass(frozen=True)
class Accounts:
    """Key figures of a plan: ``kpis`` (cluster) and ``actors`` (one row per actor)."""

    kpis: dict[str, float]
    actors: pd.DataFrame
    by_product: pd.DataFrame  # product, unit, exchanged, disposed, purchased, sold (totals over the horizon)


def _data(scenario: Scenario | ModelData) -> ModelData:
    return scenario if isinstance(scenario, ModelData) else build_model_data(scenario)


def _disc(data: ModelData, periods: pd.Series) -> np.ndarray:
    return np.asarray(data.discount)[periods.to_numpy() // data.ppy]


def _book(ledger: dict[str, dict[str, float]], column: str, actors: pd.Series, amounts: np.ndarray) -> None:
    if len(actors) == 0:
        return
    sums = pd.Series(np.asarray(amounts, dtype=float), index=actors.to_numpy()).groupby(level=0).sum()
    for actor, value in sums.items():
        ledger[column][str(actor)] = ledger[column].get(str(actor), 0.0) + float(value)


def _presence_years(data: ModelData, plan: Plan) -> tuple[dict[str, int], dict[tuple[str, str], int], dict[tuple[str, str, str], int]]:
    """First year each actor, process and link is present (existing: year 0)."""
    b = plan.builds
    entered = {r.actor: int(r.year) for r in b[b.kind == "actor"].itertuples()}
    built = {(r.actor, r.process): int(r.year) for r in b[b.kind == "process"].itertuples()}
    linked = {(r.actor, r.target, r.product): int(r.year) for r in b[b.kind == "link"].itertuples()}
    actors = {a: 0 for a, x in data.actors.items() if x.exists} | entered
    procs = {ap: 0 for ap, r in data.actor_processes.items() if r.exists} | built
    links = {k: 0 for k, arc in data.arcs.items() if not arc.buildable} | linked
    return actors, procs, links


def evaluate(scenario: Scenario | ModelData, plan: Plan, baseline: Plan | None = None) -> Accounts:
    """Key figures of any plan, cluster-wide and per actor.

    Args:
        scenario: the scenario (or its ``ModelData``) the plan belongs to.
        plan: a plan from the planner or the simulator.
        baseline: the baseline plan; adds ``virgin_avoided_<unit>`` and
            ``disposal_avoided_<unit>`` (baseline minus plan) to the key figures.

    Returns:
        ``Accounts`` with ``kpis`` (cluster_npv, value_added and by region,
        jobs in the final year, mean_jobs, emissions, public_cost, quantities
        exchanged / disposed / purchased by unit) and per-actor figures.
    """
    data = _data(scenario)
    pol = data.scenario.policies
    ledger: dict[str, dict[str, float]] = {c: {} for c in ACTOR_COLUMNS[1:15]}
    public = 0.0

    s = plan.sales
    _book(ledger, "sales", s.actor, _disc(data, s.period) * _coef(data.sale_price, s.actor, s["product"]) * s.value)
    b = plan.purchases
    d = _disc(data, b.period)
    _book(ledger, "purchases", b.actor, d * _coef(data.purchase_cost, b.actor, b["product"]) * b.value)
    public -= float(np.sum(d * _per_product(b["product"], lambda p: pol.rate("virgin_tax", p)).to_numpy(float) * b.value))
    a = plan.activities
    _book(ledger, "activity_costs", a.actor, _disc(data, a.period) * _coef(data.activity_cost, a.actor, a.process) * a.value)
    w = plan.disposals
    d = _disc(data, w.period)
    _book(ledger, "disposal_costs", w.actor, d * w["product"].map(data.disposal_cost).to_numpy(float) * w.value)
    public -= float(np.sum(d * _per_product(w["product"], lambda p: pol.rate("disposal_tax", p)).to_numpy(float) * w.value))
    st = plan.storage
    _book(ledger, "storage_costs", st.actor, _disc(data, st.period) * _coef(data.storage_cost, st.actor, st["product"]) * st.value)

    f = plan.flows
    d = _disc(data, f.period)
    keys = list(zip(f.source, f.target, f["product"], strict=True))
    unit_cost = np.array([data.arcs[k].unit_cost for k in keys], dtype=float)
    subsidy = f["product"].map(data.exchange_subsidy).to_numpy(float) if len(f) else np.zeros(0)
    _book(ledger, "transport", f.target, d * unit_cost * f.value)
    _book(ledger, "subsidy", f.target, d * subsidy * f.value)
    public += float(np.sum(d * subsidy * f.value))
    priced = f.price.notna().to_numpy() if len(f) else np.zeros(0, bool)
    pay = np.where(priced, d * f.price.fillna(0).to_numpy(float) * f.value.to_numpy(float), 0.0)
    _book(ledger, "transfer_in", f.source, pay)
    _book(ledger, "transfer_out", f.target, pay)

    # carbon price collected (it is inside the cost coefficients above)
    carbon = _carbon_paid(data, plan)
    public -= carbon

    actors_from, procs_from, links_from = _presence_years(data, plan)
    fixed: dict[str, float] = {}
    invest: dict[str, float] = {}
    disc = np.asarray(data.discount)
    share = data.investment_share

    def run(actor: str, first: int, annual: float) -> None:
        if annual:
            fixed[actor] = fixed.get(actor, 0.0) + annual * float(disc[first:].sum())

    for actor, first in actors_from.items():
        run(actor, first, data.actors[actor].fixed_cost)
        if not data.actors[actor].exists:
            invest[actor] = invest.get(actor, 0.0) + data.actors[actor].entry_cost * share["*"] * disc[first]
            public += data.actors[actor].entry_cost * (1 - share["*"]) * disc[first]
    for (actor, k), first in procs_from.items():
        r = data.actor_processes[(actor, k)]
        run(actor, first, r.fixed_cost)
        if not r.exists:
            invest[actor] = invest.get(actor, 0.0) + r.build_cost * share["*"] * disc[first]
            public += r.build_cost * (1 - share["*"]) * disc[first]
    for key, first in links_from.items():
        arc = data.arcs[key]
        run(arc.target, first, arc.fixed_cost)
        if arc.buildable:
            invest[arc.target] = invest.get(arc.target, 0.0) + arc.build_cost * share[arc.product] * disc[first]
            public += arc.build_cost * (1 - share[arc.product]) * disc[first]
    ledger["fixed_costs"] = fixed
    ledger["investment"] = invest

    table = pd.DataFrame({"actor": list(data.actors)})
    for column in ACTOR_COLUMNS[1:12]:
        table[column] = table.actor.map(ledger[column]).fillna(0.0).astype(float)
    table["revenue"] = table.sales + table.transfer_in + table.subsidy
    table["costs"] = table[list(ACTOR_COLUMNS[4:12])].sum(axis=1)
    table["profit"] = table.revenue - table.costs
    va, jobs, emissions = _activity_figures(data, plan)
    table["value_added"] = table.actor.map(va).fillna(0.0)
    table["jobs"] = table.actor.map(jobs).fillna(0.0)
    table["emissions"] = table.actor.map(emissions).fillna(0.0)

    by_product = _by_product(data, plan)
    kpis: dict[str, float] = {
        "cluster_npv": float(table.profit.sum()),
        "value_added": float(table.value_added.sum()),
        "jobs": float(table.jobs.sum()),
        "mean_jobs": _mean_jobs(data, plan),
        "emissions": float(table.emissions.sum()),
        "public_cost": float(public),
    }
    regions = {x: data.actors[x].region or "unassigned" for x in data.actors}
    for region, value in table.groupby(table.actor.map(regions)).value_added.sum().items():
        kpis[f"value_added_region_{region}"] = float(value)
    for unit, group in by_product.groupby("unit"):
        for column in ("exchanged", "disposed", "purchased"):
            kpis[f"{column}_{unit}"] = float(group[column].sum())
    if baseline is not None:
        before = _by_product(data, baseline).groupby("unit")[["purchased", "disposed"]].sum()
        now = by_product.groupby("unit")[["purchased", "disposed"]].sum()
        for unit in now.index:
            kpis[f"virgin_avoided_{unit}"] = float(before.purchased[unit] - now.purchased[unit])
            kpis[f"disposal_avoided_{unit}"] = float(before.disposed[unit] - now.disposed[unit])
    return Accounts(kpis=kpis, actors=table, by_product=by_product)


def _per_product(products: pd.Series, value: Any) -> pd.Series:
    """``value(product)`` per row, computed once per distinct product (plans have thousands of rows, few products)."""
    return products.map({p: value(p) for p in products.unique()})


def _coef(mapping: Any, actors: pd.Series, items: pd.Series) -> np.ndarray:
    return np.array([mapping[(x, y)] for x, y in zip(actors, items, strict=True)], dtype=float)


def _carbon_paid(data: ModelData, plan: Plan) -> float:
    pol = data.scenario.policies
    a = plan.activities
    em = np.array([data.actor_processes[(x, k)].emissions_per_unit for x, k in zip(a.actor, a.process, strict=True)], float)
    total = float(np.sum(_disc(data, a.period) * pol.rate("carbon_price") * em * a.value))
    purch_em = {(r.actor, r.product): r.emissions_per_unit for r in data.scenario.purchases}
    b = plan.purchases
    rate = _per_product(b["product"], lambda p: pol.rate("carbon_price", p)).to_numpy(float)
    total += float(np.sum(_disc(data, b.period) * rate * _coef(purch_em, b.actor, b["product"]) * b.value))
    w = plan.disposals
    rate = _per_product(w["product"], lambda p: pol.rate("carbon_price", p)).to_numpy(float)
    dem = _per_product(w["product"], lambda p: data.products[p].disposal_emissions).to_numpy(float)
    total += float(np.sum(_disc(data, w.period) * rate * dem * w.value))
    return total


def _activity_figures(data: ModelData, plan: Plan) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    a = plan.activities
    aps = list(zip(a.actor, a.process, strict=True))
    va_rate = np.array([data.actor_processes[ap].value_added_per_unit for ap in aps], float)
    jobs_rate = np.array([data.actor_processes[ap].jobs_per_unit for ap in aps], float)
    em_rate = np.array([data.actor_processes[ap].emissions_per_unit for ap in aps], float)
    last = (a.year == data.years - 1).to_numpy()
    va = pd.Series(_disc(data, a.period) * va_rate * a.value.to_numpy(float), index=a.actor).groupby(level=0).sum()
    jobs = pd.Series(np.where(last, jobs_rate * a.value.to_numpy(float), 0.0), index=a.actor).groupby(level=0).sum()
    emissions = pd.Series(em_rate * a.value.to_numpy(float), index=a.actor).groupby(level=0).sum()
    purch_em = {(r.actor, r.product): r.emissions_per_unit for r in data.scenario.purchases}
    b = plan.purchases
    emissions = emissions.add(
        pd.Series(_coef(purch_em, b.actor, b["product"]) * b.value.to_numpy(float), index=b.actor).groupby(level=0).sum(),
        fill_value=0.0,
    )
    w = plan.disposals
    dem = _per_product(w["product"], lambda p: data.products[p].disposal_emissions).to_numpy(float)
    emissions = emissions.add(pd.Series(dem * w.value.to_numpy(float), index=w.actor).groupby(level=0).sum(), fill_value=0.0)
    return va.to_dict(), jobs.to_dict(), emissions.to_dict()


def _mean_jobs(data: ModelData, plan: Plan) -> float:
    a = plan.activities
    rate = np.array([data.actor_processes[(x, k)].jobs_per_unit for x, k in zip(a.actor, a.process, strict=True)], float)
    return float(np.sum(rate * a.value.to_numpy(float)) / data.years)


def _by_product(data: ModelData, plan: Plan) -> pd.DataFrame:
    table = pd.DataFrame({"product": list(data.products)})
    table["unit"] = _per_product(table["product"], lambda p: data.products[p].unit)
    for column, frame in (("exchanged", plan.flows), ("disposed", plan.disposals), ("purchased", plan.purchases), ("sold", plan.sales)):
        table[column] = table["product"].map(frame.groupby("product").value.sum()).fillna(0.0)
    return table


def balance_residuals(scenario: Scenario | ModelData, plan: Plan) -> pd.DataFrame:
    """Per actor, product and period: (produced + bought + received + from storage)
    - (consumed + sold + sent + disposed + into storage). Zero everywhere for a valid plan."""
    data = _data(scenario)
    parts = []
    a = plan.activities
    for (actor, k), group in a.groupby(["actor", "process"]):
        recipe = data.processes[k]
        for p, coef in recipe.outputs.items():
            parts.append(pd.DataFrame({"actor": actor, "product": p, "period": group.period, "q": coef * group.value}))
        for p, coef in recipe.inputs.items():
            parts.append(pd.DataFrame({"actor": actor, "product": p, "period": group.period, "q": -coef * group.value}))
    for frame, sign in ((plan.purchases, 1.0), (plan.sales, -1.0), (plan.disposals, -1.0)):
        parts.append(pd.DataFrame({"actor": frame.actor, "product": frame["product"], "period": frame.period, "q": sign * frame.value}))
    f = plan.flows
    parts.append(pd.DataFrame({"actor": f.target, "product": f["product"], "period": f.period, "q": f.value}))
    parts.append(pd.DataFrame({"actor": f.source, "product": f["product"], "period": f.period, "q": -f.value}))
    st = plan.storage
    parts.append(pd.DataFrame({"actor": st.actor, "product": st["product"], "period": st.period, "q": -st.value}))
    nxt = st[st.period + 1 < data.periods]
    parts.append(pd.DataFrame({"actor": nxt.actor, "product": nxt["product"], "period": nxt.period + 1, "q": nxt.value}))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=["actor", "product", "period", "residual"])
    long = pd.concat(parts, ignore_index=True)
    out = long.groupby(["actor", "product", "period"], as_index=False).q.sum()
    return out.rename(columns={"q": "residual"})
