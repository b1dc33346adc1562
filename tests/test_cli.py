"""The command line through the real ``symbiosim`` entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.tiny import HEAT_LINK, market_split

EXE = Path(sys.executable).parent / "symbiosim"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, timeout=300)


def write(tmp_path: Path, raw: dict, name: str = "s.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return str(path)


def test_entry_point_is_installed():
    assert EXE.exists(), "install the project (pip install -e .) so the symbiosim command exists"


def test_doctor():
    from importlib.metadata import version

    r = run("doctor")
    assert r.returncode == 0, r.stderr
    assert "doctor: HiGHS works" in r.stdout
    assert f"highspy {version('highspy')}" in r.stdout and "highspy ?" not in r.stdout


def test_doctor_names_installed_versions_from_package_metadata():
    from importlib.metadata import version

    from symbiosim.doctor import package_version, versions

    line = versions()
    assert f"highspy {version('highspy')}," not in line  # the last item: no comma
    assert line.endswith(f"highspy {version('highspy')}") and f"Pyomo {version('pyomo')}" in line
    assert package_version("no-such-distribution-xyz") == "?"


def test_plan_json_is_one_object(tmp_path):
    r = run("plan", write(tmp_path, HEAT_LINK), "--json")
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)  # exactly one JSON document on stdout
    assert obj["status"] == "optimal"
    assert obj["objective"] == "cluster_npv"
    assert obj["objective_value"] == pytest.approx(-1000)
    assert {"cluster_npv", "value_added", "jobs", "emissions"} <= set(obj["kpis"])
    assert obj["builds"] == [{"kind": "link", "actor": "smelter", "process": None, "target": "greenhouse", "product": "heat", "year": 0}]
    assert [f["year"] for f in obj["flows"]] == [0, 1]


def test_plan_baseline_and_objectives(tmp_path):
    path = write(tmp_path, HEAT_LINK)
    base = json.loads(run("plan", path, "--baseline", "--json").stdout)
    assert base["objective_value"] == pytest.approx(-8000)
    assert base["builds"] == []
    weighted = json.loads(run("plan", path, "--objective", "weighted", "--weights", "cluster_npv=1,emissions=-10", "--json").stdout)
    assert weighted["objective"] == "weighted"


def test_plan_summary_and_outputs(tmp_path):
    out = tmp_path / "out"
    lp = tmp_path / "m.lp"
    r = run("plan", write(tmp_path, HEAT_LINK), "--out", str(out), "--save-lp", str(lp))
    assert r.returncode == 0, r.stderr
    assert "link smelter -> greenhouse for heat" in r.stdout
    assert "baseline" in r.stdout  # key figures against the baseline
    for name in ("flows.csv", "activities.csv", "purchases.csv", "builds.csv", "kpis.json", "actors.csv", "flows.png"):
        assert (out / name).exists(), name
    assert json.loads((out / "kpis.json").read_text())["kpis"]["cluster_npv"] == pytest.approx(-1000)
    assert (out / "flows.png").read_bytes()[:4] == b"\x89PNG"
    assert lp.exists()


def test_plan_parquet(tmp_path):
    out = tmp_path / "pq"
    assert run("plan", write(tmp_path, HEAT_LINK), "--out", str(out), "--format", "parquet", "--json").returncode == 0
    import pandas as pd

    assert pd.read_parquet(out / "flows.parquet").value.sum() > 0


def test_infeasible_exits_1_with_a_diagnosis(tmp_path):
    raw = {
        "settings": {"name": "slag", "years": 1},
        "products": [{"id": "slag", "unit": "t", "kind": "material"}],
        "actors": [{"id": "mill"}],
        "processes": [{"id": "smelt", "outputs": {"slag": 1}}],
        "actor_processes": [{"actor": "mill", "process": "smelt", "fixed_activity": 5}],
    }
    path = write(tmp_path, raw)
    r = run("plan", path)
    assert r.returncode == 1
    assert "product `slag` at actor `mill`" in r.stderr
    assert "Traceback" not in r.stderr
    obj = json.loads(run("plan", path, "--json").stdout)
    assert obj["status"] == "infeasible" and obj["diagnosis"]


def test_unbounded_exits_1_naming_the_free_lunch(tmp_path):
    raw = {
        "settings": {"name": "lunch", "years": 1},
        "products": [{"id": "ore", "unit": "t", "kind": "material"}],
        "actors": [{"id": "trader"}],
        "processes": [{"id": "hold", "inputs": {"ore": 1}}],
        "actor_processes": [{"actor": "trader", "process": "hold", "capacity": 1}],
        "purchases": [{"actor": "trader", "product": "ore", "price": 5}],
        "sales": [{"actor": "trader", "product": "ore", "price": 10}],
    }
    r = run("plan", write(tmp_path, raw), "--json")
    assert r.returncode == 1
    obj = json.loads(r.stdout)
    assert obj["status"] == "unbounded"
    assert any("sale of `ore` by `trader`" in d for d in obj["diagnosis"])


def test_invalid_scenario_exits_2(tmp_path):
    raw = {**HEAT_LINK, "products": [{**HEAT_LINK["products"][0], "disposal_cost": -1}, *HEAT_LINK["products"][1:]]}
    r = run("plan", write(tmp_path, raw))
    assert r.returncode == 2
    assert "products[heat].disposal_cost" in r.stderr
    assert "Traceback" not in r.stderr


def test_time_limit_is_flagged(tmp_path):
    r = run("plan", write(tmp_path, market_split()), "--time-limit", "1", "--baseline")
    assert r.returncode == 0, r.stderr
    assert "status time_limit" in r.stdout
    assert "WARNING: time limit reached" in r.stdout
    obj = json.loads(run("plan", write(tmp_path, market_split()), "--time-limit", "1", "--json").stdout)
    assert obj["status"] == "time_limit" and obj["gap"] > 0


def test_simulate_json_and_outputs(tmp_path):
    raw = {**HEAT_LINK, "behaviour": [{"actor": "*", "transaction_cost": 0, "hurdle_rate": 0}]}
    path = write(tmp_path, raw)
    r = run("simulate", path, "--seed", "4", "--json")
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    assert obj["status"] == "ok" and obj["seed"] == 4
    assert obj["kpis"]["cluster_npv"] == pytest.approx(-1000)
    assert obj["contracts"] == [
        {"from": "smelter", "to": "greenhouse", "product": "heat", "start_year": 0, "end_year": 1, "price": pytest.approx(21.875, rel=1e-6), "amount": 80.0}
    ]
    out = tmp_path / "sim"
    r = run("simulate", path, "--out", str(out), "--facilitator")
    assert r.returncode == 0, r.stderr
    assert "contracts formed in the run: 1" in r.stdout
    for name in ("flows.csv", "series.csv", "offers.csv", "contracts.csv", "firms.csv", "links.png", "flows.png", "kpis.json"):
        assert (out / name).exists(), name


# ------------------------------------------------------------------ argument errors through the real entry point


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["simulate", "{s}", "--seed", "-1"], "argument --seed"),
        (["robustness", "{s}", "--perturb", "5"], "argument --perturb"),
        (["alternatives", "{s}", "--slack", "-0.5"], "argument --slack"),
        (["plan", "{s}", "--mip-gap", "-1"], "argument --mip-gap"),
        (["plan", "{s}", "--out", "{f}"], "argument --out"),
        (["summarize", "{f}"], "argument db"),
        (["experiment", "{s}", "--out", "{f}"], "argument --out"),
        (["cases", "{s}", "--cases", "{f}", "--store", "{f}"], "argument --store"),
        (["compare", "{s}", "--players", "smelter,nobody"], "argument --players"),
    ],
)
def test_argument_errors_exit_2_naming_the_option(tmp_path, args, named):
    existing = tmp_path / "existing.yaml"
    existing.write_text("a: 1\n")
    before = sorted(tmp_path.rglob("*"))
    r = run(*[a.format(s=write(tmp_path, HEAT_LINK), f=existing) for a in args])
    assert r.returncode == 2, r.stderr
    assert named in r.stderr and "Traceback" not in r.stderr
    assert sorted(tmp_path.rglob("*")) == sorted([*before, tmp_path / "s.yaml"])  # nothing written


def test_a_wrong_experiment_seed_leaves_no_database(tmp_path):
    db = tmp_path / "e.duckdb"
    r = run("experiment", write(tmp_path, HEAT_LINK), "--seed", "-1", "--out", str(db))
    assert r.returncode == 2 and "argument --seed" in r.stderr and "Traceback" not in r.stderr
    assert not db.exists()


# ------------------------------------------------------------------ experiment and summarize agree


def _arm_lines(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("arm ") and "share (95% CI)" in line)
    return lines[start : start + 3]  # header, none, tax


def test_experiment_prints_the_intervals_summarize_prints(tmp_path):
    """The interval printed at the end of ``experiment`` is the one ``summarize`` prints
    for the same database (same bootstrap seed, same code), whatever the experiment's seed."""
    from symbiosim.store import ResultsStore, storage_version_number

    scenario = write(tmp_path, HEAT_LINK)
    arms = tmp_path / "arms.yaml"
    arms.write_text(yaml.safe_dump({"arms": {"none": {}, "tax": {"disposal_tax": 10}}}))
    db = tmp_path / "e.duckdb"
    command = ("experiment", scenario, "--samples", "8", "--arms", str(arms), "--seed", "3", "--out", str(db))
    first = run(*command)
    assert first.returncode == 0, first.stderr
    assert storage_version_number(db) == 64  # readable by DuckDB >= 0.10 (item 7c)
    # the tiny scenario's shares do not vary: give the runs varied figures so that intervals are wide
    import numpy as np

    with ResultsStore(db) as store:
        runs = store.read("runs").sort_values("run_id")
        rng = np.random.default_rng(11)
        runs["share_of_potential"] = rng.uniform(0, 1, len(runs))
        runs["gap"] = rng.uniform(0, 1e4, len(runs))
        store.replace("runs", runs)
    again = run(*command)  # every run done: prints the summary of the database
    assert again.returncode == 0, again.stderr
    summary = run("summarize", str(db))
    assert summary.returncode == 0, summary.stderr
    printed = _arm_lines(again.stdout)
    assert printed == _arm_lines(summary.stdout)
    assert "[0, 0]" not in printed[1] and "[0.0, 0.0]" not in printed[1]  # the intervals are real ones
    # issue 14: the gaps were drawn from [0, 10,000] NOK (means below 10,000: no k scale); shares in percent
    assert "gap (NOK)" in printed[0] and "public cost" in printed[0] and "%" in printed[1], printed
    assert "e+" not in summary.stdout and "e-" not in summary.stdout
    as_json = json.loads(run(*command, "--json").stdout)["summary"]
    assert as_json == json.loads(run("summarize", str(db), "--json").stdout)["arms"]


