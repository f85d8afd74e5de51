"""Find migration files in a directory and read them into Migrations."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from pgshift.errors import InputError
from pgshift.migrations.model import Kind, Migration, Version
from pgshift.migrations.parse import read_text

if TYPE_CHECKING:
    from pgshift.migrations.cache import DiscoveryCache

_VERSIONED = re.compile(r"^(?P<prefix>[VUB])(?P<version>\d+(?:[._]\d+)*)__(?P<desc>.+)\.sql$")
_REPEATABLE = re.compile(r"^R__(?P<desc>.+)\.sql$")
NAMING_HINT = (
    "name it V{version}__{description}.sql, U{version}__{description}.sql, "
    "B{version}__{description}.sql or R__{description}.sql"
)


def describe(text: str) -> str:
    """The human description of a file name's words: ``add_user_2fa`` -> ``add user 2fa``."""
    return text.replace("_", " ").strip()


# How callbacks and adoption read a file too.
_read = read_text


def discover_migrations(directory: Path, *, flavor: str | None = None,
                        placeholders: Mapping[str, str] | None = None,
                        cache: DiscoveryCache | None = None) -> list[Migration]:
    """All migrations in ``directory``: versioned ones in version order, then repeatable ones.

    ``flavor`` names the tool whose file conventions the directory follows (see
    ``migrations.flavors``; None detects it). ``placeholders`` fill ``${name}`` in the SQL;
    checksums stay those of the raw files. Callback files (``beforeMigrate.sql``...) are skipped.
    With a ``cache`` (see ``migrations.cache``), files unchanged since it was saved are not
    read again, and it is saved when discovery succeeds.

    Raises InputError naming the file for a bad name, a duplicate version, an undo file
    without its migration, an unreadable or non-UTF-8 file, or a bad directive.
    """
    if not directory.is_dir():
        raise InputError(
            "migrations directory not found",
            path=directory,
            hint="create it with 'pgshift create NAME' or pass --dir",
        )
    from pgshift.migrations.cache import DiscoveryCache

    files = cache if cache is not None else DiscoveryCache()
    try:
        found = _discover(directory, flavor, files)
    except InputError:
        files.save(complete=False)  # the files read before the bad one need no reading again
        raise
    files.save()
    if not placeholders:
        return found
    from pgshift import placeholders as fill

    return [fill.fill(m, placeholders) for m in found]


def _discover(directory: Path, flavor: str | None, files: DiscoveryCache) -> list[Migration]:
    from pgshift.migrations import flavors

    paths, folders = _listing(directory)
    names = sorted(paths)
    chosen = (flavors.check_flavor(flavor) if flavor
              else flavors.detect_flavor(directory, files.text, _is_callback, names))
    if chosen in flavors.NUMBERED:  # their tools read one folder, and so does pgshift for them
        found = flavors.discover_numbered(directory, chosen, files.text, _is_callback)
    else:
        if _CALLBACKS_FOLDER in paths:
            _check_callbacks_folder(paths[_CALLBACKS_FOLDER])
        if folders:
            paths = _with_subfolders(directory, paths, folders)
            names = sorted(paths)
        versioned, undo, baselines, repeatable = _by_kind(names, paths)
        found = [_versioned(*versioned[v], v, undo[v][0] if v in undo else None, files)
                 for v in sorted(versioned, key=lambda v: v.key)]
        if baselines:  # each after the versioned ones it stands for (see pgshift.plan)
            found.extend(_versioned(*baselines[v], v, None, files, kind="baseline")
                         for v in baselines)
            found.sort(key=_file_order)
        found.extend(_repeatable(path, desc, files) for path, desc in repeatable)
        found = [flavors.adapt(m, chosen, files.text) for m in found]
    return found


Named = tuple[Path, str]  # a file and the description its name gives
# Callbacks are read from the directory and this folder of it (see pgshift.callbacks).
_CALLBACKS_FOLDER = "callbacks"


