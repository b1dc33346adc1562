"""Invalid scenarios are rejected with located, readable errors; the valid base loads.

Every file in ``tests/data/invalid/`` (except ``_valid_base.yaml``) holds one
kind of mistake, named in its first-line comment. The tests assert the exact
location (``table[row].column``) and message text, so a vaguer message fails.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from symbiosim.errors import Issue, ScenarioError
from symbiosim.scenario import load_scenario, scenario_from_dict
from symbiosim.scenario.load import parse_size
from symbiosim.scenario.schema import ROW_TABLES

DATA = Path(__file__).parent / "data" / "invalid"
BASE = DATA / "_valid_base.yaml"
CLI = Path(sys.executable).parent / "symbiosim"

# (file, expected location substring, expected message substring); each file has exactly one mistake.
CASES = [
    (
        "unknown_column.yaml",
        "products[slag].disposal_cst",
        "unknown column `disposal_cst`; did you mean `disposal_cost`?",
    ),
    ("unknown_table.yaml", "polices", "unknown table `polices`; did you mean `policies`?"),
    ("missing_required_table.yaml", "actor_processes", "required table is missing or empty"),
    ("products_not_a_list.yaml", "products", "expected a list of rows, got dict"),
    (
        "wrong_type.yaml",
        "actor_processes[mill/smelting].capacity",
        "expected a valid number, unable to parse string as a number, got 'lots'",
    ),
    (
        "negative_capacity.yaml",
        "actor_processes[mill/smelting].capacity",
        "expected greater than or equal to 0, got -5",
    ),
    ("negative_disposal_cost.yaml", "products[slag].disposal_cost", "expected greater than or equal to 0, got -1"),
    ("unknown_product_in_recipe.yaml", "processes[clinker].inputs", "unknown product `slagg`"),
    ("recipe_negative_amount.yaml", "processes[clinker].inputs", "amounts must be > 0 (product slag)"),
    ("unknown_actor_in_actor_processes.yaml", "actor_processes[kilnn/clinker].actor", "unknown actor `kilnn`"),
    ("duplicate_id.yaml", "actors[mill].id", "duplicate id: each id must appear once"),
    ("bad_id.yaml", "products[Steel].id", "expected a snake_case id"),
    ("settings_bad_periods.yaml", "settings.periods_per_year", "expected 1, 2, 4 or 12, got 3"),
    ("profile_wrong_length.yaml", "profiles[winter]", "expected 4 factors (periods_per_year), got 3"),
    ("profile_mean_not_one.yaml", "profiles[winter]", "factors must average 1, got mean 1.05"),
    (
        "trucked_link_build_cost.yaml",
        "links[mill->kiln/slag].build_cost",
        "model a reception or handling investment as a candidate process of the receiver",
    ),
    (
        "existing_link_candidate_actor.yaml",
        "links[mill->greenhouse/heat].exists",
        "an existing link cannot join a candidate actor",
    ),
    (
        "fixed_activity_above_capacity.yaml",
        "actor_processes[mill/smelting].fixed_activity",
        "exceeds capacity 1000: expected <= capacity",
    ),
    ("uncertainty_unknown_table.yaml", "uncertainty[0].target", "unknown table 'purchase'"),
    ("uncertainty_unknown_column.yaml", "uncertainty[0].target", "table purchases has no column 'prise'"),
    (
        "uncertainty_no_matching_row.yaml",
        "uncertainty[0].target",
        "no row of purchases matches {'product': 'wood_chips'}",
    ),
    ("uncertainty_missing_parameters.yaml", "uncertainty[0]", "dist normal needs mean, sd; missing sd"),
    ("policy_subsidy_above_one.yaml", "investment_subsidy", "expected a share between 0 and 1, got 1.5"),
    ("policy_unknown_product.yaml", "policies[slagg].disposal_tax", "unknown product `slagg`"),
    (
        "policy_not_a_number.yaml",
        "policies.disposal_tax",
        "expected a number or a mapping {product: number}, got 'high'",
    ),
    ("not_a_number_nan.yaml", "sales[mill/steel].price", "expected a finite number"),
    ("top_level_not_mapping.yaml", "(file)", "expected a mapping of tables at the top level"),
    ("yaml_syntax_error.yaml", "(file)", "not valid YAML at line 6, column 7: expected ',' or '}', but got ':'"),
    (
        "python_object_tag.yaml",
        "(file)",
        "could not determine a constructor for the tag 'tag:yaml.org,2002:python/object/apply:os.system'",
    ),
    ("duplicate_yaml_key.yaml", "(file)", "line 15, column 1: duplicate key 'links'"),
    (
        "transport_cost_denormal.yaml",
        "products[slag].transport_cost",
        "expected 0 or a number of magnitude 1e-9 to 1e12, got 1.1125369292536007e-308",
    ),
    (
        "number_too_large.yaml",
        "actor_processes[mill/smelting].capacity",
        "expected 0 or a number of magnitude 1e-9 to 1e12, got 1000000000000000.0",
    ),
    # The cause only: the uncertainty row targeting the row that failed does not also say "no row matches".
    ("purchase_price_inf_hides_no_target.yaml", "purchases[mill/wood_chips].price", "expected a finite number, got inf"),
]

SEVERAL_ERRORS = {
    "actors[mill].entry_cost": "an existing actor has no entry cost",
    "actor_processes[kiln/clinker].capacity": "expected greater than or equal to 0, got -5",
    "purchases[mill/ore].price": "expected a valid number, unable to parse string as a number, got 'cheap'",
    "sales[kiln/concrete].product": "unknown product `concrete`",
    "links[mill->greenhouse/heat].earliest_year": "expected < years (3), got 5",
    "storage[kiln/slag].cost": "expected greater than or equal to 0, got -1",
    "profiles[winter]": "factors must average 1, got mean 1.05",
    "policies[slagg].disposal_tax": "unknown product `slagg`",
    "behaviour[*].bargaining_power": "expected less than or equal to 1, got 2",
    "uncertainty[0].target": "table sales has no column 'prise'",
}

# Files with a dedicated test instead of a CASES row.
DEDICATED = {"several_errors.yaml", "bad_settings_hides_no_check.yaml", "bad_policy_hides_no_check.yaml"}


def _issues(name: str) -> list[Issue]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(DATA / name)
    return info.value.issues


def _listing(issues: list[Issue]) -> str:
    return "\n".join(str(i) for i in issues)


def _base() -> dict:
    return yaml.safe_load(BASE.read_text(encoding="utf-8"))


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, timeout=60, check=False)


def test_valid_base_loads() -> None:
    s = load_scenario(BASE)
    assert s.settings.years == 3
    assert s.settings.periods_per_year == 4
    assert [a.id for a in s.actors] == ["mill", "kiln", "greenhouse"]
    assert len(s.products) == 5 and len(s.processes) == 3 and len(s.actor_processes) == 3
    assert s.profiles == {"winter": (1.2, 0.9, 0.8, 1.1)}
    assert s.policies.rate("disposal_tax", "slag") == 20
    assert s.policies.rate("investment_subsidy") == 0.3
    assert s.links[0].from_ == "mill" and s.links[0].build_cost == 300000
    assert s.uncertainty[1].as_ == "value"


def test_every_invalid_file_is_tested_and_says_what_is_wrong() -> None:
    files = {p.name for p in DATA.glob("*.yaml")} - {BASE.name}
    assert files == {name for name, _, _ in CASES} | DEDICATED
    assert len(files) >= 14
    for name in files | {BASE.name}:
        first = (DATA / name).read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# ") and len(first) > 20, f"{name}: first line must be a comment saying what is wrong"


@pytest.mark.parametrize(("name", "location", "message"), CASES, ids=[c[0].removesuffix(".yaml") for c in CASES])
def test_invalid_file_is_rejected_with_location_and_message(name: str, location: str, message: str) -> None:
    issues = _issues(name)
    assert any(location in i.location() and message in i.message for i in issues), (
        f"expected an issue at {location!r} saying {message!r}; got:\n{_listing(issues)}"
    )


@pytest.mark.parametrize("name", [c[0] for c in CASES], ids=[c[0].removesuffix(".yaml") for c in CASES])
def test_one_mistake_gives_one_error(name: str) -> None:
    """A row that fails validation is reported once; references to it are not also 'unknown'."""
    issues = _issues(name)
    assert len(issues) == 1, f"one mistake, {len(issues)} errors:\n{_listing(issues)}"


@pytest.mark.parametrize("name", [c[0] for c in CASES], ids=[c[0].removesuffix(".yaml") for c in CASES])
def test_messages_never_dump_a_whole_row(name: str) -> None:
    for issue in _issues(name):
        assert not (issue.column is None and ", got {'" in issue.message), f"row dumped into: {issue}"


def test_several_errors_in_different_tables_are_all_reported_at_once() -> None:
    issues = _issues("several_errors.yaml")
    assert len(issues) == len(SEVERAL_ERRORS), _listing(issues)
    by_location = {i.location(): i.message for i in issues}
    assert set(by_location) == set(SEVERAL_ERRORS)
    for location, message in SEVERAL_ERRORS.items():
        assert message in by_location[location], f"{location}: {by_location[location]}"
    report = str(ScenarioError(issues, "several_errors.yaml"))
    assert report.splitlines()[0] == "several_errors.yaml: 10 errors in scenario"
    for location in SEVERAL_ERRORS:
        assert f"several_errors.yaml: {location}: " in report


def test_a_bad_settings_column_hides_no_other_check() -> None:
    issues = _issues("bad_settings_hides_no_check.yaml")
    assert {i.location() for i in issues} == {
        "settings.discount_rate",
        "profiles[winter]",
        "links[mill->greenhouse/heat].earliest_year",
    }, _listing(issues)


def test_a_bad_policy_hides_no_other_policy_check() -> None:
    issues = _issues("bad_policy_hides_no_check.yaml")
    assert {i.location() for i in issues} == {"policies.carbon_price", "policies[slagg].disposal_tax"}, _listing(issues)


def test_yaml_error_also_names_the_line_where_the_broken_construct_starts() -> None:
    (issue,) = _issues("yaml_syntax_error.yaml")
    assert "line 6" in issue.message
    assert "started at line 5" in issue.message, issue.message


def test_python_object_tag_is_never_executed(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a) or 0)
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: calls.append(a))
    (issue,) = _issues("python_object_tag.yaml")
    assert issue.location() == "(file)"
    assert "not valid YAML at line 3" in issue.message
    assert calls == []


def test_uncertainty_filter_on_boolean_and_number_columns_matches() -> None:
    raw = _base()
    raw["uncertainty"] = [
        {"target": "actor_processes[exists=false].build_cost", "dist": "uniform", "low": 0.8, "high": 1.2},
        {"target": "actor_processes[capacity=500].variable_cost", "dist": "uniform", "low": 0.8, "high": 1.2},
        {"target": "products[needs_link=true].disposal_cost", "dist": "normal", "mean": 1, "sd": 0.1},
    ]
    scenario = scenario_from_dict(raw)
    assert len(scenario.uncertainty) == 3


def test_loader_never_mutates_its_input() -> None:
    raw = _base()
    before = copy.deepcopy(raw)
    scenario_from_dict(raw)
    assert raw == before
    bad = yaml.safe_load((DATA / "several_errors.yaml").read_text(encoding="utf-8"))
    bad_before = copy.deepcopy(bad)
    with pytest.raises(ScenarioError):
        scenario_from_dict(bad)
    assert bad == bad_before


def test_loaded_scenario_is_frozen_and_keeps_no_extra_keys() -> None:
    s = load_scenario(BASE)
    with pytest.raises(ValueError, match="frozen"):
        s.settings.years = 99  # type: ignore[misc]
    with pytest.raises(ValueError, match="frozen"):
        s.products[0].disposal_cost = 1  # type: ignore[misc]
    assert set(s.to_dict()) <= {"settings", "profiles", "policies", *ROW_TABLES}
    assert scenario_from_dict(s.to_dict()) == s


@pytest.mark.parametrize("table", ["settings", "policies", *(t for t in ROW_TABLES if t != "behaviour")])
def test_extra_key_in_any_table_is_an_error(table: str) -> None:
    raw = _base()
    target = raw[table] if isinstance(raw[table], dict) else raw[table][0]
    target["bogus_column"] = 1
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(raw)
    issues = info.value.issues
    hits = [i for i in issues if i.table == table and i.column == "bogus_column"]
    assert hits and "unknown column `bogus_column`; expected one of:" in hits[0].message, _listing(issues)


def test_extra_key_in_behaviour_is_an_error() -> None:
    raw = _base()
    raw["behaviour"] = [{"actor": "*", "hurdle_rate": 0.1, "hurdel_rate": 0.1}]
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(raw)
    (issue,) = info.value.issues
    assert issue.location() == "behaviour[*].hurdel_rate"
    assert "did you mean `hurdle_rate`?" in issue.message


def test_cli_validate_exit_codes_and_report() -> None:
    ok = _run_cli("validate", str(BASE))
    assert ok.returncode == 0, ok.stderr
    assert "valid scenario 'invalid_base': 3 actors, 5 products" in ok.stdout
    assert "3 years x 4 periods" in ok.stdout

    bad = _run_cli("validate", str(DATA / "several_errors.yaml"))
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert "10 errors in scenario" in bad.stderr
    for location, message in SEVERAL_ERRORS.items():
        assert f"{location}: {message}" in bad.stderr
    assert bad.stdout == ""


def test_cli_rejects_python_tag_without_running_it() -> None:
    result = _run_cli("validate", str(DATA / "python_object_tag.yaml"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "hacked" not in result.stdout + result.stderr
    assert "(file): not valid YAML at line 3" in result.stderr


def test_cli_missing_file_is_invalid_input() -> None:
    result = _run_cli("validate", str(DATA / "no_such_file.yaml"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "(file): no such file:" in result.stderr


# --------------------------------------------------------------------------- follow-on errors


def test_a_row_that_failed_hides_only_the_targets_it_might_have_matched() -> None:
    raw = _base()
    raw["purchases"][0]["price"] = float("inf")  # mill/ore
    raw["uncertainty"] = [
        {"target": "purchases[product=ore].price", "dist": "uniform", "low": 0.9, "high": 1.1},  # hidden: ore failed
        {"target": "purchases[product=coal].price", "dist": "uniform", "low": 0.9, "high": 1.1},  # still an error
    ]
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(raw)
    assert [str(i) for i in info.value.issues] == [
        "purchases[mill/ore].price: expected a finite number, got inf",
        "uncertainty[1].target: no row of purchases matches {'product': 'coal'}",
    ]


def test_a_table_that_failed_whole_hides_the_targets_into_it() -> None:
    raw = _base()
    raw["purchases"] = {"actor": "mill"}  # not a list
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(raw)
    assert [str(i) for i in info.value.issues] == ["purchases: expected a list of rows, got dict"]


def test_uncertainty_rows_are_named_by_their_place_in_the_file() -> None:
    """The checks see only the rows that parsed; the report names the row of the file."""
    raw = _base()
    raw["uncertainty"] = [
        {"target": "purchases[product=ore].price", "dist": "normal", "mean": 1},  # no sd: fails itself
        {"target": "sales[product=steel].prise", "dist": "uniform", "low": 0.9, "high": 1.1},
    ]
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(raw)
    assert [i.location() for i in info.value.issues] == ["uncertainty[0]", "uncertainty[1].target"], _listing(
        info.value.issues
    )


# --------------------------------------------------------------------------- bounded loading

BOUND_S = 10.0  # generous: each case answers in well under a second or two


def _timed_issues(path: Path, **kwargs: Any) -> tuple[list[Issue], float]:
    start = time.perf_counter()
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, **kwargs)
    return info.value.issues, time.perf_counter() - start


def _bomb(levels: int = 9, width: int = 9) -> str:
    """Nested anchors: each level lists the previous one ``width`` times (width**levels strings)."""
    lines = ["  - &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    lines += [f"  - &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_alias_bomb_in_products_is_refused_at_once(tmp_path: Path) -> None:
    """Issue 10: nested 9x9 anchors inside `products` ran > 120 s and took 10 GB."""
    text = BASE.read_text(encoding="utf-8").replace("products:\n", "products:\n" + _bomb(), 1)
    path = tmp_path / "bomb.yaml"
    path.write_text(text, encoding="utf-8")
    issues, seconds = _timed_issues(path)
    assert seconds < BOUND_S
    (issue,) = issues
    assert issue.location() == "(file)"
    assert issue.message.startswith("YAML refused at line ")
    assert "aliases expand the file by more than 1,677,721 nodes at alias *a" in issue.message
    assert "billion laughs" in issue.message


def test_alias_bomb_in_a_file_without_the_other_tables_is_answered_at_once(tmp_path: Path) -> None:
    """The issue's file: settings and the bomb in products; the missing tables are the answer."""
    path = tmp_path / "bomb.yaml"
    path.write_text("settings: {name: bomb, years: 1}\nproducts:\n" + _bomb(), encoding="utf-8")
    issues, seconds = _timed_issues(path)
    assert seconds < BOUND_S
    assert [str(i) for i in issues] == [
        f"{t}: required table is missing or empty" for t in ("actors", "processes", "actor_processes")
    ]


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    text = BASE.read_text(encoding="utf-8")
    text = text.replace("  - {id: ore, unit: t, kind: material}", "  - &mat {id: ore, unit: t, kind: material}")
    text = text.replace("  - {id: cement, unit: t, kind: material}", "  - {<<: *mat, id: cement}")
    path = tmp_path / "aliases.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_scenario(path) == load_scenario(BASE)


