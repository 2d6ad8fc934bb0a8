"""Savings opportunities: what this company could do now, ranked by dollars per month.

Each opportunity is a scenario run through :func:`finops.analysis.simulate.simulate` in the
forward view (the scope's last 28 days at the prices in force today, per month), so its
dollars, range and findings are exactly what ``finops simulate`` prints for the command it
carries. Five kinds, each judged on the forward window's usage (one row per provider and
catalog model in use):

- ``model_swap``: the same provider's cheaper live model of the same kind that passes the
  capability checks: the smallest step down in price (the closest in capability), or with
  eval scores the cheapest that meets the quality bar (``--min-score``, a team's
  ``min_eval_score`` in teams.yaml, else today's model's own score);
- ``batch``: latency-tolerant traffic to the batch tier: teams marked ``batch_eligible: true``
  in teams.yaml, scopes the user names, and models that already send some traffic as batch;
- ``prompt_caching``: prompts of at least 1,024 tokens a request (the smallest prompt OpenAI
  and Anthropic cache) with under 30% read from cache, on a model with a cache-read price;
- ``service_tier``: priority traffic to standard, standard traffic to flex where priced;
- ``retirement``: a model retiring within a year moves to its successor (else the live model
  of the same kind closest in price): the forced migration's cost change, with the date.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from finops.analysis.simulate import (
    DEPRECATION_WARNING_DAYS,
    Scenario,
    ScenarioError,
    SimulationResult,
    TokenRatios,
    load_token_ratios,
    scenario_from_dict,
    simulate,
)
from finops.analysis.simulate.evals import eval_scores
from finops.analysis.simulate.profile import scope_profile
from finops.analysis.simulate.scenario import Scope
from finops.pricing.catalog import CatalogModel
from finops.session.session import Session

__all__ = [
    "KINDS",
    "Opportunity",
    "batch_eligible_teams",
    "find_opportunities",
    "is_live",
    "quality_bars",
    "step_down_targets",
]

KINDS: tuple[str, ...] = ("model_swap", "batch", "prompt_caching", "service_tier", "retirement")
#: Smallest prompt (tokens) OpenAI and Anthropic cache: OpenAI prompt caching docs
#: (platform.openai.com/docs/guides/prompt-caching), Anthropic prompt caching docs.
MIN_CACHEABLE_PROMPT = 1024
#: Below this share of the text prompt read from cache, caching counts as an opportunity.
LOW_CACHE_HIT = Decimal("0.3")
#: A model retiring within this many days of today is a forced migration.
RETIREMENT_HORIZON_DAYS = 365
#: A model that already sends this share of its requests as batch is latency-tolerant.
OBSERVED_BATCH_SHARE = Decimal("0.1")
_SWAP_TRIES = 3
#: Specialised variants that are no like-for-like target for general traffic, and moving
#: aliases (a "-latest" name changes model under you).
_SPECIALISED = (
    "deep-research",
    "codex",
    "audio",
    "realtime",
    "search",
    "transcribe",
    "tts",
    "image",
    "computer-use",
    "latest",
    "preview",
)
#: Bedrock's cross-region inference profiles (us., eu., ...): the same model, routed
_REGION_PREFIX = re.compile(r"^(us|eu|apac|global|jp|au|ca|us-gov)\.")

_ASSUME_CACHE = ("0.2", "0.4", "0.6")


@dataclass(frozen=True)
class Opportunity:
    """One thing to do, priced: the scenario, its result, and the command that reproduces it."""

    kind: str
    title: str
    scenario: Scenario
    result: SimulationResult
    command: str
    assumptions: tuple[str, ...]
    deadline: dt.date | None = None

    def _monthly(self, key: str) -> Any:
        return self.result.monthly[key] if self.result.monthly else None

    @property
    def savings_usd(self) -> Decimal:
        """Dollars per month saved (negative: the move costs more)."""
        return self._monthly("savings_usd") or Decimal(0)

    @property
    def savings_usd_low(self) -> Decimal | None:
        return self._monthly("savings_usd_low")

    @property
    def savings_usd_high(self) -> Decimal | None:
        return self._monthly("savings_usd_high")

    @property
    def savings_pct_of_moved(self) -> Decimal | None:
        return self._monthly("savings_pct_of_moved")

    @property
    def moved_cost_usd(self) -> Decimal | None:
        """What the moved workload costs per month today."""
        return self._monthly("moved_actual_cost_usd")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "savings_usd_per_month": self.savings_usd,
            "savings_usd_per_month_low": self.savings_usd_low,
            "savings_usd_per_month_high": self.savings_usd_high,
            "savings_pct_of_moved": self.savings_pct_of_moved,
            "moved_cost_usd_per_month": self.moved_cost_usd,
            "deadline": self.deadline,
            "assumptions": list(self.assumptions),
            "command": self.command,
            "warnings": [f.message for f in self.result.findings],
        }


@dataclass
class _Usage:
    """A provider's catalog model in the forward window, over every team and tier."""

    provider: str
    model: CatalogModel
    teams: set[str]
    requests: int = 0
    prompt_tokens_with_requests: int = 0
    text_prompt_tokens: int = 0
    cache_read_tokens: int = 0
    batch_requests: int = 0
    tiers: set[str] | None = None

    @property
    def prompt_per_request(self) -> Decimal | None:
        return Decimal(self.prompt_tokens_with_requests) / self.requests if self.requests else None

    @property
    def cache_hit(self) -> Decimal:
        if not self.text_prompt_tokens:
            return Decimal(0)
        return Decimal(self.cache_read_tokens) / self.text_prompt_tokens

    @property
    def batch_share(self) -> Decimal:
        return Decimal(self.batch_requests) / self.requests if self.requests else Decimal(0)


