"""How drift becomes SQL, from two catalog snapshots (no database): order, names, what is left
to do by hand."""

from __future__ import annotations

from pgshift.verify.drift_migration import _identifiers, drift_migration

TABLE = {"kind": "r", "persistence": "p", "grants": [], "comment": None}


def column(position: int, type: str, **extra: object) -> dict:
    return {"position": position, "type": type, "not_null": False, "default": None,
            "identity": None, "generated": None, "collation": None, "grants": [],
            "comment": None, **extra}


def test_quoted_names_keep_their_quotes_and_their_dots() -> None:
    assert _identifiers('public."odd.table"."Col"') == ["public", '"odd.table"', '"Col"']
    assert _identifiers('"a""b".c') == ['"a""b"', "c"]


def test_a_changed_view_is_dropped_before_the_column_it_read_and_made_after() -> None:
    expected = {"table": {"public.t": TABLE, "public.v": {"kind": "v", "definition": " SELECT a;"}},
                "column": {"public.t.a": column(1, "int"), "public.v.a": column(1, "int")}}
    actual = {"table": {"public.t": TABLE, "public.v": {"kind": "v", "definition": " SELECT b;"}},
              "column": {"public.t.b": column(1, "int"), "public.v.b": column(1, "int")}}
    made = drift_migration(expected, actual)
    assert made.up == ["DROP VIEW public.v;", "ALTER TABLE public.t DROP COLUMN a;",
                       "ALTER TABLE public.t ADD COLUMN b int;",
                       "CREATE VIEW public.v AS\n SELECT b;"]
    assert made.down == ["DROP VIEW public.v;", "ALTER TABLE public.t DROP COLUMN b;",
                         "ALTER TABLE public.t ADD COLUMN a int;",
                         "CREATE VIEW public.v AS\n SELECT a;"]
    assert made.todo == [] and not made.concurrent


def test_an_identity_column_and_a_grant_are_left_to_do_by_hand() -> None:
    expected = {"table": {"public.t": TABLE}, "column": {"public.t.a": column(1, "int")}}
    actual = {"table": {"public.t": TABLE},
              "column": {"public.t.a": column(1, "int"),
                         "public.t.id": column(2, "bigint", identity="a", not_null=True),
                         "public.t.b": column(3, "text", grants=["app=r/owner"])}}
    made = drift_migration(expected, actual)
    assert made.up == ["ALTER TABLE public.t ADD COLUMN b text;"]
    assert made.todo == ["column public.t.id: an identity or generated column",
                         "column public.t.b: grants not written"]


def test_a_not_null_constraint_of_18_follows_its_column() -> None:
    expected = {"table": {"public.t": TABLE}, "column": {"public.t.a": column(1, "int")}}
    actual = {"table": {"public.t": TABLE},
              "column": {"public.t.a": column(1, "int", not_null=True)},
              "constraint": {"public.t_a_not_null on public.t": {
                  "type": "n", "definition": "NOT NULL a", "valid": True}}}
    made = drift_migration(expected, actual)
    assert made.up == ["ALTER TABLE public.t ALTER COLUMN a SET NOT NULL;"]
    assert made.down == ["ALTER TABLE public.t ALTER COLUMN a DROP NOT NULL;"]


def test_an_invalid_index_is_not_copied() -> None:
    actual = {"index": {"public.i": {"definition": "CREATE INDEX i ON public.t USING btree (a)",
                                     "valid": False}}}
    made = drift_migration({}, actual)
    assert made.up == [] and made.todo[0].startswith("index public.i: INVALID in the database")
