"""Overlap at another bucket width: the same usage exported twice, never counted twice.

Row keys include the period, so an hourly and a daily export of the same day get different
keys and would both be added. Before a file's rows are merged, its days are compared with
stored usage of the same provider: where a day is stored only at other bucket widths (per
request, 1-hour, 1-day buckets), the upload is refused, or with `replace` the stored rows of
those provider-days make way for the file's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

__all__ = ["WIDTH_SQL", "Overlap", "find_overlaps", "overlap_message", "remove_overlaps"]

# a bucket's width in seconds; NULL (-1 here) for a request row
WIDTH_SQL = "coalesce(CAST(epoch(period_end - period_start) AS BIGINT), -1)"


@dataclass(frozen=True)
class Overlap:
    provider: str
    days: list[dt.date]
    stored: list[int]  # bucket widths in seconds, -1 = per request
    incoming: list[int]


def find_overlaps(
    con: duckdb.DuckDBPyConnection, keyed: str, lo: dt.datetime, hi: dt.datetime
) -> list[Overlap]:
    """Provider-days stored only at bucket widths the file does not have, by provider."""
    rows = con.execute(
        f"""
        WITH incoming AS (
            SELECT provider, CAST(period_start AS DATE) AS day, list(DISTINCT {WIDTH_SQL}) AS widths
            FROM {keyed} GROUP BY ALL
        ),
        stored AS (
            SELECT provider, CAST(period_start AS DATE) AS day, list(DISTINCT {WIDTH_SQL}) AS widths
            FROM usage
            WHERE period_start BETWEEN $lo AND $hi + INTERVAL 1 DAY
            GROUP BY ALL
        )
        SELECT
            i.provider, list(i.day ORDER BY i.day),
            list_sort(flatten(list(DISTINCT s.widths))),
            list_sort(flatten(list(DISTINCT i.widths)))
        FROM incoming AS i JOIN stored AS s USING (provider, day)
        -- a store may mix widths for one provider (gateway request logs beside daily
        -- exports of other workloads): a file is another export of stored usage when none
        -- of its widths is stored that day
        WHERE NOT list_has_any(i.widths, s.widths)
        GROUP BY i.provider ORDER BY i.provider
        """,
        {"lo": dt.datetime.combine(lo.date(), dt.time()), "hi": hi},
    ).fetchall()
    return [
        Overlap(provider, days, sorted(set(stored)), sorted(set(incoming)))
        for provider, days, stored, incoming in rows
    ]


def _width(seconds: int) -> str:
    if seconds < 0:
        return "per request"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            return f"{seconds // size}-{unit} buckets"
    return f"{seconds}-second buckets"


def overlap_message(overlap: Overlap) -> str:
    """One line: which days overlap, at which widths, and how to choose."""
    days = overlap.days
    shown = ", ".join(d.isoformat() for d in days[:3])
    if len(days) > 3:
        shown += f" … {days[-1].isoformat()} ({len(days)} days)"
    return (
        f"{overlap.provider} usage on {shown} is already stored "
        f"{' and '.join(_width(w) for w in overlap.stored)}, and this file has it "
        f"{' and '.join(_width(w) for w in overlap.incoming)}: adding it would count that "
        "usage twice. Ingest again with --replace-overlap to keep this file's rows for those "
        "days, or leave the file out"
    )


def remove_overlaps(con: duckdb.DuckDBPyConnection, overlaps: list[Overlap]) -> int:
    """Delete stored usage of the overlapping provider-days; the rows removed."""
    removed = 0
    for overlap in overlaps:
        params = {"provider": overlap.provider, "days": overlap.days}
        # DuckDB's DELETE answers with the number of rows it removed
        removed += con.execute(
            "DELETE FROM usage WHERE provider = $provider "
            "AND CAST(period_start AS DATE) IN (SELECT unnest($days))",
            params,
        ).fetchall()[0][0]
    return removed
