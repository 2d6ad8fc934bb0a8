"""Provider export formats: each fixture ingests to exact token totals per class, model and day,
re-ingests without changing a total, survives .gz/.zip wrappers, and bad input names file and row.

Fixtures in tests/fixtures/exports/ are built from each source's documented schema (see the
docstring of its format module).
"""

from __future__ import annotations

import gzip
import json
import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from finops.core.store import connect
from finops.ingest import IngestError, detect_format, ingest_files
from finops.ingest.azure import azure_meter
from finops.ingest.bedrock import bedrock_model
from finops.ingest.gcp import gcp_sku
from finops.ingest.langfuse import usage_class
from finops.ingest.mapping import load_mapping, register_mapping

EXPORTS = Path(__file__).parent / "fixtures" / "exports"
# the FinOps Foundation's FOCUS 1.0 sample (CC BY 4.0; see its README)
FOCUS_SAMPLE = Path(__file__).parent / "fixtures" / "focus-sample" / "focus_sample_1.0.csv"
COUNTS = (
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
)


def _ingest(tmp_path: Path, *paths: Path, format_name: str | None = None, db: str = "u.duckdb"):
    con = connect(tmp_path / db)
    report = ingest_files(con, list(paths), thresholds=[], format_name=format_name)
    return con, report


