"""The results store: one embedded DuckDB file of tidy tables.

Experiments (``symbiosim experiment``) and case comparisons (``symbiosim
cases``) write here, so one file holds every run a study made. Tables are
created from the first DataFrame appended to them; later frames must have
the same columns. Writes are transactional, so an interrupted batch leaves
only whole rows behind.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import duckdb
import pandas as pd

_IDENT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


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
        self.con = duckdb.connect(str(self.path), read_only=read_only)

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
