"""pytest plugin for applications that use pgshift: migrated databases and migration checks.

Fixtures:

- ``pgshift_database``: the URL of a fresh database migrated to head, dropped after the test.
  With ``@pytest.mark.pgshift_schema(before="V003")`` it stops just before V003; with
  ``after="V003"`` just after it, to test code against the old and the new schema (the
  "application still works with the old schema" check). Each state is migrated once per session
  and cloned for every test (``CREATE DATABASE ... TEMPLATE``), so a test costs milliseconds.
- ``pgshift_roundtrip``: a function that runs ``pgshift verify`` on every migration (up, down,
  up again, schema compared each time; ``queries=`` a file of the app's queries) on a scratch
  database and fails the test with the readable report; it returns the ``VerifyReport``.
- ``pgshift_settings``: the project's Settings (``pgshift.toml`` / ``[tool.pgshift]``).
- ``pgshift_server_url``: the server the databases live on.

Options (or ini keys ``pgshift_url`` / ``pgshift_dir``): ``--pgshift-url URL`` puts the databases
on that server (the role needs CREATEDB); without it a throwaway PostgreSQL is started once per
session. ``--pgshift-dir DIR`` overrides the migrations directory.

Enabled by its ``pytest11`` entry point when pgshift is installed, or with ``-p pgshift.testing``.
Importing it costs nothing beyond pytest: pgshift loads only when a fixture is used.

A pgshift error (a migration that fails, a marker naming no migration) fails each test that
needs that state with its one line, ``pgshift: error: …``. The databases are named
``pgshift_test_<session>_…``; those a killed session left on a ``--pgshift-url`` server are
dropped by the next session, with a warning naming them (see ``pgshift.verify.scratch``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    from pgshift.config import Settings
    from pgshift.errors import PgshiftError
    from pgshift.verify import VerifyReport

MARKER = "pgshift_schema"
_PREFIX = "pgshift_test_"  # + the session's own 8 hex digits, then each database's


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pgshift", "pgshift migrated test databases")
    group.addoption("--pgshift-url", default=None, metavar="URL",
                    help="server for pgshift test databases (default: a throwaway PostgreSQL)")
    group.addoption("--pgshift-dir", default=None, metavar="DIR",
                    help="migrations directory (default: from pgshift.toml or [tool.pgshift])")
    parser.addini("pgshift_url", "server for pgshift test databases", default="")
    parser.addini("pgshift_dir", "migrations directory for pgshift test databases", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(before=None, after=None): run against the schema just before or "
        "just after the given migration version (pgshift_database fixture)")


def _option(config: pytest.Config, name: str) -> str:
    return config.getoption(f"--pgshift-{name}") or str(config.getini(f"pgshift_{name}") or "")


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pgshift_settings(pytestconfig: pytest.Config) -> Settings:
    """The project's Settings, without a target URL (the plugin makes its own databases)."""
    import dataclasses

    from pgshift import config

    folder = _option(pytestconfig, "dir")
    settings = config.load(cwd=pytestconfig.rootpath)
    directory = Path(folder) if folder else settings.dir
    if not directory.is_absolute():
        directory = pytestconfig.rootpath / directory
    return dataclasses.replace(settings, url=None, dir=directory, lint=False)


@pytest.fixture(scope="session")
def pgshift_server_url(pytestconfig: pytest.Config) -> Iterator[str]:
    """The server's URL: ``--pgshift-url``, or a throwaway server started for the session."""
    given = _option(pytestconfig, "url")
    if given:
        yield given
        return
    from pgshift.server import ThrowawayServer

    with ThrowawayServer() as server:
        yield server.url


@pytest.fixture(scope="session")
def _pgshift_templates(pgshift_settings: Settings,
                       pgshift_server_url: str) -> Iterator[_Templates]:
    import warnings

    with _failing_the_test():
        templates = _Templates(pgshift_settings, pgshift_server_url)
    if templates.reclaimed:
        warnings.warn(f"pgshift: dropped {len(templates.reclaimed)} test database(s) a killed "
                      f"session had left on the server: {', '.join(templates.reclaimed)}",
                      stacklevel=1)
    yield templates
    templates.drop_all()


@pytest.fixture
def pgshift_database(request: pytest.FixtureRequest, _pgshift_templates: _Templates
                     ) -> Iterator[str]:
    """A fresh database at head, or at the ``pgshift_schema`` marker's state; its URL."""
    target = _marker_target(request)
    with _failing_the_test():
        template = _pgshift_templates.template(target)
        clone = _pgshift_templates.clone(template)
    with clone as url:
        yield url


@pytest.fixture
def pgshift_roundtrip(pgshift_settings: Settings, _pgshift_templates: _Templates
                      ) -> Callable[..., VerifyReport]:
    """``pgshift_roundtrip(queries=None)``: verify every migration; fails the test if any fails."""

    def run(queries: str | Path | None = None, **options: Any) -> VerifyReport:
        from pgshift.verify import VerifyOptions, run_verify

        with _failing_the_test(), _pgshift_templates.clone(None) as url:
            report = run_verify(pgshift_settings, VerifyOptions(
                scratch_url=url, queries_file=Path(queries) if queries else None, **options))
        if not report.ok:
            pytest.fail(_render(report), pytrace=False)
        return report

    return run


# -- internals ----------------------------------------------------------------------------------


