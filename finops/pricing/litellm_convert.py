"""LiteLLM's `model_prices_and_context_window.json` → catalog models, with a report.

LiteLLM keeps one undated price per model string, in USD per token. `convert_litellm` turns every
entry it can price per token into an :class:`ImportedModel` (USD per million tokens, exact) with a
unique id and aliases per provider, and notes everything it could not carry over in a
:class:`LiteLLMImportReport`. Writing the models as catalog YAML is
`finops.pricing.litellm_import`; LiteLLM's rate rules are `finops.pricing.litellm_rates`.

How LiteLLM's fields map (per-token fields become USD per million tokens):

- `input_cost_per_token` → input, `output_cost_per_token` → output,
  `cache_read_input_token_cost` → cache_read, `cache_creation_input_token_cost` → cache_write_5m,
  `cache_creation_input_token_cost_above_1hr` → cache_write_1h, `input_cost_per_audio_token` /
  `output_cost_per_audio_token` → input_audio / output_audio, `input_cost_per_image_token` /
  `output_cost_per_image_token` → input_image / output_image;
- `*_priority` and `*_flex` → the priority and flex tiers, `*_batches` → the batch tier;
- `*_above_<N>k_tokens` (and `tiered_pricing` tables) → long-context bands: the whole request at
  the band's rates once the prompt passes N tokens;
- `search_context_cost_per_query` → `usd_per_web_search` when it is one price per search;
  `input_cost_per_request` → `usd_per_request`; `deprecation_date` → `deprecated_on`.

A token class is priced only when the entry names its standard price: LiteLLM bills cache reads
and writes without a price at the input rate and batch requests of models without batch prices at
half price; the catalog leaves such usage unpriced instead of guessing. Inside a tier or band the
entry declares, each class resolves exactly as LiteLLM's cost calculator resolves it (a priority
rate the entry omits is the standard rate, a band rate it omits is the rate below the band, ...),
so the catalog prices what LiteLLM prices, to the cent.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from finops.core.format import plural
from finops.core.schema import TOKEN_CLASSES
from finops.pricing.litellm_rates import (
    BASE_KEYS,
    ONE_HOUR_KEY,
    STANDARD_KEYS,
    TIER_SUFFIXES,
    LiteLLMEntry,
    as_decimal,
    default_to,
    reads_price_key,
)
from finops.pricing.providers import finops_provider

__all__ = [
    "ImportedModel",
    "LiteLLMImportReport",
    "convert_litellm",
    "model_names",
    "read_litellm_map",
]

_MTOK = Decimal(1_000_000)
_PLACES = Decimal("0.000001")

#: Prefixes inside a provider's model names that are routing, not part of the model id.
_INNER_PREFIXES: dict[str, tuple[str, ...]] = {"fireworks": ("accounts/fireworks/models/",)}

#: Modes LiteLLM bills per query, page, session or decision rather than per token.
_SKIPPED_MODES = frozenset({"search", "ocr", "vector_store", "guardrail", "decisions"})

_KIND_BY_MODE = {
    "chat": "chat",
    "responses": "chat",
    "completion": "chat",
    "realtime": "audio",
    "embedding": "embedding",
    "image_generation": "image",
    "image_edit": "image",
    "audio_transcription": "audio",
    "audio_speech": "audio",
    "video_generation": "video",
    "moderation": "moderation",
    "rerank": "rerank",
}
_MODALITIES = frozenset({"text", "image", "audio", "video", "file"})

# providers whose threshold LiteLLM applies once the prompt *reaches* it (>=, not >)
_INCLUSIVE_THRESHOLDS = frozenset({"xai"})

# fields the importer reads (beyond the price keys it maps)
_USED_FIELDS = frozenset(
    {
        "litellm_provider",
        "mode",
        "max_input_tokens",
        "max_output_tokens",
        "deprecation_date",
        "successor_model",
        "supported_modalities",
        "supported_output_modalities",
        "source",
        "supports_reasoning",
        "alias_of",
    }
)
_PRICE_HINTS = ("cost", "_per_", "pricing", "multiplier", "provider_specific_entry")


# --- the report --------------------------------------------------------------------------------


@dataclass
class LiteLLMImportReport:
    """What an import did and everything it could not carry over, with the keys concerned.

    Each mapping goes from a reason (or a LiteLLM field) to the LiteLLM keys it concerns.
    """

    source: str
    entries: int = 0
    imported: dict[str, list[str]] = field(default_factory=dict)  # provider -> model ids
    skipped: dict[str, list[str]] = field(default_factory=dict)  # reason -> keys
    unmapped: dict[str, list[str]] = field(default_factory=dict)  # price field -> keys
    ignored: dict[str, list[str]] = field(default_factory=dict)  # other field -> keys
    names: dict[str, list[str]] = field(default_factory=dict)  # id/alias resolution -> examples
    changed: list[str] = field(default_factory=list)  # provider/id with a new price period
    unchanged: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # in the catalog, missing from the new map
    files_written: list[str] = field(default_factory=list)

    def note(self, section: dict[str, list[str]], reason: str, key: str) -> None:
        section.setdefault(reason, []).append(key)

    @property
    def model_count(self) -> int:
        return sum(len(ids) for ids in self.imported.values())

    def to_dict(self) -> dict[str, Any]:
        """The whole report as plain JSON-able data (sections sorted by count)."""

        def ordered(section: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
            return {
                reason: {"count": len(keys), "keys": keys}
                for reason, keys in sorted(section.items(), key=lambda kv: (-len(kv[1]), kv[0]))
            }

        return {
            "source": self.source,
            "entries": self.entries,
            "models": self.model_count,
            "imported": {p: len(ids) for p, ids in sorted(self.imported.items())},
            "skipped": ordered(self.skipped),
            "unmapped": ordered(self.unmapped),
            "ignored": ordered(self.ignored),
            "names": ordered(self.names),
            "changed": self.changed,
            "unchanged": len(self.unchanged),
            "added": self.added,
            "kept": self.kept,
            "files_written": self.files_written,
        }

    def summary_lines(self, examples: int = 3) -> list[str]:
        """A readable summary: counts with a few example keys per reason."""

        def listing(title: str, section: dict[str, list[str]], unit: str) -> list[str]:
            if not section:
                return []
            total = len({k for keys in section.values() for k in keys})
            out = [f"{title} ({total:,} {unit}):"]
            for reason, keys in sorted(section.items(), key=lambda kv: (-len(kv[1]), kv[0])):
                shown = ", ".join(keys[:examples]) + (", …" if len(keys) > examples else "")
                out.append(f"  {reason}: {len(keys):,} (e.g. {shown})")
            return out

        providers = len(self.imported)
        lines = [
            (
                f"{self.source}: {self.entries:,} entries → {self.model_count:,} models "
                f"from {providers:,} providers"
            )
        ]
        lines += listing("skipped", self.skipped, "entries")
        lines += listing("prices not imported (the rest of the model is)", self.unmapped, "entries")
        lines += listing("names", self.names, "entries")
        if self.ignored:
            common = sorted(self.ignored.items(), key=lambda kv: (-len(kv[1]), kv[0]))
            shown = ", ".join(f"{name} ({len(keys):,})" for name, keys in common[:8])
            lines.append(
                f"ignored fields ({len(common)}): {shown}{', …' if len(common) > 8 else ''}"
            )
        if self.changed or self.kept or self.unchanged:
            lines.append(
                f"update: {len(self.changed):,} models with a new price period, "
                f"{len(self.unchanged):,} unchanged, {len(self.added):,} new, "
                f"{len(self.kept):,} kept though missing from the map"
            )
            for title, keys in (("new prices", self.changed), ("kept", self.kept)):
                if keys:
                    shown = ", ".join(keys[:examples]) + (", …" if len(keys) > examples else "")
                    lines.append(f"  {title}: {shown}")
        if self.files_written:
            lines.append(
                f"wrote {plural(len(self.files_written), 'file')}: {', '.join(self.files_written)}"
            )
        else:
            lines.append("no file changed")
        return lines


# --- reading -----------------------------------------------------------------------------------


def read_litellm_map(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the JSON map with every number as an exact Decimal (never through float)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"{file}: cannot read the LiteLLM price map ({exc.strerror})"
        raise ValueError(msg) from None
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        msg = f"{file}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        raise ValueError(msg) from None
    if not isinstance(data, dict):
        msg = f"{file}: expected a JSON object keyed by model name (LiteLLM's price map)"
        raise ValueError(msg)  # noqa: TRY004 - a user's file: reported as a user error
    return data


def model_names(key: str, provider: str) -> tuple[str, list[str]]:
    """(model id, aliases): the key without its routing prefixes, and the longer forms."""
    names = [key.strip().lower()]
    head, sep, rest = names[0].partition("/")
    if sep and rest and finops_provider(head) == provider:
        names.append(rest)
    for inner in _INNER_PREFIXES.get(provider, ()):
        if names[-1].startswith(inner) and len(names[-1]) > len(inner):
            names.append(names[-1][len(inner) :])
    model_id = names[-1]
    return model_id, [n for n in dict.fromkeys(names) if n != model_id]


# --- converting one entry ----------------------------------------------------------------------


@dataclass
class ImportedModel:
    """One catalog model made from one LiteLLM entry (rates in USD per million tokens)."""

    key: str  # the LiteLLM key it came from
    provider: str
    id: str
    aliases: list[str]
    kind: str | None
    context_window: int | None
    max_output_tokens: int | None
    input_modalities: list[str]
    output_modalities: list[str]
    deprecated_on: dt.date | None
    successor: str | None  # a LiteLLM name, resolved to a model id once all models are known
    source: str | None
    # rates[(tier, above_tokens)][token class] = USD per million tokens
    rates: dict[tuple[str, int], dict[str, Decimal]]
    usd_per_request: Decimal | None = None
    usd_per_web_search: Decimal | None = None
    inclusive: bool = False  # long-context thresholds apply from the threshold itself
    dated_from: dt.date | None = None  # a reference's own start date for these prices

    def price_signature(self) -> tuple:
        return (
            tuple(sorted((k, tuple(sorted(v.items()))) for k, v in self.rates.items())),
            self.usd_per_request,
            self.usd_per_web_search,
        )


class _Skip(Exception):
    """An entry the importer cannot carry over: the message is the report's reason."""


