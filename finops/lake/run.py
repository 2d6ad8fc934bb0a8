"""`finops lake run`: usage in the lake → daily rollup, unpriced usage and spend, on Spark.

    out/
      rollup/day=YYYY-MM-DD/      the daily rollup (the store's `daily_usage` columns) with its
                                  price: model_id, owner, cost_usd, effective_cost_usd,
                                  contract, unpriced_reason
      unpriced/day=YYYY-MM-DD/    unpriced usage by provider, model and reason: rows, tokens
      spend/month=YYYY-MM/        spend by day and team after allocation (split rules shared
                                  out by month, as `finops spend --by day,team` does)
      catalog/{prices,aliases,revisions}/content_hash=…/   the catalog revision used
      _finops_lake.json           what the outputs were made from: catalog hash, thresholds,
                                  teams and contracts digests, a fingerprint per input partition

Every output is written with dynamic partition overwrite: a run replaces exactly the
partitions it computed and leaves the others alone, so a rerun changes nothing and late data
for one day rewrites that day (and its month's spend) only.

What a run recomputes:
- input partitions whose files changed since the last run (new, replaced or removed files),
  or every one on the first run or when the long-context thresholds changed (prompt bands
  are part of the rollup's keys); with `since`, only partitions from that day on are looked at;
- when the catalog, teams.yaml or contracts.yaml changed: the stored rollup is priced again
  (no raw usage is read), and only the days whose priced rows differ are rewritten — the days
  the change touches.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import polars as pl

from finops.lake.source import LakeInput, Partition, canonical_usage, list_partitions
from finops.lake.spark import (
    SparkConnection,
    build_rollup,
    contract_terms,
    hadoop_fs,
    join_path,
    to_spark_sql,
)
from finops.pricing import costing
from finops.pricing.allocation import owned_rows_sql
from finops.pricing.catalog import Catalog
from finops.session.scratch import catalog_tables

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from finops.pricing.allocation import Allocation
    from finops.pricing.contracts import Contracts

__all__ = ["LAKE_FORMAT", "ROLLUP_COLUMNS", "LakeReport", "read_state", "run_lake"]

#: Bumped when the output layout or a column changes.
LAKE_FORMAT = 1
STATE_FILE = "_finops_lake.json"

#: The store's `daily_usage` columns, in its order (what `finops lake attach` loads).
ROLLUP_COLUMNS: tuple[str, ...] = (
    "day",
    "provider",
    "model",
    "service_tier",
    "prompt_band",
    "hour_utc",
    "project_id",
    "api_key_id",
    "team",
    "user_id",
    "tags",
    "usage_rows",
    "requests",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "input_audio_tokens",
    "output_audio_tokens",
    "input_image_tokens",
    "output_image_tokens",
    "reasoning_tokens",
    "web_search_requests",
    "reported_cost_usd",
)
#: The columns that identify a rollup row (the rest are its measures).
ROLLUP_KEYS: tuple[str, ...] = ROLLUP_COLUMNS[: ROLLUP_COLUMNS.index("usage_rows")]
PRICE_COLUMNS: tuple[str, ...] = (
    "model_id",
    "owner",
    "cost_usd",
    "effective_cost_usd",
    "contract",
    "unpriced_reason",
)
_REVISION = 1  # the catalog's id in the run's private catalog store


@dataclass
class LakeReport:
    out: str
    catalog_hash: str
    thresholds: list[int]
    partitions_read: list[str] = field(default_factory=list)
    days_written: list[dt.date] = field(default_factory=list)
    days_repriced: list[dt.date] = field(default_factory=list)
    days_removed: list[dt.date] = field(default_factory=list)
    months_spend: list[str] = field(default_factory=list)
    usage_rows: int = 0
    rollup_rows: int = 0
    cost_usd: Decimal = Decimal(0)
    unpriced_rows: int = 0
    seconds: float = 0.0
    reasons: list[str] = field(default_factory=list)


# --- small files and folders, local or in object storage (through Hadoop's FileSystem) ----------


def read_state(spark: SparkSession, out: str) -> dict[str, Any] | None:
    """The state a previous run left in `out`, or None."""
    fs, path = hadoop_fs(spark, join_path(out, STATE_FILE))
    if not fs.exists(path):
        return None
    stream = fs.open(path)
    try:
        text = spark.sparkContext._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
    finally:
        stream.close()
    state = json.loads(text)
    if state.get("format") != LAKE_FORMAT:
        msg = f"{out} holds lake output of another finops release (format {state.get('format')})"
        raise ValueError(msg)
    return state


def _write_state(spark: SparkSession, out: str, state: dict[str, Any]) -> None:
    fs, path = hadoop_fs(spark, join_path(out, STATE_FILE))
    stream = fs.create(path, True)
    try:
        stream.write(bytearray((json.dumps(state, indent=2, default=str) + "\n").encode()))
    finally:
        stream.close()


def _remove_partitions(spark: SparkSession, folder: str, column: str, values: list[str]) -> None:
    for value in values:
        fs, path = hadoop_fs(spark, join_path(folder, f"{column}={value}"))
        if fs.exists(path):
            fs.delete(path, True)


def _exists(spark: SparkSession, path: str) -> bool:
    fs, jpath = hadoop_fs(spark, path)
    return bool(fs.exists(jpath))


# --- catalog, teams and contracts on Spark --------------------------------------------------------


def _digest(value: Any) -> str | None:
    if value is None:
        return None
    return getattr(value, "content_hash", None) or hashlib.sha256(repr(value).encode()).hexdigest()


def _install_catalog(
    spark: SparkSession, pricing: str | None, contracts: Contracts | None
) -> Catalog:
    """Record the catalog in a private DuckDB store and hand its tables to Spark as views."""
    con_spark = SparkConnection(spark)
    catalog, revision_id, tables = catalog_tables(pricing)
    assert revision_id == _REVISION
    for name, table in tables.items():
        con_spark.register(name, table)
    con_spark.register("contract_terms", contract_terms(contracts))
    return catalog


def _write_catalog(spark: SparkSession, out: str, catalog: Catalog) -> None:
    from pyspark.sql import functions as F

    if _exists(
        spark, join_path(out, "catalog", "revisions", f"content_hash={catalog.content_hash}")
    ):
        return  # written by an earlier run
    for short, name in (
        ("prices", "catalog_prices"),
        ("aliases", "catalog_aliases"),
        ("revisions", "catalog_revisions"),
        ("models", "catalog_models"),
    ):
        frame = spark.table(name)
        if "content_hash" not in frame.columns:
            frame = frame.withColumn("content_hash", F.lit(catalog.content_hash))
        frame.coalesce(1).write.mode("overwrite").partitionBy("content_hash").parquet(
            join_path(out, "catalog", short)
        )


# --- pricing the rollup ------------------------------------------------------------------------


def _priced(spark: SparkSession, allocation: Allocation | None) -> DataFrame:
    """The `daily_usage` view priced, owned and under contract, by the store's own SQL."""

    con = SparkConnection(spark)
    sql = costing.priced_sql()
    if allocation is not None:
        sql = owned_rows_sql(con, allocation, sql)  # type: ignore[arg-type]
        owner = "owner"
    else:
        owner = "coalesce(team, 'unallocated')"
    select = ", ".join([*ROLLUP_COLUMNS, "model_id", f"{owner} AS owner"])
    query = f"SELECT {select}, cost_usd, effective_cost_usd, contract, unpriced_reason FROM ({sql})"
    params = {"revision_id": _REVISION, "from_day": None, "to_day": None}
    return spark.sql(to_spark_sql(query, params))


