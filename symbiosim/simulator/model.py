"""The decentralised cluster: a Mesa model in which every firm follows its own rules.

One step is one period t. Its phases:

1. discovery: firms learn of firms beyond their search radius (Poisson, rate
   per year from the ``behaviour`` table); with a facilitator all know all;
2. contracts: those ending now are renegotiated (renewed or ended); when a
   side's prices move by a 10 % step, each side checks its contract still
   pays and ends it if not (trust in the side that ends it falls); contracts
   backing a dedicated asset run their term (take-or-pay);
3. offers, within each firm's attention for the year (random order): a firm
   offers what it can supply (surplus, spare or candidate capacity) to firms
   it knows that could use it, and at a year's start looks for sources of
   its inputs; a deal is Nash-bargained (``negotiation.py``); a supplier
   whose investment no single buyer repays offers a package
   (``package.py``); a firm may draw more input under an earlier contract
   (a chain); firms that know a party of a signed deal learn of the other
   (``imitation``);
4. entry: entrepreneurs enter when the contracts they can secure cover their
   entry and build costs;
5. realisation: each firm carries out period t of its current plan.

Start: every firm runs its stand-alone (baseline) plan, including its own
investments; exchanges that exist today (``links.exists``) are standing
contracts for the whole horizon at their contract price.

Uncertainty inside a run: firms see today's prices and expect them to last
(static expectations); they re-plan when a price moves by a 10 % step. Each ``uncertainty`` row on a purchase price, a
sale price or a disposal cost gets a mean-reverting multiplicative factor
f_t = 1 + x_t, x_t = (1 - kappa) x_{t-1} + sigma e_t (kappa = 0.25 per period,
sigma = the row's relative standard deviation x sqrt(2 kappa - kappa^2), so
the stationary spread equals the row's), drawn from the model's rng. Firms
see and act on these prices; the plan is valued by ``evaluate`` at the
scenario's prices, the same ruler as the optimum. Volumes are not varied
inside a run (they change the recipe balances); experiments vary them
between runs.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, NamedTuple

import mesa
import numpy as np

from symbiosim import ledger
from symbiosim.plan import Plan, make_table
from symbiosim.scenario.data import Arc, ModelData, build_model_data, haversine_km
from symbiosim.scenario.edit import Cell, distributions, resolve
from symbiosim.scenario.schema import Scenario
from symbiosim.simulator.agents import TOL, Entrepreneur, Firm
from symbiosim.simulator.behaviour import rules_for
from symbiosim.simulator.firm_lp import Prices
from symbiosim.simulator.negotiation import Contract, Deal, entry_sources, negotiate
from symbiosim.simulator.package import negotiate_package

KAPPA = 0.25
MAX_ENTRY_SOURCES = 8
LOG_STEP = math.log(1.1)


class Build(NamedTuple):
    """One investment decision: a row of the plan's ``builds`` table (same columns)."""

    kind: str  # "actor" (an entrant), "process" or "link"
    actor: str  # the entrant, the process's owner, or the link's source
    process: str | None = None
    target: str | None = None  # a link's receiver
    product: str | None = None  # a link's product
    year: int = 0

    @property
    def link_key(self) -> tuple[str, str, str]:
        """A link's (source, target, product), the key of its arc."""
        return (self.actor, self.target or "", self.product or "")


# ---- reporters (module-level functions: picklable) ------------------------
def links_active(model: SymbiosisModel) -> int:
    return sum(1 for c in model.contracts if c.active_volumes()[model.period] > TOL)


def quantity_exchanged(model: SymbiosisModel) -> float:
    return float(sum(c.active_volumes()[model.period] for c in model.contracts))


def offers_made(model: SymbiosisModel) -> int:
    return model.counts["made"]


def offers_accepted(model: SymbiosisModel) -> int:
    return model.counts["accepted"]


def offers_rejected(model: SymbiosisModel) -> int:
    return model.counts["rejected"]


def firm_cash(agent: Firm) -> float:
    return float(agent.cash[agent.model.period])


def firm_actor(agent: Firm) -> str:
    return agent.actor


