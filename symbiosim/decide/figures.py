"""Figures of the decision-support results (matplotlib, no screen needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from symbiosim.report.figures import save_figure  # noqa: E402


def _short(label: str, n: int = 38) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def decisions_figure(decisions: pd.DataFrame, path: str | Path, title: str, plan_col: str = "plan") -> Path:
    """A chosen / not chosen grid: decisions (rows) x plans (columns)."""
    grid = decisions.pivot_table(index="decision", columns=plan_col, values="chosen", aggfunc="max", sort=False).fillna(False)
    grid = grid[list(dict.fromkeys(decisions[plan_col]))] if len(grid) else grid
    fig, ax = plt.subplots(figsize=(2 + 0.8 * max(1, grid.shape[1]), 1.5 + 0.3 * max(1, grid.shape[0])))
    if len(grid):
        ax.imshow(grid.to_numpy(float), cmap="Greens", vmin=0, vmax=1.3, aspect="auto")
        ax.set_xticks(range(grid.shape[1]), list(grid.columns), rotation=45, ha="right")
        ax.set_yticks(range(grid.shape[0]), [_short(str(x)) for x in grid.index], fontsize=8)
    else:
        ax.text(0.5, 0.5, "no decisions", ha="center")
    ax.set_title(title)
    return save_figure(fig, path)


def pareto_figure(points: pd.DataFrame, f1: str, f2: str, path: str | Path, title: str) -> Path:
    """The front (f2 on x, f1 on y), each point annotated with what it changes against the f1 optimum."""
    fig, ax = plt.subplots(figsize=(8, 5.5))
    x, y = points[f"{f2}_objective"], points[f"{f1}_objective"]
    ax.plot(x, y, "o-", color="tab:blue")
    for r, xi, yi in zip(points.itertuples(), x, y, strict=True):
        note = str(r.decisions_changed) or ("(optimum of " + f1 + ")" if r.order == 0 else "(same decisions)")
        parts = note.split(", ")
        text = "\n".join(_short(p) for p in parts[:3]) + (f"\n+{len(parts) - 3} more" if len(parts) > 3 else "")
        ax.annotate(f"{r.point}: {text}", (xi, yi), textcoords="offset points", xytext=(6, 6), fontsize=7)
    ax.set_xlabel(f2 + (" (mean annual)" if f2 == "jobs" else ""))
    ax.set_ylabel(f1 + (" (mean annual)" if f1 == "jobs" else ""))
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def cases_figure(comparison: pd.DataFrame, path: str | Path, title: str) -> Path:
    """One bar panel per key figure, one bar per case."""
    cols = ["cluster_profit", "value_added_regional", "value_added_national", "jobs", "emissions", "public_cost"]
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5))
    for ax, c in zip(axes.ravel(), cols, strict=True):
        ax.bar(comparison.case_id.astype(str), comparison[c].astype(float), color="tab:blue")
        ax.set_title(c, fontsize=9)
        ax.tick_params(axis="x", rotation=45, labelsize=7)
    fig.suptitle(title)
    return save_figure(fig, path)


def robustness_figure(decisions: pd.DataFrame, path: str | Path, title: str) -> Path:
    """Share of perturbed solves that keep each decision (reference choices in green)."""
    d = decisions.iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 1.5 + 0.3 * max(1, len(d))))
    colors = ["tab:green" if x else "tab:gray" for x in d.in_reference]
    ax.barh([_short(str(x), 50) for x in d.decision], d.share_kept.astype(float), color=colors)
    ax.set_xlim(0, 1)
    ax.axvline(1.0, color="black", lw=0.5)
    ax.set_xlabel("share of perturbed solves agreeing with the optimum (green: chosen there)")
    ax.set_title(title)
    ax.tick_params(axis="y", labelsize=7)
    return save_figure(fig, path)
