"""Hostile users and hostile input (issue 12): each rule that keeps spend private or an export
safe, reproduced and kept fixed.

The hand-priced fixture (tests/fixtures/usage/hand_priced.csv) under the teams fixture with
access control: bo@example.com views team ads, whose own rows cost $1.17 (r4 $0.60 + r5
$0.57, see tests/test_access.py); an admin sees the whole store, $9.01.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import polars as pl
import pytest
from click.testing import CliRunner
from conftest import FIXTURES, REPO
from streamlit.runtime import context as st_context
from streamlit.testing.v1 import AppTest
from test_browser import Browser, _free_port, _stop, _wait

from finops.analysis import alerts as alerts_mod
from finops.analysis.alerts import WebhookError, post_webhook
from finops.analysis.filters import SpendFilter, monthly_budget
from finops.analysis.forecast.state import store_forecast
from finops.cli import main, root
from finops.core.cells import neutralise, neutralise_frame
from finops.export.focus import export_focus
from finops.pricing.allocation import AllocationError, load_allocation
from finops.session.access import (
    AccessError,
    AccessPolicy,
    check_binding,
    identify,
    load_access,
    restrict_to_teams,
)
from finops.session.session import load_demo, open_session
from finops.views.review import build_review
from finops.views.review.render import render_markdown

HEADER_ACCESS = """
access:
  admins: ["*@finops.example.com"]
  header: X-Forwarded-Email
