"""Readable text and JSON-ready records of a plan."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from symbiosim.accounts import Accounts
from symbiosim.plan import Plan
from symbiosim.report.numbers import QUANTITY_PREFIXES, key_figure, money, number, quantity, row_table
from symbiosim.scenario.schema import Scenario

HEADLINE = ("cluster_npv", "value_added", "jobs", "jobs_final_year", "emissions", "public_cost")
# jobs: mean annual jobs over the horizon (what the objective jobs maximises); jobs_final_year: the final year's
# (units: symbiosim.report.numbers.key_figure)


def flows_by_year(scenario: Scenario, plan: Plan) -> pd.DataFrame:
    """Flows summed per source, target, product and year, with the product's unit."""
    f = plan.flows
    if f.empty:
        return pd.DataFrame(columns=["source", "target", "product", "year", "quantity", "unit"])
    units = {p.id: p.unit for p in scenario.products}
    out = f.groupby(["source", "target", "product", "year"], as_index=False).value.sum()
    out = out.rename(columns={"value": "quantity"})
    out["unit"] = out["product"].map(units)
    return out


def builds_records(plan: Plan) -> list[dict[str, Any]]:
    b = plan.builds
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()} for row in b.to_dict("records")]


def baseline_json(baseline: Accounts | None, baseline_error: Exception | None) -> dict[str, Any]:
    """What the baseline gave: its key figures, or why it has no plan (shares then undefined)."""
    if baseline_error is not None:
        return {"status": "infeasible", "diagnosis": list(getattr(baseline_error, "diagnosis", [str(baseline_error)]))}
    return {"status": "optimal", "kpis": baseline.kpis} if baseline is not None else {"status": "not solved"}


def plan_json(scenario: Scenario, plan: Plan, accounts: Accounts, baseline: dict[str, Any] | None = None) -> dict[str, Any]:
    """The object ``symbiosim plan --json`` prints (``baseline``: ``baseline_json``'s)."""
    return {
        **({"baseline": baseline} if baseline is not None else {}),
        "status": plan.meta.get("status"),
        "objective": plan.meta.get("objective"),
        "objective_value": plan.meta.get("objective_value"),
        "gap": plan.meta.get("gap"),
        "kpis": accounts.kpis,
        "builds": builds_records(plan),
        "flows": flows_by_year(scenario, plan).to_dict("records"),
        "notes": plan.meta.get("notes", []),
    }


def plan_summary(
    scenario: Scenario, plan: Plan, accounts: Accounts, baseline: Accounts | None = None, baseline_error: Exception | None = None
) -> str:
    """Key figures against the baseline, the investments and the exchanges chosen
    (``baseline_error``: the baseline has no plan; said, with its diagnosis)."""
    s = scenario.settings
    cur = s.currency
    lines = [f"{s.name}: {plan.meta.get('source', 'plan')} ({plan.meta.get('objective')}), status {plan.meta.get('status')}"]
    if plan.meta.get("status") == "time_limit":
        gap = plan.meta.get("gap")
        lines.append(f"  WARNING: time limit reached; best plan found has a relative gap of {gap:.2%}" if gap is not None else "  WARNING: time limit reached")
    lines.append("")
    keys = [*HEADLINE, *sorted(k for k in accounts.kpis if k.startswith(QUANTITY_PREFIXES))]
    rows = []
    for key in keys:
        value = accounts.kpis.get(key, 0.0)
        values = [value] if not baseline else [value, baseline.kpis.get(key, 0.0), value - baseline.kpis.get(key, 0.0)]
        rows.append((key, *key_figure(key, cur), values))
    lines.append(row_table(rows, ["plan", "baseline", "difference"] if baseline else ["plan"]))
    lines.append("")
    b = plan.builds
    if b.empty:
        lines.append("  investments: none")
    else:
        lines.append("  investments (year index / calendar year):")
        for r in b.sort_values(["year", "kind"]).itertuples():
            what = {"actor": f"new actor {r.actor} enters", "process": f"{r.actor} builds {r.process}", "link": f"link {r.actor} -> {r.target} for {r.product}"}[r.kind]
            lines.append(f"    year {r.year:>2} ({s.start_year + r.year}): {what}")
    flows = flows_by_year(scenario, plan)
    if flows.empty:
        lines.append("  exchanges: none")
    else:
        lines.append("  exchanges (per year, first and last year with flow):")
        for (src, dst, prod), g in flows.groupby(["source", "target", "product"]):
            unit = g.unit.iloc[0]
            lines.append(
                f"    {src} -> {dst}: {prod}, {quantity(g.quantity.mean(), f'{unit}/yr')} on average, years {g.year.min()}-{g.year.max()}"
            )
    for note in plan.meta.get("notes", []):
        lines.append(f"  note: {note}")
    if baseline_error is not None:
        lines.append("")
        lines.append("  baseline: no plan, so gains against it and shares of the potential are undefined.")
        lines += [f"    {line}" for line in str(baseline_error).splitlines()]
    return "\n".join(lines)


