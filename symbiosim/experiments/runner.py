"""Run an experiment's design and stream the results into a DuckDB store.

Per sample (in the task that holds it): the sample is applied to the scenario
(``design.apply_sample``), and the reference world (the sampled scenario with
its own policies, no arm) gets its baseline and coordinated optimum: the
*ruler*, as in ``compare/incentives.py`` (taxes and subsidies are transfers,
so every arm is valued at the scenario's own prices). Per sample and arm: the
arm's baseline (the firms' stand-alone plans under the arm's policies; the
reference baseline when the arm adds no policy). Per run (replication): the
simulator with the run's seed, then the figures:

* ``share_of_potential`` = (decentralised - baseline) / (optimum - baseline),
  cluster NPV at the ruler; ``gap`` = optimum - decentralised (money);
* ``public_cost`` = subsidies paid - taxes collected under the arm (absolute;
  paired arm differences against ``none`` give the cost of a policy);
* ``emissions`` of the decentralised run; ``actors_below_standalone`` = actors
  whose profit under the arm is below their stand-alone profit under the arm;
* ``optimum_gap`` = the solver's bound minus the optimum found (money): the
  optimum is solved to the experiment's relative ``mip_gap`` (default 1e-3),
  so the true potential is at most this much larger.

Tables (tidy; one file per experiment):

* ``manifest`` one row: experiment, scenario path and hash (sha256 of the
  validated scenario), package version, root seed, method, samples,
  replications, arms and inputs (JSON), created / updated timestamps;
* ``design`` one row per run (see ``design.py``);
* ``kpis`` run_id, source (baseline | decentralised | optimum), kpi, value;
* ``actors`` run_id, actor, standalone, decentralised, coordinated profit,
  below_standalone;
* ``runs`` run_id, status (ok | failed), error, figures above, seconds.

A task's rows (``kpis``, ``actors``, ``runs``) are written in one
transaction: a run is in the file with all its rows or not at all, also
after a ``kill -9``. A run is finished when it has a ``runs`` row. Starting
the same command again deletes rows of unfinished runs (older files may hold
some) and runs only those (failed runs count as finished: they are
deterministic; delete their ``runs`` rows to retry). Results arrive per task
and are appended at once, so memory stays flat in N.

Interrupts: while ``run_experiment`` runs in the main thread, SIGINT (Ctrl-C)
and SIGTERM (a plain ``kill``) raise in the main thread (a signal arriving
during a write waits until the write is committed); the pool's worker
processes are terminated (a Dask ``LocalCluster`` closed, or this batch's
tasks cancelled on a remote scheduler), the store is closed and
``ExperimentInterrupted`` is raised (a ``KeyboardInterrupt`` whose
``exit_code`` is 128 + the signal number: 130, 143). A second signal while
stopping ends the process at once (its workers still die with it). Local
pool workers ignore SIGINT (the parent stops them; a terminal's Ctrl-C
reaches the whole process group) and, on Linux, get SIGKILL when the parent
dies, so even a ``kill -9`` of the parent leaves no worker computing.

Parallelism: the design is cut into tasks of ``chunk`` samples (all their
arms and replications); tasks go to a local process pool (``jobs``) or to a
Dask cluster. A worker process keeps its planners from task to task (see
``_planner``) and every re-solve starts from a cleared solver, so a sample's
numbers depend on that sample only: the database is the same for ``jobs=1``,
``jobs=2`` and Dask (row order
aside; read sorted by ``run_id``). Only ``seconds`` and timestamps differ.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import math
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from symbiosim.accounts import evaluate
from symbiosim.compare.gap import share_of_potential
from symbiosim.errors import BaselineInfeasibleError
from symbiosim.experiments.design import apply_sample, input_columns, make_design, with_arm
from symbiosim.experiments.reuse import BATCH_MIP_GAP, ReusablePlanner
from symbiosim.scenario.schema import Scenario
from symbiosim.simulator import simulate
from symbiosim.store import ResultsStore

SOURCES = ("baseline", "decentralised", "optimum")
NO_BASELINE = "no_baseline"  # a run's status when its sample's stand-alone baseline has no plan
FIGURES = ("share_of_potential", "gap", "public_cost", "emissions", "cluster_npv", "actors_below_standalone", "optimum_gap")

Progress = Callable[[int, int, int, float], None]  # done, failed, total, elapsed seconds


def scenario_hash(scenario: Scenario) -> str:
    return hashlib.sha256(scenario.model_dump_json(by_alias=True).encode()).hexdigest()


def _error(exc: BaseException) -> str:
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" ({Path(frame.filename).name}:{frame.lineno})" if frame else ""
    return f"{type(exc).__name__}: {exc}{where}"[:2000]


def _run_row(run_id: int, status: str, error: str, seconds: float, figures: Mapping[str, float] | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"run_id": int(run_id), "status": status, "error": error}
    for name in FIGURES:
        row[name] = float((figures or {}).get(name, math.nan))
    row["seconds"] = float(seconds)
    return row


def run_chunk(
    scenario: Scenario,
    rows: list[dict[str, Any]],
    arms: Mapping[str, Mapping[str, Any]],
    reuse: bool = True,
    mip_gap: float = BATCH_MIP_GAP,
) -> dict[str, pd.DataFrame]:
    """Run design rows (whole samples, in order) and return their ``kpis``, ``actors`` and ``runs`` rows.

    Every exception inside a sample or run is caught and recorded as a
    failed run; ``BaseException`` (interrupts) passes through.
    """
    def planner(key: str) -> ReusablePlanner:
        return _planner(key, mip_gap) if reuse else ReusablePlanner(mip_gap=mip_gap, reuse=False)

    kpi_rows: list[dict[str, Any]] = []
    actor_rows: list[dict[str, Any]] = []
    run_rows: list[dict[str, Any]] = []
    by_sample: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        by_sample.setdefault(int(r["sample_id"]), []).append(r)

    for sample_rows in by_sample.values():
        t0 = time.perf_counter()
        try:
            s = apply_sample(scenario, sample_rows[0])  # errors name the sample: "sample 12: ..."
            ref_opt = planner("").solve(s, baseline=False)
            ruler_opt = evaluate(s, ref_opt)
            ref_base = planner("").solve(s, baseline=True)
            ruler_base = evaluate(s, ref_base)
        except BaselineInfeasibleError as exc:
            # the optimum is kept; without a stand-alone plan there is no decentralised run and no share
            err = f"the stand-alone baseline has no plan, so the share of the potential is undefined: {exc}"
            for r in sample_rows:
                kpi_rows += [{"run_id": int(r["run_id"]), "source": "optimum", "kpi": k, "value": float(v)} for k, v in ruler_opt.kpis.items()]
                run_rows.append(_run_row(r["run_id"], NO_BASELINE, err[:2000], time.perf_counter() - t0))
            continue
        except Exception as exc:
            err = _error(exc)
            run_rows += [_run_row(r["run_id"], "failed", f"sample: {err}", time.perf_counter() - t0) for r in sample_rows]
            continue
        by_arm: dict[str, list[dict[str, Any]]] = {}
        for r in sample_rows:
            by_arm.setdefault(str(r["arm"]), []).append(r)
        for arm, arm_rows in by_arm.items():
            t1 = time.perf_counter()
            try:
                sa, facilitator = with_arm(s, arms[arm])
                same = sa is s  # the arm adds no policy: its baseline and accounts are the reference's
                arm_base = ref_base if same else planner(json.dumps(arms[arm], sort_keys=True)).solve(sa, baseline=True)
                alone = (ruler_base if same else evaluate(sa, arm_base)).actors.set_index("actor").profit
            except Exception as exc:
                err = _error(exc)
                run_rows += [_run_row(r["run_id"], "failed", f"arm: {err}", time.perf_counter() - t1) for r in arm_rows]
                continue
            for r in arm_rows:
                t2 = time.perf_counter()
                run_id = int(r["run_id"])
                try:
                    plan = simulate(sa, int(r["seed"]), facilitator=facilitator, baseline=arm_base).plan
                    ruler = evaluate(s, plan)
                    mine = ruler if same else evaluate(sa, plan)
                    b, d, o = (acc.kpis["cluster_npv"] for acc in (ruler_base, ruler, ruler_opt))
                    profit = mine.actors.set_index("actor").profit
                    coordinated = ruler_opt.actors.set_index("actor").profit
                    below = profit < alone.reindex(profit.index) - 1e-6 * (1 + alone.reindex(profit.index).abs())
                    figures = {
                        "share_of_potential": share_of_potential(b, d, o),
                        "gap": o - d,
                        "public_cost": mine.kpis["public_cost"],
                        "emissions": ruler.kpis["emissions"],
                        "cluster_npv": d,
                        "actors_below_standalone": float(below.sum()),
                        "optimum_gap": abs(ref_opt.meta["bound"] - ref_opt.meta["objective_value"])
                        if ref_opt.meta.get("bound") is not None
                        else math.nan,
                    }
                    kr = []
                    for source, acc in zip(SOURCES, (ruler_base, ruler, ruler_opt), strict=True):
                        kr += [{"run_id": run_id, "source": source, "kpi": k, "value": float(v)} for k, v in acc.kpis.items()]
                    ar = [
                        {
                            "run_id": run_id,
                            "actor": str(a),
                            "standalone": float(alone.get(a, math.nan)),
                            "decentralised": float(profit[a]),
                            "coordinated": float(coordinated.get(a, math.nan)),
                            "below_standalone": bool(below[a]),
                        }
                        for a in profit.index
                    ]
                except Exception as exc:
                    run_rows.append(_run_row(run_id, "failed", _error(exc), time.perf_counter() - t2))
                    continue
                kpi_rows += kr
                actor_rows += ar
                run_rows.append(_run_row(run_id, "ok", "", time.perf_counter() - t2, figures))
    return {"kpis": pd.DataFrame(kpi_rows), "actors": pd.DataFrame(actor_rows), "runs": pd.DataFrame(run_rows)}


# Planners live as long as the worker process: a task re-solves the models
# the previous task built (building and handing a model to HiGHS costs ~3 s on
# the default scenario, a re-solve ~0.4 s). Safe because every re-solve starts
# from a cleared HiGHS (``ReusablePlanner``), so a sample's result does not
# depend on which samples the process solved before; and a model is rebuilt
# whenever the structure differs (another scenario or arm).
@functools.lru_cache(maxsize=8)
def _planner(world: str, mip_gap: float) -> ReusablePlanner:
    """This process's planner for a world (``""`` the reference, else an arm's settings); the 8 used last are kept."""
    return ReusablePlanner(mip_gap=mip_gap)


# --------------------------------------------------------------------------


@dataclass
class Experiment:
    """What was asked for; the manifest and the design follow from it."""

    scenario: Scenario
    samples: int
    method: str = "lhs"
    arms: dict[str, dict[str, Any]] = field(default_factory=lambda: {"none": {}})
    replications: int = 1
    seed: int = 0
    name: str = ""
    scenario_path: str = ""
    mip_gap: float = BATCH_MIP_GAP  # relative MIP gap of the optima and baselines

    def manifest(self) -> dict[str, Any]:
        from symbiosim import __version__

        rows = list(self.scenario.uncertainty)
        inputs = [
            {"column": c, **u.model_dump(by_alias=True, exclude_none=True)} for c, u in zip(input_columns(rows), rows, strict=True)
        ]
        return {
            "experiment": self.name or self.scenario.settings.name,
            "scenario": self.scenario_path,
            "scenario_hash": scenario_hash(self.scenario),
            "version": __version__,
            "root_seed": int(self.seed),
            "method": self.method,
            "samples": int(self.samples),
            "replications": int(self.replications),
            "mip_gap": float(self.mip_gap),
            "arms": json.dumps(self.arms, sort_keys=True),
            "inputs": json.dumps(inputs, sort_keys=True),
        }


_IDENTITY = ("scenario_hash", "root_seed", "method", "samples", "replications", "arms", "mip_gap")


@dataclass
class RunReport:
    experiment: str
    db: Path
    runs: int
    failed: int
    skipped: int
    ran: int
    seconds: float


def _chunks(design: pd.DataFrame, todo: set[int], chunk: int) -> Iterator[list[dict[str, Any]]]:
    """Rows still to run, in tasks of ``chunk`` whole samples (fixed by sample id, not by what is left)."""
    pending = design[design.run_id.isin(todo)]
    for _, group in pending.groupby(pending.sample_id // chunk, sort=True):
        yield group.to_dict("records")


def _prepare(store: ResultsStore, exp: Experiment) -> tuple[pd.DataFrame, set[int]]:
    """Create or check the manifest and design; the run ids still to run."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    manifest = exp.manifest()
    if store.has("manifest"):
        old = store.read("manifest").iloc[0].to_dict()
        diff = [k for k in _IDENTITY if str(old.get(k)) != str(manifest[k])]
        if diff:
            raise ValueError(
                f"{store.path} holds a different experiment ({', '.join(diff)} differ): use another --out or delete the file"
            )
        store.replace("manifest", pd.DataFrame([{**old, "updated": now}]))
        design = store.read("design").sort_values("run_id").reset_index(drop=True)
    else:
        design = make_design(exp.scenario, exp.samples, method=exp.method, arms=exp.arms, replications=exp.replications, seed=exp.seed)
        store.replace("design", design)
        store.replace("manifest", pd.DataFrame([{**manifest, "created": now, "updated": now}]))
    done = set(store.read("runs").run_id.astype(int)) if store.has("runs") else set()
    # rows of runs that never got their ``runs`` row (interrupted mid-write): remove, they run again
    for table in ("kpis", "actors"):
        if store.has(table):
            if done:
                store.con.execute(f"delete from {table} where run_id not in (select run_id from runs)")
            else:
                store.con.execute(f"delete from {table}")
    return design, set(design.run_id.astype(int)) - done


