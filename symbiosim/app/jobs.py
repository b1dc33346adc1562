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
        ctx = mp.get_context("spawn")
        self.state = JobState(kind)
        self._queue: Any = ctx.Queue()
        self._proc = ctx.Process(target=_work, args=(kind, scenario, dict(options or {}), self._queue), daemon=True,
                                 name=f"symbiosim-app-{kind}")
        self._proc.start()

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
