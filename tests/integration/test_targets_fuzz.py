"""Many targets under hostile use: the flags of a one-database up, signals in the middle of a
parallel run, a query that lists pgshift's own schemas, a database that is not there."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.fixtures.sessions import wait_for

from pgshift import config, targets
from pgshift.cli.main import main
from pgshift.errors import ConfigError


def write_config(tmp_path: Path, url: str, migrations: Path, targets_toml: str) -> Path:
    toml = tmp_path / "pgshift.toml"
    toml.write_text(f'url = "{url}"\ndir = "{migrations}"\nlint = false\n[targets]\n'
                    f"{targets_toml}\n")
    return toml


@pytest.fixture
def expand_then_contract(write_migration) -> None:
    write_migration("V1__users.sql", "CREATE TABLE users (id int, name text);",
                    "DROP TABLE users;")
    write_migration("V2__display.sql", "ALTER TABLE users ADD COLUMN display text;",
                    "ALTER TABLE users DROP COLUMN display;")
    write_migration("V3__drop_name.sql", "ALTER TABLE users DROP COLUMN name;",
                    "ALTER TABLE users ADD COLUMN name text;")


def test_up_all_targets_with_phase_expand_runs_no_contract_migration(
    database_url, migrations_dir, expand_then_contract, tmp_path, query, capsys
) -> None:
    toml = write_config(tmp_path, database_url, migrations_dir, 'schemas = ["t1", "t2"]')
    # V1 and V2 applied by an earlier run: V3 (DROP COLUMN) is all that is pending.
    assert main(["up", "--config", str(toml), "--all-targets", "--to", "2"]) == 0
    capsys.readouterr()
    assert main(["up", "--config", str(toml), "--all-targets", "--phase", "expand",
                 "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["summary"]["up-to-date"] == 2
    assert query("SELECT count(*) FROM information_schema.columns WHERE column_name = 'name' "
                 "AND table_name = 'users'") == [(2,)]
    assert [(s.applied, s.pending) for s in targets.status_all(
        config.load(config=toml, env={}))] == [(2, 1), (2, 1)]


def test_up_all_targets_passes_allow_contract_and_refuses_cancel_blockers(
    database_url, migrations_dir, expand_then_contract, tmp_path, capsys
) -> None:
    toml = write_config(tmp_path, database_url, migrations_dir, 'schemas = ["t1"]')
    assert main(["up", "--config", str(toml), "--all-targets"]) == 1  # mixed: refused
    assert "--allow-contract" in capsys.readouterr().out
    assert main(["up", "--config", str(toml), "--all-targets", "--cancel-blockers",
                 "idle-in-transaction"]) == 2
    assert "does not go with --all-targets" in capsys.readouterr().err
    assert main(["up", "--config", str(toml), "--all-targets", "--allow-contract"]) == 0


@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_cancels_the_running_targets_and_starts_no_other(
    database_url, migrations_dir, write_migration, tmp_path, query, pgshift_env, sent
) -> None:
    write_migration("V1__slow.sql", "CREATE TABLE a (id int);\nSELECT pg_sleep(30);",
                    "DROP TABLE a;")
    tenants = [f"tenant_{n:02d}" for n in range(12)]
    toml = write_config(tmp_path, database_url, migrations_dir,
                        f"schemas = {json.dumps(tenants)}")
    run = subprocess.Popen(
        [sys.executable, "-m", "pgshift", "up", "--config", str(toml), "--all-targets",
         "--parallel", "3", "--json"], env=pgshift_env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    wait_for(lambda: query("SELECT count(*) FROM pg_stat_activity WHERE query LIKE "
                           "'%pg_sleep(30)%' AND pid <> pg_backend_pid()") == [(3,)], 20)
    started = time.monotonic()
    os.kill(run.pid, sent)
    out, err = run.communicate(timeout=20)
    assert time.monotonic() - started < 10  # not the 30 s of the sleeps
    assert run.returncode == 128 + sent and "Traceback" not in err
    assert f"interrupted by {sent.name}" in err
    shown = json.loads(out)
    assert shown["interrupted"] is True and shown["exit_code"] == 128 + sent
    assert shown["summary"] == {"applied": 0, "up-to-date": 0, "failed": 3, "skipped": 9}
    failed = [t for t in shown["targets"] if t["status"] == "failed"]
    assert all(t["error"].startswith("interrupted") for t in failed)
    # Each running target's transaction was rolled back, on the server too: no table, no row.
    assert query("SELECT count(*) FROM pg_tables WHERE tablename = 'a'") == [(0,)]
    assert query("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' "
                 "AND pid <> pg_backend_pid()") == [(0,)]


def test_a_query_listing_every_schema_does_not_make_history_schemas_tenants(
    database_url, migrations_dir, write_migration, tmp_path, query
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    query("CREATE SCHEMA acme; CREATE SCHEMA globex")
    toml = write_config(tmp_path, database_url, migrations_dir,
                        "schemas_query = \"SELECT nspname FROM pg_namespace WHERE nspname NOT "
                        "LIKE 'pg\\\\_%' AND nspname NOT IN ('public', 'information_schema')\"")
    for _ in range(3):
        assert main(["up", "--config", str(toml), "--all-targets"]) == 0
    settings = config.load(config=toml, env={})
    assert sorted(t.name for t in targets.resolve_targets(settings)) == ["acme", "globex"]
    assert query("SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace "
                 "WHERE nspname LIKE '%acme%'") == [("acme,pgshift_acme",)]
    assert query("SELECT count(*) FROM pg_tables WHERE tablename = 'a'") == [(2,)]


@pytest.mark.parametrize(("tenants", "message"), [
    (["acme", "pgshift_acme"], "'pgshift_acme' is the history schema of tenant acme"),
    (["pgshift"], "'pgshift' is pgshift's own schema"),
])
def test_a_listed_tenant_that_is_pgshifts_own_schema_is_a_config_error(
    tenants: list[str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        targets.resolve_targets(config.Settings(url="postgresql://u@h/d",
                                                targets={"schemas": tenants}))


def test_a_missing_database_target_is_named_as_a_url_without_its_password(
    admin_url, migrations_dir, write_migration, tmp_path, capsys
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    url = admin_url.replace("://", "://app:Sekr3tPw@", 1) if "@" not in admin_url else (
        admin_url.replace("@", ":Sekr3tPw@", 1))
    toml = write_config(tmp_path, url, migrations_dir, 'databases = ["no_such_db_here"]')
    assert main(["up", "--config", str(toml), "--all-targets", "--json"]) == 2
    captured = capsys.readouterr()
    [shown] = json.loads(captured.out)["targets"]
    assert shown["status"] == "failed" and "/no_such_db_here" in shown["error"]
    assert "dbname=" not in shown["error"]
    assert "Sekr3tPw" not in captured.out + captured.err
    assert "no_such_db_here: failed" in captured.err  # progress on stderr, JSON alone on stdout
