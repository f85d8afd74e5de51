"""Batched backfills: correctness, batching, adaptive size, key walks, locks, resume after kill."""

from __future__ import annotations

import dataclasses
import itertools
import signal
import subprocess
import sys
import threading
import time

import psycopg2
import pytest

from pgshift import api
from pgshift.backfill.options import parse_options
from pgshift.errors import InputError, MigrationFailedError
from pgshift.state import upgrades

BACKFILL_FILE = """-- pgshift:no-transaction
ALTER TABLE t ADD COLUMN b int;
-- pgshift:backfill {options}
UPDATE t SET b = a * 2 WHERE b IS NULL;
ALTER TABLE t ADD CONSTRAINT b_set CHECK (b IS NOT NULL) NOT VALID;
"""


@pytest.fixture
def table_t(query) -> None:
    query("CREATE TABLE t (id bigint PRIMARY KEY, a int); "
          "INSERT INTO t SELECT g, g FROM generate_series(1, 20000) g; ANALYZE t")


def test_marked_update_runs_in_batches_and_the_statements_after_it_run_once_it_is_done(
    settings, migrations_dir, table_t, query
) -> None:
    (migrations_dir / "V1__backfill.sql").write_text(
        BACKFILL_FILE.format(options="batch-size=3000 pause=0")
        + "-- pgshift:down\nALTER TABLE t DROP COLUMN b;\n")
    events: list[str] = []
    api.up(settings, on_event=lambda kind, m, info: events.append(kind))
    assert query("SELECT count(*) FROM t WHERE b IS DISTINCT FROM a * 2") == [(0,)]
    assert query("SELECT conname FROM pg_constraint WHERE conname = 'b_set'") == [("b_set",)]
    assert events.count("backfill") == 7  # 6 batches of 3000 keys and the last 2000
    assert query("SELECT status, rows_done, batches, key_columns FROM pgshift.backfill") == [
        ("done", 20000, 7, ["id"])]
    api.down(settings)
    assert query("SELECT count(*) FROM information_schema.columns WHERE column_name = 'b'") == [
        (0,)]


def test_backfill_in_a_transactional_file_is_refused_before_anything_runs(
    settings, write_migration, table_t
) -> None:
    write_migration("V1__bad.sql", "-- pgshift:backfill\nUPDATE t SET a = a;", "SELECT 1;")
    with pytest.raises(InputError, match="outside any migration transaction") as caught:
        api.up(settings)
    assert caught.value.line == 1 and "no-transaction" in caught.value.hint


def test_unknown_backfill_option_names_the_file_and_line(settings, write_migration) -> None:
    write_migration("V1__bad.sql", "-- pgshift:backfill speed=fast\nUPDATE t SET a = a;",
                    "SELECT 1;", header="-- pgshift:no-transaction")
    with pytest.raises(InputError, match="unknown backfill option 'speed'") as caught:
        api.status(settings)
    assert caught.value.line == 2


def test_adaptive_batches_grow_from_the_first_size_toward_the_target(
    settings, table_t, query
) -> None:
    sizes: list[int] = []
    options = parse_options("target=50ms pause=0 vacuum=off")
    api.backfill(settings, "t", "a = a + 1", options=options,
                 on_batch=lambda batch: sizes.append(batch.size))
    assert sizes[0] == 1000 and max(sizes) > 2000
    assert all(b <= 2 * a for a, b in itertools.pairwise(sizes))
    assert query("SELECT min(a - id), max(a - id) FROM t") == [(1, 1)]


def test_composite_primary_key_is_walked_with_row_comparisons(settings, query) -> None:
    query("CREATE TABLE c (k text, n int, v int, PRIMARY KEY (k, n)); "
          "INSERT INTO c SELECT chr(97 + g % 5), g, NULL FROM generate_series(1, 3000) g")
    result = api.backfill(settings, "c", "v = n", "v IS NULL",
                          options=parse_options("batch-size=250 pause=0"))
    assert result.key_columns == ("k", "n") and result.batches >= 12
    assert query("SELECT count(*) FROM c WHERE v IS DISTINCT FROM n") == [(0,)]