def test_the_alias_budget_grows_with_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(BASE.read_text(encoding="utf-8").replace("products:\n", "products:\n" + _bomb(4, 9), 1))
    (issue,) = _timed_issues(path, max_bytes=10_000)[0]  # 1,000 alias nodes; the bomb adds 7,380
    assert "aliases expand the file by more than 1,000 nodes" in issue.message
    issues = _timed_issues(path)[0]  # within the default budget: the rows themselves are wrong
    assert all(i.table == "products" and "expected a row of column: value" in i.message for i in issues)
    assert max(len(i.message) for i in issues) < 300  # a shared structure is never printed whole


@pytest.mark.parametrize(
    ("products", "message"),
    [
        ("  - &r [1, *r]\n", "alias *r refers to a node that contains it (recursive)"),
        ("  - " + "[" * 100 + "]" * 100 + "\n", "nested deeper than 64 levels: not a scenario"),
        (
            "  - &deep " + "[" * 40 + "]" * 40 + "\n  - " + "[" * 30 + "*deep" + "]" * 30 + "\n",
            "alias *deep nests the file deeper than 64 levels",
        ),
    ],
    ids=["recursive", "deep", "deep_through_alias"],
)
def test_recursive_and_deeply_nested_yaml_is_refused(tmp_path: Path, products: str, message: str) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(BASE.read_text(encoding="utf-8").replace("products:\n", "products:\n" + products, 1))
    (issue,) = _timed_issues(path)[0]
    assert issue.location() == "(file)" and message in issue.message, issue


