"""The query methods every open store has: read a frame, rows or one row; the few writes.

`Session` (finops.session.session) is a `Store` with a catalog revision, an ownership map
and the viewer's restriction; `open_writer` gives a bare `Store` for a brief write outside a
session. Code above `finops.session` reads and writes the store only through these methods,
never through the connection (tests/test_layers.py keeps it so).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

from finops.core.store import connect, fetch_one, query_pl, transaction

__all__ = ["Store", "open_writer"]


@dataclass
class Store:
    """An open store: its connection and the queries that run on it."""

    con: duckdb.DuckDBPyConnection

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
        """The query's result as a polars frame."""
        return query_pl(self.con, sql, params)

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple]:
        """Every row of the query, as tuples."""
        return self._run(sql, params).fetchall()

    def records(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every row of the query, as dicts keyed by column name."""
        cursor = self._run(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def one(self, sql: str, params: dict[str, Any] | None = None) -> tuple | None:
        """The query's first row (None when it has none); the rest is drained."""
        return fetch_one(self.con, sql, params)

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> None:
        """Run a statement that returns nothing to read (a write, a COPY, a temp table)."""
        self._run(sql, params)

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run a statement once per row of positional parameters."""
        self.con.executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: commit when the block ends, roll back if it raises."""
        with transaction(self.con):
            yield

    def register(self, name: str, frame: pl.DataFrame) -> None:
        """Make a frame readable by name in this store's queries (for this connection only)."""
        self.con.register(name, frame.to_arrow())

    def close(self) -> None:
        self.con.close()

    def _run(self, sql: str, params: dict[str, Any] | None) -> duckdb.DuckDBPyConnection:
        return self.con.execute(sql) if params is None else self.con.execute(sql, params)


def open_writer(db: str | os.PathLike[str], *, wait_seconds: float | None = None) -> Store:
    """The store opened for writing, outside any session; the caller closes it.

    Raises `finops.core.store.StoreError` when another process holds the store for longer
    than `wait_seconds` (see `finops.core.store.connect`).
    """
    return Store(connect(db, wait_seconds=wait_seconds))
