"""Targets: ``table[column=value,...].column`` or ``settings.column``.

Targets are parsed by a regular expression and resolved against the tables;
nothing in them is ever evaluated. ``symbiosim.scenario.edit`` changes the cells
they name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from symbiosim.scenario.schema import ROW_TABLES, Scenario, Settings

_TARGET = re.compile(
    r"^(?P<table>[a-z_]+)(?:\[(?P<filters>[^\]]*)\])?\.(?P<column>[a-z_]+)$"
)
_FILTER = re.compile(r"^\s*(?P<col>[a-z_]+)\s*=\s*(?P<val>[^=,\s]+)\s*$")
NUMERIC_TABLES = tuple(t for t in ROW_TABLES if t not in ("uncertainty",))
_TEXT_SETTINGS = ("name", "description", "currency")


@dataclass(frozen=True)
class Target:
    table: str
    filters: tuple[tuple[str, str], ...]
    column: str

    def __str__(self) -> str:
        where = f"[{','.join(f'{c}={v}' for c, v in self.filters)}]" if self.filters else ""
        return f"{self.table}{where}.{self.column}"


def parse_target(text: str) -> Target:
    """Parse a target string; raises ``ValueError`` with what was expected."""
    match = _TARGET.match(text.strip())
    if not match:
        raise ValueError(f"cannot read target {text!r}: expected table[column=value].column or settings.column")
    table, column = match["table"], match["column"]
    filters: list[tuple[str, str]] = []
    if match["filters"]:
        for part in match["filters"].split(","):
            f = _FILTER.match(part)
            if not f:
                raise ValueError(f"cannot read filter {part!r} in target {text!r}: expected column=value")
            filters.append((f["col"], f["val"]))
    if table == "settings" and filters:
        raise ValueError("settings takes no [filter]")
    return Target(table, tuple(filters), column)


def field_names(model: type[BaseModel]) -> dict[str, str]:
    """Column as written in files (alias or name) -> attribute name."""
    return {(f.alias or n): n for n, f in model.model_fields.items()}


def cell(row: Any, column: str) -> Any:
    """The value of a row's column (the column as written in files, e.g. ``from``)."""
    return getattr(row, field_names(type(row))[column])


def matches(value: Any, text: str) -> bool:
    """Does a cell equal the filter text as written in a file (``true``, ``500``, ``wood_chips``)?"""
    if isinstance(value, bool):
        return text.lower() == str(value).lower()
    if isinstance(value, int | float):
        try:
            return float(text) == value
        except ValueError:
            return False
    return str(value) == text


# the loader imports these under their old names
_field_names, _cell, _matches = field_names, cell, matches


def resolve_target(scenario: Scenario, target: Target, *, numeric: bool = True) -> list[int]:
    """Indices of the rows a target hits (``[0]`` for settings); ``ValueError`` if none.

    ``numeric`` (uncertainty rows, factors): the column must hold numbers; without it
    any column may be named (a case's ``set`` replaces text and flags too).
    """
    if target.table == "settings":
        names = field_names(Settings)
        if target.column not in names or (numeric and target.column in _TEXT_SETTINGS):
            raise ValueError(f"settings has no {'numeric ' if numeric else ''}column {target.column!r}")
        return [0]
    if target.table not in NUMERIC_TABLES:
        raise ValueError(f"unknown table {target.table!r}: expected settings or one of {', '.join(NUMERIC_TABLES)}")
    model = ROW_TABLES[target.table]
    names = field_names(model)
    for col, _ in target.filters:
        if col not in names:
            raise ValueError(f"table {target.table} has no column {col!r} to filter on")
    if target.column not in names:
        raise ValueError(f"table {target.table} has no column {target.column!r}")
    if numeric:
        annotation = str(model.model_fields[names[target.column]].annotation)
        if "float" not in annotation and "int" not in annotation:
            raise ValueError(f"column {target.table}.{target.column} is not numeric")
    rows = getattr(scenario, target.table)
    hits = [i for i, row in enumerate(rows) if all(matches(cell(row, col), val) for col, val in target.filters)]
    if not hits:
        raise ValueError(f"no row of {target.table} matches {dict(target.filters)}")
    return hits
