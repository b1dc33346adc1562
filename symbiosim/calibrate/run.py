"""``calibrate``: the budget, the seeds, the batches of simulator runs, the store and resume.

The budget ``samples`` (simulator runs) is split into three stages, run in
this order:

* ``default``: k = max(2, samples // 20) runs with the scenario's own rules
  (no override): ``distance.default``;
* ABC-SMC: ``generations`` batches of n = (samples - 2k) // generations runs
  (``smc.py``); the last accepted population is the posterior;
* ``predictive``: the rest (>= k) runs with particles resampled from the
  posterior by weight: the ``fit`` (median year, share formed) per exchange.

Seeds: ``SeedSequence(seed).spawn(generations + 2)`` gives one child per stage;
each child spawns a proposal stream (parameter draws) and a seed stream
(``generate_state``: one 32-bit simulator seed per run). Every draw is made
in the calling process, before the batch is evaluated, and results are used
by run id, so the posterior is the same for ``jobs=1``, ``jobs=2`` and Dask.

Runs go through ``symbiosim.parallel.map_tasks`` (two runs per task). With
``db`` every run is written to a DuckDB file (``store.py``: tables
``manifest`` and ``runs``) as it arrives; running the same calibration again
reads the stored runs instead of simulating them (resume after an interrupt),
and a file of another calibration is refused. A run that fails is recorded
(status ``failed``, distance infinity, the error) and never stops the batch.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from symbiosim.calibrate import smc
from symbiosim.calibrate.distance import Targets, distance, new_exchanges, outcome_of, targets_of
from symbiosim.calibrate.priors import Prior
from symbiosim.parallel import BatchInterrupted, Interrupts, Workers
from symbiosim.plan import Plan
from symbiosim.scenario.history import History
from symbiosim.scenario.schema import Scenario
from symbiosim.simulator import simulate
from symbiosim.store import ResultsStore

Progress = Callable[[int, int, int, float], None]  # done, failed, total, elapsed seconds
MIN_PER_GENERATION = 10
QUANTILE = 0.5
CHUNK = 2  # runs per task


@dataclass(frozen=True)
class Shared:
    """What every worker needs once: the scenario, the baseline the firms start from, the targets."""

    scenario: Scenario
    baseline: Plan
    targets: Targets


_BANNER_SHOWN = False


def quiet_highs_banner() -> None:
    """Have HiGHS print its banner (once per process, at the first ``Highs()``) to /dev/null.

    A worker process's first ``Highs()`` is a firm's LP, and the banner would go to
    the command's stdout (``--json`` is one object there). File descriptor 1 is
    pointed at /dev/null only while that first object is made.
    """
    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        return
    _BANNER_SHOWN = True
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
        highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def run_batch(shared: Shared, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Simulate rows ``{run_id, seed, rules (JSON)}``; each returns its distance and formation years."""
    quiet_highs_banner()
    out = []
    for r in rows:
        t0 = time.perf_counter()
        row = {k: r[k] for k in ("run_id", "stage", "generation", "seed", "rules")}
        try:
            rules = json.loads(r["rules"])
            result = simulate(shared.scenario, int(r["seed"]), baseline=shared.baseline, rule_overrides=rules)
            o = outcome_of(result.plan, shared.scenario)
            years = {t.label: o.year_of(t) for t in shared.targets.targets}
            new = ["{}->{}/{}".format(*k) for k in new_exchanges(o, shared.targets)]
            row |= {"status": "ok", "error": "", "distance": distance(o, shared.targets),
                    "years": json.dumps(years), "new": json.dumps(new)}
        except Exception as exc:  # recorded; the batch goes on
            frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            where = f" ({Path(frame.filename).name}:{frame.lineno})" if frame else ""
            row |= {"status": "failed", "error": f"{type(exc).__name__}: {exc}{where}"[:2000], "distance": math.inf,
                    "years": "{}", "new": "[]"}
        row["seconds"] = time.perf_counter() - t0
        out.append(row)
    return out


class CalibrationInterrupted(BatchInterrupted):
    """Stopped by SIGINT / SIGTERM: workers ended, stored runs kept (``db``); ``exit_code`` 128 + signal."""

    @property
    def message(self) -> str:
        where = (f"{self.stored} of {self.total} runs stored in {self.db}; rerun the same command to resume"
                 if self.db else f"{self.stored} of {self.total} runs done, none stored (--out DIR keeps them for a resume)")
        return f"interrupted ({self.signal_name}): {where}"


