"""Offers, Nash bargaining and contracts between firms.

A deal moves a product from one or more suppliers to a receiver for a term.
Each side values it with its own LP at its own hurdle rate, with and without
the deal:

* the receiver's gain: its operating value when it may take the offers,
  minus its value without, minus its investments (a receiving process, a
  link, an entry). The offers come in tiers at the supplier's reservation
  price (what it disposes of: its disposal value; what it sells: its sale
  price; what it could make on top with spare or candidate capacity: its
  cost of making it), so the receiver takes what is worth more to both;
* the supplier's gain: its value when it must deliver that schedule minus
  its value without (avoided disposal, lost sales, the running cost of
  making more), minus its investments (a candidate process it builds);
* a chain: a supplier may draw more of an input from a firm that already
  sends it under contract; that firm joins as a third party;
* each side pays a transaction cost per year of the term: a fixed part plus a
  share of the exchange's annual value (``behaviour.py``), scaled by
  (1.5 - trust) and by what the firm has learnt from its neighbours' deals.

The term is ``contract_years``, or, for a deal that needs a dedicated asset (a
link, a process built for it), the years the asset needs to pay back at the
receiver's hurdle rate, capped by the horizon (asset specificity:
Williamson 1985; Joskow 1987); an entrant's supply runs for its plant's life.

The joint surplus is split by the generalised Nash bargaining solution with
linear utilities (each party's share = its bargaining power over the sum);
the transfer price per unit implements the split, fixed or indexed to the
alternative the deal replaces (``price_rule``). A deal is signed only if each
side's own net gain is positive, beyond a margin for risk, and each side's
share of the one-off investments pays back within its own limit (Fraccascia
& Yazan 2018: a link forms only if each side's net benefit after cost
sharing is positive).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from symbiosim import ledger
from symbiosim.scenario.data import Arc
from symbiosim.simulator.agents import EPSILON, TOL, Firm, Upstream
from symbiosim.simulator.firm_lp import Extra, FirmSolution

if TYPE_CHECKING:
    from symbiosim.simulator.model import SymbiosisModel



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
    dedicated: bool = False  # backs a dedicated asset: take-or-pay, not ended early for prices
    index: np.ndarray | None = None  # indexed price: the price of the alternative it replaces, relative to signing (length T)
    indexed_to: str = ""  # that alternative, e.g. "purchase of gas"

    def unit_price(self, t: int) -> float:
        """The price per unit in period t: fixed, or moving with the alternative it replaces."""
        price = self.price or 0.0
        return price * float(self.index[t]) if self.index is not None else price

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
    built: tuple[str, ...] = ()  # processes the supplier builds to deliver it
    upstream: list[tuple[Upstream, np.ndarray]] = field(default_factory=list)  # chains: more input it draws for it
    index: np.ndarray | None = None  # price indexed to the receiver's alternative (``Contract.index``)
    indexed_to: str = ""


@dataclass
class Deal:
    """The outcome of one negotiation (accepted or not)."""

    accepted: bool
    reason: str
    terms: list[Term] = field(default_factory=list)
    receiver_gain: float = 0.0
    processes: tuple[str, ...] = ()
    end: int = 0
    screened: bool = False  # ended at a first look (no attention spent)
    dedicated: bool = False  # needs a dedicated asset (link, process, entry)


class _Rejected(Exception):
    """A negotiation ends without a deal, for ``reason``; ``screened``: ended by a first look
    (nothing to offer, no use for it) before the firms spent attention on it."""

    def __init__(self, reason: str, screened: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.screened = screened


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
    gross: float  # its gain from delivering, net of its investments, before transaction costs and the price
    solution: FirmSolution | None = None  # its plan with the deal
    built: tuple[str, ...] = ()  # its candidate processes built to deliver
    invest: float = 0.0  # their build and fixed costs over the window
    upstream: list[tuple[Upstream, np.ndarray]] = field(default_factory=list)  # more input drawn under earlier contracts
    upstream_gain: list[float] = field(default_factory=list)  # each upstream firm's gain before its price
    gain: float = 0.0  # the same net of its own transaction cost
    transaction_cost: float = 0.0  # its own, over the contract window
    receiver_transaction_cost: float = 0.0  # the receiver's for this exchange


def _annuity(disc: np.ndarray, start: int, end: int, ppy: int) -> float:
    """Discounted value of 1 per year paid over [start, end) (1/ppy per period)."""
    return float(disc[start:end].sum()) / ppy


def _share(power_supplier: float, power_receiver: float) -> float:
    """The supplier's share of a joint surplus (Nash bargaining with linear utility)."""
    total = power_supplier + power_receiver
    return 0.5 if total <= 0 else power_supplier / total