"""


def _teams(tmp_path, access: str):
    text = (FIXTURES / "teams" / "teams.yaml").read_text()
    text = text.replace("cost_center: CC-202}", "cost_center: CC-202, viewers: [bo@example.com]}")
    path = tmp_path / "teams.yaml"
    path.write_text(text + access)
    return path


@pytest.fixture
def header_teams(tmp_path):
    return _teams(tmp_path, HEADER_ACCESS)


@pytest.fixture
def trusted_teams(tmp_path):
    return _teams(tmp_path, HEADER_ACCESS + "  trusted_proxy: true\n")


# --- finops app: where it listens, and when it refuses ------------------------------------------


@pytest.fixture
def exec_calls(monkeypatch):
    """`finops app` execs Streamlit; record the call instead of replacing the test process."""
    calls = []
    monkeypatch.setattr(root.os, "execve", lambda path, argv, env: calls.append((argv, env)))
    return calls


def _option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_app_listens_on_loopback_unless_told(exec_calls, tmp_path):
    db = tmp_path / "x.duckdb"
    result = CliRunner().invoke(main, ["app", "--db", str(db)])
    assert result.exit_code == 0, result.output
    argv, env = exec_calls[0]
    assert _option(argv, "--server.address") == "127.0.0.1"
    assert env["FINOPS_TRUST_PROXY"] == "0"
    result = CliRunner().invoke(main, ["app", "--db", str(db), "--address", "0.0.0.0"])
    assert result.exit_code == 0, result.output  # no access control: the operator's choice
    assert _option(exec_calls[1][0], "--server.address") == "0.0.0.0"


def test_app_refuses_header_identity_on_an_open_address(exec_calls, header_teams, tmp_path):
    args = ["app", "--db", str(tmp_path / "x.duckdb"), "--teams", str(header_teams)]
    result = CliRunner().invoke(main, [*args, "--address", "0.0.0.0"])
    assert result.exit_code == 1
    assert exec_calls == []
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "refusing to serve on 0.0.0.0" in lines[0]
    assert "X-Forwarded-Email header, which anyone reaching 0.0.0.0 directly can forge" in lines[0]
    assert "--trust-proxy" in lines[0]
    # the operator declares the proxy: served, and the app is told to trust the header
    result = CliRunner().invoke(main, [*args, "--address", "0.0.0.0", "--trust-proxy"])
    assert result.exit_code == 0, result.output
    argv, env = exec_calls[0]
    assert _option(argv, "--server.address") == "0.0.0.0"
    assert env["FINOPS_TRUST_PROXY"] == "1"
    assert env["FINOPS_TEAMS"] == str(header_teams.resolve())
    # on loopback it starts, and says the header will be ignored
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "X-Forwarded-Email header is ignored (no --trust-proxy)" in result.output


def test_app_reads_the_teams_yaml_beside_the_store(exec_calls, header_teams, tmp_path, monkeypatch):
    """The app picks up a teams.yaml beside the store; so does the refusal."""
    monkeypatch.delenv("FINOPS_TEAMS", raising=False)
    store = tmp_path / "company"
    store.mkdir()
    (store / "teams.yaml").write_text(header_teams.read_text())
    args = ["app", "--db", str(store / "x.duckdb"), "--address", "0.0.0.0"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "refusing to serve on 0.0.0.0" in result.output
    assert exec_calls == []


def test_trusted_proxy_in_teams_yaml_is_the_same_declaration(exec_calls, trusted_teams, tmp_path):
    assert load_access(trusted_teams).trusted_proxy is True
    result = CliRunner().invoke(
        main,
        ["app", "--db", str(tmp_path / "x.duckdb"), "--teams", str(trusted_teams)]
        + ["--address", "10.1.2.3"],
    )
    assert result.exit_code == 0, result.output
    assert _option(exec_calls[0][0], "--server.address") == "10.1.2.3"


def test_check_binding_rules():
    policy = AccessPolicy((), "X-Email", {})
    for address in ("127.0.0.1", "127.0.0.2", "::1", "localhost"):
        check_binding(policy, address, trust_proxy=False)  # loopback: fine
    for address in ("0.0.0.0", "::", "192.168.1.10", "finops.internal"):
        with pytest.raises(AccessError, match=f"refusing to serve on {address}"):
            check_binding(policy, address, trust_proxy=False)
        check_binding(policy, address, trust_proxy=True)
    check_binding(AccessPolicy((), None, {}), "0.0.0.0", trust_proxy=False)  # OIDC only


# --- who the visitor is ---------------------------------------------------------------------


def _who(policy, *, headers=(), trust=False, oidc=False, email=None):
    return identify(
        policy, oidc_configured=oidc, oidc_email=email, header_values=headers, trust_proxy=trust
    )


def test_header_identity_only_behind_a_declared_proxy():
    policy = AccessPolicy((), "X-Email", {})
    untrusted = _who(policy, headers=["boss@finops.example.com"])
    assert untrusted.identity is None
    assert "X-Email header this request carries is ignored" in untrusted.why_unknown
    assert "X-Email header is ignored" in _who(policy).why_unknown
    assert _who(policy, headers=["ana@x.com"], trust=True).identity == "ana@x.com"
    trusted_by_file = AccessPolicy((), "X-Email", {}, trusted_proxy=True)
    assert _who(trusted_by_file, headers=["Ana@X.com "]).identity == "ana@x.com"
    missing = _who(trusted_by_file, headers=[])
    assert missing.identity is None
    assert "No X-Email header" in missing.why_unknown


def test_the_proxy_appended_value_wins():
    """A client sends its own copy first; the proxy's copy comes last, separately or appended."""
    policy = AccessPolicy((), "X-Email", {}, trusted_proxy=True)
    assert _who(policy, headers=["boss@x.com", "ana@x.com"]).identity == "ana@x.com"
    assert _who(policy, headers=["boss@x.com, ana@x.com"]).identity == "ana@x.com"
    assert _who(policy, headers=["boss@x.com", ""]).identity == "boss@x.com"


def test_oidc_visitor_not_logged_in_gets_nothing_and_no_header_fallback():
    policy = AccessPolicy((), "X-Email", {}, trusted_proxy=True)
    anonymous = _who(policy, headers=["boss@finops.example.com"], oidc=True, email=None)
    assert anonymous.identity is None
    assert anonymous.why_unknown == "Sign in to see spend."
    logged_in = _who(policy, headers=["boss@finops.example.com"], oidc=True, email="bo@x.com")
    assert logged_in.identity == "bo@x.com"  # the login, never the header


