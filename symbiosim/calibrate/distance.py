"""How far a simulated run is from the observed history: the distance ABC minimises.

A run's outcome is the first calendar year each exchange carries flow
(``symbiosim.scenario.history.formed_years``) and the year each candidate
actor enters (its ``actor`` build). Against a history (contract v1.1) the
distance is a sum of points, 0 for a run that reproduces the history:

(a) an observed exchange (``exchanges`` row) that did not form in the run: 1;
(b) an observed exchange that formed: ``|simulated year - observed year| / years``
    (``settings.years``, the horizon), capped at 1, so forming it in the wrong
    decade is never better than forming it not at all;
(c) an exchange the run formed that the history does not list (neither in
    ``exchanges`` nor in ``absent``; existing links of the scenario aside):
    ``new_weight`` (default 1) each;
(d) an ``absent`` row whose exchange formed in the run by its ``until`` year: 1
    (forming after ``until`` agrees with the history: 0);
(e) ``entries`` compare like exchanges: an observed entry that did not happen
    counts 1, one that did counts its year difference as in (b); a candidate
    actor that entered in the run but is not in ``entries`` counts
    ``new_weight`` as in (c).

Not informative, so skipped: exchanges the scenario has as links with
``exists: true``. They are standing contracts from the first period in every
run (their history year lies at or before ``settings.start_year``), so they
say nothing about the behaviour rules; they are listed as ``skipped``.

Example (horizon 25 years): the history has A->B in 2010 and C->D in 2020; a
run forms A->B in 2015, not C->D, and a new E->F: 5/25 + 1 + 1 = 2.2.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from symbiosim.scenario.history import ExchangeKey, History, formed_years
from symbiosim.scenario.schema import Scenario


@dataclass(frozen=True)
class Target:
    """One informative row of the history: ``kind`` exchange, absent or entry; ``year`` is the
    observed year (``until`` for absent)."""

    kind: str
    key: tuple[str, ...]
    year: int

    @property
    def label(self) -> str:
        if self.kind == "entry":
            return f"entry {self.key[0]}"
        text = f"{self.key[0]}->{self.key[1]}/{self.key[2]}"
        return f"{text} (absent)" if self.kind == "absent" else text


@dataclass(frozen=True)
class Targets:
    """What the distance compares a run with (picklable: sent once to every worker)."""

    targets: tuple[Target, ...]
    skipped: tuple[Target, ...]
    existing: frozenset[ExchangeKey]
    years: int  # the horizon
    new_weight: float = 1.0
    observed: frozenset[ExchangeKey] = field(default_factory=frozenset)  # exchanges and absent rows
    entered: frozenset[str] = field(default_factory=frozenset)  # entries rows

    def to_json(self) -> dict[str, Any]:
        return {"horizon_years": self.years, "new_weight": self.new_weight,
                "skipped": [{"exchange": t.label, "observed_year": t.year, "reason": "an existing link of the scenario"}
                            for t in self.skipped]}


def targets_of(history: History, scenario: Scenario, *, new_weight: float = 1.0) -> Targets:
    """The history's informative rows (and the skipped ones) for ``scenario``."""
    if not (math.isfinite(new_weight) and new_weight >= 0):
        raise ValueError(f"new_weight: expected a number >= 0, got {new_weight}")
    existing = frozenset((k.from_, k.to, k.product) for k in scenario.links if k.exists)
    scored: list[Target] = []
    skipped: list[Target] = []
    for key, year in sorted(history.years().items()):
        (skipped if key in existing else scored).append(Target("exchange", key, year))
    absent: dict[ExchangeKey, int] = {}
    for a in history.absent:
        absent[a.key] = max(a.until, absent.get(a.key, a.until))
    scored += [Target("absent", key, until) for key, until in sorted(absent.items())]
    entries: dict[str, int] = {}
    for n in history.entries:
        entries[n.actor] = min(n.year, entries.get(n.actor, n.year))
    scored += [Target("entry", (actor,), year) for actor, year in sorted(entries.items())]
    return Targets(tuple(scored), tuple(skipped), existing, scenario.settings.years, float(new_weight),
                   frozenset(history.years()) | frozenset(absent), frozenset(entries))


@dataclass(frozen=True)
class Outcome:
    """A run's formation years: exchanges (from, to, product) and entered candidate actors."""

    exchanges: Mapping[ExchangeKey, int]
    entries: Mapping[str, int]

    def year_of(self, target: Target) -> int | None:
        return self.entries.get(target.key[0]) if target.kind == "entry" else self.exchanges.get(target.key)  # type: ignore[arg-type]


def outcome_of(plan: Any, scenario: Scenario) -> Outcome:
    """The formation years of a ``Plan`` (or anything with ``flows`` and ``builds`` tables)."""
    start = scenario.settings.start_year
    builds = plan.builds
    entered = builds[builds["kind"] == "actor"]
    entries: dict[str, int] = {}
    for actor, year in zip(entered["actor"], entered["year"], strict=True):
        entries[str(actor)] = min(start + int(year), entries.get(str(actor), start + int(year)))
    return Outcome(formed_years(plan, scenario), entries)


def distance(outcome: Outcome, targets: Targets) -> float:
    """The distance of the module docstring (0: the run reproduces the history)."""
    total = 0.0
    for t in targets.targets:
        year = outcome.year_of(t)
        if t.kind == "absent":
            total += 1.0 if year is not None and year <= t.year else 0.0
        elif year is None:
            total += 1.0
        else:
            total += min(1.0, abs(year - t.year) / targets.years)
    total += targets.new_weight * len(new_exchanges(outcome, targets))
    total += targets.new_weight * sum(1 for actor in outcome.entries if actor not in targets.entered)
    return total


def new_exchanges(outcome: Outcome, targets: Targets) -> list[ExchangeKey]:
    """Exchanges the run formed that the history does not list (existing links aside)."""
    return sorted(k for k in outcome.exchanges if k not in targets.observed and k not in targets.existing)
