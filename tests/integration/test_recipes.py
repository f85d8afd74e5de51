"""Recipes: every recipe's migrations apply, do what they say, and roll back to the start."""

from __future__ import annotations

import pytest
from tests.fixtures.project import seq_scans

from pgshift import api
from pgshift.errors import InputError
from pgshift.recipes import RecipeParams, render_recipe

SETUP = """
CREATE TABLE owners (id int PRIMARY KEY);
INSERT INTO owners SELECT g FROM generate_series(1, 10) g;
CREATE TABLE users (id bigint PRIMARY KEY, owner_id int NOT NULL, email text NOT NULL,
                    amount text, legacy text NOT NULL DEFAULT 'x');
INSERT INTO users SELECT g, 1 + g % 10, 'u' || g || '@example.com', (g * 3)::text, 'x'
FROM generate_series(1, 3000) g;
"""

SCHEMA = """
SELECT json_build_object(
  'columns', (SELECT json_agg(json_build_array(column_name, data_type, is_nullable,
              column_default) ORDER BY column_name) FROM information_schema.columns
              WHERE table_schema = 'public' AND table_name = 'users'),
  'constraints', (SELECT json_agg(json_build_array(conname, convalidated) ORDER BY conname)
                  FROM pg_constraint WHERE conrelid = 'users'::regclass),
  'indexes', (SELECT json_agg(indexrelid::regclass::text ORDER BY 1) FROM pg_index
              WHERE indrelid = 'users'::regclass),
  'triggers', (SELECT json_agg(tgname ORDER BY tgname) FROM pg_trigger
               WHERE tgrelid = 'users'::regclass),
  'types', (SELECT json_agg(typname ORDER BY typname) FROM pg_type
            WHERE typnamespace = 'public'::regnamespace AND typtype = 'e'))::text
"""

CASES = {
    "add-column-default": (
        RecipeParams(table="users", column="seen_at", type="timestamptz",
                     default="clock_timestamp()", not_null=True),
        "SELECT count(*) FROM users WHERE seen_at IS NULL",
        [(0,)]),
    "add-index": (
        RecipeParams(table="users", columns="lower(email)", unique=True),
        "SELECT indisvalid, indisunique FROM pg_index WHERE indrelid = 'users'::regclass "
        "AND indexrelid::regclass::text LIKE '%lower%'",
        [(True, True)]),
    "add-check": (
        RecipeParams(table="users", check="email LIKE '%@%'", constraint="email_has_at"),
        "SELECT convalidated FROM pg_constraint WHERE conname = 'email_has_at'",
        [(True,)]),
    "add-foreign-key": (
        RecipeParams(table="users", column="owner_id", references="owners(id)"),
        "SELECT contype, convalidated FROM pg_constraint WHERE conrelid = 'users'::regclass "
        "AND contype = 'f'",
        [("f", True)]),
    "set-not-null": (
        RecipeParams(table="users", column="amount"),
        "SELECT attnotnull, (SELECT count(*) FROM pg_constraint WHERE conrelid = attrelid "
        "AND contype = 'c') FROM pg_attribute WHERE attrelid = 'users'::regclass "
        "AND attname = 'amount'",
        [(True, 0)]),
    "add-enum": (
        RecipeParams(table="users", column="tier", type="user_tier",
                     values=("free", "pro", "it's"), default="free"),
        "SELECT tier::text, count(*) FROM users GROUP BY 1",
        [("free", 3000)]),
    "rename-column": (
        RecipeParams(table="users", column="email", new_column="email_address"),
        "SELECT count(*) FILTER (WHERE email_address LIKE 'u%@example.com'), "
        "count(*) FILTER (WHERE attname IS NOT NULL) FROM users LEFT JOIN pg_attribute "
        "ON attrelid = 'users'::regclass AND attname = 'email' AND NOT attisdropped",
        [(3000, 0)]),
    "change-column-type": (
        RecipeParams(table="users", column="amount", type="numeric(12,2)",
                     new_column="amount_num"),
        "SELECT sum(amount_num), pg_typeof(min(amount_num))::text FROM users",
        [(13504500, "numeric")]),
    "remove-column": (
        RecipeParams(table="users", column="legacy"),
        "SELECT count(*) FROM pg_attribute WHERE attrelid = 'users'::regclass "
        "AND attname = 'legacy' AND NOT attisdropped",
        [(0,)]),
}


@pytest.mark.parametrize("recipe", sorted(CASES))
def test_recipe_migrations_apply_and_roll_back_to_the_original_schema(
    recipe, settings, query
) -> None:
    params, check, expected = CASES[recipe]
    query(SETUP)
    before = query(SCHEMA)
    paths = api.create_recipe(settings, recipe, params)
    result = api.up(settings, allow_contract=True)
    assert len(result.outcomes) == len(paths)
    assert query(check) == expected
    api.down(settings, everything=True)
    assert query(SCHEMA) == before


@pytest.mark.parametrize("recipe", sorted(CASES))
def test_recipe_migrations_pass_verify_step_by_step(recipe, settings, write_migration) -> None:
    """Each file on its own: its down restores the schema exactly (a validated constraint
    comes back NOT VALID), its up runs again after its down, and the lint gate passes."""
    import dataclasses

    write_migration("V001__setup.sql", SETUP, "DROP TABLE users, owners;")
    api.up(settings)
    api.create_recipe(settings, recipe, CASES[recipe][0])
    report = api.verify(dataclasses.replace(settings, lint=True))
    assert report.ok, [(m.label, f.message) for m in report.migrations for f in m.findings
                       if f.is_failure]


