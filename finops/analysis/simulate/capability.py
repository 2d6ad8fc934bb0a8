"""Capability checks: context window, modalities, deprecation, long-context bands of a target."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from finops.analysis.simulate.query import model_label, over_scope_sql, query_rows
from finops.analysis.simulate.result import Finding
from finops.pricing.catalog import CatalogModel
from finops.session.session import Session

#: A target retiring within this many days of today is flagged (warn); retired ones block.
DEPRECATION_WARNING_DAYS = 180


# --- capability checks -------------------------------------------------------------------------


def capability_profiles(
    session: Session,
    params: dict[str, Any],
    checks: list[tuple[int, CatalogModel, Decimal, Decimal]],
) -> dict[int, dict[str, Any]]:
    """Per check (move, target, input ratio, output ratio), by position: what the target takes."""
    check_params = {
        "check_id": list(range(len(checks))),
        "check_move": [c[0] for c in checks],
        "check_provider": [c[1].provider for c in checks],
        "check_model": [c[1].id for c in checks],
        "check_window": [c[1].context_window for c in checks],
        "check_input_ratio": [c[2] for c in checks],
        "check_output_ratio": [c[3] for c in checks],
    }
    rows = query_rows(
        session,
        over_scope_sql(
            "scenario_capability", grain="row", allocated=session.allocation is not None
        ),
        params | check_params,
    )
    return {row["check_id"]: row for row in rows}


EMPTY_PROFILE: dict[str, Any] = {
    "request_rows": 0,
    "requests_over_window": 0,
    "largest_request_tokens": None,
    "bucket_rows": 0,
    "bucket_rows_without_requests": 0,
    "buckets_over_window": 0,
    "buckets_near_window": 0,
    "largest_bucket_average_tokens": None,
    "long_context_bucket_rows": 0,
    "requests_changing_band": 0,
    "input_audio_tokens": 0,
    "output_audio_tokens": 0,
    "input_image_tokens": 0,
    "output_image_tokens": 0,
}


def capability_findings(
    move: int,
    target: CatalogModel,
    expected: Mapping[str, Any],
    pessimistic: Mapping[str, Any],
    thresholds: list[int],
    today: dt.date,
) -> list[Finding]:
    """Findings for moving one move's rows to `target` (expected and pessimistic token ratios)."""
    label = model_label(target)
    out: list[Finding] = []

    def add(check: str, severity: str, message: str) -> None:
        out.append(Finding(check, severity, message, move, label))

    window = target.context_window
    rows = expected["request_rows"] + expected["bucket_rows"]
    if window is None and rows:
        add(
            "context_window",
            "warn",
            f"the catalog lists no context window for {label}: not checked",
        )
    elif rows:
        if expected["requests_over_window"]:
            add(
                "context_window",
                "block",
                f"{expected['requests_over_window']:,} of {expected['request_rows']:,} requests in "
                f"scope would not fit {label}'s {window:,}-token context window (largest "
                f"{expected['largest_request_tokens']:,} tokens with the expected token ratios)",
            )
        elif pessimistic["requests_over_window"]:
            add(
                "context_window",
                "warn",
                f"{pessimistic['requests_over_window']:,} requests would not fit {label}'s "
                f"{window:,}-token context window at the high token ratios",
            )
        if expected["buckets_over_window"]:
            add(
                "context_window",
                "block",
                f"{expected['buckets_over_window']:,} usage buckets average more tokens per request "
                f"(up to {expected['largest_bucket_average_tokens']:,}) than {label}'s {window:,}-"
                "token context window: their requests are likely exceeded",
            )
        near = (
            pessimistic["buckets_near_window"]
            + pessimistic["buckets_over_window"]
            - expected["buckets_over_window"]
        )
        if near > 0:
            add(
                "context_window",
                "warn",
                f"{near:,} usage buckets average over half of {label}'s {window:,}-token context "
                "window per request: their larger requests likely exceed it",
            )
        smallest = min(thresholds) if thresholds else None
        if expected["long_context_bucket_rows"] and smallest and window <= smallest:
            add(
                "context_window",
                "block",
                f"{expected['long_context_bucket_rows']:,} usage buckets were billed as long-context "
                f"(prompts over {smallest:,} tokens), more than {label}'s {window:,}-token window",
            )
        if expected["bucket_rows_without_requests"]:
            add(
                "context_window",
                "warn",
                f"{expected['bucket_rows_without_requests']:,} usage buckets give no request count: "
                f"their request sizes cannot be checked against {label}'s context window",
            )
    for direction, modality, column in (
        ("input", "audio", "input_audio_tokens"),
        ("input", "image", "input_image_tokens"),
        ("output", "audio", "output_audio_tokens"),
        ("output", "image", "output_image_tokens"),
    ):
        tokens = expected[column]
        if not tokens:
            continue
        listed = target.input_modalities if direction == "input" else target.output_modalities
        if not listed:
            add(
                "modality",
                "warn",
                f"scope has {tokens:,} {direction} {modality} tokens; the catalog lists no "
                f"{direction} modalities for {label}: not checked",
            )
        elif modality not in listed:
            add(
                "modality",
                "block",
                f"scope has {tokens:,} {direction} {modality} tokens; {label} takes "
                f"{'/'.join(listed)} {direction} only",
            )
    if target.deprecated_on is not None:
        days_left = (target.deprecated_on - today).days
        if days_left <= 0:
            add("deprecation", "block", f"{label} was retired on {target.deprecated_on}")
        elif days_left <= DEPRECATION_WARNING_DAYS:
            add(
                "deprecation",
                "warn",
                f"{label} retires on {target.deprecated_on}, in {days_left} days",
            )
    if pessimistic["requests_changing_band"]:
        add(
            "token_band",
            "warn",
            f"{pessimistic['requests_changing_band']:,} requests cross a long-context threshold "
            "once token ratios apply; they are priced at their source band",
        )
    return out
