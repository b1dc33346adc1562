"""Tiny scenarios whose optimum is derived by hand in the tests that use them."""

from __future__ import annotations

import copy
from typing import Any

from symbiosim.doctor import DOCTOR_SCENARIO
from symbiosim.scenario import Scenario, scenario_from_dict

# A smelter's waste heat (100 MWh/yr, fixed) can replace a greenhouse's gas
# boiler (80 MWh/yr of warmth, gas at 50/MWh) over a candidate pipe costing
# 1000: the model `symbiosim doctor` solves.
HEAT_LINK: dict[str, Any] = {**copy.deepcopy(DOCTOR_SCENARIO), "settings": {**DOCTOR_SCENARIO["settings"], "name": "heat_link"}}

# Fish offcuts (10 t/yr, disposal 100/t) at a fish plant; a candidate feed
# producer turns 1 t of offcuts into 1 t of feed sold at 50/t.
FEED_ENTRY: dict[str, Any] = {
    "settings": {"name": "feed_entry", "years": 4, "periods_per_year": 1, "discount_rate": 0.0},
    "products": [
        {"id": "offcuts", "unit": "t", "kind": "material", "disposal_cost": 100},
        {"id": "feed", "unit": "t", "kind": "material"},
    ],
    "actors": [
        {"id": "fishplant", "lat": 63.30, "lon": 9.85},
        {"id": "feedmill", "exists": False, "lat": 63.30, "lon": 9.85, "entry_cost": 500, "earliest_year": 2},
    ],
    "processes": [
        {"id": "fillet", "outputs": {"offcuts": 10}},
        {"id": "mill", "inputs": {"offcuts": 1}, "outputs": {"feed": 1}},
    ],
    "actor_processes": [
        {"actor": "fishplant", "process": "fillet", "fixed_activity": 1},
        {"actor": "feedmill", "process": "mill", "exists": False, "capacity": 20},
    ],
    "sales": [{"actor": "feedmill", "product": "feed", "price": 50, "limit": 100}],
}


def build(base: dict[str, Any], **changes: Any) -> Scenario:
    """A validated copy of ``base`` with whole tables or settings keys replaced.

    ``settings`` given as a dict is merged into the base settings; other
    tables replace the base table.
    """
    raw = copy.deepcopy(base)
    for table, value in changes.items():
        if table == "settings":
            raw["settings"] = {**raw["settings"], **value}
        else:
            raw[table] = value
    return scenario_from_dict(raw, source=f"tiny:{base['settings']['name']}")


def edit(base: dict[str, Any], table: str, index: int, **values: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with some columns of one row changed."""
    raw = copy.deepcopy(base)
    raw[table][index] = {**raw[table][index], **values}
    return raw


def market_split(n: int = 30, m: int = 3, seed: int = 1) -> dict[str, Any]:
    """A hard MIP (a market-split problem, Cornuejols & Dawande 1999): a plant
    must meet m exact demands with a subset of n candidate units of fixed
    output (min activity = capacity = 1), topped up by purchases at 1000/t.
    Branch and bound needs far more than a few seconds; purchases make a
    feasible plan trivial, so a time limit always finds one."""
    import numpy as np

    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, size=(m, n))
    demand = a.sum(axis=1) // 2
    processes = [{"id": f"make{i}", "outputs": {f"p{j}": float(a[j, i]) for j in range(m) if a[j, i] > 0}} for i in range(n)]
    processes.append({"id": "need", "inputs": {f"p{j}": float(demand[j]) for j in range(m)}})
    aps = [
        {"actor": "plant", "process": f"make{i}", "exists": False, "capacity": 1, "min_activity": 1, "build_cost": float(rng.integers(1, 100))}
        for i in range(n)
    ]
    aps.append({"actor": "plant", "process": "need", "fixed_activity": 1})
    return {
        "settings": {"name": "market_split", "years": 1},
        "products": [{"id": f"p{j}", "unit": "t", "kind": "material"} for j in range(m)],
        "actors": [{"id": "plant"}],
        "processes": processes,
        "actor_processes": aps,
        "purchases": [{"actor": "plant", "product": f"p{j}", "price": 1000.0} for j in range(m)],
    }