def test_rename_keeps_both_columns_in_sync_while_both_app_versions_run(
    settings, query
) -> None:
    query(SETUP)
    api.create_recipe(settings, "rename-column", RecipeParams(
        table="users", column="email", new_column="email_address"))
    api.up(settings, phase="expand")
    query("INSERT INTO users (id, owner_id, email) VALUES (10001, 1, 'old@app')")
    query("INSERT INTO users (id, owner_id, email_address) VALUES (10002, 1, 'new@app')")
    query("UPDATE users SET email = 'old2@app' WHERE id = 1")
    query("UPDATE users SET email_address = 'new2@app' WHERE id = 2")
    assert query("SELECT id, email, email_address FROM users WHERE id IN (1, 2, 10001, 10002) "
                 "ORDER BY id") == [(1, "old2@app", "old2@app"), (2, "new2@app", "new2@app"),
                                    (10001, "old@app", "old@app"), (10002, "new@app", "new@app")]
    assert query("SELECT count(*) FROM users WHERE email IS DISTINCT FROM email_address") == [
        (0,)]


@pytest.mark.parametrize(("recipe", "params"), [
    ("rename-column", {"new_column": "settings"}),
    ("change-column-type", {"new_column": "prefs_b", "type": "jsonb"}),
])
def test_a_column_without_equality_stays_in_sync_and_the_apps_updates_work(
    settings, query, recipe, params
) -> None:
    query("CREATE TABLE profiles (id bigint PRIMARY KEY, prefs json, at point, n int); "
          "INSERT INTO profiles SELECT g, json_build_object('g', g), point(g, g), g "
          "FROM generate_series(1, 50) g")
    api.create_recipe(settings, recipe, RecipeParams(table="profiles", column="prefs", **params))
    api.up(settings, phase="expand")
    new = params["new_column"]
    query("UPDATE profiles SET n = n + 1")  # the app's writes of other columns
    query("UPDATE profiles SET prefs = '{\"v\": 2}' WHERE id = 1")
    query(f"UPDATE profiles SET {new} = '{{\"v\": 3}}' WHERE id = 2")
    assert query(f"SELECT id, prefs::text, {new}::text FROM profiles WHERE id <= 3 "
                 "ORDER BY id") == [(1, '{"v": 2}', '{"v": 2}'), (2, '{"v": 3}', '{"v": 3}'),
                                    (3, '{"g" : 3}', '{"g" : 3}' if new == "settings"
                                     else '{"g": 3}')]
    api.down(settings, everything=True)
    assert query("SELECT count(*) FROM profiles WHERE prefs IS NULL") == [(0,)]


def test_change_type_backfill_does_not_rewrite_the_old_column(settings, query) -> None:
    query(SETUP + "UPDATE users SET amount = '007' WHERE id = 1;")
    api.create_recipe(settings, "change-column-type", RecipeParams(
        table="users", column="amount", type="int", new_column="amount_int"))
    api.up(settings, phase="expand")
    assert query("SELECT amount, amount_int FROM users WHERE id = 1") == [("007", 7)]
    query("UPDATE users SET amount_int = 8 WHERE id = 1")
    assert query("SELECT amount, amount_int FROM users WHERE id = 1") == [("8", 8)]


def test_recipe_with_a_missing_parameter_names_the_flag() -> None:
    with pytest.raises(InputError, match="needs --check"):
        render_recipe("add-check", RecipeParams(table="users"))


def test_recipe_with_bad_sql_in_a_parameter_fails_when_written() -> None:
    with pytest.raises(InputError, match="syntax error"):
        render_recipe("add-check", RecipeParams(table="users", check="email LIKE"))


def test_recipe_files_are_numbered_after_the_existing_migrations(settings,
                                                                 write_migration) -> None:
    write_migration("V007__first.sql", "SELECT 1;", "SELECT 1;")
    paths = api.create_recipe(settings, "set-not-null", RecipeParams(table="t", column="c"))
    assert [p.name[:5] for p in paths] == ["V008_", "V009_", "V010_"]
    assert "-- pgshift:phase expand" in paths[0].read_text()


PARTITIONS = """
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, body text) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_2025_01 (id bigint NOT NULL, at date NOT NULL, body text);
INSERT INTO events_2025_01 SELECT g, date '2025-01-01' + g % 31, 'e'
FROM generate_series(1, 20000) g;
CREATE TABLE events_2025_02 (LIKE events_2025_01);
INSERT INTO events_2025_02 SELECT g, date '2025-02-01' + g % 28, 'e'
FROM generate_series(1, 20000) g;
ANALYZE events_2025_01;
ANALYZE events_2025_02;
"""
JANUARY = RecipeParams(
    table="events", partition="events_2025_01", bounds="FROM ('2025-01-01') TO ('2025-02-01')",
    check="at IS NOT NULL AND at >= '2025-01-01' AND at < '2025-02-01'")


def test_attach_partition_skips_the_scan_passes_the_gate_and_rolls_back(settings, query) -> None:
    import dataclasses

    query(PARTITIONS)
    before = query("SELECT conname FROM pg_constraint WHERE conrelid = 'events_2025_01'::regclass")
    gated = dataclasses.replace(settings, lint=True)  # the gate refuses a plain ATTACH (below)
    paths = api.create_recipe(gated, "attach-partition", JANUARY)
    assert [p.name.split("__")[1] for p in paths] == [
        "add_events_2025_01_bounds_check_not_valid.sql",
        "validate_events_2025_01_bounds_check.sql", "attach_events_2025_01.sql"]
    api.up(gated, to=paths[1].name.split("__")[0][1:])
    scans = seq_scans(query, "events_2025_01")  # VALIDATE read the table: that is its job
    api.up(gated)
    assert seq_scans(query, "events_2025_01") == scans  # ATTACH did not read it again
    assert query("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = "
                 "'events'::regclass ORDER BY 1") == [("events_2024",), ("events_2025_01",)]
    assert query("SELECT conname FROM pg_constraint WHERE "
                 "conrelid = 'events_2025_01'::regclass") == before  # the CHECK is gone
    assert query("SELECT count(*) FROM events WHERE at >= '2025-01-01'") == [(20000,)]
    api.down(gated, everything=True)
    assert query("SELECT count(*) FROM pg_inherits WHERE inhrelid = "
                 "'events_2025_01'::regclass") == [(0,)]
    assert query("SELECT conname FROM pg_constraint WHERE "
                 "conrelid = 'events_2025_01'::regclass") == before


