"""How money, percentages and counts are written, in the app, the CLI exports and the review.

One place, so a number reads the same on every page and in every export. Negative amounts
use an ASCII hyphen: it is what `st.metric` reads as a decrease.

>>> usd(Decimal("1234.565")), signed_usd(Decimal("-0.004")), signed_usd(-12.5), pct(-0.04)
('$1,234.56', '+$0.00', '-$12.50', '+0.0%')
"""

from __future__ import annotations

from decimal import Decimal

__all__ = ["count", "pct", "rate", "share", "signed_usd", "usd"]


def _cents(value: Decimal | float) -> Decimal:
    amount = value if isinstance(value, Decimal) else Decimal(repr(value))
    return amount.quantize(Decimal("0.01")) + 0  # + 0 turns -0.00 into 0.00


def usd(value: Decimal | float | None) -> str:
    """$1,234.56 (-$1,234.56 below zero; half-even rounding to the cent), or — for none."""
    if value is None:
        return "—"
    amount = _cents(value)
    return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"


def signed_usd(value: Decimal | float | None) -> str:
    """+$1,234.56 / -$1,234.56."""
    if value is None:
        return "—"
    amount = _cents(value)
    return usd(amount) if amount < 0 else f"+{usd(amount)}"


def pct(value: float | None, *, signed: bool = True) -> str:
    """+12.3% / -4.5% (a percentage already multiplied by 100)."""
    if value is None:
        return "—"
    rounded = round(value, 1) + 0.0
    return f"{rounded:+.1f}%" if signed else f"{rounded:.1f}%"


def rate(value: float | None, places: int = 2) -> str:
    """A unit cost such as $/1K requests: $0.52."""
    return "—" if value is None else f"${value:,.{places}f}"


def share(value: float | None) -> str:
    """A fraction as a percentage: 0.123 → 12.3%."""
    return "—" if value is None else f"{value * 100:.1f}%"


def count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"
