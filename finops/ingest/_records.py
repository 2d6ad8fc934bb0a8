"""Shared machinery for provider formats: read JSON and CSV records, check values, stage rows.

Provider formats parse a file record by record in Python (so a problem names the source file,
record and source field), collect canonical rows in a :class:`Rows` buffer, and stage it as the
DuckDB temp table the ingest core validates and merges.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import TextIO

import duckdb

from finops.core.schema import IMPORT_COLUMNS
from finops.ingest._core import IngestError, Sniff, read_head
from finops.ingest._files import plain_file
from finops.pricing.providers import normalise_provider

__all__ = [
    "CsvColumns",
    "Rows",
    "amount",
    "bedrock_model",
    "count",
    "flag",
    "flatten",
    "head_matches",
    "infer_provider",
    "iter_csv_records",
    "iter_json_documents",
    "json_records",
    "natural_key",
    "open_text",
    "report_results",
    "scaled_count",
    "tags_json",
    "token_class",
    "unit_multiplier",
    "unix_nanos_iso",
    "unix_seconds_iso",
]

_STAGE_COLUMNS: tuple[str, ...] = (*(c.name for c in IMPORT_COLUMNS), "grain", "natural_key")
_TABLE_VIEW = "_finops_staged_rows"


def _text(value: object) -> str | None:
    """A staged cell: text exactly as the source meant it (the core casts and validates)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


class Rows:
    """Canonical rows collected, then staged as one DuckDB temp table.

    Rows arrive as the values a format found; every `_BATCH` of them is turned into columns
    of text at once (a comprehension per column, not a call per cell of every row).
    `skipped` counts source records that are deliberately not usage (e.g. non-token lines of a
    cloud bill); `stage` returns it so the core can report it once it reads a return value.
    """

    _BATCH = 50_000
    _NAMES = frozenset(_STAGE_COLUMNS)

    def __init__(self) -> None:
        self._columns: dict[str, list[str | None]] = {name: [] for name in _STAGE_COLUMNS}
        self._pending: list[dict[str, object]] = []
        self._source_rows: list[int] = []
        self.skipped = 0

    def __len__(self) -> int:
        return len(self._source_rows)

    def add(self, source_row: int, **values: object) -> None:
        if not values.keys() <= self._NAMES:
            unknown = sorted(set(values) - self._NAMES)
            msg = f"internal: not a staged column: {', '.join(unknown)}"
            raise RuntimeError(msg)
        self._pending.append(values)
        self._source_rows.append(source_row)
        if len(self._pending) >= self._BATCH:
            self._flush()

    def _flush(self) -> None:
        pending = self._pending
        for name, cells in self._columns.items():
            cells.extend(
                v if v is None or type(v) is str else _text(v)
                for v in (row.get(name) for row in pending)
            )
        self._pending = []

    def stage(self, con: duckdb.DuckDBPyConnection, table: str) -> int:
        import pyarrow as pa  # only when a file is staged: a slow import for every CLI start

        self._flush()
        arrays = {name: pa.array(cells, pa.string()) for name, cells in self._columns.items()}
        arrays["source_row"] = pa.array(self._source_rows, pa.int64())
        con.register(_TABLE_VIEW, pa.table(arrays))
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {_TABLE_VIEW}")
        finally:
            con.unregister(_TABLE_VIEW)
        return self.skipped


# --- reading -----------------------------------------------------------------------------------


@contextmanager
def open_text(path: Path) -> Iterator[TextIO]:
    """The file as text (UTF-8, BOM dropped), through a .gz or single-member .zip wrapper."""
    if path.name.lower().endswith(".zip"):
        read_head(path, 1)  # a bad archive, or one with several files, is an IngestError
    with plain_file(path) as local:
        if local.name.lower().endswith(".gz"):
            with gzip.open(local, "rt", encoding="utf-8-sig", newline="") as fh:
                yield fh
        else:
            with open(local, encoding="utf-8-sig", newline="") as fh:
                yield fh


