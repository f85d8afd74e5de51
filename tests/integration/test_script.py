"""``up --script`` / ``down --script``: the run as a psql script that a DBA applies, recording
what pgshift would record, safe to run again and to go on after a failure."""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Callable
from pathlib import Path

import psycopg2
import pytest

from pgshift import api
from pgshift.errors import InputError, MigrationFailedError

USERS = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);"
INDEX = "-- pgshift:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY users_email ON users (email);"
ROW_COLUMNS = "key, version, description, kind, script, checksum, status, transactional"

Psql = Callable[..., subprocess.CompletedProcess]


@pytest.fixture
def psql(pg_bindir: Path, database_url: str, tmp_path: Path) -> Psql:
    """Run a script's text with psql, as a DBA would: ``psql -X -f FILE [-v ...] URL``."""

    def run(text: str, *variables: str) -> subprocess.CompletedProcess:
        path = tmp_path / "script.sql"
        path.write_text(text, encoding="utf-8")
        flags = [arg for variable in variables for arg in ("-v", variable)]
        return subprocess.run([str(pg_bindir / "psql"), "-X", "-f", str(path), *flags,
                               database_url], capture_output=True, text=True, timeout=60)

    return run


@pytest.fixture
def three(write_migration) -> None:
    write_migration("V001__users.sql", USERS, "DROP TABLE users;")
    write_migration("V002__users_email.sql", INDEX,
                    "DROP INDEX CONCURRENTLY users_email;")
    write_migration("V003__users_name.sql", "ALTER TABLE users ADD COLUMN name text;",
                    "ALTER TABLE users DROP COLUMN name;")


def history_rows(query) -> list[tuple]:
    return query(f"SELECT {ROW_COLUMNS} FROM pgshift.history ORDER BY key")


def test_applied_by_psql_the_history_is_what_pgshift_up_would_have_written(
    settings, three, psql, query, admin_url, template_database
) -> None:
    script = api.script(settings)
    assert [m.name for m in script.migrations] == [
        "V001__users.sql", "V002__users_email.sql", "V003__users_name.sql"]
    done = psql(script.text)
    assert done.returncode == 0, done.stderr
    assert "pgshift up script: done" in done.stdout
    by_script = history_rows(query)
    from tests.fixtures.pg import create_database, drop_database, url_with_dbname

    other = create_database(admin_url, template_database)
    try:
        api.up(dataclasses.replace(settings, url=url_with_dbname(admin_url, other)))
        conn = psycopg2.connect(url_with_dbname(admin_url, other))
        with conn, conn.cursor() as cur:
            cur.execute(f"SELECT {ROW_COLUMNS} FROM pgshift.history ORDER BY key")
            assert by_script == cur.fetchall()
        conn.close()
    finally:
        drop_database(admin_url, other)
    assert not api.status(settings).pending()
    api.validate(settings)  # no drift: the same checksums
    [run] = api.log(settings)  # the run log has the script's run (pgshift's up is elsewhere)
    assert (run.command, run.status, run.migrations) == (
        "up --script", "done", [m.name for m in script.migrations])
    assert run.machine in ("127.0.0.1", "::1", "local")  # where psql connected from
    assert api.log(settings, migration="2") == [run]
    assert query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email'::regclass"
                 ) == [(True,)]


def test_a_second_run_skips_everything_and_changes_nothing(settings, three, psql, query) -> None:
    text = api.script(settings).text
    assert psql(text).returncode == 0
    applied_at = query("SELECT key, applied_at FROM pgshift.history ORDER BY key")
    again = psql(text)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("already applied; skipped") == 3
    assert query("SELECT key, applied_at FROM pgshift.history ORDER BY key") == applied_at


