"""Quick migrations in a row reach the server as chains: several migrations, each its own
transaction with its history row, in one round trip. A failure inside a chain leaves exactly
the migrations before it applied, and is reported, retried or timed out as if it ran alone.

A migration can see the string it arrived in: ``current_query()``.
"""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from pgshift import api, runner
from pgshift.errors import MigrationFailedError, MigrationTimeoutError


@pytest.fixture(autouse=True)
def chains_form_on_any_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """A loaded machine's round trips must not decide which migrations travel together."""
    monkeypatch.setattr(runner, "CHAIN_QUICK", 60.0)


def quick_tables(write_migration, versions: range, *, last_up: str = "") -> None:
    for v in versions:
        up = f"CREATE TABLE t_{v} (id int);"
        if v == versions[-1] and last_up:
            up += "\n" + last_up
        write_migration(f"V{v:03d}__t{v}.sql", up, f"DROP TABLE t_{v};")


def applied(query) -> list[int]:
    rows = query("SELECT key FROM pgshift.history WHERE status = 'applied'")
    return sorted(int(r[0]) for r in rows)


def test_quick_migrations_share_round_trips_and_each_commits_with_its_own_row(
    settings, write_migration, query
) -> None:
    quick_tables(write_migration, range(1, 18))
    quick_tables(write_migration, range(18, 19), last_up="SELECT pg_sleep(0.3);")
    quick_tables(write_migration, range(19, 21),
                 last_up="CREATE TABLE seen AS SELECT current_query() AS sent;")
    result = api.up(settings)
    assert [o.migration.version.key for o in result.outcomes] == [(v,) for v in range(1, 21)]
    assert applied(query) == list(range(1, 21))
    (sent,), = query("SELECT sent FROM seen")
    assert "CREATE TABLE t_19 (id int)" in sent  # V019 travelled with V020
    assert sent.count("COMMIT") > 1
    durations = dict(query("SELECT key, duration_ms FROM pgshift.history "
                           "WHERE key IN ('18', '20')"))
    assert durations["18"] >= 300 > durations["20"]  # each its own time, not the string's
    (at_19, at_20), = query("SELECT max(applied_at) FILTER (WHERE key = '19'), "
                            "max(applied_at) FILTER (WHERE key = '20') FROM pgshift.history")
    assert at_19 < at_20  # each row its own start, not the time the string arrived


def test_a_failure_inside_a_chain_leaves_exactly_the_migrations_before_it_applied(
    settings, write_migration, query
) -> None:
    quick_tables(write_migration, range(1, 10))
    write_migration("V010__bad.sql", "CREATE TABLE t_10 (id int);\nSELECT 1 / 0;",
                    "DROP TABLE t_10;")
    quick_tables(write_migration, range(11, 13))
    with pytest.raises(MigrationFailedError) as caught:
        api.up(settings)
    assert (caught.value.migration, caught.value.line, caught.value.sqlstate) == (
        "V010", 2, "22012")
    assert applied(query) == list(range(1, 10))
    assert query("SELECT status FROM pgshift.history WHERE key = '10'") == [("failed",)]
    assert query("SELECT to_regclass('t_10'), to_regclass('t_11')") == [(None, None)]
    assert [i.state for i in api.status(settings).items][8:] == ["applied", "failed",
                                                                 "pending", "pending"]


def test_an_error_with_a_position_inside_a_chain_names_its_own_line(
    settings, write_migration, query
) -> None:
    quick_tables(write_migration, range(1, 6))
    write_migration("V006__typo.sql", "CREATE TABLE t_6 (id int);\nSELECT id,\n  nope\nFROM t_6;",
                    "DROP TABLE t_6;")
    with pytest.raises(MigrationFailedError) as caught:
        api.up(settings)
    assert (caught.value.migration, caught.value.line, caught.value.sqlstate) == (
        "V006", 3, "42703")
    assert applied(query) == list(range(1, 6))


