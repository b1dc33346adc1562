"""The one ledger of money: every item of cash, who books it, and its per-unit value.

Each ``Item`` prices one kind of planner decision (its ``variable``) for one
actor, with the per-unit coefficients of ``ModelData`` (the same numbers the
planner, the accounts and the firms use):

==================  ==========  ======================  ===================================
item                variable    booked to               money per unit (sign: + in, - out)
==================  ==========  ======================  ===================================
sales               sell        the seller              + sale price
purchases           buy         the buyer               - price (+ virgin tax + carbon)
activity_costs      act         the operator            - variable cost (+ carbon)
disposal_costs      dump        the disposer            - cost (+ disposal tax + carbon)
storage_costs       store       the store's owner       - cost per unit stored per period
transport           flow        the receiver            - transport cost
subsidy             flow        the receiver            + exchange subsidy
fixed_costs         present     the actor               - fixed cost per year present
fixed_costs         built       the process's actor     - fixed cost per year built
fixed_costs         linked      the link's receiver     - fixed cost per year (existing: always)
investment          enter       the entrant             - entry cost x (1 - investment subsidy)
investment          build       the process's actor     - build cost x (1 - investment subsidy)
investment          link        the link's receiver     - build cost x (1 - investment subsidy)
transfer_in         flow        the sender              + transfer price (``flows.price``)
transfer_out        flow        the receiver            - transfer price
==================  ==========  ======================  ===================================

Per-period items are valued per unit and period; ``fixed_costs`` per year;
``investment`` once, in the decision's year. Transfers cancel in the cluster
total, so the planner's objective (the cluster NPV) is the discounted sum of
every other item (``build.cluster_npv_terms`` iterates ``ITEMS``); a new cost
term is added here, once.

Annual and one-off amounts are booked in the **last period** of their year:
the year's decisions are all known then (the simulator's firms book them
then too); discounting is by year, so the period does not change any value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from symbiosim.scenario.data import ModelData

Key = tuple[Any, ...]

PER_PERIOD = ("sell", "buy", "act", "dump", "flow", "store")  # planner variables indexed (..., period)
PER_YEAR = ("present", "built", "linked")  # presence, indexed (..., year)
ONE_OFF = ("enter", "build", "link")  # build-year binaries, indexed (..., year)


@dataclass(frozen=True)
class Item:
    """One ledger item on one kind of decision."""

    name: str
    variable: str
    value: Callable[[ModelData, Key], float]  # signed money per unit (per period / per year / once)
    booked_to: Callable[[Key], str] = lambda key: str(key[0])


def _target(key: Key) -> str:
    return str(key[1])


ITEMS: tuple[Item, ...] = (
    Item("sales", "sell", lambda d, k: d.sale_price[k]),
    Item("purchases", "buy", lambda d, k: -d.purchase_cost[k]),
    Item("activity_costs", "act", lambda d, k: -d.activity_cost[k]),
    Item("disposal_costs", "dump", lambda d, k: -d.disposal_cost[k[1]]),
    Item("transport", "flow", lambda d, k: -d.arcs[k].unit_cost, _target),
    Item("subsidy", "flow", lambda d, k: d.exchange_subsidy[k[2]], _target),
    Item("storage_costs", "store", lambda d, k: -d.storage_cost[k]),
    Item("fixed_costs", "present", lambda d, k: -d.actors[k[0]].fixed_cost),
    Item("fixed_costs", "built", lambda d, k: -d.actor_processes[k].fixed_cost),
    Item("fixed_costs", "linked", lambda d, k: -d.arcs[k].fixed_cost, _target),
    Item("investment", "enter", lambda d, k: -d.actors[k[0]].entry_cost * d.share_paid_by_investor["*"]),
    Item("investment", "build", lambda d, k: -d.actor_processes[k].build_cost * d.share_paid_by_investor["*"]),
    Item("investment", "link", lambda d, k: -d.arcs[k].build_cost * d.share_paid_by_investor[k[2]], _target),
)
TRANSFER_ITEMS = ("transfer_in", "transfer_out")  # price x quantity of priced flows: sender in, receiver out
REVENUE_ITEMS = ("sales", "transfer_in", "subsidy")
COST_ITEMS = (
    "purchases",
    "activity_costs",
    "disposal_costs",
    "transport",
    "transfer_out",
    "storage_costs",
    "fixed_costs",
    "investment",
)
ITEM_NAMES = REVENUE_ITEMS + COST_ITEMS
BY_VARIABLE: Mapping[str, tuple[Item, ...]] = {v: tuple(i for i in ITEMS if i.variable == v) for v in (*PER_PERIOD, *PER_YEAR, *ONE_OFF)}


def unit_value(data: ModelData, variable: str, key: Key) -> float:
    """Net money per unit of ``variable[key]`` to the actor(s) booked, summed over its items
    (a flow: -transport + subsidy, both to the receiver). ``key`` is the index without the period or year."""
    total = 0.0
    for item in BY_VARIABLE[variable]:
        total += item.value(data, key)
    return total


def entries(data: ModelData, variable: str, key: Key) -> Iterator[tuple[str, str, float]]:
    """(item, actor booked, signed money per unit) of ``variable[key]``, zero values left out."""
    for item in BY_VARIABLE[variable]:
        value = item.value(data, key)
        if value:
            yield item.name, item.booked_to(key), value


def presence(data: ModelData, builds: Any) -> dict[str, dict[Key, int]]:
    """First year each actor, process and link is present, from a plan's ``builds`` (existing: year 0;
    existing links and trucked arcs: always, as in the planner)."""
    b = builds
    entered = {(r.actor,): int(r.year) for r in b[b.kind == "actor"].itertuples()}
    built = {(r.actor, r.process): int(r.year) for r in b[b.kind == "process"].itertuples()}
    linked = {(r.actor, r.target, r.product): int(r.year) for r in b[b.kind == "link"].itertuples()}
    return {
        "present": {(a,): 0 for a, x in data.actors.items() if x.exists} | entered,
        "built": {ap: 0 for ap, r in data.actor_processes.items() if r.exists} | built,
        "linked": {k: 0 for k, arc in data.arcs.items() if not arc.buildable} | linked,
    }


ONE_OFF_OF = {"present": "enter", "built": "build", "linked": "link"}


def is_candidate(data: ModelData, variable: str, key: Key) -> bool:
    if variable == "present":
        return data.is_candidate_actor(key[0])
    if variable == "built":
        return data.is_candidate_process(key)  # type: ignore[arg-type]
    return data.arcs[key].buildable  # type: ignore[index]


def annual(data: ModelData, year: int, since: Mapping[str, Mapping[Key, int]]) -> Iterator[tuple[str, str, float]]:
    """(item, actor, amount) of one year: fixed costs of what is present, one-off costs of what starts.

    ``since``: per presence variable (``present``, ``built``, ``linked``), key -> first year
    (``presence``); candidates pay their one-off cost in their first year.
    """
    for variable in PER_YEAR:
        for key, first in since.get(variable, {}).items():
            if first > year:
                continue
            yield from entries(data, variable, key)
            if first == year and is_candidate(data, variable, key):
                yield from entries(data, ONE_OFF_OF[variable], key)


def booking_period(data: ModelData, year: int) -> int:
    """The period annual and one-off amounts of ``year`` are booked in (the year's last)."""
    return (year + 1) * data.ppy - 1


def commitment_cost(data: ModelData, variable: str, key: Key, discount: float, annuity: float) -> float:
    """What starting ``variable[key]`` (``present``: an entry, ``built``: a process, ``linked``: a link)
    costs its payer: the one-off cost at ``discount`` plus the fixed cost over ``annuity``
    (discounted years), as a positive number. Firms value deals with it."""
    return -unit_value(data, ONE_OFF_OF[variable], key) * discount - unit_value(data, variable, key) * annuity