def test_a_plain_attach_scans_the_table_and_the_gate_refuses_it(
    settings, query, write_migration
) -> None:
    """The contrast: what the recipe avoids, measured the same way."""
    import dataclasses

    from pgshift.errors import LintFailedError

    query(PARTITIONS)
    attach = ("ALTER TABLE events ATTACH PARTITION events_2025_02 "
              "FOR VALUES FROM ('2025-02-01') TO ('2025-03-01');")
    write_migration("V1__attach.sql", attach, "ALTER TABLE events DETACH PARTITION events_2025_02;")
    with pytest.raises(LintFailedError, match="attach-partition-without-check"):
        api.up(dataclasses.replace(settings, lint=True))
    scans = seq_scans(query, "events_2025_02")
    api.up(settings)
    assert seq_scans(query, "events_2025_02") > scans


def test_attach_partition_needs_its_bounds_and_their_check() -> None:
    with pytest.raises(InputError, match="needs --bounds, --check"):
        render_recipe("attach-partition", RecipeParams(table="events", partition="p"))
    with pytest.raises(InputError, match="not a DEFAULT one"):
        render_recipe("attach-partition", RecipeParams(table="events", partition="p",
                                                       bounds="DEFAULT", check="true"))


def test_remove_table_retires_it_with_its_data_then_drops_it_for_good(
    settings, query, write_migration
) -> None:
    import dataclasses

    from pgshift.errors import IrreversibleError

    write_migration("V001__setup.sql", SETUP, "DROP TABLE users, owners;")
    api.up(settings)
    gated = dataclasses.replace(settings, lint=True)
    paths = api.create_recipe(gated, "remove-table", RecipeParams(table="users"))
    assert [p.name for p in paths] == ["V002__retire_users.sql", "V003__drop_users_retired.sql"]
    report = api.verify(gated)
    assert report.ok and [f.kind for m in report.migrations for f in m.findings] == [
        "irreversible"]
    api.up(gated, to="2", allow_contract=True)
    assert query("SELECT count(*) FROM users_retired") == [(3000,)]
    assert query("SELECT to_regclass('users')") == [(None,)]
    api.down(gated)  # a release later someone still needed it: back, whole
    assert query("SELECT count(*) FROM users") == [(3000,)]
    api.up(gated, allow_contract=True)
    assert query("SELECT to_regclass('users'), to_regclass('users_retired')") == [(None, None)]
    with pytest.raises(IrreversibleError):
        api.down(gated)


@pytest.mark.parametrize(("recipe", "column", "reason"), [
    ("rename-column", "email", "view user_emails uses email"),
    ("change-column-type", "d", "generated column users.g uses d"),
    ("remove-column", "g", "g is a generated column"),
    ("set-not-null", "id", "id is NOT NULL already"),
])
def test_a_recipe_that_would_fail_half_way_is_refused_before_it_is_written(
    settings, query, migrations_dir, recipe, column, reason
) -> None:
    query("CREATE TABLE users (id int PRIMARY KEY, email text, d int, "
          "g int GENERATED ALWAYS AS (d * 2) STORED); "
          "CREATE VIEW user_emails AS SELECT id, email FROM users")
    params = RecipeParams(table="users", column=column, new_column="renamed", type="bigint")
    with pytest.raises(InputError, match=f"recipe {recipe} cannot change users.{column}: "
                       f"{reason}"):
        api.create_recipe(settings, recipe, params)
    assert list(migrations_dir.iterdir()) == []


@pytest.mark.parametrize(("recipe", "params", "message"), [
    ("add-enum", RecipeParams(table="users", column="mood", type="mood", values=("a", "a")),
     "a given twice in --values"),
    ("add-enum", RecipeParams(table="users", column="mood", type="mood", values=("a", "b"),
                              default="c"), "the default 'c' is not one of --values"),
    ("rename-column", RecipeParams(table="users", column="email", new_column="email",
                                   type="text"), "email is its name already"),
    ("add-column-default", RecipeParams(table="users", column="n", type="bigserial",
                                        default="1"), "--type bigserial fills every row from"),
    ("add-column-default", RecipeParams(table="users", column="n", default="1",
                                        type="int GENERATED ALWAYS AS IDENTITY"),
     "fills every row from a sequence"),
    ("add-column-default", RecipeParams(table="users", column="n", type="int",
                                        default="(NULL)::int", not_null=True),
     "--default .NULL.::int with --not-null would leave every row NULL"),
])
def test_a_recipe_whose_sql_could_not_apply_is_refused_when_written(
    recipe, params, message
) -> None:
    with pytest.raises(InputError, match=message):
        render_recipe(recipe, params)


REFUSED = """
CREATE TABLE owners (id int PRIMARY KEY, code text);
CREATE VIEW owner_codes AS SELECT code FROM owners;
CREATE TABLE users (id int, region int, email text, nick text UNIQUE, note text,
                    PRIMARY KEY (id, region));
CREATE INDEX users_note_idx ON users (note);
CREATE TABLE invoices (user_nick text REFERENCES users (nick));
CREATE TABLE archive (id int);
CREATE TYPE mood AS ENUM ('ok');
CREATE TABLE plain (id int, at date);
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE kinds (id int PRIMARY KEY);
CREATE TABLE codes (id int PRIMARY KEY, code text UNIQUE, n int CHECK (n > 0),
                    kind int REFERENCES kinds, g int GENERATED ALWAYS AS IDENTITY, s serial,
                    p text);
GRANT SELECT (p) ON codes TO PUBLIC;
"""
BOUNDS = "FROM ('2025-01-01') TO ('2026-01-01')"


