"""Scenarios: a scope of stored usage, the moves to make in it, and assumptions as low / expected / high."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from finops.core.schema import ASSUMPTION_NAMES, SERVICE_TIERS
from finops.core.yamltext import yaml_problem
from finops.pricing.catalog_yaml import load_exact_yaml

CENT = Decimal("0.01")
RATIO_PLACES = Decimal("0.000001")
PCT_PLACES = Decimal("0.0001")
HUNDRED = Decimal(100)
ONE = Decimal(1)
CASES = ("pessimistic", "expected", "optimistic")
_TAG_KEY = re.compile(r"^[A-Za-z0-9_.:/ -]+$")


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


def decimal_of(value: Any, where: str) -> Decimal:
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
            object.__setattr__(self, name, decimal_of(getattr(self, name), name))
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
        number = decimal_of(value, "")
        return cls(number, number, number)

    def at(self, side: str) -> Decimal:
        return getattr(self, side)

    def to_dict(self) -> dict[str, Decimal]:
        return {"low": self.low, "expected": self.expected, "high": self.high}


def bounded(
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
            value = bounded(
                getattr(self, name), name, Decimal(0), million, RATIO_PLACES, open_lo=True
            )
            object.__setattr__(self, name, value)
        for name in ("cache_hit_rate", "batch_share"):
            value = bounded(getattr(self, name), name, Decimal(0), ONE, RATIO_PLACES)
            object.__setattr__(self, name, value)
        discount = bounded(
            self.contract_discount_pct, "contract_discount_pct", Decimal(0), HUNDRED, PCT_PLACES
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


def name_list(value: Any, where: str) -> tuple[str, ...]:
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
            object.__setattr__(self, name, name_list(getattr(self, name), name))
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
            object.__setattr__(self, "assumptions", assumptions_of(self.assumptions, "assumptions"))

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
            object.__setattr__(self, "scope", scope_of(self.scope, "scope"))
        if isinstance(self.assumptions, Mapping):
            object.__setattr__(self, "assumptions", assumptions_of(self.assumptions, "assumptions"))
        if (
            isinstance(self.horizon_days, bool)
            or not isinstance(self.horizon_days, int)
            or not (1 <= self.horizon_days <= 730)
        ):
            raise ScenarioError("forecast.horizon_days", "give whole days, 1 to 730")


def scope_of(data: Any, where: str) -> Scope:
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


def assumptions_of(data: Any, where: str) -> Assumptions:
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


def move_of(data: Any, where: str) -> Move:
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
            assumptions=assumptions_of(data.get("assumptions"), "assumptions"),
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
        scope=scope_of(data.get("scope") or {}, "scope"),
        moves=tuple(move_of(m, f"moves[{i}]") for i, m in enumerate(moves_data)),
        assumptions=assumptions_of(data.get("assumptions"), "assumptions"),
        horizon_days=forecast.get("horizon_days", 30),
        quality=QualityTarget(
            evals_file=evals_file,
            task=str(quality["task"]) if quality.get("task") is not None else None,
            min_score=min_score,
        ),
    )


def load_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), f"cannot read: {exc.strerror or exc}") from None
    try:
        return load_exact_yaml(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(str(path), yaml_problem(exc)) from None


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
    doc = load_yaml(path)
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
