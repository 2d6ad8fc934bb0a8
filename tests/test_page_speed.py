"""Spend reads a page makes, as a ratio to a raw GROUP BY over the same rollup (issue 16.3).

A page asks `costing.spend` for several groupings of the priced daily rollup. Pricing the
rollup (aliases, the range join on prices, contracts) is done once per store state and kept
in the process (`costing.priced_source`), so each further grouping costs about what a plain
GROUP BY over the rollup costs. CPU time, not wall time: the ratio stays put on a busy
machine. Before the cache each grouping priced the whole rollup again: about 20x the raw
GROUP BYs here; with it about 4-5x (the spend measures are DECIMAL(38, 12) sums). benchmarks/app_pages.py prints the full-size page times.
"""

from __future__ import annotations

import datetime as dt
import resource
from decimal import Decimal

import pytest

from finops.core.store import connect, query_pl
from finops.pricing import costing
from finops.pricing.catalog import sync_catalog
from finops.session.session import ingest, open_session

ROWS = 200_000
MAX_CPU_RATIO = 8.0
# the groupings the Overview and the filter bar ask for
GROUPINGS = (["team", "provider", "model"], ["day"], ["team"], ["model", "day"], ["provider"])
RAW_KEYS = {
    "team": "team",
    "provider": "provider",
    "model": "model",
    "day": "day",
}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _store(db):
    """Request rows like benchmarks/pricing_rollup.py: 2 models, 40 teams, 400 keys, 6 months."""
    con = connect(db)
    catalog, _ = sync_catalog(con)
    con.execute(f"""
        INSERT INTO usage BY NAME
        SELECT
            TIMESTAMP '2025-07-01' + to_microseconds(CAST(hash(i, 1) % 15897600000000 AS BIGINT))
                AS period_start,
            'openai' AS provider,
            CASE i % 3 WHEN 0 THEN 'gpt-4o' ELSE 'gpt-4o-mini' END AS model,
            1 AS requests,
            CAST(hash(i, 2) % 4000 AS BIGINT) + 10 AS input_tokens,
            CAST(hash(i, 4) % 900 AS BIGINT) + 1 AS output_tokens,
            'standard' AS service_tier,
            'key-' || CAST(i % 400 AS VARCHAR) AS api_key_id,
            'team-' || CAST(i % 40 AS VARCHAR) AS team,
            'request' AS grain, 'benchmark' AS source_kind, 'generated' AS source_file,
            i AS source_row, 0 AS ingest_id, CAST(i AS VARCHAR) AS row_key
        FROM range({ROWS}) AS t(i)
    """)
    costing.refresh_daily_usage(con, catalog.thresholds, hourly_providers=catalog.hourly_providers)
    con.execute("CHECKPOINT")
    con.close()


@pytest.mark.slow
def test_a_pages_spend_groupings_cost_a_small_multiple_of_a_raw_group_by(tmp_path):
    db = tmp_path / "store.duckdb"
    _store(db)
    costing.clear_priced_cache()
    with open_session(db, read_only=True) as s:
        s.spend(["provider"])  # new data: the first read prices the rollup once
        raw_cpu = ours_cpu = float("inf")
        for _ in range(2):  # the better of two
            start = _cpu()
            for by in GROUPINGS:
                keys = ", ".join(RAW_KEYS[k] for k in by)
                s.con.execute(
                    f"SELECT {keys}, sum(input_tokens), sum(output_tokens), sum(requests), "
                    f"sum(usage_rows) FROM daily_usage GROUP BY ALL ORDER BY {keys}"
                ).fetchall()
            raw_cpu = min(raw_cpu, _cpu() - start)
            start = _cpu()
            for by in GROUPINGS:
                s.spend(by)
            ours_cpu = min(ours_cpu, _cpu() - start)
    print(f"spend {ours_cpu:.2f}s CPU, raw GROUP BY {raw_cpu:.2f}s: {ours_cpu / raw_cpu:.1f}x")
    assert ours_cpu / raw_cpu <= MAX_CPU_RATIO, (ours_cpu, raw_cpu)


def _live_total(s) -> Decimal:
    """The total priced by the live SQL (priced_usage.sql), bypassing the process cache."""
    frame = query_pl(
        s.con,
        f"SELECT sum(cost_usd) AS c FROM ({costing.priced_sql()})",
        {"revision_id": s.revision_id, "from_day": None, "to_day": None},
    )
    return frame["c"][0]


def test_the_kept_priced_rollup_follows_new_data_and_a_new_catalog(loaded):
    """New usage and a changed price each make a new state: never the old cached numbers.

    New data: one more acme alpha request on 2025-03-20 (after the 03-15 cut, standard tier,
    input $1 per million) of 100,000 input tokens adds 100,000 x $1 / 1,000,000 = $0.10.
    New catalog: thinker's input $10 -> $20 per million; its one request (r6) has 5,000 input
    tokens, so the total rises by 5,000 x $10 / 1,000,000 = $0.05.
    """
    db, pricing_dir = loaded
    with open_session(db, pricing_dir) as s:
        before = s.spend([])["cost_usd"][0]
        assert before == _live_total(s)
        extra = db.parent / "extra.csv"
        extra.write_text(
            "period_start,provider,model,input_tokens,output_tokens,service_tier,team,request_id\n"
            "2025-03-20T10:00:00Z,acme,alpha,100000,0,standard,search,extra-1\n"
        )
        ingest(s, [extra])
        after = s.spend([])["cost_usd"][0]
        assert after - before == Decimal("0.10")
        assert after == _live_total(s)
    acme = pricing_dir / "acme.yaml"
    acme.write_text(
        acme.read_text().replace(
            "usd_per_mtok: {input: 10, cache_read: 2.5, output: 40}",
            "usd_per_mtok: {input: 20, cache_read: 2.5, output: 40}",
        )
    )
    with open_session(db, pricing_dir, read_only=True) as s:
        repriced = s.spend([])["cost_usd"][0]
        assert repriced - after == Decimal("0.05")
        assert repriced == _live_total(s)
        by_day = s.spend(["day"], from_day=dt.date(2025, 3, 20), to_day=dt.date(2025, 3, 21))
        assert by_day["day"].to_list() == [dt.date(2025, 3, 20)]


def test_two_viewers_with_as_many_rows_never_share_a_kept_priced_rollup(db, pricing_dir):
    """A restricted viewer's rollup is a view of the store: its kept priced rollup must be
    theirs alone. Teams a and b each have one alpha row on 2025-03-20 (input $1 per million):
    a 100,000 input tokens = $0.10, b 150,000 = $0.15 (both under the 200k long-context band);
    the same number of rollup rows."""
    from finops.session.access import restrict_to_teams

    usage = db.parent / "two.csv"
    usage.write_text(
        "period_start,provider,model,input_tokens,output_tokens,service_tier,team,request_id\n"
        "2025-03-20T10:00:00Z,acme,alpha,100000,0,standard,a,r-a\n"
        "2025-03-20T11:00:00Z,acme,alpha,150000,0,standard,b,r-b\n"
    )
    with open_session(db, pricing_dir) as s:
        ingest(s, [usage])
    costing.clear_priced_cache()
    for team, cost in (("a", Decimal("0.10")), ("b", Decimal("0.15")), ("a", Decimal("0.10"))):
        with open_session(db, pricing_dir, read_only=True) as s:
            restrict_to_teams(s, [team])
            assert s.spend([])["cost_usd"][0] == cost, team
