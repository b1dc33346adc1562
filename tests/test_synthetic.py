"""The synthetic cluster generator (benchmarks.synthetic): deterministic, valid, solvable."""

from __future__ import annotations

import pytest

from benchmarks.cases import CASES, synthetic_small
from benchmarks.synthetic import seasonal_profile, synthetic_cluster, synthetic_scenario
from symbiosim.planner import optimise


def test_same_seed_same_dict() -> None:
    assert synthetic_cluster(actors=12, products=9, years=4, seed=3) == synthetic_cluster(
        actors=12, products=9, years=4, seed=3
    )


def test_different_seed_different_dict() -> None:
    assert synthetic_cluster(actors=12, products=9, years=4, seed=3) != synthetic_cluster(
        actors=12, products=9, years=4, seed=4
    )


def test_default_size_is_valid_and_structured() -> None:
    s = synthetic_scenario()  # 50 actors, 30 products, 25 years x 4
    assert len(s.actors) == 50 and len(s.products) == 30
    assert s.settings.years == 25 and s.settings.periods_per_year == 4
    assert any(not a.exists for a in s.actors)
    assert any(not r.exists for r in s.actor_processes)
    assert any(not r.exists and r.build_cost for r in s.links)
    assert any(p.needs_link for p in s.products) and s.storage
    # no big-M fallbacks needed: every candidate has a capacity, every newcomer's trade a limit
    assert all(r.capacity is not None for r in s.actor_processes if not r.exists)
    assert all(r.capacity is not None for r in s.links if not r.exists)
    newcomers = {a.id for a in s.actors if not a.exists}
    assert all(r.limit is not None for r in (*s.purchases, *s.sales) if r.actor in newcomers)


@pytest.mark.parametrize("ppy", [1, 2, 4, 12])
def test_profiles_average_one(ppy: int) -> None:
    factors = seasonal_profile(ppy, 0.45, 0.1)
    assert len(factors) == ppy
    assert abs(sum(factors) / ppy - 1) <= 1e-6 and min(factors) >= 0


@pytest.mark.parametrize(
    "kwargs", [{"actors": 3, "products": 4, "years": 1, "periods_per_year": 1}, {"periods_per_year": 12, "years": 3}]
)
def test_edge_sizes_validate(kwargs: dict) -> None:
    synthetic_scenario(**kwargs)


def test_synthetic_small_solves_and_beats_baseline() -> None:
    s = synthetic_small()
    plan = optimise(s)
    base = optimise(s, baseline=True)
    assert plan.meta["status"] == "optimal"
    assert base.meta["status"] == "optimal"
    assert plan.meta["objective_value"] >= base.meta["objective_value"] - 1e-6 * abs(base.meta["objective_value"])
    assert not [n for n in plan.meta["notes"] if "no finite bound" in n]
    assert not plan.meta["notes"]
    assert not base.meta["notes"]


def test_case_registry() -> None:
    assert {"orkanger", "synthetic_small", "synthetic_50"} <= set(CASES)
