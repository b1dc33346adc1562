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
  the other sectors, round after round (the actor's own purchases, when its
  ledgers are known, are a refinement for later);
* induced = direct x (m_s^II - m_s^I) / v_s: the households' spending of the
  wages (type II; only when the table has households).

Jobs likewise with employment per unit of output. National figures use the
table as given; regional ones the table regionalised by FLQ (regional totals
given), whose multipliers are smaller: less is bought within the region.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from symbiosim.ripple.iotable import IOTable
from symbiosim.ripple.ledgers import UNMATCHED, io_sector_of
from symbiosim.ripple.multipliers import DEFAULT_DELTA, Multipliers, RegionTotals, multipliers
from symbiosim.scenario.schema import Scenario

MEASURES = {"value_added": "value_added", "jobs": "employment"}
COLUMNS = ("actor", "sector", "io_sector",
           *(f"{m}_{part}" for m in MEASURES for part in
             ("direct", "indirect_national", "induced_national", "indirect_regional", "induced_regional")))


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


def _sector_ratios(table: IOTable, region: RegionTotals | None, delta: float) -> dict[tuple[str, str, str], np.ndarray]:
    """(scope, type, measure) -> total over direct effect per sector (national; regional with ``region``)."""
    x = table.x
    coef = {"value_added": np.array(table.value_added) / x, "employment": np.array(table.employment) / x}
    kinds = ["I", "II"] if table.households is not None else ["I"]
    ratios: dict[tuple[str, str, str], np.ndarray] = {}
    for scope, reg in (("national", None), ("regional", region)):
        if scope == "regional" and reg is None:
            continue
        for kind in kinds:
            m = multipliers(table, kind, region=reg, delta=delta)
            for measure in MEASURES.values():
                ratios[(scope, kind, measure)] = _ratios(m, coef[measure], measure)
    return ratios


def total_ratios(scenario: Scenario, table: IOTable, *, region: RegionTotals | None = None,
                 delta: float = DEFAULT_DELTA) -> dict[str, dict[str, float]]:
    """actor -> {"value_added": r, "jobs": r}: direct + indirect + induced over direct (type II when the table
    has households, else I; regional with ``region``, else national); 1 for an actor no sector takes."""
    ratios = _sector_ratios(table, region, delta)
    scope = "regional" if region is not None else "national"
    kind = "II" if table.households is not None else "I"
    index = {s: i for i, s in enumerate(table.sectors)}
    out = {}
    for a in scenario.actors:
        code = nace_code(a.sector)
        i = index.get(io_sector_of(code, table.sectors)) if code else None
        row = {}
        for name, measure in MEASURES.items():
            r = ratios[(scope, kind, measure)][i] if i is not None else math.nan
            row[name] = float(r) if math.isfinite(r) else 1.0
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
                   delta: float = DEFAULT_DELTA) -> Effects:
    """Direct, indirect and induced value added and jobs of every actor of ``actors`` (an ``Accounts.actors`` frame)."""
    ratios = _sector_ratios(table, region, delta)
    index = {s: i for i, s in enumerate(table.sectors)}
    sector_of = {a.id: a.sector for a in scenario.actors}
    rows, unmatched = [], []
    for rec in actors.to_dict("records"):
        actor = str(rec["actor"])
        code = nace_code(sector_of.get(actor, ""))
        io = io_sector_of(code, table.sectors) if code else UNMATCHED
        row: dict[str, Any] = {"actor": actor, "sector": sector_of.get(actor, ""), "io_sector": None if io == UNMATCHED else io}
        for name, measure in MEASURES.items():
            direct = float(rec.get(name, 0.0) or 0.0)
            row[f"{name}_direct"] = direct
            for scope in ("national", "regional"):
                r1 = ratios.get((scope, "I", measure))
                r2 = ratios.get((scope, "II", measure))
                i = index.get(io)
                if r1 is None or i is None or not math.isfinite(r1[i]):
                    row[f"{name}_indirect_{scope}"] = math.nan
                    row[f"{name}_induced_{scope}"] = math.nan
                    continue
                row[f"{name}_indirect_{scope}"] = direct * (r1[i] - 1.0)
                row[f"{name}_induced_{scope}"] = direct * (r2[i] - r1[i]) if r2 is not None else math.nan
        if io == UNMATCHED and (row["value_added_direct"] or row["jobs_direct"]):
            unmatched.append(f"{actor} ({code or 'no sector'})")
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    totals = {c: float(frame[c].sum(min_count=1)) for c in COLUMNS[3:]}
    notes = []
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
    lines = [f"Ripple effects (input-output table {fx.table}"
             + (f", region {fx.region} by FLQ" if fx.region else "") + "): direct = the actor's own; "
             "indirect = its sector's purchases, round after round; induced = households spending the wages"]
    kinds: tuple[tuple[str, str, numbers.Kind], ...] = (("value_added", currency, "money"), ("jobs", "jobs/yr", "quantity"))
    for name, unit, kind in kinds:
        cols = [f"{name}_direct", *(f"{name}_{part}_{s}" for s in scopes for part in ("indirect", "induced"))]
        frame = fx.actors[["actor", "io_sector", *cols]].copy()
        frame.loc[len(frame)] = {"actor": "all actors", "io_sector": "", **{c: fx.totals[c] for c in cols}}
        columns: dict[str, Any] = {"actor": numbers.Column("text"), "io_sector": numbers.Column("text", "", "table sector")}
        for c in cols:
            title = c.removeprefix(f"{name}_").replace("_", " ")
            columns[c] = numbers.Column(kind, unit, title)
        label = "Value added, NPV over the horizon" if name == "value_added" else "Jobs, mean per year"
        lines += [f"{label}:", numbers.table(frame.fillna({"io_sector": "-"}), columns)]
    lines += [f"  note: {n}" for n in fx.notes]
    return "\n".join(lines)


SOURCES = {"baseline": "stand-alone", "decentralised": "decentralised", "optimum": "coordinated"}


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
