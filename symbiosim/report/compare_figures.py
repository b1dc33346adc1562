"""Figures of the comparison: the gap by key figure, winners and losers, the
decomposition, and public cost against the share of the potential."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import symbiosim.report.style as style  # noqa: E402
from symbiosim.report.figures import save_figure as _save  # noqa: E402

HEADLINE = ("cluster_npv", "value_added", "jobs", "emissions")
# what each headline key figure is, and its unit (money: the scenario's currency, scaled on the axis)
KEY_FIGURES: dict[str, tuple[str, str | None]] = {
    "cluster_npv": ("cluster profit, NPV", None),
    "value_added": ("value added, discounted", None),
    "jobs": ("jobs, mean per year", "FTE"),
    "emissions": ("emissions over the horizon", "t CO2e"),
}
# the level of each instrument: its unit ("money" stands for the scenario's currency)
LEVEL_UNITS = {"exchange_subsidy": "money/unit", "disposal_tax": "money/unit", "virgin_tax": "money/unit",
               "carbon_price": "money/t CO2e", "investment_subsidy": "share of costs", "facilitator": "on/off"}


def gap_figure(kpis: pd.DataFrame, path: str | Path, currency: str = "NOK") -> Path:
    """Decentralised outcome and optimum per headline key figure, as changes from the stand-alone
    baseline (the zero line, its level in the panel title)."""
    rows = [k for k in HEADLINE if k in kpis.index]
    fig, axes = plt.subplots(1, len(rows), figsize=(3.4 * len(rows), 4.0), squeeze=False)
    names = ["decentralised", "optimum"]
    for ax, key in zip(axes[0], rows, strict=True):
        base = float(kpis.loc[key, "baseline"])
        values = style.snap([float(kpis.loc[key, n]) - base for n in names])
        ax.bar(["decentralised", "optimum"], values, color=[style.OUTCOME_COLOURS[n] for n in names], edgecolor="black")
        ax.axhline(0, color="black", lw=0.8)
        for i, v in enumerate(values):
            if v == 0:
                ax.text(i, 0, "no change", ha="center", va="bottom", fontsize=8, color="#555555")
        what, unit = KEY_FIGURES.get(key, (key, ""))
        if unit is None:
            scale = style.money_scale([base])
            level = f"{style.plain(base / style.SCALES[scale])} {scale} {currency}".replace("  ", " ")
            style.money_axis(ax, currency, "change from baseline", values=[*values, 0.0])
        else:
            level = f"{style.plain(base)} {unit}"
            style.quantity_axis(ax, "change from baseline", unit)
        top = max(abs(v) for v in values) or 1.0
        ax.set_ylim(min(0.0, *values) - 0.15 * top, max(0.0, *values) + 0.15 * top)
        style.fit_title(ax, f"{what}\n(baseline {level})", fontsize=9, share=1 / len(rows))
    fig.legend(handles=style.patch_handles({"decentralised (agents)": style.OUTCOME_COLOURS["decentralised"],
                                            "coordinated optimum": style.OUTCOME_COLOURS["optimum"]}),
               loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return _save(fig, path, layout=False)


def actors_figure(actors: pd.DataFrame, rules: list[str], path: str | Path, currency: str = "NOK") -> Path:
    """Profit change against stand-alone per actor: decentralised, coordinated without and with transfers."""
    columns = ["decentralised_profit", "coordinated_profit", *[f"coordinated_profit_{r}" for r in rules]]
    labels = ["decentralised", "coordinated, no transfers", *[f"coordinated, {r}" for r in rules]]
    x = np.arange(len(actors))
    width = 0.8 / len(columns)
    fig, ax = plt.subplots(figsize=(max(7, 0.9 * len(actors) + 5), 4.8))
    colours = ["#E69F00", "#0072B2", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999933", "#000000", "#882255"]
    allv: list[float] = []
    for i, (column, label) in enumerate(zip(columns, labels, strict=True)):
        v = style.snap(actors[column] - actors.baseline_profit)
        allv += v
        ax.bar(x + i * width, v, width, label=label, color=colours[i % len(colours)])
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x + 0.4 - width / 2, style.unique_labels([str(a) for a in actors.actor], 24), rotation=45, ha="right", fontsize=8)
    style.money_axis(ax, currency, "profit minus stand-alone profit, NPV", values=allv)
    style.fit_title(ax, "winners and losers per actor (above 0: better off than stand-alone)")
    style.legend_outside(ax, ax.get_legend_handles_labels()[0], title="outcome")
    return _save(fig, path)


def decomposition_figure(table: pd.DataFrame, path: str | Path, currency: str = "NOK") -> Path:
    """Gap closed by each friction (Shapley over removals), the residual, and the whole gap."""
    rows = table[table.friction != "all frictions"]
    fig, ax = plt.subplots(figsize=(8, 0.8 + 0.45 * max(3, len(rows))))
    values = style.snap(rows.closed_shapley.astype(float))
    ax.barh(style.unique_labels([str(f) for f in rows.friction], 40), values,
            color=["#0072B2"] * (len(rows) - 1) + ["#999999"])
    ax.axvline(0, color="black", lw=0.8)
    style.money_axis(ax, currency, "gap closed by removing the friction (Shapley), NPV", axis="x", values=[*values, 0.0])
    gap = float(table.attrs.get("gap", float("nan")))
    scale = style.money_scale([gap]) if gap == gap else ""
    gap_text = f"{style.plain(gap / style.SCALES[scale], 1 if scale else 0)} {scale} {currency}".replace("  ", " ")
    style.fit_title(ax, f"why the gap exists (gap = {gap_text}; grey: residual)")
    ax.invert_yaxis()
    return _save(fig, path)


def cost_figure(tried: pd.DataFrame, path: str | Path, currency: str = "NOK") -> Path:
    """Public cost against the share of the potential realised, one point per level tried
    (labelled with the level; noise below 1e-9 shown as 0)."""
    fig, ax = plt.subplots(figsize=(8, 5))
    share = style.snap(tried.share_of_potential.astype(float))
    cost = style.snap(tried.public_cost.astype(float))
    sd = [0.0 if v != v else v for v in style.snap(tried.share_sd.astype(float))]
    ax.errorbar(share, cost, xerr=sd, fmt="o", color="#0072B2", ecolor="#0072B2", elinewidth=0.8, capsize=2, alpha=0.85,
                label="mean over seeds (bar: ±1 s.d. of the share)")
    instrument = str(tried.instrument.iloc[0]) if len(tried) else ""
    unit = LEVEL_UNITS.get(instrument, "").replace("money", currency)
    # label only as many levels as fit: points near a labelled one (12 % across, 3.5 % up) stay unlabelled
    span_x = max(1.0, max(share, default=1.0) - min(0.0, *share)) if share else 1.0
    span_y = max(1e-12, max(cost, default=1.0) - min(0.0, *cost)) if cost else 1.0
    placed: list[tuple[float, float]] = []
    for level, xi, yi in sorted(zip(tried.level.astype(float), share, cost, strict=True), key=lambda t: t[0]):
        if any(abs(xi - px) / span_x < 0.12 and abs(yi - py) / span_y < 0.035 for px, py in placed):
            continue
        placed.append((xi, yi))
        ax.annotate(style.plain(level, 0 if abs(level) >= 100 else 2), (xi, yi), fontsize=7, xytext=(4, 4),
                    textcoords="offset points")
    style.share_axis(ax, values=[*share, *[a - b for a, b in zip(share, sd, strict=True)], *[a + b for a, b in zip(share, sd, strict=True)]])
    style.money_axis(ax, currency, "net public cost, NPV", values=[*cost, 0.0])
    ax.axvline(0, color="grey", lw=0.6)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8, framealpha=0.9)
    style.fit_title(ax, f"{instrument}: public cost against share of the potential (labels: level, {unit})")
    return _save(fig, path)