def test_a_failed_migration_stops_the_script_and_a_new_run_goes_on_from_it(
    settings, write_migration, psql, query
) -> None:
    write_migration("V001__users.sql", USERS + "\nINSERT INTO users VALUES (1, 'a'), (2, 'a');",
                    "DROP TABLE users;")
    write_migration("V002__users_email.sql", INDEX, "DROP INDEX CONCURRENTLY users_email;",)
    write_migration("V003__users_name.sql", "ALTER TABLE users ADD COLUMN name text;",
                    "ALTER TABLE users DROP COLUMN name;")
    text = api.script(settings).text
    failed = psql(text)
    assert failed.returncode == 3  # psql's exit code for a script stopped by an error
    assert "could not create unique index" in failed.stderr
    assert query("SELECT key, status FROM pgshift.history ORDER BY key") == [
        ("1", "applied"), ("2", "running")]  # the no-transaction one, seen as interrupted
    assert query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email'::regclass"
                 ) == [(False,)]  # what a failed concurrent build leaves
    assert api.status(settings).interrupted()

    [stopped] = api.log(settings)  # psql has ended: the run it left is interrupted
    assert (stopped.status, stopped.migrations) == ("interrupted", ["V001__users.sql"])
    query("DELETE FROM users WHERE id = 2")
    finished = psql(text)
    assert finished.returncode == 0, finished.stderr
    assert query("SELECT key, status FROM pgshift.history ORDER BY key") == [
        ("1", "applied"), ("2", "applied"), ("3", "applied")]
    assert query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email'::regclass"
                 ) == [(True,)]  # the INVALID index was dropped and built again


def test_an_interrupted_no_transaction_migration_resumes_after_the_statements_done(
    settings, write_migration, psql, query
) -> None:
    write_migration("V001__two_steps.sql",
                    "-- pgshift:no-transaction\nCREATE TABLE a (id int);\nCREATE TABLE b (id int "
                    "REFERENCES missing);", "DROP TABLE b;\nDROP TABLE a;")
    text = api.script(settings).text
    assert psql(text).returncode == 3
    assert query("SELECT status, statements_done FROM pgshift.history") == [("running", 1)]
    query("CREATE TABLE missing (id int PRIMARY KEY)")
    resumed = psql(text)  # CREATE TABLE a would fail if it ran again
    assert resumed.returncode == 0, resumed.stderr
    assert query("SELECT status FROM pgshift.history") == [("applied",)]
    api.validate(settings)


def test_a_script_stops_where_the_file_changed_above_an_interrupted_run_as_up_does(
    settings, migrations_dir, psql, query
) -> None:
    path = migrations_dir / "V001__nt.sql"
    text = ("-- pgshift:no-transaction\n-- pgshift:timeout 1s\nCREATE TABLE a (id int);\n"
            "SELECT pg_sleep(3);\nCREATE TABLE b (id int);\n-- pgshift:down\nDROP TABLE b;\n"
            "DROP TABLE a;\n")
    path.write_text(text)
    with pytest.raises(MigrationFailedError):
        api.up(settings)  # stops at the sleep, its first statement done (and hashed)
    path.write_text(text.replace("(id int);\nSELECT", "(id int, x int);\nSELECT")
                    .replace("pg_sleep(3)", "pg_sleep(0)"))
    stopped = psql(api.script(settings).text)
    assert stopped.returncode == 3
    assert "V001__nt.sql changed above where its interrupted run stopped" in stopped.stderr
    assert query("SELECT status, statements_done FROM pgshift.history") == [("running", 1)]
    path.write_text(text.replace("pg_sleep(3)", "pg_sleep(0)"))  # an edit below: the fix
    resumed = psql(api.script(settings).text)
    assert resumed.returncode == 0, resumed.stderr
    assert query("SELECT status FROM pgshift.history") == [("applied",)]


def test_an_index_built_or_dropped_before_an_interruption_is_not_done_again(
    settings, three, psql, query
) -> None:
    """As if psql were killed after the statement, before the count that follows it."""
    assert psql(api.script(settings, to="2").text).returncode == 0
    query("UPDATE pgshift.history SET status = 'running', statements_done = 0 WHERE key = '2'")
    rerun = psql(api.script(settings, to="2").text)  # built again, it would already exist
    assert rerun.returncode == 0, rerun.stderr
    assert query("SELECT status FROM pgshift.history WHERE key = '2'") == [("applied",)]

    query("DROP INDEX users_email")
    query("UPDATE pgshift.history SET status = 'reverting', statements_done = 0 "
          "WHERE key = '2'")
    undo = psql(api.script(settings, "down").text)  # dropped again, it would be missing
    assert undo.returncode == 0, undo.stderr
    assert query("SELECT key FROM pgshift.history") == [("1",)]


