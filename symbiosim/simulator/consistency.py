"""Is a decentralised outcome consistent with the optimum? Feasible for the
planner's model, and never worth more than the optimum."""

from __future__ import annotations

from dataclasses import dataclass

from symbiosim.accounts import evaluate
from symbiosim.plan import Plan
from symbiosim.planner.verify import Violation, plan_violations
from symbiosim.scenario.data import build_model_data
from symbiosim.scenario.schema import Scenario


@dataclass(frozen=True)
class Consistency:
    violations: list[Violation]
    simulated_npv: float
    optimum_npv: float
    mip_gap: float

    @property
    def feasible(self) -> bool:
        return not self.violations

    @property
    def below_optimum(self) -> bool:
        # the optimum is only proven within its MIP gap
        slack = (self.mip_gap or 0.0) * max(1.0, abs(self.optimum_npv)) + 1e-6 * max(1.0, abs(self.optimum_npv))
        return self.simulated_npv <= self.optimum_npv + slack

    @property
    def ok(self) -> bool:
        return self.feasible and self.below_optimum


def check_against_optimum(scenario: Scenario, plan: Plan, optimum: Plan | None = None) -> Consistency:
    """Fix the plan's decisions in the planner's model and check every constraint;
    compare its cluster NPV with the optimum (solved here when not given)."""
    from symbiosim.planner import optimise

    data = build_model_data(scenario)
    optimum = optimum if optimum is not None else optimise(scenario)
    return Consistency(
        violations=plan_violations(data, plan),
        simulated_npv=evaluate(data, plan).kpis["cluster_npv"],
        optimum_npv=evaluate(data, optimum).kpis["cluster_npv"],
        mip_gap=float(optimum.meta.get("gap") or 0.0),
    )
