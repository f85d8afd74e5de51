"""``pgshift squash``: write a baseline migration (``B{version}__….sql``) that builds, in one
file, what the versioned migrations up to a version build.

A team that deploys many times a day has thousands of migrations after a few years, and every
new database (a developer's, a CI job's, a preview environment's) replays them all. Like Rails'
schema load, Django's ``squashmigrations`` and Flyway's baseline migrations, a baseline lets a
new database start from the schema itself (see ``pgshift.plan`` for which database runs what).

The file is not written by hand, nor from the target:

1. The migrations up to the version run, as ``up`` runs them, on a scratch database (on the
   configured server, or with ``embedded`` on a throwaway one of the target's major version).
2. ``pg_dump`` writes that database's schema and rows (the rows the migrations inserted, such
   as lookup tables), pgshift's own schema left out, owners dropped. Its session settings
   become ``SET LOCAL``: they end with the baseline's transaction instead of changing the
   session the next migrations run in, and its timeouts are left to pgshift's.
3. The file runs, as ``up`` would run it, on a second scratch database: its schema must equal
   the first's (``pgshift.verify.snapshot``) and each table must hold as many rows. Only then is
   the file written. Nothing of the target is read or changed.

A baseline is irreversible (below it there is only an empty database). Refused before anything
is written, naming the file and line: migrations that use ``${placeholders}`` (the replay would
bake this machine's values into the file), and what ``pg_dump`` of one database cannot hold:
statements on databases, roles or tablespaces (``pgshift.verify.server_wide``), objects in
pgshift's own schema (left out of the dump), and settings, comments, grants or labels a migration
leaves on the database itself (found after each file is replayed: a ``DO`` block may make them).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from pgshift.errors import InputError

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.config import Settings
    from pgshift.migrations.model import Migration, Version

Progress = Callable[[str], None]

# Session settings pg_dump puts in front of its output that pgshift's own settings govern.
_TIMEOUTS = ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout",
             "transaction_timeout")
_SET = re.compile(r"SET\s+(?!LOCAL\b|SESSION\b)(?P<name>\w+)", re.IGNORECASE)
_SET_CONFIG = re.compile(r"(SELECT\s+pg_catalog\.set_config\('[^']*',\s*'[^']*',\s*)false\)",
                         re.IGNORECASE)

@dataclass(frozen=True)
class Squash:
    """What ``squash`` wrote: the baseline file, the migrations it stands for (in order), the
    tables it creates and those of them it fills, and where it was proven."""

    path: Path
    migrations: list[str]
    tables: int
    tables_with_rows: list[str]
    scratch: str


def squash_migrations(settings: Settings, migrations: Sequence[Migration],
                      target: Version | None, *, name: str, embedded: bool,
                      progress: Progress | None = None) -> Squash:
    """Write ``B{target}__{name}.sql`` into ``settings.dir`` (see the module's docstring)."""
    from pgshift.plan import build_plan, select_up

    say = progress or (lambda _text: None)
    ordered = [m for m in migrations if m.version is not None]
    if not any(m.kind == "versioned" for m in ordered):
        raise InputError("no versioned migrations to squash", path=settings.dir)
    if target is None:
        target = max(m.version for m in ordered if m.version is not None)
    selected = select_up(build_plan(migrations, []), target)
    if selected and selected[-1].kind == "baseline":
        raise InputError(f"already builds version {selected[-1].version}",
                         path=selected[-1].path, hint="add migrations after it first")
    _refuse_placeholders(selected)
    _refuse_outside_one_database(selected, settings.schema)
    path = settings.dir / f"B{selected[-1].version}__{_words(name)}.sql"
    if not os.access(settings.dir, os.W_OK):  # before the replay, not after it
        raise InputError("cannot write the baseline: permission denied", path=settings.dir)
    from pgshift.baseline_proof import each_callbacks, prove
    from pgshift.db import connect
    from pgshift.verify.replay import replay
    from pgshift.verify.scratch import ScratchDatabase
    from pgshift.verify.session import VerifyOptions, target_major

    callbacks = each_callbacks(settings)  # as 'up' runs each migration, and the baseline
    major = target_major(settings, VerifyOptions(embedded=embedded))
    with ScratchDatabase(settings, embedded=embedded, prefer_major=major) as scratch:
        built = connect(settings, url=scratch.url,
                        application_name=f"{settings.application_name} squash")
        try:
            replay(built, settings, selected, say, what="the migration",
                   callbacks=callbacks, after_each=_database_state_check(built))
            with built.cursor() as cur:  # pg_dump writes them with transaction control
                cur.execute("SELECT count(*) FROM pg_largeobject_metadata")
                if cur.fetchone()[0]:
                    raise InputError("the migrations make large objects (lo_*), which a "
                                     "baseline cannot hold",
                                     hint="squash up to a version before the first that makes "
                                          "one (--to)")
            roles = scratch.new_roles()
            if roles:
                raise InputError(
                    f"the migrations create roles ({', '.join(roles)}): a baseline holds one "
                    "database, and roles belong to the whole server",
                    hint="create the roles outside the migrations, or squash up to a version "
                         "before the first migration that creates one (--to)")
            say("Dumping the schema and rows ...")
            text = _header(selected, built.server_version // 10000) + _dump(
                settings, scratch.url, built.server_version // 10000,
                drop_public=not _has_public(built), own_role=_own_role(built))
            say(f"Checking that {path.name} builds the same database ...")
            tables = prove(settings, scratch, built, path, text, callbacks)
        finally:
            built.close()
        where = scratch.describe()
    _write(path, text)
    return Squash(path, [m.name for m in selected], len(tables),
                  [table for table, rows in tables.items() if rows], where)


def _refuse_placeholders(selected: Sequence[Migration]) -> None:
    from pgshift.placeholders import PATTERN

    for migration in selected:
        found = PATTERN.search(migration.up_sql)
        if found is not None:
            line = migration.up_sql.count("\n", 0, found.start()) + 1
            raise InputError(
                f"uses the placeholder {found[0]}: a baseline would hold this machine's value",
                path=migration.path, line=line, migration=migration.label,
                hint="squash up to a version before it (--to)")


_NOT_HELD = "keep it in a versioned migration after the baseline: squash up to a version " \
    "before it (--to)"


def _refuse_outside_one_database(selected: Sequence[Migration], own_schema: str) -> None:
    """What a baseline, one database's ``pg_dump``, would silently lose: statements on
    server-wide objects, and objects in pgshift's own schema (which the dump leaves out)."""
    from pgshift.runner import body_statements
    from pgshift.verify.server_wide import server_wide_statements

    for migration, statement, what in server_wide_statements(selected, None):
        raise InputError(f"{what}: a baseline holds one database's objects, not the database, "
                         "roles or tablespaces", path=statement.path, line=statement.line,
                         migration=migration.label, hint=_NOT_HELD)
    for migration in selected:
        for statement in body_statements(migration, "up"):
            if _names_schema(statement.node, own_schema):
                raise InputError(
                    f"uses pgshift's own schema {own_schema}, which a baseline leaves out",
                    path=statement.path, line=statement.line, migration=migration.label,
                    hint="keep the application's objects in a schema of their own")


def _names_schema(node: object, schema: str) -> bool:
    """Whether the syntax tree ``node`` names an object of ``schema`` (``schema.name``)."""
    from pglast import ast

    if isinstance(node, ast.RangeVar):
        return node.schemaname == schema
    if isinstance(node, ast.CreateSchemaStmt):
        return node.schemaname == schema
    if isinstance(node, tuple):
        if len(node) > 1 and isinstance(node[0], ast.String) and node[0].sval == schema:
            return True  # a qualified name: function, type, sequence, ...
        return any(_names_schema(item, schema) for item in node)
    if isinstance(node, ast.Node):
        return any(_names_schema(getattr(node, slot), schema) for slot in node.__slots__)
    return False


_DATABASE_STATE = """
    SELECT 'settings (' || array_to_string(s.setconfig, ', ') || ')'
           || coalesce(' for role ' || nullif(s.setrole, 0)::regrole::text, '')
      FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
     WHERE d.datname = current_database()
    UNION ALL
    SELECT 'a comment' FROM pg_shdescription c JOIN pg_database d ON d.oid = c.objoid
     WHERE c.classoid = 'pg_database'::regclass AND d.datname = current_database()
    UNION ALL
    SELECT 'grants (' || d.datacl::text || ')' FROM pg_database d
     WHERE d.datname = current_database() AND d.datacl IS NOT NULL
    UNION ALL
    SELECT 'a security label' FROM pg_shseclabel l JOIN pg_database d ON d.oid = l.objoid
     WHERE l.classoid = 'pg_database'::regclass AND d.datname = current_database()
    ORDER BY 1
"""


def _database_state_check(conn: Connection) -> Callable[[Migration], None]:
    """A check, for after each migration replayed in ``conn``'s database, that it left no
    setting, comment, grant or label on the database itself (a DO block can, by
    current_database()), which a baseline cannot hold."""

    def state() -> list[str]:
        with conn.cursor() as cur:
            cur.execute(_DATABASE_STATE)
            return [row[0] for row in cur.fetchall()]

    before = state()

    def check(migration: Migration) -> None:
        added = [item for item in state() if item not in before]
        if added:
            raise InputError(f"leaves {added[0]} on the database itself, which a baseline "
                             "cannot hold", path=migration.path, migration=migration.label,
                             hint=_NOT_HELD)

    return check


def _words(name: str) -> str:
    from pgshift.migrations.templates import MAX_WORDS

    words = re.sub(r"[^0-9A-Za-z]+", "_", name.strip()).strip("_").lower()
    if not words:
        raise InputError(f"not a usable name: {name!r}", hint="e.g. --name baseline")
    if len(words) > MAX_WORDS:  # file systems stop at 255 bytes a name
        raise InputError(f"the name is {len(words)} characters long; at most {MAX_WORDS}")
    return words


def _header(selected: Sequence[Migration], major: int) -> str:
    first, last = selected[0], selected[-1]
    span = first.name if first is last else f"{first.name} … {last.name}"
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "-- pgshift:irreversible\n"
        f"-- The database that {span} ({len(selected)} migrations) build, written by\n"
        f"-- 'pgshift squash' on {when} from a replay on PostgreSQL {major}, and checked\n"
        "-- there: a database built from this file has the same schema and rows.\n"
        "-- A new database runs this file instead of those migrations; a database that ran\n"
        "-- them never runs it. Below it there is only an empty database: it cannot be\n"
        "-- rolled back.\n"
        + _holds_lines(selected) + "\n"
    )


