"""Observed history of a cluster (scenario format contract v1.1, "Observed history").

What really happened in a cluster, for calibrating and validating the
decentralised model: a YAML file that belongs to one scenario and never changes
it. ``load_history`` reads it through the scenario loader's bounded reader
(size limit, alias and depth limits: ``symbiosim.scenario.load.read_yaml``) and
checks every row against the scenario; all problems are raised together as one
``ScenarioError`` whose issues are located like a scenario's (file, table, row,
column).

Rules (the contract's, plus the consistency checks noted as such):

* ``scenario`` is the scenario's ``settings.name``;
* ``from``/``to``/``actor`` name actors and ``product`` a product of the scenario;
* an exchange's ``year`` (first calendar year with flow) may lie before
  ``settings.start_year`` only if the scenario has the exchange as a link with
  ``exists: true``, and never after the horizon's last year
  (``start_year + years - 1``); ``ended`` is after ``year``;
* consistency: an exchange the scenario has as an existing link formed by
  ``start_year`` at the latest; an exchange of a ``needs_link`` product needs a
  ``links`` row (a trucked product needs none); an ``absent`` row may not
  contradict an ``exchanges`` row or an existing link, and its ``until`` is not
  after the horizon; an ``entries`` actor is a candidate (``exists: false``)
  entering within the horizon.

A history in a workbook (sheet ``history``) is not read yet: write it as YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from symbiosim.errors import Issue, ScenarioError
from symbiosim.scenario.load import did_you_mean, issues_from, read_yaml
from symbiosim.scenario.schema import Row, Scenario, col, show

ExchangeKey = tuple[str, str, str]  # (from, to, product)

FORMED_TOLERANCE = 1e-9  # a flow above this is positive (the solver treats smaller entries as zero)


class HistoryExchange(Row):
    from_: str = col(alias="from", doc="Sending actor id")
    to: str = col(doc="Receiving actor id")
    product: str = col(doc="Product id")
    year: int = col(unit="year", doc="Calendar year of the first flow")
    ended: int | None = col(None, unit="year", doc="Calendar year the exchange ended (empty: still running)")
    source: str = col(doc="Public source of the year", min_length=1)

    @property
    def key(self) -> ExchangeKey:
        return (self.from_, self.to, self.product)


class HistoryAbsent(Row):
    from_: str = col(alias="from", doc="Sending actor id")
    to: str = col(doc="Receiving actor id")
    product: str = col(doc="Product id")
    until: int = col(unit="year", doc="Calendar year by which the exchange had not formed")
    source: str = col(doc="Public source", min_length=1)

    @property
    def key(self) -> ExchangeKey:
        return (self.from_, self.to, self.product)


class HistoryEntry(Row):
    actor: str = col(doc="Candidate actor id")
    year: int = col(unit="year", doc="Calendar year it entered")
    source: str = col(doc="Public source", min_length=1)


class HasFlows(Protocol):
    """A ``symbiosim.plan.Plan`` (the scenario layer does not import it): its ``flows`` table
    with columns source, target, product, year, value."""

    flows: pd.DataFrame


TABLES: dict[str, type[Row]] = {"exchanges": HistoryExchange, "absent": HistoryAbsent, "entries": HistoryEntry}
TOP_LEVEL = ("scenario", *TABLES)


class History(BaseModel):
    """A validated observed history; ``scenario`` is the ``settings.name`` it belongs to."""

    model_config = ConfigDict(frozen=True)

    scenario: str
    exchanges: tuple[HistoryExchange, ...] = ()
    absent: tuple[HistoryAbsent, ...] = ()
    entries: tuple[HistoryEntry, ...] = ()

    def years(self) -> dict[ExchangeKey, int]:
        """Observed first year of each exchange (the earliest row if one is listed twice)."""
        out: dict[ExchangeKey, int] = {}
        for e in self.exchanges:
            out[e.key] = min(e.year, out.get(e.key, e.year))
        return out


def load_history(path: str | Path, scenario: Scenario, *, max_bytes: int | None = None) -> History:
    """Read and validate a history file (YAML) against ``scenario``.

    Args:
        path: a ``.yaml``/``.yml`` file (contract v1.1).
        scenario: the scenario it describes (its ``settings.name`` must match).
        max_bytes: the size limit, as for ``load_scenario``.

    Raises:
        ScenarioError: every problem found, located by table, row and column
            (``what="history"``).
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise ScenarioError([Issue("(file)", None, None, f"no such file: {path}")], source, what="history")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        raise ScenarioError(
            [Issue("(file)", None, None, "a history in a workbook (sheet `history`) is not read yet: write it as YAML")],
            source, what="history",
        )
    if suffix not in (".yaml", ".yml"):
        raise ScenarioError(
            [Issue("(file)", None, None, f"unknown file type {suffix!r}: expected .yaml or .yml")], source, what="history"
        )
    try:
        raw = read_yaml(path, max_bytes=max_bytes)
    except ScenarioError as exc:
        raise ScenarioError(exc.issues, exc.source, what="history") from None
    return history_from_dict(raw, scenario, source=source)


