"""Argument types of the command line: every value is checked when it is parsed.

Each function here is an ``argparse`` ``type=``: it returns the converted
value or raises ``argparse.ArgumentTypeError``, which argparse reports as
``symbiosim <command>: error: argument --option: <message>`` with exit code 2,
before anything is solved or written. None of them writes anything: output
paths are only checked (a directory must be one or be creatable, a DuckDB
file must be one or be new).

Checks that need two options (``check_combinations``) or the scenario
(``check_players``, ``check_region``) raise ``ArgumentProblem``, which
``symbiosim.cli.main`` reports the same way.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, overload

MAX_SEED = 2**63 - 1  # seeds are stored as 64-bit integers (DuckDB, Parquet)
MAX_COUNT = 10**6  # counts (samples, seeds, points, ...): lists of this length must fit in memory
MAX_RUNS = 10**7  # samples x replications of an experiment (design rows per arm)
MAX_PARALLEL = 256  # threads and worker processes (HiGHS with 100,000 threads never returns)
SHARE_MAX = 1.0  # instruments that are shares (investment_subsidy)
SHARE_INSTRUMENTS = ("investment_subsidy",)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
_DASK = re.compile(r"^(?:[a-z][a-z0-9+.\-]*://)?[A-Za-z0-9_.\-\[\]:]+(?:/\S*)?$")


class ArgumentProblem(Exception):
    """An argument that is wrong only together with another one or with the scenario."""

    def __init__(self, option: str, message: str) -> None:
        self.option = option
        self.message = message
        super().__init__(f"argument {option}: {message}")


class LibraryChoices(Sequence[str]):
    """A library's own list of names for ``choices=``, imported only when first needed
    (``symbiosim --help`` stays fast; Pyomo takes a second to import)."""

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name
        self._names: tuple[str, ...] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        if self._names is None:
            self._names = tuple(str(n) for n in getattr(importlib.import_module(self.module), self.name))
        return self._names

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[str]: ...
    def __getitem__(self, i: int | slice) -> str | Sequence[str]:
        return self.names[i]

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __contains__(self, value: object) -> bool:
        return value in self.names

    def __repr__(self) -> str:
        return f"LibraryChoices({self.module}.{self.name})"


OBJECTIVES = LibraryChoices("symbiosim.planner.build", "OBJECTIVES")  # planner objectives
KEY_FIGURES = LibraryChoices("symbiosim.planner.build", "MAXIMISE")  # names allowed in --weights
PARETO_OBJECTIVES = LibraryChoices("symbiosim.decide.session", "OBJECTIVE_NAMES")
INSTRUMENTS = LibraryChoices("symbiosim.compare.incentives", "INSTRUMENTS")
METHODS = LibraryChoices("symbiosim.experiments.design", "METHODS")
ALT_METHODS = LibraryChoices("symbiosim.decide.alternatives", "METHODS")  # alternatives --method
FORMATS = LibraryChoices("symbiosim.report.outputs", "TABLE_FORMATS")  # table formats of --out


def _named(name: str, parse: Callable[[str], Any]) -> Callable[[str], Any]:
    parse.__name__ = name  # argparse names the type in some messages
    return parse


def _fail(message: str) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(message)


# ---------------------------------------------------------------- numbers


def size(text: str) -> int:
    """``--max-size``: bytes, or with k/M/G (powers of 1024)."""
    from symbiosim.scenario.load import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise _fail(str(exc)) from None



def integer(low: int, high: int, note: str = "") -> Callable[[str], int]:
    """An integer in [low, high]; ``note`` says what it is in messages."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except (TypeError, ValueError):
            raise _fail(f"expected an integer >= {low}{note}, got {text!r}") from None
        if value < low:
            raise _fail(f"expected an integer >= {low}{note}, got {value}")
        if value > high:
            raise _fail(f"expected an integer of at most {high}{note}, got {text}")
        return value

    return _named("integer", parse)


def number(
    low: float | None = None, high: float | None = None, *, low_open: bool = False, high_open: bool = False
) -> Callable[[str], float]:
    """A finite number in the interval given (open or closed at each end)."""
    lo = "" if low is None else f"{'(' if low_open else '['}{low:g}"
    hi = "" if high is None else f"{high:g}{')' if high_open else ']'}"
    if low is not None and high is not None:
        expected = f"a number in {lo}, {hi}"
    elif low is not None:
        expected = f"a number {'>' if low_open else '>='} {low:g}"
    elif high is not None:
        expected = f"a number {'<' if high_open else '<='} {high:g}"
    else:
        expected = "a finite number"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except (TypeError, ValueError):
            raise _fail(f"expected {expected}, got {text!r}") from None
        if not math.isfinite(value):
            raise _fail(f"expected {expected}, got {text!r} (not a finite number)")
        if low is not None and (value < low or (low_open and value == low)):
            raise _fail(f"expected {expected}, got {text}")
        if high is not None and (value > high or (high_open and value == high)):
            raise _fail(f"expected {expected}, got {text}")
        return value

    return _named("number", parse)


