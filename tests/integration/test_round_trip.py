"""A transactional migration reaches the server in one round trip, and a failure still names
the statement (and line) that raised it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import psycopg2
import pytest

from pgshift import api
from pgshift.errors import MigrationFailedError, MigrationTimeoutError


def applied(query) -> list[str]:
    return [r[0] for r in query("SELECT key FROM pgshift.history WHERE status = 'applied'")]


def test_a_runtime_error_names_the_statement_that_raised_it(
    settings, write_migration, query
) -> None:
    write_migration(
        "V1__a.sql",
        "CREATE TABLE a (id int PRIMARY KEY);\nINSERT INTO a VALUES (1);\n"
        "INSERT INTO a VALUES (1);\nCREATE TABLE b (id int);",
        "DROP TABLE b, a;",
    )
    with pytest.raises(MigrationFailedError) as caught:
        api.up(settings)
    assert (caught.value.line, caught.value.sqlstate) == (3, "23505")
    assert query("SELECT to_regclass('a')") == [(None,)]


def test_an_error_with_a_position_names_its_own_line_inside_the_statement(
    settings, write_migration
) -> None:
    write_migration(
        "V1__a.sql", "CREATE TABLE a (id int);\nSELECT id,\n  nope\nFROM a;", "DROP TABLE a;"
    )
    with pytest.raises(MigrationFailedError) as caught:
        api.up(settings)
    assert (caught.value.line, caught.value.sqlstate) == (3, "42703")


def test_a_division_by_zero_of_the_migration_is_its_own_error_not_a_lost_lock(
    settings, write_migration
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);\nSELECT 1 / 0;", "DROP TABLE a;")
    with pytest.raises(MigrationFailedError) as caught:
        api.up(settings)
    assert (caught.value.line, caught.value.sqlstate) == (2, "22012")


def test_a_statement_timeout_names_the_statement_that_ran_out_of_time(
    settings, write_migration, query
) -> None:
    write_migration(
        "V1__a.sql",
        "CREATE TABLE a (id int);\nSELECT pg_sleep(5);\nCREATE TABLE b (id int);",
        "DROP TABLE b, a;",
        header="-- pgshift:statement-timeout 300ms",
    )
    with pytest.raises(MigrationTimeoutError) as caught:
        api.up(settings)
    assert caught.value.line == 3  # the header is line 1
    assert "statement timeout" in str(caught.value)
    assert query("SELECT to_regclass('a')") == [(None,)]


def test_statement_timeout_applies_to_each_statement_not_to_the_whole_migration(
    settings, write_migration, query
) -> None:
    write_migration(
        "V1__a.sql",
        "SELECT pg_sleep(0.4);\nSELECT pg_sleep(0.4);\nSELECT pg_sleep(0.4);",
        "SELECT 1;",
        header="-- pgshift:statement-timeout 1s",
    )
    api.up(settings)
    assert applied(query) == ["1"]


def test_a_last_statement_ending_in_a_comment_still_records_its_history_row(
    settings, write_migration, query
) -> None:
    write_migration(
        "V1__a.sql", "CREATE TABLE a (id int);\nCREATE TABLE b (id int) -- no semicolon",
        "DROP TABLE b, a;",
    )
    api.up(settings)
    assert applied(query) == ["1"]
    api.down(settings)
    assert query("SELECT to_regclass('b'), count(*) FROM pgshift.history") == [(None, 0)]


@pytest.fixture
def no_temp_url(database_url: str, query) -> Iterator[str]:
    """A role that may create tables but no temporary objects; yields its URL."""
    role = f"notemp_{query('SELECT current_database()')[0][0]}"
    database = query("SELECT current_database()")[0][0]
    for statement in (
        f'CREATE ROLE "{role}" LOGIN',
        f'GRANT CREATE ON DATABASE "{database}" TO "{role}"',
        f'GRANT CREATE ON SCHEMA public TO "{role}"',
        f'REVOKE TEMPORARY ON DATABASE "{database}" FROM PUBLIC',
    ):
        query(statement)
    yield database_url.replace("postgres@", f"{role}@")
    query(f'DROP OWNED BY "{role}"')
    query(f'DROP ROLE "{role}"')


def test_without_the_temporary_privilege_statements_go_one_by_one_and_still_name_their_line(
    settings, no_temp_url, write_migration, query
) -> None:
    settings = dataclasses.replace(settings, url=no_temp_url)
    conn = psycopg2.connect(no_temp_url)
    with conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
        cur.execute("CREATE TEMP TABLE t (id int)")
    conn.close()
    write_migration("V1__a.sql", "CREATE TABLE a (id int);\nCREATE TABLE b (id int);",
                    "DROP TABLE b, a;")
    write_migration("V2__b.sql", "CREATE TABLE c (id int);\nSELECT 1 / 0;\nSELECT 1;",
                    "DROP TABLE c;")
    with pytest.raises(MigrationFailedError) as caught:
        api.up(settings)
    assert (caught.value.migration, caught.value.line) == ("V2", 2)
    assert applied(query) == ["1"]


def test_a_migration_that_drops_temporary_objects_still_applies(
    settings, write_migration, query
) -> None:
    write_migration("V1__a.sql",
                    "CREATE TABLE a (id int);\nDISCARD TEMP;\nCREATE TABLE b (id int);",
                    "DROP TABLE b, a;")
    write_migration("V2__b.sql", "CREATE TABLE c (id int);\nCREATE TABLE d (id int);",
                    "DROP TABLE d, c;")
    api.up(settings)
    assert applied(query) == ["1", "2"]
    assert query("SELECT count(*) FROM pg_tables WHERE tablename IN ('a', 'b', 'c', 'd')") == [
        (4,)]


def test_a_migration_that_sets_another_role_still_applies(
    settings, write_migration, query
) -> None:
    role = f"owner_{query('SELECT current_database()')[0][0]}"
    query(f'CREATE ROLE "{role}"')
    query(f'GRANT CREATE ON SCHEMA public TO "{role}"')
    try:
        write_migration("V1__a.sql", f'SET ROLE "{role}";\nCREATE TABLE a (id int);\n'
                        "CREATE TABLE b (id int);\nRESET ROLE;", "DROP TABLE b, a;")
        api.up(settings)
        assert query("SELECT tableowner FROM pg_tables WHERE tablename = 'b'") == [(role,)]
    finally:
        query(f'DROP OWNED BY "{role}"')
        query(f'DROP ROLE "{role}"')


# Statements whose text holds what a naive split or position count trips on: semicolons in
# strings, comments and dollar quotes, a line comment at the end, characters beyond one byte.
TRICKY = ("SELECT 'a;b' -- c;\n", "/* two\nlines ; */ SELECT 1", "DO $$ BEGIN PERFORM 1; END $$",
          "SELECT $q$;;$q$", "SELECT 'é😀' AS \"ü\"", "COMMENT ON TABLE a IS 'x;y'",
          "SELECT 1 -- no semicolon here\n")


@pytest.mark.parametrize(("failing", "sqlstate"), [
    ("SELECT 'é😀', nope FROM a", "42703"),  # placed by its position in the string
    ("SELECT 'é😀', 1 / 0", "22012"),        # placed by the marker: no position
])
def test_a_failure_after_tricky_statements_of_chained_migrations_names_its_line(
    settings, write_migration, query, failing: str, sqlstate: str
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V2__b.sql", ";\n".join(TRICKY), "SELECT 1;")
    body = ";\n".join((*TRICKY, failing))
    write_migration("V3__c.sql", body, "SELECT 1;")
    with pytest.raises(MigrationFailedError) as caught:
        api.up(settings)
    assert (caught.value.migration, caught.value.sqlstate) == ("V3", sqlstate)
    assert caught.value.line == body.count("\n") + 1
    assert applied(query) == ["1", "2"]
