"""Alert state (issue 13, item 7): an alert is sent once when it starts firing, again only when
it gets worse, and once when it resolves; `--all` lists everything firing.

Store (tests/fixtures/pricing, beta `small` at $0.15 / $0.60 per million tokens): team ads
spends 10M input + 5M output tokens a day = $1.50 + $3.00 = $4.50, from 2025-05-01 through
2025-07-01. teams.yaml gives ads a $40 monthly budget (thresholds 80% = $32, 100% = $40) and
the total $10,000 (never reached). `finops alerts --today D` judges June as of day D:

| day   | ads spent in June       | budget alert              | forecast alert (month end)     |
|-------|-------------------------|---------------------------|--------------------------------|
| 06-07 | 7 x 4.50 = $31.50 (79%) | —                         | ~$135 > $40: new               |
| 06-08 | $36.00 (90% ≥ 80%)      | warning, level 80: new    | still firing                   |
| 06-09 | $40.50 (101% ≥ 100%)    | critical, level 100: worse| not while over: resolved       |
| 06-10 | $45.00                  | 45 / 40.50 = 1.11: still  | —                              |
| 06-12 | $54.00                  | 54 / 40.50 = 1.33 ≥ 1.25: worse (larger overspend)         |
| 07-01 | July: $4.50 (11%)       | resolved                  | ~$139.50 > $40: new            |
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner
from fixtures.control.usage import day_row, write_usage

from finops.analysis.alert_state import record_alerts, track_alerts
from finops.analysis.alerts import Alert, slack_payload
from finops.cli import main
from finops.session.session import ingest, open_session


@pytest.fixture
def store(db, pricing_dir, tmp_path):
    days = [dt.date(2025, 5, 1) + dt.timedelta(days=k) for k in range(62)]  # to 2025-07-01
    rows = [
        day_row(d, team="ads", requests=1000, input_tokens=10_000_000, output_tokens=5_000_000)
        for d in days
    ]
    with open_session(db, pricing_dir) as s:
        ingest(s, [write_usage(tmp_path / "usage.csv", rows)])
    teams = tmp_path / "teams.yaml"
    teams.write_text(
        "monthly_budget_usd: 10000\n"
        "teams:\n  - {name: ads, monthly_budget_usd: 40}\n"
        "rules:\n  - {team: ads, match: {team: ads}}\n"
    )
    return ["--db", str(db), "--pricing", str(pricing_dir), "--teams", str(teams)]


def _alerts(opts: list[str], day: str, *extra: str) -> tuple[int, list[tuple]]:
    result = CliRunner().invoke(
        main, ["alerts", "--today", day, "--format", "json", *extra, *opts], catch_exceptions=False
    )
    rows = json.loads(result.stdout, parse_float=Decimal)
    return result.exit_code, [(r["state"], r["kind"], r["scope"], r["severity"]) for r in rows]


def test_each_alert_is_sent_when_new_worse_or_resolved(store):
    assert _alerts(store, "2025-06-07") == (1, [("new", "forecast", "team ads", "warning")])
    assert _alerts(store, "2025-06-08") == (1, [("new", "budget", "team ads", "warning")])
    assert _alerts(store, "2025-06-08") == (1, [])  # the same day again: nothing to send
    assert _alerts(store, "2025-06-09") == (
        1,
        [
            ("worse", "budget", "team ads", "critical"),
            ("resolved", "forecast", "team ads", "warning"),
        ],
    )
    assert _alerts(store, "2025-06-10") == (1, [])  # still over, $45.00 < 1.25 x $40.50
    code, everything = _alerts(store, "2025-06-10", "--all")
    assert (code, everything) == (1, [("still firing", "budget", "team ads", "critical")])
    assert _alerts(store, "2025-06-12") == (1, [("worse", "budget", "team ads", "critical")])
    assert _alerts(store, "2025-07-01") == (
        1,
        [
            ("new", "forecast", "team ads", "warning"),
            ("resolved", "budget", "team ads", "critical"),
        ],
    )


def test_state_is_in_the_store_and_a_look_back_records_nothing(store, db):
    _alerts(store, "2025-06-09")
    with open_session(db) as s:
        rows = s.con.execute(
            "SELECT kind, status, severity, level, amount_usd, first_day, sent_day "
            "FROM alert_state ORDER BY kind"
        ).fetchall()
    assert rows == [
        ("budget", "firing", "critical", 100, Decimal("40.50"), *[dt.date(2025, 6, 9)] * 2)
    ]
    # as of an earlier day: everything firing then is listed as new, and nothing is recorded
    assert _alerts(store, "2025-06-08") == (
        1,
        [("new", "budget", "team ads", "warning"), ("new", "forecast", "team ads", "warning")],
    )
    assert _alerts(store, "2025-06-10") == (1, [])


def test_the_listing_says_since_when_an_alert_fires(store):
    _alerts(store, "2025-06-08")
    result = CliRunner().invoke(
        main, ["alerts", "--today", "2025-06-09", "--format", "json", "--all", *store]
    )
    rows = {r["kind"]: r for r in json.loads(result.output)}
    assert rows["budget"]["since"] == "2025-06-08"  # new on the 8th, worse on the 9th
    assert rows["budget"]["state"] == "worse"


def test_the_webhook_payload_says_new_worse_or_resolved(store, tmp_path):
    bodies: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook = ["--webhook", f"http://127.0.0.1:{server.server_port}/hook", "--allow-http"]
    try:
        _alerts(store, "2025-06-08", *hook)
        _alerts(store, "2025-06-08", *hook)  # nothing new: nothing posted
        _alerts(store, "2025-06-09", *hook)
    finally:
        server.shutdown()
        server.server_close()
    assert len(bodies) == 2
    first, second = (b["text"].splitlines() for b in bodies)
    assert first[0] == "finops: 2 new for 2025-06-08"
    assert first[1] == (
        "[new] [warning] team ads: $36.00 spent in June 2025 to 2025-06-08, 90% of its $40.00 "
        "budget (threshold 80%)"
    )
    assert first[2].startswith("[new] [warning] team ads: projected $")
    assert second[0] == "finops: 1 worse, 1 resolved (1 critical) for 2025-06-09"
    assert second[1].startswith("[worse] [critical] team ads: $40.50 spent in June 2025")
    assert second[2].startswith("[resolved] [warning] resolved: team ads: projected $")
    assert ":white_check_mark: [resolved] *forecast*" in json.dumps(bodies[1]["blocks"])


def test_worse_rules_by_hand(db):
    """The rules on their own: severity up, threshold up, or the amount up 25% or more."""
    day = dt.date(2025, 6, 1)

    def alert(severity="warning", level=0, amount="100", kind="unallocated"):
        return Alert(day, kind, severity, "team unallocated", "m", Decimal(amount), level=level)

    with open_session(db) as s:

        def run(*alerts: Alert, on: dt.date = day) -> dict[str, str]:
            notices = track_alerts(s, list(alerts), on)
            record_alerts(s, notices, on)
            return {n.alert.kind: n.state for n in notices}

        assert run(alert(amount="100")) == {"unallocated": "new"}
        assert run(alert(amount="124.99")) == {"unallocated": "still firing"}  # < 100 x 1.25
        assert run(alert(amount="125")) == {"unallocated": "worse"}  # 125 >= 100 x 1.25
        assert run(alert(amount="150")) == {"unallocated": "still firing"}  # < 156.25
        assert run(alert(severity="critical", amount="130")) == {"unallocated": "worse"}
        assert run(alert(severity="critical", amount="10")) == {"unallocated": "still firing"}
        low, high = alert(kind="budget", level=80, amount="32"), alert(kind="budget", level=100)
        assert run(low) == {"budget": "new", "unallocated": "resolved"}
        assert run(high) == {"budget": "worse"}  # the 100% threshold after the 80% one
        assert run(on=day + dt.timedelta(days=1)) == {"budget": "resolved"}
        assert run(on=day + dt.timedelta(days=2)) == {}  # resolved once, not again


def test_slack_payload_without_states_is_unchanged():
    a = Alert(dt.date(2025, 6, 1), "budget", "critical", "team ads", "over", Decimal(1))
    assert (
        slack_payload([a])["text"] == "finops: 1 alert (1 critical) for 2025-06-01\n[critical] over"
    )
