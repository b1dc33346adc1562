"""Fuzzing the command line: random argument vectors for every command.

Hypothesis draws a command, a value for each of its positional arguments (one
to three files where it takes several) and a random subset of its options,
each with a right or a wrong value (negative, zero, huge, nan, inf, text, a
missing value, paths to existing files and directories) or with random text. Every draw knows whether it is right, so
the test checks more than "no crash":

* the outcome is exit code 0, 1 or 2, never another exception, never a
  traceback on stderr, within a time bound;
* a vector with a wrong value exits 2, naming one of the wrong arguments,
  and writes nothing; a vector of right values gets as far as the solve (or
  exits 0 for commands that do not solve) and writes nothing before it.

In-process runs replace every solver by a stub (``tests/test_cli_args.py``;
``without``'s ``region_without`` here), so huge but valid counts cost nothing;
a few vectors go through the real entry point ``symbiosim`` in a subprocess (wrong ones, or right ones with
small values on a tiny scenario) to catch crashes by signal. The default
suite runs a cheap sample; ``-m slow`` runs many more.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import symbiosim.decide.without  # imported here, unstubbed: it binds the planner's optimise when imported
from symbiosim.cli_args import MAX_COUNT, MAX_PARALLEL, MAX_RUNS, MAX_SEED
from tests.test_cli_args import Outcome, Solved, make_workspace, run_main, snapshot

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
    "actor": (["smelter", "greenhouse"], ["nobody", "", "  ", "Smelter", "smelter,greenhouse"]),
    "io_type": (["I", "II", "i", " ii "], ["III", "", "1", "I,II"]),
    "delta": (["0", "0.3", "0.999"], ["1", "-0.1", "nan", "inf", "", "x"]),
    "year": (["2024", "2023", "1900", "2100"], ["1899", "2101", "-1", "2024.5", "", "x"]),
    "material": (["baseline", "links"], ["", "Links", "none"]),
    "effects": (["direct", "total"], ["", "Total", "indirect"]),
    "outcome": (["optimum", "decentralised"], ["", "decentralized", "both"]),
}

# paths in the workspace (``make_workspace``): which kinds of path argument each one suits
PATHS = ["s.yaml", "h.yaml", "bad.yaml", "arms.yaml", "cases.yaml", "exp.duckdb", "other.duckdb", "empty.duckdb", "dir", "file.txt",
         "new", "new/sub", "file.txt/sub", "missing.yaml", "", "dir/new.duckdb", "new.duckdb", "m.lp", "dir/m.mps", "nodir/m.lp",
         "t.xlsx", "dir/t.xlsx", "nodir/t.xlsx", "io.yaml", "io_nohh.yaml", "region.yaml", "led_a.csv", "led_b.csv", "led_bad.csv",
         "map_actors.csv", "map_other.csv", "map_sectors.csv", "missing.csv", "led.duckdb"]
EXISTING_FILES = {"s.yaml", "h.yaml", "bad.yaml", "arms.yaml", "cases.yaml", "exp.duckdb", "other.duckdb", "empty.duckdb", "file.txt",
                  "io.yaml", "io_nohh.yaml", "region.yaml", "led_a.csv", "led_b.csv", "led_bad.csv", "map_actors.csv", "map_other.csv",
                  "map_sectors.csv", "led.duckdb"}
DUCKDB = {"exp.duckdb", "other.duckdb", "led.duckdb"}


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
    if kind == "io_table":
        return p in ("io.yaml", "io_nohh.yaml")  # io_nohh.yaml: not for --type II (_combinations_right)
    if kind == "region_totals":
        return p == "region.yaml"
    if kind == "ledger_db":
        return p == "led.duckdb"
    if kind == "ledger":
        return p in ("led_a.csv", "led_b.csv", "led_bad.csv")  # led_bad.csv: only with --skip-invalid
    if kind == "actor_map":
        return p == "map_actors.csv"
    if kind == "sector_map":
        return p == "map_sectors.csv"
    raise KeyError(kind)


PATH_KINDS = {"out_dir", "store", "experiment_db", "scenario", "history", "arms", "cases", "save_lp", "xlsx", "io_table",
              "region_totals", "ledger", "actor_map", "sector_map", "ledger_db"}
FLAG = "flag"
MANY = "+"  # a positional kind ending in it: one or more values (nargs="+")

# the ripple effects of plan, simulate, compare and report (an input-output table, FLQ, the actors' own ledgers)
RIPPLE = {"--io-table": "io_table", "--region-totals": "region_totals", "--delta": "delta", "--ledgers": "ledger_db"}
COMMON_DECIDE = {"--json": FLAG, "--out": "out_dir", "--format": "format", "--mip-gap": "mip_gap", "--time-limit": "seconds"}
# command: (the kinds of its positional arguments, in order; {option: kind})
SPECS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "validate": (("scenario",), {"--history": "history"}),
    "template": (("xlsx",), {"--force": FLAG}),
    "export": (("scenario", "xlsx"), {"--force": FLAG}),
    "plan": (("scenario",), {"--objective": "objective", "--weights": "weights", "--baseline": FLAG, "--out": "out_dir",
                             "--format": "format", "--json": FLAG, "--save-lp": "save_lp", "--time-limit": "seconds",
                             "--threads": "parallel", "--mip-gap": "mip_gap", "--effects": "effects", **RIPPLE}),
    "simulate": (("scenario",), {"--seed": "seed", "--facilitator": FLAG, "--out": "out_dir", "--format": "format", "--json": FLAG,
                                 **RIPPLE}),
    "compare": (("scenario",), {"--seed": "seed", "--players": "players", "--no-decomposition": FLAG, "--json": FLAG, "--out": "out_dir",
                               "--format": "format", **RIPPLE}),
    "incentives": (("scenario",), {"--instrument": "instrument", "--target": "share", "--seeds": "count", "--seed": "seed",
                                   "--upper": "upper", "--levels": "levels", "--json": FLAG, "--out": "out_dir",
                                   "--format": "format"}),
    "experiment": (("scenario",), {"--samples": "count", "--method": "method", "--arms": "arms", "--replications": "count",
                                   "--jobs": "parallel", "--dask": "dask", "--workers": "parallel", "--chunk": "count", "--seed": "seed",
                                   "--out": "store", "--name": "name", "--parquet": "out_dir", "--no-reuse": FLAG, "--mip-gap": "mip_gap",
                                   "--json": FLAG}),
    "summarize": (("experiment_db",), {"--target": "share", "--json": FLAG, "--out": "out_dir"}),
    "alternatives": (("scenario",), {"--slack": "slack", "--count": "count", "--objective": "objective", "--weights": "weights",
                                     "--no-exchanges": FLAG, "--alt-mip-gap": "mip_gap", "--alt-time-limit": "seconds", **COMMON_DECIDE}),
    "pareto": (("scenario",), {"--objectives": "objectives", "--points": "points", **COMMON_DECIDE}),
    "cases": (("scenario",), {"--cases": "cases", "--store": "store", "--no-store": FLAG, "--no-base": FLAG, "--region": "region",
                              **COMMON_DECIDE}),
    "robustness": (("scenario",), {"--perturb": "perturb", "--samples": "count", "--seed": "seed", **COMMON_DECIDE}),
    "report": (("scenario",), {"--seed": "seed", "--out": "out_dir", "--incentives": "instrument", "--target": "share",
                               "--seeds": "count", "--no-decomposition": FLAG, **RIPPLE}),
    "without": (("scenario", "actor"), {"--outcome": "outcome", "--seed": "seed", **COMMON_DECIDE}),
    "multipliers": (("io_table",), {"--type": "io_type", "--region-totals": "region_totals", "--delta": "delta", "--json": FLAG}),
    "ledgers": (("ledger" + MANY,), {"--scenario": "scenario", "--map-actors": "actor_map", "--map-sectors": "sector_map",
                                     "--io-table": "io_table", "--db": "store", "--out": "out_dir", "--material": "material",
                                     "--year": "year", "--skip-invalid": FLAG, "--show-ids": FLAG, "--json": FLAG}),
    "doctor": ((), {}),
}
POSITIONAL_NAMES = {"validate": ("file",), "template": ("file",), "summarize": ("db",), "cases": ("base",), "export": ("scenario", "file"),
                    "without": ("scenario", "actor"), "multipliers": ("IO_FILE",), "ledgers": ("LEDGER_FILE",)}
REQUIRED = {"incentives": "--instrument", "cases": "--cases", "report": "--out", "ledgers": "--scenario"}
SOLVES = {"plan", "simulate", "compare", "incentives", "experiment", "alternatives", "pareto", "cases", "robustness", "doctor", "report",
          "without"}
WRITES_BEFORE_SOLVING = {"ledgers"}  # its tables (--db, --out), all arguments checked; then the baseline for --out's figure


def _solves(command: str, opts: dict[str, str | None]) -> bool:
    """Whether right arguments get as far as a solve (ledgers: --out's figure, unless --material links)."""
    return command in SOLVES or (command == "ledgers" and "--out" in opts and opts.get("--material") != "links")

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
    return draw(st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\0"), max_size=12)), None


def _combinations_right(command: str, opts: dict[str, str | None], positionals: list[str]) -> tuple[bool, list[str]]:
    """Rules between options and positional arguments (the test's own statement of them)."""
    if command in ("plan", "alternatives"):
        weighted = opts.get("--objective") == "weighted"
        if weighted != ("--weights" in opts):
            return False, ["--weights"]
    if command == "incentives":
        inst = opts["--instrument"]
        levels_text = opts.get("--levels")
        levels = [float(x) for x in levels_text.split(",")] if levels_text else None
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
    if command == "cases" and "--store" in opts and "--no-store" in opts:
        return False, ["--store", "--no-store"]
    if command == "multipliers":
        if "--delta" in opts and "--region-totals" not in opts:
            return False, ["--delta"]
        if (opts.get("--type") or "I").strip().upper() == "II" and positionals[0] == "io_nohh.yaml":
            return False, ["io_nohh.yaml", "households"]
    if "--io-table" in RIPPLE_OF.get(command, ()):
        for option in ("--region-totals", "--delta", "--ledgers"):
            if option in opts and "--io-table" not in opts:
                return False, [option, "--io-table"]
        if "--delta" in opts and "--region-totals" not in opts:
            return False, ["--delta"]
        if opts.get("--effects") == "total" and ("--io-table" not in opts or opts.get("--objective") not in ("value_added", "jobs")):
            return False, ["--effects"]
    if command == "without" and "--seed" in opts and opts.get("--outcome") != "decentralised":
        return False, ["--seed"]
    if command == "ledgers" and "--material" in opts and "--out" not in opts:
        return False, ["--material"]
    if command == "ledgers" and "led_bad.csv" in positionals and "--skip-invalid" not in opts:
        return False, ["led_bad.csv"]
    return True, []


RIPPLE_OF = {c: spec[1] for c, spec in SPECS.items() if c in ("plan", "simulate", "compare", "report")}
OUTPUTS = ("--out", "--db", "--store", "--parquet", "--save-lp")


def _output_clash(command: str, opts: dict[str, str | None]) -> list[str]:
    """The options of two outputs at one path, or of one inside an output that is a file (``cli_args``)."""
    files = {"--db", "--store", "--save-lp"} | ({"--out"} if command == "experiment" else set())
    given = [(o, os.path.normpath(v)) for o in OUTPUTS if (v := opts.get(o))]
    for a, pa in given:
        for b, pb in given:
            if a != b and (pa == pb or (b in files and pa.startswith(pb.rstrip("/") + "/"))):
                return [a, b]
    return []


@st.composite
def vectors(draw: Callable[[Any], Any], commands: tuple[str, ...] = tuple(SPECS), small: bool = False, wrong_only: bool = False) -> Vector:
    """A command with a random subset of its options; all right, exactly one wrong, or anything."""
    command = draw(st.sampled_from(commands))
    mode = "one_wrong" if wrong_only else draw(st.sampled_from(["right", "one_wrong", "any"]))
    kinds, spec = SPECS[command]
    names = draw(st.lists(st.sampled_from(sorted(spec)), unique=True, max_size=len(spec))) if spec else []
    required = REQUIRED.get(command)
    if required is not None and required not in names and (mode == "right" or draw(st.integers(0, 5))):
        names.append(required)
    valued = [n for n in names if spec[n] != FLAG]
    slots = [f"(positional {i})" for i in range(len(kinds))] + valued
    bad = draw(st.sampled_from(slots)) if mode == "one_wrong" and slots else None

    def want(slot: str) -> str:
        return "any" if mode == "any" else "wrong" if slot == bad else "right"

    argv = ["-v", command] if draw(st.integers(0, 3)) == 0 else [command]
    right: bool | None = True
    wrong: list[str] = []
    dests = POSITIONAL_NAMES.get(command, ("scenario",))
    given = len(kinds)
    if mode == "any" and kinds and draw(st.integers(0, 9)) == 0:  # the last ones (or all) left out
        given = draw(st.integers(0, len(kinds) - 1))
        right, wrong = False, list(dests[given:])
    positionals: list[str] = []
    for i, kind in enumerate(kinds[:given]):
        n = draw(st.integers(1, 3)) if kind.endswith(MANY) else 1
        the_bad_one = draw(st.integers(0, n - 1))  # of several values, the one that is wrong in mode one_wrong
        for j in range(n):
            slot = f"(positional {i})" if j == the_bad_one else ""  # the others: right, or anything in mode any
            p, ok = _value(draw, kind.removesuffix(MANY), small, want(slot))
            argv.append(p)
            positionals.append(p)
            if ok is None:
                right = None if right is not False else False
            elif not ok:
                right = False
                wrong += [p, dests[i], "no such file"]
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
    if required is not None and required not in names:
        right = False if right is True else right
        wrong.append(required)
    clash = _output_clash(command, opts)
    if clash:  # two outputs at one path, or one inside an output file: refused before anything is written
        right = False if right is True else right
        wrong += clash
    if right is not None:  # wrong too: a rule checked after loading a file may come before another file's errors
        try:
            ok, named = _combinations_right(command, opts, positionals)
        except (ValueError, KeyError, IndexError):  # a wrong or missing value the rules cannot read: wrong already
            ok, named = True, []
        if not ok:
            right, wrong = False, (named if right else [*wrong, *named])
    if wrong_only and right is not False:
        argv.append("--seed=-1" if "--seed" in spec and "--seed" not in opts else "--no-such-option")
        right, wrong = False, [*wrong, "--seed", "--no-such-option"]
    return Vector(argv, right, wrong, opts)


# An input-output table of two sectors (with households: --type II), without households, and regional totals
IO_TABLE = {"name": "tiny", "currency": "EUR", "unit": 1000000, "sectors": ["C24", "A01"], "intermediate": [[10, 5], [4, 20]],
            "output": [100, 80], "value_added": [50, 40], "employment": [30, 60],
            "households": {"wages": [30, 20], "consumption": [10, 25]}}
REGION_TOTALS = {"region": "north", "measure": "employment", "totals": {"C24": 5, "A01": 3}}
# Ledgers of the actors of s.yaml (smelter 100000105, greenhouse 100041588: fictitious numbers with a right check digit),
# one ;-separated; led_bad.csv has a malformed row (right only with --skip-invalid); map_other.csv maps to no actor of s.yaml
HEADER = "firm_orgnr,counterpart_orgnr,counterpart_name,amount,year,kind\n"
LEDGER_FILES = {
    "led_a.csv": HEADER + "100000105,100041588,Greenhouse AS,500000,2024,customer\n100000105,100155656,Kraft AS,900000,2024,supplier\n",
    "led_b.csv": HEADER.replace(",", ";") + "100041588;100000105;Smelter AS;500000;2024;supplier\n"
                                           "100041588;100186764;Pakk AS;20000;2023;supplier\n",
    "led_bad.csv": HEADER + "100000105,100041588,Greenhouse AS,500000,2024,customer\n100000105,100114179,X AS,,20x4,purchase\n",
    "map_actors.csv": "orgnr,actor,role\n100000105,smelter,site\n100041588,greenhouse,site\n",
    "map_other.csv": "orgnr,actor\n100000105,elkem\n",
    "map_sectors.csv": "orgnr,sector\n100155656,D35\n100186764,C22\n",
}


@pytest.fixture(scope="module")
def workspace_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_workspace(tmp_path_factory.mktemp("fuzz") / "template")
    (root / "io.yaml").write_text(yaml.safe_dump(IO_TABLE, sort_keys=False))
    (root / "io_nohh.yaml").write_text(yaml.safe_dump({k: v for k, v in IO_TABLE.items() if k != "households"}, sort_keys=False))
    (root / "region.yaml").write_text(yaml.safe_dump(REGION_TOTALS, sort_keys=False))
    for name, text in LEDGER_FILES.items():
        (root / name).write_text(text)
    from symbiosim.ripple.ledgers import import_ledgers  # the DuckDB file `ledgers --db` writes, for --ledgers
    from symbiosim.scenario import load_scenario

    import_ledgers([root / "led_a.csv", root / "led_b.csv"], load_scenario(root / "s.yaml"), actor_map=root / "map_actors.csv",
                   sector_map=root / "map_sectors.csv", db=root / "led.duckdb")
    return root


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


def _run_main(argv: list[str], cwd: Path) -> Outcome:
    """``run_main`` with ``without``'s solve stubbed too (it calls the planner it bound when imported)."""

    def region_without(*args: Any, **kwargs: Any) -> Any:
        raise Solved("region_without")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(symbiosim.decide.without, "region_without", region_without)
        return run_main(argv, cwd)


def check_in_process(v: Vector, ws: Path) -> None:
    before = snapshot(ws)
    t0 = time.perf_counter()
    r = _run_main(v.argv, ws)
    seconds = time.perf_counter() - t0
    assert r.error is None, f"{v}: an exception escaped main:\n{r.stderr}"
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, f"{v}:\n{r.stderr}"
    assert r.solved is not None or r.code in (0, 1, 2), f"{v}: exit code {r.code}"
    assert seconds < IN_PROCESS_SECONDS, f"{v}: {seconds:.1f} s"
    command = next(a for a in v.argv if a != "-v")
    event(f"{command} {({True: 'right', False: 'wrong', None: 'unknown'})[v.right]}: {r.solved or r.code}")
    if r.code == 2 or (r.solved is not None and command not in WRITES_BEFORE_SOLVING):
        assert snapshot(ws) == before, f"{v}: wrote files before solving or on an argument error"
    if v.right is False:
        assert r.code == 2, f"{v}: wrong arguments, exit {r.code}, solved {r.solved}:\n{r.stderr}"
        assert any(w in r.stderr for w in v.wrong if w), f"{v}: the message names none of {v.wrong}:\n{r.stderr}"
    elif v.right is True:
        if _solves(command, v.options):
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


# ---------------------------------------------------------------- CLI bugs the fuzzer found (fixed)


def test_ledgers_refuses_db_and_out_at_one_path_before_writing(workspace_template: Path, tmp_path: Path) -> None:
    """Found by the fuzzer: ledgers --db new --out new wrote the DuckDB file, then exited 2 with "File exists"."""
    ws = Path(shutil.copytree(workspace_template, tmp_path / "ws"))
    before = snapshot(ws)
    r = _run_main(["ledgers", "led_a.csv", "--scenario", "s.yaml", "--db", "new", "--out", "new", "--material", "links"], ws)
    assert r.code == 2 and "--out" in r.stderr, r.stderr
    assert snapshot(ws) == before
