"""`finops pricing update --from PATH`: bring a curated catalog up to date from a reference map,
never editing its history.

A reference is LiteLLM's `model_prices_and_context_window.json` or pydantic genai-prices'
`data.json` (a list of providers, each with models and their prices, some dated). For the
catalog's own providers only, the update

- adds a model the catalog does not name (its first period starts on `valid_from`: no price is
  ever put before the day it was recorded), and
- adds a new dated period to a model whose reference price differs from its latest period
  (from `valid_from`, or from the reference's own later start date),

and changes nothing else: every existing period stays as written (the period before a new one
ends where the new one starts, as periods always do). Files are edited as text, so comments and
layout survive; the result is loaded and checked (history unchanged, every change present) before
anything is written. A rate is "different" only for a token class both sides price: the catalog
leaves classes unpriced on purpose (pricing/README.md), and a missing rate is not a price change.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from finops.core.format import plural
from finops.pricing.catalog import Catalog, CatalogModel, PricePeriod, load_catalog
from finops.pricing.catalog_yaml import dump_catalog_yaml
from finops.pricing.litellm_convert import ImportedModel, convert_litellm
from finops.pricing.litellm_import import model_doc, period_doc
from finops.pricing.providers import normalise_provider

__all__ = [
    "CatalogUpdate",
    "PriceChange",
    "apply_update",
    "plan_update",
    "read_reference",
    "stage_update",
]


@dataclass(frozen=True)
class PriceChange:
    """One change an update makes: a new model, or a new dated period of an existing one."""

    kind: str  # "new model" | "new period"
    provider: str
    model_id: str
    file: str
    valid_from: dt.date
    old: dict[str, Decimal] | None  # standard rates of the latest period before, USD per Mtok
    new: dict[str, Decimal]
    model: ImportedModel = field(repr=False, compare=False)


@dataclass
class CatalogUpdate:
    """What an update would do; `changes` is empty when the catalog is current."""

    source: str
    valid_from: dt.date
    changes: list[PriceChange] = field(default_factory=list)
    unchanged: int = 0
    other_providers: int = 0  # reference models of providers the catalog does not cover
    late: list[str] = field(
        default_factory=list
    )  # changed, but the catalog already has a later period

    def summary_lines(self, limit: int = 40) -> list[str]:
        """The diff as plain lines: one per change, rates per million tokens."""
        added = [c for c in self.changes if c.kind == "new model"]
        periods = [c for c in self.changes if c.kind == "new period"]
        counts = (
            f"{plural(len(periods), 'new price period')}, {plural(len(added), 'new model')}, "
            f"{plural(self.unchanged, 'model')} unchanged"
        )
        lines = [f"{self.source}: {counts}"]
        if self.other_providers:
            lines.append(
                f"  ({plural(self.other_providers, 'model')} of providers outside the catalog "
                "not considered)"
            )
        for change in self.changes[:limit]:
            new = _rates_text(change.new)
            what = f"{change.provider}/{change.model_id} from {change.valid_from}"
            if change.old is None:
                lines.append(f"  + {what}: {new}")
            else:
                lines.append(f"  ~ {what}: {_rates_text(change.old)} → {new}")
        if len(self.changes) > limit:
            lines.append(f"  … and {len(self.changes) - limit:,} more")
        for item in self.late[:5]:
            lines.append(f"  ! not changed: {item}")
        return lines


def _rates_text(rates: dict[str, Decimal]) -> str:
    return ", ".join(f"{cls} {format(rate.normalize(), 'f')}" for cls, rate in rates.items())


# --- references --------------------------------------------------------------------------------


def read_reference(path: str | os.PathLike[str]) -> tuple[str, list[ImportedModel]]:
    """(kind, models) of a reference file: LiteLLM's map (a JSON object keyed by model) or
    genai-prices' data (a JSON list of providers)."""
    file = Path(path)
    try:
        raw = json.loads(file.read_text(encoding="utf-8"), parse_float=Decimal)
    except OSError as exc:
        msg = f"{file}: cannot read ({exc.strerror})"
        raise ValueError(msg) from None
    except json.JSONDecodeError as exc:
        msg = f"{file}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        raise ValueError(msg) from None
    data = raw["providers"] if isinstance(raw, dict) and "providers" in raw else raw
    if isinstance(data, list):
        return "genai-prices", _genai_models(data, file.name)
    if isinstance(data, dict):
        return "LiteLLM", convert_litellm(raw)  # parsed once, numbers as exact Decimals
    msg = f"{file}: expected LiteLLM's price map (an object) or genai-prices data (a list)"
    raise ValueError(msg)


_GENAI_CLASSES = {
    "input_mtok": "input",
    "output_mtok": "output",
    "cache_read_mtok": "cache_read",
    "cache_write_mtok": "cache_write_5m",
    "input_audio_mtok": "input_audio",
    "output_audio_mtok": "output_audio",
}


