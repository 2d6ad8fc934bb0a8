"""Overview page: month to date against last month, the month-end projection, spend over time."""

from __future__ import annotations

import streamlit as st

from finops.app import support as ui
from finops.core import format as fmt
from finops.views import charts
from finops.views.overview import OVER_TIME_DIMENSIONS

db, version = ui.require_store("Overview")
opts = ui.options(db, version)
if opts.last_day is None:
    st.info("The store has no usage yet. Load data with `finops demo` or `finops ingest FILE`.")
    st.stop()
flt = ui.filter_sidebar(opts)
ov = ui.overview(db, version, flt)
if ov.as_of is None:
    st.info("No usage matches the filters.")
    st.stop()
st.caption(f"Showing {flt.describe()}. Data through {opts.last_day:%d %b %Y}.")
if ov.source:
    st.caption(ov.source)

if ov.unpriced_warning:  # more than 1% of tokens: say how to fix it
    st.warning(f"Unpriced usage: {ov.unpriced_warning}", icon="⚠️")
elif ov.unpriced_rows:
    st.warning(
        f"Unpriced usage: {fmt.rows_and_tokens(ov.unpriced_rows, ov.unpriced_tokens)} "
        "have no catalog price and are not in these totals (never counted as $0). See `finops unpriced`."
    )

proj = ov.projection
col1, col2, col3, col4 = st.columns(4)
col1.metric(
    f"Spend {ov.month_start:%B %Y} to date",
    ui.money(ov.month_to_date_usd),
    delta=None
    if ov.change_same_days_pct is None
    else f"{fmt.pct(ov.change_same_days_pct)} vs same days last month",
    delta_color="inverse",
    help=f"{ov.days_elapsed} of {ov.days_in_month} days",
)
if proj is not None and proj.available and not proj.days_forecast:
    # the month is complete: its total is the first card, so this one says what we pay
    saved = ov.month_to_date_usd - ov.month_to_date_effective_usd
    col2.metric(
        f"Effective cost {ov.month_start:%B}",
        ui.money(ov.month_to_date_effective_usd),
        delta=None if not saved else f"{ui.money(saved)} saved by contracts",
        delta_color="off",
        help="After contract discounts and commitments (contracts.yaml)",
    )
elif proj is not None and proj.available:
    col2.metric(
        "Projected month end",
        ui.money(proj.mean),
        delta=None
        if ov.projected_vs_last_month_pct is None
        else f"{fmt.pct(ov.projected_vs_last_month_pct)} vs last month",
        delta_color="inverse",
        help=None
        if proj.lo80 is None
        else f"80% interval {ui.money(proj.lo80)} – {ui.money(proj.hi80)}; "
        f"95% {ui.money(proj.lo95)} – {ui.money(proj.hi95)} ({proj.method})",
    )
else:
    col2.metric("Projected month end", "—", help=proj.note if proj else None)
col3.metric(
    f"Spend {ov.last_month_start:%B %Y}",
    ui.money(ov.last_month_usd),
    delta=None
    if ov.change_per_day_pct is None
    else f"{fmt.pct(ov.change_per_day_pct)} per day this month",
    delta_color="inverse",
)
if (ov.month_to_date_effective_usd, ov.last_month_effective_usd) != (
    ov.month_to_date_usd,
    ov.last_month_usd,
):
    st.caption(
        f"List prices above. Effective cost after your contracts: "
        f"{ui.money(ov.month_to_date_effective_usd)} {ov.month_start:%B} to date, "
        f"{ui.money(ov.last_month_effective_usd)} in {ov.last_month_start:%B}."
    )
else:
    st.caption(
        "Effective cost equals list cost: no contracts.yaml beside the store (or FINOPS_CONTRACTS)."
    )
if ov.budget_usd is not None:
    col4.metric(
        f"Budget {ov.month_start:%B}",
        ui.money(ov.budget_usd),
        delta=None
        if ov.projected_vs_budget_pct is None
        else f"{fmt.pct(ov.projected_vs_budget_pct)} projected vs budget",
        delta_color="inverse",
        help=f"monthly_budget_usd in teams.yaml; data through {ov.as_of:%d %b %Y}",
    )
else:
    col4.metric(
        "Data through",
        f"{ov.as_of:%d %b %Y}",
        help=f"Catalog revision {ov.revision_id}. Set monthly_budget_usd in teams.yaml "
        "(FINOPS_TEAMS) to compare with a budget.",
    )
if proj is not None and proj.available and proj.days_forecast and proj.lo80 is not None:
    st.caption(
        f"Month-end projection: {ui.money(proj.mean)}, 80% interval {ui.money(proj.lo80)} – "
        f"{ui.money(proj.hi80)} ({proj.days_forecast} days forecast with {proj.method})."
    )

st.subheader(f"Spend over time: {ui.money(ov.period_usd)}")
left, right = st.columns([2, 1])
dimension = left.radio(
    "Split by", list(OVER_TIME_DIMENSIONS), horizontal=True, key="overview_split"
)
view = right.radio("View", ["Stacked", "Lines"], horizontal=True, key="overview_view")
st.plotly_chart(
    charts.spend_over_time(
        ov.over_time(dimension, top=10),
        dimension,
        stacked=view == "Stacked",
        colors=ui.colors(opts),
    ),
    width="stretch",
)

st.subheader(f"Spend by model, {ov.month_start:%B %Y}")
st.plotly_chart(charts.spend_by_model(ov.by_model_month, colors=ui.colors(opts)), width="stretch")
ui.show_table(ov.by_model_month, money_columns=("cost_usd",))
