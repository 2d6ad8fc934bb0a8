"""Model-swap savings: what this workload would have cost on another model, from stored usage.

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

import csv
import datetime as dt
import difflib
import fnmatch
import importlib
import math
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import yaml

from finops.core.schema import SERVICE_TIERS
from finops.core.store import read_sql
from finops.pricing.allocation import register_owner_map
from finops.pricing.catalog import Catalog, CatalogModel
from finops.pricing.catalog_yaml import load_exact_yaml
from finops.session.session import Session

__all__ = [
    "ASSUMPTION_NAMES",
    "BREAKDOWN_COLUMNS",
    "DEPRECATION_WARNING_DAYS",
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
    "frontier_figure",
    "frontier_points",
    "load_evals",
    "load_scenarios",
    "load_token_ratios",
    "scenario_from_dict",
    "simulate",
    "simulate_many",
]

#: Assumption names, as scenario files and ``--assume`` write them.
ASSUMPTION_NAMES: tuple[str, ...] = (
    "input_token_ratio",
    "output_token_ratio",
    "cache_hit_rate",
    "batch_share",
    "service_tier",
    "contract_discount_pct",
)
#: A target retiring within this many days of today is flagged (warn); retired ones block.
DEPRECATION_WARNING_DAYS = 180
#: Forward savings apply the savings rate of the scope's last this-many days to the forecast.
FORWARD_RATE_DAYS = 28

_CENT = Decimal("0.01")
_RATIO_PLACES = Decimal("0.000001")
_PCT_PLACES = Decimal("0.0001")
_HUNDRED = Decimal(100)
_ONE = Decimal(1)
_CASES = ("pessimistic", "expected", "optimistic")
_TAG_KEY = re.compile(r"^[A-Za-z0-9_.:/ -]+$")
_SQL_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class ScenarioError(ValueError):
    """A scenario problem, naming where it is (file and field) and how to fix it."""

    def __init__(self, where: str, problem: str) -> None:
        self.where, self.problem = where, problem
        super().__init__(f"{where}: {problem}" if where else problem)

    def within(self, prefix: str) -> ScenarioError:
        """The same problem, with `prefix` (a file, an outer field) in front of its place."""
        joined = f"{prefix}.{self.where}" if self.where and prefix else (prefix or self.where)
        return ScenarioError(joined, self.problem)


# --- assumption values -------------------------------------------------------------------------


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ScenarioError(where, f"{value!r} is not a number")
    try:
        number = Decimal(str(value).strip().replace("_", ""))
    except InvalidOperation:
        raise ScenarioError(where, f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ScenarioError(where, f"{value!r} is not a number")
    return number


@dataclass(frozen=True)
class Estimate:
    """An assumption as low / expected / high, with low ≤ expected ≤ high.

    >>> Estimate.of({"low": 0.3, "expected": 0.5, "high": 0.6})
    Estimate(low=Decimal('0.3'), expected=Decimal('0.5'), high=Decimal('0.6'))
    >>> Estimate.of("0.9").high
    Decimal('0.9')
    """

    low: Decimal
    expected: Decimal
    high: Decimal

    def __post_init__(self) -> None:
        for name in ("low", "expected", "high"):
            object.__setattr__(self, name, _decimal(getattr(self, name), name))
        if not self.low <= self.expected <= self.high:
            msg = f"needs low ≤ expected ≤ high, got {self.low} / {self.expected} / {self.high}"
            raise ScenarioError("", msg)

    @classmethod
    def of(cls, value: Any) -> Estimate:
        """An Estimate from a number (all three alike), a (low, expected, high) triple, a
        mapping with `expected` (low and high default to it), or ``"low:expected:high"``."""
        if isinstance(value, Estimate):
            return value
        if isinstance(value, Mapping):
            unknown = set(value) - {"low", "expected", "high"}
            if unknown:
                raise ScenarioError(min(unknown), "unknown field: use low, expected, high")
            if "expected" not in value:
                raise ScenarioError("expected", "missing: give at least the expected value")
            expected = value["expected"]
            return cls(value.get("low", expected), expected, value.get("high", expected))
        if isinstance(value, str) and ":" in value:
            parts = value.split(":")
            if len(parts) != 3:
                raise ScenarioError("", f"{value!r}: write one value or low:expected:high")
            return cls(*parts)
        if isinstance(value, (list, tuple)):
            if len(value) != 3:
                raise ScenarioError("", "give one value or [low, expected, high]")
            return cls(*value)
        number = _decimal(value, "")
        return cls(number, number, number)

    def at(self, side: str) -> Decimal:
        return getattr(self, side)

    def to_dict(self) -> dict[str, Decimal]:
        return {"low": self.low, "expected": self.expected, "high": self.high}


def _bounded(
    value: Any, name: str, lo: Decimal, hi: Decimal, places: Decimal, *, open_lo: bool = False
) -> Estimate | None:
    if value is None:
        return None
    try:
        estimate = Estimate.of(value)
    except ScenarioError as exc:
        raise exc.within(name) from None
    for side in ("low", "expected", "high"):
        number = estimate.at(side)
        too_low = number <= lo if open_lo else number < lo
        if too_low or number > hi:
            bound = f"above {lo}" if open_lo else f"at least {lo}"
            raise ScenarioError(
                f"{name}.{side}", f"{number} is out of range: {bound}, at most {hi}"
            )
        if number != number.quantize(places):
            raise ScenarioError(
                f"{name}.{side}",
                f"{number} has more than {-places.as_tuple().exponent} decimal places",
            )
    return estimate


@dataclass(frozen=True)
class Assumptions:
    """Assumptions of a scenario or of one move; None means "the default".

    Defaults: token ratios from the token-ratio table; cache-hit rate, batch share and service
    tier as observed in the usage; contract discount 0%. Ratios and rates take up to 6 decimal
    places, the discount up to 4 (percent).
    """

    input_token_ratio: Estimate | None = None
    output_token_ratio: Estimate | None = None
    cache_hit_rate: Estimate | None = None
    batch_share: Estimate | None = None
    service_tier: str | None = None
    contract_discount_pct: Estimate | None = None

    def __post_init__(self) -> None:
        million = Decimal(1_000_000)
        for name in ("input_token_ratio", "output_token_ratio"):
            value = _bounded(
                getattr(self, name), name, Decimal(0), million, _RATIO_PLACES, open_lo=True
            )
            object.__setattr__(self, name, value)
        for name in ("cache_hit_rate", "batch_share"):
            value = _bounded(getattr(self, name), name, Decimal(0), _ONE, _RATIO_PLACES)
            object.__setattr__(self, name, value)
        discount = _bounded(
            self.contract_discount_pct, "contract_discount_pct", Decimal(0), _HUNDRED, _PCT_PLACES
        )
        object.__setattr__(self, "contract_discount_pct", discount)
        tier = self.service_tier
        if tier is not None:
            allowed = [t for t in SERVICE_TIERS if t != "batch"]
            if tier not in allowed:
                hint = "; for batch give batch_share instead" if tier == "batch" else ""
                raise ScenarioError(
                    "service_tier", f"{tier!r} is not one of {', '.join(allowed)}{hint}"
                )

    def over(self, base: Assumptions) -> Assumptions:
        """These assumptions where set, else `base`'s."""
        values = {
            f.name: getattr(self, f.name)
            if getattr(self, f.name) is not None
            else getattr(base, f.name)
            for f in fields(self)
        }
        return Assumptions(**values)


# --- scenario ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelRef:
    """A catalog model by name or alias, with its provider when the name is ambiguous."""

    model: str
    provider: str | None = None

    @classmethod
    def of(cls, value: Any) -> ModelRef:
        if isinstance(value, ModelRef):
            return value
        if isinstance(value, str) and value.strip():
            return cls(value.strip())
        if isinstance(value, Mapping):
            unknown = set(value) - {"model", "provider"}
            if unknown or not isinstance(value.get("model"), str):
                raise ScenarioError("", "write a model name, or {provider: ..., model: ...}")
            provider = value.get("provider")
            return cls(value["model"].strip(), str(provider).strip().lower() if provider else None)
        raise ScenarioError("", f"{value!r} is not a model: write its name or alias")

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}" if self.provider else self.model


def _names(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(v, (str, int)) and not isinstance(v, bool) for v in value
    ):
        raise ScenarioError(where, "expected a list of names")
    return tuple(str(v).strip() for v in value if str(v).strip())


