"""``up --script`` with the run's callbacks (beforeMigrate, afterMigrate): they run only when
the script applies something, after the checks that may stop it, as ``pgshift up`` runs them."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from pgshift import api


@pytest.fixture
def psql(pg_bindir: Path, database_url: str, tmp_path: Path):
    def run(text: str) -> subprocess.CompletedProcess:
        path = tmp_path / "script.sql"
        path.write_text(text, encoding="utf-8")
        return subprocess.run([str(pg_bindir / "psql"), "-X", "-v", "ON_ERROR_STOP=1", "-f",
                               str(path), database_url], capture_output=True, text=True,
                              timeout=60)

    return run


@pytest.fixture
def logged_runs(write_migration, migrations_dir, query) -> None:
    query("CREATE TABLE run_log (event text)")
    write_migration("V001__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V002__b.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")
    for event in ("before", "after"):  # a throwaway server that plans a script has no run_log
        (migrations_dir / f"{event}Migrate.sql").write_text(
            f"CREATE TABLE IF NOT EXISTS run_log (event text);\n"
            f"INSERT INTO run_log VALUES ('{event}');\n")


def test_a_second_run_of_a_script_with_callbacks_runs_no_callback(
    settings, logged_runs, psql, query
) -> None:
    script = api.script(settings)
    for _ in range(2):
        done = psql(script.text)
        assert done.returncode == 0, done.stderr
    assert query("SELECT event, count(*) FROM run_log GROUP BY 1 ORDER BY 1") == [
        ("after", 1), ("before", 1)]
    api.up(settings)  # pgshift agrees: nothing to apply, no callback
    assert query("SELECT count(*) FROM run_log") == [(2,)]


def test_a_script_resumed_after_a_failure_runs_the_callbacks_again(
    settings, logged_runs, write_migration, psql, query
) -> None:
    write_migration("V003__c.sql", "CREATE TABLE c (id int);\nSELECT 1/0;", "DROP TABLE c;")
    script = api.script(settings)
    assert psql(script.text).returncode == 3
    query("CREATE TABLE c (id int)")  # what the DBA does: the migration will now fail on c,
    query("DROP TABLE c")  # so he undoes it; the 1/0 is the developers' to fix
    write_migration("V003__c.sql", "CREATE TABLE c (id int);", "DROP TABLE c;")
    fixed = api.script(settings)
    assert [m.label for m in fixed.migrations] == ["V003"]
    assert psql(fixed.text).returncode == 0
    assert query("SELECT event FROM run_log ORDER BY ctid") == [("before",), ("before",),
                                                                ("after",)]
    assert not api.status(settings).pending()


def test_a_script_for_a_database_at_v_runs_no_callback_where_it_stops(
    settings, logged_runs, psql, query
) -> None:
    offline = dataclasses.replace(settings, url="postgresql://nobody@192.0.2.1:1/none")
    after_v1 = api.script(offline, embedded=True, after="1")
    stopped = psql(after_v1.text)
    assert stopped.returncode == 3 and "this script is for a database at V001" in stopped.stderr
    assert query("SELECT count(*) FROM run_log") == [(0,)]
