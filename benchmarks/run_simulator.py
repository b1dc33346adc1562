"""Simulator benchmark: how long one agent-based run takes, and where the time goes.

    python -m benchmarks.run_simulator [--cases orkanger,synthetic_300] [--runs N]
                                       [--profile CASE] [--out benchmarks/results/simulator.json]

For every case, in a fresh Python process so that the peak memory
(``ru_maxrss``) and the warm-up are the case's own, it

* makes the Scenario (generate + validate, or load the YAML);
* solves the stand-alone baseline once (``optimise(scenario, baseline=True)``,
  a MILP) and times it separately: it is passed to every run, so the runs do
  not include it;
* imports the simulator model (Mesa) and times that separately too;
* runs ``simulate(scenario, seed, baseline=baseline)`` for seeds 0 .. N-1 and
  records per run: wall time, steps (periods) per second, negotiations
  (``len(result.offers)``, by outcome), contracts formed (new, and standing
  ones from the scenario), firm LP solves and their time, time per phase of a
  step (discovery, contract review, offers, entry, realisation + data
  collection), model set-up and result assembly, and ``ru_maxrss`` after the run.

The first run (seed 0) is reported on its own: it pays one-off costs (first
HiGHS solves, pandas/Mesa code paths, caches). "Steady state" is runs 2 .. N
(mean, min, max); runs per second = 1 / steady mean.

Targets: ``orkanger`` < 0.5 s per run (steady state); ``synthetic_300``
(300 firms, 40 products, 25 years x 4 periods) < 30 s per run (steady state,
or the first run when only one is made).

``--profile CASE`` adds one more run of CASE (seed 0, after the timed runs)
under cProfile and reports the top functions by own and cumulative time.
The instrumentation (counting LP solves, timing phases) wraps a handful of
functions; it costs microseconds per call (``--no-instrument`` turns it off).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import functools
import hashlib
import importlib.metadata
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.cases import CASES as PLANNER_CASES
from benchmarks.cases import REPO, unavailable_reason
from benchmarks.common import finish_report, maxrss_mb
from benchmarks.run_planner import machine_info
from benchmarks.synthetic import synthetic_scenario
from symbiosim.scenario.schema import Scenario

DEFAULT_OUT = REPO / "benchmarks" / "results" / "simulator.json"
ORKANGER_TARGET_S = 0.5
SYNTH300_TARGET_S = 30.0


def synthetic_300() -> Scenario:
    """300 firms (30 of them candidate entrants), 40 products, 25 years x 4 periods."""
    return synthetic_scenario(actors=300, products=40, years=25, periods_per_year=4, seed=0)


# name -> (scenario factory, default runs, options of the baseline solve)
CASES: dict[str, tuple[Callable[[], Scenario], int, dict[str, Any]]] = {
    "orkanger": (PLANNER_CASES["orkanger"], 5, {}),
    "synthetic_small": (PLANNER_CASES["synthetic_small"], 3, {}),
    "synthetic_50": (PLANNER_CASES["synthetic_50"], 3, {}),
    # a 1 % gap and a time limit keep the 300-actor baseline MILP bounded in time
    "synthetic_300": (synthetic_300, 2, {"mip_gap": 1e-2, "time_limit": 600.0}),
}
DEFAULT_CASES = ("orkanger", "synthetic_50", "synthetic_300")


def source_state() -> dict[str, Any]:
    """What simulator code ran: a hash of ``symbiosim/simulator/*.py`` and uncommitted changes under ``symbiosim/``."""
    digest = hashlib.sha1()
    for path in sorted((REPO / "symbiosim" / "simulator").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    changed = None
    with contextlib.suppress(OSError):
        proc = subprocess.run(
            ["git", "status", "--porcelain", "--", "symbiosim"], cwd=REPO, capture_output=True, text=True
        )
        changed = [line[3:] for line in proc.stdout.splitlines()] if proc.returncode == 0 else None
    return {"simulator_sha1": digest.hexdigest()[:12], "uncommitted_in_symbiosim": changed}


def _unavailable(name: str) -> str | None:
    if name not in CASES:
        return f"unknown case {name!r}: expected one of {', '.join(CASES)}"
    return unavailable_reason(name) if name in PLANNER_CASES else None


# ---- instrumentation --------------------------------------------------------
class Timers:
    """Calls and seconds per label, filled by wrapped functions."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.seconds: dict[str, float] = {}

    def reset(self) -> None:
        self.calls.clear()
        self.seconds.clear()

    def wrap(self, owner: Any, attr: str, label: str) -> None:
        fn = getattr(owner, attr)

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - t
                self.calls[label] = self.calls.get(label, 0) + 1

        setattr(owner, attr, timed)

    def snapshot(self) -> dict[str, dict[str, float]]:
        return {k: {"calls": self.calls[k], "seconds": self.seconds[k]} for k in sorted(self.calls)}


def instrument(timers: Timers) -> None:
    """Time the phases of a step, the set-up, the firm LPs and the negotiations."""
    from symbiosim.simulator import model as model_mod
    from symbiosim.simulator.agents import Firm
    from symbiosim.simulator.firm_lp import FirmLP

    M = model_mod.SymbiosisModel
    timers.wrap(M, "__init__", "setup")
    timers.wrap(M, "step", "step")
    timers.wrap(M, "_discover", "phase_discovery")
    timers.wrap(M, "_review_contracts", "phase_review_contracts")
    timers.wrap(M, "_offers", "phase_offers")
    timers.wrap(M, "_entries", "phase_entry")
    timers.wrap(Firm, "realise", "phase_realise")
    timers.wrap(M, "to_plan", "to_plan")
    timers.wrap(model_mod, "negotiate", "negotiate")  # the model calls it by this module-level name
    timers.wrap(FirmLP, "solve", "firm_lp_solve")
    timers.wrap(Firm, "replan", "firm_replan")


# ---- one case ------------------------------------------------------------------
def _run_summary(result: Any, seconds: float, periods: int) -> dict[str, Any]:
    offers = result.offers
    contracts = result.contracts
    existing = contracts["existing"].astype(bool)
    by_outcome = offers["outcome"].value_counts().to_dict() if len(offers) else {}
    return {
        "seed": result.seed,
        "seconds": seconds,
        "steps_per_second": periods / seconds if seconds > 0 else None,
        "negotiations": len(offers),
        "negotiations_by_outcome": {str(k): int(v) for k, v in sorted(by_outcome.items())},
        "contracts": len(contracts),
        "contracts_formed": int((~existing).sum()),  # negotiated in the run (each renewal counts)
        "contracts_standing": int(existing.sum()),  # exchanges that exist in the scenario
        "builds": len(result.plan.builds),
        "flow_rows": len(result.plan.flows),
    }


def run_case(name: str, runs: int, instrumented: bool = True, profile: bool = False) -> dict[str, Any]:
    """Baseline once, then ``runs`` simulations (seeds 0 .. runs-1) of case ``name``, in this process."""
    from symbiosim.planner import optimise
    from symbiosim.simulator import simulate

    factory, _, baseline_opts = CASES[name]
    out: dict[str, Any] = {"case": name, "status": "ok", "source": source_state(), "rss_start_mb": maxrss_mb()}
    t = time.perf_counter()
    scenario = factory()
    out["scenario_seconds"] = time.perf_counter() - t
    s = scenario
    periods = s.settings.years * s.settings.periods_per_year
    out["scenario"] = {
        "name": s.settings.name,
        "actors": len(s.actors),
        "candidate_actors": sum(not a.exists for a in s.actors),
        "products": len(s.products),
        "actor_processes": len(s.actor_processes),
        "links": len(s.links),
        "candidate_links": sum(not r.exists for r in s.links),
        "uncertainty_rows": len(s.uncertainty),
        "behaviour_rows": len(s.behaviour),
        "years": s.settings.years,
        "periods_per_year": s.settings.periods_per_year,
        "periods": periods,
    }

    t = time.perf_counter()
    baseline = optimise(scenario, baseline=True, **baseline_opts)
    out["baseline"] = {
        "seconds": time.perf_counter() - t,
        "options": baseline_opts or {"mip_gap": "default"},
        "status": baseline.meta.get("status"),
        "gap": baseline.meta.get("gap"),
        "build_seconds": baseline.meta.get("build_seconds"),
        "solve_seconds": baseline.meta.get("solve_seconds"),
        "objective_value": baseline.meta.get("objective_value"),
    }
    out["rss_after_baseline_mb"] = maxrss_mb()

    t = time.perf_counter()
    import symbiosim.simulator.model  # noqa: F401  (Mesa and the agents: imported lazily by simulate)

    out["simulator_import_seconds"] = time.perf_counter() - t
    timers = Timers()
    if instrumented:
        instrument(timers)

    out["runs"] = []
    for seed in range(runs):
        timers.reset()
        t, cpu = time.perf_counter(), time.process_time()
        result = simulate(scenario, seed, baseline=baseline)
        seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
        run = _run_summary(result, seconds, periods)
        run["cpu_seconds"] = cpu  # this process's CPU time: less sensitive to other load on the machine
        run["load_average_1min"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        run["rss_after_mb"] = maxrss_mb()
        if instrumented:
            run["timers"] = timers.snapshot()
        out["runs"].append(run)
        del result
        print(
            f"  [{name}] seed {seed}: {seconds:.3f} s (CPU {cpu:.3f} s), {run['negotiations']} negotiations, "
            f"{run['contracts_formed']} contracts formed",
            file=sys.stderr,
            flush=True,
        )
    out |= _aggregate(out["runs"], periods)
    out["peak_rss_mb"] = maxrss_mb()

    if profile:
        out["profile"] = profile_run(scenario, baseline, seed=0)
    return out


def _stats(xs: list[float]) -> dict[str, float | None]:
    if not xs:
        return {"mean": None, "min": None, "max": None, "stdev": None}
    return {
        "mean": statistics.fmean(xs),
        "min": min(xs),
        "max": max(xs),
        "stdev": statistics.stdev(xs) if len(xs) > 1 else 0.0,
    }


def _aggregate(runs: list[dict[str, Any]], periods: int) -> dict[str, Any]:
    first = runs[0]
    steady = runs[1:] or runs[:1]  # one run only: it is all there is
    secs = [r["seconds"] for r in steady]
    mean = statistics.fmean(secs)
    agg: dict[str, Any] = {
        "first_run": {
            "seconds": first["seconds"],
            "steps_per_second": first["steps_per_second"],
            "warmup_seconds": first["seconds"] - mean if len(runs) > 1 else None,
        },
        "steady_state_runs": len(runs) - 1 if len(runs) > 1 else 1,
        "steady_includes_first_run": len(runs) == 1,
        "run_seconds": _stats(secs),
        "run_seconds_all": _stats([r["seconds"] for r in runs]),
        "run_cpu_seconds": _stats([r["cpu_seconds"] for r in steady]),
        "steps_per_second": periods / mean if mean > 0 else None,
        "runs_per_second": 1 / mean if mean > 0 else None,
        "negotiations_per_run": _stats([float(r["negotiations"]) for r in runs]),
        "contracts_formed_per_run": _stats([float(r["contracts_formed"]) for r in runs]),
    }
    if "timers" in first:
        labels = sorted({k for r in steady for k in r["timers"]})
        agg["timers_steady_mean"] = {
            k: {
                "calls": statistics.fmean(r["timers"].get(k, {}).get("calls", 0) for r in steady),
                "seconds": statistics.fmean(r["timers"].get(k, {}).get("seconds", 0.0) for r in steady),
            }
            for k in labels
        }
    return agg


def profile_run(scenario: Scenario, baseline: Any, seed: int = 0, top: int = 30) -> dict[str, Any]:
    """One more run under cProfile: the top functions by own time and by cumulative time."""
    from symbiosim.simulator import simulate

    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    simulate(scenario, seed, baseline=baseline)
    prof.disable()
    wall = time.perf_counter() - t
    st = pstats.Stats(prof)
    out: dict[str, Any] = {"seed": seed, "seconds_under_profiler": wall, "total_tt": st.total_tt}  # type: ignore[attr-defined]
    for key, sort in (("by_tottime", "tottime"), ("by_cumtime", "cumulative")):
        rows = []
        for func, (cc, nc, tt, ct, _callers) in sorted(
            st.stats.items(),  # type: ignore[attr-defined]
            key=lambda kv: kv[1][2] if sort == "tottime" else kv[1][3],
            reverse=True,
        )[:top]:
            filename, line, fn = func
            rows.append(
                {
                    "function": f"{_short(filename)}:{line}({fn})",
                    "calls": nc,
                    "primitive_calls": cc,
                    "tottime": tt,
                    "cumtime": ct,
                }
            )
        out[key] = rows
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(top)
    out["text"] = buf.getvalue()
    return out


def _short(filename: str) -> str:
    for marker in ("site-packages/", str(REPO) + "/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def run_case_isolated(name: str, runs: int, instrumented: bool, profile: bool) -> dict[str, Any]:
    """``run_case`` in a fresh interpreter: its peak memory, imports and warm-up are the case's own."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.json"
        cmd = [sys.executable, "-m", "benchmarks.run_simulator", "--worker", name, "--worker-out", str(path)]
        cmd += ["--runs", str(runs)]
        if not instrumented:
            cmd.append("--no-instrument")
        if profile:
            cmd += ["--profile", name]
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=None, text=True)  # progress to stderr
        wall = time.perf_counter() - t
        if proc.returncode != 0 or not path.is_file():
            return {"case": name, "status": "error", "error": (proc.stdout or "")[-4000:], "process_seconds": wall}
        out = json.loads(path.read_text())
        out["process_seconds"] = wall  # includes interpreter start and imports
        return out


# ---- report ----------------------------------------------------------------------
def check_targets(cases: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    targets = []
    for name, limit in (("orkanger", ORKANGER_TARGET_S), ("synthetic_300", SYNTH300_TARGET_S)):
        label = f"{name} < {limit:g} s per run (steady state)"
        c = cases.get(name)
        if c is None or c.get("status") in ("skipped", "error"):
            targets.append(
                {
                    "target": label,
                    "result": "SKIP" if c is None or c.get("status") == "skipped" else "FAIL",
                    "detail": "not run" if c is None else (c.get("reason") or c.get("error", ""))[-300:],
                }
            )
            continue
        rs = c["run_seconds"]
        ok = rs["mean"] < limit
        basis = "first run only" if c["steady_includes_first_run"] else f"{c['steady_state_runs']} runs after the first"
        targets.append(
            {
                "target": label,
                "result": "PASS" if ok else "FAIL",
                "value": rs["mean"],
                "detail": (
                    f"wall mean {rs['mean']:.3f} s (min {rs['min']:.3f}, max {rs['max']:.3f}; {basis}; "
                    f"CPU mean {c['run_cpu_seconds']['mean']:.3f} s), "
                    f"first run {c['first_run']['seconds']:.3f} s, slowest of all runs "
                    f"{c['run_seconds_all']['max']:.3f} s ({'within' if c['run_seconds_all']['max'] < limit else 'over'} the target)"
                ),
            }
        )
    return targets


def _fmt_case(c: dict[str, Any]) -> str:
    if c.get("status") in ("skipped", "error"):
        return f"{c['case']}: {c['status'].upper()} {c.get('reason') or c.get('error', '')}".rstrip()
    sc, b = c["scenario"], c["baseline"]
    rs, ng, cf = c["run_seconds"], c["negotiations_per_run"], c["contracts_formed_per_run"]
    lines = [
        f"{c['case']}: {sc['actors']} actors ({sc['candidate_actors']} candidate), {sc['products']} products, "
        f"{sc['links']} links, {sc['years']} y x {sc['periods_per_year']} = {sc['periods']} periods",
        f"  scenario {c['scenario_seconds']:.2f} s | baseline MILP {b['seconds']:.2f} s (build {b['build_seconds']:.2f}, "
        f"solve {b['solve_seconds']:.2f}; {b['status']}, gap {b['gap']}, options {b['options']}) | "
        f"simulator import {c['simulator_import_seconds']:.2f} s",
        f"  first run {c['first_run']['seconds']:.3f} s ({c['first_run']['steps_per_second']:.1f} steps/s)"
        + (
            f", warm-up ~{c['first_run']['warmup_seconds']:.3f} s"
            if c["first_run"]["warmup_seconds"] is not None
            else ""
        ),
        f"  per run ({c['steady_state_runs']} steady): mean {rs['mean']:.3f} s, min {rs['min']:.3f}, max {rs['max']:.3f} | "
        f"{c['steps_per_second']:.1f} steps/s | {c['runs_per_second']:.3f} runs/s | "
        f"CPU time mean {c['run_cpu_seconds']['mean']:.3f} s",
        f"  negotiations per run: mean {ng['mean']:.1f} (min {ng['min']:.0f}, max {ng['max']:.0f}); contracts formed: "
        f"mean {cf['mean']:.1f} (min {cf['min']:.0f}, max {cf['max']:.0f})",
    ]
    tm = c.get("timers_steady_mean")
    if tm:
        mean = rs["mean"]

        def part(k: str) -> str:
            x = tm.get(k)
            if not x:
                return f"{k} -"
            return f"{k.removeprefix('phase_')} {x['seconds']:.3f} s ({x['seconds'] / mean:.0%})"

        lines.append("  time per run: " + " | ".join(part(k) for k in ("setup", "step", "to_plan")))
        lines.append(
            "  in steps: "
            + " | ".join(
                part(k)
                for k in ("phase_discovery", "phase_review_contracts", "phase_offers", "phase_entry", "phase_realise")
            )
        )
        lp, neg = tm.get("firm_lp_solve", {}), tm.get("negotiate", {})
        lines.append(
            f"  firm LP solves {lp.get('calls', 0):.0f} per run, {lp.get('seconds', 0.0):.3f} s "
            f"({lp.get('seconds', 0.0) / mean:.0%}; {1e3 * lp.get('seconds', 0.0) / max(lp.get('calls', 0), 1):.2f} ms each); "
            f"negotiate {neg.get('calls', 0):.0f} calls, {neg.get('seconds', 0.0):.3f} s incl. their LPs"
        )
    src = c.get("source", {})
    lines.append(
        f"  peak RSS {c['peak_rss_mb']:.0f} MB (after baseline {c['rss_after_baseline_mb']:.0f}); "
        f"process wall {c.get('process_seconds', float('nan')):.1f} s; simulator source {src.get('simulator_sha1')}"
        + (
            f" (uncommitted: {', '.join(src['uncommitted_in_symbiosim'])})"
            if src.get("uncommitted_in_symbiosim")
            else ""
        )
    )
    if "profile" in c:
        p = c["profile"]
        lines.append(
            f"  cProfile of seed {p['seed']}: {p['seconds_under_profiler']:.2f} s under the profiler; top own time:"
        )
        for r in p["by_tottime"][:12]:
            lines.append(
                f"    {r['tottime']:8.3f} s own {r['cumtime']:8.3f} s cum {r['calls']:>9} calls  {r['function']}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run_simulator", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", help=f"comma-separated (default {','.join(DEFAULT_CASES)}; all: {','.join(CASES)})")
    parser.add_argument(
        "--runs",
        type=int,
        help="runs per case, seeds 0 .. N-1 (default: " + ", ".join(f"{k} {v[1]}" for k, v in CASES.items()) + ")",
    )
    parser.add_argument("--profile", help="comma-separated cases to profile with one extra cProfile run")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="JSON results file")
    parser.add_argument("--no-instrument", action="store_true", help="do not count LP solves or time phases")
    parser.add_argument(
        "--in-process", action="store_true", help="run cases in this process (peak RSS then accumulates)"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.runs is not None and args.runs < 1:
        parser.error("--runs: expected >= 1")
    profiled = {n.strip() for n in args.profile.split(",")} if args.profile else set()

    if args.worker:
        runs = args.runs or CASES[args.worker][1]
        res = run_case(args.worker, runs, not args.no_instrument, args.worker in profiled)
        Path(args.worker_out).write_text(json.dumps(res, default=str))
        return 0

    names = [n.strip() for n in args.cases.split(",")] if args.cases else list(DEFAULT_CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}: expected {', '.join(CASES)}")

    started = dt.datetime.now(dt.UTC)
    machine = machine_info()
    for pkg in ("mesa", "pandas", "scipy"):
        try:
            machine[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            machine[pkg] = None
    report: dict[str, Any] = {
        "timestamp": started.isoformat(timespec="seconds"),
        "machine": machine,
        "source": source_state(),
        "settings": {
            "runs": {n: args.runs or CASES[n][1] for n in names},
            "instrumented": not args.no_instrument,
            "isolated": not args.in_process,
            "profiled": sorted(profiled),
            "targets_seconds": {"orkanger": ORKANGER_TARGET_S, "synthetic_300": SYNTH300_TARGET_S},
        },
        "cases": {},
    }
    print(
        f"symbiosim simulator benchmark, {report['timestamp']}, {machine['cpu_count']} CPUs, "
        f"Python {machine['python']}, Mesa {machine['mesa']}, highspy {machine['highspy']}, "
        f"git {machine['git_commit']}, simulator source {report['source']['simulator_sha1']}",
        flush=True,
    )
    for name in names:
        runs = args.runs or CASES[name][1]
        reason = _unavailable(name)
        if reason:
            res: dict[str, Any] = {"case": name, "status": "skipped", "reason": reason}
        elif args.in_process:
            res = run_case(name, runs, not args.no_instrument, name in profiled)
        else:
            res = run_case_isolated(name, runs, not args.no_instrument, name in profiled)
        report["cases"][name] = res
        print(_fmt_case(res), flush=True)

    return finish_report(report, check_targets(report["cases"]), started, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
