"""Backfill checkpoints in ``<schema>.backfill``: resume after a kill, progress for status/ps.

Every batch updates its row **in the batch's own transaction**, so the checkpoint says exactly
which keys are done: a killed run loses nothing and redoes nothing. ``key_columns`` and
``walk`` say in which key's order, and on which table: a run resumed after the table's key
changed (its columns, their types or collations) or on another table is refused (see
``begin``).
The table is created by ``pgshift.state.upgrades.install`` (schema version 2). One row per
backfill:

================= ============ ==============================================================
column            type         meaning
================= ============ ==============================================================
id                text PK      ``<history key>:<up|down>:<statement index>`` for a migration's
                               backfill, ``cli:<hash of the statement>`` for a one-off one
migration         text         history key of the migration (NULL for one-off backfills)
table_name        text         the table being updated, as written (``schema.table``)
statement         text         the UPDATE, as written
checksum          text         SHA-256 of the statement as pglast prints it: a changed
                               statement starts over (respacing it changes nothing)
key_columns       text[]       the keys walked: the primary key's columns, or ``{ctid}``
walk              text         the table's oid and the key's types and collations, in order
                               (``16384:bigint``, ``16384:ctid``; see
                               ``pgshift.backfill.identity``), NULL when an earlier pgshift
                               wrote the row (schema version 6)
last_key          text[]       the last key done (as text), NULL before the first batch;
                               for ``ctid`` the next block number to do
keys_total        bigint       keys to walk (estimate: reltuples scaled to the table's size
                               now; for ctid its blocks, in every pass)
keys_done         bigint       keys walked so far
rows_done         bigint       rows updated so far (keys matching the predicate)
batches           integer      batches committed
batch_size        integer      keys in the last batch
rows_per_second   float8       recent update rate
keys_per_second   float8       recent walk rate (ETA = (keys_total - keys_done) / this)
status            text         ``running``, ``done`` or ``failed`` (``done`` commits with the
                               last batch); a ``running`` row whose
                               ``pid`` is gone from pg_stat_activity was interrupted
pid               integer      backend pid of the connection running the batches: only it
                               writes checkpoints (``checkpoint_sql``), and a batch whose
                               row is gone or another pid's is rolled back
started_at        timestamptz  first start
updated_at        timestamptz  last checkpoint
finished_at       timestamptz  when it ended (done or failed)
error             text         the failure, for ``failed``
================= ============ ==============================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg2 import sql

from pgshift.errors import InputError
from pgshift.state.history import table

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

_FIELDS = ("id, migration, table_name, key_columns, last_key, keys_total, keys_done, rows_done, "
           "batches, batch_size, rows_per_second, keys_per_second, status, started_at, "
           "updated_at, finished_at, error")


@dataclass(frozen=True)
class BackfillProgress:
    """One backfill's checkpoint, as status and ps show it."""

    id: str
    migration: str | None
    table_name: str
    key_columns: list[str]
    last_key: list[str] | None
    keys_total: int | None
    keys_done: int
    rows_done: int
    batches: int
    batch_size: int | None
    rows_per_second: float | None
    keys_per_second: float | None
    status: str  # running, interrupted, done, failed
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    error: str | None

    @property
    def fraction(self) -> float | None:
        if not self.keys_total:
            return 1.0 if self.status == "done" else None
        return min(1.0, self.keys_done / self.keys_total)

    @property
    def eta_seconds(self) -> float | None:
        if self.status == "done":
            return 0.0
        if not self.keys_total or not self.keys_per_second:
            return None
        return max(0.0, self.keys_total - self.keys_done) / self.keys_per_second


def statement_checksum(text: str) -> str:
    """SHA-256 of the statement as pglast prints it: respacing it keeps it the same backfill."""
    from pgshift.backfill.statement import canonical

    return _sha256(canonical(text))


def _sha256(text: str) -> str:
    import hashlib  # here: status and ps read progress without hashing (OpenSSL loads: 2 ms)

    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def job_id(statement: str, migration_key: str | None = None, direction: str = "up",
           index: int = 0) -> str:
    if migration_key is not None:
        return f"{migration_key}:{direction}:{index}"
    return f"cli:{statement_checksum(statement)[:16]}"


