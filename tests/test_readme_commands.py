"""Every `finops` command the README shows runs, as written, on the demo company.

The README's shell blocks are read here: a command added there without a case below fails
this test, so the README cannot show a command nobody ran. Placeholders (FILE, MODEL, URL,
REV_A …) become real values on a demo store; each case asserts its exit code and one thing
a reader would look for in the output. `finops app` is run for real by tests/test_browser.py
and tests/test_security.py (a served page, SIGTERM), not here.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from finops.cli import main

README = Path(__file__).parents[1] / "README.md"
LITELLM_MAP = (
    Path(importlib.util.find_spec("litellm").submodule_search_locations[0])
    / "model_prices_and_context_window_backup.json"
)

#: README line (its command, comments dropped) → (argv as run, allowed exit codes, expected text)
CASES: dict[str, tuple[str, tuple[int, ...], str]] = {
    "finops demo [--days 270] [--seed 7]": ("demo --days 270 --seed 7", (0,), "new rows"),
    "finops ingest exports/*.csv": ("ingest {exports}", (0,), "1 new"),
    "finops spend --by month,team": ("spend --by month,team", (0,), "Dec 2025"),
    "finops spend --by model --from 2025-06-01 --to 2025-06-30 --format json": (
        "spend --by model --from 2025-06-01 --to 2025-06-30 --format json",
        (0,),
        '"model"',
    ),
    "finops spend --by model --revision 1": ("spend --by model --revision 1", (0,), "revision 1"),
    "finops unpriced": ("unpriced", (0,), "Unpriced"),
    "finops pricing validate [DIR]": ("pricing validate", (0,), "models"),
    "finops pricing list | show MODEL | revisions | diff REV_A REV_B": (
        "pricing show gpt-4o --provider openai",
        (0,),
        "gpt-4o",
    ),
    "finops app [--port 8501]": ("", (), ""),
    "finops forecast --by team --horizon 31": ("forecast --by team --horizon 31", (0,), "search"),
    "finops forecast-series --input spend.csv --date-col date --value-col usd": (
        "forecast-series --input {series} --date-col date --value-col usd",
        (0,),
        "mean",
    ),
    "finops backtest --by provider": ("backtest --by provider", (0,), "openai"),
    "finops budgets --teams teams.yaml": ("budgets --teams {teams}", (0,), "TOTAL"),
    "finops anomalies --days 7": ("anomalies --days 7", (0,), "drift"),
    "finops alerts --teams teams.yaml --webhook URL": (
        "alerts --teams {teams}",
        (0, 1),
        "growth",
    ),
    "finops simulate --from gpt-4o --to gpt-4.1-mini --scope team=search": (
        "simulate --from gpt-4o --to gpt-4.1-mini --scope team=search",
        (0,),
        "per month",
    ),
    "finops simulate --from gpt-4o --to gpt-4o-mini --as-billed": (
        "simulate --from gpt-4o --to gpt-4o-mini --as-billed",
        (0,),
        "gpt-4o-mini",
    ),
    "finops opportunities --teams teams.yaml": (
        "opportunities --teams {teams}",
        (0,),
        "finops simulate",
    ),
    "finops forecast --plan plans.yaml --horizon 92": (
        "forecast --plan {plans} --horizon 92",
        (0,),
        "as planned",
    ),
    "finops review --month 2025-11 --out review.html": (
        "review --month 2025-11 --out {tmp}/review.html",
        (0,),
        "review.html",
    ),
    "finops export showback --month 2025-11 --out showback.csv": (
        "export showback --month 2025-11 --out {tmp}/showback.csv",
        (0,),
        "showback.csv",
    ),
    "finops pricing import-litellm model_prices_and_context_window.json "
    "--valid-from 2025-12-01 --out pricing/": (
        f"pricing import-litellm {LITELLM_MAP} --valid-from 2025-12-01 --out {{tmp}}/imported",
        (0,),
        "models",
    ),
    "finops pricing update --from model_prices_and_context_window.json": (
        f"pricing update --from {LITELLM_MAP}",
        (0,),
        "dry run",
    ),
    "finops pricing impact 3 4": ("pricing impact 1 1", (0,), ""),
    "finops pricing deprecations": ("pricing deprecations", (0,), "claude-3-5-haiku"),
    "finops spend --by month,team --teams teams.yaml": (
        "spend --by month,team --teams {teams}",
        (0,),
        "unallocated",
    ),
    "finops spend --by month --contracts contracts.yaml": (
        "spend --by month --contracts {contracts}",
        (0,),
        "effective",
    ),
    "finops allocation explain api_key_id=key-shared-gateway --teams teams.yaml": (
        "allocation explain api_key_id=key-shared-gateway --teams {teams}",
        (0,),
        "split",
    ),
    "finops reconcile --month 2025-06": ("reconcile --month 2025-06", (0,), "reported cost"),
    "finops export focus --month 2025-06 --out june.parquet": (
        "export focus --month 2025-06 --out {tmp}/june.parquet",
        (0,),
        "june.parquet",
    ),
    "finops app --address 127.0.0.1 --port 8501 --teams teams.yaml --trust-proxy": ("", (), ""),
}


def readme_commands() -> list[str]:
    """Each `finops …` line of the README's sh blocks, comments and trailing spaces dropped."""
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.DOTALL)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith("finops ")]