def _rates(model: CatalogModel, day: dt.date, tier: str = "standard") -> Mapping[str, Decimal]:
    """The model's base-band rates for `tier` in force on `day` ({} when none)."""
    for period in model.periods:
        if period.valid_from <= day and (period.valid_to is None or day < period.valid_to):
            return period.rates.get((tier, 0), {})
    return {}


def _blended(model: CatalogModel, day: dt.date) -> Decimal | None:
    rates = _rates(model, day)
    if "input" not in rates or "output" not in rates:
        return None
    return rates["input"] + rates["output"]


def _live(model: CatalogModel, day: dt.date) -> bool:
    return model.deprecated_on is None or (model.deprecated_on - day).days > (
        DEPRECATION_WARNING_DAYS
    )


def is_live(model: CatalogModel, day: dt.date) -> bool:
    """Priced at the standard tier on `day` and not retired by then: a model one can move to."""
    return bool(_rates(model, day)) and (model.deprecated_on is None or model.deprecated_on > day)


def step_down_targets(
    models: Sequence[CatalogModel], source: CatalogModel, day: dt.date
) -> list[CatalogModel]:
    """The like-for-like models cheaper than `source` on `day`, the smallest step down first."""
    current = _blended(source, day)
    if current is None or source.kind is None:
        return []
    pool = [m for m in models if _like_for_like(m, source, day) and _blended(m, day) < current]
    return sorted(pool, key=lambda m: (-_blended(m, day), m.id))


def _launched(model: CatalogModel) -> dt.date | None:
    return min((p.valid_from for p in model.periods), default=None)


def _like_for_like(candidate: CatalogModel, source: CatalogModel, day: dt.date) -> bool:
    """A live, general model of the source's provider and kind, no older than the source
    (its first price no earlier), named by a plain id (no region prefix, no moving alias)."""
    launched, source_launched = _launched(candidate), _launched(source)
    return (
        candidate.provider == source.provider
        and candidate.kind == source.kind
        and candidate.id != source.id
        and not candidate.fine_tuned_of
        and "/" not in candidate.id
        and not _REGION_PREFIX.match(candidate.id)
        and not any(word in candidate.id for word in _SPECIALISED)
        and _live(candidate, day)
        and _blended(candidate, day) is not None
        and (launched is None or source_launched is None or launched >= source_launched)
    )