@dataclass(frozen=True)
class Checkpoint:
    """Where a run goes on from: the last key done (None: the first), the totals so far, and
    whether the run it continues had already finished."""

    last_key: list[str] | None = None
    keys_done: int = 0
    rows_done: int = 0
    batches: int = 0
    done: bool = False
    started_over: tuple[int, int] | None = None  # ``again``: the earlier run's rows, batches
    note: str | None = None  # why the run starts over from the first key, when it is not plain


def begin(cur: Any, schema: str, *, id: str, migration: str | None, table_name: str,
          statement: str, key_columns: list[str], walk: str, keys_total: int | None,
          resume: bool, again: bool = False) -> Checkpoint:
    """Start or resume ``id``; returns the checkpoint to go on from.

    With ``resume``, a row of the same statement (however spaced) and key is gone on from:
    an unfinished one from its last key; a finished one is returned as it is (``done``), with
    nothing left to do: its rows must not be updated twice (a run killed right after its last
    batch, a command run again to make sure), whatever the table's key is now. Anything else
    (another statement, ``resume`` False) starts from the first key; a migration's backfill
    resumed with no row at all does too, and its ``note`` says so (the row may have been
    deleted: nothing then says which rows are done).

    ``again`` (asked for on purpose) starts a finished one over from the first key. It is
    refused (InputError, nothing changed) while a run of the statement stopped part-way: its
    rows up to the checkpoint are done, and starting over would update them twice; that run
    resumes (without ``again``), and may then run again once it is done.

    A run that stopped part-way under another key (``key_columns`` differ: the primary key
    changed, or the table gained or lost one, so the walk switched between keyset and ctid;
    or ``walk`` differs: the key's type or collation changed, see
    ``pgshift.backfill.identity``) or on another table (``walk``'s oid differs) cannot
    resume: its last key means nothing there, and going on from it would skip rows or update
    some twice. See ``_rekeyed``: it is refused (InputError, nothing changed), unless
    ``again`` or the old walk was by ctid (then it starts over). A checkpoint without a
    ``walk`` (an earlier pgshift's) resumes as before, and records the walk from then on.
    """
    cur.execute(sql.SQL("SELECT checksum, status, key_columns, last_key, keys_done, rows_done, "
                        "batches, walk FROM {} WHERE id = %s").format(table(schema, "backfill")),
                (id,))
    row = cur.fetchone()
    checksum = statement_checksum(statement)
    # The same statement: its checksum, or the raw text's, as earlier versions wrote it.
    same_text = row is not None and row[0] in (checksum, _sha256(statement))
    finished = same_text and (row[1] == "done" or row[3] == [])  # []: see _key
    changed = (_changed(cur, row, table_name=table_name, key_columns=key_columns, walk=walk)
               if same_text and not finished else None)
    same = same_text and changed is None
    part_way = same_text and not finished and row[6] > 0
    started_over, note = None, None
    if again and finished:
        started_over = (row[5], row[6])
    elif part_way and changed is not None and (again or resume):
        started_over, note = _rekeyed(row, changed, id=id, schema=schema, migration=migration,
                                      table_name=table_name, again=again)
    elif again and same and row[6]:
        raise InputError(
            f"this backfill of {table_name} stopped part-way ({row[5]} row(s) in {row[6]} "
            "batch(es)): --again starts over only a finished one",
            hint="run it without --again: it resumes from its checkpoint and updates no row "
                 "twice; once it is done, --again starts it over")
    elif resume and finished:
        return Checkpoint(_key(row[3]), row[4], row[5], row[6], done=True)
    elif resume and row is None and migration is not None:  # a one-off's first run has none
        note = (f"the backfill of {table_name} resumes with no checkpoint: starting it from "
                "the first key (a run killed before its first batch leaves none; if its "
                "checkpoint was deleted, the rows it did are updated again unless the WHERE "
                "skips them)")
    if resume and same and row[1] != "done" and note is None:
        cur.execute(sql.SQL("UPDATE {} SET status = 'running', pid = pg_backend_pid(), "
                            "error = NULL, finished_at = NULL, updated_at = now(), "
                            "keys_total = coalesce(%s, keys_total), walk = %s WHERE id = %s"
                            ).format(table(schema, "backfill")), (keys_total, walk, id))
        return Checkpoint(_key(row[3]), row[4], row[5], row[6])
    _start_over(cur, schema, id=id, migration=migration, table_name=table_name,
                statement=statement, checksum=checksum, key_columns=key_columns, walk=walk,
                keys_total=keys_total)
    return Checkpoint(started_over=started_over, note=note)


