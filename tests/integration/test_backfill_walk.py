"""Batched backfills resumed after the table they walked changed under the same key names: the
key's type or collation, another table (dropped and recreated, found under another
search_path). A checkpoint records the walk (``walk``); one written before it did resumes."""

from __future__ import annotations

import pytest
from tests.fixtures.backfills import kill_a_migration_backfill

from pgshift import api
from pgshift.backfill.options import parse_options
from pgshift.errors import InputError
from pgshift.state.upgrades import SCHEMA_VERSION

FAST = "batch-size=5000 pause=0 vacuum=off"
COUNT_UPDATES = ("CREATE FUNCTION count_update() RETURNS trigger LANGUAGE plpgsql AS "
                 "$$ BEGIN NEW.n := OLD.n + 1; RETURN NEW; END $$; ")


def _table(query, key_type: str = "integer", name: str = "t", key: str = "g") -> None:
    """``name``: 20000 rows keyed by ``id`` (``key_type``, values ``key``); ``n`` counts the
    updates each row got (a trigger)."""
    query(f"CREATE TABLE {name} (id {key_type} PRIMARY KEY, a int, b int, "
          "n int NOT NULL DEFAULT 0); "
          f"INSERT INTO {name} (id, a) SELECT {key}, g FROM generate_series(1, 20000) g; "
          f"CREATE TRIGGER count_update BEFORE UPDATE ON {name} FOR EACH ROW "
          f"EXECUTE FUNCTION count_update(); ANALYZE {name}")


@pytest.fixture
def counting(query) -> None:
    query(COUNT_UPDATES)


def _killed_after_two_batches(settings, assignments: str = "a = a + 1",
                              where: str | None = None) -> None:
    def on_batch(batch) -> None:
        if batch.number == 2:
            raise KeyboardInterrupt  # as a kill right after the batch's COMMIT

    with pytest.raises(KeyboardInterrupt):
        api.backfill(settings, "t", assignments, where, options=parse_options(FAST),
                     on_batch=on_batch)


def _resume(settings, assignments: str = "a = a + 1", where: str | None = None, **kwargs):
    return api.backfill(settings, "t", assignments, where, options=parse_options(FAST),
                        **kwargs)


def _updates(query, name: str = "t") -> list[tuple]:
    return query(f"SELECT n, count(*) FROM {name} GROUP BY n ORDER BY n")


# -- the key's type or collation --------------------------------------------------------------


@pytest.mark.parametrize(("before", "after", "key"), [
    ("integer", "bigint", "g"),
    ("character varying(10)", "text", "g::text"),
    ("character varying(10)", "character varying(20)", "g::text"),
])
def test_a_resume_after_the_key_was_widened_goes_on_from_the_checkpoint(
    settings, counting, query, before, after, key
) -> None:
    """The key sorts as before and its values are the same: the last key done means the
    same rows, and the walk records the key's new type."""
    _table(query, before, key=key)
    _killed_after_two_batches(settings)
    query(f"ALTER TABLE t ALTER id TYPE {after}")
    result = _resume(settings)
    assert result.resumed and result.rows == 20000 and result.batches == 4
    assert _updates(query) == [(1, 20000)]
    (walk,) = query("SELECT walk FROM pgshift.backfill")[0]
    assert walk.endswith(f":{after}"), walk


