"""Near-optimal alternatives: modelling to generate alternatives (MGA).

Method (Hamming-distance MGA, iterated; cf. Brill et al. 1982, DeCarolis 2011,
SPORES: Lombardi et al. 2020):

1. Build the planner once and solve it: the optimum, objective value ``opt``.
2. Add ``objective >= opt - slack |opt|`` (maximisation; ``<= opt + slack |opt|``
   when minimising). The slack is relative to ``|opt|`` so that negative
   optima loosen rather than tighten.
3. For each further alternative, with ``method="maxmin"`` (default), replace
   the objective by the *smallest* Hamming distance to every plan found so
   far (an auxiliary ``z <= dist_j`` for every earlier plan j), plus ``1e-3``
   x the sum of the distances and ``1e-4`` x the objective / ``|opt|`` as
   tie-breakers (among equally distant plans the better one), and re-solve
   with the same persistent solver. That search starts from a SPORES plan
   (below), so it holds a new plan from its first node: before, it often
   ended its time limit with nothing new.
   ``method="spores"`` keeps the SPORES plans only (one linear solve each).
4. SPORES step: minimise the number of times the plan's decisions were
   chosen by earlier plans (integer weights: each decision weighs as many
   plans as chose it) subject to ``z >= 1`` (a new plan). Infeasible means
   no new plan exists within the slack: the loop stops and says so. When
   its time ends without a plan (it cannot be given a start: the plan
   before is at distance 0), the same objective is solved from the plan
   before without requiring ``z >= 1``.
5. Polish: with every decision of the plan held fixed, re-optimise the named
   objective. The distance solves care about decisions only and leave
   whatever flows the solver happened on; the polished plan is the best one
   making the same decisions (same distances, objective at least as good).

What the distance counts (decisions that matter), per candidate, ignoring
the year: ``entry`` (candidate actor enters in any year: sum of its
build-year binaries), ``build`` (candidate process), ``link`` (candidate
link) and, with ``exchanges=True`` (default), ``exchange``: one binary per
arc that needs no link (trucked goods, existing links) saying whether it
carries flow over the horizon, tied to the flows by ``floor y <= total
flow <= M y`` (M: the arc's capacity, else the most of the product that can
exist, per period, times the periods; ``floor`` 1 % of M, or the optimum's
own flow on the arc when smaller, so a trickle does not count as a new
exchange; arcs without a finite bound get no indicator). Built links are
not given a second indicator: the link binary already says it. Relays (a
trucked arc out of an actor that only buys the product) are no decision
(``planner.build.exchange_matters``). Flow sizes never count.

No swaps: between two actors that may ship a product to each other, per
period, at most one direction carries it in an alternative, unless the
optimum itself ships both ways there (``PlannerModel.hold_one_way`` says
why this removes only dominated duplicates). Before, a near-optimal plan
could raise a naive distance by shipping quartz or packaging both ways at
the price of transport alone. Every pair is held from the start when that
takes at most ``one_way_limit`` binaries; on larger models a pair joins the
rule once a plan swaps on it, and that alternative is searched again.

Each alternative is solved to ``alt_mip_gap`` (default 0.1) within
``alt_time_limit`` seconds (default 30): the best distance need not be
proven, any plan within the slack is a valid alternative. Every max-min
solve starts from a plan (the one before it, or the SPORES plan), so a time
limit always leaves one. The loop stops when no new plan is found
(``meta['stopped']`` says whether that was proven or a time limit). Every
alternative is a full ``Plan`` valued by the accounts (its objective value
equals its accounts). Decisions chosen by every plan (the optimum included)
are flagged ``robust``. ``timings`` records every solve (SPORES, max-min,
polish) with its status and smallest distance.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from symbiosim.decide.session import DECISION_KINDS, FLOW_TOL, decision_matrix, decisions_of, kpi_row, two_way
from symbiosim.errors import InfeasibleError, ModelError
from symbiosim.plan import Plan
from symbiosim.planner import DEFAULT_MIP_GAP, PlannerModel, SolveResult
from symbiosim.progress import progress
from symbiosim.report.jsonable import records
from symbiosim.scenario.data import ModelData
from symbiosim.scenario.schema import Scenario

KPI_COLUMNS = ("cluster_npv", "value_added", "jobs", "emissions", "public_cost")


@dataclass
class Alternatives:
    """Result of ``alternatives``: plans and tidy tables.

    ``kpis``: one row per plan (optimum first): objective value, distance to
    the optimum, decisions in common / added / removed, key figures.
    ``decisions``: tidy (plan, kind, decision, chosen, in_optimum).
    ``summary``: one row per decision: in_optimum, plans choosing it, share, robust.
    """

    plans: dict[str, Plan]
    kpis: pd.DataFrame
    decisions: pd.DataFrame
    summary: pd.DataFrame
    timings: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "meta": self.meta,
            "kpis": records(self.kpis),
            "summary": records(self.summary),
            "robust": self.summary.loc[self.summary.robust, "decision"].tolist(),
            "timings": self.timings,
        }


def _reference(indicators: dict[str, str], plan: Plan, data: ModelData) -> set[str]:
    """The indicators a solved plan sets to 1 (the decisions it chooses)."""
    return set(decisions_of(plan, data)) & set(indicators)


METHODS = ("maxmin", "spores")


def alternatives(
    scenario: Scenario,
    slack: float = 0.05,
    count: int = 4,
    *,
    objective: str = "cluster_npv",
    weights: dict[str, float] | None = None,
    exchanges: bool = True,
    method: str = "maxmin",
    mip_gap: float = DEFAULT_MIP_GAP,
    time_limit: float | None = None,
    threads: int | None = None,
    alt_mip_gap: float = 0.1,
    alt_time_limit: float | None = 30.0,
    one_way_limit: int = 5000,
) -> Alternatives:
    """The optimum and up to ``count`` near-optimal plans that differ most from it and each other.

    Args:
        scenario: a validated scenario.
        slack: relative slack on the objective (0.05: within 5 % of ``|optimum|``).
        count: number of alternatives besides the optimum.
        objective: the planner's objective (cluster_npv, value_added, jobs, emissions, weighted).
        weights: for ``weighted``.
        exchanges: include "arc carries flow" binaries in the distance.
        method: ``maxmin`` (the smallest distance to the earlier plans, each
            search started from a SPORES plan) or ``spores`` (the SPORES
            solves only: fast, linear).
        mip_gap, time_limit, threads: for the optimum.
        alt_mip_gap, alt_time_limit: for each alternative (the distance
            objective is a hard MIP; its incumbent at the limit is used,
            since any plan within the slack is a valid alternative).
        one_way_limit: hold every pair to the one-way rule from the start when
            that takes at most this many binaries; otherwise a pair joins when
            a plan ships both ways on it and that alternative is searched again.

    Returns:
        ``Alternatives`` (plans named ``optimum``, ``alt_1``...; tidy tables).
    """
    if slack < 0:
        raise ValueError("slack must be >= 0")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    pm = PlannerModel.from_scenario(scenario, objective, weights, mip_gap=mip_gap, time_limit=time_limit, threads=threads)
    t0 = time.perf_counter()
    first = pm.solve("optimum", strict=True)
    start = pm.snapshot()  # each alternative starts from the plan before it (z = 0 there)
    opt = float(first.objective_value if first.objective_value is not None else pm.objective_value())
    plans: dict[str, Plan] = {"optimum": pm.plan(first, objective=objective, alternative=0)}
    timings: list[dict[str, Any]] = [{"plan": "optimum", "seconds": time.perf_counter() - t0, "solver_seconds": first.seconds}]
    # the indicators join the model only after the optimum: as free binaries they would
    # only slow its branch and bound (the persistent solver adds them in place)
    labels = pm.begin_alternatives(opt, slack, exchanges, one_way_limit=one_way_limit)
    allowed = two_way(plans["optimum"])  # rows where the optimum itself ships both ways
    kinds = pm.decision_kinds
    data = pm.data
    refs = [_reference(kinds, plans["optimum"], data)]
    pm.mip_gap, pm.time_limit = alt_mip_gap, alt_time_limit
    scale = 1e-4 / max(abs(opt), 1e-9)  # among equally distant plans, the better one
    stopped = None
    bar = progress(desc="alternatives", total=count)

    def timed(label: str, polish: bool = False, new: bool = False) -> tuple[SolveResult | None, float]:
        """One solve from ``start`` (``new``: from no start, since a new plan is required and
        the plan before is at distance 0 from itself; or a polish); recorded in ``timings``.
        Returns (result or None, smallest distance to the earlier plans; -1: proven none)."""
        t = time.perf_counter()
        try:
            if polish:
                r = pm.polish(label)
            elif new:
                pm.require_distance(1.0)
                try:
                    r = pm.solve(label, strict=True)
                finally:
                    pm.require_distance(0.0)
            else:
                r = pm.solve(label, start=start, strict=True)
        except InfeasibleError:  # a required distance that no plan within the slack reaches
            timings.append({"plan": label, "seconds": time.perf_counter() - t, "solver_seconds": None, "status": "infeasible"})
            return None, -1.0
        except ModelError:  # time limit without a plan
            timings.append({"plan": label, "seconds": time.perf_counter() - t, "solver_seconds": None, "status": "no plan"})
            return None, 0.0
        z = min(pm.distances())
        timings.append({"plan": label, "seconds": time.perf_counter() - t, "solver_seconds": r.seconds, "status": r.status, "min_distance": z})
        return r, z

    def search(k: int) -> tuple[SolveResult | None, float, bool]:
        """One alternative's search: (result, its smallest distance, proven that none is left)."""
        nonlocal start
        # SPORES (Lombardi et al. 2020, integer weights): penalise every decision by the
        # number of earlier plans that chose it, among the plans at distance >= 1 from
        # every earlier one. One solve with a linear objective; infeasible: no new plan
        # exists within the slack. Its plan is where the max-min search starts, so that
        # search holds a new plan from its first node on (the first one included: on
        # synthetic_50, max-min from the optimum found no plan in 170 s).
        used = {label: -float(sum(label in r for r in refs)) for label in labels}
        pm.set_weighted_objective(used, objective=scale)
        res, zval = timed(f"alt_{k}_spores", new=True)
        if res is None and zval == 0.0:
            # the time limit came before any new plan (no start can be given: the plan before
            # is at distance 0): the same objective from the plan before, no distance required
            res, zval = timed(f"alt_{k}_spores_from_start")
        proven = zval < 0
        if res is not None and zval >= 0.5:
            start = pm.distance_start(own=True)  # the max-min search's first incumbent, at its distance
        if method == "maxmin" and not proven:
            pm.set_distance_objective(smallest=True, spread=1e-3, objective=scale)
            found, z_max = timed(f"alt_{k}")
            proven = found is not None and found.status == "optimal" and z_max < 0.5 and zval < 0.5
            if found is not None and z_max >= max(zval, 0.5):
                res, zval = found, z_max
            elif zval >= 0.5:
                # the search ended below its SPORES start (HiGHS returns its own incumbent at a
                # time limit; it should hold the start, but keep the SPORES plan regardless)
                pm.set_weighted_objective(used, objective=scale)
                res, zval = timed(f"alt_{k}_spores_again", new=True)
        return res, zval, proven

    previous = start
    for k in range(1, count + 1):
        if not labels:
            stopped = "no candidate decisions to vary"
            break
        pm.add_distance(refs[-1])
        plan = None
        while plan is None:
            start = previous
            res, zval, proven = search(k)
            if res is None or zval < 0.5:
                break
            # the best plan with the same decisions: same distances, no flows nobody needs
            # (decisions fixed, so the optimum's own gap is cheap to reach)
            pm.mip_gap = mip_gap
            res, _ = timed(f"alt_{k}_polish", polish=True)
            pm.mip_gap = alt_mip_gap
            if res is None:
                break
            candidate = pm.plan(
                res,
                objective=objective,
                alternative=k,
                objective_value=pm.objective_value(),
                min_distance=float(round(min(pm.distances()))),
                slack=slack,
                method=method,
            )
            # a swap on a pair the one-way rule does not hold yet (large models hold pairs
            # only once a plan swaps on them): hold it and search this alternative again
            swaps = {(a, b, p) for (a, b, p, t) in two_way(candidate) - allowed} - pm.one_way_pairs
            if swaps:
                pm.hold_one_way(swaps)
                continue
            plan = candidate
        if plan is None:
            if res is not None and zval >= 0.5:
                stopped = f"stopped at alternative {k}: polishing its plan found none"
            elif proven:
                stopped = f"no further distinct plan within the slack after {k - 1} alternative(s)"
            else:
                stopped = f"no further distinct plan found within the time limit of {alt_time_limit} s after {k - 1} alternative(s)"
            break
        previous = pm.distance_start()  # the plan is at distance 0 from itself
        plans[f"alt_{k}"] = plan
        refs.append(pm.chosen())
        bar.update(1)
    bar.close()
    meta = {"method": method, "one_way_rows": pm.one_way_rows, "two_way_in_optimum": sorted(map(list, two_way(plans["optimum"])))}
    return _tables(scenario, plans, opt, objective, slack, timings, stopped, len(labels), data, meta)


