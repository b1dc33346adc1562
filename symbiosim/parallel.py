"""Run tasks in worker processes: a local process pool or a Dask cluster, stopped cleanly on a signal.

The batch machinery of ``symbiosim experiment`` and ``symbiosim calibrate``
(a leaf: it imports nothing of symbiosim). ``map_tasks(fn, shared, tasks,
jobs=, dask=, tick=)`` calls ``fn(shared, task)`` for every task, in the
calling process (``jobs=1``), in a pool of ``jobs`` spawned processes, or on
a Dask cluster (``dask="local"`` starts a ``LocalCluster`` of ``jobs``
workers; else a scheduler address), and hands each result to ``tick`` in the
calling process as it arrives (arrival order differs between runs: callers
that need a fixed order key the results, e.g. by run id). ``shared`` is sent
once per worker (scattered on Dask). At most ``2 x workers`` tasks are in
flight, so memory does not grow with the number of tasks. ``Workers`` keeps
the processes for several batches (calibrate's generations).

``Interrupts`` turns SIGINT and SIGTERM into ``KeyboardInterrupt`` in the
main thread (and holds them during a write, and while a process pool is fed:
see ``Interrupts.held``); on any exception the pool's workers are terminated
(a Dask ``LocalCluster`` closed, or this batch's tasks cancelled on a remote
scheduler) before it propagates.
"""

from __future__ import annotations

import atexit
import faulthandler
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

Tick = Callable[[Any], None]


def map_tasks(fn: Callable[[Any, Any], Any], shared: Any, tasks: Iterable[Any], *, jobs: int = 1, dask: str | None = None,
              tick: Tick) -> None:
    """``tick(fn(shared, task))`` for every task: here (``jobs=1``), in a process pool, or on Dask (see the module docstring)."""
    with Workers(jobs, dask) as workers:
        workers.map(fn, shared, tasks, tick)


class BatchInterrupted(KeyboardInterrupt):
    """A batch stopped by a signal (or a ``KeyboardInterrupt``): its workers are ended and
    what was stored is kept. ``exit_code`` is the shell's 128 + signal number (130 for
    SIGINT, 143 for SIGTERM); subclasses say where the runs are (``message``)."""

    def __init__(self, signum: int, stored: int, total: int, db: Path | None) -> None:
        self.signum, self.stored, self.total, self.db = int(signum), int(stored), int(total), db
        super().__init__(self.message)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def message(self) -> str:
        return f"interrupted ({self.signal_name}): {self.stored} of {self.total} runs done"

    def __str__(self) -> str:
        return self.message


class Interrupts:
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
    active: Interrupts | None = None  # the innermost one in effect (``held`` finds it)

    def __init__(self) -> None:
        self.signum: int | None = None
        self._depth = 0
        self._held = False
        self._previous: dict[int, Any] = {}
        self._outer: Interrupts | None = None

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                previous = signal.getsignal(sig)
                if previous is signal.SIG_IGN:
                    continue
                self._previous[sig] = previous
                signal.signal(sig, self._handle)
            self._outer, Interrupts.active = Interrupts.active, self
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()
        if Interrupts.active is self:
            Interrupts.active = self._outer

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

    def check(self) -> None:
        """Raise the held signal now (a safe point inside ``held``)."""
        if self._held:
            self._held = False
            raise KeyboardInterrupt

    @classmethod
    @contextmanager
    def held(cls) -> Iterator[Callable[[], None]]:
        """Hold signals in the block; it calls the yielded ``check`` at safe points.

        An exception raised from a signal handler lands between any two
        bytecodes, e.g. inside ``ProcessPoolExecutor.submit`` just after it
        took its (non-reentrant) shutdown lock: stopping the pool then waits
        for that lock forever. So while a pool is fed, a signal only sets a
        flag, and the loop raises it where no lock is held. Without an active
        ``Interrupts`` (library use) signals act as they would anyway.
        """
        current = cls.active if threading.current_thread() is threading.main_thread() else None
        if current is None:
            yield lambda: None
            return
        with current.deferred():
            yield current.check



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


def _ignore_sigint() -> Any:
    from dask.distributed import WorkerPlugin

    class IgnoreSigint(WorkerPlugin):  # pickled by value (cloudpickle): no import of distributed at module level
        """A LocalCluster's worker processes share the terminal's process group:
        Ctrl-C would hit them too and each would die with a traceback while the
        parent is closing them in order."""

        name = "symbiosim-ignore-sigint"

        def setup(self, worker: Any) -> None:
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGINT, signal.SIG_IGN)

    return IgnoreSigint()


STOP_TIMEOUT = 20.0  # seconds; stopping a pool takes about 1 s, a LocalCluster a few


