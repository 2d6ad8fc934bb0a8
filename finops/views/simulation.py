"""The simulator's figures: plotly charts of a simulation result."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from finops.analysis.simulate import SimulationResult, frontier_points

__all__ = ["frontier_figure"]


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