def _per_mtok(per_token: Decimal, what: str) -> Decimal:
    rate = per_token * _MTOK
    if rate < 0:
        msg = f"negative price ({what})"
        raise _Skip(msg)
    if rate != rate.quantize(_PLACES):
        msg = "a rate needs more than 6 decimals per million tokens"
        raise _Skip(msg)
    return rate.quantize(_PLACES).normalize() if rate else Decimal(0)


def _is_price_field(name: str) -> bool:
    return any(hint in name for hint in _PRICE_HINTS)


def _unpriced_reason(raw: dict[str, Any]) -> str:
    """Why an entry has no per-token price, from the price fields it does have."""
    fields = [k for k, v in raw.items() if v is not None and _is_price_field(k)]
    for needle, reason in (
        ("per_image", "priced per image"),
        ("per_pixel", "priced per pixel"),
        ("per_second", "priced per second"),
        ("per_character", "priced per character"),
        ("per_query", "priced per query"),
        ("per_page", "priced per page"),
        ("per_request", "priced per request"),
    ):
        if any(needle in f for f in fields):
            return f"no per-token price ({reason})"
    return "no per-token price" if fields else "no price at all"


class _Converter:
    def __init__(self, report: LiteLLMImportReport) -> None:
        self.report = report

    def convert(self, key: str, raw: dict[str, Any]) -> ImportedModel:
        provider = finops_provider(str(raw["litellm_provider"]))
        mode = raw.get("mode")
        if mode in _SKIPPED_MODES:
            msg = f"mode {mode} (not billed per token)"
            raise _Skip(msg)
        entry = LiteLLMEntry(raw, inclusive=raw["litellm_provider"] in _INCLUSIVE_THRESHOLDS)
        used: set[str] = set()
        rates = self._rates(key, entry, used)
        if not rates:
            raise _Skip(_unpriced_reason(raw))
        usd_per_request = None
        if as_decimal(raw.get("input_cost_per_request")) is not None:
            usd_per_request = as_decimal(raw["input_cost_per_request"])
            used.add("input_cost_per_request")
        usd_per_web_search = self._web_search(key, raw, used)
        self._report_fields(key, raw, used)
        model_id, aliases = model_names(key, provider)
        return ImportedModel(
            key=key,
            provider=provider,
            id=model_id,
            aliases=aliases,
            kind=self._kind(raw),
            context_window=_positive_int(raw.get("max_input_tokens")),
            max_output_tokens=_positive_int(raw.get("max_output_tokens")),
            input_modalities=_modalities(raw.get("supported_modalities")),
            output_modalities=_modalities(raw.get("supported_output_modalities")),
            deprecated_on=self._date(key, raw.get("deprecation_date")),
            successor=raw.get("successor_model")
            if isinstance(raw.get("successor_model"), str)
            else None,
            source=raw.get("source") if isinstance(raw.get("source"), str) else None,
            rates=rates,
            usd_per_request=usd_per_request,
            usd_per_web_search=usd_per_web_search,
            inclusive=entry.inclusive,
        )

    def _kind(self, raw: dict[str, Any]) -> str | None:
        mode = raw.get("mode")
        kind = _KIND_BY_MODE.get(mode, "other" if mode else None)
        if kind == "chat" and raw.get("supports_reasoning") is True:
            return "reasoning"
        return kind

    def _date(self, key: str, value: Any) -> dt.date | None:
        if value is None:
            return None
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.report.note(self.report.unmapped, "deprecation_date (not a date)", key)
            return None

    def _rates(self, key: str, entry: LiteLLMEntry, used: set[str]):
        raw = entry.raw
        for name, value in raw.items():
            scalar = value is not None and not isinstance(value, (dict, list))
            if "cost" in name and scalar and as_decimal(value) is None:
                msg = f"{name} is not a number"
                raise _Skip(msg)
        if isinstance(raw.get("tiered_pricing"), list):
            return self._tiered_rates(entry, used)
        classes = [c for c in TOKEN_CLASSES if entry.get(STANDARD_KEYS[c]) is not None]
        if not classes:
            return {}
        bands = sorted({0} | {entry.above_tokens(t) for t in entry.thresholds()})
        tiers = ["standard"] + [
            t
            for t in ("priority", "flex")
            if any(k.endswith(TIER_SUFFIXES[t]) for k in self._mapped_keys(raw))
        ]
        has_batch = any(k.endswith("_batches") for k in self._mapped_keys(raw))
        rates: dict[tuple[str, int], dict[str, Decimal]] = {}
        for band in bands:
            for tier in tiers:
                rates[(tier, band)] = entry.tier_rates(tier, band, classes)
        batch_rates: dict[tuple[str, int], dict[str, Decimal]] = {}
        if has_batch:
            for band in bands:
                batch_rates[("batch", band)] = entry.batch_rates(band, classes)
        used.update(self._mapped_keys(raw))
        out = {
            slot: {cls: _per_mtok(rate, f"{key}") for cls, rate in per.items()}
            for slot, per in rates.items()
        }
        if batch_rates:
            try:
                out |= {
                    slot: {cls: _per_mtok(rate, key) for cls, rate in per.items()}
                    for slot, per in batch_rates.items()
                }
            except _Skip as exc:
                self.report.note(self.report.unmapped, f"batch tier ({exc})", key)
        return out

    def _mapped_keys(self, raw: dict[str, Any]) -> list[str]:
        """The price keys LiteLLM's per-token calculation reads (present with a value)."""
        return [name for name, value in raw.items() if value is not None and reads_price_key(name)]

    def _tiered_rates(self, entry: LiteLLMEntry, used: set[str]):
        """`tiered_pricing`: one table row per prompt range, the whole request at that row's rates."""
        raw = entry.raw
        rows = []
        for row in raw["tiered_pricing"]:
            bounds = row.get("range") if isinstance(row, dict) else None
            if (
                not isinstance(bounds, list)
                or len(bounds) != 2
                or as_decimal(bounds[0]) is None
                or as_decimal(bounds[1]) is None
                or as_decimal(row.get("input_cost_per_token")) is None
            ):
                msg = "tiered_pricing row without a range or an input price"
                raise _Skip(msg)
            rows.append((as_decimal(bounds[0]), as_decimal(bounds[1]), row))
        rows.sort(key=lambda r: r[0])
        if not rows or rows[0][0] != 0 or any(a[1] != b[0] for a, b in itertools.pairwise(rows)):
            msg = "tiered_pricing ranges that do not start at 0 or leave gaps"
            raise _Skip(msg)
        if any(start != start.to_integral_value() for start, _end, _row in rows):
            msg = "tiered_pricing range that is not a whole number of tokens"
            raise _Skip(msg)
        model_output = as_decimal(raw.get("output_cost_per_token"))
        declared = {
            cls: any(
                as_decimal(r.get(BASE_KEYS.get(cls, ONE_HOUR_KEY))) is not None for *_b, r in rows
            )
            for cls in ("cache_read", "cache_write_5m", "cache_write_1h")
        }
        rates = {}
        for start, _end, row in rows:
            inp = as_decimal(row["input_cost_per_token"])
            per = {"input": inp}
            out = as_decimal(row.get("output_cost_per_token"))
            if out is not None or model_output is not None:
                per["output"] = out if out is not None else model_output
            write = default_to(as_decimal(row.get(BASE_KEYS["cache_write_5m"])), inp)
            if declared["cache_read"]:
                per["cache_read"] = default_to(as_decimal(row.get(BASE_KEYS["cache_read"])), inp)
            if declared["cache_write_5m"]:
                per["cache_write_5m"] = write
            if declared["cache_write_1h"]:
                per["cache_write_1h"] = default_to(as_decimal(row.get(ONE_HOUR_KEY)), write)
            rates[("standard", int(start))] = {
                cls: _per_mtok(per[cls], "tiered_pricing") for cls in TOKEN_CLASSES if cls in per
            }
        used.update({"tiered_pricing", "output_cost_per_token"})
        return rates

    def _web_search(self, key: str, raw: dict[str, Any], used: set[str]) -> Decimal | None:
        prices = raw.get("search_context_cost_per_query")
        if not isinstance(prices, dict) or not prices:
            return None
        values = {as_decimal(v) for v in prices.values()}
        per_prompt = raw.get("web_search_billing_unit") == "per_prompt" or (
            raw.get("web_search_billing_unit") is None
            and str(raw.get("litellm_provider", "")).startswith(("gemini", "vertex_ai"))
        )
        if len(values) != 1 or None in values:
            return None  # priced by search context size: reported as an unmapped price
        if per_prompt:
            self.report.note(
                self.report.unmapped,
                "search_context_cost_per_query (billed per grounded prompt)",
                key,
            )
            used.add("search_context_cost_per_query")
            return None
        used.update({"search_context_cost_per_query", "web_search_billing_unit"})
        return values.pop()

    def _report_fields(self, key: str, raw: dict[str, Any], used: set[str]) -> None:
        reasoning = as_decimal(raw.get("output_cost_per_reasoning_token"))
        if reasoning is not None and reasoning == as_decimal(raw.get("output_cost_per_token")):
            used.add("output_cost_per_reasoning_token")
        hit = as_decimal(raw.get("input_cost_per_token_cache_hit"))
        if hit is not None and hit == as_decimal(raw.get("cache_read_input_token_cost")):
            used.add("input_cost_per_token_cache_hit")
        for name, value in raw.items():
            if name in used or name in _USED_FIELDS or value is None:
                continue
            if _is_price_field(name):
                if isinstance(value, (int, Decimal)) and not isinstance(value, bool) and value == 0:
                    continue  # a zero surcharge or zero price for something not modelled
                self.report.note(self.report.unmapped, name, key)
            else:
                self.report.note(self.report.ignored, name, key)


