"""Input-output multipliers benchmark: a random 60-sector table, read and solved.

    python -m benchmarks.run_multipliers [--sectors 60] [--repeat 5] [--out benchmarks/results/multipliers.json]

Writes a random productive table (column sums of A below 0.8, households included) and
regional employment totals as YAML, then ``--repeat`` times: reads the table (bounded YAML
reader, validation), computes type I and type II multipliers, reads the regional totals and
computes FLQ-regionalised type I and II multipliers. Also times one ``symbiosim multipliers
--type II --region-totals ... --json`` run end to end (a new Python process: start-up and
imports included).

Target (issue 15): multipliers for a 60-sector table in under 1 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from benchmarks.common import finish_report, maxrss_mb

ROOT = Path(__file__).resolve().parents[1]


def random_table(n: int, seed: int = 0) -> tuple[dict[str, Any], dict[str, Any]]:
    """A random productive table of ``n`` sectors and a region's employment (10-60 % of each sector's)."""
    rng = np.random.default_rng(seed)
    sectors = [f"S{i:02d}" for i in range(n)]
    raw = rng.random((n, n)) * (rng.random((n, n)) < 0.4)  # sparse-ish, like real tables
    raw[np.arange(n), np.arange(n)] += 0.1
    A = raw / raw.sum(axis=0) * rng.uniform(0.2, 0.8, n)  # noqa: N806
    x = rng.uniform(100, 10_000, n).round(1)
    Z = (A * x).round(3)  # noqa: N806
    va = (x - Z.sum(axis=0)) * rng.uniform(0.6, 1.0, n)  # the rest is imported
    wages = va * rng.uniform(0.3, 0.8, n)
    c = rng.random(n)
    consumption = c / c.sum() * wages.sum() * 0.7
    employment = (x * rng.uniform(0.2, 2.0, n)).round()
    table = {"name": f"random_{n}", "currency": "NOK", "unit": 1_000_000, "sectors": sectors,
             "intermediate": Z.tolist(), "output": x.tolist(), "value_added": va.round(3).tolist(),
             "employment": employment.tolist(),
             "households": {"wages": wages.round(3).tolist(), "consumption": consumption.round(3).tolist()}}
    region = {"region": "random", "measure": "employment",
              "totals": {s: float(round(e * rng.uniform(0.1, 0.6))) for s, e in zip(sectors, employment, strict=True)}}
    return table, region


def once(table_path: Path, region_path: Path) -> dict[str, float]:
    from symbiosim.ripple.iotable import load_io_table
    from symbiosim.ripple.multipliers import load_region_totals, multipliers

    out: dict[str, float] = {}
    t0 = time.perf_counter()
    table = load_io_table(table_path)
    out["read_table_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    multipliers(table, "I")
    out["type_I_s"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    multipliers(table, "II")
    out["type_II_s"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    region = load_region_totals(region_path)
    multipliers(table, "I", region=region)
    multipliers(table, "II", region=region)
    out["flq_I_and_II_s"] = time.perf_counter() - t1
    out["total_s"] = time.perf_counter() - t0
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sectors", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "multipliers.json"))
    args = ap.parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    table, region = random_table(args.sectors)
    with tempfile.TemporaryDirectory() as tmp:
        table_path, region_path = Path(tmp) / "table.yaml", Path(tmp) / "region.yaml"
        table_path.write_text(yaml.safe_dump(table))
        region_path.write_text(yaml.safe_dump(region))
        runs = []
        for i in range(args.repeat):
            run = once(table_path, region_path)
            print(f"run {i + 1}: " + ", ".join(f"{k} {v:.4f}" for k, v in run.items()))
            runs.append(run)
        exe = Path(sys.executable).parent / "symbiosim"
        t0 = time.perf_counter()
        proc = subprocess.run([str(exe), "multipliers", str(table_path), "--type", "II", "--region-totals",
                               str(region_path), "--json"], capture_output=True, text=True, check=False)
        cli_s = time.perf_counter() - t0
        print(f"symbiosim multipliers --type II --region-totals --json: exit {proc.returncode}, {cli_s:.2f} s")

    def stats(key: str) -> dict[str, float]:
        xs = [r[key] for r in runs]
        return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}

    report: dict[str, Any] = {
        "benchmark": "multipliers",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "sectors": args.sectors,
        "runs": runs,
        **{key: stats(key) for key in runs[0]},
        "cli_end_to_end_s": cli_s,
        "cli_exit": proc.returncode,
        "peak_memory_mb": maxrss_mb(),
    }
    worst = report["total_s"]["max"]
    targets = [
        {"target": f"multipliers (type I and II, national and FLQ) of a {args.sectors}-sector table < 1 s",
         "result": "PASS" if worst < 1 else "FAIL",
         "detail": f"worst of {len(runs)}: {worst:.3f} s (file read and validated included)"},
        {"target": "the command line end to end (a new process) < 3 s", "result": "PASS" if cli_s < 3 and proc.returncode == 0 else "FAIL",
         "detail": f"{cli_s:.2f} s, exit {proc.returncode}"},
    ]
    return finish_report(report, targets, started, args.out)


if __name__ == "__main__":
    sys.exit(main())