def _team_settings(session: Session) -> list[Mapping[str, Any]]:
    """The teams of the session's teams.yaml as written (for the keys allocation ignores)."""
    source = session.allocation.source if session.allocation is not None else None
    if not source or not Path(source).is_file():
        return []
    doc = yaml.safe_load(Path(source).read_text(encoding="utf-8")) or {}
    return [t for t in doc.get("teams") or [] if isinstance(t, Mapping) and t.get("name")]


def batch_eligible_teams(session: Session) -> list[str]:
    """Teams marked ``batch_eligible: true`` in the session's teams.yaml."""
    return [str(t["name"]) for t in _team_settings(session) if t.get("batch_eligible") is True]


def quality_bars(session: Session) -> dict[str, float]:
    """Each team's ``min_eval_score`` from the session's teams.yaml."""
    return {
        str(t["name"]): float(t["min_eval_score"])
        for t in _team_settings(session)
        if isinstance(t.get("min_eval_score"), (int, float))
    }


def _usage(session: Session, rows: list[dict[str, Any]]) -> list[_Usage]:
    by_key: dict[tuple[str, str], _Usage] = {}
    for row in rows:
        matches = session.catalog.lookup(row["model_key"], row["provider"])
        if len(matches) != 1 or matches[0].fine_tuned_of:
            continue  # unknown to the catalog, or a fine-tune: no like-for-like move
        key = (row["provider"], matches[0].id)
        use = by_key.setdefault(key, _Usage(row["provider"], matches[0], set(), tiers=set()))
        use.teams.add(row["team"])
        use.tiers.add(row["service_tier"])
        use.requests += int(row["requests"])
        use.prompt_tokens_with_requests += int(row["prompt_tokens_with_requests"])
        use.text_prompt_tokens += int(row["text_prompt_tokens"])
        use.cache_read_tokens += int(row["cache_read_tokens"])
        if row["service_tier"] == "batch":
            use.batch_requests += int(row["requests"])
    return list(by_key.values())


@dataclass(frozen=True)
class _Spec:
    kind: str
    title: str
    provider: str
    source: str
    target: str
    scope: dict[str, Any]
    assume: dict[str, str]
    assumptions: tuple[str, ...]
    deadline: dt.date | None = None

    def command(self) -> str:
        args = ["finops", "simulate", "--from", self.source, "--to", self.target]
        scoped = (
            ("provider", [self.provider]),
            ("team", self.scope.get("teams")),
            ("project", self.scope.get("projects")),
        )
        for key, values in scoped:
            for value in values or ():
                args += ["--scope", f"{key}={value}"]
        for name, value in self.assume.items():
            args += ["--assume", f"{name}={value}"]
        return shlex.join(args)

    def scenario(self) -> Scenario:
        """The scenario `finops simulate` builds from :meth:`command` (same scope and move)."""
        return scenario_from_dict(
            {
                "name": self.title,
                "scope": {"providers": [self.provider], **self.scope},
                "moves": [{"from": self.source, "to": self.target}],
                "assumptions": dict(self.assume),
            }
        )


def _label(model: CatalogModel) -> str:
    return f"{model.provider}/{model.id}"


def _swap_targets(
    use: _Usage,
    models: Sequence[CatalogModel],
    day: dt.date,
    scores: Mapping[tuple[str, str], float] | None,
    bar: float | None,
) -> list[CatalogModel]:
    """Cheaper live models of the same provider and kind: with scores, those meeting the bar
    (cheapest first); without, the smallest steps down first."""
    pool = step_down_targets(models, use.model, day)
    if scores is None:
        return pool
    own = scores.get((use.provider, use.model.id))
    floor = bar if bar is not None else own
    if floor is None:
        return []
    passing = [m for m in pool if scores.get((m.provider, m.id), -1.0) >= floor]
    return sorted(passing, key=lambda m: (_blended(m, day), m.id))


