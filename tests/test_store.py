"""The DuckDB results store."""

from __future__ import annotations

import pandas as pd
import pytest

from symbiosim.store import ResultsStore


def test_append_read_replace_and_export(tmp_path):
    path = tmp_path / "r.duckdb"
    with ResultsStore(path) as store:
        store.append("runs", pd.DataFrame({"run_id": [1, 2], "value": [0.5, 1.5]}))
        store.append("runs", pd.DataFrame({"run_id": [3], "value": [2.5]}))
        assert store.read("runs").run_id.tolist() == [1, 2, 3]
        assert store.read("runs", "value > ?", [1.0]).run_id.tolist() == [2, 3]
        store.replace("runs", pd.DataFrame({"run_id": [9], "value": [0.0]}))
        assert store.read("runs").run_id.tolist() == [9]
        files = store.export_parquet(tmp_path / "pq")
    assert pd.read_parquet(files[0]).run_id.tolist() == [9]
    with ResultsStore(path, read_only=True) as store:
        assert store.tables() == ["runs"]


def test_table_names_are_checked(tmp_path):
    with ResultsStore(tmp_path / "r.duckdb") as store, pytest.raises(ValueError, match="table name"):
        store.append("runs; drop table x", pd.DataFrame({"a": [1]}))
