"""Planner benchmark: where the time of one coordinated-optimum solve goes.

    python -m benchmarks.run_planner [--cases a,b] [--mip-gap 0.01] [--time-limit S]
                                     [--out benchmarks/results/planner.json]

For every case (``benchmarks.cases``), in a fresh Python process so that the
peak memory (``ru_maxrss``) is the case's own, it times

* ``scenario``: making the Scenario (generate + validate, or load the YAML);
* ``data``: ``build_model_data``;
* ``pyomo_build``: ``PlannerModel(data)`` (``build_planner_model``);
* ``translate``: Pyomo -> HiGHS (``PlannerModel.send_to_solver``, with the
  check of the model's numbers);
* ``solve``: ``PlannerModel.solve`` on the solver that already holds the model,
  split into Pyomo's ``update`` check, HiGHS's own ``optimize`` and loading
  the solution back;
* ``extract``: ``PlannerModel.plan`` (reading the solution into a Plan);

and records the model size, status, objective, gap and peak memory
(``ru_maxrss``, and the tracemalloc peak of data + Pyomo build, measured in a
second, separate build because tracing slows Python down).
``total = data + pyomo_build + translate + solve``; ``build_share = (data +
pyomo_build) / total``.

It also times ``symbiosim plan scenarios/orkanger.yaml`` end to end (a
subprocess: import, load, plan, baseline, accounts, summary), and checks the
targets: default scenario end to end < 10 s; synthetic_50 solved to a 1 %
gap in < 120 s total with the build < 1/3 of it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from benchmarks.cases import CASES, ORKANGER, REPO, unavailable_reason
from benchmarks.common import finish_report, maxrss_mb

DEFAULT_OUT = REPO / "benchmarks" / "results" / "planner.json"
E2E_TARGET_S = 10.0
SYNTH50_TARGET_S = 120.0
SYNTH50_GAP = 0.01
BUILD_SHARE_TARGET = 1 / 3



def run_case(name: str, mip_gap: float, time_limit: float | None, trace: bool = True) -> dict[str, Any]:
    """Time every stage of one planner solve of case ``name`` (in this process)."""
    from symbiosim.planner import PlannerModel
    from symbiosim.scenario.data import build_model_data

    out: dict[str, Any] = {"case": name}
    rss_start = maxrss_mb()
    t = time.perf_counter()
    scenario = CASES[name]()
    out["scenario_seconds"] = time.perf_counter() - t
    s = scenario
    out["scenario"] = {
        "name": s.settings.name,
        "actors": len(s.actors),
        "candidate_actors": sum(not a.exists for a in s.actors),
        "products": len(s.products),
        "processes": len(s.processes),
        "actor_processes": len(s.actor_processes),
        "candidate_processes": sum(not r.exists for r in s.actor_processes),
        "links": len(s.links),
        "candidate_links": sum(not r.exists for r in s.links),
        "years": s.settings.years,
        "periods_per_year": s.settings.periods_per_year,
    }

    gc.collect()
    t = time.perf_counter()
    data = build_model_data(scenario)
    out["data_seconds"] = time.perf_counter() - t
    t = time.perf_counter()
    pm = PlannerModel(data, mip_gap=mip_gap, time_limit=time_limit)
    out["pyomo_build_seconds"] = time.perf_counter() - t
    out["rss_after_build_mb"] = maxrss_mb()
    out["arcs"] = len(data.arcs)
    out["balance_keys"] = len(data.balance_keys)
    out["big_m_notes"] = pm.notes

    t = time.perf_counter()
    out["size"] = pm.counts()
    out["size_count_seconds"] = time.perf_counter() - t  # not part of the total

    t = time.perf_counter()
    pm.send_to_solver()  # Pyomo -> HiGHS, and the check of the model's numbers
    out["translate_seconds"] = time.perf_counter() - t
    out["rss_after_translate_mb"] = maxrss_mb()
    out["size"] |= pm.size()

    t = time.perf_counter()
    result = pm.solve()
    out["solve_seconds"] = time.perf_counter() - t
    out["rss_after_solve_mb"] = maxrss_mb()
    out |= pm.solver_facts()  # solve_breakdown (Pyomo's timer), highs (run time, nodes, iterations)
    out["status"] = result.status
    out["objective"] = result.objective_value
    out["bound"] = result.bound
    out["gap"] = result.gap

    t = time.perf_counter()
    plan = pm.plan(result) if result.has_solution else None
    out["extract_seconds"] = time.perf_counter() - t
    if plan is not None:
        out["builds"] = len(plan.builds)
        out["flow_rows"] = len(plan.flows)

    total = out["data_seconds"] + out["pyomo_build_seconds"] + out["translate_seconds"] + out["solve_seconds"]
    out["total_seconds"] = total
    out["build_share"] = (out["data_seconds"] + out["pyomo_build_seconds"]) / total if total > 0 else None
    out["pyomo_share"] = (
        (out["data_seconds"] + out["pyomo_build_seconds"] + out["translate_seconds"]) / total if total > 0 else None
    )
    out["rss_start_mb"] = rss_start
    out["peak_rss_mb"] = maxrss_mb()

    if trace:  # a separate build under tracemalloc: the Python-heap peak of data + model
        del plan, result, pm, data
        gc.collect()
        tracemalloc.start()
        data = build_model_data(scenario)
        pm = PlannerModel(data)
        out["build_tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return out


def run_case_isolated(name: str, mip_gap: float, time_limit: float | None, trace: bool) -> dict[str, Any]:
    """``run_case`` in a fresh interpreter: its peak memory and imports are the case's own."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.json"
        cmd = [sys.executable, "-m", "benchmarks.run_planner", "--worker", name, "--worker-out", str(path)]
        cmd += ["--mip-gap", repr(mip_gap)]
        if time_limit is not None:
            cmd += ["--time-limit", repr(time_limit)]
        if not trace:
            cmd.append("--no-tracemalloc")
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
        wall = time.perf_counter() - t
        if proc.returncode != 0 or not path.is_file():
            return {
                "case": name,
                "status": "error",
                "error": (proc.stderr or proc.stdout)[-4000:],
                "process_seconds": wall,
            }
        out = json.loads(path.read_text())
        out["process_seconds"] = wall  # includes interpreter start and imports
        return out


