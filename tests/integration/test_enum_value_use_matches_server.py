"""enum-value-used-in-transaction flags a migration exactly when PostgreSQL refuses it.

Each scenario runs on the test server in one transaction after ``ALTER TYPE mood ADD VALUE
'happy'`` (as ``--runner pgshift`` runs a file), and is linted with the same schema known:
"unsafe use of new value" (SQLSTATE 55P04) and the rule's finding must agree.
"""

from __future__ import annotations

from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest

from pgshift.lint.engine import Engine
from pgshift.lint.options import LintOptions
from pgshift.lint.schema import Schema

RULE = "enum-value-used-in-transaction"
SCHEMA = """
CREATE TYPE mood AS ENUM ('sad', 'ok');
CREATE DOMAIN mood_d AS mood;
CREATE TYPE feeling AS ENUM ('happy', 'sad');
CREATE TABLE people (name text, current mood);
CREATE TABLE log (msg text);
CREATE TABLE moods (m mood[]);
CREATE TABLE notes (current text);
"""
ADD = "ALTER TYPE mood ADD VALUE 'happy';\n"

# (id, SQL after the ADD VALUE); the server decides which ones fail.
SCENARIOS = [
    ("text-cast", "INSERT INTO log (msg) VALUES ('happy'::text);"),
    ("varchar-cast", "SELECT 'happy'::varchar;"),
    ("jsonb-cast", "SELECT '\"happy\"'::jsonb;"),
    ("text-array", "SELECT ARRAY['happy']::text[];"),
    ("known-text-column-insert", "INSERT INTO log (msg) VALUES ('happy');"),
    ("known-text-column-update", "UPDATE log SET msg = 'happy';"),
    ("known-text-column-compare", "DELETE FROM log WHERE msg = 'happy';"),
    ("like-pattern", "SELECT 1 FROM log WHERE msg LIKE 'happy';"),
    ("format-string", "SELECT format('happy', 1), format('%s', 'happy');"),
    ("set-config", "SELECT set_config('app.mood', 'happy', true);"),
    ("another-enum", "CREATE TYPE feeling2 AS ENUM ('happy');\nSELECT 'happy'::feeling2;"),
    ("is-null", "SELECT 'happy' IS NULL;"),
    ("plpgsql-function", "CREATE FUNCTION f() RETURNS mood LANGUAGE plpgsql AS "
     "$$ BEGIN RETURN 'happy'::mood; END $$;"),
    ("sql-function-unchecked", "SET LOCAL check_function_bodies = off;\nCREATE FUNCTION f() "
     "RETURNS mood LANGUAGE sql AS $$ SELECT 'happy'::mood $$;"),
    ("sql-function-polymorphic", "CREATE FUNCTION f(a anyelement) RETURNS mood LANGUAGE sql "
     "AS $$ SELECT 'happy'::mood $$;"),
    ("sql-function-text", "CREATE FUNCTION f() RETURNS text LANGUAGE sql "
     "AS $$ SELECT 'happy'::text $$;"),
    ("function-set-option", "CREATE FUNCTION g() RETURNS int LANGUAGE sql "
     "SET application_name = 'happy' AS $$ SELECT 1 $$;"),
    ("do-raise", "DO $$ BEGIN RAISE NOTICE '%', 'happy'; END $$;"),
    ("do-text-variable", "DO $$ DECLARE v text; BEGIN v := 'happy'; END $$;"),
    ("known-text-column-of-target", "UPDATE notes SET current = 'happy' WHERE current = 'x';"),
    ("text-column-default", "CREATE TABLE t (note text DEFAULT 'happy');"),
    ("enum-first", "SELECT enum_first(NULL::mood);"),
    ("comment", "COMMENT ON TYPE mood IS 'happy';"),
    # Uses: PostgreSQL converts the literal to mood.
    ("enum-cast", "SELECT 'happy'::mood;"),
    ("enum-cast-never-run", "SELECT 1 WHERE false AND 'happy'::mood IS NULL;"),
    ("domain-cast", "SELECT 'happy'::mood_d;"),
    ("text-then-enum-cast", "SELECT 'happy'::text::mood;"),
    ("array-literal", "SELECT '{happy,sad}'::mood[];"),
    ("array-constructor", "SELECT ARRAY['happy']::mood[];"),
    ("enum-column-insert", "INSERT INTO people (current) VALUES ('happy');"),
    ("enum-array-column-insert", "INSERT INTO moods (m) VALUES ('{happy}');"),
    ("enum-column-update", "UPDATE people SET current = 'happy' WHERE name = 'x';"),
    ("enum-column-compare", "SELECT 1 FROM people WHERE current = 'happy';"),
    ("enum-column-in-list", "SELECT 1 FROM people WHERE current IN ('happy', 'sad');"),
    ("insert-select-compares-enum", "INSERT INTO notes (current) SELECT name FROM people "
     "WHERE current = 'happy';"),
    ("update-from-compares-enum", "UPDATE notes SET current = 'x' FROM people "
     "WHERE people.current = 'happy';"),
    ("coalesce", "SELECT coalesce(current, 'happy') FROM people;"),
    ("enum-range", "SELECT enum_range(NULL::mood);"),
    ("enum-last", "SELECT enum_last(NULL::mood);"),
    ("column-default", "ALTER TABLE people ALTER COLUMN current SET DEFAULT 'happy';"),
    ("new-column-default", "CREATE TABLE t (m mood DEFAULT 'happy');"),
    ("check", "ALTER TABLE people ADD CONSTRAINT c CHECK (current <> 'happy') NOT VALID;"),
    ("partial-index", "CREATE INDEX ON people (name) WHERE current <> 'happy';"),
    ("policy", "CREATE POLICY p ON people USING (current <> 'happy');"),
    ("view", "CREATE VIEW v AS SELECT 'happy'::mood AS m;"),
    ("create-table-as", "CREATE TABLE t AS SELECT 'happy'::mood AS m;"),
    ("explain", "EXPLAIN SELECT 'happy'::mood;"),
    ("prepare", "PREPARE p AS SELECT 'happy'::mood;"),
    ("sql-function", "CREATE FUNCTION f() RETURNS mood LANGUAGE sql "
     "AS $$ SELECT 'happy'::mood $$;"),
    ("sql-function-atomic", "CREATE FUNCTION f() RETURNS mood LANGUAGE sql "
     "BEGIN ATOMIC SELECT 'happy'::mood; END;"),
    ("parameter-default", "CREATE FUNCTION f(p mood DEFAULT 'happy') RETURNS int "
     "LANGUAGE sql AS $$ SELECT 1 $$;"),
    ("do-statement", "DO $$ BEGIN INSERT INTO people (current) VALUES ('happy'); END $$;"),
    ("do-enum-variable", "DO $$ DECLARE v mood; BEGIN v := 'happy'; END $$;"),
    ("do-condition", "DO $$ BEGIN IF 'happy'::mood IS NOT NULL THEN NULL; END IF; END $$;"),
    ("do-raise-cast", "DO $$ BEGIN RAISE NOTICE '%', 'happy'::mood; END $$;"),
    ("do-for-query", "DO $$ DECLARE r record; BEGIN FOR r IN SELECT * FROM people "
     "WHERE current = 'happy' LOOP END LOOP; END $$;"),
]
# Scenarios with their own ADD VALUE: inside the DO block that uses the label, or of a type
# created in the same transaction (usable from PostgreSQL 17).
OWN_ADD = [
    ("type-created-in-this-transaction", "CREATE TYPE mood2 AS ENUM ('a');\n"
     "ALTER TYPE mood2 ADD VALUE 'happy';\nSELECT 'happy'::mood2;"),
    ("do-adds-then-inserts", "DO $$ BEGIN ALTER TYPE mood ADD VALUE 'happy'; "
     "INSERT INTO people (current) VALUES ('happy'); END $$;"),
    ("do-adds-then-assigns", "DO $$ DECLARE v mood; BEGIN ALTER TYPE mood ADD VALUE 'happy'; "
     "v := 'happy'; END $$;"),
    ("do-adds-then-uses-text", "DO $$ DECLARE v text; BEGIN ALTER TYPE mood ADD VALUE 'happy'; "
     "v := 'happy'; INSERT INTO log (msg) VALUES ('happy'::text); END $$;"),
]


