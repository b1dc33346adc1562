"""Command-line entries of the decision-support commands: alternatives, pareto, cases, robustness.

``add_parsers(sub)`` is called from ``symbiosim.cli.build_parser``. Every
command prints a summary, or one JSON object with ``--json``; ``--out DIR``
writes the tables (CSV) and a figure.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from symbiosim import cli_args as t
from symbiosim.decide.summaries import alternatives_summary, cases_summary, pareto_summary, robustness_summary
from symbiosim.errors import BaselineInfeasibleError
from symbiosim.report.jsonable import print_json
from symbiosim.report.outputs import write_tables
from symbiosim.report.workbook import About


def cmd_alternatives(args: argparse.Namespace) -> int:
    from symbiosim.decide.alternatives import alternatives
    from symbiosim.decide.figures import decisions_figure
    from symbiosim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    r = alternatives(scenario, args.slack, args.count, objective=args.objective, weights=t.as_weights(args.weights),
                     exchanges=not args.no_exchanges, method=args.method,
                     mip_gap=args.mip_gap, time_limit=args.time_limit, alt_mip_gap=args.alt_mip_gap,
                     alt_time_limit=args.alt_time_limit)
    obj = r.to_json()  # printed and written: computed once
    if args.json:
        print_json(obj)
    else:
        print(alternatives_summary(scenario.settings.name, scenario.settings.currency, r, args.slack, args.objective))
    if args.out:
        out = write_tables(args.out, "alternatives", {"alternatives": r.kpis, "decisions": r.decisions, "summary": r.summary}, obj, r.plans,
                           fmt=args.format, about=About.of("alternatives", scenario, vars(args)))
        decisions_figure(r.decisions, out / "alternatives.png", f"{scenario.settings.name}: decisions per near-optimal plan")
    return 0


def cmd_pareto(args: argparse.Namespace) -> int:
    from symbiosim.decide.figures import pareto_figure
    from symbiosim.decide.pareto import pareto
    from symbiosim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    front = pareto(scenario, args.objectives, args.points, mip_gap=args.mip_gap, time_limit=args.time_limit)
    f1, f2 = front.objectives
    obj = front.to_json()  # printed and written: computed once
    if args.json:
        print_json(obj)
    else:
        print(pareto_summary(scenario.settings.name, scenario.settings.currency, front))
    if args.out:
        out = write_tables(args.out, "pareto", {"pareto": front.points, "decisions": front.decisions}, obj, front.plans,
                           fmt=args.format, about=About.of("pareto", scenario, vars(args)))
        pareto_figure(front.points, f1, f2, out / "pareto.png", f"{scenario.settings.name}: {f1} vs {f2}", scenario.settings.currency)
    return 0


def cmd_cases(args: argparse.Namespace) -> int:
    from symbiosim.decide.cases import case_regions, read_cases, run_cases, write_store
    from symbiosim.decide.figures import cases_figure
    from symbiosim.scenario import load_scenario

    base = load_scenario(args.base)
    cases = read_cases(args.cases)
    store = None if args.no_store else (args.store or DEFAULT_STORE)
    problem = t.store_problem(Path(store)) if store else None
    if problem:  # the default path (an explicit --store was checked when parsed)
        raise t.ArgumentProblem("--store", problem)
    t.check_region(args.region, [*(a.region for a in base.actors), *case_regions(cases)])
    r = run_cases(base, cases, include_base=not args.no_base, region=args.region, mip_gap=args.mip_gap, time_limit=args.time_limit)
    run_id = None if store is None else write_store(r, store)
    r.meta["run_id"] = run_id
    r.meta["store"] = store
    obj = r.to_json()  # printed and written: computed once
    if args.json:
        print_json(obj)
    else:
        print(cases_summary(base.settings.name, base.settings.currency, r, store, run_id))
    if args.out:
        out = write_tables(args.out, "cases", {"comparison": r.comparison, "distribution": r.distribution, "key_figures": r.key_figures}, obj,
                           fmt=args.format, about=About.of("cases", base, vars(args)))
        cases_figure(r.comparison, out / "cases.png", f"{base.settings.name}: cases", base.settings.currency)
    return 0


def cmd_robustness(args: argparse.Namespace) -> int:
    from symbiosim.decide.figures import robustness_figure
    from symbiosim.decide.robustness import robustness
    from symbiosim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    r = robustness(scenario, args.perturb, args.samples, seed=args.seed, mip_gap=args.mip_gap, time_limit=args.time_limit)
    obj = r.to_json()  # printed and written: computed once
    if args.json:
        print_json(obj)
    else:
        print(robustness_summary(scenario.settings.name, scenario.settings.currency, r))
    if args.out:
        out = write_tables(args.out, "robustness", {"decisions": r.decisions, "kpis": r.kpis, "samples": r.samples}, obj,
                           fmt=args.format, about=About.of("robustness", scenario, vars(args)))
        robustness_figure(r.decisions, out / "robustness.png", f"{scenario.settings.name}: decisions under +-{args.perturb:.0%} noise")
    return 0


def cmd_without(args: argparse.Namespace) -> int:
    from symbiosim.decide.without import region_without, without_summary
    from symbiosim.scenario import load_scenario

    if args.seed is not None and args.outcome != "decentralised":
        raise t.ArgumentProblem("--seed", "the simulator's seed: only with --outcome decentralised")
    scenario = load_scenario(args.scenario)
    if args.actor not in {a.id for a in scenario.actors}:
        raise t.ArgumentProblem("actor", f"expected an actor of the scenario ({', '.join(a.id for a in scenario.actors)}), got {args.actor!r}")
    try:
        r = region_without(scenario, args.actor, mip_gap=args.mip_gap, outcome=args.outcome,
                           seed=args.seed or 0)
    except BaselineInfeasibleError as exc:
        print(f"{args.scenario}: the decentralised outcome needs each stand-alone baseline: {exc}", file=sys.stderr)
        return 1
    obj = r.to_json()
    if args.json:
        print_json(obj)
    else:
        print(without_summary(r))
    if args.out:
        write_tables(args.out, "without", {"kpis": r.kpis, "actors": r.actors, "inputs_lost": r.inputs_lost}, obj,
                     fmt=args.format, about=About.of("without", scenario, vars(args)))
    return 0


DEFAULT_STORE = "results/cases.duckdb"


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--out", type=t.output_dir, help="write tables (CSV, or --format), a JSON file and a figure here (a directory)")
    p.add_argument("--format", default="csv", choices=t.FORMATS, help="table format for --out (xlsx: one workbook)")
    p.add_argument("--mip-gap", type=t.mip_gap, default=1e-4, help="relative MIP gap per solve (>= 0, default 1e-4)")
    p.add_argument("--time-limit", type=t.seconds, help="seconds per solve (> 0)")


def add_parsers(sub: Any) -> None:
    """Add the four decision-support subcommands."""
    p = sub.add_parser("alternatives", help="near-optimal plans that differ most in entries, builds, links and exchanges")
    p.add_argument("scenario")
    p.add_argument("--slack", type=t.slack, default=0.05, help="relative slack on the objective (>= 0, default 0.05)")
    p.add_argument("--count", type=t.count, default=4, help="alternatives besides the optimum (>= 1, default 4)")
    p.add_argument("--objective", default="cluster_npv", choices=t.OBJECTIVES)
    p.add_argument("--weights", type=t.weights, help="for --objective weighted (only): e.g. cluster_npv=1,emissions=-500")
    p.add_argument("--no-exchanges", action="store_true", help="distance on entry/build/link only (no arc-use binaries)")
    p.add_argument("--method", default="maxmin", choices=t.ALT_METHODS,
                   help="maxmin: most different from every earlier plan, started from a SPORES plan (default); "
                        "spores: the SPORES plans only (fast)")
    p.add_argument("--alt-mip-gap", type=t.mip_gap, default=0.1, help="MIP gap of each alternative's distance solve (>= 0, default 0.1)")
    p.add_argument("--alt-time-limit", type=t.seconds, default=30.0, help="seconds per alternative (> 0, default 30; best found is used)")
    _common(p)
    p.set_defaults(func=cmd_alternatives)

    p = sub.add_parser("pareto", help="epsilon-constraint front between two objectives")
    p.add_argument("scenario")
    p.add_argument("--objectives", type=t.objective_pair, default=("cluster_npv", "emissions"),
                   help="two of cluster_npv, value_added, jobs, emissions (default cluster_npv,emissions)")
    p.add_argument("--points", type=t.points, default=5, help="plans on the front, anchors included (>= 2, default 5)")
    _common(p)
    p.set_defaults(func=cmd_pareto)

    p = sub.add_parser("cases", help="solve named variants of a base scenario; tables 11 and 12 into DuckDB")
    p.add_argument("base")
    p.add_argument("--cases", required=True, type=t.input_file, help="YAML case file (see symbiosim/decide/cases.py)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--store", type=t.store_path, help=f"DuckDB results store, a DuckDB file or new (default {DEFAULT_STORE})")
    where.add_argument("--no-store", action="store_true", help="do not write the store")
    p.add_argument("--no-base", action="store_true", help="leave the unchanged base out of the tables")
    p.add_argument("--region", type=t.text,
                   help="region of value_added_regional: that of an actor (default: that of most existing actors)")
    _common(p)
    p.set_defaults(func=cmd_cases)

    p = sub.add_parser("robustness", help="share of perturbed solves keeping each decision, spread of key figures")
    p.add_argument("scenario")
    p.add_argument("--perturb", type=t.perturb, default=0.1, help="relative half-width of the uniform noise, in [0, 1) (default 0.1)")
    p.add_argument("--samples", type=t.count, default=20, help="perturbed solves (>= 1, default 20)")
    p.add_argument("--seed", type=t.seed, default=0, help="random seed, an integer >= 0")
    _common(p)
    p.set_defaults(func=cmd_robustness)

    p = sub.add_parser("without", help="what the region loses without one actor: the optimum (or the decentralised outcome) "
                                       "with and without it")
    p.add_argument("scenario")
    p.add_argument("actor", type=t.text, help="the actor taken out (an actor id of the scenario)")
    p.add_argument("--outcome", choices=("optimum", "decentralised"), default="optimum",
                   help="compare the coordinated optimum (default) or the firms' own decentralised outcome")
    p.add_argument("--seed", type=t.seed, help="simulator seed of --outcome decentralised (an integer >= 0, default 0)")
    _common(p)
    p.set_defaults(func=cmd_without)
