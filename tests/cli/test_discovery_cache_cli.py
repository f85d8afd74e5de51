"""The discovery cache from the command line: status trusts it; validate does not; up and down
confirm on the disk what they run.

A cache that lies (forged here) shows what each command believes: its files or the cache.
"""

from __future__ import annotations

import marshal
import time
from pathlib import Path

import pytest
from tests.fixtures.project import modules_loaded

RACY_WINDOW = 2.0  # seconds: a file changed more recently than this is never cached


@pytest.fixture
def cache_home(tmp_path: Path) -> dict[str, str]:
    return {"XDG_CACHE_HOME": str(tmp_path / "cache")}


def forge(cache_home: dict[str, str], name: str, *, checksum: str | None = None,
          up_sql: str | None = None, down_sql: str | None = None) -> None:
    """Make the cache say something else about ``name`` (its stat signature kept)."""
    (path,) = (Path(cache_home["XDG_CACHE_HOME"]) / "pgshift").glob("discover-*.marshal")
    data = marshal.loads(path.read_bytes())
    signature, (sha, up, down, down_line, directives) = data["entries"][name]
    data["entries"][name] = (signature, (checksum or sha, up_sql or up, down_sql or down,
                                         down_line, directives))
    path.write_bytes(marshal.dumps(data))


def test_status_trusts_the_cache_and_validate_reads_every_file(
        cli, write_migration, cache_home) -> None:
    write_migration("V1__users.sql", "CREATE TABLE users (id int);", "DROP TABLE users;")
    assert cli("up", env=cache_home).returncode == 0
    time.sleep(RACY_WINDOW + 0.1)
    assert "1 applied" in cli("status", env=cache_home).stdout  # remembers V1 now
    forge(cache_home, "V1__users.sql", checksum="0" * 64)

    assert "CHANGED (file changed since it was applied)" in cli("status", env=cache_home).stdout
    assert "CHANGED" not in cli("status", env={**cache_home,
                                               "PGSHIFT_DISCOVERY_CACHE": "false"}).stdout
    validated = cli("validate", env=cache_home)
    assert validated.returncode == 0, validated.stderr
    assert "OK: 1 applied migration(s) match their files." in validated.stdout
    assert "CHANGED" not in cli("status", env=cache_home).stdout  # validate refreshed it


def test_a_status_or_no_op_up_the_cache_serves_loads_no_hashing(
        cli, write_migration, cache_home, pgshift_env) -> None:
    """Every checksum is in the cache: OpenSSL, which hashlib loads (2 ms), stays out."""
    write_migration("V1__users.sql", "CREATE TABLE users (id int);", "DROP TABLE users;")
    assert cli("up", env=cache_home).returncode == 0
    time.sleep(RACY_WINDOW + 0.1)
    assert "1 applied" in cli("status", env=cache_home).stdout  # remembers V1 now
    for command in ("status", "up"):
        assert not {"hashlib", "_hashlib"} & modules_loaded({**pgshift_env, **cache_home},
                                                             command)


def test_up_runs_the_files_not_the_cache(cli, write_migration, cache_home, query) -> None:
    write_migration("V1__users.sql", "CREATE TABLE users (id int);", "DROP TABLE users;")
    write_migration("V2__orders.sql", "CREATE TABLE orders (id int);", "DROP TABLE orders;")
    assert cli("up", "--to", "1", env=cache_home).returncode == 0
    time.sleep(RACY_WINDOW + 0.1)
    assert "1 pending" in cli("status", env=cache_home).stdout
    forge(cache_home, "V1__users.sql", checksum="0" * 64)
    forge(cache_home, "V2__orders.sql", up_sql="CREATE TABLE forged (id int);\n")

    result = cli("up", env=cache_home)
    assert result.returncode == 0, result.stderr  # no drift: V1 was read from its file
    assert "Applying V2 orders ... done" in result.stdout
    tables = {row[0] for row in query("SELECT tablename FROM pg_tables WHERE schemaname = %s",
                                      "public")}
    assert tables == {"users", "orders"}
    assert "Nothing to apply" in cli("up", env=cache_home).stdout


def test_up_confirms_on_the_disk_what_it_runs_even_when_the_checksum_agrees(
        cli, write_migration, cache_home, query) -> None:
    write_migration("V1__users.sql", "CREATE TABLE users (id int);", "DROP TABLE users;")
    write_migration("V2__orders.sql", "CREATE TABLE orders (id int);", "DROP TABLE orders;")
    assert cli("up", "--to", "1", env=cache_home).returncode == 0
    time.sleep(RACY_WINDOW + 0.1)
    assert "1 pending" in cli("status", env=cache_home).stdout
    forge(cache_home, "V2__orders.sql", up_sql="CREATE TABLE forged (id int);\n")

    result = cli("up", env=cache_home)
    assert result.returncode == 0, result.stderr
    tables = {row[0] for row in query("SELECT tablename FROM pg_tables WHERE schemaname = %s",
                                      "public")}
    assert tables == {"users", "orders"}


def test_down_confirms_on_the_disk_what_it_undoes(cli, write_migration, cache_home,
                                                   query) -> None:
    write_migration("V1__users.sql", "CREATE TABLE users (id int);", "DROP TABLE users;")
    write_migration("V2__orders.sql", "CREATE TABLE orders (id int);", "DROP TABLE orders;")
    assert cli("up", env=cache_home).returncode == 0
    time.sleep(RACY_WINDOW + 0.1)
    assert "2 applied" in cli("status", env=cache_home).stdout  # remembers both now
    forge(cache_home, "V2__orders.sql", down_sql="DROP TABLE users;\n")

    result = cli("down", env=cache_home)
    assert result.returncode == 0, result.stderr
    tables = {row[0] for row in query("SELECT tablename FROM pg_tables WHERE schemaname = %s",
                                      "public")}
    assert tables == {"users"}
    assert "1 applied, 1 pending" in cli("status", env=cache_home).stdout


def test_down_reads_again_only_what_it_undoes(cli, write_migration, cache_home) -> None:
    for n in range(1, 4):
        write_migration(f"V{n}__t{n}.sql", f"CREATE TABLE t{n} (id int);", f"DROP TABLE t{n};")
    assert cli("up", env=cache_home).returncode == 0
    time.sleep(RACY_WINDOW + 0.1)
    assert "3 applied" in cli("status", env=cache_home).stdout
    forge(cache_home, "V1__t1.sql", up_sql="SELECT 'unread';\n")  # no drift: only this lie

    result = cli("down", env=cache_home)
    assert result.returncode == 0, result.stderr
    assert "Reverting V3 t3 ... done" in result.stdout
    assert cached(cache_home, "V1__t1.sql")[1] == "SELECT 'unread';\n"  # V1 was not read


def cached(cache_home: dict[str, str], name: str) -> tuple:
    (path,) = (Path(cache_home["XDG_CACHE_HOME"]) / "pgshift").glob("discover-*.marshal")
    return marshal.loads(path.read_bytes())["entries"][name][1]
