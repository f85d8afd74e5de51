"""verify's query probe: the old app's queries against the new schema, judged by what breaks
for the app, read in one pass however many there are."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import psycopg2
import psycopg2.extensions

from pgshift import api
from pgshift.verify import VerifyOptions
from pgshift.verify.compat import QueryProbe
from pgshift.verify.queries import Query


def failures(report) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(f.kind, f.message, f.detail) for m in report.migrations for f in m.findings
            if f.is_failure]


def test_insert_that_leaves_out_a_column_made_not_null_is_a_compatibility_break(
    settings, write_migration, tmp_path: Path
) -> None:
    """Run with NULL parameters, the INSERT fails before the migration as after it: only the
    columns it leaves out tell that the old app's INSERTs now fail."""
    write_migration("V001__users.sql", "CREATE TABLE users (id bigserial PRIMARY KEY, "
                    "email text NOT NULL, name text);", "DROP TABLE users;")
    api.up(settings)
    write_migration("V002__name_required.sql",
                    "UPDATE users SET name = '' WHERE name IS NULL;\n"
                    "ALTER TABLE users ALTER COLUMN name SET NOT NULL;",
                    "ALTER TABLE users ALTER COLUMN name DROP NOT NULL;")
    queries = tmp_path / "queries.sql"
    queries.write_text("INSERT INTO users (email) VALUES ($1);\n"
                       "INSERT INTO users VALUES (DEFAULT, $1) RETURNING id;\n"
                       "INSERT INTO users (email, name) VALUES ($1, $2);\n"
                       "INSERT INTO users (email) VALUES ('a@example.com');\n")
    report = api.verify(settings, VerifyOptions(queries_file=queries))
    assert [message for _, message, _ in failures(report)] == [
        f"INSERT gives no value for name, required (NOT NULL without a default) after the "
        f"migration: queries.sql:{line}: {text}" for line, text in (
            (1, "INSERT INTO users (email) VALUES ($1)"),
            (2, "INSERT INTO users VALUES (DEFAULT, $1) RETURNING id"),
            (4, "INSERT INTO users (email) VALUES ('a@example.com')"))]


def test_insert_into_a_table_whose_trigger_fills_the_column_is_not_judged(
    settings, write_migration, tmp_path: Path
) -> None:
    write_migration("V001__users.sql", "CREATE TABLE users (id int, tenant text);\n"
                    "CREATE FUNCTION fill() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    "NEW.tenant := coalesce(NEW.tenant, 'main'); RETURN NEW; END $$;\n"
                    "CREATE TRIGGER fill BEFORE INSERT ON users FOR EACH ROW "
                    "EXECUTE FUNCTION fill();", "DROP TABLE users;\nDROP FUNCTION fill();")
    api.up(settings)
    write_migration("V002__tenant.sql", "ALTER TABLE users ALTER COLUMN tenant SET NOT NULL;",
                    "ALTER TABLE users ALTER COLUMN tenant DROP NOT NULL;")
    queries = tmp_path / "queries.sql"
    queries.write_text("INSERT INTO users (id) VALUES ($1);\n")
    report = api.verify(settings, VerifyOptions(queries_file=queries))
    assert report.ok, report.failures()


def test_a_query_that_fails_afresh_after_the_migration_is_not_blamed_on_prepared_statements(
    settings, write_migration, tmp_path: Path
) -> None:
    write_migration("V001__t.sql", "CREATE TABLE t (id int, code text);", "DROP TABLE t;")
    api.up(settings)
    write_migration("V002__check.sql", "ALTER TABLE t ADD CONSTRAINT code_short "
                    "CHECK (length(code) < 2) NOT VALID;",
                    "ALTER TABLE t DROP CONSTRAINT code_short;")
    queries = tmp_path / "queries.sql"
    queries.write_text("INSERT INTO t VALUES (1, 'long');\n")
    [(kind, message, detail)] = failures(api.verify(settings,
                                                    VerifyOptions(queries_file=queries)))
    assert (kind, message) == ("compat", "query fails after the migration: queries.sql:1: "
                                         "INSERT INTO t VALUES (1, 'long')")
    assert detail[0].startswith('ERROR: new row for relation "t" violates check constraint')
    assert not any("prepared statements" in line for line in detail)


