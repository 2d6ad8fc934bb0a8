"""Calendar months: the one place that parses YYYY-MM and knows where a month starts and ends."""

from __future__ import annotations

import datetime as dt

__all__ = ["month_bounds", "month_end", "parse_month"]


def parse_month(text: str) -> dt.date:
    """'2025-11' → date(2025, 11, 1); a clear error otherwise.

    >>> parse_month("2025-11")
    datetime.date(2025, 11, 1)
    """
    try:
        return dt.datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        msg = f"month {text!r} is not a month; write YYYY-MM, e.g. 2025-11"
        raise ValueError(msg) from None


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """[first day of `day`'s month, first day of the next)."""
    start = day.replace(day=1)
    return start, (start + dt.timedelta(days=32)).replace(day=1)


def month_end(day: dt.date) -> dt.date:
    """The last day of `day`'s month."""
    return month_bounds(day)[1] - dt.timedelta(days=1)
