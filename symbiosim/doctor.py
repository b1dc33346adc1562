"""``symbiosim doctor``: solve a built-in tiny model whose answer is known."""

from __future__ import annotations

import platform
from importlib import metadata

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
    lines.append("doctor: HiGHS works" if ok else "doctor: HiGHS gave a wrong answer")
    return ok, lines
