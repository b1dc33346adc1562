"""Read an input-output table (contract v1.2, docs/scenario-format.md, "Input-output table")
into one frozen, validated ``IOTable``; every problem is located, all at once.

A file is YAML (read by the scenario loader's bounded safe reader) or an Excel
workbook (read as values: formulas are refused, sizes capped, as a scenario's):

* sheet ``settings``: columns ``key``, ``value``; keys ``name``, ``currency``, ``unit``;
* sheet ``intermediate``: the matrix Z; row 1 names the buying sectors (from column B),
  column A the selling sectors (from row 2), in the same order; the header gives ``sectors``;
* sheet ``sectors``: columns ``sector``, ``output``, ``value_added``, ``employment``;
* sheet ``households`` (optional): columns ``sector``, ``wages``, ``consumption``.

Errors name the table, the row and the column: ``intermediate[fishing].wood: expected a
number >= 0, got -3``, ``output[wood]: ...``, ``households[wood].wages: ...``; a sheet's
layout errors name the sheet row (``sectors[row 4].output``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from symbiosim.errors import Issue, ScenarioError
from symbiosim.scenario.schema import number_problem, show

KEYS = ("name", "currency", "unit", "sectors", "intermediate", "output", "value_added", "employment", "households")
REQUIRED = ("sectors", "intermediate", "output", "value_added", "employment")
VECTORS = ("output", "value_added", "employment")
HOUSEHOLD_KEYS = ("wages", "consumption")
MAX_SECTORS = 2000  # the Leontief inverse of 2000 sectors takes about a second; a file this large is no regional table
TOLERANCE = 1e-9  # relative slack of "purchases <= output" (rounding in published tables)


@dataclass(frozen=True)
class Households:
    """Household income paid by each sector (``wages``) and household purchases from each sector
    (``consumption``), in the table's money unit."""

    wages: tuple[float, ...]
    consumption: tuple[float, ...]


@dataclass(frozen=True)
class IOTable:
    """An input-output table; rows sell to columns. Money in ``unit`` x ``currency``; employment in persons."""

    name: str
    currency: str
    unit: float
    sectors: tuple[str, ...]
    intermediate: tuple[tuple[float, ...], ...]
    output: tuple[float, ...]
    value_added: tuple[float, ...]
    employment: tuple[float, ...]
    households: Households | None = None

    @property
    def Z(self) -> np.ndarray:  # noqa: N802 - the textbook's name
        return np.array(self.intermediate, dtype=float).reshape(len(self.sectors), len(self.sectors))

    @property
    def x(self) -> np.ndarray:
        return np.array(self.output, dtype=float)

    def money_unit(self) -> str:
        """``1,000,000 NOK``: what one money value of the table is."""
        u = f"{self.unit:,.0f}" if float(self.unit).is_integer() else f"{self.unit:g}"
        return f"{u} {self.currency}".strip()


# --------------------------------------------------------------------------- reading


