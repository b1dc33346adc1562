"""``--format xlsx``: a command's result tables as one Excel workbook.

One sheet per table (the table's name, made a valid and unique sheet name:
at most 31 characters, none of ``[]:*?/\\``), a bold, frozen header row with a
filter, columns as wide as their content, numbers stored as numbers (large
ones shown with thousands separators), and a first sheet ``about`` saying the
command, the scenario, its currency, the options and the unit of every
column where it is known (``column_unit``).

The cells hold the same values as the CSV files of ``--format csv``: an empty
cell is a missing value (NaN), infinities are the texts ``inf`` and ``-inf``
(Excel has no infinite number), lists and mappings are their text, and a text
that starts with ``=`` stays text (a result never holds a formula).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from symbiosim.errors import OutputError
from symbiosim.scenario.excel.write import exact_numbers

ABOUT = "about"
MAX_SHEET_NAME = 31  # Excel's limit
MAX_ROWS = 1_048_576  # Excel's rows per sheet, the header included
MAX_WIDTH = 80  # characters; longer texts overflow
LARGE = 1000.0  # float columns with a value this large show thousands separators
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_TITLE_FONT = Font(bold=True, size=14)

# ------------------------------------------------------------------ units of the columns

MONEY = frozenset({"cluster_npv", "value_added", "public_cost", "cluster_profit", "profit", "value_added_regional",
                   "value_added_national", "deadweight", "revenue", "costs", "cash", "objective_value_money"})
LEDGER = frozenset({"sales", "transfer_in", "subsidy", "purchases", "activity_costs", "disposal_costs", "transport",
                    "transfer_out", "storage_costs", "fixed_costs", "investment", "revenue", "costs", "profit",
                    "value_added"})
QUANTITY_PREFIXES = ("exchanged_", "disposed_", "purchased_", "virgin_avoided_", "disposal_avoided_")
PLAN_QUANTITIES = frozenset({"purchases", "sales", "disposals", "storage", "flows"})
INSTRUMENT_UNITS = {"exchange_subsidy": "{cur} per unit moved between actors", "disposal_tax": "{cur} per unit disposed",
                    "virgin_tax": "{cur} per unit purchased", "carbon_price": "{cur} per t CO2e",
                    "investment_subsidy": "share 0..1 of build and entry costs", "facilitator": "off (0) or on (1)"}
KEY_FIGURE_ROWS = "the key figure's unit: money in {cur} (discounted), jobs in jobs/yr, emissions in t CO2e, quantities in their unit"


def _figure_unit(name: str, cur: str) -> str:
    """The unit of a key figure (a column of many tables, a row of others)."""
    if name in MONEY or name.endswith("_profit") or name.startswith("value_added_region"):
        return f"{cur} (discounted sum over the horizon)"
    if name == "jobs":
        return "jobs/yr (mean over the horizon)"
    if name == "jobs_final_year":
        return "jobs (final year)"
    if name in ("emissions", "co2e_avoided"):
        return "t CO2e (over the horizon)"
    if name == "tonnes_diverted":
        return "t"
    if name.startswith("cost_per_t"):
        return f"{cur} per t" + (" CO2e" if "co2e" in name else "")
    if name == "share" or name.startswith("share_") or name.endswith("_share") or name == "relative_to_optimum":
        return "share, 0 to 1"
    for prefix in QUANTITY_PREFIXES:
        if name.startswith(prefix):
            return f"{name.removeprefix(prefix)} (over the horizon)"
    return ""


def column_unit(table: str, column: str, currency: str) -> str:
    """The unit of ``column`` of the result table ``table`` ("" where it is not known or has none)."""
    cur = currency
    if column == "period":
        return "period index from 0 (the scenario's periods_per_year per year)"
    if column in ("year", "start_year", "end_year") or (table == "builds" and column == "year"):
        return "year index from 0 (0 = the scenario's start_year)"
    if table == "activities" and column == "value":
        return "activity units per period"
    if table in PLAN_QUANTITIES and column == "value":
        return "the product's unit per period" if table != "storage" else "the product's unit (stock)"
    if column == "price":
        return f"{cur} per unit of the product"
    if table == "actors" and column in LEDGER:
        return f"{cur} (discounted sum over the horizon; costs positive)"
    if table == "products" and column in ("exchanged", "disposed", "purchased", "sold"):
        return "the product's unit (column unit), over the horizon"
    if table == "firms" and column == "cash":
        return cur
    if table == "contracts" and column == "amount":
        return "the product's unit per year"
    if table == "offers" and column == "volume":
        return "the product's unit"
    if table == "series" and column == "quantity_exchanged":
        return "units of the products exchanged in the period, summed"
    if table == "transfers" and column != "rule":
        return f"{cur} (discounted; + received, - paid)"
    if table == "distribution":
        return {"quantity": "the product's unit per period", "income": f"{cur} in the period (undiscounted)"}.get(column, "")
    if table in ("kpis", "key_figures") and column in ("baseline", "decentralised", "optimum", "gap", "value", "reference",
                                                      "mean", "sd", "min", "p05", "p50", "p95", "max"):
        return KEY_FIGURE_ROWS.format(cur=cur)
    if table == "comparison" and column == "jobs":
        return "jobs (final year)"
    if column == "level":
        return "the instrument's unit: " + "; ".join(f"{k} {v.format(cur=cur)}" for k, v in INSTRUMENT_UNITS.items())
    if column.endswith("_objective"):
        return _figure_unit(column.removesuffix("_objective"), cur)
    if column == "objective_value":
        return "the objective's unit (cluster_npv, value_added: " + cur + ")"
    return _figure_unit(column, cur)


# ------------------------------------------------------------------ the workbook


@dataclass
class About:
    """What the ``about`` sheet says: the command and the scenario the tables come from."""

    command: str
    scenario: str = ""
    source: str = ""
    currency: str = ""
    description: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    notes: list[tuple[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, command: str, scenario: Any = None, options: Mapping[str, Any] | None = None,
           notes: Iterable[tuple[str, Any]] = ()) -> About:
        """From a scenario (or None) and the parsed options (``vars(args)``; the ones about
        writing and printing are left out; a ``scenario``/``base`` option is the file)."""
        opts = dict(options or {})
        source = str(opts.get("scenario") or opts.get("base") or "")
        skip = {"func", "command", "json", "out", "format", "verbose", "progress", "max_size", "scenario", "base"}
        kept = {k: v for k, v in opts.items() if k not in skip and not callable(v)}
        s = getattr(scenario, "settings", None)
        return cls(command=command, scenario=getattr(s, "name", ""), source=source, currency=getattr(s, "currency", ""),
                   description=getattr(s, "description", "") or "", options=kept, notes=list(notes))


def sheet_names(names: Iterable[str], taken: Iterable[str] = (ABOUT, "history")) -> dict[str, str]:
    """A valid, unique Excel sheet name for each table name: at most 31 characters, none of
    ``[]:*?/\\``, not blank, not Excel's reserved ``History``, and unique ignoring case (as
    Excel compares them); a clash gets a suffix ``~2``, ``~3``..."""
    used = {t.lower() for t in taken}
    out: dict[str, str] = {}
    for name in names:
        base = _BAD_SHEET_CHARS.sub("_", str(name)).strip("'").strip() or "table"
        candidate = base[:MAX_SHEET_NAME]
        n = 1
        while candidate.lower() in used:
            n += 1
            suffix = f"~{n}"
            candidate = base[: MAX_SHEET_NAME - len(suffix)] + suffix
        used.add(candidate.lower())
        out[name] = candidate
    return out


def cell_value(value: Any) -> Any:
    """A table value as a cell value: what the CSV file shows, numbers kept as numbers."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        x = float(value)
        if math.isnan(x):
            return None
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    if isinstance(value, pd.Timestamp | datetime):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", str(value))


