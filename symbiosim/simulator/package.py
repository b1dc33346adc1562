"""A package deal: one supplier, several receivers, one investment that pays only when
they all sign (issue 11, item 4).

A supplier whose offer needs its own investment (a process it would build to make the
product) may find no single buyer large enough to repay it. It then offers the product
to several buyers it knows at once; the deal is signed by all or none. Each receiver
values its part with its own LP, as in a two-firm deal (``negotiation._Negotiation``:
its offers, links and build options), taking what is left of the supply after the
nearer receivers; the supplier values delivering all of it, with and without its
candidate processes. The term, transaction costs, the generalised Nash split (every
party's share of the joint surplus by bargaining power), risk margins and each party's
payback test are those of a two-firm deal. Multilateral contracting of shared
infrastructure among several users is how district heating and steam networks start
(e.g. club goods; Chertow 2007 on anchor tenants).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from symbiosim import ledger
from symbiosim.simulator.agents import TOL, Firm, Supply
from symbiosim.simulator.firm_lp import FirmSolution
from symbiosim.simulator.negotiation import (
    Term,
    _annuity,
    _Negotiation,
    _payback_years,
    _ReceiverPlan,
    _Rejected,
    _transaction_cost,
)

if TYPE_CHECKING:
    from symbiosim.simulator.model import SymbiosisModel

MAX_RECEIVERS = 4  # the nearest buyers a supplier can bring to one table


@dataclass
class _Part:
    """One receiver's part of the package."""

    talk: _Negotiation  # its two-firm view of the deal (offers, links, build options)
    plan: _ReceiverPlan
    volumes: np.ndarray  # what it takes per period (length T)
    transaction_cost: float = 0.0  # its own, over the term
    supplier_cost: float = 0.0  # the supplier's for this exchange


@dataclass
class PackageDeal:
    accepted: bool
    reason: str
    parts: list[tuple[Firm, Term, tuple[str, ...]]]  # receiver, its contract's terms, what it builds
    end: int = 0
    built: tuple[str, ...] = ()  # what the supplier builds


def negotiate_package(model: SymbiosisModel, supplier: Firm, product: str, receivers: list[Firm], t: int) -> PackageDeal:
    """Offer ``product`` to ``receivers`` (nearest first) together; all sign or none."""
    try:
        return _Package(model, supplier, product, receivers[:MAX_RECEIVERS], t).run()
    except _Rejected as rejected:
        return PackageDeal(False, rejected.reason, [])


