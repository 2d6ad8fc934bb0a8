"""Never count twice (issue 13, item 8): usage a provider already has stored at another bucket
width is refused by default, naming the days; --replace-overlap keeps the new file's rows."""

from __future__ import annotations

import duckdb
import pytest
from click.testing import CliRunner
from conftest import query_store

from finops.cli import main

HEADER = "period_start,period_end,provider,model,input_tokens,output_tokens\n"
# two hours of March 1st, 100 + 200 input tokens, 10 + 20 output
HOURLY = (
    HEADER
    + "2025-03-01T00:00:00Z,2025-03-01T01:00:00Z,openai,gpt-4o,100,10\n"
    + "2025-03-01T01:00:00Z,2025-03-01T02:00:00Z,openai,gpt-4o,200,20\n"
)
# the same day as one daily bucket (300 input, 30 output), and March 2nd (50, 5)
DAILY = (
    HEADER
    + "2025-03-01T00:00:00Z,2025-03-02T00:00:00Z,openai,gpt-4o,300,30\n"
    + "2025-03-02T00:00:00Z,2025-03-03T00:00:00Z,openai,gpt-4o,50,5\n"
)


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _totals(db) -> tuple:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return (
            con.execute(
                "SELECT count(*), sum(input_tokens), sum(output_tokens) FROM usage"
            ).fetchall()[0]
            + con.execute("SELECT sum(input_tokens) FROM daily_usage").fetchall()[0]
        )
    finally:
        con.close()


@pytest.fixture
def opts(db, pricing_dir):
    return ["--db", str(db), "--pricing", str(pricing_dir)]


@pytest.fixture
def files(tmp_path):
    hourly, daily = tmp_path / "hourly.csv", tmp_path / "daily.csv"
    hourly.write_text(HOURLY)
    daily.write_text(DAILY)
    return hourly, daily


def test_a_daily_export_over_stored_hourly_usage_is_refused(db, opts, files):
    """Stored: 2 hourly rows, 300 input / 30 output tokens; the refusal leaves exactly that."""
    hourly, daily = files
    assert _run("ingest", str(hourly), *opts).exit_code == 0
    assert _totals(db) == (2, 300, 30, 300)
    out = _run("ingest", str(daily), *opts)
    assert out.exit_code != 0
    assert out.output.strip() == (
        f"Error: {daily}: openai usage on 2025-03-01 is already stored 1-hour buckets, and this "
        "file has it 1-day buckets: adding it would count that usage twice. Ingest again with "
        "--replace-overlap to keep this file's rows for those days, or leave the file out"
    )
    assert _totals(db) == (2, 300, 30, 300)


def test_replace_overlap_keeps_the_new_files_rows_for_those_days(db, opts, files):
    """After: March 1st as one daily row (300) plus March 2nd (50): 2 rows, 350 in, 35 out.
    Adding both would have made 650 input tokens."""
    hourly, daily = files
    assert _run("ingest", str(hourly), *opts).exit_code == 0
    out = _run("ingest", str(daily), "--replace-overlap", *opts)
    assert out.exit_code == 0, out.output
    assert "2 new, 0 duplicate, 2 replaced" in out.output
    assert _totals(db) == (2, 350, 35, 350)


def test_per_request_rows_over_stored_buckets_are_refused_too(db, opts, files, tmp_path):
    _, daily = files
    requests = tmp_path / "requests.csv"
    requests.write_text(
        "period_start,provider,model,input_tokens,output_tokens,request_id\n"
        "2025-03-02T10:00:00Z,openai,gpt-4o,7,1,req-1\n"
    )
    assert _run("ingest", str(daily), *opts).exit_code == 0
    out = _run("ingest", str(requests), *opts)
    assert out.exit_code != 0
    assert "openai usage on 2025-03-02 is already stored 1-day buckets, and this file has it " in (
        out.output
    )
    assert "per request: adding it would count that usage twice" in out.output
    assert _totals(db) == (2, 350, 35, 350)


