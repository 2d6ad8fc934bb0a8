"""The bundled catalog's fixes from issue 14, pinned as exact Decimal rates on given dates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from finops.pricing.catalog import load_catalog

PRICING = Path(__file__).resolve().parent.parent / "pricing"
D = Decimal


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(PRICING)


def _rates(catalog, provider: str, name: str, day: str, tier: str = "standard", above: int = 0):
    """The rates `name` is billed at on `day` (None when no period is in force)."""
    model = catalog.find(provider, name)
    assert model is not None, f"{provider}/{name} does not resolve"
    when = dt.date.fromisoformat(day)
    live = [
        p
        for p in model.periods
        if p.valid_from <= when and (p.valid_to is None or p.valid_to > when)
    ]
    if not live:
        return None
    return max(live, key=lambda p: p.valid_from).rates.get((tier, above))


def test_vertex_claude_3_5_haiku_takes_the_2024_12_03_price_cut(catalog):
    before = _rates(catalog, "google-vertex", "vertex_ai/claude-3-5-haiku@20241022", "2024-12-02")
    after = _rates(catalog, "google-vertex", "vertex_ai/claude-3-5-haiku@20241022", "2024-12-03")
    assert before == {"input": D(1), "output": D(5)}
    assert after == {"input": D("0.8"), "cache_read": D("0.08"), "cache_write_5m": D(1),
                     "output": D(4)}  # fmt: skip


@pytest.mark.parametrize(
    ("in_region", "global_rate", "regional_rate"),
    [
        ("anthropic.claude-haiku-4-5-20251001-v1:0", D(1), D("1.1")),
        ("anthropic.claude-opus-4-5-20251101-v1:0", D(5), D("5.5")),
        ("anthropic.claude-opus-4-6-v1", D(5), D("5.5")),
        ("anthropic.claude-opus-4-7", D(5), D("5.5")),
        ("anthropic.claude-sonnet-4-5-20250929-v1:0", D(3), D("3.3")),
        ("anthropic.claude-sonnet-4-6", D(3), D("3.3")),
    ],
)
def test_bedrock_in_region_claude_ids_are_billed_at_the_regional_rate(
    catalog, in_region, global_rate, regional_rate
):
    day = "2026-12-07"
    for name in (in_region, f"bedrock/{in_region}", f"bedrock/converse/{in_region}"):
        assert _rates(catalog, "aws-bedrock", name, day)["input"] == regional_rate
    assert _rates(catalog, "aws-bedrock", f"us.{in_region}", day)["input"] == regional_rate
    assert _rates(catalog, "aws-bedrock", f"global.{in_region}", day)["input"] == global_rate


def test_gemini_2_5_flash_preview_thinking_aliases_bill_the_thinking_output_rate(catalog):
    day = "2025-06-01"
    for name in ("gemini-2.5-flash-preview:thinking", "gemini-2.5-flash-preview-05-20:thinking",
                 "gemini/gemini-2.5-flash-preview:thinking"):  # fmt: skip
        assert _rates(catalog, "google", name, day)["output"] == D("3.5")
    assert _rates(catalog, "google", "gemini/gemini-2.5-flash-preview", day)["output"] == D("0.6")


def test_magistral_medium_latest_keeps_its_price_before_the_move_to_medium_3_5(catalog):
    assert _rates(catalog, "mistral", "magistral-medium-latest", "2025-06-09") is None
    assert _rates(catalog, "mistral", "magistral-medium-latest", "2026-06-15") == {
        "input": D(2),
        "output": D(5),
    }
    assert _rates(catalog, "mistral", "mistral/magistral-medium-latest", "2026-06-16") == {
        "input": D("1.5"),
        "cache_read": D("0.15"),
        "output": D("7.5"),
    }


def test_azure_gpt_4o_mini_has_cached_input_and_batch_rates(catalog):
    day = "2025-01-15"
    assert _rates(catalog, "azure-openai", "azure/global/gpt-4o-mini", day) == {
        "input": D("0.15"),
        "cache_read": D("0.075"),
        "output": D("0.6"),
    }
    assert _rates(catalog, "azure-openai", "gpt-4o-mini", day, "batch") == {
        "input": D("0.075"),
        "cache_read": D("0.075"),
        "output": D("0.3"),
    }


@pytest.mark.parametrize(
    ("provider", "name", "rate"),
    [
        ("aws-bedrock", "global.anthropic.claude-sonnet-4-5-20250929-v1:0", D(12)),
        ("aws-bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", D("13.2")),
        ("aws-bedrock", "anthropic.claude-sonnet-4-5-20250929-v1:0", D("13.2")),
        ("aws-bedrock", "us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0", D("14.4")),
        ("google-vertex", "vertex_ai/claude-sonnet-4-5@20250929", D(12)),
    ],
)
def test_sonnet_4_5_one_hour_cache_write_above_200k_is_the_published_rate(
    catalog, provider, name, rate
):
    band = _rates(catalog, provider, name, "2025-10-15", above=200000)
    assert band["cache_write_1h"] == rate
    assert band["cache_write_1h"] == 2 * band["input"]


@pytest.mark.parametrize(
    ("provider", "name", "launch"),
    [
        ("xai", "grok-3", "2025-04-09"),
        ("xai", "grok-3-mini", "2025-04-09"),
        ("xai", "grok-4-fast-reasoning", "2025-09-19"),
        ("xai", "grok-4-fast-non-reasoning", "2025-09-19"),
        ("mistral", "mistral-large-2512", "2025-12-02"),
        ("mistral", "magistral-small", "2025-06-10"),
        ("perplexity", "sonar", "2025-01-21"),
        ("perplexity", "sonar-pro", "2025-01-21"),
    ],
)
def test_first_periods_start_at_launch(catalog, provider, name, launch):
    day = dt.date.fromisoformat(launch)
    assert _rates(catalog, provider, name, str(day - dt.timedelta(days=1))) is None
    assert _rates(catalog, provider, name, launch) is not None


def test_deepseek_v4_records_the_peak_rate_from_2026_08_17(catalog):
    assert _rates(catalog, "deepseek", "deepseek-v4-pro", "2026-04-23") is None
    assert _rates(catalog, "deepseek", "deepseek-v4-pro", "2026-08-16") == {
        "input": D("0.435"),
        "cache_read": D("0.003625"),
        "output": D("0.87"),
    }
    assert _rates(catalog, "deepseek", "deepseek/deepseek-v4-pro", "2026-08-17") == {
        "input": D("1.32"),
        "cache_read": D("0.044"),
        "output": D("3.96"),
    }
    # V4 Flash's peak rate between 2026-08-17 and the V4.1 switch is not sourced: unpriced
    assert _rates(catalog, "deepseek", "deepseek-v4-flash", "2026-08-20") is None
    assert _rates(catalog, "deepseek", "deepseek-v4-flash", "2026-09-10")["output"] == D("1.2")
    assert _rates(catalog, "deepseek", "deepseek-flash", "2026-12-07")["input"] == D("0.3")
