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
from symbiosim.scenario.data import Arc
from symbiosim.simulator.agents import TOL, Firm
from symbiosim.simulator.firm_lp import Extra, FirmSolution

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


class _Rejected(Exception):
    """A negotiation ends without a deal, for ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _ReceiverPlan:
    """The receiver's best plan with the offers: what it builds for them and what it gains."""

    gain: float  # worth with the offers - worth without - its investments (and entry)
    built: tuple[str, ...]  # processes it builds for the deal
    processes: dict[str, int]  # all its processes -> first year available
    solution: FirmSolution
    base_value: float  # its worth over the window without the deal


@dataclass
class _SupplierSide:
    """One supplier's side of a deal, before the price."""

    source: int  # position in ``sources``
    gain: float  # its gain from delivering, net of its own transaction cost, before the price
    transaction_cost: float  # its own, over the contract window
    receiver_transaction_cost: float  # the receiver's for this exchange
    marginal: float = 0.0  # its offer's value to the receiver (all offers minus all but its own)


def _annuity(disc: np.ndarray, start: int, end: int, ppy: int) -> float:
    """Discounted value of 1 per year paid over [start, end) (1/ppy per period)."""
    return float(disc[start:end].sum()) / ppy


def _share(power_supplier: float, power_receiver: float) -> float:
    """The supplier's share of a joint surplus (Nash bargaining with linear utility)."""
    total = power_supplier + power_receiver
    return 0.5 if total <= 0 else power_supplier / total


def _transaction_cost(firm: Firm, partner: Firm, annuity: float) -> float:
    """A side's transaction cost over the contract window, scaled by (1.5 - its trust in the partner)."""
    return firm.rules.transaction_cost * (1.5 - firm.trust.get(partner.actor, 0.5)) * annuity


def negotiate(model: SymbiosisModel, receiver: Firm, sources: list[tuple[Firm, str]], t: int, entering: bool = False) -> Deal:
    """Negotiate contracts from ``sources`` (supplier, product) to ``receiver``, from period t.

    ``entering``: the receiver is an entrepreneur deciding whether to enter;
    its entry, its processes' build and fixed costs count as its investment.
    """
    try:
        return _Negotiation(model, receiver, sources, t, entering).run()
    except _Rejected as rejected:
        return Deal(False, rejected.reason)


