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
  took ~8 s per 1,000 samples and input here.
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
    return out


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
    }
    result = clean(result)
    if out is not None:
        d = Path(out)
        d.mkdir(parents=True, exist_ok=True)
        (d / "summary.json").write_text(json.dumps(result, indent=2, allow_nan=False))
        figures(done, result, d)
    return result


def figures(frame: pd.DataFrame, result: dict[str, Any], out: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    from symbiosim.report.figures import save_figure  # sets the Agg backend

    written = []
    arms = list(result["arms"])
    ok = frame[frame.status == "ok"]

    fig, ax = plt.subplots(figsize=(6, 4))
    data = [ok[ok.arm == a].share_of_potential.dropna().to_numpy() for a in arms]
    if any(len(d) for d in data):
        ax.boxplot([d if len(d) else [np.nan] for d in data], tick_labels=arms)
    ax.set_ylabel("share of potential realised")
    ax.set_title("Share of the potential per arm")
    written.append(save_figure(fig, out / "distributions.png"))

    fig, ax = plt.subplots(figsize=(6, 4))
    paired = result["paired"]["arms"]
    names = list(paired)
    means = [paired[a]["share_of_potential"]["mean"] or 0.0 for a in names]
    err = [[max(0.0, (m - (paired[a]["share_of_potential"]["ci_low"] or m))) for a, m in zip(names, means, strict=True)],
           [max(0.0, ((paired[a]["share_of_potential"]["ci_high"] or m) - m)) for a, m in zip(names, means, strict=True)]]
    ax.errorbar(range(len(names)), means, yerr=err, fmt="o", capsize=4)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel(f"share of potential minus {result['paired']['reference']}")
    ax.set_title("Paired arm differences (95 % bootstrap CI)")
    written.append(save_figure(fig, out / "paired_differences.png"))

    fig, ax = plt.subplots(figsize=(7, 4))
    sens = result["sensitivity"]["arms"]
    plotted = [(a, v) for a, v in sens.items() if "skipped" not in v]
    if plotted:
        width = 0.8 / len(plotted)
        inputs = list(plotted[0][1])
        for i, (a, v) in enumerate(plotted):
            ax.bar(np.arange(len(inputs)) + i * width, [v[n]["S1"] or 0.0 for n in inputs], width, label=a,
                   yerr=[v[n]["S1_conf"] or 0.0 for n in inputs])
        ax.set_xticks(np.arange(len(inputs)) + 0.4 - width / 2, [n.removeprefix("in_") for n in inputs], rotation=30, ha="right")
        ax.legend()
    else:
        ax.text(0.5, 0.5, "too few samples for sensitivity indices", ha="center", transform=ax.transAxes)
    ax.set_ylabel("first-order index (S1) of the gap")
    ax.set_title(f"Sensitivity of the gap ({result['sensitivity']['method'].split(' indices')[0].split(' first')[0]})")
    written.append(save_figure(fig, out / "sensitivity.png"))

    fig, ax = plt.subplots(figsize=(6, 4))
    for a in arms:
        s, c = result["arms"][a]["share_of_potential"], result["arms"][a]["public_cost"]
        if s["mean"] is None or c["mean"] is None:
            continue
        xerr = [[s["mean"] - (s["ci_low"] if s["ci_low"] is not None else s["mean"])], [(s["ci_high"] if s["ci_high"] is not None else s["mean"]) - s["mean"]]]
        yerr = [[c["mean"] - (c["ci_low"] if c["ci_low"] is not None else c["mean"])], [(c["ci_high"] if c["ci_high"] is not None else c["mean"]) - c["mean"]]]
        ax.errorbar([s["mean"]], [c["mean"]], xerr=xerr, yerr=yerr, fmt="o", capsize=4, label=a)
    ax.set_xlabel("share of potential realised")
    ax.set_ylabel("public cost (subsidies - taxes)")
    ax.legend()
    ax.set_title("Public cost against share of the potential")
    written.append(save_figure(fig, out / "cost_vs_share.png"))
    return written


def _f(x: Any, spec: str = ",.0f") -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, spec)


def format_arms(arms: dict[str, Any]) -> list[str]:
    """The per-arm table (a header and a line per arm) of ``experiment_summary`` or ``summarize()["arms"]``."""
    f = _f
    lines = [f"{'arm':<14}{'share (95% CI)':>28}{'gap':>16}{'public cost':>16}{'emissions':>14}{'P(none below)':>15}"]
    for arm, e in arms.items():
        s = e["share_of_potential"]
        lines.append(
            f"{arm:<14}{f(s['mean'], '.3f'):>10} [{f(s['ci_low'], '.3f')}, {f(s['ci_high'], '.3f')}]".ljust(42)
            + f"{f(e['gap']['mean']):>16}{f(e['public_cost']['mean']):>16}{f(e['emissions']['mean']):>14}"
            + f"{f(e['p_no_actor_below_standalone']['mean'], '.2f'):>15}"
        )
    return lines


def format_summary(result: dict[str, Any]) -> str:
    """A plain-text table of the per-arm summary."""
    lines = [f"experiment {result['experiment']}: {result['finished']}/{result['runs']} runs finished, {result['failed']} failed"]
    if result.get("no_baseline"):
        lines[0] += f", {result['no_baseline']} without a stand-alone baseline (share of the potential undefined)"
    lines += format_arms(result["arms"])
    f = _f
    ref = result["paired"]["reference"]
    for arm, e in result["paired"]["arms"].items():
        s = e["share_of_potential"]
        lines.append(f"{arm} - {ref}: share {f(s['mean'], '+.3f')} [{f(s['ci_low'], '+.3f')}, {f(s['ci_high'], '+.3f')}], "
                     f"public cost {f(e['public_cost']['mean'], '+,.0f')}")
    for arm, box in result["failure_boxes"]["arms"].items():
        if box.get("box"):
            limits = ", ".join(f"{k.removeprefix('in_')} in [{v['low']:.3g}, {v['high']:.3g}]" for k, v in box["box"].items())
            lines.append(f"{arm} fails most when {limits} (failure rate {box['density']:.2f}, coverage {box['coverage']:.2f})")
    return "\n".join(lines)