def _day(value: Any, where: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ScenarioError(where, f"{value!r} is not a date (write YYYY-MM-DD)")


@dataclass(frozen=True)
class Scope:
    """Which stored usage a scenario is about; empty fields do not filter.

    `teams` matches the owning team ('unallocated' for usage without one); `models` matches
    catalog model names and aliases as well as names the catalog does not know; `tags` are
    key/value pairs every row must carry. Days are inclusive.
    """

    teams: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    api_keys: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    first_day: dt.date | None = None
    last_day: dt.date | None = None

    def __post_init__(self) -> None:
        for name in ("teams", "models", "providers", "projects", "api_keys"):
            object.__setattr__(self, name, _names(getattr(self, name), name))
        object.__setattr__(self, "providers", tuple(p.lower() for p in self.providers))
        tags = self.tags
        if isinstance(tags, Mapping):
            tags = tuple(sorted((str(k), str(v)) for k, v in tags.items()))
        if not isinstance(tags, tuple) or not all(
            isinstance(t, tuple) and len(t) == 2 for t in tags
        ):
            raise ScenarioError("tags", "expected a mapping of tag name to value")
        for key, _value in tags:
            if not _TAG_KEY.match(key):
                raise ScenarioError(
                    f"tags.{key}", "tag names use letters, digits, spaces and _ . : / - only"
                )
        object.__setattr__(self, "tags", tags)
        object.__setattr__(self, "first_day", _day(self.first_day, "first_day"))
        object.__setattr__(self, "last_day", _day(self.last_day, "last_day"))
        if self.first_day and self.last_day and self.last_day < self.first_day:
            raise ScenarioError("last_day", f"{self.last_day} is before first_day {self.first_day}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            name: list(getattr(self, name))
            for name in ("teams", "models", "providers", "projects", "api_keys")
            if getattr(self, name)
        }
        if self.tags:
            out["tags"] = dict(self.tags)
        for name in ("first_day", "last_day"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        return out


@dataclass(frozen=True)
class Move:
    """Move the usage of one source model to a target, or to the cheapest of candidates.

    `from_model` is matched like usage rows name models (catalog name or alias, or a name the
    catalog does not know); `from_provider` narrows it to one provider. Its own `assumptions`
    override the scenario's.
    """

    from_model: str
    to: ModelRef | None = None
    to_cheapest_of: tuple[ModelRef, ...] = ()
    from_provider: str | None = None
    assumptions: Assumptions = field(default_factory=Assumptions)

    def __post_init__(self) -> None:
        if not isinstance(self.from_model, str) or not self.from_model.strip():
            raise ScenarioError("from", "give the source model's name")
        object.__setattr__(self, "from_model", self.from_model.strip())
        if self.from_provider is not None:
            object.__setattr__(self, "from_provider", str(self.from_provider).strip().lower())
        if self.to is not None:
            try:
                object.__setattr__(self, "to", ModelRef.of(self.to))
            except ScenarioError as exc:
                raise exc.within("to") from None
        candidates = self.to_cheapest_of
        if isinstance(candidates, (str, ModelRef, Mapping)):
            candidates = [candidates]
        refs = []
        for index, candidate in enumerate(candidates or ()):
            try:
                refs.append(ModelRef.of(candidate))
            except ScenarioError as exc:
                raise exc.within(f"to_cheapest_of[{index}]") from None
        object.__setattr__(self, "to_cheapest_of", tuple(refs))
        if (self.to is None) == (not self.to_cheapest_of):
            raise ScenarioError("to", "give either to (one target) or to_cheapest_of (candidates)")
        if isinstance(self.assumptions, Mapping):
            object.__setattr__(self, "assumptions", _assumptions(self.assumptions, "assumptions"))

    @property
    def targets(self) -> tuple[ModelRef, ...]:
        return (self.to,) if self.to is not None else self.to_cheapest_of


@dataclass(frozen=True)
class QualityTarget:
    """Eval results to weigh savings against: a CSV of model, task, score (higher is better)."""

    evals_file: Path | None = None
    task: str | None = None
    min_score: float | None = None


@dataclass(frozen=True)
class Scenario:
    """A what-if: a scope, the moves to make in it, and the assumptions about them."""

    moves: tuple[Move, ...]
    name: str = "scenario"
    scope: Scope = field(default_factory=Scope)
    assumptions: Assumptions = field(default_factory=Assumptions)
    horizon_days: int = 30
    quality: QualityTarget = field(default_factory=QualityTarget)

    def __post_init__(self) -> None:
        moves = tuple(self.moves or ())
        if not moves or not all(isinstance(m, Move) for m in moves):
            raise ScenarioError("moves", "give at least one move (from a model to a target)")
        object.__setattr__(self, "moves", moves)
        if isinstance(self.scope, Mapping):
            object.__setattr__(self, "scope", _scope(self.scope, "scope"))
        if isinstance(self.assumptions, Mapping):
            object.__setattr__(self, "assumptions", _assumptions(self.assumptions, "assumptions"))
        if (
            isinstance(self.horizon_days, bool)
            or not isinstance(self.horizon_days, int)
            or not (1 <= self.horizon_days <= 730)
        ):
            raise ScenarioError("forecast.horizon_days", "give whole days, 1 to 730")


def _scope(data: Any, where: str) -> Scope:
    if not isinstance(data, Mapping):
        raise ScenarioError(where, "expected a mapping (teams, models, providers, ...)")
    known = {f.name for f in fields(Scope)}
    for key in data:
        if key not in known:
            raise ScenarioError(f"{where}.{key}", f"unknown field; use {', '.join(sorted(known))}")
    try:
        return Scope(**dict(data))
    except ScenarioError as exc:
        raise exc.within(where) from None


def _assumptions(data: Any, where: str) -> Assumptions:
    if data is None:
        return Assumptions()
    if not isinstance(data, Mapping):
        raise ScenarioError(where, f"expected a mapping of {', '.join(ASSUMPTION_NAMES)}")
    for key in data:
        if key not in ASSUMPTION_NAMES:
            raise ScenarioError(
                f"{where}.{key}", f"unknown assumption; use {', '.join(ASSUMPTION_NAMES)}"
            )
    try:
        return Assumptions(**dict(data))
    except ScenarioError as exc:
        raise exc.within(where) from None


def _move(data: Any, where: str) -> Move:
    if not isinstance(data, Mapping):
        raise ScenarioError(where, "expected a mapping with from and to (or to_cheapest_of)")
    known = {"from", "from_provider", "to", "to_cheapest_of", "assumptions"}
    for key in data:
        if key not in known:
            raise ScenarioError(f"{where}.{key}", f"unknown field; use {', '.join(sorted(known))}")
    try:
        return Move(
            from_model=data.get("from"),
            to=data.get("to"),
            to_cheapest_of=data.get("to_cheapest_of") or (),
            from_provider=data.get("from_provider"),
            assumptions=_assumptions(data.get("assumptions"), "assumptions"),
        )
    except ScenarioError as exc:
        raise exc.within(where) from None


def scenario_from_dict(
    data: Mapping[str, Any], *, base_dir: Path | None = None, name: str = "scenario"
) -> Scenario:
    """A Scenario from the mapping a scenario file holds (see :func:`load_scenarios`).

    >>> s = scenario_from_dict({"moves": [{"from": "o3", "to": "o4-mini"}],
    ...                         "assumptions": {"cache_hit_rate": "0.3:0.5:0.6"}})
    >>> s.assumptions.cache_hit_rate.expected
    Decimal('0.5')
    """
    if not isinstance(data, Mapping):
        raise ScenarioError("", "expected a mapping with moves (and scope, assumptions, ...)")
    known = {"name", "scope", "moves", "assumptions", "forecast", "quality"}
    for key in data:
        if key not in known:
            raise ScenarioError(key, f"unknown field; use {', '.join(sorted(known))}")
    moves_data = data.get("moves")
    if not isinstance(moves_data, list) or not moves_data:
        raise ScenarioError("moves", "give a list of moves, each with from and to")
    forecast = data.get("forecast") or {}
    if not isinstance(forecast, Mapping) or set(forecast) - {"horizon_days"}:
        raise ScenarioError("forecast", "expected a mapping with horizon_days")
    quality = data.get("quality") or {}
    if not isinstance(quality, Mapping) or set(quality) - {"evals", "task", "min_score"}:
        raise ScenarioError("quality", "expected a mapping with evals, task, min_score")
    evals = quality.get("evals")
    evals_file = None
    if evals is not None:
        evals_file = Path(str(evals))
        if base_dir is not None and not evals_file.is_absolute():
            evals_file = base_dir / evals_file
    min_score = quality.get("min_score")
    if min_score is not None:
        try:
            min_score = float(min_score)
        except (TypeError, ValueError):
            raise ScenarioError("quality.min_score", f"{min_score!r} is not a number") from None
    return Scenario(
        name=str(data.get("name") or name),
        scope=_scope(data.get("scope") or {}, "scope"),
        moves=tuple(_move(m, f"moves[{i}]") for i, m in enumerate(moves_data)),
        assumptions=_assumptions(data.get("assumptions"), "assumptions"),
        horizon_days=forecast.get("horizon_days", 30),
        quality=QualityTarget(
            evals_file=evals_file,
            task=str(quality["task"]) if quality.get("task") is not None else None,
            min_score=min_score,
        ),
    )


def _load_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), f"cannot read: {exc.strerror or exc}") from None
    try:
        return load_exact_yaml(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(str(path), f"not valid YAML: {exc}") from None


def load_scenarios(path: str | os.PathLike[str]) -> list[Scenario]:
    """Scenarios from a YAML file: one scenario, or ``scenarios:`` with a list of them.

    Every field but ``moves`` is optional; an assumption is one value or low / expected / high::

        name: search on the mini model
        scope: {teams: [search], tags: {env: prod}, first_day: 2025-06-01, last_day: 2025-08-31}
        moves:
          - from: gpt-4o                      # as usage names it; from_provider narrows it
            to: gpt-4o-mini                   # or {provider: openai, model: gpt-4o-mini}
          - from: o3
            to_cheapest_of: [openai/o4-mini, google/gemini-2.5-flash]
            assumptions: {output_token_ratio: 1.2}      # overrides the scenario's
        assumptions:
          input_token_ratio: {low: 1.0, expected: 1.05, high: 1.2}  # default: token_ratios.yaml
          cache_hit_rate: {low: 0.3, expected: 0.5, high: 0.6}      # default: as observed
          batch_share: 0.2                    # default: as observed
          service_tier: standard              # standard | priority | flex; default: as observed
          contract_discount_pct: 5            # beyond contracts.yaml; default 0
        forecast: {horizon_days: 30}
        quality: {evals: evals.csv, task: summarize, min_score: 0.8}

    Errors name the file and the field. A ``quality.evals`` path is read relative to the file.
    """
    path = Path(path)
    doc = _load_yaml(path)
    items = doc.get("scenarios") if isinstance(doc, Mapping) and "scenarios" in doc else [doc]
    if not isinstance(items, list) or not items:
        raise ScenarioError(str(path), "scenarios: expected a list of scenarios")
    out = []
    for index, item in enumerate(items):
        prefix = (
            f"{path}, scenarios[{index}]" if len(items) > 1 or "scenarios" in doc else str(path)
        )
        default_name = path.stem if len(items) == 1 else f"{path.stem} {index + 1}"
        try:
            out.append(scenario_from_dict(item, base_dir=path.parent, name=default_name))
        except ScenarioError as exc:
            raise ScenarioError(
                f"{prefix}, {exc.where}" if exc.where else prefix, exc.problem
            ) from None
    return out


# --- token ratios ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenFamily:
    """Models that tokenize alike, and (when published) their ratio to another family or unit."""

    id: str
    models: tuple[str, ...]
    relative_to: str | None
    ratio: Estimate | None
    source: str
    note: str | None = None


@dataclass(frozen=True)
class TokenRatio:
    """Target tokens per source token for the same text, and where that figure comes from."""

    estimate: Estimate
    source: str


@dataclass(frozen=True)
class TokenRatios:
    """The token-ratio table (``finops/data/token_ratios.yaml`` by default)."""

    families: tuple[TokenFamily, ...]
    path: str

    def family_of(self, model: str) -> TokenFamily | None:
        name = model.lower()
        for family in self.families:
            if any(fnmatch.fnmatchcase(name, pattern) for pattern in family.models):
                return family
        return None

    def _chain(self, family: TokenFamily) -> tuple[str, Estimate, list[TokenFamily]]:
        """(unit reached, this family's tokens per unit, the families walked)."""
        by_id = {f.id: f for f in self.families}
        low = expected = high = _ONE
        walked = [family]
        current = family
        while current.relative_to is not None:
            low, expected, high = (
                low * current.ratio.low,
                expected * current.ratio.expected,
                high * current.ratio.high,
            )
            parent = by_id.get(current.relative_to)
            if parent is None:
                return current.relative_to, Estimate(low, expected, high), walked
            walked.append(parent)
            current = parent
        return current.id, Estimate(low, expected, high), walked

    def ratio(self, source_model: str, target_model: str) -> TokenRatio:
        """Target tokens per source token, from the families the two models belong to.

        >>> table = load_token_ratios()
        >>> table.ratio("claude-opus-4-6", "claude-opus-4-7").estimate.expected
        Decimal('1.300000')
        >>> table.ratio("claude-opus-4-6", "gpt-4o").source
        'no source: no published ratio between claude and openai'
        """
        if source_model.lower() == target_model.lower():
            return TokenRatio(Estimate.of(1), "same model")
        source, target = self.family_of(source_model), self.family_of(target_model)
        if source is None or target is None:
            missing = source_model if source is None else target_model
            return TokenRatio(
                Estimate.of(1), f"no source: {missing} is in no family of {Path(self.path).name}"
            )
        if source.id == target.id:
            return TokenRatio(Estimate.of(1), f"same tokenizer family ({source.id})")
        unit_s, per_s, walk_s = self._chain(source)
        unit_t, per_t, walk_t = self._chain(target)
        if unit_s != unit_t:
            return TokenRatio(
                Estimate.of(1), f"no source: no published ratio between {source.id} and {target.id}"
            )

        def divide(a: Decimal, b: Decimal) -> Decimal:
            return (a / b).quantize(_RATIO_PLACES, rounding=ROUND_HALF_EVEN)

        estimate = Estimate(
            divide(per_t.low, per_s.high),
            divide(per_t.expected, per_s.expected),
            divide(per_t.high, per_s.low),
        )
        sources = dict.fromkeys(f.source for f in (*walk_s, *walk_t) if f.relative_to is not None)
        return TokenRatio(estimate, "; ".join(sources))


def load_token_ratios(path: str | os.PathLike[str] | None = None) -> TokenRatios:
    """Load the token-ratio table: `path`, else ``FINOPS_TOKEN_RATIOS``, else the bundled one."""
    if path is None and os.environ.get("FINOPS_TOKEN_RATIOS"):
        path = os.environ["FINOPS_TOKEN_RATIOS"]
    if path is None:
        resource = resources.files("finops").joinpath("data", "token_ratios.yaml")
        text, where = resource.read_text(encoding="utf-8"), "finops/data/token_ratios.yaml"
        doc = load_exact_yaml(text)
    else:
        where = str(path)
        doc = _load_yaml(Path(path))
    if not isinstance(doc, Mapping) or not isinstance(doc.get("families"), list):
        raise ScenarioError(where, "expected families: a list of model families")
    families = []
    seen: set[str] = set()
    for index, raw in enumerate(doc["families"]):
        at = f"{where}, families[{index}]"
        if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str):
            raise ScenarioError(at, "every family needs an id")
        unknown = set(raw) - {"id", "models", "relative_to", "ratio", "source", "note"}
        if unknown:
            raise ScenarioError(f"{at}.{min(unknown)}", "unknown field")
        if raw["id"] in seen:
            raise ScenarioError(f"{at}.id", f"family {raw['id']!r} appears twice")
        seen.add(raw["id"])
        if not raw.get("source"):
            raise ScenarioError(f"{at}.source", "give the page that publishes it, or 'no source'")
        relative_to = raw.get("relative_to")
        if (relative_to is None) != (raw.get("ratio") is None):
            raise ScenarioError(f"{at}.ratio", "give relative_to and ratio together, or neither")
        ratio = None
        if relative_to is not None:
            try:
                ratio = _bounded(
                    raw["ratio"],
                    "ratio",
                    Decimal(0),
                    Decimal(1_000_000),
                    Decimal("1e-12"),
                    open_lo=True,
                )
            except ScenarioError as exc:
                raise exc.within(at) from None
        try:
            models = _names(raw.get("models"), "models")
        except ScenarioError as exc:
            raise exc.within(at) from None
        families.append(
            TokenFamily(
                id=raw["id"],
                models=tuple(m.lower() for m in models),
                relative_to=str(relative_to) if relative_to is not None else None,
                ratio=ratio,
                source=str(raw["source"]),
                note=raw.get("note"),
            )
        )
    table = TokenRatios(tuple(families), where)
    for family in families:  # a cycle would never reach a unit
        seen_ids = {family.id}
        current = family
        while current.relative_to is not None:
            parent = next((f for f in families if f.id == current.relative_to), None)
            if parent is None:
                break
            if parent.id in seen_ids:
                raise ScenarioError(
                    f"{where}, family {family.id}", "relative_to goes round in a cycle"
                )
            seen_ids.add(parent.id)
            current = parent
    return table