def test_a_transactional_failure_leaves_the_database_as_it_was(
    settings, write_migration, psql, query
) -> None:
    write_migration("V001__users.sql", USERS, "DROP TABLE users;")
    write_migration("V002__broken.sql", "ALTER TABLE users ADD COLUMN a int;\nSELECT 1/0;",
                    "ALTER TABLE users DROP COLUMN a;")
    failed = psql(api.script(settings).text)
    assert failed.returncode == 3 and "division by zero" in failed.stderr
    assert query("SELECT key FROM pgshift.history") == [("1",)]
    assert query("SELECT count(*) FROM information_schema.columns WHERE column_name = 'a'"
                 ) == [(0,)]


def test_down_script_rolls_back_and_pgshift_can_apply_again(
    settings, three, psql, query
) -> None:
    api.up(settings)
    script = api.script(settings, "down", everything=True)
    assert [m.label for m in script.migrations] == ["V003", "V002", "V001"]
    done = psql(script.text)
    assert done.returncode == 0, done.stderr
    assert query("SELECT count(*) FROM pgshift.history") == [(0,)]
    assert query("SELECT to_regclass('users')") == [(None,)]
    assert len(api.up(settings).outcomes) == 3


def test_with_single_transaction_one_failure_applies_nothing(
    settings, write_migration, psql, query
) -> None:
    write_migration("V001__users.sql", USERS, "DROP TABLE users;")
    write_migration("V002__broken.sql", "SELECT 1/0;", "SELECT 1;")
    together = dataclasses.replace(settings, single_transaction=True)
    assert psql(api.script(together).text).returncode == 3
    assert query("SELECT to_regclass('users')") == [(None,)]
    assert query("SELECT count(*) FROM pgshift.history") == [(0,)]


def test_with_single_transaction_a_migrations_set_local_does_not_reach_the_next(
    settings, write_migration, psql, query
) -> None:
    write_migration("V001__a.sql", "CREATE TABLE a (id int);\n"
                    "SELECT set_config('search_path', '', true);", "DROP TABLE public.a;")
    write_migration("V002__b.sql", "CREATE TABLE b AS SELECT count(*) AS n FROM a;",
                    "DROP TABLE public.b;")
    together = dataclasses.replace(settings, single_transaction=True)
    result = psql(api.script(together).text)
    assert result.returncode == 0, result.stderr
    assert query("SELECT n FROM b") == [(0,)]


def test_the_script_waits_for_a_runner_holding_the_lock_then_gives_up(
    settings, three, psql, query, database_url
) -> None:
    text = api.script(dataclasses.replace(settings, lock_wait=0.3)).text
    holder = psycopg2.connect(database_url)
    holder.autocommit = True
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (settings.lock_key,))
        blocked = psql(text)
    finally:
        holder.close()
    assert blocked.returncode == 3 and "lock timeout" in blocked.stderr
    assert query("SELECT to_regclass('users')") == [(None,)]


def test_repeatables_and_callbacks_run_as_pgshift_runs_them(
    settings, write_migration, migrations_dir, psql, query
) -> None:
    write_migration("V001__users.sql", USERS + "\nCREATE TABLE audit (event text);",
                    "DROP TABLE audit;\nDROP TABLE users;")
    write_migration("R__user_emails.sql", "CREATE OR REPLACE VIEW user_emails AS "
                                          "SELECT email FROM users;")
    (migrations_dir / "afterEachMigrate.sql").write_text(
        "INSERT INTO audit VALUES ('each');\n")
    (migrations_dir / "afterMigrate.sql").write_text("INSERT INTO audit VALUES ('run');\n")
    assert psql(api.script(settings).text).returncode == 0
    assert query("SELECT event, count(*) FROM audit GROUP BY 1 ORDER BY 1") == [
        ("each", 2), ("run", 1)]
    assert not api.status(settings).pending()
    write_migration("R__user_emails.sql", "CREATE OR REPLACE VIEW user_emails AS "
                                          "SELECT email, id FROM users;")
    script = api.script(settings)
    assert [m.name for m in script.migrations] == ["R__user_emails.sql"]
    assert psql(script.text).returncode == 0
    assert query("SELECT count(*) FROM information_schema.columns "
                 "WHERE table_name = 'user_emails'") == [(2,)]
    api.validate(settings)


