"""Forecast identity check: every output number of ~36 varied series, saved or compared.

Speed work on the forecast engine must not move a single forecast number. This script
forecasts 30 synthetic series from ``forecast_scale.spend_frame`` (fixed seed) plus a few
edge cases (all zeros, a constant, short histories, gaps, a negative series, a holiday
calendar, a non-auto method, a hierarchy), and either saves every output column
(``--save PATH``) or compares with a saved file (``--check PATH``) with exact equality
(NaN == NaN; no tolerance).

Run before a change: ``python benchmarks/forecast_identity.py --save /tmp/ref.npz``;
after it: ``python benchmarks/forecast_identity.py --check /tmp/ref.npz``.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from forecast_scale import spend_frame

from finops.analysis.forecast.api import (
    forecast_frame,
    forecast_hierarchy,
    forecast_series,
)

START = datetime.date(2024, 1, 1)


def outputs(workers: int = 1) -> dict[str, pl.DataFrame]:
    out: dict[str, pl.DataFrame] = {}
    frame = spend_frame(30, 730, seed=7)
    # vary lengths: some series start late (shorter histories, incl. < 28 days)
    length = {3: 30, 5: 10, 8: 365, 11: 40, 13: 20, 17: 100, 19: 60, 23: 130}
    cut = {k: 730 - v for k, v in length.items()}
    frame = frame.filter(
        pl.col("day")
        >= pl.col("series_id").replace_strict(
            {k: START + datetime.timedelta(days=v) for k, v in cut.items()},
            default=START,
            return_dtype=pl.Date,
        )
    )
    # gaps: drop some rows of series 2 and 4
    rng = np.random.default_rng(1)
    drop = (pl.col("series_id").is_in([2, 4])) & pl.Series(rng.random(frame.height) < 0.05)
    frame = frame.filter(~drop)
    out["frame"] = forecast_frame(frame, keys=["series_id"], value_col="cost_usd", workers=workers)
    y = spend_frame(1, 400, seed=3)["cost_usd"].to_numpy()
    out["zeros"] = forecast_series(np.zeros(200), start=START)
    out["const"] = forecast_series(np.full(200, 5.0), start=START)
    out["short10"] = forecast_series(y[:10], start=START)
    out["short3"] = forecast_series(y[:3], start=START)
    out["neg"] = forecast_series(y - y.mean(), start=START)
    out["mostly_zero"] = forecast_series(
        np.where(np.arange(300) % 9 == 0, y[:300], 0.0), start=START
    )
    out["holidays"] = forecast_series(y, start=START, holidays="US", horizon=92)
    out["stl_ses"] = forecast_series(y, start=START, method="stl_ses")
    out["ets"] = forecast_series(y[:120], start=START, method="ets")
    out["zero_fill"] = forecast_series(
        np.where(np.arange(400) % 13 == 0, np.nan, y), start=START, fill="zero"
    )
    teams = spend_frame(4, 200, seed=11).with_columns(
        team=pl.col("series_id").cast(pl.String), provider=(pl.col("series_id") % 2).cast(pl.String)
    )
    out["hierarchy"] = forecast_hierarchy(
        teams, levels_keys=["provider", "team"], value_col="cost_usd", holidays="GB"
    )
    return out


def flatten(out: dict[str, pl.DataFrame]) -> dict[str, np.ndarray]:
    arrays = {}
    for name, df in out.items():
        for col in df.columns:
            s = df[col]
            if s.dtype.is_float():
                arrays[f"{name}/{col}"] = s.to_numpy()
            else:
                arrays[f"{name}/{col}"] = np.array([str(v) for v in s.to_list()])
    return arrays


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save")
    group.add_argument("--check")
    parser.add_argument("--workers", type=int, default=1)
    opts = parser.parse_args()
    arrays = flatten(outputs(opts.workers))
    if opts.save:
        np.savez(opts.save, **arrays)
        print(f"saved {len(arrays)} columns to {opts.save}")
        return 0
    ref = np.load(opts.check)
    bad = []
    if set(ref.files) != set(arrays):
        bad.append(f"columns differ: {sorted(set(ref.files) ^ set(arrays))}")
    for key in sorted(set(ref.files) & set(arrays)):
        a, b = ref[key], arrays[key]
        if a.shape != b.shape:
            bad.append(f"{key}: shape {a.shape} != {b.shape}")
        elif a.dtype.kind == "f":
            same = (a == b) | (np.isnan(a) & np.isnan(b))
            if not same.all():
                bad.append(
                    f"{key}: {int((~same).sum())} values differ, max |d| "
                    f"{np.nanmax(np.abs(a - b)):.3g}"
                )
        elif not (a == b).all():
            bad.append(f"{key}: {int((a != b).sum())} values differ")
    n_values = sum(ref[k].size for k in ref.files)
    if bad:
        print("DIFFERENT:\n  " + "\n  ".join(bad))
        return 1
    print(f"identical: {len(arrays)} columns, {n_values} values (exact ==)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
