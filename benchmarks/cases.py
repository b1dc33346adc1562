"""Benchmark cases: name -> a callable that returns a validated ``Scenario``.

``orkanger`` reads ``scenarios/orkanger.yaml`` (the default scenario) and is
only available once that file exists; the synthetic cases are generated
(``benchmarks.synthetic``) and always available.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from benchmarks.synthetic import synthetic_scenario
from symbiosim.scenario.schema import Scenario

REPO = Path(__file__).resolve().parents[1]
ORKANGER = REPO / "scenarios" / "orkanger.yaml"


def orkanger() -> Scenario:
    """The default scenario, ``scenarios/orkanger.yaml``."""
    from symbiosim.scenario.load import load_scenario

    if not ORKANGER.is_file():
        raise FileNotFoundError(f"{ORKANGER} does not exist (yet)")
    return load_scenario(ORKANGER)


def synthetic_small() -> Scenario:
    """10 actors, 8 products, 5 years x 4 periods: seconds to solve, for tests."""
    return synthetic_scenario(actors=10, products=8, years=5, periods_per_year=4, seed=0)


def synthetic_50() -> Scenario:
    """50 actors, 30 products, 25 years x 4 periods: the size target of the planner."""
    return synthetic_scenario(actors=50, products=30, years=25, periods_per_year=4, seed=0)


CASES: dict[str, Callable[[], Scenario]] = {
    "orkanger": orkanger,
    "synthetic_small": synthetic_small,
    "synthetic_50": synthetic_50,
}


def unavailable_reason(name: str) -> str | None:
    """Why case ``name`` cannot run here, or None when it can."""
    if name not in CASES:
        return f"unknown case {name!r}: expected one of {', '.join(CASES)}"
    if name == "orkanger" and not ORKANGER.is_file():
        return f"{ORKANGER.relative_to(REPO)} does not exist"
    return None
