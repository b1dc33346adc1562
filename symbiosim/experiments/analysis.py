"""Summaries of an experiment database (``symbiosim summarize DB``).

* **Per arm**: mean and 5/50/95 % quantiles of the share of the potential
  realised, the gap, public cost and emissions, each mean with a bootstrap
  95 % confidence interval; P(no actor below its stand-alone profit).
  Replications of one sample are averaged first and the bootstrap resamples
  *samples* (a cluster bootstrap: replications of a sample share its inputs).
  Intervals are percentile intervals of 1,000 bootstrap means
  (``scipy.stats.bootstrap``) drawn with the fixed seed ``BOOTSTRAP_SEED``, so ``symbiosim experiment`` (at its end) and
  ``symbiosim summarize`` print the same numbers for the same database
  (``experiment_summary``; the experiment's own seed does not enter).
* **Paired differences**: every arm minus the reference arm (``none`` if
  present, else the first), per sample and replication with the same seeds,
  averaged per sample, mean with a bootstrap interval.
* **Sensitivity** of the gap to the uncertain inputs, per arm on the
  per-sample mean gap. An experiment drawn with ``--method sobol``
  (Saltelli's design) gets Sobol first-order and total indices with
  bootstrap intervals (``SALib.analyze.sobol``; S1: share of the gap's
  variance explained by an input alone, ST: including its interactions); it
  needs every sample of the design, so with failed samples it falls back to
  the next. MC and LHS experiments get first-order indices by RBD-FAST
  (Tarantola et al. 2006; ``SALib.analyze.rbd_fast``), which works on any
  given sample, with bootstrap intervals; needs at least 20 samples
  (harmonics M = min(10, (N - 1) // 5)). Morris needs its own trajectories
  and is not offered; SALib's delta measure also works on given samples but
  took ~8 s per 1,000 samples and input here. ``sample_advice`` states how many
  samples the method needs and warns (summary text and ``sensitivity.png``)
  when there are fewer or an index's 95 % half-width exceeds ``MAX_HALF_WIDTH``.
* **When a policy fails**: a run fails when its share of the potential is
  below ``target`` (default 0.8) or an actor is below stand-alone. PRIM
  (Friedman & Fisher 1999) peels 5 % of the samples off one side of one
  input at a time, keeping the peel that most raises the failure rate in
  the box, until the box holds less than 10 % of the samples; the box with
  the best density at a support of at least 10 % is reported with its
  density (failure rate inside), coverage (share of all failures inside) and
  support. Only inputs the box restricts are listed.
* **Figures** (``--out DIR``): ``distributions.png`` (share of potential per
  arm), ``paired_differences.png``, ``sensitivity.png``,
  ``cost_vs_share.png`` (public cost against share with 95 % intervals).
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from symbiosim.report.jsonable import clean
from symbiosim.store import ResultsStore

METRICS = ("share_of_potential", "gap", "public_cost", "emissions")
N_BOOT = 1000
BOOTSTRAP_SEED = 0  # every bootstrap interval of a database, whoever prints it
# When sensitivity indices can be trusted (reported with them, drawn on sensitivity.png):
# RBD-FAST wants several hundred samples (SALib's own example uses 1,000); Saltelli's design for
# Sobol first-order and total indices takes N * (D + 2) runs (N * (2D + 2) with second-order
# indices, SALib.sample.sobol) with N, a power of 2, in the hundreds to thousands; and every
# index's 95 % bootstrap half-width should be at most MAX_HALF_WIDTH.
MIN_SAMPLES_RBD_FAST = 500
MIN_BASE_SOBOL = 512
MAX_HALF_WIDTH = 0.1


class NotAnExperiment(ValueError):
    """A DuckDB file without an experiment's manifest and design."""


