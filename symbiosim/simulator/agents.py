"""Firm agents (one per actor) and entrepreneurs (candidate actors).

A firm holds only what it would know: its own recipes, capacities, costs and
prices (through its ``FirmLP``), the firms it knows of, its trust in them,
and its contracts. Its operations are its own best response to its
contracts; it re-plans from the current period whenever they change.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from symbiosim import ledger
from symbiosim.simulator.behaviour import Rules
from symbiosim.simulator.firm_lp import Extra, FirmLP, FirmSolution

if TYPE_CHECKING:
    from symbiosim.simulator.model import SymbiosisModel

TOL = 1e-7
EPSILON = 1e-6  # money per unit: a receiver takes only what it values


@dataclass(frozen=True)
class Upstream:
    """More of an input from a firm that already sends it under contract (a chain)."""

    supplier: Firm
    product: str
    bound: np.ndarray  # per period (length T)
    unit_value: float  # money per unit to the buyer: the ledger's flow value less the reservation price
    price: float  # the supplier's reservation price; in a signed chain, the bargained price


@dataclass(frozen=True)
class Supply:
    """What a firm can offer of a product from period t (arrays of length T).

    ``surplus`` is what its current plan disposes of or sells: free to give up
    but for lost sales. ``extra`` is what it could make on top with spare
    capacity of its own processes (an idle or part-loaded process) or with its
    candidate processes that make the product (``builds``); making it costs
    ``extra_cost`` per unit on average (its own LP: inputs, running costs, other
    outputs to place), investments not included. Giving up surplus it disposes
    of saves it the disposal cost; giving up surplus it sells loses the sale
    (``reservation``).
    """

    surplus: np.ndarray
    extra: np.ndarray
    extra_cost: float
    builds: tuple[str, ...]
    disposed: np.ndarray | None = None  # the part of ``surplus`` it disposes of (the rest it sells)

    @functools.cached_property
    def last(self) -> int:
        """The last period with anything to offer (-1: none)."""
        offered = np.nonzero((self.surplus > TOL) | (self.extra > TOL))[0]
        return int(offered[-1]) if len(offered) else -1

    def tiers(self, dump_value: float, sell_value: float) -> list[tuple[np.ndarray, float]]:
        """The offer as tiers of (volume per period, the supplier's reservation price per unit):
        disposed surplus (its disposal value, <= 0: it would pay to be rid of it), sold surplus
        (its sale price) and extra production (its cost of making it)."""
        disposed = self.disposed if self.disposed is not None else np.zeros_like(self.surplus)
        return [(disposed, dump_value), (self.surplus - disposed, sell_value), (self.extra, self.extra_cost)]


class Firm(mesa.Agent):
    """An existing firm: operates, offers its surplus, accepts profitable deals."""

    model: SymbiosisModel

    def __init__(self, model: SymbiosisModel, actor: str, rules: Rules, processes: dict[str, int]) -> None:
        super().__init__(model)
        self.actor = actor
        self.rules = rules
        # Operations are planned at the scenario's discount rate (so a firm without
        # deals runs exactly its stand-alone plan); deals and investments are valued
        # at the firm's own hurdle rate, re-weighting each period's cash.
        data = model.data
        self.lp = FirmLP(data, actor, data.scenario.settings.discount_rate)
        self.discount = np.array([(1 + rules.hurdle_rate) ** -data.year_of(t) for t in range(data.periods)])
        self.reweight = self.discount / self.lp.discount
        self.processes = dict(processes)  # process -> first year available
        self.known: set[str] = set()
        self.trust: dict[str, float] = {}
        self.contracts: list[Any] = []  # active Contract objects (as sender or receiver)
        self.present = True
        self.version = 0  # bumped when contracts or processes change (retry rejected deals then)
        self.solution: FirmSolution | None = None
        self._signature: tuple[int, ...] = ()
        T = model.data.periods
        self.history: dict[str, dict[str, np.ndarray]] = {k: {} for k in ("activity", "purchase", "sale", "disposal", "storage")}
        self.cash = np.zeros(T)  # realised cash per period (undiscounted): the ledger's amounts for this actor
        self._T = T
        self._links_in: dict[tuple[str, ...], int] = {k: 0 for k, arc in data.arcs.items() if arc.target == actor and not arc.buildable}
        self._builds_seen = 0  # model.builds already scanned for links into this firm
        self._supply: dict[tuple[Any, ...], tuple[int, Supply]] = {}
        self.experience: dict[str, int] = {}  # product -> deals of it seen among known firms (imitation)
        self.attention_used = 0  # negotiations started this year

    def trust_in(self, other: str) -> float:
        """Its trust in ``other`` (0..1): ``trust_initial`` until they have dealt."""
        return self.trust.get(other, self.rules.trust_initial)

    # ---- what the firm's contracts fix ---------------------------------
    def net_inflow(self, exclude: Any = None) -> dict[str, np.ndarray]:
        flows: dict[str, np.ndarray] = {}
        for c in self.contracts:
            if c is exclude:
                continue
            sign = 1.0 if c.target == self.actor else -1.0
            flows.setdefault(c.product, np.zeros(self._T))
            flows[c.product] += sign * c.active_volumes()
        return flows

    def use_rules(self) -> dict[str, str]:
        rules = {}
        for c in self.contracts:
            if self.model.data.exchange_subsidy.get(c.product, 0.0) > 0 and c.active_volumes().any():
                rules[c.product] = "receive" if c.target == self.actor else "send"
        return rules

    def history_state(self, t: int) -> tuple[dict[str, float], dict[str, float]]:
        """Storage levels at the end of t-1, and activity done so far in t's year."""
        storage0 = {p: float(v[t - 1]) for p, v in self.history["storage"].items()} if t > 0 else {}
        first = (t // self.model.data.ppy) * self.model.data.ppy
        done = {k: float(v[first:t].sum()) for k, v in self.history["activity"].items()}
        return storage0, done

    def plan(self, t: int, **kwargs: Any) -> FirmSolution:
        """Solve this firm's LP from period t with its contracts (plus what kwargs change)."""
        storage0, done = self.history_state(t)
        args: dict[str, Any] = {
            "processes": self.processes,
            "net_inflow": self.net_inflow(),
            "start": t,
            "storage0": storage0,
            "done_this_year": done,
            "prices": self.model.prices_for(self.actor, t),
            "use_rules": self.use_rules(),
        }
        args.update(kwargs)
        return self.lp.solve(**args)

    def worth(self, solution: FirmSolution, t: int, end: int | None = None) -> float:
        """A plan's cash over t .. end-1 valued at the firm's hurdle rate."""
        stop = self._T if end is None else end
        contrib = solution.per_period[t - solution.start : stop - solution.start]
        return float((contrib * self.reweight[t:stop]).sum())

    def base_value(self, t: int, end: int | None = None) -> float:
        """Worth over t .. end-1 of the firm's plan with its current contracts (no LP: the tail of its plan)."""
        return self.worth(self.current(t), t, end)

    def replan(self, t: int) -> None:
        self._signature = self.model.price_signature((self.actor,), t)
        solution = self.plan(t)
        if not solution.ok:  # contracts are only signed when both sides stay feasible
            raise RuntimeError(f"firm {self.actor} has no feasible plan from period {t}")
        self.solution = solution

    def current(self, t: int) -> FirmSolution:
        # operations are re-planned at a year's start when the firm's own prices moved (a budget cycle)
        stale = (
            self.model.prices
            and t % self.model.data.ppy == 0
            and self.solution is not None
            and self.solution.start < t
            and self.model.price_signature((self.actor,), t) != self._signature
        )
        if self.solution is None or self.solution.start > t or stale:
            self.replan(t)
        assert self.solution is not None
        return self.solution

    def surplus(self, product: str, t: int, tables: tuple[str, ...] = ("disposal", "sale")) -> np.ndarray:
        """What the firm would otherwise dispose of or sell, per period from t (length T)."""
        sol = self.current(t)
        out = np.zeros(self._T)
        for table in (getattr(sol, name) for name in tables):
            if product in table:
                out[sol.start :] += table[product]
        out[:t] = 0.0
        return np.where(out > TOL, out, 0.0)

    def can_offer(self, product: str, t: int) -> bool:
        """Has it anything to offer of ``product`` from t (without copying its supply)?"""
        _, supply = self._cached_supply(product, t)
        return supply.last >= t

    def _cached_supply(self, product: str, t: int) -> tuple[int, Supply]:
        key = (product, self.version, self.model.price_signature((self.actor,), t) if self.model.prices else ())
        cached = self._supply.get(key)
        if cached is None or cached[0] > t:
            if len(self._supply) > 64:
                self._supply.clear()
            cached = self._supply[key] = (t, self._make_supply(product, t))
        return cached

    def supply(self, product: str, t: int) -> Supply:
        """What the firm can offer of ``product`` from t (``Supply``); cached until its contracts,
        processes or prices change."""
        first, supply = self._cached_supply(product, t)
        if first == t:
            return supply
        surplus, extra = supply.surplus.copy(), supply.extra.copy()
        disposed = supply.disposed.copy() if supply.disposed is not None else None
        surplus[:t] = extra[:t] = 0.0  # the same plan, seen from a later period
        if disposed is not None:
            disposed[:t] = 0.0
        return Supply(surplus, extra, supply.extra_cost, supply.builds, disposed)

    def _make_supply(self, product: str, t: int) -> Supply:
        surplus = self.surplus(product, t)
        disposed = self.surplus(product, t, tables=("disposal",))
        data = self.model.data
        year, T = data.year_of(t), self._T
        sol = self.current(t)
        spare = np.zeros(T)
        builds: list[str] = []
        processes = dict(self.processes)
        for k in self.lp.processes_all:
            coef = data.processes[k].outputs.get(product, 0.0)
            r = data.actor_processes[(self.actor, k)]
            if coef <= 0 or r.fixed_activity is not None or r.capacity is None:
                continue
            room = np.full(T, r.capacity / data.ppy)
            if k in self.processes:
                room[self.lp.year < self.processes[k]] = 0.0
                room[sol.start :] -= sol.activity.get(k, np.zeros(T - sol.start))
            elif self.present and data.first_build_year((self.actor, k)) <= year:
                builds.append(k)
                processes[k] = year
            else:
                continue
            room[:t] = 0.0
            spare += np.where(room > TOL, room, 0.0) * coef
        if spare.sum() <= TOL:
            return Supply(surplus, spare, 0.0, (), disposed)
        # How much more it can make, and at what cost: its plan when it may send up to the spare
        # amount away at a probe value above any money per unit in its books (so it sends all it
        # can make, whatever inputs that takes), against its plan now.
        probe = 10.0 * (1.0 + max((abs(v) for v in self.lp.unit.values()), default=0.0))
        offer = Extra(product, False, spare[t:], np.full(T - t, probe))
        more = self.plan(t, processes=processes, extras=[offer, *self.upstream_extras(self.upstream(product, t), t, T)])
        if not more.ok:
            return Supply(surplus, np.zeros(T), 0.0, (), disposed)
        sent = np.zeros(T)
        sent[t:] = np.where(more.extra[0] > TOL, more.extra[0], 0.0)
        volume = float((self.discount * sent).sum())
        if volume <= TOL:
            return Supply(surplus, np.zeros(T), 0.0, (), disposed)
        cost = (self.worth(sol, t) - (self.worth(more, t) - probe * volume)) / volume
        return Supply(surplus, sent, max(cost, 0.0), tuple(k for k in builds if more.activity.get(k, np.zeros(1)).sum() > TOL), disposed)

    def upstream(self, product: str, t: int) -> list[Upstream]:
        """Chains: more of an input of the processes that make ``product``, from a firm that
        already sends it under contract (an earlier deal opens the next), up to what that firm
        disposes of or sells and the arc's room, valued at that firm's reservation price (what
        the unit is worth to it now: minus its disposal cost, or its sale price); the price it
        gets is bargained with the rest of the deal (``negotiation``)."""
        data, model = self.model.data, self.model
        inputs = {q for k in self.lp.processes_all if data.processes[k].outputs.get(product, 0.0) > 0 for q in data.processes[k].inputs}
        options: list[Upstream] = []
        for c in self.contracts:
            if c.target != self.actor or c.product not in inputs or c.broken_at is not None:
                continue
            if any(u.supplier.actor == c.source and u.product == c.product for u in options):
                continue
            supplier = model.firms[c.source]
            arc = data.arcs[(c.source, self.actor, c.product)]
            bound = np.minimum(supplier.surplus(c.product, t), model.arc_room(arc, t, self._T))
            if bound.sum() > TOL:
                dump, sell = supplier.reservations(c.product, t)
                reservation = dump if supplier.current(t).disposal.get(c.product, np.zeros(1)).sum() > TOL else sell
                unit = ledger.unit_value(data, "flow", arc.key) - reservation - EPSILON
                options.append(Upstream(supplier, c.product, bound, unit, reservation))
        return options

    def reservations(self, product: str, t: int) -> tuple[float, float]:
        """What a unit of ``product`` it gives up is worth to it at t's prices: its disposal value
        (<= 0: it would pay to be rid of it) and its sale price (0 where it has no such option)."""
        data, T = self.model.data, self._T
        factors = self.model.prices_for(self.actor, t)
        dump = self.lp.unit_value("dump", product) * float(factors.disposal.get(product, np.ones(T))[t]) if product in data.disposal_cost else 0.0
        sell = self.lp.unit_value("sell", product) * float(factors.sale.get(product, np.ones(T))[t]) if product in self.lp.sales else 0.0
        return dump, sell

    def upstream_extras(self, options: list[Upstream], t: int, until: int) -> list[Extra]:
        return [Extra(u.product, True, u.bound[t:until], np.full(until - t, u.unit_value)) for u in options]

    # ---- realisation -----------------------------------------------------
    def realise(self, t: int) -> None:
        """Carry out period t of the current plan and book its cash with the ledger's values:
        operations and contracts every period; fixed and one-off costs in a year's last period
        (``ledger.booking_period``), as ``accounts.cashflows`` books them for the realised plan."""
        data = self.model.data
        cash = 0.0
        if self.present:
            sol = self.current(t)
            i = t - sol.start
            unit = self.lp.unit_value
            for kind, lp_kind, table in (
                ("activity", "act", sol.activity),
                ("purchase", "buy", sol.purchase),
                ("sale", "sell", sol.sale),
                ("disposal", "dump", sol.disposal),
                ("storage", "store", sol.storage),
            ):
                history = self.history[kind]
                for key, values in table.items():
                    v = float(values[i])
                    history.setdefault(key, np.zeros(self._T))[t] = v
                    if abs(v) > TOL:  # what the realised plan records (``to_plan``)
                        cash += unit(lp_kind, key) * v
            for c in self.contracts:
                q = c.active_volumes()[t]
                if q <= TOL:
                    continue
                pay = c.unit_price(t) * q
                if c.target == self.actor:
                    cash += ledger.unit_value(data, "flow", (c.source, c.target, c.product)) * q - pay
                else:
                    cash += pay
        year = data.year_of(t)
        if t == ledger.booking_period(data, year):
            cash += sum(amount for _, actor, amount in ledger.annual(data, year, self.presence()) if actor == self.actor)
        self.cash[t] = cash

    def presence(self) -> dict[str, dict[tuple[str, ...], int]]:
        """First year of what this firm pays fixed and one-off costs for (``ledger.annual``):
        itself once present, its processes, and the links into it (existing ones and trucked arcs: always)."""
        data = self.model.data
        entered: int | None = 0 if data.actors[self.actor].exists else getattr(self, "entered_year", None)
        builds = self.model.builds
        for b in builds[self._builds_seen :]:  # links built into this firm since the last look
            if b.kind == "link" and b.target == self.actor:
                self._links_in[b.link_key] = int(b.year)
        self._builds_seen = len(builds)
        return {
            "present": {(self.actor,): entered} if entered is not None else {},
            "built": {(self.actor, k): y for k, y in self.processes.items()},
            "linked": self._links_in,
        }

    def step(self) -> None:  # the model drives the phases; agents act through it
        pass


class Entrepreneur(Firm):
    """A candidate actor: enters only when the contracts it can secure cover its entry."""

    def __init__(self, model: SymbiosisModel, actor: str, rules: Rules, processes: dict[str, int]) -> None:
        super().__init__(model, actor, rules, processes)
        self.present = False
        self.entered_year: int | None = None
