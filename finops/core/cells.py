"""Cells bound for a spreadsheet: text a spreadsheet would run as a formula is made inert.

A CSV or Markdown table opened in Excel, LibreOffice or Google Sheets runs a cell that begins
with `=`, `+`, `-` or `@` as a formula (OWASP "CSV injection"): `-1+cmd|' /C calc'!A0` starts
a program through DDE, `=HYPERLINK(...)` leaks data. Leading spaces do not stop them, and a
tab or carriage return at the start also opens a formula in some of them, so the check runs
on the value after trimming whitespace, and on the raw first character for tab and CR.

Such a cell gets a leading apostrophe, which every spreadsheet reads as "this is text" and
does not display. Plain numbers are left alone (`-12.50`, `-$1,234.56`, `+4.2%`), and so are
the review's signed changes (`+$305.26 (+19.8%)`, `-1.8% vs last month`): a number, at most
one number in parentheses, then only letters, digits and spaces. Without a parenthesis after
a name, `|` or `!`, such text cannot call a function, reach another program or a sheet. Every export a person may open in a
spreadsheet goes through here: the CLI's CSV output, the showback and FOCUS CSV files, the
app's tables (whose toolbar downloads CSV) and the review's Markdown.

>>> neutralise(" =1+1")
"' =1+1"
>>> neutralise("-1+cmd|' /C calc'!A0")
"'-1+cmd|' /C calc'!A0"
>>> neutralise("-$1,234.56"), neutralise("search"), neutralise("a=b")
('-$1,234.56', 'search', 'a=b')
"""

from __future__ import annotations

import re

import polars as pl

__all__ = ["FORMULA_PATTERN", "NUMBER_PATTERN", "is_formula", "neutralise", "neutralise_frame"]

# a formula trigger after leading whitespace, or a tab / CR as the very first character
FORMULA_PATTERN = r"^(?:[\t\r]|\s*[=+\-@])"
# a plain (optionally signed, dollar, thousands-separated, percent) number
_NUM = r"[+-]?\$?[0-9][0-9,]*(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?%?"
# ... and a change as the review writes it: safe as it is
NUMBER_PATTERN = rf"^\s*{_NUM}(?: \({_NUM}\))?(?: [A-Za-z0-9 ]+)?\s*$"

_FORMULA = re.compile(FORMULA_PATTERN)
_NUMBER = re.compile(NUMBER_PATTERN)


def is_formula(value: str) -> bool:
    """Whether a spreadsheet would run this text as a formula."""
    return bool(_FORMULA.match(value)) and not _NUMBER.match(value)


def neutralise(value: str) -> str:
    """The cell as inert text: a leading apostrophe when it would run as a formula."""
    return "'" + value if is_formula(value) else value


def neutralise_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text column of a frame with `neutralise` applied (other columns unchanged).

    >>> neutralise_frame(pl.DataFrame({"team": ["@evil", "ads"], "n": [1, 2]})).rows()
    [("'@evil", 1), ('ads', 2)]
    """
    frame = frame.rename({name: neutralise(name) for name in frame.columns if is_formula(name)})
    text = [name for name, dtype in frame.schema.items() if dtype == pl.Utf8]
    if not text:
        return frame
    return frame.with_columns(
        pl.when(
            pl.col(name).str.contains(FORMULA_PATTERN) & ~pl.col(name).str.contains(NUMBER_PATTERN)
        )
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text
    )
