"""``symbiosim ledgers``: its argument parser and command (the CLI unit; the work is in
``symbiosim.ripple.ledgers``, the figure in ``symbiosim.report.ledger_figures``).

Organisation numbers are sensitive: they are printed, and written into ``--out``, only with
``--show-ids`` (the DuckDB file keeps them: it is the user's own copy of the ledgers)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from symbiosim import cli_args as t
from symbiosim.report.jsonable import print_json, records

LEDGER_SUFFIXES = (".csv", ".xlsx")
year = t.integer(1900, 2100, " (a year)")
ID_COLUMNS = ("firm_orgnr", "counterpart_orgnr")


def ledger_file(text: str) -> str:
    """A ledger file: an existing, readable ``.csv`` or ``.xlsx`` file."""
    if Path(text).suffix.lower() not in LEDGER_SUFFIXES:
        raise argparse.ArgumentTypeError(f"expected a ledger file ending in .csv or .xlsx, got {text!r}")
    return t.input_file(text)


def mapping_file(text: str) -> str:
    """A mapping file: an existing, readable ``.csv`` or ``.xlsx`` file."""
    if Path(text).suffix.lower() not in LEDGER_SUFFIXES:
        raise argparse.ArgumentTypeError(f"expected a mapping file ending in .csv or .xlsx, got {text!r}")
    return t.input_file(text)


def public_log(log: pd.DataFrame, show_ids: bool) -> pd.DataFrame:
    """The cleaning log without organisation numbers (unless ``show_ids``)."""
    return log if show_ids else log.drop(columns=[c for c in ID_COLUMNS if c in log.columns])


def _named(frame: pd.DataFrame, names: dict[str, str], *columns: str) -> pd.DataFrame:
    out = frame.copy()
    for c in columns:
        out[c] = [names.get(a, a) for a in out[c]]
    return out


def ledgers_text(result: Any, files: int, show_ids: bool = False) -> str:
    """The cleaning summary, the cleaning log, the flows between actors and the linkage indices."""
    import symbiosim.report.numbers as numbers

    cur = result.currency
    when = result.year if result.year is not None else "(no year: no rows kept)"
    lines = [f"ledgers: {files} file{'s' if files != 1 else ''}, {len(result.raw)} rows read, {len(result.cleaned)} kept "
             f"after cleaning; money in {cur} (the scenario's currency)"]
    summary = result.summary
    lines += ["", "cleaning (rows and amount of each step):",
              numbers.table(summary, {"step": numbers.Column("text"), "rows": numbers.Column("count"),
                                      "amount": numbers.Column("money", cur), "what": numbers.Column("text")}, max_text=100)]
    log = public_log(result.log, show_ids)
    if len(log):
        cols = {"step": numbers.Column("text"), "file": numbers.Column("text"), "row": numbers.Column("count"),
                "column": numbers.Column("text"), "detail": numbers.Column("text")}
        if show_ids:
            cols |= {"firm_orgnr": numbers.Column("text", title="firm"),
                     "counterpart_orgnr": numbers.Column("text", title="counterpart")}
        lines += ["", "cleaning log:", numbers.table(log, cols, max_text=90, width=120)]
    flows = result.actor_flows
    flows = flows[flows["year"] == result.year] if result.year is not None else flows.iloc[:0]
    lines += ["", f"money flows between actors, {when} (seller -> buyer: paid by the buyer):",
              numbers.table(_named(flows, result.names, "seller", "buyer"),
                            {"seller": numbers.Column("text"), "buyer": numbers.Column("text"),
                             "amount": numbers.Column("money", cur), "reported_by": numbers.Column("text", title="reported by")},
                            empty="(none: no two actors' ledgers name each other)")]
    if "io_sector" in result.sector_flows.columns:
        sf = result.sector_flows
        sf = sf[sf["year"] == result.year].groupby(["actor", "direction", "io_sector"], as_index=False)["amount"].sum()
        lines += ["", f"purchases and sales by input-output sector, {when}:",
                  numbers.table(_named(sf, result.names, "actor"),
                                {"actor": numbers.Column("text"), "direction": numbers.Column("text"),
                                 "io_sector": numbers.Column("text", title="sector"), "amount": numbers.Column("money", cur)})]
    links = result.linkages
    lines += ["", f"linkage indices, {when} (Rasmussen 1956; > 1: above the cluster's average):",
              numbers.table(_named(links, result.names, "actor"),
                            {"actor": numbers.Column("text"), "output": numbers.Column("money", cur, "output (sales)"),
                             "cluster_purchases": numbers.Column("money", cur, "bought in cluster"),
                             "cluster_sales": numbers.Column("money", cur, "sold in cluster"),
                             "backward": numbers.Column("number", decimals=3),
                             "forward": numbers.Column("number", title="forward (Ghosh)", decimals=3),
                             "forward_leontief": numbers.Column("number", title="forward (Leontief)", decimals=3)})]
    lines += [
        "  backward: column sums of the Leontief inverse (I - A)^-1, a_ij = z_ij / x_j; forward: row sums of the Ghosh",
        "  inverse (I - B)^-1, b_ij = z_ij / x_i; each over its mean. z: flows between actors, x: each actor's total sales.",
    ]
    if result.notes:
        lines += ["", "notes:", *(f"  - {n}" for n in result.notes)]
    return "\n".join(lines)


def ledgers_json(result: Any, show_ids: bool = False) -> dict[str, Any]:
    summary = result.summary
    return {
        "status": "ok", "year": result.year, "currency": result.currency,
        "rows_read": len(result.raw), "rows_kept": len(result.cleaned),
        "cleaning": {r.step: {"rows": int(r.rows), "amount": float(r.amount)} for r in summary.itertuples()},
        "log": records(public_log(result.log, show_ids)),
        "actor_flows": records(result.actor_flows), "sector_flows": records(result.sector_flows),
        "linkages": records(result.linkages), "names": result.names, "notes": result.notes,
    }


def baseline_material(scenario: Any) -> tuple[pd.DataFrame | None, str]:
    """The material and energy the firms deliver each other today: the stand-alone baseline's flows in the
    plan's first year (existing exchanges only), and what the figure's title says of them; (None, why)
    when the baseline has no plan (the figure then shows the existing links without quantities)."""
    from symbiosim.errors import InfeasibleError, ModelError, UnboundedError
    from symbiosim.planner import optimise
    from symbiosim.ripple.ledgers import material_flows

    try:
        plan = optimise(scenario, baseline=True)
    except (InfeasibleError, UnboundedError, ModelError) as exc:
        return None, f"the stand-alone baseline has no plan ({exc}): existing links shown without quantities"
    return material_flows(scenario, plan.flows, year=0), f"stand-alone baseline, {scenario.settings.start_year}"


def write_outputs(result: Any, scenario: Any, out: Path, show_ids: bool = False, material: str = "baseline") -> list[Path]:
    """CSV tables and the figure into ``out``; ``material``: ``baseline`` (quantities the stand-alone plan
    delivers in its first year; one solve) or ``links`` (the existing links, no quantities, nothing solved)."""
    from symbiosim.report.ledger_figures import ledger_figure

    out.mkdir(parents=True, exist_ok=True)
    tables = {"cleaning_summary": result.summary, "cleaning_log": public_log(result.log, show_ids),
              "actor_flows": result.actor_flows, "sector_flows": result.sector_flows, "linkages": result.linkages}
    written = []
    for name, frame in tables.items():
        path = out / f"{name}.csv"
        frame.to_csv(path, index=False)
        written.append(path)
    flows, what = (None, "existing links") if material == "links" else baseline_material(scenario)
    if flows is None and material != "links":
        result.notes.append(what)
        what = "existing links"
    if flows is not None:
        flows.to_csv(out / "material_flows.csv", index=False)
        written.append(out / "material_flows.csv")
    written.append(ledger_figure(result, scenario, out / "ledger_flows.png", material=flows, material_title=what,
                                 show_ids=show_ids))
    return written


def cmd_ledgers(args: argparse.Namespace) -> int:
    from symbiosim.ripple.ledgers import import_ledgers
    from symbiosim.scenario import load_scenario

    if args.material is not None and not args.out:
        raise t.ArgumentProblem("--material", "the material flows of --out's figure: only with --out")
    scenario = load_scenario(args.scenario)
    io_sectors = None
    if args.io_table:
        from symbiosim.ripple.iotable import load_io_table

        io_sectors = list(load_io_table(args.io_table).sectors)
    result = import_ledgers(args.ledger_files, scenario, actor_map=args.map_actors, sector_map=args.map_sectors,
                            year=args.year, skip_invalid=args.skip_invalid, db=args.db, io_sectors=io_sectors)
    if args.json:
        print_json(ledgers_json(result, args.show_ids) | {"db": str(args.db)})
    else:
        print(ledgers_text(result, len(args.ledger_files), args.show_ids))
        print(f"\ntables (raw, cleaned, cleaning_log, flows, linkages) written to {args.db}")
    if args.out:
        write_outputs(result, scenario, Path(args.out), args.show_ids, args.material or "baseline")
        if not args.json:
            print(f"results written to {args.out}/")
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("ledgers", help="import firms' customer and supplier ledgers: cleaning, money flows, linkage indices")
    p.add_argument("ledger_files", nargs="+", type=ledger_file, metavar="LEDGER_FILE",
                   help="ledger files (.csv or .xlsx): firm_orgnr, counterpart_orgnr, counterpart_name, amount, year, "
                        "kind (customer|supplier)[, country]")
    p.add_argument("--scenario", type=t.input_file, required=True, help="the scenario whose actors the ledgers belong to")
    p.add_argument("--map-actors", type=mapping_file, metavar="FILE",
                   help="CSV orgnr,actor[,role]: organisation numbers of the actors (role site or head_office)")
    p.add_argument("--map-sectors", type=mapping_file, metavar="FILE",
                   help="CSV orgnr,sector: the (NACE) sector of counterparts outside the cluster")
    p.add_argument("--io-table", type=t.input_file, metavar="IO_FILE",
                   help="an input-output table (as for symbiosim multipliers): each sector's flows also by the table's sectors")
    p.add_argument("--db", type=t.store_path, default="results/ledgers.duckdb",
                   help="DuckDB file for the tables (default results/ledgers.duckdb; its ledger tables are replaced)")
    p.add_argument("--out", type=t.output_dir, help="write CSV tables and the figure ledger_flows.png here (a directory)")
    p.add_argument("--material", choices=("baseline", "links"),
                   help="material flows beside the money flows in --out's figure: baseline (default: the quantities "
                        "the stand-alone plan delivers in its first year; one solve) or links (existing links, no solve)")
    p.add_argument("--year", type=year, help="year of the flows and linkages printed (default: the latest in the ledgers)")
    p.add_argument("--skip-invalid", action="store_true",
                   help="drop rows with malformed or missing values (each logged) instead of stopping with their list")
    p.add_argument("--show-ids", action="store_true",
                   help="print (and write into --out) organisation numbers; without it only names and actor ids appear")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_ledgers)
