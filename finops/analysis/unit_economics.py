"""Unit economics of spend frames: cost per 1K requests, per 1M tokens, and cache-hit rate.

Definitions (over a group's rows):

- cost per 1K requests = cost_usd / requests × 1,000
- cost per 1M tokens   = cost_usd / priced tokens × 1,000,000, where priced tokens are the
  billed tokens (input + cache read + cache write + output) less the tokens of unpriced rows,
  so usage the catalog cannot price does not dilute the rate
- cache-hit rate       = cache_read_tokens / (input_tokens + cache_read_tokens +
  cache_write_tokens): the share of prompt tokens served from the prompt cache

Ratios are floats (they are rates for reading, not money to add up); a ratio with a zero
denominator is NULL.

>>> import polars as pl
>>> from decimal import Decimal
>>> f = pl.DataFrame({"cost_usd": [Decimal("3")], "requests": [1500], "input_tokens": [600_000],
...     "cache_read_tokens": [300_000], "cache_write_tokens": [100_000], "output_tokens": [0],
...     "unpriced_tokens": [0]})
>>> with_unit_economics(f).select("usd_per_1k_requests", "usd_per_mtok", "cache_hit_rate").row(0)
(2.0, 3.0, 0.3)
"""

from __future__ import annotations

import polars as pl

from finops.analysis.filters import tokens_expr

__all__ = ["UNIT_COLUMNS", "with_unit_economics"]

UNIT_COLUMNS = ("usd_per_1k_requests", "usd_per_mtok", "cache_hit_rate")


def _ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    den = denominator.cast(pl.Float64)
    return pl.when(den > 0).then(numerator.cast(pl.Float64) / den).otherwise(None)


def with_unit_economics(frame: pl.DataFrame) -> pl.DataFrame:
    """Add `tokens`, `usd_per_1k_requests`, `usd_per_mtok` and `cache_hit_rate` columns."""
    prompt = pl.col("input_tokens") + pl.col("cache_read_tokens") + pl.col("cache_write_tokens")
    priced_tokens = (tokens_expr() - pl.col("unpriced_tokens")).clip(lower_bound=0)
    return frame.with_columns(
        tokens_expr().alias("tokens"),
        (_ratio(pl.col("cost_usd"), pl.col("requests")) * 1_000).alias("usd_per_1k_requests"),
        (_ratio(pl.col("cost_usd"), priced_tokens) * 1_000_000).alias("usd_per_mtok"),
        _ratio(pl.col("cache_read_tokens"), prompt).alias("cache_hit_rate"),
    )
