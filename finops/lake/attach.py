"""`finops lake attach`: a daily rollup computed in the lake, loaded into a DuckDB store.

The store keeps request rows in `usage` and their daily rollup in `daily_usage`; every page,
the review, forecasts, budgets and alerts read the rollup (prices are applied when read). A
lake run (`finops.lake.run`) writes that same rollup, so attaching it is a copy of its rows
into `daily_usage` — no request rows come along — and one row in `data_sources` saying where
they came from, which the Overview shows.

Attaching again replaces the days this lake output holds (and drops days it no longer holds):
a rerun of the lake job followed by an attach leaves the store equal to the lake. Days that
already hold uploaded usage are refused, never added together.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from finops.lake.run import ROLLUP_COLUMNS, STATE_FILE

if TYPE_CHECKING:
    from finops.session.session import Session

__all__ = ["AttachReport", "attach_rollup", "source_note"]


@dataclass(frozen=True)
class AttachReport:
    location: str
    days: int
    first_day: dt.date | None
    last_day: dt.date | None
    rollup_rows: int
    usage_rows: int
    catalog_hash: str
    thresholds: list[int]


def _state(folder: Path) -> dict:
    path = folder / STATE_FILE
    if not path.exists():
        msg = f"{folder} is not the output of finops lake run (no {STATE_FILE})"
        raise ValueError(msg)
    return json.loads(path.read_text())


def attach_rollup(session: Session, out: str | Path) -> AttachReport:
    """Load the lake output's daily rollup into the store, in one transaction.

    `out` is a local (or mounted) folder; copy it down from object storage first.
    """
    folder = Path(out).resolve()
    state = _state(folder)
    thresholds = [int(t) for t in state["thresholds"]]
    glob = str(folder / "rollup" / "*" / "*.parquet")
    has_files = any((folder / "rollup").glob("day=*/*.parquet"))
    select = ", ".join("CAST(day AS DATE) AS day" if c == "day" else c for c in ROLLUP_COLUMNS)
    source = (
        f"(SELECT {select} FROM read_parquet($glob, hive_partitioning = true))"
        if has_files
        else "(SELECT * FROM daily_usage WHERE false)"
    )
    location = str(folder)
    with session.transaction():
        session.execute(
            f"CREATE OR REPLACE TEMP TABLE lake_rollup AS SELECT * FROM {source}", {"glob": glob}
        )
        days = [r[0] for r in session.rows("SELECT DISTINCT day FROM lake_rollup ORDER BY 1")]
        clash = session.one(
            "SELECT count(DISTINCT CAST(period_start AS DATE)), min(CAST(period_start AS DATE)) "
            "FROM usage WHERE CAST(period_start AS DATE) IN (SELECT day FROM lake_rollup)",
        )
        if clash[0]:
            msg = (
                f"the store already holds uploaded usage on {clash[0]} of these days (from "
                f"{clash[1]:%Y-%m-%d}); attach the lake into a store of its own (--db), "
                "so nothing is counted twice"
            )
            raise ValueError(msg)
        stored = session.one("SELECT thresholds FROM rollup_state")
        has_usage = session.one("SELECT count(*) > 0 FROM (SELECT 1 FROM usage LIMIT 1)")[0]
        if stored is not None and has_usage and list(stored[0]) != thresholds:
            msg = (
                f"the lake rollup is banded for long-context thresholds {thresholds}, this "
                f"store's for {list(stored[0])}: rerun finops lake run with this store's catalog"
            )
            raise ValueError(msg)
        before = session.rows(
            "SELECT days FROM data_sources WHERE kind = 'lake' AND location = $l", {"l": location}
        )
        old_days = sorted({d for (row,) in before for d in row})
        session.execute(
            "DELETE FROM daily_usage WHERE day IN (SELECT day FROM lake_rollup) "
            "OR list_contains(CAST($old AS DATE[]), day)",
            {"old": old_days},
        )
        session.execute("INSERT INTO daily_usage BY NAME SELECT * FROM lake_rollup")
        if stored is None or list(stored[0]) != thresholds:
            session.execute("DELETE FROM rollup_state")
            session.execute(
                "INSERT INTO rollup_state (thresholds, built_at) "
                "VALUES (CAST($t AS BIGINT[]), now()::TIMESTAMP)",
                {"t": thresholds},
            )
        rows, usage_rows = session.one(
            "SELECT count(*), coalesce(sum(usage_rows), 0) FROM lake_rollup"
        )
        session.execute(
            "DELETE FROM data_sources WHERE kind = 'lake' AND location = $l", {"l": location}
        )
        session.execute(
            "INSERT INTO data_sources VALUES ('lake', $l, now()::TIMESTAMP, $h, "
            "CAST($t AS BIGINT[]), $first, $last, CAST($days AS DATE[]), $rows, $usage)",
            {
                "l": location,
                "h": state["catalog_hash"],
                "t": thresholds,
                "first": days[0] if days else None,
                "last": days[-1] if days else None,
                "days": days,
                "rows": rows,
                "usage": usage_rows,
            },
        )
        session.execute("DROP TABLE lake_rollup")
    return AttachReport(
        location=location,
        days=len(days),
        first_day=days[0] if days else None,
        last_day=days[-1] if days else None,
        rollup_rows=rows,
        usage_rows=int(usage_rows),
        catalog_hash=state["catalog_hash"],
        thresholds=thresholds,
    )


def source_note(session: Session) -> str | None:
    """One sentence on where the store's data came from when some of it came from a lake."""
    rows = session.rows(
        "SELECT location, first_day, last_day, usage_rows, attached_at FROM data_sources "
        "WHERE kind = 'lake' ORDER BY attached_at"
    )
    if not rows:
        return None
    parts = [
        f"{usage:,} usage rows from {first:%d %b %Y} to {last:%d %b %Y} were rolled up on Spark "
        f"from the lake output {location} (attached {attached:%d %b %Y %H:%M} UTC)"
        for location, first, last, usage, attached in rows
        if first is not None
    ]
    uploads = session.one("SELECT count(*) FROM (SELECT 1 FROM usage LIMIT 1)")[0]
    tail = "; the rest was uploaded." if uploads else "."
    return ("Data source: " + "; ".join(parts) + tail) if parts else None