def _transaction_cost(firm: Firm, partner: Firm, product: str, annuity: float, annual_value: float = 0.0) -> float:
    """A side's transaction cost over the contract window: its fixed part plus its share of the
    exchange's annual value, per (discounted) year, scaled by (1.5 - its trust in the partner) and
    by 1 / (1 + imitation x deals of this product it has seen among the firms it knows)."""
    per_year = firm.rules.transaction_cost + firm.rules.transaction_cost_share * max(annual_value, 0.0)
    learned = 1.0 + firm.rules.imitation * firm.experience.get(product, 0)
    return per_year * (1.5 - firm.trust_in(partner.actor)) * annuity / learned


def _payback_years(disc: np.ndarray, t: int, ppy: int, one_off: float, annual: float) -> int | None:
    """Whole years from period t for ``annual`` per year (net of the asset's fixed costs) to repay
    ``one_off`` paid at t, discounted by ``disc`` (the payer's hurdle rate); None: never within the horizon."""
    if one_off <= 0:
        return 0
    if annual <= 0:
        return None
    repaid = np.cumsum(disc[t:]) / ppy * annual
    enough = np.nonzero(repaid >= one_off * disc[t] - TOL)[0]
    return None if len(enough) == 0 else int(np.ceil((enough[0] + 1) / ppy))


def negotiate(model: SymbiosisModel, receiver: Firm, sources: list[tuple[Firm, str]], t: int, entering: bool = False) -> Deal:
    """Negotiate contracts from ``sources`` (supplier, product) to ``receiver``, from period t.

    ``entering``: the receiver is an entrepreneur deciding whether to enter;
    its entry, its processes' build and fixed costs count as its investment.
    """
    try:
        return _Negotiation(model, receiver, sources, t, entering).run()
    except _Rejected as rejected:
        return Deal(False, rejected.reason, screened=rejected.screened)