def _positive_int(value: Any) -> int | None:
    number = as_decimal(value)
    if number is None or number <= 0 or number != number.to_integral_value():
        return None
    return int(number)


def _modalities(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [m for m in dict.fromkeys(str(v).lower() for v in value) if m in _MODALITIES]


# --- names: ids, duplicates and aliases --------------------------------------------------------


def _assign_names(models: list[ImportedModel], report: LiteLLMImportReport) -> list[ImportedModel]:
    """Give every model a unique id per provider and aliases no other model holds.

    Deterministic, and every LiteLLM key keeps naming its own entry: models are taken in
    (provider, id, key) order, shortest key first. A key whose id another key already has, with
    the same prices, becomes that model's alias; priced differently, or when its id is another
    entry's own key, it keeps its whole key (lower case) as its id.
    """
    own_key = {(m.provider, m.key.strip().lower()): m for m in models}
    ordered = sorted(models, key=lambda m: (m.provider, m.id, m.key != m.id, len(m.key), m.key))
    by_name: dict[tuple[str, str], ImportedModel] = {}
    kept: list[ImportedModel] = []
    for model in ordered:
        owner = by_name.get((model.provider, model.id))
        if owner is not None and owner.price_signature() == model.price_signature():
            owner.aliases.extend(n for n in [model.key.lower(), *model.aliases] if n != owner.id)
            report.note(report.names, "same model under another key: merged as an alias", model.key)
            continue
        keyed = own_key.get((model.provider, model.id))
        if owner is not None or (
            keyed not in (None, model) and keyed.price_signature() != model.price_signature()
        ):
            full = model.key.strip().lower()
            if (model.provider, full) in by_name:
                report.note(
                    report.skipped, "priced differently from a model of the same id", model.key
                )
                continue
            why = "priced differently from another key with" if owner else "another entry's key is"
            report.note(report.names, f"{why} id {model.id!r}: id is the whole key", model.key)
            model.id = full
        by_name[(model.provider, model.id)] = model
        kept.append(model)
    # a model's own key first, so the key always names its entry; then the derived names
    for own_only in (True, False):
        for model in kept:
            full = model.key.strip().lower()
            for alias in dict.fromkeys(model.aliases):
                if (alias == full) != own_only or alias == model.id:
                    continue
                owner = by_name.get((model.provider, alias))
                if owner is None:
                    by_name[(model.provider, alias)] = model
                elif owner is not model:
                    report.note(
                        report.names,
                        "alias already names another model (dropped)",
                        f"{model.key} → {alias}",
                    )
    for model in kept:
        model.aliases = [
            a
            for a in dict.fromkeys(model.aliases)
            if a != model.id and by_name.get((model.provider, a)) is model
        ]
    return kept


def _add_alias_entries(
    data: dict[str, Any], models: list[ImportedModel], report: LiteLLMImportReport
) -> None:
    """LiteLLM's `alias_of` entries become aliases of the model they point at."""
    by_key = {m.key: m for m in models}
    for old in models:  # merged keys: the owner carries them as aliases
        for alias in old.aliases:
            by_key.setdefault(alias, old)
    names = {(m.provider, n) for m in models for n in (m.id, *m.aliases)}
    for key, raw in sorted(data.items()):
        if not isinstance(raw, dict) or not isinstance(raw.get("alias_of"), str):
            continue
        target = by_key.get(raw["alias_of"]) or by_key.get(raw["alias_of"].lower())
        if target is None:
            report.note(report.skipped, "alias_of a model that was not imported", key)
            continue
        new_id, extra = model_names(key, target.provider)
        added = False
        for alias in dict.fromkeys([*extra, new_id]):
            if (target.provider, alias) in names:
                continue
            names.add((target.provider, alias))
            target.aliases.append(alias)
            added = True
        if added:
            report.note(report.names, "alias_of entry: an alias of its target", key)


# --- the conversion ----------------------------------------------------------------------------


def convert_litellm(
    data: dict[str, Any], *, report: LiteLLMImportReport | None = None
) -> list[ImportedModel]:
    """Every entry of the map that can be priced per token, with unique ids and aliases."""
    report = report or LiteLLMImportReport(source="LiteLLM price map")
    report.entries = len(data)
    converter = _Converter(report)
    models = []
    for key in sorted(data):
        raw = data[key]
        if key == "sample_spec":
            report.note(report.skipped, "sample_spec (documents the format)", key)
            continue
        if not isinstance(raw, dict):
            report.note(report.skipped, "not an object", key)
            continue
        if isinstance(raw.get("alias_of"), str):
            continue  # resolved once the target is known
        if not isinstance(raw.get("litellm_provider"), str) or not raw["litellm_provider"]:
            report.note(report.skipped, "no litellm_provider", key)
            continue
        try:
            models.append(converter.convert(key, raw))
        except _Skip as exc:
            report.note(report.skipped, str(exc), key)
    models = _assign_names(models, report)
    _add_alias_entries(data, models, report)
    return models