class _Negotiation:
    """One negotiation, step by step; a step that finds no deal raises ``_Rejected``."""

    def __init__(self, model: SymbiosisModel, receiver: Firm, sources: list[tuple[Firm, str]], t: int, entering: bool) -> None:
        data = self.data = model.data
        self.model, self.receiver, self.sources, self.t, self.entering = model, receiver, sources, t, entering
        self.year = data.year_of(t)
        contract_years = min([receiver.rules.contract_years] + [supplier.rules.contract_years for supplier, _ in sources])
        self.end = min(data.periods, t + contract_years * data.ppy)

    def run(self) -> Deal:
        self._make_offers()
        self._receiver_terms()
        plan = self._receiver_plan()
        takes = self._takes(plan)
        if self.entering:
            self._build_only_what_runs(plan)
        sides = self._supplier_sides(takes)
        joint = self._joint_surplus(plan, sides)
        if len(self.sources) > 1:
            self._add_marginals(plan, sides)
        terms, receiver_net, paid = self._bargain(plan, sides, takes, joint)
        self._check_payback(plan, terms, receiver_net)
        return Deal(True, "accepted", terms, float(receiver_net), plan.built, self.end)

    # ---- the steps ------------------------------------------------------------
    def _make_offers(self) -> None:
        """Each supplier offers its surplus over the contract window, within the arc's room;
        links still to build are noted (the receiver pays them)."""
        data, t, end = self.data, self.t, self.end
        window = np.zeros(data.periods, bool)
        window[t:end] = True
        self.offers: list[np.ndarray] = []
        self.unit_values: list[np.ndarray] = []  # the receiver's money per unit taken (transport, subsidy)
        self.links: list[Arc] = []
        for supplier, product in self.sources:
            arc = data.arcs[(supplier.actor, self.receiver.actor, product)]
            if arc.buildable and not self.model.link_built(arc.key):
                if self.year < data.first_link_year(arc):
                    raise _Rejected("link not allowed yet")
                self.links.append(arc)
            self.offers.append(np.minimum(supplier.surplus(product, t) * window, self.model.arc_room(arc, t, end)))
            self.unit_values.append(np.full(end - t, ledger.unit_value(data, "flow", arc.key) - EPSILON))
        if all(o.sum() <= TOL for o in self.offers):
            raise _Rejected("no surplus to offer")

    def _receiver_terms(self) -> None:
        """What the receiver's valuation needs: the window's annuity, link costs, use rules."""
        data, receiver = self.data, self.receiver
        # fixed costs count over the contract window, like the gains
        self.window_annuity = _annuity(receiver.discount, self.t, self.end, data.ppy)
        self.link_cost = sum(
            ledger.commitment_cost(data, "linked", arc.key, receiver.discount[self.t], self.window_annuity) for arc in self.links
        )
        self.products = {p for _, p in self.sources}
        makes = {p for k in receiver.lp.processes_all for p in data.processes[k].outputs}
        if any(data.exchange_subsidy.get(p, 0.0) > 0 for p in self.products & makes):
            raise _Rejected("receiver makes this subsidised product itself")
        subsidised = {p: "receive" for p in self.products if data.exchange_subsidy.get(p, 0.0) > 0}
        self.receiver_rules = {**receiver.use_rules(), **subsidised}

    def _extras(self, until: int, skip: int | None = None) -> list[Extra]:
        """The offers as optional inflows of the receiver's LP up to ``until`` (all but ``skip``)."""
        t = self.t
        return [
            Extra(p, True, (self.offers[i] if i != skip else np.zeros(self.data.periods))[t:until], np.resize(self.unit_values[i], until - t))
            for i, (_, p) in enumerate(self.sources)
        ]

    def _invest_cost(self, built: tuple[str, ...]) -> float:
        """The receiver's build (and entry) costs, its fixed costs over the window included."""
        data, receiver, first = self.data, self.receiver, self.receiver.discount[self.t]
        cost = sum(ledger.commitment_cost(data, "built", (receiver.actor, k), first, self.window_annuity) for k in built)
        if self.entering:
            cost += ledger.commitment_cost(data, "present", (receiver.actor,), first, self.window_annuity)
        return cost

    def _build_options(self) -> list[tuple[str, ...]]:
        """What the receiver may build for the deal: an entrant all its processes; a firm
        nothing, or its new processes that use an offered product."""
        data, receiver = self.data, self.receiver
        if self.entering:
            return [tuple(receiver.lp.processes_all)]
        new = tuple(
            k
            for k in receiver.lp.processes_all
            if k not in receiver.processes
            and self.products & set(data.processes[k].inputs)
            and data.first_build_year((receiver.actor, k)) <= self.year
        )
        return [(), new] if new else [()]

    def _receiver_plan(self) -> _ReceiverPlan:
        """The receiver's best plan over its build options, with the offers as optional inflows."""
        data, receiver, t, end = self.data, self.receiver, self.t, self.end
        base_value = 0.0 if self.entering else receiver.base_value(t, end)
        best: _ReceiverPlan | None = None
        for built in self._build_options():
            processes = {**receiver.processes, **{k: self.year for k in built}}
            # A new process with fixed production must stay feasible after the contract
            # (so the firm builds what it needs then): solve to the horizon, value the window.
            fixed = any(data.actor_processes[(receiver.actor, k)].fixed_activity is not None for k in built)
            horizon = data.periods if fixed else end
            solution = receiver.plan(t, processes=processes, extras=self._extras(horizon), use_rules=self.receiver_rules, end=horizon)
            if not solution.ok:
                continue
            gain = receiver.worth(solution, t, end) - base_value - self._invest_cost(built) - self.link_cost
            if best is None or gain > best.gain:
                best = _ReceiverPlan(gain, built, processes, solution, base_value)
        if best is None:
            raise _Rejected("receiver has no feasible plan with it")
        return best

    def _takes(self, plan: _ReceiverPlan) -> list[np.ndarray]:
        """What the receiver takes of each offer, per period (length T; nothing after the contract)."""
        takes = []
        for taken in plan.solution.extra:
            volumes = np.zeros(self.data.periods)
            volumes[self.t : self.t + len(taken)] = np.where(taken > TOL, taken, 0.0)
            volumes[self.end :] = 0.0  # offers end with the contract
            takes.append(volumes)
        if all(v.sum() <= TOL for v in takes):
            raise _Rejected("receiver has no use for it")
        return takes

    def _build_only_what_runs(self, plan: _ReceiverPlan) -> None:
        """An entrant builds only the processes its plan runs."""
        used = tuple(k for k in plan.built if plan.solution.activity.get(k, np.zeros(1)).sum() > TOL)
        if used != plan.built:
            plan.gain += self._invest_cost(plan.built) - self._invest_cost(used)
            plan.built = used

    def _supplier_sides(self, takes: list[np.ndarray]) -> list[_SupplierSide]:
        """Each supplier's gain from delivering what the receiver takes, and both sides' transaction costs."""
        data, receiver, t, end = self.data, self.receiver, self.t, self.end
        sides: list[_SupplierSide] = []
        for i, (supplier, product) in enumerate(self.sources):
            if takes[i].sum() <= TOL:
                continue
            flows = supplier.net_inflow()
            flows[product] = flows.get(product, np.zeros(data.periods)) - takes[i]
            rules = {**supplier.use_rules()}
            if data.exchange_subsidy.get(product, 0.0) > 0:
                rules[product] = "send"
            solution = supplier.plan(t, net_inflow=flows, use_rules=rules, end=end)
            if not solution.ok:
                raise _Rejected("supplier cannot deliver")
            gain = supplier.worth(solution, t, end) - supplier.base_value(t, end)
            own_cost = _transaction_cost(supplier, receiver, _annuity(supplier.discount, t, end, data.ppy))
            receiver_cost = _transaction_cost(receiver, supplier, _annuity(receiver.discount, t, end, data.ppy))
            sides.append(_SupplierSide(i, gain - own_cost, own_cost, receiver_cost))
        return sides

    def _joint_surplus(self, plan: _ReceiverPlan, sides: list[_SupplierSide]) -> float:
        """The joint gain of all sides, net of transaction costs; no deal (and why) when it is not positive."""
        joint = plan.gain - sum(x.receiver_transaction_cost for x in sides) + sum(x.gain for x in sides)
        if joint > 0:
            return joint
        transaction = sum(x.receiver_transaction_cost + x.transaction_cost for x in sides)
        supplier_gross = sum(x.gain + x.transaction_cost for x in sides)
        if joint + transaction > 0:
            raise _Rejected("transaction costs exceed the joint gain")
        if self.entering and plan.gain <= 0:
            raise _Rejected("entry and build costs exceed what the contracts earn")
        if plan.gain > 0 > supplier_gross:
            raise _Rejected("receiver rejects: the supplier's reservation price is above its own inputs")
        if plan.gain <= 0 <= supplier_gross:
            raise _Rejected("receiver rejects: no saving on its own inputs")
        raise _Rejected("no joint surplus")

    def _add_marginals(self, plan: _ReceiverPlan, sides: list[_SupplierSide]) -> None:
        """Each supplier's value to the receiver (all offers minus all but its own): only to split a surplus."""
        receiver, t, end = self.receiver, self.t, self.end
        horizon = t + len(plan.solution.per_period)
        for x in sides:
            extras = self._extras(horizon, skip=x.source)
            alone = receiver.plan(t, processes=plan.processes, extras=extras, use_rules=self.receiver_rules, end=horizon)
            x.marginal = receiver.worth(plan.solution, t, end) - (receiver.worth(alone, t, end) if alone.ok else plan.base_value)

    def _bargain(
        self, plan: _ReceiverPlan, sides: list[_SupplierSide], takes: list[np.ndarray], joint: float
    ) -> tuple[list[Term], float, float]:
        """Transfer prices that give each supplier its bargaining share of the joint surplus,
        weighted by what its pair contributes (with one supplier: share x joint); shared costs
        such as an entry are thus borne by all sides, and the receiver keeps the rest.
        Returns the terms, the receiver's net gain and what it pays (prices and its transaction costs)."""
        receiver, model = self.receiver, self.model
        pairs = [max(x.gain + x.marginal - x.receiver_transaction_cost, 0.0) if len(sides) > 1 else joint for x in sides]
        weights = [p / sum(pairs) if sum(pairs) > 0 else 1 / len(sides) for p in pairs]
        terms: list[Term] = []
        paid = 0.0
        for x, weight in zip(sides, weights, strict=True):
            supplier, product = self.sources[x.source]
            volumes = takes[x.source]
            share = _share(supplier.rules.bargaining_power, receiver.rules.bargaining_power)
            supplier_volume = float((supplier.discount * volumes).sum())  # discounted at each side's rate
            receiver_volume = float((receiver.discount * volumes).sum())
            price = (share * joint * weight - x.gain) / supplier_volume
            supplier_net = x.gain + price * supplier_volume
            if supplier_net <= model.volatility * supplier.rules.risk_aversion * abs(price) * supplier_volume + TOL:
                raise _Rejected("loss for the supplier at the bargained price")
            paid += price * receiver_volume + x.receiver_transaction_cost
            terms.append(Term(supplier, product, volumes, float(price), float(supplier_net)))
        receiver_net = plan.gain - paid
        if receiver_net <= model.volatility * receiver.rules.risk_aversion * paid + TOL:
            raise _Rejected("loss for the receiver at the bargained price")
        return terms, receiver_net, paid

    def _check_payback(self, plan: _ReceiverPlan, terms: list[Term], receiver_net: float) -> None:
        """Investments (a link, a receiving process, an entry) are paid by the receiver in the
        accounts, but the price shares them: each side carries its bargaining share and must
        see it pay back within its own limit."""
        invest = self._invest_cost(plan.built) + self.link_cost
        if invest <= 0:
            return
        receiver = self.receiver
        years = (self.end - self.t) / self.data.ppy
        shares = [_share(x.supplier.rules.bargaining_power, receiver.rules.bargaining_power) for x in terms]
        sides = [(receiver, receiver_net, 1.0 - sum(shares) / len(terms))]
        sides += [(x.supplier, x.supplier_gain, share / len(terms)) for x, share in zip(terms, shares, strict=True)]
        for firm, net, share in sides:
            carried = share * invest
            annual = (net + carried) / years
            if carried > 0 and (annual <= 0 or carried / annual > firm.rules.max_payback_years):
                raise _Rejected(f"payback longer than {firm.actor}'s limit")


def entry_sources(model: SymbiosisModel, firm: Firm, t: int) -> list[tuple[Firm, str]]:
    """Known suppliers with a surplus of an input of the entrepreneur's processes."""
    data = model.data
    inputs = sorted({p for k in firm.lp.processes_all for p in data.processes[k].inputs})
    return [
        (supplier, p)
        for p in inputs
        for supplier in model.suppliers_of(p, firm)
        if (supplier.actor, firm.actor, p) in data.arcs and supplier.surplus(p, t).sum() > TOL
    ]
