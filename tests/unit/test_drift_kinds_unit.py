"""What the drift writer does with a kind of object, or an attribute, that it has no writer
for (no database): a TODO line in both parts, never left out; and how kinds are ordered where
one calls a routine the other is."""

from __future__ import annotations

from pgshift.verify.drift.change import Change
from pgshift.verify.drift.migration import drift_migration
from pgshift.verify.drift.order import ordered


def test_a_kind_or_attribute_without_a_writer_is_a_todo_line_not_left_out() -> None:
    table = {"kind": "r", "persistence": "p", "grants": [], "comment": None}
    expected = {"table": {"public.t": table},
                "widget": {"w1": {"size": 1}, "w2": {"size": 1}}}
    actual = {"table": {"public.t": {**table, "shine": "high"}},
              "widget": {"w1": {"size": 2}, "w3": {"size": 1}}}
    made = drift_migration(expected, actual)
    assert made.up == made.down == []
    assert made.todo == [
        "table public.t: shine not written (no writer for it yet)",
        "widget w1: size differ (no writer for this kind yet)",
        "widget w2: dropped from the database (no writer for this kind yet)",
        "widget w3: only in the database (no writer for this kind yet)"]
    up, down = made.text("-- header").split("-- pgshift:down")
    assert "-- TODO: widget w1: size differ" in up
    assert "-- TODO: undo: widget w1: size differ" in down


def test_routines_that_call_each_other_are_ordered_still_and_before_what_calls_them() -> None:
    a = Change("function", True, "CREATE FUNCTION public.a() … public.b()",
               (("function", "public.a()"),))
    b = Change("function", True, "CREATE FUNCTION public.b() … public.a()",
               (("function", "public.b()"),))
    index = Change("index", True, "CREATE INDEX x ON public.t (public.a(c));")
    table = Change("table", True, "CREATE TABLE public.t (c int);")
    made = ordered([index, a, b, table])
    assert made[0] == table.sql and made.index(a.sql) < made.index(index.sql)
    assert sorted(made) == sorted(c.sql for c in (index, a, b, table))
    dropped = ordered([Change("function", False, "DROP FUNCTION public.a();"),
                       Change("index", False, "DROP INDEX x;", reads=index.sql),
                       Change("table", False, "DROP TABLE public.t;")])
    assert dropped == ["DROP INDEX x;", "DROP FUNCTION public.a();", "DROP TABLE public.t;"]
