"""Catalog lookups and the scenario SQL: scope the usage, rebuild it per variant, price it, tally it."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from operator import itemgetter
from typing import Any

from finops.analysis.simulate.scenario import Assumptions, ModelRef, Move, ScenarioError, Scope
from finops.core.store import relation
from finops.pricing.catalog import Catalog, CatalogModel
from finops.session.session import Session

_SQL_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


# --- catalog lookups ---------------------------------------------------------------------------


def model_label(model: CatalogModel) -> str:
    return f"{model.provider}/{model.id}"


def name_matches(catalog: Catalog, name: str, provider: str | None) -> list[CatalogModel]:
    return catalog.lookup(name, provider)


def prefer(matches: list[CatalogModel], providers: Iterable[str]) -> list[CatalogModel]:
    """Several providers' models of one name narrowed to the one in `providers`, if exactly one."""
    narrowed = [m for m in matches if m.provider in set(providers)]
    return narrowed if len(matches) > 1 and len(narrowed) == 1 else matches


def resolve_target(
    catalog: Catalog, ref: ModelRef, where: str, source_providers: Sequence[str] = ()
) -> CatalogModel:
    """The catalog model a target names; a name several providers share is taken from the
    provider the move's usage comes from, when that settles it. ``provider/model`` names the
    provider's model even where another provider lists the whole string as an id (perplexity
    lists ``openai/gpt-5-mini``)."""
    matches = []
    if ref.provider is None and "/" in ref.model:
        prefix, rest = ref.model.split("/", 1)
        matches = name_matches(catalog, rest, prefix.lower())
    if len(matches) != 1:
        matches = name_matches(catalog, ref.model, ref.provider) or matches
    matches = prefer(matches, source_providers)
    if len(matches) == 1:
        return matches[0]
    if matches:
        providers = ", ".join(sorted({m.provider for m in matches}))
        msg = (
            f"{ref.model!r} is a model of several providers ({providers}); "
            f"write provider/model, e.g. {matches[0].provider}/{matches[0].id}"
        )
        raise ScenarioError(where, msg)
    pool = [m.id for m in catalog.models if ref.provider is None or m.provider == ref.provider]
    close = difflib.get_close_matches(ref.model.lower(), pool, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    in_provider = f" of provider {ref.provider}" if ref.provider else ""
    raise ScenarioError(where, f"no model {ref.model!r}{in_provider} in the catalog{hint}")


def model_keys(catalog: Catalog, name: str, provider: str | None) -> list[str]:
    """Keys a usage row's model_key may have for `name`: its catalog ids, and the name itself."""
    keys = {name.strip().lower()}
    keys |= {m.id for m in name_matches(catalog, name, provider)}
    return sorted(keys)


# --- running the SQL ---------------------------------------------------------------------------


def query_rows(session: Session, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Run a query with the parameters it names (DuckDB refuses unused ones), as dicts."""
    used = set(_SQL_PARAM.findall(sql))
    missing = used - set(params)
    if missing:
        msg = f"no value for SQL parameter(s) {', '.join(sorted(missing))}"
        raise KeyError(msg)
    return session.records(sql, {k: v for k, v in params.items() if k in used})


def scoped_usage_sql(*, grain: str, allocated: bool) -> str:
    """The scope's rows (`scenario_scoped_usage`): daily rollup rows (`grain='day'`) or usage
    rows, filtered by tags, their team taken from the allocation map when there is one."""
    base = "stored_daily_usage" if grain == "day" else "usage_rows"
    tagged = relation("scenario_tagged_rows", rows_to_tag=base)
    if allocated:
        owned = relation("owned_rows", rows_to_own=tagged)
        # teams are the owners the allocation map gives, as in every spend report
        source = f"SELECT * EXCLUDE (team, owner), owner AS team FROM ({owned}) AS owned"
    else:
        source = tagged
    return relation("scenario_scoped_usage", scope_source=source)


def comparison_sql(allocated: bool) -> str:
    """Every variant of the scenario priced beside the actual cost (`scenario_comparison`)."""
    scoped = scoped_usage_sql(grain="day", allocated=allocated)
    rebuilt = relation("scenario_usage", scoped_usage=scoped)
    priced = relation("priced_usage", usage_to_price=rebuilt)
    return relation("scenario_comparison", priced_scenario=priced)


def over_scope_sql(name: str, *, grain: str, allocated: bool) -> str:
    """A relation that reads only the scope's rows: capability, source providers, scope days."""
    return relation(name, scoped_usage=scoped_usage_sql(grain=grain, allocated=allocated))


@dataclass
class Resolved:
    """A move with its names resolved against the catalog."""

    index: int
    move: Move
    from_keys: list[str]
    source_model: str  # for the token-ratio lookup
    assumptions: Assumptions
    candidates: list[CatalogModel]
    target: CatalogModel | None = None
    #: the providers the move's rows in scope are billed by
    source_providers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """How one variant bills one move's rows."""

    target: CatalogModel
    input_ratio: Decimal
    output_ratio: Decimal
    cache_hit_rate: Decimal | None
    batch_share: Decimal | None
    service_tier: str | None
    discount_factor: Decimal
    #: with no cache-hit rate given: the share of today's cache reads that stay cache reads
    cache_retention: Decimal | None = None
    #: the target prices no cache writes (it caches on its own): they are billed as input
    writes_as_input: bool = False


def base_params(session: Session, scope: Scope, resolved: list[Resolved]) -> dict[str, Any]:
    catalog = session.catalog
    scope_models = sorted({k for name in scope.models for k in model_keys(catalog, name, None)})
    return {
        "revision_id": session.revision_id,
        "pricing_day": None,
        "thresholds": catalog.thresholds,
        "hourly_providers": catalog.hourly_providers,
        "from_day": scope.first_day,
        "to_day": scope.last_day + dt.timedelta(days=1) if scope.last_day else None,
        "tag_keys": [k for k, _ in scope.tags],
        "tag_values": [v for _, v in scope.tags],
        "scope_teams": list(scope.teams),
        "scope_providers": list(scope.providers),
        "scope_models": scope_models,
        "scope_projects": list(scope.projects),
        "scope_api_keys": list(scope.api_keys),
        "move_index": [r.index for r in resolved],
        "move_from_provider": [r.move.from_provider for r in resolved],
        "move_from_keys": [r.from_keys for r in resolved],
    }


def price_variants(
    session: Session,
    params: dict[str, Any],
    variants: dict[str, dict[int, Plan]],
    allocated: bool,
) -> list[dict[str, Any]]:
    plan_rows = [
        (name, move, plan) for name, moves in variants.items() for move, plan in moves.items()
    ]
    plan_params = {
        "variant_names": ["actual", *variants],
        "plan_variant": [name for name, _, _ in plan_rows],
        "plan_move": [move for _, move, _ in plan_rows],
        "plan_provider": [p.target.provider for _, _, p in plan_rows],
        "plan_model": [p.target.id for _, _, p in plan_rows],
        "plan_input_ratio": [p.input_ratio for _, _, p in plan_rows],
        "plan_output_ratio": [p.output_ratio for _, _, p in plan_rows],
        "plan_cache_hit_rate": [p.cache_hit_rate for _, _, p in plan_rows],
        "plan_cache_retention": [p.cache_retention for _, _, p in plan_rows],
        "plan_writes_as_input": [p.writes_as_input for _, _, p in plan_rows],
        "plan_batch_share": [p.batch_share for _, _, p in plan_rows],
        "plan_service_tier": [p.service_tier for _, _, p in plan_rows],
        "plan_discount_factor": [p.discount_factor for _, _, p in plan_rows],
    }
    return query_rows(session, comparison_sql(allocated), params | plan_params)


@dataclass
class Tally:
    actual_cost_usd: Decimal = Decimal(0)
    scenario_cost_usd: Decimal = Decimal(0)
    actual_effective_cost_usd: Decimal = Decimal(0)
    scenario_effective_cost_usd: Decimal = Decimal(0)
    compared_rows: int = 0
    actual_tokens: int = 0
    scenario_tokens: int = 0
    unpriced_actual_rows: int = 0
    unpriced_actual_tokens: int = 0
    unpriced_scenario_rows: int = 0
    unpriced_scenario_tokens: int = 0
    unpriced_scenario_actual_cost_usd: Decimal = Decimal(0)

    @property
    def savings_usd(self) -> Decimal:
        return self.actual_cost_usd - self.scenario_cost_usd

    @property
    def effective_savings_usd(self) -> Decimal:
        return self.actual_effective_cost_usd - self.scenario_effective_cost_usd


_TALLY_FIELDS = tuple(f.name for f in fields(Tally))
_ZERO = {name: getattr(Tally(), name) for name in _TALLY_FIELDS}


def unpriced_spans(
    rows: Iterable[Mapping[str, Any]], variants: Iterable[str]
) -> dict[tuple[int, str], tuple[set[str], dt.date, dt.date, int]]:
    """Rows priced today that the given variants cannot price, by move and reason:
    (variants concerned, first day, last day, usage rows)."""
    wanted = set(variants)
    out: dict[tuple[int, str], tuple[set[str], dt.date, dt.date, int]] = {}
    for row in rows:
        reason = row["scenario_unpriced_reason"]
        if row["variant"] not in wanted or reason is None:
            continue
        key = (row["move_index"], reason)
        cases, first, last, count = out.get(key, (set(), row["day"], row["day"], 0))
        out[key] = (
            cases | {row["variant"]},
            min(first, row["day"]),
            max(last, row["day"]),
            count + row["unpriced_scenario_rows"],
        )
    return out


def tally_by(rows: Iterable[Mapping[str, Any]], key) -> dict[Any, Tally]:
    """The rows' tallies by `key(row)`: each field summed over a key's rows (a field at a
    time, which is several times faster than adding row after row)."""
    groups: dict[Any, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return defaultdict(
        Tally,
        {
            k: Tally(*(sum(map(itemgetter(name), group), _ZERO[name]) for name in _TALLY_FIELDS))
            for k, group in groups.items()
        },
    )
