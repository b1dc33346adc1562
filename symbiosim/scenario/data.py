"""``ModelData``: the one immutable hand-off from a scenario to the models.

It turns the tables into index sets, per-unit cash coefficients (policies
already applied), arcs between actors, and per-period upper bounds. The
planner, the accounts and the simulator all read it, so they price every
quantity the same way.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from symbiosim.errors import Issue, ScenarioError
from symbiosim.scenario.schema import Actor, ActorProcess, Link, Process, Product, Scenario

log = logging.getLogger(__name__)

EARTH_RADIUS_KM = 6371.0
INF = math.inf

AP = tuple[str, str]  # (actor, process)
AProd = tuple[str, str]  # (actor, product)
ArcKey = tuple[str, str, str]  # (source, target, product)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (R = 6371 km)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Arc:
    """A way a product can move from one actor to another."""

    source: str
    target: str
    product: str
    distance_km: float
    unit_cost: float  # transport per unit, before subsidy (money/unit)
    capacity: float | None  # per year
    exists: bool  # usable in the baseline
    buildable: bool  # a candidate link that must be built (needs_link)
    build_cost: float
    fixed_cost: float
    earliest_year: int
    price: float | None  # contract price per unit, for per-actor accounts

    @property
    def key(self) -> ArcKey:
        return (self.source, self.target, self.product)


@dataclass(frozen=True)
class ModelData:
    """Index sets, coefficients and bounds of one scenario (optionally its baseline)."""

    scenario: Scenario
    baseline: bool
    years: int
    ppy: int
    periods: int
    discount: tuple[float, ...]  # per year index
    actors: Mapping[str, Actor]
    products: Mapping[str, Product]
    processes: Mapping[str, Process]
    actor_processes: Mapping[AP, ActorProcess]
    arcs: Mapping[ArcKey, Arc]
    # per-unit money coefficients with policies applied
    activity_cost: Mapping[AP, float]
    purchase_cost: Mapping[AProd, float]
    purchase_limit: Mapping[AProd, float | None]
    sale_price: Mapping[AProd, float]
    sale_limit: Mapping[AProd, float | None]
    disposal_cost: Mapping[str, float]  # only disposable products
    storage_capacity: Mapping[AProd, float]
    storage_cost: Mapping[AProd, float]
    exchange_subsidy: Mapping[str, float]
    share_paid_by_investor: Mapping[str, float]  # product or "*" -> what the investor pays of a build: 1 - investment subsidy
    # who produces / consumes what
    produced_by: Mapping[AProd, tuple[tuple[str, float], ...]]  # (a,p) -> ((process, coef), ...)
    consumed_by: Mapping[AProd, tuple[tuple[str, float], ...]]
    balance_keys: tuple[AProd, ...]
    profile_factor: Mapping[str, tuple[float, ...]]
    big_m_notes: tuple[str, ...] = field(default=())

    # ---- time ----------------------------------------------------------
    def year_of(self, t: int) -> int:
        return t // self.ppy

    def season_of(self, t: int) -> int:
        return t % self.ppy

    def period_discount(self, t: int) -> float:
        return self.discount[t // self.ppy]

    def factor(self, profile: str | None, t: int) -> float:
        if profile is None:
            return 1.0
        return self.profile_factor[profile][t % self.ppy]

    # ---- presence ------------------------------------------------------
    def is_candidate_actor(self, a: str) -> bool:
        return not self.actors[a].exists

    def is_candidate_process(self, ap: AP) -> bool:
        return not self.actor_processes[ap].exists

    def first_build_year(self, ap: AP) -> int:
        """Earliest year a candidate process can be built (after its actor enters)."""
        r = self.actor_processes[ap]
        return max(r.earliest_year, self.actors[ap[0]].earliest_year)

    def first_link_year(self, arc: Arc) -> int:
        return max(arc.earliest_year, self.actors[arc.source].earliest_year, self.actors[arc.target].earliest_year)

    # ---- per-period bounds (inf when unlimited) --------------------------
    def activity_bound(self, ap: AP, t: int | None = None) -> float:
        r = self.actor_processes[ap]
        if r.fixed_activity is not None:
            peak = self.factor(r.profile, t) if t is not None else max(self.profile_factor.get(r.profile or "", (1.0,)))
            return r.fixed_activity / self.ppy * peak
        return r.capacity / self.ppy if r.capacity is not None else INF

    def trade_bound(self, limit: float | None, profile: str | None) -> float:
        if limit is None:
            return INF
        return limit / self.ppy * max(self.profile_factor.get(profile or "", (1.0,)))


def build_model_data(scenario: Scenario, baseline: bool = False, coalition: frozenset[str] | None = None) -> ModelData:
    """Derive the model hand-off from a validated scenario.

    Args:
        scenario: the validated scenario.
        baseline: the no-new-symbiosis variant of the contract: only existing
            links carry flows and no candidate actor enters; actors' own
            candidate processes stay allowed.
        coalition: only these actors may form new exchanges (both ends of a
            new arc inside it) and only candidate actors in it may enter;
            everyone else stays at the baseline. ``frozenset()`` is the baseline.
    """
    if baseline:
        coalition = frozenset()
    s = scenario
    ppy = s.settings.periods_per_year
    years = s.settings.years
    rate = s.settings.discount_rate
    pol = s.policies

    actors = {a.id: a for a in s.actors if a.exists or coalition is None or a.id in coalition}
    products = {p.id: p for p in s.products}
    processes = {p.id: p for p in s.processes}
    aps = {(r.actor, r.process): r for r in s.actor_processes if r.actor in actors}

    produced_by: dict[AProd, list[tuple[str, float]]] = defaultdict(list)
    consumed_by: dict[AProd, list[tuple[str, float]]] = defaultdict(list)
    for (a, k) in aps:
        for p, coef in processes[k].outputs.items():
            produced_by[(a, p)].append((k, coef))
        for p, coef in processes[k].inputs.items():
            consumed_by[(a, p)].append((k, coef))

    carbon = lambda p=None: pol.rate("carbon_price", p)  # noqa: E731
    activity_cost = {ap: r.variable_cost + carbon() * r.emissions_per_unit for ap, r in aps.items()}
    purchases = {(r.actor, r.product): r for r in s.purchases if r.actor in actors}
    sales = {(r.actor, r.product): r for r in s.sales if r.actor in actors}
    purchase_cost = {
        k: r.price + pol.rate("virgin_tax", r.product) + carbon(r.product) * r.emissions_per_unit
        for k, r in purchases.items()
    }
    disposal_cost = {
        p.id: p.disposal_cost + pol.rate("disposal_tax", p.id) + carbon(p.id) * p.disposal_emissions
        for p in s.products
        if p.disposal_cost is not None
    }
    storage = {(r.actor, r.product): r for r in s.storage if r.actor in actors}

    arcs, issues = _arcs(s, actors, products, produced_by, consumed_by, purchases, sales, coalition)
    if issues:
        raise ScenarioError(issues)

    keys: set[AProd] = set(produced_by) | set(consumed_by) | set(purchases) | set(sales) | set(storage)
    for arc in arcs.values():
        keys.add((arc.source, arc.product))
        keys.add((arc.target, arc.product))

    return ModelData(
        scenario=s,
        baseline=coalition is not None and not coalition,
        years=years,
        ppy=ppy,
        periods=years * ppy,
        discount=tuple((1 + rate) ** -y for y in range(years)),
        actors=MappingProxyType(actors),
        products=MappingProxyType(products),
        processes=MappingProxyType(processes),
        actor_processes=MappingProxyType(aps),
        arcs=MappingProxyType(arcs),
        activity_cost=MappingProxyType(activity_cost),
        purchase_cost=MappingProxyType(purchase_cost),
        purchase_limit=MappingProxyType({k: r.limit for k, r in purchases.items()}),
        sale_price=MappingProxyType({k: r.price for k, r in sales.items()}),
        sale_limit=MappingProxyType({k: r.limit for k, r in sales.items()}),
        disposal_cost=MappingProxyType(disposal_cost),
        storage_capacity=MappingProxyType({k: r.capacity for k, r in storage.items()}),
        storage_cost=MappingProxyType({k: r.cost for k, r in storage.items()}),
        exchange_subsidy=MappingProxyType({p: pol.rate("exchange_subsidy", p) for p in products}),
        share_paid_by_investor=MappingProxyType(
            {p: 1.0 - pol.rate("investment_subsidy", p) for p in [*products, "*"]}
        ),
        produced_by=MappingProxyType({k: tuple(v) for k, v in produced_by.items()}),
        consumed_by=MappingProxyType({k: tuple(v) for k, v in consumed_by.items()}),
        balance_keys=tuple(sorted(keys)),
        profile_factor=MappingProxyType(dict(s.profiles)),
    )


def _arcs(
    s: Scenario,
    actors: Mapping[str, Actor],
    products: Mapping[str, Product],
    produced_by: Mapping[AProd, list[tuple[str, float]]],
    consumed_by: Mapping[AProd, list[tuple[str, float]]],
    purchases: Mapping[AProd, object],
    sales: Mapping[AProd, object],
    coalition: frozenset[str] | None,
) -> tuple[dict[ArcKey, Arc], list[Issue]]:
    """Every (source, target, product) a flow may use.

    needs_link products move only over ``links`` rows. Trucked products may
    move from any actor that can hold them (produces, buys, or has a declared
    link out) to any actor that can use them (consumes, sells, or has a
    declared link in); other pairs could never carry a useful flow. With a
    coalition, new arcs need both ends inside it (the baseline: none).
    """
    link_rows: dict[ArcKey, Link] = {(r.from_, r.to, r.product): r for r in s.links}
    holders: dict[str, set[str]] = defaultdict(set)
    users: dict[str, set[str]] = defaultdict(set)
    for (a, p) in [*produced_by, *purchases]:
        holders[p].add(a)
    for (a, p) in [*consumed_by, *sales]:
        users[p].add(a)
    for (a, b, p) in link_rows:
        holders[p].add(a)
        users[p].add(b)

    candidates: list[ArcKey] = []
    for p, product in products.items():
        if product.needs_link:
            candidates += [k for k in link_rows if k[2] == p]
        else:
            candidates += [(a, b, p) for a in sorted(holders[p]) for b in sorted(users[p]) if a != b]

    arcs: dict[ArcKey, Arc] = {}
    issues: list[Issue] = []
    for key in candidates:
        a, b, p = key
        if a not in actors or b not in actors:
            continue
        row = link_rows.get(key)
        exists = bool(row and row.exists)
        if coalition is not None and not exists and not (a in coalition and b in coalition):
            continue
        product = products[p]
        distance = row.distance_km if row and row.distance_km is not None else None
        if distance is None:
            ends = (actors[a], actors[b])
            if all(e.lat is not None and e.lon is not None for e in ends):
                distance = haversine_km(ends[0].lat, ends[0].lon, ends[1].lat, ends[1].lon)  # type: ignore[arg-type]
            elif product.transport_cost > 0:
                missing = next(e.id for e in ends if e.lat is None or e.lon is None)
                issues.append(
                    Issue(
                        "actors",
                        missing,
                        "lat",
                        f"coordinates needed to price moving `{p}` between {a} and {b}: "
                        "give lat and lon, or a links row with distance_km",
                    )
                )
                continue
            else:
                distance = 0.0
        arcs[key] = Arc(
            source=a,
            target=b,
            product=p,
            distance_km=distance,
            unit_cost=product.transport_cost * distance,
            capacity=row.capacity if row else None,
            exists=exists,
            buildable=product.needs_link and not exists,
            build_cost=(row.build_cost or 0.0) if row else 0.0,
            fixed_cost=(row.fixed_cost or 0.0) if row else 0.0,
            earliest_year=(row.earliest_year or 0) if row else 0,
            price=row.price if row else None,
        )
    return arcs, issues
