"""Fuzzing the loader: whatever a file holds, the answer is a ``Scenario`` or a ``ScenarioError``.

Hypothesis feeds ``scenario_from_dict`` and ``load_scenario`` (and, for a few
examples, the real ``symbiosim validate``) with

* random YAML structures: nested mappings and lists of odd scalars (NaN,
  infinities, subnormals, huge integers, booleans, None, text);
* mutations of the bundled ``scenarios/orkanger.yaml``: a key dropped, a value
  replaced by a random one, a row duplicated, a value of the wrong type;
* mutations of its text: characters YAML gives meaning to (anchors, aliases,
  tags, flow brackets, tabs, merge keys) inserted, lines deleted or repeated.

Invariant: never any other exception, every answer within ``SECONDS``, every
message of readable length, and a scenario that validates round-trips through
``to_dict``. The default profile keeps the file under ~30 s; ``-m slow`` runs a
larger one.
"""

from __future__ import annotations

import copy
import math
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symbiosim.errors import ScenarioError
from symbiosim.scenario import Scenario, load_scenario, scenario_from_dict
from symbiosim.scenario.schema import ALL_TABLES, MAPPING_TABLES, ROW_TABLES, show

ROOT = Path(__file__).resolve().parents[1]
ORKANGER_TEXT = (ROOT / "scenarios" / "orkanger.yaml").read_text(encoding="utf-8")
ORKANGER: dict[str, Any] = yaml.safe_load(ORKANGER_TEXT)
CLI = Path(sys.executable).parent / "symbiosim"
SECONDS = 5.0  # per example; a scenario of this size answers in ~10 ms
MESSAGE_CHARS = 2000

COLUMNS = sorted(
    {f.alias or n for model in (*ROW_TABLES.values(), *MAPPING_TABLES.values()) for n, f in model.model_fields.items()}
)
IDS = sorted({str(r.get("id")) for t in ("products", "actors", "processes") for r in ORKANGER[t]})

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
FUZZ_SLOW = settings(FUZZ, max_examples=1500)

# --------------------------------------------------------------------------- strategies

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)  # no lone surrogates: not UTF-8
names = st.sampled_from([*ALL_TABLES, *COLUMNS, *IDS, "*", "<<", "from", "as"])
floats = st.one_of(
    st.floats(),  # NaN, infinities, subnormals, -0.0, 1e308
    st.sampled_from([5e-324, 1.1125369292536007e-308, 1e-9, 9.999999999999999e-10, 1e12, 1.0000000000000001e12]),
)
integers = st.one_of(st.integers(-(10**30), 10**30), st.sampled_from([0, 1, -1, 2**63, 10**100]))
scalars = st.one_of(st.none(), st.booleans(), integers, floats, text, names)
keys = st.one_of(names, text, st.integers(-5, 5), st.booleans(), st.none())


def structures(leaves: st.SearchStrategy[Any] = scalars) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(keys, inner, max_size=5)),
        max_leaves=25,
    )