def _unpriced_by_day(priced: DataFrame) -> DataFrame:
    from pyspark.sql import functions as F

    return (
        priced.where(F.col("cost_usd").isNull())
        .groupBy("day", "provider", "model", F.col("unpriced_reason").alias("reason"))
        .agg(
            F.sum("usage_rows").cast("bigint").alias("rows"),
            F.sum(F.expr(costing.TOKENS_SQL)).cast("bigint").alias("tokens"),
        )
    )


def _write_by_day(frame: DataFrame, folder: str) -> None:
    frame.repartition("day").write.mode("overwrite").partitionBy("day").parquet(folder)


def _changed_days(fresh: DataFrame, stored: DataFrame) -> list[dt.date]:
    """Days where the freshly priced rollup differs from the stored one in any priced column."""
    from pyspark.sql import functions as F

    keys = ROLLUP_KEYS
    a, b = fresh.alias("a"), stored.alias("b")
    condition = [F.col(f"a.{k}").eqNullSafe(F.col(f"b.{k}")) for k in keys]
    joined = a.join(b, condition, "full_outer")
    differs = None
    for c in PRICE_COLUMNS:
        term = ~F.col(f"a.{c}").eqNullSafe(F.col(f"b.{c}"))
        differs = term if differs is None else (differs | term)
    day = F.coalesce(F.col("a.day"), F.col("b.day")).alias("day")
    rows = joined.where(differs).select(day).distinct().collect()
    return sorted(r["day"] for r in rows)


