"""Alerts: what fires, the exit codes a scheduler acts on, and webhook delivery to a real
HTTP server on 127.0.0.1 (a server error then success, one that always fails, a refusal).

Store (tests/fixtures/pricing, beta `small`): team ads spends $4.50 a day (10M input + 5M
output tokens) from 2025-05-01 to 2025-06-10; with `extras`, a $0.45 row without a team on
2025-06-03 and a row of a model the catalog does not know.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from conftest import REPO
from fixtures.control.usage import day_row, write_usage
from streamlit.testing.v1 import AppTest

from finops.analysis.alerts import (
    Alert,
    WebhookError,
    alerts_frame,
    evaluate_alerts,
    post_webhook,
    slack_payload,
)
from finops.analysis.budgets import budget_status, load_budgets
from finops.cli import main
from finops.session.session import ingest, open_session

LAST = dt.date(2025, 6, 10)


def _make_store(db: Path, pricing: Path, tmp_path: Path, *, extras: bool) -> None:
    rows = []
    day = dt.date(2025, 5, 1)
    while day <= LAST:
        rows.append(
            day_row(
                day, team="ads", requests=1000, input_tokens=10_000_000, output_tokens=5_000_000
            )
        )
        day += dt.timedelta(days=1)
    if extras:
        rows.append(
            day_row(
                dt.date(2025, 6, 3),
                team=None,
                requests=100,
                input_tokens=1_000_000,
                output_tokens=500_000,
            )
        )
        rows.append(
            day_row(
                dt.date(2025, 6, 5),
                team="ads",
                model="mystery",
                requests=5,
                input_tokens=1000,
                output_tokens=100,
            )
        )
    with open_session(db, pricing) as s:
        ingest(s, [write_usage(tmp_path / "usage.csv", rows)])


def _teams(tmp_path: Path, ads_budget: str, total: str = "1000") -> Path:
    path = tmp_path / "teams.yaml"
    path.write_text(
        f"monthly_budget_usd: {total}\n"
        f"teams:\n  - {{name: ads, monthly_budget_usd: {ads_budget}}}\n"
        "rules:\n  - {team: ads, match: {team: ads}}\n"
    )
    return path


def test_budget_unallocated_and_unpriced_alerts(db, pricing_dir, tmp_path):
    _make_store(db, pricing_dir, tmp_path, extras=True)
    budgets = load_budgets(_teams(tmp_path, ads_budget="40", total="100"))
    with open_session(db, pricing_dir) as s:
        fired = evaluate_alerts(s, budgets=budgets, unallocated_limit_pct=Decimal("0.5"))
        quiet = evaluate_alerts(s, budgets=budgets)  # default limit 10%: $0.45 of $45.45 is fine
    kinds = [(a.severity, a.kind, a.scope) for a in fired]
    assert kinds == [
        ("critical", "budget", "team ads"),
        ("warning", "forecast", "total"),
        ("warning", "unallocated", "team unallocated"),
        ("warning", "unpriced", "catalog"),
    ]
    over = fired[0]
    assert over.day == LAST and over.amount_usd == Decimal("45.00")
    assert over.message == (
        "team ads: $45.00 spent in June 2025 to 2025-06-10, 112% of its $40.00 budget "
        "(threshold 100%); ran out on 2025-06-09"
    )
    assert "projected $" in fired[1].message and "against a $100.00 budget" in fired[1].message
    assert fired[2].amount_usd == Decimal("0.45")
    assert fired[2].message.startswith("1.0% of June 2025 spend ($0.45 of $45.45) has no owner")
    assert fired[3].message.startswith("1 usage row / 1,100 tokens in June 2025 have no price")
    assert "mystery" in fired[3].message
    assert [a.kind for a in quiet] == ["budget", "forecast", "unpriced"]
    frame = alerts_frame(fired)
    assert frame.columns == ["day", "kind", "severity", "scope", "message", "amount_usd"]


def test_a_spike_on_the_last_day_fires_as_an_anomaly(db, pricing_dir, tmp_path):
    rows = [
        day_row(
            dt.date(2025, 5, 1) + dt.timedelta(days=k),
            team="ads",
            requests=1000,
            input_tokens=10_000_000 * (3 if k == 49 else 1),
            output_tokens=5_000_000 * (3 if k == 49 else 1),
        )
        for k in range(50)
    ]
    with open_session(db, pricing_dir) as s:
        ingest(s, [write_usage(tmp_path / "usage.csv", rows)])
        fired = evaluate_alerts(s)
    assert [(a.kind, a.scope, a.amount_usd) for a in fired] == [
        ("anomaly", "team ads", Decimal("9.00"))
    ]
    # the same 1,000 requests with three times the tokens: in the one volume convention
    # (priced tokens at the baseline's price per token) that is all volume
    assert fired[0].message.startswith(
        "team ads: spend spike on 2025-06-19: $13.50 against $4.50 expected (+$9.00: volume $9.00, "
        "price $0.00, mix $0.00)"
    )


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_exit_codes_for_a_scheduler(db, pricing_dir, tmp_path):
    _make_store(db, pricing_dir, tmp_path, extras=False)
    opts = ["--db", str(db), "--pricing", str(pricing_dir)]
    generous = _teams(tmp_path, ads_budget="500")
    out = _run("alerts", "--teams", str(generous), *opts)
    assert (out.exit_code, out.output.strip()) == (0, "nothing fires")
    out = _run("alerts", "--teams", str(generous), "--format", "json", *opts)
    assert (out.exit_code, out.output.strip()) == (0, "[]")

    tight = _teams(tmp_path, ads_budget="40")
    out = _run("alerts", "--teams", str(tight), "--format", "json", *opts)
    assert out.exit_code == 1
    rows = json.loads(out.output, parse_float=Decimal)
    assert [(r["severity"], r["kind"], r["amount_usd"]) for r in rows] == [
        ("critical", "budget", Decimal("45.00"))
    ]
    # as of an earlier day: $18 of $40 by June 4th, on course for ~$135
    out = _run("alerts", "--teams", str(tight), "--today", "2025-06-04", "--format", "json", *opts)
    assert out.exit_code == 1
    assert [r["kind"] for r in json.loads(out.output)] == ["forecast"]

    bad = tmp_path / "bad.yaml"
    bad.write_text("teams: [{name: ads, monthly_budget_usd: lots}]\n")
    out = _run("alerts", "--teams", str(bad), *opts)
    assert out.exit_code == 2
    assert out.output.strip().splitlines()[-1].startswith("Error: bad.yaml")
    out = _run("alerts", "--unallocated-limit", "ten", *opts)
    assert out.exit_code == 2 and "is not a percent" in out.output


# -- webhooks on a real local HTTP server -------------------------------------------------


class _Hook:
    """Answers POSTs with the given statuses in turn (the last one repeats)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.bodies: list[dict] = []
        self.paths: list[str] = []

    def next_status(self) -> int:
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


