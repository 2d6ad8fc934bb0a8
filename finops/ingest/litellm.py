"""LiteLLM proxy SpendLogs (the `LiteLLM_SpendLogs` table as CSV, or `/spend/logs` as JSON).

One row per request. LiteLLM normalises every provider to the OpenAI convention:
`prompt_tokens` includes cache reads and writes, `completion_tokens` includes reasoning. The
split comes from `metadata.usage_object` (newer proxies) or `metadata.additional_usage_values`:

    cache_read   = cache_read_input_tokens, else prompt_tokens_details.cached_tokens
    cache_write  = cache_creation_token_details (5m / 1h), else cache_creation_input_tokens (5m)
    input_audio  = prompt_tokens_details.audio_tokens   (priced apart)
    input        = prompt_tokens − cache_read − cache_write − input_audio
    output       = completion_tokens − completion_tokens_details.audio_tokens

Rows without those details keep cached tokens inside `input` (LiteLLM did not record them).
`spend` is LiteLLM's own estimate: it goes to reported_cost_usd, to reconcile, not to trust.
A LiteLLM cache hit (`cache_hit` true) never reached the provider: zero tokens, zero requests,
with the cached response's counts in tags. Prompts, responses and IP addresses are never kept.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import duckdb

from finops.ingest._core import IngestError, Sniff, SourceFormat, register_format
from finops.ingest._records import (
    CsvColumns,
    Rows,
    amount,
    count,
    flag,
    head_matches,
    infer_provider,
    iter_csv_records,
    json_records,
    tags_json,
)
from finops.pricing.providers import normalise_provider

__all__ = ["LITELLM", "LITELLM_CSV"]

_NOT_KEPT = {"messages", "response", "proxy_server_request", "requester_ip_address", "metadata"}
_MAPPED = {
    "request_id",
    "api_key",
    "spend",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "starttime",
    "endtime",
    "completionstarttime",
    "model",
    "custom_llm_provider",
    "user",
    "team_id",
    "request_tags",
    "cache_hit",
    "cache_key",
}


def _json_field(file: str, value: object, *, row: int, field: str) -> object:
    """A JSON column: already parsed (JSON export) or JSON text (CSV export)."""
    if not isinstance(value, str):
        return value
    if not value.strip():
        return None
    try:
        return json.loads(value)
    except ValueError:
        raise IngestError(file, f"{field} is not valid JSON", row=row, field=field) from None


def _get(obj: object, *path: str) -> object:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _row(rows: Rows, file: str, record: Mapping[str, object], row: int) -> None:
    lowered = {k.lower(): v for k, v in record.items()}

    def field(name: str) -> object:
        value = lowered.get(name.lower())
        return None if value == "" else value

    def n(value: object, name: str) -> int | None:
        return count(file, value, row=row, field=name)

    metadata = _json_field(file, field("metadata"), row=row, field="metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    usage: dict[str, object] = {}
    for part in ("additional_usage_values", "usage_object"):
        details = _get(metadata, part)
        if isinstance(details, Mapping):
            usage.update(details)
    model = field("model")
    provider_name = field("custom_llm_provider")
    provider = (
        normalise_provider(str(provider_name))
        if provider_name
        else infer_provider(str(model or ""))
    )
    if provider is None:
        msg = (
            f"cannot tell the provider of model {model!r}: custom_llm_provider is empty; "
            "fill it in, or ingest with a column mapping that sets the provider"
        )
        raise IngestError(file, msg, row=row, field="custom_llm_provider")

    prompt = n(field("prompt_tokens"), "prompt_tokens")
    completion = n(field("completion_tokens"), "completion_tokens")
    cache_read = n(usage.get("cache_read_input_tokens"), "metadata.usage.cache_read_input_tokens")
    if cache_read is None:
        cache_read = n(
            _get(usage, "prompt_tokens_details", "cached_tokens"),
            "metadata.usage.prompt_tokens_details.cached_tokens",
        )
    write_1h = n(
        _get(usage, "cache_creation_token_details", "ephemeral_1h_input_tokens"),
        "metadata.usage.cache_creation_token_details.ephemeral_1h_input_tokens",
    )
    write_5m = n(
        _get(usage, "cache_creation_token_details", "ephemeral_5m_input_tokens"),
        "metadata.usage.cache_creation_token_details.ephemeral_5m_input_tokens",
    )
    if write_5m is None and write_1h is None:
        write_5m = n(
            usage.get("cache_creation_input_tokens"), "metadata.usage.cache_creation_input_tokens"
        )
    audio_in = n(
        _get(usage, "prompt_tokens_details", "audio_tokens"),
        "metadata.usage.prompt_tokens_details.audio_tokens",
    )
    audio_out = n(
        _get(usage, "completion_tokens_details", "audio_tokens"),
        "metadata.usage.completion_tokens_details.audio_tokens",
    )
    reasoning = n(
        _get(usage, "completion_tokens_details", "reasoning_tokens"),
        "metadata.usage.completion_tokens_details.reasoning_tokens",
    )
    input_tokens = None
    if prompt is not None:
        input_tokens = prompt - sum(v or 0 for v in (cache_read, write_5m, write_1h, audio_in))
        if input_tokens < 0:
            msg = f"cache and audio tokens in metadata add up to more than prompt_tokens ({prompt})"
            raise IngestError(file, msg, row=row, field="prompt_tokens")
    output_tokens = None
    if completion is not None:
        output_tokens = completion - (audio_out or 0)
        if output_tokens < 0:
            msg = f"audio tokens in metadata add up to more than completion_tokens ({completion})"
            raise IngestError(file, msg, row=row, field="completion_tokens")

    request_tags = _json_field(file, field("request_tags"), row=row, field="request_tags")
    tags: dict[str, object] = {}
    custom = _get(metadata, "spend_logs_metadata")
    if isinstance(custom, Mapping):
        tags.update(custom)
    tags.update(
        {
            k: v
            for k, v in record.items()
            if k.lower() not in _MAPPED and k.lower() not in _NOT_KEPT and v not in (None, "")
        }
    )
    tags.update(
        request_tags=request_tags or None,
        key_alias=_get(metadata, "user_api_key_alias"),
        team_alias=_get(metadata, "user_api_key_team_alias"),
        custom_llm_provider=provider_name,
    )
    counts: dict[str, object] = {
        "requests": 1,
        "input_tokens": input_tokens,
        "cache_read_tokens": cache_read,
        "cache_write_5m_tokens": write_5m,
        "cache_write_1h_tokens": write_1h,
        "output_tokens": output_tokens,
        "input_audio_tokens": audio_in,
        "output_audio_tokens": audio_out,
        "reasoning_tokens": reasoning,
    }
    if flag(file, _cache_hit(field("cache_hit")), row=row, field="cache_hit"):
        tags.update(litellm_cache_hit=True, prompt_tokens=prompt, completion_tokens=completion)
        counts = {k: 0 for k in counts if counts[k] is not None or k == "requests"}
    rows.add(
        row,
        period_start=field("startTime"),
        provider=provider,
        model=model,
        project_id=_get(metadata, "user_api_key_project_id"),
        api_key_id=field("api_key"),
        user_id=field("user") or _get(metadata, "user_api_key_user_id"),
        team=field("team_id") or _get(metadata, "user_api_key_team_id"),
        request_id=field("request_id"),
        reported_cost_usd=amount(file, field("spend"), row=row, field="spend"),
        tags=tags_json(tags),
        grain="request",
        **counts,
    )


def _cache_hit(value: object) -> object:
    """LiteLLM writes cache_hit as 'True', 'False', '' or 'None'."""
    return None if isinstance(value, str) and value.strip().lower() == "none" else value


def _stage_json(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> int:
    rows = Rows()
    for row, record in json_records(path):
        _row(rows, str(path), record, row)
    return rows.stage(con, table)


def _stage_csv(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> int:
    rows = Rows()
    _, records = iter_csv_records(path)
    for row, record in records:
        _row(rows, str(path), record, row)
    return rows.stage(con, table)


def _detect_json(sniff: Sniff) -> bool:
    return head_matches(sniff, r'"request_id"\s*:', r'"spend"\s*:', r'"(startTime|starttime)"\s*:')


def _detect_csv(sniff: Sniff) -> bool:
    return CsvColumns(sniff.csv_header or ()).has("request_id", "spend", "startTime", "model")


LITELLM = register_format(
    SourceFormat(
        name="litellm-spendlogs",
        description="LiteLLM proxy SpendLogs (JSON)",
        detect=_detect_json,
        stage=_stage_json,
    )
)
LITELLM_CSV = register_format(
    SourceFormat(
        name="litellm-spendlogs-csv",
        description="LiteLLM proxy SpendLogs (CSV)",
        detect=_detect_csv,
        stage=_stage_csv,
    )
)
