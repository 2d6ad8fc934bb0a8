"""Import LiteLLM's `model_prices_and_context_window.json` into catalog YAML files.

LiteLLM keeps one undated price per model string, in USD per token. The importer turns every
entry it can price per token into a catalog model (one YAML file per provider, format in
`pricing/README.md`) whose single price period starts on a given date, and reports everything
it could not carry over. Prices are converted exactly: the JSON numbers are read as Decimal and
a rate needing more than six decimals per million tokens is reported, never rounded.

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
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from finops.core.schema import SERVICE_TIERS, TOKEN_CLASSES
from finops.pricing.catalog import Catalog, CatalogError, CatalogModel, _DecimalLoader, load_catalog

__all__ = [
    "ImportedModel",
    "LiteLLMImportReport",
    "convert_litellm",
    "dump_catalog_yaml",
    "finops_provider",
    "import_litellm",
    "read_litellm_map",
]

_MTOK = Decimal(1_000_000)
_PLACES = Decimal("0.000001")

#: LiteLLM `litellm_provider` values whose finops provider id is not just the normalised name.
_PROVIDER_IDS: dict[str, str] = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "anthropic": "anthropic",
    "gemini": "google",
    "bedrock": "aws-bedrock",
    "bedrock_converse": "aws-bedrock",
    "bedrock_mantle": "aws-bedrock",
    "azure": "azure-openai",
    "azure_text": "azure-openai",
    "mistral": "mistral",
    "codestral": "mistral",
    "text-completion-codestral": "mistral",
    "deepseek": "deepseek",
    "xai": "xai",
    "groq": "groq",
    "together_ai": "together",
    "fireworks_ai": "fireworks",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "moonshot": "moonshotai",
}

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

# the four prefixes whose `_above_<N>_tokens` keys set LiteLLM's long-context thresholds
_BASE_KEYS = {
    "input": "input_cost_per_token",
    "output": "output_cost_per_token",
    "cache_read": "cache_read_input_token_cost",
    "cache_write_5m": "cache_creation_input_token_cost",
}
_ONE_HOUR = "cache_creation_input_token_cost_above_1hr"
_MODALITY_KEYS = {
    "input_audio": "input_cost_per_audio_token",
    "output_audio": "output_cost_per_audio_token",
    "input_image": "input_cost_per_image_token",
    "output_image": "output_cost_per_image_token",
}
_STANDARD_KEY = {**_BASE_KEYS, "cache_write_1h": _ONE_HOUR, **_MODALITY_KEYS}
_TIER_SUFFIX = {"standard": "", "priority": "_priority", "flex": "_flex"}
# LiteLLM's service-tier suffixes, longest first (as its get_cost_per_unit strips them)
_LITELLM_TIER_SUFFIXES = ("_ultrafast", "_balanced", "_priority", "_flex", "_fast", "_auto")
_NON_STANDARD_SUFFIXES = (*_LITELLM_TIER_SUFFIXES, "_batches")
_THRESHOLD_PREFIXES = tuple(f"{key}_above_" for key in _BASE_KEYS.values())
_ABOVE = re.compile(r"_above_(\d+)(k?)_tokens")
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

_HEADER = (
    "# Imported from LiteLLM's model_prices_and_context_window.json by "
    "`finops pricing import-litellm`.\n"
    "# Prices are USD per million tokens, converted exactly from USD per token.\n"
)


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

    def _note(self, section: dict[str, list[str]], reason: str, key: str) -> None:
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
            lines.append(f"wrote {len(self.files_written)} files: {', '.join(self.files_written)}")
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


def finops_provider(litellm_provider: str) -> str:
    """The finops provider id for a LiteLLM `litellm_provider` value.

    >>> finops_provider("vertex_ai-anthropic_models"), finops_provider("fal_ai")
    ('google-vertex', 'fal-ai')
    """
    name = litellm_provider.strip().lower()
    if name in _PROVIDER_IDS:
        return _PROVIDER_IDS[name]
    if name.startswith("vertex_ai"):
        return "google-vertex"
    if name.startswith("fireworks_ai"):
        return "fireworks"
    return re.sub(r"[^a-z0-9.]+", "-", name).strip("-")


def _model_names(key: str, provider: str) -> tuple[str, list[str]]:
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


# --- LiteLLM's rate resolution, in exact decimals ----------------------------------------------


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _threshold(key: str) -> int | None:
    """The token threshold in a `..._above_<N>[k]_tokens...` key (LiteLLM reads the last one)."""
    tail = "_above_" + key.rsplit("_above_", 1)[1] if "_above_" in key else ""
    match = _ABOVE.match(tail)
    if match is None:
        return None
    return int(match.group(1)) * (1000 if match.group(2) else 1)


class _Entry:
    """One LiteLLM entry with LiteLLM's lookup rules (per-token Decimals)."""

    def __init__(self, raw: dict[str, Any], inclusive: bool) -> None:
        self.raw = raw
        self.inclusive = inclusive

    def get(self, key: str) -> Decimal | None:
        return _number(self.raw.get(key))

    def get_tiered(self, key: str) -> Decimal | None:
        """get_cost_per_unit: a service-tier key falls back to the key without the suffix."""
        value = self.get(key)
        if value is None and self.raw.get(key) is None:
            for suffix in _LITELLM_TIER_SUFFIXES:
                if suffix in key:
                    return self.get(key.replace(suffix, ""))
        return value

    def crossed(self, threshold: int, band: int) -> bool:
        """Whether a prompt in the band starting above `band` tokens passes `threshold`."""
        return self.above_tokens(threshold) <= band

    def above_tokens(self, threshold: int) -> int:
        return threshold - 1 if self.inclusive else threshold

    def thresholds(self) -> set[int]:
        found = set()
        for key, value in self.raw.items():
            if value is None or "_above_" not in key or "_tokens" not in key:
                continue
            base = key.split("_above_", 1)[0]
            if base in _STANDARD_KEY.values() or key.startswith(_ONE_HOUR + "_above_"):
                threshold = _threshold(key)
                if threshold is not None:
                    found.add(threshold)
        return found

    def modality_key(self, key: str, band: int) -> str:
        """get_modality_token_cost_key: the highest crossed `<base>_above_<N>_tokens` key."""
        suffix = next((s for s in _NON_STANDARD_SUFFIXES if key.endswith(s)), "")
        base = key.removesuffix(suffix)
        ends = ("_tokens", f"_tokens{suffix}")
        best: tuple[int, str] | None = None
        for candidate, value in self.raw.items():
            if (
                candidate.startswith(f"{base}_above_")
                and candidate.endswith(ends)
                and value is not None
                and (threshold := _threshold(candidate)) is not None
                and self.crossed(threshold, band)
                and (best is None or threshold > best[0])
            ):
                best = (threshold, candidate)
        if best is None:
            return key
        return f"{best[1].removesuffix(suffix)}{suffix}"

    # -- standard, priority and flex (LiteLLM's _get_token_base_cost and generic_cost_per_token)

    def tier_rates(self, tier: str, band: int, classes: Iterable[str]) -> dict[str, Decimal]:
        s = _TIER_SUFFIX[tier]
        zero = Decimal(0)
        inp = self.get_tiered(f"input_cost_per_token{s}")
        inp = zero if inp is None else inp
        out = self.get_tiered(f"output_cost_per_token{s}")
        out = zero if out is None else out
        if out == 0 and self.get("output_cost_per_image_token") is not None:
            out = self.get("output_cost_per_image_token")
        cache_write = self.get_tiered(f"cache_creation_input_token_cost{s}")
        cache_read = self.get_tiered(f"cache_read_input_token_cost{s}")
        one_hour_key = f"{_ONE_HOUR}{s}"
        threshold_keys = [
            k
            for k in self.raw
            if k.startswith(_THRESHOLD_PREFIXES)
            and "_tokens" in k
            and (not k.endswith(_NON_STANDARD_SUFFIXES) or (s and k.endswith(s)))
        ]
        for key in sorted(threshold_keys, key=lambda k: _threshold(k) or 0):
            threshold = _threshold(key)
            if self.raw.get(key) is None or threshold is None or not self.crossed(threshold, band):
                continue
            ts = key.rsplit("_above_", 1)[1].split("_tokens")[0]
            inp = _default(self.get_tiered(f"input_cost_per_token_above_{ts}_tokens{s}"), inp)
            out = _default(self.get_tiered(f"output_cost_per_token_above_{ts}_tokens{s}"), out)
            cache_write = _default(
                self.get_tiered(f"cache_creation_input_token_cost_above_{ts}_tokens{s}"),
                cache_write,
            )
            preferred = f"{_ONE_HOUR}_above_{ts}_tokens{s}"
            if self.raw.get(preferred) is not None:
                one_hour_key = preferred
            cache_read = _default(
                self.get_tiered(f"cache_read_input_token_cost_above_{ts}_tokens{s}"), cache_read
            )
        cache_read = inp if cache_read is None else cache_read
        cache_write = inp if cache_write is None else cache_write
        rates: dict[str, Decimal] = {}
        for cls in classes:
            if cls == "input":
                rates[cls] = inp
            elif cls == "output":
                rates[cls] = out
            elif cls == "cache_read":
                rates[cls] = cache_read
            elif cls == "cache_write_5m":
                rates[cls] = cache_write
            elif cls == "cache_write_1h":
                rates[cls] = _default(self.get_tiered(one_hour_key), cache_write)
            elif cls == "input_audio":
                key = self.modality_key(f"{_MODALITY_KEYS[cls]}{s}", band)
                rates[cls] = _default(self.get_tiered(key), zero)
            elif cls == "input_image":
                rates[cls] = _default(self.get_tiered(f"{_MODALITY_KEYS[cls]}{s}"), zero)
            elif cls == "output_audio":
                rates[cls] = _default(self.get(_MODALITY_KEYS[cls]), out)
            elif cls == "output_image":
                rates[cls] = _default(self.get_tiered(f"{_MODALITY_KEYS[cls]}{s}"), out)
        return rates

    # -- batch (LiteLLM's batch_cost_calculator)

    def batch_prefix_rate(self, prefix: str, band: int) -> Decimal | None:
        pattern = re.compile(rf"^{re.escape(prefix)}_above_(\d+k?)_tokens_batches$")
        crossed = []
        for key, value in self.raw.items():
            match = pattern.match(key)
            if match and value is not None:
                threshold = _threshold(key)
                if threshold is not None and self.crossed(threshold, band):
                    crossed.append((threshold, match.group(1)))
        flat = self.get(f"{prefix}_batches")
        if not crossed:
            return flat
        ts = max(crossed)[1]
        return _default(self.get(f"{prefix}_above_{ts}_tokens_batches"), flat)

    def batch_rates(self, band: int, classes: Iterable[str]) -> dict[str, Decimal]:
        half = Decimal("0.5")
        b_in = self.batch_prefix_rate("input_cost_per_token", band)
        b_out = self.batch_prefix_rate("output_cost_per_token", band)
        b_read = self.batch_prefix_rate("cache_read_input_token_cost", band)
        b_write = self.batch_prefix_rate("cache_creation_input_token_cost", band)
        b_hour = self.batch_prefix_rate(_ONE_HOUR, band)
        std_out = self.get("output_cost_per_token")
        text_out = b_out if b_out is not None else (std_out * half if std_out is not None else 0)
        text_out = Decimal(text_out)
        image_out = self.get("output_cost_per_image_token_batches")
        if image_out is None:
            std_image = self.get("output_cost_per_image_token")
            image_out = std_image * half if std_image is not None else text_out
        rates: dict[str, Decimal] = {}
        if b_in is not None:
            read = b_read
            if read is None:
                read = self.get(self.modality_key("cache_read_input_token_cost", band))
            bills_writes = b_write is not None or b_hour is not None
            write = b_write if b_write is not None else b_in
            by_class = {
                "input": b_in,
                "cache_read": b_in if read is None else read,
                "cache_write_5m": write if bills_writes else b_in,
                "cache_write_1h": (b_hour if b_hour is not None else write)
                if bills_writes
                else b_in,
                "input_audio": self._batch_modality(
                    "input_cost_per_audio_token_batches", b_in, band
                ),
                "input_image": _default(self.get("input_cost_per_image_token_batches"), b_in),
            }
        else:
            std_in = self.get("input_cost_per_token") or Decimal(0)
            std_read = self.get("cache_read_input_token_cost")
            std_write = self.get("cache_creation_input_token_cost")
            by_class = {
                "input": std_in * half,
                "cache_read": (std_read or Decimal(0)) * half,
                "cache_write_5m": (std_in if std_write is None else std_write) * half,
                "cache_write_1h": (std_in if std_write is None else std_write) * half,
                "input_audio": std_in * half,
                "input_image": std_in * half,
            }
        by_class |= {"output": text_out, "output_audio": text_out, "output_image": image_out}
        for cls in classes:
            rates[cls] = by_class[cls]
        return rates

    def _batch_modality(self, key: str, fallback: Decimal, band: int) -> Decimal:
        context = self.get(self.modality_key(key, band))
        rate = self.get(key) if context is None else context
        return fallback if rate is None else rate