values = structures()
# 10**5000 is beyond str(int)'s 4300 digits: built by a map (hypothesis would repr a constant)
huge_values = structures(st.one_of(scalars, st.sampled_from([5000, -5000, 400]).map(lambda n: 10 ** abs(n) * (n // abs(n)))))
top_levels = st.one_of(
    st.dictionaries(st.one_of(st.sampled_from(ALL_TABLES), keys), values, max_size=8),
    values,
)


def _retype(value: Any, draw: Callable[[st.SearchStrategy[Any]], Any]) -> Any:
    """The same content in the wrong form."""
    forms: list[Callable[[Any], Any]] = [
        str,
        lambda v: [v],
        lambda v: {"value": v},
        lambda v: None,
        lambda v: True,
        lambda v: -v if isinstance(v, int | float) and not isinstance(v, bool) else v,
        lambda v: v * 1e-320 if isinstance(v, int | float) and not isinstance(v, bool) else v,
        lambda v: v * 1e300 if isinstance(v, int | float) and not isinstance(v, bool) else v,
        lambda v: list(v) if isinstance(v, dict) else v,
        lambda v: dict(enumerate(v)) if isinstance(v, list) else v,
    ]
    return draw(st.sampled_from(forms))(value)


def _mutate(draw: Callable[[st.SearchStrategy[Any]], Any], raw: dict[str, Any]) -> None:
    """One random edit somewhere in ``raw`` (in place)."""
    node: Any = raw
    for _ in range(draw(st.integers(0, 3))):  # walk down into a table, a row, a recipe
        inner = [k for k in (node if isinstance(node, dict) else range(len(node))) if isinstance(node[k], dict | list)]
        if not inner:
            break
        node = node[draw(st.sampled_from(inner))]
    slots = list(node) if isinstance(node, dict) else list(range(len(node)))
    op = draw(st.sampled_from(["drop", "replace", "duplicate", "retype", "add"]))
    if op == "add" or not slots:
        if isinstance(node, dict):
            node[draw(keys)] = draw(values)
        else:
            node.insert(draw(st.integers(0, len(node))), draw(values))
        return
    slot = draw(st.sampled_from(slots))
    if op == "drop":
        del node[slot]
    elif op == "replace":
        node[slot] = draw(values)
    elif op == "retype":
        node[slot] = _retype(node[slot], draw)
    elif isinstance(node, list):  # duplicate a row (or any list entry)
        node.insert(slot, copy.deepcopy(node[slot]))
    else:  # duplicate a mapping entry under another key of the same table
        node[draw(names)] = copy.deepcopy(node[slot])


@st.composite
def mutated_orkanger(draw: Callable[[st.SearchStrategy[Any]], Any]) -> dict[str, Any]:
    raw = copy.deepcopy(ORKANGER)
    for _ in range(draw(st.integers(1, 3))):
        _mutate(draw, raw)
    return raw


YAML_BITS = [
    "&a ", "*a", "*b", "<<: *a", "!!python/object/apply:os.system ['true']", "!!int ", "!!float ", "!!binary ",
    "!!set ", "!!omap ", "[", "]", "{", "}", ": ", "- ", "? ", ",", "'", '"', "#", "|", ">", "\t", "\n", "  ",
    "---\n", "...\n", "%YAML 1.1\n", ".nan", ".inf", "-.inf", "1e-320", "9" * 40, "0x1F", "0o17", "1_000",
    "2023-02-30", "~", "null", "yes", "off", "=1+1", "\x00", "\ufeff", "é", "\U0001f600",
]


@st.composite
def mutated_text(draw: Callable[[st.SearchStrategy[Any]], Any]) -> str:
    """The Orkanger file with a few edits of its text."""
    lines = ORKANGER_TEXT.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["insert", "delete", "repeat", "truncate"]))
        if op == "insert":
            at = draw(st.integers(0, len(lines[i])))
            bit = draw(st.one_of(st.sampled_from(YAML_BITS), text))
            lines[i] = lines[i][:at] + bit + lines[i][at:]
        elif op == "delete":
            del lines[i]
        elif op == "repeat":
            lines.insert(i, lines[i])
        else:
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
    return "".join(lines)


token_soup = st.lists(st.one_of(st.sampled_from(YAML_BITS), names, text), max_size=40).map("".join)

# --------------------------------------------------------------------------- the invariant


def _outcome(load: Callable[[], Scenario]) -> Scenario | ScenarioError:
    """A scenario or a ScenarioError (any other exception fails the test), within SECONDS."""
    start = time.perf_counter()
    try:
        result: Scenario | ScenarioError = load()
    except ScenarioError as exc:
        result = exc
    seconds = time.perf_counter() - start
    assert seconds < SECONDS, f"took {seconds:.1f} s"
    if isinstance(result, ScenarioError):
        assert result.issues, "a ScenarioError without issues"
        for issue in result.issues:
            assert issue.message and len(str(issue)) < MESSAGE_CHARS, f"unreadable: {str(issue)[:300]}..."
        assert result.report()
    else:
        assert isinstance(result, Scenario)
        assert scenario_from_dict(result.to_dict()) == result
    return result


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _load_text(workdir: Path, content: str, name: str = "fuzz.yaml") -> Scenario | ScenarioError:
    path = workdir / name
    path.write_text(content, encoding="utf-8")
    return _outcome(lambda: load_scenario(path))


def _dump(raw: Any) -> str:
    return yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)


# --------------------------------------------------------------------------- tests


@FUZZ
@given(st.one_of(top_levels, huge_values))
def test_random_structures_validate_or_raise_a_scenario_error(raw: Any) -> None:
    _outcome(lambda: scenario_from_dict(raw))


@FUZZ
@given(top_levels)
def test_random_structures_as_yaml_files(workdir: Path, raw: Any) -> None:
    _load_text(workdir, _dump(raw))


@FUZZ
@given(mutated_orkanger())
def test_mutated_orkanger_validates_or_raises_a_scenario_error(workdir: Path, raw: dict[str, Any]) -> None:
    direct = _outcome(lambda: scenario_from_dict(raw))
    from_file = _load_text(workdir, _dump(raw))
    assert type(direct) is type(from_file)  # the file says what the data says
    if isinstance(direct, Scenario):
        assert direct == from_file


@FUZZ
@given(st.one_of(mutated_text(), token_soup))
def test_mutated_yaml_text_validates_or_raises_a_scenario_error(workdir: Path, content: str) -> None:
    _load_text(workdir, content)


def test_unmutated_orkanger_validates() -> None:
    scenario = _outcome(lambda: scenario_from_dict(copy.deepcopy(ORKANGER)))
    assert isinstance(scenario, Scenario) and scenario.settings.name


@pytest.mark.parametrize(
    "value",
    [math.nan, math.inf, -math.inf, 5e-324, 1e-300, 1e300, 10**20, -(10**5000), "1e-320", True, None, [], {}],
    ids=lambda v: show(v)[:20],  # repr(-(10**5000)) would raise
)
def test_every_numeric_cell_of_orkanger_rejects_or_accepts_odd_values_cleanly(value: Any) -> None:
    """Each odd value in turn in every cell of the first row of every table."""
    for table, rows in ORKANGER.items():
        targets = [rows] if isinstance(rows, dict) else rows[:1] if isinstance(rows, list) else []
        for row in targets:
            for column in list(row):
                raw = copy.deepcopy(ORKANGER)
                cell = raw[table] if isinstance(rows, dict) else raw[table][0]
                cell[column] = value
                _outcome(lambda raw=raw: scenario_from_dict(raw))


@settings(FUZZ, max_examples=3)
@given(st.one_of(mutated_orkanger().map(_dump), mutated_text()))
def test_cli_validate_exits_0_or_2_without_a_traceback(workdir: Path, content: str) -> None:
    path = workdir / "cli.yaml"
    path.write_text(content, encoding="utf-8")
    start = time.perf_counter()
    done = subprocess.run([str(CLI), "validate", str(path)], capture_output=True, text=True, timeout=120, check=False)
    assert time.perf_counter() - start < 60  # the CLI's own start-up (a few seconds) included
    assert done.returncode in (0, 2), done.stderr
    assert "Traceback" not in done.stderr
    if done.returncode == 2:
        assert "error" in done.stderr and done.stdout == ""


# --------------------------------------------------------------------------- bigger profile


@pytest.mark.slow
@FUZZ_SLOW
@given(st.one_of(top_levels, huge_values, mutated_orkanger()))
def test_many_random_structures(raw: Any) -> None:
    _outcome(lambda: scenario_from_dict(raw))


@pytest.mark.slow
@FUZZ_SLOW
@given(st.one_of(mutated_text(), token_soup, mutated_orkanger().map(_dump)))
def test_many_random_yaml_files(workdir: Path, content: str) -> None:
    _load_text(workdir, content)
