"""symbiosim: how much value a cluster leaves on the table by not exchanging
its by-products, waste heat and water, and which policy gets it back.

Python API::

    from symbiosim import load_scenario, optimise, evaluate
    scenario = load_scenario("scenarios/orkanger.yaml")
    plan = optimise(scenario)                 # coordinated optimum
    base = optimise(scenario, baseline=True)  # no new symbiosis
    print(evaluate(scenario, plan).kpis["cluster_npv"])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "evaluate", "load_scenario", "optimise", "Plan", "Scenario"]

if TYPE_CHECKING:
    from symbiosim.accounts import evaluate
    from symbiosim.plan import Plan
    from symbiosim.planner import optimise
    from symbiosim.scenario import Scenario, load_scenario

_LAZY = {
    "evaluate": "symbiosim.accounts",
    "Plan": "symbiosim.plan",
    "optimise": "symbiosim.planner",
    "Scenario": "symbiosim.scenario",
    "load_scenario": "symbiosim.scenario",
}


def __getattr__(name: str) -> Any:
    # Lazy imports keep `symbiosim --help` fast (Pyomo takes a while to import).
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