@pytest.mark.parametrize(("before", "after", "key", "said"), [
    ("integer", "text", "g", "type changed from integer to text"),
    ("bigint", "numeric", "g", "type changed from bigint to numeric"),
    ("character varying(10)", "character varying(5)", "g::text",
     "type changed from character varying(10) to character varying(5)"),
    ('text COLLATE "C"', 'text COLLATE "POSIX"', "g::text",
     'collation changed from text COLLATE pg_catalog."C" to text COLLATE pg_catalog."POSIX"'),
])
def test_a_resume_after_the_key_sorts_otherwise_is_refused_naming_what_changed(
    settings, counting, query, cli, before, after, key, said
) -> None:
    """``'10000' > '9'`` is false: going on from the checkpoint in the new order would skip
    rows or update some twice."""
    _table(query, before, key=key)
    _killed_after_two_batches(settings)
    checkpoint = query("SELECT status, rows_done, batches, last_key, walk FROM pgshift.backfill")
    query(f"ALTER TABLE t ALTER id TYPE {after}")
    with pytest.raises(InputError) as refused:
        _resume(settings)
    assert refused.value.message.startswith(
        "this backfill of t stopped part-way (10000 row(s) in 2 batch(es)) walking its key "
        f"(id); its key's {said}: its checkpoint means nothing in the new key's order")
    kind = said.split()[0]
    assert refused.value.hint.startswith(f"give the key its {kind} back (")
    assert "--again" in refused.value.hint
    result = cli("backfill", "t", "--set", "a = a + 1", "--progress", "none")
    assert result.returncode == 2, result.stdout + result.stderr
    assert query("SELECT status, rows_done, batches, last_key, walk FROM pgshift.backfill") == (
        checkpoint)
    assert _updates(query) == [(0, 10000), (1, 10000)]


def test_a_migration_backfill_resumed_after_its_key_was_retyped_is_refused_naming_its_file(
    settings, migrations_dir, counting, query
) -> None:
    _table(query)
    kill_a_migration_backfill(settings, migrations_dir, "UPDATE t SET a = a + 1;")
    query("ALTER TABLE t ALTER id TYPE text")
    with pytest.raises(InputError, match=r"V1__bump\.sql:3: this backfill of t stopped "
                       r"part-way .*type changed from integer to text") as refused:
        api.up(settings)
    assert "('pgshift up'); or, if updating" in refused.value.hint
    assert "DELETE FROM pgshift.backfill WHERE id = " in refused.value.hint
    assert _updates(query) == [(0, 10000), (1, 10000)]


# -- another table ------------------------------------------------------------------------------


def _recreate(query, name: str = "t") -> None:
    """Drop ``name`` and make it again with the same rows (a copy, renamed into its place)."""
    query(f"CREATE TABLE copy (LIKE {name} INCLUDING ALL); "
          f"INSERT INTO copy SELECT * FROM {name}; DROP TABLE {name}; "
          f"ALTER TABLE copy RENAME TO {name}; "
          f"CREATE TRIGGER count_update BEFORE UPDATE ON {name} FOR EACH ROW "
          "EXECUTE FUNCTION count_update()")


def test_a_resume_after_the_table_was_dropped_and_recreated_is_refused(
    settings, counting, query
) -> None:
    """Same name, same key, same type: nothing but its oid says it is another table, whose
    rows the checkpoint does not describe."""
    _table(query, "bigint")
    _killed_after_two_batches(settings)
    (walked,) = query("SELECT 't'::regclass::oid")[0]
    _recreate(query)
    (now,) = query("SELECT 't'::regclass::oid")[0]
    with pytest.raises(InputError) as refused:
        _resume(settings)
    assert refused.value.message == (
        "this backfill of t stopped part-way (10000 row(s) in 2 batch(es)) walking its key "
        f"(id); t is another table now (public.t, oid {now}; the one walked, oid {walked}, is "
        "gone: dropped and recreated?): its checkpoint means nothing on this table")
    assert refused.value.hint.startswith("run it with --again")
    assert _updates(query) == [(0, 10000), (1, 10000)]
    result = _resume(settings, again=True)
    assert result.again and result.rows == 20000
    assert _updates(query) == [(1, 10000), (2, 10000)]  # as --again warned


def test_a_ctid_walk_resumed_on_a_recreated_table_starts_over_and_updates_no_row_twice(
    settings, counting, query
) -> None:
    """Each batch of a ctid walk checked that its WHERE is false for the rows it wrote."""
    query("CREATE TABLE t (a int, b int, n int NOT NULL DEFAULT 0); "
          "INSERT INTO t (a) SELECT g FROM generate_series(1, 20000) g; "
          "CREATE TRIGGER count_update BEFORE UPDATE ON t FOR EACH ROW "
          "EXECUTE FUNCTION count_update(); ANALYZE t")
    _killed_after_two_batches(settings, "b = a", "b IS NULL")
    (done,) = query("SELECT rows_done FROM pgshift.backfill")[0]
    _recreate(query)
    notes: list[str] = []
    result = _resume(settings, "b = a", "b IS NULL", on_note=notes.append)
    assert any("walking ctid ranges (no primary key); t is another table now" in n
               and "starting it over from the first key, which updates none" in n
               for n in notes), notes
    assert result.rows == 20000 - done and not result.again
    assert query("SELECT min(n), max(n), count(*) FILTER (WHERE b IS DISTINCT FROM a) "
                 "FROM t") == [(1, 1, 0)]