def _write(store: ResultsStore, result: Mapping[str, pd.DataFrame]) -> tuple[int, int]:
    """Append a task's ``kpis``, ``actors`` and ``runs`` rows in one transaction.

    ``ResultsStore.append`` commits each table on its own, so a kill between
    two tables would leave rows of runs without their ``runs`` row; here the
    three tables commit together (DuckDB's commit is atomic, also against a
    ``kill -9``), so the file only ever holds whole runs.
    """
    con = store.con
    frames = {table: result[table] for table in ("kpis", "actors", "runs") if not result[table].empty}
    for table, frame in frames.items():
        con.register(f"_incoming_{table}", frame)
    try:
        con.execute("begin transaction")
        try:
            for table, frame in frames.items():
                if store.has(table):
                    columns = ", ".join(f'"{c}"' for c in frame.columns)
                    con.execute(f"insert into {table} ({columns}) select {columns} from _incoming_{table}")
                else:
                    con.execute(f"create table {table} as select * from _incoming_{table}")
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    finally:
        for table in frames:
            con.unregister(f"_incoming_{table}")
    runs = result["runs"]
    return len(runs), int((runs.status != "ok").sum()) if not runs.empty else 0


def default_db(exp: Experiment) -> Path:
    return Path("results") / f"{exp.name or exp.scenario.settings.name}.duckdb"