def load_io_table(path: str | Path, *, max_bytes: int | None = None) -> IOTable:
    """Read and validate an input-output table (``.yaml``/``.yml`` or ``.xlsx``).

    Raises:
        ScenarioError: every problem of the file, each with table, row and column
            (``what`` is "input-output table").
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        from symbiosim.scenario.load import read_yaml

        try:
            raw = read_yaml(path, max_bytes=max_bytes)  # (not required=: that names a scenario's tables)
        except ScenarioError as exc:
            raise ScenarioError(exc.issues, exc.source, what="input-output table") from None
    elif suffix == ".xlsx":
        raw = read_io_workbook(path, max_bytes=max_bytes)
    else:
        raise ScenarioError(
            [Issue("(file)", None, None, f"unknown file type {suffix!r}: expected .yaml, .yml or .xlsx")], str(path),
            what="input-output table",
        )
    return io_table_from_dict(raw, source=str(path), default_name=path.stem)


def io_table_from_dict(raw: Any, source: str = "", default_name: str = "io_table") -> IOTable:
    """Validate the plain data of a table (as read from YAML) into an ``IOTable``.

    Raises:
        ScenarioError: every problem found, located.
    """
    issues: list[Issue] = []

    def fail() -> ScenarioError:
        return ScenarioError(issues, source, what="input-output table")

    if not isinstance(raw, Mapping):
        issues.append(Issue("(file)", None, None, f"expected a mapping with keys {', '.join(KEYS)}, got {show(raw)}"))
        raise fail()
    for key in raw:
        if key not in KEYS:
            from symbiosim.scenario.load import did_you_mean

            issues.append(Issue(str(key), None, None, f"unknown key{did_you_mean(str(key), KEYS)}; expected: {', '.join(KEYS)}"))
    for key in REQUIRED:
        if raw.get(key) in (None, [], {}):
            issues.append(Issue(key, None, None, "required table is missing or empty"))

    name = _text(raw.get("name"), "name", default_name, issues)
    currency = _text(raw.get("currency"), "currency", "", issues)
    unit = raw.get("unit", 1)
    if isinstance(unit, bool) or not isinstance(unit, int | float) or number_problem(unit) or unit <= 0:
        issues.append(Issue("unit", None, None, f"expected a number > 0 (currency units per money value), got {show(unit)}"))
        unit = 1.0

    sectors = _sectors(raw.get("sectors"), issues)
    n = len(sectors) if sectors is not None else None
    labels = list(sectors) if sectors is not None else None

    Z = _matrix(raw.get("intermediate"), n, labels, issues)
    vectors = {key: _vector(raw.get(key), key, None, n, labels, issues) for key in VECTORS}
    households = _households(raw.get("households"), n, labels, issues)

    x = vectors["output"]
    if x is not None and labels is not None:
        for i, value in enumerate(x):
            if not math.isnan(value) and value <= 0:
                issues.append(Issue("output", labels[i], None,
                                    f"expected a number > 0, got {show(value)}: a sector without output has no "
                                    "coefficients; leave it out of the table"))
        if Z is not None:
            purchases = np.nansum(Z, axis=0)
            for j, sector in enumerate(labels):
                if x[j] > 0 and purchases[j] > x[j] * (1 + TOLERANCE):
                    issues.append(Issue("intermediate", None, sector,
                                        f"intermediate purchases of {sector} sum to {purchases[j]:g}, more than its "
                                        f"output {x[j]:g}: a sector cannot buy more inputs than it produces"))
    if households is not None and not issues and sum(households.wages) <= 0:
        issues.append(Issue("households", None, "wages", "households earn nothing (every wage is 0): type II "
                                                         "effects need household income; remove households or give wages"))
    if issues:
        raise fail()
    assert sectors is not None and Z is not None and x is not None
    return IOTable(
        name=name,
        currency=currency,
        unit=float(unit),
        sectors=tuple(sectors),
        intermediate=tuple(tuple(float(v) for v in row) for row in Z),
        output=tuple(float(v) for v in x),
        value_added=tuple(float(v) for v in vectors["value_added"]),  # type: ignore[union-attr]
        employment=tuple(float(v) for v in vectors["employment"]),  # type: ignore[union-attr]
        households=households,
    )


def _text(value: Any, key: str, default: str, issues: list[Issue]) -> str:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, str | int | float) or not str(value).strip():
        issues.append(Issue(key, None, None, f"expected a text, got {show(value)}"))
        return default
    return str(value).strip()


def _number(value: Any, issues: list[Issue], table: str, row: str | int | None, column: str | None) -> float:
    """A finite number >= 0 within the contract's range (NaN after an issue)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        issues.append(Issue(table, row, column, f"expected a number >= 0, got {show(value)}"))
        return math.nan
    problem = number_problem(value)
    if problem:
        issues.append(Issue(table, row, column, f"{problem}, got {show(value)}"))
        return math.nan
    if value < 0:
        issues.append(Issue(table, row, column, f"expected a number >= 0, got {show(value)}"))
        return math.nan
    return float(value)


def _sectors(value: Any, issues: list[Issue]) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        issues.append(Issue("sectors", None, None, f"expected a list of sector names, got {show(value)}"))
        return None
    if len(value) > MAX_SECTORS:
        issues.append(Issue("sectors", None, None, f"{len(value)} sectors: at most {MAX_SECTORS}"))
        return None
    out: list[str] = []
    ok = True
    for i, s in enumerate(value, start=1):
        if isinstance(s, bool) or not isinstance(s, str | int) or not str(s).strip():
            issues.append(Issue("sectors", i, None, f"expected a sector name, got {show(s)}"))
            ok = False
            continue
        name = str(s).strip()
        if name in out:
            issues.append(Issue("sectors", i, None, f"sector {name} is named twice (also entry {out.index(name) + 1})"))
            ok = False
        out.append(name)
    return out if ok else None


def _where(i: int, labels: list[str] | None) -> str | int:
    return labels[i] if labels is not None else i + 1


