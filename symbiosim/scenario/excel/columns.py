"""Excel layout generated from the schema: sheets, columns, documentation."""

from __future__ import annotations

import types
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from openpyxl.styles import Font, PatternFill
from pydantic.fields import FieldInfo

from symbiosim.scenario.schema import ALL_TABLES, ID_PATTERN, ROW_TABLES, Policies, Process, Row, Settings

README = "README"
RECIPES = "recipes"
# Sheets in workbook order: the tables, with the recipes right after the processes.
SHEETS: tuple[str, ...] = tuple(s for t in ALL_TABLES for s in ((t, RECIPES) if t == "processes" else (t,)))
RECIPE_FIELDS = ("inputs", "outputs")
DIRECTIONS = {"input": "inputs", "inputs": "inputs", "output": "outputs", "outputs": "outputs"}
FREE_TEXT = ("name", "description")  # text columns kept verbatim (not stripped)
MAX_ROW = 1_048_576  # Excel's last row
MAX_COLUMNS = 200  # limits on what is read from an (untrusted) workbook
MAX_DATA_ROWS = 200_000
MAX_CELLS = 20_000_000

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_KEY_FONT = Font(bold=True, color="1F4E78")


# --------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    """One documented sheet column (or one key of a key/value sheet)."""

    name: str
    description: str
    unit: str = ""
    type: str = "text"
    default: str = "required"  # "required", or the default shown to users
    choices: tuple[str, ...] = ()  # offered as a drop-down list in Excel
    text: bool = False  # a text column: numbers typed into it are read as text
    free_text: bool = False  # kept verbatim (leading/trailing spaces are kept)

    @property
    def required(self) -> bool:
        return self.default == "required"

    def comment(self) -> str:
        lines = [self.description]
        if self.unit:
            lines.append(f"Unit: {self.unit}")
        lines.append(f"Type: {self.type}")
        lines.append("Required" if self.required else f"Default: {self.default}")
        return "\n".join(lines)


def _union_args(annotation: Any) -> tuple[list[Any], bool]:
    """(the non-None members of a union, whether None is allowed)."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = get_args(annotation)
        return [a for a in args if a is not type(None)], type(None) in args
    return [annotation], False


def _type_text(annotation: Any) -> str:
    members, optional = _union_args(annotation)
    names = []
    for a in members:
        if get_origin(a) is Literal:
            names.append("one of " + ", ".join(str(v) for v in get_args(a)))
        elif get_origin(a) is dict:
            names.append("{product: number}")
        else:
            names.append({bool: "true/false", int: "integer", float: "number", str: "text"}.get(a, str(a)))
    text = " or ".join(names)
    return f"{text}, or empty" if optional else text


def _is_text(annotation: Any) -> bool:
    members, _ = _union_args(annotation)
    return all(a is str or (get_origin(a) is Literal and all(isinstance(v, str) for v in get_args(a))) for a in members)


_ID_TEXT = "an id: lower-case letters, digits and _, starting with a letter"
_BOUNDS = (
    (annotated_types.Ge, "ge", ">="),
    (annotated_types.Gt, "gt", ">"),
    (annotated_types.Le, "le", "<="),
    (annotated_types.Lt, "lt", "<"),
)


def _bounds(field: FieldInfo) -> str:
    parts = []
    for m in field.metadata:
        pattern = getattr(m, "pattern", None)
        if pattern:
            parts.append(_ID_TEXT if pattern == ID_PATTERN else f"matching {pattern}")
        for kind, attr, symbol in _BOUNDS:
            if isinstance(m, kind):
                parts.append(f"{symbol} {getattr(m, attr)}")
    return f" ({', '.join(parts)})" if parts else ""


def _default_text(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None or field.default is None or field.default == "":
        return "empty"
    if isinstance(field.default, bool):
        return str(field.default).lower()
    if isinstance(field.default, float) and field.default.is_integer():
        return str(int(field.default))
    return str(field.default)


def field_column(name: str, field: FieldInfo) -> Column:
    """The documentation of one model field, as a sheet column."""
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    members, _ = _union_args(field.annotation)
    literals = [v for a in members if get_origin(a) is Literal for v in get_args(a)]
    return Column(
        name=field.alias or name,
        description=field.description or "",
        unit=str(extra.get("unit", "")),
        type=_type_text(field.annotation) + _bounds(field),
        default=_default_text(field),
        choices=tuple(literals) if all(isinstance(v, str) for v in literals) else (),
        text=_is_text(field.annotation),
        free_text=(field.alias or name) in FREE_TEXT,
    )


def model_columns(model: type[Row], skip: Iterable[str] = ()) -> list[Column]:
    return [field_column(n, f) for n, f in model.model_fields.items() if (f.alias or n) not in skip]


def keys(sheet: str) -> list[Column]:
    """The keys of a key/value sheet (``settings``, ``policies``), documented; else []."""
    if sheet == "settings":
        return model_columns(Settings)
    if sheet == "policies":
        return [
            Column(c.name, c.description, c.unit, "number", "empty (no such instrument)")
            for c in model_columns(Policies)
        ]
    return []


def columns(sheet: str) -> list[Column]:
    """The columns of one sheet, in order."""
    if sheet == "settings":
        return [
            Column(
                "key",
                "Name of the setting (one row per setting; see the README sheet)",
                choices=_names(keys(sheet)),
                text=True,
            ),
            Column(
                "value",
                "Value of the setting; empty = its default",
                type="as the setting",
                default="the setting's default",
                free_text=True,
            ),
        ]
    if sheet == "policies":
        unit = " / ".join(sorted({c.unit for c in keys(sheet)}))
        return [
            Column("instrument", "Policy instrument (see the README sheet)", choices=_names(keys(sheet)), text=True),
            Column(
                "product",
                'Product id it applies to; empty or "*" = every product without a row of its own',
                default="empty (every product)",
                text=True,
            ),
            Column("value", "Value of the instrument for that product", unit=unit, type="number"),
        ]
    if sheet == "processes":
        return model_columns(Process, skip=RECIPE_FIELDS)
    if sheet == RECIPES:
        amount = field_column("inputs", Process.model_fields["inputs"])
        return [
            Column("process", "Process id (a row of the processes sheet)", text=True),
            Column("product", "Product id", text=True),
            Column(
                "direction",
                "input: consumed by the process; output: produced by it",
                type="input or output",
                choices=("input", "output"),
                text=True,
            ),
            Column(
                "amount",
                "Amount per unit of activity",
                unit=amount.unit,
                type="number (> 0)",
            ),
        ]
    if sheet == "profiles":
        return [
            Column("name", "Profile name, as used in the profile column of other tables", text=True),
            Column(
                "period", "Period within the year, counting from 0 (0 .. periods_per_year - 1)", type="integer (>= 0)"
            ),
            Column(
                "factor",
                "Multiplies the annual figure / periods_per_year; a profile's factors average 1",
                type="number (>= 0)",
            ),
        ]
    return model_columns(ROW_TABLES[sheet])


def _names(cols: Iterable[Column]) -> tuple[str, ...]:
    return tuple(c.name for c in cols)


