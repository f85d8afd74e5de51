"""One verify session: the work it does grows with the count of pending migrations, the
messages it inherits from up and down say what holds on a scratch database, and the app's
session holds nothing a migration could wait on."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest

from pgshift import api
from pgshift.errors import CheckFailedError, DatabaseConnectionError, DriftError
from pgshift.verify import VerifyOptions, snapshot


def counting_snapshots(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that gets one item per snapshot verify takes."""
    calls: list[int] = []
    take = snapshot.take_snapshot

    def counted(*args: object, **kwargs: object) -> snapshot.Snapshot:
        calls.append(1)
        return take(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(snapshot, "take_snapshot", counted)
    return calls


@pytest.mark.parametrize("count", [1, 4, 12])
def test_each_migration_takes_three_snapshots_and_the_first_one_more(
    settings, write_migration, monkeypatch, count: int
) -> None:
    """The snapshot that ends one migration's checks is the next one's "before": none is
    taken twice, so the work grows with the count of migrations, not with its square."""
    for i in range(1, count + 1):
        write_migration(f"V{i:03d}__t{i}.sql", f"CREATE TABLE t_{i} (id int);",
                        f"DROP TABLE t_{i};")
    calls = counting_snapshots(monkeypatch)
    report = api.verify(settings)
    assert report.ok, report.failures()
    assert len(report.migrations) == count
    assert len(calls) == 3 * count + 1


def test_a_down_rolled_back_leaves_the_schema_from_after_up_for_the_next_migration(
    settings, write_migration, monkeypatch
) -> None:
    """The next migration starts from the schema as it was after the failed down's up, and
    compares its own round trip with that (no snapshot is taken again for it)."""
    write_migration("V001__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;\nSELECT 1/0;")
    write_migration("V002__b.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")
    write_migration("V003__c.sql", "ALTER TABLE a ADD COLUMN c int;",
                    "ALTER TABLE a DROP COLUMN c;")
    calls = counting_snapshots(monkeypatch)
    report = api.verify(settings)
    assert [(m.label, m.ok) for m in report.migrations] == [
        ("V001", False), ("V002", True), ("V003", True)]
    assert [f.message for f in report.migrations[0].findings] == [
        "down failed: division by zero [22012]; rolled back"]
    assert len(calls) == 2 + 3 + 3  # V001: before and after up; its down failed


def test_a_repeatable_and_an_irreversible_migration_pass_on_their_last_snapshot(
    settings, write_migration, monkeypatch
) -> None:
    write_migration("V001__a.sql", "CREATE TABLE a (id int);", header="-- pgshift:irreversible")
    write_migration("R__view.sql", "CREATE OR REPLACE VIEW v AS SELECT id FROM a;")
    write_migration("V002__b.sql", "ALTER TABLE a ADD COLUMN b int;",
                    "ALTER TABLE a DROP COLUMN b;")
    calls = counting_snapshots(monkeypatch)
    report = api.verify(settings)
    assert report.ok, report.failures()
    assert [m.label for m in report.migrations] == ["V001", "V002", "R__view.sql"]
    assert len(calls) == 1 + 1 + 3 + 2  # irreversible: after up; repeatable: after each apply


def test_a_no_transaction_down_that_fails_says_what_verify_does_not_the_next_run(
    settings, write_migration
) -> None:
    write_migration("V001__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;\nSELECT 1/0;",
                    header="-- pgshift:no-transaction")
    write_migration("V002__b.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")
    report = api.verify(settings)
    (finding,) = report.migrations[0].findings
    assert finding.message == (
        "down failed: division by zero [22012]; its earlier statements stay done on the "
        "scratch database, which is dropped after verify: fix the migration and verify again")
    assert "next run" not in " ".join(finding.detail)
    assert "not checked after V001 failed: V002" in report.notes


def test_a_no_transaction_migration_that_fails_on_replay_says_no_next_run(
    settings, write_migration
) -> None:
    """An applied migration that no longer replays (it read a table made by hand on the
    target): nothing goes on from where it stopped on the scratch database."""
    conn = psycopg2.connect(settings.url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE by_hand (id int)")
    conn.close()
    write_migration("V001__a.sql", "CREATE TABLE a (id int);\n"
                    "CREATE VIEW v AS SELECT * FROM by_hand;",
                    "DROP VIEW v;\nDROP TABLE a;", header="-- pgshift:no-transaction")
    api.up(settings)
    with pytest.raises(CheckFailedError) as raised:
        api.verify(settings)
    assert raised.value.message == ('replaying applied migration failed: relation "by_hand" '
                                    'does not exist [42P01]')


def test_an_unreachable_from_database_is_named_as_from_not_url(settings) -> None:
    options = VerifyOptions(embedded=True, source_url="postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(DatabaseConnectionError) as raised:
        api.verify(settings, options)
    assert raised.value.message.startswith("--from: cannot connect to 127.0.0.1:1/none")
    assert "--from" in (raised.value.hint or "")
    assert "--url" not in (raised.value.hint or "")


def test_a_from_database_that_has_drifted_is_named_as_such(settings, write_migration) -> None:
    path = write_migration("V001__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    api.up(settings)
    path.write_text(path.read_text().replace("(id int)", "(id bigint)"))
    with pytest.raises(DriftError) as raised:
        api.verify(settings, VerifyOptions(source_url=settings.url))
    assert raised.value.message.startswith("the --from database has drifted: ")
    assert "--from" in (raised.value.hint or "")


def test_an_advisory_lock_an_app_query_takes_is_let_go_before_the_migration(
    settings, write_migration, tmp_path: Path
) -> None:
    """The query runs in a transaction rolled back, but a session-level advisory lock outlives
    it: held on, it would keep the migration that takes the same lock waiting."""
    write_migration("V001__a.sql", "SELECT pg_advisory_xact_lock(4242);\n"
                    "CREATE TABLE a (id int);", "SELECT pg_advisory_xact_lock(4242);\n"
                    "DROP TABLE a;", header="-- pgshift:timeout 3s")
    write_migration("V002__b.sql", "SELECT pg_advisory_xact_lock(4242);\n"
                    "CREATE TABLE b (id int);", "DROP TABLE b;", header="-- pgshift:timeout 3s")
    queries = tmp_path / "queries.sql"
    queries.write_text("SELECT pg_advisory_lock(4242);\n")
    report = api.verify(settings, VerifyOptions(queries_file=queries))
    assert report.ok, report.failures()  # neither up nor down waited for the lock
    assert not [n for n in report.notes if "pg_advisory_lock" in n]  # it was checked


def test_the_probe_session_holds_no_advisory_lock_after_either_pass(database_url: str) -> None:
    from pgshift.verify.compat import QueryProbe
    from pgshift.verify.queries import Query

    app, watcher = psycopg2.connect(database_url), psycopg2.connect(database_url)
    watcher.autocommit = True
    try:
        probe = QueryProbe(app, [Query("SELECT pg_advisory_lock(7), pg_advisory_lock($1::bigint)",
                                       "queries.sql:1")])
        held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = %s"
        for step in (probe.before, probe.after):
            step()
            with watcher.cursor() as cur:
                cur.execute(held, (app.get_backend_pid(),))
                assert cur.fetchone()[0] == 0, step.__name__
        assert probe.notes == []
    finally:
        app.close()
        watcher.close()
