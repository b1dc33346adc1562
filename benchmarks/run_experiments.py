"""Experiments benchmark: runs per second at 1 and 2 workers, planner re-solve
against rebuild, and the parent's peak memory as the number of runs grows.

    python -m benchmarks.run_experiments [--samples 40] [--target-samples 1000]
        [--reuse-samples 6] [--memory-runs 1000,10000] [--out benchmarks/results/experiments.json]

* **Throughput**: ``run_experiment`` on the default scenario
  (``scenarios/orkanger.yaml``, its own ``uncertainty``, one arm, one
  replication: per sample the optimum, the baseline and one simulator run)
  with ``jobs=1`` and ``jobs=2`` on ``--samples`` samples, start-up
  included; runs/s and parallel efficiency = rate(2) / (2 x rate(1)).
* **Target**: the whole ``--target-samples`` (1,000) batch at 2 workers, as
  the CLI runs it, timed end to end (target: < 10 minutes; 0 skips it).
* **Re-solve vs rebuild**: the same samples through one ``ReusablePlanner``
  (persistent HiGHS, key figures and objective rebuilt) and through a
  rebuild per solve; optimum and baseline per sample; the first (building)
  solve is excluded from the reuse figures.
* **Memory**: peak RSS (``ru_maxrss`` of the parent, which writes the
  database; workers are separate processes) of the tiny HEAT_LINK scenario
  with uncertainty at each of ``--memory-runs`` runs, each in a fresh
  process (results are streamed, so it must stay flat).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def throughput(samples: int, jobs: int) -> dict[str, float]:
    from symbiosim import load_scenario
    from symbiosim.experiments.runner import Experiment, run_experiment

    scenario = load_scenario(ROOT / "scenarios" / "orkanger.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        report = run_experiment(Experiment(scenario, samples, seed=1), Path(tmp) / "b.duckdb", jobs=jobs)
        seconds = time.perf_counter() - t0
    return {"jobs": jobs, "runs": report.runs, "failed": report.failed, "seconds": seconds, "runs_per_second": report.runs / seconds}


def optimum_gaps(db: Path) -> dict[str, float]:
    """How far each sample's optimum may be from the true one (batch MIP gap), as a share of its potential."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(
            """
            with pot as (
              select r.run_id, r.optimum_gap, o.value - b.value as potential
              from runs r
              join kpis o on o.run_id = r.run_id and o.source = 'optimum' and o.kpi = 'cluster_npv'
              join kpis b on b.run_id = r.run_id and b.source = 'baseline' and b.kpi = 'cluster_npv'
              where r.status = 'ok')
            select max(optimum_gap), avg(optimum_gap), avg(optimum_gap / nullif(potential, 0)),
                   quantile_cont(optimum_gap / nullif(potential, 0), 0.95) from pot
            """
        ).fetchone()
    finally:
        con.close()
    return {"max_money": row[0], "mean_money": row[1], "mean_share_of_potential": row[2], "q95_share_of_potential": row[3]}


