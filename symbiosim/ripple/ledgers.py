"""Firms' customer and supplier ledgers: import, cleaning, money flows and Rasmussen linkages.

Ledger files (untrusted; ``.csv`` or ``.xlsx``; one header row, then one row per reporting firm,
counterpart, year and ledger kind, the *annual total* of that ledger account):

=====================  ================================================================
``firm_orgnr``          the reporting firm's Norwegian organisation number (9 digits,
                        mod-11 check digit; spaces allowed: ``123 456 785``)
``counterpart_orgnr``   the counterpart's organisation number; may be empty or a foreign
                        id when ``country`` is not ``NO``
``counterpart_name``    the counterpart's name (printed instead of its number)
``amount``              the annual total in the scenario's currency, a finite number >= 0
``year``                the accounting year, an integer in [1900, 2100]
``kind``                ``customer`` (a sales ledger: the firm sold to the counterpart) or
                        ``supplier`` (a purchase ledger: the firm bought from it); also
                        ``sales``/``purchases``. One file may hold both kinds.
``country``             optional: the counterpart's ISO 3166 country code (default ``NO``)
=====================  ================================================================

Column names ignore case, spaces and hyphens. CSV files are UTF-8 with ``,`` or ``;`` between
fields and ``.`` as the decimal mark; a workbook's first worksheet is read as values
(``openpyxl`` ``read_only``/``data_only``: a formula's value as last saved, never evaluated).
Sizes are bounded as a scenario's (``symbiosim.scenario.load``: ``--max-size``, a workbook's
unzipped size, at most ``MAX_ROWS`` rows a file). Every malformed or missing value is reported
with its file, row and column (``LedgerError``), all at once; ``skip_invalid=True`` drops those
rows instead and logs each.

Mapping files (CSV):

* actors (``orgnr,actor[,role]``): which organisation numbers are which scenario actor. ``role``
  is ``site`` (default) or ``head_office``: a head office's number (its ledgers, or a counterpart
  that invoices through it) is attributed to the site actor; flows between two numbers of one
  actor (a site and its head office) are internal and dropped.
* sectors (``orgnr,sector``): the NACE sector (e.g. ``C24``) of counterparts, to match the
  sectors of an input-output table. A counterpart that is an actor without a row here takes the
  first word of the actor's ``sector``; a foreign counterpart goes to ``foreign``; the rest to
  ``unmatched``.

Cleaning (``clean``; every action is a row of the ``cleaning_log``), in this order: exact
duplicates (every column equal to an earlier row) and same-amount duplicates (same firm,
counterpart, kind, year and amount) are dropped; head-office numbers are attributed to their
site actor; rows of firms that match no actor are dropped; flows within one actor are dropped;
foreign counterparts are marked; counterparts that match neither an actor nor a sector are
marked ``unmatched``. When both sides of a flow between two actors report it (the seller's
customer ledger and the buyer's supplier ledger, same year), the buyer's figure is used and
the seller's set aside (``mirror``).

Linkages (``linkages``, ``rasmussen``): see ``rasmussen``.

Privacy: organisation numbers are kept in the raw and cleaned tables and the log's id columns
(the user's own DuckDB file) and nowhere else: messages and the log's ``detail`` name rows by
file and row number and firms by name or actor id.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import symbiosim.report.numbers as numbers
from symbiosim.errors import Issue, ScenarioError
from symbiosim.scenario import Scenario
from symbiosim.scenario.load import XLSX_UNZIPPED_FACTOR, check_file_size, max_scenario_bytes, too_large
from symbiosim.store import ResultsStore

COLUMNS = ("firm_orgnr", "counterpart_orgnr", "counterpart_name", "amount", "year", "kind")
OPTIONAL = ("country",)
KINDS = {"customer": "customer", "sales": "customer", "supplier": "supplier", "purchases": "supplier"}
HOME = "NO"
MIN_YEAR, MAX_YEAR = 1900, 2100
MAX_ROWS = 200_000  # data rows of one ledger file
MAX_COLUMNS = 50
ORGNR_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)
ROLES = ("site", "head_office")
FOREIGN, UNMATCHED = "foreign", "unmatched"
TABLES = ("ledger_raw", "ledger_clean", "cleaning_log", "actor_flows", "sector_flows", "linkages")

# the cleaning steps, in order, as the log names them and the summary explains them
STEPS: dict[str, str] = {
    "invalid": "malformed or missing values: row dropped",
    "duplicate_exact": "exact duplicate of an earlier row: dropped",
    "duplicate_same_amount": "same firm, counterpart, kind, year and amount as an earlier row: dropped",
    "head_office": "head-office number attributed to its site actor",
    "unmatched_firm": "reporting firm matches no actor: row dropped",
    "internal": "flow within one actor (site and head office): dropped",
    "foreign": "foreign counterpart: kept, sector 'foreign'",
    "unmatched_counterpart": "counterpart matches no actor or sector: kept, sector 'unmatched'",
    "mirror": "both sides reported an actor-to-actor flow: the buyer's figure is used, the seller's set aside",
}


class LedgerError(ScenarioError):
    """Ledger or mapping files with problems; ``issues`` locates each (file, row, column)."""

    def __init__(self, issues: list[Issue], source: str = "", *, what: str = "ledger files") -> None:
        super().__init__(issues, source, what=what)


# ---------------------------------------------------------------- organisation numbers


def orgnr_problem(text: str) -> str | None:
    """Why ``text`` is not a Norwegian organisation number (None if it is): 9 digits (spaces
    allowed) whose last is the mod-11 check digit of the first eight, weights 3 2 7 6 5 4 3 2
    (Brønnøysundregistrene). The value itself is never echoed: it may be an id."""
    digits = re.sub(r"[\s\u00a0]", "", text)
    if not digits.isascii() or not digits.isdigit() or len(digits) != 9:
        return "expected a Norwegian organisation number of 9 digits"
    rest = sum(int(d) * w for d, w in zip(digits[:8], ORGNR_WEIGHTS, strict=True)) % 11
    check = 0 if rest == 0 else 11 - rest
    if check == 10 or check != int(digits[8]):
        return "expected a Norwegian organisation number: 9 digits, but the mod-11 check digit (the last) does not match"
    return None


def normal_orgnr(text: str) -> str:
    return re.sub(r"[\s\u00a0]", "", text)


def with_check_digit(first8: str) -> str | None:
    """The 9-digit number of ``first8`` and its mod-11 check digit (None where none exists)."""
    rest = sum(int(d) * w for d, w in zip(first8, ORGNR_WEIGHTS, strict=True)) % 11
    check = 0 if rest == 0 else 11 - rest
    return None if check == 10 else f"{first8}{check}"


# ---------------------------------------------------------------- reading files


def _key(name: Any) -> str:
    return re.sub(r"[\s\-]+", "_", str(name or "").strip().lower())


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value).strip()


def _read_csv(path: Path, issues: list[Issue]) -> list[tuple[int, list[str]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        issues.append(Issue(path.name, None, None, f"cannot read the file as UTF-8 text (byte {exc.start}); save it as CSV UTF-8"))
        return []
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    rows = []
    try:
        for n, row in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            if len(row) > MAX_COLUMNS:
                issues.append(Issue(path.name, f"row {n}", None, f"more than {MAX_COLUMNS} columns: not a ledger"))
                break
            if any(c.strip() for c in row):
                rows.append((n, [c.strip() for c in row]))
            if len(rows) > MAX_ROWS + 1:
                issues.append(Issue(path.name, f"row {n}", None, f"more than {MAX_ROWS:,} rows: too large for one ledger file"))
                break
    except csv.Error as exc:
        issues.append(Issue(path.name, None, None, f"not a CSV file: {exc}"))
    return rows


def _read_xlsx(path: Path, limit: int, issues: list[Issue]) -> list[tuple[int, list[str]]]:
    import openpyxl

    try:
        with zipfile.ZipFile(path) as z:
            total = sum(info.file_size for info in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        total = 0
    if total > XLSX_UNZIPPED_FACTOR * limit:
        issues.append(Issue(path.name, None, None, too_large("the workbook's content (unzipped)", total, XLSX_UNZIPPED_FACTOR * limit)))
        return []
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)  # values as last saved: nothing is evaluated
    except Exception as exc:  # zipfile, XML, openpyxl errors: all mean "not a workbook"
        issues.append(Issue(path.name, None, None, f"cannot read the file as an Excel workbook ({str(exc)[:200]})"))
        return []
    rows: list[tuple[int, list[str]]] = []
    try:
        ws = wb.worksheets[0]
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()  # trust the cells, not a claimed size
        for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = [_cell(v) for v in row]
            while cells and not cells[-1]:
                cells.pop()
            if len(cells) > MAX_COLUMNS:
                issues.append(Issue(path.name, f"row {n}", None, f"more than {MAX_COLUMNS} columns: not a ledger"))
                break
            if cells:
                rows.append((n, cells))
            if len(rows) > MAX_ROWS + 1:
                issues.append(Issue(path.name, f"row {n}", None, f"more than {MAX_ROWS:,} rows: too large for one ledger file"))
                break
    except Exception as exc:
        issues.append(Issue(path.name, None, None, f"cannot read the workbook ({str(exc)[:200]})"))
    finally:
        wb.close()
    return rows


def read_table(path: str | Path, required: Sequence[str], optional: Sequence[str] = (), *,
               max_bytes: int | None = None, issues: list[Issue] | None = None) -> pd.DataFrame:
    """The rows of a CSV or xlsx file as text, with columns ``file``, ``row`` (as a spreadsheet
    numbers it: the header is row 1) and the ``required`` and ``optional`` columns present.
    Problems are appended to ``issues`` (or raised as ``LedgerError`` when it is None)."""
    path = Path(path)
    mine: list[Issue] = []
    limit = max_scenario_bytes(max_bytes)
    try:
        check_file_size(path, limit)
    except ScenarioError as exc:
        mine += [Issue(path.name, None, None, i.message) for i in exc.issues]
    columns = ["file", "row", *required, *optional]
    if not mine:
        suffix = path.suffix.lower()
        if suffix == ".csv":
            rows = _read_csv(path, mine)
        elif suffix == ".xlsx":
            rows = _read_xlsx(path, limit, mine)
        else:
            rows = []
            mine.append(Issue(path.name, None, None, f"unknown file type {suffix!r}: expected .csv or .xlsx"))
        if not rows and not mine:
            mine.append(Issue(path.name, None, None, "the file is empty: expected a header row " + ",".join(required)))
    if mine:
        if issues is None:
            raise LedgerError(mine)
        issues += mine
        return pd.DataFrame(columns=columns)
    head_row, head = rows[0]
    keys = [_key(h) for h in head]
    missing = [c for c in required if c not in keys]
    if missing:
        mine.append(Issue(path.name, f"row {head_row}", None,
                          f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; expected a header row "
                          f"with {', '.join(required)}" + (f" (optional: {', '.join(optional)})" if optional else "")))
        if issues is None:
            raise LedgerError(mine)
        issues += mine
        return pd.DataFrame(columns=columns)
    where = {c: keys.index(c) for c in (*required, *optional) if c in keys}
    records = []
    for n, cells in rows[1:]:
        rec: dict[str, Any] = {"file": path.name, "row": n}
        for c in (*required, *optional):
            i = where.get(c)
            rec[c] = cells[i] if i is not None and i < len(cells) else ""
        records.append(rec)
    return pd.DataFrame.from_records(records, columns=columns)


def _amount(text: str) -> tuple[float | None, str | None]:
    t = re.sub(r"[\s\u00a0]", "", text)
    if not t:
        return None, "missing value: expected an amount (a number >= 0)"
    if "," in t:
        return None, f"expected a number with '.' as the decimal mark and no thousands commas, got {text!r}"
    try:
        x = float(t)
    except ValueError:
        return None, f"expected an amount (a finite number >= 0), got {text!r}"
    if not math.isfinite(x):
        return None, f"expected a finite amount, got {text!r}"
    if x < 0:
        return None, f"expected an annual total >= 0, got {text!r} (net credit notes into the year's total)"
    return x, None


def _year(text: str) -> tuple[int | None, str | None]:
    if not text:
        return None, "missing value: expected a year"
    try:
        y = int(text)
    except ValueError:
        return None, f"expected a year (an integer in [{MIN_YEAR}, {MAX_YEAR}]), got {text!r}"
    if not MIN_YEAR <= y <= MAX_YEAR:
        return None, f"expected a year in [{MIN_YEAR}, {MAX_YEAR}], got {y}"
    return y, None


def parse_rows(raw: pd.DataFrame) -> tuple[pd.DataFrame, list[Issue]]:
    """Typed rows of ``raw`` (``read_table`` of ledger files) and an issue for every malformed or
    missing value (located by file, row and column); rows with an issue are left out."""
    issues: list[Issue] = []
    out = []
    for rec in raw.to_dict("records"):
        where = (rec["file"], f"row {rec['row']}")
        bad: list[Issue] = []
        country = (rec.get("country") or HOME).strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", country):
            bad.append(Issue(*where, "country", f"expected a two-letter ISO 3166 country code such as NO or SE, got {country!r}"))
        firm = normal_orgnr(rec["firm_orgnr"])
        if not firm:
            bad.append(Issue(*where, "firm_orgnr", "missing value: expected the reporting firm's organisation number"))
        elif (p := orgnr_problem(firm)) is not None:
            bad.append(Issue(*where, "firm_orgnr", p))
        other = normal_orgnr(rec["counterpart_orgnr"])
        if country == HOME:
            if not other:
                bad.append(Issue(*where, "counterpart_orgnr",
                                 "missing value: expected the counterpart's organisation number (or a country other than NO)"))
            elif (p := orgnr_problem(other)) is not None:
                bad.append(Issue(*where, "counterpart_orgnr", p))
        name = rec["counterpart_name"].strip()
        if not name:
            bad.append(Issue(*where, "counterpart_name", "missing value: expected the counterpart's name"))
        amount, p = _amount(rec["amount"])
        if p:
            bad.append(Issue(*where, "amount", p))
        year, p = _year(rec["year"])
        if p:
            bad.append(Issue(*where, "year", p))
        kind = KINDS.get(rec["kind"].strip().lower())
        if kind is None:
            got = rec["kind"].strip()
            bad.append(Issue(*where, "kind", f"expected customer (sales ledger) or supplier (purchase ledger), got {got!r}"
                             if got else "missing value: expected customer or supplier"))
        if bad:
            issues += bad
            continue
        out.append({"file": rec["file"], "row": int(rec["row"]), "firm_orgnr": firm, "counterpart_orgnr": other,
                    "counterpart_name": name, "amount": amount, "year": year, "kind": kind, "country": country})
    cols = ["file", "row", "firm_orgnr", "counterpart_orgnr", "counterpart_name", "amount", "year", "kind", "country"]
    return pd.DataFrame.from_records(out, columns=cols), issues


def read_ledgers(paths: Iterable[str | Path], *, max_bytes: int | None = None) -> pd.DataFrame:
    """The raw rows of every ledger file (text, as read). Raises ``LedgerError`` on a file that
    cannot be read or lacks a column."""
    issues: list[Issue] = []
    frames = [read_table(p, COLUMNS, OPTIONAL, max_bytes=max_bytes, issues=issues) for p in paths]
    if issues:
        raise LedgerError(issues)
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["file", "row", *COLUMNS, *OPTIONAL])
    return pd.concat(frames, ignore_index=True).fillna("")


# ---------------------------------------------------------------- mapping files


def _mapped_orgnr(rec: dict[str, Any], seen: dict[str, Any], issues: list[Issue]) -> tuple[tuple[str, str], str]:
    """The row's location and organisation number of a mapping file; a bad or repeated number is an issue."""
    where = (rec["file"], f"row {rec['row']}")
    orgnr = normal_orgnr(rec["orgnr"])
    problem = orgnr_problem(orgnr) if orgnr else "missing value: expected an organisation number"
    if problem:
        issues.append(Issue(*where, "orgnr", problem))
    elif orgnr in seen:
        issues.append(Issue(*where, "orgnr", f"this organisation number is already mapped on row {seen[orgnr]}"))
    seen.setdefault(orgnr, rec["row"])
    return where, orgnr


