"""Figures of the comparison: the gap by key figure, winners and losers, the
decomposition, and public cost against the share of the potential."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from symbiosim.report.figures import save_figure as _save  # noqa: E402

HEADLINE = ("cluster_npv", "value_added", "jobs", "emissions")


def gap_figure(kpis: pd.DataFrame, path: str | Path) -> Path:
    """Baseline, decentralised and optimum per headline key figure (relative to the baseline)."""
    rows = [k for k in HEADLINE if k in kpis.index]
    fig, axes = plt.subplots(1, len(rows), figsize=(3.2 * len(rows), 3.6))
    for ax, key in zip(np.atleast_1d(axes), rows, strict=True):
        base = kpis.loc[key, "baseline"]
        values = [0.0, kpis.loc[key, "decentralised"] - base, kpis.loc[key, "optimum"] - base]
        ax.bar(["baseline", "decentr.", "optimum"], values, color=["#999999", "#e69f00", "#0072b2"])
        ax.set_title(f"{key}\n(change from baseline)", fontsize=9)
        ax.axhline(0, color="black", lw=0.8)
    return _save(fig, path)


def actors_figure(actors: pd.DataFrame, rules: list[str], path: str | Path) -> Path:
    """Profit change against stand-alone per actor: decentralised, coordinated without and with transfers."""
    columns = ["decentralised_profit", "coordinated_profit", *[f"coordinated_profit_{r}" for r in rules]]
    labels = ["decentralised", "coordinated, no transfers", *[f"coordinated, {r}" for r in rules]]
    x = np.arange(len(actors))
    width = 0.8 / len(columns)
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(actors) + 3), 4.5))
    for i, (column, label) in enumerate(zip(columns, labels, strict=True)):
        ax.bar(x + i * width, actors[column] - actors.baseline_profit, width, label=label)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x + 0.4 - width / 2, actors.actor, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("profit - stand-alone profit (NPV)")
    ax.set_title("winners and losers per actor")
    ax.legend(fontsize=7)
    return _save(fig, path)


def decomposition_figure(table: pd.DataFrame, path: str | Path) -> Path:
    """Gap closed by each friction (Shapley over removals), the residual, and the whole gap."""
    rows = table[table.friction != "all frictions"]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.barh(rows.friction, rows.closed_shapley, color=["#0072b2"] * (len(rows) - 1) + ["#999999"])
    ax.set_xlabel("gap closed (NPV, Shapley over friction removals)")
    ax.set_title(f"why the gap exists (gap = {table.attrs.get('gap', float('nan')):,.0f})")
    ax.invert_yaxis()
    return _save(fig, path)


def cost_figure(tried: pd.DataFrame, path: str | Path) -> Path:
    """Public cost against the share of the potential realised, one point per level tried."""
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.errorbar(tried.share_of_potential, tried.public_cost, xerr=tried.share_sd, fmt="o")
    for row in tried.itertuples():
        ax.annotate(f"{row.level:,.3g}", (row.share_of_potential, row.public_cost), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("share of the potential realised")
    ax.set_ylabel("net public cost (NPV)")
    ax.set_title(f"{tried.instrument.iloc[0]}: public cost against share of the potential")
    return _save(fig, path)