# --- the app itself ---------------------------------------------------------------------------


@pytest.fixture
def app_env(loaded, monkeypatch):
    db, pricing = loaded
    monkeypatch.setenv("FINOPS_DB", str(db))
    monkeypatch.setenv("FINOPS_PRICING", str(pricing))
    monkeypatch.delenv("FINOPS_TRUST_PROXY", raising=False)
    return db


def _with_headers(monkeypatch, *pairs):
    """The request headers the app sees (AppTest has no browser connection to carry them)."""
    monkeypatch.setattr(st_context, "_get_client_context", lambda: SimpleNamespace(headers=pairs))


def _run(page: str | None = None, user: dict | None = None):
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    if user is not None:
        at.user = user
    at.run()
    if page:
        at.switch_page(str(REPO / "finops" / "app" / "pages" / page)).run()
    assert not at.exception, at.exception
    return at


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_app_ignores_a_forged_header_without_a_declared_proxy(app_env, header_teams, monkeypatch):
    monkeypatch.setenv("FINOPS_TEAMS", str(header_teams))
    _with_headers(monkeypatch, ("X-Forwarded-Email", "lead@finops.example.com"))
    at = _run()
    assert not at.metric
    assert any(
        "X-Forwarded-Email header this request carries is ignored" in e.value for e in at.error
    )


def test_app_behind_the_proxy_takes_the_last_header(app_env, header_teams, monkeypatch):
    monkeypatch.setenv("FINOPS_TEAMS", str(header_teams))
    monkeypatch.setenv("FINOPS_TRUST_PROXY", "1")
    # the client forged an admin's address; the proxy appended the signed-in viewer's
    _with_headers(
        monkeypatch,
        ("X-Forwarded-Email", "lead@finops.example.com"),
        ("X-Forwarded-Email", "bo@example.com"),
    )
    at = _run()
    assert _metrics(at)["Spend March 2025 to date"] == "$1.17"  # ads only, not $9.01
    _with_headers(monkeypatch, ("X-Forwarded-Email", "lead@finops.example.com"))
    assert _metrics(_run())["Spend March 2025 to date"] == "$9.01"


def test_app_with_oidc_shows_nothing_before_login(app_env, trusted_teams, monkeypatch):
    monkeypatch.setenv("FINOPS_TEAMS", str(trusted_teams))
    _with_headers(monkeypatch, ("X-Forwarded-Email", "lead@finops.example.com"))
    at = _run(user={"is_logged_in": False})
    assert not at.metric
    assert any("Sign in to see spend." in e.value for e in at.error)
    at = _run(user={"is_logged_in": True, "email": "bo@example.com"})
    assert _metrics(at)["Spend March 2025 to date"] == "$1.17"


def test_budgets_page_lists_only_the_viewers_teams(app_env, trusted_teams, monkeypatch):
    """teams.yaml budgets: total $500, search $100. bo views ads only: the table holds ads and
    a total of ads' spend ($1.17), with neither search's budget nor the organisation's."""
    monkeypatch.setenv("FINOPS_TEAMS", str(trusted_teams))
    _with_headers(monkeypatch, ("X-Forwarded-Email", "bo@example.com"))
    at = _run("budgets.py")
    table = at.dataframe[0].value
    assert [t if isinstance(t, str) and t != "—" else "(total)" for t in table["team"]] == [
        "ads",
        "(total)",
    ]
    assert _metrics(at)["Budget (total)"] != "$500.00"
    assert any("Budgets of your teams only: ads" in c.value for c in at.caption)
    _with_headers(monkeypatch, ("X-Forwarded-Email", "lead@finops.example.com"))
    at = _run("budgets.py")
    assert _metrics(at)["Budget (total)"] == "$500.00"
    assert "search" in set(at.dataframe[0].value["team"])