class _Package:
    def __init__(self, model: SymbiosisModel, supplier: Firm, product: str, receivers: list[Firm], t: int) -> None:
        self.model, self.supplier, self.product, self.receivers, self.t = model, supplier, product, receivers, t
        self.data = model.data
        self.year = self.data.year_of(t)
        self.supply = supplier.supply(product, t)
        rules = [supplier.rules] + [r.rules for r in receivers]
        self.contract_years = min(r.contract_years for r in rules)
        self.end = self.data.periods  # valued once to the horizon, then cut to the term

    def run(self) -> PackageDeal:
        if not self.supply.builds:
            raise _Rejected("no package: the supplier needs no investment")
        parts = self._receiver_parts()
        built, gross, invest, solution = self._supplier_side(parts)
        self._transaction_costs(parts, gross + invest)
        end = self._term(parts, built, gross + invest)
        if end < self.end:
            self.end = end
            for part in parts:
                part.volumes[end:] = 0.0
                part.talk.end = end
                part.talk._window_costs()
                part.plan.base_value = part.talk.receiver.base_value(self.t, end)
                part.plan.gain = (
                    part.talk.receiver.worth(part.plan.solution, self.t, end)
                    - part.plan.base_value
                    - part.talk._invest_cost(part.plan.built)
                    - part.talk.link_cost
                    + part.talk._provisional(part.plan, end)
                )
            invest = self._supplier_invest(built)
            gross = self.supplier.worth(solution, self.t, end) - self.supplier.base_value(self.t, end) - invest
            self._transaction_costs(parts, gross + invest)
        joint = sum(p.plan.gain - p.transaction_cost - p.supplier_cost for p in parts) + gross
        if joint <= 0:
            raise _Rejected("no joint surplus in the package")
        terms, supplier_net = self._bargain(parts, gross, joint, built)
        self._check_payback(parts, terms, supplier_net, built)
        out = [(p.talk.receiver, term, p.plan.built) for p, term in zip(parts, terms, strict=True)]
        return PackageDeal(True, "accepted", out, self.end, built)

    def _receiver_parts(self) -> list[_Part]:
        """Each receiver's best plan with what is left of the supply after the nearer ones."""
        surplus, extra = self.supply.surplus.copy(), self.supply.extra.copy()
        parts: list[_Part] = []
        for receiver in self.receivers:
            talk = _Negotiation(self.model, receiver, [(self.supplier, self.product)], self.t, False)
            disposed = np.minimum(self.supply.disposed, surplus) if self.supply.disposed is not None else None
            talk.supplies = [Supply(surplus.copy(), extra.copy(), self.supply.extra_cost, self.supply.builds, disposed)]
            talk.end = self.end
            try:
                talk._links()
                talk.products = {self.product}
                talk._make_offers()
                talk._receiver_terms()
                plan = talk._receiver_plan()
                (volumes,) = talk._takes(plan)
            except _Rejected:
                continue
            from_surplus = np.minimum(volumes, surplus)
            surplus -= from_surplus
            extra -= volumes - from_surplus
            parts.append(_Part(talk, plan, volumes))
        if len(parts) < 2:
            raise _Rejected("no package: fewer than two buyers take it")
        return parts

    def _supplier_invest(self, built: tuple[str, ...]) -> float:
        data, s, t = self.data, self.supplier, self.t
        years = _annuity(s.discount, t, self.end, data.ppy)
        return sum(ledger.commitment_cost(data, "built", (s.actor, k), s.discount[t], years) for k in built)

    def _supplier_side(self, parts: list[_Part]) -> tuple[tuple[str, ...], float, float, FirmSolution]:
        """The supplier delivering all parts: its gain net of its investments, with or without its candidate processes."""
        data, s, t = self.data, self.supplier, self.t
        flows = s.net_inflow()
        flows[self.product] = flows.get(self.product, np.zeros(data.periods)) - sum(p.volumes for p in parts)
        best: tuple[float, tuple[str, ...], float, FirmSolution] | None = None
        for built in ((), self.supply.builds):
            processes = {**s.processes, **{k: self.year for k in built}}
            solution = s.plan(t, processes=processes, net_inflow=flows, end=self.end)
            if not solution.ok:
                continue
            invest = self._supplier_invest(built)
            gross = s.worth(solution, t, self.end) - s.base_value(t, self.end) - invest
            if best is None or gross > best[0]:
                best = (gross, built, invest, solution)
        if best is None:
            raise _Rejected("supplier cannot deliver the package")
        gross, built, invest, solution = best
        return built, gross, invest, solution

    def _transaction_costs(self, parts: list[_Part], supplier_operating: float) -> None:
        """Per exchange, both sides: the fixed part plus the share of its annual value (the
        receiver's operating gain plus the supplier's, split by volume), as in a two-firm deal."""
        data, s, t = self.data, self.supplier, self.t
        volume = [float((s.discount * p.volumes).sum()) for p in parts]
        for p, v in zip(parts, volume, strict=True):
            r = p.talk.receiver
            years = _annuity(r.discount, t, self.end, data.ppy)
            operating = p.plan.gain + p.talk._invest_cost(p.plan.built) + p.talk.link_cost
            annual = (operating + supplier_operating * v / sum(volume)) / years if years > 0 else 0.0
            p.transaction_cost = _transaction_cost(r, s, self.product, years, annual)
            p.supplier_cost = _transaction_cost(s, r, self.product, _annuity(s.discount, t, self.end, data.ppy), annual)

    def _one_off(self, parts: list[_Part], built: tuple[str, ...]) -> float:
        data = self.data
        keys: list[tuple[str, tuple[str, ...]]] = [("built", (self.supplier.actor, k)) for k in built]
        for p in parts:
            keys += [("linked", arc.key) for arc in p.talk.links]
            keys += [("built", (p.talk.receiver.actor, k)) for k in p.plan.built]
        return sum(ledger.commitment_cost(data, v, key, 1.0, 0.0) for v, key in keys)

    def _term(self, parts: list[_Part], built: tuple[str, ...], supplier_operating: float) -> int:
        """``contract_years``, or as long as the package's investments need to pay back at the
        supplier's hurdle rate out of its joint annual value (as a two-firm deal's term)."""
        data, t, s = self.data, self.t, self.supplier
        one_off = self._one_off(parts, built)
        operating = supplier_operating + sum(
            p.plan.gain + p.talk._invest_cost(p.plan.built) + p.talk.link_cost - p.transaction_cost - p.supplier_cost for p in parts
        )
        years = _annuity(s.discount, t, self.end, data.ppy)
        payback = _payback_years(s.discount, t, data.ppy, one_off, operating / years if years > 0 else 0.0)
        if payback is None:
            return data.periods
        return min(data.periods, t + max(self.contract_years, payback) * data.ppy)

    def _shares(self, parts: list[_Part]) -> list[float]:
        """Supplier first, then each receiver: bargaining power over the sum (generalised Nash)."""
        powers = [self.supplier.rules.bargaining_power] + [p.talk.receiver.rules.bargaining_power for p in parts]
        total = sum(powers)
        return [x / total for x in powers] if total > 0 else [1 / len(powers)] * len(powers)

    def _bargain(self, parts: list[_Part], gross: float, joint: float, built: tuple[str, ...]) -> tuple[list[Term], float]:
        """Prices that leave each receiver its share of the joint surplus; the supplier keeps the rest."""
        s, vol = self.supplier, self.model.volatility
        shares = self._shares(parts)
        terms: list[Term] = []
        supplier_net = gross - sum(p.supplier_cost for p in parts)
        for p, share in zip(parts, shares[1:], strict=True):
            r = p.talk.receiver
            receiver_volume = float((r.discount * p.volumes).sum())
            supplier_volume = float((s.discount * p.volumes).sum())
            price = (p.plan.gain - p.transaction_cost - share * joint) / receiver_volume
            paid = price * receiver_volume + p.transaction_cost
            if p.plan.gain - paid <= vol * r.rules.risk_aversion * paid + TOL:
                raise _Rejected(f"loss for {r.actor} at the bargained price")
            supplier_net += price * supplier_volume
            terms.append(Term(s, self.product, p.volumes, float(price), 0.0, built if not terms else ()))
        received = sum(abs(x.price) * float((s.discount * x.volumes).sum()) for x in terms)
        if supplier_net <= vol * s.rules.risk_aversion * received + TOL:
            raise _Rejected("loss for the supplier at the bargained price")
        for term in terms:
            term.supplier_gain = supplier_net / len(terms)
        return terms, supplier_net

    def _check_payback(self, parts: list[_Part], terms: list[Term], supplier_net: float, built: tuple[str, ...]) -> None:
        """Each party carries its share of the one-off investments and must see it pay back in its limit."""
        one_off = self._one_off(parts, built) * self.supplier.discount[self.t]
        if one_off <= 0:
            return
        shares = self._shares(parts)
        nets = [supplier_net] + [
            p.plan.gain - term.price * float((p.talk.receiver.discount * p.volumes).sum()) - p.transaction_cost
            for p, term in zip(parts, terms, strict=True)
        ]
        firms = [self.supplier] + [p.talk.receiver for p in parts]
        for firm, net, share in zip(firms, nets, shares, strict=True):
            carried = share * one_off
            annual = (net + carried) / _annuity(firm.discount, self.t, self.end, self.data.ppy)
            if carried > 0 and (annual <= 0 or carried / annual > firm.rules.max_payback_years):
                raise _Rejected(f"payback longer than {firm.actor}'s limit")
