"""Ripple effects of a plan's actors: direct, indirect and induced value added and jobs, national and regional.

An actor's ``sector`` (free text in the scenario, e.g. ``C24 basic metals``)
links it to a sector of the input-output table by its NACE code, the first
word of the text (``C24``), matched as ``ledgers.io_sector_of`` matches
counterparts (``C24_basic_metals`` takes ``C24``, ``C10_food`` takes
``C10.1``; ``GN_market_services`` takes sections G to N). An actor whose
code no sector takes keeps its direct figures only, and the notes say so.

The direct figures are the actor's own, from the accounts (value added:
discounted over the horizon, in the scenario's currency; jobs: mean annual),
so an actor's ``value_added_per_unit`` stays its direct figure. The
indirect and induced figures scale them by the sector's *ratio* multipliers
(Miller & Blair 2009, sec. 6.2): with ``v_s`` the sector's direct value
added per unit of output and ``m_s`` its simple value-added multiplier
(effect per unit of final demand, ``multipliers.multipliers``), the type I
ratio ``m_s^I / v_s`` is total over direct value added when the sector's
output grows, so

* indirect = direct x (m_s^I / v_s - 1): the sector's average purchases from
  the other sectors, round after round; or, when the actor's ledgers are given
  (``own``: its purchases per unit of its sales, by sector, ``ledgers.own_inputs``),
  direct x sum_i a_i q_i m_i^I / v_s: its own purchases, where q_i is the share
  bought within the scope (regionally: 1 from the cluster's actors, else FLQ's
  regional purchase coefficient). With the sector's own column of the table as
  ``a`` the two agree exactly (m_s = v_s + sum_i A_is m_i);
* induced = direct x (m_s^II - m_s^I) / v_s: the households' spending of the
  wages (type II; only when the table has households).

Jobs likewise with employment per unit of output. National figures use the
table as given; regional ones the table regionalised by FLQ (regional totals
given), whose multipliers are smaller: less is bought within the region.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from symbiosim.ripple.iotable import IOTable
from symbiosim.ripple.ledgers import UNMATCHED, io_sector_of
from symbiosim.ripple.multipliers import DEFAULT_DELTA, Multipliers, RegionTotals, multipliers
from symbiosim.scenario.schema import Scenario

MEASURES = {"value_added": "value_added", "jobs": "employment"}
NUMBERS = tuple(f"{m}_{part}" for m in MEASURES for part in
                ("direct", "indirect_national", "induced_national", "indirect_regional", "induced_regional"))
COLUMNS = ("actor", "sector", "io_sector", "basis", *NUMBERS)


@dataclass(frozen=True)
class Effects:
    """``actors``: one row per actor (``COLUMNS``); ``totals``: the sums per column; ``notes``: what is missing and why."""

    actors: pd.DataFrame
    totals: dict[str, float]
    notes: list[str] = field(default_factory=list)
    table: str = ""
    region: str | None = None

    def to_json(self) -> dict[str, Any]:
        def clean(v: Any) -> Any:
            return None if isinstance(v, float) and not math.isfinite(v) else v

        return {"table": self.table, "region": self.region, "notes": list(self.notes),
                "totals": {k: clean(v) for k, v in self.totals.items()},
                "actors": [{k: clean(v) for k, v in row.items()} for row in self.actors.to_dict("records")]}


def nace_code(sector: str) -> str:
    """The NACE code an actor's free-text sector starts with (``C24 basic metals`` -> ``C24``; empty: ``""``)."""
    words = str(sector or "").split()
    return words[0] if words else ""


def _ratios(m: Multipliers, direct: np.ndarray, measure: str) -> np.ndarray:
    """Total effect over direct effect per sector (``m / direct coefficient``); NaN where a sector has no direct effect."""
    simple = m.value_added if measure == "value_added" else m.employment
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(direct > 0, simple / direct, np.nan)


