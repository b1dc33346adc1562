"""Every command-line argument is checked when it is parsed (``symbiosim/cli_args.py``).

The commands run in-process with every solving entry point replaced by a stub
that raises ``Solved``: a wrong argument must give exit code 2, a message
naming the option, no traceback and no file written, before anything is
solved; right arguments must reach the solve.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import os
import shutil
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from symbiosim import cli_args as t
from symbiosim.cli import build_parser, main
from symbiosim.store import ResultsStore
from tests.tiny import HEAT_LINK


class Solved(BaseException):
    """Raised by the stubs: the command got as far as solving (BaseException: no command catches it)."""


SOLVERS = [
    ("symbiosim.planner", "optimise"),
    ("symbiosim.simulator", "simulate"),
    ("symbiosim.compare.gap", "compare"),
    ("symbiosim.compare.incentives", "least_cost_level"),
    ("symbiosim.experiments.cli", "run_experiment"),
    ("symbiosim.decide.alternatives", "alternatives"),
    ("symbiosim.decide.pareto", "pareto"),
    ("symbiosim.decide.cases", "run_cases"),
    ("symbiosim.decide.robustness", "robustness"),
]


@functools.cache
def _import_all() -> None:
    """Import every module of the package (but the web app's and ``__main__``) with the real solvers bound."""
    import importlib
    import pkgutil

    import symbiosim

    for info in pkgutil.walk_packages(symbiosim.__path__, "symbiosim."):
        if not info.name.startswith("symbiosim.app") and info.name != "symbiosim.__main__":
            importlib.import_module(info.name)


@contextlib.contextmanager
def no_solves() -> Iterator[list[tuple[str, tuple[Any, ...], dict[str, Any]]]]:
    """Replace every solving entry point by a stub that records its call and raises ``Solved``."""
    import importlib

    from symbiosim.compare.incentives import Reference

    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def stub(name: str) -> Any:
        def solve(*args: Any, **kwargs: Any) -> Any:
            calls.append((name, args, kwargs))
            raise Solved(name)

        return solve

    _import_all()  # a module first imported under the stubs would keep them (``from x import simulate``) for later tests
    with pytest.MonkeyPatch.context() as mp:
        for module, name in SOLVERS:
            mp.setattr(importlib.import_module(module), name, stub(name))
        mp.setattr(Reference, "build", classmethod(lambda cls, *a, **k: stub("Reference.build")(*a, **k)))
        yield calls


def experiment_db(path: Path) -> None:
    """A small experiment database as ``symbiosim experiment`` writes it (2 arms x 6 samples)."""
    rng = np.random.default_rng(5)
    n, arms = 6, ["none", "tax"]
    design = pd.DataFrame(
        [{"run_id": i * 2 + j, "sample_id": i, "arm": a, "replication": 0, "seed": 100 + i, "in_price": (i + 0.5) / n}
         for i in range(n) for j, a in enumerate(arms)]
    )
    runs = pd.DataFrame({
        "run_id": design.run_id, "status": "ok", "error": "",
        "share_of_potential": rng.uniform(0, 1, len(design)), "gap": rng.uniform(0, 1e6, len(design)),
        "public_cost": rng.uniform(-1e5, 1e5, len(design)), "emissions": rng.uniform(0, 100, len(design)),
        "cluster_npv": rng.uniform(0, 1e6, len(design)), "actors_below_standalone": rng.integers(0, 2, len(design)).astype(float),
        "optimum_gap": 0.0, "seconds": 0.1,
    })
    manifest = pd.DataFrame([{
        "experiment": "synthetic", "scenario": "s.yaml", "scenario_hash": "x", "version": "0", "root_seed": 0, "method": "lhs",
        "samples": n, "replications": 1, "mip_gap": 1e-3, "arms": "{}", "inputs": "[]", "created": "", "updated": "",
    }])
    with ResultsStore(path) as store:
        store.replace("manifest", manifest)
        store.replace("design", design)
        store.replace("runs", runs)


CASES = {"cases": [{"name": "dear", "set": [{"target": "purchases[product=gas].price", "value": 70}]},
                   {"name": "east", "add": {"actors": [{"id": "newco", "exists": False, "region": "east"}]}}]}


def make_workspace(root: Path) -> Path:
    """Files every argument test may point at (paths relative to ``root``)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "s.yaml").write_text(yaml.safe_dump(HEAT_LINK, sort_keys=False))
    (root / "bad.yaml").write_text("settings: [\n")
    (root / "h.yaml").write_text(yaml.safe_dump(  # a history of s.yaml (validate --history)
        {"scenario": HEAT_LINK["settings"]["name"],
         "exchanges": [{"from": "smelter", "to": "greenhouse", "product": "heat", "year": 2025, "source": "test"}]}))
    (root / "arms.yaml").write_text(yaml.safe_dump({"arms": {"none": {}, "tax": {"disposal_tax": 10}}}))
    (root / "cases.yaml").write_text(yaml.safe_dump(CASES, sort_keys=False))
    (root / "file.txt").write_text("not a database\n")
    (root / "empty.duckdb").write_bytes(b"")
    (root / "dir").mkdir(exist_ok=True)
    (root / "dir" / "kept.txt").write_text("x")
    experiment_db(root / "exp.duckdb")
    with ResultsStore(root / "other.duckdb") as store:
        store.append("x", pd.DataFrame({"a": [1]}))
    return root


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` with its size and modification time."""
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.stat()
        out[str(p.relative_to(root))] = (st.st_size if p.is_file() else -1, st.st_mtime_ns)
    return out


@dataclass
class Outcome:
    code: int | None  # exit code (None: reached a solve)
    solved: str | None  # the stub reached
    stdout: str
    stderr: str
    error: BaseException | None  # anything else that escaped main


def run_main(argv: list[str], cwd: Path) -> Outcome:
    """``main(argv)`` in ``cwd``, solvers stubbed; never raises."""
    out, err = io.StringIO(), io.StringIO()
    code = solved = error = None
    with contextlib.chdir(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), no_solves():
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        except Solved as exc:
            solved = str(exc)
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            error = exc
            err.write("".join(traceback.format_exception(exc)))
    return Outcome(code, solved, out.getvalue(), err.getvalue(), error)


@pytest.fixture(scope="module")
def workspace_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_workspace(tmp_path_factory.mktemp("template") / "ws")


@pytest.fixture
def ws(workspace_template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(workspace_template, tmp_path / "ws"))


# ---------------------------------------------------------------- wrong arguments: exit 2, option named, nothing written

BAD = [
    # (argv, text the message must contain)
    (["simulate", "s.yaml", "--seed", "-1"], "argument --seed"),
    (["simulate", "s.yaml", "--seed", "1.5"], "argument --seed"),
    (["simulate", "s.yaml", "--seed", str(2**63)], "argument --seed"),
    (["compare", "s.yaml", "--seed", "-3"], "argument --seed"),
    (["robustness", "s.yaml", "--seed", "-1"], "argument --seed"),
    (["robustness", "s.yaml", "--perturb", "5"], "argument --perturb"),
    (["robustness", "s.yaml", "--perturb", "-0.1"], "argument --perturb"),
    (["robustness", "s.yaml", "--perturb", "1"], "argument --perturb"),
    (["robustness", "s.yaml", "--samples", "0"], "argument --samples"),
    (["alternatives", "s.yaml", "--slack", "-0.5"], "argument --slack"),
    (["alternatives", "s.yaml", "--slack", "nan"], "argument --slack"),
    (["alternatives", "s.yaml", "--count", "0"], "argument --count"),
    (["alternatives", "s.yaml", "--alt-mip-gap", "-1"], "argument --alt-mip-gap"),
    (["alternatives", "s.yaml", "--alt-time-limit", "0"], "argument --alt-time-limit"),
    (["alternatives", "s.yaml", "--weights", "cluster_npv=1"], "argument --weights"),
    (["alternatives", "s.yaml", "--objective", "weighted"], "argument --weights"),
    (["plan", "s.yaml", "--mip-gap", "-1"], "argument --mip-gap"),
    (["plan", "s.yaml", "--mip-gap", "inf"], "argument --mip-gap"),
    (["plan", "s.yaml", "--time-limit", "-5"], "argument --time-limit"),
    (["plan", "s.yaml", "--time-limit", "nan"], "argument --time-limit"),
    (["plan", "s.yaml", "--threads", "0"], "argument --threads"),
    (["plan", "s.yaml", "--threads", "100000"], "argument --threads"),
    (["plan", "s.yaml", "--weights", "emissions=-1"], "argument --weights"),
    (["plan", "s.yaml", "--objective", "weighted"], "argument --weights"),
    (["plan", "s.yaml", "--objective", "weighted", "--weights", "foo=1"], "argument --weights"),
    (["plan", "s.yaml", "--objective", "weighted", "--weights", "cluster_npv=nan"], "argument --weights"),
    (["plan", "s.yaml", "--objective", "weighted", "--weights", "cluster_npv"], "argument --weights"),
    (["plan", "s.yaml", "--objective", "nope"], "argument --objective"),
    (["plan", "s.yaml", "--out", "file.txt"], "argument --out"),
    (["plan", "s.yaml", "--out", "file.txt/sub"], "argument --out"),
    (["plan", "s.yaml", "--out", ""], "argument --out"),
    (["plan", "s.yaml", "--save-lp", "model.txt"], "argument --save-lp"),
    (["plan", "s.yaml", "--save-lp", "nodir/model.lp"], "argument --save-lp"),
    (["plan", "s.yaml", "--format", "xls"], "argument --format"),
    (["simulate", "s.yaml", "--out", "file.txt"], "argument --out"),
    (["compare", "s.yaml", "--players", "smelter,nobody"], "argument --players"),
    (["compare", "s.yaml", "--players", "smelter,smelter"], "argument --players"),
    (["compare", "s.yaml", "--players", ","], "argument --players"),
    (["compare", "s.yaml", "--out", "exp.duckdb"], "argument --out"),
    (["incentives", "s.yaml", "--instrument", "disposal_tax", "--target", "2"], "argument --target"),
    (["incentives", "s.yaml", "--instrument", "disposal_tax", "--target", "-0.1"], "argument --target"),
    (["incentives", "s.yaml", "--instrument", "disposal_tax", "--target", "1.0001"], "argument --target"),
    (["report", "s.yaml", "--out", "dir", "--incentives", "disposal_tax", "--target", "2"], "argument --target"),
    (["incentives", "s.yaml", "--instrument", "disposal_tax", "--seeds", "0"], "argument --seeds"),
    (["incentives", "s.yaml", "--instrument", "disposal_tax", "--seed", "-1"], "argument --seed"),
    (["incentives", "s.yaml", "--instrument", "disposal_tax", "--upper", "0"], "argument --upper"),
    (["incentives", "s.yaml", "--instrument", "disposal_tax", "--levels", "1,x"], "argument --levels"),
    (["incentives", "s.yaml", "--instrument", "disposal_tax", "--levels", "-1"], "argument --levels"),
    (["incentives", "s.yaml", "--instrument", "disposal_tax", "--levels", "1", "--upper", "5"], "argument --upper"),
    (["incentives", "s.yaml", "--instrument", "disposal_tax", "--levels", "1", "--target", "0.5"], "argument --target"),
    (["incentives", "s.yaml", "--instrument", "investment_subsidy", "--upper", "2"], "argument --upper"),
    (["incentives", "s.yaml", "--instrument", "investment_subsidy", "--levels", "0.5,2"], "argument --levels"),
    (["incentives", "s.yaml", "--instrument", "facilitator", "--levels", "0.5"], "argument --levels"),
    (["incentives", "s.yaml", "--instrument", "bogus"], "argument --instrument"),
    (["incentives", "s.yaml", "--instrument", "disposal_tax", "--seed", str(2**63 - 1), "--seeds", "2"], "argument --seed"),
    (["experiment", "s.yaml", "--seed", "-1", "--out", "new.duckdb"], "argument --seed"),
    (["experiment", "s.yaml", "--samples", "0"], "argument --samples"),
    (["experiment", "s.yaml", "--replications", "0"], "argument --replications"),
    (["experiment", "s.yaml", "--jobs", "0"], "argument --jobs"),
    (["experiment", "s.yaml", "--dask", "local", "--workers", "0"], "argument --workers"),
    (["experiment", "s.yaml", "--workers", "3"], "argument --workers"),
    (["experiment", "s.yaml", "--jobs", "2", "--dask", "local"], "argument --dask"),
    (["experiment", "s.yaml", "--dask", "local", "--jobs", "1"], "argument --jobs"),  # 1 was the default: argparse missed it
    (["experiment", "s.yaml", "--dask", "not an address"], "argument --dask"),
    (["experiment", "s.yaml", "--chunk", "0"], "argument --chunk"),
    (["experiment", "s.yaml", "--samples", "1000000", "--replications", "11"], "argument --replications"),
    (["incentives", "s.yaml", "--instrument", "disposal_tax", "--seeds", str(10**6 + 1)], "argument --seeds"),
    (["experiment", "s.yaml", "--mip-gap", "-0.1"], "argument --mip-gap"),
    (["experiment", "s.yaml", "--method", "grid"], "argument --method"),
    (["experiment", "s.yaml", "--out", "file.txt"], "argument --out"),
    (["experiment", "s.yaml", "--out", "empty.duckdb"], "argument --out"),
    (["experiment", "s.yaml", "--out", "dir"], "argument --out"),
    (["experiment", "s.yaml", "--name", "../escape"], "argument --name"),
    (["experiment", "s.yaml", "--arms", "missing.yaml"], "argument --arms"),
    (["experiment", "s.yaml", "--arms", "bad.yaml"], "argument --arms"),
    (["experiment", "s.yaml", "--arms", "s.yaml"], "argument --arms"),
    (["experiment", "s.yaml", "--parquet", "file.txt"], "argument --parquet"),
    (["summarize", "file.txt"], "argument db"),
    (["summarize", "missing.duckdb"], "argument db"),
    (["summarize", "other.duckdb"], "not an experiment database"),
    (["summarize", "exp.duckdb", "--target", "1.5"], "argument --target"),
    (["summarize", "exp.duckdb", "--out", "file.txt"], "argument --out"),
    (["pareto", "s.yaml", "--points", "1"], "argument --points"),
    (["pareto", "s.yaml", "--objectives", "jobs,jobs"], "argument --objectives"),
    (["pareto", "s.yaml", "--objectives", "jobs,weighted"], "argument --objectives"),
    (["pareto", "s.yaml", "--objectives", "jobs"], "argument --objectives"),
    (["cases", "s.yaml", "--cases", "cases.yaml", "--store", "file.txt"], "argument --store"),
    (["cases", "s.yaml", "--cases", "cases.yaml", "--store", "x.duckdb", "--no-store"], "argument --no-store"),
    (["cases", "s.yaml", "--cases", "cases.yaml", "--region", "mars"], "argument --region"),
    (["cases", "s.yaml", "--cases", "missing.yaml"], "argument --cases"),
    (["cases", "s.yaml", "--cases", "cases.yaml", "--mip-gap", "-1"], "argument --mip-gap"),
    (["template", "t.txt"], "argument file"),
    (["template", "nodir/t.xlsx"], "argument file"),
    (["template", "dir"], "argument file"),
    # two outputs at one path, or one inside an output file: refused before anything is written (found by the fuzzer)
    (["cases", "s.yaml", "--cases", "cases.yaml", "--store", "new", "--out", "new"], "argument --store: new is the same path as --out"),
    (["experiment", "s.yaml", "--out", "new.duckdb", "--parquet", "new.duckdb"], "argument --parquet"),
    (["experiment", "s.yaml", "--out", "new.duckdb", "--parquet", "new.duckdb/p"], "inside the file of --out"),
    (["plan", "s.yaml", "--save-lp", "m.lp", "--out", "m.lp/x"], "argument --out: m.lp/x is inside the file of --save-lp"),
    # the ripple options need an input-output table
    (["plan", "s.yaml", "--region-totals", "s.yaml"], "argument --region-totals: only with --io-table"),
    (["simulate", "s.yaml", "--delta", "0.2"], "argument --delta: only with --io-table"),
    (["report", "s.yaml", "--out", "new", "--ledgers", "s.yaml"], "argument --ledgers: only with --io-table"),
]


@pytest.mark.parametrize(("argv", "named"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_a_wrong_argument_exits_2_naming_it_before_anything_is_solved_or_written(ws: Path, argv: list[str], named: str) -> None:
    before = snapshot(ws)
    r = run_main(argv, ws)
    assert r.error is None, r.stderr
    assert r.solved is None, f"solved ({r.solved}) despite a wrong argument"
    assert r.code == 2, (r.code, r.stderr)
    assert named in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert snapshot(ws) == before, "an argument error wrote something"


def test_the_default_cases_store_is_checked_before_solving(ws: Path) -> None:
    (ws / "results").mkdir()
    (ws / "results" / "cases.duckdb").write_text("not a database")
    r = run_main(["cases", "s.yaml", "--cases", "cases.yaml"], ws)
    assert (r.code, r.solved) == (2, None), r.stderr
    assert "argument --store" in r.stderr and "not a DuckDB database" in r.stderr


def test_the_default_experiment_database_is_checked_before_running(ws: Path) -> None:
    (ws / "results").write_text("a file where the results folder would go")
    r = run_main(["experiment", "s.yaml"], ws)
    assert (r.code, r.solved) == (2, None), r.stderr
    assert "argument --out" in r.stderr


# ---------------------------------------------------------------- right arguments reach the solve, converted


GOOD = [
    (["plan", "s.yaml", "--out", "new/deeper", "--threads", "2", "--mip-gap", "0", "--time-limit", "0.5", "--save-lp", "m.lp"], "optimise"),
    (["plan", "s.yaml", "--out", "dir", "--objective", "weighted", "--weights", "cluster_npv=1, emissions=-500"], "optimise"),
    (["simulate", "s.yaml", "--seed", str(2**63 - 1), "--out", "dir"], "optimise"),
    (["compare", "s.yaml", "--players", "smelter,greenhouse"], "compare"),
    (["incentives", "s.yaml", "--instrument", "investment_subsidy", "--upper", "1", "--target", "1"], "least_cost_level"),
    (["incentives", "s.yaml", "--instrument", "facilitator", "--levels", "0,1"], "Reference.build"),
    (["experiment", "s.yaml", "--arms", "arms.yaml", "--out", "exp.duckdb", "--dask", "local", "--workers", "3"], "run_experiment"),
    (["experiment", "s.yaml", "--out", "new/e.duckdb", "--dask", "tcp://127.0.0.1:8786", "--name", "run_1.b"], "run_experiment"),
    (["experiment", "s.yaml", "--parquet", "pq", "--method", "sobol", "--jobs", "2"], "run_experiment"),
    (["alternatives", "s.yaml", "--slack", "0", "--count", "1", "--alt-time-limit", "1"], "alternatives"),
    (["pareto", "s.yaml", "--objectives", "jobs,emissions", "--points", "2"], "pareto"),
    (["cases", "s.yaml", "--cases", "cases.yaml", "--store", "other.duckdb", "--region", "south"], "run_cases"),
    (["cases", "s.yaml", "--cases", "cases.yaml", "--no-store", "--region", "east"], "run_cases"),  # a region a case adds
    (["robustness", "s.yaml", "--perturb", "0", "--samples", "1", "--seed", "0"], "robustness"),
    (["doctor"], "optimise"),
]


@pytest.mark.parametrize(("argv", "solver"), GOOD, ids=[" ".join(a) for a, _ in GOOD])
def test_right_arguments_reach_the_solve_and_write_nothing_before(ws: Path, argv: list[str], solver: str) -> None:
    before = snapshot(ws)
    r = run_main(argv, ws)
    assert r.error is None, r.stderr
    assert r.solved == solver, (r.code, r.stderr)
    assert snapshot(ws) == before


def test_values_arrive_converted(ws: Path) -> None:
    with contextlib.chdir(ws), no_solves() as calls, contextlib.suppress(Solved):
        main(["plan", "s.yaml", "--objective", "weighted", "--weights", "cluster_npv=1,emissions=-500", "--threads", "2"])
    _, args, kwargs = calls[0]
    assert kwargs["weights"] == {"cluster_npv": 1.0, "emissions": -500.0} and kwargs["threads"] == 2
    with contextlib.chdir(ws), no_solves() as calls, contextlib.suppress(Solved):
        main(["compare", "s.yaml", "--players", "smelter,greenhouse"])
    assert calls[0][2]["players"] == ["smelter", "greenhouse"]
    with contextlib.chdir(ws), no_solves() as calls, contextlib.suppress(Solved):
        main(["pareto", "s.yaml"])
    assert calls[0][1][1] == ("cluster_npv", "emissions")
    args_ns = build_parser().parse_args(["incentives", "s.yaml", "--instrument", "carbon_price"])
    t.check_combinations(args_ns)
    assert args_ns.target == 0.8  # the documented default, filled after the checks
    args_ns = build_parser().parse_args(["experiment", "s.yaml", "--dask", "local"])
    t.check_combinations(args_ns)
    assert args_ns.workers == 2


# ---------------------------------------------------------------- the types themselves


def test_seeds_are_non_negative_64_bit_integers() -> None:
    assert t.seed("0") == 0 and t.seed(str(2**63 - 1)) == 2**63 - 1
    for bad in ("-1", "1.5", "nan", "", "x", str(2**63), "9" * 5000):
        with pytest.raises(argparse.ArgumentTypeError, match="seed"):
            t.seed(bad)


def test_numbers_must_be_finite_and_in_range() -> None:
    assert t.mip_gap("0") == 0.0 and t.seconds("1e-9") == 1e-9 and t.share("1") == 1.0 and t.perturb("0") == 0.0
    for parse, bad in [(t.mip_gap, "-1e-9"), (t.mip_gap, "nan"), (t.mip_gap, "inf"), (t.seconds, "0"), (t.share, "1.01"),
                       (t.perturb, "1"), (t.slack, "-inf"), (t.upper, "0"), (t.count, "0"), (t.parallel, "257"), (t.points, "1")]:
        with pytest.raises(argparse.ArgumentTypeError, match="expected"):
            parse(bad)


def test_lists() -> None:
    assert t.weights("cluster_npv=1,emissions=-1.5") == {"cluster_npv": 1.0, "emissions": -1.5}
    assert t.objective_pair(" jobs , emissions") == ("jobs", "emissions")
    assert t.levels("0, 0.5,10") == [0.0, 0.5, 10.0]
    assert t.names("a,b") == ["a", "b"]
    for parse, bad in [(t.weights, "cluster_npv=1,cluster_npv=2"), (t.weights, "=1"), (t.weights, "jobs=inf"), (t.weights, ""),
                       (t.objective_pair, "jobs,value_added,emissions"), (t.levels, "1,,2"), (t.levels, "nan"),
                       (t.names, "a,,b"), (t.experiment_name, ".hidden"), (t.experiment_name, "a/b"), (t.dask_address, "")]:
        with pytest.raises(argparse.ArgumentTypeError):
            parse(bad)


def test_output_paths_are_checked_not_created(ws: Path) -> None:
    with contextlib.chdir(ws):
        before = snapshot(ws)
        assert t.output_dir("dir") == "dir" and t.output_dir("a/b/c") == "a/b/c"
        assert t.store_path("exp.duckdb") and t.store_path("new/x.duckdb") and t.existing_store("other.duckdb")
        assert t.output_file(".lp")("dir/m.lp") == "dir/m.lp"
        assert snapshot(ws) == before
        for parse, bad in [(t.output_dir, "file.txt"), (t.output_dir, "file.txt/a/b"), (t.output_dir, "a\0b"),
                           (t.store_path, "file.txt"), (t.store_path, "empty.duckdb"), (t.store_path, "dir"),
                           (t.store_path, "file.txt/x.duckdb"), (t.existing_store, "nothing.duckdb"),
                           (t.output_file(".lp"), "dir"), (t.output_file(".lp"), "m.lp.txt"), (t.input_file, "dir")]:
            with pytest.raises(argparse.ArgumentTypeError):
                parse(bad)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_directory_is_refused(ws: Path) -> None:
    locked = ws / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(argparse.ArgumentTypeError, match="not writable"):
            t.output_dir(str(locked / "out"))
    finally:
        locked.chmod(0o700)


def test_choices_are_the_librarys_own_lists() -> None:
    from symbiosim.compare.incentives import INSTRUMENTS
    from symbiosim.decide.session import OBJECTIVE_NAMES
    from symbiosim.experiments.design import METHODS
    from symbiosim.planner.build import MAXIMISE, OBJECTIVES

    assert tuple(t.OBJECTIVES) == OBJECTIVES and tuple(t.INSTRUMENTS) == INSTRUMENTS and tuple(t.METHODS) == METHODS
    assert tuple(t.PARETO_OBJECTIVES) == OBJECTIVE_NAMES and tuple(t.KEY_FIGURES) == tuple(MAXIMISE)
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    choices = {(name, tuple(a.option_strings)): a.choices for name, p in sub.choices.items() for a in p._actions if a.choices}
    assert choices[("plan", ("--objective",))] is t.OBJECTIVES
    assert choices[("alternatives", ("--objective",))] is t.OBJECTIVES
    assert choices[("incentives", ("--instrument",))] is t.INSTRUMENTS
    assert choices[("experiment", ("--method",))] is t.METHODS
    from symbiosim.decide.alternatives import METHODS as ALT_METHODS

    assert tuple(t.ALT_METHODS) == ALT_METHODS and choices[("alternatives", ("--method",))] is t.ALT_METHODS


def test_every_option_that_takes_a_value_is_typed_or_has_choices() -> None:
    """Go through every option of every command: each value is checked when parsed
    (a ``type=``, ``choices=`` or, for scenario and case files, the loader's own checks)."""
    untyped_ok = {("validate", "file"), *((c, "scenario") for c in
                  ("plan", "simulate", "compare", "incentives", "experiment", "calibrate", "alternatives", "pareto", "robustness",
                   "without")),
                  ("cases", "base")}
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = []
    for name, p in sub.choices.items():
        for a in p._actions:
            if a.nargs == 0 or isinstance(a, argparse._HelpAction):
                continue
            label = a.option_strings[-1] if a.option_strings else a.dest
            if a.type is None and a.choices is None and (name, label) not in untyped_ok:
                missing.append(f"{name} {label}")
    assert not missing, f"options whose value is not checked when parsed: {missing}"


def test_max_size_limits_every_file_read_and_is_restored(capsys):
    """``symbiosim --max-size SIZE <command>``: the bundled scenario (tens of kB) is refused under
    1k, read under 64M; a wrong size names the option; the environment is left as it was."""
    import os

    from symbiosim.cli import main
    from symbiosim.scenario.load import MAX_BYTES_ENV

    orkanger = str(Path(__file__).parents[1] / "scenarios" / "orkanger.yaml")
    before = os.environ.get(MAX_BYTES_ENV)
    assert main(["--max-size", "1k", "validate", orkanger]) == 2
    assert "more than the limit of 1,024 bytes" in capsys.readouterr().err
    assert main(["--max-size", "64M", "validate", orkanger]) == 0
    assert os.environ.get(MAX_BYTES_ENV) == before
    with pytest.raises(SystemExit) as info:
        main(["--max-size", "lots", "validate", orkanger])
    assert info.value.code == 2
    assert "argument --max-size: expected a size in bytes" in capsys.readouterr().err