@pytest.mark.parametrize(("recipe", "params", "message"), [
    ("add-enum", RecipeParams(table="users", column="mood", type="mood", values=("a",)),
     "recipe add-enum: type mood exists already"),
    ("add-enum", RecipeParams(table="users", column="email", type="tier", values=("a",)),
     "recipe add-enum: users has a column email already"),
    ("add-column-default", RecipeParams(table="users", column="email", type="text",
                                        default="'x'"),
     "recipe add-column-default: users has a column email already"),
    ("remove-table", RecipeParams(table="plain", constraint="archive"),
     "recipe remove-table cannot drop plain: the retired name archive is taken by table "
     "archive"),
    ("remove-table", RecipeParams(table="owners"),
     "recipe remove-table cannot drop owners: view owner_codes uses it"),
    ("remove-table", RecipeParams(table="users"), "recipe remove-table cannot drop users: "
     "constraint invoices_user_nick_fkey on table invoices uses it"),
    ("add-partition", RecipeParams(table="plain", partition="plain_2025", bounds=BOUNDS),
     "recipe add-partition: plain is not a partitioned table"),
    ("add-partition", RecipeParams(table="nosuch", partition="nosuch_2025", bounds=BOUNDS),
     "recipe add-partition: table nosuch does not exist"),
    ("add-partition", RecipeParams(table="events", partition="plain", bounds=BOUNDS),
     "recipe add-partition: plain exists already (a table)"),
    ("attach-partition", RecipeParams(table="events", partition="events_2024", bounds=BOUNDS,
                                      check="true"),
     "recipe attach-partition: events_2024 is a partition already"),
    ("remove-column", RecipeParams(table="users", column="region"),
     "recipe remove-column cannot change users.region: region is in the primary key "
     "users_pkey"),
    ("remove-column", RecipeParams(table="users", column="note"),
     "recipe remove-column cannot change users.note: index users_note_idx uses note"),
    ("remove-column", RecipeParams(table="users", column="nick"),
     "recipe remove-column cannot change users.nick: constraint invoices_user_nick_fkey on "
     "table invoices uses nick; unique constraint users_nick_key uses nick"),
    ("change-column-type", RecipeParams(table="users", column="id", type="bigint",
                                        new_column="id_big"),
     "recipe change-column-type cannot change users.id: id is in the primary key users_pkey"),
    ("rename-column", RecipeParams(table="users", column="nick", new_column="handle"),
     "recipe rename-column cannot change users.nick: constraint invoices_user_nick_fkey on "
     "table invoices uses nick; unique constraint users_nick_key uses nick"),
    ("rename-column", RecipeParams(table="users", column="email", new_column="nick"),
     "recipe rename-column cannot change users.email: users has a column nick already"),
    ("set-not-null", RecipeParams(table="users", column="Email"),
     "recipe set-not-null cannot change users.Email: users has no column Email"),
    ("add-foreign-key", RecipeParams(table="users", column="id", references='"Owners"(id)'),
     'recipe add-foreign-key: the referenced table "Owners" does not exist'),
    ("add-foreign-key", RecipeParams(table="users", column="email", references="owners(code)"),
     "recipe add-foreign-key: owners has no unique index on (code)"),
    ("add-index", RecipeParams(table="users", columns="email", constraint="users_note_idx"),
     "recipe add-index: the name users_note_idx is taken by index users_note_idx"),
    ("add-index", RecipeParams(table="events", columns="id", unique=True),
     "recipe add-index: a unique index on events lacks the partition key of events: at"),
    ("add-check", RecipeParams(table="owner_codes", check="code <> ''"),
     "recipe add-check: owner_codes is a view, not a table"),
    ("partition-table", RecipeParams(table="nosuch", column="at", cutoff="'2027-01-01'",
                                     until="'2027-02-01'"),
     "recipe partition-table: table nosuch does not exist"),
    # What the last step's DROP COLUMN takes along, and no down part could bring back.
    ("rename-column", RecipeParams(table="codes", column="code", new_column="sku"),
     "recipe rename-column cannot change codes.code: unique constraint codes_code_key uses "
     "code"),
    ("change-column-type", RecipeParams(table="codes", column="n", type="bigint",
                                        new_column="n_big"),
     "recipe change-column-type cannot change codes.n: check constraint codes_n_check uses n"),
    ("rename-column", RecipeParams(table="codes", column="kind", new_column="kind_id"),
     "recipe rename-column cannot change codes.kind: foreign key codes_kind_fkey uses kind"),
    ("rename-column", RecipeParams(table="codes", column="g", new_column="g2"),
     "recipe rename-column cannot change codes.g: g is an identity column"),
    ("change-column-type", RecipeParams(table="codes", column="s", type="bigint",
                                        new_column="s_big"),
     "recipe change-column-type cannot change codes.s: s owns the sequence codes_s_seq "
     "(serial), which DROP COLUMN drops"),
    ("remove-column", RecipeParams(table="codes", column="p"),
     "recipe remove-column cannot change codes.p: p has column privileges (GRANT … (p))"),
    # What DROP COLUMN or the backfill fails on.
    ("rename-column", RecipeParams(table="events", column="at", new_column="day"),
     "recipe rename-column cannot change events.at: at is in the partition key of events"),
    ("rename-column", RecipeParams(table="events_2024", column="id", new_column="key"),
     "recipe rename-column cannot change events_2024.id: id is inherited from the table's "
     "parent"),
    ("rename-column", RecipeParams(table="events", column="id", new_column="key"),
     "recipe rename-column: partitioned table events has no primary key for the backfill to "
     "walk"),
    pytest.param("add-foreign-key", RecipeParams(table="events", column="id",
                                                 references="owners(id)"),
                 "recipe add-foreign-key: events is a partitioned table, and PostgreSQL before "
                 "18 adds no NOT VALID foreign key to one", marks=pytest.mark.pg("<18")),
    ("attach-partition", RecipeParams(table="events", partition="events", bounds=BOUNDS,
                                      check="true"),
     "recipe attach-partition: events is events, or a table events is a partition of"),
    # A type name the column would not mean: pg_catalog's comes first on the search path.
    ("add-enum", RecipeParams(table="users", column="tier", type="name", values=("a",)),
     "recipe add-enum: type pg_catalog.name exists already"),
    # SQL that would fail at up, tried now on an empty copy of the table.
    ("add-column-default", RecipeParams(table="users", column="n", type="int",
                                        default="'abc'"),
     "recipe add-column-default: --default 'abc' for a column of type int: invalid input "
     'syntax for type integer: "abc"'),
    ("add-column-default", RecipeParams(table="users", column="n", type="int",
                                        default="region + 1"),
     "recipe add-column-default: --default region + 1 for a column of type int: cannot use "
     "column reference in DEFAULT expression"),
    ("add-index", RecipeParams(table="users", columns="nosuch"),
     'recipe add-index: no index on users (nosuch): column "nosuch" does not exist'),
    ("add-index", RecipeParams(table="users", columns="region text_pattern_ops"),
     "recipe add-index: no index on users (region text_pattern_ops): operator class "
     '"text_pattern_ops" does not accept data type integer'),
    ("add-check", RecipeParams(table="users", check="email > 5"),
     "recipe add-check: --check email > 5: operator does not exist: text > integer"),
    ("add-check", RecipeParams(table="users", check="email <> '' -- not empty"),
     "recipe add-check: --check email <> '' -- not empty: ends in a -- comment, which would "
     "hide the rest of the line it is on"),
    ("attach-partition", RecipeParams(table="events", partition="plain", bounds=BOUNDS,
                                      check="at >= '2025-01-01' AND day < '2026-01-01'"),
     "recipe attach-partition: --check at >= '2025-01-01' AND day < '2026-01-01': column "
     '"day" does not exist'),
    ("rename-column", RecipeParams(table="users", column="email", new_column="mail",
                                   type="txt"),
     'recipe rename-column cannot change users.email: --type txt: type "txt" does not exist'),
    ("rename-column", RecipeParams(table="users", column="email", new_column="mail",
                                   type="bigint"),
     "recipe rename-column cannot change users.email: --type bigint: users.email is text"),
    ("add-partition", RecipeParams(table="events", partition="events_2026",
                                   bounds="FROM ('2026-01-01') TO ('2025-01-01')"),
     "recipe add-partition: --bounds FROM ('2026-01-01') TO ('2025-01-01'): empty range bound "
     'specified for partition "events_2026"'),
    ("add-partition", RecipeParams(table="events", partition="events_2026",
                                   bounds="IN ('2026-01-01')"),
     "recipe add-partition: --bounds IN ('2026-01-01'): invalid bound specification for a "
     "range partition"),
    ("attach-partition", RecipeParams(table="events", partition="plain", check="true",
                                      bounds="FROM ('2025-13-01') TO ('2026-01-01')"),
     "recipe attach-partition: --bounds FROM ('2025-13-01') TO ('2026-01-01'): date/time "
     'field value out of range: "2025-13-01"'),
    ("partition-table", RecipeParams(table="plain", column="at", cutoff="'2027-01-01'",
                                     until="'2026-02-01'"),
     "recipe partition-table: --cutoff '2027-01-01' --until '2026-02-01': empty range bound "
     'specified for partition "plain_2027_01_01"'),
    ("partition-table", RecipeParams(table="plain", column="at", cutoff="2027-01-01",
                                     until="'2027-02-01'"),
     "recipe partition-table: --cutoff 2027-01-01 --until '2027-02-01': operator does not "
     "exist: date < integer"),
])
def test_an_input_its_migrations_would_fail_on_at_up_is_refused_before_anything_is_written(
    settings, query, migrations_dir, recipe, params, message
) -> None:
    query(REFUSED)
    with pytest.raises(InputError) as refused:
        api.create_recipe(settings, recipe, params)
    assert str(refused.value).startswith(message + " (hint: nothing was written: ")
    assert refused.value.exit_code == 2
    assert list(migrations_dir.iterdir()) == []


