"""The Simulator page model: which models to offer, the headline, and the figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import plotly.graph_objects as go
import polars as pl

from finops.analysis.opportunities import is_live, step_down_targets
from finops.analysis.simulate import FORWARD_RATE_DAYS, SimulationResult, frontier_points
from finops.core import format as fmt
from finops.session.session import Session

__all__ = [
    "SimulatorChoices",
    "assumptions_table",
    "frontier_figure",
    "headline",
    "left_out",
    "months_figure",
    "simulator_choices",
]


@dataclass(frozen=True)
class SimulatorChoices:
    """What the Simulator offers: source models (the largest spender of the last 28 days
    first), live target models, and for each source a suggested target (the smallest step
    down in price of the same kind), all as of `today`."""

    today: dt.date
    sources: list[str]
    source_spend: dict[str, str]  # model → "$1,234.56 in the last 28 days"
    targets: list[tuple[str, str]]  # (provider, model id), live on `today`
    suggested: dict[str, tuple[str, str]]


def simulator_choices(session: Session, *, today: dt.date | None = None) -> SimulatorChoices:
    """The Simulator's choices on `today` (default: the store's today)."""
    today = session.day(today)
    first = today - dt.timedelta(days=FORWARD_RATE_DAYS - 1)
    recent = session.spend(
        ["provider", "model"], from_day=first, to_day=today + dt.timedelta(days=1)
    )
    recent = recent.filter(pl.col("cost_usd").is_not_null()).sort(
        ["cost_usd", "model"], descending=[True, False]
    )
    every = session.spend(["model"]).sort("model")["model"].to_list()
    sources: list[str] = []
    spend: dict[str, str] = {}
    provider_of: dict[str, str] = {}
    for row in recent.iter_rows(named=True):
        if row["model"] not in provider_of:
            sources.append(row["model"])
            provider_of[row["model"]] = row["provider"]
            spend[row["model"]] = f"{fmt.usd(row['cost_usd'])} in the last {FORWARD_RATE_DAYS} days"
    sources += [m for m in every if m not in provider_of]
    models = session.catalog.models
    targets = sorted({(m.provider, m.id) for m in models if is_live(m, today)})
    suggested: dict[str, tuple[str, str]] = {}
    for name, provider in provider_of.items():
        found = session.catalog.lookup(name, provider)
        like_for_like = len(found) == 1 and not found[0].fine_tuned_of
        steps = step_down_targets(models, found[0], today) if like_for_like else []
        if steps:
            suggested[name] = (steps[0].provider, steps[0].id)
    return SimulatorChoices(today, sources, spend, targets, suggested)


def headline(result: SimulationResult) -> dict[str, str]:
    """The answer in words and dollars: metric label → value (per month, formatted)."""
    m = result.monthly
    if m is None:
        return {}
    moved = m["savings_pct_of_moved"]
    return {
        "Moved workload today": f"{fmt.usd(m['moved_actual_cost_usd'])}/month",
        "On the scenario": f"{fmt.usd(m['moved_scenario_cost_usd'])}/month",
        "Saving": f"{fmt.usd(m['savings_usd'])}/month",
        "Saving, share of the moved workload": fmt.exact_pct(moved),
        "Range": f"{fmt.usd(m['savings_usd_low'])} to {fmt.usd(m['savings_usd_high'])}/month",
        "Share of the scope's spend": "—"
        if m["savings_pct_of_scope"] is None
        else f"{fmt.exact_pct(m['savings_pct_of_scope'])} of {fmt.usd(m['actual_cost_usd'])}/month",
    }


def left_out(result: SimulationResult) -> str | None:
    """What the simulation could not price, in a sentence (None when it priced everything)."""
    excluded = result.excluded
    if not (excluded["unpriced_actual_rows"] or excluded["unpriced_scenario_rows"]):
        return None
    return (
        f"left out: {fmt.plural(excluded['unpriced_actual_rows'], 'row')} unpriced today, "
        f"{fmt.plural(excluded['unpriced_scenario_rows'], 'row')} the scenario cannot price "
        f"({fmt.usd(excluded['unpriced_scenario_actual_cost_usd'])} of actual cost)"
    )


def assumptions_table(result: SimulationResult) -> pl.DataFrame:
    """Each move's assumptions as rows: move, assumption, low, expected, high, source."""
    rows = []
    for move in result.moves:
        for name, value in move["assumptions"].items():
            if isinstance(value, dict):
                figures = [str(value[k]) for k in ("low", "expected", "high")]
                source = value.get("source") or ("scenario" if name.startswith("contract") else "")
            else:
                figures, source = [str(value)] * 3, "as observed in the usage"
            rows.append(
                {
                    "move": f"{move['from']} → {move['to']}",
                    "assumption": name.replace("_", " "),
                    "low": figures[0],
                    "expected": figures[1],
                    "high": figures[2],
                    "source": source,
                }
            )
    return pl.DataFrame(
        rows,
        schema=dict.fromkeys(("move", "assumption", "low", "expected", "high", "source"), pl.Utf8),
        orient="row",
    )


