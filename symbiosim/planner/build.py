r"""Build the coordinated-optimum MILP (Pyomo) from ``ModelData``.

Symbols (period :math:`t`, year :math:`y(t)`, discount :math:`\delta_y=(1+r)^{-y}`):

=======================  ==========================  =====================================
symbol                   attribute                   meaning (unit)
=======================  ==========================  =====================================
:math:`x_{akt}`          ``m.act[a,k,t]``            activity of process k at actor a
:math:`u_{apt}`          ``m.buy[a,p,t]``            purchase from outside (unit)
:math:`v_{apt}`          ``m.sell[a,p,t]``           sale outside (unit)
:math:`w_{apt}`          ``m.dump[a,p,t]``           disposal (unit)
:math:`f_{abpt}`         ``m.flow[a,b,p,t]``         flow a -> b (unit)
:math:`s_{apt}`          ``m.store[a,p,t]``          storage level at the end of t (unit)
:math:`e_{ay}`           ``m.enter[a,y]``            candidate actor a enters in year y
:math:`b_{aky}`          ``m.build[a,k,y]``          candidate process built in year y
:math:`l_{abpy}`         ``m.link[a,b,p,y]``         candidate link built in year y
=======================  ==========================  =====================================

Presence is cumulative: :math:`E_{ay}=\sum_{y'\le y} e_{ay'}` (1 for existing
actors), likewise built processes :math:`B_{aky}` and links :math:`L_{abpy}`;
each candidate is chosen at most once (one build-year binary per year, no
per-period switches: the tight formulation).

Balance, every actor a, product p, period t:

.. math:: \sum_k o_{kp} x_{akt} + u_{apt} + \sum_b f_{bapt} + s_{ap,t-1}
          = \sum_k i_{kp} x_{akt} + v_{apt} + \sum_b f_{abpt} + w_{apt} + s_{apt}

Capacity :math:`x_{akt}\le \bar x_{ak}/n\,B_{ak,y(t)}`, fixed activity
:math:`x_{akt}= F_{ak}/n\,\phi_{t}\,B_{ak,y(t)}`, minimum per year
:math:`\sum_{t\in y}x_{akt}\ge \underline x_{ak} B_{aky}` (n periods per year).

Subsidy safeguard (only for products with an exchange subsidy): an actor
sends only what it produces itself in that period (no relaying of purchased
or received goods); what an actor receives is used in that period
(consumed or sold, net of its own output); and an actor that both produces
and receives a product is, per period, either a sender or a receiver
(binary). Together these make circulating goods (A -> B -> A), relaying and
swapping one's own output for a neighbour's worthless to the subsidy.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pyomo.environ as pyo
from pyomo.repn.standard_repn import generate_standard_repn

from symbiosim import ledger
from symbiosim.errors import ModelError
from symbiosim.scenario.data import ModelData

log = logging.getLogger(__name__)

OBJECTIVES = ("cluster_npv", "value_added", "jobs", "emissions", "weighted")
MAXIMISE = {"cluster_npv": True, "value_added": True, "jobs": True, "emissions": False}


@dataclass
class BigM:
    """Per-period bounds used to switch variables off before something exists."""

    value: float
    note: str | None = None


def build_planner_model(
    data: ModelData,
    objective: str = "cluster_npv",
    weights: dict[str, float] | None = None,
) -> pyo.ConcreteModel:
    """Build the planner's Pyomo model.

    Args:
        data: the scenario hand-off (``build_model_data``).
        objective: ``cluster_npv`` (default), ``value_added``, ``jobs``,
            ``emissions`` (minimised) or ``weighted``.
        weights: for ``weighted``: ``{key figure: weight}``; the model
            maximises the weighted sum (give emissions a negative weight).

    Returns:
        The model; ``m.kpi[name]`` holds every key figure as an expression.
    """
    if objective not in OBJECTIVES:
        raise ModelError(f"unknown objective {objective!r}: expected one of {', '.join(OBJECTIVES)}")
    m = pyo.ConcreteModel(name=data.scenario.settings.name)
    m.data_notes = []  # big-M fallbacks, reported in the plan's meta
    add_time(m, data)
    add_investments(m, data)
    add_activities(m, data)
    add_trades(m, data)
    add_flows(m, data)
    add_storage(m, data)
    add_balances(m, data)
    add_subsidy_safeguards(m, data)
    add_key_figures(m, data)
    add_objective(m, objective, weights)
    return m


# --------------------------------------------------------------------------
# bounds


def _big_m(data: ModelData, bound: float, what: str, notes: list[str]) -> float:
    """A finite bound for switching ``what`` off; falls back to a large number, noted."""
    if math.isfinite(bound):
        return max(bound, 0.0)
    fallback = fallback_bound(data)
    notes.append(f"{what} has no finite bound; used {fallback:.3g} per period (set a capacity or limit)")
    return fallback


def fallback_bound(data: ModelData) -> float:
    finite = [data.activity_bound(ap) for ap in data.actor_processes]
    finite += [data.trade_bound(lim, None) for lim in [*data.purchase_limit.values(), *data.sale_limit.values()]]
    finite = [b for b in finite if math.isfinite(b)]
    return 10.0 * max([1e6, *finite])


def production_bound(data: ModelData, a: str, p: str) -> float:
    return sum(coef * data.activity_bound((a, k)) for k, coef in data.produced_by.get((a, p), ()))


def supply_bound(data: ModelData, p: str) -> float:
    """Most of ``p`` that can exist in the cluster in one period."""
    total = 0.0
    for (a, q) in data.balance_keys:
        if q != p:
            continue
        total += production_bound(data, a, p)
        if (a, p) in data.purchase_limit:
            total += data.trade_bound(data.purchase_limit[(a, p)], None)
        total += data.storage_capacity.get((a, p), 0.0)
    return total


def exchange_matters(data: ModelData, key: tuple[str, str, str]) -> bool:
    """Is using arc ``key`` (source, target, product) a symbiosis decision?

    Yes when the source makes the product itself (a process of it outputs it)
    or the arc is a declared link. No for a *relay*: a trucked arc out of an
    actor that only buys (or receives) the product. Which of two buyers fetches
    a market good for the other is a purchasing detail, not an exchange between
    their processes: at equal prices it only adds transport cost, and under a
    small price perturbation its direction flips with whichever price is lower
    (Orkanger's quartz between Elkem and Washington Mills, plastic packaging
    between Isfjord and Norsk Kylling). Relays stay in the plans' flows; they
    are not counted as decisions (``decide``) nor rewarded by MGA distances.
    """
    a, b, p = key
    if data.produced_by.get((a, p)) or data.arcs[key].buildable:
        return True
    return any(r.from_ == a and r.to == b and r.product == p for r in data.scenario.links)


# --------------------------------------------------------------------------
# components


def add_time(m: pyo.ConcreteModel, data: ModelData) -> None:
    m.T = pyo.RangeSet(0, data.periods - 1, doc="periods")
    m.Y = pyo.RangeSet(0, data.years - 1, doc="years")


def add_investments(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Build-year binaries for candidate actors, processes and links."""
    enter_idx = [(a, y) for a in data.actors if data.is_candidate_actor(a) for y in range(data.actors[a].earliest_year, data.years)]
    build_idx = [
        (*ap, y)
        for ap in data.actor_processes
        if data.is_candidate_process(ap)
        for y in range(data.first_build_year(ap), data.years)
    ]
    link_idx = [(*arc.key, y) for arc in data.arcs.values() if arc.buildable for y in range(data.first_link_year(arc), data.years)]
    m.enter = pyo.Var(enter_idx, domain=pyo.Binary, doc="candidate actor enters in year y (0/1)")
    m.build = pyo.Var(build_idx, domain=pyo.Binary, doc="candidate process built in year y (0/1)")
    m.link = pyo.Var(link_idx, domain=pyo.Binary, doc="candidate link built in year y (0/1)")

    by_actor: dict[str, list[Any]] = defaultdict(list)
    for a, y in enter_idx:
        by_actor[a].append((a, y))
    by_ap: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for bi in build_idx:
        by_ap[(bi[0], bi[1])].append(bi)
    by_link: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    for li in link_idx:
        by_link[(li[0], li[1], li[2])].append(li)
    m.enter_once = pyo.Constraint(list(by_actor), rule=lambda m, a: sum(m.enter[i] for i in by_actor[a]) <= 1)
    m.build_once = pyo.Constraint(list(by_ap), rule=lambda m, a, k: sum(m.build[i] for i in by_ap[(a, k)]) <= 1)
    m.link_once = pyo.Constraint(list(by_link), rule=lambda m, a, b, p: sum(m.link[i] for i in by_link[(a, b, p)]) <= 1)

    def cumulative(var: Any, items: list[Any], y: int) -> Any:
        return sum(var[i] for i in items if i[-1] <= y)

    # Presence expressions: 1 for what exists, a cumulative sum of binaries otherwise.
    m.present = {
        (a, y): (1 if not data.is_candidate_actor(a) else cumulative(m.enter, by_actor[a], y))
        for a in data.actors
        for y in range(data.years)
    }
    m.built = {
        (*ap, y): (1 if not data.is_candidate_process(ap) else cumulative(m.build, by_ap[ap], y))
        for ap in data.actor_processes
        for y in range(data.years)
    }
    m.linked = {
        (*arc.key, y): cumulative(m.link, by_link[arc.key], y) for arc in data.arcs.values() if arc.buildable for y in range(data.years)
    }

    proc_after_actor = [
        (*ap, y) for ap in by_ap if data.is_candidate_actor(ap[0]) for y in range(data.first_build_year(ap), data.years)
    ]
    m.process_needs_actor = pyo.Constraint(
        proc_after_actor, rule=lambda m, a, k, y: m.built[a, k, y] <= m.present[a, y], doc="built only once the actor is present"
    )
    link_ends = [
        (*key, y, end)
        for key in by_link
        for y in range(data.first_link_year(data.arcs[key]), data.years)
        for end in (key[0], key[1])
        if data.is_candidate_actor(end)
    ]
    m.link_needs_actors = pyo.Constraint(
        link_ends, rule=lambda m, a, b, p, y, end: m.linked[a, b, p, y] <= m.present[end, y], doc="links join present actors"
    )