def test_a_backfill_that_moves_its_own_key_is_refused_before_any_batch(
    settings, query, write_migration
) -> None:
    """It would meet the rows it moved ahead of the walk again, and update them without end."""
    query("CREATE TABLE comp (a int, b text, n int DEFAULT 0, PRIMARY KEY (a, b)); "
          "INSERT INTO comp SELECT g % 7, g::text, 0 FROM generate_series(1, 300) g")
    with pytest.raises(InputError, match="the backfill sets a, the key it walks comp by"):
        api.backfill(settings, "comp", "a = a + 100", options=parse_options("pause=0"))
    write_migration("V1__move.sql", "-- pgshift:backfill batch-size=10\n"
                    "UPDATE comp SET a = a + 100;", "SELECT 1;",
                    header="-- pgshift:no-transaction")
    with pytest.raises(InputError, match=r"V1__move\.sql:3: the backfill sets a"):
        api.up(settings)
    assert query("SELECT max(a) FROM comp") == [(6,)]


def test_table_without_primary_key_is_walked_by_ctid_ranges(settings, query) -> None:
    query("CREATE TABLE h (a int, b int); "
          "INSERT INTO h SELECT g, NULL FROM generate_series(1, 5000) g")
    notes: list[str] = []
    result = api.backfill(settings, "h", "b = a", "b IS NULL",
                          options=parse_options("batch-size=5 pause=0"), on_note=notes.append)
    assert result.key_columns == ("ctid",) and result.batches > 3
    assert any("ctid" in n for n in notes)
    assert query("SELECT count(*) FROM h WHERE b IS DISTINCT FROM a") == [(0,)]


def test_table_without_key_and_without_where_is_refused_with_the_reason(settings,
                                                                         query) -> None:
    query("CREATE TABLE h (a int)")
    with pytest.raises(InputError, match="no primary key") as caught:
        api.backfill(settings, "h", "a = a + 1")
    assert "WHERE" in caught.value.hint


def test_batch_blocked_by_a_row_lock_is_retried_smaller_after_the_lock_goes(
    settings, table_t, database_url, query
) -> None:
    ready = threading.Event()

    def hold_row() -> None:
        conn = psycopg2.connect(database_url)
        with conn.cursor() as cur:
            cur.execute("SELECT * FROM t WHERE id = 10 FOR UPDATE")
            ready.set()
            time.sleep(0.8)
        conn.rollback()
        conn.close()

    holder = threading.Thread(target=hold_row, daemon=True)
    holder.start()
    ready.wait(5)
    notes: list[str] = []
    fast = dataclasses.replace(settings, lock_timeout=0.1, lock_retries=20)
    api.backfill(fast, "t", "a = -a", options=parse_options("batch-size=5000 pause=0"),
                 on_note=notes.append)
    holder.join()
    assert any("LockNotAvailable" in n for n in notes)
    assert query("SELECT count(*) FROM t WHERE a > 0") == [(0,)]


def test_vacuum_every_n_batches_runs_between_batches(settings, table_t) -> None:
    notes: list[str] = []
    result = api.backfill(settings, "t", "a = a + 1",
                          options=parse_options("batch-size=2000 vacuum=4 pause=0"),
                          on_note=notes.append)
    assert result.vacuums == 2 and sum("vacuumed" in n for n in notes) == 2


SLOW_FILE = """-- pgshift:no-transaction
-- pgshift:backfill batch-size=200 pause=40ms vacuum=off
UPDATE t SET a = a + 1;
-- pgshift:down
SELECT 1;
"""


