"""Batched backfills whose checkpoint no longer describes the table or the run: the key changed
between a killed run and its resume, the checkpoint row deleted or taken over mid-run."""

from __future__ import annotations

import dataclasses

import pytest
from tests.fixtures.backfills import kill_a_migration_backfill
from tests.fixtures.pg import url_with_server_setting

from pgshift import api
from pgshift.backfill.options import parse_options
from pgshift.errors import InputError, MigrationFailedError

FAST = "batch-size=5000 pause=0 vacuum=off"


@pytest.fixture
def counted(query) -> None:
    """Table t, 20000 rows; ``n`` counts the updates each row got (a trigger), ``code`` is a
    second candidate key."""
    query("CREATE TABLE t (id bigint PRIMARY KEY, code int NOT NULL, a int, b int, "
          "n int NOT NULL DEFAULT 0); "
          "INSERT INTO t (id, code, a) SELECT g, -g, g FROM generate_series(1, 20000) g; "
          "CREATE FUNCTION count_update() RETURNS trigger LANGUAGE plpgsql AS "
          "$$ BEGIN NEW.n := OLD.n + 1; RETURN NEW; END $$; "
          "CREATE TRIGGER count_update BEFORE UPDATE ON t FOR EACH ROW "
          "EXECUTE FUNCTION count_update(); ANALYZE t")


def _kill_at(number: int):
    def on_batch(batch) -> None:
        if batch.number == number:
            raise KeyboardInterrupt  # as a kill right after the batch's COMMIT
    return on_batch


def _killed_after_two_batches(settings, assignments: str, where: str | None = None) -> None:
    with pytest.raises(KeyboardInterrupt):
        api.backfill(settings, "t", assignments, where, options=parse_options(FAST),
                     on_batch=_kill_at(2))


# -- the key changed between a killed run and its resume ---------------------------------------


def test_a_resume_after_the_primary_key_changed_is_refused(settings, counted, query,
                                                           cli) -> None:
    """Its last key means nothing in the new key's order: going on would skip rows or update
    some twice, and starting over would update the 10000 rows done twice."""
    _killed_after_two_batches(settings, "a = a + 1")
    checkpoint = query("SELECT status, rows_done, batches, last_key FROM pgshift.backfill")
    query("ALTER TABLE t DROP CONSTRAINT t_pkey, ADD PRIMARY KEY (code)")
    with pytest.raises(InputError, match=r"this backfill of t stopped part-way \(10000 row\(s\) "
                       r"in 2 batch\(es\)\) walking its key \(id\); t is now walked by its key "
                       r"\(code\): its checkpoint means nothing") as refused:
        api.backfill(settings, "t", "a = a + 1", options=parse_options(FAST))
    assert "put the key (id) back" in refused.value.hint and "--again" in refused.value.hint
    result = cli("backfill", "t", "--set", "a = a + 1", "--progress", "none")
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "(hint: " in result.stderr
    assert query("SELECT status, rows_done, batches, last_key FROM pgshift.backfill") == (
        checkpoint)
    assert query("SELECT n, count(*) FROM t GROUP BY n ORDER BY n") == [(0, 10000), (1, 10000)]


def test_a_resume_after_the_key_is_put_back_goes_on_from_the_checkpoint(
    settings, counted, query
) -> None:
    _killed_after_two_batches(settings, "a = a + 1")
    query("ALTER TABLE t DROP CONSTRAINT t_pkey, ADD PRIMARY KEY (code)")
    with pytest.raises(InputError, match="stopped part-way"):
        api.backfill(settings, "t", "a = a + 1", options=parse_options(FAST))
    query("ALTER TABLE t DROP CONSTRAINT t_pkey, ADD PRIMARY KEY (id)")
    result = api.backfill(settings, "t", "a = a + 1", options=parse_options(FAST))
    assert result.resumed and result.rows == 20000
    assert query("SELECT min(n), max(n), count(*) FILTER (WHERE a <> id + 1) FROM t") == [
        (1, 1, 0)]