def _totals(con, table: str = "usage") -> dict[tuple[str, str, str], dict[str, object]]:
    """Sums per (day, provider, model); classes that sum to NULL or 0 are left out."""
    sums = ", ".join(f"sum({c})" for c in COUNTS)
    rows = con.execute(
        f"SELECT CAST(CAST(period_start AS DATE) AS VARCHAR), provider, model, {sums}, "
        f"sum(reported_cost_usd) FROM {table} GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    out = {}
    for day, provider, model, *values in rows:
        named = dict(zip((*COUNTS, "reported_cost_usd"), values, strict=True))
        out[(day, provider, model)] = {k: v for k, v in named.items() if v}
    return out


def _usd(text: str) -> Decimal:
    return Decimal(text)


def t(**classes: object) -> dict[str, object]:
    """Expected sums: t(requests=2, input=10, usd="0.5") names the usage columns briefly."""
    names = {
        "requests": "requests",
        "web_search_requests": "web_search_requests",
        "usd": "reported_cost_usd",
    }
    return {
        names.get(k, f"{k}_tokens"): Decimal(v) if k == "usd" else v for k, v in classes.items()
    }


# fixture, detected format, expected totals per (day, provider, model)
CASES = [
    (
        "openai_usage_completions.json",
        "openai-usage",
        {
            ("2025-06-01", "openai", "gpt-4o-2024-08-06"): t(
                requests=25, input=11000, cache_read=4000, output=3000
            ),
            ("2025-06-01", "openai", "gpt-4o-audio-preview"): t(
                requests=6,
                input=1800,
                cache_read=200,
                output=1000,
                input_audio=1000,
                output_audio=500,
            ),
            ("2025-06-02", "openai", "gpt-4o-2024-08-06"): t(
                requests=10, input=6000, cache_read=2000, output=1600
            ),
            ("2025-06-02", "openai", "o3-2025-04-16"): t(
                requests=4, input=8000, cache_read=3000, cache_write_5m=1000, output=5000
            ),
        },
    ),
    (
        "openai_usage_dashboard.csv",
        "openai-usage-csv",
        {
            ("2025-06-01", "openai", "gpt-4o-mini-2024-07-18"): t(
                requests=23, input=9000, cache_read=4000, output=2600
            ),
            ("2025-06-02", "openai", "gpt-4.1-2025-04-14"): t(
                requests=7, input=6000, cache_read=1000, output=700
            ),
        },
    ),
    (
        "anthropic_usage_report.json",
        "anthropic-usage",
        {
            ("2025-06-01", "anthropic", "claude-3-5-haiku-20241022"): t(input=100000, output=20000),
            ("2025-06-01", "anthropic", "claude-sonnet-4-20250514"): t(
                input=350000,
                cache_read=200000,
                cache_write_5m=10000,
                cache_write_1h=5000,
                output=10000,
                web_search_requests=12,
            ),
            ("2025-06-02", "anthropic", "claude-sonnet-4-20250514"): t(
                input=1000, cache_read=500, output=300
            ),
        },
    ),
    (
        "anthropic_console_usage.csv",
        "anthropic-usage-csv",
        {
            ("2025-06-01", "anthropic", "claude-sonnet-4-20250514"): t(
                input=1600,
                cache_read=5000,
                cache_write_5m=300,
                cache_write_1h=100,
                output=900,
                web_search_requests=2,
            ),
            ("2025-06-02", "anthropic", "claude-opus-4-1-20250805"): t(input=250000, output=1000),
        },
    ),
    (
        "anthropic_console_usage_legacy.csv",
        "anthropic-usage-csv",
        {
            ("2025-05-01", "anthropic", "claude-3-7-sonnet-20250219"): t(
                input=1000, cache_read=3000, cache_write_5m=700, output=400
            ),
            ("2025-05-02", "anthropic", "claude-3-7-sonnet-20250219"): t(
                input=2000, cache_read=1000, output=500
            ),
        },
    ),
    (
        "bedrock_invocations.jsonl",
        "bedrock-invocations",
        {
            ("2025-06-01", "aws-bedrock", "anthropic.claude-3-5-sonnet-20241022-v2:0"): t(
                requests=1, input=1000, cache_read=4000, cache_write_5m=500, output=200
            ),
            ("2025-06-01", "aws-bedrock", "us.anthropic.claude-3-7-sonnet-20250219-v1:0"): t(
                requests=1, input=3000, output=700
            ),
            ("2025-06-02", "aws-bedrock", "amazon.nova-pro-v1:0"): t(
                requests=1, input=500, output=50
            ),
        },
    ),
    (
        "litellm_spendlogs.csv",
        "litellm-spendlogs-csv",
        {
            ("2025-06-01", "anthropic", "claude-3-5-sonnet-20241022"): t(
                requests=1,
                input=100,
                cache_read=10000,
                cache_write_5m=1900,
                output=500,
                usd="0.0412",
            ),
            ("2025-06-01", "openai", "gpt-4o"): t(
                requests=1, input=500, cache_read=1000, output=300, usd="0.004"
            ),
            ("2025-06-02", "aws-bedrock", "anthropic.claude-3-haiku-20240307-v1:0"): t(
                requests=1, input=800, output=100, usd="0.000325"
            ),
            ("2025-06-02", "openai", "gpt-4o"): {},  # a LiteLLM cache hit: nothing billed
        },
    ),
    (
        "litellm_spendlogs.json",
        "litellm-spendlogs",
        {
            ("2025-06-03", "anthropic", "claude-sonnet-4-20250514"): t(
                requests=1,
                input=2000,
                cache_read=15000,
                cache_write_5m=2000,
                cache_write_1h=1000,
                output=1000,
                usd="0.02265",
            ),
            ("2025-06-03", "google-vertex", "gemini-2.5-pro"): t(
                requests=1, input=4000, output=1500, reasoning=1000, usd="0.02"
            ),
        },
    ),
    (
        "otel_genai_spans.json",
        "otel-genai",
        {
            ("2025-06-01", "anthropic", "claude-3-5-sonnet-20241022"): t(
                requests=1, input=1000, output=200
            ),
            ("2025-06-01", "openai", "gpt-4o-2024-08-06"): t(
                requests=1, input=500, cache_read=1500, output=500, reasoning=100
            ),
            ("2025-06-02", "anthropic", "claude-sonnet-4-20250514"): t(
                requests=1, input=120, cache_read=5000, output=50
            ),
        },
    ),
    (
        "langfuse_observations.json",
        "langfuse-observations",
        {
            ("2025-06-01", "anthropic", "claude-3-5-sonnet-20241022"): t(
                requests=1,
                input=200,
                cache_read=3000,
                cache_write_5m=800,
                output=150,
                usd="0.00534",
            ),
            ("2025-06-01", "openai", "gpt-4o-2024-08-06"): t(
                requests=1, input=500, cache_read=1500, output=500, reasoning=100, usd="0.006"
            ),
            ("2025-06-02", "google", "gemini-1.5-pro"): t(
                requests=1, input=1000, output=100, usd="0.00175"
            ),
        },
    ),
    (
        "focus_tokens_1_2.csv",
        "focus",
        {
            ("2025-06-01", "openai", "gpt-4o-2024-08-06"): t(
                input=600000, cache_read=200000, output=100000, usd="2.75"
            ),
            ("2025-06-02", "anthropic", "claude-sonnet-4-20250514"): t(
                cache_write_1h=50000, usd="0.30"
            ),
        },
    ),
    (
        "azure_ea.csv",
        "azure-cost",
        {
            ("2025-06-01", "azure-openai", "gpt-4o-1120"): t(
                input=1500000, cache_read=500000, output=200000, usd="6.375"
            ),
            ("2025-06-02", "azure-openai", "gpt-4o-mini-0718"): t(input=500000, usd="0.075"),
        },
    ),
    (
        "azure_mca.csv",
        "azure-cost",
        {
            ("2025-06-03", "azure-openai", "o3-mini-0131"): t(
                input=100000, output=20000, usd="0.198"
            ),
        },
    ),
    (
        "gcp_billing.jsonl",
        "gcp-billing",
        {
            ("2025-06-01", "google-vertex", "gemini-2.5-pro"): t(
                input=1300000, output=50000, usd="2.25"
            ),
            ("2025-06-02", "google", "gemini-2.0-flash"): t(cache_read=400000, usd="0.01"),
        },
    ),
    (
        "gcp_billing.csv",
        "gcp-billing-csv",
        {
            ("2025-06-04", "google-vertex", "gemini-2.5-flash"): t(
                input=1000000, output=100000, usd="0.45"
            ),
        },
    ),
]


def _expected(expected: dict) -> dict:
    return {k: {c: v for c, v in cls.items() if v} for k, cls in expected.items()}


@pytest.mark.parametrize(("fixture", "fmt", "expected"), CASES, ids=[c[0] for c in CASES])
def test_fixture_ingests_to_exact_totals_and_reingests_as_duplicates(
    tmp_path, fixture, fmt, expected
):
    # detection reads the content, not the name: the upload has no telling extension
    upload = tmp_path / "upload"
    shutil.copy(EXPORTS / fixture, upload)
    assert detect_format(upload).name == fmt

    con, first = _ingest(tmp_path, upload)
    assert first.rows_new == first.rows_read > 0
    assert _totals(con) == _expected(expected)

    again = ingest_files(con, [upload], thresholds=[])
    assert again.rows_duplicate == again.rows_read == first.rows_read
    assert again.rows_new == again.rows_replaced == 0
    assert _totals(con) == _expected(expected)


@pytest.mark.parametrize("wrapper", ["gz", "zip"])
@pytest.mark.parametrize(("fixture", "fmt", "expected"), CASES, ids=[c[0] for c in CASES])
def test_fixture_reads_through_gz_and_zip(tmp_path, wrapper, fixture, fmt, expected):
    source = EXPORTS / fixture
    if wrapper == "gz":
        wrapped = tmp_path / f"{fixture}.gz"
        wrapped.write_bytes(gzip.compress(source.read_bytes()))
    else:
        wrapped = tmp_path / f"{fixture}.zip"
        with zipfile.ZipFile(wrapped, "w") as zf:
            zf.write(source, arcname=fixture)
    assert detect_format(wrapped).name == fmt
    con, _ = _ingest(tmp_path, wrapped)
    assert _totals(con) == _expected(expected)


# --- cost data sets: stored apart, never added to usage ---------------------------------------

COST_CASES = [
    ("openai_costs.json", "openai-costs", "openai", "gpt-4o-2024-08-06", "0.0975"),
    ("openai_costs_dashboard.csv", "openai-costs-csv", "openai", "gpt-4o-2024-08-06", "0.0975"),
    (
        "anthropic_cost_report.json",
        "anthropic-costs",
        "anthropic",
        "claude-sonnet-4-20250514",
        "135.0025",
    ),
    (
        "anthropic_console_cost.csv",
        "anthropic-costs-csv",
        "anthropic",
        "claude-sonnet-4-20250514",
        "135.0025",
    ),
]


@pytest.mark.parametrize(("fixture", "fmt", "provider", "model", "dollars"), COST_CASES)
def test_cost_reports_go_to_reported_costs_in_dollars(
    tmp_path, fixture, fmt, provider, model, dollars
):
    path = EXPORTS / fixture
    assert detect_format(path).name == fmt
    con, report = _ingest(tmp_path, path)
    assert report.files[0].cost_only
    assert con.execute("SELECT count(*) FROM usage").fetchone() == (0,)
    assert _totals(con, "reported_costs") == {
        ("2025-06-01", provider, model): {"reported_cost_usd": _usd(dollars)}
    }
    classes = sorted(
        r[0] for r in con.execute("SELECT tags->>'token_class' FROM reported_costs").fetchall()
    )
    assert classes == ["input", "output"]
    again = ingest_files(con, [path], thresholds=[])
    assert again.rows_duplicate == again.rows_read == 2


# --- what each mapping decides -----------------------------------------------------------------


def test_openai_batch_and_service_tiers_and_unmapped_fields_in_tags(tmp_path):
    con, _ = _ingest(tmp_path, EXPORTS / "openai_usage_completions.json")
    tiers = con.execute(
        "SELECT source_row, service_tier, grain FROM usage ORDER BY source_row"
    ).fetchall()
    assert tiers == [
        (1, "standard", "bucket"),
        (2, "batch", "bucket"),
        (3, "standard", "bucket"),
        (4, "standard", "bucket"),
        (5, "flex", "bucket"),
    ]
    tags = con.execute("SELECT tags FROM usage WHERE source_row = 5").fetchone()[0]
    assert json.loads(tags)["input_cached_text_tokens"] == 3000
    end = con.execute("SELECT period_end FROM usage WHERE source_row = 1").fetchone()[0]
    assert str(end) == "2025-06-02 00:00:00"


def test_openai_overlapping_reexport_replaces_a_changed_bucket(tmp_path):
    path = tmp_path / "page.json"
    text = (EXPORTS / "openai_usage_completions.json").read_text()
    path.write_text(text)
    con, _ = _ingest(tmp_path, path)
    path.write_text(text.replace('"output_tokens": 1600', '"output_tokens": 1700'))
    report = ingest_files(con, [path], thresholds=[])
    assert (report.rows_new, report.rows_replaced, report.rows_duplicate) == (0, 1, 4)
    assert _totals(con)[("2025-06-02", "openai", "gpt-4o-2024-08-06")]["output_tokens"] == 1700


def test_openai_json_and_dashboard_csv_of_the_same_buckets_do_not_double(tmp_path):
    page = {
        "object": "page",
        "data": [
            {
                "object": "bucket",
                "start_time": 1748736000,
                "end_time": 1748822400,
                "results": [
                    {
                        "object": "organization.usage.completions.result",
                        "input_tokens": 10000,
                        "output_tokens": 2000,
                        "input_cached_tokens": 4000,
                        "input_audio_tokens": 0,
                        "output_audio_tokens": 0,
                        "num_model_requests": 20,
                        "project_id": "proj_a",
                        "model": "gpt-4o-mini-2024-07-18",
                        "batch": False,
                    }
                ],
            }
        ],
        "has_more": False,
    }
    json_path = tmp_path / "page.json"
    json_path.write_text(json.dumps(page))
    con, _ = _ingest(tmp_path, json_path)
    csv_path = tmp_path / "dashboard.csv"
    lines = (EXPORTS / "openai_usage_dashboard.csv").read_text().splitlines()
    csv_path.write_text("\n".join(lines[:2]) + "\n")
    report = ingest_files(con, [csv_path], thresholds=[])
    assert report.rows_duplicate == report.rows_read == 1
    assert _totals(con)[("2025-06-01", "openai", "gpt-4o-mini-2024-07-18")]["input_tokens"] == 6000


def test_anthropic_context_window_and_tiers(tmp_path):
    con, _ = _ingest(tmp_path, EXPORTS / "anthropic_usage_report.json")
    rows = con.execute(
        "SELECT source_row, long_context, service_tier, project_id, tags->>'service_tier' "
        "FROM usage ORDER BY source_row"
    ).fetchall()
    assert rows == [
        (1, False, "standard", "wrkspc_01", None),
        (2, True, "standard", "wrkspc_01", None),
        (3, False, "batch", None, None),
        (4, False, "priority", "wrkspc_01", "priority_on_demand"),
    ]


def test_anthropic_console_csv_days_are_buckets(tmp_path):
    con, _ = _ingest(tmp_path, EXPORTS / "anthropic_console_usage.csv")
    rows = con.execute(
        "SELECT CAST(period_start AS VARCHAR), CAST(period_end AS VARCHAR), service_tier, "
        "long_context, api_key_id, project_id FROM usage ORDER BY source_row"
    ).fetchall()
    assert rows[1] == (
        "2025-06-01 00:00:00",
        "2025-06-02 00:00:00",
        "batch",
        False,
        "prod-key",
        "Default",
    )
    assert rows[2][3] is True


def test_bedrock_arns_identity_and_absent_cache_is_null(tmp_path):
    con, _ = _ingest(tmp_path, EXPORTS / "bedrock_invocations.jsonl")
    rows = con.execute(
        "SELECT source_row, request_id, cache_read_tokens, project_id, user_id, "
        "tags->>'team', tags->>'model_arn' FROM usage ORDER BY source_row"
    ).fetchall()
    assert rows[0][:6] == (
        1,
        "3f2a6c1e-0001",
        4000,
        "123456789012",
        "arn:aws:sts::123456789012:assumed-role/search-svc/session",
        "search",
    )
    assert rows[1][2] is None  # not reported is NULL, never 0
    assert rows[1][6].endswith("inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0")
    assert rows[2][0] == 4  # source_row is the line number (line 3 is blank)


def test_bedrock_model_reduces_arns():
    assert bedrock_model(
        "arn:aws:bedrock:eu-west-1::foundation-model/mistral.mistral-large-2402-v1:0"
    ) == ("mistral.mistral-large-2402-v1:0")
    assert bedrock_model("arn:aws:bedrock:us-east-1:1:application-inference-profile/abc123") == (
        "application-inference-profile/abc123"
    )


def test_bedrock_reads_cloudwatch_export_lines(tmp_path):
    lines = [
        line for line in (EXPORTS / "bedrock_invocations.jsonl").read_text().splitlines() if line
    ]
    path = tmp_path / "cloudwatch.log"
    path.write_text("".join(f"2025-06-01T10:00:00.000Z {line}\n" for line in lines))
    assert detect_format(path).name == "bedrock-invocations"
    _con, report = _ingest(tmp_path, path)
    assert report.rows_read == 3


def test_litellm_cache_hit_keeps_counts_in_tags_and_drops_content(tmp_path):
    con, _ = _ingest(tmp_path, EXPORTS / "litellm_spendlogs.csv")
    hit = con.execute(
        "SELECT requests, input_tokens, output_tokens, tags FROM usage "
        "WHERE request_id = 'chatcmpl-a4'"
    ).fetchone()
    assert hit[:3] == (0, 0, 0)
    assert json.loads(hit[3])["litellm_cache_hit"] is True
    first = con.execute(
        "SELECT team, user_id, tags FROM usage WHERE request_id = 'chatcmpl-a1'"
    ).fetchone()
    assert first[:2] == ("team-1", "user-1")
    assert json.loads(first[2])["request_tags"] == ["prod"]
    con2, _ = _ingest(tmp_path, EXPORTS / "litellm_spendlogs.json", db="j.duckdb")
    tags = " ".join(r[0] for r in con2.execute("SELECT tags FROM usage").fetchall())
    assert "do not keep" not in tags and "10.0.0.1" not in tags
    assert '"job": "summaries"' in tags


def test_litellm_without_provider_is_refused_with_row(tmp_path):
    path = tmp_path / "spend.csv"
    text = (EXPORTS / "litellm_spendlogs.csv").read_text()
    path.write_text(
        text.replace("anthropic.claude-3-haiku-20240307-v1:0,haiku,bedrock", "my-model,m,")
    )
    with pytest.raises(IngestError) as err:
        _ingest(tmp_path, path)
    assert (err.value.row, err.value.field) == (3, "custom_llm_provider")
    assert str(path) in str(err.value)


def test_otel_skips_the_agent_span_around_model_calls(tmp_path):
    con, report = _ingest(tmp_path, EXPORTS / "otel_genai_spans.json")
    assert report.rows_read == 3
    rows = con.execute(
        "SELECT source_row, request_id, service_tier, tags->>'input_tokens_exclude_cache' "
        "FROM usage ORDER BY source_row"
    ).fetchall()
    assert rows == [
        (2, "chatcmpl-otel-1", "standard", None),
        (3, None, "standard", None),
        (5, None, "standard", "true"),
    ]
    tags = " ".join(r[0] for r in con.execute("SELECT tags FROM usage").fetchall())
    assert "secret" not in tags


def test_focus_sample_without_token_rows_is_refused_clearly(tmp_path):
    assert detect_format(FOCUS_SAMPLE).name == "focus"
    with pytest.raises(IngestError, match=r"no AI token usage: none of the file's 1000 rows"):
        _ingest(tmp_path, FOCUS_SAMPLE)


def test_focus_token_row_without_model_names_row_and_field(tmp_path):
    path = tmp_path / "focus.csv"
    text = (EXPORTS / "focus_tokens_1_2.csv").read_text()
    path.write_text(text.replace("gpt-4o-2024-08-06,output", ",output"))
    with pytest.raises(IngestError) as err:
        _ingest(tmp_path, path)
    assert (err.value.row, err.value.field) == (3, "x_Model")


def test_azure_meter_names():
    assert azure_meter("gpt 4o 1120 Outp glbl Tokens") == ("gpt-4o-1120", "output", None, "glbl")
    assert azure_meter("gpt-4o-audio-preview Aud Inp glbl Tokens")[:2] == (
        "gpt-4o-audio-preview",
        "input_audio",
    )
    assert azure_meter("o3 mini 0131 cached Inp DZone Tokens") == (
        "o3-mini-0131",
        "cache_read",
        None,
        "dzone",
    )


def test_azure_tags_and_costs(tmp_path):
    con, _ = _ingest(tmp_path, EXPORTS / "azure_ea.csv")
    tags = json.loads(con.execute("SELECT tags FROM usage WHERE source_row = 1").fetchone()[0])
    assert (tags["team"], tags["env"], tags["deployment"]) == ("search", "prod", "glbl")
    tier = con.execute("SELECT service_tier FROM usage WHERE source_row = 4").fetchone()[0]
    assert tier == "batch"
    path = tmp_path / "vms.csv"
    lines = (EXPORTS / "azure_ea.csv").read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[-1]]) + "\n")
    with pytest.raises(IngestError, match="no token meters"):
        _ingest(tmp_path, path, db="v.duckdb")


