"""Batched backfills under hostile conditions: keys of every type, kills at the worst moment,
the application writing meanwhile, bad input, odd options, and what progress reports."""

from __future__ import annotations

import dataclasses
import random
import threading
import time

import psycopg2
import pytest

from pgshift import api
from pgshift.backfill.options import parse_options
from pgshift.backfill.progress import job_id
from pgshift.errors import InputError, MigrationFailedError

FAST = "pause=0 vacuum=off"


# -- keys ----------------------------------------------------------------------------------------

KEYS = {
    "bigint at its limits": (
        "id bigint PRIMARY KEY",
        "SELECT x FROM (VALUES (-9223372036854775808), (9223372036854775807), (0), (-1)) v(x) "
        "UNION SELECT g * 1000000000000 FROM generate_series(-500, 500) g"),
    "smallint with gaps": ("id smallint PRIMARY KEY",
                           "SELECT g FROM generate_series(-32768, 32767, 97) g UNION SELECT 32767"),
    "uuid": ("id uuid PRIMARY KEY", "SELECT md5(g::text)::uuid FROM generate_series(1, 500) g"),
    "text with unicode and quotes": (
        "id text PRIMARY KEY",
        "SELECT chr(32 + g * 37 % 3000) || g FROM generate_series(1, 400) g UNION "
        "SELECT unnest(ARRAY['', ' ', 'a', 'A', 'ä', 'Ä', E'\\t', '''', '\"', E'\\\\', '🙂', "
        "'é', 'é', '{x,y}', 'NULL'])"),
    "text in the C collation": ('id text COLLATE "C" PRIMARY KEY',
                                "SELECT chr(40 + g % 90) || g FROM generate_series(1, 500) g"),
    "float with NaN and infinities": (
        "id float8 PRIMARY KEY",
        "SELECT g / 7.0 FROM generate_series(-300, 300) g UNION "
        "SELECT unnest('{NaN,Infinity,-Infinity,1e308,5e-324}'::float8[])"),
    "timestamp with infinities": (
        "id timestamp PRIMARY KEY",
        "SELECT '2000-01-01'::timestamp + g * interval '1 min 0.000001 s' "
        "FROM generate_series(1, 500) g UNION "
        "SELECT unnest('{infinity,-infinity,4713-01-01 BC}'::timestamp[])"),
    "bytea": ("id bytea PRIMARY KEY",
              "SELECT decode(md5(g::text), 'hex') FROM generate_series(1, 500) g "
              "UNION SELECT unnest('{\"\",\"\\\\x00\"}'::bytea[])"),
    "composite of three types": (
        "a int, b text, c date, PRIMARY KEY (a, b, c)",
        "SELECT g % 3, (g % 7)::text, '2020-01-01'::date + g % 11 "
        "FROM generate_series(1, 600) g GROUP BY 1, 2, 3"),
    "quoted key column": ('"Weird Key" int PRIMARY KEY',
                          "SELECT g FROM generate_series(1, 500) g"),
    "unique NOT NULL index in another collation": (
        "id text NOT NULL, UNIQUE (id)",  # the index is replaced below
        "SELECT chr(65 + g % 60) || g FROM generate_series(1, 500) g"),
    "one row": ("id int PRIMARY KEY", "SELECT 1"),
    "no rows": ("id int PRIMARY KEY", "SELECT 1 WHERE false"),
}


@pytest.mark.parametrize("name", KEYS)
@pytest.mark.parametrize("batch_size", ["1", "7", "auto"])
def test_every_row_is_updated_exactly_once_whatever_the_key_type(
    settings, query, name, batch_size
) -> None:
    columns, rows = KEYS[name]
    query(f"CREATE TABLE k ({columns}, v int NOT NULL DEFAULT 0); "
          f"INSERT INTO k SELECT * FROM ({rows}) s; ANALYZE k")
    if name.startswith("unique"):
        query('ALTER TABLE k DROP CONSTRAINT k_id_key; CREATE UNIQUE INDEX ON k (id COLLATE "C")')
    (count,) = query("SELECT count(*) FROM k")[0]
    result = api.backfill(settings, "k", "v = v + 1",
                          options=parse_options(f"batch-size={batch_size} {FAST}"))
    assert query("SELECT count(*) FROM k WHERE v <> 1") == [(0,)]
    assert (result.rows, result.keys) == (count, count)  # the last batch is counted, too


