"""``Plan``: what a cluster does, period by period. The planner and the
simulator both return one, and ``accounts.evaluate`` values any of them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

# Fixed column layout of every table (tidy: one row per quantity).
COLUMNS: dict[str, tuple[str, ...]] = {
    "activities": ("actor", "process", "period", "year", "value"),
    "purchases": ("actor", "product", "period", "year", "value"),
    "sales": ("actor", "product", "period", "year", "value"),
    "disposals": ("actor", "product", "period", "year", "value"),
    "flows": ("source", "target", "product", "period", "year", "value", "price"),
    "storage": ("actor", "product", "period", "year", "value"),
    "builds": ("kind", "actor", "process", "target", "product", "year"),
}
BUILD_KINDS = ("actor", "process", "link")


def empty_table(name: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in COLUMNS[name]})


def _dtype(column: str) -> str:
    if column in ("period", "year"):
        return "int64"
    if column in ("value", "price"):
        return "float64"
    return "object"


def make_table(name: str, rows: list[tuple[Any, ...]] | list[dict[str, Any]]) -> pd.DataFrame:
    """A table with the fixed columns of ``name`` (rows as tuples in column order, or dicts)."""
    if not rows:
        return empty_table(name)
    df = pd.DataFrame(rows, columns=list(COLUMNS[name]) if isinstance(rows[0], tuple) else None)
    df = df.reindex(columns=list(COLUMNS[name]))
    return df.astype({c: _dtype(c) for c in COLUMNS[name]})


@dataclass(frozen=True)
class Plan:
    """Decisions of a cluster over the horizon, as tidy tables.

    ``builds`` has one row per decision: ``kind`` is ``actor`` (a candidate
    actor enters), ``process`` (a candidate process of ``actor`` is built) or
    ``link`` (a link ``actor`` -> ``target`` for ``product`` is built).
    ``flows.price`` is the transfer price per unit (NaN: none agreed).
    ``meta`` holds how the plan came about (status, objective, gap, seed...).
    """

    activities: pd.DataFrame
    purchases: pd.DataFrame
    sales: pd.DataFrame
    disposals: pd.DataFrame
    flows: pd.DataFrame
    storage: pd.DataFrame
    builds: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in COLUMNS}

    def to_long(self) -> pd.DataFrame:
        """All quantities in one long frame: variable, actor, counterpart, product, period, year, value."""
        parts = []
        for name in ("activities", "purchases", "sales", "disposals", "storage"):
            df = getattr(self, name)
            parts.append(
                pd.DataFrame(
                    {
                        "variable": name,
                        "actor": df["actor"],
                        "counterpart": None,
                        "item": df["process"] if name == "activities" else df["product"],
                        "period": df["period"],
                        "year": df["year"],
                        "value": df["value"],
                    }
                )
            )
        f = self.flows
        parts.append(
            pd.DataFrame(
                {
                    "variable": "flows",
                    "actor": f["source"],
                    "counterpart": f["target"],
                    "item": f["product"],
                    "period": f["period"],
                    "year": f["year"],
                    "value": f["value"],
                }
            )
        )
        return pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else parts[0]

    def write(self, directory: str | Path, fmt: str = "csv") -> list[Path]:
        """Write every table (CSV or Parquet) and ``meta.json`` into ``directory``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, df in self.tables().items():
            path = out / f"{name}.{fmt}"
            if fmt == "parquet":
                df.to_parquet(path, index=False)
            else:
                df.to_csv(path, index=False)
            written.append(path)
        meta = out / "meta.json"
        meta.write_text(json.dumps(self.meta, indent=2, default=str))
        written.append(meta)
        return written
