"""The one way to print a number in a summary: money with its currency and scale, quantities
with their unit, shares as percent, and tables whose columns are no wider than their content.

Rules (every function here follows them):

* Never scientific notation; thousands separators (``4,991``); never ``-0``.
* Money takes one scale per column (``scale_for``): ``bn`` from 100 bn, ``M`` from 1 M,
  ``k`` from 10 k, else units; ``4.991e9 NOK`` prints as ``4,991 M NOK``, ``1.805e10`` as
  ``18,049 M NOK``, ``1.23e7`` as ``12.3 M NOK``. Quantities are never scaled (``1,200 t``, ``35,000 MWh``).
* Decimals (``decimals_for``): three significant digits of the column's largest value,
  plus up to two more where two different values of the column would otherwise print the
  same (``4,991`` and ``4,988`` stay apart); never finer than the kind's finest step (a
  hundredth of a currency unit, a thousandth of a quantity unit, a hundredth of a percent
  point). A column keeps its decimals (``1.00``, ``12.50``: aligned); one number in a
  sentence drops trailing zeros (``money(1.5e6, "NOK")`` -> ``1.5 M NOK``).
* Rounding noise is 0: a value that rounds to zero at the column's decimals prints ``0``
  (``4.5e-14`` -> ``0``; ``-1e-9`` -> ``0``, not ``-0.00``). NaN prints ``n/a``.
* ``table`` prints a DataFrame: a title line, a unit line (``M NOK``, ``t``, ``%``) when any
  column has one, numbers right-aligned, text left-aligned, each column as wide as its
  widest cell. Text longer than ``max_text`` is replaced by a key (``[1]``) spelled out,
  wrapped, under the table.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

Kind = Literal["auto", "money", "quantity", "share", "number", "count", "text", "flag"]

SCALES: dict[str, float] = {"": 1.0, "k": 1e3, "M": 1e6, "bn": 1e9}
# the smallest value (in units) from which each scale is used: 4,991 M rather than 4.99 bn
SCALE_FROM: tuple[tuple[str, float], ...] = (("bn", 1e11), ("M", 1e6), ("k", 1e4), ("", 0.0))
SIGNIFICANT = 3  # significant digits of a column's largest value
EXTRA = 2  # more decimals allowed to tell a column's values apart
FINEST = {"money": 2, "quantity": 3, "number": 4, "share": 2}  # decimals, in units (share: percent points)
NA = "n/a"


def _floats(values: Iterable[Any]) -> list[float]:
    """The finite numbers among ``values`` (None, NaN, text and infinities left out)."""
    out = []
    for v in values:
        if isinstance(v, bool) or v is None:
            continue
        try:
            x = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(x):
            out.append(x)
    return out


def scale_for(values: Iterable[Any]) -> str:
    """One money scale (``""``, ``k``, ``M``, ``bn``) for a column, from its largest absolute value."""
    top = max((abs(x) for x in _floats(values)), default=0.0)
    return next(name for name, low in SCALE_FROM if top >= low)


def fixed(x: Any, decimals: int = 0, *, trim: bool = False) -> str:
    """``x`` with thousands separators and ``decimals`` decimals; ``0`` when it rounds to zero;
    ``n/a`` for None/NaN, ``inf``/``-inf`` for infinities (``trim``: trailing zeros dropped)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return NA
    if math.isnan(v):
        return NA
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    decimals = max(0, int(decimals))
    text = f"{v:,.{decimals}f}"
    if not any(c in "123456789" for c in text):
        return "0"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def decimals_for(values: Iterable[Any], scale: float = 1.0, *, finest: int = 4, significant: int = SIGNIFICANT,
                 extra: int = EXTRA) -> int:
    """Decimals that show the column's largest value to ``significant`` digits and tell its values
    apart (up to ``extra`` more), never more than ``finest`` (in the scaled unit)."""
    vals = [x / scale for x in _floats(values)]
    top = max((abs(v) for v in vals), default=0.0)
    if top == 0:
        return 0
    base = min(max(significant - 1 - math.floor(math.log10(top)), 0), finest)
    return _apart(vals, base, min(base + extra, finest))


def _apart(vals: list[float], d: int, most: int) -> int:
    """``d``, or more decimals (up to ``most``) until values that differ (beyond 1e-9 of the
    largest) print differently."""
    top = max((abs(v) for v in vals), default=0.0)
    distinct = sorted(set(vals))
    pairs = [(a, b) for a, b in zip(distinct, distinct[1:], strict=False) if b - a > 1e-9 * top]
    while d < most and any(fixed(a, d) == fixed(b, d) for a, b in pairs):
        d += 1
    return d


