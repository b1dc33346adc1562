"""The library behind the thin command line: one call per command (``symbiosim.runs``), the
``--out`` writers (``symbiosim.report.outputs``), the one JSON printer (``symbiosim.report.jsonable``)
and the import structure (nothing imports the command line)."""

from __future__ import annotations

import ast
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from symbiosim.report.jsonable import clean, default, dumps, finite, records, write_json
from tests.tiny import HEAT_LINK, build

PACKAGE = Path(__file__).resolve().parents[1] / "symbiosim"


# ---- imports ----------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names; ``from symbiosim import cli`` counts as symbiosim.cli)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def test_no_module_imports_the_command_line_but_the_entry_point():
    importers = sorted(
        str(p.relative_to(PACKAGE.parent)) for p in PACKAGE.rglob("*.py") if "symbiosim.cli" in _imports(p) and p.name != "cli.py"
    )
    assert importers == ["symbiosim/__main__.py"]
    # the command line modules import the library, never each other's private names
    for cli in (PACKAGE / "decide" / "cli.py", PACKAGE / "experiments" / "cli.py"):
        assert not {n for n in _imports(cli) if n.startswith("symbiosim.cli.") or n == "symbiosim.cli"}, cli


@pytest.mark.parametrize("module", ["symbiosim.decide.cli", "symbiosim.experiments.cli", "symbiosim.runs", "symbiosim.report.outputs"])
def test_command_modules_import_first_in_a_fresh_interpreter(module):
    code = f"import sys, {module}; print('symbiosim.cli' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"  # not even indirectly


def test_the_decide_parsers_work_without_the_main_parser():
    import argparse

    from symbiosim.decide.cli import add_parsers

    sub = argparse.ArgumentParser(prog="x").add_subparsers(dest="command")
    add_parsers(sub)
    assert {"alternatives", "pareto", "cases", "robustness"} <= set(sub.choices)


# ---- the one JSON printer -----------------------------------------------------


def test_clean_makes_nested_numpy_and_non_finite_values_plain():
    obj = {1: (np.float64(1.5), np.int64(2), np.bool_(True)), "a": [math.nan, np.float32(np.inf), None, "x"], "arr": np.array([1.0, np.nan])}
    out = clean(obj)
    assert out == {"1": [1.5, 2, True], "a": [None, None, None, "x"], "arr": [1.0, None]}
    assert json.loads(json.dumps(out, allow_nan=False)) == out


def test_finite_records_default_and_dumps():
    assert finite(np.float64(np.nan)) is None and finite(np.int64(3)) == 3 and finite("s") == "s"
    frame = pd.DataFrame({"a": [1.0, math.nan], "b": ["x", "y"]})
    assert records(frame) == [{"a": 1.0, "b": "x"}, {"a": None, "b": "y"}]
    assert default(np.int64(4)) == 4 and default(Path("p")) == "p"
    assert dumps({"p": Path("q"), "n": np.float64(2.0)}) == '{"p": "q", "n": 2.0}'
    with pytest.raises(ValueError):
        dumps({"x": math.nan})


def test_write_json_is_indented_and_refuses_nan_unless_asked(tmp_path):
    path = write_json(tmp_path / "a.json", {"x": np.int64(1)})
    assert path.read_text() == '{\n  "x": 1\n}'
    with pytest.raises(ValueError):
        write_json(tmp_path / "b.json", {"x": math.nan})
    assert json.loads(write_json(tmp_path / "c.json", {"x": math.nan}, allow_nan=True).read_text().replace("NaN", "null")) == {"x": None}


# ---- one call per command, nothing solved twice ----------------------------------


@pytest.fixture
def solves(monkeypatch):
    """Count the planner's solves (``baseline`` flag of each)."""
    import symbiosim.planner as planner

    calls: list[bool] = []
    real = planner.optimise

    def counted(*args, **kwargs):
        calls.append(bool(kwargs.get("baseline", False)))
        return real(*args, **kwargs)

    monkeypatch.setattr(planner, "optimise", counted)
    return calls