def test_a_resume_where_the_name_finds_a_table_in_another_schema_is_refused(
    settings, counting, query
) -> None:
    """``t`` as written, under another search_path: the same statement, another table."""
    query("CREATE SCHEMA a; CREATE SCHEMA b; " + _create_sql("a") + _create_sql("b"))
    database = query("SELECT current_database()")[0][0]
    query(f'ALTER DATABASE "{database}" SET search_path = a')
    _killed_after_two_batches(settings)
    query(f'ALTER DATABASE "{database}" SET search_path = b')
    with pytest.raises(InputError, match=r"walking its key \(id\); t is another table now "
                       r"\(b\.t, oid \d+; it walked a\.t, oid \d+\): its checkpoint means "
                       r"nothing on this table") as refused:
        _resume(settings)
    assert refused.value.hint.startswith("make t name a.t again (the search_path, a rename) "
                                         "and run it again to resume; or run it with --again")
    assert _updates(query, "b.t") == [(0, 20000)]
    query(f'ALTER DATABASE "{database}" SET search_path = a')
    result = _resume(settings)
    assert result.resumed and result.rows == 20000
    assert _updates(query, "a.t") == [(1, 20000)]


def _create_sql(schema: str) -> str:
    return (f"CREATE TABLE {schema}.t (id int PRIMARY KEY, a int, n int NOT NULL DEFAULT 0); "
            f"INSERT INTO {schema}.t (id, a) SELECT g, g FROM generate_series(1, 20000) g; "
            f"CREATE TRIGGER count_update BEFORE UPDATE ON {schema}.t FOR EACH ROW "
            f"EXECUTE FUNCTION public.count_update(); ANALYZE {schema}.t; ")


def test_a_finished_backfill_stays_done_on_a_recreated_table(settings, counting, query) -> None:
    _table(query)
    _resume(settings)
    _recreate(query)
    query("ALTER TABLE t ALTER id TYPE text")
    result = _resume(settings)
    assert result.done_already and result.rows == 20000
    assert _updates(query) == [(1, 20000)]


# -- checkpoints of an earlier pgshift ----------------------------------------------------------


def test_a_checkpoint_from_before_the_walk_was_recorded_resumes_after_the_upgrade(
    settings, counting, query
) -> None:
    """Schema version 5 had no ``walk``: the upgrade adds it (NULL in the rows there), such a
    checkpoint resumes as it did, and records its walk from then on."""
    _table(query)
    _killed_after_two_batches(settings)
    query("ALTER TABLE pgshift.backfill DROP COLUMN walk; "
          "UPDATE pgshift.meta SET value = '5' WHERE key = 'schema_version'")
    result = _resume(settings)
    assert result.resumed and result.rows == 20000 and result.batches == 4
    assert _updates(query) == [(1, 20000)]
    assert query("SELECT value FROM pgshift.meta WHERE key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)]
    assert query("SELECT walk = 't'::regclass::oid || ':integer' FROM pgshift.backfill") == [
        (True,)]


def test_a_checkpoint_without_a_walk_resumes_and_a_later_resume_is_checked(
    settings, counting, query
) -> None:
    _table(query)

    def kill_at(number: int):
        def on_batch(batch) -> None:
            if batch.number == number:
                raise KeyboardInterrupt
        return on_batch

    _killed_after_two_batches(settings)
    query("UPDATE pgshift.backfill SET walk = NULL")
    with pytest.raises(KeyboardInterrupt):
        _resume(settings, on_batch=kill_at(3))
    query("ALTER TABLE t ALTER id TYPE text")
    with pytest.raises(InputError, match="type changed from integer to text"):
        _resume(settings)
    assert _updates(query) == [(0, 5000), (1, 15000)]
