"""What the map draws: actors by kind, links, and flows as arrows scaled by quantity (plain data, no widgets).

The page turns these into Leaflet layers; keeping the geometry here lets
tests check it without a browser.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

KIND_COLOURS = {"existing": "#1f77b4", "candidate": "#ff7f0e", "fictive": "#9467bd"}
LINK_COLOURS = {"existing": "#555555", "candidate": "#aaaaaa"}
RUN_COLOURS = {"optimum": "#2ca02c", "decentralised": "#d62728"}
RUN_LABELS = {"optimum": "coordinated", "decentralised": "decentralised"}


@dataclass(frozen=True)
class Marker:
    actor: str
    name: str
    lat: float
    lon: float
    kind: str  # existing, candidate or fictive (added in the app)

    @property
    def colour(self) -> str:
        return KIND_COLOURS[self.kind]


@dataclass(frozen=True)
class Arrow:
    sender: str
    receiver: str
    product: str
    quantity: float
    unit: str
    points: tuple[tuple[float, float], ...]  # (lat, lon) from the sender to the receiver, with a head
    weight: int  # line width in pixels, by quantity within the product's unit
    colour: str


def positions(raw: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """(lat, lon) of each actor; actors without coordinates go on a small circle around the others' centre."""
    actors = raw.get("actors") or []
    known = {a["id"]: (float(a["lat"]), float(a["lon"])) for a in actors if a.get("lat") is not None and a.get("lon") is not None}
    lat0 = sum(p[0] for p in known.values()) / len(known) if known else 63.3
    lon0 = sum(p[1] for p in known.values()) / len(known) if known else 9.85
    missing = [a["id"] for a in actors if a["id"] not in known]
    for i, actor in enumerate(missing):
        angle = 2 * math.pi * i / max(1, len(missing))
        known[actor] = (lat0 + 0.01 * math.sin(angle), lon0 + 0.02 * math.cos(angle))
    return known


def markers(raw: dict[str, Any], fictive: set[str] = frozenset()) -> list[Marker]:  # type: ignore[assignment]
    pos = positions(raw)
    out = []
    for a in raw.get("actors") or []:
        kind = "fictive" if a["id"] in fictive else ("existing" if a.get("exists", True) else "candidate")
        out.append(Marker(a["id"], a.get("name") or a["id"], *pos[a["id"]], kind))
    return out


def with_case_actors(raw: dict[str, Any], specs: list[dict[str, Any]]) -> dict[str, Any]:
    """``raw`` with the actors the cases add (fictive firms), for drawing: a case's firm is not in the base."""
    known = {a["id"] for a in raw.get("actors") or []}
    extra = [a for s in specs for a in (s.get("add") or {}).get("actors", []) if a.get("id") not in known]
    return {**raw, "actors": [*(raw.get("actors") or []), *extra]} if extra else raw


def links(raw: dict[str, Any]) -> list[tuple[str, str, str, str, tuple[tuple[float, float], tuple[float, float]]]]:
    """(from, to, product, existing|candidate, ((lat, lon), (lat, lon))) of every link of the scenario."""
    pos = positions(raw)
    out = []
    for row in raw.get("links") or []:
        a, b = row.get("from"), row.get("to")
        if a in pos and b in pos:
            out.append((a, b, str(row.get("product", "")), "existing" if row.get("exists", False) else "candidate", (pos[a], pos[b])))
    return out


def _with_head(a: tuple[float, float], b: tuple[float, float]) -> tuple[tuple[float, float], ...]:
    """A line from a to (almost) b with a two-stroke arrow head, in degrees (good enough at a cluster's scale)."""
    dlat, dlon = b[0] - a[0], b[1] - a[1]
    length = math.hypot(dlat, dlon) or 1e-9
    tip = (b[0] - 0.08 * dlat, b[1] - 0.08 * dlon)  # stop short of the marker
    size = min(0.15 * length, 0.004)
    ux, uy = dlat / length, dlon / length
    left = (tip[0] - size * (ux - 0.5 * uy), tip[1] - size * (uy + 0.5 * ux))
    right = (tip[0] - size * (ux + 0.5 * uy), tip[1] - size * (uy - 0.5 * ux))
    return (a, tip, left, tip, right)


def arrows(raw: dict[str, Any], flows: list[dict[str, Any]], year: int | None, run: str) -> list[Arrow]:
    """The run's flows in ``year`` (None: totals over the horizon), one arrow per sender, receiver and product."""
    pos = positions(raw)
    units = {p["id"]: p.get("unit", "") for p in raw.get("products") or []}
    totals: dict[tuple[str, str, str], float] = {}
    for f in flows:
        if year is not None and int(f["year"]) != int(year):
            continue
        key = (f["sender"], f["receiver"], f["product"])
        totals[key] = totals.get(key, 0.0) + float(f["value"])
    largest: dict[str, float] = {}
    for (_, _, product), q in totals.items():
        largest[units.get(product, "")] = max(largest.get(units.get(product, ""), 0.0), q)
    out = []
    for (s, r, product), q in sorted(totals.items()):
        if q <= 0 or s not in pos or r not in pos:
            continue
        top = largest[units.get(product, "")] or 1.0
        out.append(Arrow(s, r, product, q, units.get(product, ""), _with_head(pos[s], pos[r]), round(2 + 8 * math.sqrt(q / top)),
                         RUN_COLOURS.get(run, "#333333")))
    return out


def years(result: dict[str, Any] | None) -> list[int]:
    if not result:
        return []
    found = {int(f["year"]) for src in result.get("sources", {}).values() for f in src.get("flows", [])}
    return sorted(found)


def view(raw: dict[str, Any], width: int = 900, height: int = 520) -> tuple[tuple[float, float], int]:
    """Centre and zoom that show every actor in a ``width`` x ``height`` pixel map (Web Mercator tiles of 256 px)."""
    pos = list(positions(raw).values())
    if not pos:
        return (63.3, 9.85), 12
    lats, lons = [p[0] for p in pos], [p[1] for p in pos]
    centre = ((min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2)
    lon_span = max(max(lons) - min(lons), 1e-4) * 1.3  # a margin around the outermost actors
    lat_span = max(max(lats) - min(lats), 1e-4) * 1.3 / math.cos(math.radians(centre[0]))  # Mercator stretches latitude
    zoom = min(math.log2(width * 360 / (256 * lon_span)), math.log2(height * 360 / (256 * lat_span))) + 0.25
    return centre, int(max(3, min(16, math.floor(zoom))))
