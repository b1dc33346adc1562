"""Re-solve the planner across samples without rebuilding it.

Most uncertain inputs are money (prices, costs, the discount rate): they move
only the coefficients of the key figures, not the model's structure. A
``ReusablePlanner`` keeps one built Pyomo model and its persistent HiGHS
solver per (arm structure, baseline flag). For a new sample it derives the
new ``ModelData`` and compares its *structure signature* (index sets,
capacities, limits, fixed activities, profiles, which products carry an
exchange subsidy, storage capacities, year/period counts, the subsidy
safeguard bounds' inputs) with the held model's. If equal, the new cluster
NPV coefficients go straight to HiGHS (``cluster_npv_terms``,
``set_linear_objective``; other objectives: Pyomo re-reads the objective
only), and so do the sale limits of existing actors, which are only
variable bounds (market volumes may be sampled); the same persistent solver
re-solves. If anything structural
changed (a capacity or limit is uncertain, an arm changes which products are
subsidised), the model is rebuilt from scratch, so results never depend on
whether reuse happened (tested: the same plan either way).

``benchmarks/run_experiments.py`` measures re-solve against rebuild.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

from symbiosim.plan import Plan
from symbiosim.planner import finish_solve
from symbiosim.planner.build import (
    add_key_figures,
    add_objective,
    build_planner_model,
    cluster_npv_terms,
    fallback_bound,
    trade_upper_bounds,
)
from symbiosim.planner.extract import ColumnReader
from symbiosim.planner.solve import DEFAULT_MIP_GAP, make_solver, set_column_bounds, set_linear_objective, solve_model
from symbiosim.scenario.data import ModelData, build_model_data
from symbiosim.scenario.schema import Scenario

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

# Columns that only enter the key figures (the objective), never a constraint.
_MONEY = {
    "actors": ("entry_cost", "fixed_cost"),
    "actor_processes": ("variable_cost", "fixed_cost", "build_cost", "emissions_per_unit", "value_added_per_unit", "jobs_per_unit"),
    "arcs": ("unit_cost", "fixed_cost", "build_cost", "price"),
    "products": ("disposal_cost", "disposal_emissions"),
}


def _strip(row: Any, drop: tuple[str, ...]) -> Any:
    if hasattr(row, "model_dump"):
        d = row.model_dump()
    elif hasattr(row, "__dataclass_fields__"):
        d = {f: getattr(row, f) for f in row.__dataclass_fields__}
    else:
        return repr(row)
    return tuple(sorted((k, repr(v)) for k, v in d.items() if k not in drop))


def structure_signature(data: ModelData) -> str:
    """Everything of ``data`` that shapes the model's variables and constraints."""
    parts: list[Any] = [
        data.baseline,
        data.years,
        data.ppy,
        sorted((k, _strip(v, _MONEY["actors"])) for k, v in data.actors.items()),
        sorted((k, _strip(v, _MONEY["products"]), k in data.disposal_cost) for k, v in data.products.items()),
        sorted((k, _strip(v, ())) for k, v in data.processes.items()),
        sorted((k, _strip(v, _MONEY["actor_processes"])) for k, v in data.actor_processes.items()),
        sorted((k, _strip(v, _MONEY["arcs"])) for k, v in data.arcs.items()),
        sorted(data.purchase_limit.items(), key=repr),
        # an existing actor's sale limit is only a variable bound (re-set on reuse): its key counts
        sorted(((k, v if data.is_candidate_actor(k[0]) else "bound") for k, v in data.sale_limit.items()), key=repr),
        sorted(data.storage_capacity.items()),
        sorted(p for p, v in data.exchange_subsidy.items() if v),
        data.balance_keys,
        sorted((k, v) for k, v in data.profile_factor.items()),
        sorted((("buy", r.actor, r.product), r.profile) for r in data.scenario.purchases)
        + sorted((("sell", r.actor, r.product), r.profile) for r in data.scenario.sales),
    ]
    return repr(parts)


class _Held(NamedTuple):
    """A built model ready for re-solves."""

    signature: str
    model: Any
    solver: Any
    fallback: float | None  # the big-M of last resort, when the model uses it
    reader: ColumnReader


class ReusablePlanner:
    """Solve many scenarios of one structure with one model and one persistent HiGHS.

    ``solve(scenario, baseline)`` returns the same ``Plan`` as ``optimise``
    (cluster NPV objective); ``stats`` counts reuses and rebuilds.
    """

    def __init__(self, objective: str = "cluster_npv", mip_gap: float = DEFAULT_MIP_GAP, reuse: bool = True) -> None:
        self.objective = objective
        self.mip_gap = mip_gap
        self.reuse = reuse
        self._held: dict[bool, _Held] = {}  # by baseline flag
        self.stats = {"reused": 0, "rebuilt": 0}

    def solve(self, scenario: Scenario, baseline: bool = False) -> Plan:
        t0 = time.perf_counter()
        data = build_model_data(scenario, baseline=baseline)
        sig = structure_signature(data)
        held = self._held.get(baseline)
        reused = (
            self.reuse
            and held is not None
            and held.signature == sig
            # a big-M of last resort (no finite bound) also depends on the sale limits
            and (held.fallback is None or held.fallback == fallback_bound(data))
        )
        if reused:
            assert held is not None
            m, solver, reader = held.model, held.solver, held.reader
            if self.objective == "cluster_npv":  # the numbers straight to HiGHS (no Pyomo expressions)
                npv = cluster_npv_terms(m, data)
                set_linear_objective(solver, npv.constant, npv.coefs, maximise=True)
                refresh = "none"
            else:
                m.del_component(m.objective)
                add_key_figures(m, data)
                add_objective(m, self.objective, None)
                refresh = "objective"
            sells = [(a, p) for (a, p) in data.sale_limit if not data.is_candidate_actor(a)]
            if sells:  # market volumes may be sampled: re-set their bounds
                cols = [m.sell[a, p, t] for (a, p) in sells for t in range(data.periods)]
                ubs = [ub for (a, p) in sells for ub in trade_upper_bounds(data, "sell", a, p)]
                for v, ub in zip(cols, ubs, strict=True):
                    v.setub(ub)
                set_column_bounds(solver, cols, [0.0] * len(cols), ubs)
            self.stats["reused"] += 1
        else:
            m = build_planner_model(data, self.objective)
            solver = make_solver()
            fallback = fallback_bound(data) if any("no finite bound" in n for n in m.data_notes) else None
            reader = ColumnReader(solver)
            self._held[baseline] = _Held(sig, m, solver, fallback, reader)
            self.stats["rebuilt"] += 1
            refresh = "all"
        build_seconds = time.perf_counter() - t0
        # one HiGHS thread per worker: the pool provides the parallelism. A re-solve (refresh
        # other than "all") starts from a cleared HiGHS, so it does not depend on what the
        # planner solved before (results are the same however samples are spread over workers).
        # The plan is read from HiGHS's solution array, not loaded into Pyomo.
        result = solve_model(m, mip_gap=self.mip_gap, solver=solver, threads=1, refresh=refresh, options=BATCH_OPTIONS, load=False)
        if not result.has_solution or result.status not in ("optimal", "time_limit"):
            self._held.pop(baseline, None)  # never reuse a model in an unknown state
        meta = {"source": "baseline" if baseline else "planner", "coalition": None, "build_seconds": build_seconds}
        values = reader.load() if result.has_solution else None
        return finish_solve(m, data, result, self.objective, None, meta, values=values)