def test_a_unique_index_in_another_collation_is_walked_along_the_index(settings, query) -> None:
    """Walked in the column's collation, each batch would scan and sort the whole table."""
    query("CREATE TABLE k (id text NOT NULL, v int NOT NULL DEFAULT 0); "
          'CREATE UNIQUE INDEX k_c ON k (id COLLATE "C"); '
          "INSERT INTO k SELECT chr(65 + g % 60) || g FROM generate_series(1, 20000) g; "
          "ANALYZE k")
    (before,) = query("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'k'")[0]
    result = api.backfill(settings, "k", "v = 1", options=parse_options(f"batch-size=200 {FAST}"))
    assert result.rows == 20000 and result.key_columns == ("id",) and result.batches >= 100
    deadline = time.monotonic() + 10  # the backfill's session reports its counts as it ends
    while time.monotonic() < deadline and query(
            "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'k'")[0][0] < 20000:
        time.sleep(0.1)
    (after,) = query("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'k'")[0]
    assert after - before < 5  # not one (or two) per batch


# -- kills at the worst moment --------------------------------------------------------------------


def _kill_at(number: int):
    def on_batch(batch) -> None:
        if batch.number == number:
            raise KeyboardInterrupt  # as a kill right after the batch's COMMIT
    return on_batch


def test_a_run_killed_right_after_its_only_batch_is_done_and_is_not_run_again(
    settings, query
) -> None:
    query("CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL DEFAULT 0); "
          "INSERT INTO t (id) SELECT g FROM generate_series(1, 50) g")
    with pytest.raises(KeyboardInterrupt):
        api.backfill(settings, "t", "n = n + 1", options=parse_options(FAST),
                     on_batch=_kill_at(1))
    assert query("SELECT status, rows_done FROM pgshift.backfill") == [("done", 50)]
    result = api.backfill(settings, "t", "n = n + 1", options=parse_options(FAST))
    assert result.done_already and result.rows == 50
    assert query("SELECT count(*) FROM t WHERE n <> 1") == [(0,)]


def test_a_checkpoint_an_earlier_version_left_after_its_only_batch_counts_as_done(
    settings, query
) -> None:
    """Earlier versions wrote last_key '{}' after a first batch that was also the last, and
    marked the run done in a later statement: killed between the two, the run was done."""
    query("CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL DEFAULT 0); "
          "INSERT INTO t (id) SELECT g FROM generate_series(1, 50) g")
    api.backfill(settings, "t", "n = n + 1", options=parse_options(FAST))
    query("UPDATE pgshift.backfill SET status = 'running', last_key = '{}'")
    result = api.backfill(settings, "t", "n = n + 1", options=parse_options(FAST))
    assert result.done_already
    assert query("SELECT count(*) FROM t WHERE n <> 1") == [(0,)]


def test_a_one_off_backfill_run_again_once_done_updates_nothing_twice(
    table_t_with_counter, query, cli
) -> None:
    args = ("backfill", "t", "--set", "n = n + 1", "--progress", "none")
    assert cli(*args).returncode == 0
    again = cli(*args)
    assert again.returncode == 0, again.stderr
    assert "was done already" in again.stdout and "nothing to do" in again.stdout
    assert query("SELECT min(n), max(n) FROM t") == [(1, 1)]


@pytest.fixture
def table_t_with_counter(query) -> None:
    query("CREATE TABLE t (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0); "
          "INSERT INTO t (id) SELECT g FROM generate_series(1, 20001) g; ANALYZE t")


def test_a_migration_killed_after_its_backfill_finished_does_not_run_it_again(
    settings, migrations_dir, table_t_with_counter, query
) -> None:
    (migrations_dir / "V1__bump.sql").write_text(
        "-- pgshift:no-transaction\n-- pgshift:backfill batch-size=5000 pause=0\n"
        "UPDATE t SET n = n + 1;\nCREATE INDEX CONCURRENTLY t_n ON t (n);\n"
        "-- pgshift:down\nDROP INDEX t_n;\n")

    def kill_after_the_last_batch(kind, migration, info) -> None:
        if kind == "backfill" and info["batch"].keys_done == 20001:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        api.up(settings, on_event=kill_after_the_last_batch)
    notes: list[str] = []
    api.up(settings, on_event=lambda kind, m, info: notes.append(info.get("text") or ""))
    assert any("was done already" in n for n in notes)
    assert query("SELECT min(n), max(n) FROM t") == [(1, 1)]  # the last batch not redone
    assert query("SELECT indexname FROM pg_indexes WHERE indexname = 't_n'") == [("t_n",)]