def test_a_refused_recipe_exits_2_with_one_line_naming_the_table(
    cli, query, migrations_dir
) -> None:
    query(REFUSED)
    result = cli("create", "--recipe", "add-partition", "--table", "plain", "--partition",
                 "plain_2025", "--bounds", BOUNDS)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "pgshift: error: recipe add-partition: plain is not a partitioned table (hint: nothing "
        "was written: make it one first (recipe partition-table))"]
    assert list(migrations_dir.iterdir()) == []


def test_a_missing_table_is_no_refusal_while_a_pending_migration_may_create_it(
    settings, write_migration
) -> None:
    write_migration("V001__users.sql", "CREATE TABLE users (id int, email text);",
                    "DROP TABLE users;")
    paths = api.create_recipe(settings, "add-index", RecipeParams(table="users",
                                                                  columns="email"))
    assert [p.name for p in paths] == ["V002__add_index_users_email_idx.sql"]
    assert len(api.up(settings).outcomes) == 2


def test_a_missing_table_is_refused_on_a_project_with_no_migrations_yet(
    settings, migrations_dir
) -> None:
    migrations_dir.rmdir()
    with pytest.raises(InputError, match="users"):
        api.create_recipe(settings, "add-index", RecipeParams(table="users", columns="email"))
    assert not migrations_dir.exists()


PARTITIONED = """
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, kind text NOT NULL)
PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')
PARTITION BY LIST (kind);
CREATE TABLE events_2025_a PARTITION OF events_2025 FOR VALUES IN ('a');
CREATE TABLE events_2025_b PARTITION OF events_2025 FOR VALUES IN ('b');
INSERT INTO events SELECT g, date '2024-01-01' + g % 700, CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b'
END FROM generate_series(1, 5000) g;
"""
INDEXES = ("SELECT c.relname::text, i.indisvalid, coalesce(p.inhparent::regclass::text, '') "
           "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid LEFT JOIN pg_inherits p "
           "ON p.inhrelid = i.indexrelid WHERE c.relname LIKE 'events%' ORDER BY 1")