@pytest.fixture(scope="module")
def mood_url(admin_url: str, template_database: str):
    from tests.fixtures.pg import create_database, drop_database, url_with_dbname

    name = create_database(admin_url, template_database)
    url = url_with_dbname(admin_url, name)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(SCHEMA)
    conn.close()
    yield url
    drop_database(admin_url, name)


def _refused(url: str, sql: str) -> bool:
    """Whether PostgreSQL refuses ``sql`` (one transaction, rolled back) as an unsafe use."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
        return False
    except psycopg2.errors.UnsafeNewEnumValueUsage:
        return True
    finally:
        conn.rollback()
        conn.close()


def _flagged(sql: str, server_version: int) -> bool:
    engine = Engine(LintOptions(pg_version=server_version // 10000,
                                select=frozenset({RULE})))
    schema = Schema()
    engine.replay(SCHEMA, Path("schema.sql"), schema, plain=True)
    return any(v.rule == RULE for v in engine.lint(sql, Path("V2__use.sql"), schema))


@pytest.mark.parametrize(("name", "sql"), SCENARIOS + OWN_ADD,
                         ids=[n for n, _ in SCENARIOS + OWN_ADD])
def test_the_rule_flags_exactly_what_the_server_refuses(
        mood_url: str, server_version: int, name: str, sql: str) -> None:
    text = sql if (name, sql) in OWN_ADD else ADD + sql
    refused = _refused(mood_url, text)
    assert _flagged(text, server_version) == refused, (
        f"{name}: the server {'refuses' if refused else 'accepts'} it")


def test_uses_and_non_uses_both_occur_among_the_scenarios(mood_url: str) -> None:
    """The comparison means something only if the server refuses some and accepts others."""
    verdicts = {_refused(mood_url, ADD + sql) for _, sql in SCENARIOS}
    assert verdicts == {True, False}