def _tables(
    scenario: Scenario,
    plans: dict[str, Plan],
    opt: float,
    objective: str,
    slack: float,
    timings: list[dict[str, Any]],
    stopped: str | None,
    n_candidates: int,
    data: ModelData,
    extra: dict[str, Any],
) -> Alternatives:
    decisions = decision_matrix(plans, data)
    base = decisions_of(plans["optimum"], data)
    decisions["in_optimum"] = decisions.decision.isin(list(base))
    rows = []
    for name, plan in plans.items():
        chosen = decisions_of(plan, data)
        added = sorted(set(chosen) - set(base))
        removed = sorted(set(base) - set(chosen))
        k = kpi_row(data, plan)
        value = float(plan.meta.get("objective_value") or math.nan)
        rows.append(
            {
                "plan": name,
                "objective": objective,
                "objective_value": value,
                "relative_to_optimum": value / opt if opt else math.nan,
                "distance_to_optimum": len(added) + len(removed),
                "min_distance": plan.meta.get("min_distance", 0.0),
                "common": len(set(chosen) & set(base)),
                "added": ", ".join(added),
                "removed": ", ".join(removed),
                **{c: k.get(c, math.nan) for c in KPI_COLUMNS},
            }
        )
    kpis = pd.DataFrame(rows)
    if len(decisions):
        summary = decisions.groupby(["kind", "decision"], as_index=False).agg(
            in_optimum=("in_optimum", "first"), plans_with=("chosen", "sum")
        )
        summary["share"] = summary.plans_with / len(plans)
        summary["robust"] = summary.plans_with == len(plans)
        summary["order"] = summary.kind.map(DECISION_KINDS.index)
        summary = summary.sort_values(["order", "decision"]).drop(columns="order").reset_index(drop=True)
    else:
        summary = pd.DataFrame(columns=["kind", "decision", "in_optimum", "plans_with", "share", "robust"]).astype({"robust": bool})
    meta = {
        "scenario": scenario.settings.name,
        "objective": objective,
        "optimum": opt,
        "slack": slack,
        "alternatives_found": len(plans) - 1,
        "stopped": stopped,
        "candidate_decisions": n_candidates,
        "flow_tolerance": FLOW_TOL,
        **extra,
    }
    return Alternatives(plans, kpis, decisions, summary, timings, meta)
