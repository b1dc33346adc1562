"""What the region loses without one actor: the coordinated optimum with and without it.

Report section 5.4 and chapter 4 ask what an actor contributes beyond its own
accounts, e.g. by-products that are the main input of another firm. The
planner answers it directly: solve the cluster as it is, then without the
actor (``scenario.edit.without_actor``: its rows, links and behaviour rows
gone), and value both with the same ledger. The difference per actor is
what each firm loses (or gains: a competitor's market) when the actor is
gone; ``inputs_lost`` lists what the actor sent to others in the optimum,
the by-products that no longer come.

With ``outcome="decentralised"`` the same is asked of what the firms do on
their own: the simulator with and without the actor, on the same seed (each
run against its own stand-alone baseline), so a researcher can see whether
an actor the optimum leans on matters to the firms as they actually deal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from symbiosim.accounts import evaluate
from symbiosim.planner import DEFAULT_MIP_GAP, optimise
from symbiosim.report.jsonable import finite, records
from symbiosim.scenario.edit import without_actor
from symbiosim.scenario.schema import Scenario

KPIS = ("cluster_npv", "value_added", "jobs", "emissions", "public_cost")
ACTOR_FIGURES = ("profit", "value_added", "jobs")


@dataclass
class Without:
    """``kpis``: key figure, with, without, lost (with - without); ``actors``: per actor, each figure with,
    without and lost; ``inputs_lost``: what ``actor`` sent to the others in the optimum (totals over the horizon)."""

    actor: str
    kpis: pd.DataFrame
    actors: pd.DataFrame
    inputs_lost: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"actor": self.actor, "meta": self.meta, "kpis": records(self.kpis), "actors": records(self.actors),
                "inputs_lost": records(self.inputs_lost)}

    @property
    def others_lose(self) -> float:
        """What the other actors lose in profit together (NPV; negative: they gain)."""
        others = self.actors[self.actors.actor != self.actor]
        return finite(float(others.profit_lost.sum()))


OUTCOMES = ("optimum", "decentralised")


def _plans(scenario: Scenario, reduced: Scenario, outcome: str, seed: int, mip_gap: float) -> tuple[Any, Any]:
    """The plans of ``outcome`` with and without the actor."""
    if outcome == "optimum":
        return optimise(scenario, mip_gap=mip_gap), optimise(reduced, mip_gap=mip_gap)
    if outcome != "decentralised":
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
    from symbiosim.simulator import simulate

    return simulate(scenario, seed).plan, simulate(reduced, seed).plan


def region_without(scenario: Scenario, actor: str, *, mip_gap: float = DEFAULT_MIP_GAP, outcome: str = "optimum",
                   seed: int = 0) -> Without:
    """The ``outcome`` (the coordinated optimum, or the decentralised outcome of simulator seed ``seed``) with
    and without ``actor`` (see the module docstring).

    Raises:
        ScenarioError: no such actor, or the cluster without it is not a valid scenario.
        InfeasibleError, UnboundedError: either problem has no plan (e.g. another firm's fixed
            activity needs the actor's by-product and has no other source).
        BaselineInfeasibleError: (decentralised) a stand-alone baseline has no plan.
    """
    reduced = without_actor(scenario, actor, name=f"without {actor}")
    with_plan, without_plan = _plans(scenario, reduced, outcome, seed, mip_gap)
    acc_with, acc_without = evaluate(scenario, with_plan), evaluate(reduced, without_plan)
    kpis = pd.DataFrame({"key_figure": list(KPIS),
                         "with": [acc_with.kpis.get(k, 0.0) for k in KPIS],
                         "without": [acc_without.kpis.get(k, 0.0) for k in KPIS]})
    kpis["lost"] = kpis["with"] - kpis["without"]
    a_with = acc_with.actors.set_index("actor")
    a_without = acc_without.actors.set_index("actor").reindex(a_with.index).fillna(0.0)  # the actor itself: 0 without it
    table = pd.DataFrame({"actor": a_with.index})
    for f in ACTOR_FIGURES:
        table[f"{f}_with"] = a_with[f].to_numpy(float)
        table[f"{f}_without"] = a_without[f].to_numpy(float)
        table[f"{f}_lost"] = table[f"{f}_with"] - table[f"{f}_without"]
    flows = with_plan.flows
    sent = flows[(flows.source == actor) & (flows.target != actor)]
    units = {p.id: p.unit for p in scenario.products}
    lost = (sent.groupby(["target", "product"], as_index=False).value.sum().rename(columns={"target": "receiver", "value": "quantity"})
            if len(sent) else pd.DataFrame(columns=["receiver", "product", "quantity"]))
    lost["unit"] = [units.get(p, "") for p in lost["product"]]
    meta = {"scenario": scenario.settings.name, "currency": scenario.settings.currency, "outcome": outcome,
            "seed": seed if outcome == "decentralised" else None,
            "status_with": with_plan.meta.get("status"), "status_without": without_plan.meta.get("status")}
    return Without(actor, kpis, table, lost[lost.quantity > 1e-9].reset_index(drop=True), meta)


def without_summary(result: Without) -> str:
    """The key figures with and without the actor, each actor's loss, and the inputs that no longer come."""
    import symbiosim.report.numbers as numbers

    cur = result.meta.get("currency", "")
    what = ("coordinated optimum" if result.meta.get("outcome", "optimum") == "optimum"
            else f"decentralised outcome, simulator seed {result.meta.get('seed')}")
    lines = [f"The cluster {result.meta.get('scenario', '')} without {result.actor} ({what} with and without it):"]
    rows = [(r.key_figure, *numbers.key_figure(r.key_figure, cur), [r["with"], r["without"], r["lost"]])
            for _, r in result.kpis.iterrows()]
    lines.append(numbers.row_table(rows, ["with", "without", "lost"]))
    others = result.actors[result.actors.actor != result.actor]
    frame = others[["actor", "profit_lost", "value_added_lost", "jobs_lost"]]
    columns = {"actor": numbers.Column("text"), "profit_lost": numbers.Column("money", cur, "profit lost"),
               "value_added_lost": numbers.Column("money", cur, "value added lost"),
               "jobs_lost": numbers.Column("quantity", "jobs/yr", "jobs lost")}
    lines += ["What the other actors lose (NPV over the horizon; negative: they gain):", numbers.table(frame, columns)]
    if len(result.inputs_lost):
        where = "the optimum" if result.meta.get("outcome", "optimum") == "optimum" else "the decentralised outcome"
        lines.append(f"What {result.actor} sent them in {where}, which no longer comes (totals over the horizon):")
        for r in result.inputs_lost.itertuples():
            lines.append(f"  {r.product} to {r.receiver}: {numbers.quantity(r.quantity, r.unit)}")
    return "\n".join(lines)