def _big_products_file(path: Path, size: int, *, complete: bool = False) -> Path:
    """A products list of ``size`` bytes; only settings beside it unless ``complete``."""
    row = "  - {id: p%07d, unit: t, kind: material, disposal_cost: 12.5}\n"
    head = BASE.read_text(encoding="utf-8") if complete else "settings: {name: big, years: 1}\nproducts:\n"
    with path.open("w", encoding="utf-8") as f:
        f.write(head.replace("products:\n", "products:\n__ROWS__", 1).split("__ROWS__")[0])
        i, written = 0, len(head)
        while written < size:
            chunk = "".join(row % (i + k) for k in range(10_000))
            f.write(chunk)
            i, written = i + 10_000, written + len(chunk)
        if complete:
            f.write(head.split("products:\n", 1)[1])
    return path


def test_a_50_mb_file_is_refused_by_size_at_once(tmp_path: Path) -> None:
    """Issue 10: a 50 MB products list took 227 s and 5.4 GB only to report missing tables."""
    path = _big_products_file(tmp_path / "big.yaml", 50_000_000)
    issues, seconds = _timed_issues(path)
    assert seconds < BOUND_S
    size = path.stat().st_size
    assert [str(i) for i in issues] == [
        f"(file): the file is {size:,} bytes, more than the limit of 16,777,216 bytes; if it is meant to be "
        "this large, raise the limit: --max-size (command line), load_scenario(..., max_bytes=...) or the "
        "environment variable SYMBIOSIM_MAX_BYTES (e.g. SYMBIOSIM_MAX_BYTES=256M)"
    ]


