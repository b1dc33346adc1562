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


def _header_version(path) -> int:
    head = path.read_bytes()[:20]
    assert head[8:12] == b"DUCK", "not a DuckDB file"
    return int.from_bytes(head[12:20], "little")


def test_a_new_store_is_written_for_duckdb_1_0_and_later(tmp_path):
    """DuckDB 2.x writes its own format (header version 999, "version number 999" to
    DuckDB 1.1); the store asks for storage version v1.0.0 (header 64): DuckDB >= 0.10 reads it."""
    from symbiosim.store import STORAGE_VERSION, storage_version_number

    path = tmp_path / "r.duckdb"
    with ResultsStore(path) as store:
        store.append("runs", pd.DataFrame({"run_id": [1], "value": [0.5], "name": ["a"]}))
        columns = [r[0] for r in store.con.execute("describe select * from duckdb_databases()").fetchall()]
        if "tags" in columns:  # DuckDB >= 1.2 reports the storage version it writes
            tags = store.con.execute("select tags from duckdb_databases() where database_name = current_database()").fetchone()[0]
            assert tags["storage_version"] == "v1.0.0+"
    assert STORAGE_VERSION == "v1.0.0"
    assert _header_version(path) == 64 == storage_version_number(path)
    with ResultsStore(path) as store:  # appending later keeps the format
        store.append("runs", pd.DataFrame({"run_id": [2], "value": [1.5], "name": ["b"]}))
        store.con.execute("checkpoint")
    assert _header_version(path) == 64
    with ResultsStore(path, read_only=True) as store:
        assert store.read("runs").run_id.tolist() == [1, 2]


def test_the_cases_store_has_the_same_format(tmp_path):
    from symbiosim.decide.cases import COMPARISON_COLUMNS, DISTRIBUTION_COLUMNS, CaseResults, write_store

    comparison = pd.DataFrame([{"case_id": "base", "status": "optimal", **{c: 1.0 for c in COMPARISON_COLUMNS[2:]}}])
    distribution = pd.DataFrame([{"case_id": "base", "actor": "a", "product": "p", "period": 0, "receiver": "b",
                                  "channel": "exchange", "quantity": 1.0, "income": 2.0}], columns=list(DISTRIBUTION_COLUMNS))
    key_figures = pd.DataFrame([{"case_id": "base", "key_figure": "jobs", "value": 1.0}])
    path = tmp_path / "cases.duckdb"
    write_store(CaseResults(comparison, distribution, key_figures, {}, {}, {"base": "tiny"}), path)
    assert _header_version(path) == 64


def test_a_file_that_is_not_duckdb_is_refused_untouched(tmp_path):
    from symbiosim.store import StoreError, is_duckdb_file

    path = tmp_path / "notes.yaml"
    path.write_text("a: 1\n")
    with pytest.raises(StoreError, match="not a DuckDB database"):
        ResultsStore(path)
    with pytest.raises(StoreError):
        ResultsStore(tmp_path / "missing.duckdb", read_only=True)
    assert path.read_text() == "a: 1\n" and not is_duckdb_file(path)
    assert isinstance(StoreError("x"), OSError)  # the command line reports it with exit code 2
