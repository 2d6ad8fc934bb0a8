"""Savings page: what this company could do now, ranked by dollars per month, each with its
range, its assumptions and the `finops simulate` command that reproduces it."""

from __future__ import annotations

import streamlit as st

from finops.app import support as ui
from finops.core.store import beside_store
from finops.views.savings import opportunities_table

db, version = ui.require_store("Savings")
found = ui.opportunities(db, version)
evals = beside_store("evals.csv", db)
quality = (
    f" and meet the quality bar of the eval scores in {evals.name} beside the store"
    if evals is not None
    else "; with no evals.csv beside the store, check quality before moving"
)
st.caption(
    "Ranked by dollars per month from now on: the last 28 days of usage at today's prices, "
    "per month. Cheaper models pass the capability checks (context window, modalities, "
    f"retirement){quality}. The monthly review lists the same ones. Open any of them in the "
    "Simulator, or run its command."
)
if not found:
    st.info("No savings opportunity found in the last 28 days of usage.")
    st.stop()
st.metric("Opportunities", f"{len(found):,}", help="some overlap: do not add them all up")
ui.show_table(opportunities_table(found))
for rank, o in enumerate(found, start=1):
    with st.expander(f"{rank}. {o.title}: {ui.money(o.savings_usd)}/month"):
        for line in o.assumptions:
            st.markdown(f"- {line}".replace("$", "\\$"))
        for finding in o.result.findings:
            st.caption(f"Note: {finding.message}")
        st.code(o.command, language="bash")