def _listing(directory: Path, *, top: bool = True) -> tuple[dict[str, Path], list[str]]:
    """The entries of ``directory`` by name, and the names of its subfolders (those not
    hidden, the callbacks folder aside, and not one named like a migration, which is refused
    as the file it looks like): ``os.scandir``, which knows folders without a ``stat`` of
    each of a thousand files."""
    try:
        with os.scandir(directory) as entries:
            listed = [(entry.name, entry.is_dir(), entry.is_symlink()) for entry in entries]
    except OSError as exc:
        raise InputError(f"cannot read the migrations directory: {exc.strerror}",
                         path=directory) from None
    for name, is_dir, is_link in listed:
        if is_link and not is_dir and not name.startswith(".") and not name.lower().endswith(
                ".sql") and not os.path.exists(directory / name):  # a release folder, say (a
            # file's link is read, and refused, as the file)
            raise InputError("a link to nothing", path=directory / name,
                             hint="restore what it points to, or remove the link")
    paths = {name: directory / name for name, _, _ in listed}
    folders = [name for name, is_dir, _ in listed
               if is_dir and not name.startswith(".") and not name.lower().endswith(".sql")
               and not (top and name == _CALLBACKS_FOLDER)]
    return paths, folders


def _check_callbacks_folder(folder: Path) -> None:
    """InputError for a file of the callbacks folder that no callback is named like: it would
    never run (neither as a callback nor as a migration)."""
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        name, top = path.name, path.parent == folder
        if name.lower().endswith(".sql") and not name.startswith(".") and (
                not top or not _is_callback(name)):  # callbacks' subfolders are not read
            raise InputError("only callbacks run from the callbacks folder: this file never "
                             "would", path=path,
                             hint=f"move a migration to {folder.parent}; name a callback after "
                                  "its event (beforeMigrate.sql, afterMigrate__x.sql...)")


def _with_subfolders(directory: Path, paths: dict[str, Path], folders: list[str]
                     ) -> dict[str, Path]:
    """``paths`` and the files of ``folders``, at any depth, by name, as Flyway reads a
    location: a folder per release, say. A file's name is its identity (the history records
    names, so a file may move between folders), so two files of one name are refused, and a
    callback outside the directory and its callbacks folder, which would never run, too."""
    found = {name: path for name, path in paths.items() if name not in folders}
    seen = {os.path.realpath(directory)}
    pending = [directory / name for name in sorted(folders)]
    while pending:
        folder = pending.pop(0)
        real = os.path.realpath(folder)
        if real in seen:  # a link back up the tree
            continue
        seen.add(real)
        listed, subfolders = _listing(folder, top=False)
        pending.extend(folder / name for name in sorted(subfolders))
        for name, path in sorted(listed.items()):
            if name in subfolders or name.startswith(".") or not name.lower().endswith(".sql"):
                continue
            if _is_callback(name):
                raise InputError(
                    "a callback in a subfolder is never run", path=path,
                    hint=f"move it to {directory} or {directory / _CALLBACKS_FOLDER}")
            if name in found:
                raise InputError(f"two files have this name: {found[name]} and {path}", path=path,
                                 hint="a migration's file name is its identity: rename or "
                                      "remove one of them")
            found[name] = path
    return found


def _by_kind(names: list[str], paths: dict[str, Path]) -> tuple[
        dict[Version, Named], dict[Version, Named], dict[Version, Named], list[Named]]:
    """The V, U, B (by version) and R files among ``names``; InputError for a name that is
    no migration's nor a callback's, a duplicate version, or an undo file without its V."""
    versioned: dict[Version, Named] = {}
    undo: dict[Version, Named] = {}
    baselines: dict[Version, Named] = {}
    repeatable: list[Named] = []
    kinds = {"V": versioned, "U": undo, "B": baselines}
    for name in names:
        if not name.lower().endswith(".sql") or name.startswith("."):
            continue
        path = paths[name]
        if (match := _VERSIONED.match(name)) is not None:
            version = Version.parse(match["version"])
            seen = kinds[match["prefix"]]
            if version in seen:
                raise InputError(
                    f"duplicate version {version}: also in {seen[version][0].name}",
                    path=path,
                    hint="every version must be unique (001 and 1 are the same version)",
                )
            seen[version] = path, match["desc"]
        elif (match := _REPEATABLE.match(name)) is not None:
            repeatable.append((path, match["desc"]))
        elif not _is_callback(name):  # callbacks' lowercase names never match V/U/R
            raise InputError(
                "file name does not match the migration naming", path=path, hint=NAMING_HINT
            )
    for version, (path, _) in undo.items():
        if version not in versioned:
            raise InputError(
                f"undo file for version {version} has no V{version} migration", path=path
            )
    return versioned, undo, baselines, repeatable