def test_a_lock_timeout_inside_a_chain_retries_that_migration_alone(
    settings, write_migration, query, app_session
) -> None:
    query("CREATE TABLE busy (id int)")
    quick_tables(write_migration, range(1, 6))
    write_migration("V006__busy.sql", "ALTER TABLE busy ADD COLUMN note text;",
                    "ALTER TABLE busy DROP COLUMN note;")
    quick_tables(write_migration, range(7, 8))
    app = app_session("reporting")
    with app.cursor() as cur:
        cur.execute("SELECT * FROM busy")  # holds busy until its transaction ends
    threading.Timer(1.0, app.rollback).start()
    events: list[tuple[str, str]] = []
    fast = dataclasses.replace(settings, lock_timeout=0.2)
    api.up(fast, on_event=lambda kind, m, info: events.append((kind, m.name)))
    assert applied(query) == [1, 2, 3, 4, 5, 6, 7]
    assert ("retry", "V006__busy.sql") in events
    assert events.count(("done", "V006__busy.sql")) == 1
    assert [kind for kind, name in events if name == "V005__t5.sql"] == ["start", "done"]


def test_a_statement_timeout_inside_a_chain_is_reported_not_run_again(
    settings, write_migration, query
) -> None:
    quick_tables(write_migration, range(1, 6))
    write_migration("V006__slow.sql", "SELECT pg_sleep(5);", "SELECT 1;")
    limited = dataclasses.replace(settings, statement_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(MigrationTimeoutError) as caught:
        api.up(limited)
    assert time.monotonic() - started < 1.9  # one wait of 1 s, not two
    assert caught.value.migration == "V006"
    assert applied(query) == list(range(1, 6))


def test_a_chain_of_downs_removes_each_row_with_its_migration(
    settings, write_migration, query
) -> None:
    quick_tables(write_migration, range(2, 11))
    write_migration("V001__t1.sql", "CREATE TABLE t_1 (id int);",
                    "CREATE TABLE seen AS SELECT current_query() AS sent;\nDROP TABLE t_1;")
    api.up(settings)
    result = api.down(settings, everything=True)
    assert len(result.outcomes) == 10 and applied(query) == []
    (sent,), = query("SELECT sent FROM seen")
    assert "DROP TABLE t_2" in sent  # V002's down travelled with V001's
    assert query("SELECT count(*) FROM pg_tables WHERE tablename LIKE 't\\_%'") == [(0,)]


def test_the_blocker_watch_names_the_migration_that_waits_not_the_first_of_its_chain(
    settings, write_migration, app_session, query
) -> None:
    from pgshift.monitor.blockers import BlockerWatch

    query("CREATE TABLE busy (id int)")
    quick_tables(write_migration, range(1, 6))
    write_migration("V006__busy.sql", "ALTER TABLE busy ADD COLUMN note text;",
                    "ALTER TABLE busy DROP COLUMN note;")
    app = app_session("reporting")
    with app.cursor() as cur:
        cur.execute("SELECT * FROM busy")
    threading.Timer(1.5, app.rollback).start()
    patient = dataclasses.replace(settings, lock_timeout=10.0)  # all alike: V006 is chained
    seen = []
    with BlockerWatch(patient, seen.append, notice_after=0.5) as watch:
        api.up(patient, on_event=watch.chain())
    assert [(b.application_name, b.migration) for b in seen] == [("reporting", "V006__busy.sql")]
    assert applied(query) == [1, 2, 3, 4, 5, 6]


def test_a_chained_migration_that_drops_the_progress_marker_runs_again_alone(
    settings, write_migration, query
) -> None:
    quick_tables(write_migration, range(1, 5))
    write_migration("V005__discard.sql", "DISCARD TEMP;\nCREATE TABLE t_5 (id int);",
                    "DROP TABLE t_5;")
    quick_tables(write_migration, range(6, 8))
    opened: list[str] = []
    api.up(settings, on_event=lambda kind, m, info: opened.append(m.name)
           if kind == "start" and info["attempt"] == 1 else None)
    assert applied(query) == list(range(1, 8))
    assert opened.count("V005__discard.sql") == 1  # one progress line, though it ran twice
