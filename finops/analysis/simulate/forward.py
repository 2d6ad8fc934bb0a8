"""Forward savings: the scope's spend forecast times the savings rate of its last days."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from finops.analysis.forecast.api import forecast_series
from finops.analysis.simulate.query import Tally
from finops.analysis.simulate.scenario import CASES, CENT

#: Forward savings apply the savings rate of the scope's last this-many days to the forecast.
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

    def cents(value: Decimal) -> Decimal:
        return value.quantize(CENT, rounding=ROUND_HALF_EVEN)

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
