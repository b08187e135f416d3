"""Which writes may share one statement of data-modifying CTEs (no database needed):
only those that cannot tell they run in one snapshot, in no set order."""

from __future__ import annotations

from ranvier.storage.combined_writes import WriteBatch, rows_write, single_write

_UPSERT = (
    "INSERT INTO receipts (room_id, user_id, event_id) VALUES (?, ?, ?)"
    " ON CONFLICT (room_id, user_id) DO UPDATE SET event_id = excluded.event_id"
)


def _combines(*writes: tuple[str, list]) -> bool:
    batch = WriteBatch()
    return all(batch.add(single_write(sql, args)) for sql, args in writes)


def test_writes_to_different_tables_combine_in_order() -> None:
    batch = WriteBatch()
    assert batch.add(single_write("UPDATE a SET x = ? WHERE k = ?", [1, "k"]))
    assert batch.add(rows_write("INSERT INTO b (x, y) VALUES (?, f(?))", [(1, "p"), (2, "q")]))
    assert batch.add(single_write("WITH gone AS (DELETE FROM c WHERE k = ?) SELECT 1", ["c"]))
    sql, args = batch.statement()
    assert sql == (
        "WITH _w0 AS (UPDATE a SET x = ? WHERE k = ?),"
        " _w1 AS (INSERT INTO b (x, y) SELECT _u.c0, f(_u.c1)"
        " FROM unnest(?::bigint[], ?::text[]) AS _u(c0, c1)),"
        " gone AS (DELETE FROM c WHERE k = ?) SELECT 1"
    )
    assert args == [1, "k", [1, 2], ["p", "q"], "c"]


def test_writes_naming_a_common_table_do_not_combine() -> None:
    assert not _combines(
        ("DELETE FROM a WHERE k = ?", ["k"]), ("INSERT INTO a (k) VALUES (?)", ["k"])
    )
    # A table only read counts too: the read would miss the other's write.
    assert not _combines(
        ("INSERT INTO a (k) VALUES (?)", ["k"]),
        ("UPDATE b SET n = 1 WHERE k IN (SELECT k FROM x JOIN a ON a.k = x.k)", []),
    )
    assert not _combines(("INSERT INTO a (k) VALUES (?)", ["k"]), ("DELETE FROM b USING c, a", []))
    assert not _combines(
        ("INSERT INTO a (k) VALUES (?)", ["k"]),
        ("UPDATE b SET n = 1 FROM c JOIN d ON c.k = d.k, a WHERE a.k = b.k", []),
    )


def test_statements_it_cannot_read_do_not_combine() -> None:
    assert single_write("SELECT 1", []) is None
    assert single_write("UPDATE ONLY a SET x = 1", []) is None
    assert single_write("DELETE FROM public.a", []) is None
    assert single_write("WITH RECURSIVE r AS (SELECT 1) DELETE FROM a", []) is None
    # The WITH's last statement would be dropped with an argument in it.
    assert single_write("WITH d AS (DELETE FROM a) SELECT ?", [1]) is None


def test_a_multi_row_upsert_combines_only_when_its_keys_differ() -> None:
    assert rows_write(_UPSERT, [("r", "u", "e1"), ("r", "v", "e2")]) is not None
    assert rows_write(_UPSERT, [("r", "u", "e1"), ("r", "u", "e2")]) is None
    assert rows_write("UPDATE a SET x = ? WHERE k = ?", [(1, "a"), (2, "b")]) is None
    assert rows_write("UPDATE a SET x = ? WHERE k = ?", [(1, "a")]) is not None


def test_unnest_arrays_take_their_types_from_the_values() -> None:
    write = rows_write(
        "INSERT INTO a (x, y, z) VALUES (?, ?, ?)", [(1, None, None), (2, "s", None)]
    )
    assert write is not None
    ((_, body),) = write.ctes
    assert body == (
        "INSERT INTO a (x, y, z) SELECT _u.c0, _u.c1, NULL"
        " FROM unnest(?::bigint[], ?::text[]) AS _u(c0, c1)"
    )
    assert list(write.args) == [[1, 2], [None, "s"]]
    # Flags are passed as int (docs/STORAGE.md); a bool or a mixed column is refused.
    assert rows_write("INSERT INTO a (x) VALUES (?)", [(True,)]) is None
    assert rows_write("INSERT INTO a (x) VALUES (?)", [(1,), ("1",)]) is None
