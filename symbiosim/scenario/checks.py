"""Cross-table checks. Each ``check_<rule>`` returns the issues it finds and
never prints or mutates its input. ``run_checks`` runs them all."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

from symbiosim.errors import Issue
from symbiosim.scenario.schema import Policies, Scenario
from symbiosim.scenario.targets import parse_target, resolve_target


def _duplicates(keys: Iterable[object]) -> list[object]:
    return [k for k, n in Counter(keys).items() if n > 1]


def check_unique_keys(s: Scenario) -> list[Issue]:
    issues = []
    for table in ("products", "actors", "processes"):
        for dup in _duplicates(r.id for r in getattr(s, table)):
            issues.append(Issue(table, str(dup), "id", "duplicate id: each id must appear once"))
    keyed = {
        "actor_processes": lambda r: (r.actor, r.process),
        "purchases": lambda r: (r.actor, r.product),
        "sales": lambda r: (r.actor, r.product),
        "storage": lambda r: (r.actor, r.product),
        "links": lambda r: (r.from_, r.to, r.product),
        "behaviour": lambda r: (r.actor,),
    }
    for table, key in keyed.items():
        for dup in _duplicates(key(r) for r in getattr(s, table)):
            parts = [str(x) for x in dup]  # type: ignore[attr-defined]
            label = f"{parts[0]}->{parts[1]}/{parts[2]}" if table == "links" else "/".join(parts)
            issues.append(Issue(table, label, None, "duplicate row: this combination may appear once"))
    return issues


def check_references(s: Scenario) -> list[Issue]:
    """Every id a row names must exist in its own table."""
    products = {p.id for p in s.products}
    actors = {a.id for a in s.actors}
    processes = {p.id for p in s.processes}
    profiles = set(s.profiles)
    issues = []

    def need(table: str, row: str, column: str, value: str | None, known: set[str], what: str) -> None:
        if value is not None and value not in known:
            issues.append(Issue(table, row, column, f"unknown {what} `{value}`"))

    for p in s.processes:
        for direction in ("inputs", "outputs"):
            for product in getattr(p, direction):
                need("processes", p.id, direction, product, products, "product")
    for r in s.actor_processes:
        row = f"{r.actor}/{r.process}"
        need("actor_processes", row, "actor", r.actor, actors, "actor")
        need("actor_processes", row, "process", r.process, processes, "process")
        need("actor_processes", row, "profile", r.profile, profiles, "profile")
    for table in ("purchases", "sales", "storage"):
        for r in getattr(s, table):
            row = f"{r.actor}/{r.product}"
            need(table, row, "actor", r.actor, actors, "actor")
            need(table, row, "product", r.product, products, "product")
            if table != "storage":
                need(table, row, "profile", r.profile, profiles, "profile")
    for link in s.links:
        row = f"{link.from_}->{link.to}/{link.product}"
        need("links", row, "from", link.from_, actors, "actor")
        need("links", row, "to", link.to, actors, "actor")
        need("links", row, "product", link.product, products, "product")
    for b in s.behaviour:
        if b.actor != "*":
            need("behaviour", b.actor, "actor", b.actor, actors, "actor")
    return issues


def check_profiles(s: Scenario) -> list[Issue]:
    if s.settings is None:
        return []
    ppy = s.settings.periods_per_year
    issues = []
    for name, factors in s.profiles.items():
        if len(factors) != ppy:
            issues.append(
                Issue("profiles", name, None, f"expected {ppy} factors (periods_per_year), got {len(factors)}")
            )
        elif any(f < 0 for f in factors):
            issues.append(Issue("profiles", name, None, "factors must be >= 0"))
        elif abs(sum(factors) / ppy - 1.0) > 1e-6:
            issues.append(Issue("profiles", name, None, f"factors must average 1, got mean {sum(factors) / ppy:.6g}"))
    return issues


def check_candidates(s: Scenario) -> list[Issue]:
    """Candidate semantics: one-off costs only on candidates, years inside the horizon."""
    issues = []
    years = s.settings.years if s.settings else None
    exists = {a.id: a.exists for a in s.actors}
    for a in s.actors:
        if a.exists and a.entry_cost > 0:
            issues.append(Issue("actors", a.id, "entry_cost", "an existing actor has no entry cost (exists: true)"))
        if years is not None and not a.exists and a.earliest_year >= years:
            issues.append(Issue("actors", a.id, "earliest_year", f"expected < years ({years}), got {a.earliest_year}"))
    for r in s.actor_processes:
        row = f"{r.actor}/{r.process}"
        if r.exists and exists.get(r.actor) is False:
            issues.append(
                Issue("actor_processes", row, "exists", "a process of a candidate actor is itself a candidate: exists: false")
            )
        if r.exists and r.build_cost > 0:
            issues.append(Issue("actor_processes", row, "build_cost", "only candidates (exists: false) have a build cost"))
        if years is not None and not r.exists and r.earliest_year >= years:
            issues.append(
                Issue("actor_processes", row, "earliest_year", f"expected < years ({years}), got {r.earliest_year}")
            )
        if r.capacity is not None:
            if r.fixed_activity is not None and r.fixed_activity > r.capacity:
                issues.append(
                    Issue("actor_processes", row, "fixed_activity", f"exceeds capacity {r.capacity:g}: expected <= capacity")
                )
            if r.min_activity > r.capacity:
                issues.append(
                    Issue("actor_processes", row, "min_activity", f"exceeds capacity {r.capacity:g}: expected <= capacity")
                )
        if r.profile is not None and r.fixed_activity is None:
            issues.append(Issue("actor_processes", row, "profile", "a profile shapes fixed_activity: set fixed_activity too"))
    return issues


def check_links(s: Scenario) -> list[Issue]:
    """Trucked products take no infrastructure; existing links join existing actors."""
    issues = []
    needs_link = {p.id: p.needs_link for p in s.products}
    exists = {a.id: a.exists for a in s.actors}
    years = s.settings.years if s.settings else None
    for link in s.links:
        row = f"{link.from_}->{link.to}/{link.product}"
        if link.from_ == link.to:
            issues.append(Issue("links", row, "to", "a link joins two different actors"))
        if needs_link.get(link.product) is False:
            for column in ("build_cost", "fixed_cost", "earliest_year"):
                if getattr(link, column) is not None:
                    issues.append(
                        Issue(
                            "links",
                            row,
                            column,
                            f"`{link.product}` is trucked (needs_link: false), so no link is built for it; "
                            "model a reception or handling investment as a candidate process of the receiver "
                            "(or sender) instead",
                        )
                    )
        if link.exists and (exists.get(link.from_) is False or exists.get(link.to) is False):
            issues.append(Issue("links", row, "exists", "an existing link cannot join a candidate actor (exists: false)"))
        if link.exists and link.earliest_year:
            issues.append(Issue("links", row, "earliest_year", "an existing link is not built: drop earliest_year"))
        if link.exists and link.build_cost:
            issues.append(Issue("links", row, "build_cost", "an existing link is not built: drop build_cost"))
        if years is not None and link.earliest_year is not None and link.earliest_year >= years:
            issues.append(Issue("links", row, "earliest_year", f"expected < years ({years}), got {link.earliest_year}"))
    return issues


def check_storage(s: Scenario) -> list[Issue]:
    issues = []
    for r in s.storage:
        if r.capacity == 0:
            issues.append(Issue("storage", f"{r.actor}/{r.product}", "capacity", "expected > 0"))
    return issues


def check_policies(s: Scenario) -> list[Issue]:
    products = {p.id for p in s.products}
    issues = []
    if s.policies is None:
        return issues
    for instrument in Policies.model_fields:
        value = getattr(s.policies, instrument)
        entries = value.items() if isinstance(value, dict) else ([(None, value)] if value is not None else [])
        for key, number in entries:
            if key not in (None, "*") and key not in products:
                issues.append(Issue("policies", key, instrument, f"unknown product `{key}` (use a product id or \"*\")"))
            if instrument == "investment_subsidy" and not 0 <= number <= 1:
                issues.append(Issue("policies", key, instrument, f"expected a share between 0 and 1, got {number!r}"))
            elif instrument != "carbon_price" and number < 0:
                issues.append(Issue("policies", key, instrument, f"expected >= 0, got {number!r}"))
    return issues


def check_uncertainty(s: Scenario) -> list[Issue]:
    issues = []
    for index, u in enumerate(s.uncertainty):
        try:
            resolve_target(s, parse_target(u.target))
        except ValueError as exc:
            issues.append(Issue("uncertainty", index, "target", str(exc)))
    return issues


def check_trade_limits(s: Scenario) -> list[Issue]:
    issues = []
    for table in ("purchases", "sales"):
        for r in getattr(s, table):
            if r.limit == 0:
                issues.append(Issue(table, f"{r.actor}/{r.product}", "limit", "limit 0 forbids the trade: delete the row"))
    return issues


CHECKS: tuple[Callable[[Scenario], list[Issue]], ...] = (
    check_unique_keys,
    check_references,
    check_profiles,
    check_candidates,
    check_links,
    check_storage,
    check_policies,
    check_uncertainty,
    check_trade_limits,
)


def run_checks(s: Scenario) -> list[Issue]:
    issues: list[Issue] = []
    for check in CHECKS:
        issues += check(s)
    return issues
