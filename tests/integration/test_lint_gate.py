"""`up` lints pending migrations first and refuses error findings unless suppressed or --unsafe."""

from __future__ import annotations

import dataclasses

import pytest
from tests.faults.harness import wait_until

from pgshift import api
from pgshift.errors import LintFailedError

BIG_TABLE = ("CREATE TABLE users (id bigint PRIMARY KEY, name text);\n"
             "INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 20000) g;\n"
             "ANALYZE users;")
INDEX = "CREATE INDEX users_name ON users (name);"


@pytest.fixture
def gated(settings, write_migration):
    write_migration("V1__users.sql", BIG_TABLE, "DROP TABLE users;")
    strict = dataclasses.replace(settings, lint=True)
    api.up(strict)
    return strict


def test_up_refuses_a_blocking_index_build_on_a_big_table(gated, write_migration, query) -> None:
    write_migration("V2__index.sql", INDEX, "DROP INDEX users_name;")
    with pytest.raises(LintFailedError, match="create-index-non-concurrent") as caught:
        api.up(gated)
    assert caught.value.exit_code == 1
    assert caught.value.path.endswith("V2__index.sql") and caught.value.line == 1
    assert query("SELECT to_regclass('users_name')") == [(None,)]


def test_a_refused_up_leaves_no_session_behind(gated, write_migration, query) -> None:
    """The lock's connection, opened while the gate linted, closes with the refusal."""
    write_migration("V2__index.sql", INDEX, "DROP INDEX users_name;")
    with pytest.raises(LintFailedError):
        api.up(gated)
    wait_until(lambda: query("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                             "current_database() AND application_name LIKE 'pgshift%'") == [(0,)],
               10, "pgshift's sessions to end")


def test_a_dry_run_refuses_what_up_would_refuse(gated, write_migration, cli) -> None:
    """A dry run in CI predicts the deploy: the same lint verdict, nothing changed."""
    write_migration("V2__index.sql", INDEX, "DROP INDEX users_name;")
    with pytest.raises(LintFailedError, match="create-index-non-concurrent"):
        api.up(gated, dry_run=True)
    assert api.up(dataclasses.replace(gated, unsafe=True), dry_run=True).selected
    result = cli("up", "--dry-run", env={"PGSHIFT_LINT": "true"})
    assert result.returncode == 1 and "create-index-non-concurrent" in result.stderr
    assert "Plan" not in result.stdout
    assert [i.state for i in api.status(gated).items] == ["applied", "pending"]


def test_an_ignore_comment_with_a_reason_lets_it_through(gated, write_migration, query) -> None:
    write_migration("V2__index.sql", "-- pgshift:ignore create-index-non-concurrent -- "
                    "maintenance window\n" + INDEX, "DROP INDEX users_name;")
    api.up(gated)
    assert query("SELECT to_regclass('users_name') IS NOT NULL") == [(True,)]


def test_unsafe_applies_despite_findings(gated, write_migration, query) -> None:
    write_migration("V2__index.sql", INDEX, "DROP INDEX users_name;")
    api.up(dataclasses.replace(gated, unsafe=True))
    assert query("SELECT to_regclass('users_name') IS NOT NULL") == [(True,)]


def test_the_cli_reports_the_finding_in_one_line_with_exit_1(cli, write_migration) -> None:
    write_migration("V1__users.sql", BIG_TABLE, "DROP TABLE users;")
    assert cli("up", env={"PGSHIFT_LINT": "true"}).returncode == 0
    write_migration("V2__index.sql", INDEX, "DROP INDEX users_name;")
    result = cli("up", env={"PGSHIFT_LINT": "true"})
    assert result.returncode == 1
    assert "V2__index.sql:1: create-index-non-concurrent" in result.stderr
    assert cli("up", "--unsafe", env={"PGSHIFT_LINT": "true"}).returncode == 0


@pytest.fixture
def remembering(gated, tmp_path):
    """The gated settings with a cache directory, as the CLI has."""
    return dataclasses.replace(gated, cache_dir=tmp_path / "cache")


def refuse_to_lint(monkeypatch: pytest.MonkeyPatch) -> None:
    import pgshift.lint.linter

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("linted again")

    monkeypatch.setattr(pgshift.lint.linter, "lint_migrations", refuse)


def test_a_pass_is_remembered_for_the_same_files_over_the_same_schema(
    remembering, write_migration, query, monkeypatch
) -> None:
    write_migration("V2__index.sql", "CREATE INDEX CONCURRENTLY users_name ON users (name);",
                    "DROP INDEX CONCURRENTLY users_name;", header="-- pgshift:no-transaction")
    api.up(remembering)
    api.down(remembering)
    refuse_to_lint(monkeypatch)
    api.up(remembering)  # the same file over the same schema: its pass is remembered
    assert query("SELECT to_regclass('users_name') IS NOT NULL") == [(True,)]


def test_a_remembered_pass_reads_the_catalogs_fingerprint_not_its_rows(
    remembering, write_migration, monkeypatch
) -> None:
    """On a big schema the rows are tens of MB: a hit has the server send its fingerprint."""
    import pgshift.lint.catalog_rows

    write_migration("V2__col.sql", "ALTER TABLE users ADD COLUMN note text;",
                    "ALTER TABLE users DROP COLUMN note;")
    api.up(remembering)
    api.down(remembering)

    def refuse(*_args: object) -> None:
        raise AssertionError("read the catalog's rows")

    monkeypatch.setattr(pgshift.lint.catalog_rows, "_fetch_all", refuse)
    refuse_to_lint(monkeypatch)
    api.up(remembering)


def test_a_schema_the_linter_sees_differently_is_linted_again(
    remembering, write_migration, query, monkeypatch
) -> None:
    write_migration("V2__col.sql", "ALTER TABLE users ADD COLUMN note text;",
                    "ALTER TABLE users DROP COLUMN note;")
    api.up(remembering)
    api.down(remembering)
    query("ALTER TABLE users ADD COLUMN other int")
    refuse_to_lint(monkeypatch)
    with pytest.raises(AssertionError, match="linted again"):
        api.up(remembering)


def test_a_domain_that_gained_a_constraint_is_linted_again_and_refused(
    remembering, write_migration, query, monkeypatch
) -> None:
    """ADD COLUMN of a plain domain is free; once the domain has a CHECK it rewrites the table,
    so the pass remembered before says nothing: the memo's key reads domains' constraints."""
    query("CREATE DOMAIN amount AS integer")
    write_migration("V2__col.sql", "ALTER TABLE users ADD COLUMN credit amount;",
                    "ALTER TABLE users DROP COLUMN credit;")
    api.up(remembering)
    api.down(remembering)
    query("ALTER DOMAIN amount ADD CONSTRAINT amount_positive CHECK (VALUE > 0)")
    with pytest.raises(LintFailedError, match="add-column-constrained-domain"):
        api.up(remembering)
    query("ALTER DOMAIN amount DROP CONSTRAINT amount_positive")
    refuse_to_lint(monkeypatch)
    api.up(remembering)  # the domain as it was when the file passed: remembered
    assert query("SELECT count(*) FROM information_schema.columns WHERE column_name = "
                 "'credit'") == [(1,)]


def test_a_file_filled_with_other_placeholder_values_is_linted_again(
    remembering, write_migration, query
) -> None:
    """Same file, same checksum, same schema, but other SQL (fleet targets fill placeholders
    each their own way): a pass on the empty table is no pass on the big one."""
    query("CREATE TABLE little (id bigint PRIMARY KEY, name text)")
    write_migration("V2__index.sql", "CREATE INDEX ${t}_name ON ${t} (name);",
                    "DROP INDEX ${t}_name;")
    api.up(dataclasses.replace(remembering, placeholders={"t": "little"}))
    api.down(dataclasses.replace(remembering, placeholders={"t": "little"}))
    with pytest.raises(LintFailedError, match="create-index-non-concurrent"):
        api.up(dataclasses.replace(remembering, placeholders={"t": "users"}))


def test_a_refusal_is_never_remembered(remembering, write_migration) -> None:
    write_migration("V2__index.sql", INDEX, "DROP INDEX users_name;")
    for _ in range(2):
        with pytest.raises(LintFailedError, match="create-index-non-concurrent"):
            api.up(remembering)


def test_the_gates_catalog_read_does_not_wait_behind_an_apps_lock_on_another_table(
    settings, write_migration, query, app_session
) -> None:
    import time

    from tests.fixtures.sessions import up_in_thread

    query("CREATE TABLE unrelated (id int)")  # never analyzed: its size needs its file
    app = app_session("batch-job")
    with app.cursor() as cur:
        cur.execute("LOCK TABLE unrelated")  # and stays in its transaction
    write_migration("V1__fresh.sql", "CREATE TABLE fresh (id int);", "DROP TABLE fresh;")
    started = time.monotonic()
    thread, outcome = up_in_thread(dataclasses.replace(settings, lint=True))
    thread.join(15)
    app.rollback()
    thread.join(15)
    assert "error" not in outcome and time.monotonic() - started < 10
    assert query("SELECT to_regclass('fresh') IS NOT NULL") == [(True,)]
