"""One built planner model, solved again and again with one persistent HiGHS.

Every decision-support method here (alternatives, Pareto fronts) builds the
model once (``build_planner_model``), solves it with a persistent solver
(``make_solver``), then adds constraints and replaces the objective; the
persistent interface sends only the changes to HiGHS, so a further solve
costs a re-optimisation, not a rebuild.

A *decision* is named by a string and a kind, and ignores the year:

=========  =====================================  ==============================
kind       label                                  chosen when
=========  =====================================  ==============================
entry      ``entry:<actor>``                      a candidate actor enters
build      ``build:<actor>/<process>``            a candidate process is built
link       ``link:<from>-><to>:<product>``        a candidate link is built
exchange   ``exchange:<from>-><to>:<product>``    the arc carries flow (any year)
=========  =====================================  ==============================
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyomo.environ as pyo

from symbiosim.errors import InfeasibleError, ModelError, SolverError
from symbiosim.plan import Plan
from symbiosim.planner.build import MAXIMISE, build_planner_model
from symbiosim.planner.extract import extract_plan
from symbiosim.planner.solve import DEFAULT_MIP_GAP, SolveResult, make_solver, solution_values, solve_model
from symbiosim.scenario.data import ModelData, build_model_data
from symbiosim.scenario.schema import Scenario

DECISION_KINDS = ("entry", "build", "link", "exchange")
OBJECTIVE_NAMES = tuple(MAXIMISE)  # cluster_npv, value_added, jobs, emissions
FLOW_TOL = 1e-6


def objective_expr(m: pyo.ConcreteModel, name: str) -> tuple[Any, bool]:
    """(expression, maximise?) of a key figure used as an objective (jobs: mean annual jobs)."""
    if name not in MAXIMISE:
        raise ModelError(f"unknown objective {name!r}: expected one of {', '.join(MAXIMISE)}")
    return (m.kpi["mean_jobs"] if name == "jobs" else m.kpi[name]), MAXIMISE[name]


def decisions_of(plan: Plan) -> dict[str, str]:
    """Decision label -> kind for everything a plan chooses (see the module docstring)."""
    out: dict[str, str] = {}
    b = plan.builds
    for r in b.itertuples():
        if r.kind == "actor":
            out[f"entry:{r.actor}"] = "entry"
        elif r.kind == "process":
            out[f"build:{r.actor}/{r.process}"] = "build"
        else:
            out[f"link:{r.actor}->{r.target}:{r.product}"] = "link"
    f = plan.flows
    if len(f):
        totals = f.groupby(["source", "target", "product"]).value.sum()
        for (a, t, p), v in totals.items():
            if v > FLOW_TOL:
                out[f"exchange:{a}->{t}:{p}"] = "exchange"
    return dict(sorted(out.items()))


@dataclass
class Session:
    """A built model with its persistent solver (``Session.open(scenario)``)."""

    scenario: Scenario
    data: ModelData
    m: pyo.ConcreteModel
    solver: Any
    mip_gap: float = DEFAULT_MIP_GAP
    time_limit: float | None = None
    threads: int | None = None
    build_seconds: float = 0.0
    solves: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def open(
        cls,
        scenario: Scenario,
        objective: str = "cluster_npv",
        *,
        weights: dict[str, float] | None = None,
        mip_gap: float = DEFAULT_MIP_GAP,
        time_limit: float | None = None,
        threads: int | None = None,
    ) -> Session:
        t0 = time.perf_counter()
        data = build_model_data(scenario)
        m = build_planner_model(data, objective, weights)
        return cls(scenario, data, m, make_solver(), mip_gap, time_limit, threads, time.perf_counter() - t0)

    def set_objective(self, expr: Any, maximise: bool) -> None:
        """Replace the objective (the persistent solver updates HiGHS)."""
        self.m.del_component(self.m.objective)
        self.m.objective = pyo.Objective(expr=expr, sense=pyo.maximize if maximise else pyo.minimize)

    def add_constraint(self, name: str, expr: Any) -> None:
        """Add (or replace) a named constraint."""
        if hasattr(self.m, name):
            self.m.del_component(getattr(self.m, name))
        if isinstance(expr, bool):  # a key figure that is constant in this scenario: Pyomo compared two numbers
            expr = pyo.Constraint.Feasible if expr else pyo.Constraint.Infeasible
        setattr(self.m, name, pyo.Constraint(expr=expr))

    def remove(self, name: str) -> None:
        if hasattr(self.m, name):
            self.m.del_component(getattr(self.m, name))

    def solve(self, label: str, start: Any = None) -> SolveResult:
        """Solve with the persistent solver; raises when no plan is found.

        ``start``: column values of an earlier solve (``snapshot``) that are
        feasible for this one: HiGHS starts from that plan, so a time limit
        still returns a plan at least as good.
        """
        res = solve_model(
            self.m, time_limit=self.time_limit, threads=self.threads, mip_gap=self.mip_gap, solver=self.solver, start=start
        )
        self.solves.append(
            {"label": label, "status": res.status, "seconds": res.seconds, "objective_value": res.objective_value, "warm_start": start is not None}
        )
        if res.status == "infeasible":
            raise InfeasibleError([f"{label}: no plan satisfies the constraints"])
        if res.status == "error" and not res.has_solution:
            raise SolverError(f"{label}: {res.message}")
        if not res.has_solution:
            raise ModelError(f"{label}: no plan found ({res.status})")
        return res

    def snapshot(self) -> Any:
        """The last solution's column values (a ``start`` for a later solve)."""
        return solution_values(self.solver)

    def value(self, expr: Any) -> float:
        return float(pyo.value(expr))

    def plan(self, res: SolveResult, **meta: Any) -> Plan:
        """The plan in the model's variables, with solve facts in ``meta``."""
        info: dict[str, Any] = {
            "source": "planner",
            "status": res.status,
            "objective_value": res.objective_value,
            "gap": res.gap,
            "solve_seconds": res.seconds,
            "scenario": self.scenario.settings.name,
            "notes": list(self.m.data_notes),
        }
        info.update(meta)
        return extract_plan(self.m, self.data, info)


def kpi_row(scenario: Scenario | ModelData, plan: Plan) -> dict[str, float]:
    """The accounts' key figures of a plan (one dict)."""
    from symbiosim.accounts import evaluate

    return dict(evaluate(scenario, plan).kpis)


def decision_matrix(plans: dict[str, Plan]) -> pd.DataFrame:
    """Tidy: one row per (plan, decision) that any plan chooses, with ``chosen``."""
    chosen = {name: decisions_of(p) for name, p in plans.items()}
    kinds: dict[str, str] = {}
    for d in chosen.values():
        kinds.update(d)
    rows = [
        {"plan": name, "kind": kinds[dec], "decision": dec, "chosen": dec in chosen[name]}
        for name in plans
        for dec in sorted(kinds, key=lambda x: (DECISION_KINDS.index(kinds[x]), x))
    ]
    return pd.DataFrame(rows, columns=["plan", "kind", "decision", "chosen"])
