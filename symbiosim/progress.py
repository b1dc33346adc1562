"""One progress display for every long command: a tqdm bar on stderr.

Library loops that can run for minutes wrap their iterable in ``progress``
(or update a ``progress(total=...)`` bar by hand). The bar shows only where a
person is watching: stderr is a terminal, or the caller forced it with
``show(True)``; ``show(False)`` silences it (tests, batch jobs, --json).
Nothing is printed to stdout, so ``--json`` output stays one object.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm import tqdm

T = TypeVar("T")

_forced: bool | None = None  # None: show when stderr is a terminal


def show(flag: bool | None) -> None:
    """Force the bars on (True), off (False), or back to 'when stderr is a terminal' (None)."""
    global _forced
    _forced = flag


def shown() -> bool:
    return sys.stderr.isatty() if _forced is None else _forced


def progress(iterable: Iterable[T] | None = None, *, desc: str, total: int | None = None, unit: str = "solve") -> Any:
    """A tqdm bar over ``iterable`` (or a manual bar of ``total`` steps: ``bar.update(n)``, ``bar.close()``)."""
    return tqdm(
        iterable, desc=desc, total=total, unit=unit, disable=not shown(), file=sys.stderr, leave=False, dynamic_ncols=True
    )
