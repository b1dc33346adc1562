"""Scenario data: schema, loading, checks, edits and the model hand-off."""

from symbiosim.scenario.edit import Cell, Edit, UncertainInput, add_rows, apply_edits, distributions, resolve, set_cells
from symbiosim.scenario.history import History, formed_years, load_history
from symbiosim.scenario.load import load_scenario, scenario_from_dict
from symbiosim.scenario.schema import Scenario

__all__ = [
    "Cell",
    "Edit",
    "History",
    "Scenario",
    "UncertainInput",
    "add_rows",
    "apply_edits",
    "distributions",
    "formed_years",
    "load_history",
    "load_scenario",
    "resolve",
    "scenario_from_dict",
    "set_cells",
]
