"""Above `finops/session/`, nothing touches a raw DuckDB connection: `Session` is the one
query surface (docs/architecture.md).

Every module of the layers above it is parsed, and each of these is a failure naming its
file and line:

* an attribute `.con` on anything (`session.con`, `s.con`, `store.con`);
* `import duckdb` or `from duckdb import ...`, and any call of `duckdb.connect`;
* importing from `finops.core.store` a function that opens or queries a connection
  (`connect`, `open_store`, `fetch_one`, `query_pl`, `transaction`).

What such code needs from a store other than its session's comes from
`finops.session.scratch` (a scratch store, a private catalog, a rollup rebuild) or
`finops.session.queries.open_writer` (a brief write).

The layer contracts themselves (who imports whom) are `lint-imports`' job
(`[tool.importlinter]` in pyproject.toml).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ABOVE_SESSION = ("analysis", "lake", "views", "export", "app", "cli")

#: Names in finops.core.store that open, query or write a connection.
CONNECTION_FUNCTIONS = frozenset({"connect", "open_store", "fetch_one", "query_pl", "transaction"})

#: (path relative to the repository, what) -> why it must stay. Keep it empty, or short.
ALLOWED: dict[tuple[str, str], str] = {}


def _uses(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "con":
            found.append((node.lineno, f"{ast.unparse(node)} (a raw connection)"))
        elif isinstance(node, ast.Import):
            found += [
                (node.lineno, f"import {a.name}")
                for a in node.names
                if a.name.split(".")[0] == "duckdb"
            ]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] == "duckdb":
                found.append((node.lineno, f"from {node.module} import"))
            elif node.module == "finops.core.store":
                found += [
                    (node.lineno, f"from finops.core.store import {a.name}")
                    for a in node.names
                    if a.name in CONNECTION_FUNCTIONS
                ]
        elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith("duckdb.connect"):
            found.append((node.lineno, f"{ast.unparse(node.func)}()"))
    return found


def raw_connection_uses(root: Path = ROOT) -> list[str]:
    """Every raw-connection use above finops/session/ not in ALLOWED, as 'file:line: what'."""
    out = []
    for layer in ABOVE_SESSION:
        for path in sorted((root / "finops" / layer).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
            for line, what in sorted(_uses(tree)):
                if (rel, what) not in ALLOWED:
                    out.append(f"{rel}:{line}: {what}")
    return out


def test_nothing_above_session_touches_a_raw_connection():
    uses = raw_connection_uses()
    assert not uses, (
        "code above finops/session/ must query through Session (or finops.session.scratch), "
        "not a raw connection:\n" + "\n".join(uses)
    )


def test_the_check_sees_each_kind_of_use(tmp_path):
    views = tmp_path / "finops" / "views"
    views.mkdir(parents=True)
    (views / "page.py").write_text(
        "import duckdb\n"
        "from finops.core.store import connect, relation\n"
        "def f(session):\n"
        "    return fetch(session.con), duckdb.connect()\n",
        encoding="utf-8",
    )
    assert raw_connection_uses(tmp_path) == [
        "finops/views/page.py:1: import duckdb",
        "finops/views/page.py:2: from finops.core.store import connect",
        "finops/views/page.py:4: duckdb.connect()",
        "finops/views/page.py:4: session.con (a raw connection)",
    ]


def test_every_allowed_use_still_exists():
    """An entry for a use that is gone would let a new one in unnoticed: drop it."""
    present = set()
    for layer in ABOVE_SESSION:
        for path in (ROOT / "finops" / layer).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            present |= {(rel, what) for _, what in _uses(ast.parse(path.read_text("utf-8")))}
    assert set(ALLOWED) <= present, sorted(set(ALLOWED) - present)
