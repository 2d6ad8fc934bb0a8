"""Price catalog page: search models, a model's price history, revisions and their dollar
impact on the stored history, deprecated models still in use."""

from __future__ import annotations

import streamlit as st

from finops.app import support as ui
from finops.core import format as fmt
from finops.session.session import price_history
from finops.views import catalog as catalog_view
from finops.views import charts

db, version = ui.require_store("Price catalog")
overview = ui.catalog_overview(db, version)
catalog = ui.catalog(version)

c1, c2, c3 = st.columns(3)
c1.metric("Models in the catalog", f"{overview.models:,}")
c2.metric("Providers", overview.providers)
c3.metric("Catalog revision in use", overview.revision_id)

if overview.deprecations.height:
    st.warning(
        f"{fmt.plural(overview.deprecations.height, 'model')} used in the last 90 days "
        f"{'is' if overview.deprecations.height == 1 else 'are'} deprecated or will be within "
        "180 days: "
        + ", ".join(
            f"{r['model']} ({r['deprecated_on']}"
            + (f" → {r['successor']})" if r["successor"] else ")")
            for r in overview.deprecations.iter_rows(named=True)
        )
    )

st.subheader("Search")
left, right = st.columns([3, 1])
query = left.text_input("Model name contains", key="catalog_query", placeholder="e.g. sonnet")
providers = sorted({m.provider for m in catalog.models})
provider = right.selectbox("Provider", ["all", *providers], key="catalog_provider")
found = catalog_view.search_models(catalog, query, provider=None if provider == "all" else provider)
st.caption(
    f"{fmt.plural(found.height, 'model')}; standard prices in force today, USD per 1M tokens."
)
ui.show_table(found)

st.subheader("Price history")
choices = [f"{p} / {m}" for p, m in zip(found["provider"], found["model"], strict=True)]
if choices:
    in_use = {f"{p} / {m}" for p, m in overview.in_use.select("provider", "model").iter_rows()}
    default = next((i for i, c in enumerate(choices) if c in in_use), 0)
    pick = st.selectbox("Model", choices, index=default, key="catalog_model")
    model_provider, model_id = pick.split(" / ", 1)
    history = price_history(catalog, model_id, provider=model_provider)
    classes = [c for c in ("input", "cache_read", "output") if c in history.columns]
    st.plotly_chart(charts.price_history(history, classes), width="stretch")
    ui.show_table(history)

st.subheader("Models in use")
st.caption(
    "Models used in the last 90 days of data, with their spend over the last 30 days "
    "(no price: —) and their retirement date where the catalog has one."
)
ui.show_table(
    overview.in_use.rename({"cost_usd": "cost_last_30_days_usd"}),
    money_columns=("cost_last_30_days_usd",),
)

st.subheader("Revisions")
ui.show_table(overview.revisions)
revisions = overview.revisions["revision_id"].to_list()
if len(revisions) < 2:
    st.info(
        "One catalog revision is recorded. When the catalog changes, the new revision is "
        "recorded the next time the store is opened, and its dollar impact shows here."
    )
else:
    a_col, b_col = st.columns(2)
    rev_a = a_col.selectbox("From revision", revisions, index=1, key="catalog_rev_a")
    rev_b = b_col.selectbox("To revision", revisions, index=0, key="catalog_rev_b")
    impact = ui.revision_impact(db, version, rev_a, rev_b)
    st.metric(
        f"Stored history priced by revision {rev_b} instead of {rev_a}",
        ui.money(impact.total_b_usd),
        delta=fmt.signed_usd(impact.change_usd) if impact.change_usd else "no change",
        delta_color="inverse",
    )
    st.caption("By month")
    ui.show_table(impact.by_month, money_columns=("cost_a", "cost_b", "change_usd"))
    st.caption("By model (changed only)")
    ui.show_table(impact.by_model, money_columns=("cost_a", "cost_b", "change_usd"))
    st.caption("Price changes (USD per 1M tokens)")
    ui.show_table(impact.price_changes)
