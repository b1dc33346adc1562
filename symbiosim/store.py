"""The results store: one embedded DuckDB file of tidy tables.

Experiments (``symbiosim experiment``) and case comparisons (``symbiosim
cases``) write here, so one file holds every run a study made. Tables are
created from the first DataFrame appended to them; later frames must have
the same columns. Writes are transactional, so an interrupted batch leaves
only whole rows behind.

Files are written in DuckDB's storage format of version 1.0
(``STORAGE_VERSION``; storage version number 64 in the file header), which
every DuckDB from 0.10 on reads, including the 1.0 and 1.1 releases still in
common use; DuckDB 2.x would otherwise write its own newer format (header
version 999) that older readers refuse. Every connection goes through
``connect``.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import duckdb
import pandas as pd

_IDENT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
STORAGE_VERSION = "v1.0.0"  # readable by DuckDB >= 0.10 (storage version 64)
MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file


class StoreError(OSError):
    """The results store cannot be opened (not a DuckDB file, a newer format, locked...)."""


def _header(path: str | Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(20)
    except (OSError, ValueError):
        return b""


def is_duckdb_file(path: str | Path) -> bool:
    """Whether ``path`` is a DuckDB database file (by its header; nothing is opened for writing)."""
    return _header(path)[8:12] == MAGIC


def storage_version_number(path: str | Path) -> int | None:
    """The storage version number in a DuckDB file's header (64 for ``STORAGE_VERSION``)."""
    head = _header(path)
    return int.from_bytes(head[12:20], "little") if len(head) == 20 and head[8:12] == MAGIC else None


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to the DuckDB file ``path``; a new file is written in ``STORAGE_VERSION``.

    Raises:
        StoreError: the file cannot be opened as a DuckDB database (the message says why).
    """
    path = Path(path)
    if path.exists() and not is_duckdb_file(path):
        raise StoreError(f"{path} exists and is not a DuckDB database")
    try:
        return duckdb.connect(str(path), read_only=read_only, config={"storage_compatibility_version": STORAGE_VERSION})
    except duckdb.Error as exc:
        raise StoreError(f"{path}: cannot open the DuckDB database: {exc}") from None


def open_untrusted(path: str | Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB file a user named (untrusted): read-only, with DuckDB's access to other files off.

    Raises:
        StoreError: not a DuckDB file, or it cannot be opened (the message names the file, not its folder).
    """
    name = Path(path).name
    if not Path(path).is_file() or not is_duckdb_file(path):
        raise StoreError(f"{name} is not a DuckDB database")
    try:
        return duckdb.connect(str(path), read_only=True, config={"enable_external_access": False})
    except duckdb.Error as exc:
        raise StoreError(f"{name}: cannot open the DuckDB database ({str(exc).splitlines()[0]})") from None


def schema_of(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, str], list[tuple[str, str, bool]]]:
    """The main schema: table -> its kind (``BASE TABLE``, ``VIEW``, ...), and (table, column, computed?) rows."""
    kinds = dict(con.execute("select table_name, table_type from information_schema.tables where table_schema = 'main'").fetchall())
    columns = [(str(t), str(c), bool(g)) for t, c, g in con.execute(
        "select table_name, column_name, is_generated from duckdb_columns() where schema_name = 'main'").fetchall()]
    return kinds, columns


def _name(table: str) -> str:
    if not table or not set(table) <= _IDENT or table[0].isdigit():
        raise ValueError(f"table name {table!r}: expected lower-case letters, digits and _")
    return table


class ResultsStore:
    """A DuckDB file of tidy tables (``with ResultsStore(path) as store: ...``)."""

    def __init__(self, path: str | Path, read_only: bool = False) -> None:
        self.path = Path(path)
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = connect(self.path, read_only=read_only)

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def tables(self) -> list[str]:
        return sorted(r[0] for r in self.con.execute("select table_name from information_schema.tables").fetchall())

    def has(self, table: str) -> bool:
        return _name(table) in self.tables()

    def append(self, table: str, frame: pd.DataFrame) -> None:
        """Append rows (the table is created from the first frame)."""
        if frame.empty:
            return
        name = _name(table)
        self.con.register("_incoming", frame)
        try:
            self.con.execute("begin transaction")
            if self.has(name):
                columns = ", ".join(f'"{c}"' for c in frame.columns)
                self.con.execute(f"insert into {name} ({columns}) select {columns} from _incoming")
            else:
                self.con.execute(f"create table {name} as select * from _incoming")
            self.con.execute("commit")
        except Exception:
            self.con.execute("rollback")
            raise
        finally:
            self.con.unregister("_incoming")

    def replace(self, table: str, frame: pd.DataFrame) -> None:
        """Replace a whole table."""
        name = _name(table)
        self.con.execute(f"drop table if exists {name}")
        if not frame.empty:
            self.append(name, frame)

    def read(self, table: str, where: str = "", params: list[object] | None = None) -> pd.DataFrame:
        """A table as a DataFrame; ``where`` is a SQL condition with ``?`` placeholders."""
        sql = f"select * from {_name(table)}" + (f" where {where}" if where else "")
        return self.con.execute(sql, params or []).df()

    def export_parquet(self, directory: str | Path) -> list[Path]:
        """Every table as ``<table>.parquet`` in ``directory``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for table in self.tables():
            path = out / f"{table}.parquet"
            self.con.execute(f"copy {table} to '{path.as_posix()}' (format parquet)")
            written.append(path)
        return written
