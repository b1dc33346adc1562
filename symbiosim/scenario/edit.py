"""One way to change a scenario: resolve a target, set cells, add rows, validate.

Every change of a loaded scenario goes through here: a Monte Carlo sample
(``experiments.design.apply_sample``), a case (``decide.cases.apply_case``), a
robustness perturbation (``decide.robustness.perturb``). The input is never
mutated; the result is a validated ``Scenario``, and every error names the
edit (``ScenarioError`` whose issues carry it as their ``source``, e.g.
``sample 12: purchases[product=wood_chips].price: purchases[allskog/wood_chips].price:
expected greater than or equal to 0, got -5`` or ``case gas_80: ...``).

* ``resolve(scenario, target)``: the cells a target names (``Cell``: table,
  row index, column). Targets are parsed by ``symbiosim.scenario.targets``,
  never evaluated.
* ``apply_edits(scenario, edits, name=...)``: ``Edit`` = a target and a
  ``value`` (replaces) or a ``factor`` (multiplies). Every target is resolved
  against the input scenario; edits apply in order, so two edits of one cell
  compound (a factor multiplies the value the earlier edit left).
* ``set_cells(scenario, changes, name=...)``: the same for cells already
  resolved (perturbations).
* ``add_rows(scenario, tables, policies=..., name=...)``: rows appended to
  tables, profiles and policy instruments merged in.
* ``without_actor(scenario, actor, name=...)``: the cluster without one actor (its
  rows in every table, the links to and from it, its behaviour rows and the
  uncertain inputs that select it), validated like a file.
* ``distributions(scenario)``: each ``uncertainty`` row as an
  ``UncertainInput``: its target, cells and a frozen ``scipy.stats``
  distribution; the one place where rows become distributions (the design
  samples through ``dist.ppf``, the simulator reads ``relative_sd``).

Validation. ``add_rows`` validates the whole result like a file
(``scenario_from_dict``). Cell edits validate what they can break: each
edited row (and ``settings``) against its schema (types, ranges, the number
limits), then every cross-table check (``checks.run_checks``: about 0.3 ms on
Orkanger); the unedited rows were valid and stay so. The result is the same
as validating the whole file, at about a seventh of the cost (a sample runs
per Monte Carlo draw).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from scipy import stats

from symbiosim.errors import Issue, ScenarioError
from symbiosim.scenario.checks import run_checks
from symbiosim.scenario.schema import ROW_TABLES, Row, Scenario, Settings, Uncertainty
from symbiosim.scenario.targets import Target, field_names, parse_target, resolve_target

ADD_TABLES = (*ROW_TABLES, "profiles")


@dataclass(frozen=True)
class Cell:
    """One cell: ``table`` (``settings`` or a row table), ``row`` index (0 for settings), ``column`` (as in files)."""

    table: str
    row: int
    column: str


@dataclass(frozen=True)
class Edit:
    """Set the cells of ``target`` to ``value``, or multiply them by ``factor`` (exactly one of the two).

    ``label`` is added to the edit's name in its errors (e.g. the target of a
    sample's input); ``where`` locates an unresolvable target, as
    ``(table, row, column)`` of the file that holds the edit (default: the target).
    """

    target: str | Target
    value: Any = None
    factor: float | None = None
    label: str | None = None
    where: tuple[str, str | int | None, str | None] | None = None


@dataclass(frozen=True)
class UncertainInput:
    """One ``uncertainty`` row: where it points and how it is distributed."""

    index: int
    row: Uncertainty
    target: Target
    cells: tuple[Cell, ...]
    dist: Any  # a frozen scipy.stats distribution (rv_frozen)
    relative_sd: float = field(default=0.0)

    @property
    def as_factor(self) -> bool:
        return self.row.as_ == "factor"


# ---- targets ------------------------------------------------------------------


def resolve(scenario: Scenario, target: str | Target, *, numeric: bool = True) -> list[Cell]:
    """The cells ``target`` names; ``ValueError`` saying why when it names none.

    ``numeric``: the column must hold numbers (uncertainty rows, factors);
    without it any column may be named (a case may replace text and flags).
    """
    t = _parsed(target) if isinstance(target, str) else target
    return [Cell(t.table, i, t.column) for i in resolve_target(scenario, t, numeric=numeric)]


def value_of(scenario: Scenario, cell: Cell) -> Any:
    """The cell's present value (``None`` where it is empty)."""
    row = scenario.settings if cell.table == "settings" else getattr(scenario, cell.table)[cell.row]
    return getattr(row, field_names(type(row))[cell.column])


# ---- edits --------------------------------------------------------------------


