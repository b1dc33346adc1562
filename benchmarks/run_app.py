"""Web app benchmark: how fast the first page is usable and a plan shows its results, in a real browser.

    python -m benchmarks.run_app [--repeat 3] [--shots docs/app] [--out benchmarks/results/app.json]

Starts ``symbiosim app`` (the bundled Orkanger scenario) on a free port,
then, in headless Chromium driven by Playwright, ``--repeat`` times in a
fresh browser context (a new Solara session each): opens the page and
times until the actors are on the map (first page usable), clicks Plan and
times until the key figures are shown, and times Compare the same way.

Targets (issue 13, on a 2-core machine): the first page usable within 3 s
of the server being up; a plan of the default scenario shows its results
within 10 s. ``--shots DIR`` also saves the screenshots the README uses.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.common import finish_report

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise SystemExit("symbiosim app ended before it answered")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return time.monotonic() - t0
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"symbiosim app did not answer within {timeout} s")


def _session(browser: Any, url: str, shots: Path | None, first: bool) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1400, "height": 2200 if shots else 1000})
    page = context.new_page()
    out: dict[str, float] = {}
    t0 = time.monotonic()
    page.goto(url)
    page.wait_for_selector(".cluster-map .leaflet-interactive", timeout=60_000)
    out["first_page_usable_s"] = time.monotonic() - t0
    for kind in ("plan", "compare"):
        t0 = time.monotonic()
        page.locator(f".run-{kind}").click()
        page.wait_for_selector(f".run-done:has-text('{kind.capitalize()}')", timeout=300_000)
        page.locator(".v-tab", has_text="Results").click()
        page.wait_for_selector(".key-figures", timeout=60_000)
        out[f"{kind}_to_results_s"] = time.monotonic() - t0
        if shots and first:
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / f"{kind}-results.png"), full_page=True)
        if shots and first:
            page.wait_for_timeout(500)
            page.screenshot(path=str(shots / f"{kind}-map.png"))
    context.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--shots", type=Path, default=None, help="save screenshots (the README's) here")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "app.json"))
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("no chromium: apt-get install chromium")
    started = dt.datetime.now(dt.UTC)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    exe = Path(sys.executable).parent / "symbiosim"
    proc = subprocess.Popen([str(exe), "app", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    runs: list[dict[str, float]] = []
    try:
        up = _wait_up(url, proc)
        print(f"server up after {up:.2f} s")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-dev-shm-usage"])
            for i in range(args.repeat):
                run = _session(browser, url, args.shots, first=i == 0)
                print(f"session {i + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in run.items()))
                runs.append(run)
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)

    def stats(key: str) -> dict[str, float]:
        xs = [r[key] for r in runs]
        return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}

    report: dict[str, Any] = {
        "benchmark": "app",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "server_up_s": up,
        "sessions": runs,
        "first_page_usable_s": stats("first_page_usable_s"),
        "plan_to_results_s": stats("plan_to_results_s"),
        "compare_to_results_s": stats("compare_to_results_s"),
    }
    first, plan = report["first_page_usable_s"]["max"], report["plan_to_results_s"]["max"]
    targets = [
        {"target": "first page usable < 3 s after the server is up", "result": "PASS" if first < 3 else "FAIL",
         "detail": f"worst of {len(runs)}: {first:.2f} s"},
        {"target": "a plan of the default scenario shows its results < 10 s", "result": "PASS" if plan < 10 else "FAIL",
         "detail": f"worst of {len(runs)}: {plan:.2f} s"},
    ]
    return finish_report(report, targets, started, args.out)


if __name__ == "__main__":
    sys.exit(main())