def target_batch(samples: int) -> dict[str, Any]:
    """The target as a user meets it: the CLI, 2 workers, ``samples`` samples, timed end to end."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "t.duckdb"
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "symbiosim", "experiment", "scenarios/orkanger.yaml", "--samples", str(samples),
             "--jobs", "2", "--seed", "1", "--out", str(db), "--json"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )
        seconds = time.perf_counter() - t0
        report = json.loads(out.stdout)
        gaps = optimum_gaps(db)
    return {"samples": samples, "jobs": 2, "runs": report["runs"], "failed": report["failed"], "seconds": seconds,
            "minutes": seconds / 60, "target_minutes": 10, "pass": seconds < 600, "optimum_gap": gaps}


def reuse_vs_rebuild(samples: int) -> dict[str, Any]:
    from symbiosim import load_scenario
    from symbiosim.experiments.design import apply_sample, make_design
    from symbiosim.experiments.reuse import ReusablePlanner

    scenario = load_scenario(ROOT / "scenarios" / "orkanger.yaml")
    design = make_design(scenario, samples, seed=1)
    scen = [apply_sample(scenario, row) for row in design.to_dict("records")]
    out: dict[str, Any] = {}
    for name, reuse in (("reuse", True), ("rebuild", False)):
        planner = ReusablePlanner(reuse=reuse)
        times: dict[bool, list[float]] = {True: [], False: []}
        objectives: list[float] = []
        for s in scen:
            for baseline in (False, True):
                t0 = time.perf_counter()
                plan = planner.solve(s, baseline=baseline)
                times[baseline].append(time.perf_counter() - t0)
                objectives.append(plan.meta["objective_value"])
        out[f"{name}_optimum_seconds"] = sum(times[False][1:]) / (samples - 1)
        out[f"{name}_baseline_seconds"] = sum(times[True][1:]) / (samples - 1)
        out[f"{name}_objectives"] = objectives
    same = all(abs(a - b) <= 1e-6 * max(1.0, abs(b)) for a, b in zip(out["reuse_objectives"], out["rebuild_objectives"], strict=True))
    out["same_objectives"] = same
    out["speedup_optimum"] = out["rebuild_optimum_seconds"] / out["reuse_optimum_seconds"]
    out["speedup_baseline"] = out["rebuild_baseline_seconds"] / out["reuse_baseline_seconds"]
    pair_re = out["reuse_optimum_seconds"] + out["reuse_baseline_seconds"]
    pair_rb = out["rebuild_optimum_seconds"] + out["rebuild_baseline_seconds"]
    out["speedup_per_sample"] = pair_rb / pair_re
    del out["reuse_objectives"], out["rebuild_objectives"]
    return out


def memory_child(runs: int) -> None:
    """In a fresh process: ``runs`` runs of the tiny scenario (10 replications per
    sample from 1,000 runs on, so that 10,000 runs take minutes); prints peak RSS (MB)."""
    sys.path.insert(0, str(ROOT))
    from symbiosim.experiments.runner import Experiment, run_experiment
    from tests.tiny import HEAT_LINK, build

    s = build(HEAT_LINK, uncertainty=[
        {"target": "purchases[product=gas].price", "dist": "uniform", "low": 0.5, "high": 1.5},
        {"target": "links[to=greenhouse].build_cost", "dist": "uniform", "low": 0.5, "high": 3.0},
    ])
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        reps = 10 if runs >= 1000 else 1
        run_experiment(Experiment(s, runs // reps, replications=reps, seed=1), Path(tmp) / "m.duckdb", jobs=2, chunk=10)
        seconds = time.perf_counter() - t0
    print(json.dumps({"runs": runs, "seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=40)
    ap.add_argument("--target-samples", type=int, default=1000)
    ap.add_argument("--reuse-samples", type=int, default=6)
    ap.add_argument("--memory-runs", default="1000,10000")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "experiments.json"))
    ap.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return
    result: dict[str, object] = {"machine": platform.platform(), "python": platform.python_version(), "date": time.strftime("%Y-%m-%d %H:%M")}
    one = throughput(args.samples, 1)
    two = throughput(args.samples, 2)
    eff = two["runs_per_second"] / (2 * one["runs_per_second"])
    result["throughput"] = {
        "scenario": "orkanger (optimum + baseline + 1 simulator run per sample)",
        "jobs_1": one,
        "jobs_2": two,
        "parallel_efficiency_2": eff,
    }
    print(f"throughput: jobs 1 {one['runs_per_second']:.3f} runs/s, jobs 2 {two['runs_per_second']:.3f} runs/s, efficiency {eff:.0%}")
    if args.target_samples:
        tb = target_batch(args.target_samples)
        result["target"] = tb
        g = tb["optimum_gap"]
        print(f"target: {tb['samples']} samples at 2 workers in {tb['minutes']:.1f} min ({'PASS' if tb['pass'] else 'FAIL'} < 10), "
              f"{tb['failed']} failed; optimum within {g['mean_share_of_potential']:.2%} of the potential on average "
              f"(95th percentile {g['q95_share_of_potential']:.2%})")
    r = reuse_vs_rebuild(args.reuse_samples)
    result["reuse"] = r
    print(f"planner: optimum {r['rebuild_optimum_seconds']:.3f} s rebuilt vs {r['reuse_optimum_seconds']:.3f} s re-solved "
          f"(x{r['speedup_optimum']:.2f}); baseline {r['rebuild_baseline_seconds']:.3f} vs {r['reuse_baseline_seconds']:.3f} s "
          f"(x{r['speedup_baseline']:.2f}); per sample x{r['speedup_per_sample']:.2f}; same objectives: {r['same_objectives']}")
    mem = []
    for n in [int(x) for x in args.memory_runs.split(",")]:
        out = subprocess.run([sys.executable, "-m", "benchmarks.run_experiments", "--memory-child", str(n)], cwd=ROOT,
                             capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        mem.append(row)
        print(f"memory: {n} runs (tiny scenario, 2 workers): parent peak RSS {row['peak_rss_mb']:.0f} MB in {row['seconds']:.0f} s")
    result["memory"] = mem
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
