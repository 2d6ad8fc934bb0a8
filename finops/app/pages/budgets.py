"""Budgets & alerts page: each team's month to date against its budget, the month-end
projection and run-out date, and everything that fires today (budgets, anomalies,
unallocated and unpriced spend)."""

from __future__ import annotations

import streamlit as st

from finops.analysis.budgets import BASIS_EFFECTIVE
from finops.app import support as ui
from finops.core import format as fmt
from finops.views import charts
from finops.views.review import months_between

db, version = ui.require_store("Budgets & alerts")
opts = ui.options(db, version)
if opts.last_day is None:
    st.info("The store has no usage yet.")
    st.stop()

months = months_between(opts.first_day, opts.last_day)
month = st.selectbox("Month", months, key="budget_month", format_func=lambda m: f"{m:%B %Y}")
view = ui.budgets(db, version, month)
if view.viewer_teams is not None:
    st.caption(
        "Budgets of your teams only: "
        + (", ".join(view.viewer_teams) or "none")
        + ". The total is theirs, without the organisation's total budget."
    )
if view.source is None:
    st.info(
        "No budgets: set monthly_budget_usd per team (and for the total) in teams.yaml, and "
        "point FINOPS_TEAMS at it. Spend and projections show without them."
    )

total = view.status.filter(view.status["scope"] == "total").row(0, named=True)
effective = total["basis"] == BASIS_EFFECTIVE
if effective:
    st.caption(
        "Budgets judge effective cost: what contracts.yaml says you pay. List cost is beside it."
    )
c1, c2, c3, c4 = st.columns(4)
c1.metric(
    f"Spend {month:%B %Y} to date",
    fmt.usd(total["actual_usd"]),
    help=f"{total['basis']} through {total['today']}"
    + (f"; {fmt.usd(total['list_usd'])} at list prices" if effective else ""),
)
c2.metric(
    "Projected month end",
    fmt.usd(total["projected_usd"]),
    help=total["projection"],
)
c3.metric("Budget (total)", fmt.usd(total["budget_usd"]))
c4.metric("Status", total["status"], help=total["note"])

st.plotly_chart(charts.budgets(view.status), width="stretch")
ui.show_table(
    view.status.drop("month", *(() if effective else ("list_usd",))),
    money_columns=(
        "budget_usd",
        "actual_usd",
        "list_usd",
        "projected_usd",
        "projected_lo80_usd",
        "projected_hi80_usd",
    ),
)

st.subheader(f"Alerts on {view.alerts_day}" if view.alerts_day else "Alerts")
if view.alerts.is_empty():
    st.success("Nothing fires.")
for alert in view.alerts.iter_rows(named=True):
    show = st.error if alert["severity"] == "critical" else st.warning
    # the message names its scope and its dollars already: say it once
    show(f"**{alert['kind'].capitalize()}** · {alert['message']}".replace("$", "\\$"))
st.caption("`finops alerts` runs the same checks from a scheduler and can post them to a webhook.")