def apply_edits(scenario: Scenario, edits: Sequence[Edit], *, name: str) -> Scenario:
    """The scenario with ``edits`` applied in order, validated; see the module docstring.

    Raises:
        ScenarioError: every problem at once, each issue's ``source`` naming the edit
            (``name``, plus the edit's ``label`` when it has one).
    """
    issues: list[Issue] = []
    changes: dict[Cell, Any] = {}
    sources: dict[Cell, str] = {}
    for edit in edits:
        source = f"{name}: {edit.label}" if edit.label else name
        try:
            cells = resolve(scenario, edit.target, numeric=edit.factor is not None)
        except ValueError as exc:
            table, row, column = edit.where or (str(edit.target), None, None)
            issues.append(Issue(table, row, column, str(exc), source))
            continue
        for c in cells:
            now = changes[c] if c in changes else value_of(scenario, c)
            if edit.factor is None:
                new = edit.value
            elif isinstance(now, bool) or not isinstance(now, int | float):
                table, row, column = edit.where or (str(edit.target), None, None)
                issues.append(Issue(table, row, column, f"{edit.target}: factor needs a number, the cell holds {now!r}", source))
                break
            else:
                new = now * edit.factor
            changes[c] = new
            sources[c] = source
    if issues:
        raise ScenarioError(issues, what=name)
    return _set(scenario, changes, sources, name)


def set_cells(scenario: Scenario, changes: Iterable[tuple[Cell, Any]], *, name: str) -> Scenario:
    """The scenario with each cell set to its new value (the last one wins), validated; errors name ``name``."""
    new = dict(changes)
    return _set(scenario, new, dict.fromkeys(new, name), name)


def _set(scenario: Scenario, changes: Mapping[Cell, Any], sources: Mapping[Cell, str], name: str) -> Scenario:
    """Validate the edited rows against their schema, then the cross-table checks."""
    from symbiosim.scenario.load import _issues_from, row_label

    by_row: dict[tuple[str, int], dict[str, Any]] = {}
    for c, v in changes.items():
        by_row.setdefault((c.table, c.row), {})[c.column] = v
    issues: list[Issue] = []
    tables: dict[str, list[Row]] = {}
    settings = scenario.settings
    labels: dict[tuple[str, str | int | None], str] = {}  # (table, row label) -> the edit's name
    for (table, index), columns in by_row.items():
        old = settings if table == "settings" else getattr(scenario, table)[index]
        model = type(old)
        names = field_names(model)
        data = {k: getattr(old, k) for k in old.model_fields_set}
        data.update({names[col]: v for col, v in columns.items()})
        label = None if table == "settings" else row_label(table, old.model_dump(by_alias=True), index)
        source = sources[Cell(table, index, next(iter(columns)))]
        labels[(table, label)] = source
        try:
            row = model.model_validate(data)
        except ValidationError as exc:
            issues += [_named(i, source) for i in _issues_from(exc, table, label, model)]
            continue
        if table == "settings":
            assert isinstance(row, Settings)
            settings = row
        else:
            tables.setdefault(table, list(getattr(scenario, table)))[index] = row
    if issues:  # the cross-table checks would repeat these rows' causes
        raise ScenarioError(issues, what=name)
    update: dict[str, Any] = {t: tuple(rows) for t, rows in tables.items()}
    if settings is not scenario.settings:
        update["settings"] = settings
    result = scenario.model_copy(update=update)
    problems = run_checks(result)
    if problems:
        raise ScenarioError([_named(i, labels.get((i.table, i.row), name)) for i in problems], what=name)
    return result


def _named(issue: Issue, source: str) -> Issue:
    return Issue(issue.table, issue.row, issue.column, issue.message, issue.source or source)


def add_rows(
    scenario: Scenario,
    tables: Mapping[str, Any] | None = None,
    *,
    policies: Mapping[str, Any] | None = None,
    name: str,
) -> Scenario:
    """Rows appended to tables (``profiles``: a mapping merged in), policy instruments replaced;
    the result is validated like a file, its errors named ``name``."""
    from symbiosim.scenario.load import scenario_from_dict

    unknown = sorted(set(tables or {}) - set(ADD_TABLES))
    if unknown:
        raise ScenarioError([Issue(t, None, None, f"cannot add rows to {t}: expected one of {', '.join(ADD_TABLES)}", name) for t in unknown], what=name)
    raw = scenario.to_dict()
    if policies:
        raw["policies"] = {**raw.get("policies", {}), **_plain(policies)}
    for table, rows in (tables or {}).items():
        if table == "profiles":
            raw["profiles"] = {**raw.get("profiles", {}), **_plain(rows)}
        else:
            raw[table] = [*raw.get(table, []), *_plain(rows)]
    try:
        return scenario_from_dict(raw, source=name)
    except ScenarioError as exc:
        raise ScenarioError([_named(i, name) for i in exc.issues], what=name) from None


ACTOR_COLUMNS = {"actors": ("id",), "actor_processes": ("actor",), "purchases": ("actor",), "sales": ("actor",),
                 "links": ("from", "to"), "storage": ("actor",), "behaviour": ("actor",)}