def load(db: str | Path) -> tuple[dict[str, Any], pd.DataFrame, list[str]]:
    """(manifest, runs joined with the design sorted by run_id, input columns).

    Raises:
        NotAnExperiment: ``db`` is a DuckDB file but not an experiment's (no manifest or design).
        symbiosim.store.StoreError: ``db`` cannot be opened.
    """
    with ResultsStore(db, read_only=True) as store:
        missing = [t for t in ("manifest", "design") if not store.has(t)]
        if missing:
            raise NotAnExperiment(f"{db} is not an experiment database (no {' or '.join(missing)} table)")
        manifest_rows = store.read("manifest")
        if manifest_rows.empty:
            raise NotAnExperiment(f"{db} is not an experiment database (an empty manifest)")
        manifest = manifest_rows.iloc[0].to_dict()
        design = store.read("design")
        runs = store.read("runs") if store.has("runs") else pd.DataFrame(columns=["run_id", "status"])
    frame = design.merge(runs, on="run_id", how="left").sort_values("run_id").reset_index(drop=True)
    inputs = [c for c in design.columns if c.startswith("in_")]
    return manifest, frame, inputs


def _mean_ci(values: np.ndarray, rng: np.random.Generator, n_boot: int = N_BOOT) -> tuple[float, float, float]:
    """Mean of the finite ``values`` and its 95 % percentile bootstrap interval (``scipy.stats.bootstrap``,
    ``n_boot`` resamples drawn from ``rng``); no interval for fewer than two values."""
    from scipy.stats import bootstrap

    v = values[np.isfinite(values)]
    if len(v) == 0:
        return math.nan, math.nan, math.nan
    if len(v) == 1:
        return float(v[0]), math.nan, math.nan
    draw = {"rng" if "rng" in inspect.signature(bootstrap).parameters else "random_state": rng}  # rng from SciPy 1.15
    ci = bootstrap((v,), np.mean, n_resamples=n_boot, confidence_level=0.95, method="percentile", **draw).confidence_interval
    return float(v.mean()), float(ci.low), float(ci.high)


def per_sample(frame: pd.DataFrame, arm: str) -> pd.DataFrame:
    """Finished runs of one arm averaged over replications, one row per sample."""
    ok = frame[(frame.arm == arm) & (frame.status == "ok")].copy()
    ok["no_actor_below"] = (ok.actors_below_standalone == 0).astype(float)
    cols = [*METRICS, "no_actor_below"]
    return ok.groupby("sample_id")[cols].mean()


def finished(frame: pd.DataFrame) -> pd.DataFrame:
    """Runs that have a ``runs`` row (ok or failed)."""
    return frame[frame.status.notna()]


def experiment_summary(db: str | Path) -> dict[str, dict[str, Any]]:
    """Per-arm statistics of ``db`` exactly as ``summarize`` gives them (``result["arms"]``)."""
    _, frame, _ = load(db)
    return clean(arm_summary(finished(frame), BOOTSTRAP_SEED))


def arm_summary(frame: pd.DataFrame, seed: int = BOOTSTRAP_SEED) -> dict[str, dict[str, Any]]:
    rng = np.random.default_rng(seed)
    out: dict[str, dict[str, Any]] = {}
    for arm in dict.fromkeys(frame.arm):
        rows = frame[frame.arm == arm]
        ps = per_sample(frame, arm)
        entry: dict[str, Any] = {
            "runs": len(rows),
            "ok": int((rows.status == "ok").sum()),
            "failed": int((rows.status == "failed").sum()),
            "no_baseline": int((rows.status == "no_baseline").sum()),  # share undefined: the baseline has no plan
        }
        ok = rows[rows.status == "ok"]
        for metric in METRICS:
            mean, lo, hi = _mean_ci(ps[metric].to_numpy(float), rng)
            vals = ok[metric].to_numpy(float)
            vals = vals[np.isfinite(vals)]
            q = np.quantile(vals, [0.05, 0.5, 0.95]) if len(vals) else [math.nan] * 3
            entry[metric] = {"mean": mean, "ci_low": lo, "ci_high": hi, "q05": q[0], "q50": q[1], "q95": q[2]}
        mean, lo, hi = _mean_ci(ps["no_actor_below"].to_numpy(float), rng)
        entry["p_no_actor_below_standalone"] = {"mean": mean, "ci_low": lo, "ci_high": hi}
        out[str(arm)] = entry
    return out