def _holds_lines(selected: Sequence[Migration]) -> str:
    """Every migration it holds, by label, so that the plan can tell them from a file added
    below it later, or a database that lacks one (``pgshift.migrations.holding``)."""
    lines, line = [], "-- Holds:"
    for migration in selected:
        if len(line) + len(migration.label) > 95:
            lines.append(line)
            line = "-- Holds:"
        line += f" {migration.label}"
    return "\n".join([*lines, line]) + "\n"


def _write(path: Path, text: str) -> None:
    """Write the baseline whole or not at all: a half-written one would be a migration that new
    databases run (a full disk, an interrupt)."""
    import contextlib
    import tempfile

    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                             dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o644)  # mkstemp's file is private; a migration is not
        os.replace(temporary, path)
    except BaseException as exc:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        if isinstance(exc, OSError):
            raise InputError(f"cannot write the baseline: {exc.strerror}", path=path) from None
        raise


def _dump(settings: Settings, url: str, major: int, *, drop_public: bool = False,
          own_role: str | None = None) -> str:
    """The scratch database as SQL a pgshift transaction can run (see the module's docstring).
    ``own_role``: the role that replayed the migrations, as pg_dump quotes it."""
    from pgshift.pgdump import (
        find_pg_dump,
        run_pg_dump,
        tidy,
        without_meta_commands,
        without_raw_carriage_returns,
    )

    pg_dump = find_pg_dump(major, settings.pg_dump, purpose="squash")
    text = without_meta_commands(run_pg_dump(
        pg_dump, url, "--no-owner", "--no-subscriptions", "--rows-per-insert=500",
        f'--exclude-schema="{settings.schema}"', purpose="squash"))
    text = tidy(text, statement=lambda sql: _for_whoever_runs_it(
        _local(without_raw_carriage_returns(sql)), own_role))
    if drop_public:  # pg_dump writes what is there, not that public is gone
        text = ("-- The migrations drop the public schema that a new database has.\n"
                "-- pgshift:ignore drop-schema-or-database -- it is empty there\n"
                "DROP SCHEMA IF EXISTS public;\n\n") + text
    return text