def _genai_models(providers: list[Any], source: str) -> list[ImportedModel]:
    """genai-prices providers → one model per entry, priced at its latest dated price (its start
    date, when it has one, is carried as the model's `dated_from`)."""
    models = []
    for provider in providers:
        if not isinstance(provider, dict) or not isinstance(provider.get("id"), str):
            continue
        provider_id = normalise_provider(provider["id"])
        for raw in provider.get("models") or []:
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                continue
            prices, start = _latest_genai_price(raw.get("prices"))
            rates = _genai_rates(prices) if prices else None
            if not rates:
                continue
            model_id = raw["id"].strip().lower()
            models.append(
                ImportedModel(
                    key=raw["id"],
                    provider=provider_id,
                    id=model_id,
                    aliases=[],
                    kind=None,
                    context_window=raw.get("context_window")
                    if isinstance(raw.get("context_window"), int)
                    else None,
                    max_output_tokens=None,
                    input_modalities=[],
                    output_modalities=[],
                    deprecated_on=None,
                    successor=None,
                    source=f"genai-prices {source}" + (f" (from {start})" if start else ""),
                    rates=rates,
                    usd_per_request=_per_request(prices),
                    dated_from=start,
                )
            )
    return models


def _latest_genai_price(prices: Any) -> tuple[dict[str, Any] | None, dt.date | None]:
    if isinstance(prices, dict):
        return prices, None
    if not isinstance(prices, list):
        return None, None
    dated: list[tuple[dt.date, dict[str, Any]]] = []
    for item in prices:
        if not isinstance(item, dict) or not isinstance(item.get("prices"), dict):
            continue
        constraint = item.get("constraint")
        if constraint is None:
            dated.append((dt.date.min, item["prices"]))
        elif isinstance(constraint, dict) and isinstance(constraint.get("start_date"), str):
            try:
                day = dt.date.fromisoformat(constraint["start_date"][:10])
            except ValueError:
                continue
            dated.append((day, item["prices"]))
        # time-of-day constraints are not a reference price change: left out
    if not dated:
        return None, None
    day, latest = max(dated, key=lambda d: d[0])
    return latest, (None if day == dt.date.min else day)


def _genai_rates(prices: dict[str, Any]) -> dict[tuple[str, int], dict[str, Decimal]]:
    standard: dict[str, Decimal] = {}
    bands: dict[int, dict[str, Decimal]] = {}
    for key, cls in _GENAI_CLASSES.items():
        value = prices.get(key)
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            standard[cls] = Decimal(value)
        elif isinstance(value, dict) and isinstance(value.get("base"), (int, Decimal)):
            standard[cls] = Decimal(value["base"])
            for tier in value.get("tiers") or []:
                if isinstance(tier, dict) and isinstance(tier.get("start"), int):
                    bands.setdefault(tier["start"], {})[cls] = Decimal(tier["price"])
    if "input" not in standard and "output" not in standard:
        return {}
    rates = {("standard", 0): standard}
    for above, band in sorted(bands.items()):
        rates[("standard", above)] = {**standard, **band}
    return rates


def _per_request(prices: dict[str, Any] | None) -> Decimal | None:
    value = (prices or {}).get("requests_kcount")
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return Decimal(value) / 1000
    return None


# --- planning ----------------------------------------------------------------------------------


def _differs(reference: ImportedModel, period: PricePeriod) -> bool:
    """Whether a class both sides price has another standard rate, in a band both declare.

    Service tiers are not compared: references derive batch, priority and flex rates by rules
    the catalog does not share (pricing/README.md), so they would report changes that are not.
    """
    for slot, theirs in reference.rates.items():
        ours = period.rates.get(slot)
        if ours is None or slot[0] != "standard":
            continue
        if any(cls in ours and ours[cls] != rate for cls, rate in theirs.items()):
            return True
    both_fee = reference.usd_per_request is not None and period.usd_per_request is not None
    return both_fee and reference.usd_per_request != period.usd_per_request


def _match(catalog: Catalog, model: ImportedModel) -> CatalogModel | None:
    for name in (model.key, model.id, *model.aliases):
        found = catalog.find(model.provider, name)
        if found is not None:
            return found
    return None


def plan_update(
    catalog: Catalog, references: list[ImportedModel], *, valid_from: dt.date, source: str = ""
) -> CatalogUpdate:
    """The changes bringing `catalog` to the reference prices, for the catalog's providers."""
    plan = CatalogUpdate(source=source or "reference", valid_from=valid_from)
    files = {m.provider: m.file for m in catalog.models}
    seen: set[tuple[str, str]] = set()
    for ref in sorted(references, key=lambda m: (m.provider, m.id, m.key)):
        if ref.provider not in files:
            plan.other_providers += 1
            continue
        current = _match(catalog, ref)
        target = (ref.provider, current.id if current else ref.id)
        if target in seen:  # another reference key of a model already handled
            continue
        seen.add(target)
        start = max(valid_from, ref.dated_from or valid_from)
        if current is None:
            change = PriceChange(
                "new model", ref.provider, ref.id, files[ref.provider], start, None,
                dict(ref.rates[("standard", 0)]), ref,
            )  # fmt: skip
            plan.changes.append(change)
            continue
        latest = current.latest_period
        if not _differs(ref, latest):
            plan.unchanged += 1
            continue
        if latest.valid_from >= start or (latest.valid_to and latest.valid_to > start):
            plan.late.append(
                f"{ref.provider}/{current.id}: its latest period starts {latest.valid_from}, "
                f"on or after {start}"
            )
            continue
        plan.changes.append(
            PriceChange(
                "new period",
                ref.provider,
                current.id,
                current.file,
                start,
                dict(latest.rates[("standard", 0)]),
                dict(ref.rates[("standard", 0)]),
                ref,
            )
        )
    return plan


