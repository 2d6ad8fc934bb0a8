"""Contracts: what you actually pay, beside the list price (FOCUS ListCost vs EffectiveCost).

`contracts.yaml` (path via `--contracts` / env FINOPS_CONTRACTS):

    contracts:
      - name: OpenAI enterprise agreement
        provider: openai
        valid_from: 2025-01-01
        valid_to: 2026-01-01            # optional, exclusive
        discount_pct: 10                # provider-wide percentage off list
      - name: Sonnet volume deal
        provider: anthropic
        models: [claude-sonnet-4-5]     # catalog model ids: model-specific terms win
        discount_pct: 15
      - name: gpt-4o negotiated rates
        provider: openai
        models: [gpt-4o]
        usd_per_mtok: {input: 2, output: 8}   # negotiated unit prices replace list rates
      - name: Anthropic commit
        provider: anthropic
        commitment: {monthly_usd: 2000, discount_pct: 20}
      - name: Launch credits
        provider: google
        credits_usd: 500                # used up in date order, month by month

Which term prices a row: the most specific in force that day — model-specific negotiated
rates, then model-specific discount, then provider-wide discount, then a commitment's
discount. Commitment shortfalls (committed spend not used in a month) and credits are
account-level amounts: `contract_summary` reports them by month; they are not spread over
usage rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import yaml

from finops.core.schema import TOKEN_CLASSES
from finops.core.store import beside_store
from finops.core.yamltext import yaml_problem

__all__ = [
    "ContractError",
    "ContractTerm",
    "Contracts",
    "contract_summary",
    "default_contracts_path",
    "install_contracts",
    "load_contracts",
]

_MTOK = Decimal(1_000_000)
_PRIORITY = {"rates": 1, "model_discount": 2, "provider_discount": 3, "commitment": 4}


class ContractError(ValueError):
    """A problem in contracts.yaml, naming the file, the contract and the field."""

    def __init__(
        self, file: str, contract: str | None, field_name: str | None, problem: str
    ) -> None:
        where = (
            file
            + (f", contract {contract}" if contract else "")
            + (f", field {field_name}" if field_name else "")
        )
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class ContractTerm:
    name: str
    provider: str
    valid_from: dt.date
    valid_to: dt.date | None
    models: tuple[str, ...] = ()
    discount_pct: Decimal = Decimal(0)
    rates: dict[str, Decimal] = field(default_factory=dict)  # USD per Mtok
    commitment_monthly_usd: Decimal | None = None
    credits_usd: Decimal | None = None

    @property
    def kind(self) -> str:
        if self.credits_usd is not None:
            return "credits"
        if self.commitment_monthly_usd is not None:
            return "commitment"
        if self.rates:
            return "rates"
        return "model_discount" if self.models else "provider_discount"


@dataclass
class Contracts:
    source: str
    content_hash: str
    terms: list[ContractTerm]


def default_contracts_path(db: str | os.PathLike[str] | None = None) -> Path | None:
    """env FINOPS_CONTRACTS, else a contracts.yaml beside the store (`db`, default FINOPS_DB)."""
    return beside_store("contracts.yaml", db, env="FINOPS_CONTRACTS")


def _decimal(value: Any, err) -> Decimal:
    try:
        out = Decimal(str(value))
    except (InvalidOperation, ValueError):
        err(f"{value!r} is not a number")
    if not out.is_finite() or out < 0:
        err(f"{value!r} must be a number ≥ 0")
    return out


def _date(value: Any, err) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        err(f"{value!r} is not a date (YYYY-MM-DD)")
        raise


def load_contracts(path: str | os.PathLike[str]) -> Contracts:
    """Load and validate contracts.yaml."""
    file = Path(path)
    data = file.read_bytes()
    name = file.name
    try:
        doc = yaml.safe_load(data.decode("utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ContractError(name, None, None, yaml_problem(exc)) from None
    raw_terms = doc.get("contracts") if isinstance(doc, dict) else None
    if not isinstance(raw_terms, list):
        raise ContractError(name, None, "contracts", "expected a list of contracts")
    known = {
        "name",
        "provider",
        "models",
        "valid_from",
        "valid_to",
        "discount_pct",
        "usd_per_mtok",
        "commitment",
        "credits_usd",
    }
    terms = []
    for i, raw in enumerate(raw_terms, start=1):
        label = str(raw.get("name") or f"#{i}") if isinstance(raw, dict) else f"#{i}"

        def err(field_name, problem, label=label):
            raise ContractError(name, label, field_name, problem)

        if not isinstance(raw, dict):
            err(None, "expected a mapping")
        for key in raw:
            if key not in known:
                err(key, f"unknown field; use {', '.join(sorted(known))}")
        if not raw.get("provider"):
            err("provider", "every contract names its provider")
        kinds = [
            k for k in ("discount_pct", "usd_per_mtok", "commitment", "credits_usd") if k in raw
        ]
        if len(kinds) != 1:
            err(None, "give exactly one of discount_pct, usd_per_mtok, commitment, credits_usd")
        valid_from = _date(raw.get("valid_from", "1970-01-01"), lambda m: err("valid_from", m))
        valid_to = (
            _date(raw["valid_to"], lambda m: err("valid_to", m)) if raw.get("valid_to") else None
        )
        if valid_to is not None and valid_to <= valid_from:
            err("valid_to", "valid_to must be after valid_from")
        models = tuple(str(m).lower() for m in raw.get("models") or ())
        term: dict[str, Any] = {}
        if "discount_pct" in raw:
            pct = _decimal(raw["discount_pct"], lambda m: err("discount_pct", m))
            if pct > 100:
                err("discount_pct", "a discount is at most 100%")
            term["discount_pct"] = pct
        elif "usd_per_mtok" in raw:
            rates = raw["usd_per_mtok"]
            if not isinstance(rates, dict) or not rates:
                err("usd_per_mtok", "expected token class: USD per million tokens")
            if not models:
                err("models", "negotiated unit prices apply to named models")
            for cls, value in rates.items():
                if cls not in TOKEN_CLASSES:
                    err(
                        f"usd_per_mtok.{cls}",
                        f"unknown token class; use {', '.join(TOKEN_CLASSES)}",
                    )
                term.setdefault("rates", {})[cls] = _decimal(
                    value, lambda m, c=cls: err(f"usd_per_mtok.{c}", m)
                )
        elif "commitment" in raw:
            c = raw["commitment"]
            if not isinstance(c, dict) or {"monthly_usd", "discount_pct"} - set(c):
                err("commitment", "write {monthly_usd: N, discount_pct: P}")
            term["commitment_monthly_usd"] = _decimal(
                c["monthly_usd"], lambda m: err("commitment.monthly_usd", m)
            )
            term["discount_pct"] = _decimal(
                c["discount_pct"], lambda m: err("commitment.discount_pct", m)
            )
        else:
            term["credits_usd"] = _decimal(raw["credits_usd"], lambda m: err("credits_usd", m))
        terms.append(
            ContractTerm(
                name=label,
                provider=str(raw["provider"]).lower(),
                valid_from=valid_from,
                valid_to=valid_to,
                models=models,
                **term,
            )
        )
    return Contracts(source=str(file), content_hash=hashlib.sha256(data).hexdigest(), terms=terms)


def install_contracts(con: duckdb.DuckDBPyConnection, contracts: Contracts | None) -> None:
    """Fill this connection's contract_terms table (read by priced_usage.sql)."""
    con.execute("DELETE FROM contract_terms")
    if contracts is None:
        return
    rows = []
    term_id = 0
    for term in contracts.terms:
        if term.kind == "credits":
            continue
        factor = (Decimal(100) - term.discount_pct) / Decimal(100)
        per_token = [(term.rates[c] / _MTOK) if c in term.rates else None for c in TOKEN_CLASSES]
        for model in term.models or (None,):
            term_id += 1
            rows.append(
                (
                    term_id,
                    term.name,
                    term.provider,
                    model,
                    term.valid_from,
                    term.valid_to,
                    _PRIORITY[term.kind],
                    factor,
                    bool(term.rates),
                    *per_token,
                )
            )
    if rows:
        placeholders = ", ".join(["?"] * 18)
        con.executemany(f"INSERT INTO contract_terms VALUES ({placeholders})", rows)


