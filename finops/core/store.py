"""The embedded store: one DuckDB file, versioned with forward migrations.

Every function takes its own connection; the module-level DuckDB default is never used.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb

__all__ = [
    "DEFAULT_DB",
    "MIGRATIONS",
    "StoreError",
    "StoreNeedsMigration",
    "beside_store",
    "connect",
    "default_db_path",
    "fetch_one",
    "open_store",
    "query_pl",
    "read_sql",
    "relation",
    "relation_inputs",
    "schema_version",
    "transaction",
]

DEFAULT_DB = "finops.duckdb"


class StoreError(Exception):
    """A store problem a user can act on (locked, newer than this release, missing)."""


class StoreNeedsMigration(StoreError):
    """The store was written by an older release: open it once for writing to migrate it."""


def default_db_path() -> Path:
    """`FINOPS_DB` if set, else `./finops.duckdb`."""
    return Path(os.environ.get("FINOPS_DB") or DEFAULT_DB)


def beside_store(
    name: str, db: str | os.PathLike[str] | None = None, *, env: str | None = None
) -> Path | None:
    """The file `name` (teams.yaml, contracts.yaml, evals.csv) in the store's folder, if there;
    with `env`, the file that environment variable names comes first (FINOPS_TEAMS, ...).

    `finops demo` writes its company files there; the app and every command pick them up
    when no option or environment variable names another file.
    """
    named = os.environ.get(env) if env else None
    if named:
        return Path(named)
    path = Path(db or default_db_path()).resolve().parent / name
    return path if path.is_file() else None


def read_sql(name: str) -> str:
    """The text of `finops/sql/<name>.sql`."""
    return resources.files("finops").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


_READS = re.compile(r"^-- reads:\s*(.*)$", re.MULTILINE)
_RELATION_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def relation_inputs(name: str) -> tuple[str, ...]:
    """The relations `finops/sql/<name>.sql` reads, from its `-- reads:` header line.

    >>> relation_inputs("priced_usage")
    ('usage_to_price',)
    >>> relation_inputs("stored_daily_usage")
    ()
    """
    found = _READS.search(read_sql(name))
    if found is None:
        return ()
    return tuple(part.strip() for part in found.group(1).split(",") if part.strip())


def relation(name: str, **inputs: str) -> str:
    """The query of `finops/sql/<name>.sql`, with each relation it reads bound by name.

    A file names what it reads in a `-- reads: a, b` header line; every one must be bound,
    and nothing else. An input is the name of another SQL file, or a query (built by
    `relation` or by library code, never from user text):

    >>> sql = relation("priced_usage", usage_to_price="stored_daily_usage")
    >>> sql.startswith("WITH usage_to_price AS (")
    True
    >>> relation("priced_usage")
    Traceback (most recent call last):
    ...
    ValueError: priced_usage.sql reads usage_to_price: bind it (relation(..., usage_to_price=...))
    """
    reads = relation_inputs(name)
    missing = [r for r in reads if r not in inputs]
    if missing:
        binds = ", ".join(f"{r}=..." for r in missing)
        msg = f"{name}.sql reads {', '.join(missing)}: bind it (relation(..., {binds}))"
        raise ValueError(msg)
    extra = sorted(set(inputs) - set(reads))
    if extra:
        msg = f"{name}.sql does not read {', '.join(extra)} (its -- reads: line names {reads})"
        raise ValueError(msg)
    body = read_sql(name)
    if not reads:
        return body
    ctes = ",\n".join(
        f"{alias} AS ({read_sql(value) if _RELATION_NAME.match(value) else value})"
        for alias, value in ((r, inputs[r]) for r in reads)
    )
    return f"WITH {ctes}\nSELECT * FROM ({body}) AS {name}"


def _load_migrations() -> list[tuple[str, str]]:
    folder = resources.files("finops").joinpath("sql", "migrations")
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name, folder.joinpath(name).read_text("utf-8")) for name in names]


#: (file name, SQL) in order; version N is the N-th. Never edit a released one: add a file.
MIGRATIONS: list[tuple[str, str]] = _load_migrations()


def query_pl(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None):
    """Run a query and return a polars frame."""
    return con.sql(sql, params=params or {}).pl()


def fetch_one(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> tuple | None:
    """The first row of a query, with the result drained so the connection is free again."""
    rows = con.execute(sql, params or {}).fetchmany(1)
    con.execute("SELECT 1").fetchall()  # finish any rows left unread
    return rows[0] if rows else None


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    has_table = fetch_one(
        con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    )[0]
    if not has_table:
        return 0
    return fetch_one(con, "SELECT coalesce(max(version), 0) FROM schema_version")[0]


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    current = schema_version(con)
    if current > len(MIGRATIONS):
        msg = (
            f"this store is at schema version {current}, newer than this release of finops "
            f"understands ({len(MIGRATIONS)}); upgrade finops to open it"
        )
        raise StoreError(msg)
    if current == len(MIGRATIONS):
        return
    with transaction(con):
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
        )
        for version, (name, sql) in enumerate(MIGRATIONS, start=1):
            if version <= current:
                continue
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_version VALUES ($v, $n, now()::TIMESTAMP)",
                {"v": version, "n": name},
            )


def _lock_wait_seconds() -> float:
    return float(os.environ.get("FINOPS_LOCK_WAIT_SECONDS") or 60.0)


@contextmanager
def _gate(path: Path, deadline: float) -> Iterator[None]:
    """A turnstile beside the store (`<db>.lock`), held only while opening it.

    DuckDB locks the file itself: one writing process, or any number of read-only ones, never
    both. Readers open and close often; without a turnstile their overlapping shared locks
    could keep a writer out for ever. A writer holds the gate while it waits for the readers
    inside to finish, so no new reader gets in; a reader passes the gate only to open.
    Where the gate cannot be made (read-only folder, no fcntl), opening just retries.
    """
    if str(path) == ":memory:":  # nothing on disk to share, nothing to guard
        yield
        return
    try:
        import fcntl
    except ImportError:  # Windows: no turnstile; DuckDB's own lock and the retry remain
        yield
        return
    try:
        fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        yield
        return
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    msg = f"cannot open the store {path}: another process kept it busy"
                    raise StoreError(msg) from None
                time.sleep(0.005)
        yield
    finally:
        os.close(fd)  # releases the flock


def _open_when_free(path: Path, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_seconds
    while True:
        with _gate(path, deadline):
            while True:
                try:
                    return duckdb.connect(str(path), read_only=read_only)
                except duckdb.ConnectionException as exc:
                    # this process has the store open already, the other way (read-only or
                    # not); DuckDB shares one instance per file and process
                    if "different configuration" not in str(exc):
                        raise
                    if read_only:
                        # it is writing here: read through its instance (committed data only)
                        return duckdb.connect(str(path))
                    if time.monotonic() > deadline:
                        msg = f"cannot open the store {path} for writing: this process reads it"
                        raise StoreError(msg) from exc
                    time.sleep(0.01)  # its read-only sessions are short: wait for them
                except duckdb.IOException as exc:
                    if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                        holder = "a writer" if read_only else "another process"
                        msg = (
                            f"cannot open the store {path}: {holder} held it for more than "
                            f"{wait_seconds:g}s (set FINOPS_LOCK_WAIT_SECONDS to wait longer): {exc}"
                        )
                        raise StoreError(msg) from exc
                    if read_only:
                        break  # a writer is in: leave the gate, wait outside it
                    time.sleep(0.01)  # readers inside are finishing; no new one gets in
        time.sleep(0.05)


def connect(
    db: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
    wait_seconds: float | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the store, creating and migrating it when opened for writing.

    DuckDB lets one process write a file at a time, and readers in other processes only while
    no process writes. A process that finds the store busy waits (up to `wait_seconds`, default
    env FINOPS_LOCK_WAIT_SECONDS or 60) rather than failing at once; a waiting writer goes
    before readers that arrive after it. Keep read-only connections short-lived so writers get
    in. Env FINOPS_MEMORY_LIMIT (e.g. `16GB`) and FINOPS_TEMP_DIRECTORY set where and when
    DuckDB spills to disk.
    """
    path = Path(db) if db is not None else default_db_path()
    if read_only and not path.exists():
        msg = f"no store at {path}: load data first (finops demo, or finops ingest FILE)"
        raise StoreError(msg)
    wait = _lock_wait_seconds() if wait_seconds is None else wait_seconds
    con = _open_when_free(path, read_only, wait)
    con.execute("SET TimeZone = 'UTC'")
    try:
        con.execute("SET enable_progress_bar = false")  # front ends draw their own
    except duckdb.Error:
        pass  # inside Jupyter without ipywidgets DuckDB refuses the setting; nothing to draw
    for env, setting in (
        ("FINOPS_MEMORY_LIMIT", "memory_limit"),
        ("FINOPS_TEMP_DIRECTORY", "temp_directory"),
    ):
        if os.environ.get(env):
            con.execute(f"SET {setting} = $v", {"v": os.environ[env]})
    con.execute(read_sql("contract_terms"))
    if read_only:
        version = schema_version(con)
        if version != len(MIGRATIONS):
            con.close()
            if version > len(MIGRATIONS):
                msg = f"the store {path} is newer than this release of finops; upgrade finops"
            else:
                msg = f"the store {path} needs a migration: open it once for writing"
                raise StoreNeedsMigration(msg)
            raise StoreError(msg)
    else:
        _migrate(con)
    return con


@contextmanager
def open_store(
    db: str | os.PathLike[str] | None = None, *, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """`connect` as a context manager that closes the connection (and its file lock)."""
    con = connect(db, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: commit when the block ends, roll back if it raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
