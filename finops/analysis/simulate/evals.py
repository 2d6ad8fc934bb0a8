"""Eval results: scores per model and task, read from a CSV and matched to catalog models."""

from __future__ import annotations

import csv
import math
import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from finops.analysis.simulate.query import name_matches, prefer
from finops.analysis.simulate.scenario import ScenarioError
from finops.pricing.catalog import Catalog

# --- eval results ------------------------------------------------------------------------------


def load_evals(path: str | os.PathLike[str]) -> pl.DataFrame:
    """Eval results from a CSV with columns model, task, score (and optionally provider).

    A higher score is better. Errors name the file, row (1-based, header excluded) and field.
    """
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), f"cannot read: {exc.strerror or exc}") from None
    with handle:
        reader = csv.DictReader(handle)
        header = [h.strip().lower() for h in reader.fieldnames or []]
        missing = [c for c in ("model", "task", "score") if c not in header]
        if missing:
            raise ScenarioError(
                f"{path}, field {missing[0]}", "missing column: eval CSVs need model, task, score"
            )
        rows = []
        for number, raw in enumerate(reader, start=1):
            record = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
            for column in ("model", "task"):
                if not record.get(column):
                    raise ScenarioError(f"{path}, row {number}, field {column}", "empty")
            try:
                score = float(record["score"])
            except ValueError:
                score = math.nan
            if not math.isfinite(score):
                raise ScenarioError(
                    f"{path}, row {number}, field score", f"{record['score']!r} is not a number"
                )
            rows.append(
                {
                    "provider": record.get("provider") or None,
                    "model": record["model"],
                    "task": record["task"],
                    "score": score,
                }
            )
    if not rows:
        raise ScenarioError(str(path), "no eval rows")
    return pl.DataFrame(
        rows, schema={"provider": pl.Utf8, "model": pl.Utf8, "task": pl.Utf8, "score": pl.Float64}
    )


def eval_scores(
    evals: pl.DataFrame, catalog: Catalog, task: str | None, source_providers: Sequence[str]
) -> tuple[dict[tuple[str, str], float], list[str], str]:
    """({(provider, model id): score}, notes, what the score is). An eval model several
    providers share is taken from the provider the scope's moved usage comes from, if one."""
    notes: list[str] = []
    frame = evals
    if task is not None:
        frame = frame.filter(pl.col("task") == task)
        if frame.is_empty():
            tasks = ", ".join(sorted(set(evals["task"])))
            raise ScenarioError("quality.task", f"no eval rows for task {task!r} (tasks: {tasks})")
        basis = f"score on {task}"
    else:
        basis = "mean score over tasks"
    all_tasks = set(frame["task"])
    scores: dict[tuple[str, str], list[float]] = defaultdict(list)
    tasks_seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    unknown: set[str] = set()
    for row in frame.iter_rows(named=True):
        provider = row["provider"].lower() if row["provider"] else None
        matches = prefer(name_matches(catalog, row["model"], provider), source_providers)
        if len(matches) != 1:
            unknown.add(row["model"])
            continue
        key = (matches[0].provider, matches[0].id)
        scores[key].append(row["score"])
        tasks_seen[key].add(row["task"])
    if unknown:
        notes.append(
            f"eval models not found (or ambiguous) in the catalog: {', '.join(sorted(unknown))}"
        )
    partial = sorted(f"{p}/{m}" for (p, m), seen in tasks_seen.items() if seen != all_tasks)
    if partial:
        notes.append(f"left out, not scored on every task: {', '.join(partial)}")
    result = {
        key: sum(values) / len(values)
        for key, values in scores.items()
        if tasks_seen[key] == all_tasks
    }
    return result, notes, basis
