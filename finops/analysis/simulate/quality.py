"""The cost–quality view: scored models, the frontier, and quality findings for each move."""

from __future__ import annotations

import math
from typing import Any

from finops.analysis.simulate.query import Resolved, Tally, model_label
from finops.analysis.simulate.result import Finding
from finops.analysis.simulate.scenario import Scenario
from finops.pricing.catalog import CatalogModel


def _frontier(points: list[dict[str, Any]]) -> None:
    """Mark points no cheaper point scores as well as (among comparable, unblocked points)."""
    best = -math.inf
    eligible = [p for p in points if p["comparable"] and not p["blocked"]]
    for point in sorted(eligible, key=lambda p: (p["cost_usd"], -p["score"])):
        point["on_frontier"] = point["score"] > best
        best = max(best, point["score"])


def quality_view(
    scenario: Scenario,
    resolved: list[Resolved],
    scores: dict[tuple[str, str], float],
    basis: str,
    eval_models: list[CatalogModel],
    totals: dict[Any, Tally],
    capability,
) -> tuple[dict[str, Any], list[Finding]]:
    """Points (one per scored model, plus today's models), the frontier, and the cheapest
    model that meets the minimum score, all for this scope."""
    targets = {(r.target.provider, r.target.id) for r in resolved}
    # today's model: when every move leaves the same catalog model
    source_ids = {r.source_model for r in resolved}
    current_key = next(
        (key for key in scores if len(source_ids) == 1 and key[1] in source_ids), None
    )
    min_score = scenario.quality.min_score
    points: list[dict[str, Any]] = []
    for model in eval_models:
        key = (model.provider, model.id)
        tally = totals.get(f"eval {model.provider}/{model.id}", Tally())
        blocked = any(f.severity == "block" for r in resolved for f in capability(r.index, model))
        points.append(
            {
                "provider": model.provider,
                "model": model.id,
                "score": scores[key],
                "cost_usd": tally.scenario_cost_usd,
                "comparable": tally.unpriced_scenario_rows == 0,
                "blocked": blocked,
                "on_frontier": False,
                "is_current": key == current_key,
                "is_target": key in targets,
                "meets_min_score": None if min_score is None else scores[key] >= min_score,
            }
        )
    _frontier(points)
    cheapest = None
    if min_score is not None:
        meeting = [
            p for p in points if p["comparable"] and not p["blocked"] and p["score"] >= min_score
        ]
        if meeting:
            best = min(meeting, key=lambda p: (p["cost_usd"], -p["score"]))
            cheapest = {k: best[k] for k in ("provider", "model", "score", "cost_usd")}
    findings = []
    current = next((p for p in points if p["is_current"]), None)
    for r in resolved:
        target = next(
            (p for p in points if (p["provider"], p["model"]) == (r.target.provider, r.target.id)),
            None,
        )
        label = model_label(r.target)
        if target is None:
            findings.append(
                Finding(
                    "quality",
                    "warn",
                    f"no eval score for {label}: quality not compared",
                    r.index,
                    label,
                )
            )
            continue
        if current is not None and target["score"] < current["score"]:
            findings.append(
                Finding(
                    "quality",
                    "warn",
                    f"{label} scores {target['score']:.3g} against {current['score']:.3g} for "
                    f"{current['model']} ({basis})",
                    r.index,
                    label,
                )
            )
        if min_score is not None and target["score"] < min_score:
            findings.append(
                Finding(
                    "quality",
                    "warn",
                    f"{label} scores {target['score']:.3g}, below the minimum {min_score:g} ({basis})",
                    r.index,
                    label,
                )
            )
    view = {
        "basis": basis,
        "task": scenario.quality.task,
        "min_score": min_score,
        "points": sorted(points, key=lambda p: (p["cost_usd"], -p["score"])),
        "cheapest_meeting_min_score": cheapest,
    }
    return view, findings
