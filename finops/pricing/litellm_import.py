"""`finops pricing import-litellm`: LiteLLM's price map → catalog YAML files, one per provider.

The conversion itself is `finops.pricing.litellm_convert`; this module writes its models as
catalog documents (format in `pricing/README.md`), and over an existing catalog adds new models
and a new dated price period for models whose prices changed, never editing a period already
there. Files are written only after the catalog they form loads cleanly.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from finops.core.schema import SERVICE_TIERS
from finops.pricing.catalog import (
    Catalog,
    CatalogError,
    CatalogModel,
    load_catalog,
    write_catalog_files,
)
from finops.pricing.catalog_yaml import read_catalog_docs
from finops.pricing.litellm_convert import (
    ImportedModel,
    LiteLLMImportReport,
    convert_litellm,
    model_names,
    read_litellm_map,
)

__all__ = ["import_litellm", "model_doc", "period_doc"]

_PLACES = Decimal("0.000001")

_HEADER = (
    "# Imported from LiteLLM's model_prices_and_context_window.json by "
    "`finops pricing import-litellm`.\n"
    "# Prices are USD per million tokens, converted exactly from USD per token.\n"
)


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


def period_doc(model: ImportedModel, valid_from: dt.date) -> dict[str, Any]:
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


def model_doc(model: ImportedModel, valid_from: dt.date, successor: str | None) -> dict[str, Any]:
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
    doc["prices"] = [period_doc(model, valid_from)]
    return doc


def _successor_id(model: ImportedModel, names: dict[tuple[str, str], str]) -> str | None:
    if not model.successor:
        return None
    for candidate in (model.successor.lower(), model_names(model.successor, model.provider)[0]):
        target = names.get((model.provider, candidate))
        if target is not None and target != model.id:
            return target
    return None


# --- writing, and importing over an existing catalog -------------------------------------------


def _same_prices(model: ImportedModel, existing: CatalogModel) -> bool:
    period = existing.latest_period
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
    docs = read_catalog_docs(out) if existing else {}
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
            report.note(report.skipped, "matches several catalog models", model.key)
            continue
        if hits:
            target_id = hits.pop()
            if (model.provider, target_id) in matched:
                report.note(
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
        latest = current.latest_period
        if latest.valid_from >= valid_from or (latest.valid_to and latest.valid_to > valid_from):
            late.append(f"{current.file}: {model_id} (latest period from {latest.valid_from})")
            continue
        doc = docs[current.file]
        raw_model = next(m for m in doc["models"] if str(m["id"]).strip() == current.id)
        raw_model["prices"].append(period_doc(model, valid_from))
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
        docs[name]["models"].append(model_doc(model, valid_from, _successor_id(model, final_names)))
        if existing:
            report.added.append(f"{model.provider}/{model.id}")
        touched.add(name)
    for model in models:
        report.imported.setdefault(model.provider, []).append(model.id)

    write_catalog_files(out, {name: docs[name] for name in sorted(touched)}, _HEADER)
    report.files_written = sorted(touched)
    return report
