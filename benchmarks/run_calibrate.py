"""Calibrate benchmark: ``symbiosim calibrate`` on the Orkanger back-cast, timed end to end.

    python -m benchmarks.run_calibrate [--samples 1000] [--jobs 2] [--seed 1]
        [--figures out/calibrate_orkanger] [--out benchmarks/results/calibrate.json]

Runs the CLI as a user does (``scenarios/orkanger_before.yaml`` with
``scenarios/orkanger_history.yaml``, the default priors, 4 generations,
``--jobs 2``, a new ``--out`` directory, so nothing is resumed), and
records wall time, simulator runs per second and the calibration's JSON
(posterior, distances, fit). Target (issue 11, item 9): 1,000 simulations
at ``--jobs 2`` in at most 10 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 600


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--figures", default="out/calibrate_orkanger", help="the --out directory of the run (replaced)")
    parser.add_argument("--out", default="benchmarks/results/calibrate.json")
    args = parser.parse_args()

    figures = ROOT / args.figures
    if figures.exists():
        shutil.rmtree(figures)  # a fresh run: no resume from an earlier store
    argv = [sys.executable, "-m", "symbiosim", "--no-progress", "calibrate", "scenarios/orkanger_before.yaml",
            "--history", "scenarios/orkanger_history.yaml", "--samples", str(args.samples), "--jobs", str(args.jobs),
            "--seed", str(args.seed), "--json", "--out", str(figures)]
    t0 = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        raise SystemExit(f"calibrate failed with exit code {done.returncode}")
    result = json.loads(done.stdout)
    runs = result["runs"]["total"]
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpu_count": os.cpu_count(),
                    "load_average_at_end": list(os.getloadavg()) if hasattr(os, "getloadavg") else None},
        "command": " ".join(["symbiosim", *argv[4:]]),
        "samples": args.samples, "jobs": args.jobs, "runs": runs, "failed": result["runs"]["failed"],
        "seconds": seconds, "minutes": seconds / 60, "runs_per_second": runs / seconds,
        "calibration_seconds": result["seconds"],
        "target_seconds": TARGET_SECONDS, "pass": seconds <= TARGET_SECONDS,
        "result": result,
    }
    path = ROOT / args.out
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"calibrate {args.samples} simulations at --jobs {args.jobs}: {seconds:.1f} s ({seconds / 60:.1f} min), "
          f"{runs / seconds:.2f} runs/s, {result['runs']['failed']} failed; target <= {TARGET_SECONDS / 60:.0f} min: "
          f"{'PASS' if report['pass'] else 'FAIL'}")
    for rule, p in result["parameters"].items():
        print(f"  {rule:<24} default {p['default']:<8g} posterior mean {p['mean']:.3f}  90 % [{p['q05']:.3f}, {p['q95']:.3f}]")
    d = result["distance"]
    print(f"  distance: default rules {d['default']:.3f}, accepted {d['calibrated']:.3f}, from the posterior {d['posterior_predictive']:.3f}")
    for f in result["fit"]:
        print(f"  {f['exchange']}: observed {f['observed_year']}, median {f['simulated_median_year']}, formed {f['share_formed']:.2f} "
              f"(default rules: median {f['default_median_year']}, formed {f['default_share_formed']:.2f})")
    print(f"wrote {path} and {figures}/")


if __name__ == "__main__":
    main()