def test_a_roles_password_is_asked_for_never_written(
    settings, write_migration, psql, query
) -> None:
    role = f"app_{settings.url.rsplit('/', 1)[-1]}"[:60]
    write_migration("V001__role.sql", f"CREATE ROLE {role} LOGIN PASSWORD 's3cret-pw';",
                    f"DROP ROLE {role};")
    script = api.script(settings)
    assert "s3cret-pw" not in script.text
    assert script.variables == ("pgshift_secret_1",)
    try:
        refused = psql(script.text)
        assert refused.returncode == 0 and "needs -v pgshift_secret_1" in refused.stdout
        assert query("SELECT count(*) FROM pg_roles WHERE rolname = %s", role) == [(0,)]
        given = psql(script.text, "pgshift_secret_1=s3cret-pw")
        assert given.returncode == 0, given.stderr
        assert query("SELECT rolpassword IS NOT NULL FROM pg_authid WHERE rolname = %s",
                     role) == [(True,)]
    finally:
        query(f"DROP ROLE IF EXISTS {role}")


def test_what_a_script_cannot_run_is_refused_before_anything_is_written(
    settings, write_migration
) -> None:
    write_migration("V001__t.sql", "CREATE TABLE t (id bigint PRIMARY KEY, a int);",
                    "DROP TABLE t;")
    write_migration("V002__fill.sql", "-- pgshift:no-transaction\nALTER TABLE t ADD b int;\n"
                    "-- pgshift:backfill\nUPDATE t SET b = a WHERE b IS NULL;",
                    "ALTER TABLE t DROP COLUMN b;")
    with pytest.raises(InputError, match="batched backfill") as refused:
        api.script(settings)
    assert Path(refused.value.path).name == "V002__fill.sql" and refused.value.line == 4
    assert [m.label for m in api.script(settings, to="1").migrations] == ["V001"]


def test_single_transaction_refuses_a_no_transaction_migration_as_up_does(
    settings, three
) -> None:
    together = dataclasses.replace(settings, single_transaction=True)
    with pytest.raises(InputError, match="no-transaction migration with --single-transaction"):
        api.script(together)


def test_planned_without_the_target_the_script_holds_every_migration_after_v(
    settings, three, psql, query
) -> None:
    """No connection to the target: a throwaway server plans it, and the guards do the rest."""
    api.up(settings, to="1")
    offline = dataclasses.replace(settings, url="postgresql://nobody@192.0.2.1:1/none")
    after_v1 = api.script(offline, embedded=True, after="1")
    assert [m.label for m in after_v1.migrations] == ["V002", "V003"]
    assert "-- for any database at 1 or later (planned without it" in after_v1.text
    everything = api.script(offline, embedded=True)
    assert [m.label for m in everything.migrations] == ["V001", "V002", "V003"]
    done = psql(everything.text)  # V001 is applied here: its guard skips it
    assert done.returncode == 0, done.stderr
    assert "V001__users.sql: already applied; skipped" in done.stdout
    assert not api.status(settings).pending()
    api.validate(settings)
    with pytest.raises(InputError, match="--after goes with --embedded"):
        api.script(settings, after="1")


@pytest.fixture
def with_baseline(three, write_migration) -> None:
    write_migration("B002__base.sql", f"-- pgshift:irreversible\n{USERS}\n"
                    "CREATE UNIQUE INDEX users_email ON users (email);")