seed = integer(0, MAX_SEED, " (a seed)")
count = integer(1, MAX_COUNT)
parallel = integer(1, MAX_PARALLEL)
points = integer(2, MAX_COUNT, " (the two anchors included)")
mip_gap = number(0.0)
seconds = number(0.0, low_open=True)
share = number(0.0, 1.0)
slack = number(0.0)
perturb = number(0.0, 1.0, high_open=True)
level = number(0.0)
upper = number(0.0, low_open=True)
generations = integer(1, 50, " (ABC-SMC generations)")
weight = number(0.0)


# ---------------------------------------------------------------- lists and names


def _parts(text: str, what: str) -> list[str]:
    parts = [p.strip() for p in text.split(",")]
    if not text.strip() or any(not p for p in parts):
        raise _fail(f"expected {what} separated by commas, got {text!r}")
    return parts


def names(text: str) -> list[str]:
    """Comma-separated names, each once."""
    parts = _parts(text, "names")
    twice = sorted({p for p in parts if parts.count(p) > 1})
    if twice:
        raise _fail(f"each name once, got {', '.join(twice)} more than once")
    return parts


def weights(text: str) -> dict[str, float]:
    """``name=number,...``: key figures of the planner with finite weights."""
    out: dict[str, float] = {}
    for part in _parts(text, "name=number pairs"):
        key, eq, value = part.partition("=")
        key = key.strip()
        if not eq or not key:
            raise _fail(f"expected name=number,..., got {part!r}")
        if key not in KEY_FIGURES:
            raise _fail(f"unknown key figure {key!r}: expected one of {', '.join(KEY_FIGURES)}")
        if key in out:
            raise _fail(f"{key} given twice")
        try:
            w = float(value)
        except ValueError:
            raise _fail(f"expected name=number,..., got {part!r}") from None
        if not math.isfinite(w):
            raise _fail(f"weight of {key}: expected a finite number, got {value.strip()!r}")
        out[key] = w
    return out


def as_weights(value: str | dict[str, float] | None) -> dict[str, float] | None:
    """``--weights`` as a dict, whether the parser converted it already or a caller passed the text.

    Raises:
        ArgumentProblem: naming ``--weights``.
    """
    if not value:
        return None
    if isinstance(value, dict):
        return value
    try:
        return weights(value)
    except argparse.ArgumentTypeError as exc:
        raise ArgumentProblem("--weights", str(exc)) from None


def objective_pair(text: str) -> tuple[str, str]:
    """Two different objectives of the Pareto front, e.g. ``cluster_npv,emissions``."""
    from symbiosim.decide.pareto import parse_objectives  # the library's own check

    try:
        return parse_objectives(_parts(text, "two objectives"))
    except ValueError as exc:
        raise _fail(str(exc)) from None


def levels(text: str) -> list[float]:
    """Comma-separated instrument levels (finite numbers >= 0)."""
    out = []
    for part in _parts(text, "numbers"):
        try:
            value = float(part)
        except ValueError:
            raise _fail(f"expected numbers >= 0 separated by commas, got {part!r}") from None
        if not math.isfinite(value) or value < 0:
            raise _fail(f"expected numbers >= 0 separated by commas, got {part!r}")
        out.append(value)
    return out


def experiment_name(text: str) -> str:
    """A name that is also a file name (``results/<name>.duckdb``)."""
    if not _NAME.match(text):
        raise _fail(f"expected up to 100 letters, digits, _ . - (starting with a letter or digit), got {text!r}")
    return text


def text(value: str) -> str:
    """Any non-empty text."""
    if not value.strip():
        raise _fail("expected a non-empty value")
    return value


def dask_address(text: str) -> str:
    """``local`` or a scheduler address such as ``tcp://host:8786``."""
    if text != "local" and not _DASK.match(text):
        raise _fail(f"expected 'local' or a scheduler address such as tcp://host:8786, got {text!r}")
    return text


# ---------------------------------------------------------------- paths (checked, never created)


