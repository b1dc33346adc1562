"""Read a solved model back into a ``Plan`` (rows below a tolerance are omitted)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pyomo.environ as pyo

from symbiosim.plan import Plan, make_table
from symbiosim.planner.solve import columns_of, solution_values
from symbiosim.scenario.data import ModelData

TOL = 1e-7


def _var_values(var: Any) -> list[tuple[Any, float]]:
    out = []
    for index, v in var.items():
        value = v.value
        if value is not None and abs(value) > TOL:
            out.append((index, float(value)))
    return out


class ColumnReader:
    """Reads a variable component's values straight from the solver's solution
    (one numpy gather per component) instead of loading every value into Pyomo:
    a batch re-solve of the default scenario saves ~0.03 s per solve. Index
    arrays are built once per model."""

    def __init__(self, solver: Any) -> None:
        self._solver = solver
        self._index: dict[int, tuple[list[Any], np.ndarray]] = {}
        self.x = np.zeros(0)

    def load(self) -> ColumnReader:
        """Take the solver's current solution."""
        self.x = solution_values(self._solver)
        return self

    def __call__(self, var: Any) -> list[tuple[Any, float]]:
        entry = self._index.get(id(var))
        if entry is None:
            keys = list(var.keys())  # columns are known once the solver holds the model
            entry = self._index[id(var)] = (keys, columns_of(self._solver, (var[k] for k in keys)))
        keys, cols = entry
        values = self.x[cols]
        return [(keys[i], float(values[i])) for i in np.flatnonzero(np.abs(values) > TOL)]


def extract_plan(
    m: pyo.ConcreteModel, data: ModelData, meta: dict[str, Any], values: Callable[[Any], list[tuple[Any, float]]] | None = None
) -> Plan:
    """The plan held in the variables of a solved model (or read by ``values``, e.g. a ``ColumnReader``)."""
    _values = values or _var_values
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
