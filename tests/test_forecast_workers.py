"""Forecasting many series with a worker process gives the serial forecasts, in order."""

from __future__ import annotations

import numpy as np

from finops.analysis.forecast.engine import forecast_many


def test_parallel_forecasts_equal_serial_ones_in_order():
    """forecast_many with a worker (this process takes series from the back, the worker
    chunks from the front) returns the serial forecasts, in input order, to the bit."""
    rng = np.random.default_rng(9)
    series = [rng.lognormal(rng.uniform(0, 5), 0.3, int(rng.integers(20, 200))) for _ in range(9)]
    options = {"horizon": 14, "levels": (80, 95), "method": "auto", "nonnegative": None}
    serial = forecast_many(series, workers=1, **options)
    parallel = forecast_many(series, workers=2, **options)
    assert [fc.method for fc in parallel] == [fc.method for fc in serial]
    for a, b in zip(parallel, serial, strict=True):
        assert (a.mean == b.mean).all() and (a.cum_mean == b.cum_mean).all()
        for lv in (80, 95):
            assert all((x == y).all() for x, y in zip(a.bounds[lv], b.bounds[lv], strict=True))
            assert all(
                (x == y).all() for x, y in zip(a.cum_bounds[lv], b.cum_bounds[lv], strict=True)
            )
