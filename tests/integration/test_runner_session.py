"""Every migration starts with pgshift's own session settings, whatever the one before it set
or reset: a RESET gives the server's (or role's) value back, not pgshift's."""

from __future__ import annotations

import dataclasses
import threading

import pytest
from tests.fixtures.pg import url_with_server_setting

from pgshift import api

SEES = ("CREATE TABLE public.seen AS SELECT current_setting('idle_session_timeout') AS idle, "
        "current_setting('lock_timeout') AS lock_timeout, "
        "current_setting('statement_timeout') AS statement_timeout, "
        "current_setting('DateStyle') AS datestyle;")
OWN = [("0", "500ms", "10min", "ISO, MDY")]  # pgshift's own, and the session's as it began


def with_server_setting(settings, name: str, value: str):
    return dataclasses.replace(settings, url=url_with_server_setting(settings.url, name, value))


@pytest.mark.parametrize("sets", [
    "SET idle_session_timeout = '1min';",
    "RESET ALL;",
    "SELECT set_config('idle_session_timeout', '60000', false);",
    "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS "
    "$$ SELECT set_config('idle_session_timeout', '60000', false) $$;\nSELECT f();",
], ids=["SET", "RESET ALL", "set_config", "in a function"])
@pytest.mark.parametrize("header", ["", "-- pgshift:no-transaction"], ids=["tx", "no-tx"])
def test_a_later_migration_runs_with_pgshifts_idle_session_timeout_not_the_servers(
    settings, write_migration, query, sets, header
) -> None:
    write_migration("V1__sets.sql", sets, "SELECT 1;", header=header)
    write_migration("V2__sees.sql", SEES, "DROP TABLE seen;")
    api.up(with_server_setting(settings, "idle_session_timeout", "150"))
    assert query("SELECT * FROM seen") == OWN


@pytest.mark.pg(">=17")
@pytest.mark.parametrize("sets", [
    "SET transaction_timeout = '1min';",
    "RESET ALL;",
    "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS "
    "$$ SELECT set_config('transaction_timeout', '60000', false) $$;\nSELECT f();",
], ids=["SET", "RESET ALL", "in a function"])
def test_a_later_migration_runs_with_pgshifts_transaction_timeout_not_the_servers(
    settings, write_migration, query, sets
) -> None:
    write_migration("V1__sets.sql", sets, "SELECT 1;")
    write_migration("V2__sees.sql", "CREATE TABLE seen AS "
                    "SELECT current_setting('transaction_timeout') AS t;", "DROP TABLE seen;")
    api.up(with_server_setting(settings, "transaction_timeout", "150"))
    assert query("SELECT t FROM seen") == [("0",)]


def test_a_lock_retrys_backoff_after_a_migration_that_reset_idle_session_timeout_still_applies(
    settings, write_migration, query, app_session
) -> None:
    """The RESET after the first migration gave the server's 150 ms back: the second one's
    backoff between lock retries then ended the session, and the run, with it."""
    query("CREATE TABLE a (id int)")
    write_migration("V1__sets.sql", "SET idle_session_timeout = '1min';", "SELECT 1;")
    write_migration("V2__col.sql", "ALTER TABLE a ADD COLUMN b int;",
                    "ALTER TABLE a DROP COLUMN b;")
    app = app_session("app")
    app.cursor().execute("SELECT * FROM a")  # its transaction stays open, holding a lock
    threading.Timer(1.5, app.rollback).start()
    timed = dataclasses.replace(with_server_setting(settings, "idle_session_timeout", "150"),
                                lock_timeout=0.1, lock_retries=20)
    result = api.up(timed)
    assert result.outcomes[-1].attempts > 2
    assert [r[0] for r in query("SELECT key FROM pgshift.history ORDER BY key")] == ["1", "2"]


@pytest.mark.parametrize("sets", [
    "SET lock_timeout = '1min';",
    "SET statement_timeout = '1min';",
    "SET idle_session_timeout = '1min';",
    "SET DateStyle = 'SQL, DMY';",
    "SELECT set_config('lock_timeout', '60000', false);",
    "RESET ALL;",
], ids=["lock_timeout", "statement_timeout", "idle_session_timeout", "DateStyle", "set_config",
        "RESET ALL"])
def test_in_one_transaction_what_a_migration_sets_for_the_session_does_not_reach_the_next(
    settings, write_migration, query, sets
) -> None:
    write_migration("V1__sets.sql", sets, "SELECT 1;")
    write_migration("V2__sees.sql", SEES, "DROP TABLE seen;")
    api.up(dataclasses.replace(with_server_setting(settings, "idle_session_timeout", "150"),
                               single_transaction=True))
    assert query("SELECT * FROM seen") == OWN