@dataclass(frozen=True)
class Fmt:
    """How a column (or one number) prints: divide by ``scale``, ``decimals`` decimals, ``unit``
    after the number (``label``: scale and unit, e.g. ``M NOK``, for a column's header)."""

    kind: str = "number"
    scale: str = ""
    decimals: int = 0
    unit: str = ""
    trim: bool = False  # one number in a sentence: 8 rather than 8.00 (a column keeps its decimals)

    @property
    def label(self) -> str:
        if self.kind == "share":
            return "%"
        return " ".join(p for p in (self.scale, self.unit) if p)

    def __call__(self, x: Any) -> str:
        """The number alone (the column's header carries the label)."""
        if self.kind == "text":
            return _text(x)
        if self.kind == "flag":
            return NA if x is None or (isinstance(x, float) and math.isnan(x)) else ("yes" if bool(x) else "no")
        try:
            v = float(x)
        except (TypeError, ValueError):
            return NA
        if self.kind == "share":
            v *= 100
        return fixed(v / SCALES[self.scale], self.decimals, trim=self.trim)

    def with_unit(self, x: Any) -> str:
        """The number and its label: ``4,991 M NOK``, ``1,200 t``, ``98.3%``."""
        text = self(x)
        if text == NA or not self.label:
            return text
        return f"{text}%" if self.kind == "share" else f"{text} {self.label}"


def money_format(values: Iterable[Any], currency: str = "", scale: str | None = None) -> Fmt:
    """One format for a column of money (scale from ``scale_for`` unless given)."""
    vals = list(values)
    scale = scale_for(vals) if scale is None else scale
    finest = FINEST["money"] + round(math.log10(SCALES[scale]))
    return Fmt("money", scale, decimals_for(vals, SCALES[scale], finest=finest), currency)


def quantity_format(values: Iterable[Any], unit: str = "") -> Fmt:
    """One format for a column of quantities (never scaled: ``35,000 MWh``)."""
    return Fmt("quantity", "", decimals_for(values, finest=FINEST["quantity"]), unit)


def number_format(values: Iterable[Any]) -> Fmt:
    return Fmt("number", "", decimals_for(values, finest=FINEST["number"]))


def share_format(values: Iterable[Any], decimals: int = 1) -> Fmt:
    """Shares (0.983) as percent (98.3), ``decimals`` decimals, more (up to two) to tell values apart."""
    pct = [x * 100 for x in _floats(values)]
    return Fmt("share", "", _apart(pct, decimals, max(decimals, min(decimals + EXTRA, FINEST["share"]))))


def count_format() -> Fmt:
    return Fmt("count", "", 0)


def fmt_for(values: Iterable[Any], kind: str, unit: str = "", scale: str | None = None) -> Fmt:
    """The format of a column of ``kind`` (money: ``unit`` is the currency, ``scale`` a fixed one)."""
    if kind == "money":
        return money_format(values, unit, scale)
    if kind == "quantity":
        return quantity_format(values, unit)
    if kind == "share":
        return share_format(values)
    if kind == "count":
        return Fmt("count", "", 0, unit)
    if kind in ("flag", "text"):
        return Fmt(kind)
    return Fmt("number", "", decimals_for(values, finest=FINEST["number"]), unit)


MONEY_FIGURES = frozenset({"cluster_npv", "value_added", "public_cost", "cluster_profit", "value_added_regional",
                           "value_added_national", "deadweight"})
KEY_FIGURE_UNITS = {"jobs": "jobs/yr", "jobs_final_year": "jobs", "emissions": "t CO2e", "co2e_avoided": "t CO2e",
                    "tonnes_diverted": "t"}
QUANTITY_PREFIXES = ("exchanged_", "disposed_", "purchased_", "virgin_avoided_")


def key_figure(name: str, currency: str) -> tuple[Kind, str]:
    """The kind and unit of a key figure of the accounts: ``cluster_npv`` -> money in ``currency``,
    ``emissions`` -> t CO2e, ``jobs`` -> jobs/yr (mean annual), ``exchanged_MWh`` -> MWh; else a number."""
    if name in MONEY_FIGURES:
        return "money", currency
    if name in KEY_FIGURE_UNITS:
        return "quantity", KEY_FIGURE_UNITS[name]
    for prefix in QUANTITY_PREFIXES:
        if name.startswith(prefix):
            return "quantity", name.removeprefix(prefix)
    return "number", ""


def key_figure_column(name: str, currency: str, title: str | None = None) -> Column:
    """``Column`` of a key figure (see ``key_figure``)."""
    kind, unit = key_figure(name, currency)
    return Column(kind, unit, title)


def money(x: Any, currency: str = "", scale: str | None = None, decimals: int | None = None) -> str:
    """``4.991e9, "NOK"`` -> ``4,991 M NOK``; ``1.234e7`` -> ``12.3 M NOK``; ``1.5e6`` -> ``1.5 M NOK``;
    ``4.5e-14`` -> ``0 NOK`` (three significant digits, trailing zeros dropped, unless ``decimals``)."""
    f = money_format([x], currency, scale)
    f = Fmt("money", f.scale, f.decimals if decimals is None else decimals, currency, trim=decimals is None)
    return f.with_unit(x)


def quantity(x: Any, unit: str = "", decimals: int | None = None) -> str:
    """``1200, "t"`` -> ``1,200 t``; ``8.0, "NOK/unit"`` -> ``8 NOK/unit``."""
    f = quantity_format([x], unit)
    return Fmt("quantity", "", f.decimals if decimals is None else decimals, unit, trim=decimals is None).with_unit(x)