@pytest.fixture
def hook_server():
    servers = []

    def start(statuses: list[int]) -> tuple[str, _Hook]:
        hook = _Hook(statuses)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.bodies.append(json.loads(body))
                hook.paths.append(self.path)
                status = hook.next_status()
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "2")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"error")

            def log_message(self, *args) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/services/T000/B000/secret", hook

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _alert(n: int = 1) -> list[Alert]:
    return [
        Alert(LAST, "budget", "critical", "team ads", f"team ads: over budget ({i})", Decimal(45))
        for i in range(n)
    ]


def test_webhook_retries_a_server_error_then_succeeds(hook_server):
    url, hook = hook_server([500, 200])
    waits: list[float] = []
    payload = slack_payload(_alert(), source="store test")
    assert post_webhook(url, payload, backoff_s=0.01, sleep=waits.append, allow_http=True) == 2
    assert waits == [0.01]
    assert hook.bodies == [payload, payload]
    assert hook.paths == ["/services/T000/B000/secret"] * 2


def test_webhook_that_always_fails_gives_one_line_without_the_secret(hook_server):
    url, hook = hook_server([500])
    waits: list[float] = []
    with pytest.raises(WebhookError) as err:
        post_webhook(
            url,
            slack_payload(_alert()),
            attempts=3,
            backoff_s=0.01,
            sleep=waits.append,
            allow_http=True,
        )
    port = url.split(":")[2].split("/")[0]
    assert str(err.value) == (
        f"webhook http://127.0.0.1:{port}/… failed after 3 attempts: HTTP 500 Internal Server Error"
    )
    assert "secret" not in str(err.value)
    assert waits == [0.01, 0.02]  # doubling backoff, none after the last attempt
    assert len(hook.bodies) == 3