def test_a_script_planned_with_a_baseline_builds_a_new_database_from_it(
    settings, with_baseline, psql, query
) -> None:
    offline = dataclasses.replace(settings, url="postgresql://nobody@192.0.2.1:1/none")
    everything = api.script(offline, embedded=True)
    assert [m.label for m in everything.migrations] == ["B002", "V001", "V002", "V003"]
    done = psql(everything.text)
    assert done.returncode == 0, done.stderr
    assert "V001__users.sql: already applied; skipped" in done.stdout  # the baseline holds it
    assert [r[0] for r in query("SELECT key FROM pgshift.history ORDER BY key")] == [
        "3", "B:2"]
    assert api.validate(settings).drift() == []
    after_v2 = api.script(offline, embedded=True, after="2")
    assert [m.label for m in after_v2.migrations] == ["V003"]
    assert psql(after_v2.text).returncode == 0  # at V002 through its baseline: it runs


def test_a_script_planned_with_a_baseline_skips_it_where_the_migrations_ran(
    settings, with_baseline, psql, query
) -> None:
    offline = dataclasses.replace(settings, url="postgresql://nobody@192.0.2.1:1/none")
    everything = api.script(offline, embedded=True)
    api.up(settings, to="1")
    done = psql(everything.text)
    assert done.returncode == 0, done.stderr
    assert "B002__base.sql: only for a database without migrations; skipped" in done.stdout
    assert [r[0] for r in query("SELECT key FROM pgshift.history ORDER BY key")] == [
        "1", "2", "3"]
    assert api.validate(settings).drift() == []


def test_a_script_after_v_stops_on_a_database_that_is_not_at_v(
    settings, three, psql, query
) -> None:
    offline = dataclasses.replace(settings, url="postgresql://nobody@192.0.2.1:1/none")
    after_v2 = api.script(offline, embedded=True, after="2")
    api.up(settings, to="1")
    stopped = psql(after_v2.text)
    assert stopped.returncode == 3
    assert "this script is for a database at V002 or later, and this one is not" in (
        stopped.stderr)
    assert [r[0] for r in query("SELECT key FROM pgshift.history")] == ["1"]


@pytest.mark.parametrize(("header", "deleted"), [
    ("", ["V001__users.sql", "V002__users_email.sql"]),  # hand-written: says nothing
    ("-- The database that V001__users.sql … V002__users_email.sql (2 migrations) build\n",
     ["V002__users_email.sql"]),  # as squash writes it: what it holds
])
def test_a_script_stops_on_a_database_behind_the_baseline_whose_files_are_gone(
    settings, three, write_migration, migrations_dir, psql, query, header, deleted
) -> None:
    """As 'up' refuses: the migrations after the baseline would run over the gap."""
    write_migration("B002__base.sql", f"-- pgshift:irreversible\n{header}{USERS}\n"
                    "CREATE UNIQUE INDEX users_email ON users (email);")
    api.up(settings, to="1")
    for name in deleted:
        (migrations_dir / name).unlink()
    offline = dataclasses.replace(settings, url="postgresql://nobody@192.0.2.1:1/none")
    script = api.script(offline, embedded=True)
    assert "V003" in [m.label for m in script.migrations]
    stopped = psql(script.text)
    assert stopped.returncode == 3
    assert ("this database is behind B002__base.sql but has not run all it holds, and the "
            "files of those it lacks are gone: nothing was run") in stopped.stderr
    assert [r[0] for r in query("SELECT key FROM pgshift.history")] == ["1"]
    query("DROP TABLE users")  # a new database: built from the baseline, as planned
    query("DELETE FROM pgshift.history")
    assert psql(script.text).returncode == 0
    assert [r[0] for r in query("SELECT key FROM pgshift.history ORDER BY key")] == [
        "3", "B:2"]


def test_a_search_path_a_function_sets_does_not_reach_the_scripts_next_migration(
    settings, write_migration, psql, query
) -> None:
    query("CREATE SCHEMA other")
    write_migration("V001__fn.sql", "CREATE FUNCTION use_schema(s text) RETURNS void LANGUAGE "
                    "sql AS $$ SELECT set_config('search_path', s, false) $$;\n"
                    "SELECT use_schema('other');", "DROP FUNCTION use_schema(text);")
    write_migration("V002__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    ran = psql(api.script(settings).text)
    assert ran.returncode == 0, ran.stderr
    assert query("SELECT to_regclass('public.t') IS NOT NULL") == [(True,)]
