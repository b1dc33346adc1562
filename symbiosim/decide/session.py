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
exchange   ``exchange:<from>-><to>:<product>``    the arc carries net flow (any year)
=========  =====================================  ==============================

Exchanges count only when they matter:

* *net* flow: per period, what a ships to b less what b ships back to a
  (offsetting flows, a swap of the same product between two actors, are no
  decision: the netted plan does the same for less transport);
* not relays (given the model data): a trucked arc out of an actor that only
  buys the product is a purchasing detail (``planner.build.exchange_matters``);
* more than ``FLOW_TOL`` over the horizon.
"""

from __future__ import annotations

import pandas as pd

from symbiosim.plan import Plan
from symbiosim.planner import SINGLE_OBJECTIVES
from symbiosim.planner.build import exchange_matters
from symbiosim.scenario.data import ModelData
from symbiosim.scenario.schema import Scenario

DECISION_KINDS = ("entry", "build", "link", "exchange")
OBJECTIVE_NAMES = SINGLE_OBJECTIVES  # cluster_npv, value_added, jobs, emissions
FLOW_TOL = 1e-6


def decisions_of(plan: Plan, data: ModelData | None = None) -> dict[str, str]:
    """Decision label -> kind for everything a plan chooses (see the module docstring).

    ``data``: the model data of the plan's scenario; with it, relays are left out."""
    out: dict[str, str] = {}
    b = plan.builds
    for r in b.itertuples():
        if r.kind == "actor":
            out[f"entry:{r.actor}"] = "entry"
        elif r.kind == "process":
            out[f"build:{r.actor}/{r.process}"] = "build"
        else:
            out[f"link:{r.actor}->{r.target}:{r.product}"] = "link"
    for (a, t, p), v in net_flows(plan).items():
        if v > FLOW_TOL and (data is None or (a, t, p) not in data.arcs or exchange_matters(data, (a, t, p))):
            out[f"exchange:{a}->{t}:{p}"] = "exchange"
    return dict(sorted(out.items()))


def net_flows(plan: Plan) -> dict[tuple[str, str, str], float]:
    """(source, target, product) -> net flow over the horizon: per period, the flow less the
    flow back (when positive), summed over the periods."""
    f = plan.flows
    if not len(f):
        return {}
    per = f.groupby(["source", "target", "product", "period"]).value.sum()
    gross = per.to_dict()
    out: dict[tuple[str, str, str], float] = {}
    for (a, b, p, t), v in gross.items():
        net = v - gross.get((b, a, p, t), 0.0)
        if net > 0:
            out[(a, b, p)] = out.get((a, b, p), 0.0) + net
    return out


def two_way(plan: Plan) -> set[tuple[str, str, str, int]]:
    """(actor, actor, product, period) rows, the first actor's id the smaller, where a plan
    ships a product both ways between the same two actors in the same period."""
    f = plan.flows
    if not len(f):
        return set()
    per = f[f.value > FLOW_TOL].groupby(["source", "target", "product", "period"]).value.sum()
    keys = set(per.index)
    return {(a, b, p, t) for (a, b, p, t) in keys if a < b and (b, a, p, t) in keys}


def kpi_row(scenario: Scenario | ModelData, plan: Plan) -> dict[str, float]:
    """The accounts' key figures of a plan (one dict)."""
    from symbiosim.accounts import evaluate

    return dict(evaluate(scenario, plan).kpis)


def decision_matrix(plans: dict[str, Plan], data: ModelData | None = None) -> pd.DataFrame:
    """Tidy: one row per (plan, decision) that any plan chooses, with ``chosen``."""
    chosen = {name: decisions_of(p, data) for name, p in plans.items()}
    kinds: dict[str, str] = {}
    for d in chosen.values():
        kinds.update(d)
    rows = [
        {"plan": name, "kind": kinds[dec], "decision": dec, "chosen": dec in chosen[name]}
        for name in plans
        for dec in sorted(kinds, key=lambda x: (DECISION_KINDS.index(kinds[x]), x))
    ]
    return pd.DataFrame(rows, columns=["plan", "kind", "decision", "chosen"])
