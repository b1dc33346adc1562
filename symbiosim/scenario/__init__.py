"""Scenario data: schema, loading, checks and the model hand-off."""

from symbiosim.scenario.load import load_scenario, scenario_from_dict
from symbiosim.scenario.schema import Scenario

__all__ = ["Scenario", "load_scenario", "scenario_from_dict"]