@contextmanager
def _watchdog(seconds: float) -> Iterator[None]:
    """Print every thread's stack to stderr and exit (code 1) if the block is not done in time.

    Stopping workers waits on processes and on the executor's own threads; a
    stop that hangs would leave the user's terminal (or a CI job) waiting
    with no clue. Completed runs are safe: each was committed when it arrived.
    """
    try:
        faulthandler.dump_traceback_later(seconds, exit=True, file=sys.__stderr__ or sys.stderr)
    except (AttributeError, ValueError, OSError):  # no stderr with a file descriptor: no watchdog
        yield
        return
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


class Workers:
    """Worker processes kept for several batches (``with Workers(jobs, dask) as w: w.map(...); w.map(...)``).

    Started on the first ``map`` that needs them (none for ``jobs=1``
    without Dask: tasks run here). An exception inside ``map`` (an interrupt
    included) stops them at once (pool workers terminated, a ``LocalCluster``
    closed, this batch's tasks cancelled on a remote scheduler) and propagates;
    leaving the block normally shuts them down in order.
    """

    def __init__(self, jobs: int = 1, dask: str | None = None) -> None:
        self.jobs, self.dask = max(1, int(jobs)), dask
        self.pool: Any = None
        self.cluster: Any = None
        self.client: Any = None
        self._shared: Any = None
        self._scattered: Any = None  # the Dask future of ``_shared``

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        self.close(stop=kind is not None)

    def close(self, stop: bool = False) -> None:
        if stop:  # stopping takes a few seconds; if it hangs, say where and end (see _watchdog)
            with _watchdog(STOP_TIMEOUT):
                self._close(stop=True)
        else:
            self._close(stop=False)

    def _close(self, stop: bool) -> None:
        pool, self.pool = self.pool, None
        if pool is not None:
            if stop:
                _stop_pool(pool)
            else:
                pool.shutdown(wait=True)
        client, cluster, self.client, self.cluster = self.client, self.cluster, None, None
        self._shared = self._scattered = None
        if stop and cluster is not None:
            _stop_cluster(cluster)
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    def map(self, fn: Callable[[Any, Any], Any], shared: Any, tasks: Iterable[Any], tick: Tick) -> None:
        """``tick(fn(shared, task))`` for every task, as results arrive."""
        try:
            if self.dask:
                self._map_dask(fn, shared, tasks, tick)
            elif self.jobs > 1:
                self._map_pool(fn, shared, tasks, tick)
            else:
                for task in tasks:
                    tick(fn(shared, task))
        except BaseException:
            self.close(stop=True)
            raise

    def _map_pool(self, fn: Callable[[Any, Any], Any], shared: Any, tasks: Iterable[Any], tick: Tick) -> None:
        import multiprocessing as mp
        from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

        if self.pool is None:
            ctx = mp.get_context("spawn")  # no inherited DuckDB handle or solver state
            self.pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=ctx, initializer=_worker_init,
                                            initargs=(os.getpid(),))
        inflight: set[Future[Any]] = set()
        with Interrupts.held() as check:  # see Interrupts.held: no signal inside the pool's locks

            def drain(limit: int) -> None:
                nonlocal inflight
                while len(inflight) > limit:
                    check()
                    finished, inflight = wait(inflight, timeout=0.1, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        tick(fut.result())

            for task in tasks:
                check()
                inflight.add(self.pool.submit(fn, shared, task))
                drain(2 * self.jobs - 1)  # bounded: memory does not grow with N
            drain(0)

    def _map_dask(self, fn: Callable[[Any, Any], Any], shared: Any, tasks: Iterable[Any], tick: Tick) -> None:
        from dask.distributed import Client, Future, LocalCluster, as_completed

        if self.client is None:
            if self.dask == "local":
                self.cluster = LocalCluster(n_workers=self.jobs, threads_per_worker=1, processes=True, dashboard_address=None)
                self.client = Client(self.cluster)
                self.client.register_plugin(_ignore_sigint())
            else:
                self.client = Client(self.dask)
        client = self.client
        pending: set[Future] = set()
        scattered: Future | None = None
        try:
            # sent once while the same object is passed again (the next batch); a unique key, so that
            # releasing an earlier batch's copy can never drop this one's
            if self._shared is not shared or self._scattered is None:
                self._shared, self._scattered = shared, client.scatter(shared, broadcast=True, hash=False)
            scattered = self._scattered
            workers = max(1, len(client.scheduler_info().get("workers", {})))
            queue = as_completed()

            def take() -> None:
                fut = next(queue)
                pending.discard(fut)
                tick(fut.result())

            for task in tasks:
                fut = client.submit(fn, scattered, task, pure=False)
                pending.add(fut)
                queue.add(fut)
                if len(pending) >= 2 * workers:
                    take()
            while pending:
                take()
        except BaseException:
            # drop this batch's tasks and data from the scheduler (on a remote
            # cluster, not ours to stop, that is all we do)
            if pending or scattered is not None:
                with suppress(Exception):  # best effort while stopping
                    client.cancel([*pending, *([scattered] if scattered is not None else [])], force=True)
            self._shared = self._scattered = None
            raise


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
