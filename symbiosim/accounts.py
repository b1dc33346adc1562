"""One accounting function for every plan: ``evaluate(scenario, plan)``, the sums of
``cashflows(scenario, plan)`` (the ledger of every item of money, ``symbiosim.ledger``).

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

from symbiosim import ledger
from symbiosim.plan import Plan
from symbiosim.scenario.data import ModelData, build_model_data
from symbiosim.scenario.schema import Scenario

ACTOR_COLUMNS = (
    "actor",
    *ledger.ITEM_NAMES,
    "revenue",
    "costs",
    "profit",
    "value_added",
    "jobs",
    "jobs_final_year",
    "emissions",
)
CASHFLOW_COLUMNS = ("actor", "period", "year", "item", "amount", "discounted")


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


# plan table, its planner variable, and the columns of the variable's key (without the period)
_PER_PERIOD_TABLES = (
    ("sales", "sell", ("actor", "product")),
    ("purchases", "buy", ("actor", "product")),
    ("activities", "act", ("actor", "process")),
    ("disposals", "dump", ("actor", "product")),
    ("flows", "flow", ("source", "target", "product")),
    ("storage", "store", ("actor", "product")),
)


def cashflows(scenario: Scenario | ModelData, plan: Plan) -> pd.DataFrame:
    """Every sum of money of a plan: one row per actor, period and ledger item.

    Columns ``actor, period, year, item, amount, discounted`` (amount undiscounted, signed:
    + received, - paid; discounted = amount x (1 + r)^-year). Items and per-unit values are
    those of ``symbiosim.ledger`` (the planner's objective is their discounted sum);
    annual and one-off amounts are booked in the last period of their year. The sum of
    ``discounted`` per actor is ``evaluate``'s profit; over all actors, the cluster NPV.
    """
    data = _data(scenario)
    parts: list[pd.DataFrame] = []
    for table, variable, key_columns in _PER_PERIOD_TABLES:
        frame = getattr(plan, table)
        if not len(frame):
            continue
        keys = list(zip(*(frame[c] for c in key_columns), strict=True))
        value = frame.value.to_numpy(float)
        period = frame.period.to_numpy()
        for item in ledger.BY_VARIABLE[variable]:
            coef = np.array([item.value(data, k) for k in keys], dtype=float) if keys else np.zeros(0)
            if not coef.any():
                continue
            actors = [item.booked_to(k) for k in keys]
            parts.append(pd.DataFrame({"actor": actors, "period": period, "item": item.name, "amount": coef * value}))
        if variable == "flow" and frame.price.notna().any():
            priced = frame[frame.price.notna()]
            pay = priced.price.to_numpy(float) * priced.value.to_numpy(float)
            parts.append(pd.DataFrame({"actor": priced.source.to_numpy(), "period": priced.period.to_numpy(), "item": "transfer_in", "amount": pay}))
            parts.append(pd.DataFrame({"actor": priced.target.to_numpy(), "period": priced.period.to_numpy(), "item": "transfer_out", "amount": -pay}))
    since = ledger.presence(data, plan.builds)
    rows = [
        (actor, ledger.booking_period(data, y), item, amount)
        for y in range(data.years)
        for item, actor, amount in ledger.annual(data, y, since)
    ]
    if rows:
        parts.append(pd.DataFrame(rows, columns=["actor", "period", "item", "amount"]))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(CASHFLOW_COLUMNS, (object, int, int, object, float, float), strict=True)})
    long = pd.concat(parts, ignore_index=True)
    out = long.groupby(["actor", "period", "item"], as_index=False, sort=True).amount.sum()
    out = out[out.amount != 0].reset_index(drop=True)
    out.insert(2, "year", out.period.to_numpy() // data.ppy)
    out["discounted"] = out.amount.to_numpy() * np.asarray(data.discount)[out.year.to_numpy()]
    return out[list(CASHFLOW_COLUMNS)]


def evaluate(scenario: Scenario | ModelData, plan: Plan, baseline: Plan | None = None) -> Accounts:
    """Key figures of any plan, cluster-wide and per actor.

    Args:
        scenario: the scenario (or its ``ModelData``) the plan belongs to.
        plan: a plan from the planner or the simulator.
        baseline: the baseline plan; adds ``virgin_avoided_<unit>`` and
            ``disposal_avoided_<unit>`` (baseline minus plan) to the key figures.

    Returns:
        ``Accounts`` with ``kpis`` (cluster_npv, value_added and by region,
        jobs (mean annual over the horizon), jobs_final_year, emissions,
        public_cost, quantities exchanged / disposed / purchased by unit) and
        per-actor figures: the money columns are the discounted sums of
        ``cashflows`` per actor and item (costs as positive numbers).
    """
    data = _data(scenario)
    flows = cashflows(data, plan)
    table = pd.DataFrame({"actor": list(data.actors)})
    sums = flows.groupby(["actor", "item"]).discounted.sum().unstack("item") if len(flows) else pd.DataFrame()
    for column in ledger.ITEM_NAMES:
        sign = 1.0 if column in ledger.REVENUE_ITEMS else -1.0
        values = table.actor.map(sums[column]) if column in sums else pd.Series(0.0, index=table.index)
        table[column] = sign * values.fillna(0.0).astype(float)
    table["revenue"] = table[list(ledger.REVENUE_ITEMS)].sum(axis=1)
    table["costs"] = table[list(ledger.COST_ITEMS)].sum(axis=1)
    table["profit"] = table.actor.map(sums.sum(axis=1) if len(flows) else {}).fillna(0.0).astype(float)
    va, jobs, jobs_final, emissions = _activity_figures(data, plan)
    table["value_added"] = table.actor.map(va).fillna(0.0)
    table["jobs"] = table.actor.map(jobs).fillna(0.0)
    table["jobs_final_year"] = table.actor.map(jobs_final).fillna(0.0)
    table["emissions"] = table.actor.map(emissions).fillna(0.0)

    by_product = _by_product(data, plan)
    kpis: dict[str, float] = {
        "cluster_npv": float(flows.discounted.sum()),
        "value_added": float(table.value_added.sum()),
        "jobs": float(table.jobs.sum()),
        "jobs_final_year": float(table.jobs_final_year.sum()),
        "emissions": float(table.emissions.sum()),
        "public_cost": _public_cost(data, plan, flows),
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


def _public_cost(data: ModelData, plan: Plan, flows: pd.DataFrame) -> float:
    """Subsidies paid (exchange, from the ledger; investment: the subsidised part of one-off
    costs) minus taxes collected (virgin, disposal and carbon, inside the ledger's coefficients)."""
    pol = data.scenario.policies
    public = float(flows.discounted[flows["item"] == "subsidy"].sum())
    b = plan.purchases
    public -= float(np.sum(_disc(data, b.period) * _per_product(b["product"], lambda p: pol.rate("virgin_tax", p)).to_numpy(float) * b.value))
    w = plan.disposals
    public -= float(np.sum(_disc(data, w.period) * _per_product(w["product"], lambda p: pol.rate("disposal_tax", p)).to_numpy(float) * w.value))
    public -= _carbon_paid(data, plan)
    since = ledger.presence(data, plan.builds)
    for variable, keys in since.items():
        for key, first in keys.items():
            if not ledger.is_candidate(data, variable, key):
                continue
            if variable == "present":
                cost, share = data.actors[key[0]].entry_cost, data.share_paid_by_investor["*"]
            elif variable == "built":
                cost, share = data.actor_processes[key].build_cost, data.share_paid_by_investor["*"]  # type: ignore[index]
            else:
                cost, share = data.arcs[key].build_cost, data.share_paid_by_investor[key[2]]  # type: ignore[index]
            public += cost * (1 - share) * data.discount[first]
    return public


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


def _activity_figures(
    data: ModelData, plan: Plan
) -> tuple[dict[str, float], dict[str, float], dict[str, float], dict[str, float]]:
    """Per actor: value added (discounted), jobs (mean annual over the horizon), jobs in the final year, emissions."""
    a = plan.activities
    aps = list(zip(a.actor, a.process, strict=True))
    va_rate = np.array([data.actor_processes[ap].value_added_per_unit for ap in aps], float)
    jobs_rate = np.array([data.actor_processes[ap].jobs_per_unit for ap in aps], float)
    em_rate = np.array([data.actor_processes[ap].emissions_per_unit for ap in aps], float)
    last = (a.year == data.years - 1).to_numpy()
    value = a.value.to_numpy(float)
    va = pd.Series(_disc(data, a.period) * va_rate * value, index=a.actor).groupby(level=0).sum()
    jobs = pd.Series(jobs_rate * value / data.years, index=a.actor).groupby(level=0).sum()
    jobs_final = pd.Series(np.where(last, jobs_rate * value, 0.0), index=a.actor).groupby(level=0).sum()
    emissions = pd.Series(em_rate * value, index=a.actor).groupby(level=0).sum()
    purch_em = {(r.actor, r.product): r.emissions_per_unit for r in data.scenario.purchases}
    b = plan.purchases
    emissions = emissions.add(
        pd.Series(_coef(purch_em, b.actor, b["product"]) * b.value.to_numpy(float), index=b.actor).groupby(level=0).sum(),
        fill_value=0.0,
    )
    w = plan.disposals
    dem = _per_product(w["product"], lambda p: data.products[p].disposal_emissions).to_numpy(float)
    emissions = emissions.add(pd.Series(dem * w.value.to_numpy(float), index=w.actor).groupby(level=0).sum(), fill_value=0.0)
    return va.to_dict(), jobs.to_dict(), jobs_final.to_dict(), emissions.to_dict()


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