def test_gcp_sku_descriptions():
    assert gcp_sku("Gemini 2.5 Flash Thinking Output Text - Predictions") == (
        "gemini-2.5-flash",
        "output",
        False,
        None,
    )
    assert gcp_sku("Gemini 2.5 Pro Batch Input Text")[1:] == ("input", False, "batch")


def test_gcp_long_context_flag_and_net_cost(tmp_path):
    con, _ = _ingest(tmp_path, EXPORTS / "gcp_billing.jsonl")
    rows = con.execute(
        "SELECT source_row, long_context, reported_cost_usd, tags->>'team' "
        "FROM usage ORDER BY source_row"
    ).fetchall()
    assert rows[:2] == [(1, False, _usd("1.0"), "search"), (2, True, _usd("0.75"), "search")]


def test_langfuse_usage_keys_and_skipped_spans(tmp_path):
    assert [usage_class(k) for k in ("cache_creation_input_tokens", "input_audio", "total")] == [
        "cache_write_5m",
        "input_audio",
        None,
    ]
    con, report = _ingest(tmp_path, EXPORTS / "langfuse_observations.json")
    assert report.rows_read == 3
    tags = " ".join(r[0] for r in con.execute("SELECT tags FROM usage").fetchall())
    assert "secret" not in tags


def test_langfuse_unknown_provider_is_refused_with_row(tmp_path):
    path = tmp_path / "obs.json"
    path.write_text(
        (EXPORTS / "langfuse_observations.json").read_text().replace("gemini-1.5-pro", "house-llm")
    )
    with pytest.raises(IngestError) as err:
        _ingest(tmp_path, path)
    assert (err.value.row, err.value.field) == (4, "model")


