"""Check a user's SQL before it reaches the database (pure text, no SQL library).

The database itself enforces read-only access (see :mod:`.readonly`); this
module adds what only the text can tell: one statement, a query (not a
command), no names that would bypass the visibility filter, and where to
put the filtered views. Quoted strings and comments are skipped, so a
keyword inside a string literal is not mistaken for a command.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from .errors import QueryError

__all__ = ["Token", "tokens", "check_statement", "with_views", "point_at"]

_QUERY_STARTS = ("SELECT", "WITH", "VALUES")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


@dataclass(frozen=True)
class Token:
    """A word, quoted identifier or punctuation of the SQL text, and where it starts."""

    kind: str  # "word", "ident" (double-quoted), "semicolon"
    text: str
    start: int


def tokens(sql: str) -> Iterator[Token]:
    """Words, quoted identifiers and semicolons outside strings and comments."""
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if sql.startswith("--", i):
            i = _end(sql, "\n", i + 2)
        elif sql.startswith("/*", i):
            i = _end(sql, "*/", i + 2, unclosed="comment /*")
        elif c == "'":
            i = _end_quoted(sql, "'", i)
        elif c == '"':
            j = _end_quoted(sql, '"', i)
            yield Token("ident", sql[i + 1:j - 1].replace('""', '"'), i)
            i = j
        elif c == "$" and (found := _DOLLAR.match(sql, i)):
            # PostgreSQL dollar-quoted string: $tag$ ... $tag$
            i = _end(sql, found.group(0), found.end(), unclosed=f"string {found.group(0)}")
        elif c == ";":
            yield Token("semicolon", c, i)
            i += 1
        elif (word := _WORD.match(sql, i)) is not None:
            yield Token("word", word.group(0), i)
            i = word.end()
        else:
            i += 1


def _end(sql: str, closing: str, start: int, unclosed: str | None = None) -> int:
    found = sql.find(closing, start)
    if found < 0:
        if unclosed is None:
            return len(sql)
        raise QueryError(f"unclosed {unclosed} starting at character {start}:\n"
                         f"{point_at(sql, start - 2)}")
    return found + len(closing)


def _end_quoted(sql: str, quote: str, start: int) -> int:
    i = start + 1
    while True:
        found = sql.find(quote, i)
        if found < 0:
            kind = "string" if quote == "'" else "quoted name"
            raise QueryError(f"unclosed {kind} starting at character {start}:\n"
                             f"{point_at(sql, start)}")
        if sql.startswith(quote * 2, found):
            i = found + 2  # doubled quote: an escaped quote
            continue
        return found + 1


def point_at(sql: str, position: int) -> str:
    """The line of *sql* holding *position* with a caret under it."""
    position = max(0, min(position, len(sql)))
    line_start = sql.rfind("\n", 0, position) + 1
    line_end = sql.find("\n", position)
    line = sql[line_start:] if line_end < 0 else sql[line_start:line_end]
    return f"    {line}\n    {' ' * (position - line_start)}^"


def check_statement(sql: str, hidden: Collection[str] = (),
                    hidden_prefixes: tuple[str, ...] = ()) -> list[Token]:
    """Refuse anything but one query; return its tokens.

    Parameters
    ----------
    sql : str
        The user's SQL.
    hidden : collection of str
        Lower-case names the query may not mention (tables and schemas
        that would bypass the visibility filter).
    hidden_prefixes : tuple of str
        Lower-case prefixes of such names (PostgreSQL's ``pg_`` catalogue).

    Raises
    ------
    QueryError
        Several statements, not a query, or a hidden name; the message
        shows the place.
    """
    found = list(tokens(sql))
    if not found:
        raise QueryError("empty query: give a SELECT statement, e.g. "
                         "SELECT proposal, run FROM runs")
    for token in found:
        if token.kind == "semicolon" and token is not found[-1]:
            raise QueryError("only one statement at a time: found more after ';' at "
                             f"character {token.start}:\n{point_at(sql, token.start)}")
    first = found[0]
    if first.kind != "word" or first.text.upper() not in _QUERY_STARTS:
        raise QueryError(f"the SQL interface is read-only: a query starts with SELECT or "
                         f"WITH, not {first.text!r}:\n{point_at(sql, first.start)}")
    for token in found:
        name = token.text.lower()
        if token.kind != "semicolon" and (name in hidden or name.startswith(hidden_prefixes)):
            raise QueryError(
                f"{token.text!r} is not one of the query views (runs, sources, keys, files, "
                f"run_values, problems; see docs/query.rst):\n{point_at(sql, token.start)}")
    return found


def with_views(sql: str, found: list[Token], views: dict[str, str]) -> tuple[str, int]:
    """Put ``WITH name AS (body), ...`` in front of the query.

    A query that already starts with ``WITH [RECURSIVE]`` gets the views
    added to its own list, so its names can use them.

    Returns
    -------
    (str, int)
        The new SQL and how far the user's text moved (for error positions
        reported by the database).
    """
    definitions = ", ".join(f"{name} AS ({body})" for name, body in views.items())
    sql = sql.rstrip().rstrip(";")
    if found[0].text.upper() != "WITH":
        prefix = f"WITH {definitions} "
        return prefix + sql, len(prefix)
    head_end = found[0].start + 4
    if len(found) > 1 and found[1].text.upper() == "RECURSIVE":
        head_end = found[1].start + len("RECURSIVE")
    head = sql[:head_end] + " " + definitions + ","
    return head + sql[head_end:], len(head) - head_end
