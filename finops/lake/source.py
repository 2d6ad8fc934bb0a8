"""Usage in the lake → canonical rows on Spark, validated, keyed and de-duplicated like ingest.

Input is a folder of Parquet files partitioned by the usage day (`day=2025-06-10/`) or month
(`month=2025-06/`) — any one partition column whose values are dates or months — or a Delta or
Iceberg table when the Spark session has them configured. Columns are the canonical import
columns (`finops.core.schema.IMPORT_COLUMNS`), or any columns read through a column mapping
(`finops.ingest.mapping`).

The rules are those of `finops ingest` (`finops/ingest/_core.py`), written once more in Spark's
column language because the ingest's SQL runs per file inside DuckDB:

- the same checks on every value, and the first bad one (by file path, then row) is reported
  as one line naming the file, the row (1-based) and the field;
- the same normalisation (provider lower-cased, text trimmed, service tiers mapped, a request
  row counts one request when the source gives none);
- the same natural keys: a request id (with the provider), else the row's period and every
  dimension; identical rows within one file are numbered apart, not merged;
- the same outcome for the same key in several files: the file later in path order wins,
  as `finops ingest FOLDER` merges files in path order.

Keys include the period start, so de-duplication never needs rows from another day: each day
is computed from its own partitions, which is what makes partition-by-partition reruns exact.
A row whose day lies outside its partition is refused (it would be missed by such reruns).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from finops.core.cells import FORMULA_PATTERN, NUMBER_PATTERN
from finops.core.schema import (
    COUNT_COLUMNS,
    DIMENSION_COLUMNS,
    IMPORT_COLUMNS,
    REQUIRED_IMPORT_COLUMNS,
    SERVICE_TIERS,
    TEXT_COLUMNS,
)
from finops.ingest import IngestError
from finops.lake.spark import hadoop_fs

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

    from finops.ingest.mapping import ColumnMapping

__all__ = ["INPUT_FORMATS", "LakeInput", "Partition", "canonical_usage", "list_partitions"]

INPUT_FORMATS = ("parquet", "delta", "iceberg")

_CANONICAL = {c.name for c in IMPORT_COLUMNS}
_PARTITION = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(\d{4}-\d{2}(?:-\d{2})?)$")
# Python strptime codes → Spark datetime pattern letters (what mappings use)
_STRPTIME = {
    "%Y": "yyyy",
    "%y": "yy",
    "%m": "MM",
    "%d": "dd",
    "%H": "HH",
    "%I": "hh",
    "%p": "a",
    "%M": "mm",
    "%S": "ss",
    "%f": "SSSSSS",
    "%b": "MMM",
    "%B": "MMMM",
    "%z": "xx",
    "%%": "%",
}


@dataclass(frozen=True)
class Partition:
    """One input partition: its value (a day or a month), folder, and a fingerprint of its files."""

    column: str
    value: str  # YYYY-MM-DD or YYYY-MM
    path: str
    fingerprint: str

    @property
    def first_day(self) -> dt.date:
        return dt.date.fromisoformat(self.value if len(self.value) == 10 else f"{self.value}-01")

    @property
    def end_day(self) -> dt.date:
        """The day after the partition's last day."""
        if len(self.value) == 10:
            return self.first_day + dt.timedelta(days=1)
        return (self.first_day + dt.timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class LakeInput:
    """Where usage is read from: a path (or table name), its format, and an optional mapping."""

    location: str
    format: str = "parquet"
    mapping: ColumnMapping | None = None


def list_partitions(spark: SparkSession, location: str) -> list[Partition]:
    """The partitions of a Parquet folder (local path or URL), each with a file fingerprint.

    The fingerprint (names, sizes and modification times of the partition's data files)
    changes when a file is added, replaced or removed: that is how a rerun finds what changed.
    """
    import hashlib

    fs, root = hadoop_fs(spark, location)
    if not fs.exists(root):
        msg = "no such folder"
        raise IngestError(location, msg)
    partitions, columns = [], set()
    for status in fs.listStatus(root):
        name = status.getPath().getName()
        if not status.isDirectory() or name.startswith(("_", ".")):
            continue
        found = _PARTITION.match(name)
        if not found:
            msg = (
                f"folder {name!r} is not a partition; lay usage out as day=YYYY-MM-DD/ or "
                "month=YYYY-MM/ folders of Parquet files"
            )
            raise IngestError(location, msg)
        columns.add(found.group(1))
        files = _walk(fs, status)
        digest = hashlib.sha256("\n".join(sorted(files)).encode()).hexdigest()[:16]
        partitions.append(Partition(found.group(1), found.group(2), str(status.getPath()), digest))
    if len(columns) > 1:
        msg = f"partitioned by several columns ({', '.join(sorted(columns))}); use one"
        raise IngestError(location, msg)
    if not partitions:
        raise IngestError(location, "no day=YYYY-MM-DD/ or month=YYYY-MM/ partitions found")
    return sorted(partitions, key=lambda p: p.value)


def _walk(fs, status) -> list[str]:
    """name|size|mtime of every data file under a partition folder."""
    out = []
    iterator = fs.listFiles(status.getPath(), True)
    while iterator.hasNext():
        f = iterator.next()
        name = f.getPath().getName()
        if name.startswith(("_", ".")):
            continue
        out.append(f"{f.getPath()}|{f.getLen()}|{f.getModificationTime()}")
    return out


def _read(spark: SparkSession, source: LakeInput, partitions: list[Partition] | None) -> DataFrame:
    from pyspark.sql import functions as F

    reader = spark.read
    if source.format == "parquet":
        paths = [p.path for p in partitions] if partitions is not None else [source.location]
        frame = reader.option("basePath", source.location).parquet(*paths)
    elif source.format == "delta":
        frame = reader.format("delta").load(source.location)
    elif source.format == "iceberg":
        frame = reader.format("iceberg").load(source.location)
    else:
        msg = f"unknown input format {source.format!r}; use {', '.join(INPUT_FORMATS)}"
        raise ValueError(msg)
    columns = [F.col("*")]
    if source.format == "iceberg":
        # Iceberg's Spark tables have no `_metadata` column; they name a row's data file and
        # its 0-based place in it `_file` and `_pos` (Iceberg's SparkMetadataColumns), read in
        # the same select as the table's own columns
        file, position = F.col("_file"), F.col("_pos")
        columns = [F.col(f"`{c}`") for c in frame.columns if c not in ("_file", "_pos")]
    else:  # Parquet files, and Delta tables (Spark's file metadata column)
        file, position = F.col("_metadata.file_path"), F.col("_metadata.row_index")
    return frame.select(*columns, file.alias("_source_file"), (position + 1).alias("_source_row"))


def _spark_pattern(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        code = pattern[i : i + 2]
        if pattern[i] == "%":
            if code not in _STRPTIME:
                msg = f"timestamp_format code {code!r} is not supported on Spark"
                raise ValueError(msg)
            out.append(_STRPTIME[code])
            i += 2
        else:
            char = pattern[i]
            out.append(f"'{char}'" if char.isalpha() else char)
            i += 1
    return "".join(out)


def _json_text(value: Column) -> Column:
    """A value as a JSON string literal, escaped as Python's json.dumps(ensure_ascii=False) does."""
    from pyspark.sql import functions as F

    return F.regexp_extract(F.to_json(F.array(value.cast("string"))), r"^\[(.*)\]$", 1)


def _mapped(frame: DataFrame, mapping: ColumnMapping, location: str, keep: list[str]) -> DataFrame:
    """Canonical columns through a mapping: sources renamed, constants, cache split, tags.

    Tags are written as `finops.ingest._records.tags_json` writes them (sorted keys, values as
    text, Python's separators), so the same usage gets the same key text on both engines.
    """
    import json

    from pyspark.sql import functions as F

    present = set(frame.columns)
    for canonical, source in mapping.columns.items():
        if source not in present:
            msg = f"the mapping takes {canonical} from column {source!r}, which the data lacks"
            raise IngestError(location, msg, field=source)
    values: dict[str, Column] = {c: F.lit(v) for c, v in mapping.constants.items()}
    values |= {c: F.col(f"`{s}`").cast("string") for c, s in mapping.columns.items()}
    if mapping.timestamp_format:
        pattern = _spark_pattern(mapping.timestamp_format)
        for name in ("period_start", "period_end"):
            if name in mapping.columns:
                parsed = F.try_to_timestamp(values[name], F.lit(pattern))
                values[name] = F.when(
                    parsed.isNotNull(), F.date_format(parsed, "yyyy-MM-dd HH:mm:ss.SSSSSS")
                ).otherwise(values[name])
    if mapping.input_includes_cache and "input_tokens" in values:
        total = values["input_tokens"].cast("decimal(38,6)")
        for c in ("cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens"):
            if c in values:
                total = total - F.coalesce(values[c].cast("decimal(38,6)"), F.lit(0))
        values["input_tokens"] = total.cast("string")
    if "tags" not in values:
        mapped = set(mapping.columns.values()) | set(keep) | {"_source_file", "_source_row"}
        if mapping.tags == "rest":
            tag_columns = sorted(c for c in frame.columns if c not in mapped)
        elif mapping.tags == "none":
            tag_columns = []
        else:
            tag_columns = sorted(mapping.tags)
        pairs = [
            F.when(
                F.col(f"`{c}`").isNotNull() & (F.col(f"`{c}`").cast("string") != ""),
                F.concat(
                    F.lit(json.dumps(c, ensure_ascii=False) + ": "), _json_text(F.col(f"`{c}`"))
                ),
            )
            for c in tag_columns
        ]
        body = F.concat_ws(", ", *pairs) if pairs else F.lit("")
        values["tags"] = F.when(body != "", F.concat(F.lit("{"), body, F.lit("}")))
    return frame.select(
        *[v.alias(k) for k, v in values.items()], "_source_file", "_source_row", *keep
    )


# the partition column a Delta or Iceberg table of usage may have beside the canonical ones,
# as a Parquet lake has `day=` or `month=` folders: kept out of the usage, checked against
# period_start
TABLE_PARTITION_COLUMNS = ("day", "month", "date")


def _table_partition(frame: DataFrame, source: LakeInput) -> list[str]:
    """A table's (Delta, Iceberg) day or month partition column, when it has one."""
    if source.format == "parquet" or source.mapping is not None:
        return []
    found = [c for c in frame.columns if c.lower() in TABLE_PARTITION_COLUMNS]
    return found[:1]


def _checked_columns(frame: DataFrame, location: str, keep: list[str]) -> list[str]:
    """The canonical columns present; unknown ones are refused, as canonical ingest does."""
    columns = [c for c in frame.columns if c not in ("_source_file", "_source_row", *keep)]
    lowered = [c.lower() for c in columns]
    missing = [c for c in REQUIRED_IMPORT_COLUMNS if c not in lowered]
    if missing:
        msg = f"missing required column(s) {', '.join(missing)}"
        raise IngestError(location, msg, field=missing[0])
    unknown = [c for c in columns if c.lower() not in _CANONICAL]
    if unknown:
        msg = (
            f"unknown column {unknown[0]!r}: the canonical format has "
            f"{', '.join(sorted(_CANONICAL))}. Rename or drop it, or read it through --mapping"
        )
        raise IngestError(location, msg, field=unknown[0])
    return columns


def _text(frame_columns: set[str], name: str) -> Column:
    from pyspark.sql import functions as F

    if name not in frame_columns:
        return F.lit(None).cast("string")
    return F.col(name).cast("string")


def _checks(cols: set[str], partition_column: str | None) -> list[tuple[str, Column, str]]:
    """(field, bad-row condition, message) — the ingest's checks, in Spark's column language."""
    from pyspark.sql import functions as F

    def t(name: str) -> Column:
        return _text(cols, name)

    def blank(c: Column) -> Column:
        return F.coalesce(F.trim(c), F.lit("")) == ""

    checks: list[tuple[str, Column, str]] = []
    for name in (*TEXT_COLUMNS, "service_tier"):
        if name in cols:
            checks.append(
                (
                    name,
                    # ingest's rule (finops.ingest._prepare): the export guard's patterns
                    # on the value as stored, trimmed; a lone "-" is a placeholder
                    F.coalesce(
                        F.trim(t(name)).rlike(FORMULA_PATTERN)
                        & ~F.trim(t(name)).rlike(NUMBER_PATTERN)
                        & (F.length(F.trim(t(name))) > 1),
                        F.lit(False),
                    ),
                    (
                        "{!r} looks like a spreadsheet formula; remove the leading =, +, - or @ "
                        "(formula injection is refused)"
                    ),
                )
            )
    for name in ("period_start", "provider", "model"):
        checks.append((name, blank(t(name)), "required value is empty"))
    for name in ("period_start", "period_end"):
        if name in cols:
            checks.append(
                (
                    name,
                    ~blank(t(name)) & F.try_to_timestamp(F.trim(t(name))).isNull(),
                    (
                        "{!r} is not a timestamp; write ISO 8601 such as 2025-06-10T14:00:00Z "
                        "(no offset means UTC)"
                    ),
                )
            )
    for name in COUNT_COLUMNS:
        if name in cols:
            value = F.trim(t(name)).try_cast("decimal(38,6)")
            checks.append(
                (
                    name,
                    ~blank(t(name))
                    & (value.isNull() | (value != F.floor(value)) | (value < 0) | (value > 9e15)),
                    "{!r} is not a count; token and request counts are whole numbers ≥ 0",
                )
            )
    if "reported_cost_usd" in cols:
        checks.append(
            (
                "reported_cost_usd",
                ~blank(t("reported_cost_usd"))
                & F.trim(t("reported_cost_usd")).try_cast("decimal(38,12)").isNull(),
                "{!r} is not an amount in USD (write 12.34)",
            )
        )
    if "service_tier" in cols:
        allowed = [*SERVICE_TIERS, "default", "auto", "scale"]
        checks.append(
            (
                "service_tier",
                ~blank(t("service_tier")) & ~F.lower(F.trim(t("service_tier"))).isin(allowed),
                "{!r} is not a service tier; use one of " + ", ".join(SERVICE_TIERS),
            )
        )
    if "long_context" in cols:
        checks.append(
            (
                "long_context",
                ~blank(t("long_context")) & F.trim(t("long_context")).try_cast("boolean").isNull(),
                "{!r} is not true or false",
            )
        )
    if "tags" in cols:
        checks.append(
            (
                "tags",
                ~blank(t("tags")) & F.json_object_keys(t("tags")).isNull(),
                '{!r} is not a JSON object (write {{"env": "prod"}})',
            )
        )
    start = F.try_to_timestamp(F.trim(t("period_start")))
    if "period_end" in cols:
        checks.append(
            (
                "period_end",
                F.coalesce(F.try_to_timestamp(F.trim(t("period_end"))) < start, F.lit(False)),
                "period_end is before period_start",
            )
        )
    if partition_column is not None:
        part = F.col(partition_column).cast("string")
        day = F.date_format(start, "yyyy-MM-dd")
        checks.append(
            (
                "period_start",
                start.isNotNull() & (F.substring(day, 1, F.length(part)) != part),
                "{!r} is outside its partition "
                + partition_column
                + "=…; partition usage by the day (or month) of period_start",
            )
        )
    return checks


def _validate(frame: DataFrame, cols: set[str], partition_column: str | None) -> None:
    """One scan for every check; the first bad value (file, then row) is raised as one line."""
    from pyspark.sql import functions as F

    checks = _checks(cols, partition_column)
    where = F.struct(F.col("_source_file"), F.col("_source_row"))
    firsts = frame.select(
        *[F.min(F.when(cond, where)).alias(f"c{i}") for i, (_, cond, _) in enumerate(checks)]
    ).first()
    failing = [(firsts[i], i) for i in range(len(checks)) if firsts[i] is not None]
    if not failing:
        return
    (file, row), i = min(failing, key=lambda f: (f[0][0], f[0][1], f[1]))
    name, _cond, message = checks[i]
    value = (
        frame.where((F.col("_source_file") == file) & (F.col("_source_row") == row))
        .select(_text(cols, name))
        .first()[0]
    )
    raise IngestError(_local(file), message.format((value or "")[:40]), row=row, field=name)


def _local(path: str) -> str:
    return path.removeprefix("file://").removeprefix("file:")


def _typed(frame: DataFrame, cols: set[str]) -> DataFrame:
    """Typed, normalised canonical rows: the same casts and defaults as the ingest's."""
    from pyspark.sql import functions as F

    def t(name: str) -> Column:
        return _text(cols, name)

    def nonblank(name: str) -> Column:
        value = F.trim(t(name))
        return F.when(value != "", value)

    def count(name: str) -> Column:
        return nonblank(name).cast("decimal(38,6)").cast("bigint")

    def stamp(name: str) -> Column:
        return F.try_to_timestamp(F.trim(t(name))).cast("timestamp_ntz")

    tier = F.lower(F.trim(F.coalesce(t("service_tier"), F.lit(""))))
    period_end = stamp("period_end")
    return frame.select(
        stamp("period_start").alias("period_start"),
        period_end.alias("period_end"),
        F.lower(F.trim(t("provider"))).alias("provider"),
        F.trim(t("model")).alias("model"),
        F.coalesce(count("requests"), F.when(period_end.isNull(), F.lit(1).cast("bigint"))).alias(
            "requests"
        ),
        *[count(n).alias(n) for n in COUNT_COLUMNS if n != "requests"],
        F.when(tier.isin("", "default", "auto"), "standard")
        .when(tier == "scale", "priority")
        .otherwise(tier)
        .alias("service_tier"),
        nonblank("long_context").cast("boolean").alias("long_context"),
        *[nonblank(n).alias(n) for n in TEXT_COLUMNS if n not in ("provider", "model")],
        nonblank("tags").alias("tags"),
        nonblank("reported_cost_usd").cast("decimal(38,12)").alias("reported_cost_usd"),
        F.when(period_end.isNull(), "request").otherwise("bucket").alias("grain"),
        F.lit("lake").alias("source_kind"),
        F.col("_source_file").alias("source_file"),
        F.col("_source_row").cast("bigint").alias("source_row"),
    )


def _deduplicated(rows: DataFrame) -> DataFrame:
    """One row per natural key: numbered apart within a file, the later file wins across files."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    dims = [F.coalesce(F.col(d).cast("string"), F.lit("\\N")) for d in DIMENSION_COLUMNS]
    basis = F.when(
        F.col("request_id").isNotNull(),
        F.concat_ws("|", F.lit("request"), F.col("provider"), F.col("request_id")),
    ).otherwise(
        F.concat_ws(
            "|",
            F.lit("dims"),
            F.col("period_start").cast("string"),
            F.coalesce(F.col("period_end").cast("string"), F.lit("\\N")),
            *dims,
        )
    )
    keyed = rows.withColumn("_day", F.to_date("period_start")).withColumn("_basis", basis)
    within_file = Window.partitionBy("_day", "_basis", "source_file").orderBy("source_row")
    numbered = keyed.withColumn("_n", F.row_number().over(within_file))
    latest = Window.partitionBy("_day", "_basis", "_n").orderBy(F.col("source_file").desc())
    return (
        numbered.withColumn("_pick", F.row_number().over(latest))
        .where(F.col("_pick") == 1)
        .drop("_day", "_basis", "_n", "_pick")
    )


def canonical_usage(
    spark: SparkSession,
    source: LakeInput,
    *,
    partitions: list[Partition] | None = None,
    days: tuple[dt.date, dt.date] | None = None,
) -> DataFrame:
    """The usage rows of the given partitions (all when None): checked, typed, de-duplicated.

    `days` ([first, end)) keeps only rows of those days (Delta and Iceberg tables, which are
    read whole and filtered on period_start). Raises `IngestError` on the first bad value.
    """
    from pyspark.sql import functions as F

    frame = _read(spark, source, partitions)
    keep = [partitions[0].column] if partitions else _table_partition(frame, source)
    if source.mapping is not None:
        frame = _mapped(frame, source.mapping, source.location, keep)
        cols = set(frame.columns) - {"_source_file", "_source_row", *keep}
    else:
        cols = {c.lower() for c in _checked_columns(frame, source.location, keep)}
        frame = frame.select(
            *[F.col(f"`{c}`").alias(c.lower()) for c in frame.columns if c not in keep]
            + [F.col(k) for k in keep]
        )
    _validate(frame, cols, keep[0] if keep else None)
    rows = _typed(frame, cols)
    if days is not None:
        rows = rows.where(
            (F.col("period_start") >= F.lit(days[0]).cast("timestamp_ntz"))
            & (F.col("period_start") < F.lit(days[1]).cast("timestamp_ntz"))
        )
    return _deduplicated(rows)