def iter_json_documents(
    path: Path, *, line_prefix: re.Pattern[str] | None = None
) -> Iterator[tuple[int, object]]:
    """JSON documents with the line each starts on: one whole document, or JSON lines.

    A file whose first line is a complete JSON value is read as JSON lines (streamed, so large
    logs need little memory); otherwise the whole file must be one JSON document. `line_prefix`
    strips a prefix such as the timestamp CloudWatch puts before each JSON line.
    """
    file = str(path)
    with open_text(path) as fh:
        first_line_no, first = 0, ""
        for first_line_no, first in enumerate(fh, start=1):
            if first.strip():
                break
        else:
            return
        head = _strip_prefix(first, line_prefix)
        try:
            doc = json.loads(head)
        except ValueError:
            doc = None
            whole = True
        else:
            whole = False
        if whole:
            text = first + fh.read()
            try:
                doc = json.loads(text)
            except json.JSONDecodeError as exc:
                line = exc.lineno + first_line_no - 1
                msg = f"malformed JSON at line {line}, column {exc.colno}: {exc.msg}"
                raise IngestError(file, msg, row=line) from None
            yield first_line_no, doc
            return
        yield first_line_no, doc
        for line_no, line in enumerate(fh, start=first_line_no + 1):
            if not line.strip():
                continue
            try:
                yield line_no, json.loads(_strip_prefix(line, line_prefix))
            except json.JSONDecodeError as exc:
                msg = (
                    f"line {line_no} is not valid JSON ({exc.msg}, column {exc.colno}); "
                    "each line of a JSON-lines file must be one complete JSON object"
                )
                raise IngestError(file, msg, row=line_no) from None


def report_results(
    path: Path,
    *,
    page_shape: str,
    bucket_bounds: Callable[[str, dict, int, str], tuple[object, object]],
) -> Iterator[tuple[int, object, object, dict, str]]:
    """(record number, bucket start, bucket end, result, JSON path) of every result of a
    bucketed admin-API report: pages `{"data": [{..., "results": [...]}]}` (OpenAI, Anthropic).

    `page_shape` names the expected page in the error for a file that is not one;
    `bucket_bounds(file, bucket, line, where)` reads a bucket's start and end.
    """
    file = str(path)
    number = 0
    for line_no, doc in iter_json_documents(path):
        pages = doc if isinstance(doc, list) else [doc]
        for page in pages:
            if not isinstance(page, dict) or not isinstance(page.get("data"), list):
                msg = f"expected {page_shape}; save the API response as it came"
                raise IngestError(file, msg, row=line_no, field="data")
            for b, bucket in enumerate(page["data"]):
                where = f"data[{b}]"
                if not isinstance(bucket, dict) or not isinstance(bucket.get("results"), list):
                    raise IngestError(
                        file, "a bucket without a results list", row=line_no, field=where
                    )
                start, end = bucket_bounds(file, bucket, line_no, where)
                for r, result in enumerate(bucket["results"]):
                    number += 1
                    if not isinstance(result, dict):
                        raise IngestError(
                            file,
                            "a result that is not an object",
                            row=number,
                            field=f"{where}.results[{r}]",
                        )
                    yield number, start, end, result, f"{where}.results[{r}]."


def _strip_prefix(line: str, prefix: re.Pattern[str] | None) -> str:
    if prefix is not None:
        match = prefix.match(line)
        if match:
            return line[match.end() :]
    return line


def json_records(
    path: Path,
    *,
    list_keys: tuple[str, ...] = ("data",),
    line_prefix: re.Pattern[str] | None = None,
) -> Iterator[tuple[int, Mapping[str, object]]]:
    """Objects of a JSON export: an array, an API page `{data: [...]}`, or JSON lines.

    Yields (record number, object); for JSON lines the record number is the line number.
    """
    file = str(path)
    number = 0
    for line_no, doc in iter_json_documents(path, line_prefix=line_prefix):
        items: Iterable[object]
        jsonl = False
        if isinstance(doc, list):
            items = doc
        elif isinstance(doc, dict) and any(isinstance(doc.get(k), list) for k in list_keys):
            key = next(k for k in list_keys if isinstance(doc.get(k), list))
            items = doc[key]
        elif isinstance(doc, dict):
            items, jsonl = [doc], True
        else:
            raise IngestError(file, "expected a JSON object or array of objects", row=line_no)
        for item in items:
            number += 1
            row = line_no if jsonl else number
            if not isinstance(item, dict):
                msg = f"record {number} is a JSON {type(item).__name__}, expected an object"
                raise IngestError(file, msg, row=row)
            yield row, item


