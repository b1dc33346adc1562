"""Offers, Nash bargaining and contracts between two firms.

A deal moves a product from a supplier to a receiver for a contract period.
Each side values it with its own LP at its own hurdle rate:

* the receiver's gain: its operating value when it may take up to the
  supplier's surplus (paying transport, receiving any exchange subsidy),
  minus its value without, minus investments it must make (a receiving
  process, a link: the receiver pays a link, as in the accounts);
* the supplier's gain: its value when it must deliver that schedule minus
  its value without (avoided disposal, lost sales);
* each side pays a transaction cost per year, scaled by (1.5 - trust).

The joint surplus is split by bargaining power (Nash bargaining with linear
utility = proportional split); the transfer price per unit implements the
split. A deal is signed only if each side's own net gain is positive, beyond
a margin for risk, and investments pay back within each side's limit
(Fraccascia & Yazan 2018: a link forms only if each side's net benefit after
cost sharing is positive).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from symbiosim import ledger
from symbiosim.simulator.agents import TOL, Firm
from symbiosim.simulator.firm_lp import Extra

if TYPE_CHECKING:
    from symbiosim.simulator.model import SymbiosisModel

EPSILON = 1e-6  # money per unit: a receiver takes only what it values


@dataclass
class Contract:
    id: int
    source: str
    target: str
    product: str
    start: int  # first period
    end: int  # first period after
    price: float | None
    volumes: np.ndarray  # per period (length T)
    existing: bool = False  # a standing exchange from the scenario (never renegotiated)
    broken_at: int | None = None
    investments: list[tuple[str, ...]] = field(default_factory=list)

    def active_volumes(self) -> np.ndarray:
        if self.broken_at is None:
            return self.volumes
        v = self.volumes.copy()
        v[self.broken_at :] = 0.0
        return v


@dataclass
class Term:
    """One supplier's part of a deal."""

    supplier: Firm
    product: str
    volumes: np.ndarray
    price: float
    supplier_gain: float  # its net gain at the price (own valuation)


@dataclass
class Deal:
    """The outcome of one negotiation (accepted or not)."""

    accepted: bool
    reason: str
    terms: list[Term] = field(default_factory=list)
    receiver_gain: float = 0.0
    processes: tuple[str, ...] = ()
    end: int = 0


def _annuity(disc: np.ndarray, start: int, end: int, ppy: int) -> float:
    """Discounted value of 1 per year paid over [start, end) (1/ppy per period)."""
    return float(disc[start:end].sum()) / ppy


def _share(power_s: float, power_r: float) -> float:
    total = power_s + power_r
    return 0.5 if total <= 0 else power_s / total


