"""``up --single-transaction``: every pending migration in one transaction, each still under
its own limits, and a no-transaction file among them refused before anything runs."""

from __future__ import annotations

import dataclasses

import pytest

from pgshift import api
from pgshift.errors import InputError, LockTimeoutError

SEES = ("CREATE TABLE {t} AS SELECT current_setting('statement_timeout') AS statement_timeout, "
        "current_setting('lock_timeout') AS lock_timeout;")


def together(settings):
    return dataclasses.replace(settings, single_transaction=True)


def test_each_migration_of_one_transaction_runs_under_its_own_timeouts(
    settings, write_migration, query
) -> None:
    """They ran under the first one's: a long data migration's own statement-timeout was cut
    to the default, a short lock-timeout of a risky one waited as long as the first."""
    write_migration("V1__a.sql", SEES.format(t="a"), "DROP TABLE a;")
    write_migration("V2__b.sql", SEES.format(t="b"), "DROP TABLE b;",
                    header="-- pgshift:statement-timeout 3s\n-- pgshift:lock-timeout 2s")
    write_migration("V3__c.sql", SEES.format(t="c"), "DROP TABLE c;")
    api.up(together(settings))
    assert query("SELECT * FROM a UNION ALL SELECT * FROM b UNION ALL SELECT * FROM c") == [
        ("10min", "500ms"), ("3s", "2s"), ("10min", "500ms")]


def test_a_lock_timeout_in_one_transaction_is_reported_with_the_failing_migrations_limit(
    settings, write_migration, query, app_session
) -> None:
    query("CREATE TABLE t (id int)")
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V2__col.sql", "ALTER TABLE t ADD COLUMN b int;",
                    "ALTER TABLE t DROP COLUMN b;",
                    header="-- pgshift:lock-timeout 50ms\n-- pgshift:lock-retries 0")
    app = app_session("app")
    app.cursor().execute("SELECT * FROM t")  # holds its lock to the end of the test
    with pytest.raises(LockTimeoutError, match=r"lock_timeout 0\.05s") as raised:
        api.up(together(settings))
    assert raised.value.migration == "V2"
    assert query("SELECT to_regclass('a'), status FROM pgshift.history") == [(None, "failed")]


def test_a_no_transaction_file_is_refused_before_the_callbacks_run_and_in_a_dry_run(
    settings, write_migration, migrations_dir, query
) -> None:
    (migrations_dir / "beforeMigrate.sql").write_text("CREATE TABLE called (id int);\n")
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V2__i.sql", "CREATE INDEX CONCURRENTLY a_id ON a (id);",
                    "DROP INDEX CONCURRENTLY a_id;", header="-- pgshift:no-transaction")
    for dry_run in (True, False):
        with pytest.raises(InputError, match="no-transaction migration") as raised:
            api.up(together(settings), dry_run=dry_run)
        assert raised.value.migration == "V2" and raised.value.exit_code == 2
    assert query("SELECT to_regclass('called'), to_regclass('a')") == [(None, None)]
    assert api.log(settings) == []  # no run began
