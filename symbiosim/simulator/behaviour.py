"""Each firm's decision rules: the scenario's ``behaviour`` table over documented defaults.

Defaults, and why (industrial-symbiosis agent-based literature):

=================  =========  ==============================================================
rule               default    reason
=================  =========  ==============================================================
hurdle_rate        0.10 /yr   firms discount investments above the social rate; corporate
                              hurdle rates of 10-15 % are typical (Graham & Harvey 2001)
max_payback_years  4          IS investments face short payback demands; 2-5 years are
                              reported for symbiosis projects (Fraccascia & Yazan 2018)
search_radius_km   10         most observed exchanges are local (Chertow 2007; Kalundborg
                              partners sit within a few km)
bargaining_power   0.5        symmetric Nash bargaining: the joint benefit is split equally
                              unless stated (Albino, Fraccascia & Giannoccaro 2016)
contract_years     5          typical length of by-product supply contracts (Yazan et al. 2016)
transaction_cost   20 000/yr  per exchange and side: search, negotiation, monitoring; small
                              but decisive for low-value flows (Fraccascia & Yazan 2018)
risk_aversion      0          risk neutral; > 0 asks a margin proportional to price volatility
discovery_rate     0.5 /yr    firms learn of one firm beyond their radius every two years
=================  =========  ==============================================================
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from symbiosim.scenario.schema import Scenario

DEFAULTS: dict[str, float] = {
    "hurdle_rate": 0.10,
    "max_payback_years": 4.0,
    "search_radius_km": 10.0,
    "bargaining_power": 0.5,
    "contract_years": 5,
    "transaction_cost": 20_000.0,
    "risk_aversion": 0.0,
    "discovery_rate": 0.5,
}


@dataclass(frozen=True)
class Rules:
    hurdle_rate: float
    max_payback_years: float
    search_radius_km: float
    bargaining_power: float
    contract_years: int
    transaction_cost: float
    risk_aversion: float
    discovery_rate: float


def rules_for(scenario: Scenario, actor: str, overrides: dict[str, Any] | None = None) -> Rules:
    """The rules of ``actor``: defaults, then the ``"*"`` row, then its own row, then overrides."""
    values: dict[str, Any] = dict(DEFAULTS)
    for row in sorted(scenario.behaviour, key=lambda b: b.actor != "*"):
        if row.actor in ("*", actor):
            values |= {k: v for k, v in row.model_dump().items() if k != "actor" and v is not None}
    rules = Rules(**{f.name: values[f.name] for f in fields(Rules)})
    rules = replace(rules, contract_years=int(rules.contract_years))
    return replace(rules, **(overrides or {}))