class SymbiosisModel(mesa.Model):
    """Firms of one scenario trading by-products by their own rules."""

    def __init__(
        self,
        scenario: Scenario,
        baseline: Plan,
        seed: int = 0,
        facilitator: bool = False,
        rule_overrides: dict[str, float] | None = None,
        price_shocks: list[tuple[str, int, float]] | None = None,
    ) -> None:
        super().__init__(rng=seed)
        self.seed = seed
        self.scenario = scenario
        self.data: ModelData = build_model_data(scenario)
        self.facilitator = facilitator
        self.period = 0
        self.contracts: list[Contract] = []
        self.by_arc: dict[tuple[str, str, str], list[Contract]] = {}
        self.builds: list[Build] = []
        self.counts = {"made": 0, "accepted": 0, "rejected": 0}
        self._tried: dict[tuple[str, str, str], Any] = {}
        self._reviewed: dict[int, tuple[int, ...]] = {}  # contract id -> the prices its last review saw
        self._no_use: dict[tuple[str, str], Any] = {}
        self.prices, self.volatility = self._price_paths(price_shocks or [])
        self._price_items = sorted(self.prices.items())
        self._signatures: dict[tuple[str, int], tuple[int, ...]] = {}
        self._handles = set(self.data.balance_keys)
        self.firms: dict[str, Firm] = {}
        self._distances: dict[tuple[str, str], float] = {}
        own = baseline.builds[baseline.builds.kind == "process"]
        for actor, a in self.data.actors.items():
            rules = rules_for(scenario, actor, rule_overrides)
            if a.exists:
                procs = {k: 0 for (x, k), r in self.data.actor_processes.items() if x == actor and r.exists}
                for r in own[own.actor == actor].itertuples():  # its own stand-alone investments
                    procs[r.process] = int(r.year)
                    self.builds.append(Build("process", actor, process=r.process, year=int(r.year)))
                self.firms[actor] = Firm(self, actor, rules, procs)
            else:
                self.firms[actor] = Entrepreneur(self, actor, rules, {})
        self._init_knowledge()
        self.partners = self._partners()
        self._senders: dict[tuple[str, str], list[str]] = {}  # (receiver, product) -> possible suppliers, from the arcs
        for sender, receiver, product in sorted(self.data.arcs):
            self._senders.setdefault((receiver, product), []).append(sender)
        self.needs = self._needs()
        self._in_order = sorted(self.firms.items())  # (actor, firm) by actor id
        self._standing_contracts(baseline)
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "links_active": links_active,
                "quantity_exchanged": quantity_exchanged,
                "offers_made": offers_made,
                "offers_accepted": offers_accepted,
                "offers_rejected": offers_rejected,
            },
            agent_reporters={"actor": firm_actor, "cash": firm_cash},
            tables={"offers": ["period", "source", "target", "product", "outcome", "reason", "price", "volume"]},
        )

    # ---- set-up --------------------------------------------------------
    def _price_paths(self, shocks: list[tuple[str, int, float]]) -> tuple[dict[tuple[str, str, str], np.ndarray], float]:
        """Per (kind, actor-or-*, product) factor paths; mean relative volatility."""
        T = self.data.periods
        paths: dict[tuple[str, str, str], np.ndarray] = {}
        sigmas = []
        for u in distributions(self.scenario):
            kind = {("purchases", "price"): "purchase", ("sales", "price"): "sale", ("products", "disposal_cost"): "disposal"}.get(
                (u.target.table, u.target.column)
            )
            if kind is None:
                continue
            rel = u.relative_sd
            sigmas.append(rel)
            x = np.zeros(T)
            eps = self.rng.standard_normal(T)
            step_sd = rel * math.sqrt(2 * KAPPA - KAPPA**2)
            for t in range(1, T):
                x[t] = (1 - KAPPA) * x[t - 1] + step_sd * eps[t]
            factor = np.maximum(1.0 + x, 0.0)
            for key in self._keys(u.cells, kind):
                paths[key] = paths.get(key, np.ones(T)) * factor
        for text, period, multiplier in shocks:
            cells = resolve(self.scenario, text)
            kind = {"purchases": "purchase", "sales": "sale", "products": "disposal"}[cells[0].table]
            for key in self._keys(cells, kind):
                path = paths.setdefault(key, np.ones(T))
                path[period:] *= multiplier
        return paths, float(np.mean(sigmas)) if sigmas else 0.0

    def _keys(self, cells: list[Cell] | tuple[Cell, ...], kind: str) -> list[tuple[str, str, str]]:
        rows = [getattr(self.scenario, c.table)[c.row] for c in cells]
        if kind == "disposal":
            return [("disposal", "*", r.id) for r in rows]
        return [(kind, r.actor, r.product) for r in rows]

    def _changed(self, last: Any, stamp: tuple[Any, ...], t: int) -> bool:
        """Worth asking again? When contracts or processes changed, or, at a year's
        start, when prices moved by a 10 % step since the last answer."""
        if last is None or last[:-1] != stamp[:-1]:
            return True
        return t % self.data.ppy == 0 and last[-1] != stamp[-1]

    def price_signature(self, actors: tuple[str, ...], t: int) -> tuple[int, ...]:
        """The firms' own price factors at t in 10 % steps: re-examined when this changes
        (each firm's part computed once per period)."""
        if not self._price_items:
            return ()
        out: tuple[int, ...] = ()
        for actor in actors:
            key = (actor, t)
            part = self._signatures.get(key)
            if part is None:
                if len(self._signatures) > 100_000:
                    self._signatures.clear()
                steps = [
                    int(round(float(np.log(max(path[t], 1e-9))) / LOG_STEP))
                    for (_kind, who, product), path in self._price_items
                    if who == actor or (who == "*" and (actor, product) in self._handles)
                ]
                part = self._signatures[key] = tuple(steps)
            out += part
        return out

    def prices_for(self, actor: str, t: int) -> Prices:
        """What ``actor`` expects at t: today's prices, held for the future (static expectations)."""
        out = Prices()
        for (kind, who, product), path in self.prices.items():
            if who in ("*", actor):
                expected = path.copy()
                expected[t:] = path[t]
                getattr(out, kind)[product] = expected
        return out

    def _init_knowledge(self) -> None:
        for a, firm in self.firms.items():
            for b in self.firms:
                if b != a and (self.facilitator or self.distance(a, b) <= firm.rules.search_radius_km):
                    firm.known.add(b)

    def distance(self, a: str, b: str) -> float:
        if (a, b) not in self._distances:
            x, y = self.data.actors[a], self.data.actors[b]
            missing = None in (x.lat, x.lon, y.lat, y.lon)
            self._distances[(a, b)] = 0.0 if missing else haversine_km(x.lat, x.lon, y.lat, y.lon)  # type: ignore[arg-type]
        return self._distances[(a, b)]

    def _standing_contracts(self, baseline: Plan) -> None:
        f = baseline.flows
        for key, arc in self.data.arcs.items():
            if not arc.exists:
                continue
            rows = f[(f.source == key[0]) & (f.target == key[1]) & (f["product"] == key[2])]
            volumes = np.zeros(self.data.periods)
            volumes[rows.period.to_numpy()] = rows.value.to_numpy()
            contract = Contract(len(self.contracts), *key, 0, self.data.periods, arc.price, volumes, existing=True)
            self._sign(contract)

    # ---- helpers used by the negotiation --------------------------------
    def link_built(self, key: tuple[str, str, str]) -> bool:
        arc = self.data.arcs[key]
        return arc.exists or any(b.kind == "link" and b.link_key == key for b in self.builds)

    def arc_room(self, arc: Arc, start: int, end: int) -> np.ndarray:
        """Capacity per period left on an arc (inf when unlimited)."""
        room = np.full(self.data.periods, np.inf if arc.capacity is None else arc.capacity / self.data.ppy)
        for c in self.by_arc.get(arc.key, ()):
            room -= c.active_volumes()
        return np.maximum(room, 0.0)

    def suppliers_of(self, product: str, receiver: Firm) -> list[Firm]:
        """Present firms the receiver knows that have an arc to it for ``product`` (sorted by id)."""
        return [
            self.firms[supplier]
            for supplier in self._senders.get((receiver.actor, product), ())
            if supplier in receiver.known and self.firms[supplier].present
        ]

    def _sign(self, c: Contract) -> None:
        self.contracts.append(c)
        self.by_arc.setdefault((c.source, c.target, c.product), []).append(c)
        for actor in (c.source, c.target):
            firm = self.firms[actor]
            firm.contracts.append(c)
            firm.version += 1
            firm.solution = None

    def _end(self, c: Contract, t: int, broken_by: str | None) -> None:
        c.broken_at = t
        for actor in (c.source, c.target):
            firm = self.firms[actor]
            if c in firm.contracts:
                firm.contracts.remove(c)
            firm.version += 1
            firm.solution = None
        a, b = c.source, c.target
        if broken_by is None:
            for x, y in ((a, b), (b, a)):
                firm = self.firms[x]
                firm.trust[y] = min(1.0, firm.trust_in(y) + firm.rules.trust_gain)
        else:
            other = b if broken_by == a else a
            firm = self.firms[other]
            firm.trust[broken_by] = max(0.0, firm.trust_in(broken_by) - firm.rules.trust_loss)

    # ---- the phases ------------------------------------------------------
    def step(self) -> None:
        t = self.period = self.steps - 1
        self.counts = {"made": 0, "accepted": 0, "rejected": 0}
        self._discover()
        self._review_contracts(t)
        self._offers(t)
        if t % self.data.ppy == 0:
            self._entries(t)
        for firm in self.firms.values():
            firm.realise(t)
        self.datacollector.collect(self)

    def _discover(self) -> None:
        if self.facilitator:
            return
        present = [a for a, f in self.firms.items() if f.present or isinstance(f, Entrepreneur)]
        present_set = set(present)
        for a in sorted(self.firms):
            firm = self.firms[a]
            if not present_set.difference(firm.known, (a,)):
                continue
            draws = self.rng.poisson(firm.rules.discovery_rate / self.data.ppy)
            if draws:  # list the unknown firms only when one is discovered
                unknown = [b for b in present if b != a and b not in firm.known]
                for _ in range(draws):
                    firm.known.add(unknown[int(self.rng.integers(len(unknown)))])

    def _review_contracts(self, t: int) -> None:
        for c in list(self.contracts):
            if c.existing or c.broken_at is not None:
                continue
            if c.end == t:  # ran its course: trust grows, then renegotiate
                c.broken_at = t
                self._end(c, t, None)
                self._try(self.firms[c.source], self.firms[c.target], c.product, t, renewal=True)
                self._settle((c.source, c.target), t)
            elif self.prices and t > c.start and not c.dedicated:  # take-or-pay: a dedicated asset's contract runs its term
                # looked at again only when a side's prices moved by a 10 % step (a firm that can no
                # longer operate after another contract changed is handled by ``_settle``)
                stamp = self.price_signature((c.source, c.target), t)
                if self._reviewed.get(c.id) == stamp:
                    continue
                self._reviewed[c.id] = stamp
                for actor in (c.target, c.source):
                    if self._contract_value(c, self.firms[actor], t) < -TOL:
                        self._log(t, c.source, c.target, c.product, "ended", f"{actor}: no longer pays at current prices", c.price, 0.0)
                        self._end(c, t, broken_by=actor)
                        self._settle((c.source, c.target), t)
                        break

    def _settle(self, actors: tuple[str, ...], t: int) -> None:
        """After a contract ends, a firm that cannot operate with the contracts it has left
        (a biogas plant whose feedstock contract ended, still bound to deliver gas) ends the one
        it cannot honour: the latest signed whose end alone restores a plan, else the latest
        signed. The partner is checked in turn, so a chain of dependent deals unwinds."""
        todo = list(actors)
        while todo:
            firm = self.firms[todo.pop()]
            if firm.plan(t).ok:
                continue
            own = sorted((c for c in firm.contracts if not c.existing), key=lambda c: (-c.start, c.source, c.target, c.product))
            if not own:
                raise RuntimeError(f"firm {firm.actor} has no feasible plan from period {t}")
            c = next((c for c in own if firm.plan(t, net_inflow=firm.net_inflow(exclude=c)).ok), own[0])
            self._log(t, c.source, c.target, c.product, "ended", f"{firm.actor}: cannot honour it after another contract ended", c.price, 0.0)
            self._end(c, t, broken_by=firm.actor)
            todo += [firm.actor, c.target if c.source == firm.actor else c.source]

    def _contract_value(self, c: Contract, firm: Firm, t: int) -> float:
        """What keeping the rest of the contract is worth to ``firm`` at today's prices."""
        # its plan with all its contracts: the current one while its prices are within the 10 %
        # step it was made at (as for re-planning), else one at today's prices like ``without``
        fresh = firm.solution is not None and firm.solution.start <= t and firm._signature == self.price_signature((firm.actor,), t)
        with_it = firm.current(t) if fresh else firm.plan(t)
        without = firm.plan(t, net_inflow=firm.net_inflow(exclude=c))
        if not without.ok:
            return math.inf  # cannot do without it
        disc = firm.discount
        q = float((disc[t:] * c.active_volumes()[t:]).sum())
        pay = c.unit_price(t) * q  # today's price, expected to last
        if c.target == firm.actor:  # the receiver pays the price, and transport net of the subsidy (the ledger's flow value)
            pay = -pay + ledger.unit_value(self.data, "flow", (c.source, c.target, c.product)) * q
        return firm.worth(with_it, t) - firm.worth(without, t) + pay

    def _partners(self) -> dict[str, list[tuple[str, list[str]]]]:
        """Index: supplier -> [(product, receivers that use it, nearest first)], from the arcs,
        so matching never scans all firm pairs."""
        data = self.data
        uses: dict[str, set[str]] = {}
        for (x, k) in data.actor_processes:
            uses.setdefault(x, set()).update(data.processes[k].inputs)
        index: dict[tuple[str, str], list[str]] = {}
        for (a, b, p), arc in data.arcs.items():
            if p in uses.get(b, ()) or arc.buildable or arc.exists:  # could use it
                index.setdefault((a, p), []).append(b)
        out: dict[str, list[tuple[str, list[str]]]] = {}
        for (a, p), receivers in sorted(index.items()):
            out.setdefault(a, []).append((p, sorted(receivers, key=lambda b: (self.distance(a, b), b))))
        return out

    def _offers(self, t: int) -> None:
        """Each firm, in random order, offers what it can supply and looks for cheaper sources
        of what it needs, within its attention for the year."""
        if t % self.data.ppy == 0:
            for firm in self.firms.values():
                firm.attention_used = 0
        order = [self.firms[a] for a in sorted(self.firms)]
        self.random.shuffle(order)
        for firm in order:
            if firm.present:
                self._offer_supplies(firm, t)
                if t % self.data.ppy == 0:  # buyers review their sourcing once a year (a budget cycle)
                    self._look_for_sources(firm, t)

    def _offer_supplies(self, supplier: Firm, t: int) -> None:
        for product, receivers in self.partners.get(supplier.actor, []):
            if supplier.attention_used >= supplier.rules.attention:
                return  # no attention left this year (renewals and others' offers still reach it)
            if not supplier.can_offer(product, t):
                continue
            buyers, formed = [], False
            for b in receivers:
                receiver = self.firms[b]
                if b not in supplier.known or not receiver.present or supplier.trust_in(b) < supplier.rules.trust_threshold:
                    continue
                formed |= self._try(supplier, receiver, product, t, initiator=supplier)
                if not any(c.broken_at is None for c in self.by_arc.get((supplier.actor, b, product), ())):
                    buyers.append(receiver)
            if not formed and len(buyers) > 1 and supplier.supply(product, t).builds:
                self._try_package(supplier, product, buyers, t)

    def _try_package(self, supplier: Firm, product: str, buyers: list[Firm], t: int) -> bool:
        """No buyer alone repays the supplier's investment: offer the nearest ones a package."""
        key = ("package", supplier.actor, product)
        stamp = (supplier.version, tuple(b.version for b in buyers), self.price_signature((supplier.actor, *(b.actor for b in buyers)), t))
        if not self._changed(self._tried.get(key), stamp, t) or supplier.attention_used >= supplier.rules.attention:
            return False
        self._tried[key] = stamp  # type: ignore[assignment]
        self.counts["made"] += 1
        deal = negotiate_package(self, supplier, product, buyers, t)
        supplier.attention_used += 1
        names = ",".join(b.actor for b in buyers)
        if not deal.accepted:
            self.counts["rejected"] += 1
            self._log(t, supplier.actor, names, product, "no package", deal.reason, None, 0.0)
            return False
        year = self.data.year_of(t)
        for k in deal.built:
            supplier.processes[k] = year
            self.builds.append(Build("process", supplier.actor, process=k, year=year))
        for receiver, term, built in deal.parts:
            self._accept(receiver, Deal(True, "accepted (package)", [replace(term, built=())], 0.0, built, deal.end, dedicated=True), t)
        return True

    def _look_for_sources(self, receiver: Firm, t: int) -> None:
        """A buyer asks the firms it knows for what it buys and for the inputs of its processes."""
        for product in self.needs[receiver.actor]:
            if receiver.attention_used >= receiver.rules.attention:
                return
            for supplier in self.suppliers_of(product, receiver):
                if receiver.trust_in(supplier.actor) < receiver.rules.trust_threshold or not supplier.can_offer(product, t):
                    continue
                self._try(supplier, receiver, product, t, initiator=receiver)

    def _needs(self) -> dict[str, list[str]]:
        """Per firm: what it buys and the inputs of its processes, existing (make or buy: heat
        from its own boiler) and candidate."""
        data = self.data
        wanted: dict[str, set[str]] = {actor: set() for actor in self.firms}
        for actor, product in data.purchase_limit:
            wanted[actor].add(product)
        for actor, k in data.actor_processes:
            wanted[actor] |= set(data.processes[k].inputs)
        return {actor: sorted(products) for actor, products in wanted.items()}

    def _try(self, supplier: Firm, receiver: Firm, product: str, t: int, renewal: bool = False, initiator: Firm | None = None) -> bool:
        key = (supplier.actor, receiver.actor, product)
        if any(c.broken_at is None for c in self.by_arc.get(key, ())):
            return False
        # retry a pair only when something changed: either side's contracts or
        # processes, or (at a year's start) one of their prices by a 10 % step
        last = self._tried.get(key)
        if not renewal and last is not None and last[:2] == (supplier.version, receiver.version) and t % self.data.ppy:
            return False
        stamp = (supplier.version, receiver.version, self.price_signature((supplier.actor, receiver.actor), t))
        if not renewal and not self._changed(last, stamp, t):
            return False
        if supplier.trust_in(receiver.actor) < supplier.rules.trust_threshold or receiver.trust_in(supplier.actor) < receiver.rules.trust_threshold:
            return False  # either side refuses a partner it no longer trusts
        use_stamp = (receiver.version, self.price_signature((receiver.actor,), t))
        if self._no_use.get((receiver.actor, product)) == use_stamp:
            return False  # no use for it, and nothing at the receiver changed since
        if initiator is not None and initiator.attention_used >= initiator.rules.attention:
            return False  # no attention left this year: asked again later
        self.counts["made"] += 1
        deal = negotiate(self, receiver, [(supplier, product)], t)
        if deal.reason != "link not allowed yet":  # asked again once the year comes
            self._tried[key] = stamp
        if initiator is not None and not deal.screened:
            initiator.attention_used += 1
        if deal.reason == "receiver has no use for it":
            self._no_use[(receiver.actor, product)] = use_stamp
        if not deal.accepted:
            self.counts["rejected"] += 1
            self._log(t, *key, "rejected", deal.reason, None, 0.0)
            return False
        self._accept(receiver, deal, t)
        return True

    def _accept(self, receiver: Firm, deal: Deal, t: int) -> None:
        year = self.data.year_of(t)
        for k in deal.processes:
            receiver.processes[k] = year
            self.builds.append(Build("process", receiver.actor, process=k, year=year))
        for term in deal.terms:
            for k in term.built:
                term.supplier.processes[k] = year
                self.builds.append(Build("process", term.supplier.actor, process=k, year=year))
            arc = self.data.arcs[(term.supplier.actor, receiver.actor, term.product)]
            if arc.buildable and not self.link_built(arc.key):
                self.builds.append(Build("link", arc.source, target=arc.target, product=arc.product, year=year))
            c = Contract(
                len(self.contracts), arc.source, arc.target, arc.product, t, deal.end, term.price, term.volumes,
                dedicated=deal.dedicated, index=term.index, indexed_to=term.indexed_to,
            )
            self._sign(c)
            for u, volumes in term.upstream:  # a chain: the earlier contract's partner sends more, at its price
                more = Contract(len(self.contracts), u.supplier.actor, arc.source, u.product, t, deal.end, u.price, volumes, dedicated=deal.dedicated)
                self._sign(more)
                self._log(t, u.supplier.actor, arc.source, u.product, "accepted", "accepted (chain)", u.price, float(volumes.sum()))
            self.counts["accepted"] += 1
            self._log(t, arc.source, arc.target, arc.product, "accepted", deal.reason, term.price, float(term.volumes.sum()))
            self._spread_word(arc.source, arc.target, arc.product)
        receiver.version += 1
        receiver.solution = None

    def _spread_word(self, source: str, target: str, product: str) -> None:
        """Neighbours learn from a signed deal (``imitation``): a firm that knows one party learns
        of the other with probability ``imitation``, and counts the deal as experience with the product."""
        for a, firm in self._in_order:
            if a in (source, target) or not ({source, target} & firm.known):
                continue
            firm.experience[product] = firm.experience.get(product, 0) + 1
            for other in (source, target):
                if other not in firm.known and self.random.random() < firm.rules.imitation:
                    firm.known.add(other)

    def _entries(self, t: int) -> None:
        for firm in sorted((f for f in self.firms.values() if isinstance(f, Entrepreneur) and not f.present), key=lambda f: f.actor):
            if self.data.year_of(t) < self.data.actors[firm.actor].earliest_year:
                continue
            sources = [(supplier, p) for supplier, p in entry_sources(self, firm, t) if supplier.trust_in(firm.actor) >= supplier.rules.trust_threshold]
            # the nearest suppliers first; a handful is what a start-up can negotiate with
            sources = sorted(sources, key=lambda source: (self.distance(source[0].actor, firm.actor), source[0].actor, source[1]))[
                :MAX_ENTRY_SOURCES
            ]
            if not sources:
                continue
            actors = (firm.actor, *sorted({supplier.actor for supplier, _ in sources}))
            # re-examined when the supplies on offer change (in 10 % steps) or prices move
            supply = tuple(
                (supplier.actor, p, int(round(np.log1p(_offered(supplier, p, t)) / LOG_STEP))) for supplier, p in sources
            )
            stamp = (supply, self.price_signature(actors, t))
            if not self._changed(self._tried.get(("entry", firm.actor, "")), stamp, t):
                continue
            self._tried[("entry", firm.actor, "")] = stamp  # type: ignore[assignment]
            self.counts["made"] += 1
            deal = negotiate(self, firm, sources, t, entering=True)
            if not deal.accepted:
                self.counts["rejected"] += 1
                self._log(t, ",".join(supplier.actor for supplier, _ in sources), firm.actor, ",".join(sorted({p for _, p in sources})), "no entry", deal.reason, None, 0.0)
                continue
            firm.present = True
            firm.entered_year = self.data.year_of(t)
            self.builds.append(Build("actor", firm.actor, year=firm.entered_year))
            self._accept(firm, deal, t)

    def _log(self, t: int, source: str, target: str, product: str, outcome: str, reason: str, price: float | None, volume: float) -> None:
        self.datacollector.add_table_row(
            "offers",
            {"period": t, "source": source, "target": target, "product": product, "outcome": outcome, "reason": reason, "price": price, "volume": volume},
        )

    # ---- the result ------------------------------------------------------
    def to_plan(self) -> Plan:
        """The realised decisions as a ``Plan`` (with negotiated transfer prices)."""
        data = self.data
        rows: dict[str, list[tuple[Any, ...]]] = {k: [] for k in ("activities", "purchases", "sales", "disposals", "storage")}
        names = {"activity": "activities", "purchase": "purchases", "sale": "sales", "disposal": "disposals", "storage": "storage"}
        for actor, firm in self.firms.items():
            for kind, table in firm.history.items():
                for key, values in table.items():
                    for t in np.nonzero(np.abs(values) > TOL)[0]:
                        rows[names[kind]].append((actor, key, int(t), data.year_of(int(t)), float(values[t])))
        # several contracts on one arc (a chain draws more under a standing exchange): one flow
        # per arc and period, at the volume-weighted price
        per_arc: dict[tuple[str, str, str, int], list[float]] = {}
        for c in self.contracts:
            v = c.active_volumes()
            for t in np.nonzero(v > TOL)[0]:
                total = per_arc.setdefault((c.source, c.target, c.product, int(t)), [0.0, 0.0])
                total[0] += float(v[t])
                total[1] += float(v[t]) * (math.nan if c.price is None else c.unit_price(int(t)))
        flows = [(a, b, p, t, data.year_of(t), q, paid / q) for (a, b, p, t), (q, paid) in per_arc.items()]
        tables = {name: make_table(name, r) for name, r in rows.items()}
        meta = {"source": "simulator", "status": "ok", "seed": self.seed, "facilitator": self.facilitator, "scenario": self.scenario.settings.name}
        builds: list[tuple[Any, ...]] = list(self.builds)
        return Plan(flows=make_table("flows", flows), builds=make_table("builds", builds), meta=meta, **tables)



def _offered(supplier: Firm, product: str, t: int) -> float:
    """All a supplier can offer of ``product`` from t: its surplus and what it could make on top."""
    supply = supplier.supply(product, t)
    return float(supply.surplus.sum() + supply.extra.sum())
