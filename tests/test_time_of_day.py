"""Time-of-day prices (DeepSeek V4 since 2026-08-17, bundled catalog): requests and hourly
buckets are priced by their UTC hour; a daily row cannot be split and takes the peak rate,
with a warning.

deepseek-v4-pro per million tokens: peak (Mon-Fri 01-04 and 06-10 UTC) input 1.32, output 3.96;
off-peak (every other hour, all weekend) input 0.66, output 1.98. 2026-12-07 is a Monday.

  a  request Mon 02:30          peak:     1,000,000 in x 1.32 + 100,000 out x 3.96 = 1.32 + 0.396 = 1.716
  b  request Mon 12:00          off-peak: 1,000,000 in x 0.66 + 100,000 out x 1.98 = 0.66 + 0.198 = 0.858
  c  hour bucket Sat 08-09      off-peak: 500,000 in x 0.66 = 0.33
  d  day bucket Tue 2026-12-08  peak:     1,000,000 in x 1.32 = 1.32 (cannot be split: warned)
  e  request Mon 04:00:00       off-peak (the peak window 01-04 ends at 04): 1,000,000 out x 1.98 = 1.98
  f  request Mon 09:59:59       peak (06-10): 1,000,000 out x 3.96 = 3.96
Total 1.716 + 0.858 + 0.33 + 1.32 + 1.98 + 3.96 = 10.164
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO

from finops.cli import main
from finops.pricing.catalog import CatalogError, load_catalog
from finops.pricing.costing import priced_rows
from finops.session.session import ingest, open_session

PRICING = REPO / "pricing"
USAGE = """\
period_start,period_end,provider,model,requests,input_tokens,output_tokens,request_id
2026-12-07T02:30:00Z,,deepseek,deepseek-v4-pro,1,1000000,100000,a
2026-12-07T12:00:00Z,,deepseek,deepseek-v4-pro,1,1000000,100000,b
2026-12-12T08:00:00Z,2026-12-12T09:00:00Z,deepseek,deepseek-v4-pro,3,500000,0,
2026-12-08T00:00:00Z,2026-12-09T00:00:00Z,deepseek,deepseek-v4-pro,9,1000000,0,
2026-12-07T04:00:00Z,,deepseek,deepseek-v4-pro,1,0,1000000,e
2026-12-07T09:59:59Z,,deepseek,deepseek-v4-pro,1,0,1000000,f
"""
EXPECTED = {
    "a": Decimal("1.716"),
    "b": Decimal("0.858"),
    "c": Decimal("0.33"),
    "d": Decimal("1.32"),
    "e": Decimal("1.98"),
    "f": Decimal("3.96"),
}


@pytest.fixture
def store(tmp_path: Path) -> Path:
    usage = tmp_path / "deepseek.csv"
    usage.write_text(USAGE)
    db = tmp_path / "s.duckdb"
    with open_session(db, PRICING) as s:
        ingest(s, [usage])
    return db


def _label(row: dict) -> str:
    if row["request_id"]:
        return row["request_id"]
    return "c" if row["period_end"].hour == 9 else "d"


def test_each_row_is_priced_by_its_hour(store: Path):
    with open_session(store, PRICING) as s:
        rows = priced_rows(s.con, revision_id=s.revision_id, thresholds=s.catalog.thresholds)
    got = {_label(r): r["cost_usd"] for r in rows.iter_rows(named=True)}
    assert got == EXPECTED


def test_the_daily_rollup_prices_the_same_and_warns_about_the_daily_row(store: Path):
    with open_session(store, PRICING) as s:
        by_day = {
            r["day"].isoformat(): r["cost_usd"] for r in s.spend(["day"]).iter_rows(named=True)
        }
    assert by_day == {
        "2026-12-07": Decimal("1.716") + Decimal("0.858") + Decimal("1.98") + Decimal("3.96"),
        "2026-12-08": Decimal("1.32"),
        "2026-12-12": Decimal("0.33"),
    }
    result = CliRunner().invoke(
        main, ["spend", "--by", "model", "--db", str(store), "--pricing", str(PRICING)]
    )
    assert "total: $10.16 list" in result.output
    assert "warning: 1 row of a day or longer are for models priced by time of day" in result.output


def test_windows_must_be_whole_utc_hours(tmp_path: Path):
    (tmp_path / "x.yaml").write_text(
        "provider: x\nmodels:\n  - id: m\n    prices:\n      - valid_from: 2026-01-01\n"
        "        usd_per_mtok: {input: 1}\n        off_peak:\n"
        "          windows_utc: ['Mon-Fri 10-25']\n          usd_per_mtok: {input: 0.5}\n"
    )
    with pytest.raises(CatalogError, match=r"prices\[0\].off_peak.windows_utc: 'Mon-Fri 10-25'"):
        load_catalog(tmp_path)


def test_the_first_upload_builds_the_rollup_by_hour_for_hourly_providers(tmp_path: Path):
    """A fresh store's first upload keeps DeepSeek's hours in the rollup at once, so readers
    opened after it read the store's rollup (no private rebuild per read-only session)."""
    from finops.core.store import connect
    from finops.pricing.costing import stored_hourly_providers

    usage = tmp_path / "u.csv"
    usage.write_text(
        "period_start,provider,model,input_tokens,output_tokens,team,request_id\n"
        "2026-09-01T02:00:00Z,deepseek,deepseek-v4-flash,1000,10,a,r1\n"
    )
    db = tmp_path / "s.duckdb"
    with open_session(db) as s:
        ingest(s, [usage])
    con = connect(db, read_only=True)
    try:
        assert "deepseek" in stored_hourly_providers(con)
    finally:
        con.close()
