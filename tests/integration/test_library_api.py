"""The library API as README shows it: ``import pgshift`` and call the verbs on it."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import pgshift
from pgshift.errors import InputError


def test_every_exported_name_resolves() -> None:
    for name in pgshift.__all__:
        assert getattr(pgshift, name) is not None, name


def test_the_backfill_verb_stays_callable_once_its_package_is_loaded(settings, query) -> None:
    """``pgshift.backfill`` is a verb and a package: loading the package (status does, and so
    does the verb itself) must not turn the verb into a module that cannot be called."""
    query("CREATE TABLE t (id int PRIMARY KEY, n int); INSERT INTO t SELECT g, 0 "
          "FROM generate_series(1, 10) g")
    import pgshift.backfill.progress  # as status_report does

    assert pgshift.backfill(settings, "t", "n = 1").rows == 10
    assert pgshift.backfill(settings, "t", "n = 2", again=True).rows == 10
    assert query("SELECT DISTINCT n FROM t") == [(2,)]


def test_a_fresh_interpreter_can_call_backfill_twice(settings, query) -> None:
    query("CREATE TABLE u (id int PRIMARY KEY, n int); INSERT INTO u VALUES (1, 0)")
    program = ("import sys, pgshift\n"
               "s = pgshift.load_settings(url=sys.argv[1])\n"
               "pgshift.backfill(s, 'u', 'n = n + 1')\n"
               "pgshift.backfill(s, 'u', 'n = n + 1', again=True)\n")
    subprocess.run([sys.executable, "-c", program, settings.url], check=True, timeout=60)
    assert query("SELECT n FROM u") == [(2,)]


def test_adopt_stays_a_verb_once_its_package_is_loaded(settings) -> None:
    importlib.import_module("pgshift.adopt.sources")
    with pytest.raises(InputError, match="unknown tool"):
        pgshift.adopt(settings, "liquibase-xml")


def test_verify_stays_a_verb_once_its_package_is_loaded(settings, write_migration) -> None:
    importlib.import_module("pgshift.verify.report")
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    report = pgshift.verify(settings)
    assert [check.script for check in report.migrations] == ["V1__a.sql"]