def flatten(obj: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    """Nested objects as dotted keys: {"sku": {"id": 1}} → {"sku.id": 1}."""
    out: dict[str, object] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


class CsvColumns:
    """Case-insensitive access to a CSV header's columns (exports differ in case and spacing)."""

    def __init__(self, header: Iterable[str]) -> None:
        self.names = list(header)
        self._by_key: dict[str, str] = {}
        for name in self.names:
            self._by_key.setdefault(_column_key(name), name)

    def find(self, *candidates: str) -> str | None:
        """The header's name for the first candidate it has."""
        for candidate in candidates:
            name = self._by_key.get(_column_key(candidate))
            if name is not None:
                return name
        return None

    def has(self, *candidates: str) -> bool:
        return all(self.find(c) is not None for c in candidates)

    def get(self, record: Mapping[str, object], *candidates: str) -> object | None:
        """The first non-empty value among the candidates."""
        for candidate in candidates:
            name = self.find(candidate)
            if name is not None:
                value = record.get(name)
                if value is not None and value != "":
                    return value
        return None


def _column_key(name: str) -> str:
    return re.sub(r"[\s_.\-]", "", name).lower()


def iter_csv_records(
    path: Path, *, null_values: frozenset[str] = frozenset()
) -> tuple[CsvColumns, Iterator[tuple[int, dict[str, str | None]]]]:
    """The header and the data rows (1-based, header excluded) of a CSV file."""
    file = str(path)
    with open_text(path) as fh:
        try:
            header = [h.strip() for h in next(csv.reader(fh), [])]
        except csv.Error as exc:
            raise IngestError(file, f"unreadable CSV header: {exc}") from None

    def rows() -> Iterator[tuple[int, dict[str, str | None]]]:
        with open_text(path) as fh:
            reader = csv.reader(fh)
            next(reader, None)
            number = 0
            while True:
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise IngestError(file, f"unreadable CSV: {exc}", row=number + 1) from None
                if not values or values == [""]:
                    continue
                number += 1
                if len(values) > len(header):
                    msg = (
                        f"has {len(values)} values but the header has {len(header)} columns; "
                        "quote values that contain commas"
                    )
                    raise IngestError(file, msg, row=number)
                yield (
                    number,
                    {
                        name: None if value in null_values else value
                        for name, value in zip(header, values, strict=False)
                    },
                )

    return CsvColumns(header), rows()


def head_matches(sniff: Sniff, *patterns: str) -> bool:
    """True when every regex occurs in the first bytes (JSON too long to parse in a peek)."""
    return all(re.search(p, sniff.head) for p in patterns)


# --- values ------------------------------------------------------------------------------------


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def count(file: str, value: object, *, row: int, field: str) -> int | None:
    """A token or request count: a whole number ≥ 0 (written 3, "3" or "3.0"); None if absent."""
    if value is None or value == "":
        return None
    number = _decimal(value)
    if number is None or number != number.to_integral_value() or number < 0:
        msg = f"{_short(value)} is not a count; token and request counts are whole numbers ≥ 0"
        raise IngestError(file, msg, row=row, field=field)
    return int(number)


def amount(file: str, value: object, *, row: int, field: str) -> Decimal | None:
    """A money amount or quantity as an exact decimal; None if absent."""
    if value is None or value == "":
        return None
    number = _decimal(value)
    if number is None:
        raise IngestError(file, f"{_short(value)} is not a number", row=row, field=field)
    return number


def scaled_count(
    file: str, quantity: object, multiplier: Decimal, *, row: int, field: str
) -> int | None:
    """A billed quantity in units of `multiplier` tokens, as whole tokens (rounded half-even:
    billing exports round quantities, so 1.2345 K tokens can stand for 1234.5)."""
    number = amount(file, quantity, row=row, field=field)
    if number is None:
        return None
    tokens = (number * multiplier).to_integral_value(rounding=ROUND_HALF_EVEN)
    return int(tokens)


_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n", ""}


def flag(file: str, value: object, *, row: int, field: str) -> bool | None:
    """A boolean written as true/false, 1/0, yes/no; None if absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text == "1.0":
        return True
    if text in _FALSE or text == "0.0":
        return False if text else None
    raise IngestError(file, f"{_short(value)} is not true or false", row=row, field=field)


def unix_seconds_iso(file: str, value: object, *, row: int, field: str) -> str | None:
    """Unix seconds as an ISO 8601 UTC timestamp."""
    seconds = amount(file, value, row=row, field=field)
    if seconds is None:
        return None
    try:
        stamp = dt.datetime.fromtimestamp(float(seconds), tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        msg = f"{_short(value)} is not a Unix time in seconds"
        raise IngestError(file, msg, row=row, field=field) from None
    return stamp.isoformat()


def unix_nanos_iso(file: str, value: object, *, row: int, field: str) -> str | None:
    """Unix nanoseconds (OTLP writes them as strings) as an ISO 8601 UTC timestamp."""
    nanos = count(file, value, row=row, field=field)
    if nanos is None:
        return None
    try:
        stamp = dt.datetime.fromtimestamp(nanos // 1_000_000_000, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        msg = f"{_short(value)} is not a Unix time in nanoseconds"
        raise IngestError(file, msg, row=row, field=field) from None
    return (stamp + dt.timedelta(microseconds=(nanos % 1_000_000_000) // 1000)).isoformat()


def tags_json(tags: Mapping[str, object]) -> str | None:
    """Tags as a canonical JSON object (sorted keys, absent values dropped); None when empty."""
    kept = {str(k): _jsonable(v) for k, v in tags.items() if v is not None and v != "" and v != {}}
    if not kept:
        return None
    return json.dumps(kept, sort_keys=True, ensure_ascii=False, default=str)


def _jsonable(value: object) -> object:
    """JSON has no NaN or Infinity: such numbers are kept as text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def natural_key(*parts: object) -> str:
    """A stable key for the same usage across re-exports: its bucket and dimensions.

    An empty value and an absent one are the same (CSV exports write "" where JSON has null).
    """
    return "|".join("\\N" if p is None or p == "" else str(p) for p in parts)


# --- providers, models, token classes ----------------------------------------------------------


_BEDROCK_MODEL = re.compile(
    r"^((us|eu|apac|au|jp|ca|global|us-gov)\.)?"
    r"(anthropic|amazon|meta|mistral|cohere|ai21|deepseek|openai|qwen|writer|twelvelabs|"
    r"stability|luma|google|minimax|moonshot|moonshotai|nvidia)\.[a-z0-9]"
)
_MODEL_PROVIDERS = (
    (re.compile(r"^(claude|anthropic)"), "anthropic"),
    (
        re.compile(
            r"^(gpt-|o\d(-|$)|chatgpt|text-embedding-(3|ada)|davinci|babbage|whisper|tts-|dall-e|"
            r"omni-moderation|text-moderation|codex|computer-use)"
        ),
        "openai",
    ),
    (re.compile(r"^(gemini|imagen|veo-|text-embedding-00|gemma)"), "google"),
    (re.compile(r"^(mistral|mixtral|codestral|pixtral|ministral|magistral)"), "mistral"),
    (re.compile(r"^grok"), "xai"),
    (re.compile(r"^deepseek"), "deepseek"),
)


def infer_provider(model: str | None) -> str | None:
    """The provider a model name implies ('anthropic/claude-…', 'us.anthropic.…', 'gpt-4o')."""
    if not model:
        return None
    name = model.strip().lower()
    if "/" in name and not name.startswith("arn:"):
        return normalise_provider(name.split("/", 1)[0])
    if name.startswith("arn:aws:bedrock") or _BEDROCK_MODEL.match(name):
        return "aws-bedrock"
    for pattern, provider in _MODEL_PROVIDERS:
        if pattern.match(name):
            return provider
    return None


_CLASS_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"\b(cache|cached|caching)\b.*\b(write|writes|creation|create)\b.*\b1 ?h"),
        "cache_write_1h",
    ),
    (re.compile(r"\b1 ?h(our)?\b.*\bcache\b.*\b(write|writes|creation)\b"), "cache_write_1h"),
    (
        re.compile(r"\b(cache|cached|caching)\b.*\b(write|writes|creation|create)\b"),
        "cache_write_5m",
    ),
    (re.compile(r"\b(write|creation)\b.*\bcache\b"), "cache_write_5m"),
    (re.compile(r"\b(cached|cache|caching|cache ?read|cache ?hit)\b"), "cache_read"),
    (re.compile(r"\baudio\b.*\b(outp|output|outputs|completion|response)\b"), "output_audio"),
    (re.compile(r"\b(outp|output|completion|response)\b.*\baudio\b"), "output_audio"),
    (re.compile(r"\baudio\b"), "input_audio"),
    (re.compile(r"\bimage\b.*\b(outp|output|generation|generated)\b"), "output_image"),
    (re.compile(r"\b(outp|output|generation|generated)\b.*\bimage\b"), "output_image"),
    (re.compile(r"\b(outp|output|outputs|completion|response|thinking|reasoning)\b"), "output"),
    (re.compile(r"\bimage\b"), "input_image"),
    (re.compile(r"\b(inp|input|inputs|prompt)\b"), "input"),
)