def read_actor_map(path: str | Path, scenario: Scenario, *, max_bytes: int | None = None) -> pd.DataFrame:
    """``orgnr,actor[,role]`` -> DataFrame ``orgnr, actor, role``; located errors (``LedgerError``)."""
    raw = read_table(path, ("orgnr", "actor"), ("role",), max_bytes=max_bytes)
    actors = {a.id for a in scenario.actors}
    issues: list[Issue] = []
    out: list[dict[str, str]] = []
    seen: dict[str, Any] = {}
    for rec in raw.to_dict("records"):
        where, orgnr = _mapped_orgnr(rec, seen, issues)
        actor = rec["actor"].strip()
        if actor not in actors:
            issues.append(Issue(*where, "actor", f"expected an actor of the scenario ({', '.join(sorted(actors))}), got {actor!r}"))
        role = (rec.get("role") or "site").strip().lower() or "site"
        if role not in ROLES:
            issues.append(Issue(*where, "role", f"expected site or head_office, got {role!r}"))
        out.append({"orgnr": orgnr, "actor": actor, "role": role})
    if issues:
        raise LedgerError(issues, what="actor mapping")
    return pd.DataFrame.from_records(out, columns=["orgnr", "actor", "role"])


def read_sector_map(path: str | Path, *, max_bytes: int | None = None) -> pd.DataFrame:
    """``orgnr,sector`` -> DataFrame ``orgnr, sector``; located errors (``LedgerError``)."""
    raw = read_table(path, ("orgnr", "sector"), max_bytes=max_bytes)
    issues: list[Issue] = []
    out: list[dict[str, str]] = []
    seen: dict[str, Any] = {}
    for rec in raw.to_dict("records"):
        where, orgnr = _mapped_orgnr(rec, seen, issues)
        sector = rec["sector"].strip()
        if not sector:
            issues.append(Issue(*where, "sector", "missing value: expected a sector code such as C24 (NACE)"))
        out.append({"orgnr": orgnr, "sector": sector})
    if issues:
        raise LedgerError(issues, what="sector mapping")
    return pd.DataFrame.from_records(out, columns=["orgnr", "sector"])


