"""Fuzzing the command line: random argument vectors for every command.

Hypothesis draws a command, a value for its positional argument and a random
subset of its options, each with a right or a wrong value (negative, zero,
huge, nan, inf, text, a missing value, paths to existing files and
directories) or with random text. Every draw knows whether it is right, so
the test checks more than "no crash":

* the outcome is exit code 0, 1 or 2, never another exception, never a
  traceback on stderr, within a time bound;
* a vector with a wrong value exits 2, naming one of the wrong arguments,
  and writes nothing; a vector of right values gets as far as the solve (or
  exits 0 for commands that do not solve) and writes nothing before it.

In-process runs replace every solver by a stub (``tests/test_cli_args.py``),
so huge but valid counts cost nothing; a few vectors go through the real
entry point ``symbiosim`` in a subprocess (wrong ones, or right ones with
small values on a tiny scenario) to catch crashes by signal. The default
suite runs a cheap sample; ``-m slow`` runs many more.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from symbiosim.cli_args import MAX_COUNT, MAX_PARALLEL, MAX_RUNS, MAX_SEED
from tests.test_cli_args import make_workspace, run_main, snapshot

EXE = Path(sys.executable).parent / "symbiosim"
IN_PROCESS_SECONDS = 30.0  # per vector (the first one imports Pyomo, Mesa, ...)
SUBPROCESS_SECONDS = 240.0


# ---------------------------------------------------------------- values: (text, right?) per kind

Pool = tuple[list[str], list[str]]  # right values, wrong values

POOLS: dict[str, Pool] = {
    "seed": (["0", "1", "7", str(MAX_SEED), "00"], ["-1", "1.5", "nan", "inf", "", "abc", str(MAX_SEED + 1), "1e3", "9" * 5000]),
    "count": (["1", "2", "3", str(MAX_COUNT)], ["0", "-3", "nan", "2.5", "", "x", str(MAX_COUNT + 1)]),
    "parallel": (["1", "2", str(MAX_PARALLEL)], ["0", "-1", str(MAX_PARALLEL + 1), "100000", "nan", "1.0"]),
    "points": (["2", "3", str(MAX_COUNT)], ["1", "0", "-2", "x"]),
    "mip_gap": (["0", "1e-4", "0.5", "1e300"], ["-1", "-1e-9", "nan", "inf", "-inf", "", "abc", "1e999"]),
    "seconds": (["0.5", "1e-9", "30", "1e300"], ["0", "-5", "nan", "inf", "x", ""]),
    "share": (["0", "0.5", "1"], ["-0.1", "1.5", "2", "nan", "inf", ""]),
    "perturb": (["0", "0.1", "0.99"], ["1", "5", "-0.1", "nan", ""]),
    "slack": (["0", "0.05", "10"], ["-0.5", "nan", "inf", ""]),
    "upper": (["0.5", "1", "100"], ["0", "-1", "nan", "inf", ""]),
    "levels": (["0", "0,0.5", "1", "0,1", "10,20"], ["", "a,b", "-1", "nan", "1,,2", ",", "1e999"]),
    "weights": (["cluster_npv=1", "cluster_npv=1,emissions=-500", "jobs=0", " value_added = 2 "],
                ["foo=1", "cluster_npv", "cluster_npv=nan", "cluster_npv=1,cluster_npv=2", "", "=1", "jobs=inf"]),
    "objective": (["cluster_npv", "value_added", "jobs", "emissions", "weighted"], ["bogus", "", "CLUSTER_NPV"]),
    "objectives": (["cluster_npv,emissions", "jobs,value_added", "emissions,jobs"],
                   ["jobs,jobs", "jobs", "a,b", "weighted,jobs", "", "jobs,emissions,value_added"]),
    "instrument": (["exchange_subsidy", "disposal_tax", "virgin_tax", "carbon_price", "investment_subsidy", "facilitator"], ["bogus", ""]),
    "method": (["mc", "lhs", "sobol"], ["grid", ""]),
    "format": (["csv", "parquet", "xlsx"], ["xls", ""]),
    "players": (["smelter", "smelter,greenhouse", "greenhouse"], ["nobody", "smelter,nobody", "smelter,smelter", "", ","]),
    "region": (["north", "south", "east"], ["mars", "", "  "]),
    "name": (["run_1", "a.b-c", "X"], ["../x", "", "a/b", ".hidden", "x" * 101]),
    "dask": (["local", "tcp://127.0.0.1:8786"], ["", "not an address", "tcp:// x"]),
}

# paths in the workspace (``make_workspace``): which kinds of path argument each one suits
PATHS = ["s.yaml", "h.yaml", "bad.yaml", "arms.yaml", "cases.yaml", "exp.duckdb", "other.duckdb", "empty.duckdb", "dir", "file.txt",
         "new", "new/sub", "file.txt/sub", "missing.yaml", "", "dir/new.duckdb", "new.duckdb", "m.lp", "dir/m.mps", "nodir/m.lp",
         "t.xlsx", "dir/t.xlsx", "nodir/t.xlsx"]
EXISTING_FILES = {"s.yaml", "h.yaml", "bad.yaml", "arms.yaml", "cases.yaml", "exp.duckdb", "other.duckdb", "empty.duckdb", "file.txt"}
DUCKDB = {"exp.duckdb", "other.duckdb"}


def path_ok(kind: str, p: str) -> bool:
    """Whether path ``p`` is a right value for a path argument of ``kind`` (the test's own rule)."""
    exists = p in EXISTING_FILES or p == "dir"
    creatable = bool(p) and not exists and not p.startswith("file.txt/")
    if kind == "out_dir":
        return p == "dir" or creatable
    if kind == "store":
        return p in DUCKDB or creatable
    if kind == "experiment_db":
        return p == "exp.duckdb"
    if kind == "scenario":
        return p == "s.yaml"
    if kind == "history":
        return p == "h.yaml"
    if kind == "arms":
        return p == "arms.yaml"
    if kind == "cases":
        return p == "cases.yaml"
    if kind == "save_lp":
        return p in ("m.lp", "dir/m.mps")
    if kind == "xlsx":
        return p in ("t.xlsx", "dir/t.xlsx")
    raise KeyError(kind)


PATH_KINDS = {"out_dir", "store", "experiment_db", "scenario", "history", "arms", "cases", "save_lp", "xlsx"}
FLAG = "flag"

COMMON_DECIDE = {"--json": FLAG, "--out": "out_dir", "--format": "format", "--mip-gap": "mip_gap", "--time-limit": "seconds"}
SPECS: dict[str, tuple[str | None, dict[str, str]]] = {
    "validate": ("scenario", {"--history": "history"}),
    "template": ("xlsx", {"--force": FLAG}),
    "plan": ("scenario", {"--objective": "objective", "--weights": "weights", "--baseline": FLAG, "--out": "out_dir",
                          "--format": "format", "--json": FLAG, "--save-lp": "save_lp", "--time-limit": "seconds",
                          "--threads": "parallel", "--mip-gap": "mip_gap"}),
    "simulate": ("scenario", {"--seed": "seed", "--facilitator": FLAG, "--out": "out_dir", "--format": "format", "--json": FLAG}),
    "compare": ("scenario", {"--seed": "seed", "--players": "players", "--no-decomposition": FLAG, "--json": FLAG, "--out": "out_dir",
                            "--format": "format"}),
    "incentives": ("scenario", {"--instrument": "instrument", "--target": "share", "--seeds": "count", "--seed": "seed",
                                "--upper": "upper", "--levels": "levels", "--json": FLAG, "--out": "out_dir",
                                "--format": "format"}),
    "experiment": ("scenario", {"--samples": "count", "--method": "method", "--arms": "arms", "--replications": "count",
                                "--jobs": "parallel", "--dask": "dask", "--workers": "parallel", "--chunk": "count", "--seed": "seed",
                                "--out": "store", "--name": "name", "--parquet": "out_dir", "--no-reuse": FLAG, "--mip-gap": "mip_gap",
                                "--json": FLAG}),
    "summarize": ("experiment_db", {"--target": "share", "--json": FLAG, "--out": "out_dir"}),
    "alternatives": ("scenario", {"--slack": "slack", "--count": "count", "--objective": "objective", "--weights": "weights",
                                  "--no-exchanges": FLAG, "--alt-mip-gap": "mip_gap", "--alt-time-limit": "seconds", **COMMON_DECIDE}),
    "pareto": ("scenario", {"--objectives": "objectives", "--points": "points", **COMMON_DECIDE}),
    "cases": ("scenario", {"--cases": "cases", "--store": "store", "--no-store": FLAG, "--no-base": FLAG, "--region": "region",
                           **COMMON_DECIDE}),
    "robustness": ("scenario", {"--perturb": "perturb", "--samples": "count", "--seed": "seed", **COMMON_DECIDE}),
    "report": ("scenario", {"--seed": "seed", "--out": "out_dir", "--incentives": "instrument", "--target": "share",
                            "--seeds": "count", "--no-decomposition": FLAG}),
    "doctor": (None, {}),
}
POSITIONAL_NAMES = {"validate": "file", "template": "file", "summarize": "db", "cases": "base"}
SOLVES = {"plan", "simulate", "compare", "incentives", "experiment", "alternatives", "pareto", "cases", "robustness", "doctor", "report"}

# Values that keep a real run on the tiny scenario short (subprocess vectors).
SMALL = {"count": ["1", "2"], "parallel": ["1", "2"], "points": ["2", "3"], "seconds": ["5", "30"], "mip_gap": ["0", "1e-4", "0.5"],
         "seed": ["0", "1", "7"], "upper": ["0.5", "1"], "levels": ["0", "0,1"], "dask": [], "region": ["north", "south"]}


@dataclass
class Vector:
    argv: list[str]
    right: bool | None  # None: random text somewhere, rightness unknown
    wrong: list[str] = field(default_factory=list)  # what a message may name: options, positional names, paths
    options: dict[str, str | None] = field(default_factory=dict)

    def __repr__(self) -> str:  # hypothesis prints it on failure
        return f"Vector({self.argv!r}, right={self.right}, wrong={self.wrong})"


def _value(draw: Callable[[Any], Any], kind: str, small: bool, want: str) -> tuple[str, bool | None]:
    """A value of ``kind``: ``want`` right, wrong, or any (random text included)."""
    if kind in PATH_KINDS:
        pool = [p for p in PATHS if want == "any" or path_ok(kind, p) == (want == "right")]
        p = draw(st.sampled_from(pool))
        return p, path_ok(kind, p)
    right, wrong = POOLS[kind]
    if small and kind in SMALL:
        right = SMALL[kind]
    choice = want if want != "any" else draw(st.sampled_from(["right", "right", "wrong", "text"] if right else ["wrong", "text"]))
    if choice == "right" and right:
        return draw(st.sampled_from(right)), True
    if choice in ("right", "wrong"):
        return draw(st.sampled_from(wrong)), False
    return draw(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=12)), None


