"""The web app's data side without a browser: uploads, cell edits, cases, the map's geometry, runs in a worker."""

from __future__ import annotations

import math
import time

import pytest
import yaml

from symbiosim.app import mapview, results, session
from symbiosim.app.jobs import Job
from symbiosim.app.serve import command, is_loopback
from symbiosim.decide.cases import apply_case, parse_cases
from symbiosim.scenario.load import scenario_from_dict
from tests.tiny import HEAT_LINK, build

pytest.importorskip("solara")


@pytest.fixture
def raw():
    return session.as_raw(build(HEAT_LINK))


def test_an_upload_is_read_like_a_scenario_file_and_its_errors_are_located(raw):
    good, found = session.read_upload("heat.yaml", session.to_yaml(raw))
    assert found == [] and scenario_from_dict(good) == scenario_from_dict(raw)
    raw["actors"][0]["lat"] = 500
    bad, found = session.read_upload("broken.yaml", session.to_yaml(raw))
    assert bad is None
    assert [(i.table, i.column, i.source) for i in found] == [("actors", "lat", "broken.yaml")]
    assert str(raw["actors"][0]["id"]) in str(found[0].row)


def test_uploads_are_untrusted(raw):
    data = session.to_yaml(raw)
    _, found = session.read_upload("heat.yaml", data, limit=len(data) - 1)
    assert "limit" in found[0].message
    _, found = session.read_upload("../../etc/passwd", data)
    assert "expected a .yaml" in found[0].message
    _, found = session.read_upload("evil.yaml", b"a: !!python/object/apply:os.system ['echo pwned']\n")
    assert found and "pwned" not in str(found)  # safe loading: a tag is an error, never a call
    before = set(session.workdir().iterdir())
    session.read_upload("x.yaml", data)
    assert set(session.workdir().iterdir()) == before  # nothing left behind


def test_xlsx_download_opens_as_the_same_scenario(raw):
    scenario = scenario_from_dict(raw)
    data = session.to_xlsx(scenario)
    back, found = session.read_upload("heat.xlsx", data)
    assert found == [] and scenario_from_dict(back) == scenario


def test_a_typed_cell_is_data_for_the_schema(raw):
    assert session.parse_cell("1,200.5", 3.0) == 1200.5
    assert session.parse_cell("7", 3) == 7 and isinstance(session.parse_cell("7", 3), int)
    assert session.parse_cell("false", True) is False
    assert session.parse_cell("__import__('os')", "x") == "__import__('os')"  # text, never evaluated
    assert session.parse_cell("{gas: 2}", {"gas": 1}) == {"gas": 2}
    edited = session.set_cell(raw, "actors", 0, "lat", "200")
    assert raw["actors"][0].get("lat") != 200  # a copy: the tab's scenario changes only when accepted
    _, found = session.check(edited)
    assert session.issues_at(found, edited, "actors", 0, "lat") and not session.issues_at(found, edited, "actors", 0, "lon")
    cleared = session.set_cell(edited, "actors", 0, "lat", "")
    assert "lat" not in cleared["actors"][0] and session.check(cleared)[1] == []


def test_a_case_built_in_the_app_is_a_case_file_the_cli_reads(raw):
    process = raw["processes"][0]["id"]
    add = session.fictive_firm(raw, firm="newco", lat=63.3, lon=9.8, process=process, capacity=10, entry_cost=1e6)
    defaults = session.recipe_prices(raw, process)
    own = {side: {x: 123.0 for x in sides} for side, sides in defaults.items()}
    mine = session.fictive_firm(raw, firm="newco", lat=63.3, lon=9.8, process=process, capacity=10, entry_cost=1e6, prices=own)
    assert {r["price"] for r in mine["purchases"] + mine["sales"]} <= {123.0} and len(mine["purchases"] + mine["sales"]) == sum(
        len(s) for s in defaults.values())
    specs = session.merge_case([], "c1", add=add, description="newco")
    target = session.price_targets(raw)[0]
    specs = session.merge_case(specs, "c1", set_={"target": target, "factor": 1.5})
    specs = session.merge_case(specs, "c1", set_={"target": target, "factor": 2.0})  # the same target: replaced
    specs = session.merge_case(specs, "c1", policies={"carbon_price": 500.0})
    assert session.check_case(raw, specs[0]) == []
    (case,) = parse_cases(yaml.safe_load(session.cases_yaml(specs)))
    assert case.set == ({"target": target, "factor": 2.0},) and case.policies == {"carbon_price": 500.0}
    scenario = apply_case(scenario_from_dict(raw), case)
    assert "newco" in {a.id for a in scenario.actors}
    bad = session.merge_case([], "c2", set_={"target": "purchases[actor=nobody,product=gas].price", "factor": 2})
    assert session.check_case(raw, bad[0])


