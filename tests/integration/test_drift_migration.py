"""``create NAME --from-drift``: the changes made by hand, written as the next migration. A
database built by the migrations then has the drifted database's schema, the down part takes
it back, and the drifted database, once it records the file, has no drift left."""

from __future__ import annotations

import pytest
from tests.fixtures.project import schema_of

from pgshift import api
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
    captured = api.create_from_drift(settings, "capture")
    assert captured is not None
    assert captured.migration.todo == [
        "type public.pair: present in the database, absent after the migrations",
        "table public.t: its settings differ (grants)",
    ]
    text = captured.path.read_text()
    assert "-- TODO by hand: type public.pair" in text
    assert "CREATE OR REPLACE FUNCTION public.touch()" in text  # what it can write, it writes


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


def test_enum_values_added_by_hand_are_added_and_stay_after_a_rollback(
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
        "ALTER TYPE public.plan ADD VALUE 'trial' BEFORE 'free';",
        "ALTER TYPE public.plan ADD VALUE 'team' BEFORE 'pro';",
        "ALTER TYPE public.plan ADD VALUE 'enterprise' AFTER 'pro';"]
    api.up(fresh)
    lines, _ = diff_apart_from_order(schema_of(settings.url), schema_of(fresh.url),
                                     expected_name="drifted", actual_name="built")
    assert lines == []
    api.down(fresh)  # runs: its down part says what it cannot do
    assert "-- PostgreSQL cannot remove a value from an enum: public.plan keeps 'team'" in (
        captured.path.read_text())


def test_cli_prints_the_path_and_what_to_do_next(drifted, cli) -> None:
    result = cli("create", "capture", "--from-drift")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("V002__capture.sql")
    assert "then record it here with 'pgshift baseline --version 002'" in result.stderr
    misused = cli("create", "x", "--embedded")
    assert misused.returncode == 2 and "--embedded goes with --from-drift" in misused.stderr