def test_a_big_file_missing_tables_is_answered_before_any_row_is_built(tmp_path: Path) -> None:
    path = _big_products_file(tmp_path / "big.yaml", 12_000_000)  # within the default limit
    issues, seconds = _timed_issues(path)
    assert seconds < BOUND_S
    assert [str(i) for i in issues] == [
        f"{t}: required table is missing or empty" for t in ("actors", "processes", "actor_processes")
    ]


@pytest.mark.slow
def test_a_50_mb_file_missing_tables_is_answered_fast_with_the_limit_raised(tmp_path: Path) -> None:
    path = _big_products_file(tmp_path / "big.yaml", 50_000_000)
    issues, seconds = _timed_issues(path, max_bytes=64 * 1024 * 1024)
    assert seconds < 30  # ~6 s: one streaming pass over the parser's events, no row built
    assert [i.table for i in issues] == ["actors", "processes", "actor_processes"]


def test_the_size_limit_is_an_argument_or_an_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    size = BASE.stat().st_size
    (issue,) = _timed_issues(BASE, max_bytes=size - 1)[0]
    assert issue.message.startswith(f"the file is {size:,} bytes, more than the limit of {size - 1:,} bytes")
    assert load_scenario(BASE, max_bytes=size).settings.name == "invalid_base"
    monkeypatch.setenv("SYMBIOSIM_MAX_BYTES", "1k")
    (issue,) = _timed_issues(BASE)[0]
    assert "more than the limit of 1,024 bytes" in issue.message
    assert load_scenario(BASE, max_bytes=size).settings.name == "invalid_base"  # the argument wins
    monkeypatch.setenv("SYMBIOSIM_MAX_BYTES", "lots")
    (issue,) = _timed_issues(BASE)[0]
    assert str(issue) == (
        "(file): environment variable SYMBIOSIM_MAX_BYTES: expected a size in bytes such as 50000000, "
        "64M or 1G, got 'lots'"
    )
    with pytest.raises(ValueError, match="max_bytes must be a positive number of bytes"):
        load_scenario(BASE, max_bytes=0)