def test_the_same_update_spaced_or_cased_otherwise_is_the_same_backfill(
    settings, table_t_with_counter, query
) -> None:
    assert job_id("UPDATE t SET n = n + 1") == job_id("update  t set n=n+1 -- again\n;")
    with pytest.raises(KeyboardInterrupt):
        api.backfill(settings, "t", "n = n + 1", options=parse_options(f"batch-size=5000 {FAST}"),
                     on_batch=_kill_at(2))
    result = api.backfill(settings, "T", "N=N+1", options=parse_options(FAST))
    assert result.resumed and result.rows == 20001
    assert query("SELECT min(n), max(n) FROM t") == [(1, 1)]


def test_two_runs_of_the_same_update_at_once_are_refused_however_it_is_spaced(
    table_t_with_counter, query, cli, pgshift_env
) -> None:
    import signal
    import subprocess
    import sys

    slow = ["backfill", "t", "--set", "n = n + 1", "--batch-size", "200", "--pause", "500ms",
            "--progress", "none"]
    first = subprocess.Popen([sys.executable, "-m", "pgshift", *slow], env=pgshift_env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not query(
                "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pgshift:backfill%' "
                "AND pid <> pg_backend_pid()"):
            time.sleep(0.05)
        second = cli("backfill", "t", "--set", "n=n+1", "--progress", "none")
        assert second.returncode == 4, second.stdout + second.stderr
        assert "already running" in second.stderr
        # --again is exit 2, not 4: retried once the first run ends, it would start it over.
        again = cli("backfill", "t", "--set", "n=n+1", "--again", "--progress", "none")
        assert again.returncode == 2, again.stdout + again.stderr
        assert "is running now: --again starts over only a finished one" in again.stderr
    finally:
        first.send_signal(signal.SIGINT)
        first.wait(30)
    assert first.returncode == 130, first.stderr
    finish = cli("backfill", "t", "--set", "N = N+1", "--pause", "0", "--progress", "none")
    assert finish.returncode == 0 and "(resumed)" in finish.stdout, finish.stderr
    assert query("SELECT min(n), max(n) FROM t") == [(1, 1)]


def test_a_trigger_that_fails_half_way_keeps_the_batches_before_and_resumes_after_them(
    settings, table_t_with_counter, query
) -> None:
    query("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
          "IF NEW.id = 12345 AND current_setting('app.ok', true) IS DISTINCT FROM 'yes' THEN "
          "RAISE EXCEPTION 'row % refused', NEW.id; END IF; RETURN NEW; END $$; "
          "CREATE TRIGGER refuse BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION refuse()")
    options = parse_options(f"batch-size=1000 {FAST}")
    with pytest.raises(MigrationFailedError, match="row 12345 refused") as failed:
        api.backfill(settings, "t", "n = n + 1", options=options)
    assert "the same statement resumes after them" in failed.value.hint
    assert query("SELECT status, rows_done, last_key FROM pgshift.backfill") == [
        ("failed", 12000, ["12000"])]
    assert query("SELECT n, count(*) FROM t GROUP BY n ORDER BY n") == [(0, 8001), (1, 12000)]
    query("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET app.ok = yes', "
          "current_database()); END $$")  # the trigger lets the row through now
    result = api.backfill(settings, "t", "n = n + 1", options=options)
    assert result.resumed and result.rows == 20001
    assert query("SELECT min(n), max(n) FROM t") == [(1, 1)]


def test_a_partitioned_table_in_a_schema_that_needs_quotes_is_walked_by_its_key(
    settings, query
) -> None:
    query('CREATE SCHEMA "App Schema"; '
          'CREATE TABLE "App Schema"."Events" (id int, k int, v int, PRIMARY KEY (k, id)) '
          "PARTITION BY RANGE (k); "
          'CREATE TABLE "App Schema".low PARTITION OF "App Schema"."Events" '
          "FOR VALUES FROM (0) TO (10); "
          'CREATE TABLE "App Schema".high PARTITION OF "App Schema"."Events" '
          "FOR VALUES FROM (10) TO (20) PARTITION BY LIST (id); "
          'CREATE TABLE "App Schema".rest PARTITION OF "App Schema".high DEFAULT; '
          'INSERT INTO "App Schema"."Events" SELECT g, g % 20 FROM generate_series(1, 5000) g')
    result = api.backfill(settings, '"App Schema"."Events"', "v = k",
                          options=parse_options(f"batch-size=333 {FAST}"))
    assert result.table == '"App Schema"."Events"' and result.key_columns == ("k", "id")
    assert query('SELECT count(*) FROM "App Schema"."Events" WHERE v IS DISTINCT FROM k') == [
        (0,)]
    with pytest.raises(InputError, match=r'table "App Schema"\.events does not exist'):
        api.backfill(settings, '"App Schema"."events"', "v = k")


# -- the application writing meanwhile ------------------------------------------------------------


def test_rows_the_application_updates_meanwhile_are_each_updated_once_by_the_key_walk(
    settings, database_url, query
) -> None:
    query("CREATE TABLE t (id bigint PRIMARY KEY, a int, n int NOT NULL DEFAULT 0, "
          "orig bool NOT NULL DEFAULT false); "
          "INSERT INTO t SELECT g * 3, g, 0, true FROM generate_series(1, 30000) g; ANALYZE t")
    stop = threading.Event()

    def application(seed: int) -> None:
        rng = random.Random(seed)
        conn = psycopg2.connect(database_url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SET lock_timeout = '2s'")
            while not stop.is_set():
                key = rng.randrange(1, 30001) * 3
                try:
                    if rng.random() < 0.3:
                        cur.execute("INSERT INTO t (id, n) VALUES (%s, 1) ON CONFLICT DO NOTHING",
                                    (key + 1,))
                    elif rng.random() < 0.2:
                        cur.execute("DELETE FROM t WHERE id = %s", (key,))
                    else:
                        cur.execute("UPDATE t SET a = a + 1 WHERE id = %s", (key,))
                except psycopg2.errors.LockNotAvailable:
                    pass
        conn.close()

    threads = [threading.Thread(target=application, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    try:
        api.backfill(dataclasses.replace(settings, lock_timeout=0.2, lock_retries=50), "t",
                     "n = n + 1", "orig", options=parse_options("target=20ms pause=1ms"))
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert query("SELECT count(*) FROM t WHERE orig AND n <> 1") == [(0,)]
    assert query("SELECT count(*) FROM t WHERE NOT orig AND n <> 1") == [(0,)]


def test_a_row_the_application_moves_behind_a_ctid_walk_is_met_in_another_pass(
    settings, query
) -> None:
    """Without a key the walk goes by blocks; a row the application updates may move into a
    block already walked. The walk goes round again until a pass finds nothing to do."""
    query("CREATE TABLE h (a int NOT NULL, b int NOT NULL, pad text NOT NULL) "
          "WITH (autovacuum_enabled = off); "
          "INSERT INTO h SELECT g, 0, repeat('x', 100) FROM generate_series(1, 1000) g")
    (per_block,) = query("SELECT count(*) FROM h WHERE ctid < '(1,0)'")[0]
    # Ten full blocks; the first holds only rows done already, half of them deleted: the
    # only room for a row that moves.
    query(f"TRUNCATE h; INSERT INTO h SELECT g, CASE WHEN g <= {per_block} THEN g ELSE 0 END, "
          f"repeat('x', 100) FROM generate_series(1, {per_block * 10}) g; "
          f"DELETE FROM h WHERE a <= {per_block // 2}")
    query("VACUUM h")
    moved: list[str] = []

    def application_updates_a_row_ahead(batch) -> None:
        if batch.number == 1:  # block 0 walked; the row in block 5 moves into it
            moved.extend(row[0] for row in query(
                f"UPDATE h SET pad = repeat('y', 100) WHERE a = {per_block * 5 + 1} "
                "RETURNING ctid::text"))

    notes: list[str] = []
    api.backfill(settings, "h", "b = a", "b = 0", options=parse_options(f"batch-size=1 {FAST}"),
                 on_batch=application_updates_a_row_ahead, on_note=notes.append)
    assert moved and moved[0].startswith("(0,")
    assert query("SELECT count(*) FROM h WHERE b <> a") == [(0,)]
    assert sum("walking h again" in n for n in notes) == 2  # the last pass found nothing


def test_a_ctid_walk_batch_holds_about_batch_size_rows_not_blocks(settings, query) -> None:
    query("CREATE TABLE h (a int, b int); "
          "INSERT INTO h SELECT g, NULL FROM generate_series(1, 60000) g; ANALYZE h")
    rows: list[int] = []
    notes: list[str] = []
    api.backfill(settings, "h", "b = a", "b IS NULL",
                 options=parse_options("batch-size=1000 pause=0"),
                 on_batch=lambda batch: rows.append(batch.rows), on_note=notes.append)
    assert max(rows) < 2000  # 1000 rows are ~5 blocks; 1000 blocks held the whole table
    assert sum(rows) == 60000
    assert sum("vacuumed" in n for n in notes) <= 6  # after every 20% of the rows, not batches
    adaptive: list[int] = []
    query("UPDATE h SET b = NULL")
    api.backfill(settings, "h", "b = a + 1", "b IS NULL", options=parse_options(FAST),
                 on_batch=lambda batch: adaptive.append(batch.rows))
    assert adaptive[0] <= 1500  # the first adaptive batch: about 1,000 rows


@pytest.mark.parametrize(("assignments", "where"), [
    ("n = n + 1", "a > 0"),              # never false: every row would be bumped again
    ("b = nullif(a, 5)", "b IS NULL"),   # still true for one row: it would be met again
])
def test_a_ctid_walk_whose_where_still_holds_for_a_row_it_updated_stops_before_any_harm(
    settings, query, assignments, where
) -> None:
    query("CREATE TABLE h (a int, b int, n int NOT NULL DEFAULT 0); "
          "INSERT INTO h SELECT g, NULL FROM generate_series(1, 5000) g")
    with pytest.raises(InputError, match="WHERE still holds for") as caught:
        api.backfill(settings, "h", assignments, where, options=parse_options(FAST))
    assert "this batch was rolled back" in caught.value.hint
    assert query("SELECT count(*) FROM h WHERE n <> 0 OR b IS NOT NULL") == [(0,)]
    assert query("SELECT status FROM pgshift.backfill") == [("failed",)]


def test_a_ctid_walk_checks_a_where_over_other_tables_with_them(settings, query) -> None:
    query("CREATE TABLE h (a int, n int NOT NULL DEFAULT 0); CREATE TABLE o (a int, z int); "
          "INSERT INTO h SELECT g FROM generate_series(1, 5000) g; "
          "INSERT INTO o SELECT g, g * 10 FROM generate_series(1, 5000) g")
    result = api.backfill(settings, "h AS x", "n = n + z FROM o", "o.a = x.a AND x.n = 0",
                          options=parse_options(FAST))
    assert result.rows == 5000
    assert query("SELECT count(*) FROM h WHERE n <> a * 10") == [(0,)]


def test_a_table_others_inherit_from_is_not_walked_by_ctid_over_its_own_blocks_only(
    settings, query
) -> None:
    """Its ctid ranges cover its own blocks; the UPDATE would take the inheriting tables' rows
    whole, in one batch."""
    query("CREATE TABLE par (a int, v int); CREATE TABLE chi () INHERITS (par); "
          "INSERT INTO chi SELECT g, NULL FROM generate_series(1, 5000) g")
    with pytest.raises(InputError, match="other tables inherit from it") as caught:
        api.backfill(settings, "par", "v = 1", "v IS NULL")
    assert "ONLY par" in caught.value.hint
    assert query("SELECT count(*) FROM par WHERE v IS NULL") == [(5000,)]
    api.backfill(settings, "chi", "v = 1", "v IS NULL", options=parse_options(FAST))
    api.backfill(settings, "ONLY par", "v = 1", "v IS NULL", options=parse_options(FAST))
    assert query("SELECT count(*) FROM par WHERE v IS NULL") == [(0,)]


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("assignments", "where", "message"), [
    ("nope = 1", None, 'column "nope" of relation "t" does not exist'),
    ("n = 'x'", None, 'invalid input syntax for type integer: "x"'),
    ("n = nosuch(n)", None, r"function nosuch\(integer\) does not exist"),
    ("n = 1 / 0", None, "division by zero"),
    ("n = n", "nope > 0", 'column "nope" does not exist'),
    ("n = n", "n", "argument of AND must be type boolean"),
    ("n = n", "x.n > 0", 'missing FROM-clause entry for table "x"'),
])
def test_an_update_the_server_refuses_is_bad_input_before_any_batch(
    settings, table_t_with_counter, query, assignments, where, message
) -> None:
    with pytest.raises(InputError, match=message) as caught:
        api.backfill(settings, "t", assignments, where)
    assert "nothing was updated" in caught.value.hint
    assert query("SELECT to_regnamespace('pgshift')") == [(None,)]  # no checkpoint either
    assert query("SELECT max(n) FROM t") == [(0,)]


@pytest.mark.parametrize(("table", "assignments", "where", "message"), [
    ("nosuch", "n = 1", None, "table nosuch does not exist"),
    ("app.t", "n = 1", None, "table app.t does not exist"),
    ("bare", "n = 1", None, "has no primary key"),
    ("t", "nope = 1", None, 'column "nope" of relation "t" does not exist'),
    ("t", "n = n", "nope", 'column "nope" does not exist'),
])
def test_bad_input_leaves_the_database_as_it_was_without_even_pgshifts_tables(
    settings, table_t_with_counter, query, table, assignments, where, message
) -> None:
    query("CREATE TABLE bare (n int)")
    before = query("SELECT count(*) FROM pg_class")
    with pytest.raises(InputError, match=message):
        api.backfill(settings, table, assignments, where, again=table == "t")
    assert query("SELECT to_regnamespace('pgshift')") == [(None,)]
    assert query("SELECT count(*) FROM pg_class") == before


def test_a_migration_backfill_the_server_refuses_names_its_file_and_line(
    settings, write_migration, table_t_with_counter
) -> None:
    write_migration("V1__bad.sql", "-- pgshift:backfill\nUPDATE t SET nope = 1;", "SELECT 1;",
                    header="-- pgshift:no-transaction")
    with pytest.raises(InputError, match=r'V1__bad\.sql:3: .*column "nope"'):
        api.up(settings)


@pytest.mark.parametrize(("args", "message"), [
    (["--where", ""], "--where is empty"),
    (["--where", "  "], "--where is empty"),
    (["--set", " "], "--set is empty"),
    (["--batch-size", "auto target=5"], "batch-size needs a whole number"),  # one value each
    (["--batch-size", "0"], "batch-size needs a whole number"),
    (["--pause", "-1"], "a duration cannot be negative"),
    (["--target", "0"], "target must be above 0"),
    (["--max-lag", "nan"], "not a duration"),
    (["--vacuum", "sometimes"], "vacuum needs a whole number"),
    (["--set", "nope = 1"], 'column "nope" of relation "t" does not exist'),
    (["--set", "n = 1; DROP TABLE t"], "a backfill must be a single UPDATE statement"),
])
def test_bad_backfill_input_is_one_line_and_exit_2_with_the_table_unchanged(
    table_t_with_counter, query, cli, args, message
) -> None:
    base = ["backfill", "t", "--set", "n = n + 1"]
    if "--set" in args:
        base = base[:2]
    result = cli(*base, *args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("pgshift: error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert query("SELECT max(n) FROM t") == [(0,)]
    assert query("SELECT to_regnamespace('pgshift')") == [(None,)]  # not even installed


# -- options ----------------------------------------------------------------------------------


def test_max_batch_bounds_every_batch_the_first_included(settings, table_t_with_counter) -> None:
    sizes: list[int] = []
    api.backfill(settings, "t", "n = n + 1", options=parse_options(f"max-batch=40 {FAST}"),
                 on_batch=lambda batch: sizes.append(batch.keys))
    assert max(sizes) <= 40 and sum(sizes) == 20001


def holding_row_30(database_url: str, seconds: float) -> threading.Thread:
    """Another session locks row 30 of t for ``seconds``: started, and holding it."""
    ready = threading.Event()

    def hold_a_row() -> None:
        conn = psycopg2.connect(database_url)
        with conn.cursor() as cur:
            cur.execute("SELECT * FROM t WHERE id = 30 FOR UPDATE")
            ready.set()
            time.sleep(seconds)
        conn.rollback()
        conn.close()

    holder = threading.Thread(target=hold_a_row)
    holder.start()
    ready.wait(5)
    return holder


def test_a_lock_retry_never_makes_a_fixed_batch_bigger(
    settings, table_t_with_counter, database_url
) -> None:
    holder = holding_row_30(database_url, 0.6)
    sizes: list[int] = []
    notes: list[str] = []
    fast = dataclasses.replace(settings, lock_timeout=0.05, lock_retries=30)
    api.backfill(fast, "t", "n = n + 1", "id <= 200",
                 options=parse_options(f"batch-size=20 {FAST}"),
                 on_batch=lambda batch: sizes.append(batch.size), on_note=notes.append)
    holder.join()
    assert any("LockNotAvailable" in n for n in notes)
    assert max(sizes) <= 20


def test_lock_timeout_0_lets_a_batch_wait_for_its_rows_as_postgresql_reads_it(
    settings, table_t_with_counter, database_url, query
) -> None:
    """0 is no lock_timeout, as for the runner's statements; not 1 ms and a failure."""
    holder = holding_row_30(database_url, 0.5)
    patient = dataclasses.replace(settings, lock_timeout=0.0, lock_retries=0)
    api.backfill(patient, "t", "n = n + 1", options=parse_options(FAST))
    holder.join()
    assert query("SELECT min(n), max(n) FROM t") == [(1, 1)]


def test_a_where_that_matches_nothing_walks_the_table_and_updates_nothing(
    settings, table_t_with_counter, query
) -> None:
    result = api.backfill(settings, "t", "n = n + 1", "n < 0", options=parse_options(FAST))
    assert result.rows == 0 and result.keys == 20001
    assert query("SELECT status, rows_done FROM pgshift.backfill") == [("done", 0)]


# -- progress -------------------------------------------------------------------------------------


def test_the_eta_counts_the_pause_between_batches(settings, table_t_with_counter) -> None:
    etas: dict[int, float | None] = {}
    api.backfill(settings, "t", "n = n + 1",
                 options=parse_options("batch-size=1000 pause=50ms vacuum=off"),
                 on_batch=lambda batch: etas.setdefault(batch.number, batch.eta_seconds))
    # After batch 5, 15 batches remain, each at least a 50 ms pause away.
    assert etas[5] is not None and etas[5] >= 0.6


def test_progress_lines_say_the_keys_of_each_batch(table_t_with_counter, cli) -> None:
    result = cli("backfill", "t", "--set", "n = n + 1", "--batch-size", "5000", "--pause", "0",
                 "--progress", "lines")
    assert result.returncode == 0, result.stderr
    assert "batch 1 (5000 keys)" in result.stdout
    assert "Backfilled t: 20001 row(s) in 5 batch(es)" in result.stdout


def test_a_lagging_standby_holds_the_backfill_back_and_a_role_blind_to_it_is_told(
    pg_server_factory, tmp_path
) -> None:
    from pgshift.config import Settings

    primary = pg_server_factory()
    pg_server_factory(standby_of=primary, settings={"recovery_min_apply_delay": "2s",
                                                    "wal_receiver_status_interval": "1s"})
    conn = psycopg2.connect(primary.url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE ROLE app LOGIN; GRANT CREATE ON DATABASE postgres TO app; "
                    "CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL DEFAULT 0); "
                    "INSERT INTO t (id) SELECT g FROM generate_series(1, 6000) g; "
                    "ALTER TABLE t OWNER TO app")
    conn.close()
    settings = Settings(url=primary.url.replace("postgres@", "app@"), dir=tmp_path, lint=False)
    blind: list[str] = []
    api.backfill(settings, "t", "n = n + 2", options=parse_options("batch-size=1000 max-lag=1ms"),
                 on_note=blind.append)
    assert any("cannot see the standbys' replication lag" in n for n in blind)
    assert not any(n.startswith("replication lag") for n in blind)

    class Waiting(Exception):
        pass

    def stop_once_waiting(text: str) -> None:
        if text.startswith("replication lag") and "waiting" in text:
            raise Waiting(text)

    # 60 batches, 100 ms apart: the standby reports its lag (2 s) well before the last one.
    with pytest.raises(Waiting, match=r"replication lag [\d.]+s > 0\.5s: waiting"):
        api.backfill(dataclasses.replace(settings, url=primary.url), "t", "n = n + 1",
                     options=parse_options("batch-size=100 pause=100ms max-lag=500ms"),
                     on_note=stop_once_waiting)
