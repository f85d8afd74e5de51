"""``create NAME --from-drift``: the changes made by hand, written as the next migration. A
database built by the migrations then has the drifted database's schema, the down part takes
it back, and the drifted database, once it records the file, has no drift left."""

from __future__ import annotations

import dataclasses

import psycopg2
import pytest
from tests.fixtures.project import scalar, schema_of

from pgshift import api
from pgshift.verify.drift.migration import DriftCapture
from pgshift.verify.snapshot import diff_apart_from_order

SCHEMA = """
CREATE TYPE plan AS ENUM ('free', 'pro');
CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL,
                    plan plan NOT NULL DEFAULT 'free', note text, legacy int);
CREATE TABLE posts (id bigserial PRIMARY KEY, user_id bigint REFERENCES users, body text);
CREATE INDEX posts_user_idx ON posts (user_id);
ALTER TABLE users ADD CONSTRAINT email_has_at CHECK (email LIKE '%@%') NOT VALID;
CREATE FUNCTION lower_email(e text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(e) $$;
CREATE VIEW pro_users AS SELECT id, email FROM users WHERE plan = 'pro';
"""

BY_HAND = [
    "CREATE INDEX users_plan ON users (plan)",
    "ALTER TABLE users ALTER COLUMN note SET DEFAULT 'n/a'",
    "ALTER TABLE users ALTER COLUMN note SET NOT NULL",
    "ALTER TABLE users ADD COLUMN nickname varchar(40)",
    "ALTER TABLE users DROP COLUMN legacy",
    "ALTER TABLE users VALIDATE CONSTRAINT email_has_at",
    "ALTER TABLE posts ADD CONSTRAINT body_short CHECK (length(body) < 10000) NOT VALID",
    "DROP INDEX posts_user_idx",
    "CREATE TABLE audit (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), "
    "what text)",
    "CREATE OR REPLACE FUNCTION lower_email(e text) RETURNS text LANGUAGE sql IMMUTABLE AS "
    "$$ SELECT lower(trim(e)) $$",
    "DROP VIEW pro_users",
    "CREATE VIEW pro_users AS SELECT id, nickname FROM users WHERE plan = 'pro'",
    "CREATE FUNCTION audit_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM audit $$",
    "CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN NEW.at := now(); RETURN NEW; END $$",
    "CREATE TRIGGER audit_stamp BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION stamp()",
    "ALTER TABLE audit DISABLE TRIGGER audit_stamp",
    "COMMENT ON TABLE users IS 'who signs in; it''s by hand'",
    "COMMENT ON COLUMN users.nickname IS 'shown to others'",
    "COMMENT ON VIEW pro_users IS 'paying users'",
    'CREATE SCHEMA "Reporting"',
    'CREATE SCHEMA "select"',
    'CREATE EXTENSION hstore WITH SCHEMA "Reporting"',
    """CREATE TYPE "Reporting".mood AS ENUM ('ok', 'meh')""",
    """CREATE TABLE "Reporting".feelings (id int PRIMARY KEY, mood "Reporting".mood, """
    """tags "Reporting".hstore)""",
    "ALTER TYPE plan RENAME VALUE 'pro' TO 'professional'",
    "CREATE DOMAIN \"Reporting\".score AS int DEFAULT 0 NOT NULL CHECK (VALUE >= 0)",
    'ALTER TABLE "Reporting".feelings ADD COLUMN score "Reporting".score',
    # Lines of a body that read like pgshift's directives: SQL, not directives.
    "CREATE FUNCTION tricky() RETURNS int LANGUAGE sql AS $$\nSELECT 1\n-- pgshift:down\n"
    "-- pgshift:irreversible\n$$",
]


@pytest.fixture
def drifted(settings, write_migration, query):
    write_migration("V001__schema.sql", SCHEMA,
                    "DROP VIEW pro_users;\nDROP FUNCTION lower_email(text);\nDROP TABLE posts;\n"
                    "DROP TABLE users;\nDROP TYPE plan;")
    api.up(settings)
    for statement in BY_HAND:
        query(statement)
    return settings


def test_the_captured_migration_makes_the_drifted_schema_and_its_down_undoes_it(
    drifted, fresh
) -> None:
    captured = api.create_from_drift(drifted, "capture hand changes")
    assert captured is not None
    assert captured.path.name == "V002__capture_hand_changes.sql"
    assert captured.migration.todo == []
    text = captured.path.read_text()
    assert text.startswith("-- pgshift:no-transaction\n")  # indexes built CONCURRENTLY
    assert "record this file there with 'pgshift baseline --version 002'" in text
    assert "CREATE INDEX CONCURRENTLY users_plan ON public.users USING btree (plan);" in text

    built = api.up(fresh, allow_contract=True)  # a new database: no app runs in between
    assert [o.migration.label for o in built.outcomes] == ["V001", "V002"]
    lines, _ = diff_apart_from_order(schema_of(drifted.url), schema_of(fresh.url),
                                     expected_name="drifted", actual_name="built")
    assert lines == []

    api.down(fresh)
    lines, _ = diff_apart_from_order(captured.drift.expected, schema_of(fresh.url),
                                     expected_name="after V001", actual_name="after down")
    assert lines == []

    api.baseline(drifted, "002")  # the drifted database has the changes already
    assert api.schema_drift(drifted).ok


