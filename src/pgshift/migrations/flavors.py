"""Other tools' migration files, read as they are: the flavors of a migrations directory.

============== ======================================== ==========================================
flavor         files                                    up / down / no transaction
============== ======================================== ==========================================
pgshift        ``V1__x.sql``, ``U1__x.sql``, ``R__x``   ``-- pgshift:down``, ``-- pgshift:*``
flyway         same names                               ``U`` file; per script, ``V1__x.sql.conf``
                                                        (``U1__x.sql.conf``) with
                                                        ``executeInTransaction=false``, else
                                                        detected (``CONCURRENTLY``...)
pgmigrate      ``V0001__x.sql``                         no down; ``NONTRANSACTIONAL`` in the name
node-pg-migrate ``1700000000000_x.sql``                 ``-- Up Migration`` / ``-- Down Migration``
dbmate         ``20240101120000_x.sql``                 ``-- migrate:up`` / ``-- migrate:down``,
                                                        ``transaction:false`` after either, for
                                                        its own part
golang-migrate ``1_x.up.sql`` + ``1_x.down.sql``        separate files; detected, per file
============== ======================================== ==========================================

A versioned migration of another tool without a down part is irreversible, as it is in that
tool. The flavor is the ``flavor`` config key, else detected from the directory. Checksums are
always pgshift's (SHA-256 of the file); adoption checks other tools' own checksums separately.
goose and sql-migrate files (``-- +goose Up``) are refused in every flavor: read as plain SQL,
their down part would run with the up part.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from pgshift.errors import ConfigError, InputError
from pgshift.migrations.model import Directives, Migration, Version
from pgshift.migrations.parse import checksum, refuse_other_tools

FLAVORS = ("pgshift", "flyway", "pgmigrate", "node-pg-migrate", "dbmate", "golang-migrate")
NUMBERED = ("node-pg-migrate", "dbmate", "golang-migrate")

# Compiled on first use (re keeps them): a directory of pgshift's own files never needs them.
_GOLANG = r"^(?P<version>\d+)_(?P<desc>.*)\.(?P<direction>up|down)\.sql$"
_NUMBERED = r"^(?P<version>\d+)_(?P<desc>.+)\.sql$"
_NODE_MARK = {d: rf"(?im)^\s*--[\s-]*{d}\s+migration" for d in ("up", "down")}
_DBMATE_MARK = r"(?m)^--\s*migrate:(?P<direction>up|down)(?P<options>[^\n]*)$"
_FLYWAY_CONFIGS = ("flyway.conf", "flyway.toml")

Reader = Callable[[Path], str]


def check_flavor(name: str) -> str:
    """``name`` when it is a known flavor, else a ConfigError listing them."""
    if name not in FLAVORS:
        raise ConfigError(f"unknown flavor '{name}'", hint=f"use one of: {', '.join(FLAVORS)}")
    return name


def detect_flavor(directory: Path, read: Reader, skip: Callable[[str], bool],
                  listing: list[str] | None = None) -> str:
    """The flavor of ``directory`` from its file names (and, for numbered files, their markers).

    V/U/R names are pgshift's unless a ``flyway.conf``/``flyway.toml`` (or a ``.sql.conf``) says
    Flyway, or a ``migrations.yml`` beside the directory says yandex pgmigrate. ``listing`` is
    the directory's file names when the caller has them already.
    """
    listing = os.listdir(directory) if listing is None else listing
    digits = sorted(n for n in listing if n[:1].isdigit() and n.lower().endswith(".sql")
                    and not skip(n))  # V/U/R names, the common case, need no regex here
    golang, named = re.compile(_GOLANG), re.compile(_NUMBERED)
    if any(golang.match(n) for n in digits):
        return "golang-migrate"
    numbered = [n for n in digits if named.match(n)]
    if numbered:
        for name in numbered:
            text = read(directory / name)
            if re.search(_DBMATE_MARK, text):
                return "dbmate"
            if re.search(_NODE_MARK["up"], text) or re.search(_NODE_MARK["down"], text):
                return "node-pg-migrate"
        return "node-pg-migrate"  # its files need no markers: a file without any is all 'up'
    folders = (directory, directory.parent, directory.parent.parent)
    if any(n.endswith(".sql.conf") for n in listing) or any(
        (folder / name).is_file() for folder in folders for name in _FLYWAY_CONFIGS
    ):
        return "flyway"
    if (directory.parent / "migrations.yml").is_file():
        return "pgmigrate"
    return "pgshift"


def discover_numbered(directory: Path, flavor: str, read: Reader,
                      skip: Callable[[str], bool]) -> list[Migration]:
    """Migrations of a node-pg-migrate, dbmate or golang-migrate directory, in version order."""
    found: dict[Version, Migration] = {}
    downs: dict[Version, Path] = {}
    pattern = re.compile(_GOLANG if flavor == "golang-migrate" else _NUMBERED)
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() != ".sql" or path.name.startswith(".") or skip(path.name):
            continue
        match = pattern.match(path.name)
        if match is None:
            raise InputError(f"file name does not match the {flavor} naming", path=path,
                             hint=_NAMING[flavor])
        version = Version.parse(match["version"])
        if flavor == "golang-migrate" and match["direction"] == "down":
            downs[version] = path
            continue
        if version in found:
            raise InputError(f"duplicate version {version}: also in {found[version].name}",
                             path=path)
        text = read(path)
        reader = _read_golang if flavor == "golang-migrate" else (
            _read_dbmate if flavor == "dbmate" else _read_node)
        found[version] = reader(path, text, version, match["desc"])
    for version, path in downs.items():
        if version not in found:
            raise InputError(f"down file for version {version} has no up file", path=path)
        down = read(path)
        refuse_other_tools(down, path)
        # golang-migrate sends each file as it is: the down file's own statements decide.
        directives = replace(found[version].directives, irreversible=False)
        found[version] = replace(found[version], down_sql=down, down_path=path, down_line=1,
                                 directives=_pgshift_directives(down, path, directives,
                                                                down_file=True),
                                 down_transactional=not _needs_no_transaction(down, path))
    return [found[v] for v in sorted(found)]


def adapt(migration: Migration, flavor: str, read: Reader) -> Migration:
    """A V/U/R migration read the way Flyway or pgmigrate would run it; InputError for a goose
    or sql-migrate file, whatever the flavor."""
    refuse_other_tools(migration.up_sql, migration.path)
    if migration.down_sql is not None:
        refuse_other_tools(migration.down_sql, migration.down_path or migration.path,
                           migration.down_line)
    if flavor not in ("flyway", "pgmigrate") or migration.kind != "versioned":
        return migration
    directives = migration.directives
    if migration.down_sql is None:
        directives = replace(directives, irreversible=True)
    if flavor == "pgmigrate" and "NONTRANSACTIONAL" in migration.path.name:
        directives = replace(directives, transactional=False)
    down_transactional = None
    if flavor == "flyway":
        transactional = _flyway_transactional(migration, read)
        if transactional is not None:
            directives = replace(directives, transactional=transactional)
        undo, sql = migration.down_path, migration.down_sql
        if undo is not None and undo != migration.path and sql is not None:  # a U file
            down_transactional = _flyway_undo_transactional(undo, sql, read)
    return replace(migration, directives=directives, down_transactional=down_transactional)


# -- one file per flavor --------------------------------------------------------------------------


def _migration(path: Path, text: str, version: Version, desc: str, up: str,
               down: tuple[str, int] | None, transactional: bool = True,
               down_transactional: bool | None = None) -> Migration:
    refuse_other_tools(text, path)
    directives = _pgshift_directives(text, path, Directives(transactional=transactional,
                                                            irreversible=down is None))
    return Migration(
        kind="versioned", version=version, description=desc.replace("_", " ").strip(), path=path,
        checksum=checksum(text), up_sql=up,
        down_sql=down[0] if down else None, down_path=path if down else None,
        down_line=down[1] if down else 1,
        directives=directives,
        down_transactional=down_transactional,
    )


# What the tool's own file says instead of these pgshift directives.
_OWN_WAY = {"no-transaction": "the tool's own way to run outside a transaction (dbmate: "
                              "'-- migrate:up transaction:false'; golang-migrate and Flyway "
                              "find CONCURRENTLY themselves)",
            "irreversible": "no down part", "down": "the tool's own down part"}


def _pgshift_directives(text: str, path: Path, directives: Directives, *,
                        down_file: bool = False) -> Directives:
    """pgshift's directives in another tool's file, which that tool reads as comments: the
    timeouts, retries and phase apply as in pgshift's files, a backfill's options are checked
    now, and an unknown directive, or one the tool's own file says otherwise, is an error
    (a directive is never silently ignored)."""
    from pgshift.migrations.parse import refuse_near_directives

    refuse_near_directives(text, path)
    if "-- pgshift:" not in text:
        return directives  # the common case: no scan
    from pgshift.backfill.options import check_directive
    from pgshift.migrations.parse import (
        FILE_DIRECTIVES,
        STATEMENT_DIRECTIVES,
        apply_directive,
        directive_lines,
    )

    for match in directive_lines(text):
        name, _, argument = match[1].strip().partition(" ")
        line = text.count("\n", 0, match.start()) + 1
        if name == "backfill":
            check_directive(argument.strip(), path, line)
        elif name in _OWN_WAY:
            raise InputError(f"'-- pgshift:{name}' in a file of another tool's format",
                             path=path, line=line, hint=f"write it as {_OWN_WAY[name]}")
        elif name in FILE_DIRECTIVES:
            if down_file:  # one migration, one set of directives: the up file's
                raise InputError(f"'-- pgshift:{name}' in a down file", path=path, line=line,
                                 hint="put it at the top of the up file: it applies to the "
                                      "whole migration")
            if any(row.strip() and not row.lstrip().startswith("--")
                   for row in text[:match.start()].split("\n")):
                raise InputError(f"directive '{name}' must be at the top of the file, before any "
                                 "statement", path=path, line=line)
            directives = apply_directive(directives, name, argument.strip(), path, line)
        elif name not in STATEMENT_DIRECTIVES:
            known = ", ".join(sorted((FILE_DIRECTIVES | STATEMENT_DIRECTIVES) - set(_OWN_WAY)))
            raise InputError(f"unknown directive '-- pgshift:{name}'", path=path, line=line,
                             hint=f"known in this format: {known}")
    return directives


def _section(lines: list[str], start: int, end: int) -> str:
    """Lines ``start`` to ``end`` (0-based, end excluded), those before blanked (lines keep
    their numbers)."""
    return "\n" * start + "\n".join(lines[start:end]) + "\n"


def _read_node(path: Path, text: str, version: Version, desc: str) -> Migration:
    lines = text.split("\n")
    up_at = _line_of(_NODE_MARK["up"], text)
    down_at = _line_of(_NODE_MARK["down"], text)
    if down_at is None:
        return _migration(path, text, version, desc, text, None)
    up_start = up_at if up_at is not None else 0
    up_end = down_at if up_start < down_at else len(lines)
    down_end = up_start if up_at is not None and up_start > down_at else len(lines)
    down = "\n".join(lines[down_at + 1:down_end]) + "\n"
    return _migration(path, text, version, desc, _section(lines, up_start, up_end),
                      (down, down_at + 2))


def read_dbmate_file(path: Path, text: str) -> Migration | None:
    """``text`` read as a dbmate migration (as ``up`` reads it: InputError for what dbmate
    refuses), or None when no line of it is a dbmate marker. For ``lint``."""
    if re.search(_DBMATE_MARK, text) is None:
        return None
    return _read_dbmate(path, text, Version.parse("0"), path.stem)


def _read_dbmate(path: Path, text: str, version: Version, desc: str) -> Migration:
    lines = text.split("\n")
    marks: dict[str, tuple[int, str]] = {}
    for match in re.finditer(_DBMATE_MARK, text):
        direction, line = match["direction"], _line_of_offset(text, match.start())
        if direction in marks:  # dbmate would run the SQL after the second one in the first part
            raise InputError(f"a second '-- migrate:{direction}' line", path=path, line=line + 1,
                             hint="keep one '-- migrate:up' and one '-- migrate:down' line")
        marks[direction] = line, match["options"]
    _refuse_what_dbmate_refuses(marks, path)
    _refuse_statements_before(lines, marks["up"][0], path)
    (up_at, up_options), (down_at, down_options) = marks["up"], marks["down"]
    down = ("\n".join(lines[down_at + 1:]) + "\n", down_at + 2)
    # dbmate reads the options of each marker for its own part only.
    return _migration(path, text, version, desc, _section(lines, up_at + 1, down_at), down,
                      _dbmate_transactional(up_options), _dbmate_transactional(down_options))


def _refuse_what_dbmate_refuses(marks: dict[str, tuple[int, str]], path: Path) -> None:
    """dbmate runs no file without both markers, up first: read otherwise, a file that works
    here would fail under dbmate, and one without a down part would be irreversible without
    saying so (an empty down part is dbmate's way to say there is nothing to undo)."""
    if "up" not in marks:
        raise InputError("dbmate migration without a '-- migrate:up' line", path=path,
                         hint="start the up part with '-- migrate:up'")
    if "down" not in marks:
        raise InputError("dbmate migration without a '-- migrate:down' line", path=path,
                         hint="end the file with '-- migrate:down' and the SQL that undoes "
                              "it (dbmate requires the line; the part may be empty)")
    if marks["down"][0] < marks["up"][0]:
        raise InputError("'-- migrate:down' comes before '-- migrate:up'", path=path,
                         line=marks["down"][0] + 1,
                         hint="put the up part first, as dbmate requires")


def _refuse_statements_before(lines: list[str], first_mark: int, path: Path) -> None:
    """dbmate refuses a file with SQL before its first marker; read as it is, that SQL would
    never run."""
    for number, line in enumerate(lines[:first_mark], start=1):
        if line.strip() and not line.lstrip().startswith("--"):
            raise InputError("statement before '-- migrate:up': dbmate refuses such a file",
                             path=path, line=number,
                             hint="move it below the '-- migrate:up' line")


def _dbmate_transactional(options: str) -> bool:
    """Whether a marker's options (``transaction:false``...) leave its part in a transaction."""
    pairs = dict(word.split(":", 1) for word in options.split() if word.count(":") == 1)
    return pairs.get("transaction") != "false"


def _read_golang(path: Path, text: str, version: Version, desc: str) -> Migration:
    migration = _migration(path, text, version, desc, text, None)
    if _needs_no_transaction(text, path):
        migration = replace(migration, directives=replace(migration.directives,
                                                          transactional=False))
    return migration


def _flyway_transactional(migration: Migration, read: Reader) -> bool | None:
    configured = _flyway_conf(migration.path, read)
    if configured is not None:
        return configured
    if migration.directives.transactional and _needs_no_transaction(migration.up_sql,
                                                                    migration.path):
        return False
    return None


def _flyway_undo_transactional(undo: Path, sql: str, read: Reader) -> bool:
    """Flyway decides per script: the U file's own ``.sql.conf``, else its statements."""
    configured = _flyway_conf(undo, read)
    return configured if configured is not None else not _needs_no_transaction(sql, undo)


def _flyway_conf(script: Path, read: Reader) -> bool | None:
    """``executeInTransaction`` of ``script``'s ``.sql.conf``, if it says."""
    conf = script.with_name(script.name + ".conf")
    if conf.is_file():
        for line in read(conf).split("\n"):
            key, _, value = line.partition("=")
            if key.strip() == "executeInTransaction":
                return value.strip().lower() != "false"
    return None


def _needs_no_transaction(text: str, path: Path) -> bool:
    """Whether ``text`` holds a statement PostgreSQL refuses in a transaction block."""
    from pgshift.migrations import statements as found

    lowered = text.lower()
    if not any(word in lowered for word in found._NO_TRANSACTION_WORDS):
        return False  # the common case: no parser needed
    return any(found.needs_no_transaction(s.node)
               for s in found.split_statements(text, path))


def _line_of(pattern: str, text: str) -> int | None:
    match = re.search(pattern, text)
    return None if match is None else _line_of_offset(text, match.start())


def _line_of_offset(text: str, offset: int) -> int:
    """0-based line number of ``offset`` (the marker may sit after leading blanks)."""
    return text.count("\n", 0, offset + len(text[offset:]) - len(text[offset:].lstrip()))


_NAMING = {
    "node-pg-migrate": "name it {number}_{name}.sql, e.g. 1700000000000_create-users.sql",
    "dbmate": "name it {timestamp}_{name}.sql, e.g. 20240101120000_create_users.sql",
    "golang-migrate": "name it {version}_{title}.up.sql and {version}_{title}.down.sql",
}
