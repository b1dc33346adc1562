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
contract_years     5          typical length of by-product supply contracts (Yazan et al. 2016);
                              a deal that needs a dedicated asset (a link, or a process built
                              for it) runs longer: see "Terms" below
transaction_cost   0          the fixed part of the transaction cost, per exchange, side and
                              year, in the scenario's own currency. No default can mean the
                              same in NOK, DKK and MDKK, so it is 0 and the share below
                              carries the cost; a scenario that knows its cost states it
transaction_cost_  0.025      per side: the share of the deal's annual value spent on search,
share                         negotiation and monitoring (5 % of the value for both sides).
                              Transaction costs scale with what is exchanged (Coase 1937;
                              Williamson 1985; per unit exchanged in Fraccascia & Yazan 2018);
                              the level is an assumption, small against the 10-40 % savings
                              reported for IS exchanges, and is to be calibrated (issue 11)
risk_aversion      0          risk neutral; > 0 asks a margin proportional to price volatility
discovery_rate     0.5 /yr    firms learn of one firm beyond their radius every two years
attention          2 /yr      new negotiations a firm starts per year (as supplier offering or
                              as buyer looking for a cheaper source); a first look that finds
                              nothing to offer or no use costs none. Managers' attention is
                              the scarce resource that paces organisational search (Simon
                              1947; Ocasio 1997); symbioses form one exchange at a time over
                              years, not at once (Chertow & Ehrenfeld 2012, "sprouting")
imitation          0.5        learning from neighbours: when a known firm signs a deal, a firm
                              learns of its partner with this probability, and its transaction
                              costs for that product fall to 1 / (1 + imitation x deals seen).
                              Exchanges spread by example and referral once the first ones are
                              visible ("uncovering", Chertow & Ehrenfeld 2012; trust and
                              embeddedness, Domenech & Davies 2011)
price_rule         indexed    the receiver's choice of price rule: ``indexed`` moves the price
                              with the market price of the alternative the deal replaces (the
                              purchase it cuts most, e.g. the gas a heat delivery displaces), as
                              surplus-heat and steam contracts are priced against the
                              customer's alternative cost; ``fixed`` keeps the signed price for
                              the term. Without price uncertainty both are the same
trust_initial      0.5        a firm's trust in a firm it has not dealt with (0..1); a side's
                              transaction cost is scaled by 1.5 - trust (from 1.5x with a
                              stranger to 0.5x with a trusted partner)
trust_gain         0.1        trust added when a contract runs its course (repeated exchange
                              builds trust: Gulati 1995)
trust_loss         0.3        trust lost when the partner ends a contract early: trust is lost
                              faster than it is won (the asymmetry principle, Slovic 1993)
trust_threshold    0.2        below this a firm neither offers to nor buys from the other
                              (after one early exit from a stranger: 0.5 - 0.3 = 0.2 stays
                              in, a second puts it out)
=================  =========  ==============================================================

Search, from both sides (``model.py``): a supplier offers what it disposes of or
sells, and what it could make on top with spare capacity of its own processes
or with its candidate processes (an idle boiler, a heat recovery unit it has not
built); a buyer looks for cheaper sources of what it buys and of the inputs of
its candidate processes among the firms it knows. Each side values a deal with
its own plan with and without it over the term, its own investments included
(the receiver's processes and the link; the supplier's new processes).