def test_add_index_on_a_partitioned_table_builds_on_each_partition_and_rolls_back(
    settings, query, write_migration
) -> None:
    """CREATE INDEX CONCURRENTLY refuses a partitioned table: the recipe makes the index ON
    ONLY it, builds it CONCURRENTLY on each partition (at every level) and attaches each."""
    import dataclasses

    write_migration("V001__events.sql", PARTITIONED, "DROP TABLE events;")
    api.up(settings)
    gated = dataclasses.replace(settings, lint=True)
    [path] = api.create_recipe(gated, "add-index", RecipeParams(
        table="events", columns="at, kind, id", unique=True, constraint="events_key"))
    assert "CONCURRENTLY IF NOT EXISTS events_2025_a_events_key_idx ON public.events_2025_a" in (
        path.read_text())
    api.up(gated)
    assert query(INDEXES) == [
        ("events_2024_events_key_idx", True, "events_key"),
        ("events_2025_a_events_key_idx", True, "events_2025_events_key_idx"),
        ("events_2025_b_events_key_idx", True, "events_2025_events_key_idx"),
        ("events_2025_events_key_idx", True, "events_key"),
        ("events_key", True, "")]
    query("CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') "
          "TO ('2027-01-01')")  # a later partition gets the index on its own
    assert ("events_2026_at_kind_id_idx", True, "events_key") in query(INDEXES)
    api.down(gated)
    assert query(INDEXES) == []
    assert api.verify(gated).ok


@pytest.mark.parametrize("references", ['"Users"(id)', 'app."Odd Table"("Id")',
                                        'app."Odd Table"', 'Users (id)'])
def test_a_foreign_key_to_a_table_whose_name_needs_quotes_applies_and_rolls_back(
    settings, query, references
) -> None:
    query('CREATE TABLE "Users" (id int PRIMARY KEY); CREATE SCHEMA app; '
          'CREATE TABLE app."Odd Table" ("Id" int PRIMARY KEY); '
          "CREATE TABLE orders (user_id int)")
    api.create_recipe(settings, "add-foreign-key", RecipeParams(
        table="orders", column="user_id", references=references))
    api.up(settings)
    assert query("SELECT convalidated FROM pg_constraint WHERE conrelid = 'orders'::regclass "
                 "AND contype = 'f'") == [(True,)]
    api.down(settings, everything=True)
    assert query("SELECT count(*) FROM pg_constraint WHERE conrelid = 'orders'::regclass") == [
        (0,)]


@pytest.mark.parametrize("name", ['a.b.c', '"Users', '"Users"x', 'app.'])
def test_a_table_name_that_is_not_one_is_refused_when_written(name) -> None:
    with pytest.raises(InputError, match="not a table name"):
        render_recipe("add-index", RecipeParams(table=name, columns="id"))


@pytest.mark.parametrize("schema", ["Shop", "Shop Two", "Shop.Two"])
@pytest.mark.parametrize(("recipe", "params", "message"), [
    ("add-index", RecipeParams(table="users", columns="email"),
     "recipe add-index: the name users_email_idx is taken by index {s}.users_email_idx"),
    ("remove-table", RecipeParams(table="users", constraint="archive"),
     "recipe remove-table cannot drop {s}.users: the retired name archive is taken by table "
     "{s}.archive"),
    ("add-enum", RecipeParams(table="users", column="tier", type="tier", values=("a",)),
     "recipe add-enum: type {s}.tier exists already"),
])
def test_a_name_in_a_schema_that_needs_quotes_is_looked_up_in_that_schema(
    settings, query, migrations_dir, schema, recipe, params, message
) -> None:
    """Not in public, which has none of these names: there the add-index would have been
    written, skipped by IF NOT EXISTS at up, and its down part would drop the user's index."""
    import dataclasses

    s = '"' + schema + '"'
    query(f"CREATE TABLE users (id int); CREATE SCHEMA {s}; "
          f"CREATE TABLE {s}.users (id int PRIMARY KEY, email text); "
          f"CREATE UNIQUE INDEX users_email_idx ON {s}.users (email); "
          f"CREATE TABLE {s}.archive (); CREATE TYPE {s}.tier AS ENUM ('a')")
    qualified = dataclasses.replace(params, table=f"{s}.users", type=params.type and (
        f"{s}.{params.type}"))
    with pytest.raises(InputError) as refused:
        api.create_recipe(settings, recipe, qualified)
    assert str(refused.value).startswith(message.format(s=s) + " (hint: nothing was written")
    assert list(migrations_dir.iterdir()) == []


@pytest.mark.parametrize("schema", ["Shop", "Shop Two", "Shop.Two"])
def test_an_index_in_a_schema_that_needs_quotes_applies_rolls_back_and_applies_again(
    settings, query, schema
) -> None:
    s = '"' + schema + '"'
    query(f"CREATE SCHEMA {s}; CREATE TABLE {s}.users (id int PRIMARY KEY, email text)")
    api.create_recipe(settings, "add-index", RecipeParams(table=f"{s}.users", columns="email"))
    indexes = ("SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = "
               f"'{s}.users'::regclass ORDER BY 1")
    api.up(settings)
    assert query(indexes) == [(f"{s}.users_email_idx",), (f"{s}.users_pkey",)]
    api.down(settings, everything=True)
    assert query(indexes) == [(f"{s}.users_pkey",)]
    api.up(settings)
    assert len(query(indexes)) == 2


@pytest.mark.parametrize(("recipe", "params"), [
    ("rename-column", {"new_column": "sku"}),
    ("change-column-type", {"new_column": "sku", "type": "varchar(20)"}),
])
def test_the_new_column_keeps_the_collation_and_down_restores_the_old_one_exactly(
    settings, query, write_migration, recipe, params
) -> None:
    import dataclasses

    write_migration("V001__setup.sql", """
        CREATE TABLE items (id int PRIMARY KEY, code text COLLATE "C" NOT NULL DEFAULT 'x');
        ALTER TABLE items ALTER COLUMN code SET STATISTICS 500;
        COMMENT ON COLUMN items.code IS 'the shelf''s code';
        INSERT INTO items VALUES (1, 'a'), (2, 'B');""", "DROP TABLE items;")
    api.up(settings)
    gated = dataclasses.replace(settings, lint=True)
    api.create_recipe(gated, recipe, RecipeParams(table="items", column="code", **params))
    report = api.verify(gated)
    assert report.ok, [(m.label, f.message) for m in report.migrations for f in m.findings
                       if f.is_failure]
    api.up(gated, allow_contract=True)
    assert query("SELECT sku FROM items ORDER BY sku") == [("B",), ("a",)]  # "C" sorts so
    api.down(gated, to="1")
    assert query("SELECT attcollation::regcollation::text, attstattarget, "
                 "col_description(attrelid, attnum) FROM pg_attribute WHERE attrelid = "
                 "'items'::regclass AND attname = 'code'") == [('"C"', 500, "the shelf's code")]


