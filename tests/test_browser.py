"""Every page of the app in a real, headless Chromium: no Streamlit error, the expected headline.

The app runs with `finops app` on a free local port over the golden month
(tests/fixtures/golden, priced by hand in tests/test_golden_month.py), so every number the
test looks for was worked out by hand, not asked of the library. Chromium is started
headless with the flags below and driven through its DevTools protocol (a websocket), because
`--dump-dom` with `--virtual-time-budget` is racy against Streamlit, which renders over its own
websocket after the page has loaded: measured here, the same budget sometimes dumps the full
page and sometimes only the skeleton. Waiting for the app's own "running" indicator to go and
the headline to appear is reliable. Screenshots are kept in test-artifacts/ (gitignored).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO

from finops.session.session import ingest, open_session

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what: str, check, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


def _stop(proc: subprocess.Popen) -> None:
    """Stop a process this test started, and its children (it leads its own group)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


class Browser:
    """Headless Chromium driven over the DevTools protocol (one tab)."""

    def __init__(self, profile: Path) -> None:
        from websockets.sync.client import connect

        self.port = _free_port()
        self.proc = subprocess.Popen(
            [
                str(CHROMIUM),
                *FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-address=127.0.0.1",
                f"--remote-debugging-port={self.port}",
                # tall from the start: Streamlit scrolls inside its own container, so a
                # screenshot shows what fits the window (resizing later re-lays the page out)
                "--window-size=1400,8000",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.ws_url = None
        _wait("chromium's DevTools endpoint", self._find_tab, 30)
        self._stack = ExitStack()
        self.conn = self._stack.enter_context(connect(self.ws_url, max_size=None, open_timeout=30))
        self.next_id = 0

    def _find_tab(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=2) as r:
                tabs = [t for t in json.load(r) if t["type"] == "page"]
        except OSError:
            return False
        if tabs:
            self.ws_url = tabs[0]["webSocketDebuggerUrl"]
        return bool(tabs)

    def send(self, method: str, **params):
        self.next_id += 1
        ident = self.next_id
        self.conn.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.conn.recv(timeout=120))
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def open(self, url: str, headline: str, timeout: float = 180) -> None:
        self.send("Page.navigate", url=url)
        ready = f"""(() => {{
            const main = document.querySelector('[data-testid="stMain"]');
            if (!main || document.querySelector('[data-testid="stStatusWidget"]')) return false;
            if (document.querySelector('[data-testid="stException"]')) return true;
            return main.innerText.includes({json.dumps(headline)});
        }})()"""
        _wait(f"{url} to show {headline!r}", lambda: self.evaluate(ready), timeout)
        time.sleep(1.0)  # let charts finish drawing before the screenshot

    def dom(self) -> str:
        return self.evaluate("document.documentElement.outerHTML")

    def text(self) -> str:
        return self.evaluate("document.querySelector('[data-testid=\"stMain\"]').innerText")

    def screenshot(self, path: Path) -> None:
        height = self.evaluate(
            "document.querySelector('[data-testid=\"stMainBlockContainer\"]').scrollHeight + 160"
        )
        clip = {"x": 0, "y": 0, "width": 1400, "height": min(max(height, 600), 8000), "scale": 1}
        shot = self.send("Page.captureScreenshot", format="png", clip=clip)
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        try:
            self._stack.close()
        finally:
            _stop(self.proc)


GOLDEN = FIXTURES / "golden"


@pytest.fixture(scope="module")
def golden_env(tmp_path_factory) -> dict[str, str]:
    """The golden month's store, catalog, contracts and teams map (without its access
    section: the browser is an admin here; the restricted viewer is tested with AppTest)."""
    folder = tmp_path_factory.mktemp("browser")
    teams = folder / "teams.yaml"
    text = (GOLDEN / "teams.yaml").read_text()
    teams.write_text(text[: text.index("access:")])
    env = {
        "FINOPS_DB": str(folder / "golden.duckdb"),
        "FINOPS_PRICING": str(GOLDEN / "pricing"),
        "FINOPS_TEAMS": str(teams),
        "FINOPS_CONTRACTS": str(GOLDEN / "contracts.yaml"),
    }
    with open_session(
        env["FINOPS_DB"], env["FINOPS_PRICING"], env["FINOPS_TEAMS"], env["FINOPS_CONTRACTS"]
    ) as s:
        ingest(s, [GOLDEN / "usage.csv"])
    return env


@pytest.fixture(scope="module")
def app_url(golden_env, tmp_path_factory):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINOPS_")}
    env |= golden_env
    env |= {"STREAMLIT_SERVER_ADDRESS": "127.0.0.1", "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none"}
    log = tmp_path_factory.mktemp("app") / "app.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "finops.cli", "app", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def healthy() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"finops app exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                return r.read().strip() == b"ok"
        except OSError:
            return False

    _wait("finops app to answer", healthy, 90)
    yield f"http://127.0.0.1:{port}"
    _stop(proc)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


# Per page (URL path): texts the page must show. The dollars are the golden month's, by hand:
# June to date $17.806 list, $16.616 effective; May $4.30; all teams over both months
# 4.30 + 17.806 = $22.106; the last day with data 2025-06-27; the review's default month is
# the last complete one, May.
EXPECTED = {
    "": ["Spend June 2025 to date", "$17.81", "$4.30", "$16.62 June to date, $3.90 in May"],
    "teams": ["Spend, all teams shown", "$22.11"],
    "review": ["Total May 2025", "$4.30", "Why it changed"],
    "forecast": ["July 2025 (forecast)"],
    "simulator": ["Move usage of"],
    "anomalies": ["Findings"],
    # budgets judge effective cost (the contract): June to date $16.62, list $17.81 in the table
    "budgets": ["Projected month end", "Alerts on 2025-06-27", "$16.62", "$40.00"],
    "upload": ["Usage exports"],
    "catalog": ["Models in the catalog", "Price history"],
}


def test_every_page_renders_in_a_real_browser(app_url, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    failures = []
    for path, texts in EXPECTED.items():
        name = path or "overview"
        browser.open(f"{app_url}/{path}", texts[0])
        browser.screenshot(ARTIFACTS / f"browser-{name}.png")
        dom, text = browser.dom(), browser.text()
        (ARTIFACTS / f"browser-{name}.html").write_text(dom)
        if 'data-testid="stException"' in dom:
            failures.append(f"{name}: a Streamlit exception is on the page")
        missing = [t for t in texts if t not in text]
        if missing:
            failures.append(f"{name}: missing {missing}")
    assert not failures, failures


# --- the demo company, page by page -----------------------------------------------------------

#: Per page: a text that shows once the page has rendered on the demo.
DEMO_PAGES = {
    "": "Spend over time",
    "teams": "Spend, all teams shown",
    "review": "What to act on",
    "forecast": "forecast",
    "simulator": "Move usage of",
    "savings": "Opportunities",
    "budgets": "Projected month end",
    "anomalies": "Findings",
    "upload": "Usage exports",
    "catalog": "Models in the catalog",
}

#: The page has run and drawn: no running indicator, no placeholder, every chart plotted.
SETTLED = """(() => {
    const main = document.querySelector('[data-testid="stMain"]');
    if (!main || main.innerText.length < 40) return false;
    if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
    if (document.querySelector('[data-testid="stSkeleton"],[data-testid="stSpinner"]')) {
        return false;
    }
    return [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(
        c => c.querySelector('.js-plotly-plot .main-svg'));
})()"""
#: Every plotly chart's traces: name and colour (marker, line or fill), as drawn.
TRACES = """[...document.querySelectorAll('.js-plotly-plot')].map(gd => (gd._fullData || [])
    .map(t => [t.name, (t.marker && typeof t.marker.color === 'string' && t.marker.color)
                       || (t.line && t.line.color) || t.fillcolor || null]))"""
#: Column headers of every table (Streamlit's grid keeps an accessible copy in the DOM).
HEADERS = """[...document.querySelectorAll('[data-testid="stDataFrame"] [role="columnheader"]')]
    .map(h => h.innerText.trim()).filter(t => t)"""
#: Tables and charts with nothing in them.
EMPTY = """[...document.querySelectorAll('[data-testid="stDataFrame"]')].filter(
    d => d.offsetParent !== null && d.querySelectorAll('[role="row"]').length <= 1).length
  + [...document.querySelectorAll('.js-plotly-plot')].filter(
    gd => !(gd._fullData || []).some(t => (t.x && t.x.length) || (t.y && t.y.length))).length"""


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    """`finops demo` (its teams.yaml, contracts.yaml and evals.csv beside the store) served by
    `finops app` with nothing but FINOPS_DB set: the app finds the company files itself."""
    folder = tmp_path_factory.mktemp("demo-company")
    db = folder / "finops.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINOPS_")}
    made = subprocess.run(
        [sys.executable, "-m", "finops.cli", "demo", "--days", "120", "--db", str(db)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    port = _free_port()
    env |= {
        "FINOPS_DB": str(db),
        "STREAMLIT_SERVER_ADDRESS": "127.0.0.1",
        "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
    }
    log = folder / "app.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "finops.cli", "app", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def healthy() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"finops app exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                return r.read().strip() == b"ok"
        except OSError:
            return False

    _wait("finops app to answer", healthy, 90)
    yield f"http://127.0.0.1:{port}"
    _stop(proc)


def test_every_page_of_the_demo_reads_well(demo_url, browser):
    """Screenshots of every page on the demo (test-artifacts/demo-*.png), with no "None", no
    snake_case column header, no empty table or chart, and a team in the same colour on the
    Overview and on Teams."""
    import re

    ARTIFACTS.mkdir(exist_ok=True)
    failures, colours = [], {}
    for path, headline in DEMO_PAGES.items():
        name = path or "overview"
        # a slow page can look settled before its script has run (its first widgets drawn, the
        # status widget not yet up): wait for its headline (or an exception), then the drawing
        browser.open(f"{demo_url}/{path}", headline, 600)
        _wait(f"{name} to finish drawing", lambda: browser.evaluate(SETTLED), 600)
        time.sleep(1.0)
        _wait(f"{name} to finish drawing", lambda: browser.evaluate(SETTLED), 600)
        browser.screenshot(ARTIFACTS / f"demo-{name}.png")
        dom, text = browser.dom(), browser.text()
        if headline not in text:
            failures.append(f"{name}: {headline!r} is not on the page")
        if 'data-testid="stException"' in dom:
            failures.append(f"{name}: a Streamlit exception is on the page")
        if re.search(r"\bNone\b", text):
            failures.append(f"{name}: 'None' on the page")
        snake = [h for h in browser.evaluate(HEADERS) or [] if re.search(r"[a-z]_[a-z]", h)]
        if snake:
            failures.append(f"{name}: snake_case headers {snake}")
        # a data grid draws its rows a moment after the page settles: an empty one stays empty
        deadline = time.monotonic() + 30
        while browser.evaluate(EMPTY) and time.monotonic() < deadline:
            time.sleep(1.0)
        if browser.evaluate(EMPTY):
            failures.append(f"{name}: an empty table or chart")
        for traces in browser.evaluate(TRACES) or []:
            for trace, colour in traces:
                if trace and colour:
                    colours.setdefault(trace, {}).setdefault(colour.lower(), set()).add(name)
    # every team drawn on both pages has one colour on both
    for team in ("search", "support", "growth", "finance-ops"):
        seen = colours.get(team, {})
        pages = set().union(*seen.values()) if seen else set()
        if {"overview", "teams"} <= pages and len(seen) != 1:
            failures.append(f"{team} has colours {seen}")
        if not {"overview", "teams"} <= pages:
            failures.append(f"{team} is not drawn on both Overview and Teams: {pages}")
    assert not failures, failures
