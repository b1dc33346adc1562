"""The figure of firms' ledgers: the cluster's money flows next to its material flows.

Actors are named (their names, or ids), never by organisation number unless ``show_ids``.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402

import symbiosim.report.style as style  # noqa: E402
from symbiosim.report.figures import save_figure  # noqa: E402
from symbiosim.ripple.ledgers import LedgerResult  # noqa: E402
from symbiosim.scenario import Scenario  # noqa: E402

MONEY = "#0072B2"
WHERE_COLOURS = {"within the cluster": "#009E73", "rest of Norway": "#56B4E9", "abroad": "#E69F00"}


def _circle(actors: list[str]) -> dict[str, tuple[float, float]]:
    n = max(len(actors), 1)
    return {a: (math.cos(math.pi / 2 - 2 * math.pi * i / n), math.sin(math.pi / 2 - 2 * math.pi * i / n))
            for i, a in enumerate(actors)}


def actor_labels(result: LedgerResult, actors: list[str], show_ids: bool = False) -> dict[str, str]:
    """Display names of ``actors``; with ``show_ids`` the organisation numbers their ledgers came from."""
    short = style.unique_labels([result.names.get(a, a) for a in actors], 40)
    labels = dict(zip(actors, short, strict=True))
    if show_ids and len(result.cleaned):
        for a in actors:
            ids = sorted(set(result.cleaned.loc[result.cleaned["firm_actor"] == a, "firm_orgnr"]))
            if ids:
                labels[a] += "\n" + ", ".join(ids)
    return labels


def _network(ax: Axes, pos: dict[str, tuple[float, float]], labels: dict[str, str]) -> None:
    for a, (x, y) in pos.items():
        ax.scatter([x], [y], s=260, color=style.ACTOR_KIND_COLOURS["existing"], edgecolor="black", zorder=3)
        # names point away from the circle's centre, so they clear the arrows inside it
        ha = "left" if x > 0.3 else "right" if x < -0.3 else "center"
        va = "bottom" if y > 0.3 else "top" if y < -0.3 else "center"
        ax.annotate(style.wrap(labels[a], 22), (x, y), xytext=(14 * x, 14 * y), textcoords="offset points", ha=ha, va=va, fontsize=7,
                    zorder=4, bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7})
    ax.set_xlim(-2.0, 2.0)
    ax.set_ylim(-1.45, 1.45)
    ax.set_aspect("equal")
    ax.axis("off")


def _arrow(ax: Axes, a: tuple[float, float], b: tuple[float, float], colour: str, width: float, dashed: bool, rad: float) -> None:
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=12, color=colour, lw=width, shrinkA=11, shrinkB=11,
                                 linestyle="--" if dashed else "-", connectionstyle=f"arc3,rad={rad}", zorder=2))


def _where(result: LedgerResult, year: int) -> pd.DataFrame:
    """Each actor's sales and purchases in ``year`` by where the counterpart is."""
    c = result.cleaned
    c = c[c["year"] == year] if len(c) else c
    if not len(c):
        return pd.DataFrame(columns=["actor", "direction", "where", "amount"])
    where = np.where(c["counterpart_actor"] != "", "within the cluster", np.where(c["foreign"], "abroad", "rest of Norway"))
    frame = pd.DataFrame({"actor": c["firm_actor"], "direction": np.where(c["kind"] == "supplier", "purchases", "sales"),
                          "where": where, "amount": c["amount"].astype(float)})
    return frame.groupby(["actor", "direction", "where"], as_index=False)["amount"].sum()


