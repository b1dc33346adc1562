"""``symbiosim multipliers``: its argument parser and command (the CLI unit; the work is in
``symbiosim.ripple.multipliers``)."""

from __future__ import annotations

import argparse
from typing import Any

from symbiosim import cli_args as t
from symbiosim.errors import Issue, ScenarioError
from symbiosim.report.jsonable import print_json

delta = t.number(0.0, 1.0, high_open=True)  # FLQ's δ in [0, 1)


def multiplier_type(text: str) -> str:
    """``--type``: I or II (case ignored)."""
    value = text.strip().upper()
    if value not in ("I", "II"):
        raise argparse.ArgumentTypeError(f"expected I or II, got {text!r}")
    return value


def cmd_multipliers(args: argparse.Namespace) -> int:
    from symbiosim.ripple.iotable import load_io_table
    from symbiosim.ripple.multipliers import DEFAULT_DELTA, load_region_totals, multipliers

    if args.delta is not None and not args.region_totals:
        raise t.ArgumentProblem("--delta", "only with --region-totals (δ is FLQ's, for regionalising the table)")
    table = load_io_table(args.io_file)
    if args.type == "II" and table.households is None:
        raise ScenarioError([Issue("households", None, None,
                                   "type II multipliers need households (wages and consumption per sector); the "
                                   "table has none: use --type I or add households")], args.io_file,
                            what="input-output table")
    region = load_region_totals(args.region_totals) if args.region_totals else None
    try:
        m = multipliers(table, args.type, region=region, delta=DEFAULT_DELTA if args.delta is None else args.delta)
    except ScenarioError as exc:
        source = args.region_totals if exc.what == "regional totals" else args.io_file
        raise ScenarioError(exc.issues, source, what=exc.what) from None
    if args.json:
        print_json(m.to_json())
    else:
        print(multipliers_text(table, m))
    return 0


def multipliers_text(table: Any, m: Any) -> str:
    """The multipliers as a table with units (report.numbers' rules)."""
    import pandas as pd

    import symbiosim.report.numbers as numbers

    cur = table.currency or "currency unit"
    where = f"region {m.region} (FLQ, δ = {numbers.number(m.delta)}) of table" if m.region else "table"
    frame = pd.DataFrame({"sector": list(m.sectors), "output": m.output, "value_added": m.value_added,
                          "employment": m.jobs_per_million()})
    columns = {
        "sector": numbers.Column("text"),
        "output": numbers.Column("number", f"{cur} per {cur}", "output"),
        "value_added": numbers.Column("number", f"{cur} per {cur}", "value added"),
        "employment": numbers.Column("number", f"jobs per million {cur}", "employment"),
    }
    closure = "households closed into the model (induced effects included)" if m.type == "II" else "households outside"
    lines = [
        f"Simple multipliers, type {m.type}: {where} {table.name} ({len(m.sectors)} sectors, money in {table.money_unit()})",
        f"  effect per unit of final demand for each sector's output; {closure}",
        numbers.table(frame, columns),
    ]
    return "\n".join(lines)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("multipliers", help="output, value-added and employment multipliers of an input-output table")
    p.add_argument("io_file", type=t.input_file, metavar="IO_FILE",
                   help="input-output table (.yaml, .yml or .xlsx; contract v1.2, docs/scenario-format.md)")
    p.add_argument("--type", type=multiplier_type, default="I",
                   help="I (direct + indirect, default) or II (+ induced: needs households in the table)")
    p.add_argument("--region-totals", type=t.input_file, metavar="FILE",
                   help="regional output or employment per sector (.yaml or .csv): regionalise the table by FLQ")
    p.add_argument("--delta", type=delta,
                   help="FLQ's δ in [0, 1) (default 0.3, Flegg & Webber 1997; only with --region-totals)")
    p.add_argument("--json", action="store_true",
                   help='print one JSON object {"sectors", "type", "output", "value_added", "employment"} '
                        "(employment in jobs per million currency units)")
    p.set_defaults(func=cmd_multipliers)
