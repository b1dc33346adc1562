"""What the decision-support methods share: decisions, their matrix, key figures.

Every method here (alternatives, Pareto fronts) builds one
``planner.PlannerModel``, solves it, then adds bounds or distance terms and
replaces the objective; its persistent solver sends only the changes to
HiGHS, so a further solve costs a re-optimisation, not a rebuild.

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

import pandas as pd

from symbiosim.plan import Plan
from symbiosim.planner import SINGLE_OBJECTIVES
from symbiosim.scenario.data import ModelData
from symbiosim.scenario.schema import Scenario

DECISION_KINDS = ("entry", "build", "link", "exchange")
OBJECTIVE_NAMES = SINGLE_OBJECTIVES  # cluster_npv, value_added, jobs, emissions
FLOW_TOL = 1e-6


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