def _spend_months(
    spark: SparkSession, out: str, months: list[str], allocation: Allocation | None
) -> DataFrame:
    """Spend by day and team for whole months, from the written rollup (splits are monthly)."""
    import pyarrow as pa
    from pyspark.sql import functions as F

    rollup = spark.read.parquet(join_path(out, "rollup"))
    month = F.date_format("day", "yyyy-MM")
    rollup.where(month.isin(months)).select(*ROLLUP_COLUMNS).createOrReplaceTempView("daily_usage")
    frame = costing.spend(
        SparkConnection(spark),  # type: ignore[arg-type]
        by=["day", "team"],
        revision_id=_REVISION,
        allocation=allocation,
    )
    # the lake's spend files keep BIGINT counts (Spark has no INT128; a cast that overflowed
    # would raise, not wrap)
    wide = [n for n, d in frame.schema.items() if d == pl.Int128]
    table = frame.with_columns(pl.col(wide).cast(pl.Int64)).to_arrow()
    table = table.append_column(
        "month", pa.array([f"{d:%Y-%m}" for d in frame["day"].to_list()], pa.string())
    )
    return spark.createDataFrame(table)


# --- the run -----------------------------------------------------------------------------------


def _days(first: dt.date, end: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((end - first).days)]


def _partition_days(values: list[str]) -> list[dt.date]:
    """Every day of the partitions with these values (days or months)."""
    spans = [Partition("", v, "", "") for v in values]
    return sorted({d for p in spans for d in _days(p.first_day, p.end_day)})