def _stat_problem(path: Path) -> tuple[bool, str | None]:
    """(exists, problem reading it)."""
    try:
        path.stat()
    except FileNotFoundError:
        return False, None
    except NotADirectoryError:
        return False, f"{path}: a parent is not a directory"
    except (OSError, ValueError) as exc:
        return False, f"{path}: {getattr(exc, 'strerror', None) or exc}"
    return True, None


def _creatable(path: Path) -> str | None:
    """Why a missing ``path`` could not be created (None if it could)."""
    parent = path.absolute().parent
    while True:
        exists, problem = _stat_problem(parent)
        if problem:
            return problem
        if exists:
            break
        parent = parent.parent
    if not parent.is_dir():
        return f"cannot create {path}: {parent} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot create {path}: {parent} is not writable"
    return None


def _path(text: str) -> Path:
    if not text or not text.strip():
        raise _fail("expected a path, got an empty value")
    if "\0" in text:
        raise _fail(f"expected a path, got {text!r} (a NUL character)")
    return Path(text)


def output_dir_problem(path: Path) -> str | None:
    """Why ``path`` cannot be an output directory (None if it can: it is one, or can be created)."""
    exists, problem = _stat_problem(path)
    if problem:
        return problem
    if exists:
        if not path.is_dir():
            return f"{path} exists and is not a directory"
        if not os.access(path, os.W_OK | os.X_OK):
            return f"{path} is not writable"
        return None
    return _creatable(path)


def output_dir(text: str) -> str:
    """A directory to write into: an existing writable one, or one that can be created."""
    problem = output_dir_problem(_path(text))
    if problem:
        raise _fail(problem)
    return text


def output_file(*suffixes: str) -> Callable[[str], str]:
    """A file to write (with one of ``suffixes``) in an existing directory; not a directory."""

    def parse(text: str) -> str:
        path = _path(text)
        if suffixes and path.suffix.lower() not in suffixes:
            raise _fail(f"expected a file name ending in {' or '.join(suffixes)}, got {text!r}")
        exists, problem = _stat_problem(path)
        if problem:
            raise _fail(problem)
        if exists and path.is_dir():
            raise _fail(f"{path} is a directory")
        parent = path.absolute().parent
        if not parent.is_dir():
            raise _fail(f"directory {path.parent} does not exist")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise _fail(f"directory {path.parent} is not writable")
        return text

    return _named("file", parse)


def input_file(text: str) -> str:
    """An existing, readable file."""
    path = _path(text)
    exists, problem = _stat_problem(path)
    if problem:
        raise _fail(problem)
    if not exists:
        raise _fail(f"no such file: {path}")
    if not path.is_file():
        raise _fail(f"{path} is not a file")
    if not os.access(path, os.R_OK):
        raise _fail(f"{path} is not readable")
    return text


def history_file(text: str) -> str:
    """``--history``: an existing, readable YAML file (contract v1.1; its rows are checked
    against the scenario by ``load_history``)."""
    path = _path(text)
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise _fail(f"expected a history file ending in .yaml or .yml, got {text!r}")
    return input_file(text)


def priors_file(text: str) -> str:
    """``calibrate --priors``: an existing, readable YAML file (its rules are checked by
    ``symbiosim.calibrate.load_priors``)."""
    path = _path(text)
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise _fail(f"expected a priors file ending in .yaml or .yml, got {text!r}")
    return input_file(text)


def store_problem(path: Path, *, must_exist: bool = False) -> str | None:
    """Why ``path`` cannot be a DuckDB results store (None if it can: a DuckDB file, or new)."""
    from symbiosim.store import is_duckdb_file

    exists, problem = _stat_problem(path)
    if problem:
        return problem
    if not exists:
        return f"no such database: {path}" if must_exist else _creatable(path)
    if not path.is_file():
        return f"{path} is not a file"
    if not os.access(path, os.R_OK) or (not must_exist and not os.access(path, os.W_OK)):
        return f"{path} is not {'readable' if must_exist else 'writable'}"
    if not is_duckdb_file(path):
        return f"{path} exists and is not a DuckDB database (choose a new file name)"
    return None


def store_path(text: str) -> str:
    """A DuckDB file to write: an existing DuckDB database or a new file."""
    problem = store_problem(_path(text))
    if problem:
        raise _fail(problem)
    return text


def existing_store(text: str) -> str:
    """An existing DuckDB database."""
    problem = store_problem(_path(text), must_exist=True)
    if problem:
        raise _fail(problem)
    return text


# ---------------------------------------------------------------- combinations and the scenario