def _float_format(values: list[Any]) -> str | None:
    finite = [abs(v) for v in values if isinstance(v, float) and math.isfinite(v)]
    return "#,##0.00" if finite and max(finite) >= LARGE else None


def _shown(value: Any, number_format: str | None) -> int:
    """Characters ``value`` takes on screen."""
    if value is None:
        return 0
    if isinstance(value, float) and not isinstance(value, bool):
        return len(f"{value:,.2f}") if number_format else len(f"{value:.10g}")
    return max((len(line) for line in str(value).splitlines()), default=0)


def _text_cell(ws: WriteOnlyWorksheet, value: Any) -> Any:
    """A text that looks like a formula stays text."""
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        return cell
    return value


def _header(ws: WriteOnlyWorksheet, names: list[str]) -> list[Any]:
    cells = []
    for name in names:
        cell = WriteOnlyCell(ws, value=cell_value(name))
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.data_type = "s"
        cells.append(cell)
    return cells


def _check_rows(sheet: str, frame: pd.DataFrame) -> None:
    if len(frame) + 1 > MAX_ROWS:
        raise OutputError(f"table {sheet!r} has {len(frame):,} rows: more than an Excel sheet holds "
                          f"({MAX_ROWS - 1:,}); use --format csv or parquet")


def _write_table(wb: Workbook, sheet: str, frame: pd.DataFrame) -> None:
    _check_rows(sheet, frame)
    ws = wb.create_sheet(sheet)
    names = [str(c) for c in frame.columns]
    columns = [[cell_value(v) for v in frame.iloc[:, i].tolist()] for i in range(frame.shape[1])]
    formats = [_float_format(col) for col in columns]
    for i, (name, col, fmt) in enumerate(zip(names, columns, formats, strict=True), start=1):
        longest = max((_shown(v, fmt) for v in col), default=0)
        ws.column_dimensions[get_column_letter(i)].width = min(max(longest, len(name) + 2, 6) + 2, MAX_WIDTH)
    ws.freeze_panes = "A2"
    if names:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(names))}{len(frame) + 1}"
    ws.append(_header(ws, names))
    for r in range(len(frame)):
        row = []
        for col, fmt in zip(columns, formats, strict=True):
            value = col[r]
            if fmt and isinstance(value, float):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = fmt
                row.append(cell)
            else:
                row.append(_text_cell(ws, value))
        ws.append(row)