@pytest.mark.parametrize(
    ("text", "size"), [("1000", 1000), ("500k", 512_000), ("64M", 64 * 2**20), ("1G", 2**30), (" 2 MiB ", 2 * 2**20)]
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "0", "-5", "1.5M", "5T", "lots"])
def test_parse_size_refuses_what_is_no_size(text: str) -> None:
    with pytest.raises(ValueError, match="expected a size in bytes"):
        parse_size(text)


@pytest.mark.parametrize(
    ("years", "message"),
    [
        ("3\n  start_year: 2023-02-30", "cannot read tag:yaml.org,2002:timestamp value: day is out of range for month"),
        ("!!int abc", "cannot read tag:yaml.org,2002:int value: invalid literal for int()"),
        ("1" * 5000, "cannot read tag:yaml.org,2002:int value: Exceeds the limit (4300 digits)"),
        ("!!int ''", "cannot read tag:yaml.org,2002:int value: string index out of range"),  # PyYAML's IndexError
        ("!!bool maybe", "cannot read tag:yaml.org,2002:bool value: 'maybe'"),  # PyYAML's KeyError
    ],
    ids=["bad_date", "tagged_int", "5000_digits", "tagged_empty_int", "tagged_bool"],
)
def test_values_yaml_cannot_convert_are_located_errors(tmp_path: Path, years: str, message: str) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(BASE.read_text(encoding="utf-8").replace("  years: 3", f"  years: {years}", 1), encoding="utf-8")
    (issue,) = _timed_issues(path)[0]
    assert issue.location() == "(file)", issue
    assert "not valid YAML at line " in issue.message and message in issue.message, issue


