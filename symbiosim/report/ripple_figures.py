"""Figure of the ripple effects: each outcome's value added and jobs, split into
direct, indirect and induced, nationally and (with regional totals) regionally."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import symbiosim.report.style as style  # noqa: E402
from symbiosim.report.figures import save_figure as _save  # noqa: E402

PARTS = {"direct": "#0072B2", "indirect": "#E69F00", "induced": "#009E73"}  # Okabe-Ito, as the other figures
LABELS = {"baseline": "stand-alone", "decentralised": "decentralised", "optimum": "coordinated"}


def _value(totals: Mapping[str, float], key: str) -> float:
    v = float(totals.get(key, math.nan))
    return v if math.isfinite(v) else 0.0


def ripple_figure(totals: Mapping[str, Mapping[str, float]], path: str | Path, currency: str = "NOK", *,
                  regional: bool = False) -> Path:
    """Stacked bars per outcome (``totals``: outcome -> ``Effects.totals``): direct, indirect and induced
    value added (NPV) and jobs (mean per year); one bar per outcome and scope (national; regional too when
    ``regional``)."""
    scopes = ["national", "regional"] if regional else ["national"]
    bars = [(o, s) for o in totals for s in scopes]
    labels = [f"{LABELS.get(o, o)}\n{s}" if regional else LABELS.get(o, o) for o, s in bars]
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 4.8), squeeze=False)
    for ax, (name, what) in zip(axes[0], (("value_added", "value added, NPV"), ("jobs", "jobs, mean per year")),
                                strict=True):
        bottom = np.zeros(len(bars))
        allv: list[float] = []
        for part, colour in PARTS.items():
            v = np.array([_value(totals[o], f"{name}_direct" if part == "direct" else f"{name}_{part}_{s}")
                          for o, s in bars])
            ax.bar(range(len(bars)), v, bottom=bottom, color=colour, edgecolor="black", linewidth=0.5, label=part)
            bottom = bottom + v
            allv += list(bottom)
        ax.set_xticks(range(len(bars)), labels, fontsize=8, rotation=30 if len(bars) > 3 else 0, ha="right" if len(bars) > 3 else "center")
        if name == "value_added":
            style.money_axis(ax, currency, what, values=[*allv, 0.0])
        else:
            style.quantity_axis(ax, what, "jobs/yr")
        style.fit_title(ax, what, fontsize=10, share=0.5)
    names = {"direct": "direct (the actors' own)", "indirect": "indirect", "induced": "induced"}
    fig.legend(handles=style.patch_handles({names[p]: c for p, c in PARTS.items()}),
               loc="lower center", ncol=3, fontsize=8, frameon=False)
    style.fit_suptitle(fig, "ripple effects of each outcome: direct, indirect (purchases, round after round) "
                            "and induced (households spending the wages)", fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 0.93))
    return _save(fig, path, layout=False)
