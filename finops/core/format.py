"""How money, percentages and counts are written, in the app, the CLI, the exports and the review.

One place, so a number reads the same on every page and in every export. Negative amounts
use an ASCII hyphen: it is what `st.metric` reads as a decrease. Cents are rounded once,
from exact decimals; a column of rounded rows foots to its rounded total with
`allocate_cents` (largest remainder).

>>> usd(Decimal("1234.565")), signed_usd(Decimal("-0.004")), signed_usd(-12.5), pct(-0.04)
('$1,234.56', '+$0.00', '-$12.50', '+0.0%')
>>> usd(-12.5), share(0.1234), plural(1, "anomaly"), plural(3, "anomaly"), plural(2, "day")
('-$12.50', '12.3%', '1 anomaly', '3 anomalies', '2 days')
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_FLOOR, Decimal

import polars as pl

__all__ = [
    "allocate_cents",
    "cents",
    "count",
    "exact_pct",
    "frame_in_cents",
    "month_label",
    "pct",
    "plural",
    "rate",
    "share",
    "signed_usd",
    "usd",
]

CENT = Decimal("0.01")


def cents(value: Decimal | float) -> Decimal:
    """An amount rounded to the cent the one way every view rounds: half-even, from the exact
    decimal (a float goes through its shortest repr), never -0.00.

    >>> cents(Decimal("30.095")), cents(Decimal("30.085")), cents(-0.001)
    (Decimal('30.10'), Decimal('30.08'), Decimal('0.00'))
    """
    amount = value if isinstance(value, Decimal) else Decimal(repr(value))
    return amount.quantize(CENT) + 0  # + 0 turns -0.00 into 0.00


def usd(value: Decimal | float | None) -> str:
    """$1,234.56 (-$1,234.56 below zero; half-even rounding to the cent), or — for none."""
    if value is None:
        return "—"
    amount = cents(value)
    return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"


def signed_usd(value: Decimal | float | None) -> str:
    """+$1,234.56 / -$1,234.56."""
    if value is None:
        return "—"
    amount = cents(value)
    return usd(amount) if amount < 0 else f"+{usd(amount)}"


def pct(value: float | None, *, signed: bool = True) -> str:
    """+12.3% / -4.5% (a percentage already multiplied by 100)."""
    if value is None:
        return "—"
    rounded = round(float(value), 1) + 0.0
    return f"{rounded:+.1f}%" if signed else f"{rounded:.1f}%"


def exact_pct(value: float | Decimal | None) -> str:
    """A percentage written as computed, not rounded again: 98.01%, or — for none.

    >>> exact_pct(Decimal("98.01")), exact_pct(None)
    ('98.01%', '—')
    """
    return "—" if value is None else f"{value}%"


def rate(value: float | Decimal | None, places: int = 2) -> str:
    """A unit cost such as $/1K requests: $0.52 (-$0.52 below zero)."""
    if value is None:
        return "—"
    amount = float(value)
    return f"-${-amount:,.{places}f}" if amount < 0 else f"${amount:,.{places}f}"


def share(value: float | None) -> str:
    """A fraction as a percentage: 0.123 → 12.3%."""
    return "—" if value is None else f"{float(value) * 100:.1f}%"


def count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def rows_and_tokens(rows: int, tokens: int, *, row_noun: str = "row") -> str:
    """The size of unpriced usage as every view writes it.

    >>> rows_and_tokens(1, 12_000)
    '1 row / 12,000 tokens'
    """
    return f"{plural(rows, row_noun)} / {plural(tokens, 'token')}"


def plural(n: int, noun: str, plural_form: str | None = None) -> str:
    """'1 model', '2 models', '3 anomalies' (irregular forms passed as `plural_form`)."""
    if n == 1:
        return f"1 {noun}"
    if plural_form is None:
        if noun.endswith("y") and noun[-2:-1] not in "aeiou":
            plural_form = noun[:-1] + "ies"
        elif noun.endswith(("s", "x", "ch", "sh")):
            plural_form = noun + "es"
        else:
            plural_form = noun + "s"
    return f"{n:,} {plural_form}"


def month_label(day: dt.date | None) -> str:
    """A month as people write it: Dec 2025."""
    return "—" if day is None else f"{day:%b %Y}"


def allocate_cents(values: list[Decimal], total: Decimal | None = None) -> list[Decimal]:
    """Round amounts to cents so they add up to `total` rounded (default: their exact sum).

    Largest remainder: every amount is rounded down, and the cents left over go to the
    amounts with the largest remainders (ties: the earlier row), so a table of rounded rows
    foots to its rounded total. A one-row table is plain half-even rounding.

    >>> allocate_cents([Decimal("1.004"), Decimal("1.004"), Decimal("1.004")])
    [Decimal('1.01'), Decimal('1.00'), Decimal('1.00')]
    >>> allocate_cents([Decimal("2.675"), Decimal("-1.333")])
    [Decimal('2.67'), Decimal('-1.33')]
    """
    exact = sum(values, Decimal(0))
    target = cents(exact if total is None else total)
    floors = [v.quantize(CENT, rounding=ROUND_FLOOR) for v in values]
    left = int((target - sum(floors, Decimal(0))) / CENT)
    order = sorted(range(len(values)), key=lambda i: (floors[i] - values[i], i))
    for i in order[: max(left, 0)]:
        floors[i] += CENT
    return [f + 0 for f in floors]


#: values of a table's first column that name its total row (rounded alone; the rows foot to it)
TOTAL_ROWS = ("TOTAL", "total", "all teams")


def frame_in_cents(frame: pl.DataFrame, columns: Iterable[str]) -> pl.DataFrame:
    """A table's money `columns` rounded once to the cent, footing to their rounded totals:
    what the CLI's tables and CSV and the app's tables show, so they show the same cents.

    With a time key first (month, day, week) and other keys after it, each period's rows foot
    to that period's total, so `--by month,team` shows each month's teams as a month by team
    shows them; otherwise the whole column foots to its total. A total row (first column in
    :data:`TOTAL_ROWS`) and interval bounds (lo…, hi…) are rounded alone.

    >>> frame = pl.DataFrame({"team": ["a", "b"], "cost_usd": [1.004, 1.004]})
    >>> frame_in_cents(frame, ["cost_usd"])["cost_usd"].to_list()
    [Decimal('1.01'), Decimal('1.00')]
    """
    periods = None
    if frame.width > 1 and frame.columns[0] in ("month", "day", "week"):
        periods = frame[frame.columns[0]].to_list()
    first = frame[frame.columns[0]]
    totals = set()
    if first.dtype == pl.Utf8:
        totals = {i for i, v in enumerate(first.to_list()) if v in TOTAL_ROWS}
    out = []
    for name in columns:
        # interval bounds do not add up: each is rounded alone, like a TOTAL row
        alone = set(range(frame.height)) if name[:2] in ("lo", "hi") else totals
        exact = [
            None if v is None else Decimal(repr(v)) if isinstance(v, float) else Decimal(v)
            for v in frame[name].to_list()
        ]
        groups: dict[object, list[int]] = {}
        for index, value in enumerate(exact):
            if value is not None:
                # a TOTAL row is rounded on its own: the rows above it foot to it
                group = "total" if index in alone else None if periods is None else periods[index]
                groups.setdefault((group, index) if group == "total" else group, []).append(index)
        rounded: list[Decimal | None] = [None] * len(exact)
        for rows in groups.values():
            for index, value in zip(rows, allocate_cents([exact[i] for i in rows]), strict=True):
                rounded[index] = value
        out.append(pl.Series(name, rounded, pl.Decimal(38, 2)))
    return frame.with_columns(out) if out else frame