def _vector(value: Any, table: str, column: str | None, n: int | None, labels: list[str] | None,
            issues: list[Issue]) -> np.ndarray | None:
    """A list of one number >= 0 per sector; located by sector (``output[wood]``)."""
    if value is None:
        return None
    if not isinstance(value, list):
        issues.append(Issue(table, None, column, f"expected a list of numbers, one per sector, got {show(value)}"))
        return None
    if n is not None and len(value) != n:
        issues.append(Issue(table, None, column, f"expected {n} numbers (one per sector), got {len(value)}"))
        return None
    return np.array([_number(v, issues, table, _where(i, labels), column) for i, v in enumerate(value)], dtype=float)


def _matrix(value: Any, n: int | None, labels: list[str] | None, issues: list[Issue]) -> np.ndarray | None:
    """Z: ``n`` rows of ``n`` numbers >= 0; a cell is located as ``intermediate[seller].buyer``."""
    if value is None:
        return None
    if not isinstance(value, list):
        issues.append(Issue("intermediate", None, None, f"expected a list of rows, one per sector, got {show(value)}"))
        return None
    size = n if n is not None else len(value)
    ok = True
    if len(value) != size:
        issues.append(Issue("intermediate", None, None,
                            f"expected a square matrix of {size} rows (one per sector), got {len(value)} rows"))
        ok = False
    rows = []
    for i, row in enumerate(value):
        where = _where(i, labels) if i < size else i + 1
        if not isinstance(row, list):
            issues.append(Issue("intermediate", where, None, f"expected a row of {size} numbers, got {show(row)}"))
            ok = False
            continue
        if len(row) != size:
            issues.append(Issue("intermediate", where, None,
                                f"expected {size} numbers (square: one per sector), got {len(row)}"))
            ok = False
            continue
        rows.append([_number(v, issues, "intermediate", where, str(_where(j, labels))) for j, v in enumerate(row)])
    if not ok or size > MAX_SECTORS:
        return None
    return np.array(rows, dtype=float).reshape(size, size)


def _households(value: Any, n: int | None, labels: list[str] | None, issues: list[Issue]) -> Households | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        issues.append(Issue("households", None, None, f"expected a mapping with wages and consumption, got {show(value)}"))
        return None
    for key in value:
        if key not in HOUSEHOLD_KEYS:
            issues.append(Issue("households", None, str(key), f"unknown key; expected: {', '.join(HOUSEHOLD_KEYS)}"))
    parts = {}
    for key in HOUSEHOLD_KEYS:
        if value.get(key) is None:
            issues.append(Issue("households", None, key, "missing: households need wages and consumption per sector"))
            continue
        v = _vector(value[key], "households", key, n, labels, issues)
        if v is not None:
            parts[key] = v
    if len(parts) < 2 or any(np.isnan(v).any() for v in parts.values()):
        return None
    return Households(tuple(float(v) for v in parts["wages"]), tuple(float(v) for v in parts["consumption"]))


# --------------------------------------------------------------------------- Excel


SHEETS = ("settings", "intermediate", "sectors", "households")
SECTOR_COLUMNS = ("sector", *VECTORS)
HOUSEHOLD_COLUMNS = ("sector", *HOUSEHOLD_KEYS)


