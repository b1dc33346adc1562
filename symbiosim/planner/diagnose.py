"""Say why a model is infeasible or unbounded, in the scenario's words.

Infeasible: every balance gets penalised slack (excess and shortage) and the
elastic model minimises total slack; balances left with slack are the
culprits, described with what produces and what could take the product.
Unbounded: every unbounded variable gets a large box; the variables that end
on the box are the free lunch.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pyomo.environ as pyo

from symbiosim.planner.build import build_planner_model, fallback_bound
from symbiosim.planner.solve import solve_model
from symbiosim.scenario.data import ModelData, build_model_data

TOL = 1e-6


def diagnose_infeasible(data: ModelData, time_limit: float | None = None) -> list[str]:
    """Likely culprits of an infeasible scenario, one sentence each (empty: balances can close)."""
    m = build_planner_model(data)
    m.objective.deactivate()
    m.excess = pyo.Var(m.balance.index_set(), domain=pyo.NonNegativeReals)
    m.short = pyo.Var(m.balance.index_set(), domain=pyo.NonNegativeReals)
    for index, con in m.balance.items():
        # lhs == rhs  ->  lhs + short == rhs + excess
        con.set_value(con.body + m.short[index] - m.excess[index] == con.upper)
    m.elastic = pyo.Objective(expr=sum(m.excess.values()) + sum(m.short.values()), sense=pyo.minimize)
    result = solve_model(m, time_limit=time_limit)
    if not result.has_solution:
        return ["no plan exists even with every balance relaxed: check capacities, fixed and minimum activities"]
    excess: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
    short: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
    for (a, p, t), v in m.excess.items():
        if (v.value or 0) > TOL:
            excess[(a, p)].append((t, v.value))
    for (a, p, t), v in m.short.items():
        if (v.value or 0) > TOL:
            short[(a, p)].append((t, v.value))
    messages = [_describe_excess(data, a, p, excess[(a, p)]) for (a, p) in sorted(excess)]
    full = build_model_data(data.scenario) if data.baseline else None
    for a, p in sorted(short):
        hint = _baseline_hint(data, full, a, p) if full is not None else None
        messages.append(hint or _describe_short(data, a, p, short[(a, p)]))
    return messages  # empty: every balance can close


def _baseline_hint(data: ModelData, full: ModelData, a: str, p: str) -> str | None:
    """A baseline shortage that a new exchange would cover: say so, in the baseline's words."""
    senders = sorted({key[0] for key in full.arcs if key[1] == a and key[2] == p})
    if not senders:
        return None
    fixed = [k for (b, k), row in sorted(data.actor_processes.items()) if b == a and (row.fixed_activity is not None or row.min_activity)]
    what = f"its fixed activity {', '.join(f'`{k}`' for k in fixed)}" if fixed else "as required"
    return (
        f"without new symbiosis, actor `{a}` cannot run {what}: it lacks `{p}`, which only "
        f"{', '.join(f'`{s}`' for s in senders)} can send over a new exchange; "
        "if that exchange exists today, declare it as a link with exists: true"
    )


def _annual(data: ModelData, points: list[tuple[int, float]]) -> str:
    total = sum(v for _, v in points)
    first = min(t for t, _ in points)
    return f"{total / data.years:.4g} per year on average, from year {data.year_of(first)} (period {first})"


def _fixed_processes(data: ModelData, a: str, p: str, side: str) -> list[str]:
    source = data.produced_by if side == "out" else data.consumed_by
    return [k for k, _ in source.get((a, p), ()) if data.actor_processes[(a, k)].fixed_activity is not None]


def _describe_excess(data: ModelData, a: str, p: str, points: list[tuple[int, float]]) -> str:
    unit = data.products[p].unit
    fixed = _fixed_processes(data, a, p, "out")
    made = f"is produced by a fixed activity ({', '.join(f'`{k}`' for k in fixed)})" if fixed else "is produced"
    outlets = []
    if data.consumed_by.get((a, p)):
        outlets.append("used by " + ", ".join(f"`{k}`" for k, _ in data.consumed_by[(a, p)]))
    if (a, p) in data.sale_limit:
        lim = data.sale_limit[(a, p)]
        outlets.append(f"sold (limit {lim:g} {unit}/yr)" if lim is not None else "sold")
    if p in data.disposal_cost:
        outlets.append("disposed")
    targets = [k[1] for k in data.arcs if k[0] == a and k[2] == p]
    if targets:
        outlets.append("sent to " + ", ".join(f"`{b}`" for b in targets))
    if not outlets:
        how = "but can be neither used, sold nor disposed"
        if data.products[p].disposal_cost is None:
            how += " (it has no disposal_cost)"
    else:
        how = "but more than can be " + "; ".join(outlets)
    return f"product `{p}` at actor `{a}` {made} {how}: {_annual(data, points)} {unit} left over"


def _describe_short(data: ModelData, a: str, p: str, points: list[tuple[int, float]]) -> str:
    unit = data.products[p].unit
    fixed = _fixed_processes(data, a, p, "in")
    need = f"is needed by a fixed activity ({', '.join(f'`{k}`' for k in fixed)})" if fixed else "is needed (minimum activity)"
    sources = []
    if data.produced_by.get((a, p)):
        sources.append("produced by " + ", ".join(f"`{k}`" for k, _ in data.produced_by[(a, p)]))
    if (a, p) in data.purchase_limit:
        lim = data.purchase_limit[(a, p)]
        sources.append(f"bought (limit {lim:g} {unit}/yr)" if lim is not None else "bought")
    senders = [k[0] for k in data.arcs if k[1] == a and k[2] == p]
    if senders:
        sources.append("received from " + ", ".join(f"`{b}`" for b in senders))
    how = "but can be neither produced, bought nor received" if not sources else "but more than can be " + "; ".join(sources)
    return f"product `{p}` at actor `{a}` {need} {how}: {_annual(data, points)} {unit} missing"


def diagnose_unbounded(data: ModelData, objective: str = "cluster_npv", weights: dict[str, float] | None = None) -> list[str]:
    """The unlimited variables that carry an unbounded objective."""
    m = build_planner_model(data, objective, weights)
    box = 100 * fallback_bound(data)
    boxed: list[Any] = []
    for v in m.component_data_objects(pyo.Var, active=True):
        if not v.fixed and v.ub is None:
            v.setub(box)
            boxed.append(v)
    result = solve_model(m)
    if not result.has_solution:
        return ["the objective is unbounded, but no single free lunch could be isolated"]
    hits = [v for v in boxed if (v.value or 0) > 0.5 * box]
    grouped: dict[str, set[str]] = {}
    for v in hits:
        name, index = v.parent_component().local_name, v.index()
        key, period = _describe_var(name, index[:-1]), index[-1]
        grouped.setdefault(key, set()).add(str(period))
    if not grouped:
        return ["the objective is unbounded, but no single free lunch could be isolated"]
    return [f"{what} grows without limit (no capacity or limit stops it)" for what in sorted(grouped)]


def _describe_var(name: str, index: tuple[Any, ...]) -> str:
    if name == "buy":
        return f"purchase of `{index[1]}` by `{index[0]}`"
    if name == "sell":
        return f"sale of `{index[1]}` by `{index[0]}`"
    if name == "act":
        return f"activity of `{index[1]}` at `{index[0]}`"
    if name == "flow":
        return f"flow of `{index[2]}` from `{index[0]}` to `{index[1]}`"
    if name == "dump":
        return f"disposal of `{index[1]}` by `{index[0]}`"
    return f"{name}{list(index)}"