def _default(value: Decimal | None, fallback: Decimal | None) -> Decimal | None:
    return fallback if value is None else value


# which suffixes LiteLLM reads for each standard key: tiers, batch, long-context bands
# output audio: LiteLLM bills the standard audio rate in every tier and the batch text rate in batch
_TIERED = frozenset(_STANDARD_KEY) - {"output_audio"}
_BANDED = frozenset(
    {"input", "output", "cache_read", "cache_write_5m", "cache_write_1h", "input_audio"}
)
_READ_KEYS = re.compile(
    "^(?:"
    + "|".join(
        [re.escape(_STANDARD_KEY[c]) + "(?:_priority|_flex|_batches)?" for c in _TIERED]
        + [re.escape(_STANDARD_KEY["output_audio"])]
        + [
            re.escape(_STANDARD_KEY[c]) + r"_above_\d+k?_tokens(?:_priority|_flex|_batches)?"
            for c in _BANDED
        ]
    )
    + ")$"
)


def _is_read(name: str) -> bool:
    return _READ_KEYS.match(name) is not None


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
        entry = _Entry(raw, inclusive=raw["litellm_provider"] in _INCLUSIVE_THRESHOLDS)
        used: set[str] = set()
        rates = self._rates(key, entry, used)
        if not rates:
            raise _Skip(_unpriced_reason(raw))
        usd_per_request = None
        if _number(raw.get("input_cost_per_request")) is not None:
            usd_per_request = _number(raw["input_cost_per_request"])
            used.add("input_cost_per_request")
        usd_per_web_search = self._web_search(key, raw, used)
        self._report_fields(key, raw, used)
        model_id, aliases = _model_names(key, provider)
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
            self.report._note(self.report.unmapped, "deprecation_date (not a date)", key)
            return None

    def _rates(self, key: str, entry: _Entry, used: set[str]):
        raw = entry.raw
        for name, value in raw.items():
            scalar = value is not None and not isinstance(value, (dict, list))
            if "cost" in name and scalar and _number(value) is None:
                msg = f"{name} is not a number"
                raise _Skip(msg)
        if isinstance(raw.get("tiered_pricing"), list):
            return self._tiered_rates(entry, used)
        classes = [c for c in TOKEN_CLASSES if entry.get(_STANDARD_KEY[c]) is not None]
        if not classes:
            return {}
        bands = sorted({0} | {entry.above_tokens(t) for t in entry.thresholds()})
        tiers = ["standard"] + [
            t
            for t in ("priority", "flex")
            if any(k.endswith(_TIER_SUFFIX[t]) for k in self._mapped_keys(raw))
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
                self.report._note(self.report.unmapped, f"batch tier ({exc})", key)
        return out

    def _mapped_keys(self, raw: dict[str, Any]) -> list[str]:
        """The price keys LiteLLM's per-token calculation reads (present with a value)."""
        return [name for name, value in raw.items() if value is not None and _is_read(name)]

    def _tiered_rates(self, entry: _Entry, used: set[str]):
        """`tiered_pricing`: one table row per prompt range, the whole request at that row's rates."""
        raw = entry.raw
        rows = []
        for row in raw["tiered_pricing"]:
            bounds = row.get("range") if isinstance(row, dict) else None
            if (
                not isinstance(bounds, list)
                or len(bounds) != 2
                or _number(bounds[0]) is None
                or _number(bounds[1]) is None
                or _number(row.get("input_cost_per_token")) is None
            ):
                msg = "tiered_pricing row without a range or an input price"
                raise _Skip(msg)
            rows.append((_number(bounds[0]), _number(bounds[1]), row))
        rows.sort(key=lambda r: r[0])
        if not rows or rows[0][0] != 0 or any(a[1] != b[0] for a, b in itertools.pairwise(rows)):
            msg = "tiered_pricing ranges that do not start at 0 or leave gaps"
            raise _Skip(msg)
        if any(start != start.to_integral_value() for start, _end, _row in rows):
            msg = "tiered_pricing range that is not a whole number of tokens"
            raise _Skip(msg)
        model_output = _number(raw.get("output_cost_per_token"))
        declared = {
            cls: any(_number(r.get(_BASE_KEYS.get(cls, _ONE_HOUR))) is not None for *_b, r in rows)
            for cls in ("cache_read", "cache_write_5m", "cache_write_1h")
        }
        rates = {}
        for start, _end, row in rows:
            inp = _number(row["input_cost_per_token"])
            per = {"input": inp}
            out = _number(row.get("output_cost_per_token"))
            if out is not None or model_output is not None:
                per["output"] = out if out is not None else model_output
            write = _default(_number(row.get(_BASE_KEYS["cache_write_5m"])), inp)
            if declared["cache_read"]:
                per["cache_read"] = _default(_number(row.get(_BASE_KEYS["cache_read"])), inp)
            if declared["cache_write_5m"]:
                per["cache_write_5m"] = write
            if declared["cache_write_1h"]:
                per["cache_write_1h"] = _default(_number(row.get(_ONE_HOUR)), write)
            rates[("standard", int(start))] = {
                cls: _per_mtok(per[cls], "tiered_pricing") for cls in TOKEN_CLASSES if cls in per
            }
        used.update({"tiered_pricing", "output_cost_per_token"})
        return rates

    def _web_search(self, key: str, raw: dict[str, Any], used: set[str]) -> Decimal | None:
        prices = raw.get("search_context_cost_per_query")
        if not isinstance(prices, dict) or not prices:
            return None
        values = {_number(v) for v in prices.values()}
        per_prompt = raw.get("web_search_billing_unit") == "per_prompt" or (
            raw.get("web_search_billing_unit") is None
            and str(raw.get("litellm_provider", "")).startswith(("gemini", "vertex_ai"))
        )
        if len(values) != 1 or None in values:
            return None  # priced by search context size: reported as an unmapped price
        if per_prompt:
            self.report._note(
                self.report.unmapped,
                "search_context_cost_per_query (billed per grounded prompt)",
                key,
            )
            used.add("search_context_cost_per_query")
            return None
        used.update({"search_context_cost_per_query", "web_search_billing_unit"})
        return values.pop()

    def _report_fields(self, key: str, raw: dict[str, Any], used: set[str]) -> None:
        reasoning = _number(raw.get("output_cost_per_reasoning_token"))
        if reasoning is not None and reasoning == _number(raw.get("output_cost_per_token")):
            used.add("output_cost_per_reasoning_token")
        hit = _number(raw.get("input_cost_per_token_cache_hit"))
        if hit is not None and hit == _number(raw.get("cache_read_input_token_cost")):
            used.add("input_cost_per_token_cache_hit")
        for name, value in raw.items():
            if name in used or name in _USED_FIELDS or value is None:
                continue
            if _is_price_field(name):
                if isinstance(value, (int, Decimal)) and not isinstance(value, bool) and value == 0:
                    continue  # a zero surcharge or zero price for something not modelled
                self.report._note(self.report.unmapped, name, key)
            else:
                self.report._note(self.report.ignored, name, key)


def _positive_int(value: Any) -> int | None:
    number = _number(value)
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
            report._note(
                report.names, "same model under another key: merged as an alias", model.key
            )
            continue
        keyed = own_key.get((model.provider, model.id))
        if owner is not None or (
            keyed not in (None, model) and keyed.price_signature() != model.price_signature()
        ):
            full = model.key.strip().lower()
            if (model.provider, full) in by_name:
                report._note(
                    report.skipped, "priced differently from a model of the same id", model.key
                )
                continue
            why = "priced differently from another key with" if owner else "another entry's key is"
            report._note(report.names, f"{why} id {model.id!r}: id is the whole key", model.key)
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
                    report._note(
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
            report._note(report.skipped, "alias_of a model that was not imported", key)
            continue
        new_id, extra = _model_names(key, target.provider)
        added = False
        for alias in dict.fromkeys([*extra, new_id]):
            if (target.provider, alias) in names:
                continue
            names.add((target.provider, alias))
            target.aliases.append(alias)
            added = True
        if added:
            report._note(report.names, "alias_of entry: an alias of its target", key)


# --- YAML ----------------------------------------------------------------------------------------


# a name YAML reads back as the same string in block and flow context; anything else is quoted
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9._/@+-]*(?::[A-Za-z0-9][A-Za-z0-9._/@+-]*)*$")
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if value is None:
        return "null"
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def _is_flow(value: Any) -> bool:
    if isinstance(value, list):
        return all(not isinstance(v, (dict, list)) for v in value)
    if isinstance(value, dict):
        return bool(value) and all(not isinstance(v, (dict, list)) for v in value.values())
    return True


def _flow(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_scalar(k)}: {_scalar(v)}" for k, v in value.items()) + "}"
    return _scalar(value)


