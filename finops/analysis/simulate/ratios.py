"""Token ratios: how many tokens a target model needs for the text a source model read, with sources."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from importlib import resources
from pathlib import Path

from finops.analysis.simulate.scenario import (
    ONE,
    RATIO_PLACES,
    Estimate,
    ScenarioError,
    bounded,
    load_yaml,
    name_list,
)
from finops.pricing.catalog_yaml import load_exact_yaml

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
    #: a cross-family ratio with no published range spans expected ÷ spread .. expected × spread
    spread: Decimal | None = None
    spread_source: str = ""
    #: how much more (or less) a different model writes for the same task: output tokens ×
    verbosity: Estimate = field(default_factory=lambda: Estimate.of(1))
    verbosity_source: str = "no source"
    #: the share of today's cache reads still read from cache after a move to another provider
    cache_retention: Estimate = field(default_factory=lambda: Estimate.of(1))
    cache_retention_source: str = "no source"

    def family_of(self, model: str) -> TokenFamily | None:
        name = model.lower()
        for family in self.families:
            if any(fnmatch.fnmatchcase(name, pattern) for pattern in family.models):
                return family
        return None

    def _chain(self, family: TokenFamily) -> tuple[str, Estimate, list[TokenFamily]]:
        """(unit reached, this family's tokens per unit, the families walked)."""
        by_id = {f.id: f for f in self.families}
        low = expected = high = ONE
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
        >>> table.ratio("claude-opus-4-6", "gpt-4o").source.split(";")[0]
        'no source: no published ratio between claude and openai'
        """
        if source_model.lower() == target_model.lower():
            return TokenRatio(Estimate.of(1), "same model")
        source, target = self.family_of(source_model), self.family_of(target_model)
        if source is None or target is None:
            missing = source_model if source is None else target_model
            return self._spread(
                TokenRatio(
                    Estimate.of(1),
                    f"no source: {missing} is in no family of {Path(self.path).name}",
                )
            )
        if source.id == target.id:
            return TokenRatio(Estimate.of(1), f"same tokenizer family ({source.id})")
        unit_s, per_s, walk_s = self._chain(source)
        unit_t, per_t, walk_t = self._chain(target)
        if unit_s != unit_t:
            return self._spread(
                TokenRatio(
                    Estimate.of(1),
                    f"no source: no published ratio between {source.id} and {target.id}",
                )
            )
        estimate = Estimate(
            _places(per_t.low / per_s.high),
            _places(per_t.expected / per_s.expected),
            _places(per_t.high / per_s.low),
        )
        sources = dict.fromkeys(f.source for f in (*walk_s, *walk_t) if f.relative_to is not None)
        return self._spread(TokenRatio(estimate, "; ".join(sources)))

    def _spread(self, ratio: TokenRatio) -> TokenRatio:
        """Two tokenizers with no published range between them: widen the point figure by the
        table's spread, so low and high say how far apart the tokenizers may be.

        >>> load_token_ratios().ratio("gpt-4o", "gemini-2.5-flash").estimate
        Estimate(low=Decimal('0.740741'), expected=Decimal('1.000000'), high=Decimal('1.350000'))
        """
        estimate = ratio.estimate
        if self.spread is None or estimate.low != estimate.high:
            return ratio
        widened = Estimate(
            _places(estimate.expected / self.spread),
            _places(estimate.expected),
            _places(estimate.expected * self.spread),
        )
        return TokenRatio(widened, f"{ratio.source}; range {self.spread_source}")

    def output_ratio(self, source_model: str, target_model: str) -> TokenRatio:
        """Target output tokens per source output token: the tokenizer ratio times the table's
        verbosity range (any other model may write more or less for the same task).

        >>> load_token_ratios().output_ratio("gpt-4o", "gpt-4o-mini").estimate
        Estimate(low=Decimal('0.800000'), expected=Decimal('1.000000'), high=Decimal('1.250000'))
        """
        tokenizer = self.ratio(source_model, target_model)
        if source_model.lower() == target_model.lower():
            return tokenizer
        v, e = self.verbosity, tokenizer.estimate
        estimate = Estimate(
            _places(e.low * v.low), _places(e.expected * v.expected), _places(e.high * v.high)
        )
        return TokenRatio(estimate, f"{tokenizer.source}; verbosity {self.verbosity_source}")


def _places(value: Decimal) -> Decimal:
    """A ratio to the table's places (half-even)."""
    return value.quantize(RATIO_PLACES, rounding=ROUND_HALF_EVEN)


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
        doc = load_yaml(Path(path))
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
                ratio = bounded(
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
            models = name_list(raw.get("models"), "models")
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
    spread, spread_source = None, ""
    raw_spread = doc.get("unpublished_range")
    if raw_spread is not None:
        if not isinstance(raw_spread, Mapping) or not raw_spread.get("source"):
            raise ScenarioError(
                f"{where}, unpublished_range", "give factor and source (the page it rests on)"
            )
        try:
            spread = bounded(
                raw_spread.get("factor"), "factor", ONE, Decimal(10), RATIO_PLACES
            ).expected
        except ScenarioError as exc:
            raise exc.within(f"{where}, unpublished_range") from None
        spread_source = str(raw_spread["source"])
    verbosity, verbosity_source = Estimate.of(1), "no source"
    raw_verbosity = doc.get("output_verbosity")
    if raw_verbosity is not None:
        if not isinstance(raw_verbosity, Mapping) or not raw_verbosity.get("source"):
            raise ScenarioError(f"{where}, output_verbosity", "give low, expected, high and source")
        figures = {k: v for k, v in raw_verbosity.items() if k in ("low", "expected", "high")}
        try:
            verbosity = bounded(
                figures, "output_verbosity", Decimal(0), Decimal(10), RATIO_PLACES, open_lo=True
            )
        except ScenarioError as exc:
            raise exc.within(where) from None
        verbosity_source = str(raw_verbosity["source"])
    retention, retention_source = Estimate.of(1), "no source"
    raw_retention = doc.get("cache_after_provider_move")
    if raw_retention is not None:
        if not isinstance(raw_retention, Mapping) or not raw_retention.get("source"):
            raise ScenarioError(
                f"{where}, cache_after_provider_move", "give low, expected, high and source"
            )
        figures = {k: v for k, v in raw_retention.items() if k in ("low", "expected", "high")}
        try:
            retention = bounded(figures, "cache_after_provider_move", Decimal(0), ONE, RATIO_PLACES)
        except ScenarioError as exc:
            raise exc.within(where) from None
        retention_source = str(raw_retention["source"])
    table = TokenRatios(
        tuple(families),
        where,
        spread,
        spread_source,
        verbosity,
        verbosity_source,
        retention,
        retention_source,
    )
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