def test_webhook_client_errors_are_not_retried_and_429_waits_as_told(hook_server):
    url, hook = hook_server([404])
    with pytest.raises(WebhookError, match="refused the message: HTTP 404 Not Found"):
        post_webhook(url, slack_payload(_alert()), sleep=lambda s: None, allow_http=True)
    assert len(hook.bodies) == 1
    url, hook = hook_server([429, 200])
    waits: list[float] = []
    assert (
        post_webhook(
            url, slack_payload(_alert()), backoff_s=0.01, sleep=waits.append, allow_http=True
        )
        == 2
    )
    assert waits == [2.0]  # Retry-After: 2


def test_webhook_unreachable_and_bad_urls():
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_port
    server.server_close()  # nothing listens there now
    with pytest.raises(WebhookError, match=r"failed after 2 attempts: cannot connect"):
        post_webhook(
            f"http://127.0.0.1:{port}/x",
            {"text": "t"},
            attempts=2,
            sleep=lambda s: None,
            allow_http=True,
        )
    with pytest.raises(WebhookError, match="is not an http"):
        post_webhook("file:///etc/passwd", {"text": "t"})


def test_slack_payload_shape_and_limits():
    payload = slack_payload(_alert(50), source="store x")
    assert payload["text"].startswith("finops: 50 alerts (50 critical) for 2025-06-10")
    blocks = payload["blocks"]
    assert len(blocks) <= 50
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "finops: 50 alerts (50 critical) for 2025-06-10"},
    }
    assert blocks[1]["type"] == "section" and blocks[1]["text"]["type"] == "mrkdwn"
    assert (
        blocks[1]["text"]["text"] == ":red_circle: *budget* · team ads\nteam ads: over budget (0)"
    )
    assert blocks[-1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "…and 5 more (run finops alerts) · store x"}],
    }


def test_cli_posts_to_the_webhook_and_exits_2_when_it_cannot(
    db, pricing_dir, tmp_path, hook_server, monkeypatch
):
    import finops.analysis.alerts

    monkeypatch.setattr(finops.analysis.alerts.time, "sleep", lambda s: None)
    _make_store(db, pricing_dir, tmp_path, extras=True)
    opts = ["--db", str(db), "--pricing", str(pricing_dir)]
    url, hook = hook_server([503, 200])
    out = _run("alerts", "--webhook", url, "--allow-http", "--format", "json", *opts)
    assert out.exit_code == 1  # something fired, and it was delivered
    assert "posted 1 alert to the webhook (attempt 2)" in out.stderr
    body = hook.bodies[-1]
    assert set(body) == {"text", "blocks"}
    assert "have no price" in body["text"]
    assert body["blocks"][-1]["elements"][0]["text"] == "store store.duckdb · catalog revision 1"

    url, hook = hook_server([500])  # --all: the alert already sent is posted again
    out = _run("alerts", "--webhook", url, "--allow-http", "--all", *opts)
    assert out.exit_code == 2
    assert out.output.strip().splitlines()[-1] == (
        f"Error: webhook {url.split('/services')[0]}/… failed after 4 attempts: "
        "HTTP 500 Internal Server Error"
    )
    assert len(hook.bodies) == 4


# -- with contracts: effective cost is judged, list cost beside it ------------------------


def _contracts(tmp_path: Path, pct: str = "20") -> Path:
    folder = tmp_path / "deals"  # not beside the store: only sessions given it use it
    folder.mkdir(exist_ok=True)
    path = folder / "contracts.yaml"
    path.write_text(f"contracts:\n  - {{name: beta deal, provider: beta, discount_pct: {pct}}}\n")
    return path