def contract_summary(monthly: pl.DataFrame, contracts: Contracts | None) -> pl.DataFrame:
    """Commitment shortfalls and credits by month, from spend by (month, provider).

    `monthly` has month, provider, cost_usd, effective_cost_usd (as `costing.spend` returns).
    Credits are used in month order until exhausted; a commitment's shortfall is the
    committed amount minus that month's effective spend with the provider, when positive.
    """
    out = []
    if contracts is None:
        return pl.DataFrame(
            schema={
                "month": pl.Date,
                "contract": pl.Utf8,
                "kind": pl.Utf8,
                "amount_usd": pl.Decimal(38, 12),
            }
        )
    rows = sorted(monthly.to_dicts(), key=lambda r: r["month"])
    for term in contracts.terms:
        if term.kind == "credits":
            remaining = term.credits_usd
            for r in rows:
                if (
                    r["provider"] != term.provider
                    or r["effective_cost_usd"] is None
                    or remaining <= 0
                ):
                    continue
                if r["month"] < term.valid_from.replace(day=1) or (
                    term.valid_to and r["month"] >= term.valid_to
                ):
                    continue
                used = min(remaining, r["effective_cost_usd"])
                remaining -= used
                out.append(
                    {
                        "month": r["month"],
                        "contract": term.name,
                        "kind": "credits applied",
                        "amount_usd": -used,
                    }
                )
        elif term.kind == "commitment":
            for r in rows:
                if r["provider"] != term.provider:
                    continue
                if r["month"] < term.valid_from.replace(day=1) or (
                    term.valid_to and r["month"] >= term.valid_to
                ):
                    continue
                shortfall = term.commitment_monthly_usd - (r["effective_cost_usd"] or Decimal(0))
                if shortfall > 0:
                    out.append(
                        {
                            "month": r["month"],
                            "contract": term.name,
                            "kind": "commitment shortfall",
                            "amount_usd": shortfall,
                        }
                    )
    return pl.DataFrame(
        out,
        schema={
            "month": pl.Date,
            "contract": pl.Utf8,
            "kind": pl.Utf8,
            "amount_usd": pl.Decimal(38, 12),
        },
    )
