"""Find migration files in a directory and read them into Migrations."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from pgshift.errors import InputError
from pgshift.migrations.model import Migration, Version
from pgshift.migrations.parse import checksum, normalize, parse_text

_VERSIONED = re.compile(r"^(?P<prefix>[VU])(?P<version>\d+(?:[._]\d+)*)__(?P<desc>.+)\.sql$")
_REPEATABLE = re.compile(r"^R__(?P<desc>.+)\.sql$")
NAMING_HINT = (
    "name it V{version}__{description}.sql, U{version}__{description}.sql or R__{description}.sql"
)


def describe(text: str) -> str:
    """The human description of a file name's words: ``add_user_2fa`` -> ``add user 2fa``."""
    return text.replace("_", " ").strip()


def _read(path: Path) -> str:
    try:
        # Unbuffered FileIO: half the cost of read_bytes() for small files, and status reads
        # every migration file on each run.
        with open(path, "rb", buffering=0) as handle:
            raw = handle.readall()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", path=path) from None
    return normalize(raw, path)


def discover_migrations(directory: Path, *, flavor: str | None = None,
                        placeholders: Mapping[str, str] | None = None) -> list[Migration]:
    """All migrations in ``directory``: versioned ones in version order, then repeatable ones.

    ``flavor`` names the tool whose file conventions the directory follows (see
    ``migrations.flavors``; None detects it). ``placeholders`` fill ``${name}`` in the SQL;
    checksums stay those of the raw files. Callback files (``beforeMigrate.sql``...) are skipped.

    Raises InputError naming the file for a bad name, a duplicate version, an undo file
    without its migration, an unreadable or non-UTF-8 file, or a bad directive.
    """
    if not directory.is_dir():
        raise InputError(
            "migrations directory not found",
            path=directory,
            hint="create it with 'pgshift create NAME' or pass --dir",
        )
    from pgshift import placeholders as fill
    from pgshift.callbacks import is_callback
    from pgshift.migrations import flavors

    chosen = (flavors.check_flavor(flavor) if flavor
              else flavors.detect_flavor(directory, _read, is_callback))
    if chosen in flavors.NUMBERED:
        found = flavors.discover_numbered(directory, chosen, _read, is_callback)
        return [fill.fill(m, placeholders) for m in found]
    versioned: dict[Version, Path] = {}
    undo: dict[Version, Path] = {}
    repeatable: list[Path] = []
    for name in sorted(os.listdir(directory)):
        if not name.lower().endswith(".sql") or name.startswith(".") or is_callback(name):
            continue
        path = directory / name
        if (match := _VERSIONED.match(path.name)) is not None:
            version = Version.parse(match["version"])
            seen = versioned if match["prefix"] == "V" else undo
            if version in seen:
                raise InputError(
                    f"duplicate version {version}: also in {seen[version].name}",
                    path=path,
                    hint="every version must be unique (001 and 1 are the same version)",
                )
            seen[version] = path
        elif _REPEATABLE.match(path.name):
            repeatable.append(path)
        else:
            raise InputError(
                "file name does not match the migration naming", path=path, hint=NAMING_HINT
            )
    for version, path in undo.items():
        if version not in versioned:
            raise InputError(
                f"undo file for version {version} has no V{version} migration", path=path
            )
    migrations = [
        _versioned(versioned[v], v, undo.get(v)) for v in sorted(versioned, key=lambda v: v.key)
    ]
    migrations.extend(_repeatable(p) for p in sorted(repeatable, key=lambda p: p.name))
    return [fill.fill(flavors.adapt(m, chosen, _read), placeholders) for m in migrations]


def _versioned(path: Path, version: Version, undo_path: Path | None) -> Migration:
    text = _read(path)
    parsed = parse_text(text, path)
    match = _VERSIONED.match(path.name)
    assert match is not None
    down_sql, down_path, down_line = (
        parsed.down_sql,
        path if parsed.down_sql is not None else None,
        parsed.down_line,
    )
    if undo_path is not None:
        if parsed.down_sql is not None:
            raise InputError(
                f"has both a '-- pgshift:down' section and an undo file {undo_path.name}",
                path=path,
                hint="keep one of them",
            )
        down_sql, down_path, down_line = _read(undo_path), undo_path, 1
    if parsed.directives.irreversible and down_sql is not None and down_sql.strip():
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
        kind="versioned",
        version=version,
        description=describe(match["desc"]),
        path=path,
        checksum=checksum(text),
        up_sql=parsed.up_sql,
        down_sql=down_sql,
        down_path=down_path,
        down_line=down_line,
        directives=parsed.directives,
    )


def _repeatable(path: Path) -> Migration:
    text = _read(path)
    parsed = parse_text(text, path)
    match = _REPEATABLE.match(path.name)
    assert match is not None
    return Migration(
        kind="repeatable",
        version=None,
        description=describe(match["desc"]),
        path=path,
        checksum=checksum(text),
        up_sql=parsed.up_sql,
        down_sql=parsed.down_sql,
        down_path=path if parsed.down_sql is not None else None,
        down_line=parsed.down_line,
        directives=parsed.directives,
    )