def _combinations_right(command: str, opts: dict[str, str | None]) -> tuple[bool, list[str]]:
    """Rules between options (the test's own statement of them)."""
    if command in ("plan", "alternatives"):
        weighted = opts.get("--objective") == "weighted"
        if weighted != ("--weights" in opts):
            return False, ["--weights"]
    if command == "incentives":
        if "--instrument" not in opts:
            return False, ["--instrument"]
        inst = opts["--instrument"]
        levels = [float(x) for x in opts["--levels"].split(",")] if opts.get("--levels") else None
        if levels is not None and ("--upper" in opts or "--target" in opts):
            return False, ["--upper", "--target"]
        if inst == "investment_subsidy" and (float(opts.get("--upper") or 0) > 1 or any(x > 1 for x in levels or [])):
            return False, ["--upper", "--levels"]
        if inst == "facilitator" and ("--upper" in opts or any(x not in (0, 1) for x in levels or [])):
            return False, ["--upper", "--levels"]
        if int(opts.get("--seed") or 0) + int(opts.get("--seeds") or 3) - 1 > MAX_SEED:
            return False, ["--seed"]
    if command == "experiment":
        if int(opts.get("--samples") or 100) * int(opts.get("--replications") or 1) > MAX_RUNS:
            return False, ["--replications"]
        if "--jobs" in opts and "--dask" in opts:
            return False, ["--jobs", "--dask"]
        if "--workers" in opts and opts.get("--dask") != "local":
            return False, ["--workers"]
    if command == "cases":
        if "--cases" not in opts:
            return False, ["--cases"]
        if "--store" in opts and "--no-store" in opts:
            return False, ["--store", "--no-store"]
    return True, []