# ---------------------------------------------------------------- cleaning


def _log(step: str, rec: dict[str, Any], detail: str, amount: float | None = None) -> dict[str, Any]:
    return {"step": step, "file": rec.get("file", ""), "row": int(rec.get("row", 0) or 0), "column": "",
            "detail": detail, "amount": float(amount) if amount is not None else math.nan,
            "firm_orgnr": rec.get("firm_orgnr", ""), "counterpart_orgnr": rec.get("counterpart_orgnr", "")}


def actor_sector_code(scenario: Scenario) -> dict[str, str]:
    """An actor's sector code: the first word of its ``sector`` (``C24 basic metals`` -> ``C24``)."""
    return {a.id: a.sector.split()[0] for a in scenario.actors if a.sector.strip()}


def clean(rows: pd.DataFrame, scenario: Scenario, actor_map: pd.DataFrame | None = None,
          sector_map: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cleaned rows and the log of what was done (the module docstring lists the steps)."""
    amap = {} if actor_map is None else {r.orgnr: (r.actor, r.role) for r in actor_map.itertuples()}
    smap = {} if sector_map is None else dict(zip(sector_map["orgnr"], sector_map["sector"], strict=True))
    actor_sector = actor_sector_code(scenario)
    names = {a.id: a.name or a.id for a in scenario.actors}
    cur = scenario.settings.currency
    log: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    exact: dict[tuple[Any, ...], dict[str, Any]] = {}
    same: dict[tuple[Any, ...], dict[str, Any]] = {}
    for rec in rows.sort_values(["file", "row"], kind="stable").to_dict("records"):
        full = tuple(rec[c] for c in ("firm_orgnr", "counterpart_orgnr", "counterpart_name", "amount", "year", "kind", "country"))
        key = tuple(rec[c] for c in ("firm_orgnr", "counterpart_orgnr", "kind", "year", "amount"))
        if full in exact:
            first = exact[full]
            log.append(_log("duplicate_exact", rec, f"same as {first['file']} row {first['row']}", rec["amount"]))
            continue
        exact[full] = rec
        if key in same and rec["counterpart_orgnr"]:
            first = same[key]
            log.append(_log("duplicate_same_amount", rec, f"same firm, counterpart, kind, year and amount as "
                                                         f"{first['file']} row {first['row']}", rec["amount"]))
            continue
        same.setdefault(key, rec)
        firm_actor, firm_role = amap.get(rec["firm_orgnr"], (None, None))
        if firm_actor is None:
            log.append(_log("unmatched_firm", rec, "the reporting firm is in no actor mapping", rec["amount"]))
            continue
        if firm_role == "head_office":
            log.append(_log("head_office", rec, f"reporting firm: a head office, attributed to {names[firm_actor]}", rec["amount"]))
        foreign = rec["country"] != HOME
        other_actor, other_role = (None, None) if foreign else amap.get(rec["counterpart_orgnr"], (None, None))
        if other_role == "head_office":
            log.append(_log("head_office", rec, f"counterpart {rec['counterpart_name']}: a head office, attributed to "
                                                f"{names.get(str(other_actor), other_actor)}", rec["amount"]))
        if other_actor == firm_actor:
            log.append(_log("internal", rec, f"{names[firm_actor]} and {rec['counterpart_name']} are one actor", rec["amount"]))
            continue
        if foreign:
            sector = FOREIGN
            log.append(_log("foreign", rec, f"counterpart {rec['counterpart_name']} ({rec['country']})", rec["amount"]))
        else:
            sector = smap.get(rec["counterpart_orgnr"]) or (actor_sector.get(other_actor, "") if other_actor else "")
            if not sector:
                sector = UNMATCHED
                if other_actor is None:
                    log.append(_log("unmatched_counterpart", rec, f"counterpart {rec['counterpart_name']}", rec["amount"]))
        kept.append({**rec, "firm_actor": firm_actor, "counterpart_actor": other_actor or "", "counterpart_sector": sector,
                     "foreign": foreign, "in_actor_flows": bool(other_actor)})
    cleaned = pd.DataFrame.from_records(kept, columns=[*rows.columns, "firm_actor", "counterpart_actor", "counterpart_sector",
                                                       "foreign", "in_actor_flows"])
    # mirror: the seller's customer-ledger row and the buyer's supplier-ledger row of one flow and year
    if len(cleaned):
        pair = cleaned[cleaned["in_actor_flows"]]
        bought: dict[tuple[Any, ...], float] = {}
        for r in pair.itertuples():
            if r.kind == "supplier":
                key3 = (r.counterpart_actor, r.firm_actor, r.year)
                bought[key3] = bought.get(key3, 0.0) + float(r.amount)
        for i, r in pair.iterrows():
            if r["kind"] == "customer" and (r["firm_actor"], r["counterpart_actor"], r["year"]) in bought:
                cleaned.loc[i, "in_actor_flows"] = False
                log.append(_log("mirror", r.to_dict(), f"{names[r['firm_actor']]} -> {names[r['counterpart_actor']]} "
                                                       f"{r['year']}: also in the buyer's supplier ledger (buyer's figure "
                                                       f"{numbers.money(bought[(r['firm_actor'], r['counterpart_actor'], r['year'])], cur)}, "
                                                       f"seller's {numbers.money(r['amount'], cur)})", r["amount"]))
    log_cols = ["step", "file", "row", "column", "detail", "amount", "firm_orgnr", "counterpart_orgnr"]
    order = list(STEPS)
    log.sort(key=lambda r: (r["file"], r["row"], order.index(r["step"])))
    return cleaned.reset_index(drop=True), pd.DataFrame.from_records(log, columns=log_cols)


def invalid_log(issues: Iterable[Issue]) -> pd.DataFrame:
    """Log rows (step ``invalid``) for rows dropped with ``skip_invalid``."""
    out = []
    for i in issues:
        row = int(str(i.row).removeprefix("row ")) if i.row is not None and str(i.row).removeprefix("row ").isdigit() else 0
        out.append({"step": "invalid", "file": i.table, "row": row, "column": i.column or "", "detail": i.message,
                    "amount": math.nan, "firm_orgnr": "", "counterpart_orgnr": ""})
    return pd.DataFrame.from_records(out, columns=["step", "file", "row", "column", "detail", "amount", "firm_orgnr",
                                                   "counterpart_orgnr"])


def cleaning_summary(log: pd.DataFrame) -> pd.DataFrame:
    """Rows and amount of each cleaning step (every step, zeros included), in ``STEPS`` order;
    ``invalid`` counts rows (a row with two bad values counts once)."""
    out = []
    for step, what in STEPS.items():
        mine = log[log["step"] == step]
        rows = len(mine[["file", "row"]].drop_duplicates()) if step == "invalid" else len(mine)
        out.append({"step": step, "rows": rows, "amount": float(mine["amount"].fillna(0).sum()), "what": what})
    return pd.DataFrame.from_records(out)


# ---------------------------------------------------------------- flows


def actor_flows(cleaned: pd.DataFrame) -> pd.DataFrame:
    """Money paid between actors: ``seller, buyer, year, amount, reported_by`` (``buyer`` from a
    supplier ledger, ``seller`` from a customer ledger; ``mirror`` rows set aside), summed."""
    cols = ["seller", "buyer", "year", "amount", "reported_by"]
    rows = cleaned[cleaned["in_actor_flows"]] if len(cleaned) else cleaned
    if not len(rows):
        return pd.DataFrame(columns=cols)
    supplier = rows["kind"] == "supplier"
    frame = pd.DataFrame({
        "seller": np.where(supplier, rows["counterpart_actor"], rows["firm_actor"]),
        "buyer": np.where(supplier, rows["firm_actor"], rows["counterpart_actor"]),
        "year": rows["year"].astype(int), "amount": rows["amount"].astype(float),
        "reported_by": np.where(supplier, "buyer", "seller"),
    })
    out = frame.groupby(["seller", "buyer", "year"], as_index=False).agg(
        amount=("amount", "sum"), reported_by=("reported_by", lambda s: "+".join(sorted(set(s)))))
    return out.sort_values(["year", "seller", "buyer"], ignore_index=True)[cols]


def sector_flows(cleaned: pd.DataFrame) -> pd.DataFrame:
    """Each actor's purchases from and sales to each sector: ``actor, direction, sector, year, amount``
    (``direction``: ``purchases`` or ``sales``; every counterpart, other actors in their sector)."""
    cols = ["actor", "direction", "sector", "year", "amount"]
    if not len(cleaned):
        return pd.DataFrame(columns=cols)
    frame = pd.DataFrame({"actor": cleaned["firm_actor"],
                          "direction": np.where(cleaned["kind"] == "supplier", "purchases", "sales"),
                          "sector": cleaned["counterpart_sector"], "year": cleaned["year"].astype(int),
                          "amount": cleaned["amount"].astype(float)})
    out = frame.groupby(["actor", "direction", "sector", "year"], as_index=False)["amount"].sum()
    return out.sort_values(["year", "actor", "direction", "sector"], ignore_index=True)[cols]


def io_sector_of(code: str, io_sectors: Sequence[str]) -> str:
    """The input-output table sector of a NACE ``code`` (``C10.1``), by the table's sector names
    ``CODE_words``: a name whose CODE is a prefix of the code (dots ignored: ``C10_food`` takes
    ``C10.1`` and ``C10.2``), the longest such; a CODE of two letters is a range of NACE sections
    (``GN_market_services`` takes G to N). ``foreign`` and ``unmatched`` stay as they are, and so
    does a code no sector takes (returned as ``unmatched``)."""
    if code in (FOREIGN, UNMATCHED):
        return code
    flat = code.replace(".", "").upper()
    best, size = UNMATCHED, 0
    for name in io_sectors:
        head = name.split("_", 1)[0].upper()
        if len(head) == 2 and head.isalpha() and flat[:1].isalpha():
            if head[0] <= flat[0] <= head[1] and size < 1:
                best, size = name, 1
        elif flat.startswith(head.replace(".", "")) and len(head) > size:
            best, size = name, len(head)
    return best


def with_io_sectors(flows: pd.DataFrame, io_sectors: Sequence[str]) -> pd.DataFrame:
    """``sector_flows`` with the column ``io_sector`` (``io_sector_of`` each sector)."""
    out = flows.copy()
    out["io_sector"] = [io_sector_of(str(c), io_sectors) for c in out["sector"]]
    return out


# ---------------------------------------------------------------- linkages


def rasmussen(z: np.ndarray, x: np.ndarray) -> dict[str, np.ndarray]:
    """Rasmussen's (1956) linkage indices of ``n`` actors from the flows ``z[i, j]`` (money ``j``
    paid ``i``: ``i``'s sales to ``j``) and the actors' total output ``x`` (their total sales).

    * input coefficients ``A = Z diag(x)^-1`` (``a_ij = z_ij / x_j``), Leontief inverse
      ``L = (I - A)^-1``; backward linkage (power of dispersion) of ``j``:
      ``BL_j = n sum_i L_ij / sum_ij L_ij`` (its column sum over the mean column sum);
    * output coefficients ``B = diag(x)^-1 Z`` (``b_ij = z_ij / x_i``), Ghosh inverse
      ``G = (I - B)^-1``; forward linkage of ``i``: ``FL_i = n sum_j G_ij / sum_ij G_ij``
      (Miller & Blair 2009, sec. 12.2); and Rasmussen's own sensitivity of dispersion,
      the row sums of ``L`` likewise (``forward_leontief``).

    An index above 1: the actor pulls (backward) or pushes (forward) more than the cluster's average.

    Raises:
        ValueError: an output is not positive, or an actor buys (or sells) within the cluster as
            much as its output or more (the inverse does not exist or is not positive).
    """
    z = np.asarray(z, dtype=float)
    x = np.asarray(x, dtype=float)
    n = len(x)
    if z.shape != (n, n):
        raise ValueError(f"flows must be {n} x {n}, got {z.shape}")
    if n == 0 or not (x > 0).all():
        raise ValueError("every actor needs a positive total output (sales)")
    a = z / x[None, :]
    b = z / x[:, None]
    if (a.sum(axis=0) >= 1).any() or (b.sum(axis=1) >= 1).any():
        raise ValueError("an actor's purchases from (or sales to) the cluster are as large as its output or larger")
    eye = np.eye(n)
    leontief = np.linalg.inv(eye - a)
    ghosh = np.linalg.inv(eye - b)
    return {
        "A": a, "B": b, "L": leontief, "G": ghosh,
        "backward": n * leontief.sum(axis=0) / leontief.sum(),
        "forward": n * ghosh.sum(axis=1) / ghosh.sum(),
        "forward_leontief": n * leontief.sum(axis=1) / leontief.sum(),
    }


def totals(cleaned: pd.DataFrame) -> pd.DataFrame:
    """Each actor's total sales and purchases per year (every counterpart, internal flows left out)."""
    cols = ["actor", "year", "sales", "purchases"]
    if not len(cleaned):
        return pd.DataFrame(columns=cols)
    t = cleaned.pivot_table(index=["firm_actor", "year"], columns="kind", values="amount", aggfunc="sum", fill_value=0.0)
    t = t.reindex(columns=["customer", "supplier"], fill_value=0.0).reset_index()
    t.columns = ["actor", "year", "sales", "purchases"]
    return t[cols]


def linkages(flows: pd.DataFrame, tot: pd.DataFrame, year: int) -> tuple[pd.DataFrame, list[str]]:
    """Rasmussen indices (``rasmussen``) of the actors with a customer ledger in ``year`` (their
    total sales are their output); notes say who was left out and why."""
    cols = ["actor", "year", "output", "cluster_purchases", "cluster_sales", "backward", "forward", "forward_leontief"]
    notes: list[str] = []
    t = tot[(tot["year"] == year)]
    out_of = dict(zip(t["actor"], t["sales"], strict=True))
    actors = sorted(a for a, s in out_of.items() if s > 0)
    mine = flows[flows["year"] == year]
    others = sorted((set(mine["seller"]) | set(mine["buyer"])) - set(actors))
    if others:
        notes.append(f"left out (no customer ledger for {year}: output unknown): {', '.join(others)}")
    if len(actors) < 2:
        notes.append(f"linkages need two actors or more with a customer ledger for {year}")
        return pd.DataFrame(columns=cols), notes
    ix = {a: i for i, a in enumerate(actors)}
    z = np.zeros((len(actors), len(actors)))
    for r in mine.itertuples():
        if r.seller in ix and r.buyer in ix:
            z[ix[r.seller], ix[r.buyer]] += r.amount
    x = np.array([out_of[a] for a in actors])
    try:
        res = rasmussen(z, x)
    except ValueError as exc:
        notes.append(f"no linkages for {year}: {exc}")
        return pd.DataFrame(columns=cols), notes
    frame = pd.DataFrame({"actor": actors, "year": year, "output": x, "cluster_purchases": z.sum(axis=0),
                          "cluster_sales": z.sum(axis=1), "backward": res["backward"], "forward": res["forward"],
                          "forward_leontief": res["forward_leontief"]})
    return frame[cols], notes


# ---------------------------------------------------------------- an actor's own inputs


CLEAN_COLUMNS = ("firm_actor", "kind", "counterpart_actor", "counterpart_sector", "year", "amount")


def read_cleaned(db: str | Path) -> pd.DataFrame:
    """The ``ledger_clean`` table of a DuckDB file written by ``symbiosim ledgers --db`` (``CLEAN_COLUMNS``).

    The file is untrusted: opened read-only with DuckDB's access to other files off, and only a plain
    table with those columns is read (a view or computed column is refused).

    Raises:
        LedgerError: the file is not such a database, located by table and column.
    """
    import duckdb

    from symbiosim.store import StoreError, open_untrusted, schema_of

    name = Path(db).name

    def problem(message: str, column: str | None = None) -> LedgerError:
        return LedgerError([Issue("ledger_clean", None, column, message)], str(db), what="ledger database")

    try:
        con = open_untrusted(db)
    except StoreError as exc:
        raise problem(f"{exc} (expected the file `symbiosim ledgers --db` writes)") from None
    try:
        kinds, rows = schema_of(con)
        if "ledger_clean" not in kinds:
            raise problem(f"{name} has no table ledger_clean (expected the file `symbiosim ledgers --db` writes)")
        if kinds["ledger_clean"] != "BASE TABLE":
            raise problem(f"ledger_clean is a {str(kinds['ledger_clean']).lower()}, not a table")
        cols = {c: g for t, c, g in rows if t == "ledger_clean"}
        for c in CLEAN_COLUMNS:
            if c not in cols:
                raise problem("missing column", c)
            if cols[c]:
                raise problem("a computed column; expected stored values", c)
        frame = con.execute(f"select {', '.join(CLEAN_COLUMNS)} from ledger_clean").df()
    except duckdb.Error as exc:
        raise problem(f"cannot read the table ({str(exc).splitlines()[0]})") from None
    finally:
        con.close()
    frame["amount"] = pd.to_numeric(frame["amount"], errors="coerce")
    frame["year"] = pd.to_numeric(frame["year"], errors="coerce")
    bad = frame[~np.isfinite(frame["amount"].astype(float)) | (frame["amount"] < 0) | frame["year"].isna()]
    if len(bad):
        raise LedgerError([Issue("ledger_clean", int(i) + 1, None, "expected an amount >= 0 and a year")
                           for i in bad.index[:20]], str(db), what="ledger database")
    frame["year"] = frame["year"].astype(int)
    frame["counterpart_actor"] = frame["counterpart_actor"].fillna("").astype(str)
    return frame


def own_inputs(cleaned: pd.DataFrame, io_sectors: Sequence[str], year: int | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Each actor's own input coefficients: its purchases (supplier ledger) per unit of its sales (customer
    ledger) in one year, by sector of an input-output table: ``actor, year, io_sector, in_cluster, coefficient``.

    ``in_cluster``: bought from another actor of the cluster (certainly within the region). ``io_sector`` is
    ``foreign`` for imports and ``unmatched`` for counterparts of no known sector (both create no effect in
    the table's economy). The year is ``year`` or, per actor, the latest year with both ledgers; an actor
    without both is left out (the notes say so): its sector's average inputs stand in for its own.
    """
    cols = ["actor", "year", "io_sector", "in_cluster", "coefficient"]
    notes: list[str] = []
    if not len(cleaned):
        return pd.DataFrame(columns=cols), notes
    tot = totals(cleaned)
    both = tot[(tot["sales"] > 0) & (tot["purchases"] > 0)]
    rows = []
    one_sided = sorted(set(tot["actor"]) - set(both["actor"]))
    if one_sided:
        notes.append(f"own inputs need a customer and a supplier ledger in one year: {', '.join(one_sided)} "
                     "keep their sector's average inputs")
    for actor, mine in both.groupby("actor"):
        if year is not None and year not in set(mine["year"]):
            notes.append(f"{actor}: no customer and supplier ledgers for {year}: its sector's average inputs are used")
            continue
        y = int(year if year is not None else mine["year"].max())
        sales = float(mine.loc[mine["year"] == y, "sales"].iloc[0])
        bought = cleaned[(cleaned["firm_actor"] == actor) & (cleaned["kind"] == "supplier") & (cleaned["year"] == y)]
        for (sector, in_cluster), amount in bought.groupby(
                [bought["counterpart_sector"].astype(str), bought["counterpart_actor"].astype(str) != ""])["amount"].sum().items():
            rows.append({"actor": actor, "year": y, "io_sector": io_sector_of(sector, io_sectors),
                         "in_cluster": bool(in_cluster), "coefficient": float(amount) / sales})
    frame = pd.DataFrame.from_records(rows, columns=cols)
    if len(frame):
        frame = frame.groupby(["actor", "year", "io_sector", "in_cluster"], as_index=False)["coefficient"].sum()[cols]
    return frame, notes


# ---------------------------------------------------------------- material flows


def material_flows(scenario: Scenario, plan_flows: pd.DataFrame | None = None, year: int = 0) -> pd.DataFrame:
    """Material flows between actors: ``source, target, product, quantity``. From a plan's
    ``flows`` (year index ``year``, summed over periods) if given, else the scenario's links with
    ``exists: true`` (quantity: the link's capacity, NaN when it has none)."""
    cols = ["source", "target", "product", "quantity"]
    if plan_flows is not None:
        f = plan_flows[(plan_flows["year"] == year) & (plan_flows["value"] > 1e-9)]
        return f.groupby(["source", "target", "product"], as_index=False)["value"].sum().rename(
            columns={"value": "quantity"})[cols]
    rows = [{"source": k.from_, "target": k.to, "product": k.product,
             "quantity": k.capacity if k.capacity is not None else math.nan} for k in scenario.links if k.exists]
    return pd.DataFrame.from_records(rows, columns=cols)


# ---------------------------------------------------------------- the whole import


@dataclass
class LedgerResult:
    """Everything one import produced (the tables ``store`` writes)."""

    raw: pd.DataFrame
    cleaned: pd.DataFrame
    log: pd.DataFrame
    actor_flows: pd.DataFrame
    sector_flows: pd.DataFrame
    totals: pd.DataFrame
    linkages: pd.DataFrame
    year: int | None
    currency: str
    names: dict[str, str]
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> pd.DataFrame:
        return cleaning_summary(self.log)

    def store(self, db: str | Path) -> Path:
        """Write the tables ``TABLES`` into the DuckDB file ``db`` (replacing earlier ones)."""
        tables = {"ledger_raw": self.raw, "ledger_clean": self.cleaned, "cleaning_log": self.log,
                  "actor_flows": self.actor_flows, "sector_flows": self.sector_flows, "linkages": self.linkages}
        with ResultsStore(db) as store:
            for name, frame in tables.items():
                store.replace(name, frame.astype({c: "string" for c in frame.columns if frame[c].dtype == object}))
        return Path(db)


def import_ledgers(paths: Sequence[str | Path], scenario: Scenario, *, actor_map: str | Path | None = None,
                   sector_map: str | Path | None = None, year: int | None = None, skip_invalid: bool = False,
                   db: str | Path | None = None, max_bytes: int | None = None,
                   io_sectors: Sequence[str] | None = None) -> LedgerResult:
    """Read, check, clean and link ledger files (see the module docstring).

    Args:
        year: the year of the linkages (default: the latest year in the cleaned rows).
        skip_invalid: drop rows with malformed or missing values (each logged, step ``invalid``)
            instead of raising.
        db: a DuckDB file to write the tables into (``LedgerResult.store``).
        io_sectors: the sectors of an input-output table: ``sector_flows`` gains ``io_sector``
            (``io_sector_of``).

    Raises:
        LedgerError: listing every problem, located by file, row and column.
    """
    raw = read_ledgers(paths, max_bytes=max_bytes)
    amap = read_actor_map(actor_map, scenario, max_bytes=max_bytes) if actor_map is not None else None
    smap = read_sector_map(sector_map, max_bytes=max_bytes) if sector_map is not None else None
    rows, issues = parse_rows(raw)
    if issues and not skip_invalid:
        raise LedgerError(issues)
    cleaned, log = clean(rows, scenario, amap, smap)
    if issues:
        log = pd.concat([invalid_log(issues), log], ignore_index=True)
    flows = actor_flows(cleaned)
    tot = totals(cleaned)
    notes: list[str] = []
    if amap is None:
        notes.append("no actor mapping (--map-actors): no reporting firm matches an actor")
    years = sorted({int(y) for y in cleaned["year"]}) if len(cleaned) else []
    if year is None and years:
        year = years[-1]
    if year is not None and years and year not in years:
        notes.append(f"no cleaned rows for {year} (years: {', '.join(map(str, years))})")
    if year is not None:
        links, more = linkages(flows, tot, year)
        notes += more
    else:
        links = pd.DataFrame(columns=["actor", "year", "output", "cluster_purchases", "cluster_sales", "backward",
                                      "forward", "forward_leontief"])
    by_sector = sector_flows(cleaned)
    if io_sectors is not None:
        by_sector = with_io_sectors(by_sector, io_sectors)
        left = sorted(set(by_sector.loc[by_sector["io_sector"] == UNMATCHED, "sector"]) - {UNMATCHED})
        if left:
            notes.append(f"sectors in no sector of the input-output table: {', '.join(left)}")
    result = LedgerResult(raw=raw, cleaned=cleaned, log=log, actor_flows=flows, sector_flows=by_sector,
                          totals=tot, linkages=links, year=year, currency=scenario.settings.currency,
                          names={a.id: a.name or a.id for a in scenario.actors}, notes=notes)
    if db is not None:
        result.store(db)
    return result
