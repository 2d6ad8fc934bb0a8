"""Costing: usage × effective-dated prices → priced usage and spend rollups, exact to the cent.

The daily rollup (`daily_usage`) is kept up to date by ingest; prices are applied when read, so
any catalog revision can price history (*as priced then*, *at another revision*).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from finops.pricing.catalog import Catalog

if TYPE_CHECKING:
    from finops.pricing.allocation import Allocation
from finops.core.schema import SPEND_KEYS, TOKEN_CLASSES
from finops.core.store import fetch_one, query_pl, relation, transaction
from finops.pricing.allocation import apply_splits, owned_rows_sql

__all__ = [
    "SPEND_MEASURES",
    "TOKENS_SQL",
    "UNPRICED_WARNING_SHARE",
    "SpendTotals",
    "clear_priced_cache",
    "ensure_rollup",
    "priced_rows",
    "priced_source",
    "priced_sql",
    "refresh_daily_usage",
    "spend",
    "spend_totals",
    "stored_hourly_providers",
    "unpriced",
    "unpriced_warning",
    "whole_counts",
]

#: Measures `spend` returns beside the keys.
SPEND_MEASURES: tuple[str, ...] = (
    "cost_usd",
    "effective_cost_usd",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "requests",
    "unpriced_rows",
    "unpriced_tokens",
)

# key name -> SQL expression over priced rows (an allowlist: never user text in SQL)
_KEY_SQL: dict[str, str] = {
    "day": "day",
    "month": "CAST(date_trunc('month', day) AS DATE)",
    "provider": "provider",
    "model": "coalesce(model_id, model)",
    "team": "coalesce(team, 'unallocated')",
    "project_id": "project_id",
    "api_key_id": "api_key_id",
    "service_tier": "service_tier",
}
assert set(_KEY_SQL) == set(SPEND_KEYS)

TOKENS_SQL = (
    "coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0) + coalesce(cache_write_5m_tokens, 0)"
    " + coalesce(cache_write_1h_tokens, 0) + coalesce(output_tokens, 0)"
    " + coalesce(input_audio_tokens, 0) + coalesce(output_audio_tokens, 0)"
    " + coalesce(input_image_tokens, 0) + coalesce(output_image_tokens, 0)"
)

# counts are summed as DECIMAL(38, 0) (DuckDB and Spark alike; BIGINT overflows past 9.2e18):
# no sum of per-row counts can overflow (a row holds at most FINOPS_MAX_COUNT); they reach
# polars as Int128 (whole_counts)
_MEASURES_SQL = f"""
    CAST(sum(cost_usd) AS DECIMAL(38, 12)) AS cost_usd,
    CAST(sum(effective_cost_usd) AS DECIMAL(38, 12)) AS effective_cost_usd,
    CAST(coalesce(sum(input_tokens), 0) AS DECIMAL(38, 0)) AS input_tokens,
    CAST(coalesce(sum(output_tokens), 0) AS DECIMAL(38, 0)) AS output_tokens,
    CAST(coalesce(sum(cache_read_tokens), 0) AS DECIMAL(38, 0)) AS cache_read_tokens,
    CAST(coalesce(sum(coalesce(cache_write_5m_tokens, 0) + coalesce(cache_write_1h_tokens, 0)), 0)
         AS DECIMAL(38, 0)) AS cache_write_tokens,
    CAST(coalesce(sum(requests), 0) AS DECIMAL(38, 0)) AS requests,
    CAST(coalesce(sum(CASE WHEN cost_usd IS NULL THEN usage_rows END), 0) AS DECIMAL(38, 0))
         AS unpriced_rows,
    CAST(coalesce(sum(CASE WHEN cost_usd IS NULL THEN {TOKENS_SQL} END), 0) AS DECIMAL(38, 0))
         AS unpriced_tokens
