"""Write a scenario workbook or an empty documented template."""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl.cell._writer as _cell_writer
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from symbiosim.errors import Issue, ScenarioError
from symbiosim.scenario.excel.columns import (
    _HEADER_FILL,
    _HEADER_FONT,
    _KEY_FONT,
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
from symbiosim.scenario.schema import Scenario


def write_template(path: str | Path, *, overwrite: bool = False) -> Path:
    """Write an empty, documented scenario workbook.

    Every sheet has its header row (each header cell commented with the column's
    description, unit, type and default), and the first sheet ``README``
    documents every column. All of it is generated from the schema.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is false (a template
            never replaces a workbook by accident).
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"{path} already exists: delete it or choose another name (a template never overwrites a file)"
        )
    wb = _workbook({})
    wb.save(path)
    return path


def write_workbook(scenario: Scenario, path: str | Path) -> Path:
    """Write a validated scenario as a workbook that ``load_scenario`` reads back unchanged.

    Raises:
        ScenarioError: a text holds a control character Excel cannot store.
    """
    path = Path(path)
    wb = _workbook(scenario.to_dict(), source=str(path))
    save(wb, path)
    return path


def export_workbook(scenario: Scenario, path: str | Path, *, overwrite: bool = False) -> Path:
    """``symbiosim export``: write ``scenario`` as a workbook, never over a file by accident.

    The workbook is written to a temporary file next to ``path`` and renamed
    into place, so an error leaves no half-written workbook (and an existing
    one intact).

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is false.
        ScenarioError: a text holds a control character Excel cannot store.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists: use overwrite (--force) to replace it")
    wb = _workbook(scenario.to_dict(), source=str(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.absolute().parent)
    os.close(fd)
    try:
        save(wb, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _exact(value: Any, _openpyxl: Any = _cell_writer.safe_string) -> str:
    """A cell's text as openpyxl writes it, except that a float is written with all the
    digits it needs (Python's shortest round-trip form, at most 17 significant digits)
    where openpyxl's 16 would round it."""
    if isinstance(value, float) and math.isfinite(value):
        text = str(_openpyxl(value))
        return text if float(text) == value else repr(value)
    return str(_openpyxl(value))


@contextlib.contextmanager
def exact_numbers() -> Iterator[None]:
    """While a workbook is saved: every float is written so that it reads back as the same
    double (openpyxl writes 16 significant digits; Excel reads and writes 17)."""
    before = _cell_writer.safe_string
    setattr(_cell_writer, "safe_string", _exact)  # noqa: B010 - the module's name, looked up per cell
    try:
        yield
    finally:
        setattr(_cell_writer, "safe_string", before)  # noqa: B010


def save(wb: Workbook, path: str | Path) -> None:
    """Save ``wb`` with every float exact (``exact_numbers``)."""
    with exact_numbers():
        wb.save(path)


def _workbook(data: dict[str, Any], source: str = "") -> Workbook:
    """The workbook of ``data`` (a ``Scenario.to_dict()``; ``{}`` gives the template)."""
    wb = Workbook()
    readme = wb.active
    assert readme is not None
    readme.title = README
    _write_readme(readme)
    issues: list[Issue] = []
    for sheet in SHEETS:
        ws = wb.create_sheet(sheet)
        cols = columns(sheet)
        write_header(ws, cols)
        for r, values in enumerate(_sheet_rows(sheet, data), start=2):
            for c, value in enumerate(values, start=1):
                _put(ws, r, c, value, issues, sheet)
        _annotate_keys(ws, sheet)
        _fit_widths(ws, cols)
    if issues:
        raise ScenarioError(issues, source)
    return wb


def write_header(ws: Worksheet, cols: list[Column]) -> None:
    """Row 1 of a sheet: bold column names, each commented with its documentation;
    the header row is frozen and choice columns get a drop-down list."""
    for c, col in enumerate(cols, start=1):
        cell = ws.cell(row=1, column=c, value=col.name)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.comment = _comment(col.comment())
        if col.choices:
            letter = get_column_letter(c)
            dv = DataValidation(type="list", formula1='"' + ",".join(col.choices) + '"', allow_blank=True)
            dv.error = f"Expected one of: {', '.join(col.choices)}"
            dv.errorTitle = col.name
            dv.add(f"{letter}2:{letter}{MAX_ROW}")
            ws.add_data_validation(dv)
    ws.freeze_panes = "A2"


def _comment(text: str) -> Comment:
    comment = Comment(text, "symbiosim")
    comment.width = 320
    comment.height = 30 + 16 * (text.count("\n") + 1 + len(text) // 50)
    return comment


def _annotate_keys(ws: Worksheet, sheet: str) -> None:
    """In key/value sheets, comment each key cell with the key's documentation."""
    docs = {c.name: c for c in keys(sheet)}
    if not docs:
        return
    for r in range(2, ws.max_row + 1):
        cell = ws.cell(row=r, column=1)
        if cell.value in docs:
            cell.font = _KEY_FONT
            cell.comment = _comment(docs[cell.value].comment())


def _sheet_rows(sheet: str, data: dict[str, Any]) -> list[list[Any]]:
    """The data rows of one sheet, as lists of cell values in column order."""
    if sheet == "settings":
        values = data.get("settings") or {}
        return [[key, values.get(key)] for key in _names(keys(sheet))]
    if sheet == "policies":
        values = data.get("policies") or {}
        out: list[list[Any]] = []
        for instrument in _names(keys(sheet)):
            value = values.get(instrument)
            if isinstance(value, dict):
                out += [[instrument, product, v] for product, v in value.items()]
            else:
                out.append([instrument, None, value])
        return out
    if sheet == RECIPES:
        return [
            [p["id"], product, direction[:-1], amount]
            for p in data.get("processes") or []
            for direction in RECIPE_FIELDS
            for product, amount in (p.get(direction) or {}).items()
        ]
    if sheet == "profiles":
        return [
            [name, period, factor]
            for name, factors in (data.get("profiles") or {}).items()
            for period, factor in enumerate(factors)
        ]
    names = _names(columns(sheet))
    return [[row.get(n) for n in names] for row in data.get(sheet) or []]


def _put(ws: Worksheet, r: int, c: int, value: Any, issues: list[Issue], sheet: str) -> None:
    if value is None or value == "":
        return
    if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
        header = ws.cell(row=1, column=c).value
        issues.append(
            Issue(sheet, f"row {r}", str(header), f"text {value!r} holds a control character Excel cannot store")
        )
        return
    cell = ws.cell(row=r, column=c, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text that looks like a formula stays text


def _fit_widths(ws: Worksheet, cols: list[Column]) -> None:
    for c, col in enumerate(cols, start=1):
        letter = get_column_letter(c)
        longest = max(
            (len(str(v)) for (v,) in ws.iter_rows(min_col=c, max_col=c, values_only=True) if v is not None), default=0
        )
        ws.column_dimensions[letter].width = min(max(longest + 3, len(col.name) + 4, 12), 60)


def _write_readme(ws: Worksheet) -> None:
    recipe_cols = ", ".join(_names(columns(RECIPES)))
    notes = [
        "symbiosim scenario workbook (format contract v1)",
        "",
        "One sheet per table; row 1 holds the column names. Hover over a column name for its description, unit, type and default.",
        "An empty cell means the column's default; fully empty rows are skipped; sheets of optional tables may stay empty.",
        "settings: one row per setting (key, value). policies: instrument, product, value; leave product empty (or *) "
        "for every product, add a row per product to differ.",
        f"processes: id, description; their recipes are in the sheet {RECIPES} ({recipe_cols}), "
        "one row per product consumed (input) or produced (output) per unit of activity.",
        "profiles: one row per period (name, period, factor); periods count from 0 within the year; a profile's factors average 1.",
        "Formulas are never evaluated: every cell must hold a plain value. This README sheet is ignored when reading.",
        "",
    ]
    for text in notes:
        ws.append([text])
    ws["A1"].font = Font(bold=True, size=14)
    head = ["sheet", "column", "required / default", "type", "unit", "description"]
    ws.append(head)
    for cell in ws[ws.max_row]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
    for sheet in SHEETS:
        for col in columns(sheet):
            ws.append([sheet, col.name, col.default, col.type, col.unit, col.description])
        label = "key" if sheet == "settings" else "instrument"
        for col in keys(sheet):
            ws.append([sheet, f"{label} = {col.name}", col.default, col.type, col.unit, col.description])
    for letter, width in zip("ABCDEF", (18, 28, 24, 40, 18, 80), strict=True):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=len(notes) + 2):
        row[5].alignment = Alignment(wrap_text=True, vertical="top")

