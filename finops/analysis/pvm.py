"""Price-volume-mix analysis: why spend changed between two periods, split into three effects.

Spend is cut into *cells* (in the monthly review: team × provider × model). For cell i,
`C` is its cost and `q` its volume in priced tokens (input + cache read + cache write + output
of the rows the catalog could price) in the base period (0) and the current one (1). With
`Q = Σ q`, the unit price `p = C / q` and the mix share `s = q / Q`:

    volume_i = (Q1 − Q0) · s0_i · p0_i   = (Q1 / Q0 − 1) · C0_i
    mix_i    = Q1 · (s1_i − s0_i) · p0_i = (q1_i − q0_i · Q1 / Q0) · p0_i
    price_i  = q1_i · (p1_i − p0_i)

and `volume_i + mix_i + price_i = C1_i − C0_i` for every cell (expand the products), so the
effects of any set of cells — a team, a model, everything — add up to that set's change.

* **volume**: what the change would be if every cell grew at the overall token growth rate,
  at last period's prices;
* **mix**: the shift of tokens between cells (towards dearer or cheaper teams and models),
  at last period's prices;
* **price**: the change in each cell's cost per token at this period's volume — catalog price
  changes, and also the cell's token make-up (cache hits, output share, batch tier).

Edge cases keep the identity: a cell new this period takes its own current price as its base
price (its cost is all mix); a cell gone this period has no price effect; cost without tokens
(per-request or per-search fees) grows with the overall volume and the rest of its change is
price; with no base volume at all (Q0 = 0) the whole change is volume. Money is Decimal: volume and mix are rounded to 1e-12 USD (the store's
precision) and price is computed as `ΔC − volume − mix`, which equals `q1 · (p1 − p0)` up to
that rounding and makes every sum exact to the last digit.

>>> import polars as pl
>>> from decimal import Decimal as D
>>> cells = pl.DataFrame({"model": ["a", "b"], "base_usd": [D("10"), D("10")],
...     "current_usd": [D("30"), D("10")], "base_tokens": [10, 10], "current_tokens": [20, 10]})
>>> out = price_volume_mix(cells, keys=["model"])
>>> row = out.row(0, named=True)
>>> [int(row[c]) for c in ("change_usd", "volume_usd", "mix_usd", "price_usd")]
[20, 5, 5, 10]
>>> sum(out["volume_usd"]) + sum(out["mix_usd"]) + sum(out["price_usd"]) == sum(out["change_usd"])
True
"""

from __future__ import annotations

from decimal import Decimal, localcontext

import polars as pl

from finops.analysis.filters import tokens_expr
from finops.core.format import allocate_cents

__all__ = [
    "EFFECTS",
    "allocate_cents",
    "effects_in_cents",
    "price_volume_mix",
    "priced_tokens",
    "summarize_effects",
]

EFFECTS = ("volume_usd", "mix_usd", "price_usd")
_PLACES = Decimal("0.000000000001")
_MONEY = pl.Decimal(38, 12)


def priced_tokens() -> pl.Expr:
    """The volume of every price-volume-mix split (the review's, the anomalies'): priced
    tokens, i.e. input, cache read, cache write and output tokens less those of rows the
    catalog could not price, of a `costing.spend` frame (`unpriced_tokens` may be absent).
    """
    return (tokens_expr() - pl.col("unpriced_tokens").fill_null(0)).clip(lower_bound=0)


def _dec(value) -> Decimal:
    return Decimal(0) if value is None else Decimal(value)


def price_volume_mix(cells: pl.DataFrame, *, keys: list[str]) -> pl.DataFrame:
    """The effects of every cell.

    `cells` has `keys`, `base_usd`, `current_usd` (Decimal, NULL = 0) and `base_tokens`,
    `current_tokens` (priced volume). Returns keys, base_usd, current_usd, change_usd,
    volume_usd, mix_usd, price_usd, base_tokens, current_tokens.
    """
    rows = cells.select(*keys, "base_usd", "current_usd", "base_tokens", "current_tokens").rows()
    q0_total = sum(int(r[-2] or 0) for r in rows)
    q1_total = sum(int(r[-1] or 0) for r in rows)
    out = []
    with localcontext() as ctx:
        ctx.prec = 60
        growth = Decimal(q1_total) / Decimal(q0_total) if q0_total else None
        for row in rows:
            key_values = row[: len(keys)]
            c0, c1 = _dec(row[-4]), _dec(row[-3])
            q0, q1 = int(row[-2] or 0), int(row[-1] or 0)
            change = c1 - c0
            if growth is None:
                volume, mix = change, Decimal(0)
            else:
                if q0 > 0:
                    p0 = c0 / q0
                elif q1 > 0:
                    p0 = c1 / q1  # new cell: its own price, so it has no price effect
                else:
                    p0 = Decimal(0)
                volume = ((growth - 1) * c0).quantize(_PLACES)
                mix = ((Decimal(q1) - Decimal(q0) * growth) * p0).quantize(_PLACES)
            price = change - volume - mix
            out.append((*key_values, c0, c1, change, volume, mix, price, q0, q1))
    schema = {k: cells.schema[k] for k in keys}
    for name in ("base_usd", "current_usd", "change_usd", *EFFECTS):
        schema[name] = _MONEY
    schema["base_tokens"] = pl.Int128  # sums of counts: past INT64 at the per-row maximum
    schema["current_tokens"] = pl.Int128
    return pl.DataFrame(out, schema=schema, orient="row")


def summarize_effects(effects: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Sum cell effects up to `by` (e.g. team, or model), largest absolute change first."""
    money = ["base_usd", "current_usd", "change_usd", *EFFECTS]
    summed = effects.group_by(by).agg(
        *[pl.col(c).sum() for c in money],
        pl.col("base_tokens").sum(),
        pl.col("current_tokens").sum(),
    )
    return summed.sort(pl.col("change_usd").abs(), *by, descending=[True, *[False] * len(by)])


def effects_in_cents(effects: pl.DataFrame, totals: dict[str, Decimal]) -> pl.DataFrame:
    """Summed effects (from `summarize_effects`) in cents that foot to the rounded `totals`.

    `totals` holds the exact column totals of base_usd, current_usd, volume_usd and mix_usd.
    Each of those columns is rounded with `allocate_cents`; change is current − base and
    price is change − volume − mix, row by row, so every row and every column adds up.
    """
    columns = {}
    for name in ("base_usd", "current_usd", "volume_usd", "mix_usd"):
        values = [_dec(v) for v in effects[name].to_list()]
        columns[name] = allocate_cents(values, totals[name])
    change = [c - b for b, c in zip(columns["base_usd"], columns["current_usd"], strict=True)]
    price = [
        d - v - m for d, v, m in zip(change, columns["volume_usd"], columns["mix_usd"], strict=True)
    ]
    money = pl.Decimal(38, 2)
    return effects.with_columns(
        pl.Series("base_usd", columns["base_usd"], dtype=money),
        pl.Series("current_usd", columns["current_usd"], dtype=money),
        pl.Series("change_usd", change, dtype=money),
        pl.Series("volume_usd", columns["volume_usd"], dtype=money),
        pl.Series("mix_usd", columns["mix_usd"], dtype=money),
        pl.Series("price_usd", price, dtype=money),
    )
