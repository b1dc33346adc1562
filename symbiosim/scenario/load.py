"""Load a scenario file (YAML or xlsx) into one validated, frozen ``Scenario``.

Validation runs row by row, so one bad row never hides the errors of another,
then the cross-table checks run on every row that parsed. All problems are
raised together as one ``ScenarioError``.

Files are untrusted and their cost is bounded before any row is validated: the
file size (``max_bytes``), YAML aliases (at most ``max_bytes // 10`` nodes added
by expanding them, no recursive alias), nesting depth (``MAX_DEPTH``), and for
a workbook the unzipped size (``XLSX_UNZIPPED_FACTOR x max_bytes``). A YAML file
that misses a required table is answered from a streaming pass over its events,
before any row is built.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from symbiosim.errors import Issue, ScenarioError
from symbiosim.scenario.checks import run_checks
from symbiosim.scenario.schema import (
    ALL_TABLES,
    NUMBER_RANGE_ERROR,
    REQUIRED_TABLES,
    ROW_TABLES,
    Policies,
    Row,
    Scenario,
    Settings,
    number_problem,
    show,
)
from symbiosim.scenario.targets import _matches, parse_target

_CParser: Any
try:  # libyaml's event parser: ~5x faster than PyYAML's; composing and constructing stay in Python
    import yaml._yaml as _libyaml

    _CParser = _libyaml.CParser
except ImportError:  # pragma: no cover - PyYAML without libyaml
    _CParser = None

DEFAULT_MAX_BYTES = 16 * 1024 * 1024
MAX_BYTES_ENV = "SYMBIOSIM_MAX_BYTES"
MAX_DEPTH = 64  # nesting levels of a YAML file (a scenario needs 5, a case file 8)
ALIAS_BYTES_PER_NODE = 10  # expanding aliases may add max_bytes // 10 nodes
XLSX_UNZIPPED_FACTOR = 10  # a workbook's parts may unzip to 10 x max_bytes


def load_scenario(path: str | Path, *, max_bytes: int | None = None) -> Scenario:
    """Read and validate a scenario file.

    Args:
        path: a ``.yaml``/``.yml`` or ``.xlsx`` file.
        max_bytes: the largest file accepted, in bytes (a workbook may unzip to
            ``XLSX_UNZIPPED_FACTOR`` times as much). Default: the environment
            variable ``SYMBIOSIM_MAX_BYTES`` (``parse_size`` syntax, e.g. ``64M``)
            if set, else ``DEFAULT_MAX_BYTES`` (16 MiB).

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
        raw = read_yaml(path, max_bytes=max_bytes, required=REQUIRED_TABLES)
    elif suffix == ".xlsx":
        from symbiosim.scenario.excel import read_workbook_rows

        raw, rows = read_workbook_rows(path, max_bytes=max_bytes, required=REQUIRED_TABLES)
        return scenario_from_dict(raw, source=str(path), row_numbers=rows)
    else:
        raise ScenarioError(
            [Issue("(file)", None, None, f"unknown file type {suffix!r}: expected .yaml, .yml or .xlsx")], str(path)
        )
    return scenario_from_dict(raw, source=str(path))


# --------------------------------------------------------------------------- size limits

_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]?)(?:i?b)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """A byte count as written by a user: ``50000000``, ``500k``, ``64M``, ``1G``, ``64MiB``
    (k, M, G are powers of 1024). Raises ``ValueError`` unless it is a positive size."""
    match = _SIZE.match(str(text))
    if not match or int(match[1]) <= 0:
        raise ValueError(f"expected a size in bytes such as 50000000, 64M or 1G, got {text!r}")
    return int(match[1]) * 1024 ** " kmg".index(match[2].lower() or " ")