def months_figure(result: SimulationResult) -> go.Figure:
    """Actual and scenario cost per month, the scenario's low–high range as a band."""
    months = result.months_frame()
    figure = go.Figure()
    if months.is_empty():
        figure.update_layout(title="No priced usage in scope")
        return figure
    x = months["month"].to_list()
    actual = [float(v) for v in months["actual_cost_usd"]]
    scenario = [float(v) for v in months["scenario_cost_usd"]]
    # scenario cost range: actual − the high saving .. actual − the low saving
    low = [a - float(s) for a, s in zip(actual, months["savings_usd_high"], strict=True)]
    high = [a - float(s) for a, s in zip(actual, months["savings_usd_low"], strict=True)]
    figure.add_trace(go.Scatter(x=x, y=high, mode="lines", line={"width": 0}, showlegend=False))
    figure.add_trace(
        go.Scatter(
            x=x,
            y=low,
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor="rgba(44, 160, 44, 0.2)",
            name="scenario range",
        )
    )
    figure.add_trace(go.Scatter(x=x, y=actual, mode="lines+markers", name="actual"))
    figure.add_trace(go.Scatter(x=x, y=scenario, mode="lines+markers", name="scenario"))
    figure.update_layout(
        title="Cost per month, actual and on the scenario (as billed each day)",
        yaxis_title="USD",
        yaxis_tickprefix="$",
        hovermode="x unified",
    )
    return figure


def frontier_figure(result: SimulationResult):
    """A plotly figure of the cost–quality frontier: every scored model, the frontier line, the
    current and target models marked, and the minimum score if one was set."""
    points = frontier_points(result)
    figure = go.Figure()
    if points.is_empty():
        figure.update_layout(title="No eval results for this scenario")
        return figure
    usable = points.filter(pl.col("comparable"))
    labels = [
        f"{m}{' (current)' if c else ''}{' (target)' if t else ''}"
        for m, c, t in zip(usable["model"], usable["is_current"], usable["is_target"])
    ]
    figure.add_trace(
        go.Scatter(
            x=[float(c) for c in usable["cost_usd"]],
            y=usable["score"].to_list(),
            mode="markers+text",
            text=labels,
            textposition="top center",
            marker={
                "size": 11,
                "symbol": ["x" if b else "circle" for b in usable["blocked"]],
                "color": [
                    "#d62728" if c else "#2ca02c" if t else "#1f77b4"
                    for c, t in zip(usable["is_current"], usable["is_target"])
                ],
            },
            name="models",
        )
    )
    front = usable.filter(pl.col("on_frontier")).sort("cost_usd")
    figure.add_trace(
        go.Scatter(
            x=[float(c) for c in front["cost_usd"]],
            y=front["score"].to_list(),
            mode="lines",
            line={"dash": "dot"},
            name="frontier",
        )
    )
    if result.quality and result.quality.get("min_score") is not None:
        figure.add_hline(
            y=result.quality["min_score"], line_dash="dash", annotation_text="min score"
        )
    figure.update_layout(
        title=f"Cost and quality: {result.scenario.name}",
        xaxis_title=f"cost of the scope, USD ({result.first_day} to {result.last_day})",
        yaxis_title=result.quality["basis"] if result.quality else "score",
    )
    return figure