def _write_about(wb: Workbook, about: About, tables: Mapping[str, pd.DataFrame], names: Mapping[str, str]) -> None:
    from symbiosim import __version__

    ws = wb.create_sheet(ABOUT)
    for letter, width in zip("ABCD", (22, 24, 34, 70), strict=True):
        ws.column_dimensions[letter].width = width
    title = WriteOnlyCell(ws, value=f"symbiosim {about.command}: results")
    title.font = _TITLE_FONT
    ws.append([title])
    options = ", ".join(f"{k}={v}" for k, v in sorted(about.options.items()) if v is not None and v is not False)
    rows: list[tuple[str, Any]] = [
        ("command", f"symbiosim {about.command}"),
        ("scenario", about.scenario),
        ("scenario file", about.source),
        ("description", about.description),
        ("currency", about.currency),
        ("options", options or "(defaults)"),
        *about.notes,
        ("symbiosim version", __version__),
        ("written (UTC)", datetime.now(UTC).strftime("%Y-%m-%d %H:%M")),
        ("note", "Every value equals the CSV file of the same table (--format csv); an empty cell is a missing value."),
    ]
    for key, value in rows:
        if value not in (None, ""):
            ws.append([_bold(ws, key), _text_cell(ws, cell_value(value if not isinstance(value, dict | list) else str(value)))])
    ws.append([])
    ws.append(_header(ws, ["sheet", "table (CSV file)", "rows", "columns"]))
    for name, frame in tables.items():
        ws.append([names[name], f"{name}.csv", len(frame), len(frame.columns)])
    ws.append([])
    ws.append(_header(ws, ["sheet", "column", "unit"]))
    for name, frame in tables.items():
        for column in frame.columns:
            ws.append([names[name], _text_cell(ws, cell_value(str(column))),
                       column_unit(name, str(column), about.currency or "money")])


def _bold(ws: WriteOnlyWorksheet, text: str) -> Any:
    cell = WriteOnlyCell(ws, value=text)
    cell.font = _HEADER_FONT
    return cell


def write_workbook(path: str | Path, tables: Mapping[str, pd.DataFrame], about: About) -> Path:
    """Write ``tables`` (name -> frame) as the sheets of one workbook at ``path``, after the
    sheet ``about``. Returns the path.

    Raises:
        OutputError: a table has more rows than an Excel sheet holds (checked before anything is written).
    """
    path = Path(path)
    names = sheet_names(tables)
    for name, frame in tables.items():
        _check_rows(names[name], frame)
    wb = Workbook(write_only=True)
    with exact_numbers():  # a write-only sheet writes its rows as they are appended
        _write_about(wb, about, tables, names)
        for name, frame in tables.items():
            _write_table(wb, names[name], frame)
        wb.save(path)
    return path
