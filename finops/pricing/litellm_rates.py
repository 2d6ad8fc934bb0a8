"""LiteLLM's per-token rate resolution for one price-map entry, in exact decimals.

`LiteLLMEntry` answers "what does LiteLLM charge per token for this class, in this service tier
and long-context band?" the way LiteLLM's own cost calculator does (`get_cost_per_unit`,
`_get_token_base_cost`, `generic_cost_per_token`, `batch_cost_calculator`), so a catalog made
from the map prices what LiteLLM prices, to the cent. Reading the map and turning entries into
catalog models is `finops.pricing.litellm_convert`.

>>> entry = LiteLLMEntry({"input_cost_per_token": Decimal("0.000003"),
...     "input_cost_per_token_above_200k_tokens": Decimal("0.000006")}, inclusive=False)
>>> sorted(entry.thresholds()), entry.tier_rates("standard", 200000, ["input", "cache_read"])
([200000], {'input': Decimal('0.000006'), 'cache_read': Decimal('0.000006')})
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "BASE_KEYS",
    "MODALITY_KEYS",
    "ONE_HOUR_KEY",
    "STANDARD_KEYS",
    "TIER_SUFFIXES",
    "LiteLLMEntry",
    "as_decimal",
    "default_to",
    "reads_price_key",
    "threshold_of",
]

# the four prefixes whose `_above_<N>_tokens` keys set LiteLLM's long-context thresholds
BASE_KEYS = {
    "input": "input_cost_per_token",
    "output": "output_cost_per_token",
    "cache_read": "cache_read_input_token_cost",
    "cache_write_5m": "cache_creation_input_token_cost",
}
ONE_HOUR_KEY = "cache_creation_input_token_cost_above_1hr"
MODALITY_KEYS = {
    "input_audio": "input_cost_per_audio_token",
    "output_audio": "output_cost_per_audio_token",
    "input_image": "input_cost_per_image_token",
    "output_image": "output_cost_per_image_token",
}
STANDARD_KEYS = {**BASE_KEYS, "cache_write_1h": ONE_HOUR_KEY, **MODALITY_KEYS}
TIER_SUFFIXES = {"standard": "", "priority": "_priority", "flex": "_flex"}
# LiteLLM's service-tier suffixes, longest first (as its get_cost_per_unit strips them)
_LITELLM_TIER_SUFFIXES = ("_ultrafast", "_balanced", "_priority", "_flex", "_fast", "_auto")
_NON_STANDARD_SUFFIXES = (*_LITELLM_TIER_SUFFIXES, "_batches")
_THRESHOLD_PREFIXES = tuple(f"{key}_above_" for key in BASE_KEYS.values())
_ABOVE = re.compile(r"_above_(\d+)(k?)_tokens")


def as_decimal(value: Any) -> Decimal | None:
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


def threshold_of(key: str) -> int | None:
    """The token threshold in a `..._above_<N>[k]_tokens...` key (LiteLLM reads the last one)."""
    tail = "_above_" + key.rsplit("_above_", 1)[1] if "_above_" in key else ""
    match = _ABOVE.match(tail)
    if match is None:
        return None
    return int(match.group(1)) * (1000 if match.group(2) else 1)


class LiteLLMEntry:
    """One LiteLLM entry with LiteLLM's lookup rules (per-token Decimals)."""

    def __init__(self, raw: dict[str, Any], inclusive: bool) -> None:
        self.raw = raw
        self.inclusive = inclusive

    def get(self, key: str) -> Decimal | None:
        return as_decimal(self.raw.get(key))

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
            if base in STANDARD_KEYS.values() or key.startswith(ONE_HOUR_KEY + "_above_"):
                threshold = threshold_of(key)
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
                and (threshold := threshold_of(candidate)) is not None
                and self.crossed(threshold, band)
                and (best is None or threshold > best[0])
            ):
                best = (threshold, candidate)
        if best is None:
            return key
        return f"{best[1].removesuffix(suffix)}{suffix}"

    # -- standard, priority and flex (LiteLLM's _get_token_base_cost and generic_cost_per_token)

    def tier_rates(self, tier: str, band: int, classes: Iterable[str]) -> dict[str, Decimal]:
        s = TIER_SUFFIXES[tier]
        zero = Decimal(0)
        inp = self.get_tiered(f"input_cost_per_token{s}")
        inp = zero if inp is None else inp
        out = self.get_tiered(f"output_cost_per_token{s}")
        out = zero if out is None else out
        if out == 0 and self.get("output_cost_per_image_token") is not None:
            out = self.get("output_cost_per_image_token")
        cache_write = self.get_tiered(f"cache_creation_input_token_cost{s}")
        cache_read = self.get_tiered(f"cache_read_input_token_cost{s}")
        one_hour_key = f"{ONE_HOUR_KEY}{s}"
        threshold_keys = [
            k
            for k in self.raw
            if k.startswith(_THRESHOLD_PREFIXES)
            and "_tokens" in k
            and (not k.endswith(_NON_STANDARD_SUFFIXES) or (s and k.endswith(s)))
        ]
        for key in sorted(threshold_keys, key=lambda k: threshold_of(k) or 0):
            threshold = threshold_of(key)
            if self.raw.get(key) is None or threshold is None or not self.crossed(threshold, band):
                continue
            ts = key.rsplit("_above_", 1)[1].split("_tokens")[0]
            inp = default_to(self.get_tiered(f"input_cost_per_token_above_{ts}_tokens{s}"), inp)
            out = default_to(self.get_tiered(f"output_cost_per_token_above_{ts}_tokens{s}"), out)
            cache_write = default_to(
                self.get_tiered(f"cache_creation_input_token_cost_above_{ts}_tokens{s}"),
                cache_write,
            )
            preferred = f"{ONE_HOUR_KEY}_above_{ts}_tokens{s}"
            if self.raw.get(preferred) is not None:
                one_hour_key = preferred
            cache_read = default_to(
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
                rates[cls] = default_to(self.get_tiered(one_hour_key), cache_write)
            elif cls == "input_audio":
                key = self.modality_key(f"{MODALITY_KEYS[cls]}{s}", band)
                rates[cls] = default_to(self.get_tiered(key), zero)
            elif cls == "input_image":
                rates[cls] = default_to(self.get_tiered(f"{MODALITY_KEYS[cls]}{s}"), zero)
            elif cls == "output_audio":
                rates[cls] = default_to(self.get(MODALITY_KEYS[cls]), out)
            elif cls == "output_image":
                rates[cls] = default_to(self.get_tiered(f"{MODALITY_KEYS[cls]}{s}"), out)
        return rates

    # -- batch (LiteLLM's batch_cost_calculator)

    def batch_prefix_rate(self, prefix: str, band: int) -> Decimal | None:
        pattern = re.compile(rf"^{re.escape(prefix)}_above_(\d+k?)_tokens_batches$")
        crossed = []
        for key, value in self.raw.items():
            match = pattern.match(key)
            if match and value is not None:
                threshold = threshold_of(key)
                if threshold is not None and self.crossed(threshold, band):
                    crossed.append((threshold, match.group(1)))
        flat = self.get(f"{prefix}_batches")
        if not crossed:
            return flat
        ts = max(crossed)[1]
        return default_to(self.get(f"{prefix}_above_{ts}_tokens_batches"), flat)

    def batch_rates(self, band: int, classes: Iterable[str]) -> dict[str, Decimal]:
        half = Decimal("0.5")
        b_in = self.batch_prefix_rate("input_cost_per_token", band)
        b_out = self.batch_prefix_rate("output_cost_per_token", band)
        b_read = self.batch_prefix_rate("cache_read_input_token_cost", band)
        b_write = self.batch_prefix_rate("cache_creation_input_token_cost", band)
        b_hour = self.batch_prefix_rate(ONE_HOUR_KEY, band)
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
                "input_image": default_to(self.get("input_cost_per_image_token_batches"), b_in),
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


def default_to(value: Decimal | None, fallback: Decimal | None) -> Decimal | None:
    return fallback if value is None else value


# which suffixes LiteLLM reads for each standard key: tiers, batch, long-context bands
# output audio: LiteLLM bills the standard audio rate in every tier and the batch text rate in batch
_TIERED = frozenset(STANDARD_KEYS) - {"output_audio"}
_BANDED = frozenset(
    {"input", "output", "cache_read", "cache_write_5m", "cache_write_1h", "input_audio"}
)
_READ_KEYS = re.compile(
    "^(?:"
    + "|".join(
        [re.escape(STANDARD_KEYS[c]) + "(?:_priority|_flex|_batches)?" for c in _TIERED]
        + [re.escape(STANDARD_KEYS["output_audio"])]
        + [
            re.escape(STANDARD_KEYS[c]) + r"_above_\d+k?_tokens(?:_priority|_flex|_batches)?"
            for c in _BANDED
        ]
    )
    + ")$"
)


def reads_price_key(name: str) -> bool:
    return _READ_KEYS.match(name) is not None