def test_an_empty_queries_file_is_noted_not_passed_in_silence(
    settings, write_migration, tmp_path: Path
) -> None:
    write_migration("V001__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    queries = tmp_path / "queries.sql"
    queries.write_text("-- the app's queries go here\n")
    report = api.verify(settings, VerifyOptions(queries_file=queries))
    assert report.ok
    assert "queries.sql holds no statement: no application query was checked" in report.notes


class _Counting(psycopg2.extensions.cursor):
    reads: ClassVar[list[str]] = []

    def execute(self, query, vars=None):  # type: ignore[no-untyped-def]
        text = query if isinstance(query, str) else query.as_string(self.connection)
        if "pg_prepared_statements" in text:
            _Counting.reads.append(text)
        return super().execute(query, vars)


def test_the_probe_reads_the_prepared_statements_once_however_many_queries(
    database_url: str
) -> None:
    """Each read of pg_prepared_statements lists every statement the session holds: once
    per query, ten thousand queries made a hundred million rows."""
    conn = psycopg2.connect(database_url, cursor_factory=_Counting)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE t (id int, v text)")
    queries = [Query(f"SELECT v FROM t WHERE id = $1 AND v <> '{n}'", f"q.sql:{n}")
               for n in range(300)]
    _Counting.reads = []
    probe = QueryProbe(conn, queries)
    probe.before()
    assert len(_Counting.reads) == 1
    assert probe.after() == []
    conn.close()


def test_a_statement_prepare_cannot_take_is_noted_as_such_not_as_a_syntax_error(
    settings, write_migration, tmp_path: Path
) -> None:
    write_migration("V001__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    api.up(settings)
    write_migration("V002__u.sql", "CREATE TABLE u (id int);", "DROP TABLE u;")
    queries = tmp_path / "queries.sql"
    queries.write_text("CREATE TEMP TABLE scratch AS SELECT * FROM t;\nSELECT id FROM t;\n")
    report = api.verify(settings, VerifyOptions(queries_file=queries))
    assert report.ok
    assert ("never prepared, so not checked: queries.sql:1: CREATE TEMP TABLE scratch AS "
            "SELECT * FROM t: not a query PREPARE takes (only SELECT, INSERT, UPDATE, DELETE, "
            "MERGE and VALUES can be)") in report.notes


def test_a_query_null_parameters_make_fail_gets_its_plan_compared_or_a_note(
    settings, write_migration, tmp_path: Path, server_version: int
) -> None:
    """A NOT NULL domain refuses the NULL each parameter is run with: from 16 on its generic
    plan needs no value; before, verify says the plan was not compared (no crash)."""
    write_migration("V001__t.sql", "CREATE DOMAIN code AS text NOT NULL;\n"
                    "CREATE TABLE t (id int, c code);\nCREATE INDEX t_c_idx ON t (c);",
                    "DROP TABLE t;\nDROP DOMAIN code;")
    api.up(settings)
    write_migration("V002__drop_idx.sql", "DROP INDEX t_c_idx;", "CREATE INDEX t_c_idx ON t (c);")
    queries = tmp_path / "queries.sql"
    queries.write_text("SELECT id FROM t WHERE c = $1::code;\n")
    report = api.verify(settings, VerifyOptions(queries_file=queries, with_data=True,
                                                rows=2000))
    if server_version >= 160000:
        [(kind, message, _)] = failures(report)
        assert (kind, message.split(" (")[0]) == ("plan", "lost index scan on t_c_idx")
    else:
        assert report.ok
        assert ("plan not compared: queries.sql:1: SELECT id FROM t WHERE c = $1::code: domain "
                "code does not allow null values [23502]") in report.notes


def test_an_insert_null_parameters_make_fail_still_has_its_prepared_statement_checked(
    settings, write_migration, tmp_path: Path
) -> None:
    """Run with NULL for each parameter, an INSERT into a NOT NULL column fails before the
    migration (a constraint, at execution), so it was never run after it: the statement the
    app prepared with $2 as text, which fails once the column is an enum, went unseen."""
    write_migration("V001__orders.sql", "CREATE TABLE orders (id bigserial PRIMARY KEY, "
                    "user_id bigint NOT NULL, status text NOT NULL DEFAULT 'new');",
                    "DROP TABLE orders;")
    api.up(settings)
    write_migration("V002__status_enum.sql",
                    "CREATE TYPE order_status AS ENUM ('new', 'paid');\n"
                    "ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;\n"
                    "ALTER TABLE orders ALTER COLUMN status TYPE order_status "
                    "USING status::order_status;\n"
                    "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new';",
                    "ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;\n"
                    "ALTER TABLE orders ALTER COLUMN status TYPE text;\n"
                    "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new';\n"
                    "DROP TYPE order_status;")
    queries = tmp_path / "queries.sql"
    queries.write_text("INSERT INTO orders (user_id, status) VALUES ($1, $2) RETURNING id;\n"
                       "INSERT INTO orders (user_id) VALUES ($1) RETURNING id;\n")
    [(kind, message, detail)] = failures(api.verify(settings,
                                                    VerifyOptions(queries_file=queries)))
    assert (kind, message) == (
        "compat", "statement prepared before the migration fails after it: queries.sql:1: "
                  "INSERT INTO orders (user_id, status) VALUES ($1, $2) RETURNING id")
    assert detail[0] == ('ERROR: column "status" is of type order_status but expression is of '
                         'type text [42804]')


def test_a_parameter_postgresql_cannot_type_is_checked_as_text_not_skipped(
    settings, write_migration, tmp_path: Path
) -> None:
    """``$1 IS NULL`` gives PostgreSQL nothing to infer $1's type from: PREPARE refused the
    query, which was then never checked, and a rename under it passed."""
    write_migration("V001__users.sql", "CREATE TABLE users (id int, full_name text);",
                    "DROP TABLE users;")
    api.up(settings)
    write_migration("V002__rename.sql",
                    "ALTER TABLE users RENAME COLUMN full_name TO display_name;",
                    "ALTER TABLE users RENAME COLUMN display_name TO full_name;")
    queries = tmp_path / "queries.sql"
    queries.write_text("SELECT id FROM users WHERE ($1 IS NULL OR full_name = $1) "
                       "AND id = $2 AND $3 IS NULL;\n")
    report = api.verify(settings, VerifyOptions(queries_file=queries))
    [(kind, message, detail)] = failures(report)
    assert (kind, message.split(": ")[0]) == ("compat", "query no longer prepares")
    assert detail == ('ERROR: column "full_name" does not exist [42703]',)
    assert [note.split(": SELECT")[0] for note in report.notes if "text" in note] == [
        "prepared with text for the parameters PostgreSQL cannot infer a type of (cast them, "
        "e.g. $1::int, to check them with the type the app sends): queries.sql:1"]


def test_a_parameter_typed_as_text_for_the_check_is_prepared_alike_after_the_migration(
    settings, write_migration, tmp_path: Path
) -> None:
    write_migration("V001__users.sql", "CREATE TABLE users (id int, email text);",
                    "DROP TABLE users;")
    api.up(settings)
    write_migration("V002__phone.sql", "ALTER TABLE users ADD COLUMN phone text;",
                    "ALTER TABLE users DROP COLUMN phone;")
    queries = tmp_path / "queries.sql"
    queries.write_text("SELECT id FROM users WHERE $1 IS NULL OR email = $2;\n")
    report = api.verify(settings, VerifyOptions(queries_file=queries))
    assert report.ok, report.failures()
