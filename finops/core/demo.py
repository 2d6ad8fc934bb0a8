"""A demo company: a deterministic synthetic usage history, and the files around it.

Eight teams run twenty-two workloads on priced models at four providers (plus one fine-tuned
model the catalog cannot know); every team uses at least two models. The history has a
weekday/weekend rhythm, steady growth, a product launch spike in September, model migrations
(one still in progress at the end: support moving from Claude Sonnet 4.5 to Haiku 4.5), price
changes inside the window (o3's June 2025 cut, Gemini 2.5 Flash's GA price), prompt caching,
batch jobs, long-context requests, a gateway key shared by three teams, a little usage no
team owns, and two events in the last two weeks: a two-day spike (growth) and a prompt-bloat
drift (finance-ops' GPT-4.1 agent sends ever longer prompts). Rows are request-grain (gateway
logs) and bucket-grain (daily provider exports). The same seed and days give the same rows.

Around the history, `demo_teams_yaml`, `demo_contracts_yaml` and `DEMO_EVALS_CSV` are the
ownership map (owners, cost centres, budgets, the shared key split by spend), the contracts
(an OpenAI discount and an Anthropic commitment) and eval scores for the simulator that
`finops demo` writes beside the store.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import numpy as np
import polars as pl

__all__ = [
    "DEMO_END",
    "DEMO_EVALS_CSV",
    "DEMO_TEAMS",
    "WORKLOADS",
    "Workload",
    "demo_budgets",
    "demo_contracts_yaml",
    "demo_teams_yaml",
    "generate_demo",
]

#: The demo's last day. Fixed, so the demo (and tests built on it) never drift with the clock.
DEMO_END = dt.date(2025, 12, 31)

DEMO_TEAMS = (
    "search",
    "support",
    "growth",
    "data-platform",
    "ml-research",
    "finance-ops",
    "mobile",
    "security",
)


@dataclass(frozen=True)
class Workload:
    team: str | None  # None: the source names no team (teams.yaml decides)
    provider: str
    model: str
    grain: str  # "request" (one row per call) or "bucket" (one row per day and key)
    requests_per_day: float  # weekday volume at the start of the window
    input_tokens: int  # mean prompt size (all input classes)
    output_tokens: int
    project_id: str
    api_key_id: str
    cache_read_share: float = 0.0  # share of the prompt read from cache
    cache_write_share: float = 0.0  # share of the prompt written to cache (5m)
    cache_write_1h_share: float = 0.0
    batch_share: float = 0.0  # share of requests sent through the batch tier
    long_context_share: float = 0.0  # share of requests with a prompt over 200k tokens
    reasoning_share: float = 0.0  # share of output that is reasoning
    web_search_rate: float = 0.0  # searches per request
    start: dt.date | None = None  # ramps in over `ramp_days` from here
    end: dt.date | None = None  # ramps out over `ramp_days` up to here
    ramp_days: int = 14
    launch: dt.date | None = None  # a 3-day spike of 5x, then 1.6x after
    spike: dt.date | None = None  # a 2-day spike of 6x, then back to normal
    bloat_from: dt.date | None = None  # prompts grow 6% a day from here (prompt-bloat drift)


WORKLOADS: tuple[Workload, ...] = (
    # search: gateway logs, migrating gpt-4o -> gpt-5-mini after GPT-5's launch
    Workload(
        "search",
        "openai",
        "gpt-4o",
        "request",
        160,
        2_400,
        350,
        "proj-search",
        "key-search-gw",
        cache_read_share=0.35,
        end=dt.date(2025, 8, 25),
    ),
    Workload(
        "search",
        "openai",
        "gpt-5-mini",
        "request",
        160,
        2_400,
        600,
        "proj-search",
        "key-search-gw",
        cache_read_share=0.4,
        reasoning_share=0.4,
        start=dt.date(2025, 8, 11),
    ),
    # support: Claude with heavy prompt caching; moves Haiku 3.5 -> Sonnet 4 -> Sonnet 4.5
    Workload(
        "support",
        "anthropic",
        "claude-3-5-haiku-20241022",
        "bucket",
        1_200,
        5_000,
        400,
        "support-bot",
        "key-support",
        cache_read_share=0.6,
        cache_write_share=0.1,
        end=dt.date(2025, 6, 9),
    ),
    Workload(
        "support",
        "anthropic",
        "claude-sonnet-4-20250514",
        "bucket",
        900,
        6_000,
        450,
        "support-bot",
        "key-support",
        cache_read_share=0.7,
        cache_write_share=0.08,
        cache_write_1h_share=0.02,
        start=dt.date(2025, 5, 26),
        end=dt.date(2025, 10, 20),
    ),
    Workload(
        "support",
        "anthropic",
        "claude-sonnet-4-5-20250929",
        "bucket",
        900,
        6_000,
        450,
        "support-bot",
        "key-support",
        cache_read_share=0.72,
        cache_write_share=0.07,
        cache_write_1h_share=0.02,
        start=dt.date(2025, 10, 6),
        end=dt.date(2026, 2, 14),  # moving to Haiku 4.5: half way through at the demo's end
        ramp_days=60,
    ),
    # growth: a product launch in September
    Workload(
        "growth",
        "google",
        "gemini-2.5-flash",
        "request",
        120,
        1_800,
        500,
        "growth-app",
        "key-growth",
        start=dt.date(2025, 4, 17),
        launch=dt.date(2025, 9, 9),
    ),
    # data-platform: nightly batch enrichment and embeddings
    Workload(
        "data-platform",
        "openai",
        "gpt-4o-mini",
        "bucket",
        6_000,
        1_200,
        200,
        "etl",
        "key-etl",
        batch_share=0.8,
    ),
    Workload(
        "data-platform",
        "openai",
        "text-embedding-3-small",
        "bucket",
        20_000,
        700,
        0,
        "etl",
        "key-etl",
    ),
    # ml-research: reasoning models, a fine-tuned model the catalog cannot know
    Workload(
        "ml-research",
        "openai",
        "o3",
        "request",
        25,
        9_000,
        6_000,
        "research",
        "key-research",
        reasoning_share=0.8,
        cache_read_share=0.2,
        web_search_rate=0.3,
        start=dt.date(2025, 4, 16),
    ),
    Workload(
        "ml-research",
        "openai",
        "ft:gpt-4o-mini-2024-07-18:acme::b7x9q2",
        "bucket",
        400,
        900,
        150,
        "research",
        "key-research",
    ),
    # finance-ops: long documents on Gemini 2.5 Pro, some past the 200k long-context threshold
    Workload(
        "finance-ops",
        "google",
        "gemini-2.5-pro",
        "request",
        30,
        40_000,
        1_500,
        "fin-docs",
        "key-finance",
        long_context_share=0.15,
        reasoning_share=0.5,
    ),
    # mobile: in-app assistant on Bedrock
    Workload(
        "mobile",
        "aws-bedrock",
        "amazon.nova-pro-v1:0",
        "bucket",
        2_500,
        1_500,
        300,
        "mobile-app",
        "arn:aws:iam::123456789012:role/mobile-assistant",
    ),
    Workload(
        "mobile",
        "aws-bedrock",
        "us.amazon.nova-lite-v1:0",
        "bucket",
        1_500,
        1_200,
        250,
        "mobile-app",
        "arn:aws:iam::123456789012:role/mobile-assistant",
        start=dt.date(2025, 6, 1),
    ),
    # security: log triage
    Workload(
        "security",
        "anthropic",
        "claude-3-5-haiku-20241022",
        "bucket",
        3_000,
        3_000,
        150,
        "sec-triage",
        "key-security",
        cache_read_share=0.5,
        cache_write_share=0.05,
        batch_share=0.3,
    ),
    Workload(
        "security",
        "aws-bedrock",
        "meta.llama3-3-70b-instruct-v1:0",
        "bucket",
        800,
        2_000,
        300,
        "sec-triage",
        "arn:aws:iam::123456789012:role/sec-triage",
    ),
    # --- appended (earlier workloads keep their random draws, so their rows do not change) ---
    # search: hard queries go to GPT-5
    Workload(
        "search",
        "openai",
        "gpt-5",
        "request",
        12,
        4_000,
        900,
        "proj-search",
        "key-search-gw",
        cache_read_share=0.3,
        reasoning_share=0.5,
        start=dt.date(2025, 9, 1),
    ),
    # support: the migration in progress, Sonnet 4.5 -> Haiku 4.5 from December
    Workload(
        "support",
        "anthropic",
        "claude-haiku-4-5",
        "bucket",
        900,
        6_000,
        450,
        "support-bot",
        "key-support",
        cache_read_share=0.72,
        cache_write_share=0.07,
        start=dt.date(2025, 12, 1),
        ramp_days=60,
    ),
    # growth: a campaign generator on GPT-4.1 mini, part of the September launch, with a
    # two-day spike in late December
    Workload(
        "growth",
        "openai",
        "gpt-4.1-mini",
        "bucket",
        400,
        2_500,
        600,
        "growth-app",
        "key-growth",
        start=dt.date(2025, 3, 1),
        launch=dt.date(2025, 9, 9),
        spike=dt.date(2025, 12, 18),
    ),
    # finance-ops: a GPT-4.1 agent whose prompts keep growing in the last two weeks
    Workload(
        "finance-ops",
        "openai",
        "gpt-4.1",
        "bucket",
        250,
        8_000,
        700,
        "fin-docs",
        "key-finance",
        cache_read_share=0.3,
        bloat_from=dt.date(2025, 12, 17),
    ),
    # a gateway key three teams share: teams.yaml splits it by their direct spend
    Workload(
        None,
        "openai",
        "gpt-4o-mini",
        "bucket",
        4_000,
        1_500,
        300,
        "platform-gateway",
        "key-shared-gateway",
    ),
    # a sandbox key nobody claims: unallocated
    Workload(
        None,
        "openai",
        "gpt-4o-mini",
        "bucket",
        400,
        1_000,
        200,
        "sandbox",
        "key-sandbox-7",
    ),
)


def _volume(w: Workload, days: np.ndarray, first: dt.date, rng: np.random.Generator) -> np.ndarray:
    """Expected requests per day: growth, weekly rhythm, ramps, launch, noise."""
    t = np.array([(d - first).days for d in days], dtype=float)
    weekday = np.array([d.weekday() for d in days])
    level = w.requests_per_day * (1.025 ** (t / 7.0))  # ~2.5% a week
    level *= np.where(weekday >= 5, 0.42, 1.0)
    if w.start is not None:
        since = np.array([(d - w.start).days for d in days], dtype=float)
        level *= np.clip((since + 1) / w.ramp_days, 0.0, 1.0)
    if w.end is not None:
        until = np.array([(w.end - d).days for d in days], dtype=float)
        level *= np.clip(until / w.ramp_days, 0.0, 1.0)
    if w.launch is not None:
        since = np.array([(d - w.launch).days for d in days])
        level *= np.where((since >= 0) & (since < 3), 5.0, np.where(since >= 3, 1.6, 1.0))
    if w.spike is not None:
        since = np.array([(d - w.spike).days for d in days])
        level *= np.where((since >= 0) & (since < 2), 6.0, 1.0)
    return level * rng.lognormal(0.0, 0.08, size=len(days))


def _split_prompt(w: Workload, prompt: np.ndarray) -> dict[str, np.ndarray]:
    cache_read = np.floor(prompt * w.cache_read_share)
    cache_5m = np.floor(prompt * w.cache_write_share)
    cache_1h = np.floor(prompt * w.cache_write_1h_share)
    return {
        "input_tokens": prompt - cache_read - cache_5m - cache_1h,
        "cache_read_tokens": cache_read,
        "cache_write_5m_tokens": cache_5m,
        "cache_write_1h_tokens": cache_1h,
    }


def _prompt_tokens(w: Workload, day: dt.date) -> float:
    """The mean prompt on `day`: it grows 6% a day once a prompt-bloat drift starts."""
    if w.bloat_from is None or day < w.bloat_from:
        return float(w.input_tokens)
    return w.input_tokens * 1.06 ** ((day - w.bloat_from).days + 1)


def _request_rows(w: Workload, day: dt.date, n: int, rng: np.random.Generator) -> dict:
    mean = _prompt_tokens(w, day)
    prompt = np.maximum(50, rng.lognormal(np.log(mean), 0.6, size=n)).round()
    if w.long_context_share:
        is_long = rng.random(n) < w.long_context_share
        prompt = np.where(is_long, rng.integers(210_000, 900_000, size=n), prompt)
    output = (
        np.maximum(1, rng.lognormal(np.log(max(w.output_tokens, 1)), 0.5, size=n)).round()
        if w.output_tokens
        else np.zeros(n)
    )
    seconds = np.sort(rng.integers(0, 86_400, size=n))
    starts = [dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=int(s)) for s in seconds]
    tier = np.where(rng.random(n) < w.batch_share, "batch", "standard")
    rows = {
        "period_start": starts,
        "period_end": [None] * n,
        "requests": np.ones(n),
        "output_tokens": output,
        "reasoning_tokens": np.floor(output * w.reasoning_share)
        if w.reasoning_share
        else [None] * n,
        "web_search_requests": (
            rng.poisson(w.web_search_rate, size=n) if w.web_search_rate else [None] * n
        ),
        "service_tier": tier,
        "request_id": [f"req_{w.team}_{day:%Y%m%d}_{i:05d}_{w.model[:12]}" for i in range(n)],
        **_split_prompt(w, prompt),
    }
    return rows


def _bucket_rows(w: Workload, day: dt.date, requests: float, rng: np.random.Generator) -> dict:
    rows: dict[str, list] = {}
    tiers = [("standard", 1.0 - w.batch_share), ("batch", w.batch_share)]
    for tier, share in tiers:
        n = round(requests * share)
        if n <= 0:
            continue
        prompt = np.array([n * _prompt_tokens(w, day) * rng.lognormal(0, 0.05)]).round()
        output = float(n * w.output_tokens) * rng.lognormal(0, 0.05) if w.output_tokens else 0.0
        parts = _split_prompt(w, prompt)
        values = {
            "period_start": dt.datetime.combine(day, dt.time()),
            "period_end": dt.datetime.combine(day + dt.timedelta(days=1), dt.time()),
            "requests": float(n),
            "output_tokens": round(output) if w.output_tokens else None,
            "reasoning_tokens": None,
            "web_search_requests": None,
            "service_tier": tier,
            "request_id": None,
            **{k: float(v[0]) for k, v in parts.items()},
        }
        for key, value in values.items():
            rows.setdefault(key, []).append(value)
    return rows


def generate_demo(days: int = 270, seed: int = 7, end: dt.date = DEMO_END) -> pl.DataFrame:
    """The demo history as canonical usage rows (one frame, ready to ingest)."""
    if days < 1:
        msg = "days must be at least 1"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    first = end - dt.timedelta(days=days - 1)
    calendar = np.array([first + dt.timedelta(days=i) for i in range(days)])
    frames = []
    for w in WORKLOADS:
        volume = _volume(w, calendar, first, rng)
        cols: dict[str, list] = {}
        for day, expected in zip(calendar, volume):
            if expected < 0.5:
                continue
            if w.grain == "request":
                rows = _request_rows(w, day, int(rng.poisson(expected)), rng)
            else:
                rows = _bucket_rows(w, day, expected, rng)
            for key, value in rows.items():
                cols.setdefault(key, []).extend(list(value) if not np.isscalar(value) else [value])
        if not cols:
            continue
        n = len(cols["period_start"])
        frame = pl.DataFrame(
            {
                "period_start": pl.Series(cols["period_start"], dtype=pl.Datetime("us")),
                "period_end": pl.Series(cols["period_end"], dtype=pl.Datetime("us")),
                "provider": [w.provider] * n,
                "model": [w.model] * n,
                "requests": pl.Series(cols["requests"], dtype=pl.Float64).cast(pl.Int64),
                **{
                    k: pl.Series(cols[k], dtype=pl.Float64).cast(pl.Int64)
                    for k in (
                        "input_tokens",
                        "cache_read_tokens",
                        "cache_write_5m_tokens",
                        "cache_write_1h_tokens",
                        "output_tokens",
                        "reasoning_tokens",
                        "web_search_requests",
                    )
                },
                "service_tier": cols["service_tier"],
                "project_id": [w.project_id] * n,
                "api_key_id": [w.api_key_id] * n,
                "user_id": None,
                "team": pl.Series([w.team] * n, dtype=pl.Utf8),
                "tags": [json.dumps({"env": "prod", "cost_center": f"cc-{w.team or 'shared'}"})]
                * n,
                "request_id": cols["request_id"],
            },
            strict=False,
        )
        frames.append(frame)
    out = pl.concat(frames, how="vertical_relaxed").sort("period_start", "team", "model")
    # tokens not used by a workload are "not reported" (NULL), not zero
    for name in ("cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens"):
        out = out.with_columns(
            pl.when(pl.col(name) == 0).then(None).otherwise(pl.col(name)).alias(name)
        )
    users = rng.integers(1, 60, size=out.height)
    return out.with_columns(
        pl.when(pl.col("request_id").is_not_null())
        .then(pl.format("user-{}", pl.Series(users)))
        .otherwise(None)
        .alias("user_id")
    )


# --- the files around the history ------------------------------------------------------------

#: Owner, cost centre and the source project each demo team's usage comes from.
_TEAM_FACTS = {
    "search": ("ana.silva@acme.example", "CC-1010", "proj-search"),
    "support": ("ben.okafor@acme.example", "CC-1020", "support-bot"),
    "growth": ("chloe.martin@acme.example", "CC-1030", "growth-app"),
    "data-platform": ("dev.patel@acme.example", "CC-2010", "etl"),
    "ml-research": ("eva.novak@acme.example", "CC-2020", "research"),
    "finance-ops": ("farid.haddad@acme.example", "CC-3010", "fin-docs"),
    "mobile": ("grace.kim@acme.example", "CC-1040", "mobile-app"),
    "security": ("hugo.lindqvist@acme.example", "CC-3020", "sec-triage"),
}
#: The team whose budget the demo sets below its last month: over budget.
OVER_BUDGET_TEAM = "growth"
_SHARED_KEY_TEAMS = ("search", "support", "growth")


def _round_to(value: Decimal, step: int, *, up: bool) -> Decimal:
    units = (value / step).to_integral_value(rounding=ROUND_CEILING if up else ROUND_FLOOR)
    return max(units, Decimal(1)) * step


def demo_budgets(
    last_month: dict[str, Decimal], month_before: dict[str, Decimal]
) -> dict[str | None, Decimal]:
    """Monthly budgets from two months of spend per team (None: the company's budget).

    Each team gets 20% over the larger of its two months, rounded up to $50 — except
    `OVER_BUDGET_TEAM`, whose budget is 92% of its last month rounded down to $50, so it is
    over budget that month. The company budget is 10% over the last month, rounded up to $100.

    >>> demo_budgets({"growth": Decimal(1000), "search": Decimal(90)}, {"search": Decimal(100)})
    {'growth': Decimal('900'), 'search': Decimal('150'), None: Decimal('1200')}
    """
    budgets: dict[str | None, Decimal] = {}
    for team in sorted(set(last_month) | set(month_before)):
        last, before = last_month.get(team, Decimal(0)), month_before.get(team, Decimal(0))
        if team == OVER_BUDGET_TEAM:
            budgets[team] = _round_to(last * Decimal("0.92"), 50, up=False)
        else:
            budgets[team] = _round_to(max(last, before) * Decimal("1.2"), 50, up=True)
    budgets[None] = _round_to(sum(last_month.values(), Decimal(0)) * Decimal("1.1"), 100, up=True)
    return budgets


def demo_teams_yaml(budgets: dict[str | None, Decimal] | None = None) -> str:
    """The demo's teams.yaml: owners, cost centres, budgets, rules (shared key, unallocated)."""

    def budget(team: str | None) -> str:
        value = (budgets or {}).get(team)
        return "" if value is None else f", monthly_budget_usd: {value}"

    lines = [
        "# The demo company's ownership map (written by `finops demo`; edit freely).",
        "# Rules are ordered: the first that matches a usage row puts it on a team.",
    ]
    if budgets and budgets.get(None) is not None:
        lines.append(f"monthly_budget_usd: {budgets[None]}")
    lines += ["unmatched: unallocated", "teams:"]
    for team, (owner, centre, _) in _TEAM_FACTS.items():
        lines.append(f"  - {{name: {team}, owner: {owner}, cost_center: {centre}{budget(team)}}}")
    lines += [
        "rules:",
        "  # the platform gateway's key is shared: split by each team's direct spend that month",
        (
            "  - {split: proportional, match: {api_key_id: key-shared-gateway}, "
            f"among: [{', '.join(_SHARED_KEY_TEAMS)}]}}"
        ),
    ]
    for team, (_, _, project) in _TEAM_FACTS.items():
        lines.append(f"  - {{team: {team}, match: {{project_id: {project}}}}}")
    lines.append("  # the sandbox project matches no rule: its spend is unallocated")
    return "\n".join(lines) + "\n"


def demo_contracts_yaml(anthropic_commit_usd: Decimal) -> str:
    """The demo's contracts.yaml: an OpenAI discount and an Anthropic monthly commitment."""
    return (
        "# The demo company's contracts (written by `finops demo`; edit freely).\n"
        "contracts:\n"
        "  - name: OpenAI enterprise agreement\n"
        "    provider: openai\n"
        "    valid_from: 2025-01-01\n"
        "    discount_pct: 8\n"
        "  - name: Anthropic committed spend\n"
        "    provider: anthropic\n"
        "    valid_from: 2025-01-01\n"
        f"    commitment: {{monthly_usd: {anthropic_commit_usd}, discount_pct: 12}}\n"
    )


#: Eval scores (higher is better) the simulator weighs savings against: two tasks the demo's
#: teams run, scored on the models they use and the ones they might move to.
DEMO_EVALS_CSV = """provider,model,task,score
anthropic,claude-sonnet-4-5-20250929,support-answers,0.91
anthropic,claude-haiku-4-5,support-answers,0.86
anthropic,claude-3-5-haiku-20241022,support-answers,0.78
openai,gpt-5-mini,support-answers,0.85
openai,gpt-4.1-mini,support-answers,0.80
openai,gpt-4o-mini,support-answers,0.74
google,gemini-2.5-flash,support-answers,0.83
google,gemini-2.5-flash-lite,support-answers,0.72
openai,gpt-4o,search-ranking,0.82
openai,gpt-5,search-ranking,0.90
openai,gpt-5-mini,search-ranking,0.86
openai,gpt-5-nano,search-ranking,0.74
openai,gpt-4.1-mini,search-ranking,0.79
google,gemini-2.5-flash,search-ranking,0.81
anthropic,claude-haiku-4-5,search-ranking,0.83
"""
