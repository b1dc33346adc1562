"""Figures of the decision-support results (matplotlib, no screen needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

import symbiosim.report.style as style  # noqa: E402
from symbiosim.report.figures import save_figure  # noqa: E402

# decision kinds of the decision tables, each with its colour when chosen
KIND_COLOURS = {"entry": "#0072B2", "build": "#009E73", "link": "#D55E00", "exchange": "#CC79A7"}
# units of the objectives and key figures (None: money, in the scenario's currency)
UNITS: dict[str, str | None] = {
    "cluster_npv": None, "cluster_profit": None, "value_added": None, "value_added_regional": None,
    "value_added_national": None, "public_cost": None, "weighted": "weighted score", "jobs": "FTE, mean per year",
    "emissions": "t CO2e",
}


def _axis(ax: Axes, name: str, currency: str, axis: str = "y", values: list[float] | None = None) -> None:
    """Label an objective or key figure axis with its currency (and scale) or unit."""
    unit = UNITS.get(name, "")
    if unit is None:
        style.money_axis(ax, currency, name.replace("_", " "), axis=axis, values=values)
    else:
        style.quantity_axis(ax, name.replace("_", " "), unit, axis=axis)


def decisions_figure(decisions: pd.DataFrame, path: str | Path, title: str, plan_col: str = "plan") -> Path:
    """A chosen / not chosen grid: decisions (rows) x plans (columns); a chosen cell takes the colour
    of its decision's kind (legend), labels shortened but never two alike."""
    grid = decisions.pivot_table(index="decision", columns=plan_col, values="chosen", aggfunc="max", sort=False).fillna(False)
    grid = grid[list(dict.fromkeys(decisions[plan_col]))] if len(grid) else grid
    labels = style.unique_labels([str(x) for x in grid.index], 48)
    width = max(7.0, 4.2 + 0.75 * max(1, grid.shape[1]) + 0.055 * max((len(x) for x in labels), default=10))
    fig, ax = plt.subplots(figsize=(width, 2.0 + 0.3 * max(1, grid.shape[0])))
    if len(grid):
        kind_of = decisions.drop_duplicates("decision").set_index("decision")["kind"].astype(str).to_dict() if "kind" in decisions else {}
        kinds = {d: kind_of.get(d, "decision") for d in grid.index}
        known = [k for k in KIND_COLOURS if k in kinds.values()] + sorted(set(kinds.values()) - set(KIND_COLOURS))
        chosen_colour = {k: KIND_COLOURS.get(k, style.CHOSEN if k == "decision" else style.product_colour(k)) for k in known}
        colours = [style.NOT_CHOSEN, *chosen_colour.values()]
        code = {k: i + 1 for i, k in enumerate(known)}
        values = grid.to_numpy(bool) * np.array([code[kinds[d]] for d in grid.index])[:, None]
        ax.imshow(values, cmap=ListedColormap(colours), vmin=-0.5, vmax=len(colours) - 0.5, aspect="auto", interpolation="nearest")
        ax.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns], rotation=45, ha="right")
        ax.set_yticks(range(grid.shape[0]), labels, fontsize=8)
        ax.set_xticks([x - 0.5 for x in range(1, grid.shape[1])], minor=True)
        ax.set_yticks([y - 0.5 for y in range(1, grid.shape[0])], minor=True)
        ax.grid(which="minor", color="white", lw=1.5)
        ax.tick_params(which="minor", length=0)
        handles = style.patch_handles({f"chosen: {k}": c for k, c in chosen_colour.items()})
        handles += style.patch_handles({"not chosen": style.NOT_CHOSEN})
        style.legend_outside(ax, handles, title="decision")
    else:
        ax.text(0.5, 0.5, "no decisions", ha="center")
    style.fit_title(ax, title, share=0.8)
    return save_figure(fig, path)