def _wait_for_rows(query, at_least: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = query("SELECT coalesce(max(rows_done), 0) FROM pgshift.backfill") if query(
            "SELECT to_regclass('pgshift.backfill')")[0][0] else [(0,)]
        if rows[0][0] >= at_least:
            return
        time.sleep(0.05)
    raise AssertionError("the backfill made no progress")


@pytest.mark.faults
def test_sigkill_mid_backfill_then_rerun_continues_from_the_checkpoint(
    settings, migrations_dir, table_t, pgshift_env, query, cli
) -> None:
    (migrations_dir / "V1__bump.sql").write_text(SLOW_FILE)
    proc = subprocess.Popen([sys.executable, "-m", "pgshift", "up"], env=pgshift_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_rows(query, 2000)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    (done_before,) = query("SELECT rows_done FROM pgshift.backfill")[0]
    assert 2000 <= done_before < 20000
    assert [i.state for i in api.status(settings).items] == ["failed"]  # interrupted
    progress = api.backfill_progress(settings)
    assert [p.status for p in progress] == ["interrupted"]
    result = cli("up")
    assert result.returncode == 0, result.stderr
    assert "resuming backfill of t" in result.stdout
    # Each row was bumped exactly once: no batch redone, none skipped.
    assert query("SELECT count(*) FROM t WHERE a <> id + 1") == [(0,)]
    assert query("SELECT status, rows_done FROM pgshift.backfill") == [("done", 20000)]


@pytest.mark.faults
def test_one_off_backfill_command_resumes_after_sigkill_and_reports(
    table_t, pgshift_env, query, cli
) -> None:
    args = ["backfill", "t", "--set", "a = a + 1", "--batch-size", "200", "--pause", "40ms"]
    proc = subprocess.Popen([sys.executable, "-m", "pgshift", *args], env=pgshift_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_rows(query, 1000)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    status = cli("status")
    assert "Backfills:" in status.stdout and "interrupted" in status.stdout
    result = cli(*args[:4], "--pause", "0")  # other options may change; the statement may not
    assert result.returncode == 0, result.stderr
    assert "(resumed)" in result.stdout
    assert query("SELECT count(*) FROM t WHERE a <> id + 1") == [(0,)]


@pytest.mark.parametrize(("table", "message"), [
    ("pg_class", r"pg_catalog\.pg_class is a system catalog"),
    ("information_schema.sql_features", "is a system catalog"),
    ("pgshift.history", r"pgshift\.history is one of pgshift's own tables"),
    ("v", "v is a view, not a table"),
    ("mv", "mv is a materialized view, not a table"),
])
def test_a_backfill_of_what_is_not_an_application_table_is_refused_before_any_batch(
    settings, table_t, query, database_url, table, message
) -> None:
    query("CREATE VIEW v AS SELECT id, a FROM t; "
          "CREATE MATERIALIZED VIEW mv AS SELECT id, a FROM t")
    if table.startswith("pgshift."):  # pgshift's own tables exist
        conn = psycopg2.connect(database_url)
        upgrades.install(conn, settings.schema)
        conn.close()
    column = {"pg_class": "relname", "information_schema.sql_features": "comments",
              "pgshift.history": "description"}.get(table, "a")
    with pytest.raises(InputError, match=message):
        api.backfill(settings, table, f"{column} = {column}")
    if table.startswith("pgshift."):
        assert query("SELECT count(*) FROM pgshift.backfill") == [(0,)]
    else:  # bad input: pgshift's own tables are not even installed
        assert query("SELECT to_regnamespace('pgshift')") == [(None,)]


def test_repeated_set_and_where_options_add_up_to_one_update(table_t, query, cli) -> None:
    query("ALTER TABLE t ADD COLUMN b int, ADD COLUMN c int")
    result = cli("backfill", "t", "--set", "b = a", "--set", "c = -a",
                 "--where", "id <= 100", "--where", "b IS NULL OR id = 1", "--progress", "none")
    assert result.returncode == 0, result.stderr
    assert "100 row(s)" in result.stdout
    assert query("SELECT count(*), sum(b + c) FROM t WHERE b IS NOT NULL") == [(100, 0)]


def test_the_walk_ends_at_the_last_key_it_started_with_even_when_a_trigger_moves_keys(
    settings, query
) -> None:
    query("CREATE TABLE moved (id bigint PRIMARY KEY, v int NOT NULL DEFAULT 0); "
          "INSERT INTO moved (id) SELECT g FROM generate_series(1, 3000) g; "
          "CREATE FUNCTION move_ahead() RETURNS trigger LANGUAGE plpgsql AS "
          "$$ BEGIN NEW.id := NEW.id + 1000000; RETURN NEW; END $$; "
          "CREATE TRIGGER move_ahead BEFORE UPDATE ON moved FOR EACH ROW "
          "EXECUTE FUNCTION move_ahead()")
    result = api.backfill(settings, "moved", "v = v + 1",
                          options=parse_options("batch-size=500 pause=0"))
    assert result.rows == 3000
    assert query("SELECT min(v), max(v), min(id) FROM moved") == [(1, 1, 1000001)]


def test_a_backfill_an_operator_cancels_says_so_not_that_it_timed_out(
    settings, table_t, query
) -> None:
    def cancel_the_batch() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if query("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE "
                     "'%pg_sleep(0.01)%' AND pid <> pg_backend_pid() AND state = 'active'"):
                return
            time.sleep(0.05)

    canceller = threading.Thread(target=cancel_the_batch, daemon=True)
    canceller.start()
    with pytest.raises(MigrationFailedError, match="cancelled by an operator") as failed:
        api.backfill(settings, "t", "a = a + 0 * length(pg_sleep(0.01)::text)",
                     options=parse_options("batch-size=100 pause=0"))
    canceller.join()
    assert "statement_timeout" not in str(failed.value)


# -- running a finished backfill again --------------------------------------------------------


def _kill_at(number: int):
    def on_batch(batch) -> None:
        if batch.number == number:
            raise KeyboardInterrupt  # as a kill right after the batch's COMMIT
    return on_batch


def test_a_finished_one_off_backfill_runs_again_only_with_again(table_t, query, cli) -> None:
    args = ("backfill", "t", "--set", "a = a + 1", "--batch-size", "5000", "--pause", "0",
            "--progress", "none")
    assert cli(*args).returncode == 0
    same = cli(*args)
    assert "was done already" in same.stdout and "--again runs this one over" in same.stdout
    again = cli(*args, "--again")
    assert again.returncode == 0, again.stderr
    assert "Backfilled t: 20000 row(s) in 4 batch(es)" in again.stdout
    assert "(run again)" in again.stdout and "(resumed)" not in again.stdout
    assert query("SELECT min(a - id), max(a - id) FROM t") == [(2, 2)]
    assert query("SELECT status, rows_done, batches FROM pgshift.backfill") == [
        ("done", 20000, 4)]
    assert "was done already" in cli(*args).stdout  # done again: the rule holds once more


def test_a_finished_one_off_backfill_says_so_once(table_t, cli) -> None:
    args = ("backfill", "t", "--set", "a = a + 1", "--batch-size", "5000", "--pause", "0",
            "--progress", "lines")
    assert cli(*args).returncode == 0
    assert cli(*args).stdout.count("was done already") == 1


def test_again_is_refused_while_a_run_stopped_part_way_and_that_run_then_resumes(
    settings, table_t, query, cli
) -> None:
    """Starting over would update the rows before its checkpoint twice: it resumes instead."""
    with pytest.raises(KeyboardInterrupt):
        api.backfill(settings, "t", "a = a + 1", options=parse_options("batch-size=5000 pause=0"),
                     on_batch=_kill_at(2))
    checkpoint = query("SELECT status, rows_done, last_key FROM pgshift.backfill")
    refused = cli("backfill", "t", "--set", "a = a + 1", "--again", "--progress", "none")
    assert refused.returncode == 2, refused.stderr
    assert "stopped part-way (10000 row(s) in 2 batch(es)): --again starts over only a " \
           "finished one" in refused.stderr and "without --again" in refused.stderr
    assert query("SELECT status, rows_done, last_key FROM pgshift.backfill") == checkpoint
    assert query("SELECT count(*) FROM t WHERE a = id + 1") == [(10000,)]
    resumed = api.backfill(settings, "t", "a = a + 1")
    assert resumed.resumed and not resumed.again and resumed.rows == 20000
    assert query("SELECT min(a - id), max(a - id) FROM t") == [(1, 1)]


# -- bounds on VACUUM and on slow batches ------------------------------------------------------


def test_a_vacuum_blocked_by_another_sessions_lock_is_skipped_without_stalling_the_backfill(
    settings, table_t, database_url
) -> None:
    held, release = threading.Event(), threading.Event()

    def hold_the_vacuums_lock() -> None:  # the app's UPDATEs would still go through
        conn = psycopg2.connect(database_url)
        with conn.cursor() as cur:
            cur.execute("LOCK TABLE t IN SHARE UPDATE EXCLUSIVE MODE")
            held.set()
            release.wait(20)
        conn.rollback()
        conn.close()

    holder = threading.Thread(target=hold_the_vacuums_lock, daemon=True)
    holder.start()
    held.wait(5)
    notes: list[str] = []
    started = time.monotonic()
    try:
        result = api.backfill(settings, "t", "a = a + 1",
                              options=parse_options("batch-size=2000 vacuum=1 pause=0"),
                              on_note=notes.append)
    finally:
        release.set()
        holder.join()
    skipped = [n for n in notes if "VACUUM of t skipped" in n]
    assert len(skipped) == 9 and result.vacuums == 0  # one after each batch but the last
    assert "harmless, the backfill goes on" in skipped[0]
    assert time.monotonic() - started < 5  # 9 waits of 0.1 s, not one of 20 s


def test_a_vacuum_that_runs_past_its_time_limit_is_cancelled_and_the_backfill_goes_on(
    settings, table_t, query
) -> None:
    query("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET vacuum_cost_delay = 100', "
          "current_database()); EXECUTE format('ALTER DATABASE %I SET vacuum_cost_limit = 1', "
          "current_database()); END $$")  # a VACUUM that sleeps on every page it reads
    notes: list[str] = []
    started = time.monotonic()
    result = api.backfill(dataclasses.replace(settings, statement_timeout=0.5), "t",
                          "a = a + 1", options=parse_options("batch-size=10000 vacuum=1 pause=0"),
                          on_note=notes.append)
    assert [n.split(" after ")[0] for n in notes if "VACUUM" in n] == [
        "VACUUM of t cancelled at its time limit (0.5s)"]
    assert result.rows == 20000 and result.vacuums == 0
    assert time.monotonic() - started < 5


def test_a_batch_that_exceeds_statement_timeout_is_retried_smaller(settings, query) -> None:
    query("CREATE TABLE s (id int PRIMARY KEY, n int NOT NULL DEFAULT 0); "
          "INSERT INTO s (id) SELECT g FROM generate_series(1, 2000) g; "
          "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
          "IF NEW.id BETWEEN 1001 AND 1010 THEN PERFORM pg_sleep(0.05); END IF; "
          "RETURN NEW; END $$; "
          "CREATE TRIGGER slow BEFORE UPDATE ON s FOR EACH ROW EXECUTE FUNCTION slow()")
    notes: list[str] = []
    sizes: list[int] = []
    result = api.backfill(dataclasses.replace(settings, statement_timeout=0.3), "s",
                          "n = n + 1", options=parse_options("batch-size=500 pause=0 vacuum=off"),
                          on_note=notes.append, on_batch=lambda batch: sizes.append(batch.keys))
    retries = [n for n in notes if "exceeded statement_timeout 0.3s" in n]
    assert retries[0].endswith("retrying it with 250 keys") and len(retries) >= 6
    assert sizes[:2] == [500, 500] and min(sizes) <= 5  # halved until 10 x 50 ms fit in 0.3 s
    assert result.rows == 2000
    assert query("SELECT min(n), max(n) FROM s") == [(1, 1)]


def test_a_batch_that_times_out_at_the_smallest_size_fails_and_keeps_the_batches_before(
    settings, query
) -> None:
    query("CREATE TABLE s (id int PRIMARY KEY, n int NOT NULL DEFAULT 0); "
          "INSERT INTO s (id) SELECT g FROM generate_series(1, 100) g; "
          "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
          "IF NEW.id = 50 THEN PERFORM pg_sleep(1); END IF; RETURN NEW; END $$; "
          "CREATE TRIGGER slow BEFORE UPDATE ON s FOR EACH ROW EXECUTE FUNCTION slow()")
    notes: list[str] = []
    with pytest.raises(MigrationFailedError, match=r"a batch of 1 key\(s\), the smallest it "
                       r"may be, still exceeded statement_timeout 0\.3s") as failed:
        api.backfill(dataclasses.replace(settings, statement_timeout=0.3), "s", "n = n + 1",
                     options=parse_options("batch-size=8 pause=0 vacuum=off"),
                     on_note=notes.append)
    assert failed.value.exit_code == 5 and "resume" in failed.value.hint
    assert sum("exceeded statement_timeout" in n for n in notes) == 3  # 8 -> 4 -> 2 -> 1
    assert query("SELECT status, rows_done FROM pgshift.backfill") == [("failed", 49)]
    assert query("SELECT count(*) FROM s WHERE n = 1") == [(49,)]