def _file_order(migration: Migration) -> tuple[tuple[int, ...], bool]:
    """Version order, a baseline after the versioned migration of its own version."""
    version = migration.version
    return (version.key if version is not None else ()), migration.kind == "baseline"


def _is_callback(name: str) -> bool:
    from pgshift.callbacks import is_callback  # imported only for a name no migration has

    return is_callback(name)


def _versioned(path: Path, desc: str, version: Version, undo_path: Path | None,
               files: DiscoveryCache, kind: Kind = "versioned") -> Migration:
    sha, up_sql, down_sql, down_line, directives = files.parsed(path)
    down_path = path if down_sql is not None else None
    if undo_path is not None:
        if down_sql is not None:
            raise InputError(
                f"has both a '-- pgshift:down' section and an undo file {undo_path.name}",
                path=path,
                hint="keep one of them",
            )
        down_sql, down_path, down_line = files.text(undo_path), undo_path, 1
        _refuse_file_directives(down_sql, undo_path)
    if kind == "baseline":
        # Below a baseline there is only an empty database: it is irreversible whether or not
        # it says so (Flyway's B files do not), and a down part would only pretend otherwise.
        if down_sql is not None:
            raise InputError("a baseline cannot have a down part: below it there is only an "
                             "empty database", path=path, line=down_line - 1,
                             hint="remove the '-- pgshift:down' part")
        directives = replace(directives, irreversible=True)
    if directives.irreversible and down_sql is not None and down_sql.strip():
        raise InputError(
            "is marked irreversible but has a down part",
            path=path,
            hint="remove '-- pgshift:irreversible' or the down part",
        )
    if down_sql is not None and not down_sql.strip():
        # A blank down part (as 'pgshift create' writes it) is a down not written yet, not a
        # promise that there is nothing to undo: that takes at least a comment saying so.
        down_sql, down_path = None, None
    return Migration(
        kind=kind,
        version=version,
        description=describe(desc),
        path=path,
        checksum=sha,
        up_sql=up_sql,
        down_sql=down_sql,
        down_path=down_path,
        down_line=down_line,
        directives=directives,
    )


def _refuse_file_directives(text: str, path: Path) -> None:
    """An undo file's directives: the V file's apply to the whole migration, so one here would
    be ignored; it is an error instead (statement directives, such as ``ignore``, stay)."""
    from pgshift.migrations.parse import (
        STATEMENT_DIRECTIVES,
        directive_lines,
        refuse_near_directives,
    )

    refuse_near_directives(text, path)
    if "-- pgshift:" not in text:
        return
    for match in directive_lines(text):
        name = match[1].strip().partition(" ")[0]
        if name not in STATEMENT_DIRECTIVES:
            raise InputError(f"'-- pgshift:{name}' in an undo file", path=path,
                             line=text.count("\n", 0, match.start()) + 1,
                             hint="put it at the top of the V file: a migration's directives "
                                  "apply to its up and down parts")


def _repeatable(path: Path, desc: str, files: DiscoveryCache) -> Migration:
    sha, up_sql, down_sql, down_line, directives = files.parsed(path)
    return Migration(
        kind="repeatable",
        version=None,
        description=describe(desc),
        path=path,
        checksum=sha,
        up_sql=up_sql,
        down_sql=down_sql,
        down_path=path if down_sql is not None else None,
        down_line=down_line,
        directives=directives,
    )