"""


#: count columns spend (its measures but money) and unpriced sum as DECIMAL(38, 0)
_SUMMED_COUNTS = (*(m for m in SPEND_MEASURES if not m.endswith("_usd")), "rows", "tokens")


def whole_counts(frame: pl.DataFrame) -> pl.DataFrame:
    """Sums of counts arrive as decimal(38, 0): make them the integers they are (Int128)."""
    return frame.with_columns(
        pl.col(c).cast(pl.Int128)
        for c in _SUMMED_COUNTS
        if c in frame.columns and isinstance(frame.schema[c], pl.Decimal)
    )


def priced_sql(source: str = "stored_daily_usage") -> str:
    """SQL for priced usage read from a named source relation file.

    `stored_daily_usage` prices the materialized rollup (fast); `usage_rows` prices every row.
    Parameters: $from_day, $to_day, $revision_id, and $thresholds for `usage_rows`.
    """
    if source not in ("stored_daily_usage", "usage_rows"):
        msg = f"unknown usage source {source!r}"
        raise ValueError(msg)
    return relation("priced_usage", usage_to_price=source)


# -- the priced rollup, kept per state in this process --------------------------------------------
#
# Pricing the daily rollup (priced_usage.sql: alias resolution, the range join on prices,
# contracts) costs far more than grouping its result, and a page asks for several groupings.
# For readers of a store file (the app, reading commands) the priced rollup (every day) is kept
# in the process as Arrow, keyed by what priced_usage.sql reads: the store file's committed
# state, the catalog revision's content and this connection's contract terms. A key that
# matches prices the same rows the same way, so a cached read is the live SQL's result, exact
# (DECIMAL stays decimal128). Writers, in-memory stores, private rebuilds and viewer-restricted
# rollups read the live SQL: their rows are not named by a file's state.

#: Priced rollups kept (two stores, revisions or contracts at once); the oldest goes first.
#: One is about 400 bytes per rollup row: 190 MB for 1M request rows (480k rollup rows).
PRICED_CACHE_SIZE = 2
_priced_cache: OrderedDict[tuple, object] = OrderedDict()
_priced_lock = threading.Lock()

# unit prices and per-class costs: spend, totals and unpriced read only their sums in cost_usd
_UNCACHED = (
    *(f"usd_per_{c}" for c in (*TOKEN_CLASSES, "request", "web_search")),
    *(f"{c}_cost_usd" for c in (*TOKEN_CLASSES, "web_search")),
    "request_fee_usd",
)

# the store file a read-only connection reads its own rollup from: NULL when a private
# rebuild (a temp table) or a viewer restriction (a temp view, finops.session.access) stands
# in for it, or the connection may write
_STORE_ROLLUP_SQL = """
SELECT CASE WHEN current_setting('access_mode') = 'read_only'
    AND NOT EXISTS (
        SELECT 1 FROM duckdb_tables() WHERE temporary AND table_name = 'daily_usage')
    AND NOT EXISTS (
        SELECT 1 FROM duckdb_views() WHERE temporary AND view_name = 'daily_usage')
    THEN (SELECT path FROM duckdb_databases() WHERE database_name = current_database()) END
"""

# the catalog revision's content (a revision id alone may name another catalog in a reader's
# private copy) and this connection's contract terms
_PRICES_STATE_SQL = """
SELECT
    (SELECT content_hash FROM catalog_revisions WHERE revision_id = CAST($revision_id AS INTEGER)),
    (SELECT count(*) FROM contract_terms),
    (SELECT coalesce(sum(hash(t)), 0) FROM contract_terms AS t)
