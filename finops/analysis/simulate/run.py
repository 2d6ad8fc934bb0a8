"""Running a scenario: resolve moves, check capabilities, price every case, and build the result."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import polars as pl

from finops.analysis.simulate.capability import (
    EMPTY_PROFILE,
    capability_findings,
    capability_profiles,
)
from finops.analysis.simulate.evals import eval_scores, load_evals
from finops.analysis.simulate.forward import (
    FORWARD_RATE_DAYS,
    forward_savings,
    forward_window,
    monthly_rates,
    until,
)
from finops.analysis.simulate.quality import quality_view
from finops.analysis.simulate.query import (
    Plan,
    Resolved,
    Tally,
    base_params,
    model_keys,
    model_label,
    name_matches,
    over_scope_sql,
    price_variants,
    query_rows,
    resolve_target,
    tally_by,
    unpriced_spans,
)
from finops.analysis.simulate.ratios import TokenRatios, load_token_ratios
from finops.analysis.simulate.result import Finding, SimulationResult, pct
from finops.analysis.simulate.scenario import CASES, HUNDRED, ONE, Estimate, Scenario, ScenarioError
from finops.pricing.catalog import Catalog, CatalogModel
from finops.session.session import Session


def _ratios(
    resolved: Resolved, target: CatalogModel, table: TokenRatios
) -> tuple[Estimate, Estimate, dict[str, Any]]:
    """(input ratio, output ratio, how each was chosen) for a move to `target`."""
    a = resolved.assumptions
    tokenizer = table.ratio(resolved.source_model, target.id)
    output = table.output_ratio(resolved.source_model, target.id)
    input_ratio = a.input_token_ratio or tokenizer.estimate
    output_ratio = a.output_token_ratio or output.estimate
    explained = {
        "input_token_ratio": {
            **input_ratio.to_dict(),
            "source": "scenario" if a.input_token_ratio else tokenizer.source,
        },
        "output_token_ratio": {
            **output_ratio.to_dict(),
            "source": "scenario" if a.output_token_ratio else output.source,
        },
    }
    return input_ratio, output_ratio, explained


def _caches(model: CatalogModel) -> bool:
    """Whether the catalog prices cache reads for `model` at all (else it cannot cache)."""
    return any("cache_read" in rates for p in model.periods for rates in p.rates.values())


def _prices_writes(model: CatalogModel) -> bool:
    """Whether the catalog prices cache writes for `model` (else writes are plain input)."""
    return any(
        "cache_write_5m" in rates or "cache_write_1h" in rates
        for p in model.periods
        for rates in p.rates.values()
    )


def _cache_retention(
    resolved: Resolved, target: CatalogModel, table: TokenRatios
) -> tuple[Estimate | None, str]:
    """(the share of today's cache reads kept, why), when no cache-hit rate is assumed."""
    if resolved.assumptions.cache_hit_rate is not None:
        return None, "scenario"
    if not _caches(target):
        return Estimate.of(0), f"{model_label(target)} has no cache-read price: no cache hits"
    if resolved.source_providers and target.provider not in resolved.source_providers:
        return table.cache_retention, table.cache_retention_source
    return None, "as observed"


def _plan(resolved: Resolved, target: CatalogModel, table: TokenRatios, case: str) -> Plan:
    """The plan for one move in one case: pessimistic, expected or optimistic."""
    a = resolved.assumptions
    input_ratio, output_ratio, _ = _ratios(resolved, target, table)
    # cost rises with token ratios and falls with cache hits, batch share and discount
    rising = {"pessimistic": "high", "expected": "expected", "optimistic": "low"}[case]
    falling = {"pessimistic": "low", "expected": "expected", "optimistic": "high"}[case]
    discount = a.contract_discount_pct.at(falling) if a.contract_discount_pct else Decimal(0)
    retention, _ = _cache_retention(resolved, target, table)
    return Plan(
        target=target,
        input_ratio=input_ratio.at(rising),
        output_ratio=output_ratio.at(rising),
        cache_hit_rate=a.cache_hit_rate.at(falling) if a.cache_hit_rate else None,
        batch_share=a.batch_share.at(falling) if a.batch_share else None,
        service_tier=a.service_tier,
        discount_factor=ONE - discount / HUNDRED,
        cache_retention=retention.at(falling) if retention is not None else None,
        writes_as_input=not _prices_writes(target),
    )


# --- simulate ----------------------------------------------------------------------------------


def _resolve(session: Session, scenario: Scenario) -> list[Resolved]:
    """Moves with their source names resolved; targets follow in :func:`_resolve_targets`."""
    catalog = session.catalog
    out = []
    for index, move in enumerate(scenario.moves):
        ids = {m.id for m in name_matches(catalog, move.from_model, move.from_provider)}
        out.append(
            Resolved(
                index=index,
                move=move,
                from_keys=model_keys(catalog, move.from_model, move.from_provider),
                source_model=next(iter(ids)) if len(ids) == 1 else move.from_model.lower(),
                assumptions=move.assumptions.over(scenario.assumptions),
                candidates=[],
            )
        )
    return out


def _resolve_targets(
    catalog: Catalog, resolved: list[Resolved], source_providers: Mapping[int, Sequence[str]]
) -> None:
    for r in resolved:
        providers = source_providers.get(r.index, ())
        for c_index, ref in enumerate(r.move.targets):
            field_name = "to" if r.move.to is not None else f"to_cheapest_of[{c_index}]"
            where = f"moves[{r.index}].{field_name}"
            r.candidates.append(resolve_target(catalog, ref, where, providers))
        if r.move.to is not None:
            r.target = r.candidates[0]


def _choose_target(
    r: Resolved, candidate_rows: list[dict[str, Any]], capability
) -> list[dict[str, Any]]:
    """Set `r.target` to the cheapest candidate that can take the move's traffic; return every
    candidate with its cost and why it could not, if so."""
    candidates = []
    for j, model in enumerate(r.candidates):
        variant = f"candidate {r.index}.{j}"
        rows = [row for row in candidate_rows if row["variant"] == variant]
        tally = tally_by(rows, lambda row: row["move_index"]).get(r.index, Tally())
        blocks = [f.message for f in capability(r.index, model) if f.severity == "block"]
        for (move, reason), (_, first, last, count) in unpriced_spans(rows, [variant]).items():
            if move == r.index:
                blocks.append(f"{count:,} usage rows unpriced ({first}..{last}: {reason})")
        candidates.append(
            {
                "model": model_label(model),
                "scenario_cost_usd": tally.scenario_cost_usd,
                "eligible": not blocks,
                "why_not": "; ".join(blocks) or None,
            }
        )
    eligible = [(c["scenario_cost_usd"], j) for j, c in enumerate(candidates) if c["eligible"]]
    if not eligible:
        reasons = "; ".join(f"{c['model']}: {c['why_not']}" for c in candidates)
        raise ScenarioError(
            f"moves[{r.index}].to_cheapest_of", f"no candidate can take this traffic ({reasons})"
        )
    r.target = r.candidates[min(eligible)[1]]
    return candidates


def _move_report(
    r: Resolved, candidates: list[dict[str, Any]], table: TokenRatios
) -> dict[str, Any]:
    """A move as resolved: its target, the candidates weighed, and the assumptions used."""
    _, _, ratios = _ratios(r, r.target, table)
    retention, retention_source = _cache_retention(r, r.target, table)
    a = r.assumptions
    no_discount = {"low": Decimal(0), "expected": Decimal(0), "high": Decimal(0)}
    return {
        "from": r.move.from_model,
        "from_provider": r.move.from_provider,
        "to": model_label(r.target),
        "chosen_from": [c["model"] for c in candidates] if candidates else None,
        "candidates": candidates,
        "assumptions": {
            **ratios,
            "cache_hit_rate": a.cache_hit_rate.to_dict() if a.cache_hit_rate else "as observed",
            "cache_retention": {**retention.to_dict(), "source": retention_source}
            if retention is not None
            else retention_source,
            "batch_share": a.batch_share.to_dict() if a.batch_share else "as observed",
            "service_tier": a.service_tier or "as observed",
            "contract_discount_pct": a.contract_discount_pct.to_dict()
            if a.contract_discount_pct
            else no_discount,
        },
    }


def _usage_findings(
    resolved: list[Resolved], rows: list[dict[str, Any]], has_usage: bool, capability
) -> list[Finding]:
    """Findings about the scope's usage: moves that match nothing, capability checks of each
    target, and usage the scenario cannot price (in any of the three cases)."""
    findings: list[Finding] = []
    if not has_usage:
        findings.append(Finding("no_usage", "warn", "no stored usage is in the scope"))
    moved = {row["move_index"] for row in rows if row["variant"] == "expected"}
    for r in resolved:
        if has_usage and r.index not in moved:
            findings.append(
                Finding(
                    "no_usage",
                    "warn",
                    f"no usage in scope matches {r.move.from_model!r}: this move changes nothing",
                    r.index,
                    model_label(r.target),
                )
            )
        findings.extend(capability(r.index, r.target))
    spans = unpriced_spans(rows, CASES)
    for (move, reason), (cases, first, last, _count) in sorted(
        spans.items(), key=lambda i: (i[1][1], i[0][1])
    ):
        target = model_label(resolved[move].target)
        which = "" if len(cases) == len(CASES) else f" ({', '.join(sorted(cases))} case)"
        findings.append(
            Finding(
                "no_price",
                "block",
                f"{target} cannot price usage from {first} to {last}{which}: {reason}; "
                "those rows are left out of the comparison",
                move,
                target,
            )
        )
    return findings


def _breakdown(group: dict[Any, Tally], key_name: str) -> list[dict[str, Any]]:
    """Rows by month or team: the expected case, with the range over the three cases."""
    out = []
    for key in sorted({k for (variant, k) in group if variant == "expected"}):
        expected = group[("expected", key)]
        savings = [group.get((case, key), Tally()).savings_usd for case in CASES]
        out.append(
            {
                key_name: key,
                "actual_cost_usd": expected.actual_cost_usd,
                "scenario_cost_usd": expected.scenario_cost_usd,
                "savings_usd": expected.savings_usd,
                "savings_pct": pct(expected.savings_usd, expected.actual_cost_usd),
                "savings_usd_low": min(savings),
                "savings_usd_high": max(savings),
                "effective_savings_usd": expected.effective_savings_usd,
            }
        )
    return out


def simulate(
    session: Session,
    scenario: Scenario,
    *,
    evals: pl.DataFrame | None = None,
    token_ratios: TokenRatios | None = None,
    today: dt.date | None = None,
    as_billed: bool = False,
    pricing_day: dt.date | None = None,
    window_days: int = FORWARD_RATE_DAYS,
) -> SimulationResult:
    """What the scope's workload costs per month today, and on the scenario's targets.

    The forward view (default): the scope's last `window_days` days of usage, both sides priced
    at the prices in force on `pricing_day` (default `today`), scaled to a month. With
    `as_billed`, each day of the scope's whole history is priced as it was billed that day.

    `evals` (see :func:`load_evals`) adds the cost–quality view; by default the scenario's
    ``quality.evals`` file is read when it names one. `today` dates the deprecation check.
    """
    today = session.day(today)
    table = token_ratios or load_token_ratios()
    catalog = session.catalog
    if evals is None and scenario.quality.evals_file is not None:
        evals = load_evals(scenario.quality.evals_file)
    resolved = _resolve(session, scenario)
    params = base_params(session, scenario.scope, resolved)
    allocated = session.allocation is not None
    if allocated:  # teams are the owners the allocation map gives, as in every spend report
        session.register_owner_map()
    source_providers = {
        row["move_index"]: row["providers"]
        for row in query_rows(
            session,
            over_scope_sql("scenario_source_providers", grain="day", allocated=allocated),
            params,
        )
    }
    _resolve_targets(catalog, resolved, source_providers)
    for r in resolved:
        r.source_providers = tuple(source_providers.get(r.index, ()))
    window = None
    if not as_billed:
        pricing_day = pricing_day or today
        days_sql = over_scope_sql("scenario_scope_days", grain="day", allocated=allocated)
        span = query_rows(session, days_sql, until(params, today))[0]
        window = forward_window(span["first_day"], span["last_day"], window_days)
        if window is not None:
            params |= {
                "from_day": window[0],
                "to_day": window[1] + dt.timedelta(days=1),
                "pricing_day": pricing_day,
            }

    scores: dict[tuple[str, str], float] = {}
    quality_notes: list[str] = []
    basis = ""
    eval_models: list[CatalogModel] = []
    if evals is not None:
        used = sorted({p for providers in source_providers.values() for p in providers})
        scores, quality_notes, basis = eval_scores(evals, catalog, scenario.quality.task, used)
        eval_models = [m for m in catalog.models if (m.provider, m.id) in scores]

    # capability: every (move, possible target), at the expected and the pessimistic ratios
    pairs = {
        (r.index, (m.provider, m.id)): m for r in resolved for m in [*r.candidates, *eval_models]
    }
    checks: list[tuple[int, CatalogModel, Decimal, Decimal]] = []
    check_ids: dict[tuple[int, tuple[str, str], str], int] = {}
    for (move, key), model in pairs.items():
        for case in ("expected", "pessimistic"):
            plan = _plan(resolved[move], model, table, case)
            check_ids[(move, key, case)] = len(checks)
            checks.append((move, model, plan.input_ratio, plan.output_ratio))
    profiles = capability_profiles(session, params, checks)

    def profile(move: int, model: CatalogModel, case: str) -> Mapping[str, Any]:
        return profiles.get(check_ids[(move, (model.provider, model.id), case)], EMPTY_PROFILE)

    def capability(move: int, model: CatalogModel) -> list[Finding]:
        return capability_findings(
            move,
            model,
            profile(move, model, "expected"),
            profile(move, model, "pessimistic"),
            catalog.thresholds,
            today,
        )

    # cheapest of several candidates: price each alone (expected case) and keep the cheapest
    # one that can take the traffic (fully priced, nothing blocking)
    choosing = [r for r in resolved if r.target is None]
    candidate_rows: list[dict[str, Any]] = []
    if choosing:
        variants = {
            f"candidate {r.index}.{j}": {r.index: _plan(r, model, table, "expected")}
            for r in choosing
            for j, model in enumerate(r.candidates)
        }
        candidate_rows = price_variants(session, params, variants, allocated)
    move_reports = []
    for r in resolved:
        candidates = _choose_target(r, candidate_rows, capability) if r.target is None else []
        move_reports.append(_move_report(r, candidates, table))

    # the scenario in three cases, and every scored model in the expected case
    variants = {
        case: {r.index: _plan(r, r.target, table, case) for r in resolved} for case in CASES
    }
    for model in eval_models:
        variants[f"eval {model.provider}/{model.id}"] = {
            r.index: _plan(r, model, table, "expected") for r in resolved
        }
    rows = price_variants(session, params, variants, allocated)
    totals = tally_by(rows, lambda row: row["variant"])
    by_month = tally_by(rows, lambda row: (row["variant"], row["day"].replace(day=1)))
    by_team = tally_by(rows, lambda row: (row["variant"], row["team"]))
    by_day: dict[dt.date, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
    cases = (row for row in rows if row["variant"] in CASES)
    for (day, case), tally in tally_by(cases, lambda row: (row["day"], row["variant"])).items():
        by_day[day][case] = tally
    days = [row["day"] for row in rows if row["variant"] == "expected"]
    first_day, last_day = (min(days), max(days)) if days else (None, None)

    findings = _usage_findings(resolved, rows, bool(days), capability)
    expected = totals.get("expected", Tally())
    savings = [totals.get(case, Tally()).savings_usd for case in CASES]
    costs = [totals.get(case, Tally()).scenario_cost_usd for case in CASES]

    quality = None
    quality_note = None
    if evals is None:
        quality_note = (
            "no eval results given: savings alone say nothing about quality; "
            "pass eval scores (--evals FILE.csv) to see the cost–quality frontier"
        )
    else:
        quality, extra = quality_view(
            scenario, resolved, scores, basis, eval_models, totals, capability
        )
        findings.extend(extra)
        quality_note = "; ".join(quality_notes) or None

    if as_billed:
        forecast, forecast_note = forward_savings(by_day, scenario.horizon_days, last_day)
        window = (first_day, last_day) if first_day else None
    else:
        forecast, forecast_note = None, None
    by_moved = tally_by(rows, lambda row: (row["variant"], row["move_index"] is not None))
    monthly = monthly_rates(by_moved, window)
    return SimulationResult(
        scenario=scenario,
        revision_id=session.revision_id,
        first_day=first_day,
        last_day=last_day,
        actual_cost_usd=expected.actual_cost_usd,
        scenario_cost_usd=expected.scenario_cost_usd,
        scenario_cost_usd_low=min(costs),
        scenario_cost_usd_high=max(costs),
        savings_usd=expected.savings_usd,
        savings_usd_low=min(savings),
        savings_usd_high=max(savings),
        actual_effective_cost_usd=expected.actual_effective_cost_usd,
        scenario_effective_cost_usd=expected.scenario_effective_cost_usd,
        by_month=_breakdown(by_month, "month"),
        by_team=_breakdown(by_team, "team"),
        moves=move_reports,
        findings=findings,
        compared_rows=expected.compared_rows,
        excluded={
            "unpriced_actual_rows": expected.unpriced_actual_rows,
            "unpriced_actual_tokens": expected.unpriced_actual_tokens,
            "unpriced_scenario_rows": expected.unpriced_scenario_rows,
            "unpriced_scenario_tokens": expected.unpriced_scenario_tokens,
            "unpriced_scenario_actual_cost_usd": expected.unpriced_scenario_actual_cost_usd,
        },
        tokens={"actual": expected.actual_tokens, "scenario": expected.scenario_tokens},
        view="as billed" if as_billed else "forward",
        pricing_day=None if as_billed else pricing_day,
        monthly=monthly,
        forecast=forecast,
        forecast_note=forecast_note,
        quality=quality,
        quality_note=quality_note,
    )


def simulate_many(
    session: Session,
    scenarios: Sequence[Scenario],
    *,
    evals: pl.DataFrame | None = None,
    token_ratios: TokenRatios | None = None,
    today: dt.date | None = None,
    as_billed: bool = False,
    pricing_day: dt.date | None = None,
) -> list[SimulationResult]:
    """Several scenarios on the same store and catalog revision, for side-by-side comparison."""
    table = token_ratios or load_token_ratios()
    return [
        simulate(
            session,
            s,
            evals=evals,
            token_ratios=table,
            today=today,
            as_billed=as_billed,
            pricing_day=pricing_day,
        )
        for s in scenarios
    ]
