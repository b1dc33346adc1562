"""Which model data can share one built model: the structure signature.

Two ``ModelData`` with the same signature differ only in money (the
objective's coefficients) and in the sale limits of existing actors, which
``PlannerModel.reprice`` hands to HiGHS without rebuilding.
"""

from __future__ import annotations

from typing import Any

from symbiosim.scenario.data import ModelData

# Columns of the model data that only enter the key figures (the objective), never a constraint.
_MONEY = {
    "actors": ("entry_cost", "fixed_cost"),
    "actor_processes": ("variable_cost", "fixed_cost", "build_cost", "emissions_per_unit", "value_added_per_unit", "jobs_per_unit"),
    "arcs": ("unit_cost", "fixed_cost", "build_cost", "price"),
    "products": ("disposal_cost", "disposal_emissions"),
}


def _strip(row: Any, drop: tuple[str, ...]) -> Any:
    if hasattr(row, "model_dump"):
        d = row.model_dump()
    elif hasattr(row, "__dataclass_fields__"):
        d = {f: getattr(row, f) for f in row.__dataclass_fields__}
    else:
        return repr(row)
    return tuple(sorted((k, repr(v)) for k, v in d.items() if k not in drop))


def structure_signature(data: ModelData) -> str:
    """Everything of ``data`` that shapes the model's variables and constraints.

    Index sets, capacities, limits, fixed activities, profiles, which products
    carry an exchange subsidy, storage capacities, year and period counts:
    two model data with the same signature differ only in the objective's
    coefficients and the sale limits of existing actors (``reprice``).
    """
    parts: list[Any] = [
        data.baseline,
        data.years,
        data.ppy,
        sorted((k, _strip(v, _MONEY["actors"])) for k, v in data.actors.items()),
        sorted((k, _strip(v, _MONEY["products"]), k in data.disposal_cost) for k, v in data.products.items()),
        sorted((k, _strip(v, ())) for k, v in data.processes.items()),
        sorted((k, _strip(v, _MONEY["actor_processes"])) for k, v in data.actor_processes.items()),
        sorted((k, _strip(v, _MONEY["arcs"])) for k, v in data.arcs.items()),
        sorted(data.purchase_limit.items(), key=repr),
        # an existing actor's sale limit is only a variable bound (re-set on reuse): its key counts
        sorted(((k, v if data.is_candidate_actor(k[0]) else "bound") for k, v in data.sale_limit.items()), key=repr),
        sorted(data.storage_capacity.items()),
        sorted(p for p, v in data.exchange_subsidy.items() if v),
        data.balance_keys,
        sorted((k, v) for k, v in data.profile_factor.items()),
        sorted((("buy", r.actor, r.product), r.profile) for r in data.scenario.purchases)
        + sorted((("sell", r.actor, r.product), r.profile) for r in data.scenario.sales),
    ]
    return repr(parts)