@dataclass(frozen=True)
class _Economy:
    """The table's direct coefficients and its multipliers per (scope, type): what every actor's ratios read."""

    table: IOTable
    coef: dict[str, np.ndarray]  # measure -> direct effect per unit of output, per sector
    mult: dict[tuple[str, str], Multipliers]  # (scope, type) -> multipliers (regional by FLQ)
    ratios: dict[tuple[str, str, str], np.ndarray]  # (scope, type, measure) -> total over direct effect per sector

    @classmethod
    def of(cls, table: IOTable, region: RegionTotals | None, delta: float) -> _Economy:
        x = table.x
        coef = {"value_added": np.array(table.value_added) / x, "employment": np.array(table.employment) / x}
        kinds = ["I", "II"] if table.households is not None else ["I"]
        mult = {(scope, kind): multipliers(table, kind, region=reg, delta=delta)
                for scope, reg in (("national", None), ("regional", region)) if scope == "national" or reg is not None
                for kind in kinds}
        ratios = {(scope, kind, measure): _ratios(m, coef[measure], measure)
                  for (scope, kind), m in mult.items() for measure in MEASURES.values()}
        return cls(table, coef, mult, ratios)

    def ratio(self, scope: str, kind: str, measure: str) -> np.ndarray | None:
        return self.ratios.get((scope, kind, measure))

    def own_indirect(self, scope: str, measure: str, s: int, own: pd.DataFrame) -> float:
        """Indirect over direct effect of an actor in sector ``s`` with its own input coefficients ``own``
        (rows of ``ledgers.own_inputs``): ``sum_i a_i q_i m_i / d_s``, with ``m_i`` the sector's type I
        multiplier (effect per unit of final demand), ``d_s`` the direct effect per unit of output of the
        actor's sector, and ``q_i`` the share bought within the scope: 1 nationally and from the cluster's
        own actors; regionally otherwise FLQ's ``min(FLQ_is, 1)`` (Flegg & Webber 1997), the share of what
        sector ``s`` buys from sector ``i`` that the region supplies. Imports and unmatched sectors count 0."""
        m = self.mult[(scope, "I")]
        simple = m.value_added if measure == "value_added" else m.employment
        index = {name: i for i, name in enumerate(self.table.sectors)}
        total = 0.0
        for rec in own.to_dict("records"):
            i = index.get(str(rec["io_sector"]))
            if i is None:
                continue
            q = 1.0 if scope == "national" or rec["in_cluster"] or m.flq is None else min(float(m.flq[i, s]), 1.0)
            total += float(rec["coefficient"]) * q * float(simple[i])
        d = float(self.coef[measure][s])
        return total / d if d > 0 else math.nan


def _actor_ratios(eco: _Economy, i: int | None, own: pd.DataFrame | None) -> dict[tuple[str, str], tuple[float, float]]:
    """(scope, measure) -> (indirect, induced) over direct effect of one actor in table sector ``i``: its own
    inputs (``own``) when given, else its sector's average; induced always its sector's (the wages); NaN where
    the table says nothing (no sector, no households, no regional totals)."""
    out = {}
    for scope in ("national", "regional"):
        for measure in MEASURES.values():
            r1, r2 = eco.ratio(scope, "I", measure), eco.ratio(scope, "II", measure)
            if r1 is None or i is None or not math.isfinite(r1[i]):
                out[(scope, measure)] = (math.nan, math.nan)
                continue
            indirect = eco.own_indirect(scope, measure, i, own) if own is not None and len(own) else r1[i] - 1.0
            induced = r2[i] - r1[i] if r2 is not None else math.nan
            out[(scope, measure)] = (float(indirect), float(induced))
    return out


def _own_of(own: pd.DataFrame | None, actor: str) -> pd.DataFrame | None:
    if own is None or not len(own):
        return None
    mine = own[own["actor"] == actor]
    return mine if len(mine) else None


def total_ratios(scenario: Scenario, table: IOTable, *, region: RegionTotals | None = None,
                 delta: float = DEFAULT_DELTA, own: pd.DataFrame | None = None) -> dict[str, dict[str, float]]:
    """actor -> {"value_added": r, "jobs": r}: direct + indirect + induced over direct (type II when the table
    has households, else I; regional with ``region``, else national; indirect from the actor's own inputs
    when ``own`` has them); 1 for an actor no sector takes."""
    eco = _Economy.of(table, region, delta)
    scope = "regional" if region is not None else "national"
    index = {s: i for i, s in enumerate(table.sectors)}
    out = {}
    for a in scenario.actors:
        code = nace_code(a.sector)
        i = index.get(io_sector_of(code, table.sectors)) if code else None
        ratios = _actor_ratios(eco, i, _own_of(own, a.id))
        row = {}
        for name, measure in MEASURES.items():
            indirect, induced = ratios[(scope, measure)]
            total = 1.0 + indirect + (induced if math.isfinite(induced) else 0.0)
            row[name] = float(total) if math.isfinite(total) else 1.0
        out[a.id] = row
    return out


