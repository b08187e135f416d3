"""PostgreSQL: a transaction's writes as one statement of data-modifying CTEs,
`WITH _w0 AS (INSERT ...), _w1 AS (UPDATE ...) SELECT 1`, which PostgreSQL runs
atomically on its own: one round trip where BEGIN, a statement per write and COMMIT
were one each (docs/STORAGE.md).

All the CTEs of a statement see the snapshot it started with and run in no set order,
so writes are combined only where neither can matter: no two of them name a common
table (read or written), and the rows of a multi-row write cannot meet each other (a
plain INSERT or `ON CONFLICT DO NOTHING`, or an upsert whose rows' conflict keys all
differ). A write this module cannot prove that of is refused (None, or `add` False),
and the caller sends it as it is.

Statements keep their `?` placeholders (arguments concatenate in text order) and
their text depends on the writes' SQL, not on the number of rows: a multi-row INSERT
becomes `INSERT ... SELECT ... FROM unnest(?::type[], ...)`, one array per column.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_TOKEN_RE = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|[A-Za-z_][\w$]*|\S")
# Where a FROM (or USING) list ends at its own depth; its joins are part of it, and a
# join's ON condition holds no comma outside parentheses.
_FROM_ENDS = frozenset({
    "WHERE", "GROUP", "HAVING", "WINDOW", "ORDER", "LIMIT", "OFFSET", "RETURNING",
    "UNION", "EXCEPT", "INTERSECT", "FOR", "SET", "DO", "SELECT", "VALUES",
})
_CTE_HEAD_RE = re.compile(r"\s*([A-Za-z_]\w*)\s+AS\s*\(", re.I)
_COMMA_RE = re.compile(r"\s*,", re.I)
_WRITE_RE = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b", re.I)
_INSERT_VALUES_RE = re.compile(
    r"\s*INSERT\s+INTO\s+[A-Za-z_]\w*\s*\(([^()]*)\)\s*VALUES\s*\(", re.I
)
_UPSERT_RE = re.compile(r"\s*ON\s+CONFLICT\s*\(([^()]*)\)\s*DO\s+UPDATE\b", re.I)
_ARRAY_TYPES = {int: "bigint", str: "text", float: "double precision", bytes: "bytea"}


@dataclass(frozen=True)
class Write:
    """One write as pieces of a combined statement."""

    #: (name, body) per CTE; a None name is given one when combined
    ctes: tuple[tuple[str | None, str], ...]
    args: Sequence[Any]
    #: every table the write names, read or written
    tables: frozenset[str]


class WriteBatch:
    """Writes that may share one statement, in the order they came."""

    def __init__(self) -> None:
        self._writes: list[Write] = []
        self._tables: set[str] = set()
        self._names: set[str] = set()

    def add(self, write: Write | None) -> bool:
        """Take `write` unless it may meet one already taken (or is None)."""
        if write is None or not write.tables.isdisjoint(self._tables):
            return False
        names = {name for name, _ in write.ctes if name is not None}
        if not names.isdisjoint(self._names):
            return False
        self._writes.append(write)
        self._tables |= write.tables
        self._names |= names
        return True

    def statement(self) -> tuple[str, list[Any]]:
        """The one statement of every write taken, and its arguments."""
        ctes: list[str] = []
        args: list[Any] = []
        for write in self._writes:
            for name, body in write.ctes:
                ctes.append(f"{name or f'_w{len(ctes)}'} AS ({body})")
            args.extend(write.args)
        return f"WITH {', '.join(ctes)} SELECT 1", args


def single_write(sql: str, args: Sequence[Any]) -> Write | None:
    """`execute(sql, *args)` as a Write: an INSERT, UPDATE or DELETE, or a WITH of
    them whose last statement writes or is a SELECT without placeholders (dropped)."""
    shape = _shape(sql)
    return None if shape is None else Write(shape[0], args, shape[1])


def rows_write(sql: str, rows: Sequence[Sequence[Any]]) -> Write | None:
    """`executemany(sql, rows)` as a Write: an `INSERT ... VALUES (...)` over unnest
    arrays (whatever the number of rows), or any other single write with one row."""
    insert = _insert_shape(sql)
    if insert is None:
        return single_write(sql, rows[0]) if len(rows) == 1 else None
    tables, width, keys = insert
    if any(len(row) != width for row in rows):
        return None
    if keys is not None and len({tuple(row[k] for k in keys) for row in rows}) < len(rows):
        return None  # one upsert would change a row twice
    columns = list(zip(*rows, strict=True))
    types = tuple(_array_type(column) for column in columns)
    if "" in types or all(t is None for t in types):
        return None
    args = [list(column) for column, t in zip(columns, types, strict=True) if t is not None]
    return Write(((None, _unnest_text(sql, types)),), args, tables)


def _array_type(column: Sequence[Any]) -> str | None:
    """The PostgreSQL array type of a column's values; None when all are NULL, ""
    when the values are of no one known type."""
    kinds = {type(v) for v in column if v is not None}
    if not kinds:
        return None
    return _ARRAY_TYPES.get(kinds.pop(), "") if len(kinds) == 1 else ""


@functools.lru_cache(maxsize=1024)
def _shape(sql: str) -> tuple[tuple[tuple[str | None, str], ...], frozenset[str]] | None:
    body = sql.strip().rstrip(";").rstrip()
    if _WRITE_RE.match(body):
        ctes: list[tuple[str | None, str]] = [(None, body)]
    else:
        flattened = _flatten_with(body)
        if flattened is None:
            return None
        ctes = flattened
    tables = _tables(body)
    if tables is None:
        return None
    return tuple(ctes), tables - {name for name, _ in ctes if name is not None}


def _flatten_with(sql: str) -> list[tuple[str | None, str]] | None:
    """The CTEs of `WITH a AS (...), b AS (...) <main>` and main as one more, or None.
    (A data-modifying CTE may not be nested in another, so a WITH joins the list.)"""
    head = re.match(r"\s*WITH\s", sql, re.I)
    if head is None:
        return None
    ctes: list[tuple[str | None, str]] = []
    i = head.end()
    while True:
        cte = _CTE_HEAD_RE.match(sql, i)
        # (`_w` names are the ones `statement` gives)
        if cte is None or cte.group(1).upper() == "RECURSIVE" or cte.group(1).startswith("_w"):
            return None
        end = _closing_paren(sql, cte.end() - 1)
        if end is None:
            return None
        ctes.append((cte.group(1), sql[cte.end() : end]))
        comma = _COMMA_RE.match(sql, end + 1)
        if comma is None:
            break
        i = comma.end()
    main = sql[end + 1 :].strip()
    if _WRITE_RE.match(main):
        ctes.append((None, main))
    elif not (re.match(r"SELECT\b", main, re.I) and "?" not in main):
        return None
    return ctes


def _closing_paren(sql: str, start: int) -> int | None:
    """The index of the parenthesis that closes the one at `start`."""
    depth = 0
    for match in _TOKEN_RE.finditer(sql, start):
        token = match.group(0)
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
            if depth == 0:
                return match.start()
    return None


def _tables(sql: str) -> frozenset[str] | None:
    """The names after INTO, UPDATE, JOIN and in FROM / USING lists (functions such as
    unnest left out); None where a name could hide behind a keyword (ONLY, LATERAL) or
    a schema."""
    tokens = [t for t in _TOKEN_RE.findall(sql) if not t.startswith("--")]
    tables: set[str] = set()
    depth = 0
    lists: list[int] = []  # the depths of the FROM lists open
    expect = False  # the next name is a table's
    previous = ""
    for i, token in enumerate(tokens):
        word = token.upper()
        if token == "(":
            depth += 1
            expect = False
        elif token == ")":
            depth -= 1
            while lists and lists[-1] > depth:
                lists.pop()
        elif expect:
            expect = False
            if word in ("ONLY", "LATERAL") or not (token[0].isalpha() or token[0] in '_"'):
                return None
            following = tokens[i + 1] if i + 1 < len(tokens) else ""
            if following == ".":
                return None
            if not (following == "(" and previous != "INTO"):  # not a function's call
                tables.add(token.strip('"').lower())
        elif word in ("INTO", "JOIN") or (word == "UPDATE" and previous != "DO"):
            expect = True
        elif word in ("FROM", "USING"):
            expect = True
            lists.append(depth)
        elif lists and lists[-1] == depth:
            if token == ",":
                expect = True
            elif word in _FROM_ENDS:
                lists.pop()
        previous = word
    return frozenset(tables)


@functools.lru_cache(maxsize=1024)
def _insert_shape(sql: str) -> tuple[frozenset[str], int, tuple[int, ...] | None] | None:
    """For `INSERT INTO t (cols) VALUES (...) [ON CONFLICT ...]` with every placeholder
    in the VALUES row: the tables, the number of placeholders and, for an upsert, the
    placeholders of its conflict key (each must be one column's whole value)."""
    head = _INSERT_VALUES_RE.match(sql)
    if head is None:
        return None
    end = _closing_paren(sql, head.end() - 1)
    if end is None:
        return None
    tail = sql[end + 1 :]
    if "?" in tail:
        return None
    shape = _shape(sql)
    if shape is None:
        return None
    columns = [c.strip().lower() for c in head.group(1).split(",")]
    values = _split_top_level(sql[head.end() : end])
    if len(values) != len(columns):
        return None
    width = sum(v.count("?") for v in values)
    upsert = _UPSERT_RE.match(tail)
    keys: tuple[int, ...] | None = None
    if upsert is not None:
        placeholder = {  # column -> its placeholder's index, where the value is just `?`
            c: sum(p.count("?") for p in values[:i])
            for i, (c, v) in enumerate(zip(columns, values, strict=True))
            if v.strip() == "?"
        }
        key_columns = [k.strip().lower() for k in upsert.group(1).split(",")]
        if any(k not in placeholder for k in key_columns):
            return None
        keys = tuple(placeholder[k] for k in key_columns)
    elif re.search(r"\bDO\s+UPDATE\b", tail, re.I):
        return None
    return shape[1], width, keys


def _split_top_level(text: str) -> list[str]:
    """`text` cut at its commas outside parentheses and quotes."""
    parts, depth, start = [], 0, 0
    for match in _TOKEN_RE.finditer(text):
        token = match.group(0)
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif token == "," and depth == 0:
            parts.append(text[start : match.start()])
            start = match.end()
    parts.append(text[start:])
    return parts


@functools.lru_cache(maxsize=1024)
def _unnest_text(sql: str, types: tuple[str | None, ...]) -> str:
    """`INSERT INTO t (cols) VALUES (f(?), ?) tail` as `INSERT INTO t (cols) SELECT
    f(_u.c0), _u.c1 FROM unnest(?::text[], ?::bigint[]) AS _u(c0, c1) tail`; a
    placeholder whose column is all NULL becomes NULL."""
    head = _INSERT_VALUES_RE.match(sql)
    assert head is not None
    end = _closing_paren(sql, head.end() - 1)
    assert end is not None
    values_at = sql.upper().rindex("VALUES", 0, head.end())
    out: list[str] = []
    index = 0
    last = head.end()
    for match in _TOKEN_RE.finditer(sql, head.end(), end):
        if match.group(0) == "?":
            t = types[index]
            out.append(sql[last : match.start()])
            out.append("NULL" if t is None else f"_u.c{index}")
            last = match.end()
            index += 1
    out.append(sql[last:end])
    arrays = ", ".join(f"?::{t}[]" for t in types if t is not None)
    names = ", ".join(f"c{i}" for i, t in enumerate(types) if t is not None)
    return (
        f"{sql[:values_at]}SELECT {''.join(out)} FROM unnest({arrays}) AS _u({names})"
        f"{sql[end + 1 :]}"
    )