def test_every_readme_command_has_a_case():
    assert set(readme_commands()) == set(CASES), set(readme_commands()) ^ set(CASES)


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("readme")
    db = tmp / "finops.duckdb"
    out = CliRunner().invoke(main, ["demo", "--days", "270", "--seed", "7", "--db", str(db)])
    assert out.exit_code == 0, out.output
    exports = tmp / "exports"
    exports.mkdir()
    (exports / "june.csv").write_text(
        "period_start,period_end,provider,model,requests,input_tokens,output_tokens,team\n"
        "2025-01-15T10:00:00Z,2025-01-15T11:00:00Z,openai,gpt-4o-mini,3,1000,200,mobile\n"
    )
    (tmp / "spend.csv").write_text(
        "date,usd\n" + "".join(f"2025-{m:02d}-{d:02d},{100 + d}\n" for m in (9, 10, 11)
                               for d in range(1, 29))
    )  # fmt: skip
    (tmp / "plans.yaml").write_text(
        "plans:\n"
        "  - name: support finishes its move to Haiku\n"
        "    scope: {teams: [support]}\n"
        "    moves: [{from: claude-sonnet-4-5, to: claude-haiku-4-5}]\n"
        "    start: 2026-01-15\n"
        "    ramp_days: 14\n"
    )
    return tmp, db


@pytest.mark.slow
@pytest.mark.parametrize("line", [c for c, (argv, _, _) in CASES.items() if argv])
def test_readme_command_runs(company, line):
    tmp, db = company
    argv, codes, expected = CASES[line]
    values = {
        "tmp": tmp,
        "exports": tmp / "exports" / "june.csv",
        "series": tmp / "spend.csv",
        "teams": tmp / "teams.yaml",
        "contracts": tmp / "contracts.yaml",
        "plans": tmp / "plans.yaml",
    }
    args = [*shlex.split(argv.format(**values)), "--db", str(db)]
    reads_no_store = (
        args[0] == "pricing" and args[1] in ("validate", "show", "import-litellm")
    ) or (args[0] in ("forecast-series", "allocation"))
    if reads_no_store:
        args = args[:-2]
    result = CliRunner().invoke(main, args)
    assert result.exit_code in codes, (line, result.output[-2000:])
    assert "Traceback" not in result.output
    assert expected in result.output, (line, result.output[-2000:])
    if args[0] == "export" or "--out" in args:
        written = Path(args[args.index("--out") + 1])
        assert written.exists() and (written.is_dir() or written.stat().st_size > 0)
    if "--format" in args and args[args.index("--format") + 1] == "json":
        assert json.loads(result.output)
