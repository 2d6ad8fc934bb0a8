"""The review's own charts: figures drawn from a `MonthlyReview` (shared ones are in charts)."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from finops.core import format as fmt
from finops.views.charts import COLORS, layout
from finops.views.review.build import MonthlyReview

__all__ = ["bridge_waterfall", "daily_vs_last_month", "outlook"]


def daily_vs_last_month(review: MonthlyReview) -> go.Figure:
    """This month's daily spend over last month's, day of month against day of month."""
    fig = go.Figure()
    for label, frame, dash in (
        (f"{review.prev_month:%B %Y}", review.prev_daily, "dot"),
        (f"{review.month:%B %Y}", review.daily, "solid"),
    ):
        fig.add_scatter(
            x=[d.day for d in frame["day"]],
            y=frame["cost_usd"].cast(pl.Float64).to_list(),
            name=label,
            mode="lines+markers",
            line={"dash": dash},
        )
    fig.update_xaxes(title="day of month", dtick=5)
    return layout(fig, y_title="USD per day")


def bridge_waterfall(review: MonthlyReview) -> go.Figure:
    """Last month's total, the volume, mix and price effects, and this month's total."""
    labels = [f"{review.prev_month:%b %Y}", "volume", "mix", "price", f"{review.month:%b %Y}"]
    bridge = review.bridge_cents()
    values = [
        float(bridge[k])
        for k in ("prev_total_usd", "volume_usd", "mix_usd", "price_usd", "total_usd")
    ]
    fig = go.Figure(
        go.Waterfall(
            x=labels,
            y=values,
            measure=["absolute", "relative", "relative", "relative", "total"],
            text=[
                fmt.usd(bridge["prev_total_usd"]),
                *(fmt.signed_usd(bridge[k]) for k in ("volume_usd", "mix_usd", "price_usd")),
                fmt.usd(bridge["total_usd"]),
            ],
            textposition="outside",
            connector={"line": {"color": "#888"}},
            increasing={"marker": {"color": COLORS["up"]}},
            decreasing={"marker": {"color": COLORS["down"]}},
            totals={"marker": {"color": COLORS["actual"]}},
        )
    )
    fig.update_layout(showlegend=False)
    return layout(fig)


def outlook(review: MonthlyReview) -> go.Figure:
    """Monthly totals, the next month's forecast with its 80% interval, and the budget."""
    months = review.monthly
    fig = go.Figure()
    fig.add_bar(
        x=[f"{m:%Y-%m}" for m in months["month"]],
        y=months["cost_usd"].cast(pl.Float64).to_list(),
        name="actual",
        marker_color=COLORS["actual"],
    )
    fc = review.forecast
    if fc is not None and fc.available:
        error = None
        if fc.hi80 is not None and fc.lo80 is not None:
            error = {
                "type": "data",
                "symmetric": False,
                "array": [fc.hi80 - fc.mean],
                "arrayminus": [fc.mean - fc.lo80],
            }
        fig.add_bar(
            x=[f"{fc.period_start:%Y-%m}"],
            y=[fc.mean],
            name="forecast (80% interval)",
            marker_color=COLORS["forecast"],
            error_y=error,
        )
    if review.budget_usd is not None:
        fig.add_hline(
            y=float(review.budget_usd),
            line_dash="dash",
            line_color=COLORS["budget"],
            annotation_text=f"budget {fmt.usd(review.budget_usd)}",
        )
    return layout(fig, y_title="USD per month")
