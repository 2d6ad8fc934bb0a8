"""Monthly review page: the review of a month, whole or one section per screen ("present"),
with the same document as `finops review --out FILE.html|.md` to download."""

from __future__ import annotations

import streamlit as st

from finops.app import support as ui
from finops.views import review as rv

db, version = ui.require_store("Monthly review")
opts = ui.options(db, version)
if opts.last_day is None:
    st.info("The store has no usage yet.")
    st.stop()
flt = ui.filter_sidebar(opts, dates=False)

months = rv.months_between(opts.first_day, opts.last_day)
default = rv.default_month_for(opts.first_day, opts.last_day)
state = st.session_state
if state.get("review_month") not in months:
    state["review_month"] = default
left, right = st.columns([1, 1])
month = left.selectbox("Month", months, key="review_month", format_func=lambda m: f"{m:%B %Y}")
present = right.toggle("Present (one section per screen)", key="review_present")

review = ui.review(db, version, month, flt)
sections = rv.review_sections(review)

if present:
    # full screen: no sidebar, header or toolbar around the slide
    st.markdown(
        "<style>[data-testid='stSidebar'],[data-testid='stSidebarCollapsedControl'],"
        "header[data-testid='stHeader'],[data-testid='stToolbar']{display:none !important}"
        "[data-testid='stMainBlockContainer']{padding-top:1rem;max-width:100%}</style>",
        unsafe_allow_html=True,
    )
    index = min(state.get("review_slide", 0), len(sections) - 1)
    prev_col, info_col, next_col = st.columns([1, 4, 1])
    if prev_col.button("◀ Previous", disabled=index == 0, width="stretch"):
        state["review_slide"] = index - 1
        st.rerun()
    if next_col.button("Next ▶", disabled=index == len(sections) - 1, width="stretch"):
        state["review_slide"] = index + 1
        st.rerun()
    info_col.caption(f"{review.title} — section {index + 1} of {len(sections)}")
    ui.show_section(sections[index])
    st.stop()

st.caption(f"{review.title}. Data through {review.as_of}; catalog revision {review.revision_id}.")
base = f"finops-review-{month:%Y-%m}"
d1, d2, _ = st.columns([1, 1, 3])
d1.download_button(
    "Download HTML",
    data=lambda: rv.render_html(review),
    file_name=f"{base}.html",
    mime="text/html",
    help="One self-contained file: charts included, opens offline.",
)
d2.download_button(
    "Download Markdown",
    data=lambda: rv.render_markdown(review),
    file_name=f"{base}.md",
    mime="text/markdown",
)
for section in sections:
    ui.show_section(section)
    st.divider()
