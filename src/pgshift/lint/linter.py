"""lint_paths and lint_migrations: the linter's library entry points.

The schema context comes, in order of preference, from a live database
(``options.database_url`` or ``conn``), a schema file (``options.schema_file``), or the earlier
migrations replayed statically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pgshift.errors import InputError, PgshiftError
from pgshift.lint.cache import ResultCache, chain, engine_fingerprint
from pgshift.lint.engine import Engine, Prepared
from pgshift.lint.files import Unit, collect
from pgshift.lint.options import LintOptions
from pgshift.lint.replay import Created
from pgshift.lint.report import LintReport
from pgshift.lint.rule import Violation
from pgshift.lint.schema import Schema
from pgshift.lint.workers import FileWork, UnitWork, cpu_count, execute, plan

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.lint.catalog_rows import Catalog
    from pgshift.migrations.cache import DiscoveryCache
    from pgshift.migrations.model import Migration


def lint_paths(paths: Sequence[Path], options: LintOptions, *,
               migrations_dir: Path | None = None, flavor: str | None = None) -> LintReport:
    """Lint files and directories (a directory: its migrations in version order).

    With the pgshift runner, a directory is also read as ``pgshift up`` reads it, and what
    ``up`` refuses before running anything (a name that is no migration's, two files of one
    name, a duplicate version, an undo file's directive, a callback where none runs...) is a
    failure: up's own InputError. That is ``migrations_dir`` (up's directory, read as
    ``flavor``), and any other directory of pgshift's (Flyway's) V/U/B/R names; a directory
    of another tool's numbered files is linted file by file only.
    """
    options.rule_ids()  # unknown rule ids fail before any work
    if flavor is not None:
        from pgshift.migrations.flavors import check_flavor

        check_flavor(flavor)
    base = base_schema(options)
    targets = [Path(p) for p in paths]
    units = collect(targets, with_history=base is None)
    report = _run(units, options, base)
    if options.runner == "pgshift":
        for directory in targets:
            if directory.is_dir():
                _add_refusals(report, _up_refusals(directory, options, migrations_dir, flavor))
    return report


def lint_migrations(
    pending: Sequence[Migration],
    options: LintOptions,
    *,
    prior: Sequence[Migration] = (),
    conn: Connection | None = None,
    catalog: Catalog | None = None,
) -> LintReport:
    """Lint the up part of ``pending`` migrations in order, as ``pgshift up`` would run them.

    The schema comes from ``catalog`` (rows already read from the live database) or ``conn``
    (a live connection) when given, else from the options' database or schema file, else from
    replaying ``prior`` (already-applied migrations).
    Pending migrations run together, so a table an earlier pending migration creates is still
    new and empty when a later one indexes or alters it. A migration that cannot be parsed
    raises InputError.
    """
    engine = Engine(options)
    if catalog is not None:
        from pgshift.lint.catalog import schema_of

        schema = schema_of(catalog)
    elif conn is not None:
        from pgshift.lint.catalog import load_schema

        schema = load_schema(conn)
    else:
        schema = base_schema(options) or Schema()
        if not (options.database_url or options.schema_file):
            for migration in prior:
                try:
                    engine.replay(migration.up_sql, migration.path, schema, plain=True)
                except PgshiftError:
                    continue
    report = LintReport(files=len(pending))
    batch = Created()
    for migration in pending:
        d = migration.directives
        lock_timeout = d.lock_timeout if d.lock_timeout is not None else options.lock_timeout
        prepared = Prepared(migration.up_sql, migration.transactional, lock_timeout > 0, True)
        locks = report.locks.setdefault(migration.label, [])
        report.violations.extend(engine.lint_prepared(prepared, migration.path, schema, batch,
                                                      locks))
    return report


def _up_refusals(directory: Path, options: LintOptions, migrations_dir: Path | None,
                 flavor: str | None) -> list[PgshiftError]:
    """What ``pgshift up`` refuses in ``directory`` before it runs anything: the first refusal
    of its discovery, and of its callbacks (each stops at its first, as up does)."""
    if migrations_dir is None or not _same_folder(directory, migrations_dir):
        if not _pgshift_names(directory):
            return []
        flavor = None  # the configured one is the migrations directory's: detected here
    from pgshift.callbacks import load_callbacks
    from pgshift.migrations.discover import discover_migrations

    found: list[PgshiftError] = []
    try:
        discover_migrations(directory, flavor=flavor, cache=_discovery_cache(
            directory, options, flavor))
    except InputError as exc:
        found.append(exc)
    try:
        if _may_have_callbacks(directory):
            load_callbacks(directory, dict(options.placeholders))
    except InputError as exc:
        found.append(exc)
    return found


# How every callback event's name begins (see callbacks.EVENTS).
CALLBACK_STARTS = ("before", "after")


def _may_have_callbacks(directory: Path) -> bool:
    """Whether ``directory`` has a callbacks folder or a file named like a callback: a glance
    at the names, where load_callbacks would match each of them (as api's up does)."""
    from pgshift.callbacks import FOLDER

    if (directory / FOLDER).is_dir():
        return True
    try:
        return any(name.startswith(CALLBACK_STARTS) for name in os.listdir(directory))
    except OSError:
        return True  # load_callbacks says what is wrong


def _pgshift_names(directory: Path) -> bool:
    """Whether ``directory``'s files have pgshift's names rather than another tool's numbered
    ones (which ``up`` reads only as that tool's directory)."""
    from pgshift.callbacks import is_callback
    from pgshift.migrations.flavors import NUMBERED, detect_flavor

    try:  # names tell numbered files apart; reading them would only tell which tool's
        return detect_flavor(directory, lambda _: "", is_callback) not in NUMBERED
    except OSError:
        return False  # the listing failed, and said so (see files.migration_files)


def _same_folder(one: Path, other: Path) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return False


def _discovery_cache(directory: Path, options: LintOptions, flavor: str | None
                     ) -> DiscoveryCache | None:
    """up's discovery cache of ``directory``, when lint caches: unchanged files are not read
    again (and the cache up reads is the one this refreshes)."""
    if options.cache_dir is None:
        return None
    from pgshift.migrations.cache import DiscoveryCache

    return DiscoveryCache.open(options.cache_dir, directory, flavor=flavor)


def _add_refusals(report: LintReport, refusals: list[PgshiftError]) -> None:
    """``refusals`` as failures, but for a file that has one already: linting it found the
    same (a syntax error, a bad directive), said at least as precisely."""
    failed = {os.path.abspath(f.path) for f in report.failures if f.path}
    report.failures.extend(r for r in refusals
                           if r.path is None or os.path.abspath(r.path) not in failed)


def base_schema(options: LintOptions) -> Schema | None:
    """The schema from the database or the schema file, or None to replay migrations."""
    if options.database_url:
        from pgshift.config import Settings
        from pgshift.db import connect
        from pgshift.lint.catalog import load_schema

        conn = connect(Settings(), url=options.database_url, application_name="pgshift lint")
        try:
            return load_schema(conn)
        finally:
            conn.close()
    if options.schema_file is not None:
        path = options.schema_file
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read schema file: {exc}", path=path) from None
        schema = Schema()
        Engine(options).replay(text, path, schema, plain=True)
        return schema
    return None


def _read(path: str) -> tuple[str | None, str, PgshiftError | None]:
    from pgshift.migrations.parse import checksum, normalize, read_bytes

    try:
        raw = read_bytes(path)
        try:  # the common case, without building a Path: UTF-8, no BOM, no CR
            text = raw.decode("utf-8")
            if "\r" in text or text.startswith("\ufeff"):
                raise ValueError
        except ValueError:
            text = normalize(raw, Path(path))
    except OSError as exc:
        return None, "", InputError(f"cannot read file: {exc.strerror}", path=path)
    except PgshiftError as exc:
        return None, "", exc
    return text, checksum(text), None


def _fingerprint(path: str, cache: ResultCache | None) -> tuple[str | None, str,
                                                                 PgshiftError | None]:
    """``(text or None, checksum, error)``: the text is not read when the cache knows it."""
    if cache is None:
        return _read(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        return None, "", InputError(f"cannot read file: {exc.strerror}", path=path)
    signature = (st.st_size, st.st_mtime_ns, st.st_ino)
    known = cache.checksum(path, signature)
    if known is not None:
        return None, known, None
    text, digest, error = _read(path)
    if error is None:
        cache.remember(path, signature, digest)
    return text, digest, error


@dataclass
class _UnitRun:
    """One unit's files with their cache keys, cached results and (later) fresh ones."""

    files: list[FileWork] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    found: list[list[Violation]] = field(default_factory=list)
    cache: ResultCache | None = None


def _start_unit(unit: Unit, cache: ResultCache | None, seed: str,
                report: LintReport) -> _UnitRun:
    """Fingerprint a unit's files and take what the cache already knows."""
    run = _UnitRun(cache=cache)
    previous = seed
    for path, lint in unit.files:
        text, digest, error = _fingerprint(path, cache)
        previous = chain(previous, digest, os.path.basename(path), lint)
        run.keys.append(previous)
        run.found.append([])
        if error is not None:
            if lint:
                report.failures.append(error)
            run.files.append(FileWork(path, None, lint, False, readable=False))
            continue
        cached = cache.get(previous) if cache is not None and lint else None
        work = FileWork(path, text, lint, lint and cached is None)
        if cached is not None:
            report.cached += 1
            if cached and cached[0][0] == _FAILED:
                _, _, message, hint, line, _ = cached[0]
                report.failures.append(InputError(message, hint=hint or None, path=path,
                                                  line=line or None))
            else:
                run.found[-1] = _violations(cached, work.pathobj)
        run.files.append(work)
    report.files += unit.targets
    return run


def _resume(run: _UnitRun) -> UnitWork:
    """The unit's work, resuming replay from the latest cached checkpoint before its first
    uncached file."""
    work = UnitWork(run.files)
    first = next((i for i, f in enumerate(run.files) if f.todo), None)
    if first is None or run.cache is None:
        return work
    for index in range(first - 1, -1, -1):
        schema = run.cache.checkpoint(run.keys[index])
        if schema is not None:
            work.resume, work.checkpoint = index, schema
            break
    return work


def _run(units: list[Unit], options: LintOptions, base: Schema | None) -> LintReport:
    report = LintReport()
    use_cache = options.cache_dir is not None and not options.database_url
    seed = f"{engine_fingerprint()}\0{options.fingerprint()}" if use_cache else ""
    runs = [_start_unit(unit, ResultCache(options.cache_dir, _scope(unit))  # type: ignore[arg-type]
                        if use_cache else None, seed, report) for unit in units]
    works = [_resume(run) for run in runs]
    tasks = plan(works, options.jobs or cpu_count())
    for task, outcome, checkpoints in execute(options, base, works, tasks):
        run = runs[task.unit]
        if run.cache is not None:
            for index, schema in checkpoints.items():
                run.cache.put_checkpoint(run.keys[index], schema)
        for index, result in outcome:
            path = run.files[index].pathobj
            if isinstance(result, tuple):
                message, hint, line = result
                report.failures.append(InputError(message, hint=hint, path=path, line=line))
                result = [(_FAILED, "", message, hint or "", line or 0, 0)]
            else:
                run.found[index] = _violations(result, path)
            if run.cache is not None:
                run.cache.put(run.keys[index], result)
    for run in runs:
        if run.cache is not None:
            run.cache.save()
    report.violations = [v for run in runs for slot in run.found for v in slot]
    return report


_FAILED = "!failed"  # a cached "could not lint" (syntax error, bad directive)


def _violations(rows: list, path: Path) -> list[Violation]:
    return [Violation(rule, severity, message, hint, path, line, column)  # type: ignore[arg-type]
            for rule, severity, message, hint, line, column in rows]


def _scope(unit: Unit) -> str:
    first = unit.files[0][0] if unit.files else "."
    return os.path.dirname(os.path.abspath(first))