"""


def _priced_state(con: duckdb.DuckDBPyConnection, revision_id: int) -> tuple | None:
    """The cache key of this connection's priced rollup, or None when it is not cached.

    A read-only connection on a store file reads the committed state the file holds: no
    writer can change the file while it is open (DuckDB gives a file to one writer or to
    readers, never both), so the file's and its WAL's size, modification time and inode name
    the rollup without reading a row.
    """
    path = fetch_one(con, _STORE_ROLLUP_SQL)[0]
    if not path:
        return None
    stamps = []
    for file in (Path(path), Path(f"{path}.wal")):
        stat = file.stat() if file.exists() else None
        stamps.append((stat.st_mtime_ns, stat.st_size, stat.st_ino) if stat else None)
    prices = fetch_one(con, _PRICES_STATE_SQL, {"revision_id": revision_id})
    return (revision_id, *prices, str(Path(path).resolve()), *stamps)


def priced_source(con: duckdb.DuckDBPyConnection, revision_id: int) -> str:
    """SQL for the priced rollup at `revision_id` in the day range [$from_day, $to_day).

    The rows of :func:`priced_sql`; for a reader of a store file, read from the process's
    cache of this state's priced rollup (made on the first read; see `PRICED_CACHE_SIZE`),
    without the unit prices and per-class costs.
    """
    # another engine running the same SQL (Spark, finops.lake.spark) has no process cache
    key = _priced_state(con, revision_id) if isinstance(con, duckdb.DuckDBPyConnection) else None
    if key is None:
        return priced_sql()
    with _priced_lock:
        table = _priced_cache.get(key)
        if table is not None:
            _priced_cache.move_to_end(key)
    if table is None:
        table = con.sql(
            f"SELECT * EXCLUDE ({', '.join(_UNCACHED)}) FROM ({priced_sql()})",
            params=_params(revision_id, None, None),
        ).to_arrow_table()
        with _priced_lock:
            _priced_cache[key] = table
            while len(_priced_cache) > PRICED_CACHE_SIZE:
                _priced_cache.popitem(last=False)
    name = f"priced_rollup_{abs(hash(key)) % 10**12}"
    con.register(name, table)
    return (
        f"SELECT * FROM {name} WHERE catalog_revision = CAST($revision_id AS INTEGER) "
        "AND ($from_day IS NULL OR day >= CAST($from_day AS DATE)) "
        "AND ($to_day IS NULL OR day < CAST($to_day AS DATE))"
    )


def clear_priced_cache() -> None:
    """Forget every cached priced rollup (tests; memory)."""
    with _priced_lock:
        _priced_cache.clear()


def _stored_state(con: duckdb.DuckDBPyConnection) -> tuple[list[int], list[str]] | None:
    """(thresholds, hourly providers) the rollup was built with; None before the first build."""
    row = fetch_one(con, "SELECT thresholds, hourly_providers FROM rollup_state")
    return (list(row[0]), list(row[1] or [])) if row else None


def stored_hourly_providers(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The providers whose hourly usage the rollup keeps by hour (time-of-day prices)."""
    state = _stored_state(con)
    return state[1] if state else []


def refresh_daily_usage(
    con: duckdb.DuckDBPyConnection,
    thresholds: list[int],
    from_day: dt.date | None = None,
    to_day: dt.date | None = None,
    hourly_providers: list[str] | None = None,
) -> None:
    """Recompute the rollup for days in [from_day, to_day) (all days when both are None).

    `hourly_providers` (default: those the rollup was built with) keep the hour of their
    hourly and request rows, for time-of-day prices. Call inside the ingest transaction so the
    rollup never disagrees with `usage`. Days a
    lake rollup was attached for (`finops lake attach`) hold no request rows to rebuild them
    from: refused, rather than emptied.
    """
    attached = fetch_one(
        con,
        "SELECT min(d), count(*) FROM (SELECT unnest(days) AS d FROM data_sources) "
        "WHERE ($from_day IS NULL OR d >= CAST($from_day AS DATE)) "
        "AND ($to_day IS NULL OR d < CAST($to_day AS DATE))",
        {"from_day": from_day, "to_day": to_day},
    )
    if attached[1]:
        msg = (
            f"{attached[1]} day(s) from {attached[0]:%Y-%m-%d} hold a rollup attached from the "
            "lake (finops lake attach), which this store cannot rebuild from request rows: "
            "upload such usage to the lake and rerun finops lake run, or use another store"
        )
        raise ValueError(msg)
    if hourly_providers is None:
        hourly_providers = stored_hourly_providers(con)
    params = {
        "from_day": from_day,
        "to_day": to_day,
        "thresholds": thresholds,
        "hourly_providers": list(hourly_providers),
    }
    con.execute(
        "DELETE FROM daily_usage WHERE ($from_day IS NULL OR day >= CAST($from_day AS DATE)) "
        "AND ($to_day IS NULL OR day < CAST($to_day AS DATE))",
        {"from_day": from_day, "to_day": to_day},
    )
    con.execute(
        f"INSERT INTO daily_usage BY NAME {relation('daily_usage', usage_rows='usage_rows')}",
        params,
    )
    if _stored_state(con) != (list(thresholds), list(hourly_providers)):
        con.execute("DELETE FROM rollup_state")
        con.execute(
            "INSERT INTO rollup_state (thresholds, built_at, hourly_providers) "
            "VALUES (CAST($t AS BIGINT[]), now()::TIMESTAMP, CAST($h AS VARCHAR[]))",
            {"t": thresholds, "h": list(hourly_providers)},
        )