@st.composite
def vectors(draw: Callable[[Any], Any], commands: tuple[str, ...] = tuple(SPECS), small: bool = False, wrong_only: bool = False) -> Vector:
    """A command with a random subset of its options; all right, exactly one wrong, or anything."""
    command = draw(st.sampled_from(commands))
    mode = "one_wrong" if wrong_only else draw(st.sampled_from(["right", "one_wrong", "any"]))
    positional, spec = SPECS[command]
    names = draw(st.lists(st.sampled_from(sorted(spec)), unique=True, max_size=len(spec))) if spec else []
    for required in {"incentives": "--instrument", "cases": "--cases", "report": "--out"}.get(command, "").split():
        if required not in names and (mode == "right" or draw(st.integers(0, 5))):
            names.append(required)
    valued = [n for n in names if spec[n] != FLAG]
    slots = ["(positional)"] * (positional is not None) + valued
    bad = draw(st.sampled_from(slots)) if mode == "one_wrong" and slots else None

    def want(slot: str) -> str:
        return "any" if mode == "any" else "wrong" if slot == bad else "right"

    argv = ["-v", command] if draw(st.integers(0, 3)) == 0 else [command]
    right: bool | None = True
    wrong: list[str] = []
    if positional is not None:
        dest = POSITIONAL_NAMES.get(command, "scenario")
        if mode == "any" and draw(st.integers(0, 9)) == 0:  # left out
            right, wrong = False, [dest]
        else:
            p, ok = _value(draw, positional, small, want("(positional)"))
            argv.append(p)
            if not ok:
                right = False
                wrong += [p, dest, "no such file"]
    opts: dict[str, str | None] = {}
    missing_value = None
    for name in names:
        kind = spec[name]
        if kind == FLAG:
            argv.append(name)
            opts[name] = None
            continue
        if missing_value is None and mode != "right" and want(name) != "right" and draw(st.integers(0, 9)) == 0:
            missing_value = name  # an option without its value
            continue
        value, ok = _value(draw, kind, small, want(name))
        argv += [f"{name}={value}"] if draw(st.booleans()) else [name, value]
        opts[name] = value
        if ok is None:
            right = None if right is not False else False
        elif not ok:
            right = False
            wrong += [name, value] if kind in PATH_KINDS and value else [name]  # a file's own errors name the file
    if missing_value is not None:
        argv.append(missing_value)
        right = False
        wrong.append(missing_value)
    if right is True:
        ok, named = _combinations_right(command, opts)
        if not ok:
            right, wrong = False, named
    if wrong_only and right is not False:
        argv.append("--seed=-1" if "--seed" in spec and "--seed" not in opts else "--no-such-option")
        right, wrong = False, [*wrong, "--seed", "--no-such-option"]
    return Vector(argv, right, wrong, opts)


