"""One migration in a psql script: guarded by its history row, read just before it, and
recorded as pgshift records it: with its statements in one transaction, or (no-transaction)
statement by statement, counting those done so that a new run resumes after them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pgshift.budget import Limits
from pgshift.script_statements import comment, statement_lines
from pgshift.state import history

if TYPE_CHECKING:
    from pgshift.migrations.model import Migration
    from pgshift.migrations.statements import Statement
    from pgshift.script import ScriptBuilder

_DURATION_SQL = "(extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint"


def write_transactional(builder: ScriptBuilder, migration: Migration, *,
                        own_transaction: bool) -> None:
    """Guarded by its row; its statements and its history row in one transaction."""
    _open(builder, migration, "one transaction")
    if own_transaction:
        builder.emit("BEGIN;")
    builder.emit(Limits.of(migration, builder.settings).set_sql("LOCAL") + ";",
                 f"SET LOCAL application_name = {_app_name(builder, migration)};")
    builder.emit(*statement_lines(builder.bodies[migration.name]))
    builder.emit(_record(builder, migration) + ";")
    if own_transaction:
        builder.emit("COMMIT;")
    else:  # one transaction for all: its SET LOCALs must not reach the next (see Runner)
        from pgshift.migrations.statements import local_reset_sql, local_settings

        names = local_settings(builder.bodies[migration.name])
        if names:
            builder.emit(local_reset_sql(names) + ";")
    builder.emit("RESET search_path;")  # as the runner: a function it called may have set it
    _close(builder, migration)


def write_steps(builder: ScriptBuilder, migration: Migration) -> None:
    """Statement by statement in autocommit, counted in its row (``running`` or
    ``reverting``) so that a new run resumes after the ones done."""
    key = builder.literal(history.key_of(migration))
    marker = "running" if builder.direction == "up" else "reverting"
    statements = builder.bodies[migration.name]
    # The hash of the statements done after each one (see Runner): a row stopped part-way
    # whose statements done are not this file's first ones stops the script, as 'up' stops.
    digest, hashes = history.done_digest([]), ["NULL"]
    for statement in statements:
        history.add_done(digest, statement.text)
        hashes.append(builder.literal(digest.hexdigest()))
    expected = "CASE :pgshift_done " + " ".join(
        f"WHEN {n} THEN {h}" for n, h in enumerate(hashes)) + " END"
    message = builder.literal(f"pgshift: {migration.name} changed above where its interrupted "
                              "run stopped: restore the statements it ran")
    _open(builder, migration, "no transaction, statement by statement")
    builder.emit(
        "SELECT coalesce(max(statements_done), 0) AS pgshift_done, count(*) > 0 AS "
        f"pgshift_resuming, coalesce(bool_or(done_sha IS NOT NULL), false) AS pgshift_hashed "
        f"FROM {builder.table} WHERE key = {key} AND status = '{marker}' \\gset",
        f"SELECT :'pgshift_hashed'::boolean AND (SELECT done_sha FROM {builder.table} WHERE key "
        f"= {key}) IS DISTINCT FROM {expected} AS pgshift_drift \\gset",
        "\\if :pgshift_drift",
        f"DO $pgshift$ BEGIN RAISE EXCEPTION {message}; END $pgshift$;", "\\endif",
        f"SET application_name = {_app_name(builder, migration)};",
        history.upsert_sql(builder.settings.schema, migration, marker,
                           duration_sql="NULL").as_string(builder.conn) + ";",
        f"UPDATE {builder.table} SET statements_done = :pgshift_done, done_sha = {expected} "
        f"WHERE key = {key};",
        Limits.of(migration, builder.settings).set_sql("SESSION") + ";",
    )
    for index, statement in enumerate(statements):
        _write_step(builder, statement, index, key, hashes[index + 1])
    if builder.direction == "up":
        done = history.upsert_sql(builder.settings.schema, migration, "applied",
                                  duration_sql="NULL")
    else:
        done = history.delete_sql(builder.settings.schema, history.key_of(migration))
    builder.emit(done.as_string(builder.conn) + ";",
                 "RESET lock_timeout;", "RESET statement_timeout;", "RESET search_path;",
                 f"SET application_name = {builder.script_name()};")
    _close(builder, migration)


def _write_step(builder: ScriptBuilder, statement: Statement, index: int, key: str,
                done_sha: str) -> None:
    from pgshift.indexes import build_lookup_sql, dropped_sql

    with builder.conn.cursor() as cur:
        lookup = build_lookup_sql(cur, statement)
        done_before = (  # resumed at an index built, or dropped, before an interruption
            f"EXISTS (SELECT FROM ({lookup}) AS found WHERE found.indisvalid)"
            if lookup is not None else dropped_sql(cur, statement))
    guard = f":pgshift_done <= {index}"
    if done_before is not None:
        guard += (f" AND NOT (:'pgshift_resuming'::boolean AND :pgshift_done = {index} "
                  f"AND {done_before})")
    builder.emit(f"SELECT {guard} AS pgshift_step \\gset", "\\if :pgshift_step")
    if lookup is not None:  # an INVALID index of a failed build: dropped, then built again
        builder.emit("SELECT format('DROP INDEX CONCURRENTLY %I.%I', found.nspname, "
                     f"found.relname) FROM ({lookup}) AS found WHERE NOT found.indisvalid "
                     "\\gexec")
    builder.emit(*statement_lines([statement]))
    builder.emit(f"UPDATE {builder.table} SET statements_done = {index + 1}, done_sha = "
                 f"{done_sha} WHERE key = {key};",
                 "\\endif")


def _open(builder: ScriptBuilder, migration: Migration, mode: str) -> None:
    verb = "applying" if builder.direction == "up" else "rolling back"
    builder.emit("", comment(f"{migration.label} {migration.description} ({migration.name}): "
                             f"{mode}"),
                 f"SELECT {still_to_run(builder, migration)} AS pgshift_run \\gset",
                 "\\if :pgshift_run", f"\\echo {builder.literal(f'{migration.name}: {verb}')}")


def still_to_run(builder: ScriptBuilder, migration: Migration) -> str:
    """SQL: whether ``migration`` is still to run (or roll back) here."""
    key = builder.literal(history.key_of(migration))
    if builder.direction == "down":
        statuses = ("('applied', 'reverting')" if not migration.transactional_in("down")
                    else "('applied')")
        check = (f"EXISTS (SELECT FROM {builder.table} WHERE key = {key} "
                 f"AND status IN {statuses})")
    elif migration.kind == "baseline":  # only a database with no migration yet
        check = (f"NOT EXISTS (SELECT FROM {builder.table} WHERE kind IN ('versioned', "
                 "'baseline') AND status <> 'failed')")
    else:
        same = (f" AND checksum = {builder.literal(migration.checksum)}"
                if migration.version is None else "")  # a repeatable runs again if changed
        check = (f"NOT EXISTS (SELECT FROM {builder.table} WHERE key = {key} "
                 f"AND status = 'applied'{same})")
        if migration.version is not None:  # nor one that a baseline built here holds
            check += f" AND NOT {builder.guards.holds(migration)}"
    return check


def _close(builder: ScriptBuilder, migration: Migration) -> None:
    from pgshift.migrations.statements import reset_sql, session_settings

    names = session_settings(builder.bodies[migration.name])
    if names:  # as pgshift does: the next statements run without them
        builder.emit(reset_sql(names) + ";")
    state = "already applied" if builder.direction == "up" else "not applied"
    if migration.kind == "baseline" and builder.direction == "up":
        state = "only for a database without migrations"
    builder.emit(f"UPDATE {builder.runs} SET migrations = migrations || "
                 f"ARRAY[{builder.literal(migration.name)}], keys = keys || "
                 f"ARRAY[{builder.literal(history.key_of(migration))}] "
                 "WHERE id = :pgshift_run_id;",
                 "\\else", f"\\echo {builder.literal(f'{migration.name}: {state}; skipped')}",
                 "\\endif")


def _record(builder: ScriptBuilder, migration: Migration) -> str:
    if builder.direction == "down":
        return history.delete_sql(builder.settings.schema, history.key_of(migration)
                                  ).as_string(builder.conn)
    return history.upsert_sql(builder.settings.schema, migration, "applied",
                              duration_sql=_DURATION_SQL).as_string(builder.conn)


def _app_name(builder: ScriptBuilder, migration: Migration) -> str:
    """As the runner names its session, so that ``pgshift ps`` shows the migration."""
    return builder.literal(
        f"{builder.settings.application_name} {builder.direction} {migration.name}")
