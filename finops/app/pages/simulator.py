"""Simulator page: what moving a workload to another model would save per month from now on,
with its range, the assumptions behind it, capability checks, and the history month by month."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from finops.analysis import simulate as sim
from finops.app import support as ui
from finops.views.simulation import (
    assumptions_table,
    frontier_figure,
    headline,
    months_figure,
)

db, version = ui.require_store("Simulator")
opts = ui.options(db, version)
if opts.last_day is None:
    st.info("The store has no usage yet.")
    st.stop()
flt = ui.filter_sidebar(opts)
choices = ui.simulator_choices(db, version)


def _label(target: tuple[str, str]) -> str:
    return f"{target[0]} / {target[1]}"


def _source_label(model: str) -> str:
    spend = choices.source_spend.get(model)
    return f"{model} ({spend})" if spend else model


def _ref(target: tuple[str, str]) -> sim.ModelRef:
    return sim.ModelRef(model=target[1], provider=target[0])


st.caption(
    f"What the workload would cost per month from now on: the scope's last "
    f"{sim.FORWARD_RATE_DAYS} days of usage, priced today and on the target at the prices in "
    f"force on {choices.today}, scaled to a month. Scope: the sidebar's teams and providers. "
    "Targets are the models with a price today that have not retired."
)
c1, c2 = st.columns(2)
source = c1.selectbox(
    "Move usage of", choices.sources, index=0, key="sim_from", format_func=_source_label
)
mode = c2.radio("To", ["one model", "the cheapest of several"], horizontal=True, key="sim_mode")
suggested = choices.suggested.get(source)
if mode == "one model":
    to = st.selectbox(
        "Target model",
        choices.targets,
        key=f"sim_to_{source}",
        index=choices.targets.index(suggested) if suggested in choices.targets else None,
        placeholder="choose",
        format_func=_label,
        help="Suggested: the same provider's next cheaper model of the same kind.",
    )
    chosen = (to,) if to else ()
else:
    chosen = tuple(
        st.multiselect(
            "Candidate models", choices.targets, key="sim_candidates", format_func=_label
        )
    )

with st.expander("Assumptions (blank: the defaults, with their sources, shown below)"):
    a1, a2, a3 = st.columns(3)
    cache_hit = a1.text_input("Cache-hit rate (e.g. 0.4 or 0.3:0.4:0.5)", key="sim_cache")
    batch = a2.text_input("Batch share (0..1)", key="sim_batch")
    discount = a3.text_input("Contract discount % on the target", key="sim_discount")

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
        scope=sim.Scope(teams=flt.teams, providers=flt.providers),
        assumptions=sim.Assumptions(
            cache_hit_rate=cache_hit.strip() or None,
            batch_share=batch.strip() or None,
            contract_discount_pct=discount.strip() or None,
        ),
    )
    result = ui.simulation(db, version, scenario)
except (sim.ScenarioError, LookupError) as exc:
    st.warning(f"This scenario cannot run as stated: {exc}")
    st.stop()

blocks = [f for f in result.findings if f.severity == "block"]
if blocks:
    st.warning(
        "**Blocked**: the move cannot run as stated.\n\n"
        + "\n".join(f"- {f.message}" for f in blocks)
    )
for finding in result.findings:
    if finding.severity != "block":
        st.caption(f"Note: {finding.message}")

numbers = headline(result)
if numbers:
    m1, m2, m3 = st.columns(3)
    m1.metric("Moved workload today", numbers["Moved workload today"])
    m2.metric("On the scenario", numbers["On the scenario"])
    m3.metric(
        "Saving",
        numbers["Saving"],
        delta=numbers["Saving, share of the moved workload"],
        help=f"range {numbers['Range']}",
    )
    of_scope = numbers["Share of the scope's spend"]
    st.caption(
        f"Range {numbers['Range']}. {of_scope} is the saving "
        f"as a share of everything in scope. Usage of {result.monthly['first_day']} to "
        f"{result.monthly['last_day']} ({result.monthly['days']} days), priced on "
        f"{result.pricing_day}."
    )
excluded = result.excluded
if excluded["unpriced_actual_rows"] or excluded["unpriced_scenario_rows"]:
    st.caption(
        f"Left out: {excluded['unpriced_actual_rows']:,} usage rows with no price today, "
        f"{excluded['unpriced_scenario_rows']:,} the scenario cannot price."
    )

st.subheader("Assumptions")
ui.show_table(assumptions_table(result))

history = ui.simulation(
    db,
    version,
    sim.Scenario(
        name=scenario.name,
        moves=scenario.moves,
        scope=sim.Scope(
            teams=flt.teams,
            providers=flt.providers,
            first_day=flt.from_day,
            last_day=None if flt.to_day is None else flt.to_day - dt.timedelta(days=1),
        ),
        assumptions=scenario.assumptions,
    ),
    as_billed=True,
)
st.plotly_chart(months_figure(history), width="stretch")
st.subheader(f"By team, the last {sim.FORWARD_RATE_DAYS} days at today's prices")
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
