"""What pgshift tells from a statement's words alone, without building its syntax tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgshift.migrations.statements import Statement, may_join_transaction, session_settings


@pytest.mark.parametrize("text", [
    "INSERT INTO data VALUES (1, 'a')",
    "-- the first rows\n/* loaded */ insert into data values (2, 'b');",
    "UPDATE data SET name = 'c' WHERE id = 1",
    "WITH gone AS (DELETE FROM data RETURNING id) SELECT count(*) FROM gone",
    "CREATE TABLE t (id int)",
    "CREATE INDEX t_id ON t (id)",
    "ALTER TABLE t ADD COLUMN v text",
    "ANALYZE t",
])
def test_a_plain_statement_may_carry_its_progress_in_its_transaction(text: str) -> None:
    assert may_join_transaction(text)


@pytest.mark.parametrize("text", [
    "CREATE INDEX CONCURRENTLY t_id ON t (id)",
    "DROP INDEX CONCURRENTLY t_id",
    "REINDEX INDEX CONCURRENTLY t_id",
    "ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY",
    "VACUUM t",
    "CREATE DATABASE other",
    "ALTER SYSTEM SET work_mem = '8MB'",
    "CREATE TABLESPACE s LOCATION '/tmp'",
    "CREATE SUBSCRIPTION s CONNECTION 'dbname=x' PUBLICATION p",
    "ALTER TYPE mood ADD VALUE 'meh'",
    "SET lock_timeout = '1s'",
    "RESET ALL",
    "DISCARD ALL",
    "CALL do_work()",
    "DO $$ BEGIN COMMIT; END $$",
    "COMMIT",
    "SELECT set_config('default_transaction_read_only', 'on', false)",
    "ALTER ROLE app SET search_path = app",
    "SET ROLE admin",
    "",
    "-- only a comment",
])
def test_a_statement_that_must_run_alone_or_may_stop_the_bookkeeping_runs_alone(
    text: str,
) -> None:
    assert not may_join_transaction(text)


def test_session_settings_are_found_whatever_the_case_of_their_words() -> None:
    statements = [Statement("SELECT Set_Config('search_path', '', false)", 1, Path("V1__x.sql")),
                  Statement("CREATE TEMPORARY TABLE scratch (id int)", 2, Path("V1__x.sql")),
                  Statement("SELECT PG_ADVISORY_LOCK(42)", 3, Path("V1__x.sql"))]
    assert session_settings(statements) == (
        "search_path", "(temporary objects)", "(advisory locks)")