def test_teams_page_says_whose_teams_it_shows(app_env, trusted_teams, monkeypatch):
    monkeypatch.setenv("FINOPS_TEAMS", str(trusted_teams))
    _with_headers(monkeypatch, ("X-Forwarded-Email", "bo@example.com"))
    at = _run("teams.py")
    assert any(c.value.startswith("Showing your teams only (ads)") for c in at.caption)
    _with_headers(monkeypatch, ("X-Forwarded-Email", "lead@finops.example.com"))
    at = _run("teams.py")
    assert any(c.value.startswith("Showing every team") for c in at.caption)


# --- the real server: a forged header in a real browser, and a clean stop ----------------------


def _start_app(db, port: int, *extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINOPS_")}
    env |= {"STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none"}
    return subprocess.Popen(
        [sys.executable, "-m", "finops.cli", "app", "--db", str(db), "--port", str(port), *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own group, so cleanup can reach anything it leaves behind
    )


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return r.read().strip() == b"ok"
    except OSError:
        return False


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory):
    db = tmp_path_factory.mktemp("security-demo") / "demo.duckdb"
    with open_session(db) as s:
        load_demo(s, days=40)
    return db


@pytest.mark.browser
def test_a_forged_header_in_a_real_browser_sees_only_a_refusal(small_demo, tmp_path):
    """`finops app` with header identity on its default address, no proxy declared: Chromium
    sends an admin's address in X-Forwarded-Email straight to the app and gets no spend."""
    teams = tmp_path / "teams.yaml"
    teams.write_text("teams:\n  - {name: search, viewers: [ana@example.com]}\n" + HEADER_ACCESS)
    port = _free_port()
    app = _start_app(small_demo, port, "--teams", str(teams))
    browser = None
    try:
        _wait("finops app to answer", lambda: _answers(port), 90)
        browser = Browser(tmp_path / "profile")
        browser.send("Network.enable")
        browser.send(
            "Network.setExtraHTTPHeaders", headers={"X-Forwarded-Email": "cfo@finops.example.com"}
        )
        browser.open(f"http://127.0.0.1:{port}/", "is ignored")
        text = browser.text()
    finally:
        if browser is not None:
            browser.close()
        _stop(app)
    # the header reached the app (it says so) and was not believed
    assert "X-Forwarded-Email header this request carries is ignored" in text
    assert "$" not in text, text
    assert "Spend" not in text, text


@pytest.mark.slow
def test_terminating_finops_app_stops_the_server(small_demo):
    """SIGTERM to the `finops app` process (what a supervisor or `docker stop` sends) ends the
    server: the port stops answering and nothing of its process group is left."""
    port = _free_port()
    app = _start_app(small_demo, port)
    try:
        _wait("finops app to answer", lambda: _answers(port), 90)
        os.kill(app.pid, signal.SIGTERM)  # the process itself, not its group
        app.wait(20)
        _wait("the port to close", lambda: not _answers(port), 10)
        with pytest.raises(ProcessLookupError):
            os.killpg(app.pid, 0)  # no process of the group it led is left
    finally:
        _stop(app)


# --- formula injection: every spreadsheet-bound export --------------------------------------

EVIL_A = "-1+cmd|' /C calc'!A0"  # DDE: starts a program when the cell is opened
EVIL_B = " =1+1"  # a leading space does not stop a spreadsheet from running it

FORMULAS = [EVIL_A, EVIL_B, '=HYPERLINK("http://x")', "+1+1", "@SUM(A1)", "  @x", "\t=1", "\r=1"]
FORMULAS += ["-2 (+1) x+HYPERLINK(1)", "+1 cmd|' /C calc'!A0", "-1%+SUM(A1)"]
HARMLESS = ["-12.50", "-$1,234.56", "+4.2%", "+$136.77", "1e-05", "search", "a=b", "", "—"]
HARMLESS += ["+$305.26 (+19.8%)", "-1.8% vs last month", "+0.1 pts vs last month"]


def test_formula_cells_are_neutralised_and_numbers_are_not():
    for value in FORMULAS:
        assert neutralise(value) == "'" + value, value
    for value in HARMLESS:
        assert neutralise(value) == value, value
    # the frame version (polars regex) agrees cell for cell with the Python one
    frame = pl.DataFrame({"cell": FORMULAS + HARMLESS, "n": range(len(FORMULAS + HARMLESS))})
    assert neutralise_frame(frame)["cell"].to_list() == ["'" + v for v in FORMULAS] + HARMLESS
    assert neutralise_frame(frame)["n"].to_list() == frame["n"].to_list()
    assert neutralise_frame(pl.DataFrame({"=x": [1]})).columns == ["'=x"]


@pytest.fixture
def evil_teams(tmp_path):
    """The hand-priced fixture's search rows go to a team named EVIL_A, ads' to EVIL_B."""
    path = tmp_path / "evil-teams.yaml"
    path.write_text(
        "unmatched: unallocated\n"
        "teams:\n"
        f"  - {{name: {json.dumps(EVIL_A)}}}\n"
        f"  - {{name: {json.dumps(EVIL_B)}}}\n"
        "rules:\n"
        f"  - {{team: {json.dumps(EVIL_A)}, match: {{team: search}}}}\n"
        f"  - {{team: {json.dumps(EVIL_B)}, match: {{team: ads}}}}\n"
    )
    return path


def _csv_column(text: str, column: str) -> set[str]:
    return {row[column] for row in csv.DictReader(io.StringIO(text))}


def _inert(cells: set[str]) -> None:
    assert "'" + EVIL_A in cells and "'" + EVIL_B in cells, cells
    assert EVIL_A not in cells and EVIL_B not in cells, cells


def test_cli_csv_and_showback_neutralise_formulas(loaded, evil_teams, tmp_path):
    db, pricing = loaded
    common = ["--db", str(db), "--pricing", str(pricing), "--teams", str(evil_teams)]
    result = CliRunner().invoke(main, ["spend", "--by", "team", "--format", "csv", *common])
    assert result.exit_code == 0, result.output
    _inert(_csv_column(result.output, "team"))
    out = tmp_path / "showback.csv"
    result = CliRunner().invoke(
        main, ["export", "showback", "--month", "2025-03", "--out", str(out), *common]
    )
    assert result.exit_code == 0, result.output
    _inert(_csv_column(out.read_text(), "team"))


def test_focus_csv_and_review_markdown_neutralise_formulas(loaded, evil_teams, tmp_path):
    db, pricing = loaded
    with open_session(db, pricing, evil_teams) as s:
        markdown = render_markdown(build_review(s, dt.date(2025, 3, 1)))
    escaped = EVIL_A.replace("|", "\\|")
    assert f"| '{escaped} |" in markdown and f"| '{EVIL_B} |" in markdown
    assert f"| {escaped} |" not in markdown and f"| {EVIL_B} |" not in markdown
    # FOCUS states the source's team: a store written before ingest refused such text
    with open_session(db, pricing) as s:
        for table in ("usage", "daily_usage"):
            s.con.execute(
                f"UPDATE {table} SET team = CASE team WHEN 'search' THEN $a ELSE $b END",
                {"a": EVIL_A, "b": EVIL_B},
            )
        export_focus(s, month=dt.date(2025, 3, 1), out=tmp_path / "focus.csv")
    _inert(_csv_column((tmp_path / "focus.csv").read_text(), "x_Team"))


def test_app_tables_neutralise_formulas(app_env, evil_teams, monkeypatch):
    """The Teams page's table (its toolbar downloads CSV) shows the names as inert text."""
    monkeypatch.setenv("FINOPS_TEAMS", str(evil_teams))
    at = _run("teams.py")
    _inert(set(at.dataframe[0].value["team"]))


# --- regex rules: linear time, or refused ------------------------------------------------------


def _rules_file(tmp_path, regex: str) -> Path:
    path = tmp_path / "regex-teams.yaml"
    path.write_text(
        "teams:\n  - {name: aaa}\n"
        f"rules:\n  - {{team: aaa, match: {{project_id: {{regex: {json.dumps(regex)}}}}}}}\n"
    )
    return path


def test_a_catastrophic_regex_rule_finishes_at_once(tmp_path):
    """`^(a+)+$` against 'a'*40 + '!' backtracks 2^40 times in Python's re (hours); the
    linear-time engine answers in well under a second, for a 100,000-character id too."""
    alloc = load_allocation(_rules_file(tmp_path, "^(a+)+$"))
    started = time.monotonic()
    for n in (40, 100_000):
        assert alloc.owner({"project_id": "a" * n + "!"})[0] == "unallocated"
        assert alloc.owner({"project_id": "a" * n})[0] == "aaa"
    assert time.monotonic() - started < 1.0


def test_catastrophic_regex_in_spend_finishes_at_once(loaded, tmp_path):
    """The same rule through `finops spend` over a store holding a 50,000-character id."""
    db, pricing = loaded
    with open_session(db, pricing) as s:
        for table in ("usage", "daily_usage"):
            s.con.execute(f"UPDATE {table} SET project_id = $p", {"p": "a" * 50_000 + "!"})
    teams = _rules_file(tmp_path, "^(a+)+$")
    started = time.monotonic()
    result = CliRunner().invoke(
        main,
        ["spend", "--by", "team", "--format", "csv"]
        + ["--db", str(db), "--pricing", str(pricing), "--teams", str(teams)],
    )
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 30
    assert _csv_column(result.output, "team") == {"unallocated"}


def test_a_regex_the_engine_cannot_run_is_refused_at_load(tmp_path):
    with pytest.raises(AllocationError) as err:
        load_allocation(_rules_file(tmp_path, r"^(a)\1$"))
    message = str(err.value)
    assert "regex-teams.yaml" in message and "rule 1" in message
    assert "field match.project_id" in message and "backreferences are not supported" in message
    assert "\n" not in message


# --- webhooks: only a 2xx is a delivery, one deadline, https unless allowed -------------------


@pytest.fixture
def hostile_hook():
    """A real local HTTP server: /redirect answers 302, /drip sends a status line then a byte
    every 0.5 s, /garbage answers with text that is not HTTP. `seen` lists (method, path)."""
    seen: list[tuple[str, str]] = []
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(("GET", self.path))
            self.send_response(200)
            self.end_headers()

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(("POST", self.path))
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "/landed")
                self.end_headers()
            elif self.path == "/drip":
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                while not stop.wait(0.5):
                    try:
                        self.wfile.write(b"X")
                        self.wfile.flush()
                    except OSError:
                        return
            elif self.path == "/garbage":
                self.wfile.write(b"this is not an HTTP answer\r\n\r\n")
            else:
                self.send_response(200)
                self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    stop.set()
    server.shutdown()
    server.server_close()