def test_plan_and_compare_summaries_print_money_in_the_scenarios_currency(tmp_path):
    """HEAT_LINK in millions of EUR: gas 50 M/MWh, pipe 1000 M. Plan NPV -1,000 M EUR against a
    baseline of -8,000 M (2 years x 80 MWh x 50 M); the two-firm game splits the 7,000 M gain
    equally: Shapley profits 3,500.0 and -8,000 + 3,500 = -4,500.0 M EUR."""
    import copy
    import re

    from tests.test_numbers import NEGATIVE_ZERO, SCIENTIFIC

    raw = copy.deepcopy(HEAT_LINK)
    raw["settings"]["currency"] = "EUR"
    for row in (*raw["purchases"], *raw["links"]):
        for key in ("price", "build_cost"):
            if key in row:
                row[key] *= 1e6
    path = write(tmp_path, raw)
    plan = run("plan", path)
    assert plan.returncode == 0, plan.stderr
    assert re.search(r"cluster_npv\s+M EUR\s+-1,000\s+-8,000\s+7,000\n", plan.stdout), plan.stdout
    assert re.search(r"exchanged_MWh\s+MWh\s+160\s+0\s+160\n", plan.stdout), plan.stdout
    compare = run("compare", path, "--no-decomposition")
    assert compare.returncode == 0, compare.stderr
    assert re.search(r"cluster_npv\s+M EUR\s+-8,000\s+-1,000\s+-1,000\s+0\n", compare.stdout), compare.stdout
    assert re.search(r"greenhouse\s+-8,000\.0\s+\S+\s+-1,000\.0\s+-4,500\.0\s+-4,500\.0\s+no\n", compare.stdout), compare.stdout
    for out in (plan.stdout, compare.stdout):
        assert not SCIENTIFIC.search(out) and not NEGATIVE_ZERO.search(out), out
        assert "NOK" not in out