def reference_arm(arms: list[str]) -> str:
    return "none" if "none" in arms else arms[0]


def paired_differences(frame: pd.DataFrame, seed: int = BOOTSTRAP_SEED) -> dict[str, Any]:
    rng = np.random.default_rng(seed + 1)
    arms = list(dict.fromkeys(frame.arm))
    ref = reference_arm(arms)
    ok = frame[frame.status == "ok"]
    base = ok[ok.arm == ref].set_index(["sample_id", "replication"])
    out: dict[str, Any] = {"reference": ref, "arms": {}}
    for arm in arms:
        if arm == ref:
            continue
        mine = ok[ok.arm == arm].set_index(["sample_id", "replication"])
        both = mine[list(METRICS)].merge(base[list(METRICS)], left_index=True, right_index=True, suffixes=("", "_ref"))
        entry: dict[str, Any] = {"pairs": len(both)}
        for metric in METRICS:
            diff = (both[metric] - both[f"{metric}_ref"]).groupby(level="sample_id").mean()
            mean, lo, hi = _mean_ci(diff.to_numpy(float), rng)
            entry[metric] = {"mean": mean, "ci_low": lo, "ci_high": hi}
        out["arms"][str(arm)] = entry
    return out


def sobol_indices(y: np.ndarray, inputs: list[str], seed: int = 0) -> dict[str, Any]:
    """Sobol S1 and ST (with 95 % bootstrap half-widths) of outputs ``y`` in the order of a Saltelli design."""
    from SALib.analyze import sobol

    problem = {"num_vars": len(inputs), "names": inputs, "bounds": [[0.0, 1.0]] * len(inputs)}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        res = sobol.analyze(problem, y, calc_second_order=False, num_resamples=100, seed=seed, print_to_console=False)
    return {
        name: {k: float(res[k][i]) for k in ("S1", "S1_conf", "ST", "ST_conf")} for i, name in enumerate(inputs)
    }


