"""Rebuilding the whole daily rollup, month by month, with progress.

A catalog change that moves a long-context threshold changes which band past requests fall
in, so the whole rollup is rebuilt (a scan of every usage row: minutes at 100M rows). Done
month by month inside ONE transaction, a reader sees the old rollup or the new one, never a
mix, and the caller can show how far it got. Months are written in order, so the rebuilt
rollup is clustered by day and a month's dashboard reads only that month.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from finops.core.store import fetch_one, transaction
from finops.pricing.costing import refresh_daily_usage

__all__ = ["RebuildReport", "rebuild_rollup"]

#: progress(month, months done, months in all, seconds so far)
Progress = Callable[[dt.date, int, int, float], None]


@dataclass(frozen=True)
class RebuildReport:
    months: int
    usage_rows: int
    rollup_rows: int
    seconds: float


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    out, month = [], first.replace(day=1)
    while month <= last:
        out.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return out


def rebuild_rollup(
    con: duckdb.DuckDBPyConnection, thresholds: list[int], *, progress: Progress | None = None
) -> RebuildReport:
    """Recompute `daily_usage` for every day, with these long-context thresholds."""
    started = time.perf_counter()
    first, last, usage_rows = fetch_one(
        con,
        "SELECT CAST(min(period_start) AS DATE), CAST(max(period_start) AS DATE), count(*) FROM usage",
    )
    months = _months(first, last) if first else []
    with transaction(con):
        con.execute("DELETE FROM daily_usage")
        if not months:
            refresh_daily_usage(con, thresholds)  # records the thresholds
        for done, month in enumerate(months, start=1):
            following = (month + dt.timedelta(days=32)).replace(day=1)
            refresh_daily_usage(con, thresholds, month, following)
            if progress:
                progress(month, done, len(months), time.perf_counter() - started)
    rollup_rows = fetch_one(con, "SELECT count(*) FROM daily_usage")[0]
    return RebuildReport(len(months), usage_rows, rollup_rows, time.perf_counter() - started)
