"""Teams page: every team's spend and unit economics, then one team's drill-down."""

from __future__ import annotations

import streamlit as st

from finops.app import support as ui
from finops.core import format as fmt
from finops.views import charts

db, version = ui.require_store("Teams")
opts = ui.options(db, version)
if opts.last_day is None:
    st.info("The store has no usage yet.")
    st.stop()
flt = ui.filter_sidebar(opts)
mine = ui.viewer_teams()
whose = "every team" if mine is None else "your teams only (" + ", ".join(mine) + ")"
st.caption(f"Showing {whose}: {flt.describe()}.")

summary = ui.teams(db, version, flt)
st.metric("Spend, all teams shown", ui.money(summary.total_usd))
ui.show_table(
    summary.teams.select(
        "team",
        "cost_usd",
        "share",
        "requests",
        "tokens",
        "usd_per_1k_requests",
        "usd_per_mtok",
        "cache_hit_rate",
        "unpriced_rows",
    ),
    money_columns=("cost_usd",),
)
st.plotly_chart(
    charts.monthly_spend(summary.monthly, "team", colors=ui.colors(opts)), width="stretch"
)

names = summary.teams["team"].to_list()
if not names:
    st.info("No team has spend under these filters.")
    st.stop()
chosen = st.selectbox("Team", names, key="teams_team")
detail = ui.team(db, version, chosen, flt)

st.header(f"Team {detail.team}")
c1, c2, c3, c4 = st.columns(4)
c1.metric(f"Spend ({detail.team})", ui.money(detail.cost_usd))
c2.metric("Cost per 1K requests", fmt.rate(detail.usd_per_1k_requests))
c3.metric("Cost per 1M tokens", fmt.rate(detail.usd_per_mtok))
c4.metric("Cache-hit rate", fmt.share(detail.cache_hit_rate))
if detail.unpriced_rows:
    st.warning(
        f"Unpriced usage: {fmt.rows_and_tokens(detail.unpriced_rows, detail.unpriced_tokens)} "
        "are not in this team's cost."
    )

st.subheader("Trend")
st.plotly_chart(
    charts.spend_over_time(detail.daily_by_model, "model", colors=ui.colors(opts)), width="stretch"
)
ui.show_table(
    detail.monthly.select(
        "month",
        "cost_usd",
        "requests",
        "tokens",
        "usd_per_1k_requests",
        "usd_per_mtok",
        "cache_hit_rate",
    ),
    money_columns=("cost_usd",),
)

unit_columns = (
    "cost_usd",
    "share",
    "requests",
    "tokens",
    "usd_per_1k_requests",
    "usd_per_mtok",
    "cache_hit_rate",
)
models_tab, keys_tab, users_tab = st.tabs(["Models", "API keys", "Users"])
with models_tab:
    ui.show_table(
        detail.models.select("provider", "model", *unit_columns), money_columns=("cost_usd",)
    )
with keys_tab:
    ui.show_table(
        detail.keys.select("api_key_id", "project_id", *unit_columns), money_columns=("cost_usd",)
    )
with users_tab:
    if detail.users.height == 0 or detail.users["user_id"].null_count() == detail.users.height:
        st.info("This team's usage carries no user ids (bucket exports rarely do).")
    ui.show_table(detail.users.select("user_id", *unit_columns), money_columns=("cost_usd",))
