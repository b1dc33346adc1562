"""Plain-text summaries of ``compare`` and ``incentives``."""

from __future__ import annotations

from typing import Any

import pandas as pd


def compare_summary(scenario: Any, result: Any, decomposition: pd.DataFrame | None) -> str:
    """Key figures of the three outcomes, the share realised, per-actor profits and why the gap exists."""
    cur = scenario.settings.currency
    k = result.kpis
    lines = [f"{scenario.settings.name}: baseline vs decentralised (seed {result.seed}) vs optimum", ""]
    lines.append(f"  {'key figure':<24}{'baseline':>14}{'decentralised':>15}{'optimum':>14}{'gap':>14}")
    for key in ("cluster_npv", "value_added", "jobs", "emissions", "public_cost"):
        money = key in ("cluster_npv", "value_added", "public_cost")
        f = (lambda x: f"{x / 1e6:,.2f}") if money else (lambda x: f"{x:,.1f}")
        label = f"{key} ({'M ' + cur if money else ('t CO2e' if key == 'emissions' else 'jobs')})"
        lines.append(f"  {label:<24}{f(k.loc[key, 'baseline']):>14}{f(k.loc[key, 'decentralised']):>15}{f(k.loc[key, 'optimum']):>14}{f(k.loc[key, 'gap']):>14}")
    share = result.share_of_potential
    lines.append(f"\n  share of the potential realised: {'n/a (no potential)' if share != share else f'{share:.1%}'}")
    lines.append(f"  coalition game players: {', '.join(result.game.players) or '(none)'} ({len(result.game.cache)} coalition values solved)")
    lines.append("\n  per actor (NPV, M " + cur + "): stand-alone, decentralised, coordinated without transfers, with Shapley / nucleolus")
    for r in result.actors.to_dict("records"):
        lines.append(
            f"    {r['actor']:<24}{r['baseline_profit'] / 1e6:>12,.2f}{r['decentralised_profit'] / 1e6:>12,.2f}"
            f"{r['coordinated_profit'] / 1e6:>12,.2f}{r.get('coordinated_profit_shapley', float('nan')) / 1e6:>12,.2f}"
            f"{r.get('coordinated_profit_nucleolus', float('nan')) / 1e6:>12,.2f}"
            + ("  loses without transfers" if r["coordinated_loses_without_transfers"] else "")
        )
    if decomposition is not None:
        lines.append("\n  why the gap exists (gap closed, M " + cur + "; Shapley over friction removals):")
        for r in decomposition.to_dict("records"):
            lines.append(f"    {r['friction']:<22}{r['closed_alone'] / 1e6:>12,.2f} alone{r['closed_shapley'] / 1e6:>12,.2f} shapley")
    return "\n".join(lines)


def incentive_summary(instrument: str, target: float, seeds: list[int], result: dict[str, Any], tried: pd.DataFrame) -> str:
    """The least level found (or how far the search got) and the levels tried."""
    r = result["result"]
    if result["reached"]:
        head = (
            f"{instrument}: least level reaching {target:.0%} of the potential with no actor below stand-alone: "
            f"{result['level']:,.4g}\n  share {r['share_of_potential']:.1%} (sd {r['share_sd']:.1%} over seeds {seeds}), "
            f"public cost {r['public_cost'] / 1e6:,.2f} M, deadweight {r['deadweight'] / 1e6:,.2f} M, "
            f"per t diverted {r['cost_per_tonne_diverted']:,.1f}, per t CO2e {r['cost_per_t_co2e']:,.1f}"
        )
    else:
        head = (f"{instrument}: target {target:.0%} not reached up to level {tried.level.max():,.4g} "
                f"(best share {tried.share_of_potential.max():.1%})")
    return head + "\n" + tried[["level", "share_of_potential", "public_cost", "actors_below_standalone"]].to_string(index=False)


INCENTIVE_COLUMNS = ["level", "share_of_potential", "public_cost", "cost_per_tonne_diverted", "cost_per_t_co2e", "deadweight",
                     "actors_below_standalone"]


def incentive_table(table: pd.DataFrame) -> str:
    """``incentives --levels``: one row per level."""
    return table[INCENTIVE_COLUMNS].to_string(index=False)
