"""What a simulation returns: findings, the result with its breakdowns, and frames for tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import polars as pl

from finops.analysis.simulate.scenario import CENT, HUNDRED, Scenario

# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """A capability or data check: `block` (cannot run as stated) or `warn`."""

    #: context_window, modality, deprecation, no_price, no_usage, token_band or quality
    check: str
    severity: str  # block | warn
    message: str
    move: int | None = None  # index of the move in the scenario
    target: str | None = None  # provider/model

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "move": self.move,
            "target": self.target,
            "message": self.message,
        }


def exact_usd(value: Decimal) -> Decimal:
    """Trailing zeros dropped but at least cents: exact, and readable (0.540000 → 0.54)."""
    reduced = value.normalize()
    if reduced.as_tuple().exponent > -2:
        reduced = reduced.quantize(CENT)
    return reduced


def pct(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (part / whole * HUNDRED).quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass
class SimulationResult:
    """What a scenario would have cost, beside what was paid, over the scope's history.

    Money is exact (Decimal). `*_low` / `*_high` span the pessimistic, expected and optimistic
    cases. `to_dict()` is what the CLI prints as JSON and what the app shows.
    """

    scenario: Scenario
    revision_id: int
    first_day: dt.date | None
    last_day: dt.date | None
    actual_cost_usd: Decimal
    scenario_cost_usd: Decimal
    scenario_cost_usd_low: Decimal
    scenario_cost_usd_high: Decimal
    savings_usd: Decimal
    savings_usd_low: Decimal
    savings_usd_high: Decimal
    actual_effective_cost_usd: Decimal
    scenario_effective_cost_usd: Decimal
    by_month: list[dict[str, Any]]
    by_team: list[dict[str, Any]]
    moves: list[dict[str, Any]]
    findings: list[Finding]
    compared_rows: int
    excluded: dict[str, Any]
    tokens: dict[str, int]
    forecast: dict[str, Any] | None
    forecast_note: str | None
    quality: dict[str, Any] | None
    quality_note: str | None
    #: "forward" (prices in force on pricing_day, over the scope's last days) or "as billed"
    view: str = "as billed"
    pricing_day: dt.date | None = None
    #: the headline per month: see :func:`finops.analysis.simulate.forward.monthly_rates`
    monthly: dict[str, Any] | None = None

    @property
    def savings_pct(self) -> Decimal | None:
        return pct(self.savings_usd, self.actual_cost_usd)

    @property
    def effective_savings_usd(self) -> Decimal:
        """Savings on effective cost: after contracts (contracts.yaml) on both sides."""
        return self.actual_effective_cost_usd - self.scenario_effective_cost_usd

    @property
    def savings_pct_low(self) -> Decimal | None:
        return pct(self.savings_usd_low, self.actual_cost_usd)

    @property
    def savings_pct_high(self) -> Decimal | None:
        return pct(self.savings_usd_high, self.actual_cost_usd)

    @property
    def feasible(self) -> bool:
        """False when any finding blocks the scenario."""
        return not any(f.severity == "block" for f in self.findings)

    def months_frame(self) -> pl.DataFrame:
        return _rows_frame(self.by_month, "month")

    def teams_frame(self) -> pl.DataFrame:
        return _rows_frame(self.by_team, "team")

    def to_dict(self) -> dict[str, Any]:
        def money(value: Decimal | None) -> Decimal | None:
            return None if value is None else exact_usd(value)

        def rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [
                {k: money(v) if isinstance(v, Decimal) and "_usd" in k else v for k, v in r.items()}
                for r in items
            ]

        return {
            "scenario": self.scenario.name,
            "catalog_revision": self.revision_id,
            "view": self.view,
            "pricing_day": self.pricing_day,
            "monthly": None
            if self.monthly is None
            else {k: money(v) if k.endswith("_usd") else v for k, v in self.monthly.items()},
            "scope": self.scenario.scope.to_dict(),
            "first_day": self.first_day,
            "last_day": self.last_day,
            "feasible": self.feasible,
            "actual_cost_usd": money(self.actual_cost_usd),
            "scenario_cost_usd": money(self.scenario_cost_usd),
            "savings_usd": money(self.savings_usd),
            "savings_pct": self.savings_pct,
            "scenario_cost_usd_low": money(self.scenario_cost_usd_low),
            "scenario_cost_usd_high": money(self.scenario_cost_usd_high),
            "savings_usd_low": money(self.savings_usd_low),
            "savings_usd_high": money(self.savings_usd_high),
            "savings_pct_low": self.savings_pct_low,
            "savings_pct_high": self.savings_pct_high,
            "actual_effective_cost_usd": money(self.actual_effective_cost_usd),
            "scenario_effective_cost_usd": money(self.scenario_effective_cost_usd),
            "effective_savings_usd": money(self.effective_savings_usd),
            "compared_rows": self.compared_rows,
            "excluded": {
                k: money(v) if isinstance(v, Decimal) else v for k, v in self.excluded.items()
            },
            "tokens": dict(self.tokens),
            "moves": [
                {
                    **m,
                    "candidates": rows(m["candidates"]),
                }
                for m in self.moves
            ],
            "by_month": rows(self.by_month),
            "by_team": rows(self.by_team),
            "warnings": [f.to_dict() for f in self.findings],
            "forecast": None
            if self.forecast is None
            else {k: money(v) if isinstance(v, Decimal) else v for k, v in self.forecast.items()},
            "forecast_note": self.forecast_note,
            "quality": None if self.quality is None else _quality_dict(self.quality),
            "quality_note": self.quality_note,
        }


#: Measures of every by-month and by-team row, in order.
BREAKDOWN_COLUMNS: tuple[str, ...] = (
    "actual_cost_usd",
    "scenario_cost_usd",
    "savings_usd",
    "savings_pct",
    "savings_usd_low",
    "savings_usd_high",
    "effective_savings_usd",
)


def _rows_frame(items: list[dict[str, Any]], key: str) -> pl.DataFrame:
    schema: dict[str, Any] = {key: pl.Date if key == "month" else pl.Utf8}
    schema |= {
        c: pl.Decimal(38, 2) if c == "savings_pct" else pl.Decimal(38, 18)
        for c in BREAKDOWN_COLUMNS
    }
    return (
        pl.DataFrame(items, schema=schema, orient="row") if items else pl.DataFrame(schema=schema)
    )


def _quality_dict(quality: dict[str, Any]) -> dict[str, Any]:
    out = dict(quality)
    out["points"] = [
        {k: exact_usd(v) if isinstance(v, Decimal) else v for k, v in p.items()}
        for p in quality["points"]
    ]
    best = quality.get("cheapest_meeting_min_score")
    if best is not None:
        out["cheapest_meeting_min_score"] = {
            k: exact_usd(v) if isinstance(v, Decimal) else v for k, v in best.items()
        }
    return out


def frontier_points(result: SimulationResult) -> pl.DataFrame:
    """The cost–quality points of a result (one per scored model), for tables and charts.

    Columns: provider, model, score, cost_usd (the scope's cost on that model, exact),
    comparable, blocked, on_frontier, is_current, is_target, meets_min_score.
    """
    schema = {
        "provider": pl.Utf8,
        "model": pl.Utf8,
        "score": pl.Float64,
        "cost_usd": pl.Decimal(38, 18),
        "comparable": pl.Boolean,
        "blocked": pl.Boolean,
        "on_frontier": pl.Boolean,
        "is_current": pl.Boolean,
        "is_target": pl.Boolean,
        "meets_min_score": pl.Boolean,
    }
    points = result.quality["points"] if result.quality else []
    return pl.DataFrame([{k: p.get(k) for k in schema} for p in points], schema=schema)


def comparison_frame(results: Sequence[SimulationResult]) -> pl.DataFrame:
    """One row per scenario: the saving per month (with its range and its share of the moved
    workload), the totals over the days priced, blocks and warnings."""
    rows = []
    for result in results:
        blocks = sum(f.severity == "block" for f in result.findings)
        m = result.monthly or {}
        rows.append(
            {
                "scenario": result.scenario.name,
                "savings_usd_per_month": m.get("savings_usd"),
                "savings_usd_per_month_low": m.get("savings_usd_low"),
                "savings_usd_per_month_high": m.get("savings_usd_high"),
                "savings_pct_of_moved": m.get("savings_pct_of_moved"),
                "actual_cost_usd": result.actual_cost_usd,
                "scenario_cost_usd": result.scenario_cost_usd,
                "savings_usd": result.savings_usd,
                "savings_usd_low": result.savings_usd_low,
                "savings_usd_high": result.savings_usd_high,
                "savings_pct": result.savings_pct,
                "forward_savings_usd": result.forecast["savings_usd"] if result.forecast else None,
                "blocks": blocks,
                "warnings": len(result.findings) - blocks,
            }
        )
    money = {
        k: pl.Decimal(38, 18)
        for k in (
            "actual_cost_usd",
            "scenario_cost_usd",
            "savings_usd",
            "savings_usd_low",
            "savings_usd_high",
            "forward_savings_usd",
        )
    }
    monthly = {
        "savings_usd_per_month": pl.Decimal(38, 2),
        "savings_usd_per_month_low": pl.Decimal(38, 2),
        "savings_usd_per_month_high": pl.Decimal(38, 2),
        "savings_pct_of_moved": pl.Decimal(38, 2),
    }
    return pl.DataFrame(
        rows,
        schema={
            "scenario": pl.Utf8,
            **monthly,
            **money,
            "savings_pct": pl.Decimal(38, 2),
            "blocks": pl.Int64,
            "warnings": pl.Int64,
        },
    )