def test_a_redirect_is_a_failed_delivery(hostile_hook):
    base, seen = hostile_hook
    with pytest.raises(WebhookError) as err:
        post_webhook(f"{base}/redirect", {"text": "t"}, allow_http=True, sleep=lambda s: None)
    assert str(err.value) == (
        f"webhook {base}/… answered with a redirect (HTTP 302 Found): not delivered"
    )
    assert seen == [("POST", "/redirect")]  # not retried, and never followed as a GET


def test_a_dripping_server_cannot_hold_the_delivery_past_its_deadline(hostile_hook):
    """Each byte arrives well inside a socket timeout; only the overall deadline ends it."""
    base, seen = hostile_hook
    started = time.monotonic()
    with pytest.raises(WebhookError) as err:
        post_webhook(f"{base}/drip", {"text": "t"}, allow_http=True, deadline_s=2, backoff_s=0.1)
    elapsed = time.monotonic() - started
    assert 1.9 < elapsed < 4, elapsed
    assert str(err.value) == (
        f"webhook {base}/… failed after 1 attempt within 2 s: no complete answer within 2 s"
    )
    assert seen == [("POST", "/drip")]


def test_plain_http_is_refused_unless_allowed(hostile_hook):
    base, seen = hostile_hook
    with pytest.raises(WebhookError, match=r"uses plain http://, which sends the alerts"):
        post_webhook(f"{base}/ok/secret", {"text": "t"})
    assert seen == []
    assert post_webhook(f"{base}/ok/secret", {"text": "t"}, allow_http=True) == 1


