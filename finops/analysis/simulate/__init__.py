"""Model-swap savings: what this workload would have cost on another model, from stored usage.

The package, by job: ``scenario`` (the scenario schema and files), ``ratios`` (token ratios),
``evals`` (eval scores), ``query`` (catalog lookups and the scenario SQL), ``capability``
(capability checks), ``quality`` (the cost–quality view), ``forward`` (forward savings),
``result`` (the result and its frames) and ``run`` (the orchestrator, :func:`simulate`).

A :class:`Scenario` names a scope of stored usage (teams, models, providers, projects, API keys,
tags, days) and one or more moves: from a source model to a target model, or to the cheapest of
several candidates. Assumptions come as low / expected / high. :func:`simulate` rebuilds the
scope's daily rollup as each target would bill it (``finops/sql/scenario_usage.sql``) and prices
it with the same effective-dated catalog SQL that prices actual cost
(``finops/sql/priced_usage.sql``): the price in force on each day, for the service tier and the
long-context band. Money stays exact (Decimal, DECIMAL) from the rollup to the totals.

How a moved rollup row is rebuilt; every count stays whole, rounded half-even, so dollars can be
reproduced by hand from the rollup rows:

1. token ratios: input, cache read and cache write tokens × the input ratio; output (reasoning
   included) × the output ratio; audio and image tokens are kept. Defaults come from
   ``finops/data/token_ratios.yaml`` (tokenizer differences, with sources);
2. cache-hit rate h (optional; default: as observed): of the prompt's text tokens
   p = input + cache read, cache read becomes round(p × h) and input the rest;
3. batch share s (optional; default: as observed): each count splits into round(c × s) at the
   batch tier and the rest at the interactive tier (the service-tier assumption, else the row's);
4. contract discount d%: the target's cost of moved rows × (1 − d/100), kept exact. It is a
   discount you expect beyond contracts.yaml: terms there already price the target's
   effective cost (``effective_cost_usd``), shown beside list cost.

Teams are those of every spend report: the allocation map's owners when the session has one
(usage a split rule shares out shows as its ``__split:<rule>`` owner), else the source's team.
Rows no move applies to keep their model and cost. A row counts in the comparison only when it
is priced both today and under the scenario; rows unpriced either way are counted apart, never
as $0. The range (``*_low`` / ``*_high``) is the smallest and largest of three cases: pessimistic
(high token ratios, low cache-hit rate, batch share and discount), expected, and optimistic.

Capability checks (context window, modalities, deprecation, prices on the days in scope) give
findings that block (the scenario cannot run as stated) or warn. With eval results, the result
carries a cost–quality view: never savings alone.

Example:
    >>> scenario = Scenario(moves=[Move("gpt-4o", to="gpt-4o-mini")], scope={"teams": ["search"]})
    >>> scenario.moves[0].to
    ModelRef(model='gpt-4o-mini', provider=None)
"""

from __future__ import annotations

from finops.analysis.simulate.capability import DEPRECATION_WARNING_DAYS
from finops.analysis.simulate.evals import load_evals
from finops.analysis.simulate.forward import FORWARD_RATE_DAYS
from finops.analysis.simulate.ratios import TokenFamily, TokenRatio, TokenRatios, load_token_ratios
from finops.analysis.simulate.result import (
    BREAKDOWN_COLUMNS,
    Finding,
    SimulationResult,
    comparison_frame,
    frontier_points,
)
from finops.analysis.simulate.run import simulate, simulate_many
from finops.analysis.simulate.scenario import (
    ASSUMPTION_NAMES,
    Assumptions,
    Estimate,
    ModelRef,
    Move,
    QualityTarget,
    Scenario,
    ScenarioError,
    Scope,
    load_scenarios,
    scenario_from_dict,
)

__all__ = [
    "ASSUMPTION_NAMES",
    "BREAKDOWN_COLUMNS",
    "DEPRECATION_WARNING_DAYS",
    "FORWARD_RATE_DAYS",
    "Assumptions",
    "Estimate",
    "Finding",
    "ModelRef",
    "Move",
    "QualityTarget",
    "Scenario",
    "ScenarioError",
    "Scope",
    "SimulationResult",
    "TokenFamily",
    "TokenRatio",
    "TokenRatios",
    "comparison_frame",
    "frontier_points",
    "load_evals",
    "load_scenarios",
    "load_token_ratios",
    "scenario_from_dict",
    "simulate",
    "simulate_many",
]
