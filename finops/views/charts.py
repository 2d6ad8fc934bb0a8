"""Plotly figures shared by the app pages and the exported monthly review.

Each function takes a library result (a frame or a dataclass) and returns a figure; none
computes numbers of its own, so a chart always shows what the tables beside it say.
"""

from __future__ import annotations

import datetime as dt

import plotly.express as px
import plotly.graph_objects as go
import polars as pl

from finops.analysis.anomalies import METRIC_LABELS
from finops.core.today import pinned_today

__all__ = [
    "COLORS",
    "anomaly_impacts",
    "effects_by",
    "forecast_band",
    "layout",
    "monthly_spend",
    "movers",
    "planned_months",
    "price_history",
    "spend_by_model",
    "spend_over_time",
]

_HEIGHT = 380

#: Twelve colours for named series, alternating dark and light so that neighbours stay apart
#: when printed in grey; colour-blind-safe hues (Okabe-Ito and Tableau's).
PALETTE = (
    "#1F4E79",  # dark blue
    "#F2A541",  # light orange
    "#2E7D4F",  # dark green
    "#9BC4E2",  # light blue
    "#B8336A",  # dark magenta
    "#E8D166",  # light yellow
    "#5B3F8C",  # dark purple
    "#8FD3B5",  # light green
    "#A63A1E",  # dark red-brown
    "#D4A5C9",  # light pink
    "#3D3D3D",  # dark grey
    "#C7B299",  # light sand
)
#: The review's own series, fixed: effects, actual against forecast, budget, up and down.
COLORS = {
    "volume": "#1F4E79",
    "mix": "#F2A541",
    "price": "#2E7D4F",
    "actual": "#1F4E79",
    "forecast": "#9BC4E2",
    "budget": "#B8336A",
    "up": "#B8336A",
    "down": "#2E7D4F",
}
#: The app's look (.streamlit/config.toml) for every figure, in the app and in the review.
TEMPLATE = go.layout.Template(
    layout={
        "font": {
            "family": "Source Sans Pro, Segoe UI, Helvetica, Arial, sans-serif",
            "color": "#1F2328",
            "size": 13,
        },
        "colorway": list(PALETTE),
        "paper_bgcolor": "#FFFFFF",
        "plot_bgcolor": "#FFFFFF",
        "xaxis": {
            "gridcolor": "#E5E7EB",
            "linecolor": "#9CA3AF",
            "zerolinecolor": "#9CA3AF",
            "automargin": True,
        },
        "yaxis": {
            "gridcolor": "#E5E7EB",
            "linecolor": "#9CA3AF",
            "zerolinecolor": "#9CA3AF",
            "automargin": True,
        },
        "hoverlabel": {"font": {"family": "Source Sans Pro, sans-serif"}},
    }
)


def color_map(names: list[str] | tuple[str, ...]) -> dict[str, str]:
    """One colour per name (team, provider, model), the same on every page and in the review:
    give it every name the store knows (not just those on screen) and a name keeps its colour
    whatever the filter shows.

    >>> color_map(["support", "search", "search"])
    {'search': '#1F4E79', 'support': '#F2A541'}
    """
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(sorted(set(names)))}


def _money(frame: pl.DataFrame, column: str = "cost_usd") -> pl.DataFrame:
    """Money and the Int128 sums of counts as floats: what a chart draws (and pandas takes)."""
    wide = [n for n, d in frame.schema.items() if d == pl.Int128 and n != column]
    return frame.with_columns(pl.col(column, *wide).cast(pl.Float64))


def layout(fig: go.Figure, *, height: int = _HEIGHT, y_title: str | None = "USD") -> go.Figure:
    fig.update_layout(
        template=TEMPLATE,
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend_title=None,
        xaxis_title=None,
        yaxis_title=y_title,
    )
    return fig


def spend_over_time(
    frame: pl.DataFrame,
    dimension: str,
    *,
    stacked: bool = True,
    colors: dict[str, str] | None = None,
) -> go.Figure:
    """Daily spend split by `dimension` (day, <dimension>, cost_usd), stacked areas or lines."""
    data = _money(frame).to_pandas()
    draw = px.area if stacked else px.line
    fig = draw(
        data,
        x="day",
        y="cost_usd",
        color=dimension,
        color_discrete_map=colors or {},
        labels={"cost_usd": "USD", "day": "day", dimension: dimension},
    )
    return layout(fig, y_title="USD per day")