def sensitivity(frame: pd.DataFrame, inputs: list[str], output: str = "gap", seed: int = 0, method: str = "lhs") -> dict[str, Any]:
    """Sensitivity indices of ``output`` per arm (Sobol for a Saltelli design, else RBD-FAST; SALib)."""
    from SALib.analyze import rbd_fast

    sobol = method == "sobol"
    label = "SALib Sobol first-order (S1) and total (ST) indices" if sobol else "SALib RBD-FAST first-order indices (S1) on the given sample"
    out: dict[str, Any] = {"method": label, "output": output, "arms": {}}
    for arm in dict.fromkeys(frame.arm):
        ok = frame[(frame.arm == arm) & (frame.status == "ok")]
        ps = ok.groupby("sample_id").agg({output: "mean", **{c: "first" for c in inputs}}).dropna()
        x, y = ps[inputs].to_numpy(float), ps[output].to_numpy(float)
        designed = int(frame[frame.arm == arm].sample_id.nunique())
        if sobol and inputs and len(y) == designed and len(y) % (len(inputs) + 2) == 0:
            out["arms"][str(arm)] = sobol_indices(y, inputs, seed)
            continue
        if sobol:
            out["arms"][str(arm)] = {"note": f"Sobol needs all {designed} samples of the design, {len(y)} finished: RBD-FAST instead"}
        if not inputs or len(y) < 20 or np.ptp(y) <= 1e-9 * max(1.0, float(np.abs(y).max())):
            out["arms"][str(arm)] = {"skipped": f"{len(y)} samples, output range {float(np.ptp(y)) if len(y) else 0:.3g} (needs >= 20 samples and a varying output)"}
            continue
        note = out["arms"].pop(str(arm), {}).get("note")
        bounds = [[float(lo), float(hi) if hi > lo else float(lo) + 1e-12] for lo, hi in zip(x.min(axis=0), x.max(axis=0), strict=True)]
        problem = {"num_vars": len(inputs), "names": inputs, "bounds": bounds}
        harmonics = max(1, min(10, (len(y) - 1) // 5))  # RBD-FAST needs 2M < N/2 (its bootstrap halves N)
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                res = rbd_fast.analyze(problem, x, y, M=harmonics, num_resamples=100, seed=seed, print_to_console=False)
        except Exception as exc:  # SALib refuses degenerate samples
            out["arms"][str(arm)] = {"skipped": f"SALib: {exc}"}
            continue
        out["arms"][str(arm)] = {
            name: {"S1": float(res["S1"][i]), "S1_conf": float(res["S1_conf"][i])} for i, name in enumerate(inputs)
        }
        if note:
            out.setdefault("notes", {})[str(arm)] = note
    samples = {str(a): int(frame[(frame.arm == a) & (frame.status == "ok")].sample_id.nunique()) for a in dict.fromkeys(frame.arm)}
    out.update(sample_advice(sobol, samples, len(inputs), out["arms"]))
    return out


def sample_advice(sobol: bool, samples: dict[str, int], n_inputs: int, arms: dict[str, Any]) -> dict[str, Any]:
    """How many samples the method needs, and a warning when the indices cannot be trusted: too
    few samples, or 95 % intervals wider than +-MAX_HALF_WIDTH."""
    d = max(1, n_inputs)
    if sobol:
        needs = (f"Sobol (Saltelli's design) needs N * (D + 2) = {MIN_BASE_SOBOL} * {d + 2} = {MIN_BASE_SOBOL * (d + 2):,} samples "
                 f"for D = {d} inputs with N >= {MIN_BASE_SOBOL}, a power of 2 (N * (2D + 2) with second-order indices)")
        enough = MIN_BASE_SOBOL * (d + 2)
    else:
        needs = f"RBD-FAST needs at least {MIN_SAMPLES_RBD_FAST:,} samples (SALib's example uses 1,000)"
        enough = MIN_SAMPLES_RBD_FAST
    n = min(samples.values(), default=0)
    widths = [float(v.get(k) or 0.0) for e in arms.values() if "skipped" not in e
              for v in e.values() if isinstance(v, dict) for k in ("S1_conf", "ST_conf") if k in v]
    widest = max(widths, default=math.nan)
    problems = []
    if n < enough:
        problems.append(f"{n:,} samples; {needs}")
    if widths and widest > MAX_HALF_WIDTH:
        problems.append(f"95 % intervals up to +-{widest:.2f} (trusted: +-{MAX_HALF_WIDTH})")
    advice: dict[str, Any] = {"samples": samples, "needs": needs, "trusted": not problems}
    if problems:
        advice["warning"] = "indices not to be trusted: " + "; ".join(problems)
    return advice


def input_labels(manifest: dict[str, Any]) -> dict[str, str]:
    """A readable label per input column, from its target: ``sales[actor=allskog, product=wood_chips].limit``
    -> ``limit of sales (allskog, wood_chips)``."""
    import re

    try:
        specs = json.loads(manifest.get("inputs") or "[]")
    except (TypeError, ValueError):
        return {}
    labels = {}
    for spec in specs if isinstance(specs, list) else []:
        column, target = spec.get("column"), str(spec.get("target", ""))
        m = re.match(r"^(\w+)(?:\[(.*)\])?\.(\w+)$", target)
        if not column or not m:
            continue
        table, where, field = m.groups()
        keys = [kv.split("=", 1) for kv in (where or "").split(",") if "=" in kv]
        shown = [v.strip() if k.strip() in ("actor", "product", "id", "process") else f"{k.strip()} {v.strip()}" for k, v in keys]
        label = field.replace("_", " ") if table == "settings" else f"{field.replace('_', ' ')} of {table}"
        labels[str(column)] = label + (f" ({', '.join(shown)})" if shown else "")
    return labels


def prim_box(x: np.ndarray, fail: np.ndarray, names: list[str], alpha: float = 0.05, min_support: float = 0.1) -> dict[str, Any]:
    """PRIM peeling: the box of inputs with the highest failure rate at support >= min_support."""
    n = len(fail)
    inside = np.ones(n, bool)
    lo, hi = x.min(axis=0).astype(float), x.max(axis=0).astype(float)
    best = (float(fail.mean()), inside.copy(), lo.copy(), hi.copy())
    while inside.sum() / n > min_support:
        candidates = []
        for j in range(x.shape[1]):
            col = x[inside, j]
            for side in ("low", "high"):
                cut = np.quantile(col, alpha if side == "low" else 1 - alpha)
                keep = inside & ((x[:, j] >= cut) if side == "low" else (x[:, j] <= cut))
                if keep.sum() == inside.sum() or keep.sum() / n < min_support:
                    continue
                candidates.append((float(fail[keep].mean()), j, side, cut, keep))
        if not candidates:
            break
        density, j, side, cut, keep = max(candidates, key=lambda c: c[0])
        inside = keep
        if side == "low":
            lo[j] = cut
        else:
            hi[j] = cut
        if density > best[0] + 1e-12:
            best = (density, inside.copy(), lo.copy(), hi.copy())
    density, box, blo, bhi = best
    full_lo, full_hi = x.min(axis=0), x.max(axis=0)
    limits = {
        names[j]: {"low": float(blo[j]), "high": float(bhi[j])}
        for j in range(x.shape[1])
        if blo[j] > full_lo[j] + 1e-12 or bhi[j] < full_hi[j] - 1e-12
    }
    total_fail = fail.sum()
    return {
        "box": limits,
        "density": density,
        "coverage": float(fail[box].sum() / total_fail) if total_fail else math.nan,
        "support": float(box.mean()),
        "failure_rate": float(fail.mean()),
    }


def failure_boxes(frame: pd.DataFrame, inputs: list[str], target: float = 0.8) -> dict[str, Any]:
    out: dict[str, Any] = {"rule": f"share_of_potential < {target} or an actor below stand-alone", "arms": {}}
    for arm in dict.fromkeys(frame.arm):
        ok = frame[(frame.arm == arm) & (frame.status == "ok")]
        share = ok.share_of_potential.to_numpy(float)
        fail = ((~np.isfinite(share)) | (share < target) | (ok.actors_below_standalone.to_numpy(float) > 0)).astype(float)
        if not inputs or len(fail) < 10 or fail.min() == fail.max():
            out["arms"][str(arm)] = {"failure_rate": float(fail.mean()) if len(fail) else None, "box": {}, "note": "no box: too few runs or all runs alike"}
            continue
        out["arms"][str(arm)] = prim_box(ok[inputs].to_numpy(float), fail, inputs)
    return out


def summarize(db: str | Path, *, target: float = 0.8, out: str | Path | None = None, seed: int = BOOTSTRAP_SEED) -> dict[str, Any]:
    """Everything above as one JSON-ready dict; figures when ``out`` is given."""
    manifest, frame, inputs = load(db)
    done = finished(frame)
    result = {
        "experiment": manifest["experiment"],
        "db": str(db),
        "runs": len(frame),
        "finished": len(done),
        "failed": int((frame.status == "failed").sum()),
        "no_baseline": int((frame.status == "no_baseline").sum()),
        "method": manifest["method"],
        "root_seed": int(manifest["root_seed"]),
        "arms": arm_summary(done, seed),
        "paired": paired_differences(done, seed),
        "sensitivity": sensitivity(done, inputs, seed=seed, method=str(manifest["method"])),
        "failure_boxes": failure_boxes(done, inputs, target),
        "currency": _currency(manifest),  # None when the scenario file cannot be read any more
        "labels": input_labels(manifest),  # readable names of the uncertain inputs
    }
    result = clean(result)
    if out is not None:
        d = Path(out)
        d.mkdir(parents=True, exist_ok=True)
        (d / "summary.json").write_text(json.dumps(result, indent=2, allow_nan=False))
        figures(done, result, d, labels=result["labels"], currency=result["currency"])
    return result


def _currency(manifest: dict[str, Any]) -> str | None:
    """The currency of the experiment's scenario (None if the scenario file cannot be read any more)."""
    try:
        from symbiosim.scenario import load_scenario

        return str(load_scenario(str(manifest["scenario"])).settings.currency)
    except Exception:
        return None


def figures(frame: pd.DataFrame, result: dict[str, Any], out: Path, labels: dict[str, str] | None = None,
            currency: str | None = None) -> list[Path]:
    """The four figures of ``summarize --out`` (``labels``: readable input names; ``currency`` of the
    scenario for the money axis)."""
    import matplotlib.pyplot as plt

    import symbiosim.report.style as style
    from symbiosim.report.figures import save_figure  # sets the Agg backend

    written = []
    arms = list(result["arms"])
    ok = frame[frame.status == "ok"]
    labels = labels or {}

    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(arms) + 3), 4.2))
    data = [ok[ok.arm == a].share_of_potential.dropna().to_numpy() for a in arms]
    if any(len(d) for d in data):
        ax.boxplot([d if len(d) else [np.nan] for d in data], tick_labels=style.unique_labels(arms, 18))
    style.share_axis(ax, "share of the potential realised", axis="y", values=[float(v) for d in data for v in d])
    style.fit_title(ax, "Share of the potential per arm (box: quartiles, whiskers: 1.5 IQR)")
    written.append(save_figure(fig, out / "distributions.png"))

    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(arms) + 3), 4.2))
    paired = result["paired"]["arms"]
    names = list(paired)
    means = [paired[a]["share_of_potential"]["mean"] or 0.0 for a in names]
    err = [[max(0.0, (m - (paired[a]["share_of_potential"]["ci_low"] or m))) for a, m in zip(names, means, strict=True)],
           [max(0.0, ((paired[a]["share_of_potential"]["ci_high"] or m) - m)) for a, m in zip(names, means, strict=True)]]
    ax.errorbar(range(len(names)), style.snap(means), yerr=err, fmt="o", capsize=4, color="#0072B2")
    if not names:
        ax.text(0.5, 0.5, f"only the reference arm ({result['paired']['reference']}): no differences", ha="center",
                transform=ax.transAxes)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(range(len(names)), style.unique_labels(names, 18))
    ax.yaxis.set_major_formatter(style.PercentFormatter(xmax=1.0, decimals=0))
    ax.set_ylabel(f"share of potential minus {result['paired']['reference']} (% points)")
    style.fit_title(ax, "Paired arm differences (95 % bootstrap CI)")
    written.append(save_figure(fig, out / "paired_differences.png"))
    written.append(_sensitivity_figure(result["sensitivity"], out / "sensitivity.png", labels))

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    shares: list[float] = []
    costs: list[float] = [0.0]
    for a in arms:
        s, c = result["arms"][a]["share_of_potential"], result["arms"][a]["public_cost"]
        if s["mean"] is None or c["mean"] is None:
            continue
        sm, cm = style.snap([s["mean"]])[0], style.snap([c["mean"]])[0]
        xerr = [[sm - (s["ci_low"] if s["ci_low"] is not None else sm)], [(s["ci_high"] if s["ci_high"] is not None else sm) - sm]]
        yerr = [[cm - (c["ci_low"] if c["ci_low"] is not None else cm)], [(c["ci_high"] if c["ci_high"] is not None else cm) - cm]]
        xerr = [[max(0.0, v) for v in row] for row in xerr]
        yerr = [[max(0.0, v) for v in row] for row in yerr]
        ax.errorbar([sm], [cm], xerr=xerr, yerr=yerr, fmt="o", capsize=4, label=a, color=style.series_colour(a))
        shares += [sm - xerr[0][0], sm + xerr[1][0]]
        costs += [cm - yerr[0][0], cm + yerr[1][0]]
    style.share_axis(ax, values=shares)
    if max(abs(c) for c in costs) == 0:
        ax.set_ylim(-1, 1)  # no public cost in any arm: a plain zero line, not +-0.04
    if currency:
        style.money_axis(ax, currency, "public cost (subsidies - taxes), NPV", values=costs)
    else:
        ax.yaxis.set_major_formatter(style.PlainFormatter())
        ax.set_ylabel("public cost (subsidies - taxes), NPV (scenario currency)")
    if ax.get_legend_handles_labels()[0]:
        style.legend_outside(ax, ax.get_legend_handles_labels()[0], title="arm")
    style.fit_title(ax, "Public cost against share of the potential (95 % bootstrap CI)", share=0.8)
    written.append(save_figure(fig, out / "cost_vs_share.png"))
    return written


