"""The versioned, effective-dated price catalog: load, validate, record revisions, diff.

Prices are published per million tokens and kept exact (Decimal). The catalog folder holds one
YAML file per provider; its format is documented in `pricing/README.md`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
import yaml

from finops.core.schema import SERVICE_TIERS, TOKEN_CLASSES
from finops.core.store import fetch_one, query_pl, read_sql, transaction
from finops.core.yamltext import yaml_problem
from finops.pricing.catalog_yaml import dump_catalog_yaml, load_exact_yaml

__all__ = [
    "Catalog",
    "CatalogError",
    "CatalogModel",
    "PricePeriod",
    "default_pricing_dir",
    "diff_revisions",
    "list_revisions",
    "load_catalog",
    "model_lookup_name",
    "record_revision",
    "resolve_revision",
    "sync_catalog",
    "write_catalog_files",
]

_MTOK = Decimal(1_000_000)
_PLACES = Decimal("0.000001")
_RATE_KEYS = frozenset(TOKEN_CLASSES)
_PERIOD_KEYS = frozenset(
    {
        "valid_from",
        "valid_to",
        "source",
        "usd_per_mtok",
        "long_context",
        "usd_per_request",
        "usd_per_web_search",
        "notes",
        "off_peak",
        *[t for t in SERVICE_TIERS if t != "standard"],
    }
)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(
    r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))? (?P<start>\d{1,2})(?::00)?-(?P<end>\d{1,2})(?::00)?$"
)
HOURS_OF_WEEK = frozenset(range(7 * 24))
_MODEL_KEYS = frozenset(
    {
        "id",
        "aliases",
        "kind",
        "context_window",
        "input_modalities",
        "output_modalities",
        "deprecated_on",
        "successor",
        "prices",
        "notes",
        "max_output_tokens",
        "fine_tuned_of",
    }
)
_KINDS = frozenset(
    {"chat", "reasoning", "embedding", "image", "audio", "moderation", "rerank", "video", "other"}
)


class CatalogError(ValueError):
    """A catalog problem, naming the file, the model and the field."""

    def __init__(self, file: str, model: str | None, field: str | None, problem: str) -> None:
        self.file, self.model, self.field, self.problem = file, model, field, problem
        where = file
        if model:
            where += f", model {model}"
        if field:
            where += f", field {field}"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class PricePeriod:
    """One price period of one model: standard rates plus tiers and long-context bands."""

    valid_from: dt.date
    valid_to: dt.date | None
    source: str | None
    # rates[(service_tier, above_tokens)][token_class] = USD per million tokens
    rates: dict[tuple[str, int], dict[str, Decimal]]
    usd_per_request: Decimal | None = None
    usd_per_web_search: Decimal | None = None
    # time-of-day prices: the standard rates apply at peak; these at the off-peak hours of the
    # week (Monday 00:00 UTC = 0 .. Sunday 23:00 = 167), standard tier, below any long context
    off_peak_hours: frozenset[int] | None = None
    off_peak_rates: dict[str, Decimal] | None = None


@dataclass(frozen=True)
class CatalogModel:
    provider: str
    id: str
    file: str
    aliases: tuple[str, ...] = ()
    kind: str | None = None
    context_window: int | None = None
    input_modalities: tuple[str, ...] = ()
    output_modalities: tuple[str, ...] = ()
    deprecated_on: dt.date | None = None
    successor: str | None = None
    periods: tuple[PricePeriod, ...] = ()
    #: the base model whose fine-tunes this model prices (OpenAI's `ft:BASE` inference rates)
    fine_tuned_of: str | None = None

    @property
    def latest_period(self) -> PricePeriod:
        """The period that starts last (the one a price update compares with or closes)."""
        return max(self.periods, key=lambda p: p.valid_from)


@dataclass
class Catalog:
    directory: Path
    content_hash: str
    models: list[CatalogModel] = field(default_factory=list)
    _by_name: dict[str, list[CatalogModel]] | None = field(default=None, repr=False, compare=False)

    @property
    def hourly_providers(self) -> list[str]:
        """Providers with a time-of-day price somewhere: their hourly usage keeps its hour."""
        return sorted({m.provider for m in self.models for p in m.periods if p.off_peak_hours})

    @property
    def thresholds(self) -> list[int]:
        """Every long-context threshold in the catalog, ascending."""
        found = {
            above for m in self.models for p in m.periods for (_tier, above) in p.rates if above > 0
        }
        return sorted(found)

    def lookup(self, name: str, provider: str | None = None) -> list[CatalogModel]:
        """The models an id or alias names (one per provider at most), optionally of one
        provider, resolved as `priced_usage.sql` resolves a usage row's model: the name itself
        (a fine-tune by its base's `ft:` model), else the part after a gateway's `vendor/`.
        Indexed once: the catalog holds thousands of names."""
        if self._by_name is None:
            index: dict[str, list[CatalogModel]] = {}
            for m in self.models:
                for key in dict.fromkeys((m.id, *m.aliases)):
                    index.setdefault(key, []).append(m)
            self._by_name = index
        key = model_lookup_name(name)
        found = [m for m in self._by_name.get(key, []) if provider in (None, m.provider)]
        if not found and "/" in key:  # a gateway-style 'vendor/model': by the model's own name
            bare = self._by_name.get(key.split("/", 1)[1], [])
            found = [m for m in bare if provider in (None, m.provider)]
        return found

    def find(self, provider: str, name: str) -> CatalogModel | None:
        found = self.lookup(name, provider)
        return found[0] if found else None


def model_lookup_name(name: str) -> str:
    """The catalog name a usage row's model resolves by: lower case, and an OpenAI fine-tune
    (`ft:BASE:ORG:SUFFIX:JOB`) by its base's fine-tuned model `ft:BASE`, whose inference rates
    every fine-tune of that base pays. `priced_usage.sql` applies the same rule in SQL.

    >>> model_lookup_name("ft:gpt-4o-mini-2024-07-18:acme::b7x9q2"), model_lookup_name(" GPT-4o ")
    ('ft:gpt-4o-mini-2024-07-18', 'gpt-4o')
    """
    key = name.strip().lower()
    if key.startswith("ft:") and key.count(":") >= 2:
        return "ft:" + key.split(":", 2)[1]
    return key


def default_pricing_dir() -> Path:
    """`FINOPS_PRICING` if set, else the catalog bundled beside the package."""
    env = os.environ.get("FINOPS_PRICING")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "pricing"


# --- parsing and validation --------------------------------------------------------------------


def _as_date(value: Any, err) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            err("prices start and end on UTC day boundaries; give a date such as 2025-06-10")
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    err(f"{value!r} is not a date (write YYYY-MM-DD)")
    raise AssertionError  # err always raises


def _as_rate(value: Any, err) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        err(f"{value!r} is not a price (write a number such as 2.5)")
    try:
        rate = Decimal(str(value))
    except InvalidOperation:
        err(f"{value!r} is not a price (write a number such as 2.5)")
    if not rate.is_finite():
        err(f"{value!r} is not a price")
    if rate < 0:
        err(f"price {value} is negative")
    return rate


def _check_places(rate: Decimal, err) -> Decimal:
    # per-token rates are stored as DECIMAL(38,12): six places per million tokens stay exact
    if rate != rate.quantize(_PLACES):
        err(f"price {rate} has more than 6 decimal places per million tokens")
    return rate.quantize(_PLACES)


def _rates_block(block: Any, err_at, path: str) -> dict[str, Decimal]:
    if not isinstance(block, dict) or not block:
        err_at(path, "expected a mapping of token class to USD per million tokens")
    out: dict[str, Decimal] = {}
    for key, value in block.items():
        if key not in _RATE_KEYS:
            err_at(
                f"{path}.{key}",
                f"unknown token class {key!r}; use one of {', '.join(TOKEN_CLASSES)}",
            )
        out[key] = _check_places(
            _as_rate(value, lambda m, k=key: err_at(f"{path}.{k}", m)),
            lambda m, k=key: err_at(f"{path}.{k}", m),
        )
    return out


def _tier_block(block: Any, standard: dict[str, Decimal], err_at, path: str) -> dict[str, Decimal]:
    """A service tier: explicit rates, or `multiplier` applied to every standard rate."""
    if isinstance(block, dict) and "multiplier" in block:
        extra = set(block) - {"multiplier"}
        if extra:
            err_at(path, f"give either multiplier or rates, not both (found {sorted(extra)})")
        factor = _as_rate(block["multiplier"], lambda m: err_at(f"{path}.multiplier", m))
        return {
            cls: _check_places(rate * factor, lambda m, c=cls: err_at(f"{path}.multiplier", m))
            for cls, rate in standard.items()
        }
    return _rates_block(block, err_at, path)


def _parse_period(raw: Any, file: str, model: str, index: int, default_source: str | None):
    path = f"prices[{index}]"

    def err_at(field_path: str, problem: str):
        raise CatalogError(file, model, field_path, problem)

    if not isinstance(raw, dict):
        err_at(path, "expected a mapping with valid_from and usd_per_mtok")
    for key in raw:
        if key not in _PERIOD_KEYS:
            err_at(f"{path}.{key}", f"unknown field {key!r}")
    if "valid_from" not in raw:
        err_at(f"{path}.valid_from", "missing: every price period needs valid_from")
    valid_from = _as_date(raw["valid_from"], lambda m: err_at(f"{path}.valid_from", m))
    valid_to = None
    if raw.get("valid_to") is not None:
        valid_to = _as_date(raw["valid_to"], lambda m: err_at(f"{path}.valid_to", m))
        if valid_to <= valid_from:
            err_at(f"{path}.valid_to", f"valid_to {valid_to} is not after valid_from {valid_from}")
    if "usd_per_mtok" not in raw:
        err_at(f"{path}.usd_per_mtok", "missing: every price period needs standard rates")
    standard = _rates_block(raw["usd_per_mtok"], err_at, f"{path}.usd_per_mtok")
    rates: dict[tuple[str, int], dict[str, Decimal]] = {("standard", 0): standard}
    for tier in SERVICE_TIERS[1:]:
        if tier in raw:
            rates[(tier, 0)] = _tier_block(raw[tier], standard, err_at, f"{path}.{tier}")
    bands = raw.get("long_context") or []
    if not isinstance(bands, list):
        err_at(f"{path}.long_context", "expected a list of tiers with above_tokens")
    for b_index, band in enumerate(bands):
        bpath = f"{path}.long_context[{b_index}]"
        if not isinstance(band, dict):
            err_at(bpath, "expected a mapping with above_tokens and usd_per_mtok")
        unknown = set(band) - {"above_tokens", "usd_per_mtok", *SERVICE_TIERS[1:]}
        if unknown:
            err_at(f"{bpath}.{min(unknown)}", f"unknown field {min(unknown)!r}")
        above = band.get("above_tokens")
        if isinstance(above, bool) or not isinstance(above, int) or above <= 0:
            err_at(
                f"{bpath}.above_tokens",
                "a long-context tier needs above_tokens, a positive whole number",
            )
        if "usd_per_mtok" not in band:
            err_at(f"{bpath}.usd_per_mtok", "a long-context tier needs its rates (usd_per_mtok)")
        band_standard = _rates_block(band["usd_per_mtok"], err_at, f"{bpath}.usd_per_mtok")
        if ("standard", above) in rates:
            err_at(f"{bpath}.above_tokens", f"two long-context tiers above {above} tokens")
        rates[("standard", above)] = band_standard
        for tier in SERVICE_TIERS[1:]:
            if tier in band:
                rates[(tier, above)] = _tier_block(
                    band[tier], band_standard, err_at, f"{bpath}.{tier}"
                )
    fees: dict[str, Any] = {}
    if raw.get("off_peak") is not None:
        fees["off_peak_hours"], fees["off_peak_rates"] = _off_peak(
            raw["off_peak"], err_at, f"{path}.off_peak"
        )
    for fee in ("usd_per_request", "usd_per_web_search"):
        if raw.get(fee) is not None:
            fees[fee] = _as_rate(raw[fee], lambda m, f=fee: err_at(f"{path}.{f}", m))
    source = raw.get("source", default_source)
    return PricePeriod(valid_from, valid_to, source, rates, **fees)


def _off_peak(block: Any, err_at, path: str) -> tuple[frozenset[int], dict[str, Decimal]]:
    """`off_peak: {windows_utc: ["Mon-Fri 10-24", "Sat-Sun 0-24"], usd_per_mtok: {...}}` →
    (hours of the week, rates). Whole UTC hours; a window ends at or before 24."""
    if not isinstance(block, dict) or set(block) != {"windows_utc", "usd_per_mtok"}:
        err_at(path, "give windows_utc (a list such as 'Mon-Fri 10-24') and usd_per_mtok")
    windows = block["windows_utc"]
    if not isinstance(windows, list) or not windows:
        err_at(f"{path}.windows_utc", "expected a list of windows such as 'Mon-Fri 10-24'")
    hours: set[int] = set()
    for window in windows:
        match = _WINDOW.match(str(window).strip().lower())
        first, last = (
            (match.group("first"), match.group("last") or match.group("first"))
            if match
            else ("", "")
        )
        if match is None or first not in _WEEKDAYS or last not in _WEEKDAYS:
            err_at(
                f"{path}.windows_utc", f"{window!r} is not a window such as 'Mon-Fri 10-24' (UTC)"
            )
        start, end = int(match.group("start")), int(match.group("end"))
        if not 0 <= start < end <= 24:
            err_at(f"{path}.windows_utc", f"{window!r}: hours run from 0 to 24, start before end")
        days = range(_WEEKDAYS.index(first), _WEEKDAYS.index(last) + 1)
        hours.update(day * 24 + hour for day in days for hour in range(start, end))
    if hours == HOURS_OF_WEEK:
        err_at(f"{path}.windows_utc", "the windows cover every hour: leave no peak, give one price")
    return frozenset(hours), _rates_block(block["usd_per_mtok"], err_at, f"{path}.usd_per_mtok")


def _parse_model(raw: Any, provider: str, file: str, default_source: str | None) -> CatalogModel:
    if not isinstance(raw, dict) or "id" not in raw:
        raise CatalogError(file, None, "models", "every model needs an id")
    model_id = str(raw["id"]).strip()
    if model_id != model_id.lower():
        raise CatalogError(file, model_id, "id", "model ids are lower case")

    def err_at(field_path: str, problem: str):
        raise CatalogError(file, model_id, field_path, problem)

    for key in raw:
        if key not in _MODEL_KEYS:
            err_at(key, f"unknown field {key!r}")
    aliases = raw.get("aliases") or []
    if not isinstance(aliases, list):
        err_at("aliases", "expected a list of names")
    aliases = tuple(str(a).strip().lower() for a in aliases)
    kind = raw.get("kind")
    if kind is not None and kind not in _KINDS:
        err_at("kind", f"unknown kind {kind!r}; use one of {', '.join(sorted(_KINDS))}")
    context_window = raw.get("context_window")
    if context_window is not None and (not isinstance(context_window, int) or context_window <= 0):
        err_at("context_window", "expected a positive whole number of tokens")
    deprecated_on = None
    if raw.get("deprecated_on") is not None:
        deprecated_on = _as_date(raw["deprecated_on"], lambda m: err_at("deprecated_on", m))
    prices = raw.get("prices")
    if not isinstance(prices, list) or not prices:
        err_at("prices", "every model needs at least one price period")
    periods = [_parse_period(p, file, model_id, i, default_source) for i, p in enumerate(prices)]
    periods.sort(key=lambda p: p.valid_from)
    closed: list[PricePeriod] = []
    for i, period in enumerate(periods):
        nxt = periods[i + 1] if i + 1 < len(periods) else None
        if nxt is not None and nxt.valid_from == period.valid_from:
            err_at(f"prices[{i + 1}].valid_from", f"two price periods start on {period.valid_from}")
        valid_to = period.valid_to
        if nxt is not None:
            if valid_to is not None and valid_to > nxt.valid_from:
                err_at(
                    f"prices[{i}].valid_to",
                    f"period {period.valid_from}..{valid_to} overlaps the one from {nxt.valid_from}",
                )
            valid_to = valid_to or nxt.valid_from
        closed.append(dataclasses.replace(period, valid_to=valid_to))
    return CatalogModel(
        provider=provider,
        id=model_id,
        file=file,
        aliases=aliases,
        kind=kind,
        context_window=context_window,
        input_modalities=tuple(raw.get("input_modalities") or ()),
        output_modalities=tuple(raw.get("output_modalities") or ()),
        deprecated_on=deprecated_on,
        successor=raw.get("successor"),
        periods=tuple(closed),
        fine_tuned_of=raw.get("fine_tuned_of"),
    )


def load_catalog(directory: str | os.PathLike[str] | None = None) -> Catalog:
    """Load and validate every `*.yaml` file in the catalog folder.

    Raises :class:`CatalogError` naming the file, model and field of the first problem.
    """
    folder = Path(directory) if directory is not None else default_pricing_dir()
    if not folder.is_dir():
        raise CatalogError(str(folder), None, None, "no such catalog folder")
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    if not files:
        raise CatalogError(str(folder), None, None, "the catalog folder has no .yaml files")
    contents = [(path, path.read_bytes()) for path in files]
    digest = hashlib.sha256()
    for path, data in contents:
        digest.update(path.name.encode() + b"\0" + data + b"\0")
    key = (str(folder.resolve()), digest.hexdigest())
    if key in _LOADED:  # same bytes, same catalog: parse once per process (the app reruns)
        return _LOADED[key]
    catalog = Catalog(directory=folder, content_hash="")
    seen_ids: dict[tuple[str, str], str] = {}
    for path, data in contents:
        name = path.name
        try:
            doc = load_exact_yaml(data.decode("utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise CatalogError(name, None, None, yaml_problem(exc)) from None
        if not isinstance(doc, dict):
            raise CatalogError(name, None, None, "expected a mapping with provider and models")
        provider = doc.get("provider")
        if not isinstance(provider, str) or not provider or provider != provider.lower():
            raise CatalogError(name, None, "provider", "give the provider id, in lower case")
        models = doc.get("models")
        if not isinstance(models, list):
            raise CatalogError(name, None, "models", "expected a list of models")
        for raw in models:
            model = _parse_model(raw, provider, name, doc.get("source"))
            if (provider, model.id) in seen_ids:
                owner = seen_ids[(provider, model.id)]
                problem = (
                    "two models have this id"
                    if owner == model.id
                    else f"already an alias of {owner}"
                )
                raise CatalogError(
                    name, model.id, "id", f"{model.id!r}: {problem} (provider {provider})"
                )
            seen_ids[(provider, model.id)] = model.id
            for alias in model.aliases:  # the id was checked just above
                owner = seen_ids.get((provider, alias))
                if owner is not None and owner != model.id:
                    raise CatalogError(
                        name,
                        model.id,
                        "aliases",
                        f"{alias!r} already names model {owner} of provider {provider}",
                    )
                seen_ids[(provider, alias)] = model.id
            catalog.models.append(model)
    for model in catalog.models:
        for field_name in ("successor", "fine_tuned_of"):  # each names a model of its provider
            other = getattr(model, field_name)
            if other and (model.provider, other) not in seen_ids:
                raise CatalogError(
                    model.file,
                    model.id,
                    field_name,
                    f"{field_name} {other!r} is not a model of provider {model.provider}",
                )
    catalog.content_hash = digest.hexdigest()
    _LOADED[key] = catalog
    return catalog


_LOADED: dict[tuple[str, str], Catalog] = {}


def write_catalog_files(
    out: str | os.PathLike[str], changed: dict[str, dict[str, Any]], header: str = ""
) -> None:
    """Write the changed catalog documents (file name → document) into `out`, but only after
    the whole catalog they form with the files already there loads cleanly: a refused change
    leaves the folder as it was."""
    if not changed:
        return
    folder = Path(out)
    with tempfile.TemporaryDirectory(prefix="finops-catalog-") as tmp:
        staging = Path(tmp)
        if folder.is_dir():
            for path in list(folder.glob("*.yaml")) + list(folder.glob("*.yml")):
                shutil.copy2(path, staging / path.name)
        for name, doc in changed.items():
            (staging / name).write_text(dump_catalog_yaml(doc, header), encoding="utf-8")
        load_catalog(staging)
        folder.mkdir(parents=True, exist_ok=True)
        for name in changed:
            shutil.copy2(staging / name, folder / name)


# --- revisions in the store --------------------------------------------------------------------


def _price_rows(catalog: Catalog, revision_id: int) -> list[tuple]:
    rows = []
    for m in catalog.models:
        for index, period in enumerate(m.periods):
            # bands are the period's thresholds whatever the tier: a tier without rates for a
            # long-context band leaves such requests unpriced rather than at base rates
            thresholds = {above for (_tier, above) in period.rates}
            for (tier, above), rates in period.rates.items():
                higher = sorted(a for a in thresholds if a > above)
                below = higher[0] if higher else None
                # a time-of-day period splits its standard base rates: peak hours and off-peak
                windows = [(rates, None, None)]
                if period.off_peak_hours and (tier, above) == ("standard", 0):
                    peak = sorted(HOURS_OF_WEEK - period.off_peak_hours)
                    off = sorted(period.off_peak_hours)
                    windows = [
                        (rates, peak, "peak"),
                        (period.off_peak_rates or {}, off, "off_peak"),
                    ]
                for window_rates, hours, window in windows:
                    rows.append(
                        (
                            revision_id,
                            m.provider,
                            m.id,
                            index,
                            period.valid_from,
                            period.valid_to,
                            tier,
                            above,
                            below,
                            period.source,
                            *[
                                (window_rates[c] / _MTOK) if c in window_rates else None
                                for c in TOKEN_CLASSES
                            ],
                            period.usd_per_request,
                            period.usd_per_web_search,
                            hours,
                            window,
                        )
                    )
    return rows


def record_revision(
    con: duckdb.DuckDBPyConnection, catalog: Catalog, *, label: str | None = None
) -> int:
    """Record the catalog as a revision (once per content hash); return its revision id."""
    found = fetch_one(
        con,
        "SELECT revision_id FROM catalog_revisions WHERE content_hash = $h",
        {"h": catalog.content_hash},
    )
    if found:
        if label:
            con.execute(
                "UPDATE catalog_revisions SET label = $l WHERE revision_id = $r",
                {"l": label, "r": found[0]},
            )
        return found[0]
    with transaction(con):
        revision_id = fetch_one(
            con, "SELECT coalesce(max(revision_id), 0) + 1 FROM catalog_revisions"
        )[0]
        prices = _price_rows(catalog, revision_id)
        con.executemany(
            "INSERT INTO catalog_models VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    revision_id,
                    m.provider,
                    m.id,
                    m.kind,
                    m.context_window,
                    list(m.input_modalities),
                    list(m.output_modalities),
                    m.deprecated_on,
                    m.successor,
                    m.file,
                )
                for m in catalog.models
            ],
        )
        con.executemany(
            "INSERT INTO catalog_aliases VALUES (?, ?, ?, ?)",
            [
                (revision_id, m.provider, name, m.id)
                for m in catalog.models
                for name in dict.fromkeys((m.id, *m.aliases))
            ],
        )
        placeholders = ", ".join(["?"] * 23)
        con.executemany(f"INSERT INTO catalog_prices VALUES ({placeholders})", prices)
        con.execute(
            "INSERT INTO catalog_revisions VALUES ($r, $h, now()::TIMESTAMP, $s, $l, $m, $p)",
            {
                "r": revision_id,
                "h": catalog.content_hash,
                "s": str(catalog.directory),
                "l": label,
                "m": len(catalog.models),
                "p": len(prices),
            },
        )
    return revision_id


def sync_catalog(
    con: duckdb.DuckDBPyConnection,
    directory: str | os.PathLike[str] | None = None,
    *,
    label: str | None = None,
) -> tuple[Catalog, int]:
    """Load the catalog folder and record it as a revision (no-op when already recorded)."""
    catalog = load_catalog(directory)
    return catalog, record_revision(con, catalog, label=label)


def resolve_revision(con: duckdb.DuckDBPyConnection, ref: str | int | None) -> int:
    """A revision id from its number, a content-hash prefix, or its label; None → latest."""
    if ref is None:
        row = fetch_one(con, "SELECT max(revision_id) FROM catalog_revisions")
        if row[0] is None:
            msg = "no catalog revision recorded yet: run finops pricing validate, or finops ingest"
            raise LookupError(msg)
        return row[0]
    text = str(ref).strip()
    rows = con.execute(
        "SELECT revision_id FROM catalog_revisions "
        "WHERE CAST(revision_id AS VARCHAR) = $t OR label = $t "
        "   OR (length($t) >= 6 AND starts_with(content_hash, lower($t)))",
        {"t": text},
    ).fetchall()
    if len(rows) != 1:
        known = fetch_one(
            con,
            "SELECT string_agg(CAST(revision_id AS VARCHAR), ', ' ORDER BY revision_id) "
            "FROM catalog_revisions",
        )[0]
        problem = "matches several revisions" if rows else "is not a known catalog revision"
        msg = (
            f"{text!r} {problem} (known revisions: {known or 'none'}; see finops pricing revisions)"
        )
        raise LookupError(msg)
    return rows[0][0]


def list_revisions(con: duckdb.DuckDBPyConnection):
    """Every recorded revision, newest first, as a polars frame."""
    return query_pl(
        con,
        "SELECT revision_id, left(content_hash, 12) AS content_hash, loaded_at, label, "
        "model_count, price_row_count, source FROM catalog_revisions ORDER BY revision_id DESC",
    )


def diff_revisions(con: duckdb.DuckDBPyConnection, rev_a: int, rev_b: int):
    """Price rows added, removed or changed between two revisions (rates per million tokens)."""
    return query_pl(con, read_sql("catalog_diff"), {"rev_a": rev_a, "rev_b": rev_b})