def number(x: Any, decimals: int | None = None) -> str:
    """A plain number: thousands separators, three significant digits unless ``decimals`` is given."""
    return fixed(x, decimals_for([x], finest=FINEST["number"]) if decimals is None else decimals, trim=decimals is None)


def percent(x: Any, decimals: int = 1) -> str:
    """A share as percent: ``0.983`` -> ``98.3%``; ``-1e-16`` -> ``0%``."""
    return Fmt("share", "", decimals).with_unit(x)


# ---------------------------------------------------------------- tables


@dataclass(frozen=True)
class Column:
    """How ``table`` prints one column: ``kind`` (``auto``: from the dtype), ``unit`` (the currency
    for money), ``title`` (default: the column's name), ``scale`` (money: one shared by several
    columns, e.g. ``scale_for`` of them all; default: the column's own), ``decimals`` (default:
    ``decimals_for`` the column)."""

    kind: Kind = "auto"
    unit: str = ""
    title: str | None = None
    scale: str | None = None
    decimals: int | None = None


def _kind(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "flag"
    if pd.api.types.is_integer_dtype(series):
        return "count"
    if pd.api.types.is_float_dtype(series):
        return "number"
    return "text"


def _text(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    s = str(x)
    return s if s.strip() else "-"


def grid(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool], *, units: Sequence[str] | None = None,
         indent: str = "  ", gap: int = 2) -> list[str]:
    """Lines of a table of text cells: each column as wide as its widest cell (header included)."""
    lines_in = [list(header), *([list(units)] if units and any(units) else []), *map(list, rows)]
    widths = [max(len(r[i]) for r in lines_in) for i in range(len(header))]
    out = []
    for r in lines_in:
        cells = [c.rjust(w) if right[i] else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        out.append((indent + (" " * gap).join(cells)).rstrip())
    return out


def key_lines(keys: Mapping[str, str], title: str, *, indent: str = "  ", width: int = 100) -> list[str]:
    """The key under a table: ``[1] long text``, wrapped with a hanging indent."""
    if not keys:
        return []
    out = [f"{indent}{title}:"]
    for text, tag in keys.items():
        first = f"{indent}  {tag} "
        out += textwrap.wrap(text, width=max(width, len(first) + 20), initial_indent=first,
                             subsequent_indent=" " * len(first), break_on_hyphens=False, break_long_words=False)
    return out


def table(frame: pd.DataFrame, columns: Mapping[str, Column] | Sequence[str] | None = None, *, indent: str = "  ",
          max_text: int = 40, width: int = 100, empty: str = "(none)") -> str:
    """``frame`` as text by the rules of this module (see the module docstring).

    ``columns``: which columns, in order, and how (``Column``); names alone (or None: every
    column) take their kind from the dtype. Columns not in ``frame`` are skipped.
    """
    if columns is None:
        spec: dict[str, Column] = {c: Column() for c in frame.columns}
    elif isinstance(columns, Mapping):
        spec = dict(columns)
    else:
        spec = {c: Column() for c in columns}
    spec = {c: s for c, s in spec.items() if c in frame.columns}
    if not len(frame) or not spec:
        return f"{indent}{empty}"
    header, units, cells, right = [], [], [], []
    keys: dict[str, dict[str, str]] = {}  # column title -> text -> tag
    n_keys = 0
    for name, col in spec.items():
        series = frame[name]
        kind = _kind(series) if col.kind == "auto" else col.kind
        title = col.title or str(name)
        header.append(title)
        if kind == "text":
            texts = [_text(x) for x in series]
            mine = keys.setdefault(title, {})
            shown = []
            for s in texts:
                if len(s) > max_text:
                    if s not in mine:
                        n_keys += 1
                        mine[s] = f"[{n_keys}]"
                    shown.append(mine[s])
                else:
                    shown.append(s)
            cells.append(shown)
            units.append(col.unit)
            right.append(False)
        else:
            f = fmt_for(series.tolist(), kind, col.unit, col.scale)
            if col.decimals is not None:
                f = Fmt(f.kind, f.scale, col.decimals, f.unit)
            cells.append([f(x) for x in series])
            units.append(f.label)
            right.append(True)
    rows = [[c[i] for c in cells] for i in range(len(frame))]
    lines = grid(header, rows, right, units=units, indent=indent)
    for title, mine in keys.items():
        lines += key_lines(mine, f"key to {title}", indent=indent, width=width)
    return "\n".join(lines)


def row_table(rows: Sequence[tuple[str, str, str, Sequence[Any]]], headers: Sequence[str], *, first: str = "key figure",
              indent: str = "  ") -> str:
    """A table with one format per row (key figures in different units): each row is
    ``(label, kind, unit, values)``; a ``unit`` column says the row's scale and unit."""
    if not rows:
        return f"{indent}(none)"
    body = []
    for label, kind, unit, values in rows:
        f = fmt_for(list(values), kind, unit)
        body.append([label, f.label, *(f(v) for v in values)])
    return "\n".join(grid([first, "unit", *headers], body, [False, False, *([True] * len(headers))], indent=indent))
