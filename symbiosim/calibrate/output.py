"""What ``calibrate`` reports: the JSON object, the text summary, the figures and the ``--out`` files."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from symbiosim.calibrate import smc
from symbiosim.report.jsonable import clean, write_json

if TYPE_CHECKING:
    from symbiosim.calibrate.run import Calibration

UNITS = {
    "discovery_rate": "firms discovered per year",
    "transaction_cost_share": "share of the deal's annual value, per side",
    "max_payback_years": "years",
    "hurdle_rate": "per year",
    "bargaining_power": "supplier's share of the joint gain",
    "contract_years": "years",
    "search_radius_km": "km",
    "risk_aversion": "margin per unit of price volatility",
    "transaction_cost": "currency per year and side",
}


def _stats(values: np.ndarray, weights: np.ndarray) -> dict[str, float]:
    return {"mean": float(np.average(values, weights=weights)), "q05": smc.weighted_quantile(values, weights, 0.05),
            "q95": smc.weighted_quantile(values, weights, 0.95)}


def _years(runs: pd.DataFrame) -> list[dict[str, int | None]]:
    return [json.loads(y) for y in runs.loc[runs.status == "ok", "years"]]


def _formation(runs: pd.DataFrame, label: str, until: int | None = None) -> tuple[float | None, float | None]:
    """Median simulated year (runs in which it formed; None if never) and share of ok runs in which it formed
    (by ``until`` for an absent row)."""
    years = _years(runs)
    if not years:
        return None, None
    formed = [int(y[label] or 0) for y in years if y.get(label) is not None]
    counted = [y for y in formed if until is None or y <= until]
    median = float(np.median(formed)) if formed else None
    return median, len(counted) / len(years)


def fit_table(cal: Calibration) -> list[dict[str, Any]]:
    """One entry per informative history row: observed year, simulated median year, share formed
    (posterior predictive runs), and the same under the default rules."""
    predictive = cal.runs[cal.runs.stage == "predictive"]
    default = cal.runs[cal.runs.stage == "default"]
    out = []
    for t in cal.targets.targets:
        until = t.year if t.kind == "absent" else None
        med, share = _formation(predictive, t.label, until)
        dmed, dshare = _formation(default, t.label, until)
        out.append({"exchange": t.label, "kind": t.kind, "observed_year": None if t.kind == "absent" else t.year,
                    "until": until, "simulated_median_year": med, "share_formed": share,
                    "default_median_year": dmed, "default_share_formed": dshare})
    return out


def _mean(values: pd.Series) -> float | None:
    finite = values[np.isfinite(values.astype(float))]
    return float(finite.mean()) if len(finite) else None


def new_exchange_shares(runs: pd.DataFrame) -> dict[str, float]:
    ok = runs[runs.status == "ok"]
    counts: dict[str, int] = {}
    for new in ok["new"]:
        for k in json.loads(new):
            counts[k] = counts.get(k, 0) + 1
    return {k: counts[k] / len(ok) for k in sorted(counts, key=lambda k: (-counts[k], k))} if len(ok) else {}


def calibration_json(cal: Calibration) -> dict[str, Any]:
    post = cal.posterior
    vals = smc.values(cal.priors, post.theta)
    parameters = {}
    for j, p in enumerate(cal.priors):
        parameters[p.rule] = {**_stats(vals[:, j], post.weights), "default": cal.defaults[p.rule], "prior": p.to_json(),
                              "unit": UNITS.get(p.rule, "")}
    runs = cal.runs
    predictive = runs[runs.stage == "predictive"]
    return clean({
        "accepted": len(post.weights),
        "parameters": parameters,
        "distance": {"default": _mean(runs[runs.stage == "default"].distance), "calibrated": float(post.distances.mean()),
                     "posterior_predictive": _mean(predictive.distance)},
        "fit": fit_table(cal),
        "new_exchanges": {"default": new_exchange_shares(runs[runs.stage == "default"]),
                          "posterior_predictive": new_exchange_shares(predictive)},
        "generations": cal.generations,
        "runs": {"total": len(runs), "failed": int((runs.status != "ok").sum()), "default": cal.budget.default,
                 "per_generation": cal.budget.per_generation, "generations": cal.budget.generations,
                 "predictive": cal.budget.predictive},
        "targets": cal.targets.to_json(),
        "seed": cal.seed,
        "seconds": cal.seconds,
        "errors": sorted(set(runs.loc[runs.status != "ok", "error"]))[:5],
    })


def _num(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{x:.0f}"


def _year(x: float | None) -> str:
    """A (median) calendar year: plain, .5 kept for a median between two years."""
    return "-" if x is None else (f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}")


def calibration_summary(cal: Calibration, obj: dict[str, Any] | None = None) -> str:
    obj = obj or calibration_json(cal)
    r = obj["runs"]
    lines = [f"calibrate {cal.scenario.settings.name}: {r['total']} simulator runs ({r['failed']} failed) in "
             f"{_num(cal.seconds, 1)} s: {r['default']} with the default rules, {r['generations']} ABC-SMC generations of "
             f"{r['per_generation']}, {r['predictive']} from the posterior",
             f"accepted particles (posterior): {obj['accepted']}", "",
             f"{'rule':<24}{'default':>10}{'mean':>10}{'5 %':>10}{'95 %':>10}  prior (unit)"]
    for rule, p in obj["parameters"].items():
        prior = p["prior"]
        lines.append(f"{rule:<24}{_num(p['default']):>10}{_num(p['mean']):>10}{_num(p['q05']):>10}{_num(p['q95']):>10}  "
                     f"{prior['distribution']} {_num(prior['low'])}-{_num(prior['high'])} ({p['unit'] or '-'})")
    d = obj["distance"]
    lines += ["", f"distance (0 = the history reproduced): default rules {_num(d['default'])}, accepted population "
              f"{_num(d['calibrated'])}, runs from the posterior {_num(d['posterior_predictive'])}", "",
              f"{'exchange':<44}{'observed':>9}{'median':>8}{'formed':>8}{'default':>9}{'formed':>8}"]
    for f in obj["fit"]:
        observed = f"<={f['until']}" if f["kind"] == "absent" else str(f["observed_year"])
        share = "-" if f["share_formed"] is None else f"{100 * f['share_formed']:.0f} %"
        dshare = "-" if f["default_share_formed"] is None else f"{100 * f['default_share_formed']:.0f} %"
        lines.append(f"{f['exchange'][:43]:<44}{observed:>9}{_year(f['simulated_median_year']):>8}{share:>8}"
                     f"{_year(f['default_median_year']):>9}{dshare:>8}")
    skipped = obj["targets"]["skipped"]
    if skipped:
        lines.append(f"skipped (existing links, formed at the start in every run): {', '.join(s['exchange'] for s in skipped)}")
    new = obj["new_exchanges"]["posterior_predictive"]
    if new:
        top = ", ".join(f"{k} {100 * v:.0f} %" for k, v in list(new.items())[:6])
        lines.append(f"formed but not in the history (share of runs from the posterior): {top}")
    if obj["errors"]:
        lines.append(f"failed runs, first errors: {'; '.join(obj['errors'][:3])}")
    return "\n".join(lines)


def write_outputs(cal: Calibration, out: Path, obj: dict[str, Any] | None = None) -> list[Path]:
    """``particles.csv`` (the posterior), ``runs.csv`` (every run), ``calibrate.json``, ``timeline.png``, ``posterior.png``."""
    from symbiosim.calibrate.figures import posterior_figure, timeline_figure

    out.mkdir(parents=True, exist_ok=True)
    obj = obj or calibration_json(cal)
    written = []
    cal.particles().to_csv(out / "particles.csv", index=False)
    written.append(out / "particles.csv")
    cal.runs.to_csv(out / "runs.csv", index=False)
    written.append(out / "runs.csv")
    written.append(write_json(out / "calibrate.json", obj))
    written.append(timeline_figure(cal, out / "timeline.png"))
    written.append(posterior_figure(cal, out / "posterior.png"))
    return written