def _own_role(conn: Connection) -> str:
    with conn.cursor() as cur:
        cur.execute("SELECT quote_ident(current_user)")
        return str(cur.fetchone()[0])


def _for_whoever_runs_it(statement: str, own_role: str | None) -> str:
    """Default privileges the migrations set for the role that ran them (``ALTER DEFAULT
    PRIVILEGES`` without ``FOR ROLE``), as the baseline sets them for the role that runs it:
    pg_dump names the role, which another server may not have, or which is not the one that
    makes the next migrations' objects there. Like ``--no-owner`` for the objects."""
    if own_role is None:
        return statement
    prefix = f"ALTER DEFAULT PRIVILEGES FOR ROLE {own_role} "
    if statement.startswith(prefix):
        return "ALTER DEFAULT PRIVILEGES " + statement[len(prefix):]
    return statement


def _has_public(conn: Connection) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regnamespace('public') IS NOT NULL")
        return bool(cur.fetchone()[0])


def _local(statement: str) -> str:
    """A session setting of the dump's, as one that ends with the transaction (or none)."""
    found = _SET.match(statement)
    if found is not None:
        if found["name"].lower() in _TIMEOUTS:
            return f"-- {statement} (pgshift sets its own)"
        return f"SET LOCAL {statement[found.start('name'):]}"
    return _SET_CONFIG.sub(r"\1true)", statement)
