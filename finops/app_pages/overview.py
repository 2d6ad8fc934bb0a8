"""Overview page: spend this month and last, by team over time, by model; unpriced banner."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from finops import app_support as ui

db = ui.store_path()
st.title("Overview")
if not db.exists():
    st.info(f"No store at `{db}` yet. Load data with `finops demo` or `finops ingest FILE`.")
    st.stop()

ov = ui.overview(str(db), ui.pricing_path(), ui.store_version(db))
if ov.as_of is None:
    st.info("The store has no usage yet. Load data with `finops demo` or `finops ingest FILE`.")
    st.stop()

if ov.unpriced_rows:
    st.warning(
        f"Unpriced usage: {ov.unpriced_rows:,} rows / {ov.unpriced_tokens:,} tokens have no catalog "
        "price and are not in these totals (never counted as $0). See `finops unpriced`."
    )

col1, col2, col3 = st.columns(3)
col1.metric(
    f"Spend {ov.month_start:%B %Y} to date",
    ui.money(ov.month_to_date_usd),
    delta=None
    if ov.change_per_day_pct is None
    else f"{ov.change_per_day_pct:+.1f}% per day vs last month",
    delta_color="inverse",
)
col2.metric(f"Spend {ov.last_month_start:%B %Y}", ui.money(ov.last_month_usd))
col3.metric("Data through", f"{ov.as_of:%d %b %Y}", help=f"Catalog revision {ov.revision_id}")

st.subheader("Spend by team")
by_team = ov.by_team_day.with_columns(ov.by_team_day["cost_usd"].cast(float))
view = st.radio("View", ["Stacked", "Lines"], horizontal=True, label_visibility="collapsed")
if view == "Stacked":
    fig = px.area(by_team.to_pandas(), x="day", y="cost_usd", color="team")
else:
    fig = px.line(by_team.to_pandas(), x="day", y="cost_usd", color="team")
fig.update_layout(yaxis_title="USD per day", xaxis_title=None, legend_title=None, height=380)
st.plotly_chart(fig, use_container_width=True)

st.subheader(f"Spend by model, {ov.month_start:%B %Y}")
models = ov.by_model_month.with_columns(ov.by_model_month["cost_usd"].cast(float))
priced = models.filter(models["cost_usd"].is_not_null())
fig = px.bar(priced.to_pandas(), x="cost_usd", y="model", color="provider", orientation="h")
fig.update_layout(
    yaxis={"categoryorder": "total ascending"}, xaxis_title="USD", yaxis_title=None, height=420
)
st.plotly_chart(fig, use_container_width=True)
st.dataframe(ov.by_model_month, hide_index=True, use_container_width=True)