@pytest.fixture(scope="module")
def workspace_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_workspace(tmp_path_factory.mktemp("fuzz") / "template")


class Workspace:
    """A fresh copy of the workspace per vector (hypothesis runs many vectors per test), removed after it."""

    def __init__(self, template: Path, root: Path) -> None:
        self.template, self.root, self.n = template, root, 0

    @contextlib.contextmanager
    def fresh(self) -> Iterator[Path]:
        self.n += 1
        path = Path(shutil.copytree(self.template, self.root / f"v{self.n}"))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def workspaces(workspace_template: Path, tmp_path: Path) -> Workspace:
    return Workspace(workspace_template, tmp_path)


def check_in_process(v: Vector, ws: Path) -> None:
    before = snapshot(ws)
    t0 = time.perf_counter()
    r = run_main(v.argv, ws)
    seconds = time.perf_counter() - t0
    assert r.error is None, f"{v}: an exception escaped main:\n{r.stderr}"
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, f"{v}:\n{r.stderr}"
    assert r.solved is not None or r.code in (0, 1, 2), f"{v}: exit code {r.code}"
    assert seconds < IN_PROCESS_SECONDS, f"{v}: {seconds:.1f} s"
    command = next(a for a in v.argv if a != "-v")
    event(f"{command} {({True: 'right', False: 'wrong', None: 'unknown'})[v.right]}: {r.solved or r.code}")
    if r.code == 2 or r.solved is not None:
        assert snapshot(ws) == before, f"{v}: wrote files before solving or on an argument error"
    if v.right is False:
        assert r.code == 2, f"{v}: wrong arguments, exit {r.code}, solved {r.solved}:\n{r.stderr}"
        assert any(w in r.stderr for w in v.wrong if w), f"{v}: the message names none of {v.wrong}:\n{r.stderr}"
    elif v.right is True:
        if command in SOLVES:
            assert r.solved is not None, f"{v}: right arguments, yet exit {r.code}:\n{r.stderr}"
        else:
            assert r.code == 0, f"{v}: right arguments, yet exit {r.code}:\n{r.stderr}"


