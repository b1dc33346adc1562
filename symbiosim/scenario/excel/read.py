"""Read a scenario workbook (untrusted: formulas are refused, sizes capped)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter

from symbiosim.errors import Issue, ScenarioError
from symbiosim.scenario.excel.columns import (
    DIRECTIONS,
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_DATA_ROWS,
    MAX_ROW,
    README,
    RECIPE_FIELDS,
    RECIPES,
    SHEETS,
    Column,
    _names,
    columns,
    keys,
)
from symbiosim.scenario.schema import Policies

# --------------------------------------------------------------------------- reading


@dataclass
class _Sheet:
    name: str  # normalised (table) name
    rows: dict[int, list[tuple[Any, str]]]  # Excel row number -> [(value, data_type), ...]; no empty rows


def read_workbook(path: str | Path, *, max_bytes: int | None = None) -> dict[str, Any]:
    """Read an ``.xlsx`` scenario into the plain-dict layout of a YAML file.

    Validation happens later, in ``scenario_from_dict``; this only turns sheets
    into tables. Unknown sheets are passed on as (empty) tables so that the
    loader reports them.

    Raises:
        ScenarioError: the file is not a workbook, or its layout is wrong
            (a formula or error cell, a missing header, a bad recipe row, ...);
            every such problem is listed, each with sheet, row and column;
            or the file is larger than ``max_bytes`` (see ``load_scenario``), or
            unzips to more than ``XLSX_UNZIPPED_FACTOR`` times that (a zip bomb).
    """
    return read_workbook_rows(path, max_bytes=max_bytes)[0]


def read_workbook_rows(
    path: str | Path, *, max_bytes: int | None = None, required: Iterable[str] = ()
) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """``read_workbook``, plus the Excel row number of every record of each list table
    (``rows[table][i]`` is the sheet row of ``raw[table][i]``), for error messages.

    ``required``: sheets that must exist; a workbook without one of them is answered
    before any cell is read."""
    from symbiosim.scenario.load import XLSX_UNZIPPED_FACTOR, check_file_size, max_scenario_bytes

    path = Path(path)
    source = str(path)
    limit = max_scenario_bytes(max_bytes)
    check_file_size(path, limit)
    _check_unzipped_size(path, limit, XLSX_UNZIPPED_FACTOR)
    row_numbers: dict[str, list[int]] = {}
    issues: list[Issue] = []
    sheets = _read_cells(path, source, issues, tuple(required))
    raw: dict[str, Any] = {}
    by_name: dict[str, _Sheet] = {}
    for sheet in sheets:
        if sheet.name == README.lower():
            continue
        if sheet.name in by_name:
            issues.append(Issue(sheet.name, None, None, "two sheets have this name (names ignore case and spaces)"))
            continue
        by_name[sheet.name] = sheet

    for name, sheet in by_name.items():
        if name in SHEETS:
            _blank_bad_cells(sheet, issues)

    records = {name: _records(sheet, issues) for name, sheet in by_name.items() if name in SHEETS}
    for name in SHEETS:
        rows = records.get(name)
        if not rows:
            continue
        value: dict[str, Any] | list[dict[str, Any]]
        if name == "settings":
            value = _settings(rows, issues)
        elif name == "policies":
            value = _policies(rows, issues)
        elif name == "profiles":
            value = _profiles(rows, issues)
        elif name == RECIPES:
            continue  # merged into processes below
        else:
            value = [row for _, row in rows]
            row_numbers[name] = [r for r, _ in rows]
        if value:
            raw[name] = value
    if records.get(RECIPES) and records.get("processes"):
        # (without process rows the loader reports the missing table; no error per recipe row)
        _merge_recipes(records["processes"], records[RECIPES], issues)
    for name, sheet in by_name.items():
        if name not in SHEETS and sheet.rows:
            raw[name] = None  # unknown sheet: the loader names it (with a suggestion); empty ones are ignored
    if issues:
        raise ScenarioError(issues, source)
    return raw, row_numbers


def _check_unzipped_size(path: Path, limit: int, factor: int) -> None:
    """``ScenarioError`` if the workbook's parts unzip to more than ``factor x limit`` bytes.

    The sizes are those the zip declares; reading never yields more than declared."""
    try:
        with zipfile.ZipFile(path) as z:
            total = sum(info.file_size for info in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return  # not a zip: reading it as a workbook reports that
    if total > factor * limit:
        from symbiosim.scenario.load import too_large

        message = too_large("the workbook's content (unzipped)", total, factor * limit)
        message = message.replace("limit of", f"limit ({factor} x the file size limit) of", 1)
        raise ScenarioError([Issue("(file)", None, None, message)], str(path))


def _read_cells(path: Path, source: str, issues: list[Issue], required: tuple[str, ...] = ()) -> list[_Sheet]:
    """Every non-empty row of every worksheet, read once; a file that is no workbook is a ScenarioError.

    Sizes are capped (``MAX_COLUMNS``, ``MAX_DATA_ROWS``, Excel's last row) so that a
    small hostile file cannot claim billions of cells; a sheet beyond a cap is reported.
    """
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # zipfile, XML, openpyxl errors: all mean "not a workbook"
        raise ScenarioError([Issue("(file)", None, None, _not_xlsx(exc))], source) from None
    names = {str(name).strip().lower() for name in wb.sheetnames}
    missing = [table for table in required if table not in names]
    if missing:
        wb.close()
        raise ScenarioError([Issue(t, None, None, "required table is missing or empty") for t in missing], source)
    budget = MAX_CELLS
    try:
        sheets = []
        for ws in wb.worksheets:
            name = ws.title.strip().lower()
            rows: dict[int, list[tuple[Any, str]]] = {}
            if hasattr(ws, "reset_dimensions"):  # a worksheet, not a chart sheet
                # Trust the cells, not the declared size: no padding to a claimed XFD1048576.
                ws.reset_dimensions()
                for r, row in enumerate(ws.iter_rows(), start=1):
                    budget -= len(row) + 1
                    width = next((i for i in range(len(row), 0, -1) if row[i - 1].value is not None), 0)
                    too_big = _too_big(r, width, len(rows), budget)
                    if too_big:
                        issues.append(Issue(name, f"row {r}", None, too_big))
                        break
                    if width:
                        rows[r] = [(c.value, c.data_type) for c in row[:width]]
            sheets.append(_Sheet(name, rows))
        return sheets
    except Exception as exc:
        raise ScenarioError([Issue("(file)", None, None, _not_xlsx(exc))], source) from None
    finally:
        wb.close()


def _too_big(r: int, width: int, rows: int, budget: int) -> str:
    if budget < 0:
        return f"the workbook spans more than {MAX_CELLS} cells (empty ones included): too large for a scenario"
    if r > MAX_ROW:
        return f"row {r} is beyond Excel's last row {MAX_ROW}"
    if width > MAX_COLUMNS:
        return (
            f"a value in column {get_column_letter(min(width, 16384))} is beyond column "
            f"{get_column_letter(MAX_COLUMNS)}: a scenario sheet has at most {MAX_COLUMNS} columns"
        )
    if rows >= MAX_DATA_ROWS:
        return f"more than {MAX_DATA_ROWS} non-empty rows: too large for a scenario sheet"
    return ""


def _not_xlsx(exc: Exception) -> str:
    detail = str(exc).strip() or type(exc).__name__
    return (
        f"cannot read the file as an Excel workbook ({detail[:200]}); "
        "expected an .xlsx file saved by Excel or LibreOffice (Excel 2007+ workbook)"
    )


def _header(sheet: _Sheet) -> list[str | None]:
    out: list[str | None] = []
    for value, _ in sheet.rows.get(1, []):
        text = str(value).strip() if value is not None else ""
        out.append(text or None)
    return out


def _blank_bad_cells(sheet: _Sheet, issues: list[Issue]) -> None:
    """Report formula and error cells, then treat them as empty."""
    header = _header(sheet)
    for r, row in sheet.rows.items():
        for c, (value, data_type) in enumerate(row, start=1):
            if data_type not in ("f", "e"):
                continue
            ref = f"{get_column_letter(c)}{r}"
            column = header[c - 1] if r > 1 and c <= len(header) else None
            if data_type == "f":
                text = getattr(value, "text", None) or (value if isinstance(value, str) else "array formula")
                text = text if len(text) <= 60 else text[:57] + "..."
                message = f"cell {ref} holds a formula ({text}); symbiosim never evaluates formulas: enter the value"
            else:
                message = f"cell {ref} holds the error value {value}: enter a value"
            issues.append(Issue(sheet.name, f"row {r}", column, message))
            row[c - 1] = (None, "n")


def _normalise(value: Any, col: Column | None) -> Any:
    """Cell value as data: empty text is None, numbers typed into text columns become text."""
    if isinstance(value, str):
        if not value.strip():
            return None
        return value if col is not None and col.free_text else value.strip()
    if col is not None and col.text and isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    return value


def _records(sheet: _Sheet, issues: list[Issue]) -> list[tuple[int, dict[str, Any]]]:
    """The non-empty data rows of a sheet as (Excel row number, {column: value})."""
    table = sheet.name
    header = _header(sheet)
    cols = {c.name: c for c in columns(table)}
    long_format = table in ("settings", "policies", RECIPES, "profiles")
    has_data = any(v is not None and str(v).strip() for r, row in sheet.rows.items() if r > 1 for v, _ in row)
    if not any(header):
        if has_data:
            issues.append(
                Issue(
                    table, "row 1", None, f"missing header row: expected the column names in row 1: {', '.join(cols)}"
                )
            )
        return []
    bad_header = False
    seen: set[str] = set()
    for c, name in enumerate(header, start=1):
        if name is None:
            continue
        if name in seen:
            issues.append(
                Issue(table, "row 1", name, f"column {name} appears twice in row 1 (cell {get_column_letter(c)}1)")
            )
            bad_header = True
        seen.add(name)
        if long_format and name not in cols:
            issues.append(
                Issue(
                    table, "row 1", name, f"unknown column (cell {get_column_letter(c)}1); expected: {', '.join(cols)}"
                )
            )
            bad_header = True
    if long_format:
        optional = {"product"} if table == "policies" else set()
        missing = [n for n in cols if n not in seen and n not in optional]
        if missing:
            issues.append(
                Issue(
                    table, "row 1", None, f"missing column {', '.join(missing)}: expected in row 1: {', '.join(cols)}"
                )
            )
            bad_header = True
    if table == "processes":
        for name in RECIPE_FIELDS:
            if name in seen:
                issues.append(
                    Issue(
                        table,
                        "row 1",
                        name,
                        f"recipes are not columns of processes: list them in the sheet "
                        f"{RECIPES} ({', '.join(_names(columns(RECIPES)))})",
                    )
                )
                bad_header = True
    out = []
    for r, row in sheet.rows.items():
        if r == 1:
            continue
        record: dict[str, Any] = {}
        for c, (value, _) in enumerate(row, start=1):
            name = header[c - 1] if c <= len(header) else None
            value = _normalise(value, cols.get(name) if name else None)
            if value is None:
                continue
            if name is None:
                issues.append(
                    Issue(
                        table,
                        f"row {r}",
                        None,
                        f"cell {get_column_letter(c)}{r} holds a value but its column has no name in row 1",
                    )
                )
                bad_header = True
                continue
            record[name] = value
        if record:
            out.append((r, record))
    return [] if bad_header else out


def _settings(rows: list[tuple[int, dict[str, Any]]], issues: list[Issue]) -> dict[str, Any]:
    known = {c.name: c for c in keys("settings")}
    out: dict[str, Any] = {}
    for r, row in rows:
        key = row.get("key")
        if key is None:
            issues.append(
                Issue("settings", f"row {r}", "key", f"a value without a key: expected one of {', '.join(known)}")
            )
            continue
        value = _normalise(row.get("value"), known.get(key))
        if value is None:
            continue  # empty value: the default applies
        if key in out:
            issues.append(Issue("settings", f"row {r}", "key", f"setting {key} appears twice"))
        out[key] = value
    return out


def _policies(rows: list[tuple[int, dict[str, Any]]], issues: list[Issue]) -> dict[str, Any]:
    entries: dict[str, list[tuple[str | None, Any]]] = {}
    for r, row in rows:
        instrument, product, value = row.get("instrument"), row.get("product"), row.get("value")
        if instrument is None:
            issues.append(
                Issue("policies", f"row {r}", "instrument", f"expected one of {', '.join(Policies.model_fields)}")
            )
            continue
        if value is None:
            if product is not None:
                issues.append(
                    Issue(
                        "policies",
                        f"row {r}",
                        "value",
                        f"no value for {instrument} on product {product}: enter a number or delete the row",
                    )
                )
            continue  # an instrument listed without a value is not set
        # An empty product and "*" both mean every product; only a lone empty one is a plain number.
        if any((p or "*") == (product or "*") for p, _ in entries.get(instrument, [])):
            issues.append(
                Issue(
                    "policies",
                    f"row {r}",
                    "product",
                    f"{instrument} for {product or 'every product (*)'} appears twice",
                )
            )
            continue
        entries.setdefault(instrument, []).append((product, value))
    out: dict[str, Any] = {}
    for instrument, items in entries.items():
        if len(items) == 1 and items[0][0] is None:
            out[instrument] = items[0][1]
        else:
            out[instrument] = {p or "*": v for p, v in items}
    return out


def _profiles(rows: list[tuple[int, dict[str, Any]]], issues: list[Issue]) -> dict[str, list[Any]]:
    factors: dict[str, dict[int, Any]] = {}
    for r, row in rows:
        name, period, factor = row.get("name"), row.get("period"), row.get("factor")
        where = f"row {r}"
        if name is None:
            issues.append(Issue("profiles", where, "name", "expected the profile name"))
            continue
        if isinstance(period, float) and period.is_integer():
            period = int(period)
        if not isinstance(period, int) or isinstance(period, bool) or period < 0:
            issues.append(
                Issue(
                    "profiles",
                    where,
                    "period",
                    f"expected a period index 0, 1, ... (0 = first period of the year), got {period!r}",
                )
            )
            continue
        if factor is None:
            issues.append(
                Issue("profiles", where, "factor", f"no factor for period {period} of {name}: enter a number")
            )
            continue
        if period in factors.setdefault(name, {}):
            issues.append(Issue("profiles", where, "period", f"period {period} of profile {name} appears twice"))
            continue
        factors[name][period] = factor
    out = {}
    for name, by_period in factors.items():
        # n distinct periods are 0 .. n-1 unless one below n is missing (never builds range(max)).
        missing = [p for p in range(len(by_period)) if p not in by_period]
        if missing:
            extra = sorted(p for p in by_period if p >= len(by_period))
            issues.append(
                Issue(
                    "profiles",
                    name,
                    "period",
                    f"expected periods 0, 1, 2, ... without gaps; missing {', '.join(map(str, missing))} "
                    f"(has {', '.join(map(str, extra))})",
                )
            )
        out[name] = [by_period[p] for p in sorted(by_period)]
    return out


def _merge_recipes(
    processes: list[tuple[int, dict[str, Any]]], recipes: list[tuple[int, dict[str, Any]]], issues: list[Issue]
) -> None:
    """Put the recipe rows into the process records (``inputs``/``outputs``), in place."""
    by_id: dict[Any, dict[str, Any]] = {}
    for _, row in processes:
        by_id.setdefault(row.get("id"), row)
    for r, row in recipes:
        where = f"row {r}"
        process, product, direction, amount = (row.get(k) for k in ("process", "product", "direction", "amount"))
        bad = False
        if process is None:
            issues.append(Issue(RECIPES, where, "process", "expected a process id"))
            bad = True
        elif process not in by_id:
            issues.append(
                Issue(RECIPES, where, "process", f"unknown process `{process}`: expected an id of the processes sheet")
            )
            bad = True
        if product is None:
            issues.append(Issue(RECIPES, where, "product", "expected a product id"))
            bad = True
        key = DIRECTIONS.get(direction.lower()) if isinstance(direction, str) else None
        if key is None:
            issues.append(Issue(RECIPES, where, "direction", f"expected input or output, got {direction!r}"))
            bad = True
        if amount is None:
            issues.append(Issue(RECIPES, where, "amount", "expected the amount per unit of activity (a number > 0)"))
            bad = True
        if bad or key is None:
            continue
        recipe = by_id[process].setdefault(key, {})
        if product in recipe:
            issues.append(Issue(RECIPES, where, "product", f"{product} appears twice as an {key[:-1]} of {process}"))
            continue
        recipe[product] = amount


# --------------------------------------------------------------------------- writing


