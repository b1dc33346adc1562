"""Plain-text summaries of ``alternatives``, ``pareto``, ``cases`` and ``robustness``.

Every number goes through ``symbiosim.report.numbers``: money in the scenario's currency
with one scale per column (``M NOK``), quantities with their unit, shares as percent,
no scientific notation, rounding noise as 0. Long decision lists are printed as a key
under the table.
"""

from __future__ import annotations

import textwrap
from typing import Any

from symbiosim.report.numbers import Column, key_figure, key_figure_column, row_table, table

WIDTH = 100


def _wrap(text: str, indent: str = "  ", hang: int = 4) -> str:
    return "\n".join(textwrap.wrap(text, width=WIDTH, initial_indent=indent, subsequent_indent=indent + " " * hang,
                                   break_on_hyphens=False, break_long_words=False))


def objective_column(objective: str, currency: str, title: str) -> Column:
    """The column of an objective's value: a key figure's unit; ``weighted`` is a plain number."""
    return key_figure_column(objective, currency, title) if objective != "weighted" else Column("number", "", title)


def alternatives_summary(name: str, currency: str, result: Any, slack: float, objective: str) -> str:
    """The optimum and its near-optimal alternatives: objective, distance, key figures, what changes."""
    r = result
    lines = [f"{name}: optimum and {len(r.plans) - 1} alternative(s) within {slack:.1%} of the optimal {objective}"]
    if r.meta.get("stopped"):
        lines.append(f"  ({r.meta['stopped']})")
    cols = {
        "plan": Column("text"),
        "objective_value": objective_column(objective, currency, objective),
        "relative_to_optimum": Column("share", title="of optimum"),
        "distance_to_optimum": Column("count", title="decisions changed"),
        "common": Column("count", title="in common"),
    }
    for k in ("cluster_npv", "value_added", "jobs", "emissions", "public_cost"):
        if k != objective:
            cols[k] = key_figure_column(k, currency)
    lines.append(table(r.kpis, cols))
    for row in r.kpis.iloc[1:].itertuples():
        name = str(row.plan)
        lines.append(_wrap(f"{name}  adds: {row.added or '-'}", hang=len(name) + 8))
        lines.append(_wrap(f"{' ' * len(name)} drops: {row.removed or '-'}", hang=len(name) + 8))
    robust = r.summary.loc[r.summary.robust, "decision"].tolist()
    lines.append(_wrap("robust (in every plan): " + (", ".join(robust) or "none")))
    return "\n".join(lines)


def pareto_summary(name: str, currency: str, front: Any) -> str:
    """The front: both objectives with their units, what changes from the first point (as a key)."""
    f1, f2 = front.objectives
    lines = [f"{name}: {len(front.plans)}-point front of {f1} against {f2} (changes from p0 listed under the table)"]
    cols = {
        "point": Column("text"),
        f"{f1}_objective": objective_column(f1, currency, f1),
        f"{f2}_objective": objective_column(f2, currency, f2),
        "decisions_changed": Column("text", title="decisions changed (+ added, - dropped)"),
    }
    lines.append(table(front.points, cols, max_text=30, width=WIDTH))
    return "\n".join(lines)


def cases_summary(name: str, currency: str, result: Any, store: str | None, run_id: str | None) -> str:
    """One row per key figure, one column per case (each row in its own unit and scale)."""
    comp = result.comparison
    lines = [f"{name}: {len(comp)} case(s); value_added_regional = region {result.meta['region']!r}"]
    if len(comp):
        cases = [str(c) for c in comp.case_id]
        rows: list[tuple[str, str, str, list[Any]]] = [("status", "text", "", comp.status.tolist())]
        for col in comp.columns:
            if col in ("case_id", "status"):
                continue
            kind, unit = key_figure(col, currency)
            rows.append((col, kind, unit, comp[col].tolist()))
        lines.append(row_table(rows, cases))
    else:
        lines.append("  (none)")
    lines.append(f"  distribution table: {len(result.distribution):,} rows" + (f"; stored in {store} (run {run_id})" if run_id else ""))
    return "\n".join(lines)


def robustness_summary(name: str, currency: str, result: Any) -> str:
    """Share of perturbed solves keeping each decision; spread of the key figures in their units."""
    m = result.meta
    lines = [f"{name}: {m['solved']} of {m['samples']} perturbed solves (+-{m['perturb']:.0%}, seed {m['seed']})"]
    lines.append(table(result.decisions, {"kind": Column("text"), "decision": Column("text"),
                                          "in_reference": Column("flag", title="in optimum"),
                                          "share_kept": Column("share", title="kept")}, max_text=90))
    stats = [c for c in ("reference", "mean", "sd", "p05", "p95") if c in result.kpis]
    rows = []
    for r in result.kpis.to_dict("records"):
        kind, unit = key_figure(r["key_figure"], currency)
        rows.append((str(r["key_figure"]), kind, unit, [r[c] for c in stats]))
    lines.append(row_table(rows, stats))
    return "\n".join(lines)
