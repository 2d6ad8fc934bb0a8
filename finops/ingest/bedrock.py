"""AWS Bedrock model invocation logs: JSON lines (often .gz), one record per request.

`input.inputTokenCount` excludes cache tokens, so the classes map one to one: cache reads from
`cacheReadInputTokenCount`, cache writes (5-minute, Bedrock's default TTL) from
`cacheWriteInputTokenCount`. A `modelId` that is an ARN is reduced to the model or
cross-region inference-profile id it names (`us.anthropic.claude-…`), which is how the catalog
prices it; application inference profiles and provisioned models name no model, so their
resource path is kept as the model (listed as unpriced) and the ARN goes to tags.
The account is the project; the caller's IAM identity is the user. Lines exported from
CloudWatch Logs with a leading timestamp are read too.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from finops.ingest._core import IngestError, Sniff, SourceFormat, register_format
from finops.ingest._records import (
    Rows,
    bedrock_model,
    count,
    head_matches,
    json_records,
    tags_json,
)

__all__ = ["BEDROCK"]

_CLOUDWATCH_PREFIX = re.compile(r"^\s*\d{4}-\d{2}-\d{2}T\S+\s+(?=\{)")


def _stage(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> int:
    file = str(path)
    rows = Rows()
    for row, record in json_records(path, line_prefix=_CLOUDWATCH_PREFIX):
        model_id = record.get("modelId")
        if not isinstance(model_id, str) or not model_id.strip():
            raise IngestError(file, "the record has no modelId", row=row, field="modelId")
        inputs = record.get("input") if isinstance(record.get("input"), dict) else {}
        outputs = record.get("output") if isinstance(record.get("output"), dict) else {}
        identity = record.get("identity") if isinstance(record.get("identity"), dict) else {}
        metadata = record.get("requestMetadata")
        tags: dict[str, object] = dict(metadata) if isinstance(metadata, dict) else {}
        model = bedrock_model(model_id.strip())
        tags.update(
            aws_region=record.get("region"),
            operation=record.get("operation"),
            error_code=record.get("errorCode"),
            inference_region=record.get("inferenceRegion"),
            model_arn=model_id if model_id.startswith("arn:") else None,
        )

        def n(part: dict, key: str, section: str, row: int = row) -> int | None:
            return count(file, part.get(key), row=row, field=f"{section}.{key}")

        rows.add(
            row,
            period_start=record.get("timestamp"),
            provider="aws-bedrock",
            model=model,
            requests=1,
            input_tokens=n(inputs, "inputTokenCount", "input"),
            cache_read_tokens=n(inputs, "cacheReadInputTokenCount", "input"),
            cache_write_5m_tokens=n(inputs, "cacheWriteInputTokenCount", "input"),
            output_tokens=n(outputs, "outputTokenCount", "output"),
            project_id=record.get("accountId"),
            user_id=identity.get("arn"),
            request_id=record.get("requestId"),
            tags=tags_json(tags),
            grain="request",
        )
    return rows.stage(con, table)


def _detect(sniff: Sniff) -> bool:
    return head_matches(sniff, r'"modelId"\s*:', r'"requestId"\s*:') and head_matches(
        sniff, r'("schemaType"\s*:\s*"ModelInvocationLog"|"inputTokenCount"\s*:)'
    )


BEDROCK = register_format(
    SourceFormat(
        name="bedrock-invocations",
        description="AWS Bedrock model invocation log (JSON lines)",
        detect=_detect,
        stage=_stage,
    )
)