def test_again_starts_a_run_stopped_under_another_key_over_and_says_what_that_means(
    settings, counted, query
) -> None:
    _killed_after_two_batches(settings, "b = a", "b IS NULL")
    query("ALTER TABLE t DROP CONSTRAINT t_pkey, ADD PRIMARY KEY (code)")
    notes: list[str] = []
    result = api.backfill(settings, "t", "b = a", "b IS NULL", options=parse_options(FAST),
                          again=True, on_note=notes.append)
    assert result.again and not result.resumed and result.key_columns == ("code",)
    assert any("starting it over from the first key (--again)" in n for n in notes), notes
    assert query("SELECT min(n), max(n), count(*) FILTER (WHERE b <> a) FROM t") == [(1, 1, 0)]


def test_a_resume_after_the_table_lost_its_key_is_refused(settings, counted, query) -> None:
    """A ctid walk from block 0 would meet the rows done again; nothing says the WHERE skips
    them (``n < 2`` still holds for a row done once)."""
    _killed_after_two_batches(settings, "a = a + 1", "n < 2")
    query("ALTER TABLE t DROP CONSTRAINT t_pkey")
    with pytest.raises(InputError, match=r"walking its key \(id\); t is now walked by ctid "
                                         r"ranges \(no primary key\)"):
        api.backfill(settings, "t", "a = a + 1", "n < 2", options=parse_options(FAST))
    assert query("SELECT n, count(*) FROM t GROUP BY n ORDER BY n") == [(0, 10000), (1, 10000)]


def test_a_resume_after_the_table_gained_a_key_starts_over_and_updates_no_row_twice(
    settings, query
) -> None:
    """The ctid walk checked that its WHERE is false for each row it wrote: a key walk from
    the first key passes over them, and the note says so."""
    query("CREATE TABLE t (id int NOT NULL, a int, b int, n int NOT NULL DEFAULT 0); "
          "INSERT INTO t (id, a) SELECT g, g FROM generate_series(1, 20000) g; "
          "CREATE FUNCTION count_update() RETURNS trigger LANGUAGE plpgsql AS "
          "$$ BEGIN NEW.n := OLD.n + 1; RETURN NEW; END $$; "
          "CREATE TRIGGER count_update BEFORE UPDATE ON t FOR EACH ROW "
          "EXECUTE FUNCTION count_update(); ANALYZE t")
    _killed_after_two_batches(settings, "b = a", "b IS NULL")
    (done,) = query("SELECT rows_done FROM pgshift.backfill")[0]
    assert 0 < done < 20000
    query("ALTER TABLE t ADD PRIMARY KEY (id)")
    notes: list[str] = []
    result = api.backfill(settings, "t", "b = a", "b IS NULL", options=parse_options(FAST),
                          on_note=notes.append)
    assert any("walking ctid ranges (no primary key); t is now walked by its key (id): "
               "starting it over from the first key, which updates none of those rows twice"
               in n for n in notes), notes
    assert result.key_columns == ("id",) and result.rows == 20000 - done and not result.again
    assert query("SELECT min(n), max(n), count(*) FILTER (WHERE b IS DISTINCT FROM a) "
                 "FROM t") == [(1, 1, 0)]


def test_a_finished_backfill_stays_done_after_the_key_changed(settings, counted, query) -> None:
    api.backfill(settings, "t", "a = a + 1", options=parse_options(FAST))
    query("ALTER TABLE t DROP CONSTRAINT t_pkey, ADD PRIMARY KEY (code)")
    result = api.backfill(settings, "t", "a = a + 1", options=parse_options(FAST))
    assert result.done_already and result.rows == 20000
    assert query("SELECT min(n), max(n) FROM t") == [(1, 1)]


def test_a_migration_backfill_resumed_after_its_key_changed_is_refused_naming_its_file(
    settings, migrations_dir, counted, query
) -> None:
    kill_a_migration_backfill(settings, migrations_dir, "UPDATE t SET a = a + 1;")
    query("ALTER TABLE t DROP CONSTRAINT t_pkey, ADD PRIMARY KEY (code)")
    with pytest.raises(InputError, match=r"V1__bump\.sql:3: this backfill of t stopped "
                                         r"part-way") as refused:
        api.up(settings)
    assert "DELETE FROM pgshift.backfill WHERE id = " in refused.value.hint
    assert query("SELECT n, count(*) FROM t GROUP BY n ORDER BY n") == [(0, 10000), (1, 10000)]


