"""The ``experiment`` and ``summarize`` commands (called from ``symbiosim.cli``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from symbiosim.experiments.design import load_arms
from symbiosim.experiments.runner import Experiment, ExperimentInterrupted, default_db, run_experiment


def _progress(done: int, failed: int, total: int, elapsed: float) -> None:
    rate = done / elapsed if elapsed > 0 else 0.0
    left = total - done
    eta = f"{left / rate:,.0f}s" if rate > 0 and left else ("0s" if not left else "?")
    end = "\n" if done >= total else ""
    print(f"\rruns {done}/{total}  failed {failed}  {rate:.2f} runs/s  ETA {eta}   ", end=end, file=sys.stderr, flush=True)


def run_experiment_command(args: argparse.Namespace) -> int:
    """``symbiosim experiment``: every argument is checked (``symbiosim.cli_args``) before the database is touched."""
    from symbiosim.cli_args import ArgumentProblem, store_problem
    from symbiosim.experiments.analysis import experiment_summary, format_arms
    from symbiosim.scenario import load_scenario
    from symbiosim.store import ResultsStore

    try:
        arms = load_arms(args.arms)
    except (ValueError, OSError, yaml.YAMLError) as exc:
        raise ArgumentProblem("--arms", str(exc)) from None
    scenario = load_scenario(args.scenario)
    exp = Experiment(
        scenario,
        args.samples,
        method=args.method,
        arms=arms,
        replications=args.replications,
        seed=args.seed,
        name=args.name or scenario.settings.name,
        scenario_path=str(args.scenario),
        mip_gap=args.mip_gap,
    )
    db = Path(args.out) if args.out else default_db(exp)
    problem = None if args.out else store_problem(db)  # the default path (--out was checked when parsed)
    if problem:
        raise ArgumentProblem("--out", problem)
    jobs = args.workers if args.dask == "local" else args.jobs
    try:
        report = run_experiment(exp, db, jobs=jobs, dask=args.dask, chunk=args.chunk, reuse=not args.no_reuse, progress=_progress)
    except ValueError as exc:
        print(f"symbiosim: {exc}", file=sys.stderr)
        return 2
    except ExperimentInterrupted as exc:  # SIGINT / SIGTERM: workers stopped, whole runs stored
        if args.json:
            print(json.dumps({"status": "interrupted", "stored": exc.stored, "total": exc.total, "db": str(exc.db)}))
        print(f"\nsymbiosim: {exc}", file=sys.stderr)  # \n: the progress line has none
        return exc.exit_code  # 130 (SIGINT) or 143 (SIGTERM)
    if args.parquet:
        with ResultsStore(db) as store:
            store.export_parquet(args.parquet)
    summary = experiment_summary(db)  # the numbers and intervals `summarize` prints for this database
    if args.json:
        print(json.dumps({"experiment": report.experiment, "runs": report.runs, "failed": report.failed, "db": str(db), "summary": summary},
                         allow_nan=False))
    else:
        print(f"experiment {report.experiment}: {report.runs} runs ({report.skipped} already done, {report.ran} run now), "
              f"{report.failed} failed, {report.seconds:.1f} s -> {db}")
        print("\n".join(format_arms(summary)))
        print(f"details: symbiosim summarize {db}")
    return 0


def summarize_command(args: argparse.Namespace) -> int:
    from symbiosim.experiments.analysis import NotAnExperiment, format_summary, summarize

    if not Path(args.db).exists():
        print(f"symbiosim: no such database {args.db}", file=sys.stderr)
        return 2
    try:
        result = summarize(args.db, target=args.target, out=args.out)
    except NotAnExperiment as exc:
        print(f"symbiosim: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, allow_nan=False))
    else:
        print(format_summary(result))
        if args.out:
            print(f"summary.json and figures in {args.out}")
    return 0