def without_actor(scenario: Scenario, actor: str, *, name: str) -> Scenario:
    """The scenario without ``actor``: its rows in every table go, and so do the uncertain inputs
    whose target selects it (``...[actor=x]``, ``[from=x]``, ``[to=x]``, ``[id=x]``); validated like a file."""
    from symbiosim.scenario.load import scenario_from_dict

    if actor not in {a.id for a in scenario.actors}:
        raise ScenarioError([Issue("actors", actor, "id", "no such actor in the scenario", name)], what=name)
    raw = scenario.to_dict()
    for table, columns in ACTOR_COLUMNS.items():
        raw[table] = [r for r in raw.get(table, []) if all(r.get(c) != actor for c in columns)]
    selectors = {f"{c}={actor}" for c in ("actor", "from", "to", "id")}
    raw["uncertainty"] = [u for u in raw.get("uncertainty", [])
                          if not any(s in str(u.get("target", "")).replace(" ", "") for s in selectors)]
    try:
        return scenario_from_dict(raw, source=name)
    except ScenarioError as exc:
        raise ScenarioError([_named(i, name) for i in exc.issues], what=name) from None


def _plain(data: Any) -> Any:
    """A copy of plain data, so the result never shares a list or mapping with the caller."""
    import copy

    return copy.deepcopy(data)


def validate(scenario: Scenario, *, name: str) -> Scenario:
    """Validate a whole scenario again (e.g. one built by hand), errors named ``name``."""
    return add_rows(scenario, name=name)


# ---- uncertainty ----------------------------------------------------------------


def distributions(scenario: Scenario) -> list[UncertainInput]:
    """Every ``uncertainty`` row as an ``UncertainInput`` (in file order).

    Distributions (frozen ``scipy.stats``): uniform(low, high) ``uniform(loc=low,
    scale=high - low)``; triangular(low, mode, high) ``triang``; normal(mean, sd)
    ``norm``; lognormal (mean and sd of the log) ``lognorm(s=sd, scale=exp(mean))``.
    A row of zero width (low = high, sd = 0) is the point mass at its value.
    ``relative_sd``: the standard deviation over the centre, the spread of the
    simulator's price factors (lognormal: the sd of the log).
    """
    out = []
    for i, u in enumerate(scenario.uncertainty):
        target = parse_target(u.target)
        cells = tuple(resolve(scenario, target))
        out.append(UncertainInput(i, u, target, cells, distribution(u), relative_sd(u)))
    return out


def distribution(u: Uncertainty) -> Any:
    """The row's frozen ``scipy.stats`` distribution (see ``distributions``)."""
    if u.dist in ("uniform", "triangular"):
        assert u.low is not None and u.high is not None
        width = u.high - u.low
        if width <= 0:
            return _point(u.low)
        if u.dist == "uniform":
            return stats.uniform(loc=u.low, scale=width)
        assert u.mode is not None
        return stats.triang(c=(u.mode - u.low) / width, loc=u.low, scale=width)
    assert u.mean is not None and u.sd is not None
    if u.sd == 0:
        return _point(u.mean if u.dist == "normal" else math.exp(u.mean))
    if u.dist == "normal":
        return stats.norm(loc=u.mean, scale=u.sd)
    return stats.lognorm(s=u.sd, scale=math.exp(u.mean))


def _point(x: float) -> Any:
    """The point mass at x, frozen like the others (ppf(q) = x for every q in (0, 1))."""
    return stats.rv_discrete(name="point", values=([x], [1.0])).freeze()


def relative_sd(u: Uncertainty) -> float:
    """Relative standard deviation of a row (as a factor of its centre; lognormal: the sd of the log)."""
    if u.dist == "uniform":
        assert u.low is not None and u.high is not None
        centre, sd = (u.low + u.high) / 2, (u.high - u.low) / math.sqrt(12)
    elif u.dist == "triangular":
        assert u.low is not None and u.high is not None and u.mode is not None
        centre = (u.low + u.mode + u.high) / 3
        sd = math.sqrt((u.low**2 + u.mode**2 + u.high**2 - u.low * u.mode - u.low * u.high - u.mode * u.high) / 18)
    elif u.dist == "normal":
        assert u.mean is not None and u.sd is not None
        centre, sd = u.mean, u.sd
    else:
        assert u.sd is not None
        return float(u.sd)
    return abs(sd / centre) if centre else 0.0


def sample_edits(rows: Sequence[Uncertainty], values: Sequence[float]) -> list[Edit]:
    """One edit per ``uncertainty`` row: ``as: factor`` multiplies the target's cells by the
    number, ``as: value`` replaces them; each edit is labelled with its target."""
    edits = []
    for u, x in zip(rows, values, strict=True):
        x = float(x)
        if not math.isfinite(x):
            raise ValueError(f"sample value for {u.target} is not finite")
        target = _parsed(u.target)
        edits.append(Edit(target, factor=x, label=u.target) if u.as_ == "factor" else Edit(target, value=x, label=u.target))
    return edits


@functools.lru_cache(maxsize=1024)
def _parsed(text: str) -> Target:
    return parse_target(text)