@pytest.mark.parametrize("column", [
    "g int GENERATED ALWAYS AS IDENTITY (START WITH 100)",
    "g int GENERATED BY DEFAULT AS IDENTITY",
    "g serial",
    'g text COLLATE "C" NOT NULL DEFAULT \'x\'',
])
def test_remove_column_of_an_identity_or_serial_column_applies_rolls_back_and_verifies(
    settings, query, write_migration, column
) -> None:
    import dataclasses

    write_migration("V001__setup.sql", f"CREATE TABLE t (id int PRIMARY KEY, {column}); "
                    "COMMENT ON COLUMN t.g IS 'gone'; INSERT INTO t (id) VALUES (1), (2);",
                    "DROP TABLE t;")
    api.up(settings)
    gated = dataclasses.replace(settings, lint=True)
    api.create_recipe(gated, "remove-column", RecipeParams(table="t", column="g"))
    report = api.verify(gated)
    assert report.ok, [(m.label, f.message) for m in report.migrations for f in m.findings
                       if f.is_failure]
    api.up(gated, allow_contract=True)
    api.down(gated, to="1")
    assert query("SELECT count(g) FROM t") == [(2,)]
    api.up(gated, allow_contract=True)
    assert query("SELECT count(*) FROM pg_attribute WHERE attrelid = 't'::regclass "
                 "AND attname = 'g' AND NOT attisdropped") == [(0,)]


@pytest.mark.pg(">=18")
def test_a_foreign_key_from_a_partitioned_table_applies_rolls_back_and_verifies_on_18(
    settings, query, write_migration
) -> None:
    """PostgreSQL 18 adds a NOT VALID foreign key to a partitioned table (before: refused)."""
    import dataclasses

    write_migration("V001__setup.sql", """
        CREATE TABLE owners (id int PRIMARY KEY); INSERT INTO owners VALUES (1);
        CREATE TABLE ev (id int, o int, at date) PARTITION BY RANGE (at);
        CREATE TABLE ev1 PARTITION OF ev FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        INSERT INTO ev VALUES (1, 1, '2024-02-02');""", "DROP TABLE ev, owners;")
    api.up(settings)
    gated = dataclasses.replace(settings, lint=True)
    api.create_recipe(gated, "add-foreign-key", RecipeParams(table="ev", column="o",
                                                             references="owners(id)"))
    report = api.verify(gated)
    assert report.ok, [(m.label, f.message) for m in report.migrations for f in m.findings
                       if f.is_failure]
    api.up(gated)
    assert query("SELECT convalidated FROM pg_constraint WHERE conrelid = 'ev'::regclass "
                 "AND contype = 'f'") == [(True,)]
    api.down(gated, to="1")
    assert query("SELECT count(*) FROM pg_constraint WHERE conrelid = 'ev'::regclass") == [(0,)]


# change-column-type's --using and --reverse-using: read, then tried where the migrations
# evaluate them (the sync trigger, the backfill), before anything is written.
CONVERTED = {"table": "users", "column": "amount", "type": "numeric(12,2)",
             "new_column": "amount_num"}
# What a probe could leave behind: a temporary schema or table, a function, a row changed.
LEFT_BEHIND = """
SELECT (SELECT array_agg(nspname::text ORDER BY nspname) FROM pg_namespace),
       (SELECT count(*) FROM pg_class), (SELECT count(*) FROM pg_proc),
       (SELECT count(*) FROM pg_type), (SELECT count(*) FROM pg_prepared_xacts),
       (SELECT md5(string_agg(u::text, ',' ORDER BY id)) FROM users u)
"""


@pytest.mark.parametrize(("params", "message"), [
    ({"using": "amount::numeric(12,"}, "--using amount::numeric(12,: syntax error at end of "
     "input"),
    ({"using": "amount::date"}, '--using amount::date: column "amount_num" is of type numeric '
     "but expression is of type date"),
    ({"using": "to_numbr(amount)"}, "--using to_numbr(amount): function to_numbr(text) does "
     "not exist"),
    ({"using": "amount::nosuch"}, '--using amount::nosuch: type "nosuch" does not exist'),
    # The sync trigger sees no other column; a constant would overwrite every row.
    ({"using": "amount || email"}, '--using amount || email: column "email" does not exist'),
    ({"using": "0"}, "--using 0: does not use amount, the column it converts"),
    ({"using": "amount::numeric(12,2) -- cents"}, "--using amount::numeric(12,2) -- cents: "
     "ends in a -- comment, which would hide the rest of the line it is on"),
    ({"using": "amount::numeric; DROP TABLE users"}, "--using amount::numeric; DROP TABLE "
     "users: is not one expression"),
    ({"reverse_using": "amount_num::"}, "--reverse-using amount_num::: syntax error at end of "
     "input"),
    ({"reverse_using": "amount_num::date"}, "--reverse-using amount_num::date: cannot cast "
     "type numeric to date"),
    ({"reverse_using": "to_txt(amount_num)"}, "--reverse-using to_txt(amount_num): function "
     "to_txt(numeric) does not exist"),
    ({"reverse_using": "amount::text"}, "--reverse-using amount::text: does not use "
     "amount_num, the column it converts"),
    ({"column": "owner_id", "new_column": "owner_big", "type": "bigint",
      "reverse_using": "owner_big::text"},
     '--reverse-using owner_big::text: column "owner_id" is of type integer but expression '
     "is of type text"),
    ({"column": "owner_id", "new_column": "owner_at", "type": "point"},
     "no --using, and the cast owner_id::point: cannot cast type integer to point; no "
     "--reverse-using, and the cast owner_at::integer: cannot cast type point to integer"),
    ({"type": "numrc"}, '--type numrc: type "numrc" does not exist'),
])
def test_a_conversion_postgresql_would_refuse_is_refused_naming_the_option_and_nothing_is_written(
    settings, query, database_url, migrations_dir, params, message
) -> None:
    from tests.fixtures.project import schema_of

    query(SETUP)
    state, schema = query(LEFT_BEHIND), schema_of(database_url)
    given = {**CONVERTED, **params}
    with pytest.raises(InputError) as refused:
        api.create_recipe(settings, "change-column-type", RecipeParams(**given))
    assert str(refused.value).startswith(
        f"recipe change-column-type cannot change users.{given['column']}: {message} (hint: "
        "nothing was written: ")
    assert refused.value.exit_code == 2
    assert list(migrations_dir.iterdir()) == []
    assert query(LEFT_BEHIND) == state
    assert schema_of(database_url) == schema


