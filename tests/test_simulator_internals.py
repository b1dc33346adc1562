"""The simulator's internals: the firm LP's parts, typed records, and Mesa's private registry."""

from __future__ import annotations

import gc
from collections import defaultdict

import mesa
import numpy as np
import pytest
import scipy.sparse

from symbiosim.plan import COLUMNS
from symbiosim.simulator import release_from_mesa_registry, simulate
from symbiosim.simulator.firm_lp import _csc, _CscMatrix
from symbiosim.simulator.model import Build, SymbiosisModel
from symbiosim.simulator.negotiation import _share, _transaction_cost
from tests.test_simulator import SCRAP, with_rules
from tests.tiny import build


# ---- Mesa's private registry (https://github.com/mesa/mesa/issues/3179) -------------
def test_mesa_still_keeps_models_in_agent_ids_as_the_patch_assumes():
    """``release_from_mesa_registry`` pops the model from ``mesa.Agent._ids``, a class-level
    dict keyed by model. When this fails, Mesa changed it (mesa#3180 removes ``_ids``):
    check that a batch of runs no longer keeps its models alive, then drop the patch."""
    registry = getattr(mesa.Agent, "_ids", None)
    assert isinstance(registry, defaultdict), f"mesa {mesa.__version__}: Agent._ids changed; see simulate's release_from_mesa_registry"
    model = mesa.Model(rng=0)
    mesa.Agent(model)
    assert model in mesa.Agent._ids, f"mesa {mesa.__version__} no longer registers models in Agent._ids"
    release_from_mesa_registry(model)
    assert model not in mesa.Agent._ids


def test_a_batch_of_runs_keeps_no_model_alive():
    s = build(with_rules(SCRAP))
    before = len(mesa.Agent._ids)
    for seed in range(5):
        simulate(s, seed=seed)
    gc.collect()
    assert len(mesa.Agent._ids) == before
    assert not [o for o in gc.get_objects() if isinstance(o, SymbiosisModel)]


# ---- the firm LP's parts ---------------------------------------------------------------
def test_csc_matrix_sums_duplicates_like_scipy():
    rng = np.random.default_rng(0)
    nrow, ncol = 7, 5
    rows, cols = rng.integers(nrow, size=40), rng.integers(ncol, size=40)
    vals = rng.standard_normal(40)
    a = _csc(vals, rows, cols, nrow, ncol)
    assert isinstance(a, _CscMatrix)
    dense = scipy.sparse.csc_matrix((a.value, a.row_index, a.column_start), shape=(nrow, ncol)).toarray()
    expected = scipy.sparse.coo_matrix((vals, (rows, cols)), shape=(nrow, ncol)).toarray()
    np.testing.assert_allclose(dense, expected)
    assert a.column_start.dtype == np.int32 and a.row_index.dtype == np.int32


def test_empty_csc_matrix():
    a = _csc(np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64), 0, 3)
    assert list(a.column_start) == [0, 0, 0, 0] and len(a.row_index) == 0


# ---- typed records ---------------------------------------------------------------------
def test_build_records_have_the_builds_table_columns():
    assert Build._fields == COLUMNS["builds"]
    link = Build("link", "mill", target="foundry", product="scrap", year=3)
    assert link.link_key == ("mill", "foundry", "scrap")
    assert tuple(link) == ("link", "mill", None, "foundry", "scrap", 3)


def test_nash_share_and_transaction_cost():
    assert _share(1.0, 3.0) == 0.25
    assert _share(0.0, 0.0) == 0.5

    class Side:
        actor = "b"
        trust = {"a": 1.0}
        experience = {"heat": 2}
        rules = type("R", (), {"transaction_cost": 100.0, "transaction_cost_share": 0.025, "imitation": 0.5})

        def trust_in(self, other: str) -> float:
            return self.trust[other]

    partner = type("P", (), {"actor": "a"})
    # (fixed + share x annual value) x (1.5 - trust) x discounted years / (1 + imitation x deals seen)
    assert _transaction_cost(Side(), partner(), "slag", 2.0) == pytest.approx(100.0 * 0.5 * 2.0)  # type: ignore[arg-type]
    assert _transaction_cost(Side(), partner(), "slag", 2.0, 4000.0) == pytest.approx((100.0 + 100.0) * 0.5 * 2.0)  # type: ignore[arg-type]
    assert _transaction_cost(Side(), partner(), "heat", 2.0, 4000.0) == pytest.approx((100.0 + 100.0) * 0.5 * 2.0 / 2.0)  # type: ignore[arg-type]


def test_payback_years_at_the_hurdle_rate():
    """1 per year from year 0 at 10 %: 1, 1.909, 2.736, 3.487, 4.170 discounted years after 1..5 years."""
    from symbiosim.simulator.negotiation import _payback_years

    disc = 1.1 ** -np.arange(10.0)
    assert _payback_years(disc, 0, 1, 4.0, 1.0) == 5
    assert _payback_years(disc, 0, 1, 3.4, 1.0) == 4
    assert _payback_years(disc, 0, 1, 7.0, 1.0) is None  # 10 years give 6.759
    assert _payback_years(disc, 0, 1, 0.0, 1.0) == 0


def test_rejections_are_deals_with_a_reason():
    """A negotiation step that finds no deal ends it with the step's reason (the offers table shows it)."""
    raw = with_rules(SCRAP)
    raw["sales"] = [{"actor": "mill", "product": "scrap", "price": 12}]
    result = simulate(build(raw), seed=1)
    rejected = result.offers[result.offers.outcome == "rejected"]
    assert not rejected.empty
    assert set(rejected.reason) == {"receiver rejects: the supplier's reservation price is above its own inputs"}