def spend_by_model(frame: pl.DataFrame, *, colors: dict[str, str] | None = None) -> go.Figure:
    """Horizontal bars of provider, model, cost_usd (priced rows only)."""
    data = _money(frame.filter(pl.col("cost_usd").is_not_null())).to_pandas()
    fig = px.bar(
        data,
        x="cost_usd",
        y="model",
        color="provider",
        orientation="h",
        color_discrete_map=colors or {},
        labels={"cost_usd": "USD"},
    )
    fig.update_layout(yaxis={"categoryorder": "total ascending"})
    return layout(fig, height=max(260, 28 * len(data) + 80), y_title=None)


def monthly_spend(
    frame: pl.DataFrame, dimension: str, *, colors: dict[str, str] | None = None
) -> go.Figure:
    """Stacked monthly bars (month, <dimension>, cost_usd)."""
    data = _money(frame.filter(pl.col("cost_usd").is_not_null())).to_pandas()
    fig = px.bar(
        data,
        x="month",
        y="cost_usd",
        color=dimension,
        color_discrete_map=colors or {},
        labels={"cost_usd": "USD"},
    )
    fig.update_xaxes(dtick="M1", tickformat="%b %Y")
    return layout(fig, y_title="USD per month")


def effects_by(frame: pl.DataFrame, key: str, *, top: int = 12) -> go.Figure:
    """Volume, mix and price effects of the largest movers among `key` (relative bars)."""
    data = frame.head(top)
    fig = go.Figure()
    for effect in ("volume", "mix", "price"):
        fig.add_bar(
            y=data[key].to_list(),
            x=data[f"{effect}_usd"].cast(pl.Float64).to_list(),
            name=effect,
            orientation="h",
            marker_color=COLORS[effect],
        )
    fig.update_layout(barmode="relative", yaxis={"autorange": "reversed"})
    return layout(fig, height=max(260, 30 * data.height + 90), y_title=None)


def movers(up: pl.DataFrame, down: pl.DataFrame) -> go.Figure:
    """The top movers up and down as one horizontal bar chart of their change."""
    both = pl.concat([up, down.sort("change_usd", descending=True)])
    labels = [f"{t} · {m}" for t, m in zip(both["team"], both["model"], strict=True)]
    change = both["change_usd"].cast(pl.Float64).to_list()
    fig = go.Figure(
        go.Bar(
            x=change,
            y=labels,
            orientation="h",
            marker_color=[COLORS["up"] if c > 0 else COLORS["down"] for c in change],
        )
    )
    fig.update_layout(yaxis={"autorange": "reversed"}, showlegend=False)
    return layout(fig, height=max(260, 24 * len(labels) + 80), y_title=None)


def price_history(history: pl.DataFrame, classes: list[str]) -> go.Figure:
    """Standard-tier, base-band rates of one model over time as steps (USD per 1M tokens)."""
    base = history.filter(
        (pl.col("service_tier") == "standard") & pl.col("prompt_over_tokens").is_null()
    ).sort("valid_from")
    fig = go.Figure()
    today = pinned_today() or dt.date.today()
    for cls in classes:
        if cls not in base.columns:
            continue
        xs, ys = [], []
        for row in base.iter_rows(named=True):
            if row[cls] is None:
                continue
            end = row["valid_to"] or max(today, row["valid_from"] + dt.timedelta(days=30))
            xs += [row["valid_from"], end]
            ys += [float(row[cls]), float(row[cls])]
        if xs:
            fig.add_scatter(x=xs, y=ys, name=cls, mode="lines", line={"shape": "hv"})
    return layout(fig, height=320, y_title="USD per 1M tokens")


def forecast_band(history: pl.DataFrame, forecast: pl.DataFrame) -> go.Figure:
    """Daily history (day, cost_usd) and a forecast frame (day, mean, lo80..hi95)."""
    fig = go.Figure()
    fig.add_scatter(
        x=history["day"].to_list(),
        y=history["cost_usd"].cast(pl.Float64).to_list(),
        name="actual",
        mode="lines",
        line={"color": COLORS["actual"]},
    )
    days = forecast["day"].to_list()
    for level, color in ((95, "rgba(155,196,226,0.35)"), (80, "rgba(155,196,226,0.7)")):
        if f"lo{level}" not in forecast.columns:
            continue
        fig.add_scatter(
            x=days + days[::-1],
            y=forecast[f"hi{level}"].to_list() + forecast[f"lo{level}"].to_list()[::-1],
            fill="toself",
            fillcolor=color,
            line={"width": 0},
            name=f"{level}% interval",
            hoverinfo="skip",
        )
    fig.add_scatter(
        x=days,
        y=forecast["mean"].to_list(),
        name="forecast",
        line={"color": COLORS["budget"], "dash": "dash"},
    )
    return layout(fig, y_title="USD per day")