def history_from_dict(raw: Any, scenario: Scenario, source: str = "") -> History:
    """Validate plain data (as read from a file) into a ``History`` of ``scenario``."""
    if not isinstance(raw, Mapping):
        raise ScenarioError(
            [Issue("(file)", None, None, "expected a mapping with `scenario` and `exchanges` at the top level")],
            source, what="history",
        )
    issues: list[Issue] = []
    for key in raw:
        if key not in TOP_LEVEL:
            issues.append(Issue(str(key), None, None,
                                f"unknown table{did_you_mean(str(key), TOP_LEVEL)} (the tables are: {', '.join(TOP_LEVEL)})"))
    name = raw.get("scenario")
    if name is None:
        issues.append(Issue("scenario", None, None, "required: the settings.name of the scenario this history belongs to"))
    elif not isinstance(name, str):
        issues.append(Issue("scenario", None, None, f"expected the scenario's name, got {show(name)}"))
    elif name != scenario.settings.name:
        issues.append(Issue("scenario", None, None,
                            f"this history belongs to scenario `{name}`, but the scenario's settings.name is "
                            f"`{scenario.settings.name}`"))
    if raw.get("exchanges") in (None, []):
        issues.append(Issue("exchanges", None, None, "required table is missing or empty"))
    rows: dict[str, list[tuple[str | int, Any]]] = {}
    for table, model in TABLES.items():
        rows[table] = _validate_rows(table, raw.get(table), model, issues)
    issues += _check(rows, scenario)
    if issues:
        raise ScenarioError(issues, source, what="history")
    return History(scenario=str(name), **{table: tuple(r for _, r in rows[table]) for table in TABLES})


def _label(table: str, row: Mapping[str, Any], index: int) -> str | int:
    keys = ("actor",) if table == "entries" else ("from", "to", "product")
    values = [row.get(k) for k in keys]
    if all(isinstance(v, str) and v for v in values):
        return str(values[0]) if table == "entries" else f"{values[0]}->{values[1]}/{values[2]}"
    return index


def _validate_rows(table: str, data: Any, model: type[Row], issues: list[Issue]) -> list[tuple[str | int, Any]]:
    if data is None:
        return []
    if not isinstance(data, list):
        issues.append(Issue(table, None, None, f"expected a list of rows, got {type(data).__name__}"))
        return []
    out = []
    for index, item in enumerate(data):
        if not isinstance(item, Mapping):
            issues.append(Issue(table, index, None, f"expected a row of column: value, got {show(item)}"))
            continue
        label = _label(table, item, index)
        try:
            out.append((label, model.model_validate(dict(item))))
        except ValidationError as exc:
            issues += issues_from(exc, table, label, model)
    return out


