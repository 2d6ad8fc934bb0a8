"""Forecasts for many series on Spark: the same per-series engine, reconciled afterwards.

`finops.analysis.forecast.api.forecast_hierarchy` forecasts every node of a hierarchy (total,
each grouping, each bottom series) with `engine.forecast_array`, then reconciles the means so
children add up to their parents. Here the per-node forecasts run on the cluster: one row per
series, `groupBy(...).applyInPandas(...)` calls the same `forecast_array` with the same
options on an executor, and the results come back whole (pickled) to the driver, which
reconciles them with the same code. Same inputs, same engine, same arithmetic: the numbers
equal the local run's.

The series come from a lake run's `spend/` output (day × team after allocation) or its
`rollup/` (any keys the rollup keeps, e.g. team × model): a panel of days × series, small
enough for the driver even when the usage behind it is billions of rows.
"""

from __future__ import annotations

import functools
import pickle
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from finops.analysis.forecast.api import forecast_hierarchy
from finops.analysis.forecast.engine import SeriesForecast, forecast_array, single_threaded
from finops.lake.spark import join_path

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["FORECAST_KEYS", "lake_daily_spend", "spark_forecast_hierarchy", "spark_forecast_many"]

#: Keys a lake forecast can group by: owner (team) from the rollup, and the rollup's own keys.
FORECAST_KEYS = ("team", "provider", "model", "service_tier", "project_id", "api_key_id")


def _forecast_group(options: dict, frame):
    """applyInPandas body: forecast each series in the group with the local engine."""
    import pandas as pd

    out = []
    with single_threaded():
        for node, values in zip(frame["node"], frame["y"], strict=True):
            forecast = forecast_array(np.asarray(values, dtype=float), **options)
            out.append((int(node), pickle.dumps(forecast)))
    return pd.DataFrame(out, columns=["node", "forecast"])


def spark_forecast_many(
    spark: SparkSession, series: list[np.ndarray], *, workers: int | None = None, **options
) -> list[SeriesForecast]:
    """`engine.forecast_many` on Spark: one task group per series, results in input order.

    `workers` is ignored (Spark decides the parallelism: `spark.sql.shuffle.partitions`).
    """
    rows = [(i, [float(v) for v in y]) for i, y in enumerate(series)]
    frame = spark.createDataFrame(rows, "node INT, y ARRAY<DOUBLE>")
    result = frame.groupBy("node").applyInPandas(
        functools.partial(_forecast_group, options), "node INT, forecast BINARY"
    )
    # pickles made by our own executors from our own objects: the results travel whole
    done = {r["node"]: pickle.loads(r["forecast"]) for r in result.collect()}
    return [done[i] for i in range(len(series))]


def spark_forecast_hierarchy(spark: SparkSession, frame: pl.DataFrame, **kwargs) -> pl.DataFrame:
    """`forecast_hierarchy` with the nodes forecast on Spark (same arguments, same result)."""
    return forecast_hierarchy(frame, runner=functools.partial(spark_forecast_many, spark), **kwargs)


def lake_daily_spend(spark: SparkSession, out: str, by: list[str]) -> pl.DataFrame:
    """Daily list cost by `by` from a lake run's output: `day`, the keys, `value`.

    By team alone it reads `spend/` (split rules shared out, as `finops spend`); with other
    keys it reads the priced `rollup/`, where shared usage stays under its split rule.
    """
    from pyspark.sql import functions as F

    unknown = [k for k in by if k not in FORECAST_KEYS]
    if unknown or not by:
        msg = f"cannot forecast by {', '.join(unknown) or 'nothing'}; choose from {', '.join(FORECAST_KEYS)}"
        raise ValueError(msg)
    if by == ["team"]:
        source = spark.read.parquet(join_path(out, "spend"))
    else:
        source = spark.read.parquet(join_path(out, "rollup"))
        source = source.withColumn("team", F.col("owner")).withColumn(
            "model", F.coalesce(F.col("model_id"), F.col("model"))
        )
    daily = (
        source.where(F.col("cost_usd").isNotNull())
        .groupBy("day", *by)
        .agg(F.sum("cost_usd").alias("cost_usd"))
    )
    frame = pl.from_arrow(daily.toArrow())
    return (
        frame.with_columns(pl.col("cost_usd").cast(pl.Float64).alias("value"))
        .drop("cost_usd")
        .sort("day", *by)
    )
