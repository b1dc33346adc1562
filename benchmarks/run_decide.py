"""Benchmark of decision support: time per extra alternative and per Pareto point
against the first solve, on one built model (no rebuild), for ``orkanger`` and
``synthetic_50`` (mip gap 1e-2 there). Printed and written to
``benchmarks/results/decide.json``.

    .venv/bin/python -m benchmarks.run_decide [--count 3] [--points 4] [--alt-time-limit 30] [--time-limit 120] [--out FILE]

Every solve after the first starts from a feasible plan (a MIP start), so a
time limit gives a plan; its status (optimal | time_limit) is recorded.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

from benchmarks.cases import CASES, unavailable_reason
from symbiosim.decide.alternatives import alternatives
from symbiosim.decide.pareto import pareto

OUT = Path(__file__).resolve().parent / "results" / "decide.json"
GAPS = {"orkanger": 1e-4, "synthetic_50": 1e-2}


def run(name: str, count: int, points: int, alt_time_limit: float, time_limit: float | None) -> dict[str, Any]:
    scenario = CASES[name]()
    gap = GAPS.get(name, 1e-4)
    t0 = time.perf_counter()
    alt = alternatives(scenario, 0.05, count, mip_gap=gap, time_limit=time_limit, alt_time_limit=alt_time_limit,
                       alt_mip_gap=max(gap, 0.1))
    alt_total = time.perf_counter() - t0
    first = alt.timings[0]["seconds"]
    extra = [t["seconds"] for t in alt.timings[1:]]
    t0 = time.perf_counter()
    front = pareto(scenario, "cluster_npv,emissions", points, mip_gap=gap, time_limit=time_limit)
    front_total = time.perf_counter() - t0
    pf = front.timings[0]["seconds"]
    pts = [t["seconds"] for t in front.timings[1:]]
    return {
        "case": name,
        "mip_gap": gap,
        "alternatives": {
            "first_solve_seconds": first,
            # one row per solve after the optimum (each alternative: a SPORES solve, a max-min solve, a polish)
            "solves": [{k: t.get(k) for k in ("plan", "seconds", "status", "min_distance")} for t in alt.timings[1:]],
            "seconds_per_alternative": (sum(extra) / alt.meta["alternatives_found"]) if alt.meta["alternatives_found"] else None,
            "per_alternative_over_first": (sum(extra) / alt.meta["alternatives_found"] / first)
            if alt.meta["alternatives_found"] and first else None,
            "found": alt.meta["alternatives_found"],
            "stopped": alt.meta["stopped"],
            "alt_time_limit": alt_time_limit,
            "total_seconds": alt_total,
        },
        "pareto": {
            "first_solve_seconds": pf,
            "further_solve_seconds": pts,
            "further_status": [t.get("status") for t in front.timings[1:]],
            "mean_further_over_first": (sum(pts) / len(pts) / pf) if pts and pf else None,
            "points": len(front.plans),
            "total_seconds": front_total,
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default="orkanger,synthetic_50")
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--points", type=int, default=4)
    ap.add_argument("--alt-time-limit", type=float, default=30.0)
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--out", type=Path, default=OUT, help=f"JSON results file (default {OUT.relative_to(OUT.parents[2])})")
    args = ap.parse_args()
    results = []
    for name in args.cases.split(","):
        why = unavailable_reason(name)
        if why:
            print(f"{name}: skipped ({why})")
            continue
        try:
            r = run(name, args.count, args.points, args.alt_time_limit, args.time_limit)
        except Exception as exc:  # a failed case is recorded; the others still run
            print(f"{name}: FAILED: {exc}")
            results.append({"case": name, "status": "error", "error": str(exc)})
            continue
        a, p = r["alternatives"], r["pareto"]
        per = a["seconds_per_alternative"]
        solves = ", ".join(f"{s['plan']} {s['seconds']:.1f}" for s in a["solves"])
        print(f"{name} (gap {r['mip_gap']}): alternatives: first solve {a['first_solve_seconds']:.2f} s, then "
              f"{len(a['solves'])} solves ({solves} s), "
              f"{a['found']} found ({'n/a' if per is None else f'{per:.1f} s each'}); {a['stopped'] or 'all'}")
        print(f"{name}: pareto: first solve {p['first_solve_seconds']:.2f} s, further "
              f"{', '.join(f'{x:.2f}' for x in p['further_solve_seconds'])} s ({p['points']} points)")
        results.append(r)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"python": platform.python_version(), "results": results}, indent=2))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