def _batch_group(use: _Usage, day: dt.date, scope: dict[str, Any], why: str) -> list[_Spec]:
    """Send a latency-tolerant scope's traffic through the batch tier (if the model has one)."""
    if not _rates(use.model, day, "batch") or "standard" not in (use.tiers or set()):
        return []
    # never fewer batch requests than today: the low case keeps at least today's share
    low = min(max(Decimal("0.5"), -(-use.batch_share * 100 // 1) / 100), Decimal(1))
    src = use.model.id
    return [
        _Spec(
            "batch",
            f"Send {src} traffic through the batch tier ({use.provider})",
            use.provider,
            src,
            _label(use.model),
            scope,
            {"batch_share": f"{low}:1:1"},
            (why, f"batch share {low:.0%} to 100% (expected all): results within 24 h"),
        )
    ]


def _specs(
    session: Session,
    uses: list[_Usage],
    day: dt.date,
    scores: Mapping[tuple[str, str], float] | None,
    bars: Mapping[str, float],
    min_score: float | None,
    batch_teams: Sequence[str],
) -> list[list[_Spec]]:
    """Candidate specs, grouped: the first feasible spec of a group with savings is kept."""
    groups: list[list[_Spec]] = []
    models = session.catalog.models
    for use in uses:
        m, src = use.model, use.model.id
        # model swaps
        bar = min_score
        if bar is None and scores is not None:
            team_bars = [bars[t] for t in use.teams if t in bars]
            bar = max(team_bars) if team_bars else None
        targets = _swap_targets(use, models, day, scores, bar)[:_SWAP_TRIES]
        quality = (
            f"eval score ≥ {bar:g}"
            if scores is not None and bar is not None
            else "eval score ≥ today's model"
            if scores is not None
            else "no eval scores given: check quality before moving"
        )
        groups.append(
            [
                _Spec(
                    "model_swap",
                    f"Move {src} to {t.id} ({use.provider})",
                    use.provider,
                    src,
                    _label(t),
                    {},
                    {},
                    (f"smallest step down in price of the same kind ({m.kind})", quality),
                )
                for t in targets
            ]
        )
        # batch: declared eligible teams, or traffic already partly batch
        eligible = sorted(t for t in use.teams if t in batch_teams)
        if eligible:
            why = f"teams.yaml marks {', '.join(eligible)} batch-eligible"
            groups.append(_batch_group(use, day, {"teams": eligible}, why))
        elif OBSERVED_BATCH_SHARE <= use.batch_share < 1:
            why = f"already sends {use.batch_share:.0%} of its requests as batch"
            groups.append(_batch_group(use, day, {}, why))
        # prompt caching
        per_request = use.prompt_per_request
        if (
            _rates(m, day).get("cache_read") is not None
            and per_request is not None
            and per_request >= MIN_CACHEABLE_PROMPT
            and use.cache_hit < LOW_CACHE_HIT
        ):
            observed_hit = use.cache_hit.quantize(Decimal("0.01"))
            low = max(Decimal(_ASSUME_CACHE[0]), observed_hit)
            expected = max(Decimal(_ASSUME_CACHE[1]), low)
            high = max(Decimal(_ASSUME_CACHE[2]), expected)
            groups.append(
                [
                    _Spec(
                        "prompt_caching",
                        f"Cache the shared prompt prefix of {src} ({use.provider})",
                        use.provider,
                        src,
                        _label(m),
                        {},
                        {"cache_hit_rate": f"{low}:{expected}:{high}"},
                        (
                            (
                                f"{per_request:,.0f} prompt tokens a request, "
                                f"{observed_hit:.0%} read from cache today"
                            ),
                            (
                                f"assumed {low:.0%} to {high:.0%} of the prompt cached "
                                f"(expected {expected:.0%}); cache writes are not added"
                            ),
                        ),
                    )
                ]
            )
        # service tiers
        tiers = use.tiers or set()
        if "priority" in tiers and _rates(m, day):
            groups.append(
                [
                    _Spec(
                        "service_tier",
                        f"Move {src} priority traffic to standard ({use.provider})",
                        use.provider,
                        src,
                        _label(m),
                        {},
                        {"service_tier": "standard"},
                        ("standard latency is acceptable for this traffic",),
                    )
                ]
            )
        elif "standard" in tiers and _rates(m, day, "flex"):
            groups.append(
                [
                    _Spec(
                        "service_tier",
                        f"Run {src} on the flex tier ({use.provider})",
                        use.provider,
                        src,
                        _label(m),
                        {},
                        {"service_tier": "flex"},
                        ("flex: slower responses, may be refused at peak; for work that can wait",),
                    )
                ]
            )
        # retirement
        if m.deprecated_on is not None and 0 < (m.deprecated_on - day).days <= (
            RETIREMENT_HORIZON_DAYS
        ):
            successor = [
                s
                for s in session.catalog.lookup(m.successor or "", use.provider)
                if _live(s, day) and _blended(s, day) is not None
            ]
            current = _blended(m, day)
            nearest = sorted(
                (c for c in models if current is not None and _like_for_like(c, m, day)),
                key=lambda c: (abs(_blended(c, day) - current), c.id),
            )
            targets = (successor or nearest)[:_SWAP_TRIES]
            groups.append(
                [
                    _Spec(
                        "retirement",
                        f"{src} retires on {m.deprecated_on}: move it to {t.id} ({use.provider})",
                        use.provider,
                        src,
                        _label(t),
                        {},
                        {},
                        (
                            "the catalog's successor"
                            if successor
                            else "no successor listed: the live model of the same kind "
                            "closest in price",
                        ),
                        m.deprecated_on,
                    )
                    for t in targets
                ]
            )
    return [g for g in groups if g]


def find_opportunities(
    session: Session,
    *,
    today: dt.date | None = None,
    evals: pl.DataFrame | None = None,
    min_score: float | None = None,
    batch_teams: Sequence[str] | None = None,
    batch_projects: Sequence[str] = (),
    token_ratios: TokenRatios | None = None,
) -> list[Opportunity]:
    """Every opportunity with a saving (and every forced migration), ranked by $/month.

    Batch-eligible scopes: `batch_teams` (default: teams.yaml's ``batch_eligible: true``
    teams) and `batch_projects`, besides traffic already partly sent as batch."""
    today = session.day(today)
    table = token_ratios or load_token_ratios()
    _window, rows = scope_profile(session, Scope(), today=today)
    uses = _usage(session, rows)
    scores = None
    if evals is not None:
        providers = sorted({u.provider for u in uses})
        scores, _notes, _basis = eval_scores(evals, session.catalog, None, providers)
    teams = list(batch_teams) if batch_teams is not None else batch_eligible_teams(session)
    groups = _specs(session, uses, today, scores, quality_bars(session), min_score, teams)
    for project in batch_projects:
        _window, project_rows = scope_profile(session, Scope(projects=(project,)), today=today)
        why = f"project {project} named batch-eligible"
        for use in _usage(session, project_rows):
            groups.append(_batch_group(use, today, {"projects": [project]}, why))
    groups = [g for g in groups if g]
    found: list[Opportunity] = []
    for group in groups:
        for spec in group:
            try:
                scenario = spec.scenario()
                result = simulate(session, scenario, token_ratios=table, today=today)
            except ScenarioError:
                continue
            saving = result.monthly["savings_usd"] if result.monthly else None
            if not result.feasible or saving is None:
                continue
            if saving <= 0 and spec.kind != "retirement":
                continue
            found.append(
                Opportunity(
                    spec.kind,
                    spec.title,
                    scenario,
                    result,
                    spec.command(),
                    spec.assumptions,
                    spec.deadline,
                )
            )
            break
    return sorted(found, key=lambda o: (-o.savings_usd, o.kind, o.title))