# --- generic CSV through a YAML column mapping -------------------------------------------------


def test_mapping_ingests_a_generic_csv(tmp_path):
    fmt = register_mapping(EXPORTS / "generic_usage_map.yaml")
    assert register_mapping(EXPORTS / "generic_usage_map.yaml") is fmt
    con, first = _ingest(tmp_path, EXPORTS / "generic_usage.csv", format_name=fmt.name)
    assert _totals(con) == {
        ("2025-06-01", "openai", "gpt-4o"): {
            "requests": 1,
            "input_tokens": 600,
            "cache_read_tokens": 400,
            "output_tokens": 200,
            "reported_cost_usd": _usd("0.01"),
        },
        ("2025-06-02", "openai", "gpt-4o"): {
            "requests": 1,
            "input_tokens": 2000,
            "output_tokens": 300,
            "reported_cost_usd": _usd("0.02"),
        },
    }
    rows = con.execute("SELECT team, tags FROM usage ORDER BY source_row").fetchall()
    assert [(team, json.loads(tags)) for team, tags in rows] == [
        ("search", {"Env": "prod"}),
        ("ads", {"Env": "dev"}),
    ]
    again = ingest_files(con, [EXPORTS / "generic_usage.csv"], thresholds=[], format_name=fmt.name)
    assert again.rows_duplicate == first.rows_read
    # a mapping is never auto-detected
    with pytest.raises(IngestError, match="unrecognised format"):
        detect_format(EXPORTS / "generic_usage.csv")