# --- eval results ------------------------------------------------------------------------------


def load_evals(path: str | os.PathLike[str]) -> pl.DataFrame:
    """Eval results from a CSV with columns model, task, score (and optionally provider).

    A higher score is better. Errors name the file, row (1-based, header excluded) and field.
    """
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), f"cannot read: {exc.strerror or exc}") from None
    with handle:
        reader = csv.DictReader(handle)
        header = [h.strip().lower() for h in reader.fieldnames or []]
        missing = [c for c in ("model", "task", "score") if c not in header]
        if missing:
            raise ScenarioError(
                f"{path}, field {missing[0]}", "missing column: eval CSVs need model, task, score"
            )
        rows = []
        for number, raw in enumerate(reader, start=1):
            record = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
            for column in ("model", "task"):
                if not record.get(column):
                    raise ScenarioError(f"{path}, row {number}, field {column}", "empty")
            try:
                score = float(record["score"])
            except ValueError:
                score = math.nan
            if not math.isfinite(score):
                raise ScenarioError(
                    f"{path}, row {number}, field score", f"{record['score']!r} is not a number"
                )
            rows.append(
                {
                    "provider": record.get("provider") or None,
                    "model": record["model"],
                    "task": record["task"],
                    "score": score,
                }
            )
    if not rows:
        raise ScenarioError(str(path), "no eval rows")
    return pl.DataFrame(
        rows, schema={"provider": pl.Utf8, "model": pl.Utf8, "task": pl.Utf8, "score": pl.Float64}
    )


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """A capability or data check: `block` (cannot run as stated) or `warn`."""

    #: context_window, modality, deprecation, no_price, no_usage, token_band or quality
    check: str
    severity: str  # block | warn
    message: str
    move: int | None = None  # index of the move in the scenario
    target: str | None = None  # provider/model

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "move": self.move,
            "target": self.target,
            "message": self.message,
        }


