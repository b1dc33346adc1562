"""The bundled default scenario (scenarios/orkanger.yaml) loads, solves and makes sense.

The optimum and the baseline are solved once per module (about 3 s together).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from symbiosim.accounts import evaluate
from symbiosim.planner import optimise
from symbiosim.scenario import load_scenario

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "orkanger.yaml"


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIO)


@pytest.fixture(scope="module")
def optimum(scenario):
    return optimise(scenario)


@pytest.fixture(scope="module")
def baseline(scenario):
    return optimise(scenario, baseline=True)


def test_validates(scenario):
    assert scenario.settings.name == "orkanger"
    assert scenario.settings.currency == "NOK"


def test_horizon_is_25_years_of_quarters(scenario):
    assert scenario.settings.years == 25
    assert scenario.settings.periods_per_year == 4


def test_optimum_npv_at_least_baseline(scenario, optimum, baseline):
    npv_opt = evaluate(scenario, optimum).kpis["cluster_npv"]
    npv_base = evaluate(scenario, baseline).kpis["cluster_npv"]
    assert npv_opt >= npv_base - 1e-6 * abs(npv_base)
    # the accounts agree with the planner's objective
    assert npv_opt == pytest.approx(optimum.meta["objective_value"], rel=1e-6)


def test_baseline_uses_only_existing_links(scenario, baseline):
    existing = {(r.from_, r.to, r.product) for r in scenario.links if r.exists}
    used = set(zip(baseline.flows.source, baseline.flows.target, baseline.flows["product"], strict=True))
    assert used, "the baseline should keep the existing exchanges"
    assert used <= existing


def test_baseline_keeps_every_existing_exchange(scenario, baseline):
    existing = {(r.from_, r.to, r.product) for r in scenario.links if r.exists}
    flows = baseline.flows[baseline.flows.value > 1e-6]
    used = set(zip(flows.source, flows.target, flows["product"], strict=True))
    assert existing <= used


def test_optimum_builds_some_but_not_all_candidates(scenario, optimum):
    builds = optimum.builds
    assert len(builds) >= 1
    entered = set(builds.loc[builds.kind == "actor", "actor"])
    candidates = {a.id for a in scenario.actors if not a.exists}
    assert entered and entered < candidates


def test_no_big_m_fallbacks(optimum, baseline):
    assert optimum.meta["notes"] == []
    assert baseline.meta["notes"] == []


def test_every_number_has_a_source_comment():
    """House rule of the bundled scenario: each number carries `# [tag] source` or `# [E] reason`."""
    missing = []
    for number, line in enumerate(SCENARIO.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        code, _, comment = line.partition("#")
        code = re.sub(r'"[^"]*"', '""', code)
        code = re.sub(r"\b(description|name|sector):.*", "", code)
        if re.search(r"(?<![\w.\-])-?\d+(?:\.\d+)?(?![\w.])", code) and not comment.strip():
            missing.append(f"line {number}: {line.strip()}")
    assert not missing, "numbers without a source comment:\n" + "\n".join(missing)
