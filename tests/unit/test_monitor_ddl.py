"""Reading what a session runs from pg_stat_activity's query text, and pgshift's session names."""

from __future__ import annotations

import pytest

from pgshift.monitor.ddl import main_statement, running_statement, statement_kind
from pgshift.monitor.roles import parse_application_name


@pytest.mark.parametrize(("query", "kind"), [
    ("ALTER TABLE users ADD COLUMN tz text", "ALTER TABLE"),
    ("alter table if exists only users drop column x", "ALTER TABLE"),
    ("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a)", "CREATE INDEX CONCURRENTLY"),
    ("DROP INDEX CONCURRENTLY i", "DROP INDEX CONCURRENTLY"),
    ("CREATE OR REPLACE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql",
     "CREATE FUNCTION"),
    ("REFRESH MATERIALIZED VIEW CONCURRENTLY mv", "REFRESH MATERIALIZED VIEW CONCURRENTLY"),
    ("VACUUM (VERBOSE) users", "VACUUM"),
    ("VACUUM FULL users", "VACUUM FULL"),
    ("LOCK users IN SHARE MODE", "LOCK TABLE"),
    ("-- pgshift\n/* why */ TRUNCATE t", "TRUNCATE"),
    ("BEGIN;SET LOCAL lock_timeout = 500;ALTER TABLE t VALIDATE CONSTRAINT c", "ALTER TABLE"),
    ("ALTER TABLE t ADD COLUMN s text DEFAULT 'cut off by track_activity_query_siz",
     "ALTER TABLE"),
    ("SELECT 'ALTER TABLE x' FROM t", None),
    ("UPDATE t SET a = 1", None),
    ("WITH x AS (SELECT 1) SELECT * FROM x", None),
    ("", None),
])
def test_statement_kind_names_the_ddl_command_and_ignores_everything_else(query, kind) -> None:
    assert statement_kind(query) == kind


def test_main_statement_drops_the_begin_and_set_the_runner_sends_along() -> None:
    query = ("BEGIN;SET LOCAL lock_timeout = 500;SET LOCAL application_name = 'pgshift up x';"
             "ALTER TABLE t ADD COLUMN a int")
    assert main_statement(query) == "ALTER TABLE t ADD COLUMN a int"
    assert main_statement("SELECT 1") == "SELECT 1"


@pytest.mark.parametrize(("name", "parsed"), [
    ("pgshift up V003__add_tz.sql", ("migration", "up", "V003__add_tz.sql", 1)),
    ("pgshift down V003__add_tz.sql", ("migration", "down", "V003__add_tz.sql", 1)),
    ("pgshift lock", ("lock", None, None, None)),
    ("pgshift", ("runner", None, None, None)),
    ("pgshift-tests", None),
    ("psql", None),
])
def test_pgshift_sessions_are_told_apart_by_application_name(name, parsed) -> None:
    assert parse_application_name(name, "pgshift") == parsed


def test_pgshift_sessions_name_the_statement_a_migration_is_running() -> None:
    assert parse_application_name("pgshift up #3 V003__add_tz.sql", "pgshift") == (
        "migration", "up", "V003__add_tz.sql", 3)


def test_running_statement_is_found_in_the_string_the_runner_sent() -> None:
    query = ("BEGIN;SET SESSION lock_timeout = 500;SET SESSION statement_timeout = 600000;"
             "SET LOCAL application_name = 'pgshift up V1__a.sql';SET search_path = app\n;"
             "SELECT setval('pg_temp.pgshift_progress', 1048578), "
             "set_config('application_name', 'pgshift up #2 V1__a.sql', true);"
             "CREATE TABLE a (id int)\n;"
             "SELECT setval('pg_temp.pgshift_progress', 1048579), "
             "set_config('application_name', 'pgshift up #3 V1__a.sql', true);"
             "ALTER TABLE b ADD COLUMN c int\n;INSERT INTO pgshift.history VALUES (1);COMMIT")
    assert running_statement(query, 1) == "SET search_path = app"
    assert running_statement(query, 2) == "CREATE TABLE a (id int)"
    assert running_statement(query, 3) == "ALTER TABLE b ADD COLUMN c int"
    assert running_statement(query, 3, "V1__a.sql") == "ALTER TABLE b ADD COLUMN c int"
    assert running_statement("CREATE INDEX CONCURRENTLY i ON t (a)", 1) == (
        "CREATE INDEX CONCURRENTLY i ON t (a)")


def test_running_statement_of_a_chained_migration_starts_at_the_tag_that_names_it() -> None:
    first = ("BEGIN;SET LOCAL application_name = 'pgshift up V1__a.sql';CREATE TABLE a (id int)"
             "\n;INSERT INTO pgshift.history VALUES (1);COMMIT")
    second = ("BEGIN;SELECT set_config('application_name', 'pgshift up V2__b.sql', true), "
              "set_config('pgshift.started', clock_timestamp()::text, true);"
              "CREATE TABLE b (id int)\n;"
              "SELECT setval('pg_temp.pgshift_progress', 2097154), "
              "set_config('application_name', 'pgshift up #2 V2__b.sql', true);"
              "ALTER TABLE a ADD COLUMN b int\n;INSERT INTO pgshift.history VALUES (2);COMMIT")
    chain = first + ";" + second
    assert running_statement(chain, 1, "V1__a.sql") == "CREATE TABLE a (id int)"
    assert running_statement(chain, 1, "V2__b.sql") == "CREATE TABLE b (id int)"
    assert running_statement(chain, 2, "V2__b.sql") == "ALTER TABLE a ADD COLUMN b int"
    cut = chain[:len(first) + 10]  # as pg_stat_activity shows a long string: cut short
    assert running_statement(cut, 2, "V2__b.sql") is None
