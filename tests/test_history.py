"""Observed history (contract v1.1): loading, every rule, limits, the bundled back-cast, formed years, CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from symbiosim.errors import Issue, ScenarioError
from symbiosim.plan import Plan, empty_table, make_table
from symbiosim.scenario import load_scenario
from symbiosim.scenario.history import History, formed_years, load_history
from tests.test_cli_args import run_main

DATA = Path(__file__).parent / "data" / "invalid_history"
SCENARIO = DATA / "_scenario.yaml"
VALID = DATA / "_valid.yaml"
ROOT = Path(__file__).parent.parent / "scenarios"

# file, location, the exact message: each file breaks one rule of _valid.yaml
CASES = [
    ("scenario_name.yaml", "scenario", "this history belongs to scenario `valley_2030`, but the scenario's settings.name is `valley`"),
    ("unknown_actor.yaml", "exchanges[smelterr->greenhouse/heat].from", "unknown actor `smelterr`"),
    ("unknown_product.yaml", "exchanges[fishplant->feedmill/offcut].product", "unknown product `offcut`"),
    ("candidate_before_start.yaml", "exchanges[fishplant->feedmill/offcuts].year",
     "2019 is before settings.start_year 2020, which only an exchange that the scenario has as a link with exists: true may be"),
    ("after_horizon.yaml", "exchanges[smelter->fishplant/heat].year",
     "2025 is after the horizon's last year 2024 (settings.start_year 2020 + years 5 - 1)"),
    ("ended_not_after_year.yaml", "exchanges[fishplant->feedmill/offcuts].ended", "ended 2022 is not after year 2022"),
    ("existing_link_formed_later.yaml", "exchanges[smelter->greenhouse/heat].year",
     "2021 is after settings.start_year 2020, but the scenario has this exchange as a link with exists: true (exchanging at the start)"),
    ("needs_link_without_link.yaml", "exchanges[greenhouse->fishplant/heat].product",
     "`heat` moves only over a link (needs_link), and the scenario has no links row greenhouse->fishplant/heat"),
    ("missing_source.yaml", "exchanges[fishplant->feedmill/offcuts].source", "required column is missing"),
    ("unknown_column.yaml", "exchanges[fishplant->feedmill/offcuts].started",
     "unknown column `started`; expected one of: from, to, product, year, ended, source"),
    ("unknown_table.yaml", "absence",
     "unknown table `absence`; did you mean `absent`? (the tables are: scenario, exchanges, absent, entries)"),
    ("missing_exchanges.yaml", "exchanges", "required table is missing or empty"),
    ("year_not_integer.yaml", "exchanges[fishplant->feedmill/offcuts].year",
     "expected a valid integer, unable to parse string as an integer, got 'early 2022'"),
    ("absent_contradicts_exchange.yaml", "absent[smelter->fishplant/heat].until", "`exchanges` says it formed in 2024, not after 2024"),
    ("absent_after_horizon.yaml", "absent[smelter->fishplant/heat].until",
     "2030 is after the horizon's last year 2024 (settings.start_year 2020 + years 5 - 1)"),
    ("absent_existing_link.yaml", "absent[smelter->greenhouse/heat].until",
     "the scenario has this exchange as a link with exists: true, so it had formed by settings.start_year 2020"),
    ("entry_existing_actor.yaml", "entries[fishplant].actor",
     "`fishplant` exists in the scenario (exists: true); entries are for candidate actors"),
    ("entry_before_start.yaml", "entries[feedmill].year",
     "2019 is before settings.start_year 2020: a candidate actor enters within the horizon"),
]


@pytest.fixture(scope="module")
def valley():  # type: ignore[no-untyped-def]
    return load_scenario(SCENARIO)


def _issues(path: Path, scenario, **kwargs) -> list[Issue]:  # type: ignore[no-untyped-def]
    with pytest.raises(ScenarioError) as info:
        load_history(path, scenario, **kwargs)
    assert info.value.what == "history"
    assert info.value.source == str(path)
    return info.value.issues


def test_a_valid_history_loads(valley) -> None:  # type: ignore[no-untyped-def]
    h = load_history(VALID, valley)
    assert isinstance(h, History) and h.scenario == "valley"
    assert h.years() == {("smelter", "greenhouse", "heat"): 2015, ("fishplant", "feedmill", "offcuts"): 2022,
                         ("smelter", "fishplant", "heat"): 2024}
    assert h.exchanges[1].ended == 2024 and h.absent[0].until == 2023 and h.entries[0].actor == "feedmill"


@pytest.mark.parametrize(("name", "location", "message"), CASES, ids=[c[0].removesuffix(".yaml") for c in CASES])
def test_each_rule_is_one_located_error(valley, name: str, location: str, message: str) -> None:  # type: ignore[no-untyped-def]
    issues = _issues(DATA / name, valley)
    assert [(i.location(), i.message) for i in issues] == [(location, message)]


def test_every_invalid_file_is_tested_and_says_what_is_wrong() -> None:
    files = {p.name for p in DATA.glob("*.yaml")} - {SCENARIO.name, VALID.name}
    assert files == {name for name, _, _ in CASES}
    for p in DATA.glob("*.yaml"):
        first = p.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# ") and len(first) > 20, p.name


def test_all_errors_are_reported_at_once(valley, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = VALID.read_text(encoding="utf-8")
    text = text.replace("scenario: valley", "scenario: hill").replace("year: 2024,", "year: 2031,").replace("{actor: feedmill", "{actor: nobody")
    path = tmp_path / "h.yaml"
    path.write_text(text, encoding="utf-8")
    locations = [i.location() for i in _issues(path, valley)]
    assert locations == ["scenario", "exchanges[smelter->fishplant/heat].year", "entries[nobody].actor"]


def test_the_scenario_loaders_limits_apply(valley, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bomb = ["  - &a0 [" + ", ".join(['"lol"'] * 9) + "]"]
    bomb += [f"  - &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    path = tmp_path / "bomb.yaml"
    path.write_text("scenario: valley\nexchanges:\n" + "\n".join(bomb) + "\n", encoding="utf-8")
    [issue] = _issues(path, valley)
    assert issue.table == "(file)" and "aliases expand the file by more than" in issue.message
    [issue] = _issues(VALID, valley, max_bytes=100)
    assert issue.message.startswith(f"the file is {VALID.stat().st_size:,} bytes, more than the limit of 100 bytes")


def test_other_files_are_refused(valley, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    [issue] = _issues(tmp_path / "none.yaml", valley)
    assert issue.message == f"no such file: {tmp_path / 'none.yaml'}"
    (tmp_path / "h.xlsx").write_bytes(b"x")
    [issue] = _issues(tmp_path / "h.xlsx", valley)
    assert issue.message == "a history in a workbook (sheet `history`) is not read yet: write it as YAML"
    (tmp_path / "list.yaml").write_text("- 1\n", encoding="utf-8")
    [issue] = _issues(tmp_path / "list.yaml", valley)
    assert issue.message == "expected a mapping with `scenario` and `exchanges` at the top level"


def test_the_bundled_back_cast_validates_against_orkanger_and_its_before_variant() -> None:
    today = load_scenario(ROOT / "orkanger.yaml")
    before = load_scenario(ROOT / "orkanger_before.yaml")
    for scenario in (today, before):
        h = load_history(ROOT / "orkanger_history.yaml", scenario)
        assert h.years() == {("elkem", "orkland_dh", "waste_heat"): 2010, ("orkland_dh", "norsk_kylling", "district_heat"): 2020}
        assert all(e.source.strip() for e in h.exchanges)
    existing = {(k.from_, k.to, k.product) for k in today.links if k.exists}
    assert set(h.years()) <= existing
    assert before.settings.start_year < min(h.years().values())


def test_the_before_variant_differs_from_orkanger_only_as_documented() -> None:
    today = load_scenario(ROOT / "orkanger.yaml").to_dict()
    before = load_scenario(ROOT / "orkanger_before.yaml").to_dict()
    assert before["settings"].pop("start_year") == 2009 and today["settings"].pop("start_year") == 2026
    assert before["settings"].pop("description").startswith("BEFORE variant")
    today["settings"].pop("description")
    changed = {("elkem", "orkland_dh", "waste_heat"): 0.0, ("orkland_dh", "norsk_kylling", "district_heat"): 36_400_000.0}
    for link in today["links"]:
        key = (link["from"], link["to"], link["product"])
        if key in changed:
            link.pop("exists")  # exists: false is the default, left out of to_dict
            link["build_cost"] = changed[key]
    # stand-alone heat before the exchanges (documented in the file's header)
    boiler = [k for k in before["processes"] if k["id"] == "nk_electric_boiler"]
    assert len(boiler) == 1 and boiler[0]["inputs"] == {"electricity": 1.02}
    before["processes"].remove(boiler[0])
    own = [r for r in before["actor_processes"] if r["process"] == "nk_electric_boiler"]
    assert [(r["actor"], r["capacity"]) for r in own] == [("norsk_kylling", 12_000)]
    before["actor_processes"].remove(own[0])
    for rows in (before["actor_processes"], today["actor_processes"]):
        oil = next(r for r in rows if r["process"] == "oil_reserve_boiler")
        assert oil["capacity"] == (40_000 if rows is before["actor_processes"] else 10_000)
        oil["capacity"] = None
    assert before == today


def _plan(flows: list[tuple[str, str, str, int, int, float, float]]) -> Plan:
    tables = {name: empty_table(name) for name in ("activities", "purchases", "sales", "disposals", "storage", "builds")}
    return Plan(flows=make_table("flows", flows), **tables)


def test_formed_years_is_the_first_year_with_positive_flow(valley) -> None:  # type: ignore[no-untyped-def]
    nan = float("nan")
    plan = _plan([
        ("smelter", "greenhouse", "heat", 0, 0, 5.0, nan),         # formed in year 0 = 2020
        ("smelter", "fishplant", "heat", 0, 0, 0.0, nan),          # zero: not yet
        ("smelter", "fishplant", "heat", 1, 1, 1e-12, nan),        # solver noise: not yet
        ("smelter", "fishplant", "heat", 3, 3, 2.0, nan),          # first positive: 2023
        ("smelter", "fishplant", "heat", 2, 2, 0.0, nan),
        ("fishplant", "feedmill", "offcuts", 4, 4, 1.0, nan),
        ("fishplant", "feedmill", "offcuts", 2, 2, 3.0, nan),      # earlier period listed later: 2022
        ("greenhouse", "smelter", "heat", 1, 1, 0.0, nan),         # never positive: not formed
    ])
    assert formed_years(plan, valley) == {
        ("smelter", "greenhouse", "heat"): 2020,
        ("smelter", "fishplant", "heat"): 2023,
        ("fishplant", "feedmill", "offcuts"): 2022,
    }
    assert formed_years(plan, valley, tolerance=1e-15)[("smelter", "fishplant", "heat")] == 2021
    assert formed_years(_plan([]), valley) == {}


def test_cli_validate_with_history(tmp_path: Path) -> None:
    ok = run_main(["validate", str(SCENARIO), "--history", str(VALID)], tmp_path)
    assert ok.code == 0 and "valid history of 'valley': 3 exchanges, 1 absent, 1 entries" in ok.stdout
    bad = run_main(["validate", str(SCENARIO), "--history", str(DATA / "after_horizon.yaml")], tmp_path)
    assert bad.code == 2 and "1 error in history" in bad.stderr and "exchanges[smelter->fishplant/heat].year: 2025" in bad.stderr
    missing = run_main(["validate", str(SCENARIO), "--history", str(tmp_path / "none.yaml")], tmp_path)
    assert missing.code == 2 and "--history" in missing.stderr
    text = run_main(["validate", str(SCENARIO), "--history", str(SCENARIO.with_suffix(".txt"))], tmp_path)
    assert text.code == 2 and "expected a history file ending in .yaml or .yml" in text.stderr
    bundled = run_main(["validate", str(ROOT / "orkanger_before.yaml"), "--history", str(ROOT / "orkanger_history.yaml")], tmp_path)
    assert bundled.code == 0, bundled.stderr
