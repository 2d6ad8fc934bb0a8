"""Any CSV, read through a YAML column mapping (`finops ingest FILE --mapping map.yaml`).

A mapping names, for each canonical column, the source column it comes from or a constant::

    columns:                      # canonical column: source column
      period_start: Date
      model: Model Name
      input_tokens: Prompt Tokens
      cache_read_tokens: Cached Tokens
      output_tokens: Completion Tokens
      reported_cost_usd: Cost
    constants:                    # canonical column: the same value on every row
      provider: openai
    input_includes_cache: true    # Prompt Tokens counts cached tokens too: subtract them
    timestamp_format: "%m/%d/%Y"  # when dates are not ISO 8601 (Python strptime codes)
    delimiter: ";"                # default ","
    tags: rest                    # rest (default): unmapped columns go to tags; none; or a list

The canonical columns are those of the import format (`finops.core.schema.IMPORT_COLUMNS`);
period_start, provider and model are required. Mapping formats are never auto-detected.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from finops.core.schema import IMPORT_COLUMNS, REQUIRED_IMPORT_COLUMNS
from finops.core.yamltext import yaml_problem
from finops.ingest._core import IngestError, Sniff, SourceFormat, formats, register_format
from finops.ingest._records import Rows, count, open_text, tags_json

__all__ = ["ColumnMapping", "load_mapping", "mapping_format", "register_mapping"]

_CANONICAL = {c.name for c in IMPORT_COLUMNS}
_KEYS = {
    "columns",
    "constants",
    "input_includes_cache",
    "timestamp_format",
    "delimiter",
    "tags",
    "name",
}
_CACHE_COLUMNS = ("cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens")


@dataclass(frozen=True)
class ColumnMapping:
    """A validated column mapping; `digest` identifies its content."""

    name: str
    columns: dict[str, str]
    constants: dict[str, str]
    input_includes_cache: bool = False
    timestamp_format: str | None = None
    delimiter: str = ","
    tags: str | tuple[str, ...] = "rest"
    digest: str = ""


def load_mapping(path: str | Path) -> ColumnMapping:
    """Read and check a YAML column mapping; problems name the mapping file and key."""
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        spec = yaml.safe_load(text)
    except OSError as exc:
        raise IngestError(file, f"cannot read the mapping: {exc}") from None
    except yaml.YAMLError as exc:
        raise IngestError(file, yaml_problem(exc)) from None
    if not isinstance(spec, dict):
        raise IngestError(file, "a mapping is a YAML object with a 'columns' section")
    unknown = set(spec) - _KEYS
    if unknown:
        key = min(unknown)
        raise IngestError(
            file, f"unknown key {key!r}; known keys: {', '.join(sorted(_KEYS))}", field=key
        )
    columns = _section(file, spec, "columns")
    constants = _section(file, spec, "constants")
    for name in (*columns, *constants):
        if name not in _CANONICAL:
            msg = f"{name!r} is not a canonical column; use one of {', '.join(sorted(_CANONICAL))}"
            raise IngestError(file, msg, field=name)
    both = set(columns) & set(constants)
    if both:
        key = min(both)
        raise IngestError(file, f"{key!r} is both a column and a constant", field=key)
    for name in REQUIRED_IMPORT_COLUMNS:
        if name not in columns and name not in constants:
            msg = f"{name} is required: name its source column, or give it under constants"
            raise IngestError(file, msg, field=name)
    tags = spec.get("tags", "rest")
    if isinstance(tags, list) and all(isinstance(t, str) for t in tags):
        tags = tuple(tags)
    elif tags not in ("rest", "none"):
        raise IngestError(file, "tags is 'rest', 'none' or a list of column names", field="tags")
    delimiter = spec.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise IngestError(file, "delimiter is one character", field="delimiter")
    includes = spec.get("input_includes_cache", False)
    if not isinstance(includes, bool):
        raise IngestError(
            file, "input_includes_cache is true or false", field="input_includes_cache"
        )
    timestamp_format = spec.get("timestamp_format")
    if timestamp_format is not None and not isinstance(timestamp_format, str):
        raise IngestError(file, "timestamp_format is a strptime pattern", field="timestamp_format")
    return ColumnMapping(
        name=str(spec.get("name") or path.stem),
        columns=columns,
        constants=constants,
        input_includes_cache=includes,
        timestamp_format=timestamp_format,
        delimiter=delimiter,
        tags=tags,
        digest=hashlib.sha256(text.encode()).hexdigest()[:12],
    )


def _section(file: str, spec: dict, key: str) -> dict[str, str]:
    section = spec.get(key) or {}
    if not isinstance(section, dict) or not all(
        isinstance(k, str) and isinstance(v, str | int | float | bool) for k, v in section.items()
    ):
        raise IngestError(file, f"{key} maps canonical column names to text", field=key)
    return {k.strip(): str(v) for k, v in section.items()}


def _stage_with(
    mapping: ColumnMapping, con: duckdb.DuckDBPyConnection, path: Path, table: str
) -> int:
    file = str(path)
    rows = Rows()
    with open_text(path) as fh:
        reader = csv.reader(fh, delimiter=mapping.delimiter)
        try:
            header = [h.strip() for h in next(reader, [])]
        except csv.Error as exc:
            raise IngestError(file, f"unreadable CSV header: {exc}") from None
        for canonical, source in mapping.columns.items():
            if source not in header:
                msg = f"the mapping takes {canonical} from column {source!r}, which the file lacks"
                raise IngestError(file, msg, field=source)
        mapped = set(mapping.columns.values())
        tag_columns = (
            [h for h in header if h not in mapped]
            if mapping.tags == "rest"
            else []
            if mapping.tags == "none"
            else list(mapping.tags)
        )
        number = 0
        while True:
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise IngestError(file, f"unreadable CSV: {exc}", row=number + 1) from None
            if not values or values == [""]:
                continue
            number += 1
            if len(values) > len(header):
                msg = f"has {len(values)} values but the header has {len(header)} columns"
                raise IngestError(file, msg, row=number)
            record = dict(zip(header, values, strict=False))
            rows.add(number, **_canonical(mapping, file, record, number, tag_columns))
    return rows.stage(con, table)


def _canonical(
    mapping: ColumnMapping, file: str, record: dict[str, str], row: int, tag_columns: list[str]
) -> dict[str, object]:
    values: dict[str, object] = dict(mapping.constants)
    for canonical, source in mapping.columns.items():
        values[canonical] = record.get(source)
    if mapping.timestamp_format:
        for name in ("period_start", "period_end"):
            source = mapping.columns.get(name)
            if source and record.get(source):
                try:
                    stamp = dt.datetime.strptime(record[source].strip(), mapping.timestamp_format)
                except ValueError:
                    msg = (
                        f"{record[source][:40]!r} does not match timestamp_format "
                        f"{mapping.timestamp_format!r}"
                    )
                    raise IngestError(file, msg, row=row, field=source) from None
                values[name] = stamp.isoformat()
    if mapping.input_includes_cache and values.get("input_tokens") not in (None, ""):

        def n(name: str) -> int:
            source = mapping.columns.get(name, name)
            return count(file, values.get(name), row=row, field=source) or 0

        uncached = n("input_tokens") - sum(n(c) for c in _CACHE_COLUMNS)
        if uncached < 0:
            msg = "cache tokens add up to more than the input tokens that include them"
            raise IngestError(file, msg, row=row, field=mapping.columns["input_tokens"])
        values["input_tokens"] = uncached
    if "tags" not in values:  # a mapped JSON tags column wins over collected ones
        values["tags"] = tags_json({c: record.get(c) for c in tag_columns})
    return values


def mapping_format(mapping: ColumnMapping) -> SourceFormat:
    """A source format that reads CSV files through `mapping` (never auto-detected)."""

    def detect(sniff: Sniff) -> bool:
        return False

    def stage(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> int:
        return _stage_with(mapping, con, path, table)

    return SourceFormat(
        name=f"mapping:{mapping.name}:{mapping.digest}",
        description=f"CSV read through the column mapping {mapping.name!r}",
        detect=detect,
        stage=stage,
    )


def register_mapping(path: str | Path) -> SourceFormat:
    """Load a mapping and register it, so `ingest_files(..., format_name=fmt.name)` uses it.

    Registering the same mapping again returns the format already registered.
    """
    fmt = mapping_format(load_mapping(path))
    for existing in formats():
        if existing.name == fmt.name:
            return existing
    return register_format(fmt)
