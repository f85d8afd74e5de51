"""verify's plan comparison: the application's queries, writes among them, judged by what the
migration changed and nothing else; the rows of the scratch database as they were."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest

from pgshift import api
from pgshift.errors import InputError
from pgshift.verify import VerifyOptions
from pgshift.verify.plans import explain
from pgshift.verify.queries import Query, _is_application_query

USERS = ("CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL, n int);\n"
         "CREATE INDEX users_email_idx ON users (email);\n"
         "CREATE TABLE audit (id bigserial, what text);\n"
         "CREATE FUNCTION touch() RETURNS int LANGUAGE plpgsql AS $$ BEGIN "
         "INSERT INTO audit (what) VALUES ('touched'); RETURN 1; END $$;")
USERS_DOWN = "DROP FUNCTION touch();\nDROP TABLE audit;\nDROP TABLE users;"
WRITES = ("UPDATE users SET n = n + 1;\n"
          "INSERT INTO users (email, n) SELECT 'new' || g, g FROM generate_series(1, 3000) g;\n"
          "DELETE FROM users WHERE id > $1;\n"
          "SELECT touch() FROM users WHERE email = $1;\n"
          "SELECT id FROM users WHERE email = $1;\n")
DATA = "INSERT INTO users (email, n) SELECT 'user' || g, g FROM generate_series(1, 2000) g;\n"


def failures(report) -> list[tuple[str, str]]:
    return [(f.kind, f.message) for m in report.migrations for f in m.findings if f.is_failure]


def test_the_checks_own_rolled_back_writes_do_not_make_a_migration_look_costlier(
    settings, write_migration, tmp_path: Path
) -> None:
    """Each query runs once before and once after each migration, rolled back; what an UPDATE
    or INSERT wrote stays in the table until a vacuum, and was costed as live rows: a migration
    that changes nothing doubled the cost of every write."""
    write_migration("V001__users.sql", USERS, USERS_DOWN)
    api.up(settings)
    write_migration("V002__comment.sql", "COMMENT ON TABLE users IS 'people';",
                    "COMMENT ON TABLE users IS NULL;")
    write_migration("V003__comment.sql", "COMMENT ON TABLE audit IS 'log';",
                    "COMMENT ON TABLE audit IS NULL;")
    (tmp_path / "queries.sql").write_text(WRITES)
    report = api.verify(settings, VerifyOptions(queries_file=tmp_path / "queries.sql",
                                                with_data=True, rows=2000))
    assert failures(report) == []
    assert [m.label for m in report.migrations] == ["V002", "V003"]


def test_an_index_dropped_under_a_write_query_is_still_flagged(
    settings, write_migration, tmp_path: Path
) -> None:
    write_migration("V001__users.sql", USERS, USERS_DOWN)
    api.up(settings)
    write_migration("V002__drop_index.sql", "DROP INDEX users_email_idx;",
                    "CREATE INDEX users_email_idx ON users (email);")
    (tmp_path / "queries.sql").write_text(WRITES)
    report = api.verify(settings, VerifyOptions(queries_file=tmp_path / "queries.sql",
                                                with_data=True, rows=2000))
    assert [kind for kind, _ in failures(report)] == ["plan", "plan"]
    assert all("lost index scan on users_email_idx" in message for _, message in failures(report))


def test_the_rows_of_the_scratch_database_are_as_the_data_script_left_them(
    settings, fresh, write_migration, tmp_path: Path
) -> None:
    write_migration("V001__users.sql", USERS, USERS_DOWN)
    api.up(settings)
    write_migration("V002__comment.sql", "COMMENT ON TABLE users IS 'people';",
                    "COMMENT ON TABLE users IS NULL;")
    (tmp_path / "queries.sql").write_text(WRITES)
    (tmp_path / "data.sql").write_text(DATA)
    report = api.verify(settings, VerifyOptions(
        scratch_url=fresh.url, queries_file=tmp_path / "queries.sql", with_data=True,
        data_script=tmp_path / "data.sql"))
    assert report.ok, failures(report)
    conn = psycopg2.connect(fresh.url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT count(*), sum(n), md5(string_agg(email, ',' ORDER BY id)), "
                    "(SELECT count(*) FROM audit) FROM users")
        seen = cur.fetchone()
        cur.execute("CREATE TEMP TABLE loaded AS SELECT g::bigint AS id, 'user' || g AS email, "
                    "g AS n FROM generate_series(1, 2000) g;"
                    "SELECT count(*), sum(n), md5(string_agg(email, ',' ORDER BY id)), 0, "
                    "pg_relation_size('users') <= pg_relation_size('loaded') FROM loaded")
        assert (*seen, True) == cur.fetchone()  # not a row more, nor a page
    conn.close()


def test_explain_leaves_the_sessions_plan_cache_mode_as_it_was(database_url: str) -> None:
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE t (id int PRIMARY KEY); SET plan_cache_mode = force_custom_plan;"
                    "PREPARE q AS SELECT * FROM t WHERE id = $1")
        assert explain(cur, "q", 1).seq_scans == {"t"}
        cur.execute("SELECT current_setting('plan_cache_mode')")
        assert cur.fetchone() == ("force_custom_plan",)
    conn.close()


def test_a_statement_prepare_cannot_take_is_noted_in_a_queries_file_not_refused(
    settings, write_migration, tmp_path: Path
) -> None:
    write_migration("V001__users.sql", USERS, USERS_DOWN)
    (tmp_path / "queries.sql").write_text("-- the export job\nCOPY users TO STDOUT;\n"
                                          "SELECT id FROM users WHERE email = $1;\n")
    report = api.verify(settings, VerifyOptions(queries_file=tmp_path / "queries.sql"))
    assert report.ok and report.queries == 2
    assert ("never prepared, so not checked: queries.sql:2: COPY users TO STDOUT: not a query "
            "PREPARE takes (only SELECT, INSERT, UPDATE, DELETE, MERGE and VALUES can be)"
            ) in report.notes


def test_a_query_of_two_statements_is_refused_before_its_second_could_run() -> None:
    """PREPARE takes the first statement of a string; the server runs the rest for real."""
    with pytest.raises(InputError, match="pg_stat_statements #1: a query must be one statement"):
        Query("SELECT * FROM users; DELETE FROM users", "pg_stat_statements #1")
    assert not _is_application_query("SELECT * FROM users; DELETE FROM users", "pgshift")
    assert _is_application_query("SELECT * FROM users WHERE note = 'a;b'", "pgshift")