def _sensitivity_figure(sensitivity: dict[str, Any], path: Path, labels: dict[str, str]) -> Path:
    """First-order indices as horizontal bars per input and arm: negative estimates drawn as 0 (an index
    is a share of variance), 95 % intervals clipped to [0, 1], a red warning when they cannot be trusted."""
    import matplotlib.pyplot as plt

    import symbiosim.report.style as style
    from symbiosim.report.figures import save_figure

    plotted = [(a, v) for a, v in sensitivity["arms"].items() if "skipped" not in v]
    inputs = [n for n in (plotted[0][1] if plotted else {}) if isinstance(plotted[0][1][n], dict)]
    names = style.unique_labels([labels.get(n) or style.readable(n) for n in inputs], 48)
    fig, ax = plt.subplots(figsize=(10, 2.6 + 0.42 * max(2, len(inputs)) * max(1, len(plotted)) ** 0.5))
    negative = False
    if plotted:
        height = 0.8 / len(plotted)
        y = np.arange(len(inputs))
        for i, (a, v) in enumerate(plotted):
            s1 = np.array([v[n]["S1"] if v[n]["S1"] is not None else np.nan for n in inputs], float)
            conf = np.array([v[n]["S1_conf"] or 0.0 for n in inputs], float)
            negative |= bool(np.any(s1 < 0))
            shown = np.clip(np.nan_to_num(s1), 0.0, 1.0)
            low = np.clip(np.nan_to_num(s1) - conf, 0.0, 1.0)
            high = np.clip(np.nan_to_num(s1) + conf, 0.0, 1.0)
            ax.barh(y + i * height, shown, height, label=a, color=style.series_colour(a) if len(plotted) > 1 else "#0072B2",
                    xerr=[shown - low, high - shown], error_kw={"ecolor": "black", "elinewidth": 0.8, "capsize": 2})
        ax.set_yticks(y + 0.4 - height / 2, names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(style.PlainFormatter())
        style.legend_outside(ax, ax.get_legend_handles_labels()[0], title="arm")
    else:
        ax.text(0.5, 0.5, "too few samples for sensitivity indices", ha="center", transform=ax.transAxes)
        ax.set_yticks([])
    ax.set_xlabel("first-order index S1 of the gap (share of its variance); whiskers: 95 % CI within [0, 1]")
    method = str(sensitivity["method"]).split(" indices")[0].split(" first")[0]
    style.fit_title(ax, f"Sensitivity of the gap ({method})", share=0.75)
    notes = []
    if negative:
        notes.append("negative estimates (noise: an index is >= 0) drawn as 0")
    if sensitivity.get("warning"):
        notes.insert(0, "WARNING: " + str(sensitivity["warning"]))
    if notes:
        fig.text(0.01, 0.01, style.wrap("\n".join(notes), 150), fontsize=8, color="#B00000" if sensitivity.get("warning") else "black",
                 va="bottom", ha="left")
        fig.tight_layout(rect=(0, 0.06 + 0.035 * sum(len(n) // 150 + 1 for n in notes), 1, 1))
        return save_figure(fig, path, layout=False)
    return save_figure(fig, path)


def format_arms(arms: dict[str, Any], currency: str = "") -> list[str]:
    """The per-arm table (a header and a line per arm) of ``experiment_summary`` or ``summarize()["arms"]``:
    shares in percent, money in one scale per column with the scenario's ``currency``, emissions in t CO2e."""
    import symbiosim.report.numbers as numbers

    names = list(arms)
    share = numbers.share_format([arms[a]["share_of_potential"][k] for a in names for k in ("mean", "ci_low", "ci_high")])
    gap = numbers.money_format([arms[a]["gap"]["mean"] for a in names], currency)
    cost = numbers.money_format([arms[a]["public_cost"]["mean"] for a in names], currency)
    emissions = numbers.quantity_format([arms[a]["emissions"]["mean"] for a in names], "t CO2e")
    unit = currency or "scenario currency"
    header = ["arm", "share (95% CI)", f"gap ({gap.scale} {unit})".replace("( ", "("),
              f"public cost ({cost.scale} {unit})".replace("( ", "("), "emissions (t CO2e)", "P(none below)"]
    rows = []
    for arm in names:
        e = arms[arm]
        s = e["share_of_potential"]
        rows.append([arm, f"{share(s['mean'])}% [{share(s['ci_low'])}, {share(s['ci_high'])}]", gap(e["gap"]["mean"]),
                     cost(e["public_cost"]["mean"]), emissions(e["emissions"]["mean"]),
                     numbers.percent(e["p_no_actor_below_standalone"]["mean"], 0)])
    return numbers.grid(header, rows, [False, True, True, True, True, True], indent="")


def format_summary(result: dict[str, Any], currency: str | None = None) -> str:
    """A plain-text table of the per-arm summary (``currency``: default the one ``summarize`` found)."""
    import symbiosim.report.numbers as numbers

    currency = result.get("currency") or "" if currency is None else currency
    lines = [f"experiment {result['experiment']}: {result['finished']:,}/{result['runs']:,} runs finished, {result['failed']:,} failed"]
    if result.get("no_baseline"):
        lines[0] += f", {result['no_baseline']} without a stand-alone baseline (share of the potential undefined)"
    lines += format_arms(result["arms"], currency)
    ref = result["paired"]["reference"]
    for arm, e in result["paired"]["arms"].items():
        s = e["share_of_potential"]
        pp = numbers.share_format([s["mean"], s["ci_low"], s["ci_high"]])
        sign = lambda x: "+" if x is not None and x > 0 else ""  # noqa: E731
        lines.append(f"{arm} - {ref}: share {sign(s['mean'])}{pp(s['mean'])} percentage points "
                     f"[{sign(s['ci_low'])}{pp(s['ci_low'])}, {sign(s['ci_high'])}{pp(s['ci_high'])}], "
                     f"public cost {sign(e['public_cost']['mean'])}{numbers.money(e['public_cost']['mean'], currency or 'scenario currency')}")
    labels = result.get("labels") or {}
    for arm, box in result["failure_boxes"]["arms"].items():
        if box.get("box"):
            limits = "; ".join(f"{labels.get(k, k.removeprefix('in_'))} in "
                               f"[{numbers.number(v['low'])}, {numbers.number(v['high'])}]" for k, v in box["box"].items())
            lines.append(f"{arm} fails most when {limits} (failure rate {numbers.percent(box['density'], 0)}, "
                         f"coverage {numbers.percent(box['coverage'], 0)})")
    if result.get("sensitivity", {}).get("warning"):
        lines.append(f"sensitivity of the gap: {result['sensitivity']['warning']}")
    return "\n".join(lines)
