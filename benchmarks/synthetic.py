"""Synthetic industrial clusters of any size, for benchmarks and tests.

``synthetic_cluster`` returns a scenario as plain data in the file layout of
the scenario contract (``shared/docs/scenario-format.md``); ``synthetic_scenario``
validates it into a ``Scenario``. Every random draw comes from one
``numpy.random.default_rng(seed)``, so the same arguments give the same dict.

Structure (roughly what an industrial park such as Orkanger looks like):

* products: virgin raw materials (bought, never sold), main products (sold),
  by-products (most with a disposal cost; the rest are sold cheaply) and a few
  ``needs_link`` energy products (waste heat, vented for free).
* every existing actor runs one main process with ``fixed_activity`` (a
  seasonal profile for some) that buys 1-2 raw materials and makes a main
  product plus 1-3 by-products or waste heats.
* some by-products are inputs of other actors' main processes, which can also
  buy them virgin: an exchange saves a virgin purchase and a disposal.
* waste heat goes to actors that buy heat, over candidate links (build cost,
  capacity, earliest year); one existing trucked exchange is declared.
* candidate processes at existing actors turn a by-product into the actor's
  main product (capacity, build cost, earliest year); candidate actors
  (entry cost, earliest year) run candidate processes on by-products and heat.
* actors lie within about 20 km of each other; trucked products pay
  transport by distance; a few actors can store a by-product.

Always feasible and bounded, and never needs a big-M fallback: every
by-product has an outlet (disposal or an unlimited sale), every candidate
process and link has a capacity, every candidate actor's purchases and sales
have limits, and every purchase of a product a candidate actor touches has a
limit (so ``supply_bound`` is finite). Sale prices of by-products are below
every virgin price of the same product, so buying to resell never pays.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symbiosim.scenario.load import scenario_from_dict
from symbiosim.scenario.schema import Scenario

CENTRE = (63.30, 9.85)  # Orkanger, lat / lon
RADIUS_KM = 9.5  # every actor within this of the centre: pairs within ~19 km
KM_PER_DEG_LAT = 111.2


def _r(x: float, digits: int = 3) -> float:
    """A plain, rounded Python float (no numpy scalars in the dict)."""
    return round(float(x), digits)


def _money(x: float) -> float:
    """Round money to 3 significant figures (readable, deterministic)."""
    x = float(x)
    if x == 0:
        return 0.0
    digits = 2 - int(math.floor(math.log10(abs(x))))
    return float(round(x, digits))


def seasonal_profile(ppy: int, amplitude: float, phase: float) -> list[float]:
    """``ppy`` factors, mean exactly 1 (to rounding), peak ``1 + amplitude`` at ``phase`` (0..1 of a year)."""
    if ppy == 1:
        return [1.0]
    raw = [1.0 + amplitude * math.cos(2 * math.pi * (t / ppy - phase)) for t in range(ppy)]
    mean = sum(raw) / ppy
    factors = [round(f / mean, 4) for f in raw]
    factors[-1] = round(ppy - sum(factors[:-1]), 6)  # the mean is 1 to well within 1e-6
    return factors


def synthetic_cluster(
    actors: int = 50,
    products: int = 30,
    years: int = 25,
    periods_per_year: int = 4,
    candidates: int | None = None,
    seed: int = 0,
    *,
    candidate_actors: int | None = None,
    heat_links: int | None = None,
    storage: int | None = None,
    discount_rate: float = 0.06,
    name: str | None = None,
) -> dict[str, Any]:
    """A synthetic cluster scenario as plain data (the YAML layout).

    Args:
        actors: all actors, existing and candidate (>= 3).
        products: all products (>= 4): ~27 % raw materials, ~23 % main
            products, ~12 % waste heats (``needs_link``), the rest by-products.
        years, periods_per_year: the horizon.
        candidates: candidate processes at existing actors (default: a third
            of the existing actors).
        seed: seed of ``numpy.random.default_rng``; same arguments, same dict.
        candidate_actors: candidate new actors (default: a tenth of ``actors``, >= 1).
        heat_links: most candidate heat links between existing actors
            (default: a fifth of ``actors``, >= 1); every candidate actor
            that uses heat gets one more.
        storage: actor/by-product pairs with storage (default: a tenth of ``actors``, >= 1).
        discount_rate: per year.
        name: scenario name (default ``synthetic_<actors>x<products>_s<seed>``).

    Returns:
        The scenario tables as a dict; ``synthetic_scenario`` validates it.
    """
    if actors < 3:
        raise ValueError(f"actors: expected >= 3, got {actors}")
    if products < 4:
        raise ValueError(f"products: expected >= 4, got {products}")
    if periods_per_year not in (1, 2, 4, 12):
        raise ValueError(f"periods_per_year: expected 1, 2, 4 or 12, got {periods_per_year}")
    rng = np.random.default_rng(seed)
    ppy = periods_per_year

    # ---- sizes --------------------------------------------------------------
    n_cand_actors = candidate_actors if candidate_actors is not None else max(1, actors // 10)
    n_cand_actors = min(n_cand_actors, actors - 2)
    n_exist = actors - n_cand_actors
    n_heat = max(1, round(products * 0.12))
    n_raw = max(1, round(products * 0.27))
    n_main = max(1, round(products * 0.23))
    n_by = products - n_heat - n_raw - n_main
    if n_by < 1:
        n_main -= 1 - n_by
        n_by = 1
    n_cand_proc = candidates if candidates is not None else max(2, n_exist // 3)
    n_links = heat_links if heat_links is not None else max(1, actors // 5)
    n_storage = storage if storage is not None else max(1, actors // 10)

    raws = [f"raw_{i + 1:02d}" for i in range(n_raw)]
    mains = [f"main_{i + 1:02d}" for i in range(n_main)]
    byps = [f"byp_{i + 1:02d}" for i in range(n_by)]
    heats = [f"heat_{i + 1:02d}" for i in range(n_heat)]

    # ---- profiles ---------------------------------------------------------
    profiles = {
        "heating": seasonal_profile(ppy, 0.45, 0.0),  # winter peak (period 0 = Q1)
        "summer": seasonal_profile(ppy, 0.3, 0.5),
        "campaign": seasonal_profile(ppy, 0.2, 0.25),
    }
    peak = {name: max(f) for name, f in profiles.items()}
    peak[None] = 1.0  # type: ignore[index]

    # ---- products and reference prices -----------------------------------
    prod_rows: list[dict[str, Any]] = []
    raw_price = {p: float(rng.uniform(300, 3000)) for p in raws}
    main_price = {p: float(rng.uniform(2000, 15000)) for p in mains}
    byp_virgin = {p: float(rng.uniform(150, 1500)) for p in byps}  # price of a virgin substitute
    heat_price = {p: float(rng.uniform(300, 900)) for p in heats}
    byp_disposal: dict[str, float | None] = {}
    for p in raws:
        prod_rows.append({"id": p, "unit": "t", "kind": "material", "transport_cost": _r(rng.uniform(0.5, 2.0), 2)})
    for p in mains:
        prod_rows.append({"id": p, "unit": "t", "kind": "material", "transport_cost": _r(rng.uniform(0.5, 2.0), 2)})
    for p in byps:
        disposable = rng.random() < 0.85
        row: dict[str, Any] = {"id": p, "unit": "t", "kind": "material", "transport_cost": _r(rng.uniform(0.5, 3.0), 2)}
        if disposable:
            byp_disposal[p] = _money(rng.uniform(100, 1200))
            row["disposal_cost"] = byp_disposal[p]
            row["disposal_emissions"] = _r(rng.uniform(0.0, 0.5), 3)
        else:
            byp_disposal[p] = None
        prod_rows.append(row)
    for p in heats:
        prod_rows.append({"id": p, "unit": "MWh", "kind": "energy", "needs_link": True, "disposal_cost": 0.0})
    # by-products without a disposal cost are sold for a fraction of their virgin price
    byp_sale = {p: _money(rng.uniform(0.05, 0.4) * byp_virgin[p]) for p in byps if byp_disposal[p] is None}

    # ---- actors ------------------------------------------------------------
    def place() -> tuple[float, float]:
        r = RADIUS_KM * math.sqrt(rng.random())
        angle = 2 * math.pi * rng.random()
        lat = CENTRE[0] + r * math.sin(angle) / KM_PER_DEG_LAT
        lon = CENTRE[1] + r * math.cos(angle) / (KM_PER_DEG_LAT * math.cos(math.radians(CENTRE[0])))
        return round(lat, 5), round(lon, 5)

    exist_ids = [f"actor_{i + 1:02d}" for i in range(n_exist)]
    cand_ids = [f"new_{i + 1:02d}" for i in range(n_cand_actors)]
    pos: dict[str, tuple[float, float]] = {}
    actor_rows: list[dict[str, Any]] = []
    main_of: dict[str, str] = {}
    for i, a in enumerate(exist_ids):
        pos[a] = place()
        main_of[a] = mains[i % n_main]
        actor_rows.append(
            {
                "id": a,
                "name": f"Plant {i + 1}",
                "exists": True,
                "lat": pos[a][0],
                "lon": pos[a][1],
                "region": "orkland",
                "sector": f"sector_{mains.index(main_of[a]) + 1}",
                "fixed_cost": _money(rng.uniform(1e6, 1e7)),
            }
        )
    sector_raws = {
        m: list(rng.choice(raws, size=min(len(raws), int(rng.integers(1, 3))), replace=False)) for m in mains
    }

    # ---- main processes: outputs first ---------------------------------------
    level: dict[str, float] = {a: _money(rng.uniform(2e3, 1e5)) for a in exist_ids}  # fixed activity per year
    profile_of: dict[str, str | None] = {}
    for a in exist_ids:
        u = rng.random()
        profile_of[a] = "heating" if u < 0.15 else "summer" if u < 0.25 else "campaign" if u < 0.35 else None
    outputs: dict[str, dict[str, float]] = {a: {main_of[a]: 1.0} for a in exist_ids}
    side_pool = byps + heats
    for a in exist_ids:
        k = int(rng.integers(1, 4))
        for p in rng.choice(side_pool, size=min(k, len(side_pool)), replace=False):
            outputs[a][str(p)] = _r(rng.uniform(0.05, 0.5))
    for p in side_pool:  # every by-product and heat has a producer
        if not any(p in out for out in outputs.values()):
            a = min(exist_ids, key=lambda x: (len(outputs[x]), x))
            outputs[a][p] = _r(rng.uniform(0.05, 0.5))
    producers = {p: [a for a in exist_ids if p in outputs[a]] for p in side_pool}
    annual_output = {p: sum(level[a] * outputs[a][p] for a in producers[p]) for p in side_pool}

    # ---- main processes: inputs ---------------------------------------------
    inputs: dict[str, dict[str, float]] = {a: {} for a in exist_ids}
    for a in exist_ids:
        for r in sector_raws[main_of[a]]:
            inputs[a][str(r)] = _r(rng.uniform(0.3, 1.5))
    consumers: dict[str, list[str]] = {}
    for p in side_pool:
        others = [a for a in exist_ids if a not in producers[p]]
        if not others:
            consumers[p] = []
            continue
        is_heat = p in heats
        n = int(rng.integers(1, 3)) if (is_heat or rng.random() < 0.7) else 0
        chosen = [str(a) for a in rng.choice(others, size=min(n, len(others)), replace=False)]
        consumers[p] = chosen
        for a in chosen:
            need = annual_output[p] * rng.uniform(0.2, 1.0) / len(chosen)  # per year
            inputs[a][p] = _r(max(need / level[a], 1e-3), 4)

    # ---- processes and actor_processes -------------------------------------
    process_rows: list[dict[str, Any]] = []
    ap_rows: list[dict[str, Any]] = []
    for i, a in enumerate(exist_ids):
        pid = f"main_proc_{i + 1:02d}"
        process_rows.append(
            {"id": pid, "inputs": inputs[a], "outputs": outputs[a], "description": f"main process of {a}"}
        )
        row = {
            "actor": a,
            "process": pid,
            "exists": True,
            "capacity": _money(level[a] * 1.1),
            "fixed_activity": _money(level[a]),
            "variable_cost": _money(rng.uniform(50, 500)),
            "value_added_per_unit": _money(0.3 * main_price[main_of[a]]),
            "jobs_per_unit": _r(rng.uniform(1e-4, 1e-3), 6),
            "emissions_per_unit": _r(rng.uniform(0.05, 1.0)),
        }
        if profile_of[a]:
            row["profile"] = profile_of[a]
        ap_rows.append(row)

    # ---- purchases and sales of existing actors --------------------------------
    buys: dict[tuple[str, str], dict[str, Any]] = {}
    sells: dict[tuple[str, str], dict[str, Any]] = {}
    for a in exist_ids:
        for p, coef in inputs[a].items():
            base = raw_price.get(p) or byp_virgin.get(p) or heat_price[p]
            need_peak = level[a] * coef * peak[profile_of[a]]  # an annual rate at the peak period
            buys[(a, p)] = {
                "actor": a,
                "product": p,
                "price": _money(base * rng.uniform(0.97, 1.03)),
                "limit": _money(need_peak * rng.uniform(1.2, 3.0)),
                "emissions_per_unit": _r(rng.uniform(0.0, 0.8)),
            }
        m = main_of[a]
        sells[(a, m)] = {"actor": a, "product": m, "price": _money(main_price[m] * rng.uniform(0.98, 1.02))}
        for p in outputs[a]:
            if p in byp_sale:
                sells[(a, p)] = {"actor": a, "product": p, "price": byp_sale[p]}

    # ---- candidate processes at existing actors -------------------------------
    cand_proc_rows: list[dict[str, Any]] = []
    feed = [p for p in byps if annual_output[p] > 0]
    disposable_byps = [p for p in byps if byp_disposal[p] is not None]
    for j in range(n_cand_proc):
        a = str(rng.choice(exist_ids))
        q = str(rng.choice(feed))
        m = main_of[a]
        value = byp_virgin[q] * rng.uniform(0.4, 1.2)  # what one unit of q is worth as the main product
        yield_ = _r(value / main_price[m], 4)
        outs: dict[str, float] = {m: yield_}
        residues = [p for p in disposable_byps if p != q]
        if residues and rng.random() < 0.4:
            outs[str(rng.choice(residues))] = _r(rng.uniform(0.05, 0.3))
        pid = f"cand_proc_{j + 1:02d}"
        process_rows.append({"id": pid, "inputs": {q: 1.0}, "outputs": outs, "description": f"turn {q} into {m}"})
        capacity = annual_output[q] * rng.uniform(0.3, 1.0)
        margin = value + (byp_disposal[q] or 0.0)  # per unit of activity, before costs
        cand_proc_rows.append(
            {
                "actor": a,
                "process": pid,
                "exists": False,
                "capacity": _money(capacity),
                "variable_cost": _money(0.1 * margin),
                "fixed_cost": _money(0.03 * capacity * margin),
                "build_cost": _money(capacity * margin * rng.uniform(1.5, 8.0)),
                "earliest_year": int(rng.integers(0, max(1, years // 3))),
                "value_added_per_unit": _money(0.3 * value),
                "jobs_per_unit": _r(rng.uniform(1e-4, 1e-3), 6),
                "emissions_per_unit": _r(rng.uniform(0.0, 0.3)),
            }
        )
    ap_rows += cand_proc_rows

    # ---- candidate actors ---------------------------------------------------
    touched: set[str] = set()  # products a candidate actor buys, sells, makes or uses
    cand_heat_users: list[tuple[str, str, float]] = []  # (actor, heat, capacity of its heat need)
    for i, a in enumerate(cand_ids):
        pos[a] = place()
        m = str(rng.choice(mains))
        actor_rows.append(
            {
                "id": a,
                "name": f"Newcomer {i + 1}",
                "exists": False,
                "lat": pos[a][0],
                "lon": pos[a][1],
                "region": "orkland",
                "sector": f"sector_{mains.index(m) + 1}",
                "entry_cost": _money(rng.uniform(5e6, 5e7)),
                "fixed_cost": _money(rng.uniform(5e5, 3e6)),
                "earliest_year": min(years - 1, int(rng.integers(1, max(2, years // 2)))),
            }
        )
        for k in range(int(rng.integers(1, 3))):
            q = str(rng.choice(feed))
            ins: dict[str, float] = {q: 1.0}
            heat = str(rng.choice(heats)) if rng.random() < 0.6 else None
            if heat:
                ins[heat] = _r(rng.uniform(0.2, 1.0))
            value = byp_virgin[q] * rng.uniform(0.6, 1.6) + (heat_price[heat] * ins[heat] if heat else 0.0)
            outs = {m: _r(value / main_price[m], 4)}
            if disposable_byps and rng.random() < 0.5:
                outs[str(rng.choice(disposable_byps))] = _r(rng.uniform(0.05, 0.3))
            pid = f"new_proc_{i + 1:02d}_{k + 1}"
            process_rows.append({"id": pid, "inputs": ins, "outputs": outs, "description": f"{a}: {q} into {m}"})
            capacity = annual_output[q] * rng.uniform(0.3, 1.0)
            margin = value + (byp_disposal[q] or 0.0)
            ap_rows.append(
                {
                    "actor": a,
                    "process": pid,
                    "exists": False,
                    "capacity": _money(capacity),
                    "variable_cost": _money(0.1 * margin),
                    "fixed_cost": _money(0.03 * capacity * margin),
                    "build_cost": _money(capacity * margin * rng.uniform(0.5, 3.0)),
                    "value_added_per_unit": _money(0.3 * value),
                    "jobs_per_unit": _r(rng.uniform(1e-4, 1e-3), 6),
                }
            )
            touched |= set(ins) | set(outs)
            # the newcomer may also buy its inputs virgin and sells its product, within limits
            for p, coef in ins.items():
                base = byp_virgin.get(p) or heat_price[p]
                need = capacity * coef
                old = buys.get((a, p))
                buys[(a, p)] = {
                    "actor": a,
                    "product": p,
                    "price": old["price"] if old else _money(base * rng.uniform(1.0, 1.1)),
                    "limit": _money(need * rng.uniform(0.5, 1.0) + (old["limit"] if old else 0.0)),
                }
            made = capacity * outs[m]
            old = sells.get((a, m))
            sells[(a, m)] = {
                "actor": a,
                "product": m,
                "price": old["price"] if old else _money(main_price[m] * rng.uniform(0.95, 1.05)),
                "limit": _money(made * 1.05 + (old["limit"] if old else 0.0)),
            }
            if heat:
                cand_heat_users.append((a, heat, capacity * ins[heat]))
    # every purchase of a product a candidate actor touches gets a limit (finite supply bounds)
    for (a, p), row in buys.items():
        if p not in touched and a in exist_ids and rng.random() < 0.6:
            del row["limit"]  # unlimited virgin supply for most untouched products

    # ---- links: candidate heat links, one existing trucked exchange -------------
    def dist(a: str, b: str) -> float:
        (la, lo), (lb, lob) = pos[a], pos[b]
        dy = (la - lb) * KM_PER_DEG_LAT
        dx = (lo - lob) * KM_PER_DEG_LAT * math.cos(math.radians(CENTRE[0]))
        return math.hypot(dx, dy)

    link_rows: list[dict[str, Any]] = []
    pairs = [(a, b, h) for h in heats for a in producers[h] for b in consumers[h]]
    order = rng.permutation(len(pairs)) if pairs else []
    for idx in list(order)[:n_links]:
        a, b, h = pairs[int(idx)]
        flow = min(level[a] * outputs[a][h], level[b] * inputs[b][h])
        link_rows.append(_heat_link(rng, a, b, h, flow, dist(a, b), heat_price[h], years))
    for b, h, need in cand_heat_users:
        if not producers[h]:
            continue
        a = min(producers[h], key=lambda x: (dist(x, b), x))
        if any(r["from"] == a and r["to"] == b and r["product"] == h for r in link_rows):
            continue
        flow = min(level[a] * outputs[a][h], need)
        link_rows.append(_heat_link(rng, a, b, h, flow, dist(a, b), heat_price[h], years))
    exchanges = [(a, b, p) for p in byps for a in producers[p] for b in consumers[p]]
    if exchanges:
        a, b, p = exchanges[int(rng.integers(len(exchanges)))]
        link_rows.append(
            {
                "from": a,
                "to": b,
                "product": p,
                "exists": True,
                "price": _money(byp_virgin[p] * 0.5),
                "capacity": _money(min(level[a] * outputs[a][p], level[b] * inputs[b][p]) * 0.8),
            }
        )

    # ---- storage ------------------------------------------------------------
    storage_rows: list[dict[str, Any]] = []
    store_pairs = [(a, p) for a in exist_ids for p in outputs[a] if p in byps]
    for idx in list(rng.permutation(len(store_pairs)))[:n_storage]:
        a, p = store_pairs[int(idx)]
        storage_rows.append(
            {
                "actor": a,
                "product": p,
                "capacity": _money(level[a] * outputs[a][p] * rng.uniform(0.05, 0.25)),
                "cost": _r(rng.uniform(1, 20), 2),
            }
        )

    return {
        "settings": {
            "name": name or f"synthetic_{actors}x{products}_s{seed}",
            "description": (
                f"Synthetic cluster: {n_exist} existing and {n_cand_actors} candidate actors, "
                f"{products} products, {n_cand_proc} candidate processes (seed {seed})"
            ),
            "currency": "NOK",
            "start_year": 2025,
            "years": years,
            "periods_per_year": ppy,
            "discount_rate": discount_rate,
        },
        "products": prod_rows,
        "actors": actor_rows,
        "processes": process_rows,
        "actor_processes": ap_rows,
        "purchases": list(buys.values()),
        "sales": list(sells.values()),
        "links": link_rows,
        "storage": storage_rows,
        "profiles": profiles,
    }


def _heat_link(
    rng: np.random.Generator, a: str, b: str, h: str, flow: float, km: float, price: float, years: int
) -> dict[str, Any]:
    """A candidate heat pipe sized to ``flow`` per year, costed by length and worth roughly its heat."""
    capacity = flow * rng.uniform(0.5, 1.2)
    yearly_value = capacity * price
    build = 1.5e6 + km * rng.uniform(2e6, 6e6) + yearly_value * rng.uniform(1.0, 6.0)
    return {
        "from": a,
        "to": b,
        "product": h,
        "exists": False,
        "capacity": _money(capacity),
        "build_cost": _money(build),
        "fixed_cost": _money(0.02 * build),
        "earliest_year": int(rng.integers(0, max(1, min(5, years)))),
    }


def synthetic_scenario(*args: Any, **kwargs: Any) -> Scenario:
    """``synthetic_cluster(...)`` validated into a ``Scenario``."""
    raw = synthetic_cluster(*args, **kwargs)
    return scenario_from_dict(raw, source=f"synthetic:{raw['settings']['name']}")
