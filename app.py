"""The finops Streamlit app: a frame around the pages in finops/app_pages/.

Run it with `finops app` (or `streamlit run app.py`); FINOPS_DB names the store.
"""

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).resolve().parent / "finops" / "app_pages"

st.set_page_config(page_title="finops — AI spend", page_icon="💸", layout="wide")
page = st.navigation(
    [
        st.Page(PAGES / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
    ]
)
page.run()
