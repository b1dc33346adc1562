"""Read a solved model back into a ``Plan`` (rows below a tolerance are omitted)."""

from __future__ import annotations

import math
from typing import Any

import pyomo.environ as pyo

from symbiosim.plan import Plan, make_table
from symbiosim.scenario.data import ModelData

TOL = 1e-7


def _values(var: Any) -> list[tuple[Any, float]]:
    out = []
    for index, v in var.items():
        value = v.value
        if value is not None and abs(value) > TOL:
            out.append((index, float(value)))
    return out


def extract_plan(m: pyo.ConcreteModel, data: ModelData, meta: dict[str, Any]) -> Plan:
    """The plan held in the variables of a solved model."""
    year = data.year_of
    rows: dict[str, list[tuple[Any, ...]]] = {}
    rows["activities"] = [(a, k, t, year(t), v) for (a, k, t), v in _values(m.act)]
    rows["purchases"] = [(a, p, t, year(t), v) for (a, p, t), v in _values(m.buy)]
    rows["sales"] = [(a, p, t, year(t), v) for (a, p, t), v in _values(m.sell)]
    rows["disposals"] = [(a, p, t, year(t), v) for (a, p, t), v in _values(m.dump)]
    rows["storage"] = [(a, p, t, year(t), v) for (a, p, t), v in _values(m.store)]
    rows["flows"] = []
    for (a, b, p, t), v in _values(m.flow):
        price = data.arcs[(a, b, p)].price
        rows["flows"].append((a, b, p, t, year(t), v, math.nan if price is None else price))
    builds: list[tuple[Any, ...]] = []
    builds += [("actor", a, None, None, None, y) for (a, y), v in _values(m.enter) if v > 0.5]
    builds += [("process", a, k, None, None, y) for (a, k, y), v in _values(m.build) if v > 0.5]
    builds += [("link", a, None, b, p, y) for (a, b, p, y), v in _values(m.link) if v > 0.5]
    tables = {name: make_table(name, r) for name, r in rows.items()}
    return Plan(builds=make_table("builds", builds), meta=dict(meta), **tables)