def symbiosim_cli() -> str | None:
    exe = Path(sys.executable).parent / "symbiosim"
    if exe.is_file():
        return str(exe)
    return shutil.which("symbiosim")


def run_end_to_end(scenario: Path = ORKANGER) -> dict[str, Any]:
    """Wall time of ``symbiosim plan SCENARIO`` (plan + baseline + accounts + summary)."""
    cli = symbiosim_cli()
    out: dict[str, Any] = {
        "command": f"symbiosim plan {scenario.relative_to(REPO) if scenario.is_relative_to(REPO) else scenario}"
    }
    if not scenario.is_file():
        return out | {"status": "skipped", "reason": f"{scenario} does not exist"}
    if cli is None:
        return out | {"status": "skipped", "reason": "symbiosim CLI not found"}
    t = time.perf_counter()
    proc = subprocess.run([cli, "plan", str(scenario)], cwd=REPO, capture_output=True, text=True)
    out["wall_seconds"] = time.perf_counter() - t
    out["returncode"] = proc.returncode
    out["status"] = "ok" if proc.returncode == 0 else "error"
    if proc.returncode != 0:
        out["stderr"] = proc.stderr[-4000:]
    t = time.perf_counter()
    subprocess.run([cli, "--version"], capture_output=True)
    out["cli_startup_seconds"] = time.perf_counter() - t
    return out


