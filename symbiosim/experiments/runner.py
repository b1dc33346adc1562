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

import functools
import hashlib
import json
import math
import signal
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
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
from symbiosim.parallel import BatchInterrupted, map_tasks
from symbiosim.parallel import Interrupts as _Interrupts  # tests import it from here
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


class ExperimentInterrupted(BatchInterrupted):
    """The batch was stopped by a signal (or a ``KeyboardInterrupt``): its workers
    are ended, the store holds only whole runs and is closed, and running the
    same experiment again resumes. ``exit_code`` is the shell's 128 + signal
    number (130 for SIGINT, 143 for SIGTERM)."""

    def __init__(self, signum: int, stored: int, total: int, db: Path) -> None:
        super().__init__(signum, stored, total, Path(db))

    @property
    def message(self) -> str:
        return f"interrupted ({self.signal_name}): {self.stored} of {self.total} runs stored in {self.db}; rerun the same command to resume"


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
                task = functools.partial(run_chunk, arms=exp.arms, reuse=reuse, mip_gap=exp.mip_gap)
                map_tasks(task, exp.scenario, tasks, jobs=jobs, dask=dask, tick=tick)
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
