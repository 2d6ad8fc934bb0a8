"""The same usage exported twice, never counted twice.

Row keys come from each export's own fields, so two exports of the same usage can get
different keys and would both be added. Before a file's rows are merged they are compared
with stored usage, in two ways:

- **Another bucket width.** An hourly and a daily export of the same day get different keys.
  Where a provider-day is stored only at other bucket widths (per request, 1-hour, 1-day
  buckets), the file is another export of it.
- **Another account export.** A provider's usage export, the cloud's cost and usage report
  and a FOCUS export each hold all of an account's usage of a day (the formats marked
  `account_export`). Where the file is one such export and the same provider, account
  (`project_id`) and day is stored from another family of them, the file is that usage
  again: a FOCUS and a CUR export of the same AWS bill, say, both daily, with different keys.

Either way the upload is refused, or with `replace` the stored rows make way for the file's:
all of the provider-day's for another width, the other export's rows of that account and day
for another account export. A re-upload of the same format, or of the same family (the OpenAI
Usage API page and the dashboard's CSV of it), is not an overlap: its keys match and it merges
as duplicates and replacements.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from finops.ingest._core import account_exports

__all__ = ["WIDTH_SQL", "Overlap", "find_overlaps", "overlap_message", "remove_overlaps"]

# a bucket's width in seconds; NULL (-1 here) for a request row
WIDTH_SQL = "coalesce(CAST(epoch(period_end - period_start) AS BIGINT), -1)"


@dataclass(frozen=True)
class Overlap:
    provider: str
    days: list[dt.date]
    stored: list[int]  # bucket widths in seconds, -1 = per request
    incoming: list[int]
    # another account export: the stored formats, and the (day, account) pairs both hold
    stored_kinds: tuple[str, ...] = ()
    incoming_kind: str = ""
    pairs: tuple[tuple[dt.date, str | None], ...] = ()


def find_overlaps(
    con: duckdb.DuckDBPyConnection,
    keyed: str,
    lo: dt.datetime,
    hi: dt.datetime,
    kind: str = "",
) -> list[Overlap]:
    """What the file's rows (`keyed`, of the format named `kind`) would count again, by
    provider: days stored only at other bucket widths, then, for an account export, the
    days and accounts stored from another one."""
    overlaps = _other_widths(con, keyed, lo, hi)
    if kind in account_exports():
        overlaps += _other_exports(con, keyed, lo, hi, kind)
    return overlaps


def _other_widths(
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


def _other_exports(
    con: duckdb.DuckDBPyConnection, keyed: str, lo: dt.datetime, hi: dt.datetime, kind: str
) -> list[Overlap]:
    """Provider, account and day stored from another account export, by provider."""
    exports = account_exports()
    others = [name for name, family in exports.items() if family != exports[kind]]
    rows = con.execute(
        f"""
        WITH incoming AS (
            SELECT DISTINCT provider, CAST(period_start AS DATE) AS day, project_id
            FROM {keyed}
        ),
        stored AS (
            SELECT provider, CAST(period_start AS DATE) AS day, project_id, source_kind
            FROM usage
            WHERE period_start BETWEEN $lo AND $hi + INTERVAL 1 DAY
              AND source_kind IN (SELECT unnest($others))
            GROUP BY ALL
        )
        SELECT
            i.provider, list(DISTINCT i.day ORDER BY i.day), list(DISTINCT s.source_kind ORDER BY s.source_kind),
            list(DISTINCT {{'day': i.day, 'account': i.project_id}})
        FROM incoming AS i JOIN stored AS s
          ON s.provider = i.provider AND s.day = i.day
         AND s.project_id IS NOT DISTINCT FROM i.project_id
        GROUP BY i.provider ORDER BY i.provider
        """,
        {"lo": dt.datetime.combine(lo.date(), dt.time()), "hi": hi, "others": others},
    ).fetchall()
    return [
        Overlap(
            provider,
            days,
            [],
            [],
            stored_kinds=tuple(kinds),
            incoming_kind=kind,
            pairs=tuple(sorted(((p["day"], p["account"]) for p in pairs), key=str)),
        )
        for provider, days, kinds, pairs in rows
    ]


def _article(word: str) -> str:
    """'an' before a vowel ('an aws-cur export'), else 'a'.

    >>> _article("aws-cur"), _article("focus")
    ('an', 'a')
    """
    return "an" if word[:1].lower() in "aeiou" else "a"


def _width(seconds: int) -> str:
    if seconds < 0:
        return "per request"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            return f"{seconds // size}-{unit} buckets"
    return f"{seconds}-second buckets"


# how a refusal says to replace; the Upload page swaps it for its own box (views.upload)
REPLACE_OVERLAP_HINT = "Ingest again with --replace-overlap"


def overlap_message(overlap: Overlap) -> str:
    """One line: which days overlap, at which widths, and how to choose."""
    days = overlap.days
    shown = ", ".join(d.isoformat() for d in days[:3])
    if len(days) > 3:
        shown += f" … {days[-1].isoformat()} ({len(days)} days)"
    if overlap.stored_kinds:
        accounts = sorted({a for _, a in overlap.pairs if a is not None})
        of = ""
        if accounts:
            of = f" of account{'s' if len(accounts) > 1 else ''} {', '.join(accounts[:3])}"
            of += f" and {len(accounts) - 3:,} more" if len(accounts) > 3 else ""
        return (
            f"{overlap.provider} usage{of} on {shown} is already stored from "
            f"{' and '.join(overlap.stored_kinds)} exports, and this file is "
            f"{_article(overlap.incoming_kind)} {overlap.incoming_kind} export of it: adding it "
            f"would count that usage twice. {REPLACE_OVERLAP_HINT} to keep this file's rows for "
            "those days, or leave the file out"
        )
    return (
        f"{overlap.provider} usage on {shown} is already stored "
        f"{' and '.join(_width(w) for w in overlap.stored)}, and this file has it "
        f"{' and '.join(_width(w) for w in overlap.incoming)}: adding it would count that "
        f"usage twice. {REPLACE_OVERLAP_HINT} to keep this file's rows for those days, or "
        "leave the file out"
    )


def remove_overlaps(con: duckdb.DuckDBPyConnection, overlaps: list[Overlap]) -> int:
    """Delete stored usage of the overlapping provider-days; the rows removed."""
    removed = 0
    for overlap in overlaps:
        if overlap.stored_kinds:
            removed += _remove_exports(con, overlap)
            continue
        params = {"provider": overlap.provider, "days": overlap.days}
        # DuckDB's DELETE answers with the number of rows it removed
        removed += con.execute(
            "DELETE FROM usage WHERE provider = $provider "
            "AND CAST(period_start AS DATE) IN (SELECT unnest($days))",
            params,
        ).fetchall()[0][0]
    return removed


def _remove_exports(con: duckdb.DuckDBPyConnection, overlap: Overlap) -> int:
    """Delete the other account exports' rows of the overlapping accounts and days."""
    return con.execute(
        """
        DELETE FROM usage WHERE rowid IN (
            SELECT u.rowid FROM usage AS u
            JOIN (SELECT unnest($days) AS day, unnest($accounts) AS account) AS o
              ON CAST(u.period_start AS DATE) = o.day
             AND u.project_id IS NOT DISTINCT FROM o.account
            WHERE u.provider = $provider AND u.source_kind IN (SELECT unnest($kinds))
        )
        """,
        {
            "provider": overlap.provider,
            "days": [day for day, _ in overlap.pairs],
            "accounts": [account for _, account in overlap.pairs],
            "kinds": list(overlap.stored_kinds),
        },
    ).fetchall()[0][0]