# --- writing -----------------------------------------------------------------------------------

_MODEL_LINE = re.compile(r"^  - id: ['\"]?(?P<id>[^'\"\s]+)['\"]?\s*$")


def _block_end(lines: list[str], start: int) -> int:
    """The index after the last line of the model block starting at `start` (trailing blank and
    comment lines belong to the next model)."""
    end = start + 1
    while end < len(lines) and not (
        _MODEL_LINE.match(lines[end]) or (lines[end] and not lines[end][0].isspace())
    ):
        end += 1
    while end > start + 1 and (
        not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")
    ):
        end -= 1
    return end


def _period_lines(change: PriceChange) -> list[str]:
    text = dump_catalog_yaml({"prices": [period_doc(change.model, change.valid_from)]})
    return ["    " + line for line in text.splitlines()[1:]]


def _edit_file(text: str, changes: list[PriceChange]) -> str:
    lines = text.splitlines()
    periods = {c.model_id: c for c in changes if c.kind == "new period"}
    out: list[str] = []
    index = 0
    while index < len(lines):
        match = _MODEL_LINE.match(lines[index])
        if match and match.group("id") in periods:
            end = _block_end(lines, index)
            out.extend(lines[index:end])
            out.extend(_period_lines(periods[match.group("id")]))
            index = end
            continue
        out.append(lines[index])
        index += 1
    added = [c for c in changes if c.kind == "new model"]
    if added:
        docs = [model_doc(c.model, c.valid_from, None) for c in added]
        out.extend(dump_catalog_yaml({"models": docs}).splitlines()[1:])
    return "\n".join(out) + "\n"


def stage_update(catalog: Catalog, plan: CatalogUpdate, staging: Path) -> Catalog:
    """Write the updated catalog into `staging` (a copy of the catalog folder with the changes)
    and check it: it loads, every change is in it, and no existing period moved."""
    folder = catalog.directory
    for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
        shutil.copy2(path, staging / path.name)
    by_file: dict[str, list[PriceChange]] = {}
    for change in plan.changes:
        by_file.setdefault(change.file, []).append(change)
    for name, changes in by_file.items():
        text = (folder / name).read_text(encoding="utf-8")
        (staging / name).write_text(_edit_file(text, changes), encoding="utf-8")
    updated = load_catalog(staging)
    _check_history(catalog, updated, plan)
    return updated


def _check_history(before: Catalog, after: Catalog, plan: CatalogUpdate) -> None:
    new_starts = {(c.provider, c.model_id): c.valid_from for c in plan.changes}
    for old in before.models:
        new = after.find(old.provider, old.id)
        added = new_starts.get((old.provider, old.id))
        expected = len(old.periods) + (1 if added else 0)
        if new is None or len(new.periods) != expected:
            msg = f"internal: the update would change {old.provider}/{old.id}'s periods"
            raise RuntimeError(msg)
        for was, now in zip(old.periods, new.periods, strict=False):
            same_end = now.valid_to == was.valid_to or (
                was.valid_to is None and now.valid_to == added
            )
            if (was.valid_from, was.rates, was.source) != (
                now.valid_from,
                now.rates,
                now.source,
            ) or not same_end:
                msg = f"internal: the update would edit history of {old.provider}/{old.id}"
                raise RuntimeError(msg)
    for change in plan.changes:
        if change.kind == "new model" and after.find(change.provider, change.model_id) is None:
            msg = f"internal: new model {change.provider}/{change.model_id} did not land"
            raise RuntimeError(msg)


def apply_update(catalog: Catalog, plan: CatalogUpdate, staged: Path | None = None) -> list[str]:
    """Write the update into the catalog folder; the files changed.

    `staged`: a folder :func:`stage_update` already wrote and checked for this plan (a dry
    run's); without it the update is staged and checked here first.
    """
    if not plan.changes:
        return []
    names = sorted({c.file for c in plan.changes})
    if staged is None:
        with tempfile.TemporaryDirectory(prefix="finops-update-") as tmp:
            stage_update(catalog, plan, Path(tmp))
            return apply_update(catalog, plan, Path(tmp))
    for name in names:
        shutil.copy2(staged / name, catalog.directory / name)
    return names