def weighted_for_totals(scenario: Scenario, ratios: dict[str, dict[str, float]]) -> Scenario:
    """The scenario with each actor's ``value_added_per_unit`` and ``jobs_per_unit`` scaled by its total ratio:
    what the ``value_added`` and ``jobs`` objectives maximise under ``--effects total`` (the plan is then
    valued with the scenario as given: the accounts keep the direct figures)."""
    from symbiosim.scenario.edit import Cell, set_cells

    changes = []
    for i, row in enumerate(scenario.actor_processes):
        r = ratios.get(row.actor)
        if r is None:
            continue
        if row.value_added_per_unit:
            changes.append((Cell("actor_processes", i, "value_added_per_unit"), row.value_added_per_unit * r["value_added"]))
        if row.jobs_per_unit:
            changes.append((Cell("actor_processes", i, "jobs_per_unit"), row.jobs_per_unit * r["jobs"]))
    return set_cells(scenario, changes, name="--effects total") if changes else scenario


def ripple_effects(scenario: Scenario, actors: pd.DataFrame, table: IOTable, *, region: RegionTotals | None = None,
                   delta: float = DEFAULT_DELTA, own: pd.DataFrame | None = None) -> Effects:
    """Direct, indirect and induced value added and jobs of every actor of ``actors`` (an ``Accounts.actors`` frame).

    ``own``: actors' own input coefficients from their ledgers (``ledgers.own_inputs``); an actor found there
    gets its indirect effects from its own purchases instead of its sector's average (column ``basis``).
    """
    eco = _Economy.of(table, region, delta)
    index = {s: i for i, s in enumerate(table.sectors)}
    sector_of = {a.id: a.sector for a in scenario.actors}
    rows, unmatched, from_ledgers = [], [], []
    for rec in actors.to_dict("records"):
        actor = str(rec["actor"])
        code = nace_code(sector_of.get(actor, ""))
        io = io_sector_of(code, table.sectors) if code else UNMATCHED
        mine = _own_of(own, actor) if io != UNMATCHED else None
        basis = (f"own ledgers {int(mine['year'].iloc[0])}" if mine is not None
                 else "sector average" if io != UNMATCHED else "-")
        row: dict[str, Any] = {"actor": actor, "sector": sector_of.get(actor, ""),
                               "io_sector": None if io == UNMATCHED else io, "basis": basis}
        ratios = _actor_ratios(eco, index.get(io), mine)
        for name, measure in MEASURES.items():
            direct = float(rec.get(name, 0.0) or 0.0)
            row[f"{name}_direct"] = direct
            for scope in ("national", "regional"):
                indirect, induced = ratios[(scope, measure)]
                row[f"{name}_indirect_{scope}"] = direct * indirect if math.isfinite(indirect) else math.nan
                row[f"{name}_induced_{scope}"] = direct * induced if math.isfinite(induced) else math.nan
        if io == UNMATCHED and (row["value_added_direct"] or row["jobs_direct"]):
            unmatched.append(f"{actor} ({code or 'no sector'})")
        if mine is not None:
            from_ledgers.append(f"{actor} ({int(mine['year'].iloc[0])})")
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    totals = {c: float(frame[c].sum(min_count=1)) for c in NUMBERS}
    notes = []
    if from_ledgers:
        notes.append(f"indirect effects from the actors' own purchases in their ledgers: {', '.join(from_ledgers)}; "
                     "the others' from their sector's average inputs")
    if unmatched:
        notes.append(f"no sector of the table {table.name} takes {', '.join(unmatched)}: direct figures only")
    if region is None:
        notes.append("regional figures need regional totals (--region-totals): not computed")
    if table.households is None:
        notes.append(f"the table {table.name} has no households: no induced (type II) figures")
    return Effects(frame, totals, notes, table.name, region.region if region is not None else None)


def effects_text(fx: Effects, currency: str) -> str:
    """The effects as tables with units (report.numbers' rules): value added (NPV) and jobs, per actor and in all."""
    import symbiosim.report.numbers as numbers

    scopes = ["national"] + (["regional"] if fx.region else [])
    own = bool(fx.actors["basis"].str.startswith("own").any()) if len(fx.actors) else False
    lines = [f"Ripple effects (input-output table {fx.table}"
             + (f", region {fx.region} by FLQ" if fx.region else "") + "): direct = the actor's own; "
             "indirect = its " + ("own (ledgers) or its sector's" if own else "sector's")
             + " purchases, round after round; induced = households spending the wages"]
    kinds: tuple[tuple[str, str, numbers.Kind], ...] = (("value_added", currency, "money"), ("jobs", "jobs/yr", "quantity"))
    for name, unit, kind in kinds:
        cols = [f"{name}_direct", *(f"{name}_{part}_{s}" for s in scopes for part in ("indirect", "induced"))]
        keep = ["actor", "io_sector", *(["basis"] if own else [])]
        frame = fx.actors[[*keep, *cols]].copy()
        frame.loc[len(frame)] = {**{k: "" for k in keep}, "actor": "all actors", **{c: fx.totals[c] for c in cols}}
        columns: dict[str, Any] = {"actor": numbers.Column("text"), "io_sector": numbers.Column("text", "", "table sector")}
        if own:
            columns["basis"] = numbers.Column("text", "", "indirect from")
        for c in cols:
            title = c.removeprefix(f"{name}_").replace("_", " ")
            columns[c] = numbers.Column(kind, unit, title)
        label = "Value added, NPV over the horizon" if name == "value_added" else "Jobs, mean per year"
        lines += [f"{label}:", numbers.table(frame.fillna({"io_sector": "-"}), columns)]
    lines += [f"  note: {n}" for n in fx.notes]
    return "\n".join(lines)