def _walk_name(key_columns: list[str]) -> str:
    return ("ctid ranges (no primary key)" if key_columns == ["ctid"]
            else f"its key ({', '.join(key_columns)})")


# What changed since a checkpoint: (said after its walk; where its last key means nothing; how
# to put it back, None when it cannot be).
Change = tuple[str, str, str | None]


def _changed(cur: Any, row: tuple[Any, ...], *, table_name: str, key_columns: list[str],
             walk: str) -> Change | None:
    """Why the checkpoint ``row`` was taken walking another table or key than ``walk`` on
    ``key_columns``; None when its last key means the same now."""
    from pgshift.backfill import identity

    old = list(row[2])
    another = identity.another_table(cur, row[7], walk, table_name=table_name)
    if another is not None:
        return another
    if old != key_columns:
        return (f"{table_name} is now walked by {_walk_name(key_columns)}",
                "in the new key's order", f"put the key ({', '.join(old)}) back")
    return identity.retyped(row[7], walk)


def _rekeyed(row: tuple[Any, ...], changed: Change, *, id: str, schema: str,
             migration: str | None, table_name: str, again: bool
             ) -> tuple[tuple[int, int] | None, str]:
    """A run that stopped part-way walking ``row``'s key, which the table no longer has, or
    another table (``changed`` says what changed): (with ``again``: the rows and batches it
    did; why it starts over from the first key), or InputError.

    Starting over is provably safe only from a ctid walk: each of its batches checked that
    the WHERE is false for every row it wrote, so the new walk passes over the rows done
    (the application may have made the WHERE hold again meanwhile: as a ctid walk's next pass
    would, the new walk then updates them). From a key walk nothing says the WHERE skips the
    rows done (``SET n = n + 1``): refused, unless ``again`` asks for it anyway."""
    old, rows, batches = list(row[2]), row[5], row[6]
    now, where, put_back = changed
    stopped = (f"this backfill of {table_name} stopped part-way ({rows} row(s) in {batches} "
               f"batch(es)) walking {_walk_name(old)}")
    if again:
        return (rows, batches), (
            f"{stopped}; {now}: starting it over from the first key (--again): a row it did "
            "is updated again unless the WHERE skips it")
    if old == ["ctid"]:
        return None, (
            f"{stopped}; {now}: starting it over from the first key, which updates none of "
            "those rows twice: the ctid walk checked that the WHERE is false for each row it "
            "updated")
    start_over = ("run it with --again to start over from the first key (it updates the rows "
                  "done again unless the WHERE skips them)" if migration is None else
                  "if updating the rows done again is harmless or the WHERE skips them, "
                  f"delete its checkpoint (DELETE FROM {schema}.backfill WHERE id = '{id}') "
                  "to start it over")
    resume = "" if put_back is None else (
        f"{put_back} and run it again to resume; or " if migration is None else
        f"{put_back} and run it again to resume ('pgshift up'); or, ")
    raise InputError(f"{stopped}; {now}: its checkpoint means nothing {where}",
                     hint=resume + start_over)


def _start_over(cur: Any, schema: str, *, id: str, migration: str | None, table_name: str,
                statement: str, checksum: str, key_columns: list[str], walk: str,
                keys_total: int | None) -> None:
    """The checkpoint row of a run from the first key, in place of an earlier one."""
    cur.execute(sql.SQL(
        "INSERT INTO {} AS b (id, migration, table_name, statement, checksum, key_columns, "
        "walk, keys_total, status, pid) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'running', "
        "pg_backend_pid()) ON CONFLICT (id) DO UPDATE SET migration = excluded.migration, "
        "table_name = excluded.table_name, statement = excluded.statement, "
        "checksum = excluded.checksum, key_columns = excluded.key_columns, "
        "walk = excluded.walk, last_key = NULL, "
        "keys_total = excluded.keys_total, keys_done = 0, rows_done = 0, batches = 0, "
        "batch_size = NULL, rows_per_second = NULL, keys_per_second = NULL, status = 'running', "
        "pid = pg_backend_pid(), started_at = now(), updated_at = now(), finished_at = NULL, "
        "error = NULL").format(table(schema, "backfill")),
        (id, migration, table_name, statement, checksum, key_columns, walk, keys_total))


