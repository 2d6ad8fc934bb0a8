"""The monthly spend review: what was spent, why it changed, what comes next — one document.

`build.build_review` computes every number once (a `MonthlyReview`); `sections.review_sections`
lays them out as sections of text, headline metrics, tables and charts (`figures` draws the
review's own charts); the Streamlit page, the Markdown export and the self-contained HTML
export (`render`) all render those same sections, so the numbers presented are the numbers
computed, whatever the medium.

Sections: summary, total and change (also per day), the change split into volume, mix and
price effects by team and by model (formulas in `finops.analysis.pvm`), top movers, new and
retired models, anomalies, unallocated and unpriced usage, catalog price changes effective in
the month, unit economics, and next month's forecast against the budget.
"""

from __future__ import annotations

from finops.core.months import parse_month
from finops.views.review.build import (
    MonthlyReview,
    build_review,
    default_month,
    default_month_for,
    months_between,
)
from finops.views.review.render import render_html, render_markdown
from finops.views.review.sections import SECTIONS, Metric, Section, Table, review_sections

__all__ = [
    "SECTIONS",
    "Metric",
    "MonthlyReview",
    "Section",
    "Table",
    "build_review",
    "default_month",
    "default_month_for",
    "months_between",
    "parse_month",
    "render_html",
    "render_markdown",
    "review_sections",
]