def assert_proven(drifted, fresh, name: str) -> DriftCapture:
    """Capture the drift with nothing left to do by hand, and prove the file: a new database
    the migrations build has the drifted schema, its down part brings back the one before, up
    again makes it anew, and the drifted database, once it records the file, has no drift."""
    captured = api.create_from_drift(drifted, name)
    assert captured is not None
    assert captured.migration.todo == []
    for step in ("up", "down", "up again"):
        if step == "down":
            api.down(fresh)
            lines, _ = diff_apart_from_order(captured.drift.expected, schema_of(fresh.url),
                                             expected_name="after V001", actual_name="after down")
        else:
            api.up(fresh, allow_contract=True)
            lines, _ = diff_apart_from_order(schema_of(drifted.url), schema_of(fresh.url),
                                             expected_name="drifted", actual_name=step)
        assert lines == []
    version = captured.path.name[1:].split("__")[0]
    api.baseline(drifted, version)
    assert api.schema_drift(drifted).ok
    return captured


COLUMNS = """
CREATE TABLE accounts (id int NOT NULL, total int, serial_no int GENERATED BY DEFAULT AS IDENTITY,
                       doubled int GENERATED ALWAYS AS (total * 2) STORED,
                       frozen int GENERATED ALWAYS AS (total + 1) STORED);
CREATE TABLE notes (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text);
"""

COLUMNS_BY_HAND = [
    "ALTER TABLE accounts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY "
    "(START WITH 100 INCREMENT BY 5)",
    "ALTER TABLE accounts ALTER COLUMN serial_no DROP IDENTITY",
    "ALTER TABLE notes ALTER COLUMN id SET GENERATED BY DEFAULT",
    "ALTER TABLE notes ALTER COLUMN id SET INCREMENT BY 10",  # its sequence's settings
    "ALTER TABLE accounts ADD COLUMN ticket bigint GENERATED BY DEFAULT AS IDENTITY",
    "ALTER TABLE accounts ADD COLUMN tripled int GENERATED ALWAYS AS (total * 3) STORED",
    "ALTER TABLE accounts ALTER COLUMN frozen DROP EXPRESSION",  # its values stay, as plain ones
    "CREATE TABLE ledger (id bigint GENERATED ALWAYS AS IDENTITY (START WITH 7) PRIMARY KEY, "
    "amount int, fee int GENERATED ALWAYS AS (amount / 10) STORED)",
]


def test_identity_and_generated_columns_are_written_with_their_sequences_and_expressions(
    settings, fresh, write_migration, query, server_version
) -> None:
    write_migration("V001__schema.sql", COLUMNS, "DROP TABLE notes;\nDROP TABLE accounts;")
    api.up(settings)
    for statement in COLUMNS_BY_HAND:
        query(statement)
    if server_version >= 170000:
        query("ALTER TABLE accounts ALTER COLUMN doubled SET EXPRESSION AS (total * 4)")
    else:  # no SET EXPRESSION: by hand, as the file will do it
        query("ALTER TABLE accounts DROP COLUMN doubled")
        query("ALTER TABLE accounts ADD COLUMN doubled int GENERATED ALWAYS AS (total * 4) STORED")
    if server_version >= 180000:
        query("ALTER TABLE accounts ADD COLUMN halved int GENERATED ALWAYS AS (total / 2) VIRTUAL")

    captured = assert_proven(settings, fresh, "columns")

    up = captured.migration.up
    assert ("ALTER TABLE public.accounts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY "
            "(SEQUENCE NAME public.accounts_id_seq START WITH 100 INCREMENT BY 5 MINVALUE 1 "
            "MAXVALUE 2147483647 CACHE 1 NO CYCLE);") in up
    assert "ALTER TABLE public.accounts ALTER COLUMN serial_no DROP IDENTITY;" in up
    assert "ALTER TABLE public.notes ALTER COLUMN id SET GENERATED BY DEFAULT;" in up
    assert "ALTER TABLE public.accounts ALTER COLUMN frozen DROP EXPRESSION;" in up
    if server_version >= 170000:
        assert ("ALTER TABLE public.accounts ALTER COLUMN doubled SET EXPRESSION AS "
                "((total * 4));") in up
    else:
        assert any(s.startswith("-- PostgreSQL 15 cannot change a generated column's "
                                "expression (17 can): doubled is dropped and added again")
                   for s in up)
    if server_version >= 180000:
        assert ("ALTER TABLE public.accounts ADD COLUMN halved integer GENERATED ALWAYS AS "
                "((total / 2)) VIRTUAL;") in up


