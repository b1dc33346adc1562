"""Command line: thin; each command calls one library function.

Exit codes: 0 success, 1 no plan (infeasible, unbounded, solver failure),
2 invalid input (scenario or arguments).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from symbiosim import cli_args as t
from symbiosim import progress
from symbiosim.errors import (
    BaselineInfeasibleError,
    InfeasibleError,
    ModelError,
    OutputError,
    ScenarioError,
    UnboundedError,
)
from symbiosim.report.jsonable import print_json

log = logging.getLogger("symbiosim")


def cmd_validate(args: argparse.Namespace) -> int:
    from symbiosim.scenario import load_scenario

    scenario = load_scenario(args.file)
    s = scenario
    print(
        f"{args.file}: valid scenario '{s.settings.name}': {len(s.actors)} actors, {len(s.products)} products, "
        f"{len(s.processes)} processes, {len(s.actor_processes)} actor processes, {len(s.links)} links, "
        f"{s.settings.years} years x {s.settings.periods_per_year} periods"
    )
    if args.history is not None:
        from symbiosim.scenario.history import load_history

        h = load_history(args.history, scenario)
        print(f"{args.history}: valid history of '{h.scenario}': {len(h.exchanges)} exchanges, "
              f"{len(h.absent)} absent, {len(h.entries)} entries")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from symbiosim.scenario.excel import write_template

    try:
        path = write_template(args.file, overwrite=args.force)
    except FileExistsError:
        print(f"symbiosim: {args.file} already exists; use --force to overwrite it", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """``export``: a scenario (YAML or workbook) as a workbook that loads back to the same scenario."""
    from symbiosim.scenario import load_scenario
    from symbiosim.scenario.excel import export_workbook

    scenario = load_scenario(args.scenario)
    try:
        path = export_workbook(scenario, args.file, overwrite=args.force)
    except FileExistsError:
        print(f"symbiosim: {args.file} already exists; use --force to overwrite it", file=sys.stderr)
        return 2
    print(f"wrote {path}: scenario '{scenario.settings.name}'")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    from symbiosim.report.outputs import write_plan_outputs
    from symbiosim.runs import run_plan
    from symbiosim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    io = _io_inputs(args)  # a bad table is reported before the solve
    solved = None
    if args.effects == "total":
        from symbiosim.ripple.effects import total_ratios, weighted_for_totals

        if io is None or args.objective not in ("value_added", "jobs"):
            raise t.ArgumentProblem("--effects", "total needs --io-table and --objective value_added or jobs")
        solved = weighted_for_totals(scenario, total_ratios(scenario, io[0], region=io[1], delta=io[2], own=io[3]))
    r = run_plan(scenario, args.objective, weights=t.as_weights(args.weights), baseline=args.baseline, save_lp=args.save_lp,
                 time_limit=args.time_limit, threads=args.threads, mip_gap=args.mip_gap, objective_scenario=solved)
    if r.error is not None:
        if args.json:
            print_json(r.json)
        else:
            print(f"{args.scenario}: {r.error}", file=sys.stderr)
        return 1
    obj, effects = r.json, None
    if io is not None:
        from symbiosim.ripple.effects import effects_text

        assert r.accounts is not None  # a plan was found (r.error is None)
        effects = _ripple_effects(scenario, r.accounts.actors, io, args)
        obj = {**obj, "effects": effects.to_json()}
    if args.json:
        print_json(obj)
    else:
        print(r.summary())
        if effects is not None:
            print("\n" + effects_text(effects, scenario.settings.currency))
    if args.out:
        write_plan_outputs(scenario, r.plan, r.accounts, Path(args.out), args.format, obj, about=_about("plan", scenario, args),
                           more=None if effects is None else {"effects": effects.actors})
        _written(args)
    return 0


def _io_inputs(args: argparse.Namespace) -> tuple[Any, Any, float, Any] | None:
    """``--io-table`` (``--region-totals``, ``--delta``, ``--ledgers``), read and checked before anything is
    solved: (table, regional totals, δ, the actors' own inputs); None without a table."""
    if not getattr(args, "io_table", None):
        for option in ("region_totals", "delta", "ledgers"):
            if getattr(args, option, None) is not None:
                raise t.ArgumentProblem(f"--{option.replace('_', '-')}", "only with --io-table")
        return None
    from symbiosim.ripple.iotable import load_io_table
    from symbiosim.ripple.multipliers import DEFAULT_DELTA, load_region_totals

    if args.delta is not None and not args.region_totals:
        raise t.ArgumentProblem("--delta", "only with --region-totals (δ is FLQ's, for regionalising the table)")
    region = load_region_totals(args.region_totals) if args.region_totals else None
    table = load_io_table(args.io_table)
    own = None
    if args.ledgers:
        from symbiosim.ripple.ledgers import own_inputs, read_cleaned

        own, _ = own_inputs(read_cleaned(args.ledgers), table.sectors)
    return table, region, DEFAULT_DELTA if args.delta is None else args.delta, own


def _ripple_effects(scenario: Any, actors: Any, io: tuple[Any, Any, float, Any], args: argparse.Namespace) -> Any:
    """The actors' direct, indirect and induced effects (``symbiosim.ripple.effects``), errors named by their file."""
    from symbiosim.ripple.effects import ripple_effects

    table, region, delta, own = io
    try:
        return ripple_effects(scenario, actors, table, region=region, delta=delta, own=own)
    except ScenarioError as exc:
        source = args.region_totals if exc.what == "regional totals" else args.io_table
        raise ScenarioError(exc.issues, source, what=exc.what) from None


def _add_io_arguments(p: argparse.ArgumentParser) -> None:
    from symbiosim.ripple.cli import delta

    p.add_argument("--io-table", type=t.input_file, metavar="IO_FILE",
                   help="input-output table (contract v1.2): also report each actor's direct, indirect and induced "
                        "value added and jobs (actors link to its sectors by the NACE code of their sector)")
    p.add_argument("--region-totals", type=t.input_file, metavar="FILE",
                   help="with --io-table: regional totals per sector, for regional effects (FLQ)")
    p.add_argument("--delta", type=delta, help="FLQ's δ in [0, 1) (default 0.3; only with --region-totals)")
    p.add_argument("--ledgers", type=t.input_file, metavar="DB",
                   help="with --io-table: the DuckDB file of `symbiosim ledgers --db`; an actor with customer and "
                        "supplier ledgers gets its indirect effects from its own purchases (else its sector's average)")


def _about(command: str, scenario: Any, args: argparse.Namespace) -> Any:
    """The about sheet of ``--format xlsx``: the command, the scenario and the options given."""
    from symbiosim.report.workbook import About

    return About.of(command, scenario, vars(args))


def _written(args: argparse.Namespace) -> None:
    if not args.json:
        print(f"\nresults written to {args.out}/")


def _no_baseline(scenario: Any, command: str, error: BaselineInfeasibleError, as_json: bool) -> int:
    """The stand-alone baseline has no plan: report the optimum and why nothing else can be measured (exit 1)."""
    from symbiosim.runs import no_baseline

    report = no_baseline(scenario, command, error)
    if as_json:
        print_json(report.to_json())
    else:
        print(report.summary(), file=sys.stderr)
    return 1


def cmd_simulate(args: argparse.Namespace) -> int:
    from symbiosim.report.outputs import write_simulation_outputs
    from symbiosim.runs import run_simulation
    from symbiosim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    io = _io_inputs(args)  # a bad table is reported before the run
    try:
        r = run_simulation(scenario, args.seed, facilitator=args.facilitator)
    except BaselineInfeasibleError as exc:
        return _no_baseline(scenario, "simulate", exc, args.json)
    except UnboundedError as exc:
        print(f"{args.scenario}: the stand-alone (baseline) problem has no plan: {exc}", file=sys.stderr)
        return 1
    obj, effects = r.json, None
    if io is not None:
        from symbiosim.ripple.effects import effects_text

        effects = _ripple_effects(scenario, r.accounts.actors, io, args)
        obj = {**obj, "effects": effects.to_json()}
    if args.json:
        print_json(obj)
    else:
        print(r.summary())
        if effects is not None:
            print("\n" + effects_text(effects, scenario.settings.currency))
    if args.out:
        write_simulation_outputs(scenario, r.result, r.accounts, Path(args.out), args.format, obj,
                                 about=_about("simulate", scenario, args),
                                 more=None if effects is None else {"effects": effects.actors})
        _written(args)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from symbiosim.report.outputs import write_compare_outputs
    from symbiosim.runs import run_compare
    from symbiosim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    t.check_players(args.players, [a.id for a in scenario.actors])  # before any solve
    io = _io_inputs(args)
    try:
        r = run_compare(scenario, args.seed, players=args.players, decomposition=not args.no_decomposition)
    except BaselineInfeasibleError as exc:
        return _no_baseline(scenario, "compare", exc, args.json)
    except (InfeasibleError, UnboundedError) as exc:
        print(f"{args.scenario}: {exc}", file=sys.stderr)
        return 1
    obj, effects = r.json, None
    if io is not None:
        from symbiosim.ripple.effects import comparison_text

        effects = {src: _ripple_effects(scenario, acc.actors, io, args) for src, acc in r.result.accounts.items()}
        obj = {**obj, "effects": {src: fx.to_json() for src, fx in effects.items()}}
    if args.json:
        print_json(obj)
    else:
        print(r.summary())
        if effects is not None:
            print("\n" + comparison_text(effects, scenario.settings.currency))
    if args.out:
        more = None
        if effects is not None:
            import pandas as pd

            more = {"effects": pd.concat([fx.actors.assign(outcome=src) for src, fx in effects.items()], ignore_index=True)}
        write_compare_outputs(r.result, r.decomposition, obj, Path(args.out), scenario.settings.currency, args.format,
                              _about("compare", scenario, args), more=more)
        _written(args)
    return 0


def cmd_incentives(args: argparse.Namespace) -> int:
    from symbiosim.report.outputs import write_incentive_outputs
    from symbiosim.runs import IncentiveSearch, IncentiveTable, incentive_levels, incentive_search
    from symbiosim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    seeds = list(range(args.seed, args.seed + args.seeds))
    r: IncentiveSearch | IncentiveTable
    if args.levels:
        r = incentive_levels(scenario, args.instrument, args.levels, seeds)
    else:
        try:
            r = incentive_search(scenario, args.instrument, args.target, seeds, upper=args.upper)
        except ValueError as exc:
            print(f"symbiosim: {exc}", file=sys.stderr)
            return 2
    if args.json:
        print_json(r.json)
    else:
        print(r.summary())
    if args.out:
        if isinstance(r, IncentiveTable):
            write_incentive_outputs(r.table, Path(args.out), "settings", scenario.settings.currency, args.format,
                                    _about("incentives", scenario, args))
        else:
            write_incentive_outputs(r.tried, Path(args.out), "levels", scenario.settings.currency, args.format,
                                    _about("incentives", scenario, args))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """``report``: compare (and incentives when asked for) into one self-contained ``DIR/report.html``."""
    from symbiosim.runs import run_report
    from symbiosim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    io = _io_inputs(args)  # a bad table is reported before anything is solved
    try:
        r = run_report(scenario, args.seed, instruments=args.incentives, target=args.target, seeds=args.seeds,
                       decomposition=not args.no_decomposition,
                       effects=None if io is None else lambda actors: _ripple_effects(scenario, actors, io, args))
    except BaselineInfeasibleError as exc:
        return _no_baseline(scenario, "report", exc, False)
    except (InfeasibleError, UnboundedError) as exc:
        print(f"{args.scenario}: {exc}", file=sys.stderr)
        return 1
    path = r.write(args.out, scenario_path=args.scenario, io_path=args.io_table)
    print(f"report written to {path}")
    return 0


def cmd_experiment(args: argparse.Namespace) -> int:
    from symbiosim.experiments.cli import run_experiment_command

    return run_experiment_command(args)


def cmd_summarize(args: argparse.Namespace) -> int:
    from symbiosim.experiments.cli import summarize_command

    return summarize_command(args)


def cmd_calibrate(args: argparse.Namespace) -> int:
    """``calibrate``: ABC-SMC of the behaviour rules against an observed history (``symbiosim.calibrate``)."""
    from symbiosim.calibrate import CalibrationInterrupted, calibrate, load_priors
    from symbiosim.calibrate.output import calibration_summary, write_outputs
    from symbiosim.calibrate.run import check_inputs
    from symbiosim.experiments.cli import _ProgressLine
    from symbiosim.planner import optimise
    from symbiosim.scenario import load_history, load_scenario
    from symbiosim.simulator.behaviour import DEFAULTS

    scenario = load_scenario(args.scenario)
    history = load_history(args.history, scenario)
    priors = load_priors(args.priors, DEFAULTS)
    try:
        check_inputs(scenario, history, args.samples, args.generations, args.new_weight)  # before any solve
    except ValueError as exc:
        print(f"symbiosim: {exc}", file=sys.stderr)
        return 2
    try:
        baseline = optimise(scenario, baseline=True)
    except BaselineInfeasibleError as exc:
        return _no_baseline(scenario, "calibrate", exc, args.json)
    except UnboundedError as exc:
        print(f"{args.scenario}: the stand-alone (baseline) problem has no plan: {exc}", file=sys.stderr)
        return 1
    out = Path(args.out) if args.out else None
    line = _ProgressLine()  # stderr, unless --no-progress (as experiment's)
    try:
        try:
            cal = calibrate(scenario, history, priors, samples=args.samples, generations=args.generations, seed=args.seed,
                            jobs=args.workers if args.dask == "local" else args.jobs, dask=args.dask,
                            db=out / "calibrate.duckdb" if out else None, new_weight=args.new_weight, baseline=baseline,
                            progress=line)
        finally:
            line.close()
    except ValueError as exc:
        print(f"symbiosim: {exc}", file=sys.stderr)
        return 2
    except CalibrationInterrupted as exc:
        if args.json:
            print_json({"status": "interrupted", "stored": exc.stored, "total": exc.total, "db": str(exc.db) if exc.db else None})
        print(f"symbiosim: {exc}", file=sys.stderr)
        return exc.exit_code
    obj = cal.to_json()
    if args.json:
        print_json(obj)
    else:
        print(calibration_summary(cal, obj))
    if out:
        write_outputs(cal, out, obj)
        _written(args)
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from symbiosim.doctor import run_doctor

    ok, lines = run_doctor()
    print("\n".join(lines))
    return 0 if ok else 1


def build_parser() -> argparse.ArgumentParser:
    from symbiosim import __version__

    parser = argparse.ArgumentParser(prog="symbiosim", description="Industrial symbiosis: optimum, agents, incentives.")
    parser.add_argument("--version", action="version", version=f"symbiosim {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    parser.add_argument("--max-size", type=t.size, metavar="SIZE",
                        help="largest scenario or cases file read, e.g. 64M (default 16M; also $SYMBIOSIM_MAX_BYTES)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="progress bars of long commands on stderr (default: when stderr is a terminal; "
                             "experiment's line: unless --no-progress)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check a scenario file; exit 0 if valid, 2 with every error otherwise")
    p.add_argument("file")
    p.add_argument("--history", type=t.history_file, metavar="FILE",
                   help="also check an observed history (YAML, contract v1.1) against the scenario")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("template", help="write an empty, documented Excel scenario workbook")
    p.add_argument("file", type=t.output_file(".xlsx"), help="the workbook to write (.xlsx, in an existing directory)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=cmd_template)

    p = sub.add_parser("export", help="write a scenario (YAML or .xlsx) as an Excel workbook that loads back unchanged")
    p.add_argument("scenario", type=t.input_file, help="the scenario to export (.yaml, .yml or .xlsx)")
    p.add_argument("file", type=t.output_file(".xlsx"), help="the workbook to write (.xlsx, in an existing directory)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("plan", help="solve the coordinated optimum (or --baseline)")
    p.add_argument("scenario")
    p.add_argument("--objective", default="cluster_npv", choices=t.OBJECTIVES)
    p.add_argument("--weights", type=t.weights, help="for --objective weighted (only): e.g. cluster_npv=1,emissions=-500")
    p.add_argument("--baseline", action="store_true", help="solve the no-new-symbiosis baseline")
    p.add_argument("--out", type=t.output_dir, help="write result tables, kpis.json and flows.png here (a directory)")
    p.add_argument("--format", default="csv", choices=t.FORMATS, help="table format for --out")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--save-lp", type=t.output_file(".lp", ".mps"), help="write the model as an LP (.lp) or MPS (.mps) file")
    p.add_argument("--time-limit", type=t.seconds, help="seconds (> 0); the best plan found is returned, flagged")
    p.add_argument("--threads", type=t.parallel, help=f"HiGHS threads (1 to {t.MAX_PARALLEL}; default: HiGHS decides)")
    p.add_argument("--mip-gap", type=t.mip_gap, default=1e-4, help="relative MIP gap (>= 0, default 1e-4)")
    _add_io_arguments(p)
    p.add_argument("--effects", choices=("direct", "total"), default="direct",
                   help="what --objective value_added or jobs maximises: the actors' own figures (default) or with "
                        "their indirect and induced effects (needs --io-table; regional with --region-totals)")
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("simulate", help="run the agent-based (decentralised) model")
    p.add_argument("scenario")
    p.add_argument("--seed", type=t.seed, default=0, help="random seed, an integer >= 0 (same seed, same run)")
    p.add_argument("--facilitator", action="store_true", help="a platform makes every firm known to every other")
    p.add_argument("--out", type=t.output_dir, help="write plan tables, time series, kpis.json, links.png and flows.png here")
    p.add_argument("--format", default="csv", choices=t.FORMATS)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _add_io_arguments(p)
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("compare", help="baseline vs decentralised vs optimum, winners and losers, why the gap")
    p.add_argument("scenario")
    p.add_argument("--seed", type=t.seed, default=0, help="random seed, an integer >= 0")
    p.add_argument("--players", type=t.names,
                   help="actors of the scenario playing the coalition game, comma separated (default: actors trading in the optimum)")
    p.add_argument("--no-decomposition", action="store_true", help="skip the 64 simulator runs of the gap decomposition")
    p.add_argument("--json", action="store_true")
    p.add_argument("--out", type=t.output_dir, help="write tables, compare.json and figures here (a directory)")
    p.add_argument("--format", default="csv", choices=t.FORMATS, help="table format for --out (xlsx: one workbook)")
    _add_io_arguments(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("incentives", help="least level of an instrument reaching a target share of the potential")
    p.add_argument("scenario")
    p.add_argument("--instrument", required=True, choices=t.INSTRUMENTS)
    p.add_argument("--target", type=t.share, help="share of the potential to reach, in [0, 1] (default 0.8)")
    p.add_argument("--seeds", type=t.count, default=3, help="number of seeds (common across levels, default 3)")
    p.add_argument("--seed", type=t.seed, default=0, help="first seed (an integer >= 0)")
    p.add_argument("--upper", type=t.upper, help="first upper level of the search (> 0; at most 1 for investment_subsidy)")
    p.add_argument("--levels", type=t.levels, help="evaluate these levels (numbers >= 0, comma separated) instead of searching")
    p.add_argument("--json", action="store_true")
    p.add_argument("--out", type=t.output_dir, help="write the levels table and a figure here (a directory)")
    p.add_argument("--format", default="csv", choices=t.FORMATS, help="table format for --out (xlsx: one workbook)")
    p.set_defaults(func=cmd_incentives)

    p = sub.add_parser("report", help="one self-contained HTML report (prints on A4): cluster, optimum, decentralised, gap, incentives")
    p.add_argument("scenario", type=t.input_file)
    p.add_argument("--seed", type=t.seed, default=0, help="random seed, an integer >= 0")
    p.add_argument("--out", type=t.output_dir, required=True, help="write report.html here (a directory)")
    p.add_argument("--incentives", nargs="+", choices=t.INSTRUMENTS, metavar="INSTRUMENT",
                   help="also search the least level of these instruments (the choices of symbiosim incentives --instrument)")
    p.add_argument("--target", type=t.share, default=0.8, help="share of the potential the incentives aim at, in [0, 1] (default 0.8)")
    p.add_argument("--seeds", type=t.count, default=3, help="seeds of each incentive search, from --seed (default 3)")
    p.add_argument("--no-decomposition", action="store_true", help="skip the 64 simulator runs of the gap decomposition")
    _add_io_arguments(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("experiment", help="Monte Carlo batch: uncertain inputs x policy arms x replications, into DuckDB")
    p.add_argument("scenario")
    p.add_argument("--samples", type=t.count, default=100, help="number of samples of the uncertain inputs (default 100)")
    p.add_argument("--method", default="lhs", choices=t.METHODS,
                   help="plain Monte Carlo, Latin hypercube (default) or sobol: Saltelli's design for Sobol indices "
                        "(N (D + 2) samples for D uncertain inputs; N best a power of 2)")
    p.add_argument("--arms", type=t.input_file, help="YAML file 'arms: {name: {instrument: value}}' (default: one arm, none)")
    p.add_argument("--replications", type=t.count, default=1, help="simulator runs per sample and arm (default 1)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=t.parallel, help=f"local worker processes (1 to {t.MAX_PARALLEL}, default 1)")
    where.add_argument("--dask", type=t.dask_address, help="'local' (a LocalCluster) or a scheduler address tcp://host:8786")
    p.add_argument("--workers", type=t.parallel, help="workers of --dask local (only with it; default 2)")
    p.add_argument("--chunk", type=t.count, default=2, help="samples per task (default 2)")
    p.add_argument("--seed", type=t.seed, default=0, help="root seed (an integer >= 0)")
    p.add_argument("--out", type=t.store_path, help="DuckDB file, new or from this experiment (default results/<experiment>.duckdb)")
    p.add_argument("--name", type=t.experiment_name, help="experiment name: letters, digits, _ . - (default: the scenario's name)")
    p.add_argument("--parquet", type=t.output_dir, help="also export every table as Parquet into this directory")
    p.add_argument("--no-reuse", action="store_true", help="rebuild the planner model for every solve")
    p.add_argument("--mip-gap", type=t.mip_gap, default=1e-3,
                   help="relative MIP gap of each sample's optimum (>= 0, default 1e-3; the proven gap is stored)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_experiment)

    p = sub.add_parser("summarize", help="per-arm statistics, paired differences, sensitivity and failure boxes of an experiment")
    p.add_argument("db", type=t.existing_store, help="the DuckDB file of an experiment")
    p.add_argument("--target", type=t.share, default=0.8, help="a run fails below this share of the potential, in [0, 1] (default 0.8)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--out", type=t.output_dir, help="write summary.json and figures here (a directory)")
    p.add_argument("--html", action="store_true",
                   help="also write a self-contained report.html (prints on A4) into --out (default: DB's name + _report)")
    p.set_defaults(func=cmd_summarize)

    p = sub.add_parser("calibrate", help="ABC-SMC of the behaviour rules against an observed history")
    p.add_argument("scenario")
    p.add_argument("--history", type=t.history_file, required=True, metavar="FILE",
                   help="the observed history (YAML, contract v1.1) of the scenario")
    p.add_argument("--samples", type=t.count, default=1000,
                   help="simulator runs in all: default-rule runs, ABC-SMC generations and runs from the posterior (default 1000)")
    p.add_argument("--generations", type=t.generations, default=4, help="ABC-SMC generations (1 to 50, default 4)")
    p.add_argument("--seed", type=t.seed, default=0, help="root seed (an integer >= 0): same seed, same posterior")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=t.parallel, help=f"local worker processes (1 to {t.MAX_PARALLEL}, default 1)")
    where.add_argument("--dask", type=t.dask_address, help="'local' (a LocalCluster) or a scheduler address tcp://host:8786")
    p.add_argument("--workers", type=t.parallel, help="workers of --dask local (only with it; default 2)")
    p.add_argument("--priors", type=t.priors_file, metavar="FILE",
                   help="YAML 'priors: {rule: {distribution: uniform|loguniform|integer, low, high} | null}' over the defaults")
    p.add_argument("--new-weight", type=t.weight, default=1.0,
                   help="distance of each formed exchange the history does not have (>= 0, default 1)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--out", type=t.output_dir,
                   help="write particles.csv, runs.csv, calibrate.json, timeline.png, posterior.png and calibrate.duckdb "
                        "(resume: run the same command again) here")
    p.set_defaults(func=cmd_calibrate)

    from symbiosim.decide.cli import add_parsers as add_decide_parsers  # alternatives, pareto, cases, robustness

    add_decide_parsers(sub)
    from symbiosim.app.cli import add_parser as add_app_parser  # the web app

    add_app_parser(sub)
    from symbiosim.ripple.cli import add_parser as add_multipliers_parser  # input-output multipliers

    add_multipliers_parser(sub)
    from symbiosim.ripple.ledgers_cli import add_parser as add_ledgers_parser  # firms' ledgers

    add_ledgers_parser(sub)

    p = sub.add_parser("doctor", help="solve a built-in tiny model to prove HiGHS works")
    p.set_defaults(func=cmd_doctor)
    return parser


@contextlib.contextmanager
def _size_limit(max_bytes: int | None) -> Iterator[None]:
    """``--max-size`` for every file the command reads, its worker processes included
    (they inherit the environment); restored afterwards for callers of ``main``."""
    if max_bytes is None:
        yield
        return
    from symbiosim.scenario.load import MAX_BYTES_ENV

    before = os.environ.get(MAX_BYTES_ENV)
    os.environ[MAX_BYTES_ENV] = str(max_bytes)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(MAX_BYTES_ENV, None)
        else:
            os.environ[MAX_BYTES_ENV] = before


def _argument_error(parser: argparse.ArgumentParser, command: str | None, problem: t.ArgumentProblem) -> int:
    """Report an argument error found after parsing as argparse reports its own (usage, message, exit 2)."""
    sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    target = sub.choices.get(command, parser) if sub is not None and command else parser
    target.print_usage(sys.stderr)
    print(f"{target.prog}: error: {problem}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # every value is checked here (symbiosim.cli_args): exit 2 naming the option
    try:
        t.check_combinations(args)
    except t.ArgumentProblem as exc:
        return _argument_error(parser, args.command, exc)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        with _size_limit(args.max_size), progress.shown_as(args.progress):
            return int(args.func(args))
    except t.ArgumentProblem as exc:  # found with the scenario loaded, before any solve
        return _argument_error(parser, args.command, exc)
    except ScenarioError as exc:
        if getattr(args, "json", False):
            print_json({"status": "invalid", "errors": [str(i) for i in exc.issues]})
        print(exc.report(), file=sys.stderr)
        return 2
    except OutputError as exc:  # e.g. a table too long for --format xlsx: nothing is wrong with the inputs' meaning
        print(f"symbiosim: {exc}", file=sys.stderr)
        return 2
    except ModelError as exc:
        if getattr(args, "json", False):
            print_json({"status": "error", "message": str(exc)})
        print(f"symbiosim: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"symbiosim: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: one line (the traceback with -v), exit 1, never a raw traceback
        if args.verbose:
            traceback.print_exc()
        print(f"symbiosim: internal error: {type(exc).__name__}: {exc} (rerun with -v for the traceback; please report it)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
