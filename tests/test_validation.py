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
from pathlib import Path

import pytest
import yaml

from symbiosim.errors import Issue, ScenarioError
from symbiosim.scenario import load_scenario, scenario_from_dict
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