@pytest.fixture
def roles(query, fresh, database_url):
    """Two roles to grant to (roles are the server's: their names carry the test database's,
    and each database the test made drops what it grants them before they go)."""
    database = query("SELECT current_database()")[0][0]
    names = [f"drift_reader_{database}", f"Drift Writer {database}"]
    for name in names:
        query(f'CREATE ROLE "{name}"')
    yield names
    for url in (database_url, fresh.url):
        conn = psycopg2.connect(url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP OWNED BY "{names[0]}", "{names[1]}"')
        conn.close()
    for name in names:
        query(f'DROP ROLE "{name}"')


SECURITY = """
CREATE TABLE accounts (id int PRIMARY KEY, owner_name text, total int);
ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
CREATE TABLE notes (id int PRIMARY KEY, account int, body text);
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY notes_own ON notes USING (account > 0);
CREATE POLICY notes_gone ON notes FOR DELETE USING (false);
GRANT SELECT, DELETE ON notes TO "{reader}" WITH GRANT OPTION;
CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT a + b $$;
CREATE VIEW big_accounts AS SELECT id, owner_name FROM accounts WHERE total > 100;
GRANT SELECT ON big_accounts TO "{reader}";
"""

SECURITY_BY_HAND = [
    "ALTER TABLE accounts DISABLE ROW LEVEL SECURITY",
    "ALTER TABLE notes FORCE ROW LEVEL SECURITY",
    "DROP POLICY notes_own ON notes",
    'CREATE POLICY notes_own ON notes AS RESTRICTIVE FOR SELECT TO "{writer}", "{reader}" '
    "USING (account > 1)",
    "DROP POLICY notes_gone ON notes",
    'CREATE POLICY notes_insert ON notes FOR INSERT TO "{reader}" WITH CHECK (body IS NOT NULL)',
    "CREATE TABLE ledger (id int GENERATED ALWAYS AS IDENTITY, amount int)",
    "ALTER TABLE ledger ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY ledger_positive ON ledger USING (amount > 0)",
    # Grants: tables, columns, sequences, functions, schemas, types, a view made again.
    'GRANT SELECT, INSERT ON accounts TO "{reader}"',
    'GRANT UPDATE ON accounts TO "{writer}" WITH GRANT OPTION',
    'GRANT UPDATE (owner_name) ON accounts TO "{reader}"',
    'REVOKE DELETE ON notes FROM "{reader}"',
    'REVOKE GRANT OPTION FOR SELECT ON notes FROM "{reader}"',
    "GRANT SELECT ON notes TO PUBLIC",
    'GRANT SELECT, INSERT ON ledger TO "{writer}"',
    'GRANT USAGE ON SEQUENCE ledger_id_seq TO "{writer}"',
    "REVOKE EXECUTE ON FUNCTION add(int, int) FROM PUBLIC",
    'GRANT EXECUTE ON FUNCTION add(int, int) TO "{reader}"',
    "CREATE SCHEMA reports",
    'GRANT USAGE ON SCHEMA reports TO "{reader}"',
    "COMMENT ON SCHEMA reports IS 'for the analysts'",
    'GRANT CREATE ON SCHEMA public TO "{writer}"',
    "CREATE TYPE reports.period AS ENUM ('day', 'week')",
    "REVOKE USAGE ON TYPE reports.period FROM PUBLIC",
    'GRANT USAGE ON TYPE reports.period TO "{reader}"',
    "DROP VIEW big_accounts",
    "CREATE VIEW big_accounts AS SELECT id, owner_name, total FROM accounts WHERE total > 100",
    'GRANT SELECT ON big_accounts TO "{reader}"',
]


def test_row_level_security_and_grants_are_written_as_policies_grants_and_revokes(
    settings, fresh, write_migration, query, roles
) -> None:
    names = {"reader": roles[0], "writer": roles[1]}
    write_migration("V001__schema.sql", SECURITY.format(**names),
                    "DROP VIEW big_accounts;\nDROP FUNCTION add(int, int);\nDROP TABLE notes;\n"
                    "DROP TABLE accounts;")
    api.up(settings)
    for statement in SECURITY_BY_HAND:
        query(statement.format(**names))

    captured = assert_proven(settings, fresh, "security")

    reader, writer = roles[0], f'"{roles[1]}"'  # quoted as it needs
    up, down = captured.migration.up, captured.migration.down
    assert up[:2] == ["DROP POLICY notes_gone ON public.notes;",
                      "DROP POLICY notes_own ON public.notes;"]  # a changed one: made again
    assert (f"CREATE POLICY notes_own ON public.notes AS RESTRICTIVE FOR SELECT TO {writer}, "
            f"{reader} USING ((account > 1));") in up
    assert "ALTER TABLE public.notes FORCE ROW LEVEL SECURITY;" in up
    assert "ALTER TABLE public.notes NO FORCE ROW LEVEL SECURITY;" in down
    assert f"REVOKE DELETE ON TABLE public.notes FROM {reader};" in up
    assert f"REVOKE GRANT OPTION FOR SELECT ON TABLE public.notes FROM {reader};" in up
    assert f"GRANT SELECT, DELETE ON TABLE public.notes TO {reader} WITH GRANT OPTION;" in down
    assert f"GRANT UPDATE (owner_name) ON TABLE public.accounts TO {reader};" in up
    assert "REVOKE EXECUTE ON FUNCTION public.add(a integer, b integer) FROM PUBLIC;" in up
    assert "GRANT EXECUTE ON FUNCTION public.add(a integer, b integer) TO PUBLIC;" in down
    assert f"GRANT CREATE ON SCHEMA public TO {writer};" in up
    assert not any("postgres" in line for line in up + down)  # the owner's own: not written


TYPES_AND_PARTITIONS = """
CREATE TYPE pair AS (a int, b int);
CREATE TYPE gone AS (x text);
CREATE TABLE metrics (at date NOT NULL, v int) PARTITION BY RANGE (at);
CREATE TABLE metrics_old PARTITION OF metrics FOR VALUES FROM ('2000-01-01') TO ('2023-01-01');
CREATE TABLE metrics_2023 PARTITION OF metrics FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE INDEX metrics_at ON metrics (at);
INSERT INTO metrics VALUES ('2022-06-01', 1);
"""

TYPES_AND_PARTITIONS_BY_HAND = [
    "CREATE TYPE money_pair AS (amount numeric(12,2), currency text)",
    "ALTER TYPE pair ALTER ATTRIBUTE b TYPE bigint",
    "ALTER TYPE pair ADD ATTRIBUTE c int",
    "DROP TYPE gone",
    "CREATE TYPE float_range AS RANGE (SUBTYPE = float8, SUBTYPE_DIFF = float8mi)",
    'CREATE TYPE text_range AS RANGE (SUBTYPE = text, COLLATION = "C", '
    "MULTIRANGE_TYPE_NAME = text_ranges)",
    "CREATE TABLE prices (p money_pair, r float_range, names text_ranges)",
    # A partitioned table made by hand, partitioned twice, with a key, a CHECK and an index its
    # partitions take, a trigger they are given, and a partition's own default.
    "CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, kind text DEFAULT 'x', "
    "CHECK (id > 0), PRIMARY KEY (id, at)) PARTITION BY RANGE (at)",
    "CREATE TABLE events_2024 PARTITION OF events "
    "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01') PARTITION BY RANGE (id)",
    "CREATE TABLE events_2024_low PARTITION OF events_2024 FOR VALUES FROM (1) TO (1000)",
    "CREATE TABLE events_rest PARTITION OF events DEFAULT",
    "ALTER TABLE events_rest ALTER COLUMN kind SET DEFAULT 'rest'",
    "CREATE INDEX events_kind ON events (kind)",
    "CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
    "CREATE TRIGGER events_stamp BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION stamp()",
    "COMMENT ON TABLE events_rest IS 'whatever the years miss'",
    # An existing partitioned table: a partition added, one dropped, a column its partitions
    # take, and an index.
    "CREATE TABLE metrics_2024 PARTITION OF metrics FOR VALUES FROM ('2024-01-01') "
    "TO ('2025-01-01')",
    "DROP TABLE metrics_2023",
    "ALTER TABLE metrics ADD COLUMN note text",
    "CREATE INDEX metrics_v ON metrics (v)",
]


def test_composite_and_range_types_and_partitioned_tables_are_made_and_dropped(
    settings, fresh, write_migration, query
) -> None:
    write_migration("V001__schema.sql", TYPES_AND_PARTITIONS,
                    "DROP TABLE metrics;\nDROP TYPE gone;\nDROP TYPE pair;")
    api.up(settings)
    for statement in TYPES_AND_PARTITIONS_BY_HAND:
        query(statement)

    captured = assert_proven(settings, fresh, "types and partitions")

    up, down = captured.migration.up, captured.migration.down
    assert ("ALTER TYPE public.pair ALTER ATTRIBUTE b TYPE bigint, ADD ATTRIBUTE c integer;"
            in up)
    assert ('CREATE TYPE public.text_range AS RANGE (SUBTYPE = text, SUBTYPE_OPCLASS = '
            'pg_catalog.text_ops, COLLATION = "C", MULTIRANGE_TYPE_NAME = public.text_ranges);'
            in up)
    made = [line.split(" (")[0].split(" PARTITION OF")[0] for line in up
            if line.startswith("CREATE TABLE public.events")]
    assert made == ["CREATE TABLE public.events", "CREATE TABLE public.events_2024",
                    "CREATE TABLE public.events_rest", "CREATE TABLE public.events_2024_low"]
    assert ("CREATE TABLE public.events_2024 PARTITION OF public.events FOR VALUES FROM "
            "('2024-01-01') TO ('2025-01-01') PARTITION BY RANGE (id);") in up
    # An index on a partitioned table that has rows: made ON ONLY it, each partition's built
    # concurrently, then attached.
    assert "ALTER TABLE public.metrics ADD COLUMN note text;" in up
    assert not any("metrics_old ADD COLUMN" in line for line in up)  # it comes with its parent's
    attach = up.index("ALTER INDEX public.metrics_v ATTACH PARTITION public.metrics_old_v_idx;")
    assert up.index("CREATE INDEX metrics_v ON ONLY public.metrics USING btree (v);") < attach
    assert up.index("CREATE INDEX CONCURRENTLY metrics_old_v_idx ON public.metrics_old USING "
                    "btree (v);") < attach
    assert down.index("DROP TABLE public.events_2024_low;") < down.index(
        "DROP TABLE public.events_2024;") < down.index("DROP TABLE public.events;")


def test_a_database_without_drift_gets_no_file(settings, write_migration, migrations_dir
                                              ) -> None:
    write_migration("V001__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    api.up(settings)
    assert api.create_from_drift(settings, "nothing") is None
    assert sorted(p.name for p in migrations_dir.iterdir()) == ["V001__t.sql"]


def test_what_it_cannot_write_is_a_todo_line(settings, write_migration, query) -> None:
    write_migration("V001__t.sql", "CREATE TABLE t (id int, n int);", "DROP TABLE t;")
    api.up(settings)
    query("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS "
          "$$ BEGIN NEW.n := 1; RETURN NEW; END $$")
    query("CREATE TYPE pair AS (a int, b int)")
    query("GRANT SELECT ON t TO PUBLIC")
    query("ALTER TABLE t SET (fillfactor = 50)")
    query("CREATE TABLE t_archive () INHERITS (t)")
    query("CREATE MATERIALIZED VIEW t_ids AS SELECT id FROM t")
    # A column that becomes generated is dropped and added again, which its index would not
    # survive.
    query("ALTER TABLE t DROP COLUMN n")
    query("ALTER TABLE t ADD COLUMN n int GENERATED ALWAYS AS (id * 2) STORED")
    query("CREATE INDEX t_n ON t (n)")
    captured = api.create_from_drift(settings, "capture")
    assert captured is not None
    assert captured.migration.todo == [
        "table public.t: its settings differ (options)",
        "table public.t_archive: only in the database (inherits from public.t)",
        "materialized view public.t_ids: only in the database",
        "column public.t.n: its generation differs, and it cannot change in place; "
        "index public.t_n would go with it if it were dropped and added again",
    ]
    text = captured.path.read_text()
    up, down = text.split("-- pgshift:down\n")
    for line in captured.migration.todo:  # in both parts: each has it to write by hand
        assert f"-- TODO: {line}\n" in up
        assert f"-- TODO: undo: {line}\n" in down
    # What it can write, it writes.
    assert "CREATE OR REPLACE FUNCTION public.touch()" in text
    assert "CREATE TYPE public.pair AS (a integer, b integer);" in text
    assert "GRANT SELECT ON TABLE public.t TO PUBLIC;" in text


def test_a_default_from_a_sequence_made_by_hand_goes_before_its_sequence(
    settings, fresh, write_migration, query
) -> None:
    write_migration("V001__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    api.up(settings)
    query("CREATE SEQUENCE t_ids")
    query("ALTER TABLE t ALTER COLUMN id SET DEFAULT nextval('t_ids')")
    captured = api.create_from_drift(settings, "ids")
    assert captured is not None
    api.up(fresh)
    api.down(fresh)  # the default is dropped before the sequence it uses
    assert [o.migration.label for o in api.up(fresh).outcomes] == ["V002"]


def test_enum_values_added_by_hand_stay_after_a_rollback_and_up_runs_again(
    settings, fresh, write_migration, query
) -> None:
    write_migration("V001__plan.sql", "CREATE TYPE plan AS ENUM ('free', 'pro');",
                    "DROP TYPE plan;")
    api.up(settings)
    query("ALTER TYPE plan ADD VALUE 'team' BEFORE 'pro'")
    query("ALTER TYPE plan ADD VALUE 'enterprise'")
    query("ALTER TYPE plan ADD VALUE 'trial' BEFORE 'free'")
    captured = api.create_from_drift(settings, "plans")
    assert captured is not None and captured.migration.todo == []
    assert captured.migration.up == [
        "ALTER TYPE public.plan ADD VALUE IF NOT EXISTS 'trial' BEFORE 'free';",
        "ALTER TYPE public.plan ADD VALUE IF NOT EXISTS 'team' BEFORE 'pro';",
        "ALTER TYPE public.plan ADD VALUE IF NOT EXISTS 'enterprise' AFTER 'pro';"]
    api.up(fresh)
    lines, _ = diff_apart_from_order(schema_of(settings.url), schema_of(fresh.url),
                                     expected_name="drifted", actual_name="built")
    assert lines == []
    api.down(fresh)  # runs: its down part says what it cannot do
    assert "-- PostgreSQL cannot remove a value from an enum: public.plan keeps 'team'" in (
        captured.path.read_text())
    assert [o.migration.label for o in api.up(fresh).outcomes] == ["V002"]  # values kept


def test_cli_prints_the_path_and_what_to_do_next(drifted, cli) -> None:
    result = cli("create", "capture", "--from-drift")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("V002__capture.sql")
    assert "then record it here with 'pgshift baseline --version 002'" in result.stderr
    misused = cli("create", "x", "--embedded")
    assert misused.returncode == 2 and "--embedded goes with --from-drift" in misused.stderr


VIEWS = """
CREATE TABLE items (id int PRIMARY KEY, price int, name text);
CREATE VIEW priced AS SELECT id, price FROM items;
CREATE VIEW "Cheap Items" AS SELECT id FROM priced WHERE price < 10;
CREATE VIEW report AS SELECT c.id, p.price FROM "Cheap Items" c JOIN priced p USING (id);
CREATE VIEW names AS SELECT name FROM items;
"""


def test_views_that_read_a_changed_view_are_dropped_before_it_and_made_again_after(
    settings, fresh, write_migration, query
) -> None:
    write_migration("V001__views.sql", VIEWS, 'DROP VIEW names;\nDROP VIEW report;\n'
                    'DROP VIEW "Cheap Items";\nDROP VIEW priced;\nDROP TABLE items;')
    api.up(settings)
    # a column a view reads gets another type: the view goes and comes back around it
    query("DROP VIEW names")
    query("ALTER TABLE items ALTER COLUMN name TYPE varchar(80)")
    query("CREATE VIEW names AS SELECT name FROM items")
    query("CREATE OR REPLACE VIEW priced AS SELECT id, price, name FROM items")
    query("ALTER VIEW report SET (security_invoker = on)")
    query("COMMENT ON VIEW report IS 'kept'")
    captured = assert_proven(settings, fresh, "views")
    up = captured.migration.up
    drops = [s for s in up if s.startswith("DROP VIEW")]
    assert drops == ["DROP VIEW public.report;", 'DROP VIEW public."Cheap Items";',
                     "DROP VIEW public.names;", "DROP VIEW public.priced;"]
    made = [s.split(" AS")[0] for s in up if s.startswith("CREATE VIEW")]
    assert made == ["CREATE VIEW public.names", "CREATE VIEW public.priced",
                    'CREATE VIEW public."Cheap Items"',
                    "CREATE VIEW public.report WITH (security_invoker=on)"]
    assert up.index("ALTER TABLE public.items ALTER COLUMN name TYPE character varying(80);") < (
        up.index(next(s for s in up if s.startswith("CREATE VIEW public.names"))))


def test_a_column_or_table_renamed_by_hand_is_a_todo_line_not_only_a_drop(
    settings, write_migration, query
) -> None:
    """The catalogs cannot tell a rename from a drop and an add, and the file drops the old
    one (its values gone where it runs): a TODO line says to write the RENAME instead."""
    write_migration("V001__t.sql", "CREATE TABLE t (id int, a int, b text);\n"
                    "CREATE TABLE u (id int, note text);", "DROP TABLE u; DROP TABLE t;")
    api.up(settings)
    query("ALTER TABLE t RENAME COLUMN a TO a2")
    query("ALTER TABLE u RENAME TO u2")
    captured = api.create_from_drift(settings, "renames")
    assert captured is not None
    assert captured.migration.todo == [
        "column public.t.a2: if it is public.t.a renamed, write ALTER TABLE public.t RENAME "
        "COLUMN a TO a2 instead of the DROP COLUMN and ADD COLUMN below, which lose a's values",
        "table public.u2: if it is public.u renamed (or moved), write ALTER TABLE public.u "
        "RENAME TO (or SET SCHEMA) instead of the DROP TABLE and CREATE TABLE below, which "
        "lose public.u's rows"]
    query("ALTER TABLE t DROP COLUMN b, ADD COLUMN c text")  # two gone, two new: which is it?
    captured = api.create_from_drift(settings, "more")
    assert captured is not None
    assert [line.split(":")[0] for line in captured.migration.todo] == ["table public.u2"]


@pytest.mark.pg(">=18")
def test_not_null_constraints_keep_their_names_and_stay_not_valid(
    settings, fresh, write_migration, query
) -> None:
    """18 names a column's NOT NULL and lets it be NOT VALID (rows with NULLs stay): the file
    makes the same constraints, without a scan that the NULLs would fail."""
    write_migration("V001__t.sql", "CREATE TABLE t (id int, code text, kind text NOT NULL);\n"
                    "INSERT INTO t VALUES (1, NULL, 'a');", "DROP TABLE t;")
    api.up(settings)
    api.up(fresh)
    query("ALTER TABLE t ADD CONSTRAINT code_given NOT NULL code NOT VALID")
    query("ALTER TABLE t RENAME CONSTRAINT t_kind_not_null TO kind_given")
    query("ALTER TABLE t ADD COLUMN size int CONSTRAINT size_given NOT NULL DEFAULT 0")
    captured = assert_proven(settings, fresh, "not nulls")
    assert captured.migration.up == [
        "ALTER TABLE public.t ADD CONSTRAINT code_given NOT NULL code NOT VALID;",
        "ALTER TABLE public.t ADD COLUMN size integer DEFAULT 0 CONSTRAINT size_given NOT NULL;",
        "ALTER TABLE public.t RENAME CONSTRAINT t_kind_not_null TO kind_given;"]


@pytest.mark.parametrize(("flavor", "first", "files"), [
    ("flyway", {"V1__t.sql": "CREATE TABLE t (id int);\n", "U1__t.sql": "DROP TABLE t;\n"},
     ["V2__by_hand.sql", "U2__by_hand.sql"]),
    ("dbmate", {"20240101000000_t.sql": "-- migrate:up\nCREATE TABLE t (id int);\n"
                                        "-- migrate:down\nDROP TABLE t;\n"},
     ["_by_hand.sql"]),
    ("golang-migrate", {"1_t.up.sql": "CREATE TABLE t (id int);\n",
                        "1_t.down.sql": "DROP TABLE t;\n"},
     ["2_by_hand.up.sql", "2_by_hand.down.sql"]),
    ("node-pg-migrate", {"1700000000000_t.sql": "-- Up Migration\nCREATE TABLE t (id int);\n"
                                                "-- Down Migration\nDROP TABLE t;\n"},
     ["_by-hand.sql"]),
])
def test_drift_is_written_in_the_directorys_own_format_and_round_trips(
    settings, fresh, migrations_dir, query, flavor, first, files
) -> None:
    settings, fresh = (dataclasses.replace(s, flavor=flavor) for s in (settings, fresh))
    for name, text in first.items():
        (migrations_dir / name).write_text(text)
    api.up(settings)
    query("ALTER TABLE t ADD COLUMN b int")
    captured = api.create_from_drift(settings, "by hand")
    assert captured is not None and captured.path.name.endswith(files[0])
    written = sorted(p.name for p in migrations_dir.iterdir() if p.name not in first)
    assert len(written) == len(files) and all(
        any(w.endswith(f) for w in written) for f in files)
    files = [captured.path.name]
    version = files[0][1:].split("__")[0] if flavor == "flyway" else files[0].split("_")[0]
    assert f"'pgshift baseline --version {version}'" in captured.path.read_text()
    assert captured.version == version
    api.up(fresh, allow_contract=True)
    columns = ("SELECT count(*) FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0 "
               "AND NOT attisdropped")
    assert scalar(fresh.url, columns) == 2
    api.down(fresh)
    assert scalar(fresh.url, columns) == 1
    api.up(fresh)
    assert scalar(fresh.url, columns) == 2



ROUTINES_BY_HAND = [
    "CREATE FUNCTION norm(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(t) $$",
    "CREATE INDEX t_norm ON t (norm(code))",
    "CREATE FUNCTION positive(n int) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT n > 0 $$",
    "ALTER TABLE t ADD CONSTRAINT t_positive CHECK (positive(id))",
    "CREATE FUNCTION twice(n int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT n * 2 $$",
    "ALTER TABLE t ADD COLUMN doubled int GENERATED ALWAYS AS (twice(id)) STORED",
    "CREATE STATISTICS t_twice ON (twice(id)), code FROM t",
    "CREATE FUNCTION first_code() RETURNS text LANGUAGE sql AS $$ SELECT 'a' $$",
    "ALTER TABLE t ALTER COLUMN code SET DEFAULT first_code()",
    "CREATE DOMAIN positive_int AS int CHECK (positive(VALUE))",
    "CREATE TABLE u (id positive_int, n int DEFAULT twice(2) CHECK (positive(n)))",
    "ALTER TABLE t ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY t_positive ON t USING (positive(id))",
    "CREATE FUNCTION span(a float8, b float8) RETURNS float8 LANGUAGE sql IMMUTABLE AS "
    "$$ SELECT b - a $$",
    "CREATE TYPE spans AS RANGE (SUBTYPE = float8, SUBTYPE_DIFF = span)",
    # one that reads a table the file makes: after it, as before
    "CREATE FUNCTION u_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM u $$",
]


def test_what_calls_a_function_the_file_makes_is_made_after_it_and_dropped_before_it(
    settings, fresh, write_migration, query
) -> None:
    write_migration("V001__t.sql", "CREATE TABLE t (id int, code text);", "DROP TABLE t;")
    api.up(settings)
    for statement in ROUTINES_BY_HAND:
        query(statement)
    captured = assert_proven(settings, fresh, "routines")  # up, down and up again run
    up, down = captured.migration.up, captured.migration.down

    def at(part: list[str], start: str) -> int:
        return next(i for i, s in enumerate(part) if s.startswith(start))

    for function, readers, droppers in (
            ("public.norm(", ["CREATE INDEX CONCURRENTLY t_norm"], ["DROP INDEX CONCURRENTLY"]),
            ("public.positive(", ["ALTER TABLE public.t ADD CONSTRAINT t_positive",
                                  "ALTER DOMAIN public.positive_int ADD CONSTRAINT",
                                  "ALTER TABLE public.u ADD CONSTRAINT",
                                  "CREATE POLICY t_positive"],
             ["ALTER TABLE public.t DROP CONSTRAINT t_positive", "ALTER DOMAIN",
              "ALTER TABLE public.u DROP CONSTRAINT", "DROP POLICY"]),
            ("public.twice(", ["ALTER TABLE public.t ADD COLUMN doubled", "CREATE TABLE public.u",
                               "CREATE STATISTICS public.t_twice"],
             ["ALTER TABLE public.t DROP COLUMN doubled", "DROP TABLE public.u",
              "DROP STATISTICS"]),
            ("public.first_code(", ["ALTER TABLE public.t ALTER COLUMN code SET DEFAULT"],
             ["ALTER TABLE public.t ALTER COLUMN code DROP DEFAULT"]),
            ("public.span(", ["CREATE TYPE public.spans AS RANGE"], ["DROP TYPE public.spans"])):
        made, dropped = at(up, f"CREATE OR REPLACE FUNCTION {function}"), at(
            down, f"DROP FUNCTION {function}")
        for reader in readers:
            assert made < at(up, reader), (function, reader)
        for dropper in droppers:
            assert at(down, dropper) < dropped, (function, dropper)
    assert at(up, "CREATE TABLE public.u") < at(up, "CREATE OR REPLACE FUNCTION public.u_count(")


DEFAULTS = """
ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO "{reader}";
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO "{writer}";
CREATE TABLE t (id int);
"""

DEFAULTS_BY_HAND = [
    "CREATE TABLE given (id int)",  # the default privileges' grants, as the file's will have
    "CREATE TABLE taken (id int)",
    'REVOKE SELECT ON taken FROM "{reader}"',
    "CREATE FUNCTION opened() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$",
    "GRANT EXECUTE ON FUNCTION opened() TO PUBLIC",
    "CREATE FUNCTION closed() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$",
    "CREATE SEQUENCE kept_seq",
    "CREATE SEQUENCE revoked_seq",
    'REVOKE USAGE ON SEQUENCE revoked_seq FROM "{writer}"',
    "CREATE VIEW t_view AS SELECT id FROM t",
    'REVOKE SELECT ON t_view FROM "{reader}"',
]


def test_objects_the_file_makes_get_the_grants_they_have_whatever_default_privileges_give(
    settings, fresh, write_migration, query, roles
) -> None:
    """Default privileges the same on both sides give what the file makes their grants as it
    is made: the file revokes those the drifted objects lack, and grants none twice."""
    names = {"reader": roles[0], "writer": roles[1]}
    write_migration("V001__defaults.sql", DEFAULTS.format(**names),
                    'ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE ON SEQUENCES FROM '
                    '"{writer}";\nALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC;\n'
                    'ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM "{reader}";\n'
                    "DROP TABLE t;".format(**names))
    api.up(settings)
    for statement in DEFAULTS_BY_HAND:
        query(statement.format(**names))
    captured = assert_proven(settings, fresh, "defaults")
    up = captured.migration.up
    reader, writer = roles[0], f'"{roles[1]}"'
    assert f"REVOKE SELECT ON TABLE public.taken FROM {reader};" in up
    assert f"REVOKE SELECT ON TABLE public.t_view FROM {reader};" in up
    assert "GRANT EXECUTE ON FUNCTION public.opened() TO PUBLIC;" in up
    assert f"REVOKE USAGE ON SEQUENCE public.revoked_seq FROM {writer};" in up
    assert not any(s.startswith("GRANT SELECT") or ("closed" in s and "GRANT" in s) for s in up)


STORAGE = """
CREATE TABLE docs (id int PRIMARY KEY, body text, meta varchar(200), n numeric, ref int,
                   packed text);
ALTER TABLE docs ALTER COLUMN meta SET STORAGE MAIN;
CREATE SEQUENCE free_seq;
CREATE SEQUENCE owned_seq OWNED BY docs.ref;
CREATE TABLE items (id int GENERATED BY DEFAULT AS IDENTITY, body text);
CREATE TABLE events (k int, body text) PARTITION BY LIST (k);
CREATE TABLE events_1 PARTITION OF events FOR VALUES IN (1);
CREATE VIEW doc_ids AS SELECT id FROM docs;
CREATE FUNCTION answer() RETURNS int LANGUAGE sql AS $$ SELECT 42 $$;
CREATE TYPE mood AS ENUM ('ok');
"""

STORAGE_BY_HAND = [
    # storage and compression: set, back to the type's, lost with a new type, on new columns
    "ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL, "
    "ALTER COLUMN body SET COMPRESSION pglz, ALTER COLUMN n SET STORAGE EXTENDED",
    "ALTER TABLE docs ALTER COLUMN meta TYPE text",  # its storage goes back to its type's
    "ALTER TABLE docs ADD COLUMN extra text COMPRESSION pglz",
    "ALTER TABLE docs ALTER COLUMN extra SET STORAGE MAIN",
    "CREATE TABLE made (body text COMPRESSION pglz)",
    "ALTER TABLE made ALTER COLUMN body SET STORAGE EXTERNAL",
    # a partitioned table's: SET STORAGE recurses, SET COMPRESSION does not
    "ALTER TABLE events ALTER COLUMN body SET STORAGE EXTERNAL, "
    "ALTER COLUMN body SET COMPRESSION pglz",
    "ALTER TABLE events_1 ALTER COLUMN body SET COMPRESSION pglz",
    "CREATE TABLE events_2 PARTITION OF events FOR VALUES IN (2)",
    # sequences: settings, the column one is OWNED BY, an identity column's; used (not schema)
    "ALTER SEQUENCE free_seq AS int START 10 RESTART INCREMENT BY 5 MINVALUE 10 MAXVALUE 1000 "
    "CACHE 3 CYCLE OWNED BY docs.id",
    "SELECT nextval('free_seq')",
    "ALTER SEQUENCE owned_seq OWNED BY NONE",
    "ALTER TABLE items ALTER COLUMN id SET INCREMENT BY 7",
    # owners: of a view, a function, a type, a table made, a sequence freed from its column
    'ALTER VIEW doc_ids OWNER TO "{reader}"',
    'ALTER FUNCTION answer() OWNER TO "{writer}"',
    'ALTER TYPE mood OWNER TO "{reader}"',
    'ALTER TABLE made OWNER TO "{writer}"',
    'ALTER SEQUENCE owned_seq OWNER TO "{reader}"',
]


def test_storage_compression_sequences_and_owners_changed_by_hand_are_written_as_sql(
    settings, fresh, write_migration, query, roles
) -> None:
    reader, writer = roles
    write_migration("V001__schema.sql", STORAGE,
                    "DROP TYPE mood; DROP FUNCTION answer(); DROP VIEW doc_ids; "
                    "DROP TABLE events, items, docs; DROP SEQUENCE free_seq;")
    api.up(settings)
    for statement in STORAGE_BY_HAND:
        query(statement.format(reader=reader, writer=writer))
    try:  # lz4 where the server was built with it (the embedded 18 is not)
        query("SET default_toast_compression = 'lz4'")
    except psycopg2.Error:
        lz4 = False
    else:
        lz4 = True
        query("ALTER TABLE docs ALTER COLUMN packed SET COMPRESSION lz4")
    quoted_writer = f'"{writer}"'

    drift = api.schema_drift(settings)
    for line in (
            "column public.docs.body: storage is 'EXTERNAL (its type has EXTENDED)' in the "
            "database, was its type's after the migrations",
            "column public.docs.body: compression is 'pglz' in the database, was the default "
            "after the migrations",
            "sequence public.free_seq: increment is 5 in the database, was 1 after the migrations",
            "sequence public.free_seq: owned_by is 'public.docs.id' in the database, was none "
            "after the migrations",
            "sequence public.items_id_seq: increment is 7 in the database, was 1 after the "
            "migrations",
            f"function public.answer(): owner is {quoted_writer!r} in the database, was the "
            "migrations' role after the migrations"):
        assert line in drift.differences
    assert not any("last_value" in line for line in drift.differences)

    captured = assert_proven(settings, fresh, "storage")
    up, down = captured.migration.up, captured.migration.down
    for statement in (
            "ALTER TABLE public.docs ALTER COLUMN body SET STORAGE EXTERNAL;",
            "ALTER TABLE public.docs ALTER COLUMN body SET COMPRESSION pglz;",
            "ALTER TABLE public.docs ALTER COLUMN n SET STORAGE EXTENDED;",
            "ALTER TABLE public.events_1 ALTER COLUMN body SET COMPRESSION pglz;",
            "ALTER SEQUENCE public.free_seq AS integer START WITH 10 INCREMENT BY 5 MINVALUE 10 "
            "MAXVALUE 1000 CACHE 3 CYCLE;",
            "ALTER SEQUENCE public.free_seq OWNED BY public.docs.id;",
            "ALTER SEQUENCE public.owned_seq OWNED BY NONE;",
            f"ALTER FUNCTION public.answer() OWNER TO {quoted_writer};",
            f"ALTER TABLE public.made OWNER TO {quoted_writer};"):
        assert statement in up
    for statement in (
            "ALTER TABLE public.docs ALTER COLUMN body SET STORAGE EXTENDED;",
            "ALTER TABLE public.docs ALTER COLUMN body SET COMPRESSION DEFAULT;",
            "ALTER TABLE public.docs ALTER COLUMN n SET STORAGE MAIN;",
            "ALTER TABLE public.docs ALTER COLUMN meta SET STORAGE MAIN;",  # after its TYPE
            "ALTER SEQUENCE public.owned_seq OWNED BY public.docs.ref;",
            "ALTER FUNCTION public.answer() OWNER TO CURRENT_USER;"):
        assert statement in down
    if lz4:
        assert "ALTER TABLE public.docs ALTER COLUMN packed SET COMPRESSION lz4;" in up