@contextmanager
def _failing_the_test() -> Iterator[None]:
    """A pgshift error fails the test with its one line, as the CLI prints it."""
    from pgshift.errors import PgshiftError

    try:
        yield
    except PgshiftError as exc:
        try:
            pytest.fail(f"pgshift: error: {exc}", pytrace=False)
        except pytest.fail.Exception as failed:
            raise failed from None  # the line alone, not the error it came from


def _misused(message: str) -> NoReturn:
    """A misused marker fails its test with the line alone: no traceback through the plugin."""
    pytest.fail(f"pgshift: error: {message}", pytrace=False)


def _marker_target(request: pytest.FixtureRequest) -> tuple[str, str] | None:
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return None
    given = {k: v for k, v in marker.kwargs.items() if v is not None}
    if marker.args or len(given) != 1 or next(iter(given)) not in ("before", "after"):
        _misused(f'use @pytest.mark.{MARKER}(before="V003") or (after="V003")')
    side, version = next(iter(given.items()))
    return side, str(version)


class _Templates:
    """Databases migrated to a given state once per session, cloned for each test."""

    def __init__(self, settings: Settings, server_url: str) -> None:
        from pgshift.errors import DatabaseConnectionError
        from pgshift.verify.databases import keep, reclaim_abandoned

        self.settings = settings
        self.server_url = server_url
        self.made: dict[str, str] = {}
        self.failed: dict[str, PgshiftError] = {}  # a state whose migrations failed: why
        session = f"{_PREFIX}{uuid.uuid4().hex[:8]}"
        self.prefix = f"{session}_"
        # Held until drop_all: the next session (after this one is killed) knows it by it.
        try:
            self.keeper = keep(settings, server_url, session)
        except DatabaseConnectionError as exc:  # the CLI's hint names --url, PGSHIFT_URL...
            exc.hint = _server_hint(exc.hint)
            raise
        self.reclaimed = reclaim_abandoned(self.keeper, _PREFIX)

    def template(self, target: tuple[str, str] | None) -> str | None:
        """The name of the template database for ``target`` (None: head); made on first use.
        A state whose migrations failed raises that error again for every test that asks."""
        from pgshift.errors import PgshiftError

        version = self._version(target) if target else "head"
        if version == "":  # before the first migration: an empty database
            return None
        if version in self.failed:
            raise self.failed[version]
        if version not in self.made:
            name = f"{self.prefix}{uuid.uuid4().hex[:8]}"
            self._create(name, None)
            self.made[version] = name
            try:
                self._migrate(name, None if version == "head" else version)
            except PgshiftError as exc:  # never cloned half-migrated
                from pgshift.verify.databases import drop_database

                self.failed[version] = exc
                del self.made[version]
                drop_database(self.settings, self.server_url, name)
                raise
        return self.made[version]

    def _version(self, target: tuple[str, str]) -> str:
        from pgshift.errors import InputError
        from pgshift.migrations.discover import discover_migrations
        from pgshift.migrations.model import Version

        side, text = target
        try:
            wanted = Version.parse(text.lstrip("Vv"))
        except ValueError:
            _misused(f"{MARKER}: not a version: {text!r}")
        versions = [m.version for m in discover_migrations(
            self.settings.dir, flavor=self.settings.flavor) if m.version]
        if wanted not in versions:
            raise InputError(f"{MARKER}: no migration with version {text}",
                             path=self.settings.dir)
        if side == "after":
            return str(wanted)
        earlier = [v for v in versions if v < wanted]
        return str(earlier[-1]) if earlier else ""

    def _migrate(self, name: str, to: str | None) -> None:
        import dataclasses

        from pgshift import api

        # Test databases go straight to the state asked for: no expand/contract pause.
        api.up(dataclasses.replace(self.settings, url=self._url(name)), to=to, allow_contract=True)

    def clone(self, template: str | None) -> _Clone:
        name = f"{self.prefix}{uuid.uuid4().hex[:8]}"
        self._create(name, template)
        return _Clone(self, name)

    def drop_all(self) -> None:
        from pgshift.verify.databases import drop_database

        try:
            for name in list(self.made.values()):
                drop_database(self.settings, self.server_url, name)
            self.made.clear()
        finally:
            self.keeper.close()

    def _url(self, name: str) -> str:
        from pgshift.verify.databases import url_with_dbname

        return url_with_dbname(self.server_url, name)

    def _create(self, name: str, template: str | None) -> None:
        from pgshift.verify.databases import create_database

        create_database(self.settings, self.server_url, name, template=template, what="test",
                        application_name="pgshift testing",
                        hint="grant CREATEDB to the role of --pgshift-url, or leave "
                             "--pgshift-url out to use a throwaway server")


class _Clone:
    """``with templates.clone(name) as url:`` a database that is dropped afterwards."""

    def __init__(self, templates: _Templates, name: str) -> None:
        self.templates, self.name = templates, name

    def __enter__(self) -> str:
        return self.templates._url(self.name)

    def __exit__(self, *exc: object) -> None:
        from pgshift.verify.databases import drop_database

        drop_database(self.templates.settings, self.templates.server_url, self.name)


def _server_hint(hint: str | None) -> str:
    """The hint of an error connecting to the server, for the plugin: it takes the server from
    --pgshift-url only, and has no --connect-wait. A specific hint (the password...) stays."""
    hint = (hint or "").split("; --connect-wait")[0]
    if not hint or hint.startswith("check --url"):
        return "check --pgshift-url (or the pgshift_url ini key)"
    return hint


def _render(report: VerifyReport) -> str:
    import io

    from pgshift.cli.verify import render_report

    out = io.StringIO()
    render_report(report, out)
    return "pgshift verify failed:\n" + out.getvalue()
