"""Public holiday calendars for the forecast (the ``holidays`` package, country configurable).

The engine's ``HolidayEffects`` adjusts for them (see there). ``holiday_ids`` turns a country code into one id per calendar day (0: an ordinary day), the
form the engine takes. Country codes are the ``holidays`` package's: "US", "GB", "DE",
"AU-VIC" (a country and a subdivision), "NZ".

>>> import datetime
>>> ids, names = holiday_ids("NZ", datetime.date(2024, 12, 24), 3)
>>> ids.tolist(), names
([1, 2, 3], ['24 Dec (year-end season)', 'Christmas Day', 'Boxing Day'])
"""

from __future__ import annotations

import datetime

import holidays as holiday_calendars
import numpy as np

__all__ = ["SEASON_FROM_DEC", "SEASON_TO_JAN", "holiday_ids"]

#: The year-end season: 20 December to 10 January.
SEASON_FROM_DEC, SEASON_TO_JAN = 20, 10


def _in_year_end_season(day: datetime.date) -> bool:
    """The weeks around Christmas and New Year, when offices close and routines change:
    each of these days is its own calendar effect, measured on the years the history has."""
    return (day.month == 12 and day.day >= SEASON_FROM_DEC) or (
        day.month == 1 and day.day <= SEASON_TO_JAN
    )


def holiday_ids(country: str, start: datetime.date, days: int) -> tuple[np.ndarray, list[str]]:
    """(one id per day from ``start``: 0 or 1 + the holiday's index in names, names)."""
    code, _, subdivision = country.partition("-")
    years = range(start.year, (start + datetime.timedelta(days=days)).year + 1)
    try:
        calendar = holiday_calendars.country_holidays(
            code.upper(), subdiv=subdivision.upper() or None, years=years
        )
    except NotImplementedError:
        msg = f"unknown holiday calendar {country!r}: use a country code such as US, GB or AU-VIC"
        raise ValueError(msg) from None
    names: list[str] = []
    ids = np.zeros(days, dtype=np.int64)
    for offset in range(days):
        day = start + datetime.timedelta(days=offset)
        name = calendar.get(day)
        if name is None and _in_year_end_season(day):
            name = f"{day:%d %b} (year-end season)"
        if name is None:
            continue
        name = name.split(";")[0].strip()
        if name not in names:
            names.append(name)
        ids[offset] = names.index(name) + 1
    return ids, names