def ensure_rollup(con: duckdb.DuckDBPyConnection, catalog: Catalog) -> bool:
    """Rebuild the rollup when the catalog's long-context thresholds (or hourly providers)
    changed; True if rebuilt.

    Band boundaries come from the catalog, so a catalog that adds a threshold changes which
    band a past request falls in. This needs a writable connection.
    """
    if rollup_is_current(con, catalog):
        return False
    with transaction(con):
        refresh_daily_usage(con, catalog.thresholds, hourly_providers=catalog.hourly_providers)
    return True


def rollup_is_current(con: duckdb.DuckDBPyConnection, catalog: Catalog) -> bool:
    """Whether the rollup was built with the catalog's thresholds and hourly providers;
    without request rows there is nothing to re-hour (an attached lake rollup has no hours)."""
    stored = _stored_state(con)
    has_usage = fetch_one(con, "SELECT count(*) > 0 FROM (SELECT 1 FROM usage LIMIT 1)")[0]
    if stored is None:
        return not has_usage
    if not has_usage:
        return stored[0] == catalog.thresholds
    return stored == (catalog.thresholds, catalog.hourly_providers)


def _params(revision_id: int, from_day, to_day) -> dict:
    return {"revision_id": revision_id, "from_day": from_day, "to_day": to_day}


def spend(
    con: duckdb.DuckDBPyConnection,
    *,
    by: list[str],
    revision_id: int,
    from_day: dt.date | None = None,
    to_day: dt.date | None = None,
    allocation: Allocation | None = None,
    only_teams: list[str] | None = None,
) -> pl.DataFrame:
    """Spend grouped by the given keys (from :data:`SPEND_KEYS`), priced at `revision_id`.

    Days are [from_day, to_day). `cost_usd` sums priced rows only (NULL where nothing in the
    group has a price); `unpriced_rows` and `unpriced_tokens` count what could not be priced,
    so no total hides a missing price. With an `allocation`, `team` is the team its rules
    assign (shared usage split out exactly); without one, the team the source states.
    `only_teams` keeps just those teams' spend.
    """
    unknown = [k for k in by if k not in _KEY_SQL]
    if unknown:
        msg = f"cannot group by {', '.join(unknown)}; choose from {', '.join(SPEND_KEYS)}"
        raise ValueError(msg)
    keys = list(dict.fromkeys(by))
    params = _params(revision_id, from_day, to_day)
    needs_owner = allocation is not None and ("team" in keys or only_teams is not None)
    priced = priced_source(con, revision_id)
    source = f"({priced})"
    team_sql = _KEY_SQL["team"]
    if needs_owner:
        source = f"({owned_rows_sql(con, allocation, priced)})"
        team_sql = "owner"
    where = ""
    if only_teams is not None:
        where = f"WHERE {team_sql} IN (SELECT unnest(CAST($only_teams AS VARCHAR[])))"
        params["only_teams"] = list(only_teams)
    expr = {**_KEY_SQL, "team": team_sql}
    splitting = needs_owner and "team" in keys and any(r.split for r in allocation.rules)
    group_keys = [*keys, "_month"] if splitting else keys
    expr["_month"] = _KEY_SQL["month"]
    select_keys = "".join(f"{expr[k]} AS {k}, " for k in group_keys)
    group = "GROUP BY ALL" if group_keys else ""
    order = f"ORDER BY {', '.join(keys)}" if keys else ""
    sql = f"SELECT {select_keys}{_MEASURES_SQL} FROM {source} {where} {group} {order}"
    frame = whole_counts(query_pl(con, sql, params))
    if not splitting:
        return frame

    direct = query_pl(
        con,
        f"SELECT {_KEY_SQL['month']} AS month, owner AS team, sum(cost_usd) AS cost_usd "
        f"FROM {source} WHERE NOT starts_with(owner, '__split:') GROUP BY ALL",
        _params(revision_id, from_day, to_day),
    )
    direct_by = {
        (r["month"], r["team"]): r["cost_usd"]
        for r in direct.to_dicts()
        if r["cost_usd"] is not None
    }
    return apply_splits(frame, allocation, direct_by, keys=keys, measures=list(SPEND_MEASURES))


@dataclass(frozen=True)
class SpendTotals:
    cost_usd: Decimal
    effective_cost_usd: Decimal
    unpriced_rows: int
    unpriced_tokens: int
    usage_rows: int
    first_day: dt.date | None
    last_day: dt.date | None
    tokens: int = 0  # every token, priced or not
    peak_priced_rows: int = 0  # rows of a day or longer priced at a time-of-day model's peak rate

    @property
    def unpriced_warning(self) -> str | None:
        """A warning when unpriced usage is more than 1% of the tokens (see `unpriced_warning`)."""
        return unpriced_warning(self.unpriced_tokens, self.tokens)