SOURCES = {"baseline": "stand-alone", "decentralised": "decentralised", "optimum": "coordinated"}
GAP = "gap (coordinated - decentralised)"


def scopes_of(totals: Mapping[str, Mapping[str, float]]) -> list[str]:
    """``national``, and ``regional`` when any outcome has regional figures (regional totals were given)."""
    regional = any(math.isfinite(float(t.get("value_added_indirect_regional", math.nan))) for t in totals.values())
    return ["national", "regional"] if regional else ["national"]


def parts_table(totals: Mapping[str, Mapping[str, float]], name: str) -> pd.DataFrame:
    """One measure (``value_added`` or ``jobs``) of each outcome (``totals``: outcome -> ``Effects.totals``):
    rows direct, then indirect, induced and their total per scope; columns the outcomes by their labels and,
    with both, the gap (coordinated - decentralised). NaN where a part was not computed."""
    keyed = {SOURCES[o]: dict(totals[o]) for o in SOURCES if o in totals}
    if {"decentralised", "optimum"} <= set(totals):
        keyed[GAP] = {k: float(totals["optimum"][k]) - float(totals["decentralised"][k]) for k in totals["optimum"]}

    def value(t: Mapping[str, float], key: str) -> float:
        return float(t.get(key, math.nan))

    rows = [{"part": "direct (the actors' own)", **{o: value(t, f"{name}_direct") for o, t in keyed.items()}}]
    for scope in scopes_of(totals):
        parts = {p: f"{name}_{p}_{scope}" for p in ("indirect", "induced")}
        rows += [{"part": f"{p}, {scope}", **{o: value(t, key) for o, t in keyed.items()}} for p, key in parts.items()]
        rows.append({"part": f"total, {scope}", **{o: float(np.nansum([value(t, f"{name}_direct"),
                                                                       *(value(t, k) for k in parts.values())]))
                                                   for o, t in keyed.items()}})
    return pd.DataFrame(rows)


def comparison_text(effects: dict[str, Effects], currency: str) -> str:
    """The cluster's totals per outcome (stand-alone, decentralised, coordinated) and the gap between the last two."""
    import symbiosim.report.numbers as numbers

    any_fx = next(iter(effects.values()))
    scopes = ["national"] + (["regional"] if any_fx.region else [])
    rows = []
    for src, label in SOURCES.items():
        if src in effects:
            rows.append({"outcome": label, **effects[src].totals})
    if {"decentralised", "optimum"} <= set(effects):
        rows.append({"outcome": "gap (coordinated - decentralised)",
                     **{k: effects["optimum"].totals[k] - effects["decentralised"].totals[k] for k in any_fx.totals}})
    frame = pd.DataFrame(rows)
    lines = [f"Ripple effects of each outcome (input-output table {any_fx.table}"
             + (f", region {any_fx.region} by FLQ" if any_fx.region else "") + "), all actors:"]
    kinds: tuple[tuple[str, str, numbers.Kind], ...] = (("value_added", currency, "money"), ("jobs", "jobs/yr", "quantity"))
    for name, unit, kind in kinds:
        cols = [f"{name}_direct", *(f"{name}_{part}_{s}" for s in scopes for part in ("indirect", "induced"))]
        columns: dict[str, Any] = {"outcome": numbers.Column("text")}
        for c in cols:
            columns[c] = numbers.Column(kind, unit, c.removeprefix(f"{name}_").replace("_", " "))
        label = "Value added, NPV over the horizon" if name == "value_added" else "Jobs, mean per year"
        lines += [f"{label}:", numbers.table(frame[["outcome", *cols]], columns)]
    lines += [f"  note: {n}" for n in any_fx.notes]
    return "\n".join(lines)