class ExperimentInterrupted(KeyboardInterrupt):
    """The batch was stopped by a signal (or a ``KeyboardInterrupt``): its workers
    are ended, the store holds only whole runs and is closed, and running the
    same experiment again resumes. ``exit_code`` is the shell's 128 + signal
    number (130 for SIGINT, 143 for SIGTERM)."""

    def __init__(self, signum: int, stored: int, total: int, db: Path) -> None:
        self.signum, self.stored, self.total, self.db = int(signum), int(stored), int(total), Path(db)
        super().__init__(self.message)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    @property
    def message(self) -> str:
        return (
            f"interrupted ({signal.Signals(self.signum).name}): {self.stored} of {self.total} runs stored in {self.db}; "
            "rerun the same command to resume"
        )

    def __str__(self) -> str:
        return self.message


class _Interrupts:
    """SIGINT and SIGTERM raise ``KeyboardInterrupt`` in the main thread while active.

    SIGTERM's default action ends the process at once, before any cleanup, so
    the pool's workers would go on computing; raising instead lets the
    runner stop them and close the store. Inside ``deferred()`` (a write) a
    signal is held until the block ends. A second signal while stopping
    restores the default action and re-sends itself: the process ends now
    (pool workers die with it, see ``_worker_init``). Handlers are only
    installed from the main thread (``signal.signal`` requires it), and a
    signal that was ignored (``nohup``, a shell's background job) stays ignored.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.signum: int | None = None
        self._depth = 0
        self._held = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Interrupts:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                previous = signal.getsignal(sig)
                if previous is signal.SIG_IGN:
                    continue
                self._previous[sig] = previous
                signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()

    def _handle(self, signum: int, frame: object) -> None:
        if self.signum is not None:  # a second signal: stop now
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        self.signum = signum
        if self._depth:
            self._held = True
            return
        raise KeyboardInterrupt

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold signals until the block is done (then raise if one came)."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        if not self._depth and self._held:
            self._held = False
            raise KeyboardInterrupt


def run_experiment(
    exp: Experiment,
    db: str | Path | None = None,
    *,
    jobs: int = 1,
    dask: str | None = None,
    chunk: int = 2,
    reuse: bool = True,
    progress: Progress | None = None,
) -> RunReport:
    """Run (or resume) an experiment into ``db``; see the module docstring.

    Raises ``ExperimentInterrupted`` on SIGINT / SIGTERM (or a ``KeyboardInterrupt``)
    once the workers are stopped and the store is closed.
    """
    path = Path(db) if db is not None else default_db(exp)
    start = time.perf_counter()
    done = total = 0
    with _Interrupts() as interrupts:
        try:
            with ResultsStore(path) as store:
                with interrupts.deferred():
                    design, todo = _prepare(store, exp)
                total = len(design)
                done = total - len(todo)
                failed = int((store.read("runs").status != "ok").sum()) if store.has("runs") else 0
                skipped = done
                tasks = _chunks(design, todo, max(1, chunk))

                def tick(result: Mapping[str, pd.DataFrame]) -> None:
                    nonlocal done, failed
                    with interrupts.deferred():
                        n, f = _write(store, result)
                        done, failed = done + n, failed + f
                    if progress:
                        progress(done, failed, total, time.perf_counter() - start)

                if progress:
                    progress(done, failed, total, 0.0)
                if dask:
                    _run_dask(exp, tasks, dask, jobs, reuse, tick)
                elif jobs > 1:
                    _run_pool(exp, tasks, jobs, reuse, tick)
                else:
                    for rows in tasks:
                        tick(run_chunk(exp.scenario, rows, exp.arms, reuse, exp.mip_gap))
                with interrupts.deferred():
                    store.con.execute("checkpoint")
        except BaseException as exc:
            # a signal may surface as another error first (a Ctrl-C to the whole
            # process group can break the pool before the parent's handler runs)
            if isinstance(exc, ExperimentInterrupted):
                raise
            if isinstance(exc, KeyboardInterrupt) or interrupts.signum is not None:
                raise ExperimentInterrupted(interrupts.signum or signal.SIGINT, done, total, path) from exc
            raise
    return RunReport(exp.name or exp.scenario.settings.name, path, total, failed, skipped, done - skipped, time.perf_counter() - start)


def _worker_exit(signum: int, frame: object) -> None:
    """SIGTERM in a pool worker (the parent stopping it): run the exit hooks, exit now.

    The hooks include multiprocessing's finalizers, which unlink the named
    semaphores this process created (Pyomo makes a ``multiprocessing.Lock``
    in every process that imports it); a worker ended by SIGTERM's default
    action leaves them to the resource tracker, which cleans up but warns of
    "leaked semaphore objects". ``atexit._run_exitfuncs`` is the only way to
    run the hooks without unwinding the stack: ``sys.exit`` would be caught
    by the pool's worker loop as the task's exception. A worker inside a long
    C call (a HiGHS solve) runs this only when the call returns, so the parent
    sends SIGKILL if a worker is not gone within a second (``_stop_pool``).
    """
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM (to the group, then from the parent) must not cut the hooks short
    try:
        atexit._run_exitfuncs()
    finally:
        os._exit(128 + signum)


def _worker_init(parent: int) -> None:
    """Pool worker start-up: ignore SIGINT, exit cleanly on SIGTERM, die with the parent.

    A terminal's Ctrl-C goes to the whole process group; the parent stops the
    workers itself, and a worker interrupted mid-task would only break the
    pool. A worker whose parent dies (``kill -9``, a crash) would otherwise
    finish its task and then wait forever for the next one (~400 MB each):
    on Linux ``prctl(PR_SET_PDEATHSIG)`` has the kernel send it SIGKILL (it
    holds nothing to clean up: results go to the parent, the parent owns the
    store); elsewhere a daemon thread checks ``os.getppid()`` every second.
    The pool creates its workers from the thread that calls ``submit`` (the
    thread running ``_run_pool``), which outlives the pool, so the
    per-thread PDEATHSIG cannot fire early.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_exit)
    armed = False
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            armed = libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent:  # the parent died before the guard was armed
        os._exit(1)
    if not armed and os.name == "posix":

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1.0)
            os._exit(1)

        threading.Thread(target=watch, name="symbiosim-parent-watch", daemon=True).start()