def _exact(value: Decimal) -> Decimal:
    """Trailing zeros dropped but at least cents: exact, and readable (0.540000 → 0.54)."""
    reduced = value.normalize()
    if reduced.as_tuple().exponent > -2:
        reduced = reduced.quantize(_CENT)
    return reduced


def _pct(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (part / whole * _HUNDRED).quantize(_CENT, rounding=ROUND_HALF_EVEN)


@dataclass
class SimulationResult:
    """What a scenario would have cost, beside what was paid, over the scope's history.

    Money is exact (Decimal). `*_low` / `*_high` span the pessimistic, expected and optimistic
    cases. `to_dict()` is what the CLI prints as JSON and what the app shows.
    """

    scenario: Scenario
    revision_id: int
    first_day: dt.date | None
    last_day: dt.date | None
    actual_cost_usd: Decimal
    scenario_cost_usd: Decimal
    scenario_cost_usd_low: Decimal
    scenario_cost_usd_high: Decimal
    savings_usd: Decimal
    savings_usd_low: Decimal
    savings_usd_high: Decimal
    actual_effective_cost_usd: Decimal
    scenario_effective_cost_usd: Decimal
    by_month: list[dict[str, Any]]
    by_team: list[dict[str, Any]]
    moves: list[dict[str, Any]]
    findings: list[Finding]
    compared_rows: int
    excluded: dict[str, Any]
    tokens: dict[str, int]
    forecast: dict[str, Any] | None
    forecast_note: str | None
    quality: dict[str, Any] | None
    quality_note: str | None

    @property
    def savings_pct(self) -> Decimal | None:
        return _pct(self.savings_usd, self.actual_cost_usd)

    @property
    def effective_savings_usd(self) -> Decimal:
        """Savings on effective cost: after contracts (contracts.yaml) on both sides."""
        return self.actual_effective_cost_usd - self.scenario_effective_cost_usd

    @property
    def savings_pct_low(self) -> Decimal | None:
        return _pct(self.savings_usd_low, self.actual_cost_usd)

    @property
    def savings_pct_high(self) -> Decimal | None:
        return _pct(self.savings_usd_high, self.actual_cost_usd)

    @property
    def feasible(self) -> bool:
        """False when any finding blocks the scenario."""
        return not any(f.severity == "block" for f in self.findings)

    def months_frame(self) -> pl.DataFrame:
        return _rows_frame(self.by_month, "month")

    def teams_frame(self) -> pl.DataFrame:
        return _rows_frame(self.by_team, "team")

    def to_dict(self) -> dict[str, Any]:
        def money(value: Decimal | None) -> Decimal | None:
            return None if value is None else _exact(value)

        def rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [
                {k: money(v) if isinstance(v, Decimal) and "_usd" in k else v for k, v in r.items()}
                for r in items
            ]

        return {
            "scenario": self.scenario.name,
            "catalog_revision": self.revision_id,
            "scope": self.scenario.scope.to_dict(),
            "first_day": self.first_day,
            "last_day": self.last_day,
            "feasible": self.feasible,
            "actual_cost_usd": money(self.actual_cost_usd),
            "scenario_cost_usd": money(self.scenario_cost_usd),
            "savings_usd": money(self.savings_usd),
            "savings_pct": self.savings_pct,
            "scenario_cost_usd_low": money(self.scenario_cost_usd_low),
            "scenario_cost_usd_high": money(self.scenario_cost_usd_high),
            "savings_usd_low": money(self.savings_usd_low),
            "savings_usd_high": money(self.savings_usd_high),
            "savings_pct_low": self.savings_pct_low,
            "savings_pct_high": self.savings_pct_high,
            "actual_effective_cost_usd": money(self.actual_effective_cost_usd),
            "scenario_effective_cost_usd": money(self.scenario_effective_cost_usd),
            "effective_savings_usd": money(self.effective_savings_usd),
            "compared_rows": self.compared_rows,
            "excluded": {
                k: money(v) if isinstance(v, Decimal) else v for k, v in self.excluded.items()
            },
            "tokens": dict(self.tokens),
            "moves": [
                {
                    **m,
                    "candidates": rows(m["candidates"]),
                }
                for m in self.moves
            ],
            "by_month": rows(self.by_month),
            "by_team": rows(self.by_team),
            "warnings": [f.to_dict() for f in self.findings],
            "forecast": None
            if self.forecast is None
            else {k: money(v) if isinstance(v, Decimal) else v for k, v in self.forecast.items()},
            "forecast_note": self.forecast_note,
            "quality": None if self.quality is None else _quality_dict(self.quality),
            "quality_note": self.quality_note,
        }


#: Measures of every by-month and by-team row, in order.
BREAKDOWN_COLUMNS: tuple[str, ...] = (
    "actual_cost_usd",
    "scenario_cost_usd",
    "savings_usd",
    "savings_pct",
    "savings_usd_low",
    "savings_usd_high",
    "effective_savings_usd",
)


def _rows_frame(items: list[dict[str, Any]], key: str) -> pl.DataFrame:
    schema: dict[str, Any] = {key: pl.Date if key == "month" else pl.Utf8}
    schema |= {
        c: pl.Decimal(38, 2) if c == "savings_pct" else pl.Decimal(38, 18)
        for c in BREAKDOWN_COLUMNS
    }
    return (
        pl.DataFrame(items, schema=schema, orient="row") if items else pl.DataFrame(schema=schema)
    )


def _quality_dict(quality: dict[str, Any]) -> dict[str, Any]:
    out = dict(quality)
    out["points"] = [
        {k: _exact(v) if isinstance(v, Decimal) else v for k, v in p.items()}
        for p in quality["points"]
    ]
    best = quality.get("cheapest_meeting_min_score")
    if best is not None:
        out["cheapest_meeting_min_score"] = {
            k: _exact(v) if isinstance(v, Decimal) else v for k, v in best.items()
        }
    return out


# --- catalog lookups ---------------------------------------------------------------------------


def _model_label(model: CatalogModel) -> str:
    return f"{model.provider}/{model.id}"


def _name_matches(catalog: Catalog, name: str, provider: str | None) -> list[CatalogModel]:
    return catalog.lookup(name, provider)


def _prefer(matches: list[CatalogModel], providers: Iterable[str]) -> list[CatalogModel]:
    """Several providers' models of one name narrowed to the one in `providers`, if exactly one."""
    narrowed = [m for m in matches if m.provider in set(providers)]
    return narrowed if len(matches) > 1 and len(narrowed) == 1 else matches


def _resolve_target(
    catalog: Catalog, ref: ModelRef, where: str, source_providers: Sequence[str] = ()
) -> CatalogModel:
    """The catalog model a target names; a name several providers share is taken from the
    provider the move's usage comes from, when that settles it."""
    matches = _name_matches(catalog, ref.model, ref.provider)
    if not matches and ref.provider is None and "/" in ref.model:
        prefix, rest = ref.model.split("/", 1)
        matches = _name_matches(catalog, rest, prefix.lower())
    matches = _prefer(matches, source_providers)
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


def _model_keys(catalog: Catalog, name: str, provider: str | None) -> list[str]:
    """Keys a usage row's model_key may have for `name`: its catalog ids, and the name itself."""
    keys = {name.strip().lower()}
    keys |= {m.id for m in _name_matches(catalog, name, provider)}
    return sorted(keys)


# --- running the SQL ---------------------------------------------------------------------------


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Run a query with the parameters it names (DuckDB refuses unused ones), as dicts."""
    used = set(_SQL_PARAM.findall(sql))
    missing = used - set(params)
    if missing:
        msg = f"no value for SQL parameter(s) {', '.join(sorted(missing))}"
        raise KeyError(msg)
    cursor = con.execute(sql, {k: v for k, v in params.items() if k in used})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _scoped_usage_sql(*, grain: str, allocated: bool) -> str:
    """CTEs ending in `scoped_usage`: daily rollup rows (`grain='day'`) or usage rows, filtered
    by tags, their team taken from the allocation map when there is one, then by the scope."""
    base = read_sql("stored_daily_usage" if grain == "day" else "usage_rows")
    ctes = [f"rows_to_tag AS ({base})", f"tagged_rows AS ({read_sql('scenario_tagged_rows')})"]
    if allocated:
        ctes += [
            "rows_to_own AS (SELECT * FROM tagged_rows)",
            f"owned_rows AS ({read_sql('owned_rows')})",
            # teams are the owners the allocation map gives, as in every spend report
            "scope_source AS (SELECT * EXCLUDE (team, owner), owner AS team FROM owned_rows)",
        ]
    else:
        ctes.append("scope_source AS (SELECT * FROM tagged_rows)")
    ctes.append(f"scoped_usage AS ({read_sql('scenario_scoped_usage')})")
    return "WITH " + ",\n".join(ctes)


def _comparison_sql(allocated: bool) -> str:
    return (
        f"{_scoped_usage_sql(grain='day', allocated=allocated)},\n"
        f"usage_to_price AS ({read_sql('scenario_usage')}),\n"
        f"priced_scenario AS ({read_sql('priced_usage')})\n"
        f"SELECT * FROM ({read_sql('scenario_comparison')}) AS comparison"
    )


def _capability_sql(allocated: bool) -> str:
    return (
        f"{_scoped_usage_sql(grain='row', allocated=allocated)}\n"
        f"SELECT * FROM ({read_sql('scenario_capability')}) AS capability"
    )


def _source_providers_sql(allocated: bool) -> str:
    return (
        f"{_scoped_usage_sql(grain='day', allocated=allocated)}\n"
        f"SELECT * FROM ({read_sql('scenario_source_providers')}) AS source_providers"
    )


@dataclass
class _Resolved:
    """A move with its names resolved against the catalog."""

    index: int
    move: Move
    from_keys: list[str]
    source_model: str  # for the token-ratio lookup
    assumptions: Assumptions
    candidates: list[CatalogModel]
    target: CatalogModel | None = None


@dataclass(frozen=True)
class _Plan:
    """How one variant bills one move's rows."""

    target: CatalogModel
    input_ratio: Decimal
    output_ratio: Decimal
    cache_hit_rate: Decimal | None
    batch_share: Decimal | None
    service_tier: str | None
    discount_factor: Decimal


def _base_params(session: Session, scope: Scope, resolved: list[_Resolved]) -> dict[str, Any]:
    catalog = session.catalog
    scope_models = sorted({k for name in scope.models for k in _model_keys(catalog, name, None)})
    return {
        "revision_id": session.revision_id,
        "thresholds": catalog.thresholds,
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


def _ratios(
    resolved: _Resolved, target: CatalogModel, table: TokenRatios
) -> tuple[Estimate, Estimate, dict[str, Any]]:
    """(input ratio, output ratio, how each was chosen) for a move to `target`."""
    a = resolved.assumptions
    tokenizer = table.ratio(resolved.source_model, target.id)
    input_ratio = a.input_token_ratio or tokenizer.estimate
    output_ratio = a.output_token_ratio or tokenizer.estimate
    explained = {
        "input_token_ratio": {
            **input_ratio.to_dict(),
            "source": "scenario" if a.input_token_ratio else tokenizer.source,
        },
        "output_token_ratio": {
            **output_ratio.to_dict(),
            "source": "scenario"
            if a.output_token_ratio
            else f"{tokenizer.source}; verbosity 1.0 (no source)",
        },
    }
    return input_ratio, output_ratio, explained


def _plan(resolved: _Resolved, target: CatalogModel, table: TokenRatios, case: str) -> _Plan:
    """The plan for one move in one case: pessimistic, expected or optimistic."""
    a = resolved.assumptions
    input_ratio, output_ratio, _ = _ratios(resolved, target, table)
    # cost rises with token ratios and falls with cache hits, batch share and discount
    rising = {"pessimistic": "high", "expected": "expected", "optimistic": "low"}[case]
    falling = {"pessimistic": "low", "expected": "expected", "optimistic": "high"}[case]
    discount = a.contract_discount_pct.at(falling) if a.contract_discount_pct else Decimal(0)
    return _Plan(
        target=target,
        input_ratio=input_ratio.at(rising),
        output_ratio=output_ratio.at(rising),
        cache_hit_rate=a.cache_hit_rate.at(falling) if a.cache_hit_rate else None,
        batch_share=a.batch_share.at(falling) if a.batch_share else None,
        service_tier=a.service_tier,
        discount_factor=_ONE - discount / _HUNDRED,
    )


def _price_variants(
    session: Session,
    params: dict[str, Any],
    variants: dict[str, dict[int, _Plan]],
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
        "plan_batch_share": [p.batch_share for _, _, p in plan_rows],
        "plan_service_tier": [p.service_tier for _, _, p in plan_rows],
        "plan_discount_factor": [p.discount_factor for _, _, p in plan_rows],
    }
    return _rows(session.con, _comparison_sql(allocated), params | plan_params)


@dataclass
class _Tally:
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

    def add(self, row: Mapping[str, Any]) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + row[f.name])

    @property
    def savings_usd(self) -> Decimal:
        return self.actual_cost_usd - self.scenario_cost_usd

    @property
    def effective_savings_usd(self) -> Decimal:
        return self.actual_effective_cost_usd - self.scenario_effective_cost_usd


def _unpriced_spans(
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


def _tally(rows: Iterable[Mapping[str, Any]], key) -> dict[Any, _Tally]:
    out: dict[Any, _Tally] = defaultdict(_Tally)
    for row in rows:
        out[key(row)].add(row)
    return out


# --- capability checks -------------------------------------------------------------------------


def _capability_profiles(
    session: Session,
    params: dict[str, Any],
    checks: list[tuple[int, CatalogModel, Decimal, Decimal]],
) -> dict[int, dict[str, Any]]:
    """Per check (move, target, input ratio, output ratio), by position: what the target takes."""
    check_params = {
        "check_id": list(range(len(checks))),
        "check_move": [c[0] for c in checks],
        "check_provider": [c[1].provider for c in checks],
        "check_model": [c[1].id for c in checks],
        "check_window": [c[1].context_window for c in checks],
        "check_input_ratio": [c[2] for c in checks],
        "check_output_ratio": [c[3] for c in checks],
    }
    rows = _rows(
        session.con, _capability_sql(session.allocation is not None), params | check_params
    )
    return {row["check_id"]: row for row in rows}


_EMPTY_PROFILE: dict[str, Any] = {
    "request_rows": 0,
    "requests_over_window": 0,
    "largest_request_tokens": None,
    "bucket_rows": 0,
    "bucket_rows_without_requests": 0,
    "buckets_over_window": 0,
    "buckets_near_window": 0,
    "largest_bucket_average_tokens": None,
    "long_context_bucket_rows": 0,
    "requests_changing_band": 0,
    "input_audio_tokens": 0,
    "output_audio_tokens": 0,
    "input_image_tokens": 0,
    "output_image_tokens": 0,
}


def _capability_findings(
    move: int,
    target: CatalogModel,
    expected: Mapping[str, Any],
    pessimistic: Mapping[str, Any],
    thresholds: list[int],
    today: dt.date,
) -> list[Finding]:
    """Findings for moving one move's rows to `target` (expected and pessimistic token ratios)."""
    label = _model_label(target)
    out: list[Finding] = []

    def add(check: str, severity: str, message: str) -> None:
        out.append(Finding(check, severity, message, move, label))

    window = target.context_window
    rows = expected["request_rows"] + expected["bucket_rows"]
    if window is None and rows:
        add(
            "context_window",
            "warn",
            f"the catalog lists no context window for {label}: not checked",
        )
    elif rows:
        if expected["requests_over_window"]:
            add(
                "context_window",
                "block",
                f"{expected['requests_over_window']:,} of {expected['request_rows']:,} requests in "
                f"scope would not fit {label}'s {window:,}-token context window (largest "
                f"{expected['largest_request_tokens']:,} tokens with the expected token ratios)",
            )
        elif pessimistic["requests_over_window"]:
            add(
                "context_window",
                "warn",
                f"{pessimistic['requests_over_window']:,} requests would not fit {label}'s "
                f"{window:,}-token context window at the high token ratios",
            )
        if expected["buckets_over_window"]:
            add(
                "context_window",
                "block",
                f"{expected['buckets_over_window']:,} usage buckets average more tokens per request "
                f"(up to {expected['largest_bucket_average_tokens']:,}) than {label}'s {window:,}-"
                "token context window: their requests are likely exceeded",
            )
        near = (
            pessimistic["buckets_near_window"]
            + pessimistic["buckets_over_window"]
            - expected["buckets_over_window"]
        )
        if near > 0:
            add(
                "context_window",
                "warn",
                f"{near:,} usage buckets average over half of {label}'s {window:,}-token context "
                "window per request: their larger requests likely exceed it",
            )
        smallest = min(thresholds) if thresholds else None
        if expected["long_context_bucket_rows"] and smallest and window <= smallest:
            add(
                "context_window",
                "block",
                f"{expected['long_context_bucket_rows']:,} usage buckets were billed as long-context "
                f"(prompts over {smallest:,} tokens), more than {label}'s {window:,}-token window",
            )
        if expected["bucket_rows_without_requests"]:
            add(
                "context_window",
                "warn",
                f"{expected['bucket_rows_without_requests']:,} usage buckets give no request count: "
                f"their request sizes cannot be checked against {label}'s context window",
            )
    for direction, modality, column in (
        ("input", "audio", "input_audio_tokens"),
        ("input", "image", "input_image_tokens"),
        ("output", "audio", "output_audio_tokens"),
        ("output", "image", "output_image_tokens"),
    ):
        tokens = expected[column]
        if not tokens:
            continue
        listed = target.input_modalities if direction == "input" else target.output_modalities
        if not listed:
            add(
                "modality",
                "warn",
                f"scope has {tokens:,} {direction} {modality} tokens; the catalog lists no "
                f"{direction} modalities for {label}: not checked",
            )
        elif modality not in listed:
            add(
                "modality",
                "block",
                f"scope has {tokens:,} {direction} {modality} tokens; {label} takes "
                f"{'/'.join(listed)} {direction} only",
            )
    if target.deprecated_on is not None:
        days_left = (target.deprecated_on - today).days
        if days_left <= 0:
            add("deprecation", "block", f"{label} was retired on {target.deprecated_on}")
        elif days_left <= DEPRECATION_WARNING_DAYS:
            add(
                "deprecation",
                "warn",
                f"{label} retires on {target.deprecated_on}, in {days_left} days",
            )
    if pessimistic["requests_changing_band"]:
        add(
            "token_band",
            "warn",
            f"{pessimistic['requests_changing_band']:,} requests cross a long-context threshold "
            "once token ratios apply; they are priced at their source band",
        )
    return out


# --- quality -----------------------------------------------------------------------------------


def _eval_scores(
    evals: pl.DataFrame, catalog: Catalog, task: str | None, source_providers: Sequence[str]
) -> tuple[dict[tuple[str, str], float], list[str], str]:
    """({(provider, model id): score}, notes, what the score is). An eval model several
    providers share is taken from the provider the scope's moved usage comes from, if one."""
    notes: list[str] = []
    frame = evals
    if task is not None:
        frame = frame.filter(pl.col("task") == task)
        if frame.is_empty():
            tasks = ", ".join(sorted(set(evals["task"])))
            raise ScenarioError("quality.task", f"no eval rows for task {task!r} (tasks: {tasks})")
        basis = f"score on {task}"
    else:
        basis = "mean score over tasks"
    all_tasks = set(frame["task"])
    scores: dict[tuple[str, str], list[float]] = defaultdict(list)
    tasks_seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    unknown: set[str] = set()
    for row in frame.iter_rows(named=True):
        provider = row["provider"].lower() if row["provider"] else None
        matches = _prefer(_name_matches(catalog, row["model"], provider), source_providers)
        if len(matches) != 1:
            unknown.add(row["model"])
            continue
        key = (matches[0].provider, matches[0].id)
        scores[key].append(row["score"])
        tasks_seen[key].add(row["task"])
    if unknown:
        notes.append(
            f"eval models not found (or ambiguous) in the catalog: {', '.join(sorted(unknown))}"
        )
    partial = sorted(f"{p}/{m}" for (p, m), seen in tasks_seen.items() if seen != all_tasks)
    if partial:
        notes.append(f"left out, not scored on every task: {', '.join(partial)}")
    result = {
        key: sum(values) / len(values)
        for key, values in scores.items()
        if tasks_seen[key] == all_tasks
    }
    return result, notes, basis


def _frontier(points: list[dict[str, Any]]) -> None:
    """Mark points no cheaper point scores as well as (among comparable, unblocked points)."""
    best = -math.inf
    eligible = [p for p in points if p["comparable"] and not p["blocked"]]
    for point in sorted(eligible, key=lambda p: (p["cost_usd"], -p["score"])):
        point["on_frontier"] = point["score"] > best
        best = max(best, point["score"])


def frontier_points(result: SimulationResult) -> pl.DataFrame:
    """The cost–quality points of a result (one per scored model), for tables and charts.

    Columns: provider, model, score, cost_usd (the scope's cost on that model, exact),
    comparable, blocked, on_frontier, is_current, is_target, meets_min_score.
    """
    schema = {
        "provider": pl.Utf8,
        "model": pl.Utf8,
        "score": pl.Float64,
        "cost_usd": pl.Decimal(38, 18),
        "comparable": pl.Boolean,
        "blocked": pl.Boolean,
        "on_frontier": pl.Boolean,
        "is_current": pl.Boolean,
        "is_target": pl.Boolean,
        "meets_min_score": pl.Boolean,
    }
    points = result.quality["points"] if result.quality else []
    return pl.DataFrame([{k: p.get(k) for k in schema} for p in points], schema=schema)


def frontier_figure(result: SimulationResult):
    """A plotly figure of the cost–quality frontier: every scored model, the frontier line, the
    current and target models marked, and the minimum score if one was set."""
    import plotly.graph_objects as go

    points = frontier_points(result)
    figure = go.Figure()
    if points.is_empty():
        figure.update_layout(title="No eval results for this scenario")
        return figure
    usable = points.filter(pl.col("comparable"))
    labels = [
        f"{m}{' (current)' if c else ''}{' (target)' if t else ''}"
        for m, c, t in zip(usable["model"], usable["is_current"], usable["is_target"])
    ]
    figure.add_trace(
        go.Scatter(
            x=[float(c) for c in usable["cost_usd"]],
            y=usable["score"].to_list(),
            mode="markers+text",
            text=labels,
            textposition="top center",
            marker={
                "size": 11,
                "symbol": ["x" if b else "circle" for b in usable["blocked"]],
                "color": [
                    "#d62728" if c else "#2ca02c" if t else "#1f77b4"
                    for c, t in zip(usable["is_current"], usable["is_target"])
                ],
            },
            name="models",
        )
    )
    front = usable.filter(pl.col("on_frontier")).sort("cost_usd")
    figure.add_trace(
        go.Scatter(
            x=[float(c) for c in front["cost_usd"]],
            y=front["score"].to_list(),
            mode="lines",
            line={"dash": "dot"},
            name="frontier",
        )
    )
    if result.quality and result.quality.get("min_score") is not None:
        figure.add_hline(
            y=result.quality["min_score"], line_dash="dash", annotation_text="min score"
        )
    figure.update_layout(
        title=f"Cost and quality: {result.scenario.name}",
        xaxis_title=f"cost of the scope, USD ({result.first_day} to {result.last_day})",
        yaxis_title=result.quality["basis"] if result.quality else "score",
    )
    return figure


# --- forecast ----------------------------------------------------------------------------------


def _forward_savings(
    daily: dict[dt.date, dict[str, _Tally]], horizon: int, last_day: dt.date | None
) -> tuple[dict[str, Any] | None, str | None]:
    """Forecast the scope's spend and apply the savings rate of its last days to it."""
    try:
        forecast_mod = importlib.import_module("finops.analysis.forecast.api")
    except ImportError:
        return None, "finops.analysis.forecast.api is not available: forward savings skipped"
    if not daily or last_day is None:
        return None, "no priced usage in scope: nothing to forecast"
    recent_from = last_day - dt.timedelta(days=FORWARD_RATE_DAYS - 1)
    recent = {case: _Tally() for case in _CASES}
    for day, by_case in daily.items():
        if day >= recent_from:
            for case in _CASES:
                tally = by_case.get(case)
                if tally is not None:
                    recent[case].actual_cost_usd += tally.actual_cost_usd
                    recent[case].scenario_cost_usd += tally.scenario_cost_usd
    base = recent["expected"].actual_cost_usd
    if not base:
        return (
            None,
            f"no priced spend in the scope's last {FORWARD_RATE_DAYS} days: nothing to forecast",
        )
    shares = {
        case: recent[case].savings_usd / recent[case].actual_cost_usd
        for case in _CASES
        if recent[case].actual_cost_usd
    }
    days = sorted(daily)
    values = [
        float(daily[d]["expected"].actual_cost_usd) if "expected" in daily[d] else 0.0 for d in days
    ]
    try:
        frame = forecast_mod.forecast_series(values, days=days, horizon=horizon, fill="zero")
    except ValueError as exc:
        return None, f"forecast not possible: {exc}"
    end = frame.row(frame.height - 1, named=True)
    mean, lo, hi = (Decimal(str(round(end[c], 2))) for c in ("cum_mean", "cum_lo80", "cum_hi80"))
    low_share, high_share = min(shares.values()), max(shares.values())

    def cents(value: Decimal) -> Decimal:
        return value.quantize(_CENT, rounding=ROUND_HALF_EVEN)

    forecast = {
        "horizon_days": horizon,
        "first_day": frame["day"][0],
        "last_day": frame["day"][-1],
        "forecast_cost_usd": mean,
        "forecast_cost_usd_lo80": lo,
        "forecast_cost_usd_hi80": hi,
        "savings_rate_days": FORWARD_RATE_DAYS,
        "savings_usd": cents(mean * shares["expected"]) if "expected" in shares else None,
        "savings_usd_low": cents(min(lo * low_share, hi * low_share)),
        "savings_usd_high": cents(max(lo * high_share, hi * high_share)),
        "method": end["method"],
        "note": end["note"],
    }
    note = (
        f"estimate: the scope's {horizon}-day spend forecast (80% interval) times the savings "
        f"rate of its last {FORWARD_RATE_DAYS} days; announced future prices are not applied"
    )
    return forecast, note


# --- simulate ----------------------------------------------------------------------------------


def _resolve(session: Session, scenario: Scenario) -> list[_Resolved]:
    """Moves with their source names resolved; targets follow in :func:`_resolve_targets`."""
    catalog = session.catalog
    out = []
    for index, move in enumerate(scenario.moves):
        ids = {m.id for m in _name_matches(catalog, move.from_model, move.from_provider)}
        out.append(
            _Resolved(
                index=index,
                move=move,
                from_keys=_model_keys(catalog, move.from_model, move.from_provider),
                source_model=next(iter(ids)) if len(ids) == 1 else move.from_model.lower(),
                assumptions=move.assumptions.over(scenario.assumptions),
                candidates=[],
            )
        )
    return out


def _resolve_targets(
    catalog: Catalog, resolved: list[_Resolved], source_providers: Mapping[int, Sequence[str]]
) -> None:
    for r in resolved:
        providers = source_providers.get(r.index, ())
        for c_index, ref in enumerate(r.move.targets):
            field_name = "to" if r.move.to is not None else f"to_cheapest_of[{c_index}]"
            where = f"moves[{r.index}].{field_name}"
            r.candidates.append(_resolve_target(catalog, ref, where, providers))
        if r.move.to is not None:
            r.target = r.candidates[0]


def _choose_target(
    r: _Resolved, candidate_rows: list[dict[str, Any]], capability
) -> list[dict[str, Any]]:
    """Set `r.target` to the cheapest candidate that can take the move's traffic; return every
    candidate with its cost and why it could not, if so."""
    candidates = []
    for j, model in enumerate(r.candidates):
        variant = f"candidate {r.index}.{j}"
        rows = [row for row in candidate_rows if row["variant"] == variant]
        tally = _tally(rows, lambda row: row["move_index"]).get(r.index, _Tally())
        blocks = [f.message for f in capability(r.index, model) if f.severity == "block"]
        for (move, reason), (_, first, last, count) in _unpriced_spans(rows, [variant]).items():
            if move == r.index:
                blocks.append(f"{count:,} usage rows unpriced ({first}..{last}: {reason})")
        candidates.append(
            {
                "model": _model_label(model),
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
    r: _Resolved, candidates: list[dict[str, Any]], table: TokenRatios
) -> dict[str, Any]:
    """A move as resolved: its target, the candidates weighed, and the assumptions used."""
    _, _, ratios = _ratios(r, r.target, table)
    a = r.assumptions
    no_discount = {"low": Decimal(0), "expected": Decimal(0), "high": Decimal(0)}
    return {
        "from": r.move.from_model,
        "from_provider": r.move.from_provider,
        "to": _model_label(r.target),
        "chosen_from": [c["model"] for c in candidates] if candidates else None,
        "candidates": candidates,
        "assumptions": {
            **ratios,
            "cache_hit_rate": a.cache_hit_rate.to_dict() if a.cache_hit_rate else "as observed",
            "batch_share": a.batch_share.to_dict() if a.batch_share else "as observed",
            "service_tier": a.service_tier or "as observed",
            "contract_discount_pct": a.contract_discount_pct.to_dict()
            if a.contract_discount_pct
            else no_discount,
        },
    }


def _usage_findings(
    resolved: list[_Resolved], rows: list[dict[str, Any]], has_usage: bool, capability
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
                    _model_label(r.target),
                )
            )
        findings.extend(capability(r.index, r.target))
    spans = _unpriced_spans(rows, _CASES)
    for (move, reason), (cases, first, last, _count) in sorted(
        spans.items(), key=lambda i: (i[1][1], i[0][1])
    ):
        target = _model_label(resolved[move].target)
        which = "" if len(cases) == len(_CASES) else f" ({', '.join(sorted(cases))} case)"
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


def _breakdown(group: dict[Any, _Tally], key_name: str) -> list[dict[str, Any]]:
    """Rows by month or team: the expected case, with the range over the three cases."""
    out = []
    for key in sorted({k for (variant, k) in group if variant == "expected"}):
        expected = group[("expected", key)]
        savings = [group.get((case, key), _Tally()).savings_usd for case in _CASES]
        out.append(
            {
                key_name: key,
                "actual_cost_usd": expected.actual_cost_usd,
                "scenario_cost_usd": expected.scenario_cost_usd,
                "savings_usd": expected.savings_usd,
                "savings_pct": _pct(expected.savings_usd, expected.actual_cost_usd),
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
) -> SimulationResult:
    """Price the scenario over the scope's stored history, beside what it actually cost.

    `evals` (see :func:`load_evals`) adds the cost–quality view; by default the scenario's
    ``quality.evals`` file is read when it names one. `today` dates the deprecation check.
    """
    today = today or dt.date.today()
    table = token_ratios or load_token_ratios()
    catalog = session.catalog
    if evals is None and scenario.quality.evals_file is not None:
        evals = load_evals(scenario.quality.evals_file)
    resolved = _resolve(session, scenario)
    params = _base_params(session, scenario.scope, resolved)
    allocated = session.allocation is not None
    if allocated:  # teams are the owners the allocation map gives, as in every spend report
        register_owner_map(session.con, session.allocation)
    source_providers = {
        row["move_index"]: row["providers"]
        for row in _rows(session.con, _source_providers_sql(allocated), params)
    }
    _resolve_targets(catalog, resolved, source_providers)

    scores: dict[tuple[str, str], float] = {}
    quality_notes: list[str] = []
    basis = ""
    eval_models: list[CatalogModel] = []
    if evals is not None:
        used = sorted({p for providers in source_providers.values() for p in providers})
        scores, quality_notes, basis = _eval_scores(evals, catalog, scenario.quality.task, used)
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
    profiles = _capability_profiles(session, params, checks)

    def profile(move: int, model: CatalogModel, case: str) -> Mapping[str, Any]:
        return profiles.get(check_ids[(move, (model.provider, model.id), case)], _EMPTY_PROFILE)

    def capability(move: int, model: CatalogModel) -> list[Finding]:
        return _capability_findings(
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
        candidate_rows = _price_variants(session, params, variants, allocated)
    move_reports = []
    for r in resolved:
        candidates = _choose_target(r, candidate_rows, capability) if r.target is None else []
        move_reports.append(_move_report(r, candidates, table))

    # the scenario in three cases, and every scored model in the expected case
    variants = {
        case: {r.index: _plan(r, r.target, table, case) for r in resolved} for case in _CASES
    }
    for model in eval_models:
        variants[f"eval {model.provider}/{model.id}"] = {
            r.index: _plan(r, model, table, "expected") for r in resolved
        }
    rows = _price_variants(session, params, variants, allocated)
    totals = _tally(rows, lambda row: row["variant"])
    by_month = _tally(rows, lambda row: (row["variant"], row["day"].replace(day=1)))
    by_team = _tally(rows, lambda row: (row["variant"], row["team"]))
    by_day: dict[dt.date, dict[str, _Tally]] = defaultdict(lambda: defaultdict(_Tally))
    for row in rows:
        if row["variant"] in _CASES:
            by_day[row["day"]][row["variant"]].add(row)
    days = [row["day"] for row in rows if row["variant"] == "expected"]
    first_day, last_day = (min(days), max(days)) if days else (None, None)

    findings = _usage_findings(resolved, rows, bool(days), capability)
    expected = totals.get("expected", _Tally())
    savings = [totals.get(case, _Tally()).savings_usd for case in _CASES]
    costs = [totals.get(case, _Tally()).scenario_cost_usd for case in _CASES]

    quality = None
    quality_note = None
    if evals is None:
        quality_note = (
            "no eval results given: savings alone say nothing about quality; "
            "pass eval scores (--evals FILE.csv) to see the cost–quality frontier"
        )
    else:
        quality, extra = _quality_view(
            scenario, resolved, scores, basis, eval_models, totals, capability
        )
        findings.extend(extra)
        quality_note = "; ".join(quality_notes) or None

    forecast, forecast_note = _forward_savings(by_day, scenario.horizon_days, last_day)
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
        forecast=forecast,
        forecast_note=forecast_note,
        quality=quality,
        quality_note=quality_note,
    )


def _quality_view(
    scenario: Scenario,
    resolved: list[_Resolved],
    scores: dict[tuple[str, str], float],
    basis: str,
    eval_models: list[CatalogModel],
    totals: dict[Any, _Tally],
    capability,
) -> tuple[dict[str, Any], list[Finding]]:
    """Points (one per scored model, plus today's models), the frontier, and the cheapest
    model that meets the minimum score, all for this scope."""
    targets = {(r.target.provider, r.target.id) for r in resolved}
    # today's model: when every move leaves the same catalog model
    source_ids = {r.source_model for r in resolved}
    current_key = next(
        (key for key in scores if len(source_ids) == 1 and key[1] in source_ids), None
    )
    min_score = scenario.quality.min_score
    points: list[dict[str, Any]] = []
    for model in eval_models:
        key = (model.provider, model.id)
        tally = totals.get(f"eval {model.provider}/{model.id}", _Tally())
        blocked = any(f.severity == "block" for r in resolved for f in capability(r.index, model))
        points.append(
            {
                "provider": model.provider,
                "model": model.id,
                "score": scores[key],
                "cost_usd": tally.scenario_cost_usd,
                "comparable": tally.unpriced_scenario_rows == 0,
                "blocked": blocked,
                "on_frontier": False,
                "is_current": key == current_key,
                "is_target": key in targets,
                "meets_min_score": None if min_score is None else scores[key] >= min_score,
            }
        )
    _frontier(points)
    cheapest = None
    if min_score is not None:
        meeting = [
            p for p in points if p["comparable"] and not p["blocked"] and p["score"] >= min_score
        ]
        if meeting:
            best = min(meeting, key=lambda p: (p["cost_usd"], -p["score"]))
            cheapest = {k: best[k] for k in ("provider", "model", "score", "cost_usd")}
    findings = []
    current = next((p for p in points if p["is_current"]), None)
    for r in resolved:
        target = next(
            (p for p in points if (p["provider"], p["model"]) == (r.target.provider, r.target.id)),
            None,
        )
        label = _model_label(r.target)
        if target is None:
            findings.append(
                Finding(
                    "quality",
                    "warn",
                    f"no eval score for {label}: quality not compared",
                    r.index,
                    label,
                )
            )
            continue
        if current is not None and target["score"] < current["score"]:
            findings.append(
                Finding(
                    "quality",
                    "warn",
                    f"{label} scores {target['score']:.3g} against {current['score']:.3g} for "
                    f"{current['model']} ({basis})",
                    r.index,
                    label,
                )
            )
        if min_score is not None and target["score"] < min_score:
            findings.append(
                Finding(
                    "quality",
                    "warn",
                    f"{label} scores {target['score']:.3g}, below the minimum {min_score:g} ({basis})",
                    r.index,
                    label,
                )
            )
    view = {
        "basis": basis,
        "task": scenario.quality.task,
        "min_score": min_score,
        "points": sorted(points, key=lambda p: (p["cost_usd"], -p["score"])),
        "cheapest_meeting_min_score": cheapest,
    }
    return view, findings


def simulate_many(
    session: Session,
    scenarios: Sequence[Scenario],
    *,
    evals: pl.DataFrame | None = None,
    token_ratios: TokenRatios | None = None,
    today: dt.date | None = None,
) -> list[SimulationResult]:
    """Several scenarios on the same store and catalog revision, for side-by-side comparison."""
    table = token_ratios or load_token_ratios()
    return [simulate(session, s, evals=evals, token_ratios=table, today=today) for s in scenarios]


def comparison_frame(results: Sequence[SimulationResult]) -> pl.DataFrame:
    """One row per scenario: costs, savings with their range, blocks and warnings."""
    rows = []
    for result in results:
        blocks = sum(f.severity == "block" for f in result.findings)
        rows.append(
            {
                "scenario": result.scenario.name,
                "actual_cost_usd": result.actual_cost_usd,
                "scenario_cost_usd": result.scenario_cost_usd,
                "savings_usd": result.savings_usd,
                "savings_usd_low": result.savings_usd_low,
                "savings_usd_high": result.savings_usd_high,
                "savings_pct": result.savings_pct,
                "forward_savings_usd": result.forecast["savings_usd"] if result.forecast else None,
                "blocks": blocks,
                "warnings": len(result.findings) - blocks,
            }
        )
    money = {
        k: pl.Decimal(38, 18)
        for k in (
            "actual_cost_usd",
            "scenario_cost_usd",
            "savings_usd",
            "savings_usd_low",
            "savings_usd_high",
            "forward_savings_usd",
        )
    }
    return pl.DataFrame(
        rows,
        schema={
            "scenario": pl.Utf8,
            **money,
            "savings_pct": pl.Decimal(38, 2),
            "blocks": pl.Int64,
            "warnings": pl.Int64,
        },
    )
