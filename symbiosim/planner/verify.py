"""Is a plan feasible for the planner's model? Fix every decision, check every constraint.

Any plan (the planner's, the simulator's, a hand-made one) is loaded into
the variables of the coordinated model; each bound and each constraint is
then evaluated. A feasible plan's cluster NPV can never exceed the optimum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyomo.environ as pyo

from symbiosim.plan import Plan
from symbiosim.planner.build import build_planner_model
from symbiosim.scenario.data import ModelData, build_model_data
from symbiosim.scenario.schema import Scenario

TOL = 1e-6


@dataclass(frozen=True)
class Violation:
    constraint: str
    value: float
    lower: float | None
    upper: float | None

    def __str__(self) -> str:
        return f"{self.constraint}: {self.value:.6g} not in [{self.lower}, {self.upper}]"


def plan_violations(scenario: Scenario | ModelData, plan: Plan, tol: float = TOL) -> list[Violation]:
    """Every bound or constraint of the planner's model that the plan breaks (empty: feasible).

    Tolerances are relative: ``tol x max(1, |bound|)``.
    """
    data = scenario if isinstance(scenario, ModelData) else build_model_data(scenario)
    m = build_planner_model(data)
    out: list[Violation] = []
    _load(m, data, plan, out)
    for v in m.component_data_objects(pyo.Var, descend_into=True):
        value = v.value if v.value is not None else 0.0
        lb, ub = v.lb, v.ub
        if (lb is not None and value < lb - tol * max(1, abs(lb))) or (ub is not None and value > ub + tol * max(1, abs(ub))):
            out.append(Violation(f"bound {v.name}", value, lb, ub))
    for c in m.component_data_objects(pyo.Constraint, active=True, descend_into=True):
        body = pyo.value(c.body)
        lo, up = (pyo.value(c.lower) if c.has_lb() else None), (pyo.value(c.upper) if c.has_ub() else None)
        if (lo is not None and body < lo - tol * max(1, abs(lo))) or (up is not None and body > up + tol * max(1, abs(up))):
            out.append(Violation(c.name, body, lo, up))
    return out


def _load(m: pyo.ConcreteModel, data: ModelData, plan: Plan, out: list[Violation]) -> None:
    """Put the plan's values into the model's variables (missing rows are 0)."""
    for var in (m.act, m.buy, m.sell, m.dump, m.flow, m.store, m.enter, m.build, m.link):
        for v in var.values():
            v.unfix()
            v.set_value(0, skip_validation=True)

    def put(var: Any, index: tuple[Any, ...], value: float, what: str) -> None:
        if index in var:
            var[index].set_value(float(value), skip_validation=True)
        else:
            out.append(Violation(f"{what} {index} does not exist in the model", float(value), 0.0, 0.0))

    for r in plan.activities.itertuples():
        put(m.act, (r.actor, r.process, r.period), r.value, "activity")
    for r in plan.purchases.itertuples():
        put(m.buy, (r.actor, r.product, r.period), r.value, "purchase")
    for r in plan.sales.itertuples():
        put(m.sell, (r.actor, r.product, r.period), r.value, "sale")
    for r in plan.disposals.itertuples():
        put(m.dump, (r.actor, r.product, r.period), r.value, "disposal")
    for r in plan.storage.itertuples():
        put(m.store, (r.actor, r.product, r.period), r.value, "storage")
    for r in plan.flows.itertuples():
        put(m.flow, (r.source, r.target, r.product, r.period), r.value, "flow")
    for r in plan.builds.itertuples():
        if r.kind == "actor":
            put(m.enter, (r.actor, r.year), 1, "entry")
        elif r.kind == "process":
            put(m.build, (r.actor, r.process, r.year), 1, "build")
        else:
            put(m.link, (r.actor, r.target, r.product, r.year), 1, "link")
    if hasattr(m, "receiving"):
        received: dict[tuple[str, str, int], float] = {}
        for r in plan.flows.itertuples():
            key = (r.target, r.product, r.period)
            received[key] = received.get(key, 0.0) + r.value
        for index, v in m.receiving.items():
            v.set_value(1 if received.get(index, 0.0) > TOL else 0, skip_validation=True)


def is_feasible(scenario: Scenario | ModelData, plan: Plan, tol: float = TOL) -> bool:
    return not plan_violations(scenario, plan, tol)