def _stop_pool(pool: Any) -> None:
    """End a ``ProcessPoolExecutor`` now: cancel queued tasks and terminate the workers.

    ``shutdown(cancel_futures=True)`` only drops queued tasks: running ones
    go on, and ``shutdown(wait=True)`` (what ``with`` does) waits for them.
    The worker processes are only reachable through the private
    ``_processes`` dict (stable since Python 3.2; the public
    ``terminate_workers()`` and ``kill_workers()`` come with 3.14, and the
    project supports 3.11). ``multiprocessing.Pool.terminate`` is public, but a Pool hangs
    instead of failing when a worker dies, and its results cannot be awaited
    first-completed like futures.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    deadline = time.monotonic() + 1.0  # then SIGKILL: see _worker_exit
    for proc in processes:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join(1.0)
    pool.shutdown(wait=True)  # the workers are gone: this only joins the pool's manager thread


def _run_pool(exp: Experiment, tasks: Iterator[list[dict[str, Any]]], jobs: int, reuse: bool, tick: Callable[[Any], None]) -> None:
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    ctx = mp.get_context("spawn")  # no inherited DuckDB handle or solver state
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init, initargs=(os.getpid(),))
    try:
        inflight: set[Future[Any]] = set()
        for rows in tasks:
            inflight.add(pool.submit(run_chunk, exp.scenario, rows, exp.arms, reuse, exp.mip_gap))
            if len(inflight) >= 2 * jobs:  # bounded: memory does not grow with N
                finished, inflight = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in finished:
                    tick(fut.result())
        while inflight:
            finished, inflight = wait(inflight, return_when=FIRST_COMPLETED)
            for fut in finished:
                tick(fut.result())
        pool.shutdown(wait=True)
    except BaseException:
        _stop_pool(pool)
        raise


def _run_dask(exp: Experiment, tasks: Iterator[list[dict[str, Any]]], address: str, jobs: int, reuse: bool, tick: Callable[[Any], None]) -> None:
    from dask.distributed import Client, Future, LocalCluster, WorkerPlugin, as_completed

    class IgnoreSigint(WorkerPlugin):  # pickled by value (cloudpickle): no import of distributed at module level
        """A LocalCluster's worker processes share the terminal's process group:
        Ctrl-C would hit them too and each would die with a traceback while the
        parent is closing them in order."""

        name = "symbiosim-ignore-sigint"

        def setup(self, worker: Any) -> None:
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGINT, signal.SIG_IGN)

    cluster = None
    client = None
    pending: set[Future] = set()
    scenario: Future | None = None
    try:
        if address == "local":
            cluster = LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
            client.register_plugin(IgnoreSigint())
        else:
            client = Client(address)
        scenario = client.scatter(exp.scenario, broadcast=True)
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        queue = as_completed()

        def take() -> None:
            fut = next(queue)
            pending.discard(fut)
            tick(fut.result())

        for rows in tasks:
            fut = client.submit(run_chunk, scenario, rows, exp.arms, reuse, exp.mip_gap, pure=False)
            pending.add(fut)
            queue.add(fut)
            if len(pending) >= 2 * workers:
                take()
        while pending:
            take()
    except BaseException:
        # drop this batch's tasks and data from the scheduler (on a remote
        # cluster, not ours to stop, that is all we do)
        if client is not None and (pending or scenario is not None):
            with suppress(Exception):  # best effort while stopping
                client.cancel([*pending, *([scenario] if scenario is not None else [])], force=True)
        if cluster is not None:
            _stop_cluster(cluster)
        raise
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def _stop_cluster(cluster: Any) -> None:
    """Close a LocalCluster's nannies at once, each giving its worker 1 s.

    ``cluster.close()`` gives each worker process 4 s to finish its running
    task before killing it; a task (a few samples) takes longer than that,
    so an interrupt would wait 4 s for nothing. ``Nanny.close(timeout)``
    stops the worker (killing it after 0.8 x timeout) and, unlike killing
    the worker process alone, does not restart it. A worker that is still
    starting is left to ``cluster.close()``; worker processes also exit by
    themselves when this process ends (distributed watches the parent).
    """
    import asyncio

    async def close_all() -> None:
        nannies = [w for w in list(cluster.workers.values()) if hasattr(w, "close")]
        await asyncio.gather(*(w.close(timeout=1.0, reason="symbiosim-interrupted") for w in nannies), return_exceptions=True)

    with suppress(Exception):  # best effort: cluster.close() follows
        cluster.sync(close_all)
