"""Robustness: which recommendations survive small changes in the input numbers.

Each sample multiplies every perturbed number independently by
``1 + u``, ``u ~ Uniform(-perturb, +perturb)`` (numpy ``default_rng(seed)``;
the same seed gives the same samples). Perturbed numbers:

* prices: ``purchases.price``, ``sales.price``;
* costs: ``actor_processes.variable_cost / fixed_cost / build_cost``,
  ``actors.entry_cost / fixed_cost``, ``links.build_cost / fixed_cost``,
  ``storage.cost``, ``products.transport_cost``;
* disposal costs: ``products.disposal_cost``;
* capacities: ``actor_processes.capacity`` (never below the row's
  ``min_activity``), ``links.capacity``, ``purchases.limit``, ``sales.limit``.

Left alone, because changing them changes what is asked rather than what it
costs (and easily makes a sample infeasible): fixed and minimum activities,
recipes, emission factors, value added and jobs per unit, distances,
policies, settings. Empty cells (unlimited, no price) stay empty.

Every sample rebuilds the model (its coefficients change) and solves the
cluster-NPV optimum. Per decision (entry, build, link, exchange; see
``symbiosim.decide.session``: only decisions that matter, so exchanges by
net flow, without relays of bought goods; a sample whose prices make one
buyer fetch quartz for the other is no new exchange): ``in_reference`` (chosen at the unperturbed
optimum), ``share_chosen`` (share of solved samples choosing it) and
``share_kept`` (share agreeing with the reference: chosen if it is chosen
there, not chosen otherwise). Per key figure: reference, mean, sd, min,
5/50/95 % quantiles and max over the solved samples. Samples without a plan
are counted in ``meta['failed']`` and left out of the shares: ``no plan``, or
``invalid`` when the perturbed scenario fails validation (e.g. a capacity
scaled below the row's fixed activity; the sample's ``error`` says which
cell). Every perturbed scenario is validated like an edited one
(``symbiosim.scenario.edit``). The loop shows the shared progress display
(``symbiosim.progress``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from symbiosim.decide.session import DECISION_KINDS, decisions_of
from symbiosim.errors import InfeasibleError, ModelError, ScenarioError, UnboundedError
from symbiosim.planner.solve import DEFAULT_MIP_GAP
from symbiosim.progress import progress
from symbiosim.report.jsonable import records
from symbiosim.scenario.edit import Cell, set_cells
from symbiosim.scenario.schema import Scenario

PERTURBED: dict[str, tuple[str, ...]] = {
    "purchases": ("price", "limit"),
    "sales": ("price", "limit"),
    "actor_processes": ("variable_cost", "fixed_cost", "build_cost", "capacity"),
    "actors": ("entry_cost", "fixed_cost"),
    "links": ("build_cost", "fixed_cost", "capacity"),
    "storage": ("cost",),
    "products": ("disposal_cost", "transport_cost"),
}
KPIS = ("cluster_npv", "value_added", "jobs", "emissions", "public_cost")


@dataclass
class Robustness:
    """``decisions`` (one row per decision), ``kpis`` (spread per key figure), ``samples`` (per sample)."""

    decisions: pd.DataFrame
    kpis: pd.DataFrame
    samples: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"meta": self.meta, "decisions": records(self.decisions), "kpis": records(self.kpis)}


def perturb(scenario: Scenario, perturb: float, rng: np.random.Generator, *, name: str = "perturbation") -> Scenario:
    """A copy of ``scenario`` with the numbers listed in the module docstring scaled by ``1 + U(-p, p)``.

    The result is validated (``symbiosim.scenario.edit.set_cells``); a perturbation that
    breaks the scenario raises ``ScenarioError`` naming ``name``.
    """
    changes: list[tuple[Cell, float]] = []
    for table, columns in PERTURBED.items():
        for index, row in enumerate(getattr(scenario, table)):
            for col in columns:
                value = getattr(row, col)
                factor = 1.0 + rng.uniform(-perturb, perturb)  # drawn for every cell: samples stay aligned across scenarios
                if value is None:
                    continue
                new = value * factor
                if table == "actor_processes" and col == "capacity":
                    new = max(new, row.min_activity)
                changes.append((Cell(table, index, col), new))
    return set_cells(scenario, changes, name=name)


def robustness(
    scenario: Scenario,
    perturb_by: float = 0.1,
    samples: int = 20,
    *,
    seed: int = 0,
    mip_gap: float = DEFAULT_MIP_GAP,
    time_limit: float | None = None,
) -> Robustness:
    """Re-solve the cluster-NPV optimum under ``samples`` random variations of the input numbers."""
    from symbiosim.accounts import evaluate
    from symbiosim.planner import optimise
    from symbiosim.scenario.data import build_model_data

    if not 0 <= perturb_by < 1:
        raise ValueError("perturb must be in [0, 1)")
    t0 = time.perf_counter()
    ref_plan = optimise(scenario, mip_gap=mip_gap, time_limit=time_limit)
    data = build_model_data(scenario)  # which arcs are relays: the same in every sample (numbers change, not the structure)
    reference = decisions_of(ref_plan, data)
    ref_kpis = evaluate(scenario, ref_plan).kpis
    rng = np.random.default_rng(seed)
    rows, chosen_sets, kinds = [], [], dict(reference)
    failed = 0
    for i in progress(range(samples), desc="robustness", unit="solve"):
        try:
            scen = perturb(scenario, perturb_by, rng, name=f"robustness sample {i}")
        except ScenarioError as exc:  # e.g. a capacity scaled below the row's fixed activity
            failed += 1
            rows.append({"sample": i, "status": "invalid", "error": "; ".join(map(str, exc.issues))})
            continue
        try:
            plan = optimise(scen, mip_gap=mip_gap, time_limit=time_limit)
        except (InfeasibleError, UnboundedError, ModelError):
            failed += 1
            rows.append({"sample": i, "status": "no plan"})
            continue
        chosen = decisions_of(plan, data)
        kinds.update(chosen)
        chosen_sets.append(set(chosen))
        k = evaluate(scen, plan).kpis
        rows.append({"sample": i, "status": plan.meta["status"], **{c: k.get(c, math.nan) for c in KPIS},
                     "decisions": ", ".join(chosen)})
    n = len(chosen_sets)
    dec_rows = []
    for d in sorted(kinds, key=lambda x: (DECISION_KINDS.index(kinds[x]), x)):
        chosen_n = sum(d in c for c in chosen_sets)
        share = chosen_n / n if n else math.nan
        dec_rows.append({
            "kind": kinds[d],
            "decision": d,
            "in_reference": d in reference,
            "share_chosen": share,
            "share_kept": share if d in reference else (1 - share if n else math.nan),
        })
    decisions = pd.DataFrame(dec_rows, columns=["kind", "decision", "in_reference", "share_chosen", "share_kept"])
    table = pd.DataFrame(rows)
    k_rows = []
    for c in KPIS:
        v = table[c].dropna().to_numpy(float) if c in table else np.zeros(0)
        stats = (
            {"mean": v.mean(), "sd": v.std(ddof=1) if len(v) > 1 else 0.0, "min": v.min(), "p05": np.quantile(v, 0.05),
             "p50": np.quantile(v, 0.5), "p95": np.quantile(v, 0.95), "max": v.max()}
            if len(v) else dict.fromkeys(("mean", "sd", "min", "p05", "p50", "p95", "max"), math.nan)
        )
        k_rows.append({"key_figure": c, "reference": ref_kpis.get(c, math.nan), **{s: float(x) for s, x in stats.items()}})
    meta = {
        "scenario": scenario.settings.name,
        "perturb": perturb_by,
        "samples": samples,
        "seed": seed,
        "solved": n,
        "failed": failed,
        "perturbed": {t: list(c) for t, c in PERTURBED.items()},
        "seconds": time.perf_counter() - t0,
    }
    return Robustness(decisions, pd.DataFrame(k_rows), table, meta)
