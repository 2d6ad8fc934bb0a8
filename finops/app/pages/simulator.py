"""Simulator page: what moving a workload to another model would have cost, from the stored
usage, with a low / expected / high range, capability checks and the forward savings."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from finops.analysis import simulate as sim
from finops.app import support as ui
from finops.core import format as fmt
from finops.views.simulation import frontier_figure

db, version = ui.require_store("Simulator")
opts = ui.options(db, version)
if opts.last_day is None:
    st.info("The store has no usage yet.")
    st.stop()
flt = ui.filter_sidebar(opts)
catalog = ui.catalog(version)
targets = sorted({(m.provider, m.id) for m in catalog.models})


def _label(target: tuple[str, str]) -> str:
    return f"{target[0]} / {target[1]}"


def _ref(target: tuple[str, str]) -> sim.ModelRef:
    return sim.ModelRef(model=target[1], provider=target[0])


st.caption(
    "Scope: the sidebar's teams, providers and date range. The source model's stored usage is "
    "repriced as the target would bill it (token ratios, cache hits, batch share), with the "
    "effective-dated catalog."
)
c1, c2 = st.columns(2)
source = c1.selectbox("Move usage of", opts.models, key="sim_from")
mode = c2.radio("To", ["one model", "the cheapest of several"], horizontal=True, key="sim_mode")
if mode == "one model":
    to = st.selectbox(
        "Target model",
        targets,
        key="sim_to",
        index=None,
        placeholder="choose",
        format_func=_label,
    )
    chosen = (to,) if to else ()
else:
    chosen = tuple(
        st.multiselect("Candidate models", targets, key="sim_candidates", format_func=_label)
    )

with st.expander("Assumptions (blank: the defaults — token-ratio table, usage as observed)"):
    a1, a2, a3 = st.columns(3)
    cache_hit = a1.text_input("Cache-hit rate (e.g. 0.4 or 0.3:0.4:0.5)", key="sim_cache")
    batch = a2.text_input("Batch share (0..1)", key="sim_batch")
    discount = a3.text_input("Contract discount % on the target", key="sim_discount")
    horizon = st.slider("Forward savings over the next days", 7, 365, 30, key="sim_horizon")

if not chosen:
    st.info("Choose a target model to run the scenario.")
    st.stop()

try:
    scenario = sim.Scenario(
        name=f"{source} → {', '.join(_label(c) for c in chosen)}",
        moves=(
            sim.Move(source, to=_ref(chosen[0]))
            if len(chosen) == 1
            else sim.Move(source, to_cheapest_of=tuple(_ref(c) for c in chosen)),
        ),
        scope=sim.Scope(
            teams=flt.teams,
            providers=flt.providers,
            first_day=flt.from_day,
            last_day=None if flt.to_day is None else flt.to_day - dt.timedelta(days=1),
        ),
        assumptions=sim.Assumptions(
            cache_hit_rate=cache_hit.strip() or None,
            batch_share=batch.strip() or None,
            contract_discount_pct=discount.strip() or None,
        ),
        horizon_days=horizon,
    )
    result = ui.simulation(db, version, scenario)
except (sim.ScenarioError, LookupError) as exc:
    st.error(str(exc))
    st.stop()

for finding in result.findings:
    (st.error if finding.severity == "block" else st.warning)(finding.message)

m1, m2, m3 = st.columns(3)
m1.metric(
    "Actual cost", fmt.usd(result.actual_cost_usd), help=f"{result.first_day} to {result.last_day}"
)
m2.metric("As simulated", fmt.usd(result.scenario_cost_usd))
m3.metric(
    "Savings",
    fmt.usd(result.savings_usd),
    delta=None if result.savings_pct is None else f"{result.savings_pct}%",
    help=f"range {fmt.usd(result.savings_usd_low)} – {fmt.usd(result.savings_usd_high)}",
)
if result.forecast:
    f = result.forecast
    st.metric(
        f"Forward savings, next {f['horizon_days']} days",
        fmt.usd(f["savings_usd"]),
        help=f"range {fmt.usd(f['savings_usd_low'])} – {fmt.usd(f['savings_usd_high'])}; "
        f"on forecast spend of {fmt.usd(f['forecast_cost_usd'])}",
    )
elif result.forecast_note:
    st.caption(result.forecast_note)

st.subheader("By month")
ui.show_table(
    result.months_frame(),
    money_columns=(
        "actual_cost_usd",
        "scenario_cost_usd",
        "savings_usd",
        "savings_usd_low",
        "savings_usd_high",
        "effective_savings_usd",
    ),
)
st.subheader("By team")
ui.show_table(
    result.teams_frame(),
    money_columns=(
        "actual_cost_usd",
        "scenario_cost_usd",
        "savings_usd",
        "savings_usd_low",
        "savings_usd_high",
        "effective_savings_usd",
    ),
)
if result.quality:
    st.plotly_chart(frontier_figure(result), width="stretch")
