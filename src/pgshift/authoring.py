"""The verbs that write migration files: ``create`` (the next, empty migration),
``create_from_drift`` (what was changed by hand), ``create_recipe`` (a recipe's migrations)
and ``squash`` (a baseline standing for the migrations up to a version).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pgshift.api import schema_drift, status
from pgshift.errors import InputError, PgshiftError
from pgshift.migrations.discover import discover_migrations
from pgshift.plan import parse_target

if TYPE_CHECKING:
    from pathlib import Path

    from pgshift.config import Settings
    from pgshift.migrations.model import Migration
    from pgshift.recipes import RecipeParams
    from pgshift.squash import Squash
    from pgshift.verify.drift.migration import DriftCapture


def create(settings: Settings, name: str, *, timestamp: bool = False) -> Path:
    """Write the next migration named ``name`` in the directory's format; return its (up) path.

    pgshift's own: ``V…__name.sql`` with an up and a down section. A directory of another tool
    (``flavor``, set or detected) gets that tool's file(s), e.g. golang-migrate's
    ``N_name.up.sql`` and ``N_name.down.sql`` (see ``migrations.templates``). The version
    follows the last one (a timestamp after a timestamp); ``timestamp`` starts timestamps.
    """
    from pgshift.migrations.templates import write_new

    name = _one_line(name)
    flavor = _flavor(settings)
    existing: list[Migration] = []
    if settings.dir.is_dir():
        existing = discover_migrations(settings.dir, flavor=flavor)
    return write_new(settings.dir, name, flavor, existing, timestamp=timestamp)[0]


def create_from_drift(settings: Settings, name: str, *, embedded: bool = False,
                      timestamp: bool = False,
                      progress: Callable[[str], None] | None = None) -> DriftCapture | None:
    """Write the schema drift (``schema_drift``) as the next migration; None when there is
    none. The database it was read from already has the change: record the file there with
    ``baseline``, and ``up`` applies it everywhere else (``pgshift.verify.drift.migration``)."""
    name = _one_line(name)
    drift = schema_drift(settings, embedded=embedded, progress=progress)
    if drift.ok:
        return None
    from datetime import datetime, timezone

    from pgshift.db import describe
    from pgshift.verify.drift.migration import DriftCapture, drift_migration

    migration = drift_migration(drift.expected, drift.actual, drift.major)
    flavor = _flavor(settings)
    migration.files("", flavor)  # what the flavor cannot hold is refused before any file
    path = create(settings, name, timestamp=timestamp)
    # V008__x.sql, 20240101120000_x.sql, 000008_x.up.sql: the version starts the name
    version = path.name[1:].split("__")[0] if path.name[:1] in "VB" else path.name.split("_")[0]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = (f"-- {name}: changes made by hand on {describe(settings.url or '')}, captured "
              f"{when} by 'pgshift create --from-drift'.\n-- That database has them already: "
              f"record this file there with 'pgshift baseline --version {version}'.")
    up_text, down_text = migration.files(header, flavor)
    # Flyway's undo file and golang-migrate's down file sit beside the up file.
    down_path = (path.with_name(path.name.replace(".up.sql", ".down.sql"))
                 if flavor == "golang-migrate" else path.with_name("U" + path.name[1:]))
    written = [path, down_path] if down_text is not None else [path]
    try:
        path.write_text(up_text, encoding="utf-8")
        if down_text is not None:
            down_path.write_text(down_text, encoding="utf-8")
    except OSError as exc:
        for made in written:  # no half-written migration for the next 'up' to run
            made.unlink(missing_ok=True)
        raise InputError(f"cannot write the migration: {exc.strerror}", path=path) from None
    return DriftCapture(path, migration, drift, version)


def _one_line(name: str) -> str:
    """``name`` as the file's title comment can hold it: one line, with no control characters.
    A line break would end the ``-- title`` comment and leave the rest of the name as SQL for
    the next ``up`` to run (a ticket's title pasted with its line break)."""
    return " ".join("".join(c if c.isprintable() else " " for c in name).split())


def _flavor(settings: Settings) -> str:
    """The migrations directory's flavor, as set or detected (pgshift's for a new one)."""
    from pgshift.callbacks import is_callback
    from pgshift.migrations.flavors import check_flavor, detect_flavor

    if settings.flavor:
        return check_flavor(settings.flavor)
    if not settings.dir.is_dir():
        return "pgshift"
    return detect_flavor(settings.dir, lambda p: p.read_text(encoding="utf-8", errors="replace"),
                         is_callback)



def create_recipe(settings: Settings, recipe: str, params: RecipeParams) -> list[Path]:
    """Write recipe ``recipe``'s migrations as the next versions; return their paths.

    When the database is reachable, the recipe asks it first (``recipes.refusals``): the
    existing column (rename, change type, remove; otherwise they ask for ``--type``), a
    partitioned table's partitions (add-index), and whatever its migrations would fail on at
    ``up`` time, which is an InputError before anything is written.
    """
    from pgshift.recipes import write_recipe
    from pgshift.recipes.refusals import ask_database

    def up_to_date() -> bool:
        if not settings.dir.exists():  # a project's first migration: none pending to make it
            return True
        try:
            return not status(settings).pending()
        except PgshiftError:
            return False

    params = ask_database(settings, recipe, params, up_to_date=up_to_date)
    return write_recipe(settings.dir, recipe, params)


def squash(settings: Settings, *, to: str | None = None, name: str = "baseline",
           embedded: bool = False, progress: Callable[[str], None] | None = None) -> Squash:
    """Write ``B{to}__{name}.sql``, the database the migrations up to ``to`` (default: the
    newest) build, proven on scratch databases; new databases run it instead of them
    (``pgshift.squash``). Nothing of the target is read or changed."""
    from pgshift.callbacks import is_callback
    from pgshift.migrations.flavors import NUMBERED, check_flavor, detect_flavor
    from pgshift.squash import squash_migrations

    if not settings.dir.is_dir():
        raise InputError("migrations directory not found", path=settings.dir)
    flavor = check_flavor(settings.flavor) if settings.flavor else detect_flavor(
        settings.dir, lambda p: p.read_text(encoding="utf-8", errors="replace"), is_callback)
    if flavor in NUMBERED:
        raise InputError(f"squash writes pgshift's B files, which a {flavor} directory "
                         "cannot hold", path=settings.dir)
    if any(key.startswith("schemas") for key in settings.targets):
        raise InputError("squash cannot write a baseline for schema-per-tenant targets: the "
                         "dumped objects name their schema, and a new tenant would get them "
                         "in public", hint="keep replaying the versioned migrations there")
    # Without placeholders filled: a migration that has one is refused, not baked in.
    migrations = discover_migrations(settings.dir, flavor=flavor)
    return squash_migrations(settings, migrations, parse_target(to), name=name,
                             embedded=embedded, progress=progress)
