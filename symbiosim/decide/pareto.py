"""Trade-offs between two objectives: an epsilon-constraint Pareto front.

Objectives are key figures of the planner: ``cluster_npv``, ``value_added``,
``jobs`` (mean annual jobs) maximised, ``emissions`` minimised.

Method (augmented only at the ends; Haimes et al. 1971, Mavrotas 2009):

1. Anchor A: optimise the first objective f1; then, holding f1 at its
   value found (within ``1e-7 |f1*|``: the incumbent satisfies it), optimise f2 (lexicographic,
   so the anchor is not dominated).
2. Anchor B: the same with the roles swapped.
3. Between them, ``points - 2`` evenly spaced bounds ``eps`` on f2
   (``f2 >= eps`` when f2 is maximised, ``<= eps`` when minimised); for each,
   optimise f1.

One model is built and solved with one persistent solver; each point only
swaps the bound and the objective. Inner points are weakly Pareto optimal
(no lexicographic step: it would double the solves). Points are ordered from
anchor A (best f1) to anchor B (best f2). Each point is a full ``Plan``;
``decisions_changed`` lists what differs from anchor A, used to annotate the
figure.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from symbiosim.decide.session import OBJECTIVE_NAMES, decision_matrix, decisions_of, kpi_row
from symbiosim.plan import Plan
from symbiosim.planner import DEFAULT_MIP_GAP, PlannerModel
from symbiosim.progress import progress
from symbiosim.report.jsonable import records
from symbiosim.scenario.schema import Scenario

KPI_COLUMNS = ("cluster_npv", "value_added", "jobs", "jobs_final_year", "emissions", "public_cost")


@dataclass
class ParetoFront:
    """Result of ``pareto``: ``points`` (one row per plan, tidy), ``plans``, ``decisions``."""

    objectives: tuple[str, str]
    plans: dict[str, Plan]
    points: pd.DataFrame
    decisions: pd.DataFrame
    timings: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"meta": self.meta, "points": records(self.points), "timings": self.timings}


def parse_objectives(objectives: str | tuple[str, str] | list[str]) -> tuple[str, str]:
    """Two different objectives of the front (``cluster_npv,emissions``); ValueError otherwise."""
    names = [x.strip() for x in objectives.split(",")] if isinstance(objectives, str) else list(objectives)
    if len(names) != 2 or names[0] == names[1]:
        raise ValueError(f"expected two different objectives, e.g. cluster_npv,emissions; got {objectives!r}")
    for n in names:
        if n not in OBJECTIVE_NAMES:
            raise ValueError(f"unknown objective {n!r}: expected one of {', '.join(OBJECTIVE_NAMES)}")
    return names[0], names[1]


def pareto(
    scenario: Scenario,
    objectives: str | tuple[str, str] | list[str] = ("cluster_npv", "emissions"),
    points: int = 5,
    *,
    mip_gap: float = DEFAULT_MIP_GAP,
    time_limit: float | None = None,
    threads: int | None = None,
) -> ParetoFront:
    """The epsilon-constraint front between two objectives (``points`` >= 2 plans)."""
    f1, f2 = parse_objectives(objectives)
    if points < 2:
        raise ValueError("points must be >= 2 (the two anchors)")
    pm = PlannerModel.from_scenario(scenario, f1, mip_gap=mip_gap, time_limit=time_limit, threads=threads)
    max1, max2 = pm.maximises(f1), pm.maximises(f2)
    tol = 1e-7  # the incumbent satisfies it, so it is always feasible
    timings: list[dict[str, Any]] = []
    found: list[tuple[str, Plan, float | None]] = []
    bar = progress(desc="pareto", total=points + 2)  # two lexicographic steps more than points

    def run(label: str, eps: float | None, start: Any = None) -> Plan:
        t0 = time.perf_counter()
        res = pm.solve(label, start=start, strict=True)
        timings.append({"point": label, "seconds": time.perf_counter() - t0, "solver_seconds": res.seconds, "status": res.status})
        bar.update(1)
        return pm.plan(res, objective=f1, pareto_point=label, epsilon=eps, **{f1: pm.objective_value(f1), f2: pm.objective_value(f2)})

    def hold(name: str, maximise: bool, value: float, rel: float) -> None:
        margin = rel * abs(value)
        if maximise:
            pm.add_bound("decide_lex", name, lower=value - margin)
        else:
            pm.add_bound("decide_lex", name, upper=value + margin)

    # Every solve after the first starts from a plan known to be feasible for it (a MIP
    # start), so a time limit still yields a plan: the previous anchor's for each
    # lexicographic step and for anchor B, anchor B's for the inner points.
    # anchor A: best f1, then best f2 at that f1
    pm.set_objective(f1)
    run("anchor_f1", None)
    best1 = pm.objective_value(f1)
    hold(f1, max1, best1, tol)
    pm.set_objective(f2)
    found.append(("p0", run("p0", None, pm.snapshot()), None))
    # anchor B: best f2, then best f1 at that f2
    pm.remove("decide_lex")
    run("anchor_f2", None, pm.snapshot())
    best2 = pm.objective_value(f2)
    hold(f2, max2, best2, tol)
    pm.set_objective(f1)
    last = run(f"p{points - 1}", None, pm.snapshot())
    anchor_b = pm.snapshot()
    pm.remove("decide_lex")
    a2 = float(found[0][1].meta[f2])
    b2 = float(last.meta[f2])
    for i in range(1, points - 1):
        eps = a2 + i / (points - 1) * (b2 - a2)
        if max2:
            pm.add_bound("decide_eps", f2, lower=eps)
        else:
            pm.add_bound("decide_eps", f2, upper=eps)
        found.append((f"p{i}", run(f"p{i}", eps, anchor_b), eps))
    pm.remove("decide_eps")
    bar.close()
    found.append((f"p{points - 1}", last, None))
    plans = {name: plan for name, plan, _ in found}
    return _tables(scenario, (f1, f2), plans, found, timings, pm)


def _tables(
    scenario: Scenario,
    objectives: tuple[str, str],
    plans: dict[str, Plan],
    found: list[tuple[str, Plan, float | None]],
    timings: list[dict[str, Any]],
    pm: PlannerModel,
) -> ParetoFront:
    f1, f2 = objectives
    ref = decisions_of(found[0][1], pm.data)  # relays of bought goods are not decisions (as in alternatives)
    rows = []
    for i, (name, plan, eps) in enumerate(found):
        chosen = decisions_of(plan, pm.data)
        k = kpi_row(pm.data, plan)
        added = sorted(set(chosen) - set(ref))
        removed = sorted(set(ref) - set(chosen))
        rows.append(
            {
                "point": name,
                "order": i,
                "epsilon": math.nan if eps is None else eps,
                f"{f1}_objective": plan.meta[f1],
                f"{f2}_objective": plan.meta[f2],
                "decisions": ", ".join(chosen),
                "decisions_changed": ", ".join([*(f"+{d}" for d in added), *(f"-{d}" for d in removed)]),
                **{c: k.get(c, math.nan) for c in KPI_COLUMNS},
            }
        )
    points = pd.DataFrame(rows)
    first = timings[0]["seconds"] if timings else math.nan
    meta = {
        "scenario": scenario.settings.name,
        "objectives": [f1, f2],
        "points": len(plans),
        "build_seconds": pm.build_seconds,
        "first_solve_seconds": first,
        "note": "jobs is mean annual jobs over the horizon (jobs_final_year: the final year's)",
    }
    return ParetoFront(objectives, plans, points, decision_matrix(plans, pm.data), timings, meta)
