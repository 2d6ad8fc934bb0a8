"""Anomalies page: spikes, unit-cost drift, first use of a model and deprecations, each with
expected against actual and its dollar impact split into volume, price and mix."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from finops.analysis.anomalies import METRIC_LABELS
from finops.app import support as ui
from finops.views import charts
from finops.views.anomalies import impact_total

db, version = ui.require_store("Anomalies")
opts = ui.options(db, version)
if opts.last_day is None:
    st.info("The store has no usage yet.")
    st.stop()
flt = ui.filter_sidebar(opts, dates=False)

c1, c2 = st.columns(2)
window = c1.selectbox("Days checked", [1, 7, 14, 30], index=1, key="anomaly_days")
last = c2.date_input(
    "Up to",
    value=opts.last_day,
    min_value=opts.first_day,
    max_value=opts.last_day,
    key="anomaly_last",
)
first = last - dt.timedelta(days=window - 1)
found = ui.anomalies(db, version, flt, first, last)

c1, c2, c3 = st.columns(3)
c1.metric("Findings", f"{found.height:,}")
c2.metric("Spikes", f"{found.filter(found['check'] == 'spike').height:,}")
c3.metric(
    "Impact of spikes and drift",
    ui.money(impact_total(found)),
    help="Each event once: a scope drifting in two metrics (cost and prompt size per request) "
    "has one dearer unit cost.",
)
st.caption(
    f"{first} to {last}; {flt.describe()}. Every check judges a team, model or API key against its "
    "own weekly-seasonal history. A spike's impact is actual − expected = volume + mix + price; "
    "a drift's is what the dearer unit cost added over its window, beside the split of that "
    "window's change. Volume is priced tokens at the baseline's prices, as in the review."
)
if found.is_empty():
    st.success("No anomalies in these days.")
    st.stop()
if found["volume_usd"].is_not_null().any():
    st.plotly_chart(charts.anomaly_impacts(found), width="stretch")
ui.show_table(
    found.select(
        "day",
        "check",
        "scope",
        "key",
        "model",
        pl.col("metric").replace(METRIC_LABELS),
        "expected",
        "actual",
        "impact_usd",
        "volume_usd",
        "price_usd",
        "mix_usd",
        "detail",
    ),
    money_columns=("impact_usd", "volume_usd", "price_usd", "mix_usd"),
)
