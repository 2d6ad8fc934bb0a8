"""Price and roll up N request rows; compare, in one run, with a plain GROUP BY and pandas.

    python benchmarks/pricing_rollup.py --rows 10000000

Three timings on the same rows in the same DuckDB file:
  plain    a DuckDB GROUP BY of the rows by day and owner keys, summing tokens, no prices
  finops   finops' pipeline: the daily rollup (with long-context bands) + pricing it with the
           effective-dated range join + spend by day, team and model
  pandas   the usual hand-rolled way: pandas merge_asof of each row to the price in force,
           cost per row, then groupby (the rows are already in memory; loading is not timed)
Targets (issue 2): finops ≤ 1.5 × plain; finops ≥ 10 × faster than pandas.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import tempfile
import time
from pathlib import Path

import duckdb

from finops.core.store import connect
from finops.pricing import costing
from finops.pricing.catalog import sync_catalog

MODELS = [  # (provider, model as exported) — all in the bundled catalog
    ("openai", "gpt-4o"),
    ("openai", "gpt-4o-mini"),
    ("openai", "o3"),
    ("openai", "gpt-4.1-mini"),
    ("anthropic", "claude-sonnet-4-20250514"),
    ("anthropic", "claude-3-5-haiku-20241022"),
    ("google", "gemini-2.5-pro"),
    ("google", "gemini-2.5-flash"),
]


def generate(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    """Request-grain rows over 2025-07-01 .. 2025-12-31, 8 models, 40 teams, 400 keys."""
    values = ", ".join(f"({i}, '{p}', '{m}')" for i, (p, m) in enumerate(MODELS))
    con.execute(
        f"CREATE TEMP TABLE models (idx INTEGER, provider VARCHAR, model VARCHAR); INSERT INTO models VALUES {values}"
    )
    con.execute(
        f"""
        INSERT INTO usage BY NAME
        SELECT
            TIMESTAMP '2025-07-01' + to_microseconds(CAST(hash(i, 1) % 15897600000000 AS BIGINT)) AS period_start,
            m.provider, m.model,
            1 AS requests,
            CAST(hash(i, 2) % 4000 AS BIGINT) + 10 AS input_tokens,
            CASE WHEN i % 3 = 0 THEN CAST(hash(i, 3) % 3000 AS BIGINT) END AS cache_read_tokens,
            CAST(hash(i, 4) % 900 AS BIGINT) + 1 AS output_tokens,
            CASE WHEN i % 10 = 0 THEN 'batch' ELSE 'standard' END AS service_tier,
            'proj-' || CAST(i % 20 AS VARCHAR) AS project_id,
            'key-' || CAST(i % 400 AS VARCHAR) AS api_key_id,
            'team-' || CAST(i % 40 AS VARCHAR) AS team,
            'request' AS grain, 'benchmark' AS source_kind, 'generated' AS source_file,
            i AS source_row, 0 AS ingest_id, CAST(i AS VARCHAR) AS row_key
        FROM range({rows}) AS t(i)
        JOIN models AS m ON m.idx = CAST(hash(i, 5) % {len(MODELS)} AS INTEGER)
        """
    )


def timed(fn) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--skip-pandas", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="finops-bench-") as tmp:
        db = Path(tmp) / "bench.duckdb"
        con = connect(db)
        catalog, revision = sync_catalog(con)
        t_gen = timed(lambda: generate(con, args.rows))
        print(
            f"rows: {args.rows:,}  (generated in {t_gen:.1f}s)  duckdb {duckdb.__version__}, "
            f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}"
        )

        plain_sql = (
            "SELECT CAST(period_start AS DATE) AS day, "
            "provider, model, service_tier, project_id, api_key_id, team, user_id, "
            "CAST(tags AS VARCHAR) AS tags, count(*) AS n, "
            "sum(requests), sum(input_tokens), sum(cache_read_tokens), sum(cache_write_5m_tokens), "
            "sum(cache_write_1h_tokens), sum(output_tokens), sum(input_audio_tokens), "
            "sum(output_audio_tokens), sum(input_image_tokens), sum(output_image_tokens), "
            "sum(reasoning_tokens), sum(web_search_requests), sum(reported_cost_usd) "
            "FROM usage GROUP BY ALL"
        )

        def plain() -> None:
            con.execute(f"CREATE OR REPLACE TEMP TABLE plain_out AS {plain_sql}")

        def plain_persisted() -> None:
            con.execute(f"CREATE OR REPLACE TABLE plain_out_persisted AS {plain_sql}")

        result = {}

        def finops_pipeline() -> None:
            costing.refresh_daily_usage(con, catalog.thresholds)
            result["spend"] = costing.spend(con, by=["day", "team", "model"], revision_id=revision)

        def finops_query() -> None:
            result["spend"] = costing.spend(con, by=["day", "team", "model"], revision_id=revision)

        # warm the file cache once so neither side pays for the first read
        con.execute("SELECT count(*), sum(input_tokens) FROM usage").fetchall()
        t_plain = min(timed(plain) for _ in range(3))
        t_plain_persisted = min(timed(plain_persisted) for _ in range(3))
        t_finops = min(timed(finops_pipeline) for _ in range(3))
        t_query = min(timed(finops_query) for _ in range(3))
        priced_total = result["spend"]["cost_usd"].sum()
        unpriced = int(result["spend"]["unpriced_rows"].sum())
        print(f"plain GROUP BY (temp result)        {t_plain:8.2f}s")
        print(f"plain GROUP BY (persisted table)    {t_plain_persisted:8.2f}s")
        print(
            f"finops rollup (persisted) + pricing {t_finops:8.2f}s   "
            f"{t_finops / t_plain_persisted:.2f}x plain persisted, {t_finops / t_plain:.2f}x plain temp "
            f"(target ≤ 1.5x)"
        )
        print(
            f"finops spend from the kept rollup   {t_query:8.2f}s   "
            f"{t_query / t_plain:.2f}x plain temp (what `finops spend` costs after ingest)"
        )
        print(f"   total ${priced_total:,.2f}, unpriced rows {unpriced}")

        if args.skip_pandas:
            return
        import pandas as pd

        def load_rows():
            frame = con.execute(
                "SELECT period_start, provider, model, service_tier, team, input_tokens, "
                "coalesce(cache_read_tokens, 0) AS cache_read_tokens, output_tokens FROM usage"
            ).df()
            frame["period_start"] = frame["period_start"].astype("datetime64[us]")
            return frame

        prices = con.execute(
            "SELECT a.alias AS model, p.provider, p.service_tier, CAST(p.valid_from AS TIMESTAMP) AS valid_from, "
            "CAST(p.usd_per_input AS DOUBLE) AS usd_in, CAST(coalesce(p.usd_per_cache_read, 0) AS DOUBLE) AS usd_cr, "
            "CAST(p.usd_per_output AS DOUBLE) AS usd_out FROM catalog_prices p "
            "JOIN catalog_aliases a USING (revision_id, provider, model_id) "
            "WHERE p.revision_id = $r AND p.above_tokens = 0",
            {"r": revision},
        ).df()
        prices["valid_from"] = prices["valid_from"].astype("datetime64[us]")

        def pandas_price(frame) -> None:
            # float money, no long-context bands, no unpriced detection: less than finops does
            left = frame.sort_values("period_start")
            right = prices.sort_values("valid_from")
            merged = pd.merge_asof(
                left,
                right,
                left_on="period_start",
                right_on="valid_from",
                by=["provider", "model", "service_tier"],
                direction="backward",
            )
            merged["cost_usd"] = (
                merged["input_tokens"] * merged["usd_in"]
                + merged["cache_read_tokens"] * merged["usd_cr"]
                + merged["output_tokens"] * merged["usd_out"]
            )
            merged["day"] = merged["period_start"].dt.date
            result["pandas"] = merged.groupby(["day", "team", "model"], as_index=False)[
                "cost_usd"
            ].sum()

        in_memory = load_rows()
        t_pandas = timed(lambda: pandas_price(in_memory))
        in_memory = None  # free the rows before timing the load-and-price run
        t_pandas_load = timed(lambda: pandas_price(load_rows()))
        print(
            f"pandas merge_asof (rows in memory)  {t_pandas:8.2f}s   finops full is {t_pandas / t_finops:.1f}x faster, "
            f"finops spend {t_pandas / t_query:.0f}x (target ≥ 10x)"
        )
        print(
            f"pandas merge_asof (rows loaded)     {t_pandas_load:8.2f}s   finops full is {t_pandas_load / t_finops:.1f}x faster"
        )
        print(f"   pandas total ${result['pandas']['cost_usd'].sum():,.2f} (float)")
        con.close()


if __name__ == "__main__":
    main()
