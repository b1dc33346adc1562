"""What ``--out DIR`` writes, per command: tables, the command's JSON object and figures.

Each writer takes results already computed (nothing is solved here) and the
directory; JSON files are written with ``symbiosim.report.jsonable``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from symbiosim.report.jsonable import write_json

TABLE_FORMATS = ("csv", "parquet")  # --format of plan and simulate


def write_plan_outputs(scenario: Any, plan: Any, accounts: Any, out: Path, fmt: str = "csv", obj: dict[str, Any] | None = None,
                       baseline: dict[str, Any] | None = None) -> None:
    """``plan --out``: the plan's tables, ``actors.csv``, ``products.csv``, ``kpis.json`` (``obj``,
    the ``--json`` object; built from ``baseline`` if not given) and ``flows.png``."""
    from symbiosim.report.figures import flow_figure
    from symbiosim.report.summary import plan_json

    out = Path(out)
    plan.write(out, fmt)
    accounts.actors.to_csv(out / "actors.csv", index=False)
    accounts.by_product.to_csv(out / "products.csv", index=False)
    write_json(out / "kpis.json", obj if obj is not None else plan_json(scenario, plan, accounts, baseline), allow_nan=True)
    flow_figure(scenario, plan, out / "flows.png")


def write_simulation_outputs(scenario: Any, result: Any, accounts: Any, out: Path, fmt: str = "csv", obj: dict[str, Any] | None = None) -> None:
    """``simulate --out``: the plan's tables, the time series, ``actors.csv``, ``kpis.json``, ``links.png``, ``flows.png``."""
    from symbiosim.report.figures import flow_figure, links_figure
    from symbiosim.report.summary import simulation_json

    out = Path(out)
    result.plan.write(out, fmt)
    for name in ("series", "firms", "offers", "contracts"):
        frame = getattr(result, name)
        if fmt == "parquet":
            frame.to_parquet(out / f"{name}.parquet", index=False)
        else:
            frame.to_csv(out / f"{name}.csv", index=False)
    accounts.actors.to_csv(out / "actors.csv", index=False)
    write_json(out / "kpis.json", obj if obj is not None else simulation_json(result, accounts), allow_nan=True)
    links_figure(scenario, result.contracts, result.series, out / "links.png")
    flow_figure(scenario, result.plan, out / "flows.png", title=f"{scenario.settings.name}: decentralised flows (seed {result.seed})")


def write_compare_outputs(result: Any, decomposition: pd.DataFrame | None, obj: dict[str, Any], out: Path,
                          currency: str = "NOK") -> None:
    """``compare --out``: key figures, actors, transfers, ``compare.json`` (``obj``) and figures."""
    from symbiosim.compare.gap import RULES
    from symbiosim.report import compare_figures as figs

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result.kpis.to_csv(out / "kpis.csv", index_label="key_figure")
    result.actors.to_csv(out / "actors.csv", index=False)
    result.transfers.to_csv(out / "transfers.csv", index_label="rule")
    write_json(out / "compare.json", obj, allow_nan=True)
    figs.gap_figure(result.kpis, out / "gap.png", currency)
    figs.actors_figure(result.actors, list(RULES), out / "actors.png", currency)
    if decomposition is not None:
        decomposition.to_csv(out / "decomposition.csv", index=False)
        figs.decomposition_figure(decomposition, out / "decomposition.png", currency)


def write_incentive_outputs(table: pd.DataFrame, out: Path, name: str, currency: str = "NOK") -> None:
    """``incentives --out``: the levels tried (``levels.csv``) or evaluated (``settings.csv``) and ``cost_vs_share.png``."""
    from symbiosim.report import compare_figures as figs

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / f"{name}.csv", index=False)
    figs.cost_figure(table, out / "cost_vs_share.png", currency)


def write_tables(out: str | Path, command: str, tables: Mapping[str, pd.DataFrame], obj: Any,
                 plans: Mapping[str, Any] | None = None) -> Path:
    """``--out`` of the decision commands: each table as ``<name>.csv``, each plan in its own
    folder and ``obj`` as ``<command>.json``; returns the folder (for the figure)."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    for name, plan in (plans or {}).items():
        plan.write(folder / name)
    write_json(folder / f"{command}.json", obj)
    return folder