class _Negotiation:
    """One negotiation, step by step; a step that finds no deal raises ``_Rejected``."""

    def __init__(self, model: SymbiosisModel, receiver: Firm, sources: list[tuple[Firm, str]], t: int, entering: bool) -> None:
        data = self.data = model.data
        self.model, self.receiver, self.sources, self.t, self.entering = model, receiver, sources, t, entering
        self.year = data.year_of(t)
        self.contract_years = min([receiver.rules.contract_years] + [supplier.rules.contract_years for supplier, _ in sources])
        self.end = min(data.periods, t + self.contract_years * data.ppy)
        self.supplies = [supplier.supply(product, t) for supplier, product in sources]

    def run(self) -> Deal:
        self._links()
        self.products = {p for _, p in self.sources}
        # A deal that may need a dedicated asset is valued once to the horizon; its term is then
        # cut to the asset's payback (a firm's LP couples periods only through storage and annual
        # minimum activity, so a window's value is the sum of its periods).
        dedicated = bool(self.links) or self.entering or len(self._build_options()) > 1 or any(s.builds for s in self.supplies)
        if dedicated:
            self.end = self.data.periods
        plan, takes, sides = self._value()
        if dedicated and not self.entering:  # an entrant's supply runs for its plant's life: the horizon
            end = self._term(plan, sides)
            fixed = any(self.data.actor_processes[(self.receiver.actor, k)].fixed_activity is not None for k in plan.built)
            if end < self.end and fixed:
                # a plant whose production is fixed must also run after the term (and build what
                # it needs then): value it again with the offers ending with the term
                self.end = end
                plan, takes, sides = self._value()
            elif end < self.end:
                self._shorten(plan, takes, sides, end)
        joint = self._joint_surplus(plan, sides)
        terms, receiver_net = self._bargain(plan, sides, takes, joint)
        self._check_payback(plan, sides, terms, receiver_net, joint)
        asset = self._asset_costs(plan.built, sides)[0] > 0
        return Deal(True, "accepted", terms, float(receiver_net), plan.built, self.end, dedicated=asset)

    # ---- the steps ------------------------------------------------------------
    def _value(self) -> tuple[_ReceiverPlan, list[np.ndarray], list[_SupplierSide]]:
        """Both sides' valuations over the current term, transaction costs included."""
        self._make_offers()
        self._receiver_terms()
        plan = self._receiver_plan()
        takes = self._takes(plan)
        if self.entering:
            self._build_only_what_runs(plan)
        sides = self._supplier_sides(takes)
        self._transaction_costs(plan, sides, takes)
        return plan, takes, sides

    def _links(self) -> None:
        """Links still to build for the deal (the receiver pays them, as in the accounts)."""
        self.links: list[Arc] = []
        for supplier, product in self.sources:
            arc = self.data.arcs[(supplier.actor, self.receiver.actor, product)]
            if arc.buildable and not self.model.link_built(arc.key):
                if self.year < self.data.first_link_year(arc):
                    raise _Rejected("link not allowed yet", screened=True)
                self.links.append(arc)

    def _asset_costs(self, built: tuple[str, ...], sides: list[_SupplierSide]) -> tuple[float, float]:
        """The dedicated assets' one-off cost (at t, undiscounted) and their fixed costs per year."""
        data, receiver = self.data, self.receiver
        keys: list[tuple[str, tuple[str, ...]]] = [("linked", arc.key) for arc in self.links] + [("built", (receiver.actor, k)) for k in built]
        keys += [("built", (self.sources[x.source][0].actor, k)) for x in sides for k in x.built]
        if self.entering:
            keys.append(("present", (receiver.actor,)))
        one_off = sum(ledger.commitment_cost(data, v, key, 1.0, 0.0) for v, key in keys)
        fixed = sum(ledger.commitment_cost(data, v, key, 0.0, 1.0) for v, key in keys)
        return one_off, fixed

    def _term(self, plan: _ReceiverPlan, sides: list[_SupplierSide]) -> int:
        """The end of the term: ``contract_years``, or, when the deal needs a dedicated asset, the
        years the asset needs to pay back at the receiver's hurdle rate out of the deal's annual
        value net of transaction costs and the asset's fixed costs, capped by the horizon."""
        data, t = self.data, self.t
        one_off, fixed = self._asset_costs(plan.built, sides)
        contract_end = min(data.periods, t + self.contract_years * data.ppy)
        if one_off <= 0:
            return contract_end
        operating = plan.gain + self._invest_cost(plan.built) + self.link_cost  # before investments
        joint = operating + sum(x.gross + x.invest - x.transaction_cost - x.receiver_transaction_cost for x in sides)
        annual = joint / self.window_annuity - fixed if self.window_annuity > 0 else 0.0
        years = _payback_years(self.receiver.discount, t, data.ppy, one_off, annual)
        if years is None:
            return data.periods
        return min(data.periods, t + max(self.contract_years, years) * data.ppy)

    def _shorten(self, plan: _ReceiverPlan, takes: list[np.ndarray], sides: list[_SupplierSide], end: int) -> None:
        """Cut the valuation to the term [t, end): the same plans, valued over fewer periods."""
        t, receiver = self.t, self.receiver
        self.end = end
        self._window_costs()
        for volumes in takes:
            volumes[end:] = 0.0
        plan.base_value = 0.0 if self.entering else receiver.base_value(t, end)
        plan.gain = receiver.worth(plan.solution, t, end) - plan.base_value - self._invest_cost(plan.built) - self.link_cost
        plan.gain += self._provisional(plan, end)
        for x in sides:
            supplier = self.sources[x.source][0]
            assert x.solution is not None
            for _, volumes in x.upstream:
                volumes[end:] = 0.0
            x.invest = self._supplier_invest(supplier, x.built)
            x.gross = supplier.worth(x.solution, t, end) - supplier.base_value(t, end) - x.invest
        self._transaction_costs(plan, sides, takes)

    def _make_offers(self) -> None:
        """Each supplier offers, over the window and within the arc's room, tiers of its product
        (``Supply.tiers``): what it disposes of, what it sells, what it could make on top. The
        receiver's LP sees each tier at its own money per unit (transport, subsidy) less the
        supplier's reservation price, so it takes what is worth more to the two of them than
        without the deal; the reservation is a provisional transfer, taken back out of the
        receiver's gain (``_provisional``) before the surplus is split."""
        data, t, end = self.data, self.t, self.end
        window = np.zeros(data.periods, bool)
        window[t:end] = True
        self.offers: list[list[np.ndarray]] = []
        self.unit_values: list[list[float]] = []
        self.reservations: list[list[float]] = []
        for (supplier, product), supply in zip(self.sources, self.supplies, strict=True):
            arc = data.arcs[(supplier.actor, self.receiver.actor, product)]
            room = self.model.arc_room(arc, t, end)
            dump, sell = supplier.reservations(product, t)
            value = ledger.unit_value(data, "flow", arc.key) - EPSILON
            bounds, values, reservations = [], [], []
            for volumes, reservation in supply.tiers(dump, sell):
                bound = np.minimum(volumes * window, room)
                room = room - bound
                bounds.append(bound)
                values.append(value - reservation)
                reservations.append(reservation)
            self.offers.append(bounds)
            self.unit_values.append(values)
            self.reservations.append(reservations)
        if all(sum(b.sum() for b in bounds) <= TOL for bounds in self.offers):
            raise _Rejected("no surplus to offer", screened=True)

    def _provisional(self, plan: _ReceiverPlan, end: int) -> float:
        """The reservation prices the receiver's LP paid for what it took, over [t, end), at its rate."""
        total, t, disc = 0.0, self.t, self.receiver.discount
        for i in range(len(self.sources)):
            for tier, reservation in enumerate(self.reservations[i]):
                taken = plan.solution.extra[len(self.reservations[i]) * i + tier][: end - t]
                total += reservation * float((disc[t : t + len(taken)] * taken).sum())
        return total

    def _window_costs(self) -> None:
        """The receiver's discounted years of the window and its link costs over them."""
        data, receiver = self.data, self.receiver
        # fixed costs count over the contract window, like the gains
        self.window_annuity = _annuity(receiver.discount, self.t, self.end, data.ppy)
        self.link_cost = sum(
            ledger.commitment_cost(data, "linked", arc.key, receiver.discount[self.t], self.window_annuity) for arc in self.links
        )

    def _receiver_terms(self) -> None:
        """What the receiver's valuation needs: the window's annuity, link costs, use rules."""
        data, receiver = self.data, self.receiver
        self._window_costs()
        makes = {p for k in receiver.lp.processes_all for p in data.processes[k].outputs}
        if any(data.exchange_subsidy.get(p, 0.0) > 0 for p in self.products & makes):
            raise _Rejected("receiver makes this subsidised product itself", screened=True)
        subsidised = {p: "receive" for p in sorted(self.products) if data.exchange_subsidy.get(p, 0.0) > 0}
        self.receiver_rules = {**receiver.use_rules(), **subsidised}

    def _extras(self, until: int, skip: int | None = None) -> list[Extra]:
        """The offers' tiers as optional inflows of the receiver's LP up to ``until`` (all but ``skip``'s)."""
        t, n = self.t, until - self.t
        extras = []
        for i, (_, p) in enumerate(self.sources):
            for bound, value in zip(self.offers[i], self.unit_values[i], strict=True):
                extras.append(Extra(p, True, bound[t:until] if i != skip else np.zeros(n), np.full(n, value)))
        return extras

    def _invest_cost(self, built: tuple[str, ...]) -> float:
        """The receiver's build (and entry) costs, its fixed costs over the window included."""
        data, receiver, first = self.data, self.receiver, self.receiver.discount[self.t]
        cost = sum(ledger.commitment_cost(data, "built", (receiver.actor, k), first, self.window_annuity) for k in built)
        if self.entering:
            cost += ledger.commitment_cost(data, "present", (receiver.actor,), first, self.window_annuity)
        return cost

    def _supplier_invest(self, supplier: Firm, built: tuple[str, ...]) -> float:
        """A supplier's build costs for the deal, its fixed costs over the window included."""
        data, t = self.data, self.t
        years = _annuity(supplier.discount, t, self.end, data.ppy)
        return sum(ledger.commitment_cost(data, "built", (supplier.actor, k), supplier.discount[t], years) for k in built)

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
        best.gain += self._provisional(best, end)  # its own gain: the reservations are not paid
        return best

    def _takes(self, plan: _ReceiverPlan) -> list[np.ndarray]:
        """What the receiver takes of each supplier (both tiers), per period (length T; nothing
        after the contract); ``self.extra_taken[i]``: how much of it is extra production."""
        takes, self.extra_taken = [], []
        extra = plan.solution.extra
        for i in range(len(self.sources)):
            tiers = len(self.offers[i])
            volumes = np.zeros(self.data.periods)
            for tier in range(tiers):
                taken = extra[tiers * i + tier]
                part = np.zeros(self.data.periods)
                part[self.t : self.t + len(taken)] = np.where(taken > TOL, taken, 0.0)
                part[self.end :] = 0.0  # offers end with the contract
                volumes += part
            takes.append(volumes)
            more = extra[tiers * i + tiers - 1][: self.end - self.t]
            self.extra_taken.append(float(np.where(more > TOL, more, 0.0).sum()))
        if all(v.sum() <= TOL for v in takes):
            sold = any(r > 0 and b.sum() > TOL for bounds, rs in zip(self.offers, self.reservations, strict=True) for b, r in zip(bounds, rs, strict=True))
            if sold:  # it would take it for free, not at what the supplier gets elsewhere
                raise _Rejected("receiver rejects: the supplier's reservation price is above its own inputs", screened=True)
            raise _Rejected("receiver has no use for it", screened=True)
        return takes

    def _build_only_what_runs(self, plan: _ReceiverPlan) -> None:
        """An entrant builds only the processes its plan runs."""
        used = tuple(k for k in plan.built if plan.solution.activity.get(k, np.zeros(1)).sum() > TOL)
        if used != plan.built:
            plan.gain += self._invest_cost(plan.built) - self._invest_cost(used)
            plan.built = used

    def _supplier_sides(self, takes: list[np.ndarray]) -> list[_SupplierSide]:
        """Each supplier's gain from delivering what the receiver takes (transaction costs follow):
        with its processes, or, when it must make more, also with its candidate processes that
        make the product (their build and fixed costs count against its gain)."""
        data, t, end = self.data, self.t, self.end
        sides: list[_SupplierSide] = []
        for i, (supplier, product) in enumerate(self.sources):
            if takes[i].sum() <= TOL:
                continue
            flows = supplier.net_inflow()
            flows[product] = flows.get(product, np.zeros(data.periods)) - takes[i]
            rules = {**supplier.use_rules()}
            if data.exchange_subsidy.get(product, 0.0) > 0:
                rules[product] = "send"
            builds = self.supplies[i].builds
            options: list[tuple[str, ...]] = [()] + ([builds] if builds and self.extra_taken[i] > TOL else [])
            chain = supplier.upstream(product, t) if self.extra_taken[i] > TOL else []
            best: _SupplierSide | None = None
            for built in options:
                processes = {**supplier.processes, **{k: self.year for k in built}}
                extras = supplier.upstream_extras(chain, t, end)
                solution = supplier.plan(t, processes=processes, net_inflow=flows, use_rules=rules, end=end, extras=extras)
                if not solution.ok:
                    continue
                invest = self._supplier_invest(supplier, built)
                gross = supplier.worth(solution, t, end) - supplier.base_value(t, end) - invest
                if best is None or gross > best.gross:
                    best = _SupplierSide(i, gross, solution, built, invest)
                    best.upstream = self._upstream_takes(chain, solution)
            if best is None:
                raise _Rejected("supplier cannot deliver")
            self._check_upstream(best)
            sides.append(best)
        return sides

    def _upstream_takes(self, chain: list[Upstream], solution: FirmSolution) -> list[tuple[Upstream, np.ndarray]]:
        """What the supplier draws from each earlier contract's partner (length T; none after the term)."""
        takes = []
        for u, taken in zip(chain, solution.extra, strict=True):
            volumes = np.zeros(self.data.periods)
            volumes[self.t : self.t + len(taken)] = np.where(taken > TOL, taken, 0.0)
            volumes[self.end :] = 0.0
            if volumes.sum() > TOL:
                takes.append((u, volumes))
        return takes

    def _check_upstream(self, side: _SupplierSide) -> None:
        """Each upstream firm's gain from sending more, before any price (its LP): it joins the deal
        as a third party and gets its share of the joint surplus through its price (``_bargain``)."""
        t, end = self.t, self.end
        side.upstream_gain = []
        for u, volumes in side.upstream:
            firm = u.supplier
            flows = firm.net_inflow()
            flows[u.product] = flows.get(u.product, np.zeros(self.data.periods)) - volumes
            solution = firm.plan(t, net_inflow=flows, end=end)
            if not solution.ok:
                raise _Rejected(f"{firm.actor} cannot send more {u.product}")
            side.upstream_gain.append(firm.worth(solution, t, end) - firm.base_value(t, end))

    def _transaction_costs(self, plan: _ReceiverPlan, sides: list[_SupplierSide], takes: list[np.ndarray]) -> None:
        """Both sides' transaction costs of each exchange. Its annual value: the supplier's gain plus
        the receiver's operating gain (before investments; with several exchanges, split by
        discounted volume taken), per discounted year of the term."""
        data, receiver, t, end = self.data, self.receiver, self.t, self.end
        operating = plan.gain + self._invest_cost(plan.built) + self.link_cost
        volume = [float((receiver.discount * takes[x.source]).sum()) for x in sides]
        receiver_years = _annuity(receiver.discount, t, end, data.ppy)
        for x, v in zip(sides, volume, strict=True):
            supplier, product = self.sources[x.source]
            weight = v / sum(volume) if sum(volume) > 0 else 1 / len(sides)
            annual_value = (operating * weight + x.gross + x.invest) / receiver_years if receiver_years > 0 else 0.0
            x.transaction_cost = _transaction_cost(supplier, receiver, product, _annuity(supplier.discount, t, end, data.ppy), annual_value)
            x.receiver_transaction_cost = _transaction_cost(receiver, supplier, product, receiver_years, annual_value)
            x.gain = x.gross - x.transaction_cost

    def _joint_surplus(self, plan: _ReceiverPlan, sides: list[_SupplierSide]) -> float:
        """The joint gain of all sides, net of transaction costs; no deal (and why) when it is not positive."""
        joint = plan.gain - sum(x.receiver_transaction_cost for x in sides) + sum(x.gain + self._upstream_value(x) for x in sides)
        if joint > 0:
            return joint
        transaction = sum(x.receiver_transaction_cost + x.transaction_cost for x in sides)
        supplier_gross = sum(x.gain + x.transaction_cost for x in sides)
        if joint + transaction > 0:
            raise _Rejected("transaction costs exceed the joint gain")
        if self.entering and plan.gain <= 0:
            raise _Rejected("entry and build costs exceed what the contracts earn")
        if any(x.built for x in sides) and supplier_gross <= 0 < plan.gain:
            raise _Rejected("the supplier's investment exceeds what the receiver saves")
        if plan.gain > 0 > supplier_gross:
            raise _Rejected("receiver rejects: the supplier's reservation price is above its own inputs")
        if plan.gain <= 0 <= supplier_gross:
            raise _Rejected("receiver rejects: no saving on its own inputs")
        raise _Rejected("no joint surplus")

    def _upstream_value(self, x: _SupplierSide) -> float:
        """What the upstream firms of a chain gain at their reservation prices (which the middle
        firm's valuation already pays): their LP gain plus reservation x volume."""
        return sum(
            gain + u.price * float((u.supplier.discount * volumes).sum()) for (u, volumes), gain in zip(x.upstream, x.upstream_gain, strict=True)
        )

    def _powers(self, sides: list[_SupplierSide]) -> tuple[float, list[float], list[list[float]]]:
        """Each party's share of the joint surplus: the generalised Nash bargaining solution with
        linear utilities gives party i the share power_i / sum of powers (equal powers: equal
        shares; one supplier: ``_share``). Parties: the receiver, each supplier, each upstream
        firm of a chain."""
        upstream = [[u.supplier.rules.bargaining_power for u, _ in x.upstream] for x in sides]
        powers = [self.receiver.rules.bargaining_power] + [self.sources[x.source][0].rules.bargaining_power for x in sides]
        total = sum(powers) + sum(map(sum, upstream))
        if total <= 0:
            n = len(powers) + sum(map(len, upstream))
            return 1 / n, [1 / n] * len(sides), [[1 / n] * len(u) for u in upstream]
        return powers[0] / total, [p / total for p in powers[1:]], [[p / total for p in u] for u in upstream]

    def _price_upstream(self, x: _SupplierSide, shares: list[float], joint: float) -> list[tuple[Upstream, np.ndarray]]:
        """Each upstream firm's price: its share of the joint surplus over its volume; the middle
        firm pays the difference to the reservation price it valued with."""
        priced = []
        middle = self.sources[x.source][0]
        for (u, volumes), gain, share in zip(x.upstream, x.upstream_gain, shares, strict=True):
            volume = float((u.supplier.discount * volumes).sum())
            price = (share * joint - gain) / volume
            x.gain -= (price - u.price) * float((middle.discount * volumes).sum())
            priced.append((replace(u, price=float(price)), volumes))
        return priced

    def _bargain(
        self, plan: _ReceiverPlan, sides: list[_SupplierSide], takes: list[np.ndarray], joint: float
    ) -> tuple[list[Term], float]:
        """Transfer prices that give each supplier its share of the joint surplus (``_powers``);
        shared costs such as an entry are thus borne by all sides, and the receiver keeps the rest.
        Returns the terms and the receiver's net gain."""
        receiver, model = self.receiver, self.model
        terms: list[Term] = []
        paid = 0.0
        _, supplier_shares, upstream_shares = self._powers(sides)
        for x, share, up in zip(sides, supplier_shares, upstream_shares, strict=True):
            chain = self._price_upstream(x, up, joint)
            supplier, product = self.sources[x.source]
            volumes = takes[x.source]
            supplier_volume = float((supplier.discount * volumes).sum())  # discounted at each side's rate
            receiver_volume = float((receiver.discount * volumes).sum())
            price = (share * joint - x.gain) / supplier_volume
            supplier_net = x.gain + price * supplier_volume
            if supplier_net <= model.volatility * supplier.rules.risk_aversion * abs(price) * supplier_volume + TOL:
                raise _Rejected("loss for the supplier at the bargained price")
            paid += price * receiver_volume + x.receiver_transaction_cost
            index, indexed_to = self._index(plan, product)
            terms.append(Term(supplier, product, volumes, float(price), float(supplier_net), x.built, chain, index, indexed_to))
        receiver_net = plan.gain - paid
        if receiver_net <= model.volatility * receiver.rules.risk_aversion * paid + TOL:
            raise _Rejected("loss for the receiver at the bargained price")
        return terms, receiver_net

    def _index(self, plan: _ReceiverPlan, product: str) -> tuple[np.ndarray | None, str]:
        """The price rule (the receiver's ``price_rule``): ``fixed``, or ``indexed`` to the
        alternative the deal replaces: the receiver's market purchase whose spending the deal
        cuts most (the same product, or the fuel it displaces), or else the supplier's disposal
        of the product (a gate fee follows the disposal cost), when that price moves; else fixed."""
        receiver, t = self.receiver, self.t
        if receiver.rules.price_rule != "indexed" or not self.model.prices:
            return None, ""
        saved: dict[str, float] = {}
        if not self.entering:
            base = receiver.current(t)
            for q, before in base.purchase.items():
                after = plan.solution.purchase.get(q)
                n = min(len(before) - (t - base.start), len(after) if after is not None else 0, self.end - t)
                if after is None or n <= 0:
                    continue
                cut = before[t - base.start : t - base.start + n] - after[:n]
                saved[q] = float((cut * receiver.discount[t : t + n]).sum()) * -receiver.lp.unit_value("buy", q)
        if saved and max(saved.values()) > TOL:
            alternative = max(sorted(saved), key=lambda q: saved[q])
            path = self.model.prices.get(("purchase", receiver.actor, alternative))
            label = f"purchase of {alternative}"
        else:  # nothing bought is displaced: the deal replaces the supplier's disposal (a gate fee)
            supplier = next(s for s, p in self.sources if p == product)
            disposed = supplier.current(t).disposal.get(product, np.zeros(1)).sum() > TOL
            path = self.model.prices.get(("disposal", "*", product)) if disposed else None
            label = f"disposal of {product}"
        if path is None or path[t] <= 0:
            return None, ""
        return path / path[t], label

    def _check_payback(self, plan: _ReceiverPlan, sides: list[_SupplierSide], terms: list[Term], receiver_net: float, joint: float) -> None:
        """The one-off investments (a link, a receiving process, an entry, a supplier's new process)
        are shared through the price: each side carries its share (``_powers``) and must see it pay
        back within its own limit: the share carried over its level cash per year from the deal
        before the investment (its discounted gain over the term, plus what it carries, over the
        term's discounted years). Fixed costs are running costs, already in the gain."""
        one_off = self._asset_costs(plan.built, sides)[0] * self.receiver.discount[self.t]
        if one_off <= 0:
            return
        receiver_share, supplier_shares, upstream_shares = self._powers(sides)
        parties = [(self.receiver, receiver_net, receiver_share)]
        parties += [(x.supplier, x.supplier_gain, share) for x, share in zip(terms, supplier_shares, strict=True)]
        parties += [(u.supplier, share * joint, share) for x, up in zip(terms, upstream_shares, strict=True) for (u, _), share in zip(x.upstream, up, strict=True)]
        for firm, net, share in parties:
            carried = share * one_off
            annual = (net + carried) / _annuity(firm.discount, self.t, self.end, self.data.ppy)  # level cash per year
            if carried > 0 and (annual <= 0 or carried / annual > firm.rules.max_payback_years):
                raise _Rejected(f"payback longer than {firm.actor}'s limit")


def entry_sources(model: SymbiosisModel, firm: Firm, t: int) -> list[tuple[Firm, str]]:
    """Known suppliers that can offer an input of the entrepreneur's processes (surplus or extra production)."""
    data = model.data
    inputs = sorted({p for k in firm.lp.processes_all for p in data.processes[k].inputs})
    return [
        (supplier, p)
        for p in inputs
        for supplier in model.suppliers_of(p, firm)
        if (supplier.actor, firm.actor, p) in data.arcs and supplier.can_offer(p, t)
    ]