def test_cli_refuses_the_alias_bomb_quickly(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(BASE.read_text(encoding="utf-8").replace("products:\n", "products:\n" + _bomb(), 1))
    start = time.perf_counter()
    result = _run_cli("validate", str(path))
    assert time.perf_counter() - start < 30  # the CLI's own start-up included
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "(file): YAML refused at line" in result.stderr and "billion laughs" in result.stderr


# --------------------------------------------------------------------------- case files

BAD_CASES = """\
cases:
  - {name: fine, set: [{target: "purchases[product=ore].price", value: 310}]}
  - {name: negative, set: [{target: "purchases[product=ore].price", value: -5}]}
  - name: nowhere
    set:
      - {target: "purchases[product=coal].price", value: 1}
      - {target: "sales[product=steel].prise", factor: 2}
  - {name: denormal, set: [{target: "products[id=slag].transport_cost", value: 1.0e-300}]}
"""


def test_every_bad_case_is_reported_at_once_each_naming_its_case(tmp_path: Path) -> None:
    from symbiosim.decide.cases import read_cases, run_cases

    path = tmp_path / "cases.yaml"
    path.write_text(BAD_CASES, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        run_cases(load_scenario(BASE), read_cases(path))  # raises before any solve
    assert [str(i) for i in info.value.issues] == [
        "case negative: purchases[mill/ore].price: expected greater than or equal to 0, got -5",
        "case nowhere: cases[nowhere].set[0]: no row of purchases matches {'product': 'coal'}",
        "case nowhere: cases[nowhere].set[1]: table sales has no column 'prise'",
        "case denormal: products[slag].transport_cost: expected 0 or a number of magnitude 1e-9 to 1e12, got 1e-300",
    ]
    assert info.value.report().splitlines()[0] == "4 errors in 3 cases (negative, nowhere, denormal)"


def test_every_malformed_case_of_a_case_file_is_reported_at_once(tmp_path: Path) -> None:
    from symbiosim.decide.cases import read_cases

    path = tmp_path / "cases.yaml"
    path.write_text(
        "cases:\n"
        "  - {name: a, exec: rm}\n"
        "  - {name: b, set: 5}\n"
        "  - {nom: c}\n"
        "  - {name: a, set: [{target: x, factor: 1.0e-20}, {target: y}]}\n"
        "  - {name: good}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as info:
        read_cases(path)
    assert [str(i) for i in info.value.issues] == [
        "cases[a].exec: unknown key(s); expected add, description, name, policies, set",
        "cases[b].set: expected a list of {target, value} or {target, factor}",
        "cases[2].name: each case needs a name of letters, digits, _ or -",
        "cases[a].name: case names must be unique and not 'base'",
        "cases[a].set[0].factor: expected 0 or a number of magnitude 1e-9 to 1e12, got 1e-20",
        "cases[a].set[1]: expected {target: ..., value: ...} or {target: ..., factor: number}",
    ]
    assert info.value.report().splitlines()[0] == f"{path}: 6 errors in cases"


def test_a_case_file_is_read_within_the_limits(tmp_path: Path) -> None:
    from symbiosim.decide.cases import read_cases

    path = tmp_path / "cases.yaml"
    path.write_text("cases:\n  - name: bomb\n    add:\n      products:\n" + _bomb().replace("  - ", "        - "))
    with pytest.raises(ScenarioError, match="billion laughs"):
        read_cases(path, max_bytes=10_000)


def test_cli_cases_reports_every_bad_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from symbiosim.cli import main

    path = tmp_path / "cases.yaml"
    path.write_text(BAD_CASES, encoding="utf-8")
    assert main(["cases", str(BASE), "--cases", str(path), "--no-store"]) == 2
    err = capsys.readouterr().err
    for name in ("negative", "nowhere", "denormal"):
        assert f"case {name}: " in err
    assert "case fine" not in err


def test_the_repository_documents_the_limits_it_enforces() -> None:
    """docs/scenario-format.md is the repository's copy of the contract; its v1.3 section states the limits."""
    from symbiosim.scenario.load import DEFAULT_MAX_BYTES, MAX_BYTES_ENV, MAX_DEPTH
    from symbiosim.scenario.schema import NUMBER_RANGE

    doc = (Path(__file__).resolve().parents[1] / "docs" / "scenario-format.md").read_text(encoding="utf-8")
    assert doc.startswith("# Scenario format (contract v1)")
    assert "## Limits (contract v1.3" in doc
    assert NUMBER_RANGE in doc and "1.1125369292536007e-308" in doc
    assert f"{DEFAULT_MAX_BYTES:,} bytes" in doc and MAX_BYTES_ENV in doc and f"deeper than {MAX_DEPTH} levels" in doc
    for section in ("### settings (mapping)", "## Observed history (contract v1.1", "## Input-output table (contract v1.2"):
        assert section in doc  # the whole contract, not only the extension