def test_cli_exits_2_on_a_malformed_answer_and_on_http(loaded, hostile_hook, monkeypatch):
    """The hand-priced store has unpriced usage, so `finops alerts` fires (exit 1 when sent)."""
    monkeypatch.setattr(alerts_mod.time, "sleep", lambda s: None)
    db, pricing = loaded
    base, seen = hostile_hook
    opts = ["alerts", "--db", str(db), "--pricing", str(pricing), "--format", "json"]
    result = CliRunner().invoke(main, [*opts, "--webhook", f"{base}/ok", "--allow-http"])
    assert result.exit_code == 1, result.output  # fired, and delivered
    opts.append("--all")  # post again what was sent (and recorded) above
    result = CliRunner().invoke(main, [*opts, "--webhook", f"{base}/garbage", "--allow-http"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        f"Error: webhook {base}/… failed after 4 attempts: not a valid HTTP answer (BadStatusLine)"
    )
    result = CliRunner().invoke(main, [*opts, "--webhook", f"{base}/ok"])
    assert result.exit_code == 2
    assert "uses plain http://" in result.output.strip().splitlines()[-1]
    assert seen.count(("POST", "/ok")) == 1


def test_a_restricted_viewer_sees_only_their_teams_budgets(loaded, trusted_teams, monkeypatch):
    """teams.yaml: the organisation $500, search $100, ads none. A search viewer's views judge
    against search's $100; an ads viewer's have no budget at all (not the company's $500)."""
    db, pricing = loaded
    with open_session(db, pricing, trusted_teams) as s:
        assert monthly_budget(s, SpendFilter()) == Decimal(500)
        restrict_to_teams(s, ["search"])
        assert monthly_budget(s, SpendFilter()) == Decimal(100)
    with open_session(db, pricing, trusted_teams) as s:
        restrict_to_teams(s, ["ads"])
        assert monthly_budget(s, SpendFilter()) is None
        assert {t.monthly_budget_usd for t in s.allocation.teams.values()} == {None}
    with open_session(db, pricing, trusted_teams) as s:
        # a team the map does not list has no budget: search's $100 is not search + growth's
        restrict_to_teams(s, ["search", "growth"])
        assert monthly_budget(s, SpendFilter()) is None
    monkeypatch.setenv("FINOPS_DB", str(db))
    monkeypatch.setenv("FINOPS_PRICING", str(pricing))
    monkeypatch.setenv("FINOPS_TEAMS", str(trusted_teams))
    _with_headers(monkeypatch, ("X-Forwarded-Email", "bo@example.com"))
    labels = set(_metrics(_run()))
    assert "Budget March" not in labels and "Data through" in labels
    _with_headers(monkeypatch, ("X-Forwarded-Email", "lead@finops.example.com"))
    assert _metrics(_run())["Budget March"] == "$500.00"


def test_a_restricted_viewer_never_sees_the_companys_cached_forecast(small_demo, tmp_path):
    """The store keeps the company's forecast and says what moved since the previous one. A
    viewer restricted to one team must not get "moved -$X since ..." measured against the
    whole company's forecast, nor leave their own in the shared cache."""
    db = tmp_path / "demo.duckdb"
    shutil.copy(small_demo, db)
    with open_session(db) as s:
        company = store_forecast(s)
        team = s.spend(["team"]).sort("cost_usd", descending=True)["team"][0]
        cached = s.con.execute("SELECT count(DISTINCT state_key) FROM forecast_cache").fetchone()
    with open_session(db) as s:
        restrict_to_teams(s, [team])
        mine = store_forecast(s)
        assert s.con.execute("SELECT count(DISTINCT state_key) FROM forecast_cache").fetchone() == (
            cached
        )
    assert mine.state_key != company.state_key
    assert mine.change is None
    assert set(mine.history["team"].unique()) == {team}