def _key(value: list[str] | None) -> list[str] | None:
    """A stored last key. Earlier versions wrote an empty array after a last batch that was
    also the first, and marked the run done only later: such a run is done."""
    return list(value) if value else None


def checkpoint_sql(schema: str, id: str, *, last_key: list[str] | None, keys: int, rows: int,
                   batch_size: int, keys_total: int | None, rows_per_second: float | None,
                   keys_per_second: float | None, batches: int, done: bool = False
                   ) -> sql.Composed:
    """The UPDATE recording one more batch; run it inside the batch's transaction. The last
    batch (``done``) also marks the run finished, with the rows it updated: a kill after its
    COMMIT leaves nothing to redo.

    It updates the row only while it is this session's run at ``batches`` (the count before
    this batch): its row count is 0 when the row was deleted or another run took it over
    (``begin`` from another session, which sets ``pid``), and the caller must roll back."""
    finished = sql.SQL(", status = 'done', finished_at = now()" if done else "")
    return sql.SQL(
        "UPDATE {t} SET last_key = {last}, keys_done = keys_done + {keys}, "
        "rows_done = rows_done + {rows}, batches = batches + 1, batch_size = {size}, "
        "keys_total = coalesce({total}, keys_total), rows_per_second = {rps}, "
        "keys_per_second = {kps}, updated_at = now(){finished} WHERE id = {id} "
        "AND pid = pg_backend_pid() AND batches = {batches}"
    ).format(t=table(schema, "backfill"), last=sql.Literal(last_key), keys=sql.Literal(keys),
             rows=sql.Literal(rows), size=sql.Literal(batch_size), total=sql.Literal(keys_total),
             rps=sql.Literal(rows_per_second), kps=sql.Literal(keys_per_second),
             finished=finished, id=sql.Literal(id), batches=sql.Literal(batches))


def finish(cur: Any, schema: str, id: str, *, status: str, error: str | None = None) -> None:
    """End this session's run of ``id``; a row another run took over is left to that run."""
    cur.execute(sql.SQL("UPDATE {} SET status = %s, error = %s, finished_at = now(), "
                        "updated_at = now() WHERE id = %s AND pid = pg_backend_pid()").format(
        table(schema, "backfill")), (status, error, id))


def owner(cur: Any, schema: str, id: str) -> tuple[int | None, int] | None:
    """Whose run ``id``'s row is now: (backend pid, batches); None when there is no row."""
    cur.execute(sql.SQL("SELECT pid, batches FROM {} WHERE id = %s").format(
        table(schema, "backfill")), (id,))
    row = cur.fetchone()
    return None if row is None else (row[0], row[1])


def forget(cur: Any, schema: str, migration_key: str) -> None:
    """Drop a migration's checkpoints (when it is rolled back, its backfills start over)."""
    cur.execute(sql.SQL("DELETE FROM {} WHERE migration = %s").format(table(schema, "backfill")),
                (migration_key,))


def read_progress(conn: Connection, schema: str, *, recent: str = "1 hour"
                  ) -> list[BackfillProgress]:
    """Unfinished backfills, and those that finished within ``recent``; oldest first.

    Reads only: an empty list when pgshift (or its backfill table) is not installed.
    """
    import psycopg2.errors

    with conn.cursor() as cur:
        live = ("CASE WHEN b.status = 'running' AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a "
                "WHERE a.pid = b.pid) THEN 'interrupted' ELSE b.status END")
        columns = _FIELDS.replace("status", live)
        query = sql.SQL("SELECT " + columns + " FROM {} b WHERE b.status <> 'done' "
                        "OR b.finished_at > now() - %s::interval ORDER BY b.started_at, b.id"
                        ).format(table(schema, "backfill"))
        try:  # no table (pgshift not installed here) is rare: an exception, not a round trip
            cur.execute(query, (recent,))
        except psycopg2.errors.UndefinedTable:
            return []
        return [BackfillProgress(*row) for row in cur.fetchall()]
