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


DOMAINS = """CREATE DOMAIN positive AS int CHECK (VALUE > 0);
CREATE DOMAIN required AS int NOT NULL;
CREATE DOMAIN region AS text DEFAULT 'eu';
CREATE SEQUENCE item_no;
CREATE TABLE items (id int PRIMARY KEY,
  no positive DEFAULT nextval('item_no'),
  qty required DEFAULT 1,
  area region,
  label text DEFAULT 'x');
INSERT INTO items (id, no, qty, area) SELECT g, g, g, 'us' FROM generate_series(1, 5) g;"""


@pytest.mark.parametrize(("recipe", "column", "type", "reason"), [
    ("rename-column", "qty", None, "required is a domain with NOT NULL: ADD COLUMN fails on a "
     "table with rows; every INSERT leaving a column out would fail"),
    ("rename-column", "area", None, "region is a domain with the default 'eu'::text: ADD "
     "COLUMN gives every row of new_col the default, and the backfill fills only NULLs"),
    ("change-column-type", "label", "region", "region is a domain with the default "
     "'eu'::text"),
])
def test_a_column_of_a_domain_with_not_null_or_a_default_is_refused_before_writing(
    recipe, column, type, reason, settings, query, migrations_dir
) -> None:
    """Such a domain's NOT NULL fails step 1 on a table with rows, and the marker default
    (a NULL) would fail every INSERT leaving a column out; its default fills every existing
    row of the new column, which the backfill then skips (the last step would drop the old
    values), and is given before the trigger sees a row."""
    from pgshift.errors import InputError

    query(DOMAINS)
    with pytest.raises(InputError) as refused:
        api.create_recipe(settings, recipe, RecipeParams(
            table="items", column=column, new_column="new_col", type=type))
    assert str(refused.value).startswith(
        f"recipe {recipe} cannot change items.{column}: {reason}")
    assert "ALTER DOMAIN " in str(refused.value)
    assert refused.value.exit_code == 2
    assert list(migrations_dir.iterdir()) == []


def test_a_domain_with_a_check_is_refused_as_a_rewrite_before_writing(
    settings, query, migrations_dir
) -> None:
    """ADD COLUMN of a domain with a CHECK rewrites the table under ACCESS EXCLUSIVE
    (PostgreSQL checks the domain on every row, even for a NULL): not a zero-downtime step."""
    from pgshift.errors import InputError

    query(DOMAINS)
    before = query("SELECT pg_relation_filenode('items')")
    with pytest.raises(InputError) as refused:
        api.create_recipe(settings, "rename-column", RecipeParams(
            table="items", column="no", new_column="number"))
    assert str(refused.value).startswith(
        "recipe rename-column cannot change items.no: positive is a domain with a CHECK: "
        "step 1's ADD COLUMN of it rewrites items under ACCESS EXCLUSIVE")
    assert list(migrations_dir.iterdir()) == []
    assert query("SELECT pg_relation_filenode('items')") == before


def test_adding_a_column_of_a_checked_domain_rewrites_the_table_as_the_refusal_says(
    query
) -> None:
    query("CREATE DOMAIN positive AS int CHECK (VALUE > 0); CREATE DOMAIN plain AS int;"
          "CREATE TABLE t (id int); INSERT INTO t VALUES (1)")
    before = query("SELECT pg_relation_filenode('t')")
    query("ALTER TABLE t ADD COLUMN p plain")
    assert query("SELECT pg_relation_filenode('t')") == before
    query("ALTER TABLE t ADD COLUMN c positive")
    assert query("SELECT pg_relation_filenode('t')") != before


SKIPPING = """CREATE FUNCTION skip_negative() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN IF NEW.id < 0 THEN RETURN NULL; END IF; RETURN NEW; END $$;"""


@pytest.mark.parametrize("name", ['"0skip"', '"Askip"', "a_skip", "orders_skip", "z_skip"])
def test_a_row_another_trigger_skips_leaves_no_flag_for_the_next_row(
    name, settings, query
) -> None:
    """Before the fix, a row that a trigger firing before the sync trigger skipped left its
    markers' settings raised for the rest of the transaction: the next row's explicit NULL
    took the default (a uuid, a nextval). The sync trigger now fires first (BEFORE triggers
    fire in name order), whatever the others are named."""
    query(SETUP + SKIPPING + f"CREATE TRIGGER {name} BEFORE INSERT OR UPDATE ON orders "
          "FOR EACH ROW EXECUTE FUNCTION skip_negative();")
    api.create_recipe(settings, "rename-column", RecipeParams(
        table="orders", column="token", new_column="public_id"))
    api.up(settings, phase="expand")
    query("BEGIN; INSERT INTO orders (id) VALUES (-1);"
          "INSERT INTO orders (id, token) VALUES (101, NULL);"  # old app, explicit NULL
          "INSERT INTO orders (id) VALUES (-2), (102);"
          "INSERT INTO orders (id, public_id) VALUES (-3, NULL), (103, NULL);"  # new app
          "INSERT INTO orders (id) VALUES (-4); UPDATE orders SET token = NULL WHERE id = 102;"
          "COMMIT")
    assert query("SELECT id, token IS NULL, public_id IS NULL FROM orders WHERE id > 100 "
                 "ORDER BY id") == [(101, True, True), (102, True, True), (103, True, True)]


def test_upserts_a_partitioned_table_and_a_generated_column_keep_one_value_and_one_nextval(
    settings, query
) -> None:
    """The markers and the trigger reach every partition (an INSERT into a partition itself
    too); INSERT … ON CONFLICT DO UPDATE and a row moving to another partition keep both
    columns on one value, and only the defaults PostgreSQL evaluates take a nextval."""
    query("""CREATE SEQUENCE s;
CREATE TABLE t (id int PRIMARY KEY, no int DEFAULT nextval('s'),
  twice int GENERATED ALWAYS AS (id * 2) STORED) PARTITION BY RANGE (id);
CREATE TABLE t1 PARTITION OF t FOR VALUES FROM (0) TO (100);
CREATE TABLE t2 PARTITION OF t FOR VALUES FROM (100) TO (200);
INSERT INTO t (id) VALUES (1), (150);""")
    api.create_recipe(settings, "rename-column", RecipeParams(
        table="t", column="no", new_column="number"))
    api.up(settings, phase="expand")
    query("INSERT INTO t (id) VALUES (2), (151); INSERT INTO t1 (id) VALUES (3);"
          "INSERT INTO t2 (id, number) VALUES (152, 77); INSERT INTO t (id, no) VALUES "
          "(4, NULL); UPDATE t SET id = 120 WHERE id = 2")
    query("INSERT INTO t (id, number) VALUES (5, 50) ON CONFLICT (id) DO UPDATE "
          "SET number = EXCLUDED.number")  # inserts
    query("INSERT INTO t (id, no) VALUES (5, 51) ON CONFLICT (id) DO UPDATE "
          "SET no = EXCLUDED.no")  # updates
    query("INSERT INTO t (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET number = DEFAULT")
    assert query("SELECT id, no, number, twice FROM t ORDER BY id") == [
        (1, 7, 7, 2), (3, 5, 5, 6), (4, None, None, 8), (5, 51, 51, 10), (120, 3, 3, 240),
        (150, 2, 2, 300), (151, 4, 4, 302), (152, 77, 77, 304)]
    # 1, 2 before; 3, 4, 5 the three rows left to it; 6 the upsert's insert that conflicted
    # (as without the recipe), 7 its DEFAULT
    assert query("SELECT last_value FROM s") == [(7,)]