def run_lake(
    spark: SparkSession,
    source: LakeInput,
    out: str,
    *,
    pricing: str | None = None,
    allocation: Allocation | None = None,
    contracts: Contracts | None = None,
    since: dt.date | None = None,
    everything: bool = False,
) -> LakeReport:
    """Bring the lake outputs in `out` up to date with the usage in `source` (see the module)."""
    from pyspark.sql import functions as F

    started = time.perf_counter()
    out = str(out).rstrip("/")
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    catalog = _install_catalog(spark, pricing, contracts)
    state = read_state(spark, out) or {}
    report = LakeReport(out=out, catalog_hash=catalog.content_hash, thresholds=catalog.thresholds)
    inputs = {
        "location": source.location,
        "format": source.format,
        "mapping": source.mapping.digest if source.mapping else None,
    }
    pricing_inputs = {
        "catalog_hash": catalog.content_hash,
        "teams_hash": _digest(allocation),
        "contracts_hash": _digest(contracts),
    }
    rebuild = everything or not state
    if state and state.get("inputs") != inputs:
        rebuild = True
        report.reasons.append("the input (location, format or mapping) changed")
    if state and state.get("thresholds") != catalog.thresholds:
        rebuild = True
        report.reasons.append(
            f"long-context thresholds changed ({state.get('thresholds')} → {catalog.thresholds})"
        )
    known: dict[str, str] = {} if rebuild else dict(state.get("partitions", {}))

    # 1. input partitions that changed: read, key, roll up, price, write
    if source.format == "parquet":
        partitions = list_partitions(spark, source.location)
        # a rebuild of a store made before looks at everything: bands and keys must agree
        scope = since if since is not None and not (rebuild and state) else None
        looked_at = [p for p in partitions if scope is None or p.end_day > scope]
        changed = [p for p in looked_at if known.get(p.value) != p.fingerprint]
        gone = [v for v in known if v not in {p.value for p in partitions}]
    else:  # Delta / Iceberg: no file listing; the days from `since` on are recomputed
        partitions, gone = [], []
        first = since or dt.date(1970, 1, 1)
        changed = [Partition("day", "*", source.location, "")]
    written: list[dt.date] = []
    if changed:
        report.partitions_read = [p.value for p in changed]
        if source.format == "parquet":
            usage = canonical_usage(spark, source, partitions=changed)
            covered = sorted({d for p in changed for d in _days(p.first_day, p.end_day)})
        else:
            usage = canonical_usage(spark, source, days=(first, dt.date(9999, 1, 1)))
            covered = []
        usage.createOrReplaceTempView("usage")
        rollup = build_rollup(spark, catalog.thresholds)
        try:
            priced = _priced(spark, allocation).cache()
            per_day = (
                priced.groupBy("day")
                .agg(
                    F.sum("usage_rows").alias("usage_rows"),
                    F.count(F.lit(1)).alias("rollup_rows"),
                    F.sum("cost_usd").alias("cost_usd"),
                    F.sum(F.when(F.col("cost_usd").isNull(), F.col("usage_rows"))).alias(
                        "unpriced"
                    ),
                )
                .collect()
            )
            if per_day:
                _write_by_day(priced, join_path(out, "rollup"))
                _write_by_day(_unpriced_by_day(priced), join_path(out, "unpriced"))
            report.usage_rows = sum(int(r["usage_rows"]) for r in per_day)
            report.rollup_rows = sum(int(r["rollup_rows"]) for r in per_day)
            report.cost_usd = sum((r["cost_usd"] or Decimal(0) for r in per_day), Decimal(0))
            report.unpriced_rows = sum(int(r["unpriced"] or 0) for r in per_day)
            written = sorted(r["day"] for r in per_day)
            # a day rewritten without unpriced usage must not keep an old unpriced listing
            _remove_partitions(
                spark,
                join_path(out, "unpriced"),
                "day",
                [f"{r['day']:%Y-%m-%d}" for r in per_day if not r["unpriced"]],
            )
            priced.unpersist()
        finally:
            rollup.unpersist()
        # a day that lost all its usage (files removed) must not keep its old output
        emptied = [d for d in covered if d not in set(written)]
        report.days_removed = sorted({*emptied, *_partition_days(gone)} - set(written))
    elif gone:
        report.days_removed = _partition_days(gone)
    for folder in ("rollup", "unpriced"):
        _remove_partitions(
            spark, join_path(out, folder), "day", [f"{d:%Y-%m-%d}" for d in report.days_removed]
        )
    report.days_written = written

    # 2. catalog, teams or contracts changed: reprice the stored rollup, rewrite touched days
    previous_pricing = {k: state.get(k) for k in pricing_inputs}
    has_rollup = _exists(spark, join_path(out, "rollup"))
    if state and not rebuild and has_rollup and previous_pricing != pricing_inputs:
        report.reasons.append("the catalog, teams or contracts changed")
        stored = spark.read.parquet(join_path(out, "rollup"))
        if written:
            stored = stored.where(~F.col("day").isin(written))
        stored = stored.cache()
        stored.select(*ROLLUP_COLUMNS).createOrReplaceTempView("daily_usage")
        fresh = _priced(spark, allocation).cache()
        touched = _changed_days(fresh, stored)
        if touched:
            again = fresh.where(F.col("day").isin(touched))
            _write_by_day(again, join_path(out, "rollup"))
            _write_by_day(_unpriced_by_day(again), join_path(out, "unpriced"))
            with_unpriced = {
                r["day"]
                for r in again.where(F.col("cost_usd").isNull()).select("day").distinct().collect()
            }
            _remove_partitions(
                spark,
                join_path(out, "unpriced"),
                "day",
                [f"{d:%Y-%m-%d}" for d in touched if d not in with_unpriced],
            )
        fresh.unpersist()
        stored.unpersist()
        report.days_repriced = touched

    # 3. spend by day and team for every month a written, repriced or removed day is in
    months = sorted({f"{d:%Y-%m}" for d in (*written, *report.days_repriced, *report.days_removed)})
    report.months_spend = months
    if months and _exists(spark, join_path(out, "rollup")):
        spend = _spend_months(spark, out, months, allocation)
        if spend.take(1):
            spend.repartition("month").write.mode("overwrite").partitionBy("month").parquet(
                join_path(out, "spend")
            )
        present = {r["month"] for r in spend.select("month").distinct().collect()}
        _remove_partitions(
            spark, join_path(out, "spend"), "month", [m for m in months if m not in present]
        )

    # 4. the catalog revision used, and the state the next run compares with
    _write_catalog(spark, out, catalog)
    partitions_state = dict(known)
    for p in changed if source.format == "parquet" else []:
        partitions_state[p.value] = p.fingerprint
    for value in gone:
        partitions_state.pop(value, None)
    _write_state(
        spark,
        out,
        {
            "format": LAKE_FORMAT,
            "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "inputs": inputs,
            "thresholds": catalog.thresholds,
            **pricing_inputs,
            "catalog_source": str(catalog.directory),
            "partitions": dict(sorted(partitions_state.items())),
        },
    )
    report.seconds = time.perf_counter() - started
    return report