def max_scenario_bytes(max_bytes: int | None = None) -> int:
    """The file size limit in force: ``max_bytes``, else ``$SYMBIOSIM_MAX_BYTES``, else the default."""
    if max_bytes is not None:
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
            raise ValueError(f"max_bytes must be a positive number of bytes, got {max_bytes!r}")
        return max_bytes
    text = os.environ.get(MAX_BYTES_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_BYTES
    try:
        return parse_size(text)
    except ValueError as exc:
        raise ScenarioError([Issue("(file)", None, None, f"environment variable {MAX_BYTES_ENV}: {exc}")]) from None


def too_large(what: str, size: int, limit: int) -> str:
    """The message for a file (or a workbook's content) beyond the size limit."""
    return (
        f"{what} is {size:,} bytes, more than the limit of {limit:,} bytes; if it is meant to be this large, "
        f"raise the limit: --max-size (command line), load_scenario(..., max_bytes=...) or the environment "
        f"variable {MAX_BYTES_ENV} (e.g. {MAX_BYTES_ENV}=256M)"
    )


def check_file_size(path: Path, limit: int) -> None:
    """``ScenarioError`` if the file is larger than ``limit`` bytes (nothing is read)."""
    size = path.stat().st_size
    if size > limit:
        raise ScenarioError([Issue("(file)", None, None, too_large("the file", size, limit))], str(path))


# --------------------------------------------------------------------------- YAML


class _ScenarioConstructor(SafeConstructor):
    """SafeConstructor (scenario files are untrusted: no Python object tags) that also
    rejects a key given twice in one mapping, which YAML would silently drop, and turns
    a scalar it cannot convert (``!!int abc``, ``!!int ''``, ``2023-02-30``, a 5000-digit
    integer) into a located YAML error instead of PyYAML's bare ``ValueError``/``IndexError``."""

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except Exception as exc:  # PyYAML's own: ValueError, IndexError on `!!int ''`, KeyError on `!!bool x`, ...
            detail = str(exc) or type(exc).__name__
            raise ConstructorError(None, None, f"cannot read {node.tag} value: {detail}", node.start_mark) from None


def _construct_unique_mapping(loader: Any, node: yaml.MappingNode, deep: bool = False) -> Any:
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


_ScenarioConstructor.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


class _LimitError(yaml.MarkedYAMLError):
    """A YAML file beyond a limit (aliases, depth): not a syntax error, but refused."""


class _BoundedComposer(Composer):
    """Composer that refuses what would make the document huge or endless: aliases that
    expand it by more than ``alias_budget`` nodes (nested anchors, "billion laughs"), an
    alias to a node that contains it, and nesting deeper than ``MAX_DEPTH``.

    Aliases are counted as the nodes a copy of their anchor would add (shared sizes are
    memoised, so counting costs one pass over the composed nodes)."""

    alias_budget = DEFAULT_MAX_BYTES // ALIAS_BYTES_PER_NODE
    peek_event: Callable[[], Any]  # the parser's (PyYAML's or libyaml's)

    def _start_bounds(self) -> None:
        self._depth = 0
        self._alias_nodes = 0
        self._sizes: dict[int, tuple[int, int]] = {}

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event: Any = self.peek_event()
        if isinstance(event, AliasEvent):
            node = self.anchors.get(event.anchor)
            if node is not None:
                self._count_alias(event, node)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _LimitError(None, None, f"nested deeper than {MAX_DEPTH} levels: not a scenario", event.start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def _count_alias(self, event: Any, node: Node) -> None:
        if node.end_mark is None:  # its anchor's collection is still open: the alias is inside it
            raise _LimitError(
                None, None, f"alias *{event.anchor} refers to a node that contains it (recursive)", event.start_mark
            )
        size, depth = _expanded(node, self._sizes)
        self._alias_nodes += size
        if self._alias_nodes > self.alias_budget:
            raise _LimitError(
                None,
                None,
                f"aliases expand the file by more than {self.alias_budget:,} nodes at alias *{event.anchor} "
                "(nested anchors, a 'billion laughs'); write the rows out, or raise the size limit "
                f"(it allows one node per {ALIAS_BYTES_PER_NODE} bytes)",
                event.start_mark,
            )
        if self._depth + depth > MAX_DEPTH:
            raise _LimitError(
                None, None, f"alias *{event.anchor} nests the file deeper than {MAX_DEPTH} levels", event.start_mark
            )


def _expanded(node: Node, memo: dict[int, tuple[int, int]]) -> tuple[int, int]:
    """(nodes, depth) of a node with every alias inside it replaced by a copy."""
    key = id(node)
    if key not in memo:
        children: list[Node] = []
        if isinstance(node, SequenceNode):
            children = node.value
        elif isinstance(node, MappingNode):
            children = [n for pair in node.value for n in pair]
        sizes = [_expanded(child, memo) for child in children]
        memo[key] = (1 + sum(s for s, _ in sizes), 1 + max((d for _, d in sizes), default=0))
    return memo[key]


class _ScenarioLoader(_BoundedComposer, yaml.SafeLoader, _ScenarioConstructor):
    """PyYAML's pure-Python SafeLoader with the limits and the scenario constructor; its
    messages are the ones reported for a syntax error."""

    def __init__(self, stream: str) -> None:
        yaml.SafeLoader.__init__(self, stream)
        self._start_bounds()


if _CParser is not None:

    class _FastLoader(_BoundedComposer, _CParser, _ScenarioConstructor, Resolver):  # type: ignore[misc,valid-type]
        """libyaml's events, composed and constructed in Python like ``_ScenarioLoader``."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            Composer.__init__(self)
            _ScenarioConstructor.__init__(self)
            Resolver.__init__(self)
            self._start_bounds()


def read_yaml(
    path: str | Path, *, max_bytes: int | None = None, required: Iterable[str] = ()
) -> Any:
    """The plain data of a YAML file, within the limits (``max_bytes``, aliases, depth).

    ``required``: top-level keys that must be present and non-empty; a file without one
    of them is answered before any row is built (with its unknown top-level keys too).

    Raises:
        ScenarioError: the file is too large, not UTF-8, not valid YAML, beyond a limit,
            or misses a ``required`` key.
    """
    path = Path(path)
    source = str(path)
    limit = max_scenario_bytes(max_bytes)
    check_file_size(path, limit)
    with path.open("rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:  # grew since it was measured
        raise ScenarioError([Issue("(file)", None, None, too_large("the file", len(data), limit))], source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError([Issue("(file)", None, None, "not UTF-8 text")], source) from None
    del data
    required = tuple(required)
    if required:
        top = _top_level_keys(text)
        if top is not None:
            keys, empty = top
            issues, missing = _table_issues(keys, lambda k: k in empty, required)
            if missing:
                raise ScenarioError(issues, source)
    return _load_yaml(text, source, max(1, limit // ALIAS_BYTES_PER_NODE))


def _load_yaml(text: str, source: str, alias_budget: int) -> Any:
    try:
        if _CParser is not None:
            try:
                return _run_loader(_FastLoader, text, alias_budget)
            except (yaml.scanner.ScannerError, yaml.parser.ParserError, yaml.reader.ReaderError):
                pass  # read again below: PyYAML's parser names a syntax error in the words users know
        return _run_loader(_ScenarioLoader, text, alias_budget)
    except yaml.YAMLError as exc:
        raise ScenarioError([Issue("(file)", None, None, _yaml_message(exc))], source) from None


def _run_loader(loader_class: type[Any], text: str, alias_budget: int) -> Any:
    loader = loader_class(text)
    loader.alias_budget = alias_budget
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _yaml_message(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or str(exc)
    if isinstance(exc, _LimitError):
        return f"YAML refused{where}: {problem}"
    context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and start and (not mark or start.line != mark.line):
        problem += f" ({context} started at line {start.line + 1}, column {start.column + 1})"
    return f"not valid YAML{where}: {problem}"


_NULL_TAG = "tag:yaml.org,2002:null"
_STR_TAG = "tag:yaml.org,2002:str"


def _top_level_keys(text: str) -> tuple[list[str], set[str]] | None:
    """The top-level keys of a one-document YAML mapping and those whose value is surely
    empty (null, ``[]`` or ``{}``), from one streaming pass over the parser's events: no
    node or value is built, so this costs a fraction of loading. ``None`` when it cannot
    be told this cheaply (not one mapping of plain keys, a merge key, a syntax error, ...):
    the full load then decides."""
    parser: Any = _CParser(text) if _CParser is not None else yaml.SafeLoader(text)
    resolver = Resolver()
    keys: list[str] = []
    empty: set[str] = set()
    depth, documents = 0, 0
    key: str | None = None  # the top-level key whose value comes next
    opened: str | None = None  # the key whose value collection was opened by the previous event
    try:
        while parser.check_event():
            event = parser.get_event()
            if opened is not None:
                if isinstance(event, CollectionEndEvent):
                    empty.add(opened)
                opened = None
            if isinstance(event, DocumentStartEvent):
                documents += 1
                if documents > 1:
                    return None
            elif depth == 0:
                if isinstance(event, MappingStartEvent):
                    depth = 1
                elif isinstance(event, ScalarEvent | AliasEvent | CollectionStartEvent):
                    return None  # not a mapping at the top: the full load says so
            elif depth == 1 and key is None:  # a key of the top-level mapping
                if isinstance(event, MappingEndEvent):
                    depth = 0
                    continue
                if not isinstance(event, ScalarEvent) or _scalar_tag(resolver, event) != _STR_TAG:
                    return None  # a complex, tagged, merge or non-text key
                if event.value in keys:
                    return None  # a duplicate key: the full load reports it
                key = event.value
                keys.append(key)
            elif depth == 1:  # the value of ``key``
                if isinstance(event, ScalarEvent) and event.tag is None and _scalar_tag(resolver, event) == _NULL_TAG:
                    empty.add(key)  # type: ignore[arg-type]
                elif isinstance(event, CollectionStartEvent):
                    depth, opened = 2, key
                key = None
            elif isinstance(event, CollectionStartEvent):
                depth += 1
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return None
    finally:
        parser.dispose()
    return (keys, empty) if documents == 1 else None


def _scalar_tag(resolver: Resolver, event: ScalarEvent) -> str:
    if event.tag is not None and event.tag != "!":
        return str(event.tag)
    return str(resolver.resolve(ScalarNode, event.value, event.implicit))


def _table_issues(
    keys: Iterable[Any], is_empty: Any, required: Iterable[str] = REQUIRED_TABLES
) -> tuple[list[Issue], list[str]]:
    """Unknown top-level tables, and required ones that are missing or empty (listed)."""
    keys = list(keys)
    issues = [
        Issue(str(key), None, None, f"unknown table{_did_you_mean(str(key), ALL_TABLES)}")
        for key in keys
        if key not in ALL_TABLES
    ]
    missing = [table for table in required if table not in keys or is_empty(table)]
    issues += [Issue(table, None, None, "required table is missing or empty") for table in missing]
    return issues, missing


def scenario_from_dict(raw: Any, source: str = "", row_numbers: Mapping[str, list[int]] | None = None) -> Scenario:
    """Validate plain data (as read from a file) into a ``Scenario``.

    ``row_numbers[table][i]`` is the sheet row of record i (xlsx), used to name
    rows that have no id in error messages.
    """
    if not isinstance(raw, Mapping):
        raise ScenarioError([Issue("(file)", None, None, "expected a mapping of tables at the top level")], source)
    issues, missing = _table_issues(raw, lambda table: raw.get(table) in (None, [], {}))
    # (table, id) of rows already reported as invalid; id None = the whole table.
    broken: set[tuple[str, str | None]] = {(table, None) for table in missing}
    failed: dict[str, list[Any]] = {}  # table -> the rows that did not parse, as written
    kept: dict[str, list[int]] = {}  # table -> index in the file of each row that parsed

    # The cross-table checks read years and periods_per_year: never guess those.
    settings = _validate_mapping("settings", raw.get("settings"), Settings, issues, ("years", "periods_per_year"))
    policies = _validate_mapping("policies", raw.get("policies") or {}, Policies, issues)
    tables: dict[str, Any] = {}
    for table, model in ROW_TABLES.items():
        tables[table] = tuple(_validate_rows(table, raw.get(table), model, issues, broken, failed, kept))
    profiles = _validate_profiles(raw.get("profiles"), issues, broken)

    # Cross-table checks see every row that parsed, so the report is complete.
    draft = Scenario.model_construct(settings=settings, policies=policies or Policies(), profiles=profiles, **tables)
    checked = _without_cascades(run_checks(draft), broken)
    issues += _uncertainty_in_file_rows(checked, draft, broken, failed, kept)
    if issues:
        if row_numbers:
            issues = [_sheet_row(i, row_numbers) for i in issues]
        raise ScenarioError(issues, source)
    return Scenario(settings=settings, policies=policies, profiles=profiles, **tables)


def _uncertainty_in_file_rows(
    issues: list[Issue],
    draft: Scenario,
    broken: set[tuple[str, str | None]],
    failed: Mapping[str, list[Any]],
    kept: Mapping[str, list[int]],
) -> list[Issue]:
    """Name uncertainty rows by their index in the file (the checks see only the rows that
    parsed), and drop "no row of T matches" where a row of T that failed to parse might
    have matched: that row's own error is the cause, reported already."""
    out = []
    rows = kept.get("uncertainty", [])
    for issue in issues:
        if issue.table == "uncertainty" and isinstance(issue.row, int) and issue.row < len(rows):
            if issue.message.startswith("no row of "):
                target = parse_target(draft.uncertainty[issue.row].target)
                if (target.table, None) in broken or any(
                    _might_match(row, target.filters) for row in failed.get(target.table, [])
                ):
                    continue
            issue = Issue(issue.table, rows[issue.row], issue.column, issue.message)
        out.append(issue)
    return out


def _might_match(row: Any, filters: Iterable[tuple[str, str]]) -> bool:
    """Could a row that failed to parse have matched a target's filters?"""
    if not isinstance(row, Mapping):
        return True
    for column, text in filters:
        if column in row and not (_matches(row[column], text) or str(row[column]) == text):
            return False
    return True


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
    table: str,
    data: Any,
    model: type[Row],
    issues: list[Issue],
    broken: set[tuple[str, str | None]],
    failed: dict[str, list[Any]],
    kept: dict[str, list[int]],
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
            issues.append(Issue(table, index, None, f"expected a row of column: value, got {show(item)}"))
            failed.setdefault(table, []).append(item)
            continue
        try:
            rows.append(model.model_validate(dict(item)))
            kept.setdefault(table, []).append(index)
        except ValidationError as exc:
            issues += _issues_from(exc, table, row_label(table, item, index), model)
            failed.setdefault(table, []).append(item)
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
            issues.append(Issue("profiles", str(name), None, f"expected a list of numbers, got {show(factors)}"))
            broken.add(("profiles", str(name)))
            continue
        problems = [(i, f, number_problem(f)) for i, f in enumerate(factors) if number_problem(f)]
        if problems:
            for i, f, problem in problems:
                issues.append(Issue("profiles", str(name), None, f"entry {i}: {problem}, got {show(f)}"))
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
            if column is not None and kind != NUMBER_RANGE_ERROR:  # a row-level rule names its columns itself
                message += f", got {show(err.get('input'))}"  # never the whole row, never enormous
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


# Public names of the helpers other loaders reuse (symbiosim.scenario.history): the same
# functions, so a history file's errors read like a scenario's.
issues_from = _issues_from
did_you_mean = _did_you_mean
