"""The forward view: the scope's recent days as a monthly rate, and the as-billed forecast.

A month is 30.4375 days (365.25 / 12), so a monthly rate is a window's cost × 30.4375 / its
days; each rate is rounded to the cent once, and savings are the difference of rounded rates,
so the headline foots.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from finops.analysis.forecast.api import forecast_series
from finops.analysis.simulate.query import Tally
from finops.analysis.simulate.result import pct
from finops.analysis.simulate.scenario import CASES
from finops.core.format import cents

#: The forward view prices the scope's last this-many days (and the as-billed forecast applies
#: the savings rate of these days).
FORWARD_RATE_DAYS = 28


def forward_savings(
    daily: dict[dt.date, dict[str, Tally]], horizon: int, last_day: dt.date | None
) -> tuple[dict[str, Any] | None, str | None]:
    """Forecast the scope's spend and apply the savings rate of its last days to it."""
    if not daily or last_day is None:
        return None, "no priced usage in scope: nothing to forecast"
    recent_from = last_day - dt.timedelta(days=FORWARD_RATE_DAYS - 1)
    recent = {case: Tally() for case in CASES}
    for day, by_case in daily.items():
        if day >= recent_from:
            for case in CASES:
                tally = by_case.get(case)
                if tally is not None:
                    recent[case].actual_cost_usd += tally.actual_cost_usd
                    recent[case].scenario_cost_usd += tally.scenario_cost_usd
    base = recent["expected"].actual_cost_usd
    if not base:
        return (
            None,
            f"no priced spend in the scope's last {FORWARD_RATE_DAYS} days: nothing to forecast",
        )
    shares = {
        case: recent[case].savings_usd / recent[case].actual_cost_usd
        for case in CASES
        if recent[case].actual_cost_usd
    }
    days = sorted(daily)
    values = [
        float(daily[d]["expected"].actual_cost_usd) if "expected" in daily[d] else 0.0 for d in days
    ]
    try:
        frame = forecast_series(values, days=days, horizon=horizon, fill="zero")
    except ValueError as exc:
        return None, f"forecast not possible: {exc}"
    end = frame.row(frame.height - 1, named=True)
    mean, lo, hi = (Decimal(str(round(end[c], 2))) for c in ("cum_mean", "cum_lo80", "cum_hi80"))
    low_share, high_share = min(shares.values()), max(shares.values())

    forecast = {
        "horizon_days": horizon,
        "first_day": frame["day"][0],
        "last_day": frame["day"][-1],
        "forecast_cost_usd": mean,
        "forecast_cost_usd_lo80": lo,
        "forecast_cost_usd_hi80": hi,
        "savings_rate_days": FORWARD_RATE_DAYS,
        "savings_usd": cents(mean * shares["expected"]) if "expected" in shares else None,
        "savings_usd_low": cents(min(lo * low_share, hi * low_share)),
        "savings_usd_high": cents(max(lo * high_share, hi * high_share)),
        "method": end["method"],
        "note": end["note"],
    }
    note = (
        f"estimate: the scope's {horizon}-day spend forecast (80% interval) times the savings "
        f"rate of its last {FORWARD_RATE_DAYS} days; announced future prices are not applied"
    )
    return forecast, note


#: Days in a month, on average (365.25 / 12): a monthly rate is a daily rate times this.
DAYS_PER_MONTH = Decimal("30.4375")


def until(params: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """`params` with the day range ending on `today` at the latest: usage after the day a view
    is judged on (a review of a past month) stays out of its forward window."""
    end = today + dt.timedelta(days=1)
    current = params.get("to_day")
    return params | {"to_day": end if current is None else min(current, end)}


def forward_window(
    first_day: dt.date | None, last_day: dt.date | None, window_days: int
) -> tuple[dt.date, dt.date] | None:
    """The forward view's days: the scope's last `window_days` days, or fewer when its usage
    starts later (a window never reaches back before the first usage).

    >>> forward_window(dt.date(2025, 3, 1), dt.date(2025, 4, 30), 28)
    (datetime.date(2025, 4, 3), datetime.date(2025, 4, 30))
    >>> forward_window(dt.date(2025, 4, 20), dt.date(2025, 4, 30), 28)
    (datetime.date(2025, 4, 20), datetime.date(2025, 4, 30))
    """
    if last_day is None:
        return None
    return max(first_day, last_day - dt.timedelta(days=window_days - 1)), last_day


def monthly_rates(
    by_moved: dict[tuple[str, bool], Tally], window: tuple[dt.date, dt.date] | None
) -> dict[str, Any] | None:
    """The headline: the scope's cost per month today and on the scenario, the saving per month
    with its range over the three cases, and what share that is of the moved workload and of
    the scope. Rates are the window's costs × 30.4375 / its days, each rounded once to cents."""
    if window is None:
        return None
    days = (window[1] - window[0]).days + 1
    factor = DAYS_PER_MONTH / days

    def rate(value: Decimal) -> Decimal:
        return cents(value * factor)

    def tally(case: str, moved: bool | None) -> Tally:
        out = Tally()
        for flag in (True, False) if moved is None else (moved,):
            part = by_moved.get((case, flag))
            if part is not None:
                out.actual_cost_usd += part.actual_cost_usd
                out.scenario_cost_usd += part.scenario_cost_usd
        return out

    saving = {
        case: rate(tally(case, None).actual_cost_usd) - rate(tally(case, None).scenario_cost_usd)
        for case in CASES
    }
    moved = {case: tally(case, True) for case in CASES}
    scope = tally("expected", None)
    moved_share = {
        case: pct(moved[case].savings_usd, moved[case].actual_cost_usd) for case in CASES
    }
    shares = [s for s in moved_share.values() if s is not None]
    return {
        "first_day": window[0],
        "last_day": window[1],
        "days": days,
        "days_per_month": DAYS_PER_MONTH,
        "actual_cost_usd": rate(scope.actual_cost_usd),
        "scenario_cost_usd": rate(scope.scenario_cost_usd),
        "savings_usd": saving["expected"],
        "savings_usd_low": min(saving.values()),
        "savings_usd_high": max(saving.values()),
        "moved_actual_cost_usd": rate(moved["expected"].actual_cost_usd),
        "moved_scenario_cost_usd": rate(moved["expected"].scenario_cost_usd),
        "savings_pct_of_moved": moved_share["expected"],
        "savings_pct_of_moved_low": min(shares) if shares else None,
        "savings_pct_of_moved_high": max(shares) if shares else None,
        "savings_pct_of_scope": pct(scope.savings_usd, scope.actual_cost_usd),
    }
