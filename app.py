"""The finops Streamlit app: a frame around the pages in finops/app/pages/.

Run it with `finops app` (or `streamlit run app.py`); FINOPS_DB names the store.
"""

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).resolve().parent / "finops" / "app" / "pages"

st.set_page_config(page_title="finops — AI spend", page_icon="💸", layout="wide")
page = st.navigation(
    {
        "Spend": [
            st.Page(
                PAGES / "overview.py", title="Overview", icon=":material/dashboard:", default=True
            ),
            st.Page(PAGES / "teams.py", title="Teams", icon=":material/groups:"),
            st.Page(PAGES / "review.py", title="Monthly review", icon=":material/summarize:"),
        ],
        "Plan": [
            st.Page(PAGES / "forecast.py", title="Forecast", icon=":material/trending_up:"),
            st.Page(PAGES / "simulator.py", title="Simulator", icon=":material/swap_horiz:"),
            st.Page(PAGES / "savings.py", title="Savings", icon=":material/paid:"),
            st.Page(PAGES / "budgets.py", title="Budgets & alerts", icon=":material/savings:"),
            st.Page(PAGES / "anomalies.py", title="Anomalies", icon=":material/warning:"),
        ],
        "Data": [
            st.Page(PAGES / "upload.py", title="Upload", icon=":material/upload_file:"),
            st.Page(PAGES / "catalog.py", title="Price catalog", icon=":material/sell:"),
        ],
    }
)
page.run()
