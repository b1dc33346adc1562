"""One progress display for every long command: a tqdm bar on stderr.

Library loops that can run for minutes wrap their iterable in ``progress``
(or update a ``progress(total=...)`` bar by hand). The bar shows only where a
person is watching: stderr is a terminal, or the caller forced it with
``show(True)``; ``show(False)`` silences it (tests, batch jobs). The command
line sets it with ``symbiosim --progress`` / ``--no-progress`` (default: when
stderr is a terminal). A display that should show unless silenced (the
``experiment`` line, which says how many runs are stored) passes
``default=True``. Nothing is printed to stdout, so ``--json`` output stays
one object.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from tqdm import tqdm

T = TypeVar("T")

_forced: bool | None = None  # None: show when stderr is a terminal


def show(flag: bool | None) -> None:
    """Force the bars on (True), off (False), or back to 'when stderr is a terminal' (None)."""
    global _forced
    _forced = flag


def forced() -> bool | None:
    """What ``show`` set last (None: not forced)."""
    return _forced


@contextlib.contextmanager
def shown_as(flag: bool | None) -> Iterator[None]:
    """``show(flag)`` for the ``with`` block, then back to what it was (``symbiosim.cli.main``)."""
    before = _forced
    show(flag)
    try:
        yield
    finally:
        show(before)


def shown(default: bool | None = None) -> bool:
    """Whether a bar shows: as forced by ``show``; else ``default``; else when stderr is a terminal."""
    if _forced is not None:
        return _forced
    return sys.stderr.isatty() if default is None else default


def progress(
    iterable: Iterable[T] | None = None,
    *,
    desc: str,
    total: int | None = None,
    unit: str = "solve",
    default: bool | None = None,
    **options: Any,
) -> Any:
    """A tqdm bar over ``iterable`` (or a manual bar of ``total`` steps: ``bar.update(n)``, ``bar.close()``).

    ``default`` decides when ``show`` did not (see ``shown``); ``options`` go to tqdm
    (e.g. ``initial``, ``bar_format``, ``leave``: the bar is cleared when done unless True).
    """
    settings: dict[str, Any] = {"leave": False, "dynamic_ncols": True, **options}
    return tqdm(iterable, desc=desc, total=total, unit=unit, disable=not shown(default), file=sys.stderr, **settings)
