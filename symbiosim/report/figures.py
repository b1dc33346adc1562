"""Figures for reports (matplotlib, no screen needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

import symbiosim.report.style as style  # noqa: E402
from symbiosim.plan import Plan  # noqa: E402
from symbiosim.scenario.schema import Scenario  # noqa: E402


def save_figure(fig: plt.Figure, path: str | Path, layout: bool = True) -> Path:
    """Lay out (unless ``layout`` is False: done by the caller), write (130 dpi) and close a figure;
    every figure of the package goes through here (kept open while ``style.capture_figures`` is active)."""
    if layout:
        fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=130)
    if not style.capture(fig):
        plt.close(fig)
    return path


def _positions(scenario: Scenario) -> dict[str, tuple[float, float]]:
    """Actor coordinates (lon, lat); actors without them go on a circle."""
    pos: dict[str, tuple[float, float]] = {}
    missing = [a for a in scenario.actors if a.lat is None or a.lon is None]
    for a in scenario.actors:
        if a.lat is not None and a.lon is not None:
            pos[a.id] = (a.lon, a.lat)
    if missing:
        xs = [p[0] for p in pos.values()] or [0.0]
        ys = [p[1] for p in pos.values()] or [0.0]
        cx, cy = float(np.mean(xs)), float(np.mean(ys))
        r = max(np.ptp(xs), np.ptp(ys), 1.0) / 2 if pos else 1.0
        for i, a in enumerate(missing):
            angle = 2 * np.pi * i / len(missing)
            pos[a.id] = (cx + r * np.cos(angle), cy + r * np.sin(angle))
    # spread actors that share a location so arrows stay visible
    seen: dict[tuple[float, float], int] = {}
    span = max(np.ptp([p[0] for p in pos.values()]), np.ptp([p[1] for p in pos.values()]), 1e-3)
    for actor, (x, y) in list(pos.items()):
        key = (round(x, 4), round(y, 4))
        n = seen.get(key, 0)
        seen[key] = n + 1
        if n:
            angle = 2.4 * n
            pos[actor] = (x + 0.04 * span * np.cos(angle), y + 0.04 * span * np.sin(angle))
    return pos


def flow_figure(scenario: Scenario, plan: Plan, path: str | Path, title: str | None = None) -> Path:
    """Actors as nodes, flows as arrows scaled by their mean annual quantity over
    the years in which they run (widths comparable within a unit). Products keep their colour
    (``style.product_colour``) in every flow figure; nodes are coloured by actor kind."""
    pos = _positions(scenario)
    units = {p.id: p.unit for p in scenario.products}
    entered = set(plan.builds[plan.builds.kind == "actor"].actor)
    fig, ax = plt.subplots(figsize=(12, 8))
    flows = plan.flows
    labels: list[Any] = []  # every text on the map, moved apart at the end
    if not flows.empty:
        by_year = flows.groupby(["source", "target", "product", "year"]).value.sum()
        annual = by_year.groupby(level=[0, 1, 2]).mean()
        by_unit_max = {
            u: max(annual[[units[k[2]] == u for k in annual.index]].max(), 1e-12)
            for u in set(units[k[2]] for k in annual.index)
        }
        colours = {p: style.product_colour(p) for p in sorted({k[2] for k in annual.index})}
        for (src, dst, prod), q in annual.items():
            width = 0.8 + 6.0 * q / by_unit_max[units[prod]]
            (x0, y0), (x1, y1) = pos[src], pos[dst]
            ax.annotate(
                "",
                xy=(x1, y1),
                xytext=(x0, y0),
                arrowprops={
                    "arrowstyle": "-|>",
                    "lw": width,
                    "color": colours[prod],
                    "alpha": 0.75,
                    "shrinkA": 12,
                    "shrinkB": 12,
                    "connectionstyle": "arc3,rad=0.12",
                },
            )
            # label a little off the middle, towards the receiver, so opposite flows don't collide
            lx, ly = x0 + 0.58 * (x1 - x0), y0 + 0.58 * (y1 - y0)
            labels.append(ax.text(
                lx,
                ly,
                f"{q:,.0f} {units[prod]}/yr",
                fontsize=7,
                ha="center",
                va="center",
                color=colours[prod],
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8},
                zorder=7,  # above actor names
            ))
        style.product_legend(ax, list(colours), units)
    kinds = []
    span = max(np.ptp([p[0] for p in pos.values()]), 1e-6)
    for a in scenario.actors:
        x, y = pos[a.id]
        present = a.exists or a.id in entered
        kind = style.actor_kind(a.exists, a.id in entered)
        kinds.append(kind)
        ax.scatter([x], [y], s=260, color=style.ACTOR_KIND_COLOURS[kind], zorder=3, edgecolor="black")
        labels.append(ax.text(x + 0.012 * span, y, a.name or a.id, fontsize=9, va="center", ha="left", zorder=6,
                              color="black" if present else "#777777",
                              bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75}))
    order = [k for k in style.ACTOR_KIND_COLOURS if k in kinds]
    style.actor_kind_legend(ax, order)
    style.fit_title(ax, title or f"{scenario.settings.name}: flows between actors (mean per year while running)")
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")
    ax.xaxis.set_major_formatter(style.PlainFormatter())  # degrees as they are, no offset such as 9.86 + 1e-5
    ax.yaxis.set_major_formatter(style.PlainFormatter())
    ax.margins(0.15)
    _apart(ax, labels, pos)
    return save_figure(fig, path)


def _apart(ax: Axes, labels: list[Any], pos: dict[str, tuple[float, float]]) -> None:
    """Move the map's texts (names, quantities) off each other and off the actors' nodes (adjustText;
    deterministic: its only random draws use a fixed seed); a moved text gets a thin line to where it was."""
    from adjustText import adjust_text

    if not labels:
        return
    fig = ax.get_figure(root=True)
    if isinstance(fig, plt.Figure):
        fig.tight_layout()  # the final axes size, which the repulsion works in
    # each node as its centre and a ring at its radius (9 points), so texts keep off the whole marker
    centre = ax.transData.transform(np.array(list(pos.values())))
    radius = 9 * (fig.dpi if fig is not None else 100) / 72
    ring = np.array([[np.cos(t), np.sin(t)] for t in np.linspace(0, 2 * np.pi, 8, endpoint=False)]) * radius
    points = np.vstack([centre, *(centre + r for r in ring)])
    xs, ys = ax.transData.inverted().transform(points).T
    adjust_text(labels, x=list(xs), y=list(ys), ax=ax, expand=(1.15, 1.4), force_static=(0.3, 0.5), ensure_inside_axes=True,
                arrowprops={"arrowstyle": "-", "color": "#999999", "lw": 0.5})


def links_figure(scenario: Scenario, contracts: pd.DataFrame, series: pd.DataFrame, path: str | Path, title: str = "") -> Path:
    """Contracts as bars over the years (standing ones grey, formed in the run green),
    and the number of links active per period below."""
    settings = scenario.settings
    units = {p.id: p.unit for p in scenario.products}
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7), gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    labels = []
    for i, r in enumerate(contracts.to_dict("records")):
        colour = style.CONTRACT_COLOURS["standing" if r["existing"] else "formed"]
        top.barh(i, r["end_year"] - r["start_year"] + 1, left=settings.start_year + r["start_year"], color=colour, edgecolor="black")
        unit = units.get(r["product"], "unit")
        price = "" if r["price"] is None or r["price"] != r["price"] else f" @ {style.plain(r['price'])} {settings.currency}/{unit}"
        labels.append(f"{r['from']} -> {r['to']}: {r['product']}{price}")
    top.set_yticks(range(len(labels)), style.unique_labels(labels, 60), fontsize=8)
    top.invert_yaxis()
    style.legend_outside(top, style.patch_handles({"standing at the start": style.CONTRACT_COLOURS["standing"],
                                                   "formed in the run": style.CONTRACT_COLOURS["formed"]}), title="contract")
    style.fit_title(top, title or f"{settings.name}: contracts over time")
    years = settings.start_year + series.period / settings.periods_per_year
    bottom.step(years, series.links_active, where="post", color=style.CONTRACT_COLOURS["formed"])
    style.quantity_axis(bottom, "links active", "count")
    bottom.yaxis.set_major_locator(MaxNLocator(integer=True))
    bottom.set_ylim(0, max(1.0, float(series.links_active.max()) if len(series) else 1.0) * 1.15)
    bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
    bottom.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}"))
    bottom.set_xlabel("calendar year")
    return save_figure(fig, path)