def ledger_figure(result: LedgerResult, scenario: Scenario, path: str | Path, *, material: pd.DataFrame | None = None,
                  material_title: str = "existing links", show_ids: bool = False) -> Path:
    """``path``: the money paid between actors in the result's year (arrows buyer -> seller, width by
    amount) beside the material and energy delivered (``material``: ``source, target, product,
    quantity``, e.g. ``ripple.ledgers.material_flows``), and under them each actor's sales and
    purchases within the cluster, in the rest of Norway and abroad."""
    from symbiosim.ripple.ledgers import material_flows

    year = result.year
    material = material_flows(scenario) if material is None else material
    flows = result.actor_flows[result.actor_flows["year"] == year] if year is not None else result.actor_flows.iloc[:0]
    involved = set(flows["seller"]) | set(flows["buyer"]) | set(material["source"]) | set(material["target"])
    involved |= set(result.cleaned["firm_actor"]) if len(result.cleaned) else set()
    actors = [a.id for a in scenario.actors if a.id in involved]
    pos = _circle(actors)
    labels = actor_labels(result, actors, show_ids)
    currency = result.currency

    fig = plt.figure(figsize=(13, 8.5))
    grid = fig.add_gridspec(2, 2, height_ratios=[1.15, 1])
    ax_money, ax_mat, ax_bar = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, :])

    scale = style.money_scale(flows["amount"]) if len(flows) else ""
    top = float(flows["amount"].max()) if len(flows) else 0.0
    _network(ax_money, pos, labels)
    for r in flows.itertuples():
        width = 1.0 + 5.0 * (r.amount / top if top > 0 else 0.0)
        a, b = pos[r.buyer], pos[r.seller]  # money goes from the buyer to the seller
        _arrow(ax_money, a, b, MONEY, width, r.amount <= 0, 0.15)
        mx, my = (a[0] + b[0]) / 2 + 0.075 * (b[1] - a[1]), (a[1] + b[1]) / 2 - 0.075 * (b[0] - a[0])  # on the arc (rad 0.15)
        ax_money.text(mx, my, style.plain(r.amount / style.SCALES[scale], 1 if scale else 0), fontsize=7, ha="center",
                      va="center", color=MONEY, bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
    unit = f"{scale} {currency}".strip()
    style.fit_title(ax_money, f"money paid between actors, {year}\n({unit}; buyer -> seller; dashed: nothing paid)",
                    fontsize=10, share=0.4)

    _network(ax_mat, pos, labels)
    units = {p.id: p.unit for p in scenario.products}
    biggest = material.groupby("product")["quantity"].max().to_dict() if len(material) else {}
    for i, r in enumerate(material.itertuples()):
        if r.source not in pos or r.target not in pos:
            continue
        q = float(r.quantity)
        top_q = float(biggest.get(r.product, math.nan))
        known = math.isfinite(q) and math.isfinite(top_q) and top_q > 0
        width = 1.0 + 5.0 * q / top_q if known else 2.5  # widths compare flows of one product (units differ)
        rad = 0.15 + 0.1 * (i % 2)
        a, b = pos[r.source], pos[r.target]
        _arrow(ax_mat, a, b, style.product_colour(r.product), width, False, rad)
        if math.isfinite(q):
            mx, my = (a[0] + b[0]) / 2 + rad / 2 * (b[1] - a[1]), (a[1] + b[1]) / 2 - rad / 2 * (b[0] - a[0])
            ax_mat.text(mx, my, f"{style.plain(q)} {units.get(r.product, '')}/yr".strip(), fontsize=7, ha="center",
                        va="center", color="#333333",
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
    style.fit_title(ax_mat, f"material and energy delivered\n({material_title}; source -> receiver)", fontsize=10,
                    share=0.4)
    if len(material):
        style.product_legend(ax_mat, list(material["product"]), units, where="below")

    where = _where(result, year) if year is not None else _where(result, -1)
    rows = [(a, d) for a in actors for d in ("sales", "purchases") if ((where["actor"] == a) & (where["direction"] == d)).any()]
    left = np.zeros(len(rows))
    for name, colour in WHERE_COLOURS.items():
        vals = np.array([float(where.loc[(where["actor"] == a) & (where["direction"] == d) & (where["where"] == name),
                                         "amount"].sum()) for a, d in rows])
        ax_bar.barh(range(len(rows)), vals, left=left, color=colour, edgecolor="black", linewidth=0.4, label=name)
        left += vals
    ax_bar.set_yticks(range(len(rows)), [f"{labels[a].splitlines()[0]}: {d}" for a, d in rows], fontsize=7)
    ax_bar.invert_yaxis()
    style.money_axis(ax_bar, currency, what=f"ledger totals {year}", axis="x", values=list(left) or [0.0])
    ax_bar.set_xlim(0, 1.05 * max([*left, 1.0]))  # the largest bar clear of the frame
    style.legend_outside(ax_bar, style.patch_handles(WHERE_COLOURS), title="counterpart")
    return save_figure(fig, path)
