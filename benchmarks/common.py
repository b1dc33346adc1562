"""Shared pieces of the benchmark drivers: peak memory and the JSON report."""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import sys
from pathlib import Path
from typing import Any


def maxrss_mb() -> float:
    """Peak resident memory of this process so far (MB; Linux reports kB, macOS bytes)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 / 1024 if sys.platform == "darwin" else rss / 1024


def finish_report(report: dict[str, Any], targets: list[dict[str, Any]], started: dt.datetime, out: str | Path) -> int:
    """Print the PASS/FAIL lines, stamp the run and write the report as JSON."""
    report["targets"] = targets
    for t in targets:
        print(f"[{t['result']}] {t['target']}: {t.get('detail', '')}")
    report["wall_seconds"] = (dt.datetime.now(dt.UTC) - started).total_seconds()
    if hasattr(os, "getloadavg"):
        report["machine"]["load_average_at_end"] = list(os.getloadavg())
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str, allow_nan=True) + "\n")
    print(f"wrote {path}")
    return 0
