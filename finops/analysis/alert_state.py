"""Alert state: an alert is sent once when it starts firing, again only when it gets worse, and
once when it resolves — not every day until the month ends.

`finops alerts` evaluates what fires (`finops.analysis.alerts.evaluate_alerts`), then
`track_alerts` compares it with the state recorded in the store (table `alert_state`) and
gives each alert its state:

* **new** — firing now, and not firing at the last recorded run;
* **worse** — firing before and now worse than when last sent: a higher severity (warning →
  critical), a higher budget threshold crossed (80% → 100%), or an amount (the spend, the
  projected overspend, the impact) at least `worse_pct` (default 25%) above the one sent;
* **still firing** — firing before, not worse: listed by `finops alerts --all` only;
* **resolved** — firing at the last recorded run, not now: sent once.

An alert is one (kind, scope, topic): "budget · team ads", "anomaly · team ads · spike". The
state is recorded (`record_alerts`) only after the notices were delivered, so a failed
webhook sends them again next run; `run_alerts` is that whole cycle, in that order. A run as of a day before the last recorded one (`--today`
in the past) is a look back: every alert is listed as new and nothing is recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from finops.analysis.alerts import Alert, evaluate_alerts
from finops.analysis.budgets import Budgets

if TYPE_CHECKING:
    from finops.session.session import Session

__all__ = [
    "ALERT_STATES",
    "AlertRun",
    "Notice",
    "alert_key",
    "record_alerts",
    "run_alerts",
    "track_alerts",
]

ALERT_STATES = ("new", "worse", "still firing", "resolved")
_SEVERITY_RANK = {"warning": 1, "critical": 2}
_COLUMNS = (
    "alert_key",
    "kind",
    "scope",
    "status",
    "severity",
    "level",
    "amount_usd",
    "message",
    "first_day",
    "last_day",
    "sent_severity",
    "sent_level",
    "sent_amount_usd",
    "sent_day",
)


@dataclass(frozen=True)
class Notice:
    """An alert with its state on this run, and the day it started firing."""

    alert: Alert
    state: str  # one of ALERT_STATES
    since: dt.date

    @property
    def to_send(self) -> bool:
        return self.state != "still firing"


def alert_key(alert: Alert) -> str:
    """Which alert this is, from run to run: kind | scope | topic."""
    return f"{alert.kind}|{alert.scope}|{alert.topic}"


def _worse(before: dict[str, Any], alert: Alert, worse_pct: Decimal) -> bool:
    if _SEVERITY_RANK[alert.severity] > _SEVERITY_RANK[before["sent_severity"]]:
        return True
    if alert.level > before["sent_level"]:
        return True
    sent = before["sent_amount_usd"]
    if alert.amount_usd is None or sent is None or sent <= 0:
        return False
    return Decimal(alert.amount_usd) >= sent * (1 + worse_pct / 100)


def _recorded(session: Session) -> dict[str, dict[str, Any]]:
    rows = session.rows(f"SELECT {', '.join(_COLUMNS)} FROM alert_state")
    return {row[0]: dict(zip(_COLUMNS, row, strict=True)) for row in rows}


def track_alerts(
    session: Session,
    fired: list[Alert],
    day: dt.date,
    *,
    worse_pct: Decimal | int = 25,
) -> list[Notice]:
    """Each alert firing on `day` with its state (against the session's recorded alert
    state), then those that resolved (worst first)."""
    worse_pct = Decimal(worse_pct)
    recorded = _recorded(session)
    last_run = max((r["last_day"] for r in recorded.values()), default=None)
    if last_run is not None and day < last_run:  # a look back: no state applies
        return [Notice(a, "new", day) for a in fired]
    notices = []
    for alert in fired:
        before = recorded.get(alert_key(alert))
        if before is None or before["status"] != "firing":
            notices.append(Notice(alert, "new", day))
        elif _worse(before, alert, worse_pct):
            notices.append(Notice(alert, "worse", before["first_day"]))
        else:
            notices.append(Notice(alert, "still firing", before["first_day"]))
    firing_now = {alert_key(a) for a in fired}
    for key, before in sorted(recorded.items()):
        if before["status"] == "firing" and key not in firing_now:
            alert = Alert(
                day=day,
                kind=before["kind"],
                severity=before["severity"],
                scope=before["scope"],
                message=f"resolved: {before['message']}",
                amount_usd=None,
                level=before["level"],
                topic=key.split("|", 2)[2],
            )
            notices.append(Notice(alert, "resolved", before["first_day"]))
    return notices


def record_alerts(session: Session, notices: list[Notice], day: dt.date) -> bool:
    """Record what this run saw and sent in the session's store; False (nothing written) for
    a look back."""
    last_run = session.one("SELECT max(last_day) FROM alert_state")[0]
    if last_run is not None and day < last_run:
        return False
    recorded = _recorded(session)
    rows = []
    for notice in notices:
        a, key = notice.alert, alert_key(notice.alert)
        before = recorded.get(key)
        status = "resolved" if notice.state == "resolved" else "firing"
        sent = notice.state in ("new", "worse") or before is None
        if notice.state == "resolved":
            a = replace(a, message=before["message"] if before else a.message)
        rows.append(
            (
                key,
                a.kind,
                a.scope,
                status,
                a.severity,
                a.level,
                a.amount_usd if status == "firing" else (before or {}).get("amount_usd"),
                a.message,
                notice.since,
                day,
                a.severity if sent else before["sent_severity"],
                a.level if sent else before["sent_level"],
                a.amount_usd if sent else before["sent_amount_usd"],
                day if sent else before["sent_day"],
            )
        )
    with session.transaction():
        if rows:
            session.execute(
                "DELETE FROM alert_state WHERE alert_key IN (SELECT unnest($keys))",
                {"keys": [r[0] for r in rows]},
            )
            session.execute_many(
                f"INSERT INTO alert_state VALUES ({', '.join('?' * len(_COLUMNS))})", rows
            )
    return True


@dataclass(frozen=True)
class AlertRun:
    """One run of `finops alerts`: the day judged, what fires, each notice with its state, and
    the notices to show and deliver (those sent this run, or all of them)."""

    day: dt.date | None
    fired: list[Alert]
    notices: list[Notice]
    shown: list[Notice]


def run_alerts(
    session: Session,
    *,
    deliver: Callable[[AlertRun], None],
    budgets: Budgets | None = None,
    today: dt.date | None = None,
    anomaly_days: int = 1,
    unallocated_limit_pct: Decimal | float | None = Decimal(10),
    show_all: bool = False,
) -> AlertRun:
    """Evaluate what fires on `today` (default: the last day with data), give each alert its
    state, hand the run to `deliver` (show it, post it), then record the state.

    The state is recorded only after `deliver` returns: when it raises (a webhook that
    fails), nothing is recorded and the same notices are sent again next run.
    """
    day = session.today(today)
    fired = evaluate_alerts(
        session,
        budgets=budgets,
        today=day,
        anomaly_days=anomaly_days,
        unallocated_limit_pct=unallocated_limit_pct,
    )
    notices = track_alerts(session, fired, day) if day else []
    run = AlertRun(
        day=day,
        fired=fired,
        notices=notices,
        shown=[n for n in notices if show_all or n.to_send],
    )
    deliver(run)
    if day:
        record_alerts(session, notices, day)
    return run