def spend_totals(
    con: duckdb.DuckDBPyConnection,
    *,
    revision_id: int,
    from_day: dt.date | None = None,
    to_day: dt.date | None = None,
) -> SpendTotals:
    """Total cost with the unpriced rows and tokens beside it."""
    row = fetch_one(
        con,
        f"SELECT coalesce(CAST(sum(cost_usd) AS DECIMAL(38, 12)), 0), "
        f"coalesce(CAST(sum(effective_cost_usd) AS DECIMAL(38, 12)), 0), "
        f"coalesce(sum(CASE WHEN cost_usd IS NULL THEN usage_rows END), 0), "
        f"coalesce(sum(CASE WHEN cost_usd IS NULL THEN {TOKENS_SQL} END), 0), "
        f"coalesce(sum(usage_rows), 0), min(day), max(day), "
        f"coalesce(sum({TOKENS_SQL}), 0), "
        "coalesce(sum(CASE WHEN price_time_window = 'peak' AND hour_utc IS NULL "
        f"THEN usage_rows END), 0) FROM ({priced_source(con, revision_id)})",
        _params(revision_id, from_day, to_day),
    )
    return SpendTotals(
        Decimal(row[0]),
        Decimal(row[1]),
        int(row[2]),
        int(row[3]),
        int(row[4]),
        row[5],
        row[6],
        int(row[7]),
        int(row[8]),
    )


#: Above this share of tokens, unpriced usage is a warning, not a footnote.
UNPRICED_WARNING_SHARE = Decimal("0.01")


def unpriced_warning(unpriced_tokens: int, tokens: int) -> str | None:
    """A plain warning naming the commands that fix it, when more than 1% of tokens are
    unpriced; None otherwise.

    >>> unpriced_warning(10, 1_000) is None
    True
    >>> print(unpriced_warning(25_000, 1_000_000))  # doctest: +NORMALIZE_WHITESPACE
    2.5% of tokens (25,000 of 1,000,000) have no catalog price and are not in the totals.
    See why with `finops unpriced`; add missing models and prices with
    `finops pricing update --from model_prices_and_context_window.json`.
    """
    if not tokens or Decimal(unpriced_tokens) <= UNPRICED_WARNING_SHARE * tokens:
        return None
    share = Decimal(unpriced_tokens) * 100 / tokens
    return (
        f"{share:.1f}% of tokens ({unpriced_tokens:,} of {tokens:,}) have no catalog price and "
        "are not in the totals. See why with `finops unpriced`; add missing models and prices "
        "with `finops pricing update --from model_prices_and_context_window.json`."
    )


def unpriced(
    con: duckdb.DuckDBPyConnection,
    *,
    revision_id: int,
    from_day: dt.date | None = None,
    to_day: dt.date | None = None,
) -> pl.DataFrame:
    """Unpriced usage by provider, model and reason: rows, tokens, first and last day."""
    sql = (
        f"SELECT provider, model, unpriced_reason AS reason, "
        f"CAST(sum(usage_rows) AS BIGINT) AS rows, CAST(sum({TOKENS_SQL}) AS DECIMAL(38, 0)) AS tokens, "
        f"min(day) AS first_day, max(day) AS last_day "
        f"FROM ({priced_source(con, revision_id)}) WHERE cost_usd IS NULL "
        "GROUP BY ALL ORDER BY tokens DESC"
    )
    return whole_counts(query_pl(con, sql, _params(revision_id, from_day, to_day)))


def priced_rows(
    con: duckdb.DuckDBPyConnection,
    *,
    revision_id: int,
    thresholds: list[int],
    from_day: dt.date | None = None,
    to_day: dt.date | None = None,
) -> pl.DataFrame:
    """Every usage row with its cost per token class, price period and unpriced reason."""
    params = _params(revision_id, from_day, to_day) | {
        "thresholds": thresholds,
        "hourly_providers": stored_hourly_providers(con),
    }
    return query_pl(
        con, f"SELECT * FROM ({priced_sql('usage_rows')}) ORDER BY period_start, source_row", params
    )
