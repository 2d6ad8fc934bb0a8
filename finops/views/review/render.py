"""The review as Markdown and as one self-contained, offline HTML file."""

from __future__ import annotations

import base64
import functools
import gzip
import html
import re

import polars as pl

from finops.core.cells import neutralise
from finops.views.review.build import MonthlyReview
from finops.views.review.sections import Table, review_sections

__all__ = ["render_html", "render_markdown"]


def _md_cell(value: str) -> str:
    """A Markdown table cell: pipes escaped, formulas inert (the table may be pasted into a
    spreadsheet)."""
    return neutralise(value).replace("|", "\\|")


def _md_table(frame: pl.DataFrame) -> str:
    if frame.is_empty():
        return "_none_"
    head = "| " + " | ".join(_md_cell(c.strip()) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in frame.rows()]
    return "\n".join([head, rule, *body])


def render_markdown(r: MonthlyReview) -> str:
    """The review as Markdown (charts are left out; the HTML export has them)."""
    lines = [
        f"# {r.title}",
        "",
        f"Data through {r.as_of}; catalog revision {r.revision_id}; scope: {r.filter.describe()}.",
    ]
    for section in review_sections(r):
        lines += ["", f"## {section.title}", ""]
        for paragraph in section.text:
            lines += [paragraph, ""]
        if section.metrics:
            lines += ["| metric | value | change |", "|---|---|---|"]
            lines += [
                "| " + " | ".join(_md_cell(v) for v in (m.label, m.value, m.delta or "")) + " |"
                for m in section.metrics
            ]
            lines.append("")
        for table in section.tables:
            body = _md_table(table.frame) if table.frame.height else f"_{table.empty}_"
            lines += [f"**{table.caption}**", "", body, ""]
    return "\n".join(lines).rstrip() + "\n"


_CSS = """
body{font-family:"Source Sans Pro","Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#1F2328}
header{background:#1F4E79;color:#fff;padding:24px 40px}
header h1{margin:0 0 6px;font-size:28px} header p{margin:0;opacity:.85}
section{padding:24px 40px;border-bottom:1px solid #E5E7EB;page-break-inside:avoid}
h2{font-size:22px;margin:0 0 12px;color:#1F4E79}
p{max-width:72em;line-height:1.45}
.metrics{display:flex;flex-wrap:wrap;gap:16px;margin:12px 0}
.metric{border:1px solid #E5E7EB;border-radius:8px;padding:10px 16px;min-width:180px;
background:#F3F5F8}
.metric .label{font-size:13px;color:#57606A}.metric .value{font-size:26px;font-weight:600}
.metric .delta{font-size:13px;color:#57606A}
table{border-collapse:collapse;margin:8px 0 16px;font-size:13px;min-width:24em}
th,td{border-bottom:1px solid #E5E7EB;padding:4px 10px;white-space:nowrap}
th{background:#F3F5F8}
.num{text-align:right;font-variant-numeric:tabular-nums}.txt{text-align:left}
caption{text-align:left;font-weight:600;padding:6px 0;white-space:nowrap}
.empty{color:#57606A}
@media print{header{background:#fff;color:#000;border-bottom:2px solid #000}
section{padding:12px 0}.metric{background:#fff}}
"""

#: plotly.js, gzip-compressed and inlined once: the file still opens offline, at ~40% of the
#: size; the browser inflates it (DecompressionStream) and draws every figure from its JSON.
_LOADER = """
(async () => {
  const packed = document.getElementById("plotly-gz").textContent.trim();
  const bytes = Uint8Array.from(atob(packed), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  (0, eval)(await new Response(stream).text());
  for (const node of document.querySelectorAll("script.figure")) {
    const fig = JSON.parse(node.textContent);
    Plotly.newPlot(node.dataset.div, fig.data, fig.layout, {displaylogo: false, responsive: true});
  }
})();
"""


@functools.cache
def _plotly_packed() -> str:
    from plotly.offline import get_plotlyjs

    return base64.b64encode(gzip.compress(get_plotlyjs().encode("utf-8"), 9, mtime=0)).decode()


def _figure(fig, div_id: str) -> str:
    data = fig.to_json().replace("</", "<\\/")
    return (
        f"<div id='{div_id}' class='chart' style='height:{fig.layout.height or 380}px'></div>"
        f"<script type='application/json' class='figure' data-div='{div_id}'>{data}</script>"
    )


_NUMBER = re.compile(r"^[-+]?\$?[\d,]+(\.\d+)?%?$|^—$|^new$")


def _html_table(table: Table) -> str:
    """A table; numbers right-aligned, text left (as each column's first cell reads)."""
    first = table.frame.row(0) if table.frame.height else ()
    numeric = [bool(_NUMBER.match(v)) for v in first]
    align = ["num" if n else "txt" for n in numeric]
    head = "".join(
        f"<th class='{a}'>{html.escape(c.strip())}</th>"
        for c, a in zip(table.frame.columns, align, strict=False)
    )
    body = "".join(
        "<tr>"
        + "".join(f"<td class='{a}'>{html.escape(v)}</td>" for v, a in zip(row, align, strict=True))
        + "</tr>"
        for row in table.frame.rows()
    )
    return (
        f"<table><caption>{html.escape(table.caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def render_html(r: MonthlyReview) -> str:
    """The review as ONE self-contained HTML file: plotly.js is inlined (compressed), so it
    opens offline."""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(r.title)}</title><style>{_CSS}</style></head><body>",
        (
            f"<header><h1>{html.escape(r.title)}</h1><p>Data through {r.as_of}; catalog revision "
            f"{r.revision_id}; scope: {html.escape(r.filter.describe())}.</p></header>"
        ),
    ]
    for section in review_sections(r):
        parts.append(f"<section id='{section.id}'><h2>{html.escape(section.title)}</h2>")
        parts += [f"<p>{html.escape(p)}</p>" for p in section.text]
        if section.metrics:
            parts.append("<div class='metrics'>")
            for m in section.metrics:
                delta = f"<div class='delta'>{html.escape(m.delta)}</div>" if m.delta else ""
                parts.append(
                    f"<div class='metric'><div class='label'>{html.escape(m.label)}</div>"
                    f"<div class='value'>{html.escape(m.value)}</div>{delta}</div>"
                )
            parts.append("</div>")
        for index, fig in enumerate(section.figures):
            parts.append(_figure(fig, f"{section.id}-chart-{index}"))
        parts += [
            _html_table(t)
            if t.frame.height
            else f"<p class='empty'><b>{html.escape(t.caption)}:</b> {html.escape(t.empty)}</p>"
            for t in section.tables
        ]
        parts.append("</section>")
    parts.append(f"<script type='text/plain' id='plotly-gz'>{_plotly_packed()}</script>")
    parts.append(f"<script>{_LOADER}</script></body></html>")
    return "\n".join(parts)
