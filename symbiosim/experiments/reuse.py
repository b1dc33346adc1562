"""Re-solve the planner across samples without rebuilding it.

Most uncertain inputs are money (prices, costs, the discount rate): they move
only the coefficients of the key figures, not the model's structure. A
``ReusablePlanner`` keeps one built ``PlannerModel`` (Pyomo model and
persistent HiGHS) per baseline flag. For a new sample it derives the new
``ModelData`` and asks the held model to ``reprice`` itself: if the data's
*structure signature* (``planner.structure_signature``: index sets,
capacities, limits, fixed activities, profiles, which products carry an
exchange subsidy, storage capacities, year/period counts, the subsidy
safeguard bounds' inputs) equals the model's, the new cluster NPV
coefficients go straight to HiGHS (other objectives: Pyomo re-reads the
objective only), and so do the sale limits of existing actors, which are
only variable bounds (market volumes may be sampled); the same persistent
solver re-solves. If anything structural changed (a capacity or limit is
uncertain, an arm changes which products are subsidised), the model is
rebuilt from scratch, so results never depend on whether reuse happened
(tested: the same plan either way).

``benchmarks/run_experiments.py`` measures re-solve against rebuild.
"""

from __future__ import annotations

import time

from symbiosim.plan import Plan
from symbiosim.planner import DEFAULT_MIP_GAP, PlannerModel, structure_signature
from symbiosim.scenario.data import build_model_data
from symbiosim.scenario.schema import Scenario

__all__ = ["BATCH_MIP_GAP", "BATCH_OPTIONS", "ReusablePlanner", "structure_signature"]

# HiGHS options for batch re-solves, each measured on 40 + 4 Orkanger samples
# with the same optimum in every sample (exact presolve rules and heuristics
# only decide how fast it is found):
# * presolve rules 15 (probing) and 16 (enumeration) off: they took 0.5 of the
#   0.8 s of a typical re-solve;
# * RINS and RENS sub-MIP heuristics off: the slowest samples spent most of
#   their time there (12.5 -> 4.0 s, 3.9 -> 1.8 s; the others 5 % faster).
# Neither is slower on the 50-actor synthetic cluster (8.9 -> 8.7 s to a 1 % gap).
BATCH_OPTIONS = {"presolve_rule_off": (1 << 15) | (1 << 16), "mip_heuristic_run_rins": False, "mip_heuristic_run_rens": False}

# Batch optima stop at a 0.1 % relative gap (single solves: 1e-4). On 40 Orkanger
# samples this took the mean re-solve from 0.52 to 0.37 s and the slowest from
# 6.3 to 2.4 s, with the same incumbent in every sample; the proven gap of each
# sample is stored with its results (``runs.optimum_gap``).
BATCH_MIP_GAP = 1e-3


class ReusablePlanner:
    """Solve many scenarios of one structure with one model and one persistent HiGHS.

    ``solve(scenario, baseline)`` returns the same ``Plan`` as ``optimise``
    (cluster NPV objective); ``stats`` counts reuses and rebuilds.
    """

    def __init__(self, objective: str = "cluster_npv", mip_gap: float = DEFAULT_MIP_GAP, reuse: bool = True) -> None:
        self.objective = objective
        self.mip_gap = mip_gap
        self.reuse = reuse
        self._held: dict[bool, PlannerModel] = {}  # by baseline flag
        self.stats = {"reused": 0, "rebuilt": 0}

    def solve(self, scenario: Scenario, baseline: bool = False) -> Plan:
        t0 = time.perf_counter()
        data = build_model_data(scenario, baseline=baseline)
        pm = self._held.get(baseline)
        if self.reuse and pm is not None and pm.reprice(data):
            self.stats["reused"] += 1
        else:
            # one HiGHS thread per worker: the pool provides the parallelism. A re-solve after
            # ``reprice`` starts from a cleared HiGHS, so it does not depend on what the planner
            # solved before (results are the same however samples are spread over workers).
            pm = PlannerModel(data, self.objective, mip_gap=self.mip_gap, threads=1, options=BATCH_OPTIONS)
            self._held[baseline] = pm
            self.stats["rebuilt"] += 1
        build_seconds = time.perf_counter() - t0
        # the plan is read from HiGHS's solution array, not loaded into Pyomo
        result = pm.solve("baseline" if baseline else "optimum", load=False)
        if not result.has_solution or result.status not in ("optimal", "time_limit"):
            self._held.pop(baseline, None)  # never reuse a model in an unknown state
        pm.solves.clear()  # a batch keeps no log
        return pm.plan(result, build_seconds=build_seconds)
