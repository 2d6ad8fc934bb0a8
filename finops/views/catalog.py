"""The price catalog as the app shows it: search, a model's price history, what a catalog
revision changed in dollars on the stored history, and deprecated models still in use."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from finops.pricing.catalog import Catalog
from finops.session.session import Session, catalog_listing

__all__ = [
    "CatalogOverview",
    "RevisionImpact",
    "catalog_overview",
    "revision_impact",
    "search_models",
    "spend_change_by_model",
]


def search_models(
    catalog: Catalog, query: str = "", *, provider: str | None = None, on: dt.date | None = None
) -> pl.DataFrame:
    """Catalog models whose id or an alias contains `query` (any case), with current prices."""
    listing = catalog_listing(catalog, provider=provider, on=on)
    needle = query.strip().lower()
    if not needle:
        return listing
    hits = {
        (m.provider, m.id)
        for m in catalog.models
        if needle in m.id or any(needle in a for a in m.aliases)
    }
    keep = [(p, m) in hits for p, m in zip(listing["provider"], listing["model"], strict=True)]
    return listing.filter(pl.Series(keep, dtype=pl.Boolean))


@dataclass(frozen=True)
class CatalogOverview:
    revision_id: int
    models: int
    providers: int
    revisions: pl.DataFrame  # revision_id, content_hash, loaded_at, label, counts, source
    in_use: pl.DataFrame  # provider, model, cost_usd (last 30 days of data), deprecated_on
    deprecations: pl.DataFrame  # deprecated (or soon) models we used in the last 90 days


def catalog_overview(session: Session, *, today: dt.date | None = None) -> CatalogOverview:
    """The recorded revisions, the models the store uses, and deprecations that concern us.

    "Recent" is the last 30 (spend) and 90 (deprecations) days of data; a model concerns us
    when it was used in those 90 days and its `deprecated_on` is past or within 180 days.
    """
    today = session.day(today)
    last = session.day_span()[1]
    catalog = session.catalog
    by_model = {(m.provider, m.id): m for m in catalog.models}
    empty = pl.DataFrame(
        schema={
            "provider": pl.Utf8,
            "model": pl.Utf8,
            "cost_usd": pl.Decimal(38, 12),
            "last_used": pl.Date,
            "deprecated_on": pl.Date,
            "successor": pl.Utf8,
        }
    )
    in_use = deprecations = empty
    if last is not None:
        days = session.spend(["day", "provider", "model"], from_day=last - dt.timedelta(days=89))
        month_start = last - dt.timedelta(days=29)
        recent = pl.col("day") >= month_start
        # a model whose recent usage has no price shows no cost (NULL), never $0
        unpriced_only = (recent & pl.col("cost_usd").is_null()).any() & ~(
            recent & pl.col("cost_usd").is_not_null()
        ).any()
        used = days.group_by("provider", "model").agg(
            pl.when(unpriced_only)
            .then(None)
            .otherwise(pl.col("cost_usd").filter(recent).sum())
            .alias("cost_usd"),
            pl.col("day").max().alias("last_used"),
        )
        meta = pl.DataFrame(
            [
                {
                    "provider": p,
                    "model": m,
                    "deprecated_on": getattr(by_model.get((p, m)), "deprecated_on", None),
                    "successor": getattr(by_model.get((p, m)), "successor", None),
                }
                for p, m in used.select("provider", "model").iter_rows()
            ],
            schema={
                "provider": pl.Utf8,
                "model": pl.Utf8,
                "deprecated_on": pl.Date,
                "successor": pl.Utf8,
            },
        )
        in_use = (
            used.join(meta, on=["provider", "model"], how="left")
            .select(empty.columns)
            .sort("cost_usd", descending=True, nulls_last=True)
        )
        horizon = today + dt.timedelta(days=180)
        deprecations = in_use.filter(
            pl.col("deprecated_on").is_not_null() & (pl.col("deprecated_on") <= horizon)
        ).sort("deprecated_on")
    return CatalogOverview(
        revision_id=session.revision_id,
        models=len(catalog.models),
        providers=len({m.provider for m in catalog.models}),
        revisions=session.revisions(),
        in_use=in_use,
        deprecations=deprecations,
    )


@dataclass(frozen=True)
class RevisionImpact:
    rev_a: int
    rev_b: int
    total_a_usd: Decimal
    total_b_usd: Decimal
    price_changes: pl.DataFrame  # catalog_diff rows (rates per 1M tokens)
    by_month: pl.DataFrame  # month, cost_a, cost_b, change_usd
    by_model: pl.DataFrame  # provider, model, cost_a, cost_b, change_usd (changed only)
    unpriced_a: int
    unpriced_b: int

    @property
    def change_usd(self) -> Decimal:
        return self.total_b_usd - self.total_a_usd


def _side_by_side(a: pl.DataFrame, b: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    joined = a.select(
        *keys, pl.col("cost_usd").alias("cost_a"), pl.col("unpriced_rows").alias("unpriced_a")
    ).join(
        b.select(
            *keys, pl.col("cost_usd").alias("cost_b"), pl.col("unpriced_rows").alias("unpriced_b")
        ),
        on=keys,
        how="full",
        coalesce=True,
    )
    return joined.with_columns(
        (pl.col("cost_b").fill_null(Decimal(0)) - pl.col("cost_a").fill_null(Decimal(0))).alias(
            "change_usd"
        )
    )


def spend_change_by_model(a: pl.DataFrame, b: pl.DataFrame) -> pl.DataFrame:
    """The same usage priced two ways (`a`, `b`: spend by provider and model, or by month,
    provider and model), side by side per model: provider, model, cost_a, cost_b, change_usd,
    unpriced_a, unpriced_b; only models whose cost or unpriced rows changed, largest change
    first."""
    columns = ["cost_a", "cost_b", "change_usd", "unpriced_a", "unpriced_b"]
    keys = [k for k in ("month", "provider", "model") if k in a.columns]
    joined = _side_by_side(a, b, keys)
    if "month" in keys:
        joined = joined.group_by("provider", "model").agg(pl.col(c).sum() for c in columns)
    return (
        joined.select("provider", "model", *columns)
        .filter((pl.col("change_usd") != 0) | (pl.col("unpriced_a") != pl.col("unpriced_b")))
        .sort(pl.col("change_usd").abs(), descending=True)
    )


def revision_impact(
    session: Session,
    rev_a: int,
    rev_b: int,
    *,
    from_day: dt.date | None = None,
    to_day: dt.date | None = None,
) -> RevisionImpact:
    """What moving from revision `rev_a` to `rev_b` does to the stored history, in dollars:
    every stored day in [from_day, to_day) priced by each revision (effective-dated both
    times), by month and model."""
    span = {"from_day": from_day, "to_day": to_day, "allocation": None}
    a = session.spend(["month", "provider", "model"], revision_id=rev_a, **span)
    b = session.spend(["month", "provider", "model"], revision_id=rev_b, **span)
    by_month = (
        _side_by_side(a, b, ["month", "provider", "model"])
        .group_by("month")
        .agg(pl.col("cost_a").sum(), pl.col("cost_b").sum(), pl.col("change_usd").sum())
        .sort("month")
    )
    by_model = spend_change_by_model(a, b)
    total_a = a["cost_usd"].sum() if a.height else None
    total_b = b["cost_usd"].sum() if b.height else None
    return RevisionImpact(
        rev_a=rev_a,
        rev_b=rev_b,
        total_a_usd=Decimal(total_a or 0),
        total_b_usd=Decimal(total_b or 0),
        price_changes=session.diff_revisions(rev_a, rev_b),
        by_month=by_month,
        by_model=by_model,
        unpriced_a=int(a["unpriced_rows"].sum()),
        unpriced_b=int(b["unpriced_rows"].sum()),
    )