# -- the checkpoint row deleted or taken over while the run goes on ----------------------------


def test_a_batch_whose_checkpoint_was_deleted_is_rolled_back_and_the_run_stops(
    settings, counted, query
) -> None:
    def delete_the_checkpoint(batch) -> None:
        if batch.number == 2:
            query("DELETE FROM pgshift.backfill")

    with pytest.raises(MigrationFailedError, match=r"backfill of t: batch 3 was rolled back: "
                       r"its checkpoint .* was deleted while the backfill ran") as failed:
        api.backfill(settings, "t", "a = a + 1", options=parse_options(FAST),
                     on_batch=delete_the_checkpoint)
    assert failed.value.exit_code == 5
    assert "keys (id) up to (10000)" in failed.value.hint
    assert "starts from the first key" in failed.value.hint
    assert query("SELECT n, count(*) FROM t GROUP BY n ORDER BY n") == [(0, 10000), (1, 10000)]
    assert query("SELECT count(*) FROM pgshift.backfill") == [(0,)]  # not written back


def test_a_batch_whose_checkpoint_another_run_took_over_is_rolled_back_and_leaves_it_be(
    settings, counted, query
) -> None:
    """As ``--again`` from another session would: the row is reset and is that run's now."""
    def take_it_over(batch) -> None:
        if batch.number == 2:
            query("UPDATE pgshift.backfill SET pid = 0, batches = 0, rows_done = 0, "
                  "keys_done = 0, last_key = NULL")

    with pytest.raises(MigrationFailedError, match=r"batch 3 was rolled back: its checkpoint "
                       r".* was taken over by another run \(backend pid 0, 0 batch\(es\)\)"):
        api.backfill(settings, "t", "a = a + 1", options=parse_options(FAST),
                     on_batch=take_it_over)
    assert query("SELECT status, pid, batches, error FROM pgshift.backfill") == [
        ("running", 0, 0, None)]  # not marked failed: it is not this run's
    assert query("SELECT n, count(*) FROM t GROUP BY n ORDER BY n") == [(0, 10000), (1, 10000)]


def test_a_ctid_walk_whose_checkpoint_was_deleted_says_which_blocks_it_did(
    settings, query
) -> None:
    query("CREATE TABLE h (a int, b int); "
          "INSERT INTO h SELECT g, NULL FROM generate_series(1, 20000) g; ANALYZE h")

    def delete_the_checkpoint(batch) -> None:
        if batch.number == 1:
            query("DELETE FROM pgshift.backfill")

    with pytest.raises(MigrationFailedError, match="was deleted") as failed:
        api.backfill(settings, "h", "b = a", "b IS NULL", options=parse_options(FAST),
                     on_batch=delete_the_checkpoint)
    assert "blocks before " in failed.value.hint
    (done,) = query("SELECT count(*) FROM h WHERE b IS NOT NULL")[0]
    assert 0 < done < 20000


def test_a_migration_backfill_resumed_without_its_checkpoint_says_it_starts_from_the_first_key(
    settings, migrations_dir, counted, query
) -> None:
    """Someone cleaned pgshift's tables between the kill and the resume: nothing says which
    rows are done any more, and a run killed before its first batch leaves no row either."""
    kill_a_migration_backfill(settings, migrations_dir, "UPDATE t SET b = a WHERE b IS NULL;")
    query("DELETE FROM pgshift.backfill")
    notes: list[str] = []
    api.up(settings, on_event=lambda kind, m, info: notes.append(info.get("text") or ""))
    assert any("resumes with no checkpoint: starting it from the first key" in n
               for n in notes), notes
    assert query("SELECT min(n), max(n), count(*) FILTER (WHERE b <> a) FROM t") == [(1, 1, 0)]


def test_pauses_between_batches_longer_than_the_servers_idle_session_timeout_do_not_end_it(
    settings, counted, query
) -> None:
    timed = dataclasses.replace(
        settings, url=url_with_server_setting(settings.url, "idle_session_timeout", "150"))
    result = api.backfill(timed, "t", "a = a + 1",
                          options=parse_options("batch-size=10000 pause=400ms vacuum=off"))
    assert result.batches >= 2
    assert query("SELECT min(n), max(n) FROM t") == [(1, 1)]