def add_activities(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Activity variables with capacity, fixed and minimum activity."""
    idx = [(a, k, t) for (a, k) in data.actor_processes for t in range(data.periods)]
    m.act = pyo.Var(idx, domain=pyo.NonNegativeReals, doc="activity per period (activity units)")
    cap_rows, fixed_rows = [], []
    for (a, k), r in data.actor_processes.items():
        candidate = data.is_candidate_process((a, k))
        for t in range(data.periods):
            if r.fixed_activity is not None:
                level = r.fixed_activity / data.ppy * data.factor(r.profile, t)
                if candidate:
                    fixed_rows.append((a, k, t))
                else:
                    m.act[a, k, t].fix(level)
            elif candidate:
                cap_rows.append((a, k, t))
            elif r.capacity is not None:
                m.act[a, k, t].setub(r.capacity / data.ppy)
    cap_bound = {
        (a, k): _big_m(data, data.activity_bound((a, k)), f"candidate process {k} at {a}", m.data_notes)
        for (a, k) in dict.fromkeys((a, k) for a, k, _ in cap_rows)
    }
    m.capacity = pyo.Constraint(
        cap_rows,
        rule=lambda m, a, k, t: m.act[a, k, t] <= cap_bound[(a, k)] * m.built[a, k, data.year_of(t)],
        doc="activity <= capacity / n x built (activity)",
    )

    def fixed_rule(m: Any, a: str, k: str, t: int) -> Any:
        r = data.actor_processes[(a, k)]
        level = (r.fixed_activity or 0.0) / data.ppy * data.factor(r.profile, t)
        return m.act[a, k, t] == level * m.built[a, k, data.year_of(t)]

    m.fixed_activity = pyo.Constraint(fixed_rows, rule=fixed_rule, doc="activity = fixed / n x profile x built")

    min_rows = [
        (a, k, y) for (a, k), r in data.actor_processes.items() if r.min_activity > 0 and r.fixed_activity is None for y in range(data.years)
    ]

    def min_rule(m: Any, a: str, k: str, y: int) -> Any:
        r = data.actor_processes[(a, k)]
        year = sum(m.act[a, k, t] for t in range(y * data.ppy, (y + 1) * data.ppy))
        return year >= r.min_activity * m.built[a, k, y]

    m.min_activity = pyo.Constraint(min_rows, rule=min_rule, doc="annual activity >= minimum x built (activity/yr)")


def _gate(m: pyo.ConcreteModel, data: ModelData, name: str, var: Any, rows: list[Any], doc: str) -> None:
    """``var[key] <= M x present(actor, year)`` for variables of candidate actors.

    rows: (variable index, candidate actor, bound M).
    """
    def rule(m: Any, i: int) -> Any:
        key, actor, bound = rows[i]
        return var[key] <= bound * m.present[actor, data.year_of(key[-1])]

    setattr(m, name, pyo.Constraint(range(len(rows)), rule=rule, doc=doc))


def trade_upper_bounds(data: ModelData, kind: str, a: str, p: str) -> list[float | None]:
    """Per period, the most ``a`` may buy (``kind`` buy) or sell (sell) of ``p``: limit / n x profile."""
    rows = data.scenario.purchases if kind == "buy" else data.scenario.sales
    limit = (data.purchase_limit if kind == "buy" else data.sale_limit)[(a, p)]
    if limit is None:
        return [None] * data.periods
    prof = next((r.profile for r in rows if r.actor == a and r.product == p), None)
    return [limit / data.ppy * data.factor(prof, t) for t in range(data.periods)]


def add_trades(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Purchases, sales and disposals, with limits and seasonal profiles."""
    T = range(data.periods)
    m.buy = pyo.Var([(a, p, t) for (a, p) in data.purchase_limit for t in T], domain=pyo.NonNegativeReals, doc="purchases (unit)")
    m.sell = pyo.Var([(a, p, t) for (a, p) in data.sale_limit for t in T], domain=pyo.NonNegativeReals, doc="sales (unit)")
    m.dump = pyo.Var(
        [(a, p, t) for (a, p) in data.balance_keys if p in data.disposal_cost for t in T],
        domain=pyo.NonNegativeReals,
        doc="disposals (unit)",
    )
    gates: dict[str, list[Any]] = {"buy": [], "sell": [], "dump": []}
    for name, limits in (("buy", data.purchase_limit), ("sell", data.sale_limit)):
        var = getattr(m, name)
        for (a, p) in limits:
            for t, ub in enumerate(trade_upper_bounds(data, name, a, p)):
                if ub is not None:
                    var[a, p, t].setub(ub)
                if data.is_candidate_actor(a):
                    gates[name].append(((a, p, t), a, ub))
    for (a, p, t) in m.dump:
        if data.is_candidate_actor(a):
            gates["dump"].append(((a, p, t), a, None))
    notes = m.data_notes
    for name, rows in gates.items():
        cache: dict[tuple[str, str], float] = {}
        fixed = []
        for key, a, bound in rows:
            if bound is None:
                if (a, key[1]) not in cache:
                    cache[(a, key[1])] = _big_m(data, supply_bound(data, key[1]), f"{name} of {key[1]} by candidate actor {a}", notes)
                bound = cache[(a, key[1])]
            fixed.append((key, a, bound))
        _gate(m, data, f"{name}_needs_actor", getattr(m, name), fixed, f"no {name} before the actor enters")


def add_flows(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Flows between actors over arcs; links must be built, capacities hold."""
    T = range(data.periods)
    m.flow = pyo.Var([(*key, t) for key in data.arcs for t in T], domain=pyo.NonNegativeReals, doc="flow a -> b (unit)")
    notes = m.data_notes
    link_rows, gate_rows = [], []
    for key, arc in data.arcs.items():
        cap = arc.capacity / data.ppy if arc.capacity is not None else None
        if arc.buildable:
            bound = cap if cap is not None else _big_m(data, supply_bound(data, arc.product), f"link {key[0]}->{key[1]} ({key[2]})", notes)
            link_rows += [((*key, t), bound) for t in T]
        elif cap is not None:
            for t in T:
                m.flow[(*key, t)].setub(cap)
        for end in (arc.source, arc.target):
            if data.is_candidate_actor(end) and not arc.buildable:  # built links are already gated by their ends
                bound = cap if cap is not None else _big_m(data, supply_bound(data, arc.product), f"flow {key[0]}->{key[1]} ({key[2]})", notes)
                gate_rows += [((*key, t), end, bound) for t in T]

    def link_rule(m: Any, i: int) -> Any:
        (a, b, p, t), bound = link_rows[i]
        return m.flow[a, b, p, t] <= bound * m.linked[a, b, p, data.year_of(t)]

    m.link_capacity = pyo.Constraint(range(len(link_rows)), rule=link_rule, doc="flow <= capacity / n x link built (unit)")
    _gate(m, data, "flow_needs_actor", m.flow, gate_rows, "no flow to or from an actor before it enters")


def add_storage(m: pyo.ConcreteModel, data: ModelData) -> None:
    T = range(data.periods)
    m.store = pyo.Var([(a, p, t) for (a, p) in data.storage_capacity for t in T], domain=pyo.NonNegativeReals, doc="storage level (unit)")
    rows = []
    for (a, p), cap in data.storage_capacity.items():
        for t in T:
            m.store[a, p, t].setub(cap)
            if data.is_candidate_actor(a):
                rows.append(((a, p, t), a, cap))
    _gate(m, data, "store_needs_actor", m.store, rows, "no storage before the actor enters")


def add_balances(m: pyo.ConcreteModel, data: ModelData) -> None:
    """produced + bought + received + from storage = consumed + sold + sent + disposed + into storage."""
    inflow: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    outflow: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for key in data.arcs:
        outflow[(key[0], key[2])].append(key)
        inflow[(key[1], key[2])].append(key)

    def rule(m: Any, a: str, p: str, t: int) -> Any:
        lhs = sum(c * m.act[a, k, t] for k, c in data.produced_by.get((a, p), ()))
        rhs = sum(c * m.act[a, k, t] for k, c in data.consumed_by.get((a, p), ()))
        if (a, p) in data.purchase_limit:
            lhs += m.buy[a, p, t]
        if (a, p) in data.sale_limit:
            rhs += m.sell[a, p, t]
        if (a, p, t) in m.dump:
            rhs += m.dump[a, p, t]
        lhs += sum(m.flow[(*k, t)] for k in inflow[(a, p)])
        rhs += sum(m.flow[(*k, t)] for k in outflow[(a, p)])
        if (a, p) in data.storage_capacity:
            rhs += m.store[a, p, t]
            if t > 0:
                lhs += m.store[a, p, t - 1]
        if isinstance(lhs, (int, float)) and isinstance(rhs, (int, float)):
            return pyo.Constraint.Skip
        if isinstance(lhs, (int, float)):  # nothing can supply it: keep body = supply - use (diagnose reads the sign)
            return lhs - rhs == 0
        return lhs == rhs

    idx = [(a, p, t) for (a, p) in data.balance_keys for t in range(data.periods)]
    m.balance = pyo.Constraint(idx, rule=rule, doc="mass / energy balance per actor, product, period (unit)")
    m.arcs_in, m.arcs_out = inflow, outflow


def add_subsidy_safeguards(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Stop an exchange subsidy from paying for circulating goods (see module docstring)."""
    subsidised = {p for p, s in data.exchange_subsidy.items() if s > 0}
    notes = m.data_notes
    send_rows, use_rows, role_keys = [], [], []
    for (a, p) in data.balance_keys:
        if p not in subsidised:
            continue
        producing = bool(data.produced_by.get((a, p)))
        if m.arcs_out.get((a, p)):
            send_rows.append((a, p))
        if m.arcs_in.get((a, p)):
            use_rows.append((a, p))
            if producing:
                role_keys.append((a, p))
    if not (send_rows or use_rows):
        return
    T = range(data.periods)

    def produced(m: Any, a: str, p: str, t: int) -> Any:
        return sum(c * m.act[a, k, t] for k, c in data.produced_by.get((a, p), ()))

    def used(m: Any, a: str, p: str, t: int) -> Any:
        out = sum(c * m.act[a, k, t] for k, c in data.consumed_by.get((a, p), ()))
        return out + (m.sell[a, p, t] if (a, p) in data.sale_limit else 0)

    def sent(m: Any, a: str, p: str, t: int) -> Any:
        return sum(m.flow[(*k, t)] for k in m.arcs_out.get((a, p), ()))

    def received(m: Any, a: str, p: str, t: int) -> Any:
        return sum(m.flow[(*k, t)] for k in m.arcs_in.get((a, p), ()))

    m.receiving = pyo.Var([(a, p, t) for (a, p) in role_keys for t in T], domain=pyo.Binary, doc="1: actor receives p in t, 0: may send")
    role = set(role_keys)
    m.send_own_output = pyo.Constraint(
        [(a, p, t) for (a, p) in send_rows for t in T],
        rule=lambda m, a, p, t: sent(m, a, p, t) <= produced(m, a, p, t),
        doc="subsidised goods: send only own output (unit)",
    )
    bounds = {
        (a, p): (
            _big_m(data, production_bound(data, a, p), f"output of {p} at {a} (subsidy safeguard)", notes),
            _big_m(data, supply_bound(data, p), f"receipts of {p} at {a} (subsidy safeguard)", notes),
        )
        for (a, p) in role_keys
    }

    def use_rule(m: Any, a: str, p: str, t: int) -> Any:
        if (a, p) in role:
            prod_m, _ = bounds[(a, p)]
            slack = prod_m * (1 - m.receiving[a, p, t])
            return received(m, a, p, t) <= used(m, a, p, t) - produced(m, a, p, t) + slack
        return received(m, a, p, t) <= used(m, a, p, t)

    m.use_what_is_received = pyo.Constraint(
        [(a, p, t) for (a, p) in use_rows for t in T], rule=use_rule, doc="subsidised goods received are used (unit)"
    )
    m.receive_only_in_role = pyo.Constraint(
        [(a, p, t) for (a, p) in role_keys for t in T],
        rule=lambda m, a, p, t: received(m, a, p, t) <= bounds[(a, p)][1] * m.receiving[a, p, t],
    )
    m.send_only_in_role = pyo.Constraint(
        [(a, p, t) for (a, p) in role_keys if m.arcs_out.get((a, p)) for t in T],
        rule=lambda m, a, p, t: sent(m, a, p, t) <= bounds[(a, p)][0] * (1 - m.receiving[a, p, t]),
    )


class LinearTerms:
    """A linear expression kept as numbers: ``constant + sum(coef x var)``, one entry per variable.

    The cluster NPV is assembled here first; the planner turns it into a Pyomo
    expression, and a batch re-solve hands the coefficients to the solver
    directly (``solve.set_linear_objective``): no expression objects to build
    and walk when only prices change.
    """

    def __init__(self, m: pyo.ConcreteModel) -> None:
        self.constant = 0.0
        self.coefs: dict[int, list[Any]] = {}  # id(var) -> [var, coef]
        # cumulative presence sums (m.present, m.built, m.linked) as terms, once per model
        self._cache: dict[int, tuple[float, list[tuple[float, Any]]]] = m.__dict__.setdefault("_linear_terms_cache", {})

    def add_var(self, coef: float, var: Any) -> None:
        entry = self.coefs.get(id(var))
        if entry is None:
            self.coefs[id(var)] = [var, coef]
        else:
            entry[1] += coef

    def add(self, coef: float, x: Any) -> None:
        """Add ``coef x`` where x is a number, a variable or a linear sum of variables."""
        if isinstance(x, (int, float)):
            self.constant += coef * x
            return
        if x.is_variable_type():
            self.add_var(coef, x)
            return
        cached = self._cache.get(id(x))
        if cached is None:
            repn = generate_standard_repn(x, compute_values=True)
            cached = self._cache[id(x)] = (float(repn.constant), list(zip(map(float, repn.linear_coefs), repn.linear_vars, strict=True)))
        self.constant += coef * cached[0]
        for a, v in cached[1]:
            self.add_var(coef * a, v)

    def expression(self) -> Any:
        return self.constant + sum(c * v for v, c in self.coefs.values() if c)


def cluster_npv_terms(m: pyo.ConcreteModel, data: ModelData) -> LinearTerms:
    """The cluster NPV of the model's variables at ``data``'s numbers: the discounted sum of
    every item of ``symbiosim.ledger.ITEMS`` (transfers cancel), one coefficient per variable."""
    npv = LinearTerms(m)
    disc = data.period_discount
    for variable in ledger.PER_PERIOD:
        var = getattr(m, variable)
        unit: dict[tuple[Any, ...], float] = {}
        for index, v in var.items():
            key = index[:-1]
            coef = unit.get(key)
            if coef is None:
                coef = unit[key] = ledger.unit_value(data, variable, key)
            if coef:
                npv.add_var(disc(index[-1]) * coef, v)
    # fixed costs per year of what is present or built (constants for what exists)
    presence = (
        ("present", [(a,) for a in data.actors], lambda k, y: m.present[k[0], y]),
        ("built", list(data.actor_processes), lambda k, y: m.built[(*k, y)]),
        ("linked", list(data.arcs), lambda k, y: m.linked[(*k, y)] if data.arcs[k].buildable else 1),
    )
    annual = [(ledger.unit_value(data, variable, k), k, expr) for variable, keys, expr in presence for k in keys]
    annual = [(c, k, expr) for c, k, expr in annual if c]
    for y in range(data.years):
        dy = data.discount[y]
        for coef, k, expr in annual:
            npv.add(dy * coef, expr(k, y))
    # one-off costs in the build / entry year, net of the investment subsidy
    for variable in ledger.ONE_OFF:
        var = getattr(m, variable)
        for index, v in var.items():
            npv.add_var(data.discount[index[-1]] * ledger.unit_value(data, variable, index[:-1]), v)
    return npv


def add_key_figures(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Every key figure as an expression: ``m.kpi[name]``.

    ``jobs`` is mean annual jobs over the horizon (what the objective ``jobs``
    maximises), ``jobs_final_year`` the final year's. Same meanings as
    ``evaluate``'s key figures.
    """
    s = data.scenario
    disc = data.period_discount
    npv = cluster_npv_terms(m, data).expression()

    va = sum(
        disc(t) * data.actor_processes[(a, k)].value_added_per_unit * m.act[a, k, t]
        for (a, k, t) in m.act
        if data.actor_processes[(a, k)].value_added_per_unit
    )
    jobs_per = {ap: r.jobs_per_unit for ap, r in data.actor_processes.items() if r.jobs_per_unit}
    job_years = sum(jobs_per[(a, k)] * m.act[a, k, t] for (a, k, t) in m.act if (a, k) in jobs_per)
    last = data.years - 1
    jobs_final = sum(jobs_per[(a, k)] * m.act[a, k, t] for (a, k, t) in m.act if (a, k) in jobs_per and data.year_of(t) == last)
    emissions = sum(data.actor_processes[(a, k)].emissions_per_unit * m.act[a, k, t] for (a, k, t) in m.act)
    purch_em = {(r.actor, r.product): r.emissions_per_unit for r in s.purchases}
    emissions += sum(purch_em[(a, p)] * m.buy[a, p, t] for (a, p, t) in m.buy if purch_em.get((a, p)))
    emissions += sum(data.products[p].disposal_emissions * m.dump[a, p, t] for (a, p, t) in m.dump)
    m.kpi = {
        "cluster_npv": npv,
        "value_added": va,
        "jobs": job_years / data.years,  # mean annual jobs over the horizon
        "jobs_final_year": jobs_final,
        "emissions": emissions,
    }


def add_objective(m: pyo.ConcreteModel, objective: str, weights: dict[str, float] | None) -> None:
    if objective == "weighted":
        if not weights:
            raise ModelError("objective weighted needs weights, e.g. {'cluster_npv': 1, 'emissions': -500}")
        unknown = set(weights) - set(MAXIMISE)
        if unknown:
            raise ModelError(f"unknown key figure(s) in weights: {', '.join(sorted(unknown))}; expected {', '.join(MAXIMISE)}")
        expr = sum(w * m.kpi[k] for k, w in weights.items())
        m.objective = pyo.Objective(expr=expr, sense=pyo.maximize, doc="weighted sum of key figures")
        return
    expr = m.kpi[objective]
    sense = pyo.maximize if MAXIMISE[objective] else pyo.minimize
    m.objective = pyo.Objective(expr=expr, sense=sense, doc=f"{objective}")
