"""OpenTelemetry GenAI spans as OTLP JSON (a collector's file exporter, or an OTLP/HTTP body).

A span is a model request when it carries token usage (`gen_ai.usage.*`). The semantic
conventions count cached tokens inside `gen_ai.usage.input_tokens`, so

    input = input_tokens − cache_read.input_tokens − cache_creation.input_tokens.

Some instrumentations still send Anthropic's raw `input_tokens`, which excludes the cache; when
the cache counts exceed input_tokens that must be the case, and input_tokens is taken as
uncached (tagged `input_tokens_exclude_cache`). Deprecated names are read too
(`gen_ai.system`, `gen_ai.usage.prompt_tokens` / `completion_tokens`, the OpenLLMetry
`gen_ai.usage.cache_read_input_tokens`). OTLP JSON writes 64-bit ints as strings.

Frameworks also put usage on the agent or workflow span around the model calls: a usage span
with usage spans below it is skipped (counted), so tokens are not counted twice. Message
contents are never kept; tags hold a short allowlist of descriptive attributes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import duckdb

from finops.ingest._core import IngestError, Sniff, SourceFormat, register_format
from finops.ingest._records import (
    Rows,
    count,
    head_matches,
    infer_provider,
    iter_json_documents,
    natural_key,
    tags_json,
    unix_nanos_iso,
)
from finops.pricing.providers import normalise_provider

__all__ = ["OTEL"]

_INPUT = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
_OUTPUT = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
_CACHE_READ = ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens")
_CACHE_WRITE = (
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
)
_REASONING = ("gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens")
_USAGE = (*_INPUT, *_OUTPUT, *_CACHE_READ, *_CACHE_WRITE)
_TIER = (
    "openai.response.service_tier",
    "gen_ai.openai.response.service_tier",
    "openai.request.service_tier",
    "gen_ai.openai.request.service_tier",
)
_SPAN_TAGS = (
    "gen_ai.operation.name",
    "gen_ai.agent.name",
    "gen_ai.agent.id",
    "gen_ai.conversation.id",
    "gen_ai.output.type",
    "server.address",
    "error.type",
    "session.id",
)
_RESOURCE_TAGS = (
    "service.name",
    "service.namespace",
    "deployment.environment",
    "deployment.environment.name",
)


def _value(any_value: object) -> object:
    """An OTLP AnyValue as a Python value."""
    if not isinstance(any_value, Mapping):
        return None
    for key in ("stringValue", "intValue", "doubleValue", "boolValue"):
        if key in any_value:
            return any_value[key]
    if isinstance(any_value.get("arrayValue"), Mapping):
        values = any_value["arrayValue"].get("values")
        return [_value(v) for v in values] if isinstance(values, list) else None
    return None


def _attributes(obj: object) -> dict[str, object]:
    attrs = obj.get("attributes") if isinstance(obj, Mapping) else None
    if not isinstance(attrs, list):
        return {}
    return {
        a["key"]: _value(a.get("value"))
        for a in attrs
        if isinstance(a, Mapping) and isinstance(a.get("key"), str)
    }


def _first(attrs: Mapping[str, object], names: tuple[str, ...]) -> tuple[object, str]:
    for name in names:
        if attrs.get(name) not in (None, ""):
            return attrs[name], name
    return None, names[0]


def _spans(path: Path) -> Iterator[tuple[int, dict[str, object], Mapping[str, object]]]:
    """(span number, resource attributes, span) of every span in the file."""
    file = str(path)
    number = 0
    for line_no, doc in iter_json_documents(path):
        requests = doc if isinstance(doc, list) else [doc]
        for request in requests:
            resource_spans = request.get("resourceSpans") if isinstance(request, Mapping) else None
            if not isinstance(resource_spans, list):
                msg = 'expected OTLP JSON traces {"resourceSpans": [...]}'
                raise IngestError(file, msg, row=line_no, field="resourceSpans")
            for resource_span in resource_spans:
                if not isinstance(resource_span, Mapping):
                    continue
                resource = _attributes(resource_span.get("resource"))
                scopes = resource_span.get(
                    "scopeSpans", resource_span.get("instrumentationLibrarySpans")
                )
                for scope in scopes if isinstance(scopes, list) else []:
                    spans = scope.get("spans") if isinstance(scope, Mapping) else None
                    for span in spans if isinstance(spans, list) else []:
                        number += 1
                        if not isinstance(span, Mapping):
                            raise IngestError(file, "a span that is not an object", row=number)
                        yield number, resource, span


def _id(span: Mapping[str, object], key: str) -> str | None:
    value = span.get(key)
    return value if isinstance(value, str) and value else None


def _stage(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> int:
    file = str(path)
    spans = list(_spans(path))
    parents = {
        (_id(span, "traceId"), _id(span, "spanId")): _id(span, "parentSpanId")
        for _, _, span in spans
    }
    usage_spans = []
    covered: set[tuple[object, object]] = set()
    for number, resource, span in spans:
        attrs = _attributes(span)
        if not any(attrs.get(name) not in (None, "") for name in _USAGE):
            continue
        usage_spans.append((number, resource, span, attrs))
        trace, parent, seen = _id(span, "traceId"), _id(span, "parentSpanId"), 0
        while parent and seen < len(parents):  # walk up; `seen` guards against cycles
            covered.add((trace, parent))
            parent, seen = parents.get((trace, parent)), seen + 1
    rows = Rows()
    for number, resource, span, attrs in usage_spans:
        if (_id(span, "traceId"), _id(span, "spanId")) in covered:
            rows.skipped += 1
            continue
        _span_row(rows, file, number, resource, span, attrs)
    return rows.stage(con, table)


def _span_row(
    rows: Rows,
    file: str,
    number: int,
    resource: Mapping[str, object],
    span: Mapping[str, object],
    attrs: Mapping[str, object],
) -> None:
    def n(names: tuple[str, ...]) -> int | None:
        value, name = _first(attrs, names)
        return count(file, value, row=number, field=name)

    model, _ = _first(attrs, ("gen_ai.response.model", "gen_ai.request.model"))
    if model is None:
        msg = "a span with token usage but no gen_ai.request.model or gen_ai.response.model"
        raise IngestError(file, msg, row=number, field="gen_ai.request.model")
    system, system_field = _first(attrs, ("gen_ai.provider.name", "gen_ai.system"))
    provider = normalise_provider(str(system)) if system else infer_provider(str(model))
    if provider is None:
        msg = f"cannot tell the provider of model {model!r}: the span has no gen_ai.provider.name"
        raise IngestError(file, msg, row=number, field=system_field)
    total_in, output = n(_INPUT), n(_OUTPUT)
    cache_read, cache_write = n(_CACHE_READ), n(_CACHE_WRITE)
    tags = {name: attrs.get(name) for name in _SPAN_TAGS}
    tags.update({name: resource.get(name) for name in _RESOURCE_TAGS})
    tags.update(
        {
            "gen_ai.request.model": attrs.get("gen_ai.request.model")
            if attrs.get("gen_ai.request.model") != model
            else None,
            "trace_id": _id(span, "traceId"),
            "span_id": _id(span, "spanId"),
        }
    )
    input_tokens = total_in
    if total_in is not None and (cache_read or cache_write):
        uncached = total_in - (cache_read or 0) - (cache_write or 0)
        if uncached >= 0:
            input_tokens = uncached
        else:
            tags["input_tokens_exclude_cache"] = True
    tier, _ = _first(attrs, _TIER)
    rows.add(
        number,
        period_start=unix_nanos_iso(
            file, span.get("startTimeUnixNano"), row=number, field="startTimeUnixNano"
        ),
        provider=provider,
        model=model,
        requests=1,
        input_tokens=input_tokens,
        cache_read_tokens=cache_read,
        cache_write_5m_tokens=cache_write,
        output_tokens=output,
        reasoning_tokens=n(_REASONING),
        service_tier=tier,
        user_id=attrs.get("user.id") or attrs.get("enduser.id"),
        request_id=attrs.get("gen_ai.response.id"),
        tags=tags_json(tags),
        grain="request",
        natural_key=natural_key("otel", _id(span, "traceId"), _id(span, "spanId")),
    )


def _detect(sniff: Sniff) -> bool:
    return head_matches(sniff, r'"resourceSpans"\s*:')


OTEL = register_format(
    SourceFormat(
        name="otel-genai",
        description="OpenTelemetry GenAI spans (OTLP JSON)",
        detect=_detect,
        stage=_stage,
    )
)