def test_other_providers_and_re_uploads_are_not_overlaps(db, opts, files, tmp_path):
    """An hourly re-upload is all duplicates; another provider's daily rows on the same day
    are new: 2 + 1 rows, 300 + 40 input tokens."""
    hourly, _ = files
    other = tmp_path / "anthropic.csv"
    other.write_text(
        HEADER + "2025-03-01T00:00:00Z,2025-03-02T00:00:00Z,anthropic,claude-sonnet-4,40,4\n"
    )
    assert _run("ingest", str(hourly), *opts).exit_code == 0
    again = _run("ingest", str(hourly), *opts)
    assert "0 new, 2 duplicate, 0 replaced" in again.output
    assert _run("ingest", str(other), *opts).exit_code == 0
    assert _totals(db) == (3, 340, 34, 340)


def test_a_store_mixing_widths_takes_more_of_a_width_it_has(db, opts, tmp_path):
    """Gateway request logs beside a daily export of other workloads (as the demo has): a new
    request row for March 2nd matches a stored width, so it is new — 2 + 1 rows, 50 + 7 + 8
    input tokens. Only a file with none of the day's stored widths is another export of it."""
    mixed, more = tmp_path / "mixed.csv", tmp_path / "more.csv"
    mixed.write_text(
        HEADER.rstrip("\n") + ",request_id\n"
        "2025-03-02T00:00:00Z,2025-03-03T00:00:00Z,openai,gpt-4o,50,5,\n"
        "2025-03-02T10:00:00Z,,openai,gpt-4o,7,1,req-1\n"
    )
    more.write_text(
        "period_start,provider,model,input_tokens,output_tokens,request_id\n"
        "2025-03-02T11:00:00Z,openai,gpt-4o,8,1,req-2\n"
    )
    assert _run("ingest", str(mixed), *opts).exit_code == 0
    out = _run("ingest", str(more), *opts)
    assert out.exit_code == 0, out.output
    assert "1 new, 0 duplicate, 0 replaced" in out.output
    assert _totals(db) == (3, 65, 7, 65)


# Another account export (item 8, second half): the AWS bill of account 123456789012 as a
# Cost and Usage Report — June 1st: 1,000,000 input + 200,000 output tokens of Claude 3.5
# Sonnet; June 2nd: 2,000 Nova Pro input tokens (2 x "1K tokens") — and as FOCUS.
CUR = (
    "identity_line_item_id,line_item_usage_start_date,line_item_usage_end_date,"
    "line_item_product_code,line_item_usage_type,line_item_resource_id,line_item_usage_amount,"
    "pricing_unit,line_item_unblended_cost,line_item_usage_account_id,product_region_code\n"
    "a1,2025-06-01T00:00:00Z,2025-06-02T00:00:00Z,AmazonBedrock,USE1-Claude3.5Sonnet-input-tokens,"
    "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20241022-v2:0,"
    "1000000,tokens,3.0,123456789012,us-east-1\n"
    "a2,2025-06-01T00:00:00Z,2025-06-02T00:00:00Z,AmazonBedrock,USE1-Claude3.5Sonnet-output-tokens,"
    "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20241022-v2:0,"
    "200000,tokens,3.0,123456789012,us-east-1\n"
    "a4,2025-06-02T00:00:00Z,2025-06-03T00:00:00Z,AmazonBedrock,USE1-NovaPro-input-tokens,"
    "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0,"
    "2,1K tokens,0.0016,123456789012,us-east-1\n"
)
FOCUS_HEADER = (
    "BilledCost,BillingCurrency,ChargeCategory,ChargePeriodStart,ChargePeriodEnd,"
    "ConsumedQuantity,ConsumedUnit,ProviderName,ServiceName,SkuId,SubAccountId,x_Model,"
    "x_TokenType\n"
)


def _focus(account: str) -> str:
    """June 1st of `account` as FOCUS: the same 1,000,000 input + 200,000 output tokens."""
    day = "2025-06-01T00:00:00Z,2025-06-02T00:00:00Z"
    model = "anthropic.claude-3-5-sonnet-20241022-v2:0"
    return (
        FOCUS_HEADER
        + f"3.0,USD,Usage,{day},1000000,Tokens,AWS,Amazon Bedrock,in,{account},{model},input\n"
        + f"3.0,USD,Usage,{day},200000,Tokens,AWS,Amazon Bedrock,out,{account},{model},output\n"
    )