def test_with_contracts_budgets_and_alerts_judge_effective_cost(db, pricing_dir, tmp_path):
    """ads: 10M input x $0.15 + 5M output x $0.60 = $4.50 a day at list; 20% off beta makes it
    $3.60. June 1-10: $45.00 at list, $36.00 effective. Against the $40 budget, list cost would
    be 112% (over, critical); effective cost is 36 / 40 = 90%: a warning at the 80% threshold,
    and the money runs out on June 12 (11 x $3.60 = $39.60 < $40 <= 12 x $3.60 = $43.20).
    Projected month end: $36.00 + 20 days x $3.60 = $108.00."""
    _make_store(db, pricing_dir, tmp_path, extras=False)
    teams = _teams(tmp_path, ads_budget="40")
    budgets = load_budgets(teams)
    with open_session(db, pricing_dir, teams, _contracts(tmp_path)) as s:
        status = budget_status(s, budgets)
        fired = evaluate_alerts(s, budgets=budgets)
    ads = status.filter(pl.col("team") == "ads").row(0, named=True)
    assert (ads["basis"], ads["actual_usd"], ads["list_usd"]) == (
        "effective cost",
        Decimal("36.00"),
        Decimal("45.00"),
    )
    assert ads["used_pct"] == pytest.approx(90.0)
    assert (ads["status"], ads["runs_out_on"]) == ("at risk", dt.date(2025, 6, 12))
    # the days left: 20 x $4.50 at list, x 0.8 = $72.00 on top of $36.00
    assert ads["projected_usd"] == Decimal("108.00")
    assert ads["projection"] == "forecast (ensemble) at the contracts' effective rate"
    budget = next(a for a in fired if a.kind == "budget")
    assert (budget.severity, budget.amount_usd) == ("warning", Decimal("36.00"))
    assert budget.message == (
        "team ads: $36.00 spent (effective cost; $45.00 at list) in June 2025 to 2025-06-10, "
        "90% of its $40.00 budget (threshold 80%)"
    )
    assert "in effective cost by month end against a $40.00 budget" in next(
        a.message for a in fired if a.kind == "forecast" and a.scope == "team ads"
    )
    # without contracts: list cost is judged, as before
    with open_session(db, pricing_dir, teams) as s:
        ads = budget_status(s, budgets).filter(pl.col("team") == "ads").row(0, named=True)
    assert (ads["basis"], ads["actual_usd"], ads["status"]) == (
        "list cost",
        Decimal("45.00"),
        "over",
    )


def test_cli_budgets_show_effective_and_list_cost(db, pricing_dir, tmp_path):
    _make_store(db, pricing_dir, tmp_path, extras=False)
    opts = ["--db", str(db), "--pricing", str(pricing_dir)]
    opts += ["--teams", str(_teams(tmp_path, ads_budget="40"))]
    out = _run("budgets", "--contracts", str(_contracts(tmp_path)), *opts)
    assert out.exit_code == 0, out.output
    assert "as of 2025-06-10 (USD, effective cost)" in out.output
    ads = next(line for line in out.output.splitlines() if "│ ads" in line)
    assert "36.00" in ads and "45.00" in ads


def test_budgets_page_says_it_judges_effective_cost(db, pricing_dir, tmp_path, monkeypatch):
    """The page's total: $36.00 effective, $45.00 at list (see the test above)."""
    _make_store(db, pricing_dir, tmp_path, extras=False)
    monkeypatch.setenv("FINOPS_DB", str(db))
    monkeypatch.setenv("FINOPS_PRICING", str(pricing_dir))
    monkeypatch.setenv("FINOPS_TEAMS", str(_teams(tmp_path, ads_budget="40")))
    monkeypatch.setenv("FINOPS_CONTRACTS", str(_contracts(tmp_path)))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=90).run()
    at.switch_page(str(REPO / "finops" / "app" / "pages" / "budgets.py")).run()
    assert not at.exception, at.exception
    assert any("Budgets judge effective cost" in c.value for c in at.caption)
    assert {m.label: m.value for m in at.metric}["Spend June 2025 to date"] == "$36.00"
    table = at.dataframe[0].value
    assert list(table["list_usd"]) == [45.0, 45.0]  # ads, then the total
