"""What should wake someone up: budget thresholds, anomalies, unallocated and unpriced spend.

`evaluate_alerts` gathers everything that fires on one day ("today": the last day with data
unless given); a scheduler runs `finops alerts` and acts on its exit code (1 when anything
fires). `post_webhook` sends them to a Slack-compatible incoming webhook over https, with
bounded retries and backoff inside one overall deadline; only a 2xx answer counts as sent.

What fires:

* **budget** — month-to-date spend of a team (or the total) at or above a threshold of its
  monthly budget (default 80% warning, 100% critical);
* **forecast** — the projected month-end total above the budget while actual spend is not;
* **anomaly** — findings of `finops.analysis.anomalies` on the last `anomaly_days` days (spikes,
  unit-cost drift, first use of a model) and models past or near their deprecation date;
* **unallocated** — the `unallocated` team's share of month-to-date spend above a limit;
* **unpriced** — usage this month the catalog cannot price (never counted as $0).
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import polars as pl

from finops.analysis.anomalies import detect_anomalies
from finops.analysis.budgets import BASIS_EFFECTIVE, Budgets, budget_status, spend_in_cents
from finops.core import format as fmt

if TYPE_CHECKING:
    from finops.analysis.anomalies import AnomalyConfig
    from finops.session.session import Session

__all__ = [
    "ALERT_KINDS",
    "Alert",
    "WebhookError",
    "alerts_frame",
    "check_webhook_url",
    "evaluate_alerts",
    "post_webhook",
    "slack_payload",
]

ALERT_KINDS = ("budget", "forecast", "anomaly", "unallocated", "unpriced")
_SEVERITY_ORDER = {"critical": 0, "warning": 1}
_SLACK_MAX_ALERTS = 45  # Slack allows 50 blocks per message; header and footer take two
_SLACK_MAX_TEXT = 2900  # a section's text is limited to 3000 characters


@dataclass(frozen=True)
class Alert:
    """One thing that fires. `amount_usd` is the money it is about (spend, impact, ...)."""

    day: dt.date
    kind: str  # one of ALERT_KINDS
    severity: str  # critical | warning
    scope: str  # "team search", "total", "model gpt-4o", "api_key key-1"
    message: str
    amount_usd: Decimal | None = None
    level: int = 0  # a budget alert's threshold crossed (percent): 100 is worse than 80
    topic: str = ""  # within kind and scope, which finding (an anomaly's check and model)


def _money(value: Decimal | float | None) -> str:
    return fmt.usd(None if value is None else Decimal(value))


def _basis(row: dict[str, Any]) -> str:
    """(effective cost; $X at list) when contracts make the judged amount differ from list."""
    if row["basis"] != BASIS_EFFECTIVE:
        return ""
    return f" (effective cost; {_money(row['list_usd'])} at list)"


def _budget_alerts(
    status: pl.DataFrame, thresholds_pct: Sequence[int], day: dt.date
) -> list[Alert]:
    out = []
    for r in status.filter(pl.col("budget_usd").is_not_null()).iter_rows(named=True):
        scope = "total" if r["scope"] == "total" else f"team {r['team']}"
        budget, actual = r["budget_usd"], r["actual_usd"]
        used = r["used_pct"]  # of the exact spend, as the status is judged
        crossed = [t for t in thresholds_pct if used is not None and used >= t]
        if crossed:
            top = max(crossed)
            out.append(
                Alert(
                    day=day,
                    kind="budget",
                    severity="critical" if top >= 100 else "warning",
                    scope=scope,
                    message=(
                        f"{scope}: {_money(actual)} spent{_basis(r)} in {r['month']:%B %Y} to "
                        f"{r['today']}, "
                        f"{used:.0f}% of its {_money(budget)} budget (threshold {top}%)"
                        + (
                            f"; ran out on {r['runs_out_on']}"
                            if top >= 100 and r["runs_out_on"]
                            else ""
                        )
                    ),
                    amount_usd=Decimal(actual),
                    level=top,
                )
            )
        projected = r["projected_usd"]
        if (used is None or used < 100) and projected is not None and budget and projected > budget:
            interval = (
                f" (80%: {_money(r['projected_lo80_usd'])}–{_money(r['projected_hi80_usd'])})"
                if r["projected_lo80_usd"] is not None
                else ""
            )
            runs_out = f", runs out around {r['runs_out_on']}" if r["runs_out_on"] else ""
            out.append(
                Alert(
                    day=day,
                    kind="forecast",
                    severity="warning",
                    scope=scope,
                    message=(
                        f"{scope}: projected {_money(projected)}{interval}"
                        f"{' in effective cost' if r['basis'] == BASIS_EFFECTIVE else ''} "
                        "by month end against a "
                        f"{_money(budget)} budget{runs_out} [{r['projection']}]"
                    ),
                    amount_usd=Decimal(projected) - budget,
                )
            )
    return out


def _anomaly_alerts(found: pl.DataFrame) -> list[Alert]:
    out = []
    for r in found.iter_rows(named=True):
        scope = f"{r['scope']} {r['key']}"
        if r["check"] == "spike":
            text = (
                f"{scope}: spend spike on {r['day']}: {_money(r['actual'])} against "
                f"{_money(r['expected'])} expected (+{_money(r['impact_usd'])}: volume "
                f"{_money(r['volume_usd'])}, price {_money(r['price_usd'])}, mix {_money(r['mix_usd'])})"
            )
        elif r["check"] == "drift":
            text = f"{scope} · {r['model']}: {r['detail']}; +{_money(r['impact_usd'])}"
        elif r["check"] == "new_model":
            text = f"{scope}: {r['model']} used for the first time on {r['day']} ({r['detail']})"
        else:
            text = f"model {r['model']}: {r['detail']} ({_money(r['impact_usd'])} in 30 days)"
        severity = "critical" if r["check"] == "deprecation" and r["actual"] <= 0 else "warning"
        topic = " ".join(str(r.get(k) or "") for k in ("check", "metric", "model")).strip()
        out.append(Alert(r["day"], "anomaly", severity, scope, text, r["impact_usd"], topic=topic))
    return out


def evaluate_alerts(
    session: Session,
    *,
    budgets: Budgets | None = None,
    today: dt.date | None = None,
    anomaly_days: int = 1,
    unallocated_limit_pct: Decimal | float | None = Decimal(10),
    budget_thresholds_pct: Sequence[int] = (80, 100),
    anomaly_config: AnomalyConfig | None = None,
) -> list[Alert]:
    """Everything that fires on `today` (default: the last day with data), worst first.

    `unallocated_limit_pct=None` turns the unallocated check off; budgets come from
    :func:`finops.analysis.budgets.load_budgets` (no budgets, no budget alerts).
    """

    day = session.today(today)
    if day is None:
        return []
    first = day.replace(day=1)
    alerts: list[Alert] = []
    if budgets is not None and (budgets.total_usd is not None or budgets.teams):
        status = spend_in_cents(budget_status(session, budgets, today=day))
        alerts += _budget_alerts(status, budget_thresholds_pct, day)
    found = detect_anomalies(session, days=anomaly_days, today=day, config=anomaly_config)
    alerts += _anomaly_alerts(found)
    month = {"from_day": first, "to_day": day + dt.timedelta(days=1)}
    if unallocated_limit_pct is not None:
        by_team = session.spend(["team"], **month)
        total = Decimal(by_team["cost_usd"].sum() or 0)
        unowned = by_team.filter(pl.col("team") == "unallocated")["cost_usd"].sum()
        share = Decimal(unowned or 0) / total * 100 if total else Decimal(0)
        if share > Decimal(str(unallocated_limit_pct)):
            alerts.append(
                Alert(
                    day,
                    "unallocated",
                    "warning",
                    "team unallocated",
                    f"{share:.1f}% of {first:%B %Y} spend ({_money(unowned)} of {_money(total)}) "
                    f"has no owner, above the {unallocated_limit_pct}% limit; add rules to teams.yaml",
                    Decimal(unowned or 0),
                )
            )
    missing = session.unpriced(**month)
    if not missing.is_empty():
        models = ", ".join(dict.fromkeys(missing["model"].to_list()[:5]))
        size = fmt.rows_and_tokens(
            int(missing["rows"].sum()), int(missing["tokens"].sum()), row_noun="usage row"
        )
        alerts.append(
            Alert(
                day,
                "unpriced",
                "warning",
                "catalog",
                f"{size} in {first:%B %Y} have no price (not in any total): {models}; "
                "see finops unpriced",
            )
        )
    kinds = {k: i for i, k in enumerate(ALERT_KINDS)}
    return sorted(alerts, key=lambda a: (_SEVERITY_ORDER[a.severity], kinds[a.kind]))


def alerts_frame(alerts: Sequence[Alert]) -> pl.DataFrame:
    """Alerts as a frame (day, kind, severity, scope, message, amount_usd)."""
    return pl.DataFrame(
        [asdict(a) for a in alerts],
        schema={
            "day": pl.Date(),
            "kind": pl.Utf8(),
            "severity": pl.Utf8(),
            "scope": pl.Utf8(),
            "message": pl.Utf8(),
            "amount_usd": pl.Decimal(38, 2),
        },
    )


# -- Slack-compatible webhooks ----------------------------------------------------------


def slack_payload(
    alerts: Sequence[Alert], *, source: str | None = None, states: Sequence[str] | None = None
) -> dict[str, Any]:
    """A Slack incoming-webhook message: `text` (the fallback) and `blocks`.

    `states` (one per alert: new, worse, still firing, resolved; see
    `finops.analysis.alert_state`) are said in the summary and on each alert.
    """
    critical = sum(
        a.severity == "critical"
        for a, s in zip(alerts, states or [""] * len(alerts), strict=True)
        if s != "resolved"
    )
    day = max((a.day for a in alerts), default=None)
    summary = f"finops: {len(alerts)} alert{'s' * (len(alerts) != 1)}"
    if states:
        counts = {s: list(states).count(s) for s in dict.fromkeys(states)}
        summary = "finops: " + ", ".join(f"{n} {s}" for s, n in counts.items())
    if critical:
        summary += f" ({critical} critical)"
    if day:
        summary += f" for {day}"
    tags = [f"[{s}] " for s in states] if states else [""] * len(alerts)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": summary[:150]}}
    ]
    for a, tag in zip(alerts[:_SLACK_MAX_ALERTS], tags, strict=False):
        icon = ":red_circle:" if a.severity == "critical" else ":warning:"
        if tag == "[resolved] ":
            icon = ":white_check_mark:"
        text = f"{icon} {tag}*{a.kind}* · {a.scope}\n{a.message}"
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": text[:_SLACK_MAX_TEXT]}}
        )
    more = len(alerts) - _SLACK_MAX_ALERTS
    footer = [f"…and {more} more (run finops alerts)" if more > 0 else None, source]
    footer_text = " · ".join(x for x in footer if x)
    if footer_text:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer_text}]})
    lines = [summary] + [
        f"{tag}[{a.severity}] {a.message}"
        for a, tag in zip(alerts[:_SLACK_MAX_ALERTS], tags, strict=False)
    ]
    return {"text": "\n".join(lines)[:_SLACK_MAX_TEXT], "blocks": blocks}


class WebhookError(RuntimeError):
    """The webhook could not be delivered (after retries, or a client error)."""


def _redacted(url: str) -> str:
    """scheme://host[:port]/… : a Slack webhook's path is its secret, never printed."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.path not in ("", "/") else url


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a delivery: following a 302 would turn the POST into a
    GET without the body, so the redirect is reported as the failure it is."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _deliver(request: urllib.request.Request, limit_s: float) -> BaseException | None:
    """One POST, bounded by `limit_s` in all (a server that drips bytes cannot hold it):
    None when a 2xx arrived, else the exception that ended it (TimeoutError at the limit)."""
    outcome: list[BaseException | None] = []

    def send() -> None:
        try:
            with _OPENER.open(request, timeout=max(limit_s, 0.001)) as response:
                response.read()
            outcome.append(None)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            outcome.append(exc)

    # a daemon thread: at the limit it is abandoned with its socket, never waited for
    worker = threading.Thread(target=send, name="finops-webhook", daemon=True)
    worker.start()
    worker.join(limit_s)
    if worker.is_alive() or not outcome:
        return TimeoutError(f"no complete answer within {limit_s:.0f} s")
    return outcome[0]