@pytest.fixture
def bill(tmp_path):
    cur, focus = tmp_path / "cur.csv", tmp_path / "focus.csv"
    cur.write_text(CUR)
    focus.write_text(_focus("123456789012"))
    return cur, focus


def _by_kind(db) -> list[tuple]:
    return query_store(
        db,
        "SELECT source_kind, CAST(period_start AS DATE)::VARCHAR, project_id, "
        "sum(input_tokens), sum(output_tokens) FROM usage GROUP BY ALL ORDER BY ALL",
    )


CUR_ROWS = [
    ("aws-cur", "2025-06-01", "123456789012", 1_000_000, 200_000),
    ("aws-cur", "2025-06-02", "123456789012", 2_000, None),
]


def test_a_focus_export_of_a_stored_cur_bill_is_refused(db, opts, bill):
    """Both daily, so the width rule cannot see it; the keys differ, so both would be added:
    2,000,000 input tokens on June 1st where the account used 1,000,000."""
    cur, focus = bill
    assert _run("ingest", str(cur), *opts).exit_code == 0
    assert _by_kind(db) == CUR_ROWS
    out = _run("ingest", str(focus), *opts)
    assert out.exit_code != 0
    assert out.output.strip() == (
        f"Error: {focus}: aws-bedrock usage of account 123456789012 on 2025-06-01 is already "
        "stored from aws-cur exports, and this file is a focus export of it: adding it would "
        "count that usage twice. Ingest again with --replace-overlap to keep this file's rows "
        "for those days, or leave the file out"
    )
    assert _by_kind(db) == CUR_ROWS


def test_replace_overlap_keeps_the_focus_rows_of_that_account_and_day(db, opts, bill):
    """June 1st becomes FOCUS's two rows; the CUR's June 2nd stays: 1,002,000 input tokens."""
    cur, focus = bill
    assert _run("ingest", str(cur), *opts).exit_code == 0
    out = _run("ingest", str(focus), "--replace-overlap", *opts)
    assert out.exit_code == 0, out.output
    assert "2 new, 0 duplicate, 2 replaced" in out.output
    assert _by_kind(db) == [
        ("aws-cur", "2025-06-02", "123456789012", 2_000, None),
        ("focus", "2025-06-01", "123456789012", 1_000_000, 200_000),
    ]


def test_another_account_and_a_re_upload_of_the_same_export_are_not_overlaps(
    db, opts, bill, tmp_path
):
    """Another account's FOCUS rows that day are its own usage; the CUR again is duplicates."""
    cur, _ = bill
    other = tmp_path / "focus-other.csv"
    other.write_text(_focus("210987654321"))
    assert _run("ingest", str(cur), *opts).exit_code == 0
    assert _run("ingest", str(other), *opts).exit_code == 0
    again = _run("ingest", str(cur), *opts)
    assert again.exit_code == 0, again.output
    assert "0 new, 3 duplicate, 0 replaced" in again.output
    assert _by_kind(db) == [
        *CUR_ROWS,
        ("focus", "2025-06-01", "210987654321", 1_000_000, 200_000),
    ]


def test_the_cur_and_focus_of_one_bill_in_one_upload_are_refused(db, opts, bill):
    """Two small files in one upload take the one-pass merge only when it equals file by file:
    here the second file meets the first, and nothing is stored."""
    cur, focus = bill
    out = _run("ingest", str(cur), str(focus), *opts)
    assert out.exit_code != 0
    assert f"Error: {focus}: aws-bedrock usage of account 123456789012 on 2025-06-01" in out.output
    assert _by_kind(db) == []


def test_the_cur_over_a_stored_focus_export_is_refused_the_other_way_round(db, opts, bill):
    """Whichever comes first, the second export of the bill is refused; June 2nd, which the
    FOCUS file does not hold, does not make the CUR file acceptable."""
    cur, focus = bill
    assert _run("ingest", str(focus), *opts).exit_code == 0
    out = _run("ingest", str(cur), *opts)
    assert out.exit_code != 0
    assert (
        "aws-bedrock usage of account 123456789012 on 2025-06-01 is already stored from focus "
        "exports, and this file is an aws-cur export of it" in out.output
    )
    assert _by_kind(db) == [("focus", "2025-06-01", "123456789012", 1_000_000, 200_000)]