def planned_months(plan: pl.DataFrame) -> go.Figure:
    """As is beside as planned per month (from :func:`finops.views.plans.planned_outlook`),
    the planned month's bar spanning the saving's low-high range."""
    months = [f"{m:%b %Y}" for m in plan["month"]]
    planned = plan["as_planned_usd"].cast(pl.Float64)
    fig = go.Figure()
    fig.add_bar(
        x=months,
        y=plan["as_is_usd"].cast(pl.Float64).to_list(),
        name="as is",
        marker_color=COLORS["forecast"],
    )
    fig.add_bar(
        x=months,
        y=planned.to_list(),
        name="as planned",
        marker_color=COLORS["actual"],
        error_y={
            "type": "data",
            "symmetric": False,
            # a larger saving means a lower planned total, and the other way round
            "array": (plan["saving_usd"] - plan["saving_low_usd"]).cast(pl.Float64).to_list(),
            "arrayminus": (plan["saving_high_usd"] - plan["saving_usd"]).cast(pl.Float64).to_list(),
        },
    )
    fig.update_layout(barmode="group")
    return layout(fig, y_title="USD per month")


def anomaly_impacts(findings: pl.DataFrame, *, top: int = 20) -> go.Figure:
    """The findings whose impact is split into volume / price / mix, as bars (largest first)."""
    data = (
        findings.filter(pl.col("volume_usd").is_not_null())
        .sort(pl.col("impact_usd").abs(), descending=True)
        .head(top)
    )
    # a drift names its metric: one scope can drift in two at once (cost and prompt size per
    # request), and two bars under one label would be drawn stacked as one
    labels = [
        f"{d} {c} · {s} {k}" + (f" · {METRIC_LABELS.get(m, m)}" if c == "drift" else "")
        for d, c, s, k, m in zip(
            data["day"], data["check"], data["scope"], data["key"], data["metric"], strict=True
        )
    ]
    fig = go.Figure()
    for effect in ("volume", "mix", "price"):
        fig.add_bar(
            y=labels,
            x=data[f"{effect}_usd"].cast(pl.Float64).fill_null(0.0).to_list(),
            name=effect,
            orientation="h",
            marker_color=COLORS[effect],
        )
    fig.update_layout(barmode="relative", yaxis={"autorange": "reversed"})
    return layout(fig, height=max(260, 26 * len(labels) + 90), y_title=None)


def budgets(status: pl.DataFrame) -> go.Figure:
    """Per team: spend to date, the projected month end (with its 80% interval), the budget."""
    teams = status.filter(pl.col("scope") == "team").sort("actual_usd", descending=True)
    names = teams["team"].to_list()
    projected = teams["projected_usd"].cast(pl.Float64).to_list()
    low = teams["projected_lo80_usd"].cast(pl.Float64).to_list()
    high = teams["projected_hi80_usd"].cast(pl.Float64).to_list()
    fig = go.Figure()
    fig.add_bar(
        x=names,
        y=teams["actual_usd"].cast(pl.Float64).to_list(),
        name="spent to date",
        marker_color=COLORS["actual"],
    )
    fig.add_bar(
        x=names,
        y=projected,
        name="projected month end (80% interval)",
        marker_color=COLORS["forecast"],
        error_y={
            "type": "data",
            "symmetric": False,
            "array": [
                (h - p) if h is not None and p is not None else 0
                for h, p in zip(high, projected, strict=True)
            ],
            "arrayminus": [
                (p - lo) if lo is not None and p is not None else 0
                for lo, p in zip(low, projected, strict=True)
            ],
        },
    )
    fig.add_scatter(
        x=names,
        y=teams["budget_usd"].cast(pl.Float64).to_list(),
        name="budget",
        mode="markers",
        marker={
            "symbol": "line-ew-open",
            "size": 28,
            "color": COLORS["budget"],
            "line": {"width": 3},
        },
    )
    fig.update_layout(barmode="group")
    return layout(fig, y_title="USD this month")
