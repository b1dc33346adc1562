"""Runs of the web app in a worker process: start, read progress, cancel.

A plan or a comparison takes seconds to minutes and holds the GIL in Pyomo
and the simulator; run in the server's process it would freeze every page.
Each run is one spawned process (no inherited solver or DuckDB state) that
takes the scenario as plain data, validates it again, calls the same
library functions as the CLI (``symbiosim.runs``) and sends back plain,
picklable results. Cancel terminates the process; nothing it did is kept.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

KINDS = ("plan", "simulate", "compare", "incentives", "cases")


@dataclass
class JobState:
    """What the page shows of a run: ``status`` is running, done, failed or cancelled."""

    kind: str
    status: str = "running"
    stage: str = "starting a worker"
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    result: dict[str, Any] | None = None
    error: str = ""

    @property
    def seconds(self) -> float:
        return (self.ended or time.monotonic()) - self.started


class Job:
    """One run in its own process. ``poll()`` updates ``state`` from the worker's messages."""

    def __init__(self, kind: str, scenario: dict[str, Any], options: dict[str, Any] | None = None) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown run {kind!r}; expected one of {', '.join(KINDS)}")
        self.state = JobState(kind)
        self._proc, conn, self._queue = _take_warm()
        conn.send((kind, scenario, dict(options or {})))
        conn.close()

    @property
    def running(self) -> bool:
        return self.state.status == "running"

    def poll(self) -> JobState:
        while self.running:
            try:
                what, payload = self._queue.get_nowait()
            except queue.Empty:
                if not self._proc.is_alive():  # died without a word (killed, crashed)
                    self._end("failed", error=f"the worker process ended (exit code {self._proc.exitcode})")
                break
            if what == "stage":
                self.state.stage = str(payload)
            elif what == "done":
                self.state.result = payload
                self._end("done")
            elif what == "failed":
                self._end("failed", error=str(payload))
        return self.state

    def wait(self, timeout: float = 300.0) -> JobState:
        """Poll until the run ends (tests and scripts; the page polls on its own)."""
        end = time.monotonic() + timeout
        while self.poll().status == "running" and time.monotonic() < end:
            time.sleep(0.05)
        return self.state

    def cancel(self) -> None:
        if self.running:
            self._proc.terminate()
            self._proc.join(2.0)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join(1.0)
            self._end("cancelled")

    def _end(self, status: str, error: str = "") -> None:
        self.state.status, self.state.error, self.state.ended = status, error, time.monotonic()
        self.state.stage = status
        if not self._proc.is_alive():
            self._proc.join(0.1)
        self._queue.close()


# One spawned worker waits, its imports done (Pyomo, pandas, the simulator: about 2 s), for the next
# run; a run takes it and a new one starts warming. It costs one idle process (~200 MB) per server.
_warm: tuple[Any, Any, Any] | None = None
_warm_lock = threading.Lock()


def _new_warm() -> tuple[Any, Any, Any]:
    ctx = mp.get_context("spawn")  # no inherited solver state, threads or sockets of the server
    receive, send = ctx.Pipe(duplex=False)
    out = ctx.Queue()
    proc = ctx.Process(target=_wait_for_run, args=(receive, out), daemon=True, name="symbiosim-app-worker")
    proc.start()
    receive.close()
    return proc, send, out


def _take_warm() -> tuple[Any, Any, Any]:
    """A ready worker (or a new one), and a new one warming for the next run."""
    global _warm
    with _warm_lock:
        ready = _warm if _warm is not None and _warm[0].is_alive() else _new_warm()
        _warm = _new_warm()
    return ready


def prewarm() -> None:
    """Start the first worker now (the page calls it when it opens), so the first run does not wait for it."""
    global _warm
    with _warm_lock:
        if _warm is None or not _warm[0].is_alive():
            _warm = _new_warm()


def _wait_for_run(conn: Any, out: Any) -> None:
    import symbiosim.app.results  # noqa: F401  (the imports a run needs, done while waiting)
    import symbiosim.runs  # noqa: F401

    try:
        kind, scenario, options = conn.recv()
    except EOFError:  # the server ended
        return
    _work(kind, scenario, options, out)


def _work(kind: str, scenario: dict[str, Any], options: dict[str, Any], out: Any) -> None:
    """The worker: validate, run, send plain results (or the error a person can read)."""
    try:
        from symbiosim.app.results import run

        out.put(("stage", "checking the scenario"))
        out.put(("done", run(kind, scenario, options, lambda stage: out.put(("stage", stage)))))
    except BaseException as exc:  # the page shows it; the server goes on
        from symbiosim.errors import ScenarioError

        if isinstance(exc, ScenarioError):
            out.put(("failed", str(exc)))
        else:
            frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            where = f" ({frame.name}, line {frame.lineno})" if frame else ""
            out.put(("failed", f"{type(exc).__name__}: {exc}{where}"))
