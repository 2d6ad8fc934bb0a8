"""Forecast page: daily spend ahead with 80% and 95% intervals, for the total or split by team,
provider or model (the parts add up to the total), and month totals."""

from __future__ import annotations

import streamlit as st

from finops.analysis.forecast.api import METHOD_NAMES
from finops.app import support as ui
from finops.core import format as fmt
from finops.core.months import month_end
from finops.views import charts
from finops.views.forecast import SPLITS

db, version = ui.require_store("Forecast")
opts = ui.options(db, version)
if opts.last_day is None:
    st.info("The store has no usage yet.")
    st.stop()
flt = ui.filter_sidebar(opts)

c1, c2, c3 = st.columns(3)
split = c1.selectbox(
    "Split by", SPLITS, format_func=lambda s: "total only" if s is None else s, key="fc_split"
)
horizon = c2.select_slider(
    "Days ahead",
    options=["to the end of next month", 14, 28, 45, 62, 92],
    key="fc_horizon",
)
method = c3.selectbox("Method", METHOD_NAMES, key="fc_method")

try:
    result = ui.forecast(
        db, version, flt, split, None if isinstance(horizon, str) else horizon, method
    )
except LookupError as exc:
    st.info(str(exc))
    st.stop()

months = result.months.filter(result.months["key"] == "total")
st.caption(
    f"Forecast from daily spend through {result.as_of} ({flt.describe()}); "
    f"method: {result.forecast['method'][0]}. "
    + (
        "The store's one forecast: the Overview, Budgets and the review show the same numbers."
        if result.shared
        else "An exploration (another method or horizon), not the forecast other pages show."
    )
)
if result.change:
    st.info(result.change[0].upper() + result.change[1:] + ".")
if result.approximate:
    st.caption(
        f"Intervals of {', '.join(result.approximate)} add several forecasts' intervals as if "
        "independent (approximate); the means are exact sums."
    )
cols = st.columns(max(1, min(4, months.height)))
for col, row in zip(cols, months.iter_rows(named=True), strict=False):
    state = "forecast"
    if month_end(row["month"]) <= result.as_of:
        state = "actual"
    elif row["actual_to_date"]:
        state = "projected"
    label = f"{row['month']:%B %Y} ({state})"
    col.metric(
        label,
        fmt.usd(row["mean"]),
        help=None
        if row["lo80"] is None
        else f"80% interval {fmt.usd(row['lo80'])} – {fmt.usd(row['hi80'])}; "
        f"95% {fmt.usd(row['lo95'])} – {fmt.usd(row['hi95'])}",
    )
notes = [n for n in result.forecast["note"].unique().to_list() if n]
for note in notes:
    st.caption(f"Note: {note}")

key = "total"
if split:
    key = st.radio("Series", result.keys, horizontal=True, key="fc_series")
history, forecast = result.series(key)
st.plotly_chart(charts.forecast_band(history, forecast), width="stretch")

st.subheader("Month totals")
ui.show_table(
    result.months.select("key", "month", "actual_to_date", "mean", "lo80", "hi80", "lo95", "hi95"),
    money_columns=("actual_to_date", "mean", "lo80", "hi80", "lo95", "hi95"),
)

plan = ui.planned(db, version)
if plan is not None and not plan.is_empty():
    st.subheader("As is and as planned")
    st.caption(
        "The total forecast beside the migrations planned in plans.yaml: each month saves the "
        "simulated monthly saving times the share of its days the plan has moved (ramps "
        "included), so a month wholly after a plan saves exactly that amount. Same numbers as "
        "`finops forecast --plan plans.yaml`."
    )
    st.plotly_chart(charts.planned_months(plan), width="stretch")
    ui.show_table(
        plan.select(
            "month",
            "as_is_usd",
            "saving_usd",
            "saving_low_usd",
            "saving_high_usd",
            "as_planned_usd",
        ),
        money_columns=(
            "as_is_usd",
            "saving_usd",
            "saving_low_usd",
            "saving_high_usd",
            "as_planned_usd",
        ),
    )

with st.expander("How good is it on this spend? (backtest)"):
    if st.button("Run the backtest", key="fc_backtest"):
        score = ui.forecast_backtest(db, version, flt, method)
        b1, b2, b3 = st.columns(3)
        b1.metric(
            "Relative MASE", f"{score['relative_mase']:.2f}", help="below 1 beats seasonal naive"
        )
        b2.metric("80% interval coverage", fmt.share(score["coverage80"]))
        b3.metric("28-day total error", f"{score['total_error_pct']:.1f}%")
