"""Ownership: `teams.yaml` rules that put every dollar on a team, and shared-cost splits.

Rules are ordered; the first that matches a usage row's attribution keys wins. A rule either
names a team, derives the team from a tag (`team_from_tag`), or splits the usage across teams
(proportionally to their direct spend in the same month, evenly, or by fixed percentages).
Usage no rule claims goes to the explicit `unallocated` team. The map is applied when spend
is read (a view, never a rewrite), so changing it re-allocates history; each distinct map is
recorded as an allocation revision.

    teams:
      - {name: search, owner: ana@example.com, cost_center: CC-101, monthly_budget_usd: 1500}
    rules:
      - {team: search, match: {api_key_id: "key-search-*"}}          # glob
      - {team: support, match: {project_id: {regex: "^support-"}}}   # regex
      - {team_from_tag: team}                                        # the tag's value names the team
      - {split: proportional, match: {api_key_id: key-gateway}, among: [search, support]}
      - {split: {search: 60, support: 40}, match: {project_id: shared}}

Regexes run on a linear-time engine: polars' (the Rust `regex` crate, finite automata, no
backtracking), a dependency already. Python's `re` backtracks, so a pattern such as
`^(a+)+$` against a long id would run for minutes and hold the store; here it takes
microseconds. The price is the syntax without look-around and backreferences, which a
rule is refused for at load, naming the file, rule and field.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import json
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import yaml

from finops.core.store import beside_store, fetch_one, relation, transaction
from finops.core.yamltext import yaml_problem

__all__ = [
    "MATCH_KEYS",
    "OWNER_KEYS",
    "SPLIT_PREFIX",
    "UNALLOCATED",
    "Allocation",
    "AllocationError",
    "Rule",
    "Team",
    "apply_splits",
    "default_teams_path",
    "explain",
    "load_allocation",
    "owned_rows_sql",
    "owner_map",
    "record_allocation",
    "register_owner_map",
]

UNALLOCATED = "unallocated"
#: Attribution keys a rule may match; `tag:<name>` matches a tag's value.
MATCH_KEYS = ("provider", "model", "project_id", "api_key_id", "user_id", "team")
SPLIT_PREFIX = "__split:"
_PLACES = Decimal("0.000000000001")


class AllocationError(ValueError):
    """A problem in teams.yaml, naming the file, the rule (or team) and the field."""

    def __init__(self, file: str, where: str | None, field_name: str | None, problem: str) -> None:
        text = file
        if where:
            text += f", {where}"
        if field_name:
            text += f", field {field_name}"
        super().__init__(f"{text}: {problem}")


@dataclass(frozen=True)
class Team:
    name: str
    owner: str | None = None
    cost_center: str | None = None
    monthly_budget_usd: Decimal | None = None
    viewers: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Matcher:
    key: str  # a MATCH_KEYS entry or "tag:<name>"
    kind: str  # exact | glob | regex
    pattern: str

    def matches(self, value: str | None) -> bool:
        if value is None:
            return False
        if self.kind == "exact":
            return value == self.pattern
        if self.kind == "glob":
            return fnmatch.fnmatchcase(value, self.pattern)
        return _regex_search(self.pattern, [value])[value]


# (pattern, value) -> whether the pattern occurs in the value; owner_map fills it per column
_REGEX_FOUND: dict[tuple[str, str], bool] = {}
_REGEX_FOUND_MAX = 200_000


def _regex_search(pattern: str, values: list[str]) -> dict[str, bool]:
    """Whether `pattern` occurs in each value, on polars' linear-time regex engine.

    One vectorised call for the values not seen before (a call costs ~0.2 ms, a value ~0).
    """
    todo = list(dict.fromkeys(v for v in values if (pattern, v) not in _REGEX_FOUND))
    if todo:
        if len(_REGEX_FOUND) + len(todo) > _REGEX_FOUND_MAX:
            _REGEX_FOUND.clear()
        found = pl.Series(todo, dtype=pl.Utf8).str.contains(pattern).to_list()
        _REGEX_FOUND.update(((pattern, v), bool(f)) for v, f in zip(todo, found, strict=True))
    return {v: _REGEX_FOUND[(pattern, v)] for v in values}


def _check_regex(pattern: str) -> str | None:
    """Why the linear-time engine cannot run this pattern, or None when it can."""
    try:
        pl.Series([""], dtype=pl.Utf8).str.contains(pattern)
    except pl.exceptions.ComputeError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        reason = next((line[7:] for line in lines if line.startswith("error: ")), lines[0])
        return f"bad regex {pattern!r}: {reason}"
    return None


@dataclass(frozen=True)
class Rule:
    index: int  # 1-based position in the file: "rule 3"
    matchers: tuple[_Matcher, ...]
    team: str | None = None
    team_from_tag: str | None = None
    split: str | None = None  # proportional | even | fixed
    weights: tuple[tuple[str, Decimal], ...] = ()  # fixed percentages, or the `among` list
    name: str | None = None

    def matches(self, keys: dict[str, Any]) -> bool:
        return all(m.matches(_key_value(keys, m.key)) for m in self.matchers)

    def describe(self) -> str:
        what = (
            f"team {self.team}"
            if self.team
            else f"team from tag {self.team_from_tag!r}"
            if self.team_from_tag
            else f"{self.split} split"
        )
        conds = ", ".join(f"{m.key} {m.kind} {m.pattern!r}" for m in self.matchers) or "everything"
        return f"rule {self.index}{f' ({self.name})' if self.name else ''}: {conds} → {what}"


@dataclass
class Allocation:
    source: str
    content_hash: str
    teams: dict[str, Team] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    monthly_budget_usd: Decimal | None = None
    # usage no rule claims: "source_team" keeps the team the source states when it is a
    # listed team (a budgets-only map still works); "unallocated" sends it all there
    unmatched: str = "source_team"

    def owner(self, keys: dict[str, Any]) -> tuple[str, Rule | None]:
        """The team for one set of attribution keys, and the rule that decided it."""
        for rule in self.rules:
            if not rule.matches(keys):
                continue
            if rule.team:
                return rule.team, rule
            if rule.team_from_tag:
                value = _key_value(keys, f"tag:{rule.team_from_tag}")
                if value and value in self.teams:
                    return value, rule
                continue  # a tag naming no known team falls through to later rules
            return f"{SPLIT_PREFIX}{rule.index}", rule
        if self.unmatched == "source_team" and keys.get("team") in self.teams:
            return str(keys["team"]), None
        return UNALLOCATED, None


def default_teams_path(db: str | os.PathLike[str] | None = None) -> Path | None:
    """env FINOPS_TEAMS, else a teams.yaml beside the store (`db`, default FINOPS_DB)."""
    return beside_store("teams.yaml", db, env="FINOPS_TEAMS")


def _key_value(keys: dict[str, Any], key: str) -> str | None:
    if key.startswith("tag:"):
        tags = keys.get("tags")
        if isinstance(tags, str):
            try:
                tags = json.loads(tags)
            except ValueError:
                return None
        if not isinstance(tags, dict):
            return None
        value = tags.get(key[4:])
        return None if value is None else str(value)
    value = keys.get(key)
    return None if value is None else str(value)


def _matchers(raw: Any, file: str, where: str) -> tuple[_Matcher, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise AllocationError(file, where, "match", "expected a mapping of key to pattern")
    out = []
    for key, pattern in raw.items():
        if key not in MATCH_KEYS and not str(key).startswith("tag:"):
            known = ", ".join(MATCH_KEYS)
            raise AllocationError(
                file, where, f"match.{key}", f"unknown key; use {known} or tag:<name>"
            )
        if isinstance(pattern, dict):
            if set(pattern) != {"regex"}:
                raise AllocationError(
                    file, where, f"match.{key}", "write {regex: '...'} for a regex"
                )
            problem = _check_regex(str(pattern["regex"]))
            if problem:
                raise AllocationError(file, where, f"match.{key}", problem)
            out.append(_Matcher(key, "regex", str(pattern["regex"])))
        else:
            text = str(pattern)
            kind = "glob" if any(ch in text for ch in "*?[") else "exact"
            out.append(_Matcher(key, kind, text))
    return tuple(out)


def _parse_rule(raw: Any, index: int, file: str, teams: dict[str, Team]) -> Rule:
    where = f"rule {index}"
    if not isinstance(raw, dict):
        raise AllocationError(file, where, None, "expected a mapping")
    known = {"team", "team_from_tag", "split", "match", "among", "name"}
    for key in raw:
        if key not in known:
            raise AllocationError(
                file, where, str(key), f"unknown field; use {', '.join(sorted(known))}"
            )
    kinds = [k for k in ("team", "team_from_tag", "split") if k in raw]
    if len(kinds) != 1:
        raise AllocationError(file, where, None, "give exactly one of team, team_from_tag, split")
    matchers = _matchers(raw.get("match"), file, where)
    name = raw.get("name")
    if "team" in raw:
        team = str(raw["team"])
        if team not in teams:
            raise AllocationError(
                file, where, "team", f"unknown team {team!r}; list it under teams"
            )
        if not matchers:
            raise AllocationError(
                file, where, "match", "a team rule needs a match (or it claims everything)"
            )
        return Rule(index, matchers, team=team, name=name)
    if "team_from_tag" in raw:
        return Rule(index, matchers, team_from_tag=str(raw["team_from_tag"]), name=name)
    split = raw["split"]
    if not matchers:
        raise AllocationError(file, where, "match", "a split needs a match naming the shared key")
    if isinstance(split, dict):
        weights = []
        for team, pct in split.items():
            if str(team) not in teams:
                raise AllocationError(file, where, f"split.{team}", f"unknown team {team!r}")
            try:
                value = Decimal(str(pct))
            except ArithmeticError:
                raise AllocationError(
                    file, where, f"split.{team}", f"{pct!r} is not a percentage"
                ) from None
            if value <= 0:
                raise AllocationError(file, where, f"split.{team}", "percentages must be positive")
            weights.append((str(team), value))
        total = sum(w for _, w in weights)
        if total != 100:
            raise AllocationError(file, where, "split", f"percentages sum to {total}, not 100")
        return Rule(index, matchers, split="fixed", weights=tuple(weights), name=name)
    if split not in ("proportional", "even"):
        raise AllocationError(
            file, where, "split", "use proportional, even, or {team: percent, ...}"
        )
    among = raw.get("among")
    if among is None and split == "even":
        raise AllocationError(file, where, "among", "an even split needs the teams it is among")
    members = []
    for team in among or []:
        if str(team) not in teams:
            raise AllocationError(file, where, "among", f"unknown team {team!r}")
        members.append((str(team), Decimal(1)))
    return Rule(index, matchers, split=split, weights=tuple(members), name=name)


def load_allocation(path: str | os.PathLike[str]) -> Allocation:
    """Load and validate a teams.yaml file."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise AllocationError(str(file), None, None, f"cannot read: {exc.strerror}") from None
    try:
        doc = yaml.safe_load(data.decode("utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise AllocationError(file.name, None, None, yaml_problem(exc)) from None
    name = file.name
    if not isinstance(doc, dict):
        raise AllocationError(name, None, None, "expected a mapping with teams and rules")
    alloc = Allocation(source=str(file), content_hash=hashlib.sha256(data).hexdigest())
    alloc.monthly_budget_usd = _budget(doc.get("monthly_budget_usd"), name, None)
    unmatched = doc.get("unmatched", "source_team")
    if unmatched not in ("source_team", "unallocated"):
        raise AllocationError(name, None, "unmatched", "use source_team or unallocated")
    alloc.unmatched = unmatched
    for i, raw in enumerate(doc.get("teams") or [], start=1):
        if not isinstance(raw, dict) or not raw.get("name"):
            raise AllocationError(name, f"team {i}", "name", "every team needs a name")
        team_name = str(raw["name"])
        if team_name in alloc.teams:
            raise AllocationError(name, f"team {team_name}", "name", "this team is listed twice")
        if team_name == UNALLOCATED or team_name.startswith(SPLIT_PREFIX):
            raise AllocationError(name, f"team {team_name}", "name", "this name is reserved")
        alloc.teams[team_name] = Team(
            name=team_name,
            owner=raw.get("owner"),
            cost_center=raw.get("cost_center"),
            monthly_budget_usd=_budget(raw.get("monthly_budget_usd"), name, f"team {team_name}"),
            viewers=tuple(raw.get("viewers") or ()),
        )
    alloc.rules = [
        _parse_rule(raw, i, name, alloc.teams)
        for i, raw in enumerate(doc.get("rules") or [], start=1)
    ]
    return alloc


def _budget(value: Any, file: str, where: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0:
        raise AllocationError(
            file, where, "monthly_budget_usd", f"{value!r} is not an amount in USD ≥ 0"
        )
    return amount


def record_allocation(con: duckdb.DuckDBPyConnection, alloc: Allocation) -> int:
    """Record the map as an allocation revision (once per content hash); return its id."""
    found = fetch_one(
        con,
        "SELECT revision_id FROM allocation_revisions WHERE content_hash = $h",
        {"h": alloc.content_hash},
    )
    if found:
        return found[0]
    with transaction(con):
        rev = fetch_one(con, "SELECT coalesce(max(revision_id), 0) + 1 FROM allocation_revisions")[
            0
        ]
        con.execute(
            "INSERT INTO allocation_revisions VALUES ($r, $h, now()::TIMESTAMP, $s, $t, $n)",
            {
                "r": rev,
                "h": alloc.content_hash,
                "s": alloc.source,
                "t": len(alloc.teams),
                "n": len(alloc.rules),
            },
        )
    return rev


#: The attribution keys the owner map is keyed by (as the daily rollup keeps them).
OWNER_KEYS = ("provider", "model", "project_id", "api_key_id", "user_id", "team", "tags")


def owner_map(con: duckdb.DuckDBPyConnection, alloc: Allocation) -> pl.DataFrame:
    """One row per distinct set of attribution keys in the rollup, with its owner.

    `owner` is a team, `unallocated`, or `__split:<rule>` for usage a split rule shares out.
    """
    keys = con.sql(f"SELECT DISTINCT {', '.join(OWNER_KEYS)} FROM daily_usage").pl()
    for rule in alloc.rules:  # every regex over its column's distinct values, in one call
        for m in rule.matchers:
            if m.kind == "regex" and m.key in keys.columns:
                _regex_search(m.pattern, keys[m.key].drop_nulls().unique().to_list())
    owners, rules = [], []
    for row in keys.iter_rows(named=True):
        owner, rule = alloc.owner(row)
        owners.append(owner)
        rules.append(rule.index if rule else None)
    return keys.with_columns(
        pl.Series("owner", owners, dtype=pl.Utf8), pl.Series("owner_rule", rules, dtype=pl.Int64)
    )


def register_owner_map(con: duckdb.DuckDBPyConnection, alloc: Allocation) -> None:
    """Make the owner map readable as `owner_map_view` on this connection (owned_rows.sql)."""
    con.register("owner_map_view", owner_map(con, alloc).to_arrow())


def owned_rows_sql(con: duckdb.DuckDBPyConnection, alloc: Allocation, rows_sql: str) -> str:
    """SQL for `rows_sql` with each row's `owner` column from the map (see owned_rows.sql).

    Registers the owner map on the connection as `owner_map_view` for the query to read.
    """

    register_owner_map(con, alloc)
    return relation("owned_rows", rows_to_own=rows_sql)


def explain(alloc: Allocation, keys: dict[str, Any]) -> dict[str, Any]:
    """Which rule claims these keys, and what every earlier rule made of them."""
    owner, rule = alloc.owner(keys)
    trail = []
    for r in alloc.rules:
        trail.append({"rule": r.index, "description": r.describe(), "matches": r.matches(keys)})
        if r is rule:
            break
    return {
        "keys": keys,
        "team": owner if not owner.startswith(SPLIT_PREFIX) else f"split by rule {rule.index}",  # type: ignore[union-attr]
        "rule": rule.describe()
        if rule
        else (
            "no rule matched: the source's team"
            if owner != UNALLOCATED
            else "no rule matched: unallocated"
        ),
        "checked": trail,
    }


def _split_weights(
    alloc: Allocation, rule: Rule, direct_by_team: dict[str, Decimal]
) -> list[tuple[str, Decimal]]:
    if rule.split == "fixed":
        return list(rule.weights)
    if rule.split == "even":
        return list(rule.weights)
    members = [t for t, _ in rule.weights] or [t for t in direct_by_team if t in alloc.teams]
    weights = [(t, direct_by_team.get(t, Decimal(0))) for t in members]
    if sum(w for _, w in weights) <= 0:  # no direct spend to weigh by: split evenly
        return [(t, Decimal(1)) for t in members]
    return [(t, w) for t, w in weights if w > 0]


def _share_out(
    amount: Decimal | None, weights: list[tuple[str, Decimal]], places: Decimal = _PLACES
) -> list[Decimal | None]:
    """Split an amount by weights exactly: the rounding residue goes to the largest share."""
    if amount is None:
        return [None] * len(weights)
    total = sum(w for _, w in weights)
    parts = [(amount * w / total).quantize(places, rounding="ROUND_FLOOR") for _, w in weights]
    residue = amount - sum(parts)
    if residue:
        biggest = max(range(len(parts)), key=lambda i: weights[i][1])
        parts[biggest] += residue
    return parts


def apply_splits(
    frame: pl.DataFrame,
    alloc: Allocation,
    direct_by_month_team: dict[tuple[dt.date, str], Decimal],
    *,
    keys: list[str],
    measures: list[str],
) -> pl.DataFrame:
    """Replace `__split:<rule>` rows (grouped by month and the requested keys) by team rows.

    Money measures are shared out exactly (their sum is conserved to 1e-12 USD, so to the
    cent); token and request counts are shared by the same weights and rounded to whole units
    with the residue on the largest share.
    """
    rules = {r.index: r for r in alloc.rules}
    is_split = pl.col("team").str.starts_with(SPLIT_PREFIX)
    keep = frame.filter(~is_split)
    out_rows = []
    for row in frame.filter(is_split).iter_rows(named=True):
        rule = rules[int(row["team"][len(SPLIT_PREFIX) :])]
        month = row["_month"]
        direct = {t: v for (m, t), v in direct_by_month_team.items() if m == month}
        weights = _split_weights(alloc, rule, direct)
        shares = {
            m: _share_out(
                _as_decimal(row[m]), weights, _PLACES if isinstance(row[m], Decimal) else Decimal(1)
            )
            for m in measures
        }
        for i, (team, _w) in enumerate(weights):
            new = dict(row)
            new["team"] = team
            for m in measures:
                value = shares[m][i]
                new[m] = value if value is None or isinstance(row[m], Decimal) else int(value)
            out_rows.append(new)
    if out_rows:
        expanded = pl.DataFrame(out_rows, schema=frame.schema)
        keep = pl.concat([keep, expanded])
    # a group with no priced usage keeps a NULL cost: never turned into $0 by summing
    sums = [
        pl.when(pl.col(m).is_null().all()).then(None).otherwise(pl.col(m).sum()).alias(m)
        for m in measures
    ]
    return (
        keep.drop("_month")
        .group_by(keys, maintain_order=True)
        .agg(sums)
        .sort(keys, nulls_last=True)
    )


def _as_decimal(value) -> Decimal | None:
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(int(value))