@pytest.mark.parametrize("using", ["amount::date", "amount::numeric(12,2)"])
def test_trying_a_conversion_rolls_back_and_leaves_nothing_in_the_session(
    database_url, query, using
) -> None:
    """On the connection that tried it: no transaction open, no temporary table left."""
    import psycopg2
    import psycopg2.extensions

    from pgshift.recipes import ColumnInfo, conversions

    query(SETUP)
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            found = conversions.refusals(cur, "change-column-type", RecipeParams(
                **CONVERTED, using=using, existing=ColumnInfo("text")))
            assert [r.reason.split(":")[0] for r in found] == (
                ["--using amount"] if using == "amount::date" else [])
            assert conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
            cur.execute("SELECT count(*) FROM pg_class WHERE relpersistence = 't'")
            assert cur.fetchone() == (0,)
    finally:
        conn.close()


def test_a_refused_conversion_exits_2_with_one_line_and_a_hint(cli, query, migrations_dir) -> None:
    query(SETUP)
    result = cli("create", "--recipe", "change-column-type", "--table", "users", "--column",
                 "amount", "--type", "numeric(12,2)", "--new-column", "amount_num",
                 "--using", "amount::numeric(12,2)", "--reverse-using", "amount_num::date")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "pgshift: error: recipe change-column-type cannot change users.amount: --reverse-using "
        "amount_num::date: cannot cast type numeric to date (hint: nothing was written: "
        "--reverse-using is one expression over amount_num (numeric(12,2)) giving text, e.g. "
        "amount_num::text; the sync trigger evaluates it on one row and sees no other column)"]
    assert list(migrations_dir.iterdir()) == []


@pytest.mark.parametrize(("params", "message"), [
    ({"using": "42"}, "--using 42: does not use amount, the column it converts"),
    ({"reverse_using": "amount_num::text AS amount"},
     "--reverse-using amount_num::text AS amount: is not one expression"),
    ({"using": ""}, "--using : is empty"),
    ({"type": "numeric(12,"}, "--type numeric(12,: syntax error at end of input"),
])
def test_a_conversion_that_does_not_read_is_refused_without_a_database(params, message) -> None:
    from pgshift.recipes import ColumnInfo

    with pytest.raises(InputError) as refused:
        render_recipe("change-column-type", RecipeParams(
            **{**CONVERTED, **params}, existing=ColumnInfo("text")))
    assert refused.value.message == f"recipe change-column-type: {message}"
    assert refused.value.hint


def test_a_conversion_pair_backfills_syncs_both_ways_rolls_back_and_applies_again(
    settings, query
) -> None:
    """The pair as given, in the backfill, the sync trigger and the contract step's down part;
    trying it left the database as it was. --reverse-using has $$ in it: the trigger's body is
    dollar-quoted around it."""
    from decimal import Decimal

    query(SETUP + "UPDATE users SET amount = '1,5' WHERE id = 1;")
    before = query(LEFT_BEHIND)
    paths = api.create_recipe(settings, "change-column-type", RecipeParams(
        **CONVERTED, using="replace(amount, ',', '.')::numeric(12,2)",
        reverse_using="to_char(amount_num, $$FM999990.00$$)"))
    assert len(paths) == 3
    assert query(LEFT_BEHIND) == before
    api.up(settings, phase="expand")
    assert query("SELECT id, amount_num FROM users WHERE id IN (1, 2) ORDER BY id") == [
        (1, Decimal("1.50")), (2, Decimal("6.00"))]
    query("UPDATE users SET amount = '2,25' WHERE id = 3")  # the old application version
    query("UPDATE users SET amount_num = 7.5 WHERE id = 4")  # the new one
    assert query("SELECT id, amount, amount_num FROM users WHERE id IN (3, 4) ORDER BY id") == [
        (3, "2,25", Decimal("2.25")), (4, "7.50", Decimal("7.50"))]
    api.up(settings, allow_contract=True)
    api.down(settings, everything=True)  # the old column comes back through --reverse-using
    assert query("SELECT id, amount FROM users WHERE id IN (1, 2, 3, 4) ORDER BY id") == [
        (1, "1.50"), (2, "6.00"), (3, "2.25"), (4, "7.50")]
    assert query("SELECT count(*) FROM pg_attribute WHERE attrelid = 'users'::regclass "
                 "AND attname = 'amount_num' AND NOT attisdropped") == [(0,)]
    api.up(settings, allow_contract=True)
    assert query("SELECT id, amount_num FROM users WHERE id IN (1, 3, 4) ORDER BY id") == [
        (1, Decimal("1.50")), (3, Decimal("2.25")), (4, Decimal("7.50"))]
    assert query("SELECT count(*) FROM users WHERE amount_num IS NULL") == [(0,)]


def test_rename_column_takes_the_columns_own_type_however_it_is_spelled(settings, query) -> None:
    query("CREATE TABLE users (id int, email varchar(20))")
    paths = api.create_recipe(settings, "rename-column", RecipeParams(
        table="users", column="email", new_column="mail", type="character varying (20)"))
    assert paths