def token_class(text: str | None) -> str | None:
    """The token class a billing label names ('cached Inp', 'Output Text', 'cache-write-1h')."""
    if not text:
        return None
    words = re.sub(r"[-_/,:()]+", " ", text.lower())
    words = re.sub(r"(?<=[a-z])(?=\d+ ?h\b)", " ", words)
    words = re.sub(r"\b((no|non|without) ?cach(e|ed|ing)|uncached)\b", " ", words)  # plain input
    for pattern, cls in _CLASS_RULES:
        if pattern.search(words):
            return cls
    return None


_UNIT = re.compile(r"^\s*(?P<n>\d+(?:\.\d+)?)?\s*(?P<scale>k|m|thousand|million)?\b", re.IGNORECASE)
_SCALES = {"k": 1000, "thousand": 1000, "m": 1_000_000, "million": 1_000_000}


def unit_multiplier(unit: str | None) -> Decimal:
    """Tokens per billing unit: '1K' → 1000, '1000000 Tokens' → 1e6, 'Tokens' → 1."""
    if not unit:
        return Decimal(1)
    match = _UNIT.match(unit)
    number = Decimal(match.group("n")) if match and match.group("n") else Decimal(1)
    scale = (match.group("scale") or "").lower() if match else ""
    return number * _SCALES.get(scale, 1)


# Bedrock ARNs name a model through one of these resource kinds (AWS CUR and invocation logs)
_MODEL_RESOURCES = ("foundation-model", "inference-profile")


def bedrock_model(model_id: str) -> str:
    """The model a Bedrock modelId names.

    >>> bedrock_model("arn:aws:bedrock:us-east-1:1234:inference-profile/us.meta.llama3-3-70b-v1:0")
    'us.meta.llama3-3-70b-v1:0'
    >>> bedrock_model("anthropic.claude-3-haiku-20240307-v1:0")
    'anthropic.claude-3-haiku-20240307-v1:0'
    """
    if not model_id.startswith("arn:"):
        return model_id
    resource = model_id.split(":", 5)[-1]
    kind, _, ident = resource.partition("/")
    return ident if kind in _MODEL_RESOURCES and ident else resource