Transaction cost of one side of one exchange, per year of the term:
``(transaction_cost + transaction_cost_share x annual value) x (1.5 - trust)``, the
annual value being the joint operating gain of the exchange (the receiver's saving
and the supplier's gain, before investments and transaction costs) per discounted
year. An explicit ``transaction_cost`` (a scenario row or an override) without an
explicit ``transaction_cost_share`` keeps its meaning before contract v1.4, the
whole transaction cost: the share is then 0. So ``transaction_cost: 0`` still
removes all transaction costs.

Terms, renegotiation and exit (``negotiation.py``, ``model.py``):

* **Term.** ``contract_years``, or longer when the deal needs a dedicated asset
  (a link, or a process the receiver builds for it): the term is then the number
  of years the asset needs to pay back at the receiver's hurdle rate out of the
  deal's annual value net of transaction costs, capped by the horizon. Asset
  specificity makes parties write contracts that cover the specific investment,
  so neither side can hold the other up before it is repaid (Williamson 1985;
  Joskow 1987: coal contracts of mine-mouth plants run longest). The price
  follows the receiver's ``price_rule`` (indexed or fixed, above). An entrant (a plant that exists for the by-product) signs
  for its plant's life, the rest of the horizon: otherwise the suppliers could
  hold its sunk plant up at the first renewal (Klein, Crawford & Alchian 1978).
* **Payback.** ``max_payback_years`` stays each firm's own test: the share of the
  investment it carries (its bargaining share) divided by its level annual cash
  from the deal before the investment (its discounted gain over the term divided
  by the term's discounted years).
* **Renegotiation.** A contract that runs its course is renegotiated at once at
  the prices of the day (a built link is then sunk); a kept contract raises both
  sides' trust by 0.1 (repeated exchange builds trust: Gulati 1995).
* **Review.** A side looks at a contract again when its prices move by a 10 %
  step (the step at which firms re-plan their operations).
* **Exit.** A contract that backs a dedicated asset runs its whole term: it is
  take-or-pay, so neither side can walk away from the other's sunk investment
  when prices move (Joskow 1987; Klein, Crawford & Alchian 1978 on hold-up).
  Other contracts: when prices move, each side checks the rest of the contract still
  pays at current prices and ends it if not (efficient breach; Posner 1972); the
  partner's trust in it falls by 0.3, and below 0.2 the partner deals with it no
  more. A firm that cannot operate after a contract ended ends the contract it
  cannot honour.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from symbiosim.scenario.schema import Scenario

DEFAULTS: dict[str, Any] = {
    "hurdle_rate": 0.10,
    "max_payback_years": 4.0,
    "search_radius_km": 10.0,
    "bargaining_power": 0.5,
    "contract_years": 5,
    "transaction_cost": 0.0,
    "transaction_cost_share": 0.025,
    "risk_aversion": 0.0,
    "discovery_rate": 0.5,
    "attention": 2,
    "imitation": 0.5,
    "price_rule": "indexed",
    "trust_initial": 0.5,
    "trust_gain": 0.1,
    "trust_loss": 0.3,
    "trust_threshold": 0.2,
}


@dataclass(frozen=True)
class Rules:
    hurdle_rate: float
    max_payback_years: float
    search_radius_km: float
    bargaining_power: float
    contract_years: int
    transaction_cost: float
    transaction_cost_share: float
    risk_aversion: float
    discovery_rate: float
    attention: int
    imitation: float
    price_rule: str
    trust_initial: float
    trust_gain: float
    trust_loss: float
    trust_threshold: float


def rules_for(scenario: Scenario, actor: str, overrides: dict[str, Any] | None = None) -> Rules:
    """The rules of ``actor``: defaults, then the ``"*"`` row, then its own row, then overrides."""
    values: dict[str, Any] = dict(DEFAULTS)
    given: set[str] = set()
    for row in sorted(scenario.behaviour, key=lambda b: b.actor != "*"):
        if row.actor in ("*", actor):
            stated = {k: v for k, v in row.model_dump().items() if k != "actor" and v is not None}
            values |= stated
            given |= set(stated)
    values |= overrides or {}
    given |= set(overrides or {})
    if "transaction_cost" in given and "transaction_cost_share" not in given:
        values["transaction_cost_share"] = 0.0  # an explicit fixed cost is the whole cost, as before v1.4
    rules = Rules(**{f.name: values[f.name] for f in fields(Rules)})
    return replace(rules, contract_years=int(rules.contract_years), attention=int(rules.attention))