@pytest.mark.parametrize(
    ("yaml_text", "field", "problem"),
    [
        (
            "columns: {period_start: Date, model: M, inputs: X}\nconstants: {provider: openai}",
            "inputs",
            "not a canonical column",
        ),
        (
            "columns: {period_start: Date}\nconstants: {provider: openai}",
            "model",
            "model is required",
        ),
        (
            "columns: {period_start: Date, model: M}\nconstants: {provider: openai}\ncolour: red",
            "colour",
            "unknown key",
        ),
        ("columns: [Date]", "columns", "maps canonical column names"),
    ],
)
def test_mapping_errors_name_the_mapping_and_key(tmp_path, yaml_text, field, problem):
    path = tmp_path / "map.yaml"
    path.write_text(yaml_text)
    with pytest.raises(IngestError, match=problem) as err:
        load_mapping(path)
    assert err.value.file == str(path) and err.value.field == field


def test_mapping_column_missing_from_the_file(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text(
        "columns: {period_start: Day, model: Model Name}\n"
        "constants: {provider: openai}\ndelimiter: ';'"
    )
    fmt = register_mapping(path)
    with pytest.raises(IngestError, match="from column 'Day', which the file lacks"):
        _ingest(tmp_path, EXPORTS / "generic_usage.csv", format_name=fmt.name)


# --- bad input names file, row and field -------------------------------------------------------

BAD_VALUES = [
    (
        "openai_usage_completions.json",
        '"input_tokens": 8000',
        '"input_tokens": "lots"',
        4,
        "data[1].results[0].input_tokens",
    ),
    (
        "openai_usage_completions.json",
        '"input_cached_tokens": 2000',
        '"input_cached_tokens": 9000',
        4,
        "data[1].results[0].input_tokens",
    ),
    ("openai_usage_dashboard.csv", "7000.0", "7k", 3, "input_tokens"),
    (
        "anthropic_usage_report.json",
        '"uncached_input_tokens": 1000,',
        '"uncached_input_tokens": -5,',
        4,
        "data[1].results[0].uncached_input_tokens",
    ),
    ("anthropic_console_usage.csv", "250000", "x", 3, "usage_input_tokens_no_cache"),
    (
        "bedrock_invocations.jsonl",
        '"outputTokenCount": 50',
        '"outputTokenCount": 5.5',
        4,
        "output.outputTokenCount",
    ),
    ("bedrock_invocations.jsonl", '"2025-06-01T11:00:00Z"', '"yesterday"', 2, "period_start"),
    ("litellm_spendlogs.csv", "0.0412", "abc", 2, "spend"),
    ("litellm_spendlogs.json", '"prompt_tokens": 4000', '"prompt_tokens": -1', 2, "prompt_tokens"),
    (
        "otel_genai_spans.json",
        '{"intValue": "500"}',
        '{"intValue": "five"}',
        2,
        "gen_ai.usage.output_tokens",
    ),
    ("focus_tokens_1_2.csv", "600000,Tokens", "6e5x,Tokens", 1, "ConsumedQuantity"),
    ("azure_ea.csv", "m-0001,1500,", "m-0001,15x0,", 1, "Quantity"),
    ("gcp_billing.jsonl", '"amount": 300000', '"amount": "many"', 2, "usage.amount"),
    ("langfuse_observations.json", '"output": 150', '"output": 1.5', 2, "usageDetails.output"),
]


@pytest.mark.parametrize(("fixture", "old", "new", "row", "field"), BAD_VALUES)
def test_bad_value_names_file_row_and_field(tmp_path, fixture, old, new, row, field):
    text = (EXPORTS / fixture).read_text()
    assert old in text
    path = tmp_path / fixture
    path.write_text(text.replace(old, new, 1))
    con = connect(tmp_path / "u.duckdb")
    with pytest.raises(IngestError) as err:
        ingest_files(con, [path], thresholds=[])
    assert (err.value.file, err.value.row, err.value.field) == (str(path), row, field)
    assert con.execute("SELECT count(*) FROM usage").fetchone() == (0,)  # all or nothing


@pytest.mark.parametrize(
    ("fixture", "cut", "message"),
    [
        ("openai_usage_completions.json", 900, "malformed JSON at line"),
        ("anthropic_usage_report.json", 700, "malformed JSON at line"),
        ("otel_genai_spans.json", 1500, "malformed JSON at line 18"),
    ],
)
def test_truncated_json_names_the_line(tmp_path, fixture, cut, message):
    path = tmp_path / fixture
    path.write_text((EXPORTS / fixture).read_text()[:cut])
    with pytest.raises(IngestError, match=message) as err:
        _ingest(tmp_path, path, format_name=detect_format(EXPORTS / fixture).name)
    # the document ends mid-value: the error is on the last line of what is left
    last_line = path.read_text().count("\n") + 1
    assert err.value.row == last_line
    assert f"malformed JSON at line {last_line}" in str(err.value)


def test_jsonl_bad_line_is_named(tmp_path):
    lines = (EXPORTS / "bedrock_invocations.jsonl").read_text().splitlines()
    lines[1] = lines[1][:-20]
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(IngestError, match="line 2 is not valid JSON") as err:
        _ingest(tmp_path, path)
    assert err.value.row == 2


def test_page_without_data_is_a_structural_error(tmp_path):
    path = tmp_path / "page.json"
    path.write_text(
        '{"object": "page", "results": [{"object": "organization.usage.completions.result"}]}'
    )
    with pytest.raises(IngestError, match="OpenAI API page") as err:
        _ingest(tmp_path, path, format_name="openai-usage")
    assert err.value.field == "data"


def test_openai_result_without_model_asks_for_group_by(tmp_path):
    path = tmp_path / "page.json"
    text = (EXPORTS / "openai_usage_completions.json").read_text()
    path.write_text(text.replace('"model": "o3-2025-04-16"', '"model": null'))
    with pytest.raises(IngestError, match="group_by=model") as err:
        _ingest(tmp_path, path)
    assert err.value.row == 5


ALL_FIXTURES = sorted([(c[0], c[1]) for c in CASES] + [(c[0], c[1]) for c in COST_CASES])


@pytest.mark.parametrize(("fixture", "fmt"), ALL_FIXTURES)
def test_exactly_one_format_claims_each_export(fixture, fmt):
    from finops.ingest import formats
    from finops.ingest._core import _sniff

    sniff = _sniff(EXPORTS / fixture)
    assert [f.name for f in formats() if f.detect(sniff)] == [fmt]


def test_aws_cur_bedrock_line_items(tmp_path):
    from finops.session.session import ingest as upload
    from finops.session.session import open_session

    path = EXPORTS / "aws_cur_bedrock.csv"
    with open_session(
        tmp_path / "cur.duckdb", Path(__file__).resolve().parents[1] / "pricing"
    ) as s:
        report = upload(s, [path])
        rows = s.con.execute(
            "SELECT CAST(period_start AS DATE), model, input_tokens, output_tokens, cache_read_tokens, "
            "team, reported_cost_usd FROM usage ORDER BY source_row"
        ).fetchall()
        again = upload(s, [path])
    (f,) = report.files
    assert (f.format, f.rows_read, f.rows_skipped) == (
        "aws-cur",
        4,
        1,
    )  # the EC2 line is passed over
    model = "anthropic.claude-3-5-sonnet-20241022-v2:0"
    import datetime as dt

    day1, day2 = dt.date(2025, 6, 1), dt.date(2025, 6, 2)
    assert rows == [
        (day1, model, 1_000_000, None, None, "search", Decimal("3.0")),
        (day1, model, None, 200_000, None, "search", Decimal("3.0")),
        (day1, model, None, None, 500_000, "search", Decimal("0.15")),
        (
            day2,
            "us.amazon.nova-pro-v1:0",
            2_000_000,
            None,
            None,
            None,
            Decimal("1.6"),
        ),  # 2,000 × 1K
    ]
    assert again.rows_duplicate == 4 and again.rows_new == 0