def check_combinations(args: argparse.Namespace) -> None:
    """Options that are wrong together; fills the defaults that depend on others.

    Raises:
        ArgumentProblem: naming the option.
    """
    command = getattr(args, "command", None)
    _check_distinct_outputs(args)
    if command in ("plan", "alternatives"):
        if args.objective == "weighted" and not args.weights:
            raise ArgumentProblem("--weights", "--objective weighted needs --weights, e.g. cluster_npv=1,emissions=-500")
        if args.weights and args.objective != "weighted":
            raise ArgumentProblem("--weights", f"only used with --objective weighted (the objective is {args.objective})")
    elif command == "incentives":
        if args.levels is not None:
            if args.upper is not None:
                raise ArgumentProblem("--upper", "the first upper level of the search: not used with --levels")
            if args.target is not None:
                raise ArgumentProblem("--target", "the target of the search: not used with --levels")
        if args.instrument in SHARE_INSTRUMENTS:
            if args.upper is not None and args.upper > SHARE_MAX:
                raise ArgumentProblem("--upper", f"{args.instrument} is a share: expected at most 1, got {args.upper:g}")
            high = [x for x in args.levels or [] if x > SHARE_MAX]
            if high:
                raise ArgumentProblem("--levels", f"{args.instrument} is a share: expected levels of at most 1, got {high[0]:g}")
        if args.instrument == "facilitator":
            if args.upper is not None:
                raise ArgumentProblem("--upper", "facilitator is on or off: no search range")
            odd = [x for x in args.levels or [] if x not in (0.0, 1.0)]
            if odd:
                raise ArgumentProblem("--levels", f"facilitator is off (0) or on (1), got {odd[0]:g}")
        if args.seed + args.seeds - 1 > MAX_SEED:
            raise ArgumentProblem("--seed", f"seeds --seed .. --seed + --seeds - 1 must be at most {MAX_SEED}")
        if args.target is None:
            args.target = 0.8
    elif command in ("calibrate", "experiment"):
        if command == "experiment" and args.samples * args.replications > MAX_RUNS:
            raise ArgumentProblem("--replications", f"--samples x --replications must be at most {MAX_RUNS:,} runs per arm")
        if args.workers is not None and args.dask != "local":
            raise ArgumentProblem("--workers", "the workers of --dask local: not used without it (use --jobs)")
        # defaults filled only now: argparse misses "--jobs 1 --dask local" when 1 is --jobs' default
        if args.jobs is None:
            args.jobs = 1
        if args.workers is None:
            args.workers = 2


# options that name a file or directory a command writes: two of them at one path would have the
# second write fail after the first (a DuckDB file where a directory should go, or the reverse)
OUTPUT_OPTIONS = ("out", "db", "store", "parquet", "save_lp")


def _check_distinct_outputs(args: argparse.Namespace) -> None:
    """No two outputs at one path, and none under an output that is a file (a DuckDB store, an LP file)."""
    files = {"db", "store", "save_lp"} | ({"out"} if getattr(args, "command", None) == "experiment" else set())
    given: list[tuple[str, str, Path]] = []
    for name in OUTPUT_OPTIONS:
        value = getattr(args, name, None)
        if isinstance(value, str) and value:
            given.append((name, value, Path(value).expanduser().resolve()))
    for i, (name, value, path) in enumerate(given):
        for other, _, other_path in given[:i]:
            if path == other_path:
                raise ArgumentProblem(f"--{name.replace('_', '-')}", f"{value} is the same path as "
                                      f"--{other.replace('_', '-')}: give each output its own path")
        for other, _, other_path in given:
            if other != name and other in files and other_path in path.parents:
                raise ArgumentProblem(f"--{name.replace('_', '-')}", f"{value} is inside the file of "
                                      f"--{other.replace('_', '-')}: give each output its own path")


def check_players(players: Iterable[str] | None, actors: Iterable[str]) -> None:
    """``--players`` must be actors of the scenario."""
    if players is None:
        return
    known = list(actors)
    unknown = [p for p in players if p not in known]
    if unknown:
        raise ArgumentProblem(
            "--players", f"not an actor of the scenario: {', '.join(unknown)}; actors: {', '.join(known)}"
        )


def check_region(region: str | None, regions: Iterable[str | None]) -> None:
    """``--region`` must be the region of an actor (of the base or added by a case)."""
    if region is None:
        return
    known = sorted({r for r in regions if r})
    if region not in known:
        raise ArgumentProblem("--region", f"no actor is in region {region!r}; regions: {', '.join(known) or '(none set)'}")
