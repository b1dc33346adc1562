"""Plain-text summaries of ``compare`` and ``incentives`` (numbers through ``report.numbers``)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from symbiosim.report.numbers import Column, key_figure, money, percent, quantity, row_table, scale_for, table

COMPARE_FIGURES = ("cluster_npv", "value_added", "jobs", "emissions", "public_cost")


def compare_summary(scenario: Any, result: Any, decomposition: pd.DataFrame | None) -> str:
    """Key figures of the three outcomes, the share realised, per-actor profits and why the gap exists."""
    cur = scenario.settings.currency
    k = result.kpis
    lines = [f"{scenario.settings.name}: baseline vs decentralised (seed {result.seed}) vs optimum", ""]
    outcomes = ["baseline", "decentralised", "optimum", "gap"]
    lines.append(row_table([(key, *key_figure(key, cur), [k.loc[key, c] for c in outcomes]) for key in COMPARE_FIGURES], outcomes))
    share = result.share_of_potential
    lines.append(f"\n  share of the potential realised: {'n/a (no potential)' if share != share else percent(share)}")
    lines.append(f"  coalition game players: {', '.join(result.game.players) or '(none)'} ({len(result.game.cache)} coalition values solved)")
    lines.append("\n  per actor, NPV: stand-alone, decentralised, coordinated without transfers, with Shapley / nucleolus transfers")
    profits = {"baseline_profit": "stand-alone", "decentralised_profit": "decentralised", "coordinated_profit": "coordinated",
               "coordinated_profit_shapley": "Shapley", "coordinated_profit_nucleolus": "nucleolus"}
    actors = result.actors
    scale = scale_for(v for c in profits if c in actors for v in actors[c])  # one scale and 0.1 of it: the columns compare
    cols = {"actor": Column("text"), **{c: Column("money", cur, t, scale, 1) for c, t in profits.items()},
            "coordinated_loses_without_transfers": Column("flag", title="loses without transfers")}
    lines.append(table(actors, cols))
    if decomposition is not None:
        lines.append("\n  why the gap exists (gap closed by removing each friction; Shapley over friction removals):")
        scale = scale_for(v for c in ("closed_alone", "closed_shapley") if c in decomposition for v in decomposition[c])
        lines.append(table(decomposition, {"friction": Column("text"), "closed_alone": Column("money", cur, "alone", scale, 1),
                                           "closed_shapley": Column("money", cur, "Shapley", scale, 1),
                                           "share_of_gap": Column("share", title="share of gap")}))
    return "\n".join(lines)


# ---------------------------------------------------------------- incentives


def level_column(instrument: str, currency: str, title: str = "level") -> Column:
    """How an instrument's level prints: a share (investment subsidy), on/off (facilitator),
    else money per unit (per t CO2e for the carbon price)."""
    if instrument == "investment_subsidy":
        return Column("share", title=title)
    if instrument == "facilitator":
        return Column("flag", title=title)
    return Column("quantity", f"{currency}/t CO2e" if instrument == "carbon_price" else f"{currency}/unit", title)


def level_text(instrument: str, level: float, currency: str) -> str:
    """One level with its unit: ``28.4%``, ``on``, ``12.5 NOK/unit``."""
    col = level_column(instrument, currency)
    if col.kind == "share":
        return percent(level)
    if col.kind == "flag":
        return "on" if level else "off"
    return quantity(level, col.unit)


def _shortfalls(below: Any) -> dict[str, float]:
    """``below_standalone`` (records ``{"actor", "shortfall"}``, or a mapping actor -> shortfall) as a mapping."""
    if isinstance(below, dict):
        return {str(a): float(v) for a, v in below.items()}
    if isinstance(below, list | tuple) or hasattr(below, "tolist"):
        items = below.tolist() if hasattr(below, "tolist") else below
        return {str(r["actor"]): float(r["shortfall"]) for r in items if isinstance(r, dict)}
    return {}


def _losers(below: Any, currency: str) -> list[tuple[str, str]]:
    """The actors below stand-alone as (actor, money) pairs, largest first, in one scale."""
    found = _shortfalls(below)
    scale = scale_for(found.values())
    return [(a, money(v, currency, scale)) for a, v in sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))]


def losers_text(below: Any, currency: str) -> str:
    """``below_standalone`` as ``isfjord 1.23 M NOK, elkem 0.30 M NOK`` (largest first)."""
    return ", ".join(f"{a} {m}" for a, m in _losers(below, currency))


def losers_sentence(below: Any, currency: str) -> str:
    """``isfjord ends 1.23 M NOK below its stand-alone profit, elkem 0.30 M NOK`` ('' if none)."""
    pairs = _losers(below, currency)
    if not pairs:
        return ""
    (a, m), rest = pairs[0], pairs[1:]
    return f"{a} ends {m} below its stand-alone profit" + "".join(f", {b} {n}" for b, n in rest)


def _share(x: Any) -> float:
    return -math.inf if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def incentive_verdict(instrument: str, target: float, seeds: list[int], result: dict[str, Any], tried: pd.DataFrame,
                      currency: str = "") -> str:
    """Why the search ended as it did: the least level and what it costs, or why no level passed,
    naming the actors that end below stand-alone and by how much."""
    r = result["result"]
    if result["reached"]:
        per_t = r["cost_per_tonne_diverted"]
        per_co2 = r["cost_per_t_co2e"]
        return (
            f"{instrument}: least level reaching {target:.0%} of the potential with no actor below stand-alone: "
            f"{level_text(instrument, result['level'], currency)}\n"
            f"  share {percent(r['share_of_potential'])} (sd {percent(r['share_sd'])} over seeds {', '.join(map(str, seeds))}), "
            f"net public cost {money(r['public_cost'], currency)}, deadweight {money(r['deadweight'], currency)}, "
            f"per t diverted {quantity(per_t, currency + '/t') if per_t == per_t else 'n/a (nothing diverted)'}, "
            f"per t CO2e avoided {quantity(per_co2, currency + '/t CO2e') if per_co2 == per_co2 else 'n/a (none avoided)'}"
        )
    top = tried.level.max() if len(tried) else math.nan
    head = f"{instrument}: target {target:.0%} not reached up to level {level_text(instrument, top, currency)}"
    if not len(tried):
        return head
    rows = tried.to_dict("records")
    best = max(rows, key=lambda x: _share(x["share_of_potential"]))
    reaching = [x for x in rows if _share(x["share_of_potential"]) >= target - 1e-9]
    if not reaching:
        text = (f"{head}: no level tried reaches the share (best {percent(best['share_of_potential'])} "
                f"at level {level_text(instrument, best['level'], currency)})")
        losers = losers_sentence(best.get("below_standalone"), currency)
        if best["actors_below_standalone"]:
            text += f"; there {losers} (the most over the seeds)" if losers else \
                f"; there {best['actors_below_standalone']} actor(s) end below stand-alone"
        return text
    # every level reaching the share leaves an actor below stand-alone: name them at the closest one
    close = min(reaching, key=lambda x: (x["actors_below_standalone"], sum(_shortfalls(x.get("below_standalone")).values()), x["level"]))
    losers = losers_sentence(close.get("below_standalone"), currency)
    n = len(reaching)
    return (
        f"{head}: {n} level(s) reach the share (best {percent(best['share_of_potential'])}) but each leaves an actor below "
        f"stand-alone; at level {level_text(instrument, close['level'], currency)} (share {percent(close['share_of_potential'])}), "
        + (f"{losers} (the most over the seeds)" if losers else f"{close['actors_below_standalone']} actor(s) end below stand-alone")
    )


def incentive_columns(instrument: str, currency: str, frame: pd.DataFrame, *, full: bool = False) -> dict[str, Column]:
    """The columns of a levels table (``full``: every cost; else the search's short list)."""
    scale = scale_for(v for c in ("public_cost", "deadweight") if c in frame for v in frame[c])
    cols: dict[str, Column] = {
        "level": level_column(instrument, currency),
        "share_of_potential": Column("share", title="share of potential"),
        "public_cost": Column("money", currency, "net public cost", scale),
    }
    if full:
        cols["cost_per_tonne_diverted"] = Column("quantity", f"{currency}/t", "per t diverted")
        cols["cost_per_t_co2e"] = Column("quantity", f"{currency}/t CO2e", "per t CO2e")
        cols["deadweight"] = Column("money", currency, "deadweight", scale)
    cols["actors_below_standalone"] = Column("count", title="actors below stand-alone")
    if "below_standalone" in frame and any(_shortfalls(b) for b in frame["below_standalone"]):
        cols["losers"] = Column("text", title="below stand-alone by (most over seeds)")
    return cols


def _with_losers(frame: pd.DataFrame, currency: str) -> pd.DataFrame:
    out = frame.copy()
    below = out["below_standalone"] if "below_standalone" in out else pd.Series([None] * len(out), index=out.index)
    out["losers"] = [losers_text(b, currency) for b in below]
    return out


def incentive_summary(instrument: str, target: float, seeds: list[int], result: dict[str, Any], tried: pd.DataFrame,
                      currency: str = "") -> str:
    """The verdict (``incentive_verdict``) and the levels tried."""
    head = incentive_verdict(instrument, target, seeds, result, tried, currency)
    return head + "\n" + table(_with_losers(tried, currency), incentive_columns(instrument, currency, tried), max_text=60)


INCENTIVE_COLUMNS = ["level", "share_of_potential", "public_cost", "cost_per_tonne_diverted", "cost_per_t_co2e", "deadweight",
                     "actors_below_standalone"]


def incentive_table(table_: pd.DataFrame, currency: str = "") -> str:
    """``incentives --levels``: one row per level."""
    if not len(table_):
        return "  (none)"
    instrument = str(table_.instrument.iloc[0]) if "instrument" in table_ else ""
    return table(_with_losers(table_, currency), incentive_columns(instrument, currency, table_, full=True), max_text=60)