def test_run_plan_solves_the_optimum_and_the_baseline_once_each(solves):
    from symbiosim.runs import run_plan

    r = run_plan(build(HEAT_LINK))
    assert solves == [False, True]
    assert r.error is None and r.baseline_error is None and r.baseline is not None
    assert r.json is r.json  # built once
    assert r.json["baseline"]["status"] == "optimal"
    assert r.json["kpis"]["cluster_npv"] == pytest.approx(r.accounts.kpis["cluster_npv"])


def test_run_plan_of_the_baseline_solves_once(solves):
    from symbiosim.runs import run_plan

    r = run_plan(build(HEAT_LINK), baseline=True)
    assert solves == [True]
    assert r.baseline is None and r.baseline_record is None and "baseline" not in r.json


def test_the_plan_command_solves_twice_for_json_and_out_together(solves, tmp_path, capsys):
    from symbiosim.cli import main

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(HEAT_LINK))
    assert main(["--no-progress", "plan", str(path), "--json", "--out", str(tmp_path / "out")]) == 0
    assert solves == [False, True]
    printed = json.loads(capsys.readouterr().out)
    written = json.loads((tmp_path / "out" / "kpis.json").read_text())
    assert printed == written
    assert {"actors.csv", "products.csv", "kpis.json", "flows.png"} <= {p.name for p in (tmp_path / "out").iterdir()}
    solves.clear()
    assert main(["plan", str(path), "--baseline", "--json"]) == 0
    assert solves == [True]


def test_run_plan_reports_an_infeasible_problem_as_its_error():
    import copy

    from symbiosim.runs import run_plan
    from symbiosim.scenario import scenario_from_dict

    raw = copy.deepcopy(HEAT_LINK)
    raw["actor_processes"] = [r for r in raw["actor_processes"] if r["process"] != "boil"]  # needs the candidate pipe
    r = run_plan(scenario_from_dict(raw), baseline=True)
    assert r.plan is None and r.error is not None
    assert r.json["status"] == "infeasible" and r.json["diagnosis"]


# ---- libraries over hand-written code -------------------------------------------


def test_bootstrap_intervals_are_scipys_and_reproducible():
    from scipy.stats import bootstrap

    from symbiosim.experiments.analysis import BOOTSTRAP_SEED, N_BOOT, _mean_ci

    values = np.array([0.2, 0.5, np.nan, 0.9, 0.4, 0.7])
    got = _mean_ci(values, np.random.default_rng(BOOTSTRAP_SEED))
    assert got == _mean_ci(values, np.random.default_rng(BOOTSTRAP_SEED))  # the fixed seed: same numbers, whoever prints them
    ci = bootstrap((values[np.isfinite(values)],), np.mean, n_resamples=N_BOOT, method="percentile",
                   rng=np.random.default_rng(BOOTSTRAP_SEED)).confidence_interval
    assert got == pytest.approx((0.54, ci.low, ci.high))
    assert got[1] < 0.54 < got[2]
    one = _mean_ci(np.array([3.0]), np.random.default_rng(0))
    assert one[0] == 3.0 and math.isnan(one[1]) and math.isnan(one[2])
    assert all(math.isnan(x) for x in _mean_ci(np.array([np.nan]), np.random.default_rng(0)))
    assert _mean_ci(np.array([2.0, 2.0, 2.0]), np.random.default_rng(0)) == (2.0, 2.0, 2.0)


def test_the_planners_of_a_worker_are_an_lru_cache():
    from symbiosim.experiments import runner

    runner._planner.cache_clear()
    first = runner._planner("", 1e-3)
    assert runner._planner("", 1e-3) is first and runner._planner("", 1e-4) is not first
    assert runner._planner.cache_info().maxsize == 8
    for i in range(8):
        runner._planner(f"arm{i}", 1e-3)
    assert runner._planner("", 1e-3) is not first  # the least recently used went first
    runner._planner.cache_clear()


def test_table_formats_are_the_writers_own():
    from symbiosim import cli_args
    from symbiosim.report.outputs import TABLE_FORMATS

    assert tuple(cli_args.FORMATS) == TABLE_FORMATS