def read_io_workbook(path: str | Path, *, max_bytes: int | None = None) -> dict[str, Any]:
    """An ``.xlsx`` table as the plain data of a YAML file (validated later by ``io_table_from_dict``).

    Read as the scenario reader reads a workbook: size and unzipped size capped before
    anything is unzipped, formula and error cells refused, at most ``MAX_COLUMNS`` columns.

    Raises:
        ScenarioError: not a workbook, beyond a limit, or a layout error (sheet, row, column).
    """
    from symbiosim.scenario.excel.read import _check_unzipped_size, _read_cells  # the scenario's safe reader
    from symbiosim.scenario.load import XLSX_UNZIPPED_FACTOR, check_file_size, max_scenario_bytes

    path = Path(path)
    source = str(path)
    limit = max_scenario_bytes(max_bytes)
    issues: list[Issue] = []
    try:
        check_file_size(path, limit)
        _check_unzipped_size(path, limit, XLSX_UNZIPPED_FACTOR)
        sheets = {s.name: s.rows for s in _read_cells(path, source, issues, ("intermediate", "sectors"))}
    except ScenarioError as exc:
        raise ScenarioError(exc.issues, exc.source, what="input-output table") from None
    for name, rows in sheets.items():
        if name not in SHEETS and rows:
            issues.append(Issue(name, None, None, f"unknown sheet; expected: {', '.join(SHEETS)}"))
        for r, row in rows.items():
            for c, (value, data_type) in enumerate(row, start=1):
                if data_type == "f":
                    issues.append(Issue(name, f"row {r}", _letter(c), f"cell {_letter(c)}{r} holds a formula; "
                                        "symbiosim never evaluates formulas: enter the value"))
                    row[c - 1] = (None, "n")
                elif data_type == "e":
                    issues.append(Issue(name, f"row {r}", _letter(c), f"cell {_letter(c)}{r} holds the error value "
                                        f"{value}: enter a value"))
                    row[c - 1] = (None, "n")
    raw: dict[str, Any] = {}
    for r, rec in _records(sheets.get("settings", {}), "settings", ("key", "value"), issues):
        key = rec.get("key")
        if key not in ("name", "currency", "unit"):
            issues.append(Issue("settings", f"row {r}", "key", f"expected name, currency or unit, got {show(key)}"))
        elif key in raw:
            issues.append(Issue("settings", f"row {r}", "key", f"{key} appears twice"))
        else:
            raw[key] = rec.get("value")
    grid = sheets.get("intermediate", {})
    header = [v for v, _ in grid.get(1, [])][1:]
    sectors = [str(v).strip() if v is not None else "" for v in header]
    raw["sectors"] = sectors
    matrix = []
    for k, (r, row) in enumerate(sorted((r, row) for r, row in grid.items() if r > 1)):
        label = row[0][0] if row else None
        label = str(label).strip() if label is not None else ""
        expected = sectors[k] if k < len(sectors) else None
        if label != expected:
            issues.append(Issue("intermediate", f"row {r}", "A",
                                f"expected the seller {expected or '(no more rows: one per sector of row 1)'} "
                                f"in the order of row 1, got {show(label or None)}"))
        values = [v for v, _ in row[1:]]
        matrix.append(values + [0] * (len(sectors) - len(values)) if len(values) <= len(sectors) else values)
        # (trailing empty cells are trimmed by the reader; an empty cell is 0)
        matrix[-1] = [0 if v is None else v for v in matrix[-1]]
    raw["intermediate"] = matrix
    for sheet, columns, target in (("sectors", SECTOR_COLUMNS, raw), ("households", HOUSEHOLD_COLUMNS, None)):
        if sheet not in sheets:
            continue
        by_sector: dict[str, dict[str, Any]] = {}
        for r, rec in _records(sheets[sheet], sheet, columns, issues):
            s = str(rec.get("sector", "")).strip()
            if s not in sectors:
                issues.append(Issue(sheet, f"row {r}", "sector", f"unknown sector {show(s or None)}; expected one of "
                                    "the sectors in row 1 of sheet intermediate"))
            elif s in by_sector:
                issues.append(Issue(sheet, f"row {r}", "sector", f"sector {s} appears twice"))
            else:
                by_sector[s] = rec
        for s in sectors:
            if s and s not in by_sector and by_sector:
                issues.append(Issue(sheet, s, None, f"no row for sector {s}"))
        by_column = {c: [by_sector.get(s, {}).get(c) for s in sectors] for c in columns[1:]}
        if target is None:
            raw["households"] = by_column
        else:
            raw.update(by_column)
    if issues:
        raise ScenarioError(issues, source, what="input-output table")
    return raw


def _letter(c: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(c))


def _records(rows: dict[int, list[tuple[Any, str]]], sheet: str, columns: tuple[str, ...],
             issues: list[Issue]) -> list[tuple[int, dict[str, Any]]]:
    """The data rows of a sheet with a header row as (Excel row, {column: value})."""
    header = [str(v).strip() if v is not None else None for v, _ in rows.get(1, [])]
    if not rows:
        return []
    bad = False
    for c, name in enumerate(header, start=1):
        if name is not None and name not in columns:
            issues.append(Issue(sheet, "row 1", name, f"unknown column (cell {_letter(c)}1); expected: {', '.join(columns)}"))
            bad = True
    missing = [c for c in columns if c not in header]
    if missing:
        issues.append(Issue(sheet, "row 1", None, f"missing column {', '.join(missing)}: expected in row 1: {', '.join(columns)}"))
        bad = True
    if bad:
        return []
    out = []
    for r, row in sorted(rows.items()):
        if r == 1:
            continue
        rec = {}
        for c, (value, _) in enumerate(row, start=1):
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            name = header[c - 1] if c <= len(header) else None
            if name is None:
                issues.append(Issue(sheet, f"row {r}", _letter(c), f"cell {_letter(c)}{r} holds a value but its column "
                                    "has no name in row 1"))
                continue
            rec[name] = value
        if rec:
            out.append((r, rec))
    return out
