"""``symbiosim doctor``: solve a built-in tiny model whose answer is known."""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Any

# A smelter's waste heat can replace a greenhouse's gas boiler over a link
# costing 1000. Gas: 80 MWh/yr x 50 = 4000/yr for 2 years, no discounting.
# Optimum: build the link in year 0, cluster NPV = -1000 (baseline -8000).
DOCTOR_SCENARIO = {
    "settings": {"name": "doctor", "years": 2, "periods_per_year": 1, "discount_rate": 0.0},
    "products": [
        {"id": "heat", "unit": "MWh", "kind": "energy", "disposal_cost": 0, "needs_link": True},
        {"id": "gas", "unit": "MWh", "kind": "energy"},
        {"id": "warmth", "unit": "MWh", "kind": "energy"},
    ],
    "actors": [
        {"id": "smelter", "lat": 63.3, "lon": 9.86, "region": "north"},
        {"id": "greenhouse", "lat": 63.3, "lon": 9.86, "region": "south"},
    ],
    "processes": [
        {"id": "smelt", "outputs": {"heat": 100}},
        {"id": "boil", "inputs": {"gas": 1}, "outputs": {"warmth": 1}},
        {"id": "recv", "inputs": {"heat": 1}, "outputs": {"warmth": 1}},
        {"id": "grow", "inputs": {"warmth": 1}},
    ],
    "actor_processes": [
        {"actor": "smelter", "process": "smelt", "fixed_activity": 1},
        {"actor": "greenhouse", "process": "boil"},
        {"actor": "greenhouse", "process": "recv"},
        {"actor": "greenhouse", "process": "grow", "fixed_activity": 80},
    ],
    "purchases": [{"actor": "greenhouse", "product": "gas", "price": 50}],
    "links": [{"from": "smelter", "to": "greenhouse", "product": "heat", "build_cost": 1000, "capacity": 100}],
}
EXPECTED = {"optimum": -1000.0, "baseline": -8000.0}
# Re-solved as a batch does (PlannerModel.reprice: new prices straight to HiGHS, the plan
# read from HiGHS's columns) with gas at 5: 80 x 5 x 2 = 800 < 1000 for the link, NPV -800.
CHEAP_GAS = 5.0
EXPECTED_RESOLVE = -800.0


def package_version(name: str) -> str:
    """The installed version of a distribution (``importlib.metadata``; highspy has no ``__version__``), else ``?``."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def versions() -> str:
    """One line: the versions of symbiosim, Python and the solver stack."""
    from symbiosim import __version__

    return (
        f"symbiosim {__version__}, Python {platform.python_version()}, Pyomo {package_version('pyomo')}, "
        f"highspy {package_version('highspy')}"
    )


def run_doctor() -> tuple[bool, list[str]]:
    """Returns (ok, report lines)."""
    from symbiosim.accounts import evaluate
    from symbiosim.planner import optimise
    from symbiosim.scenario import scenario_from_dict

    lines = [versions()]
    scenario = scenario_from_dict(DOCTOR_SCENARIO, source="doctor")
    ok = True
    for name, baseline in (("optimum", False), ("baseline", True)):
        plan = optimise(scenario, baseline=baseline)
        got = plan.meta["objective_value"]
        accounted = evaluate(scenario, plan).kpis["cluster_npv"]
        good = abs(got - EXPECTED[name]) < 1e-6 and abs(accounted - got) < 1e-6
        ok &= good
        lines.append(
            f"  {name:<9} HiGHS {plan.meta['status']}: cluster NPV {got:,.1f} (expected {EXPECTED[name]:,.1f}), "
            f"accounts {accounted:,.1f} in {plan.meta['solve_seconds'] * 1000:.0f} ms: {'ok' if good else 'WRONG'}"
        )
    good, line = _resolve_check(scenario)
    ok &= good
    lines.append(line)
    lines.append("doctor: HiGHS works" if ok else "doctor: HiGHS gave a wrong answer")
    return ok, lines


def _resolve_check(scenario: Any) -> tuple[bool, str]:
    """A batch re-solve of the doctor model with cheaper gas (the persistent solver's path)."""
    from symbiosim.planner import PlannerModel
    from symbiosim.scenario import scenario_from_dict
    from symbiosim.scenario.data import build_model_data

    pm = PlannerModel.from_scenario(scenario)
    pm.solve("optimum")
    gas: dict[str, Any] = {"actor": "greenhouse", "product": "gas", "price": CHEAP_GAS}  # DOCTOR_SCENARIO's purchase, cheaper
    raw = {**DOCTOR_SCENARIO, "purchases": [gas]}
    repriced = pm.reprice(build_model_data(scenario_from_dict(raw, source="doctor")))
    result = pm.solve("re-solve", load=False)
    got = pm.plan(result).meta["objective_value"]
    good = repriced and abs(got - EXPECTED_RESOLVE) < 1e-6
    return good, (
        f"  re-solve  HiGHS {result.status}: cluster NPV {got:,.1f} with gas at {CHEAP_GAS:g} (expected {EXPECTED_RESOLVE:,.1f}) "
        f"in {result.seconds * 1000:.0f} ms: {'ok' if good else 'WRONG'}"
    )
