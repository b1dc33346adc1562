"""Load a scenario file (YAML or xlsx) into one validated, frozen ``Scenario``.

Validation runs row by row, so one bad row never hides the errors of another,
then the cross-table checks run on every row that parsed. All problems are
raised together as one ``ScenarioError``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from symbiosim.errors import Issue, ScenarioError
from symbiosim.scenario.checks import run_checks
from symbiosim.scenario.schema import (
    ALL_TABLES,
    REQUIRED_TABLES,
    ROW_TABLES,
    Policies,
    Row,
    Scenario,
    Settings,
)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file.

    Args:
        path: a ``.yaml``/``.yml`` or ``.xlsx`` file.

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: listing every problem found, each with table, row and column.
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError([Issue("(file)", None, None, f"no such file: {path}")], str(path))
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        raw = _read_yaml(path)
    elif suffix == ".xlsx":
        from symbiosim.scenario.excel import read_workbook_rows

        raw, rows = read_workbook_rows(path)
        return scenario_from_dict(raw, source=str(path), row_numbers=rows)
    else:
        raise ScenarioError(
            [Issue("(file)", None, None, f"unknown file type {suffix!r}: expected .yaml, .yml or .xlsx")], str(path)
        )
    return scenario_from_dict(raw, source=str(path))


class _ScenarioLoader(yaml.SafeLoader):
    """SafeLoader (scenario files are untrusted: no Python object tags) that also
    rejects a key given twice in one mapping, which YAML would silently drop."""


def _construct_unique_mapping(loader: _ScenarioLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:  # unhashable key: construct_mapping reports it
            continue
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}: each key may appear once in a mapping", key_node.start_mark
            )
    return loader.construct_mapping(node, deep=deep)


_ScenarioLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_ScenarioLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and start and (not mark or start.line != mark.line):
            problem += f" ({context} started at line {start.line + 1}, column {start.column + 1})"
        raise ScenarioError([Issue("(file)", None, None, f"not valid YAML{where}: {problem}")], str(path)) from None
    except UnicodeDecodeError:
        raise ScenarioError([Issue("(file)", None, None, "not UTF-8 text")], str(path)) from None


def scenario_from_dict(raw: Any, source: str = "", row_numbers: Mapping[str, list[int]] | None = None) -> Scenario:
    """Validate plain data (as read from a file) into a ``Scenario``.

    ``row_numbers[table][i]`` is the sheet row of record i (xlsx), used to name
    rows that have no id in error messages.
    """
    issues: list[Issue] = []
    if not isinstance(raw, Mapping):
        raise ScenarioError([Issue("(file)", None, None, "expected a mapping of tables at the top level")], source)
    for key in raw:
        if key not in ALL_TABLES:
            issues.append(Issue(str(key), None, None, f"unknown table{_did_you_mean(str(key), ALL_TABLES)}"))
    # (table, id) of rows already reported as invalid; id None = the whole table.
    broken: set[tuple[str, str | None]] = set()
    for table in REQUIRED_TABLES:
        if raw.get(table) in (None, [], {}):
            issues.append(Issue(table, None, None, "required table is missing or empty"))
            broken.add((table, None))

    # The cross-table checks read years and periods_per_year: never guess those.
    settings = _validate_mapping("settings", raw.get("settings"), Settings, issues, ("years", "periods_per_year"))
    policies = _validate_mapping("policies", raw.get("policies") or {}, Policies, issues)
    tables: dict[str, Any] = {}
    for table, model in ROW_TABLES.items():
        tables[table] = tuple(_validate_rows(table, raw.get(table), model, issues, broken))
    profiles = _validate_profiles(raw.get("profiles"), issues, broken)

    # Cross-table checks see every row that parsed, so the report is complete.
    draft = Scenario.model_construct(settings=settings, policies=policies or Policies(), profiles=profiles, **tables)
    issues += _without_cascades(run_checks(draft), broken)
    if issues:
        if row_numbers:
            issues = [_sheet_row(i, row_numbers) for i in issues]
        raise ScenarioError(issues, source)
    return Scenario(settings=settings, policies=policies, profiles=profiles, **tables)


def _sheet_row(issue: Issue, row_numbers: Mapping[str, list[int]]) -> Issue:
    rows = row_numbers.get(issue.table, [])
    if isinstance(issue.row, int) and issue.row < len(rows):
        return Issue(issue.table, f"row {rows[issue.row]}", issue.column, issue.message)
    return issue


def _validate_mapping(table: str, data: Any, model: type[Row], issues: list[Issue], vital: tuple[str, ...] = ()) -> Any:
    """Validate a mapping table. If some columns are bad (none of them ``vital``), return the
    others so the cross-table checks still run; the file is rejected anyway."""
    if data is None:
        return None
    if not isinstance(data, Mapping):
        issues.append(Issue(table, None, None, f"expected a mapping of column: value, got {type(data).__name__}"))
        return None
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        issues += _issues_from(exc, table, None, model)
        bad = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
        if not bad or bad & set(vital):
            return None
        try:
            return model.model_validate({k: v for k, v in data.items() if k not in bad})
        except ValidationError:
            return None


def _validate_rows(
    table: str, data: Any, model: type[Row], issues: list[Issue], broken: set[tuple[str, str | None]]
) -> list[Row]:
    if data is None:
        return []
    if not isinstance(data, list):
        issues.append(Issue(table, None, None, f"expected a list of rows, got {type(data).__name__}"))
        broken.add((table, None))
        return []
    rows = []
    for index, item in enumerate(data):
        if not isinstance(item, Mapping):
            issues.append(Issue(table, index, None, f"expected a row of column: value, got {item!r}"))
            continue
        try:
            rows.append(model.model_validate(dict(item)))
        except ValidationError as exc:
            issues += _issues_from(exc, table, row_label(table, item, index), model)
            if isinstance(item.get("id"), str):
                broken.add((table, item["id"]))
    return rows


def _validate_profiles(
    data: Any, issues: list[Issue], broken: set[tuple[str, str | None]]
) -> dict[str, tuple[float, ...]]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        issues.append(Issue("profiles", None, None, "expected a mapping of name: [factor, ...]"))
        broken.add(("profiles", None))
        return {}
    out = {}
    for name, factors in data.items():
        ok = isinstance(factors, list) and all(
            isinstance(f, int | float) and not isinstance(f, bool) for f in factors
        )
        if not ok:
            issues.append(Issue("profiles", str(name), None, f"expected a list of numbers, got {factors!r}"))
            broken.add(("profiles", str(name)))
            continue
        out[str(name)] = tuple(float(f) for f in factors)
    return out


_REFERENCE_NAMES = {"products": "product", "actors": "actor", "processes": "process", "profiles": "profile"}


def _without_cascades(issues: list[Issue], broken: set[tuple[str, str | None]]) -> list[Issue]:
    """Drop "unknown product `x`" (etc.) where row x, or its whole table, is already reported invalid."""
    prefixes = tuple(
        f"unknown {_REFERENCE_NAMES[table]} `" + (f"{name}`" if name is not None else "")
        for table, name in broken
        if table in _REFERENCE_NAMES
    )
    return [i for i in issues if not (prefixes and i.message.startswith(prefixes))]


def row_label(table: str, row: Mapping[str, Any], index: int) -> str | int:
    """How error messages name a row: its id, or its key columns, else its index."""
    keys = {
        "actor_processes": ("actor", "process"),
        "purchases": ("actor", "product"),
        "sales": ("actor", "product"),
        "storage": ("actor", "product"),
        "links": ("from", "to", "product"),
        "behaviour": ("actor",),
    }.get(table, ("id",))
    values = [row.get(k) for k in keys]
    if all(isinstance(v, str) and v for v in values):
        if table == "links":
            return f"{values[0]}->{values[1]}/{values[2]}"
        return "/".join(str(v) for v in values)
    return index


def _issues_from(exc: ValidationError, table: str, row: str | int | None, model: type[Row]) -> list[Issue]:
    columns = [f.alias or name for name, f in model.model_fields.items()]
    issues = []
    for err in exc.errors():
        loc = [str(part) for part in err["loc"]]
        union = len(loc) > 1 and loc[1] in _UNION_BRANCHES
        if union:
            # A number-or-{product: number} column: pydantic tries both; report the form the user wrote.
            wrote_mapping = isinstance(err.get("input"), Mapping) if loc[1] == "float" else len(loc) > 2
            if (loc[1] == "float") == wrote_mapping:
                continue
            loc = [loc[0], *loc[2:]]
        column = loc[0] if loc else None
        kind = err["type"]
        if kind == "missing":
            message = "required column is missing"
        elif kind == "extra_forbidden":
            message = f"unknown column{_did_you_mean(column or '', columns)}; expected one of: {', '.join(columns)}"
        else:
            message = err["msg"].replace("Value error, ", "").replace("Input should be", "expected")
            if kind == "string_pattern_mismatch" and column == "id":
                message = "expected a snake_case id (lowercase letters, digits and _, starting with a letter)"
            elif union and len(loc) == 1:
                message = "expected a number or a mapping {product: number}"
            if column is not None:  # a row-level rule names its columns itself; never dump the whole row
                message += f", got {err.get('input')!r}"
            if len(loc) > 1:
                message = f"entry {'.'.join(loc[1:])}: {message}"
        issues.append(Issue(table, row, column, message))
    return _dedupe_union_noise(issues)


_UNION_BRANCHES = ("float", "dict[str,float]")


def _dedupe_union_noise(issues: list[Issue]) -> list[Issue]:
    """A union-typed column (number or mapping) yields one error per branch; keep one per cell."""
    seen: set[tuple[Any, Any, Any]] = set()
    out = []
    for issue in issues:
        key = (issue.table, issue.row, issue.column)
        if key in seen and issue.message.startswith("entry "):
            continue
        seen.add(key)
        out.append(issue)
    return out


def _did_you_mean(word: str, options: Any) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" `{word}`; did you mean `{close[0]}`?" if close else f" `{word}`"