def _emit(mapping: dict[str, Any], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for key, value in mapping.items():
        if _is_flow(value):
            lines.append(f"{pad}{_scalar(key)}: {_flow(value)}")
        elif isinstance(value, dict):
            lines.append(f"{pad}{_scalar(key)}:")
            _emit(value, indent + 2, lines)
        else:
            lines.append(f"{pad}{_scalar(key)}:")
            for item in value:
                if isinstance(item, dict):
                    sub: list[str] = []
                    _emit(item, indent + 4, sub)
                    sub[0] = f"{pad}  - {sub[0][indent + 4 :]}"
                    lines.extend(sub)
                else:
                    lines.append(f"{pad}  - {_flow(item)}")


def dump_catalog_yaml(doc: dict[str, Any], header: str = _HEADER) -> str:
    """A catalog document as YAML in the house layout (rate blocks and alias lists inline)."""
    lines: list[str] = []
    _emit(doc, 0, lines)
    return header + "\n".join(lines) + "\n"


def _tier_block(rates: dict[str, Decimal], standard: dict[str, Decimal]) -> dict[str, Any]:
    """`{multiplier: m}` when every standard rate times m gives the tier, else explicit rates."""
    if set(rates) == set(standard) and any(standard.values()):
        ratios = {rates[c] / standard[c] for c in standard if standard[c]}
        if len(ratios) == 1 and all(rates[c] == 0 for c in standard if not standard[c]):
            factor = ratios.pop()
            if factor == factor.quantize(_PLACES) and all(
                (standard[c] * factor).quantize(_PLACES) == rates[c] for c in standard
            ):
                return {"multiplier": factor.normalize()}
    return dict(rates)


def _period_doc(model: ImportedModel, valid_from: dt.date) -> dict[str, Any]:
    period: dict[str, Any] = {"valid_from": valid_from}
    if model.source:
        period["source"] = model.source
    if model.inclusive and any(above for (_tier, above) in model.rates):
        period["notes"] = (
            "LiteLLM bills this provider's long-context rates once the prompt reaches the "
            "threshold, so above_tokens is the threshold minus one"
        )
    standard = model.rates[("standard", 0)]
    period["usd_per_mtok"] = dict(standard)
    for tier in SERVICE_TIERS[1:]:
        if (tier, 0) in model.rates:
            period[tier] = _tier_block(model.rates[(tier, 0)], standard)
    bands = sorted({above for (_tier, above) in model.rates if above > 0})
    if bands:
        period["long_context"] = []
        for above in bands:
            band_standard = model.rates[("standard", above)]
            band: dict[str, Any] = {"above_tokens": above, "usd_per_mtok": dict(band_standard)}
            for tier in SERVICE_TIERS[1:]:
                if (tier, above) in model.rates:
                    band[tier] = _tier_block(model.rates[(tier, above)], band_standard)
            period["long_context"].append(band)
    if model.usd_per_request is not None:
        period["usd_per_request"] = _per_unit(model.usd_per_request)
    if model.usd_per_web_search is not None:
        period["usd_per_web_search"] = _per_unit(model.usd_per_web_search)
    return period


def _per_unit(value: Decimal) -> Decimal:
    return value.normalize() if value else Decimal(0)


def _model_doc(model: ImportedModel, valid_from: dt.date, successor: str | None) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": model.id}
    if model.aliases:
        doc["aliases"] = list(model.aliases)
    if model.kind:
        doc["kind"] = model.kind
    if model.context_window:
        doc["context_window"] = model.context_window
    if model.max_output_tokens:
        doc["max_output_tokens"] = model.max_output_tokens
    if model.input_modalities:
        doc["input_modalities"] = list(model.input_modalities)
    if model.output_modalities:
        doc["output_modalities"] = list(model.output_modalities)
    if model.deprecated_on:
        doc["deprecated_on"] = model.deprecated_on
    if successor:
        doc["successor"] = successor
    doc["prices"] = [_period_doc(model, valid_from)]
    return doc


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
            report._note(report.skipped, "sample_spec (documents the format)", key)
            continue
        if not isinstance(raw, dict):
            report._note(report.skipped, "not an object", key)
            continue
        if isinstance(raw.get("alias_of"), str):
            continue  # resolved once the target is known
        if not isinstance(raw.get("litellm_provider"), str) or not raw["litellm_provider"]:
            report._note(report.skipped, "no litellm_provider", key)
            continue
        try:
            models.append(converter.convert(key, raw))
        except _Skip as exc:
            report._note(report.skipped, str(exc), key)
    models = _assign_names(models, report)
    _add_alias_entries(data, models, report)
    return models


def _successor_id(model: ImportedModel, names: dict[tuple[str, str], str]) -> str | None:
    if not model.successor:
        return None
    for candidate in (model.successor.lower(), _model_names(model.successor, model.provider)[0]):
        target = names.get((model.provider, candidate))
        if target is not None and target != model.id:
            return target
    return None


# --- writing, and importing over an existing catalog -------------------------------------------


def _read_raw_docs(folder: Path) -> dict[str, dict[str, Any]]:
    docs = {}
    for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_DecimalLoader)
        docs[path.name] = doc
    return docs


