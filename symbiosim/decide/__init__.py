"""Decision support beyond the single optimum (issue 6).

* ``alternatives``: near-optimal plans that differ most (MGA, Hamming distance);
* ``pareto``: an epsilon-constraint front between two objectives;
* ``run_cases`` / ``apply_case`` / ``read_cases``: named scenario variants, tables 11 and 12;
* ``robustness``: decisions and key figures under random input variations.

Each returns tidy DataFrames; see the modules' docstrings for the choices made.
"""

from symbiosim.decide.alternatives import Alternatives, alternatives
from symbiosim.decide.cases import Case, CaseResults, apply_case, read_cases, run_cases, write_store
from symbiosim.decide.pareto import ParetoFront, pareto
from symbiosim.decide.robustness import Robustness, robustness

__all__ = [
    "Alternatives",
    "Case",
    "CaseResults",
    "ParetoFront",
    "Robustness",
    "alternatives",
    "apply_case",
    "pareto",
    "read_cases",
    "robustness",
    "run_cases",
    "write_store",
]