def test_the_map_draws_every_actor_and_scales_arrows_by_quantity(raw):
    marks = mapview.markers(raw, {"b"})
    assert len(marks) == len(raw["actors"]) and {m.kind for m in marks} <= {"existing", "candidate", "fictive"}
    flows = [{"sender": "a", "receiver": "b", "product": raw["products"][0]["id"], "year": 0, "value": 100.0},
             {"sender": "a", "receiver": "b", "product": raw["products"][0]["id"], "year": 1, "value": 25.0}]
    actors = [a["id"] for a in raw["actors"]]
    flows = [dict(f, sender=actors[0], receiver=actors[1]) for f in flows]
    (total,) = mapview.arrows(raw, flows, None, "optimum")
    (late,) = mapview.arrows(raw, flows, 1, "optimum")
    assert total.quantity == 125.0 and late.quantity == 25.0 and total.weight == 10
    assert total.points[0] == mapview.positions(raw)[actors[0]]
    (centre, zoom) = mapview.view(raw)
    assert 3 <= zoom <= 16 and all(math.isfinite(c) for c in centre)


def test_only_the_loopback_address_is_quiet():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    cmd = command("127.0.0.1", 9999)
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and cmd[cmd.index("--port") + 1] == "9999"
    assert "--production" in cmd and "--no-check-version" in cmd  # no auto-reload, no call home


def test_a_plan_runs_in_a_worker_and_matches_the_library(raw):
    """The worker's key figures are the CLI's (same library call), in plain data."""
    from symbiosim.runs import run_plan

    job = Job("plan", raw)
    state = job.wait(120)
    assert state.status == "done", state.error
    direct = run_plan(scenario_from_dict(raw))
    assert state.result["sources"]["optimum"]["kpis"]["cluster_npv"] == pytest.approx(direct.accounts.kpis["cluster_npv"])
    table = results.key_figures(state.result)
    assert list(table.columns) == ["key figure", "baseline", "optimum"]
    assert set(results.actor_accounts(state.result).columns) == {"actor", "stand-alone", "coordinated"}


def test_a_bad_scenario_fails_the_run_with_its_located_message(raw):
    raw["actors"][0]["lat"] = 500
    state = Job("plan", raw).wait(60)
    assert state.status == "failed" and "actors[" in state.error and "lat" in state.error


def test_a_cancelled_run_ends_its_worker():
    from tests.tiny import build as build_tiny

    job = Job("compare", session.as_raw(build_tiny(HEAT_LINK)), {"seed": 0})
    time.sleep(0.5)
    job.cancel()
    assert job.state.status == "cancelled" and not job._proc.is_alive()
    with pytest.raises(ValueError, match="unknown run"):
        Job("eval", {})


def test_a_run_with_a_bundled_input_output_table_has_its_ripple_effects(raw):
    """With the app's table, each outcome carries the effects' totals (direct = its own key figure, the
    same numbers as the library's), the page's table has a row per part and a column per outcome; a table
    name the app does not offer fails the run with the offered names (a name, never a path)."""
    from symbiosim.ripple.effects import ripple_effects
    from symbiosim.ripple.iotable import load_io_table
    from symbiosim.ripple.multipliers import load_region_totals
    from symbiosim.runs import run_plan

    raw["actors"][0]["sector"] = "C24 silicon smelting"
    raw["actor_processes"][0]["value_added_per_unit"] = 2.0
    name = next(iter(results.IO_TABLES))
    state = Job("plan", raw, {"io_table": name}).wait(120)
    assert state.status == "done", state.error
    fx = state.result["sources"]["optimum"]["effects"]
    assert fx["value_added_direct"] == pytest.approx(state.result["sources"]["optimum"]["kpis"]["value_added"])
    table_file, region_file = results.IO_TABLES[name]
    direct = run_plan(scenario_from_dict(raw))
    lib = ripple_effects(scenario_from_dict(raw), direct.accounts.actors, load_io_table(results.IO_FOLDER / table_file),
                         region=load_region_totals(results.IO_FOLDER / region_file))
    assert fx["value_added_indirect_regional"] == pytest.approx(lib.totals["value_added_indirect_regional"])
    assert fx["value_added_indirect_national"] > 0
    frame = results.ripple(state.result, "value_added")
    assert list(frame.columns) == ["part", "stand-alone", "coordinated"]
    assert list(frame.part) == ["direct (the actors' own)", "indirect, national", "induced, national", "total, national",
                                "indirect, regional", "induced, regional", "total, regional"]
    assert results.ripple(Job("plan", raw).wait(120).result, "jobs").empty
    bad = Job("plan", raw, {"io_table": "../../etc/passwd"}).wait(60)
    assert bad.status == "failed" and "unknown input-output table" in bad.error and name in bad.error