def contracts_records(result: Any) -> list[dict[str, Any]]:
    records = []
    for r in result.contracts.to_dict("records"):
        price = r["price"]
        records.append(
            {
                "from": r["from"],
                "to": r["to"],
                "product": r["product"],
                "start_year": int(r["start_year"]),
                "end_year": int(r["end_year"]),
                "price": None if price is None or price != price else float(price),
                "amount": float(r["amount"]),
            }
        )
    return records


def simulation_json(result: Any, accounts: Accounts) -> dict[str, Any]:
    """The object ``symbiosim simulate --json`` prints."""
    return {"status": "ok", "seed": result.seed, "kpis": accounts.kpis, "contracts": contracts_records(result)}


def simulation_summary(scenario: Scenario, result: Any, accounts: Accounts, baseline: Accounts) -> str:
    s = scenario.settings
    lines = [f"{s.name}: decentralised outcome (agent-based), seed {result.seed}", ""]
    rows = []
    for key in HEADLINE:
        a, b = accounts.kpis.get(key, 0.0), baseline.kpis.get(key, 0.0)
        rows.append((key, *key_figure(key, s.currency), [a, b, a - b]))
    lines.append(row_table(rows, ["simulated", "baseline", "difference"]))
    lines.append("")
    new = result.contracts[~result.contracts.existing]
    lines.append(f"  contracts formed in the run: {len(new)}")
    units = {p.id: p.unit for p in scenario.products}
    for r in new.to_dict("records"):
        unit = units.get(r["product"], "unit")
        lines.append(
            f"    {r['from']} -> {r['to']}: {r['product']}, years {r['start_year']}-{r['end_year']}, "
            f"{quantity(r['amount'], f'{unit}/yr')} at {money(r['price'], f'{s.currency}/{unit}', scale='')}"
        )
    offers = result.offers
    if len(offers):
        lines.append("  negotiations by outcome and reason:")
        for (outcome, reason), n in offers.groupby(["outcome", "reason"]).size().items():
            lines.append(f"    {outcome:<9} {n:>4}  {reason}")
    return "\n".join(lines)


def no_baseline_json(command: str, optimum: Accounts | None, baseline_error: Exception, optimum_error: Exception | None = None) -> dict[str, Any]:
    """What ``simulate``/``compare`` print when the stand-alone baseline has no plan: the firms
    start from their stand-alone plans, so there is no decentralised outcome and no share."""
    return {
        "status": "baseline_infeasible",
        "command": command,
        "baseline": baseline_json(None, baseline_error),
        "optimum": {"status": "optimal", "kpis": optimum.kpis} if optimum is not None else {"status": "no plan", "error": str(optimum_error)},
        "share_of_potential": None,
        "reason": "the stand-alone baseline has no plan: the decentralised model starts from it and shares of the potential are measured from it",
    }


def no_baseline_summary(scenario: Scenario, command: str, optimum: Accounts | None, baseline_error: Exception, optimum_error: Exception | None = None) -> str:
    """The text counterpart of ``no_baseline_json``."""
    cur = scenario.settings.currency
    lines = [f"{scenario.settings.name}: {command} cannot run: {baseline_error}"]
    lines.append("  The firms start from their stand-alone plans, so there is no decentralised outcome; shares of the potential are undefined.")
    if optimum is not None:
        k = optimum.kpis
        lines.append(
            f"  The coordinated optimum exists: cluster NPV {money(k['cluster_npv'], cur)}, value added {money(k['value_added'], cur)}, "
            f"jobs {number(k['jobs'])} a year on average, emissions {quantity(k['emissions'], 't CO2e')} (symbiosim plan for the whole plan)."
        )
    else:
        lines.append(f"  The coordinated optimum has no plan either: {optimum_error}")
    return "\n".join(lines)
