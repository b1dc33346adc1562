"""When the stand-alone baseline has no plan: the optimum is still reported, the baseline's
diagnosis is labelled as the baseline's, and shares of the potential are undefined (issue 10, item 4)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from symbiosim.accounts import evaluate
from symbiosim.errors import BaselineInfeasibleError, InfeasibleError
from symbiosim.planner import optimise
from symbiosim.scenario import scenario_from_dict
from tests.tiny import FEED_ENTRY, HEAT_LINK

EXE = Path(sys.executable).parent / "symbiosim"


def greenfield() -> dict:
    """FEED_ENTRY with the fish plant a candidate too: nobody exists yet."""
    raw = copy.deepcopy(FEED_ENTRY)
    raw["actors"][0]["exists"] = False
    raw["actor_processes"][0]["exists"] = False
    return raw


def needs_the_pipe() -> dict:
    """HEAT_LINK without the gas boiler: the greenhouse's fixed growing (80 MWh/yr of warmth)
    can only be fed by the smelter's heat over the candidate pipe."""
    raw = copy.deepcopy(HEAT_LINK)
    raw["actor_processes"] = [r for r in raw["actor_processes"] if r["process"] != "boil"]
    return raw


def test_greenfield_baseline_is_the_empty_plan():
    """Nobody exists in the baseline: nothing happens, NPV 0 (HiGHS calls a model without
    variables 'empty'; it was reported as a solver failure). The optimum: the feed mill
    enters in year 2 (earliest), takes 10 t/yr of offcuts for years 2-3 and sells feed at
    50/t: 2 x 10 x 50 - 500 entry = 500; the fish plant enters in year 2 as well (earlier,
    it would pay 100/t to dispose of its offcuts)."""
    sc = scenario_from_dict(greenfield())
    base = optimise(sc, baseline=True)
    assert base.meta["status"] == "optimal" and base.meta["objective_value"] == 0.0
    assert all(t.empty for t in base.tables().values())
    assert evaluate(sc, base).kpis["cluster_npv"] == 0.0
    assert optimise(sc).meta["objective_value"] == pytest.approx(500)


def test_baseline_diagnosis_names_the_exchange_the_actor_depends_on():
    sc = scenario_from_dict(needs_the_pipe())
    assert optimise(sc).meta["objective_value"] == pytest.approx(-1000)  # the pipe, no gas
    with pytest.raises(BaselineInfeasibleError) as info:
        optimise(sc, baseline=True)
    text = str(info.value)
    assert text.startswith("the stand-alone baseline (no new symbiosis) has no plan")
    assert "actor `greenhouse` cannot run its fixed activity `grow`: it lacks `heat`, which only `smelter` can send" in text
    assert "declare it as a link with exists: true" in text


def test_an_infeasible_optimum_is_not_labelled_as_the_baseline():
    """Without the pipe too, nothing can feed the greenhouse: the scenario itself is infeasible,
    and the shortage is reported as missing (not as left over)."""
    raw = needs_the_pipe()
    raw.pop("links")
    with pytest.raises(InfeasibleError) as info:
        optimise(scenario_from_dict(raw))
    assert not isinstance(info.value, BaselineInfeasibleError)
    assert "missing" in str(info.value) and "left over" not in str(info.value)


# --- the commands: the optimum is reported, the baseline's diagnosis is labelled, shares undefined

def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, timeout=300)


def _file(tmp_path: Path, raw: dict) -> str:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return str(path)


def test_plan_reports_the_optimum_when_the_baseline_has_no_plan(tmp_path):
    path = _file(tmp_path, needs_the_pipe())
    r = _cli("plan", path, "--json")
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    assert obj["status"] == "optimal" and obj["objective_value"] == pytest.approx(-1000)
    assert obj["baseline"]["status"] == "infeasible"
    assert any("actor `greenhouse` cannot run its fixed activity `grow`" in d for d in obj["baseline"]["diagnosis"])
    r = _cli("plan", path, "--out", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert "baseline: no plan, so gains against it and shares of the potential are undefined" in r.stdout
    assert "declare it as a link with exists: true" in r.stdout
    assert json.loads((tmp_path / "out" / "kpis.json").read_text())["baseline"]["status"] == "infeasible"


def test_plan_of_a_greenfield_cluster_compares_with_the_empty_baseline(tmp_path):
    r = _cli("plan", _file(tmp_path, greenfield()), "--json")
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    assert obj["objective_value"] == pytest.approx(500)
    assert obj["baseline"] == {"status": "optimal", "kpis": {**obj["baseline"]["kpis"], "cluster_npv": 0.0}}


@pytest.mark.parametrize("command", ["simulate", "compare"])
def test_simulate_and_compare_report_the_optimum_and_why_there_is_no_share(tmp_path, command):
    path = _file(tmp_path, needs_the_pipe())
    r = _cli(command, path, "--json")
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    obj = json.loads(r.stdout)
    assert obj["status"] == "baseline_infeasible" and obj["share_of_potential"] is None
    assert obj["optimum"]["kpis"]["cluster_npv"] == pytest.approx(-1000)
    assert any("`greenhouse` cannot run its fixed activity `grow`" in d for d in obj["baseline"]["diagnosis"])
    r = _cli(command, path)
    assert r.returncode == 1
    assert f"{command} cannot run: the stand-alone baseline (no new symbiosis) has no plan" in r.stderr
    assert "The coordinated optimum exists: cluster NPV" in r.stderr


def test_experiment_keeps_the_optimum_and_marks_the_share_undefined(tmp_path):
    """Every sample's baseline is infeasible: each run is recorded as no_baseline with the reason,
    the optimum's key figures are stored (pipe 1000 x U(0.8, 1.2): NPV in [-1200, -800])."""
    from symbiosim.experiments.analysis import load
    from symbiosim.experiments.runner import Experiment, run_experiment
    from symbiosim.store import ResultsStore

    raw = needs_the_pipe()
    raw["uncertainty"] = [{"target": "links[to=greenhouse].build_cost", "dist": "uniform", "low": 0.8, "high": 1.2}]
    db = tmp_path / "e.duckdb"
    report = run_experiment(Experiment(scenario_from_dict(raw), samples=3, seed=1), db)
    assert report.runs == 3 and report.failed == 3
    _, frame, _ = load(db)
    assert set(frame.status) == {"no_baseline"}
    assert frame.error.str.contains("share of the potential is undefined").all()
    assert frame.error.str.contains("`greenhouse` cannot run its fixed activity").all()
    with ResultsStore(db) as store:
        kpis = store.read("kpis")
    npv = kpis[(kpis.source == "optimum") & (kpis.kpi == "cluster_npv")].value
    assert len(npv) == 3 and npv.between(-1200, -800).all() and npv.nunique() == 3