def machine_info() -> dict[str, Any]:
    def version(pkg: str) -> str | None:
        try:
            return importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            return None

    cpu_model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    with contextlib.suppress(ValueError, OSError, AttributeError):
        mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    commit = None
    try:
        commit = (
            subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
            or None
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        if commit and dirty:
            commit += "+dirty"
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "cpu_model": cpu_model,
        "cpu_count": os.cpu_count(),
        "cpus_available": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gb": round(mem_gb, 1) if mem_gb else None,
        "python": platform.python_version(),
        "pyomo": version("pyomo"),
        "highspy": version("highspy"),
        "numpy": version("numpy"),
        "pydantic": version("pydantic"),
        "symbiosim": version("symbiosim"),
        "git_commit": commit,
        "load_average_1_5_15min": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def check_targets(cases: dict[str, dict[str, Any]], e2e: dict[str, Any]) -> list[dict[str, Any]]:
    targets = []
    if e2e.get("status") == "skipped":
        targets.append(
            {"target": f"default scenario end to end < {E2E_TARGET_S:g} s", "result": "SKIP", "detail": e2e["reason"]}
        )
    else:
        ok = e2e.get("status") == "ok" and e2e["wall_seconds"] < E2E_TARGET_S
        targets.append(
            {
                "target": f"default scenario end to end < {E2E_TARGET_S:g} s",
                "result": "PASS" if ok else "FAIL",
                "value": e2e.get("wall_seconds"),
                "detail": f"{e2e.get('wall_seconds', float('nan')):.2f} s, exit {e2e.get('returncode')}",
            }
        )
    c = cases.get("synthetic_50")
    name = f"synthetic_50 to a {SYNTH50_GAP:.0%} gap in < {SYNTH50_TARGET_S:g} s, build < 1/3 of total"
    if c is None or c.get("status") in ("skipped", "error"):
        targets.append(
            {
                "target": name,
                "result": "SKIP" if c is None or c.get("status") == "skipped" else "FAIL",
                "detail": "not run" if c is None else c.get("error", c.get("status")),
            }
        )
    else:
        solved = c["status"] == "optimal" and c["gap"] is not None and c["gap"] <= SYNTH50_GAP + 1e-9
        fast = c["total_seconds"] < SYNTH50_TARGET_S
        lean = c["build_share"] < BUILD_SHARE_TARGET
        targets.append(
            {
                "target": name,
                "result": "PASS" if solved and fast and lean else "FAIL",
                "value": c["total_seconds"],
                "detail": (
                    f"status {c['status']}, gap {_pct(c['gap'], 4)}, "
                    f"total {c['total_seconds']:.1f} s ({'ok' if fast else 'too slow'}), "
                    f"build share {c['build_share']:.1%} ({'ok' if lean else 'too high'})"
                ),
            }
        )
    return targets


def _pct(x: float | None, digits: int) -> str:
    return "n/a" if x is None else f"{x:.{digits}%}"


def _fmt_case(c: dict[str, Any]) -> str:
    if c.get("status") in ("skipped", "error"):
        return f"{c['case']}: {c['status'].upper()} {c.get('reason') or c.get('error', '')}".rstrip()
    sz = c["size"]
    bd = c.get("solve_breakdown", {})
    lines = [
        f"{c['case']}: {c['scenario']['actors']} actors, {c['scenario']['products']} products, "
        f"{c['scenario']['years']} y x {c['scenario']['periods_per_year']} ppy; {c['arcs']} arcs",
        f"  size: {sz['variables']} variables ({sz['binaries']} binary, {sz['fixed_variables']} fixed), "
        f"{sz['constraints']} constraints, {sz.get('nonzeros', '?')} nonzeros",
        f"  scenario {c['scenario_seconds']:.2f} s | data {c['data_seconds']:.2f} s | pyomo build {c['pyomo_build_seconds']:.2f} s | "
        f"translate {c['translate_seconds']:.2f} s | solve {c['solve_seconds']:.2f} s "
        f"(update {bd.get('update', float('nan')):.2f}, HiGHS {bd.get('optimize', float('nan')):.2f}, "
        f"load {bd.get('load_solution', float('nan')):.2f}) | extract {c['extract_seconds']:.2f} s",
        f"  total {c['total_seconds']:.2f} s, build share {c['build_share']:.1%}, Pyomo share (build + translate) "
        f"{c['pyomo_share']:.1%}; process wall {c.get('process_seconds', float('nan')):.2f} s",
        f"  status {c['status']}, objective {c['objective']:.6g}, gap {_pct(c['gap'], 3)}, "
        f"builds {c.get('builds')}, notes {len(c['big_m_notes'])}",
        f"  peak RSS {c['peak_rss_mb']:.0f} MB (after build {c['rss_after_build_mb']:.0f}, after translate "
        f"{c['rss_after_translate_mb']:.0f}); tracemalloc peak of data + build "
        f"{c.get('build_tracemalloc_peak_mb', float('nan')):.0f} MB",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run_planner", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", help=f"comma-separated, default all: {','.join(CASES)}")
    parser.add_argument("--mip-gap", type=float, default=SYNTH50_GAP, help="relative MIP gap (default 0.01)")
    parser.add_argument("--time-limit", type=float, help="seconds per solve")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="JSON results file")
    parser.add_argument("--no-e2e", action="store_true", help="skip the `symbiosim plan` end-to-end run")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the traced second build")
    parser.add_argument(
        "--in-process", action="store_true", help="run cases in this process (peak RSS then accumulates)"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        worker = run_case(args.worker, args.mip_gap, args.time_limit, trace=not args.no_tracemalloc)
        Path(args.worker_out).write_text(json.dumps(worker, default=str))
        return 0

    names = [n.strip() for n in args.cases.split(",")] if args.cases else list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}: expected {', '.join(CASES)}")

    started = dt.datetime.now(dt.UTC)
    report: dict[str, Any] = {
        "timestamp": started.isoformat(timespec="seconds"),
        "machine": machine_info(),
        "settings": {"mip_gap": args.mip_gap, "time_limit": args.time_limit, "isolated": not args.in_process},
        "cases": {},
    }
    print(
        f"symbiosim planner benchmark, {report['timestamp']}, {report['machine']['cpu_count']} CPUs, "
        f"Python {report['machine']['python']}, Pyomo {report['machine']['pyomo']}, highspy {report['machine']['highspy']}"
    )
    for name in names:
        reason = unavailable_reason(name)
        if reason:
            res: dict[str, Any] = {"case": name, "status": "skipped", "reason": reason}
        elif args.in_process:
            res = run_case(name, args.mip_gap, args.time_limit, trace=not args.no_tracemalloc)
        else:
            res = run_case_isolated(name, args.mip_gap, args.time_limit, trace=not args.no_tracemalloc)
        report["cases"][name] = res
        print(_fmt_case(res), flush=True)

    e2e = {"status": "skipped", "reason": "--no-e2e"} if args.no_e2e else run_end_to_end()
    report["end_to_end"] = e2e
    if e2e.get("status") == "skipped":
        print(f"end to end: SKIPPED ({e2e['reason']})")
    else:
        print(
            f"end to end: `{e2e['command']}` {e2e['wall_seconds']:.2f} s, exit {e2e['returncode']} "
            f"(CLI start-up alone {e2e['cli_startup_seconds']:.2f} s)"
        )

    return finish_report(report, check_targets(report["cases"], e2e), started, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