@dataclass(frozen=True)
class Budget:
    default: int
    per_generation: int
    generations: int
    predictive: int

    @classmethod
    def of(cls, samples: int, generations: int) -> Budget:
        if generations < 1:
            raise ValueError(f"generations: expected at least 1, got {generations}")
        k = max(2, samples // 20)
        n = (samples - 2 * k) // generations
        if n < MIN_PER_GENERATION:
            need = generations * MIN_PER_GENERATION + 2 * max(2, samples // 20)
            raise ValueError(f"--samples {samples} is too few for {generations} generation(s): each needs at least "
                             f"{MIN_PER_GENERATION} runs besides the default and predictive runs (use --samples >= {need} "
                             "or fewer --generations)")
        return cls(k, n, generations, samples - k - generations * n)


def check_inputs(scenario: Scenario, history: History, samples: int, generations: int, new_weight: float = 1.0) -> Targets:
    """The targets, once the budget and the history are known to be usable (before anything is solved).

    Raises:
        ValueError: the budget is too small, or no row of the history is informative.
    """
    Budget.of(samples, generations)
    targets = targets_of(history, scenario, new_weight=new_weight)
    if not targets.targets:
        skipped = ", ".join(t.label for t in targets.skipped)
        raise ValueError(f"the history has nothing to calibrate against: every exchange in it is an existing link of the "
                         f"scenario (exists: true), formed at the start of every run ({skipped}); use a scenario in which "
                         "they are candidates (e.g. scenarios/orkanger_before.yaml)")
    return targets


@dataclass
class Calibration:
    """The result: priors, every run, every generation's population, the posterior (the last one)."""

    scenario: Scenario
    history: History
    targets: Targets
    priors: list[Prior]
    seed: int
    budget: Budget
    runs: pd.DataFrame
    populations: list[smc.Population]
    generations: list[dict[str, Any]]
    defaults: dict[str, float]
    seconds: float = 0.0
    db: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rules(self) -> list[str]:
        return [p.rule for p in self.priors]

    @property
    def posterior(self) -> smc.Population:
        return self.populations[-1]

    def particles(self) -> pd.DataFrame:
        """The posterior: one row per accepted particle, the rules' values, weight and distance."""
        pop = self.posterior
        vals = smc.values(self.priors, pop.theta)
        frame = pd.DataFrame(vals, columns=self.rules)
        for p in self.priors:
            if p.distribution == "integer":
                frame[p.rule] = frame[p.rule].astype(int)
        frame["weight"] = pop.weights
        frame["distance"] = pop.distances
        frame.insert(0, "particle", range(len(frame)))
        return frame

    def to_json(self) -> dict[str, Any]:
        from symbiosim.calibrate.output import calibration_json

        return calibration_json(self)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _manifest(scenario: Scenario, history: History, targets: Targets, priors: list[Prior], seed: int, samples: int,
              generations: int, rules: list[str]) -> dict[str, Any]:
    return {
        "scenario_hash": _hash(scenario.model_dump_json(by_alias=True)),
        "history_hash": _hash(history.model_dump_json(by_alias=True)),
        "root_seed": int(seed), "samples": int(samples), "generations": int(generations),
        "new_weight": float(targets.new_weight), "quantile": QUANTILE,
        "priors": json.dumps([[p.rule, p.to_json()] for p in priors]), "rules": json.dumps(rules),
    }


def _open_store(db: Path, manifest: Mapping[str, Any]) -> tuple[ResultsStore, dict[int, dict[str, Any]]]:
    store = ResultsStore(db)
    try:
        if store.has("manifest"):
            old = store.read("manifest").iloc[0].to_dict()
            diff = [k for k in manifest if str(old.get(k)) != str(manifest[k])]
            if diff:
                raise ValueError(f"{db} holds another calibration ({', '.join(diff)} differ): use another --out or delete the file")
        else:
            store.replace("manifest", pd.DataFrame([dict(manifest)]))
        stored = {int(r["run_id"]): r for r in store.read("runs").to_dict("records")} if store.has("runs") else {}
    except BaseException:
        store.close()
        raise
    return store, stored


def _rules_json(priors: list[Prior], row: np.ndarray) -> str:
    out: dict[str, float | int] = {}
    for p, v in zip(priors, row, strict=True):
        out[p.rule] = int(v) if p.distribution == "integer" else float(v)
    return json.dumps(out, sort_keys=True)


def calibrate(
    scenario: Scenario,
    history: History,
    priors: Mapping[str, Prior],
    *,
    samples: int = 1000,
    generations: int = 4,
    seed: int = 0,
    jobs: int = 1,
    dask: str | None = None,
    db: str | Path | None = None,
    new_weight: float = 1.0,
    baseline: Plan | None = None,
    progress: Progress | None = None,
) -> Calibration:
    """ABC-SMC of the behaviour rules in ``priors`` against ``history`` (see the package docstring).

    Raises:
        ValueError: the budget is too small, or ``db`` holds another calibration.
        BaselineInfeasibleError: the scenario's stand-alone baseline has no plan.
        CalibrationInterrupted: SIGINT / SIGTERM (workers stopped, stored runs kept).
    """
    from symbiosim.planner import optimise
    from symbiosim.simulator.behaviour import DEFAULTS, rules_for

    start = time.perf_counter()
    budget = Budget.of(samples, generations)
    plist = list(priors.values())
    if not plist:
        raise ValueError("no rule to calibrate")
    targets = check_inputs(scenario, history, samples, generations, new_weight)
    if baseline is None:
        baseline = optimise(scenario, baseline=True)
    shared = Shared(scenario, baseline, targets)
    star = rules_for(scenario, "*")
    defaults = {p.rule: float(getattr(star, p.rule, DEFAULTS.get(p.rule, math.nan))) for p in plist}
    stages = np.random.SeedSequence(seed).spawn(generations + 2)
    path = Path(db) if db is not None else None
    done = failed = 0
    results: dict[int, dict[str, Any]] = {}
    store: ResultsStore | None = None
    stored: dict[int, dict[str, Any]] = {}
    with Interrupts() as interrupts, Workers(jobs, dask) as workers:
        try:
            if path is not None:
                with interrupts.deferred():
                    store, stored = _open_store(path, _manifest(scenario, history, targets, plist, seed, samples, generations,
                                                                list(DEFAULTS)))

            def batch(stage: str, generation: int, first_id: int, rules: list[str], stage_seq: np.random.SeedSequence) -> np.ndarray:
                nonlocal done, failed
                seeds = stage_seq.generate_state(len(rules), dtype=np.uint32)
                rows: list[dict[str, Any]] = [{"run_id": first_id + i, "stage": stage, "generation": generation, "seed": int(s), "rules": r}
                        for i, (s, r) in enumerate(zip(seeds, rules, strict=True))]
                todo = []
                for r in rows:
                    old = stored.get(r["run_id"])
                    if old is not None and int(old["seed"]) == r["seed"] and old["rules"] == r["rules"]:
                        results[r["run_id"]] = old
                        done, failed = done + 1, failed + (old["status"] != "ok")
                    else:
                        todo.append(r)

                def tick(out: list[dict[str, Any]]) -> None:
                    nonlocal done, failed
                    with interrupts.deferred():
                        if store is not None:
                            store.append("runs", pd.DataFrame(out))
                        for r in out:
                            results[int(r["run_id"])] = r
                        done += len(out)
                        failed += sum(r["status"] != "ok" for r in out)
                    if progress:
                        progress(done, failed, samples, time.perf_counter() - start)

                tasks = [todo[i:i + CHUNK] for i in range(0, len(todo), CHUNK)]
                if progress:
                    progress(done, failed, samples, time.perf_counter() - start)
                workers.map(run_batch, shared, tasks, tick)
                return np.array([float(results[r["run_id"]]["distance"]) for r in rows], dtype=float)

            next_id = 0
            prop_seq, seed_seq = stages[0].spawn(2)
            batch("default", -1, next_id, ["{}"] * budget.default, seed_seq)
            next_id += budget.default
            populations: list[smc.Population] = []
            table: list[dict[str, Any]] = []
            for g in range(generations):
                prop_seq, seed_seq = stages[1 + g].spawn(2)
                rng = np.random.default_rng(prop_seq)
                n = budget.per_generation
                previous = populations[-1] if populations else None
                cov = None
                if previous is None:
                    theta = smc.from_prior(plist, n, rng)
                else:
                    theta, cov = smc.propose(previous, plist, n, rng)
                vals = smc.values(plist, theta)
                d = batch("abc", g, next_id, [_rules_json(plist, v) for v in vals], seed_seq)
                next_id += n
                pop = smc.accept(theta, d, previous, cov, QUANTILE, max(5, math.ceil(0.1 * n)))
                if len(pop.weights) == 0:
                    errors = [results[i]["error"] for i in range(next_id - n, next_id) if results[i]["status"] != "ok"]
                    raise RuntimeError(f"every run of generation {g} failed; the first: {errors[0] if errors else '?'}")
                populations.append(pop)
                table.append({"generation": g, "epsilon": pop.epsilon, "proposed": n, "accepted": len(pop.weights),
                              "failed": int((~np.isfinite(d)).sum()), "ess": pop.ess, "mean_distance": float(pop.distances.mean())})
            prop_seq, seed_seq = stages[-1].spawn(2)
            rng = np.random.default_rng(prop_seq)
            post = populations[-1]
            pick = rng.choice(len(post.weights), size=budget.predictive, p=post.weights)
            vals = smc.values(plist, post.theta[pick])
            batch("predictive", -1, next_id, [_rules_json(plist, v) for v in vals], seed_seq)
            if store is not None:
                with interrupts.deferred():
                    store.con.execute("checkpoint")
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt) or interrupts.signum is not None:
                raise CalibrationInterrupted(interrupts.signum or signal.SIGINT, done, samples, path) from exc
            raise
        finally:
            if store is not None:
                store.close()
    runs = pd.DataFrame([results[i] for i in sorted(results)])
    return Calibration(scenario, history, targets, plist, seed, budget, runs, populations, table, defaults,
                       time.perf_counter() - start, path)
