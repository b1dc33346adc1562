"""The ``experiment`` and ``summarize`` commands (called from ``symbiosim.cli``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from symbiosim.experiments.design import load_arms
from symbiosim.experiments.runner import Experiment, ExperimentInterrupted, default_db, run_experiment
from symbiosim.progress import progress


class _ProgressLine:
    """The runner's progress callback as one ``symbiosim.progress`` bar on stderr:
    ``runs done/total, failed n  rate  ETA``. Shown unless ``--no-progress`` (also when
    stderr is a file: a batch log then says how many runs are stored)."""

    FORMAT = "runs {n_fmt}/{total_fmt}{postfix}  {rate_fmt}  ETA {remaining}"

    def __init__(self) -> None:
        self.bar: Any = None

    def __call__(self, done: int, failed: int, total: int, elapsed: float) -> None:
        if self.bar is None:
            self.bar = progress(desc="runs", total=total, initial=done, unit=" runs", default=True, leave=True,
                                bar_format=self.FORMAT, mininterval=0, miniters=1)
        self.bar.set_postfix_str(f"failed {failed}", refresh=False)
        self.bar.update(done - self.bar.n)
        if done >= total:
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


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
    line = _ProgressLine()
    try:
        try:
            report = run_experiment(exp, db, jobs=jobs, dask=args.dask, chunk=args.chunk, reuse=not args.no_reuse, progress=line)
        finally:
            line.close()  # the line ends (with its newline) before any message
    except ValueError as exc:
        print(f"symbiosim: {exc}", file=sys.stderr)
        return 2
    except ExperimentInterrupted as exc:  # SIGINT / SIGTERM: workers stopped, whole runs stored
        if args.json:
            print(json.dumps({"status": "interrupted", "stored": exc.stored, "total": exc.total, "db": str(exc.db)}))
        print(f"symbiosim: {exc}", file=sys.stderr)
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
        print("\n".join(format_arms(summary, scenario.settings.currency)))
        print(f"details: symbiosim summarize {db}")
    return 0


def summarize_command(args: argparse.Namespace) -> int:
    from symbiosim.experiments.analysis import NotAnExperiment, format_summary, summarize

    if not Path(args.db).exists():
        print(f"symbiosim: no such database {args.db}", file=sys.stderr)
        return 2
    html = getattr(args, "html", False)
    out = args.out or (str(Path(args.db).with_suffix("")) + "_report" if html else None)
    try:
        result = summarize(args.db, target=args.target, out=out)
    except NotAnExperiment as exc:
        print(f"symbiosim: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, allow_nan=False))
    else:
        print(format_summary(result))
        if out:
            print(f"summary.json and figures in {out}")
    if html and out:
        path = _html_report(args.db, result, Path(out))
        if not args.json:
            print(f"report written to {path}")
    return 0


def _html_report(db: str, result: dict[str, Any], out: Path) -> Path:
    """``summarize --html``: ``report.html`` from the summary and the figures ``summarize`` wrote to ``out``."""
    from symbiosim.experiments.analysis import input_labels, load
    from symbiosim.report.html import write_experiment_report

    manifest, _, _ = load(db)
    currency = ""
    try:  # the scenario's currency, if its file is still where the experiment read it
        from symbiosim.scenario import load_scenario

        currency = load_scenario(str(manifest.get("scenario") or "")).settings.currency if manifest.get("scenario") else ""
    except Exception:  # noqa: BLE001 - the report says "M" without a currency then
        currency = ""
    figures = [out / f"{name}.png" for name in ("distributions", "paired_differences", "sensitivity", "cost_vs_share")]
    return write_experiment_report(result, [f for f in figures if f.exists()], out, currency, manifest, input_labels(manifest))
