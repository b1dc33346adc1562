"""The two figures of ``calibrate --out``: formation timelines and posterior marginals (via ``save_figure``)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

import symbiosim.report.style as style
from symbiosim.calibrate import smc
from symbiosim.calibrate.output import UNITS, fit_table
from symbiosim.report.figures import save_figure

if TYPE_CHECKING:
    from symbiosim.calibrate.run import Calibration

POSTERIOR, DEFAULT, OBSERVED = "tab:blue", "tab:gray", "black"


def _formed(cal: Calibration, stage: str, label: str) -> list[int]:
    runs = cal.runs[(cal.runs.stage == stage) & (cal.runs.status == "ok")]
    return [y[label] for y in (json.loads(s) for s in runs["years"]) if y.get(label) is not None]


def timeline_figure(cal: Calibration, path: str | Path) -> Path:
    """Per history row: the observed year (black diamond; a bar for an ``absent`` row's ``until``), the
    simulated first years from the posterior (blue) and with the default rules (grey), and the share of runs
    in which the exchange formed."""
    targets = cal.targets.targets
    fit = fit_table(cal)
    start = cal.scenario.settings.start_year
    last = start + cal.scenario.settings.years - 1
    n = max(1, len(targets))
    fig, ax = plt.subplots(figsize=(10, 1.6 + 0.9 * n))
    rng = np.random.default_rng(0)  # jitter only
    for i, (t, f) in enumerate(zip(targets, fit, strict=True)):
        y = n - 1 - i
        for stage, colour, offset in (("predictive", POSTERIOR, 0.15), ("default", DEFAULT, -0.2)):
            years = np.array(_formed(cal, stage, t.label), dtype=float)
            if len(years):
                ax.scatter(years + rng.uniform(-0.25, 0.25, len(years)), y + offset + rng.uniform(-0.08, 0.08, len(years)),
                           s=10, color=colour, alpha=0.35, linewidths=0)
                ax.plot([np.median(years)] * 2, [y + offset - 0.12, y + offset + 0.12], color=colour, lw=2.5)
        if t.kind == "absent":
            ax.plot([t.year + 0.5] * 2, [y - 0.35, y + 0.35], color="tab:red", lw=2)
        else:
            ax.scatter([t.year], [y], marker="D", s=60, color=OBSERVED, zorder=5)
        share = "-" if f["share_formed"] is None else f"{100 * f['share_formed']:.0f} %"
        dshare = "-" if f["default_share_formed"] is None else f"{100 * f['default_share_formed']:.0f} %"
        ax.text(1.01, y, f"formed in {share} of runs\n(default rules: {dshare})", transform=ax.get_yaxis_transform(),
                va="center", fontsize=8)
    ax.set_yticks(range(n))
    ax.set_yticklabels([t.label for t in reversed(targets)] or [""], fontsize=9)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlim(min([start] + [t.year for t in targets]) - 1, last + 1)
    ax.set_xlabel("calendar year of the first flow")
    ax.grid(axis="x", alpha=0.3)
    handles = [
        plt.Line2D([], [], marker="D", color=OBSERVED, ls="", label="observed year"),
        plt.Line2D([], [], marker="o", color=POSTERIOR, ls="", alpha=0.6, label="simulated, rules drawn from the posterior (bar: median)"),
        plt.Line2D([], [], marker="o", color=DEFAULT, ls="", alpha=0.6, label="simulated, default rules (bar: median)"),
    ]
    if any(t.kind == "absent" for t in targets):
        handles.append(plt.Line2D([], [], color="tab:red", lw=2, label="absent until (end of year)"))
    axes_inches = 0.9 * n + 0.4
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.55 / axes_inches), ncol=2, fontsize=8, frameon=False)
    style.fit_title(ax, f"{cal.scenario.settings.name}: observed and simulated formation years ({cal.budget.predictive} runs "
                    f"from the posterior, {cal.budget.default} with default rules)", fontsize=10, share=0.8)
    return save_figure(fig, path)


def posterior_figure(cal: Calibration, path: str | Path) -> Path:
    """Per rule: the posterior (weighted histogram of the accepted particles) over its prior, the 90 %
    interval (shaded) and the default value (dashed)."""
    post = cal.posterior
    vals = smc.values(cal.priors, post.theta)
    k = len(cal.priors)
    cols = min(3, k)
    rows = math.ceil(k / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(max(6.5, 4.3 * cols), 0.6 + 3.2 * rows), squeeze=False)
    for j, p in enumerate(cal.priors):
        ax = axes[j // cols][j % cols]
        x, w = vals[:, j], post.weights / post.weights.sum()
        log = p.distribution == "loguniform"
        if p.distribution == "integer":
            edges = np.arange(p.low - 0.5, p.high + 1.5)
        elif log:
            edges = np.geomspace(p.low, p.high, 21)
        else:
            edges = np.linspace(p.low, p.high, 21)
        # densities per unit of the axis (of ln x on a log axis), so a flat prior is a flat line
        scale = np.diff(np.log(edges)) if log else np.diff(edges)
        mass = np.histogram(np.clip(x, edges[0], edges[-1]), bins=edges, weights=w)[0]
        ax.stairs(mass / scale, edges, fill=True, color="tab:blue", alpha=0.6, label="posterior")
        prior_density = 1.0 / (float(np.log(edges[-1] / edges[0])) if log else float(edges[-1] - edges[0]))
        ax.plot([edges[0], edges[-1]], [prior_density] * 2, color="black", lw=1.2, label="prior")
        if log:
            ax.set_xscale("log")
        q05, q95 = smc.weighted_quantile(x, w, 0.05), smc.weighted_quantile(x, w, 0.95)
        ax.axvspan(q05, q95, color="tab:blue", alpha=0.12, label="90 % interval")
        default = cal.defaults.get(p.rule, math.nan)
        if math.isfinite(default):
            ax.axvline(default, color="tab:red", ls="--", lw=1.2, label="default")
        unit = UNITS.get(p.rule, "").replace("currency", cal.scenario.settings.currency)
        if not log:
            ax.xaxis.set_major_formatter(style.PlainFormatter())  # no 1e3 offset
        ax.yaxis.set_major_formatter(style.PlainFormatter())
        style.fit_title(ax, p.rule, fontsize=10, share=1 / cols)
        ax.set_xlabel(f"{unit} (log scale)" if log and unit else unit, fontsize=8)
        ax.set_ylabel("density per unit of ln(x)" if log else "density", fontsize=8)
        ax.tick_params(labelsize=8)
        if j == 0:
            ax.legend(fontsize=7, loc="upper right", framealpha=0.8)
    for j in range(k, rows * cols):
        axes[j // cols][j % cols].axis("off")
    style.fit_suptitle(fig, f"{cal.scenario.settings.name}: posterior of the behaviour rules\n({len(post.weights)} accepted particles, "
                       "weighted; black line: the prior)", fontsize=10)
    return save_figure(fig, path)