def _latest(model: CatalogModel):
    return max(model.periods, key=lambda p: p.valid_from)


def _same_prices(model: ImportedModel, existing: CatalogModel) -> bool:
    period = _latest(existing)
    return (
        {k: dict(v) for k, v in period.rates.items()} == model.rates
        and period.usd_per_request == model.usd_per_request
        and period.usd_per_web_search == model.usd_per_web_search
    )


def import_litellm(
    path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    valid_from: dt.date,
) -> LiteLLMImportReport:
    """Convert LiteLLM's price map into catalog files in `out_dir` and report what was left out.

    When `out_dir` already holds a catalog, models whose prices changed get a new price period
    from `valid_from`, new models are added, and unchanged or vanished models are left as they
    are (vanished ones are reported). Files with no change are not rewritten. The result is
    validated with the catalog loader before any file in `out_dir` is replaced.
    """
    source = Path(path)
    out = Path(out_dir)
    report = LiteLLMImportReport(source=source.name)
    models = convert_litellm(read_litellm_map(source), report=report)
    existing: Catalog | None = None
    if out.is_dir() and (any(out.glob("*.yaml")) or any(out.glob("*.yml"))):
        existing = load_catalog(out)
    docs = _read_raw_docs(out) if existing else {}
    file_of = {doc["provider"]: name for name, doc in docs.items()}
    touched: set[str] = set()

    # names already in the catalog, per provider
    catalog_names: dict[tuple[str, str], CatalogModel] = {}
    for m in existing.models if existing else []:
        for name in (m.id, *m.aliases):
            catalog_names[(m.provider, name)] = m
    final_names: dict[tuple[str, str], str] = {k: m.id for k, m in catalog_names.items()}
    matched: dict[tuple[str, str], ImportedModel] = {}
    new_models: list[ImportedModel] = []
    for model in models:
        hits = {
            catalog_names[(model.provider, n)].id
            for n in (model.id, *model.aliases)
            if (model.provider, n) in catalog_names
        }
        if len(hits) > 1:
            report._note(report.skipped, "matches several catalog models", model.key)
            continue
        if hits:
            target_id = hits.pop()
            if (model.provider, target_id) in matched:
                report._note(
                    report.skipped, "matches a catalog model another key matched", model.key
                )
                continue
            matched[(model.provider, target_id)] = model
            continue
        model.aliases = [a for a in model.aliases if (model.provider, a) not in final_names]
        for name in (model.id, *model.aliases):
            final_names[(model.provider, name)] = model.id
        new_models.append(model)

    late: list[str] = []
    for (provider, model_id), model in sorted(matched.items()):
        current = catalog_names[(provider, model_id)]
        label = f"{provider}/{model_id}"
        if _same_prices(model, current):
            report.unchanged.append(label)
            continue
        latest = _latest(current)
        if latest.valid_from >= valid_from or (latest.valid_to and latest.valid_to > valid_from):
            late.append(f"{current.file}: {model_id} (latest period from {latest.valid_from})")
            continue
        doc = docs[current.file]
        raw_model = next(m for m in doc["models"] if str(m["id"]).strip() == current.id)
        raw_model["prices"].append(_period_doc(model, valid_from))
        report.changed.append(label)
        touched.add(current.file)
    if late:
        shown = "; ".join(late[:5]) + (f"; and {len(late) - 5} more" if len(late) > 5 else "")
        msg = (
            f"--valid-from {valid_from} is not after the latest price period of models whose "
            f"prices changed: {shown}. Give a later --valid-from"
        )
        raise ValueError(msg)
    if existing:
        seen = set(matched)
        report.kept = sorted(
            f"{m.provider}/{m.id}" for m in existing.models if (m.provider, m.id) not in seen
        )

    for model in sorted(new_models, key=lambda m: (m.provider, m.id)):
        name = file_of.get(model.provider)
        if name is None:
            name = f"{model.provider}.yaml"
            if name in docs:
                msg = f"holds provider {docs[name]['provider']!r}, not {model.provider!r}"
                raise CatalogError(name, None, "provider", msg)
            docs[name] = {
                "provider": model.provider,
                "source": f"LiteLLM {source.name}",
                "models": [],
            }
            file_of[model.provider] = name
        docs[name]["models"].append(
            _model_doc(model, valid_from, _successor_id(model, final_names))
        )
        if existing:
            report.added.append(f"{model.provider}/{model.id}")
        touched.add(name)
    for model in models:
        report.imported.setdefault(model.provider, []).append(model.id)

    _write_validated(out, {name: docs[name] for name in sorted(touched)})
    report.files_written = sorted(touched)
    return report


def _write_validated(out: Path, changed: dict[str, dict[str, Any]]) -> None:
    """Write the changed files only after the whole catalog they form loads cleanly."""
    if not changed:
        return
    with tempfile.TemporaryDirectory(prefix="finops-litellm-") as tmp:
        staging = Path(tmp)
        if out.is_dir():
            for path in list(out.glob("*.yaml")) + list(out.glob("*.yml")):
                shutil.copy2(path, staging / path.name)
        for name, doc in changed.items():
            (staging / name).write_text(dump_catalog_yaml(doc), encoding="utf-8")
        load_catalog(staging)
        out.mkdir(parents=True, exist_ok=True)
        for name in changed:
            shutil.copy2(staging / name, out / name)