def negotiate(model: SymbiosisModel, receiver: Firm, sources: list[tuple[Firm, str]], t: int, entering: bool = False) -> Deal:
    """Negotiate contracts from ``sources`` (supplier, product) to ``receiver``, from period t.

    ``entering``: the receiver is an entrepreneur deciding whether to enter;
    its entry, its processes' build and fixed costs count as its investment.
    """
    d = model.data
    year = d.year_of(t)
    contract_years = min([receiver.rules.contract_years] + [s.rules.contract_years for s, _ in sources])
    end = min(d.periods, t + contract_years * d.ppy)
    window = np.zeros(d.periods, bool)
    window[t:end] = True

    offers, unit_values, links = [], [], []
    for supplier, product in sources:
        arc = d.arcs[(supplier.actor, receiver.actor, product)]
        if arc.buildable and not model.link_built(arc.key):
            if year < d.first_link_year(arc):
                return Deal(False, "link not allowed yet")
            links.append(arc)
        offer = np.minimum(supplier.surplus(product, t) * window, model.arc_room(arc, t, end))
        offers.append(offer)
        unit_values.append(np.full(end - t, ledger.unit_value(d, "flow", arc.key) - EPSILON))
    if all(o.sum() <= TOL for o in offers):
        return Deal(False, "no surplus to offer")

    disc_r = receiver.discount
    rest = _annuity(disc_r, t, end, d.ppy)  # fixed costs count over the contract window, like the gains
    link_cost = sum(ledger.commitment_cost(d, "linked", a.key, disc_r[t], rest) for a in links)
    products = {p for _, p in sources}
    makes = {p for k in receiver.lp.processes_all for p in d.processes[k].outputs}
    if any(d.exchange_subsidy.get(p, 0.0) > 0 for p in products & makes):
        return Deal(False, "receiver makes this subsidised product itself")
    rules_r = {**receiver.use_rules(), **{p: "receive" for p in products if d.exchange_subsidy.get(p, 0.0) > 0}}

    def extras(until: int, skip: int | None = None) -> list[Extra]:
        return [
            Extra(p, True, (offers[i] if i != skip else np.zeros(d.periods))[t:until], np.resize(unit_values[i], until - t))
            for i, (_, p) in enumerate(sources)
        ]

    def invest_cost(procs: tuple[str, ...]) -> float:
        cost = sum(ledger.commitment_cost(d, "built", (receiver.actor, k), disc_r[t], rest) for k in procs)
        if entering:
            cost += ledger.commitment_cost(d, "present", (receiver.actor,), disc_r[t], rest)
        return cost

    if entering:
        options: list[tuple[str, ...]] = [tuple(receiver.lp.processes_all)]
        base_value = 0.0
    else:
        new = tuple(
            k
            for k in receiver.lp.processes_all
            if k not in receiver.processes
            and products & set(d.processes[k].inputs)
            and d.first_build_year((receiver.actor, k)) <= year
        )
        options = [(), new] if new else [()]
        base_value = receiver.base_value(t, end)
    best = None
    for procs in options:
        processes = {**receiver.processes, **{k: year for k in procs}}
        # A new process with fixed production must stay feasible after the contract
        # (so the firm builds what it needs then): solve to the horizon, value the window.
        fixed = any(d.actor_processes[(receiver.actor, k)].fixed_activity is not None for k in procs)
        horizon = d.periods if fixed else end
        sol = receiver.plan(t, processes=processes, extras=extras(horizon), use_rules=rules_r, end=horizon)
        if not sol.ok:
            continue
        gain = receiver.worth(sol, t, end) - base_value - invest_cost(procs) - link_cost
        if best is None or gain > best[0]:
            best = (gain, procs, processes, sol)
    if best is None:
        return Deal(False, "receiver has no feasible plan with it")
    gain_r, procs, processes, sol = best
    takes = []
    for taken in sol.extra:
        v = np.zeros(d.periods)
        v[t : t + len(taken)] = np.where(taken > TOL, taken, 0.0)
        v[end:] = 0.0  # offers end with the contract
        takes.append(v)
    if all(v.sum() <= TOL for v in takes):
        return Deal(False, "receiver has no use for it")
    if entering:
        used = tuple(k for k in procs if sol.activity.get(k, np.zeros(1)).sum() > TOL)
        if used != procs:  # build only what runs
            gain_r += invest_cost(procs) - invest_cost(used)
            procs = used

    # each supplier: its gain from delivering what the receiver takes
    terms: list[dict[str, float]] = []
    for i, (supplier, product) in enumerate(sources):
        if takes[i].sum() <= TOL:
            continue
        flows = supplier.net_inflow()
        flows[product] = flows.get(product, np.zeros(d.periods)) - takes[i]
        rules_s = {**supplier.use_rules()}
        if d.exchange_subsidy.get(product, 0.0) > 0:
            rules_s[product] = "send"
        sol_s = supplier.plan(t, net_inflow=flows, use_rules=rules_s, end=end)
        if not sol_s.ok:
            return Deal(False, "supplier cannot deliver")
        gain_s = supplier.worth(sol_s, t, end) - supplier.base_value(t, end)
        tc_s = supplier.rules.transaction_cost * (1.5 - supplier.trust.get(receiver.actor, 0.5)) * _annuity(supplier.discount, t, end, d.ppy)
        tc_r = receiver.rules.transaction_cost * (1.5 - receiver.trust.get(supplier.actor, 0.5)) * _annuity(disc_r, t, end, d.ppy)
        terms.append({"i": i, "gain_s": gain_s - tc_s, "tc_s": tc_s, "tc_r": tc_r, "marginal": 0.0})
    joint = gain_r - sum(x["tc_r"] for x in terms) + sum(x["gain_s"] for x in terms)
    transaction = sum(x["tc_r"] + x["tc_s"] for x in terms)
    supplier_gross = sum(x["gain_s"] + x["tc_s"] for x in terms)
    if joint <= 0:
        if joint + transaction > 0:
            return Deal(False, "transaction costs exceed the joint gain")
        if entering and gain_r <= 0:
            return Deal(False, "entry and build costs exceed what the contracts earn")
        if gain_r > 0 > supplier_gross:
            return Deal(False, "receiver rejects: the supplier's reservation price is above its own inputs")
        if gain_r <= 0 <= supplier_gross:
            return Deal(False, "receiver rejects: no saving on its own inputs")
        return Deal(False, "no joint surplus")

    if len(sources) > 1:  # each supplier's value to the receiver (all offers minus all but its own): only to split a surplus
        horizon = t + len(sol.per_period)
        for x in terms:
            alone = receiver.plan(t, processes=processes, extras=extras(horizon, skip=int(x["i"])), use_rules=rules_r, end=horizon)
            x["marginal"] = receiver.worth(sol, t, end) - (receiver.worth(alone, t, end) if alone.ok else base_value)
    margin = model.volatility * receiver.rules.risk_aversion
    out: list[Term] = []
    paid = 0.0
    # Each supplier gets its bargaining share of the joint surplus, weighted by what
    # its pair contributes (with one supplier: share x joint); shared costs such as
    # an entry are thus borne by all sides, and the receiver keeps the rest.
    pairs = [max(x["gain_s"] + x["marginal"] - x["tc_r"], 0.0) if len(terms) > 1 else joint for x in terms]
    weights = [p / sum(pairs) if sum(pairs) > 0 else 1 / len(terms) for p in pairs]
    for x, weight in zip(terms, weights, strict=True):
        supplier, product = sources[int(x["i"])]
        volumes = takes[int(x["i"])]
        share = _share(supplier.rules.bargaining_power, receiver.rules.bargaining_power)
        q_s = float((supplier.discount * volumes).sum())
        q_r = float((disc_r * volumes).sum())
        price = (share * joint * weight - x["gain_s"]) / q_s
        net_s = x["gain_s"] + price * q_s
        if net_s <= model.volatility * supplier.rules.risk_aversion * abs(price) * q_s + TOL:
            return Deal(False, "loss for the supplier at the bargained price")
        paid += price * q_r + x["tc_r"]
        out.append(Term(supplier, product, volumes, float(price), float(net_s)))
    net_r = gain_r - paid
    if net_r <= margin * paid + TOL:
        return Deal(False, "loss for the receiver at the bargained price")
    # Investments (a link, a receiving process, an entry) are paid by the receiver
    # in the accounts, but the price shares them: each side carries its bargaining
    # share and must see it pay back within its own limit.
    invest = invest_cost(procs) + link_cost
    if invest > 0:
        years = (end - t) / d.ppy
        sides = [(receiver, net_r, 1.0 - sum(_share(x.supplier.rules.bargaining_power, receiver.rules.bargaining_power) for x in out) / len(out))]
        sides += [(x.supplier, x.supplier_gain, _share(x.supplier.rules.bargaining_power, receiver.rules.bargaining_power) / len(out)) for x in out]
        for firm, net, share in sides:
            carried = share * invest
            annual = (net + carried) / years
            if carried > 0 and (annual <= 0 or carried / annual > firm.rules.max_payback_years):
                return Deal(False, f"payback longer than {firm.actor}'s limit")
    return Deal(True, "accepted", out, float(net_r), procs, end)


def entry_sources(model: SymbiosisModel, firm: Firm, t: int) -> list[tuple[Firm, str]]:
    """Known suppliers with a surplus of an input of the entrepreneur's processes."""
    d = model.data
    inputs = sorted({p for k in firm.lp.processes_all for p in d.processes[k].inputs})
    return [
        (s, p)
        for p in inputs
        for s in model.suppliers_of(p, firm)
        if (s.actor, firm.actor, p) in d.arcs and s.surplus(p, t).sum() > TOL
    ]