def _check(rows: Mapping[str, list[tuple[str | int, Any]]], s: Scenario) -> list[Issue]:
    """Every rule between the history's rows and the scenario (on the rows that parsed)."""
    issues: list[Issue] = []
    actors = {a.id: a for a in s.actors}
    products = {p.id: p for p in s.products}
    links = {(k.from_, k.to, k.product): k for k in s.links}
    start = s.settings.start_year
    last = start + s.settings.years - 1
    horizon = f"the horizon's last year {last} (settings.start_year {start} + years {s.settings.years} - 1)"

    def names(table: str, label: str | int, row: Any) -> bool:
        ok = True
        for column, value in (("from", row.from_), ("to", row.to)):
            if value not in actors:
                issues.append(Issue(table, label, column, f"unknown actor `{value}`"))
                ok = False
        if row.product not in products:
            issues.append(Issue(table, label, "product", f"unknown product `{row.product}`"))
            ok = False
        return ok

    observed: dict[ExchangeKey, int] = {}
    for label, e in rows["exchanges"]:
        if e.ended is not None and e.ended <= e.year:
            issues.append(Issue("exchanges", label, "ended", f"ended {e.ended} is not after year {e.year}"))
        if not names("exchanges", label, e):
            continue
        observed[e.key] = min(e.year, observed.get(e.key, e.year))
        link = links.get(e.key)
        existing = link is not None and link.exists
        if e.year > last:
            issues.append(Issue("exchanges", label, "year", f"{e.year} is after {horizon}"))
        elif e.year < start and not existing:
            issues.append(Issue("exchanges", label, "year",
                                f"{e.year} is before settings.start_year {start}, which only an exchange that the "
                                "scenario has as a link with exists: true may be"))
        elif e.year > start and existing:
            issues.append(Issue("exchanges", label, "year",
                                f"{e.year} is after settings.start_year {start}, but the scenario has this exchange as "
                                "a link with exists: true (exchanging at the start)"))
        if link is None and products[e.product].needs_link:
            issues.append(Issue("exchanges", label, "product",
                                f"`{e.product}` moves only over a link (needs_link), and the scenario has no links row "
                                f"{e.from_}->{e.to}/{e.product}"))
    for label, a in rows["absent"]:
        if not names("absent", label, a):
            continue
        link = links.get(a.key)
        if a.until > last:
            issues.append(Issue("absent", label, "until", f"{a.until} is after {horizon}"))
        elif link is not None and link.exists and a.until >= start:
            issues.append(Issue("absent", label, "until",
                                f"the scenario has this exchange as a link with exists: true, so it had formed by "
                                f"settings.start_year {start}"))
        elif a.key in observed and observed[a.key] <= a.until:
            issues.append(Issue("absent", label, "until",
                                f"`exchanges` says it formed in {observed[a.key]}, not after {a.until}"))
    for label, n in rows["entries"]:
        actor = actors.get(n.actor)
        if actor is None:
            issues.append(Issue("entries", label, "actor", f"unknown actor `{n.actor}`"))
            continue
        if actor.exists:
            issues.append(Issue("entries", label, "actor",
                                f"`{n.actor}` exists in the scenario (exists: true); entries are for candidate actors"))
        elif n.year > last:
            issues.append(Issue("entries", label, "year", f"{n.year} is after {horizon}"))
        elif n.year < start:
            issues.append(Issue("entries", label, "year",
                                f"{n.year} is before settings.start_year {start}: a candidate actor enters within the horizon"))
    return issues


def formed_years(plan: HasFlows, scenario: Scenario, *, tolerance: float = FORMED_TOLERANCE) -> dict[ExchangeKey, int]:
    """The exchanges that formed in ``plan`` and their simulated calendar years (contract v1.1).

    An exchange (from, to, product) formed when its flow is positive (above
    ``tolerance``) in some period of a year; its year is the first such year,
    ``settings.start_year`` + the plan's year index.
    """
    flows: pd.DataFrame = plan.flows
    positive = flows[flows["value"] > tolerance]
    if positive.empty:
        return {}
    first = positive.groupby(["source", "target", "product"], sort=True)["year"].min()
    start = scenario.settings.start_year
    return {(str(s), str(t), str(p)): start + int(y) for (s, t, p), y in first.items()}
