"""rename-column and change-column-type of a column with a volatile default (nextval,
clock_timestamp(), gen_random_uuid()): whichever application version inserts, and however
(naming the column, leaving it to its default, several rows, COPY), both columns hold one value
and a sequence is consumed once a row; through the contract step and back.

PostgreSQL evaluates a column's default before a BEFORE trigger sees the row: before the fix,
the new app's INSERT naming only the new column took a nextval for the old one (which then
held another value than the one written), and once the default was copied to the new column
(as the recipe's notes said) an INSERT naming neither column took two, one for each column.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pgshift import api
from pgshift.recipes import RecipeParams

SETUP = """SET TIME ZONE 'UTC';
CREATE SEQUENCE order_no;
CREATE TABLE orders (id int PRIMARY KEY,
  no int NOT NULL DEFAULT nextval('order_no'),
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  token uuid DEFAULT gen_random_uuid(),
  status text NOT NULL DEFAULT 'new');
INSERT INTO orders (id) SELECT g FROM generate_series(1, 50) g;
ALTER SEQUENCE order_no RESTART WITH 1000;"""


@dataclass(frozen=True)
class Case:
    recipe: str
    column: str
    new: str
    written: str         # a value the apps write, as SQL
    same: str            # SQL: whether the row's two columns hold one value
    type: str | None = None


CASES = {
    "rename, nextval": Case("rename-column", "no", "number", "7", "no = number"),
    "rename, clock_timestamp()": Case("rename-column", "at", "placed_at",
                                      "'2020-01-01 10:00'", "at = placed_at"),
    "rename, gen_random_uuid()": Case("rename-column", "token", "public_id",
                                      "'00000000-0000-0000-0000-000000000007'",
                                      "token = public_id"),
    "rename, a constant": Case("rename-column", "status", "state", "'paid'",
                               "status = state"),
    "change type, nextval": Case("change-column-type", "no", "number", "7",
                                 "no::bigint = number", "bigint"),
    "change type, clock_timestamp()": Case("change-column-type", "at", "placed_at",
                                           "'2020-01-01 10:00'", "at::timestamp = placed_at",
                                           "timestamp"),
    "change type, gen_random_uuid()": Case("change-column-type", "token", "public_id",
                                           "'00000000-0000-0000-0000-000000000007'",
                                           "token::text = public_id", "text"),
}


def _inserts(case: Case, first: int) -> tuple[list[str], int]:
    """The old and the new app's INSERTs (ids from ``first``), and how many rows leave the
    column to its default (each should take one nextval)."""
    c, n, v = case.column, case.new, case.written
    i = first
    statements = [
        f"INSERT INTO orders (id, {n}) VALUES ({i}, {v})",           # new app, names it
        f"INSERT INTO orders (id) VALUES ({i + 1})",                 # new app, leaves it
        f"INSERT INTO orders (id, {c}) VALUES ({i + 2}, {v})",       # old app, names it
        f"INSERT INTO orders (id, {c}) VALUES ({i + 3}, DEFAULT)",   # old app, DEFAULT
        f"INSERT INTO orders (id, {n}) VALUES ({i + 4}, DEFAULT)",   # new app, DEFAULT
        f"INSERT INTO orders (id) VALUES ({i + 5}), ({i + 6}), ({i + 7})",
        f"INSERT INTO orders (id, {n}) SELECT g, {v} FROM generate_series({i + 8}, {i + 11}) g "
        "ORDER BY g DESC",
        f"INSERT INTO orders (id) SELECT g FROM generate_series({i + 12}, {i + 15}) g "
        "ORDER BY g DESC",
    ]
    if c == "token":  # nullable: an app's explicit NULL stays NULL on both sides
        statements += [f"INSERT INTO orders (id, {n}) VALUES ({i + 16}, NULL)",
                       f"INSERT INTO orders (id, {c}) VALUES ({i + 17}, NULL)"]
    return statements, 10


def _rows_apart(query, case: Case) -> list[tuple]:
    return query(f"SELECT id, {case.column}::text, {case.new}::text FROM orders "
                 f"WHERE ({case.same}) IS NOT TRUE AND ({case.column} IS NOT NULL "
                 f"OR {case.new} IS NOT NULL) ORDER BY id")


def _default_of(query, column: str) -> str | None:
    rows = query("SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a JOIN pg_attrdef d "
                 "ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE a.attrelid = "
                 "'orders'::regclass AND a.attname = %s", column)
    return rows[0][0] if rows else None


@pytest.mark.parametrize("name", sorted(CASES))
def test_both_columns_take_one_value_and_one_nextval_whichever_app_inserts(
    name, settings, query
) -> None:
    case = CASES[name]
    query(SETUP)
    before = _default_of(query, case.column)
    relfilenode = "SELECT relfilenode FROM pg_class WHERE oid = 'orders'::regclass"
    rewritten = query(relfilenode)
    api.create_recipe(settings, case.recipe, RecipeParams(
        table="orders", column=case.column, new_column=case.new, type=case.type))
    api.up(settings, phase="expand")
    assert query(relfilenode) == rewritten  # the marker defaults rewrote nothing
    if case.column == "no":  # the new column's unique index, for the numbers handed out
        query(f"CREATE UNIQUE INDEX ON orders ({case.new}) WHERE {case.new} >= 1000")
    statements, defaulted = _inserts(case, 101)
    for statement in statements:
        query(statement)
    query("COPY orders (id) FROM PROGRAM 'seq 201 203'")  # a load, leaving it to its default
    query(f"UPDATE orders SET {case.column} = DEFAULT WHERE id = 101")  # old app
    query(f"UPDATE orders SET {case.new} = DEFAULT WHERE id = 103")  # new app
    query(f"UPDATE orders SET {case.new} = {case.written} WHERE id = 102")
    defaulted += 3 + 2
    assert _rows_apart(query, case) == []
    assert query(f"SELECT array_agg(id ORDER BY id) FROM orders WHERE {case.column} IS NULL "
                 f"OR {case.new} IS NULL") == [([117, 118] if case.column == "token" else None,)]
    if case.column == "no":
        assert query("SELECT last_value FROM order_no") == [(999 + defaulted,)]
        assert query("SELECT count(DISTINCT no) = count(*) FROM orders WHERE no >= 1000") == [
            (True,)]

    api.up(settings, allow_contract=True)
    assert _default_of(query, case.new) is not None
    query("INSERT INTO orders (id) VALUES (301)")
    assert query(f"SELECT {case.new} IS NOT NULL FROM orders WHERE id = 301") == [(True,)]
    api.down(settings, steps=1)  # the old column and the sync trigger come back
    query("INSERT INTO orders (id) VALUES (302)")
    query(f"INSERT INTO orders (id, {case.new}) VALUES (303, {case.written})")
    query(f"INSERT INTO orders (id, {case.column}) VALUES (304, {case.written})")
    assert _rows_apart(query, case) == []
    if case.column == "no":
        assert query("SELECT last_value FROM order_no") == [(999 + defaulted + 2,)]
    api.down(settings, everything=True)
    assert _default_of(query, case.column) == before
    query("INSERT INTO orders (id) VALUES (305)")
    assert query(f"SELECT {case.column} IS NOT NULL FROM orders WHERE id = 305") == [(True,)]


def test_a_using_that_cannot_carry_the_default_to_the_new_column_is_refused_before_writing(
    settings, query, migrations_dir
) -> None:
    """The last step gives the new column the old one's default through --using: a subquery
    works in the trigger and the backfill, but no DEFAULT takes it, and that step would fail
    at up."""
    from pgshift.errors import InputError

    query(SETUP)
    with pytest.raises(InputError) as refused:
        api.create_recipe(settings, "change-column-type", RecipeParams(
            table="orders", column="no", new_column="number", type="bigint",
            using="(SELECT no)::bigint"))
    assert str(refused.value).startswith(
        "recipe change-column-type cannot change orders.no: --using (SELECT no)::bigint cannot "
        "give number the default of no (nextval('order_no'::regclass)): cannot use subquery "
        "in DEFAULT expression (hint: ")
    assert refused.value.exit_code == 2
    assert list(migrations_dir.iterdir()) == []


def test_a_using_carries_the_default_to_the_new_column_converted(settings, query) -> None:
    query(SETUP)
    api.create_recipe(settings, "change-column-type", RecipeParams(
        table="orders", column="status", new_column="state", type="varchar(10)",
        using="upper(status)::varchar(10)", reverse_using="lower(state)"))
    api.up(settings, allow_contract=True)
    assert _default_of(query, "state") == "(upper('new'::text))::character varying(10)"
    query("INSERT INTO orders (id) VALUES (101)")
    assert query("SELECT state FROM orders WHERE id = 101") == [("NEW",)]