def check_subprocess(v: Vector, ws: Path) -> None:
    t0 = time.perf_counter()
    done = subprocess.run([str(EXE), *v.argv], cwd=ws, capture_output=True, text=True, timeout=SUBPROCESS_SECONDS)
    seconds = time.perf_counter() - t0
    command = next(a for a in v.argv if a != "-v")
    event(f"{command} {({True: 'right', False: 'wrong', None: 'unknown'})[v.right]}: {done.returncode}")
    assert done.returncode in (0, 1, 2), f"{v}: exit {done.returncode} (a negative code is a signal)\n{done.stderr}"
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, f"{v}:\n{done.stderr}"
    assert seconds < SUBPROCESS_SECONDS
    if v.right is False:
        assert done.returncode == 2, f"{v}: wrong arguments, exit {done.returncode}\n{done.stderr}"
    if done.returncode == 0 and "--json" in v.argv:
        json.loads(done.stdout)  # exactly one JSON document


# ---------------------------------------------------------------- the default suite: cheap


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(v=vectors())
def test_fuzz_in_process(v: Vector, workspaces: Workspace) -> None:
    with workspaces.fresh() as ws:
        check_in_process(v, ws)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(v=vectors(wrong_only=True))
def test_fuzz_entry_point_wrong_arguments(v: Vector, workspaces: Workspace) -> None:
    with workspaces.fresh() as ws:
        check_subprocess(v, ws)


# ---------------------------------------------------------------- -m slow: many more, and real runs


@pytest.mark.slow
@settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(v=vectors())
def test_fuzz_in_process_many(v: Vector, workspaces: Workspace) -> None:
    with workspaces.fresh() as ws:
        check_in_process(v, ws)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(v=vectors(small=True))
def test_fuzz_entry_point_real_runs(v: Vector, workspaces: Workspace) -> None:
    """Right vectors really run (small values, the tiny scenario): exit 0 or 1, never a crash."""
    with workspaces.fresh() as ws:
        check_subprocess(v, ws)
