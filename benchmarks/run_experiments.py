"""Experiments benchmark: runs per second at 1 and 2 workers, planner re-solve
against rebuild, and the parent's peak memory as the number of runs grows.

    python -m benchmarks.run_experiments [--samples 8] [--reuse-samples 6]
        [--memory-runs 100,400] [--out benchmarks/results/experiments.json]

* **Throughput**: ``run_experiment`` on the default scenario
  (``scenarios/orkanger.yaml``, its own ``uncertainty``, one arm, one
  replication: per sample the optimum, the baseline and one simulator run)
  with ``jobs=1`` and ``jobs=2`` (process pool, one sample per task);
  runs/s, parallel efficiency = rate(2) / (2 x rate(1)), and the projected
  time of 1,000 samples at 2 workers (target: < 10 minutes).
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
        report = run_experiment(Experiment(scenario, samples, seed=1), Path(tmp) / "b.duckdb", jobs=jobs, chunk=1)
        seconds = time.perf_counter() - t0
    return {"jobs": jobs, "runs": report.runs, "failed": report.failed, "seconds": seconds, "runs_per_second": report.runs / seconds}


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
    """In a fresh process: ``runs`` runs of the tiny scenario; prints peak RSS (MB)."""
    sys.path.insert(0, str(ROOT))
    from symbiosim.experiments.runner import Experiment, run_experiment
    from tests.tiny import HEAT_LINK, build

    s = build(HEAT_LINK, uncertainty=[
        {"target": "purchases[product=gas].price", "dist": "uniform", "low": 0.5, "high": 1.5},
        {"target": "links[to=greenhouse].build_cost", "dist": "uniform", "low": 0.5, "high": 3.0},
    ])
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        run_experiment(Experiment(s, runs, seed=1), Path(tmp) / "m.duckdb", jobs=2, chunk=10)
        seconds = time.perf_counter() - t0
    print(json.dumps({"runs": runs, "seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--reuse-samples", type=int, default=6)
    ap.add_argument("--memory-runs", default="100,400")
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
        "projected_minutes_1000_samples_jobs_2": 1000 / two["runs_per_second"] / 60,
    }
    print(f"throughput: jobs 1 {one['runs_per_second']:.3f} runs/s, jobs 2 {two['runs_per_second']:.3f} runs/s, "
          f"efficiency {eff:.0%}, 1,000 samples at 2 workers ~{result['throughput']['projected_minutes_1000_samples_jobs_2']:.1f} min")  # type: ignore[index]
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