def check_webhook_url(url: str, *, allow_http: bool = False) -> None:
    """Refuse a URL that is not http(s), and plain http:// unless allowed."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        msg = f"webhook URL {url!r} is not an http(s) URL"
        raise WebhookError(msg)
    if parts.scheme == "http" and not allow_http:
        msg = (
            f"webhook {_redacted(url)} uses plain http://, which sends the alerts and the URL's "
            "secret unencrypted; use https:// (or --allow-http for a server on a trusted network)"
        )
        raise WebhookError(msg)


def post_webhook(
    url: str,
    payload: dict[str, Any],
    *,
    attempts: int = 4,
    backoff_s: float = 1.0,
    max_backoff_s: float = 30.0,
    deadline_s: float = 60.0,
    allow_http: bool = False,
    sleep: Callable[[float], None] | None = None,
) -> int:
    """POST `payload` as JSON; retry server errors, 429 and network errors with backoff.

    Waits `backoff_s`, then twice that, ... (capped at `max_backoff_s`; a 429's Retry-After
    when it says so) between at most `attempts` tries, all within one overall `deadline_s`
    (connecting, sending, reading the answer and waiting between tries). Only a 2xx answer
    is a delivery: a redirect (3xx) and client errors (4xx other than 429) are failures that
    are not retried; an answer that is not valid HTTP is retried like a network error.
    Plain http:// is refused unless `allow_http` (the alerts and the URL's secret would
    cross the network in clear). Returns the number of attempts used; raises
    :class:`WebhookError` with a one-line reason (the URL's secret path is not shown).
    """
    check_webhook_url(url, allow_http=allow_http)
    where = _redacted(url)
    if attempts < 1:
        msg = "attempts must be at least 1"
        raise ValueError(msg)
    body = json.dumps(payload, default=str).encode("utf-8")
    reason = "no attempt made"
    give_up_at = time.monotonic() + deadline_s
    tried = 0
    for attempt in range(1, attempts + 1):
        left = give_up_at - time.monotonic()
        if left <= 0:
            break
        tried = attempt
        wait = min(backoff_s * 2 ** (attempt - 1), max_backoff_s)
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        failure = _deliver(request, left)
        if failure is None:
            return attempt
        if isinstance(failure, urllib.error.HTTPError):
            reason = f"HTTP {failure.code} {failure.reason}"
            if 300 <= failure.code < 400:
                msg = f"webhook {where} answered with a redirect ({reason}): not delivered"
                raise WebhookError(msg)
            if failure.code < 500 and failure.code != 429:
                msg = f"webhook {where} refused the message: {reason}"
                raise WebhookError(msg)
            headers = failure.headers
            retry_after = headers.get("Retry-After") if headers else None
            if failure.code == 429 and retry_after and retry_after.strip().isdigit():
                wait = min(float(retry_after), max_backoff_s)
        elif isinstance(failure, http.client.HTTPException):
            reason = f"not a valid HTTP answer ({type(failure).__name__})"
        elif isinstance(failure, TimeoutError) and time.monotonic() >= give_up_at:
            reason = str(failure)
        else:
            detail = getattr(failure, "reason", failure)
            reason = f"cannot connect: {detail}"
        if attempt < attempts:
            wait = min(wait, give_up_at - time.monotonic())
            if wait <= 0:
                break
            (sleep or time.sleep)(wait)
    msg = (
        f"webhook {where} failed after {tried} attempt{'s' * (tried != 1)}"
        f"{f' within {deadline_s:.0f} s' if time.monotonic() >= give_up_at else ''}: {reason}"
    )
    raise WebhookError(msg)
