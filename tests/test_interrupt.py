"""Stopping an experiment: SIGTERM (a plain ``kill``), Ctrl-C and ``kill -9``.

Each end-to-end test starts the real ``symbiosim experiment`` command on a
tiny scenario, waits until its progress line reports some stored runs, sends
the signal, and checks that the command ends within seconds, that every
process it started (pool workers, the multiprocessing resource tracker, Dask
worker processes) is gone, that the database holds only whole runs, and
that rerunning the same command finishes the batch with every run once.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from symbiosim.experiments import runner as runner_mod
from symbiosim.experiments.runner import ExperimentInterrupted, _Interrupts, _write
from symbiosim.store import ResultsStore
from tests.tiny import HEAT_LINK, build

psutil = pytest.importorskip("psutil")  # a dependency of distributed

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals and process groups")

EXE = Path(sys.executable).parent / "symbiosim"
UNCERTAINTY = [
    {"target": "purchases[product=gas].price", "dist": "uniform", "low": 0.5, "high": 1.5},
    {"target": "settings.discount_rate", "dist": "uniform", "low": 0.0, "high": 0.1, "as": "value"},
]
SAMPLES = 24  # about 4 runs/s at 2 workers: the signal lands with most of the batch to go
PROGRESS = re.compile(r"runs (\d+)/(\d+)")


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("interrupt") / "heat.yaml"
    s = build(HEAT_LINK, uncertainty=UNCERTAINTY)
    path.write_text(yaml.safe_dump(s.model_dump(by_alias=True, exclude_none=True, mode="json")))
    return path


@pytest.fixture(scope="module")
def cli_maps_interrupts(scenario_file, tmp_path_factory) -> bool:
    """Whether ``main()`` turns ExperimentInterrupted into its exit code (see
    test_the_cli_exits_with_128_plus_the_signal); until it does, the
    exception ends the command with a traceback and exit code 1."""
    import contextlib
    import io
    from unittest import mock

    from symbiosim.cli import main
    from symbiosim.experiments import cli as experiments_cli

    def interrupted(exp, db, **kwargs):
        raise ExperimentInterrupted(signal.SIGTERM, 0, 1, Path(db))

    out = tmp_path_factory.mktemp("probe") / "p.duckdb"
    with mock.patch.object(experiments_cli, "run_experiment", interrupted), contextlib.redirect_stderr(io.StringIO()):
        try:
            return main(["experiment", str(scenario_file), "--samples", "1", "--out", str(out)]) == 143
        except ExperimentInterrupted:
            return False


def _command(scenario: Path, db: Path, parallel: list[str]) -> list[str]:
    return [str(EXE), "experiment", str(scenario), "--samples", str(SAMPLES), "--chunk", "1", "--seed", "3", "--out", str(db), *parallel]


class _Running:
    """The command in a session of its own (its own process group, like a
    job in a terminal), with stderr read as it comes."""

    def __init__(self, cmd: list[str]) -> None:
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        self.err = b""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        while chunk := self.proc.stderr.read1(4096):  # type: ignore[attr-defined]
            self.err += chunk

    def stored(self) -> int:
        found = PROGRESS.findall(self.err.decode(errors="replace"))
        return int(found[-1][0]) if found else 0

    def wait_for_runs(self, n: int, timeout: float = 90.0) -> int:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                pytest.fail(f"the command ended before the signal: {self.err.decode(errors='replace')[-2000:]}")
            if (k := self.stored()) >= n:
                return k
            time.sleep(0.02)
        pytest.fail(f"no {n} runs stored in {timeout} s: {self.err.decode(errors='replace')[-2000:]}")

    def stderr(self) -> str:
        self.reader.join(5)
        return self.err.decode(errors="replace")


def _gone(p) -> bool:
    try:
        return p.status() == psutil.STATUS_ZOMBIE  # ended; reaped by whoever adopted it
    except psutil.NoSuchProcess:
        return True


def _stop(run: _Running, signum: int, *, group: bool) -> tuple[list, float, float]:
    """Send the signal; return the processes the command had started, the
    seconds until the command ended and until all of them were gone."""
    children = psutil.Process(run.proc.pid).children(recursive=True)
    assert children, "the command started no worker processes"
    t0 = time.monotonic()
    (os.killpg if group else os.kill)(run.proc.pid, signum)
    try:
        run.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(run.proc.pid, signal.SIGKILL)
        pytest.fail("the command did not end within 30 s of the signal")
    ended = time.monotonic() - t0
    while not all(_gone(p) for p in children) and time.monotonic() - t0 < ended + 10:
        time.sleep(0.01)
    alive = [p for p in children if not _gone(p)]
    for p in alive:  # do not leave them behind for the next test
        p.kill()
    assert not alive, f"still running after the command ended: {[' '.join(p.cmdline())[:100] for p in alive]}"
    return children, ended, time.monotonic() - t0


def _whole_runs(db: Path) -> pd.DataFrame:
    """The ``runs`` table, after checking that every stored run has all its rows and nothing else is there."""
    with ResultsStore(db, read_only=True) as store:
        tables = set(store.tables())
        assert {"manifest", "design"} <= tables
        if "runs" not in tables:
            assert not {"kpis", "actors"} & tables
            return pd.DataFrame(columns=["run_id", "status"])
        runs, kpis, actors = store.read("runs"), store.read("kpis"), store.read("actors")
        design = store.read("design")
    assert runs.run_id.is_unique and set(runs.run_id) <= set(design.run_id)
    assert (runs.status == "ok").all(), runs[runs.status != "ok"].error.tolist()
    assert set(kpis.run_id) == set(runs.run_id) and set(actors.run_id) == set(runs.run_id)  # no rows of unfinished runs
    assert not kpis.duplicated(["run_id", "source", "kpi"]).any() and not actors.duplicated(["run_id", "actor"]).any()
    per_run = kpis.groupby("run_id").size()
    assert per_run.nunique() == 1 and per_run.iloc[0] == 3 * kpis.kpi.nunique()  # baseline, decentralised, optimum
    assert (actors.groupby("run_id").size() == actors.actor.nunique()).all()
    return runs


def _interrupt_and_resume(
    tmp_path: Path, scenario: Path, signum: int, *, group: bool, parallel: list[str], within: float, cli_maps: bool
) -> None:
    db = tmp_path / "e.duckdb"
    cmd = _command(scenario, db, parallel)
    run = _Running(cmd)
    seen = run.wait_for_runs(4)
    children, ended, all_gone = _stop(run, signum, group=group)
    err = run.stderr()
    print(f"{signal.Signals(signum).name} {'group' if group else 'parent'} {parallel}: command ended after {ended:.2f} s, "
          f"all {len(children)} processes gone after {all_gone:.2f} s")
    assert ended < within and all_gone < within + 1, err[-3000:]
    stored = re.search(rf"interrupted \({signal.Signals(signum).name}\): (\d+) of {SAMPLES} runs stored in .*; rerun the same command to resume", err)
    assert stored, err[-3000:]
    assert run.proc.returncode == (128 + signum if cli_maps else 1), err[-3000:]

    runs = _whole_runs(db)
    assert seen <= len(runs) == int(stored.group(1)) < SAMPLES  # what the progress line reported is stored

    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"{SAMPLES} runs ({len(runs)} already done, {SAMPLES - len(runs)} run now), 0 failed" in again.stdout
    final = _whole_runs(db)
    assert sorted(final.run_id) == list(range(SAMPLES))  # every run exactly once
    pd.testing.assert_frame_equal(  # the runs stored before the signal are untouched
        final[final.run_id.isin(runs.run_id)].drop(columns="seconds").sort_values("run_id").reset_index(drop=True),
        runs.drop(columns="seconds").sort_values("run_id").reset_index(drop=True),
    )


# ---- the command, end to end ---------------------------------------------


def test_sigterm_stops_the_pool_workers_and_the_batch_resumes(tmp_path, scenario_file, cli_maps_interrupts):
    """``kill PID``: only the parent gets the signal; it terminates its workers."""
    _interrupt_and_resume(tmp_path, scenario_file, signal.SIGTERM, group=False, parallel=["--jobs", "2"], within=5.0, cli_maps=cli_maps_interrupts)


def test_ctrl_c_stops_the_pool_workers_and_the_batch_resumes(tmp_path, scenario_file, cli_maps_interrupts):
    """Ctrl-C in a terminal: SIGINT to the whole process group (workers ignore it, the parent stops them)."""
    _interrupt_and_resume(tmp_path, scenario_file, signal.SIGINT, group=True, parallel=["--jobs", "2"], within=5.0, cli_maps=cli_maps_interrupts)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
def test_kill_9_of_the_parent_ends_the_workers_and_leaves_whole_runs(tmp_path, scenario_file):
    """No handler runs on SIGKILL: the kernel ends the workers (PDEATHSIG) and
    DuckDB's atomic commits leave only whole runs (a task's rows in one transaction)."""
    db = tmp_path / "k.duckdb"
    run = _Running(_command(scenario_file, db, ["--jobs", "2"]))
    seen = run.wait_for_runs(4)
    _, ended, all_gone = _stop(run, signal.SIGKILL, group=False)
    print(f"SIGKILL parent: all processes gone after {all_gone:.2f} s")
    assert all_gone < 3.0
    assert run.proc.returncode == -signal.SIGKILL
    assert len(_whole_runs(db)) >= seen


@pytest.mark.slow
@pytest.mark.parametrize("signum, group", [(signal.SIGTERM, False), (signal.SIGINT, True)], ids=["sigterm", "ctrl-c"])
def test_an_interrupted_dask_local_cluster_stops_and_the_batch_resumes(tmp_path, scenario_file, signum, group, cli_maps_interrupts):
    pytest.importorskip("dask.distributed")
    _interrupt_and_resume(tmp_path, scenario_file, signum, group=group, parallel=["--dask", "local", "--workers", "2"], within=8.0,
                          cli_maps=cli_maps_interrupts)


# ---- the pieces -----------------------------------------------------------


def test_a_task_is_written_in_one_transaction(tmp_path):
    """A task's kpis, actors and runs rows commit together: when the runs rows
    cannot be written, the kpis and actors rows of the same task are not there either."""
    db = tmp_path / "w.duckdb"
    kpis = pd.DataFrame({"run_id": [0, 0], "source": ["optimum", "baseline"], "kpi": ["cluster_npv"] * 2, "value": [1.0, 0.0]})
    actors = pd.DataFrame({"run_id": [0], "actor": ["a"], "standalone": [0.0], "decentralised": [0.0], "coordinated": [1.0], "below_standalone": [False]})
    runs = pd.DataFrame([runner_mod._run_row(0, "ok", "", 0.1, {"gap": 1.0})])
    with ResultsStore(db) as store:
        assert _write(store, {"kpis": kpis, "actors": actors, "runs": runs}) == (1, 0)
        bad = runs.assign(run_id=1).rename(columns={"gap": "no_such_column"})
        with pytest.raises(Exception, match="no_such_column"):
            _write(store, {"kpis": kpis.assign(run_id=1), "actors": actors.assign(run_id=1), "runs": bad})
        assert store.read("kpis").run_id.tolist() == [0, 0]
        assert store.read("actors").run_id.tolist() == [0]
        assert store.read("runs").run_id.tolist() == [0]
        _write(store, {"kpis": kpis.assign(run_id=2), "actors": actors.assign(run_id=2), "runs": runs.assign(run_id=2)})  # the store still works
        assert sorted(store.read("runs").run_id) == [0, 2]


def test_a_signal_during_a_write_waits_for_the_write():
    """SIGTERM raises KeyboardInterrupt in the main thread, but not inside
    ``deferred()``: there it is held until the block ends. The handlers in
    place before are restored afterwards."""
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    steps = []
    with pytest.raises(KeyboardInterrupt), _Interrupts() as interrupts:
        assert signal.getsignal(signal.SIGTERM) == interrupts._handle  # else the kill below would end pytest
        with interrupts.deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # the handler has run by now
            steps.append("write finished")
        steps.append("not reached")
    assert steps == ["write finished"] and interrupts.signum == signal.SIGTERM
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
    with pytest.raises(KeyboardInterrupt), _Interrupts() as interrupts:
        assert signal.getsignal(signal.SIGTERM) == interrupts._handle
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)
        steps.append("not reached")
    assert steps == ["write finished"]


def test_a_signal_while_a_pool_is_fed_is_raised_at_the_next_safe_point():
    """Inside ``Interrupts.held()`` (the pool loop: submit and wait take the
    executor's locks) a signal only sets a flag; ``check()`` raises it. The
    CI hang this prevents: KeyboardInterrupt raised just after ``submit``
    took the executor's non-reentrant shutdown lock, so stopping the pool
    waited for that lock forever. Without an active ``Interrupts`` the block
    changes nothing."""
    from symbiosim.parallel import Interrupts

    steps = []
    with pytest.raises(KeyboardInterrupt), _Interrupts(), Interrupts.held() as check:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)  # the handler has run by now
        steps.append("inside the pool's lock")
        check()
        steps.append("not reached")
    assert steps == ["inside the pool's lock"]
    assert Interrupts.active is None  # the outer state is restored
    with Interrupts.held() as check:
        check()  # nothing held, nothing active: a no-op

def test_an_interrupted_run_says_how_to_resume(tmp_path, monkeypatch):
    """In process (one job): an interrupt inside a run becomes ExperimentInterrupted
    (still a KeyboardInterrupt) naming what is stored; exit codes 130 / 143."""
    from symbiosim.experiments.runner import Experiment, run_experiment

    real, calls = runner_mod.simulate, {"n": 0}

    def stops(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(runner_mod, "simulate", stops)
    exp = Experiment(build(HEAT_LINK, uncertainty=UNCERTAINTY), 4, seed=1)
    with pytest.raises(ExperimentInterrupted) as info:
        run_experiment(exp, tmp_path / "i.duckdb", chunk=1)
    assert isinstance(info.value, KeyboardInterrupt)
    assert (info.value.stored, info.value.total, info.value.exit_code) == (2, 4, 130)
    assert str(info.value) == f"interrupted (SIGINT): 2 of 4 runs stored in {tmp_path / 'i.duckdb'}; rerun the same command to resume"
    assert ExperimentInterrupted(signal.SIGTERM, 0, 1, tmp_path).exit_code == 143
    assert len(_whole_runs(tmp_path / "i.duckdb")) == 2


def test_the_cli_exits_with_128_plus_the_signal(tmp_path, scenario_file, monkeypatch, capsys):
    from symbiosim.cli import main
    from symbiosim.experiments import cli as experiments_cli

    def interrupted(exp, db, **kwargs):
        raise ExperimentInterrupted(signal.SIGTERM, 3, 30, Path(db))

    monkeypatch.setattr(experiments_cli, "run_experiment", interrupted)
    try:
        code = main(["experiment", str(scenario_file), "--samples", "30", "--out", str(tmp_path / "c.duckdb")])
    except ExperimentInterrupted:  # a KeyboardInterrupt escaping a test would stop the whole session
        pytest.fail("ExperimentInterrupted passed through main()")
    assert code == 143
    assert "interrupted (SIGTERM): 3 of 30 runs stored" in capsys.readouterr().err