def pareto_figure(points: pd.DataFrame, f1: str, f2: str, path: str | Path, title: str, currency: str = "NOK") -> Path:
    """The front (f2 on x, f1 on y); each point carries its name on the plot and what it changes
    against the f1 optimum in a key beside it (no notes over the data)."""
    fig, (ax, key) = plt.subplots(1, 2, figsize=(13, 6), gridspec_kw={"width_ratios": [3, 2]})
    x = [float(v) for v in points[f"{f2}_objective"]]
    y = [float(v) for v in points[f"{f1}_objective"]]
    ax.plot(x, y, "o-", color="#0072B2")
    lines = []
    for i, (r, xi, yi) in enumerate(zip(points.itertuples(), x, y, strict=True)):
        note = str(r.decisions_changed) or ("(optimum of " + f1 + ")" if r.order == 0 else "(same decisions)")
        parts = note.split(", ")
        text = "; ".join(style.unique_labels(parts[:4], 44)) + (f"; +{len(parts) - 4} more" if len(parts) > 4 else "")
        ax.annotate(str(r.point), (xi, yi), textcoords="offset points", xytext=(6, 6 if i % 2 == 0 else -12), fontsize=8)
        lines.append(style.wrap(f"{r.point}: {text}", 62))
    _axis(ax, f2, currency, "x", x)
    _axis(ax, f1, currency, "y", y)
    ax.grid(alpha=0.3)
    key.axis("off")
    key.text(0.0, 1.0, "what each point changes against the\noptimum of " + f1 + " (+ added, - dropped)\n\n" + "\n".join(lines),
             va="top", ha="left", fontsize=7, transform=key.transAxes, wrap=True)
    style.fit_suptitle(fig, title)
    return save_figure(fig, path)


def cases_figure(comparison: pd.DataFrame, path: str | Path, title: str, currency: str = "NOK") -> Path:
    """One bar panel per key figure, one bar per case."""
    cols = ["cluster_profit", "value_added_regional", "value_added_national", "jobs", "emissions", "public_cost"]
    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    names = style.unique_labels([str(c) for c in comparison.case_id], 16)
    for ax, c in zip(axes.ravel(), cols, strict=True):
        values = style.snap(comparison[c].astype(float))
        ax.bar(names, values, color=style.series_colours(names))
        ax.axhline(0, color="black", lw=0.6)
        style.fit_title(ax, c.replace("_", " "), fontsize=9, share=1 / 3)
        _axis(ax, c, currency, "y", [*values, 0.0])
        ax.yaxis.label.set_fontsize(8)
        ax.tick_params(axis="x", rotation=45, labelsize=7)
        for t in ax.get_xticklabels():
            t.set_horizontalalignment("right")
    style.fit_suptitle(fig, title)
    return save_figure(fig, path)


def robustness_figure(decisions: pd.DataFrame, path: str | Path, title: str) -> Path:
    """Share of perturbed solves that keep each decision (chosen in the reference: green, legend)."""
    d = decisions.iloc[::-1]
    fig, ax = plt.subplots(figsize=(10, 1.8 + 0.3 * max(1, len(d))))
    colours = {"chosen in the optimum": style.CHOSEN, "not chosen in the optimum": "#999999"}
    bar_colours = [colours["chosen in the optimum"] if x else colours["not chosen in the optimum"] for x in d.in_reference]
    ax.barh(style.unique_labels([str(x) for x in d.decision], 50), d.share_kept.astype(float), color=bar_colours)
    ax.set_xlim(0, 1)
    ax.axvline(1.0, color="black", lw=0.5)
    style.share_axis(ax, "share of perturbed solves agreeing with the optimum", axis="x", values=[0.0, 1.0])
    ax.set_xlim(0, 1.0)
    style.legend_outside(ax, style.patch_handles(colours), title="decision")
    style.fit_title(ax, title, share=0.75)
    ax.tick_params(axis="y", labelsize=7)
    return save_figure(fig, path)
