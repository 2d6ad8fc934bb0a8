"""The one "today": the day every page, command, countdown, forecast and scenario is judged on.

Spend data arrives a day or more late, so the wall clock is the wrong "today": this month's
projection, budget run-out dates, anomaly windows and deprecation countdowns all count from
the **last day with data** in the store. An explicit day wins over it: a function's
``today=`` argument (the CLI's ``--today``), else the ``FINOPS_TODAY`` environment variable
(``YYYY-MM-DD``), which pins every view to one day (a review of a past month, a test).

>>> import duckdb

from finops.core.store import fetch_one
>>> con = duckdb.connect()
>>> _ = con.execute("CREATE TABLE daily_usage AS SELECT unnest([DATE '2026-03-05', '2026-03-14']) AS day")
>>> resolve_today(con, environ={})
datetime.date(2026, 3, 14)
>>> resolve_today(con, environ={"FINOPS_TODAY": "2026-03-01"})
datetime.date(2026, 3, 1)
>>> resolve_today(con, datetime.date(2026, 2, 2), environ={"FINOPS_TODAY": "2026-03-01"})
datetime.date(2026, 2, 2)
>>> resolve_today(con, before=datetime.date(2026, 3, 10), environ={})  # a filter's end
datetime.date(2026, 3, 5)
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping

import duckdb

from finops.core.store import fetch_one

__all__ = ["TODAY_ENV", "last_day_with_data", "pinned_today", "resolve_day", "resolve_today"]

#: Environment variable pinning "today" (YYYY-MM-DD) for every view and command.
TODAY_ENV = "FINOPS_TODAY"


def pinned_today(environ: Mapping[str, str] | None = None) -> datetime.date | None:
    """The day ``FINOPS_TODAY`` pins, or None when it is unset or empty.

    >>> pinned_today({"FINOPS_TODAY": "2026-01-31"})
    datetime.date(2026, 1, 31)
    >>> pinned_today({"FINOPS_TODAY": "31/01/2026"})
    Traceback (most recent call last):
    ValueError: FINOPS_TODAY '31/01/2026' is not a date; write YYYY-MM-DD
    """
    text = (os.environ if environ is None else environ).get(TODAY_ENV, "").strip()
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        msg = f"{TODAY_ENV} {text!r} is not a date; write YYYY-MM-DD"
        raise ValueError(msg) from None


def last_day_with_data(
    con: duckdb.DuckDBPyConnection, *, before: datetime.date | None = None
) -> datetime.date | None:
    """The last day with usage in the store (before ``before``, exclusive); None when empty."""
    row = fetch_one(
        con,
        "SELECT max(day) FROM daily_usage WHERE $before IS NULL OR day < CAST($before AS DATE)",
        {"before": before},
    )
    return row[0] if row else None


def resolve_today(
    con: duckdb.DuckDBPyConnection,
    today: datetime.date | None = None,
    *,
    before: datetime.date | None = None,
    environ: Mapping[str, str] | None = None,
) -> datetime.date | None:
    """Today: ``today`` if given, else ``FINOPS_TODAY``, else the last day with data.

    ``before`` (exclusive) caps the answer, e.g. a filter's end: with data or a pinned day
    past it, today is the day before it. None only when nothing pins a day and the store
    has no usage.
    """
    day = today or pinned_today(environ)
    if day is None:
        return last_day_with_data(con, before=before)
    if before is not None and day >= before:
        return before - datetime.timedelta(days=1)
    return day


def resolve_day(
    con: duckdb.DuckDBPyConnection, today: datetime.date | None = None
) -> datetime.date:
    """`resolve_today`, or the calendar's day on a store without usage: for what needs a day
    whatever the data (the price in force for a simulation, a catalog's current prices)."""
    return resolve_today(con, today) or datetime.date.today()
