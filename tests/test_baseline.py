"""When the stand-alone baseline has no plan: the optimum is still reported, the baseline's
diagnosis is labelled as the baseline's, and shares of the potential are undefined (issue 10, item 4)."""

from __future__ import annotations

import copy

import pytest

from symbiosim.accounts import evaluate
from symbiosim.errors import BaselineInfeasibleError, InfeasibleError
from symbiosim.planner import optimise
from symbiosim.scenario import scenario_from_dict
from tests.tiny import FEED_ENTRY, HEAT_LINK


def greenfield() -> dict:
    """FEED_ENTRY with the fish plant a candidate too: nobody exists yet."""
    raw = copy.deepcopy(FEED_ENTRY)
    raw["actors"][0]["exists"] = False
    raw["actor_processes"][0]["exists"] = False
    return raw


def needs_the_pipe() -> dict:
    """HEAT_LINK without the gas boiler: the greenhouse's fixed growing (80 MWh/yr of warmth)
    can only be fed by the smelter's heat over the candidate pipe."""
    raw = copy.deepcopy(HEAT_LINK)
    raw["actor_processes"] = [r for r in raw["actor_processes"] if r["process"] != "boil"]
    return raw


def test_greenfield_baseline_is_the_empty_plan():
    """Nobody exists in the baseline: nothing happens, NPV 0 (HiGHS calls a model without
    variables 'empty'; it was reported as a solver failure). The optimum: the feed mill
    enters in year 2 (earliest), takes 10 t/yr of offcuts for years 2-3 and sells feed at
    50/t: 2 x 10 x 50 - 500 entry = 500; the fish plant enters in year 2 as well (earlier,
    it would pay 100/t to dispose of its offcuts)."""
    sc = scenario_from_dict(greenfield())
    base = optimise(sc, baseline=True)
    assert base.meta["status"] == "optimal" and base.meta["objective_value"] == 0.0
    assert all(t.empty for t in base.tables().values())
    assert evaluate(sc, base).kpis["cluster_npv"] == 0.0
    assert optimise(sc).meta["objective_value"] == pytest.approx(500)


def test_baseline_diagnosis_names_the_exchange_the_actor_depends_on():
    sc = scenario_from_dict(needs_the_pipe())
    assert optimise(sc).meta["objective_value"] == pytest.approx(-1000)  # the pipe, no gas
    with pytest.raises(BaselineInfeasibleError) as info:
        optimise(sc, baseline=True)
    text = str(info.value)
    assert text.startswith("the stand-alone baseline (no new symbiosis) has no plan")
    assert "actor `greenhouse` cannot run its fixed activity `grow`: it lacks `heat`, which only `smelter` can send" in text
    assert "declare it as a link with exists: true" in text


def test_an_infeasible_optimum_is_not_labelled_as_the_baseline():
    """Without the pipe too, nothing can feed the greenhouse: the scenario itself is infeasible,
    and the shortage is reported as missing (not as left over)."""
    raw = needs_the_pipe()
    raw.pop("links")
    with pytest.raises(InfeasibleError) as info:
        optimise(scenario_from_dict(raw))
    assert not isinstance(info.value, BaselineInfeasibleError)
    assert "missing" in str(info.value) and "left over" not in str(info.value)
