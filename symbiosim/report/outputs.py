"""What ``--out DIR`` writes, per command: tables, the command's JSON object and figures.

Each writer takes results already computed (nothing is solved here) and the
directory; JSON files are written with ``symbiosim.report.jsonable``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from symbiosim.report.jsonable import write_json
from symbiosim.report.workbook import About

TABLE_FORMATS = ("csv", "parquet", "xlsx")  # --format of --out; xlsx: one workbook per command (report.workbook)


def write_frames(out: Path, tables: Mapping[str, pd.DataFrame], fmt: str, about: About) -> None:
    """Tables as ``<name>.csv`` or ``<name>.parquet`` each, or (``xlsx``) all of them as the sheets
    of one workbook ``<command>.xlsx`` after an ``about`` sheet (``report.workbook``)."""
    from symbiosim.report.workbook import write_workbook

    if fmt == "xlsx":
        write_workbook(out / f"{about.command}.xlsx", tables, about)
        return
    for name, frame in tables.items():
        if fmt == "parquet":
            frame.to_parquet(out / f"{name}.parquet", index=False)
        else:
            frame.to_csv(out / f"{name}.csv", index=False)


def _plan_meta(plan: Any) -> list[tuple[str, Any]]:
    """A plan's ``meta`` as rows of the about sheet (``meta.json`` of the CSV layout)."""
    return [(f"plan {k}", v) for k, v in plan.meta.items() if isinstance(v, str | int | float | bool) or v is None]


def _write_plan(plan: Any, out: Path, fmt: str, about: About, more: Mapping[str, pd.DataFrame] | None = None) -> None:
    """A plan's tables (and ``more`` tables) in ``fmt``; ``meta.json`` in every format."""
    if fmt != "xlsx":
        plan.write(out, fmt)
        write_frames(out, more or {}, fmt, about)
        return
    out.mkdir(parents=True, exist_ok=True)
    (out / "meta.json").write_text(json.dumps(plan.meta, indent=2, default=str))
    about.notes = [*about.notes, *_plan_meta(plan)]
    write_frames(out, {**plan.tables(), **(more or {})}, fmt, about)


def write_plan_outputs(scenario: Any, plan: Any, accounts: Any, out: Path, fmt: str = "csv", obj: dict[str, Any] | None = None,
                       baseline: dict[str, Any] | None = None, about: About | None = None,
                       more: Mapping[str, pd.DataFrame] | None = None) -> None:
    """``plan --out``: the plan's tables, ``actors.csv``, ``products.csv`` and ``more`` (e.g. ``effects``;
    ``xlsx``: all in ``plan.xlsx``, whose about sheet is ``about``), ``kpis.json`` (``obj``, the ``--json``
    object; built from ``baseline`` if not given) and ``flows.png``."""
    from symbiosim.report.figures import flow_figure
    from symbiosim.report.summary import plan_json

    out = Path(out)
    if fmt == "xlsx":
        _write_plan(plan, out, fmt, about or About.of("plan", scenario),
                    {"actors": accounts.actors, "products": accounts.by_product, **(more or {})})
    else:
        plan.write(out, fmt)
        accounts.actors.to_csv(out / "actors.csv", index=False)
        accounts.by_product.to_csv(out / "products.csv", index=False)
        write_frames(out, more or {}, fmt, About("plan"))
    write_json(out / "kpis.json", obj if obj is not None else plan_json(scenario, plan, accounts, baseline), allow_nan=True)
    flow_figure(scenario, plan, out / "flows.png")


def write_simulation_outputs(scenario: Any, result: Any, accounts: Any, out: Path, fmt: str = "csv", obj: dict[str, Any] | None = None,
                             about: About | None = None, more: Mapping[str, pd.DataFrame] | None = None) -> None:
    """``simulate --out``: the plan's tables, the time series, ``actors.csv`` and ``more`` (``xlsx``: all in
    ``simulate.xlsx``), ``kpis.json``, ``links.png``, ``flows.png``."""
    from symbiosim.report.figures import flow_figure, links_figure
    from symbiosim.report.summary import simulation_json

    out = Path(out)
    tables = {**{name: getattr(result, name) for name in ("series", "firms", "offers", "contracts")}, **(more or {})}
    if fmt == "xlsx":
        _write_plan(result.plan, out, fmt, about or About.of("simulate", scenario), {**tables, "actors": accounts.actors})
    else:
        result.plan.write(out, fmt)
        write_frames(out, tables, fmt, About("simulate"))
        accounts.actors.to_csv(out / "actors.csv", index=False)
    write_json(out / "kpis.json", obj if obj is not None else simulation_json(result, accounts), allow_nan=True)
    links_figure(scenario, result.contracts, result.series, out / "links.png")
    flow_figure(scenario, result.plan, out / "flows.png", title=f"{scenario.settings.name}: decentralised flows (seed {result.seed})")


def write_compare_outputs(result: Any, decomposition: pd.DataFrame | None, obj: dict[str, Any], out: Path,
                          currency: str = "NOK", fmt: str = "csv", about: About | None = None,
                          more: Mapping[str, pd.DataFrame] | None = None) -> None:
    """``compare --out``: key figures, actors, transfers (``xlsx``: all in ``compare.xlsx``),
    ``compare.json`` (``obj``) and figures."""
    from symbiosim.compare.gap import RULES
    from symbiosim.report import compare_figures as figs

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tables = {"kpis": result.kpis.rename_axis("key_figure").reset_index(), "actors": result.actors,
              "transfers": result.transfers.rename_axis("rule").reset_index()}
    if decomposition is not None:
        tables["decomposition"] = decomposition
    tables.update(more or {})
    write_frames(out, tables, fmt, about or About("compare", currency=currency))
    write_json(out / "compare.json", obj, allow_nan=True)
    figs.gap_figure(result.kpis, out / "gap.png", currency)
    figs.actors_figure(result.actors, list(RULES), out / "actors.png", currency)
    if decomposition is not None:
        figs.decomposition_figure(decomposition, out / "decomposition.png", currency)


def write_incentive_outputs(table: pd.DataFrame, out: Path, name: str, currency: str = "NOK", fmt: str = "csv",
                            about: About | None = None) -> None:
    """``incentives --out``: the levels tried (``levels.csv``) or evaluated (``settings.csv``; ``xlsx``:
    ``incentives.xlsx``) and ``cost_vs_share.png``."""
    from symbiosim.report import compare_figures as figs

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_frames(out, {name: table}, fmt, about or About("incentives", currency=currency))
    figs.cost_figure(table, out / "cost_vs_share.png", currency)


def write_tables(out: str | Path, command: str, tables: Mapping[str, pd.DataFrame], obj: Any,
                 plans: Mapping[str, Any] | None = None, fmt: str = "csv", about: About | None = None) -> Path:
    """``--out`` of the decision commands: each table as ``<name>.csv`` (``fmt``; ``xlsx``: all in
    ``<command>.xlsx``), each plan in its own folder (``xlsx``: ``<plan>/plan.xlsx``) and ``obj``
    as ``<command>.json``; returns the folder (for the figure)."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    about = about or About(command)
    write_frames(folder, tables, fmt, about)
    for name, plan in (plans or {}).items():
        _write_plan(plan, folder / name, fmt, About("plan", about.scenario, about.source, about.currency,
                                                     notes=[("plan of", f"symbiosim {command}: {name}")]))
    write_json(folder / f"{command}.json", obj)
    return folder
