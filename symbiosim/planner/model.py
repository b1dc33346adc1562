"""One planner model: built once, then changed, solved and read again (``PlannerModel``).

Every user of the coordinated optimum goes through this class: ``optimise``
(one solve), ``decide`` (alternatives and Pareto fronts: new objectives,
bounds, MGA distance terms and MIP starts on one model) and ``experiments``
(``reprice``: a sample's new money handed straight to HiGHS). The Pyomo
model and the persistent HiGHS stay inside: callers name key figures and
objectives, and get back numbers, ``SolveResult``\\ s and ``Plan``\\ s.

>>> pm = PlannerModel.from_scenario(scenario)
>>> plan = pm.plan(pm.solve())                      # = optimise(scenario)
>>> pm.set_objective("emissions"); pm.add_bound("cap", "cluster_npv", lower=0.9 * plan.meta["objective_value"])
>>> greener = pm.plan(pm.solve(start=plan))          # a MIP start from the first plan

What HiGHS is told after a change (see ``solve.REFRESH``): a change made
through Pyomo (objective, constraint) lets Pyomo compare the whole model with
what HiGHS holds, as a fresh persistent solve would; ``reprice`` hands HiGHS
only the new objective (and bounds) and clears its solution and basis, so a
re-solve does not depend on what was solved before.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pyo

from symbiosim.errors import InfeasibleError, ModelError, SolverError
from symbiosim.plan import Plan
from symbiosim.planner.build import (
    MAXIMISE,
    OBJECTIVES,
    add_key_figures,
    add_objective,
    build_planner_model,
    cluster_npv_terms,
    exchange_matters,
    fallback_bound,
    supply_bound,
    trade_upper_bounds,
)
from symbiosim.planner.extract import ColumnReader
from symbiosim.planner.outcome import finish_solve, raise_diagnosis
from symbiosim.planner.signature import structure_signature
from symbiosim.planner.solve import (
    DEFAULT_MIP_GAP,
    SolveResult,
    columns_of,
    holds_model,
    last_solve_facts,
    load_model,
    make_solver,
    model_size,
    set_column_bounds,
    set_linear_objective,
    solution_values,
    solve_model,
    write_lp,
)
from symbiosim.scenario.data import ModelData, build_model_data
from symbiosim.scenario.schema import Scenario

__all__ = ["OBJECTIVES", "SINGLE_OBJECTIVES", "PlannerModel", "finish_solve", "objective_figure", "raise_diagnosis", "structure_signature"]

SINGLE_OBJECTIVES = tuple(MAXIMISE)  # the objectives that are one key figure (all but weighted)
FLOW_TOL = 1e-6  # a flow below this is no flow (as ``decide.session.FLOW_TOL``)
USE_SHARE = 0.01  # an arc "carries flow" (MGA) when it moves >= 1 % of its bound over the horizon: no trickles
_LEVEL = {None: 0, "none": 1, "objective": 2, "all": 3}  # what changed since the last solve (more: more to refresh)


def objective_figure(name: str) -> str:
    """The key figure an objective ``name`` optimises (``jobs``: mean annual jobs, the key figure ``jobs``)."""
    if name not in MAXIMISE:
        raise ModelError(f"unknown objective {name!r}: expected one of {', '.join(MAXIMISE)}")
    return name


@dataclass
class _Mga:
    """The MGA terms added to the model (``begin_alternatives``)."""

    objective: Any  # the objective the alternatives stay near
    maximise: bool
    indicators: dict[str, tuple[str, Any]]  # label -> (kind, 0/1 expression)
    distances: list[Any] = field(default_factory=list)
    one_way: int = 0  # (pair, product, period) rows held to one direction
    two_way_ok: set[tuple[str, str, str, int]] = field(default_factory=set)  # rows where the optimum ships both ways
    held: set[tuple[str, str, str]] = field(default_factory=set)  # (a, b, p), a < b: pairs under the one-way rule


class PlannerModel:
    """The planner's model of one ``ModelData``, built once, with its persistent HiGHS.

    Attributes:
        data: the numbers the model holds (``reprice`` replaces them).
        objective: the named objective (``OBJECTIVES``), the one plans
            report and alternatives stay near; after ``set_distance_objective``
            the model optimises the distances instead.
        weights: key figure -> weight, for ``weighted``.
        source, coalition: what the plans are (``planner``, ``baseline``,
            ``coalition``), copied into every plan's meta.
        build_seconds: seconds to build (the model data included with ``from_scenario``).
        mip_gap, time_limit, threads, options: used by every ``solve``.
        fallback: the big-M of last resort, when the model needed one (else None).
        solves: one dict per solve (label, status, seconds, objective_value, warm_start).
    """

    data: ModelData
    objective: str
    weights: dict[str, float] | None
    source: str
    coalition: frozenset[str] | None
    build_seconds: float
    mip_gap: float
    time_limit: float | None
    threads: int | None
    options: dict[str, Any] | None
    fallback: float | None
    solves: list[dict[str, Any]]

    def __init__(
        self,
        data: ModelData,
        objective: str = "cluster_npv",
        weights: dict[str, float] | None = None,
        *,
        mip_gap: float = DEFAULT_MIP_GAP,
        time_limit: float | None = None,
        threads: int | None = None,
        options: dict[str, Any] | None = None,
        source: str | None = None,
        coalition: frozenset[str] | None = None,
    ) -> None:
        t0 = time.perf_counter()
        self._m = build_planner_model(data, objective, weights)
        self.build_seconds = time.perf_counter() - t0
        self.data, self.objective, self.weights = data, objective, weights
        self.source = source or ("baseline" if data.baseline else "planner")
        self.coalition = coalition
        self.mip_gap, self.time_limit, self.threads, self.options = mip_gap, time_limit, threads, options
        self.fallback = fallback_bound(data) if any("no finite bound" in n for n in self._m.data_notes) else None
        self.solves = []
        self._solver = make_solver()
        self._reader = ColumnReader(self._solver)
        self._changed: str | None = "all"  # what changed since HiGHS last solved (None: nothing)
        self._stale = False  # Pyomo's key figures lag behind ``data`` (reprice gave HiGHS the numbers)
        self._loaded = True  # the last solution is in the Pyomo variables (else read from HiGHS)
        self._start: Any = None
        self._signature: str | None = None
        self._mga: _Mga | None = None
        self._custom = False  # an MGA objective replaces the named one
        self._built = {c.local_name for c in self._m.component_objects()}  # add_bound / remove never touch these

    @classmethod
    def from_scenario(
        cls,
        scenario: Scenario,
        objective: str = "cluster_npv",
        weights: dict[str, float] | None = None,
        *,
        baseline: bool = False,
        coalition: frozenset[str] | None = None,
        **settings: Any,
    ) -> PlannerModel:
        """Build the model of ``scenario`` (its baseline, or a coalition's problem).

        ``settings``: ``mip_gap``, ``time_limit``, ``threads``, ``options``.
        """
        t0 = time.perf_counter()
        data = build_model_data(scenario, baseline=baseline, coalition=coalition)
        source = "baseline" if baseline else ("coalition" if coalition is not None else "planner")
        data_seconds = time.perf_counter() - t0
        pm = cls(data, objective, weights, source=source, coalition=coalition, **settings)
        pm.build_seconds += data_seconds
        return pm

    # ------------------------------------------------------------------ what the model holds

    @property
    def model(self) -> pyo.ConcreteModel:
        """The Pyomo model (to write or inspect; change it through this class's methods)."""
        return self._m

    @property
    def notes(self) -> list[str]:
        """Modelling notes (big-M fallbacks), as reported in a plan's ``meta["notes"]``."""
        return list(self._m.data_notes)

    @property
    def key_figures(self) -> dict[str, Any]:
        """Key figure name (cluster_npv, value_added, jobs (mean annual), jobs_final_year, emissions)
        -> its expression in the model's variables."""
        self._sync()
        return dict(self._m.kpi)

    @property
    def presence(self) -> Mapping[tuple[str, int], Any]:
        """(actor, year) -> 1 when the actor is there that year (a number, or an expression of entries)."""
        return self._m.present

    @property
    def signature(self) -> str:
        """The model's structure (``structure_signature`` of its data)."""
        if self._signature is None:
            self._signature = structure_signature(self.data)
        return self._signature

    def counts(self) -> dict[str, int]:
        """Variables (fixed, binary, integer) and active constraints of the Pyomo model."""
        n_vars = n_bin = n_int = n_fixed = 0
        for v in self._m.component_data_objects(pyo.Var, descend_into=True):
            n_vars += 1
            if v.fixed:
                n_fixed += 1
            elif v.is_binary():
                n_bin += 1
            elif v.is_integer():
                n_int += 1
        n_cons = sum(1 for _ in self._m.component_data_objects(pyo.Constraint, active=True, descend_into=True))
        return {"variables": n_vars, "fixed_variables": n_fixed, "binaries": n_bin, "integers": n_int, "constraints": n_cons}

    def send_to_solver(self) -> None:
        """Hand the model to HiGHS now and check its numbers (otherwise the first solve does)."""
        if not holds_model(self._solver):
            load_model(self._solver, self._m)

    def size(self) -> dict[str, int]:
        """Columns, rows and nonzeros HiGHS holds (empty before the first solve)."""
        return model_size(self._solver)

    def solver_facts(self) -> dict[str, Any]:
        """HiGHS's and Pyomo's timings and counts of the last solve (benchmarks)."""
        return last_solve_facts(self._solver)

    def write_lp(self, path: str) -> None:
        """Write the model as an LP file with readable names, without solving it."""
        write_lp(self._m, path)

    def value(self, figure: str) -> float:
        """The value of a key figure (a name of ``key_figures``) in the last solution."""
        self._sync()
        self._load()
        if figure not in self._m.kpi:
            raise ModelError(f"unknown key figure {figure!r}: expected one of {', '.join(self._m.kpi)}")
        return float(pyo.value(self._m.kpi[figure]))

    def objective_value(self, name: str | None = None) -> float:
        """The value of objective ``name`` (jobs: mean annual jobs; None: the named objective) in the last solution."""
        expr, _ = self._named(name)
        self._load()
        return float(pyo.value(expr))

    @staticmethod
    def maximises(name: str) -> bool:
        """Is objective ``name`` maximised (emissions: minimised)?"""
        objective_figure(name)  # a known objective
        return MAXIMISE[name]

    # ------------------------------------------------------------------ changes

    def set_objective(self, name: str, weights: dict[str, float] | None = None) -> None:
        """Optimise ``name`` (``OBJECTIVES``; ``weighted`` with ``weights``) from the next solve on."""
        if name not in OBJECTIVES:
            raise ModelError(f"unknown objective {name!r}: expected one of {', '.join(OBJECTIVES)}")
        self._sync()
        old = self._m.objective
        self._m.del_component(old)
        try:
            add_objective(self._m, name, weights)
        except ModelError:
            self._m.add_component("objective", old)
            raise
        self.objective, self.weights, self._custom = name, weights, False
        self._change("all")

    def add_bound(self, name: str, objective: str | None = None, *, lower: float | None = None, upper: float | None = None) -> None:
        """Add (or replace) constraint ``name``: ``lower <= objective <= upper`` (either side may be None).

        ``objective``: an objective name (jobs: mean annual jobs), or None for
        the named objective the model optimises (``weighted`` included).
        """
        if lower is None and upper is None:
            raise ModelError(f"bound {name!r} needs a lower or an upper value")
        expr, _ = self._named(objective)
        if lower is not None and upper is not None:
            rel: Any = pyo.inequality(lower, expr, upper)
        else:
            rel = expr >= lower if lower is not None else expr <= upper
        self._put(name, rel)

    def remove(self, name: str) -> None:
        """Remove constraint ``name`` (added by ``add_bound``); nothing when there is none."""
        if name in self._built:
            raise ModelError(f"{name!r} is part of the planner's model, not an added constraint")
        if hasattr(self._m, name):
            self._m.del_component(getattr(self._m, name))
            self._change("all")

    def set_bounds(self, variable: str, bounds: Mapping[Any, tuple[float | None, float | None]]) -> None:
        """New bounds of some variables: ``variable`` is a component (``sell``, ``buy``, ``act``,
        ``flow``...), ``bounds`` maps its index to ``(lower, upper)`` (None: unbounded).
        Pyomo and HiGHS are kept in step (HiGHS gets them at once when it holds the model)."""
        var = getattr(self._m, variable, None)
        if not isinstance(var, pyo.Var):
            raise ModelError(f"unknown variable {variable!r} of the planner's model")
        vs = [var[i] for i in bounds]
        lower = [b[0] for b in bounds.values()]
        upper = [b[1] for b in bounds.values()]
        for v, lo, hi in zip(vs, lower, upper, strict=True):
            v.setlb(lo)
            v.setub(hi)
        if holds_model(self._solver):
            set_column_bounds(self._solver, vs, lower, upper)

    def reprice(self, data: ModelData) -> bool:
        """Take ``data``'s numbers if it has this model's structure (``structure_signature``).

        The new objective coefficients go to HiGHS directly (cluster NPV: as
        numbers; other objectives: Pyomo re-sends the objective only), and so
        do the sale limits of existing actors (variable bounds: a market
        volume may be sampled). Returns False, changing nothing, when the
        structure differs: build a new model then.
        """
        if self._mga is not None:
            raise ModelError("reprice needs a named objective and no alternatives terms")
        if structure_signature(data) != self.signature:
            return False
        if self.fallback is not None and self.fallback != fallback_bound(data):  # the big-M of last resort moved
            return False
        self.data = data
        if self.objective == "cluster_npv" and holds_model(self._solver) and self._changed in (None, "none"):
            # the numbers straight to HiGHS (Pyomo's objective is rebuilt only when Pyomo would send it)
            npv = cluster_npv_terms(self._m, data)
            set_linear_objective(self._solver, npv.constant, npv.coefs, maximise=True)
            self._stale = True
            self._change("none")
        else:
            self._rebuild_objective()
        sells = [(a, p) for (a, p) in data.sale_limit if not data.is_candidate_actor(a)]
        if sells:  # market volumes may be sampled: re-set their bounds
            bounds: dict[Any, tuple[float | None, float | None]] = {}
            for a, p in sells:
                for t, ub in enumerate(trade_upper_bounds(data, "sell", a, p)):
                    bounds[(a, p, t)] = (0.0, ub)
            self.set_bounds("sell", bounds)
        return True

    def warm_start(self, start: Plan | np.ndarray | None) -> None:
        """Start the next solve from a plan, or from a ``snapshot`` (a MIP start); None: no start."""
        self._start = start

    def snapshot(self) -> np.ndarray:
        """The last solution's column values (a start for a later solve)."""
        return solution_values(self._solver)

    # ------------------------------------------------------------------ alternatives (MGA)

    def begin_alternatives(self, optimum: float, slack: float, exchanges: bool = True, *, one_way_limit: int = 5000) -> list[str]:
        """Prepare the model for near-optimal alternatives; returns the decision labels.

        Call it after solving the optimum: its flows, read from the last
        solution, keep the optimum feasible below. Adds one 0/1 indicator per
        candidate decision (entry, build, link and, with ``exchanges``, an
        "arc carries flow" binary per arc that needs no link and whose use is
        a symbiosis decision (``exchange_matters``: no relays of bought
        goods); see ``decide.alternatives``), the constraint that keeps the
        named objective within ``slack |optimum|`` of ``optimum``, the
        smallest distance ``z`` (``add_distance`` bounds it) and the one-way
        rule: between two actors that may ship a product to each other, per
        period, at most one direction carries it, except where the optimum
        ships both ways (``hold_one_way``). The rule holds every pair from the
        start when that is at most ``one_way_limit`` binaries (Orkanger: 300);
        otherwise (synthetic_50: 54,500) pairs join when a plan swaps on them
        (``hold_one_way``, called by ``decide.alternatives``).
        """
        if self._mga is not None:
            raise ModelError("alternatives were already begun on this model")
        self._sync()
        expr, maximise = self._named(None)
        flows = self._last_flows()
        self._mga = _Mga(expr, maximise, self._indicators(exchanges, flows))
        margin = slack * abs(optimum)
        if maximise:
            self._put("decide_near_optimal", expr >= optimum - margin)
        else:
            self._put("decide_near_optimal", expr <= optimum + margin)
        self._m.decide_z = pyo.Var(domain=pyo.NonNegativeReals, doc="smallest distance to an earlier plan (MGA)")
        self._m.decide_dist = pyo.ConstraintList()
        self._mga.two_way_ok = {
            (a, b, p, t) for (a, b, p, t), v in flows.items() if a < b and v > FLOW_TOL and flows.get((b, a, p, t), 0.0) > FLOW_TOL
        }
        pairs = [(a, b, p) for (a, b, p) in self.data.arcs if a < b and (b, a, p) in self.data.arcs]
        if len(pairs) * self.data.periods <= one_way_limit:
            self.hold_one_way(pairs)
        return list(self._mga.indicators)

    def _last_flows(self) -> dict[tuple[str, str, str, int], float]:
        """Flows of the last solution (empty when nothing was solved and loaded)."""
        if not self._loaded or not self.solves:
            return {}
        return {i: float(v.value) for i, v in self._m.flow.items() if v.value is not None}

    def hold_one_way(self, pairs: Iterable[tuple[str, str, str]]) -> int:
        """Put the pairs (a, b, p), a < b, under the one-way rule; returns the rows added.

        Per (pair, product, period), a binary picks the direction that may carry flow.

        Why a binary and not a penalty: a plan shipping x a->b and y b->a in one
        period is matched, balance for balance, by the plan shipping only the
        net |x - y| one way. The netted plan keeps every build, entry and link,
        respects every capacity (flows only shrink) and the subsidy safeguards
        (less is sent and received), and costs no more: the flow items of the
        ledger are transport (a cost) and the exchange subsidy, which the
        safeguards already deny to two-way shipments (an actor that is both
        sender and receiver of a subsidised product is one or the other per
        period). So forbidding same-period two-way flows removes only plans
        that are dominated duplicates of a netted plan, never a distinct
        alternative, and the slack constraint is untouched. A penalty would
        instead trade swaps against distance at some price; netting after the
        solve would change the plan the solver certified. Seasonal reversal
        (a->b in one period, b->a in another) stays allowed. The bound M is the
        arc's per-period bound (capacity, link bound, or the most of the
        product that can exist), else the big-M of last resort.
        """
        mga = self._need_mga()
        m, data = self._m, self.data
        rows: list[tuple[str, str, str, int]] = []
        bound: dict[tuple[str, str, str], float] = {}
        for (a, b, p) in sorted(set(pairs) - mga.held):
            if a > b or (a, b, p) not in data.arcs or (b, a, p) not in data.arcs:
                raise ModelError(f"no two-way pair {a} <-> {b} ({p}) with {a} < {b}")
            mga.held.add((a, b, p))
            for key in ((a, b, p), (b, a, p)):
                other = data.arcs[key]
                per = other.capacity / data.ppy if other.capacity is not None else supply_bound(data, p)
                bound[key] = per if math.isfinite(per) and per > 0 else fallback_bound(data)
            rows += [(a, b, p, t) for t in range(data.periods) if (a, b, p, t) not in mga.two_way_ok]
        if not rows:
            return 0
        n = len([c for c in m.component_objects(pyo.Var) if c.local_name.startswith("decide_dir")])
        d = pyo.Var(rows, domain=pyo.Binary, doc="1: a -> b may carry p in t, 0: b -> a may (MGA one-way rule)")
        m.add_component(f"decide_dir{n}", d)
        m.add_component(f"decide_dir{n}_ab", pyo.Constraint(rows, rule=lambda m, a, b, p, t: m.flow[a, b, p, t] <= bound[(a, b, p)] * d[a, b, p, t]))
        m.add_component(
            f"decide_dir{n}_ba", pyo.Constraint(rows, rule=lambda m, a, b, p, t: m.flow[b, a, p, t] <= bound[(b, a, p)] * (1 - d[a, b, p, t]))
        )
        mga.one_way += len(rows)
        self._change("all")
        return len(rows)

    @property
    def one_way_pairs(self) -> set[tuple[str, str, str]]:
        """The pairs (a, b, p), a < b, under the one-way rule."""
        return set(self._need_mga().held)

    @property
    def one_way_rows(self) -> int:
        """(pair, product, period) rows the one-way rule holds to one direction (after ``begin_alternatives``)."""
        return self._need_mga().one_way

    @property
    def decision_kinds(self) -> dict[str, str]:
        """Decision label -> kind of every indicator (after ``begin_alternatives``)."""
        return {label: kind for label, (kind, _) in self._need_mga().indicators.items()}

    def add_distance(self, chosen: Iterable[str]) -> None:
        """Add the Hamming distance to a plan that chooses the decisions ``chosen``: ``z <= distance``."""
        mga = self._need_mga()
        picked = set(chosen)
        dist = sum((1 - expr) if label in picked else expr for label, (_, expr) in mga.indicators.items())
        mga.distances.append(dist)
        self._m.decide_dist.add(self._m.decide_z <= dist)
        self._change("all")

    def set_distance_objective(self, *, smallest: bool, spread: float, objective: float) -> None:
        """Maximise ``z`` (with ``smallest``) + ``spread`` x the sum of the distances + ``objective``
        x the named objective (negated when that is minimised)."""
        mga = self._need_mga()
        scale = objective if mga.maximise else -objective
        expr = spread * sum(mga.distances) + scale * mga.objective
        if smallest:
            expr = self._m.decide_z + expr
        self._m.del_component(self._m.objective)
        self._m.objective = pyo.Objective(expr=expr, sense=pyo.maximize)
        self._custom = True
        self._change("all")

    def set_weighted_objective(self, weights: Mapping[str, float], *, objective: float) -> None:
        """Maximise the sum of ``weights[label]`` x that decision's indicator + ``objective`` x the
        named objective (negated when that is minimised). SPORES-style (Lombardi et al. 2020):
        negative weights on the decisions earlier plans chose push the next plan away from them."""
        mga = self._need_mga()
        scale = objective if mga.maximise else -objective
        expr = sum(w * mga.indicators[label][1] for label, w in weights.items() if w) + scale * mga.objective
        self._m.del_component(self._m.objective)
        self._m.objective = pyo.Objective(expr=expr, sense=pyo.maximize)
        self._custom = True
        self._change("all")

    def require_distance(self, minimum: float) -> None:
        """Hold the smallest distance ``z`` to the earlier plans at ``minimum`` or more from the next
        solve on (1: only a new plan will do; 0: none required). A solve that finds no such plan
        within the slack is infeasible."""
        self._need_mga()
        self._m.decide_z.setlb(float(minimum))  # HiGHS may not hold z yet: Pyomo sends the bound at the next solve
        self._change("all")

    def chosen(self) -> set[str]:
        """The decision labels whose indicator is 1 in the last solution."""
        self._load()
        return {label for label, (_, expr) in self._need_mga().indicators.items() if pyo.value(expr) > 0.5}

    def polish(self, label: str = "polish") -> SolveResult:
        """Re-optimise the named objective with every decision of the last solution held fixed.

        The distance solves care about the decisions only; their flows are
        whatever the solver left (any plan within the slack will do). Holding
        the entry, build, link and arc-use binaries at their values and
        optimising the named objective gives the best plan that makes the same
        decisions: same distances, an objective at least as good (the last
        solution is the start), no transport spent on flows nobody needs. The
        binaries are freed and the distance objective put back afterwards.
        """
        mga = self._need_mga()
        self._load()
        m = self._m
        held: dict[str, dict[Any, tuple[float | None, float | None]]] = {}
        for name in ("enter", "build", "link", "decide_uses"):
            var = getattr(m, name, None)
            if var is None:
                continue
            values = {i: float(round(pyo.value(var[i]))) for i in var}
            held[name] = {i: (v, v) for i, v in values.items()}
        start = self.snapshot()
        before = m.objective
        m.del_component(before)
        m.objective = pyo.Objective(expr=mga.objective, sense=pyo.maximize if mga.maximise else pyo.minimize)
        self._change("all")
        for name, bounds in held.items():
            self.set_bounds(name, bounds)
        try:
            return self.solve(label, start=start, strict=True)
        finally:
            for name, bounds in held.items():
                self.set_bounds(name, {i: (0.0, 1.0) for i in bounds})
            m.del_component(m.objective)
            m.add_component("objective", before)
            self._change("all")

    def distances(self) -> list[float]:
        """Distances of the last solution to every plan added (``add_distance``)."""
        self._load()
        return [float(pyo.value(d)) for d in self._need_mga().distances]

    def smallest_distance(self) -> float:
        """``z`` in the last solution."""
        self._load()
        return float(pyo.value(self._m.decide_z))

    def distance_start(self, *, own: bool = False) -> np.ndarray:
        """The last solution as a start: ``z = 0`` (it is at distance 0 from itself, once added
        with ``add_distance``), or with ``own`` its smallest distance to the plans added so far
        (whole decisions: rounded down), so the next max-min solve holds it as its incumbent."""
        start = self.snapshot()
        z = float(math.floor(min(self.distances()) + 1e-6)) if own and self._need_mga().distances else 0.0
        start[columns_of(self._solver, [self._m.decide_z])[0]] = z
        return start

    # ------------------------------------------------------------------ solve and read

    def solve(self, label: str = "solve", *, start: Plan | np.ndarray | None = None, load: bool = True, strict: bool = False) -> SolveResult:
        """Solve with the persistent HiGHS (``mip_gap``, ``time_limit``, ``threads``, ``options``).

        Args:
            label: names the solve in ``solves`` and in errors.
            start: a plan or ``snapshot`` to start from (MIP start), else the
                one given to ``warm_start``. With a start, a time-limited
                solve returns a plan at least as good as the start.
            load: load the solution into Pyomo's variables (False: ``plan``
                reads it from HiGHS, faster for a batch).
            strict: raise when no plan is found (``InfeasibleError``,
                ``SolverError``, ``ModelError``, each naming ``label``);
                otherwise ``plan`` raises, with a diagnosis.
        """
        start = self._start if start is None else start
        self._start = None
        if self._stale and (start is not None or self._changed != "none"):
            self._sync()  # Pyomo will send its objective: bring it up to the repriced numbers first
        x: Any = None
        if start is not None:
            x = self._plan_start(start) if isinstance(start, Plan) else start
        refresh = "all" if self._changed in (None, "all") else self._changed
        res = solve_model(
            self._m,
            time_limit=self.time_limit,
            threads=self.threads,
            mip_gap=self.mip_gap,
            solver=self._solver,
            refresh=refresh,
            options=self.options,
            start=x,
            load=load,
        )
        self._changed, self._loaded = None, load
        self.solves.append(
            {"label": label, "status": res.status, "seconds": res.seconds, "objective_value": res.objective_value, "warm_start": start is not None}
        )
        if strict:
            if res.status == "infeasible":
                raise InfeasibleError([f"{label}: no plan satisfies the constraints"])
            if res.status == "error" and not res.has_solution:
                raise SolverError(f"{label}: {res.message}")
            if not res.has_solution:
                raise ModelError(f"{label}: no plan found ({res.status})")
        return res

    def plan(self, result: SolveResult, **meta: Any) -> Plan:
        """The plan of a solve, with the solve's facts in ``meta`` (``meta`` given here win).

        Raises the diagnosis when the solve found no plan (``finish_solve``).
        """
        base = {
            "source": self.source,
            "coalition": sorted(self.coalition) if self.coalition is not None else None,
            "build_seconds": self.build_seconds,
        }
        values = self._reader.load() if (not self._loaded and result.has_solution) else None
        return finish_solve(self._m, self.data, result, self.objective, self.weights, base, self.time_limit, values, meta)

    # ------------------------------------------------------------------ inside

    def _change(self, level: str) -> None:
        if _LEVEL[level] > _LEVEL[self._changed]:
            self._changed = level

    def _sync(self) -> None:
        """Bring Pyomo's key figures and objective up to ``data`` after a ``reprice``."""
        if self._stale:
            self._rebuild_objective()

    def _rebuild_objective(self) -> None:
        self._m.del_component(self._m.objective)
        add_key_figures(self._m, self.data)
        add_objective(self._m, self.objective, self.weights)
        self._stale = False
        self._change("objective")

    def _load(self) -> None:
        """Make the last solution readable from Pyomo's variables."""
        if not self._loaded:
            raise ModelError("the last solve did not load its solution (load=False): read it with plan()")

    def _named(self, name: str | None) -> tuple[Any, bool]:
        """(expression, maximise?) of objective ``name`` (None: the model's named objective)."""
        self._sync()
        if name is None:
            if self._mga is not None:
                return self._mga.objective, self._mga.maximise
            name = self.objective
            if name == "weighted":
                return self._m.objective.expr, True
        return self._m.kpi[objective_figure(name)], MAXIMISE[name]

    def _put(self, name: str, rel: Any) -> None:
        if name in self._built:
            raise ModelError(f"{name!r} is part of the planner's model, not an added constraint")
        if hasattr(self._m, name):
            self._m.del_component(getattr(self._m, name))
        if isinstance(rel, bool):  # a key figure that is constant in this scenario: Pyomo compared two numbers
            rel = pyo.Constraint.Feasible if rel else pyo.Constraint.Infeasible
        setattr(self._m, name, pyo.Constraint(expr=rel))
        self._change("all")

    def _need_mga(self) -> _Mga:
        if self._mga is None:
            raise ModelError("begin_alternatives first")
        return self._mga

    def _indicators(self, exchanges: bool, flows: Mapping[tuple[str, str, str, int], float]) -> dict[str, tuple[str, Any]]:
        """Decision label -> (kind, 0/1 expression) for every candidate decision of the model.

        An arc's use binary ties its flow over the horizon to ``floor <= flow <= bound`` when 1
        (0 when 0): ``floor`` is ``USE_SHARE`` of the bound, or the optimum's own flow on the arc
        (``flows``) when that is smaller, so the optimum stays a feasible plan."""
        m, data = self._m, self.data
        out: dict[str, tuple[str, Any]] = {}
        groups: dict[str, dict[Any, list[Any]]] = {"entry": {}, "build": {}, "link": {}}
        for idx in m.enter:
            groups["entry"].setdefault(idx[0], []).append(m.enter[idx])
        for idx in m.build:
            groups["build"].setdefault((idx[0], idx[1]), []).append(m.build[idx])
        for idx in m.link:
            groups["link"].setdefault((idx[0], idx[1], idx[2]), []).append(m.link[idx])
        for a, vs in groups["entry"].items():
            out[f"entry:{a}"] = ("entry", sum(vs))
        for (a, k), vs in groups["build"].items():
            out[f"build:{a}/{k}"] = ("build", sum(vs))
        for (a, b, p), vs in groups["link"].items():
            out[f"link:{a}->{b}:{p}"] = ("link", sum(vs))
        if exchanges:
            keys, bounds, floors = [], {}, {}
            for key, arc in data.arcs.items():
                if arc.buildable or not exchange_matters(data, key):
                    continue
                per = arc.capacity / data.ppy if arc.capacity is not None else supply_bound(data, arc.product)
                if not math.isfinite(per) or per <= 0:
                    continue
                keys.append(key)
                bounds[key] = per * data.periods
                used = sum(flows.get((*key, t), 0.0) for t in range(data.periods))
                floors[key] = min(USE_SHARE * bounds[key], used) if used > FLOW_TOL else USE_SHARE * bounds[key]
            m.decide_uses = pyo.Var(keys, domain=pyo.Binary, doc="arc carries flow over the horizon (MGA)")

            def total(m: Any, a: str, b: str, p: str) -> Any:
                return sum(m.flow[a, b, p, t] for t in range(data.periods))

            m.decide_uses_up = pyo.Constraint(keys, rule=lambda m, a, b, p: total(m, a, b, p) <= bounds[(a, b, p)] * m.decide_uses[a, b, p])
            m.decide_uses_lo = pyo.Constraint(
                keys, rule=lambda m, a, b, p: total(m, a, b, p) >= floors[(a, b, p)] * m.decide_uses[a, b, p]
            )
            for a, b, p in keys:
                out[f"exchange:{a}->{b}:{p}"] = ("exchange", m.decide_uses[a, b, p])
            self._change("all")
        return out

    def _plan_start(self, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
        """(columns, values) of a plan: its quantities and decisions, 0 where it has no row;
        other columns (role binaries, MGA terms) are left to HiGHS to complete."""
        if not holds_model(self._solver):
            load_model(self._solver, self._m)
            self._changed = "objective" if self._changed == "all" else self._changed
        m = self._m
        given: list[tuple[Any, dict[Any, float]]] = [
            (m.act, {(r.actor, r.process, r.period): r.value for r in plan.activities.itertuples()}),
            (m.buy, {(r.actor, r.product, r.period): r.value for r in plan.purchases.itertuples()}),
            (m.sell, {(r.actor, r.product, r.period): r.value for r in plan.sales.itertuples()}),
            (m.dump, {(r.actor, r.product, r.period): r.value for r in plan.disposals.itertuples()}),
            (m.store, {(r.actor, r.product, r.period): r.value for r in plan.storage.itertuples()}),
            (m.flow, {(r.source, r.target, r.product, r.period): r.value for r in plan.flows.itertuples()}),
        ]
        b = plan.builds
        given.append((m.enter, {(r.actor, r.year): 1.0 for r in b[b.kind == "actor"].itertuples()}))
        given.append((m.build, {(r.actor, r.process, r.year): 1.0 for r in b[b.kind == "process"].itertuples()}))
        given.append((m.link, {(r.actor, r.target, r.product, r.year): 1.0 for r in b[b.kind == "link"].itertuples()}))
        variables: list[Any] = []
        values: list[float] = []
        for var, rows in given:
            for index in var:
                variables.append(var[index])
                values.append(float(rows.get(index, 0.0)))
        return columns_of(self._solver, variables), np.asarray(values, dtype=float)
