"""Bad input: broken files, drift, a failing down, a tampered history, bad URLs and passwords."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg2
import pytest

from tests.faults import harness as h

pytestmark = pytest.mark.faults

SECRET = "s3cr3t-Pa55"


@pytest.fixture
def env(database_url: str, migrations_dir: Path) -> dict[str, str]:
    return h.env_for(database_url, migrations_dir)


def a_then(write_migration) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")


@pytest.mark.parametrize("kind", ["dangling symlink", "directory", "not utf-8"])
def test_an_unusable_file_is_refused_naming_it_before_anything_runs(
    kind, env, write_migration, migrations_dir, database_url
) -> None:
    a_then(write_migration)
    bad = migrations_dir / "V2__bad.sql"
    if kind == "dangling symlink":
        bad.symlink_to(migrations_dir / "nowhere.sql")
    elif kind == "directory":
        bad.mkdir()
    else:
        bad.write_bytes(b"CREATE TABLE b (id int);\n-- caf\xe9\n")
    result = h.run(env, "up")
    assert result.returncode == 2, result.stderr
    assert "V2__bad.sql" in result.stderr
    if kind == "not utf-8":
        assert "V2__bad.sql:2: not valid UTF-8" in result.stderr
    assert h.history_rows(database_url) == {}


def test_a_huge_file_applies(env, write_migration, database_url) -> None:
    rows = ",".join(f"({n}, 'row {n}')" for n in range(200_000))
    path = write_migration("V1__big.sql", f"CREATE TABLE big (id int, t text);\n"
                           f"INSERT INTO big VALUES {rows};", "DROP TABLE big;")
    assert path.stat().st_size > 3_000_000
    started = time.monotonic()
    result = h.run(env, "up")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 60
    assert h.query(database_url, "SELECT count(*) FROM big") == [(200_000,)]


def test_names_with_spaces_quotes_and_unicode_go_up_and_down(env, migrations_dir,
                                                           database_url) -> None:
    name = "V1__add \"quoted\" o'k ñandú 表.sql"
    (migrations_dir / name).write_text('CREATE TABLE "ñandú" (id int);\n-- pgshift:down\n'
                                       'DROP TABLE "ñandú";\n', encoding="utf-8")
    assert h.run(env, "up").returncode == 0
    status = h.run(env, "status")
    assert "add \"quoted\" o'k ñandú 表" in status.stdout
    assert h.query(database_url, "SELECT script FROM pgshift.history") == [(name,)]
    assert h.run(env, "validate").returncode == 0
    assert h.run(env, "down").returncode == 0
    assert h.history_rows(database_url) == {}


def test_duplicate_versions_are_refused_naming_both(env, write_migration, database_url) -> None:
    a_then(write_migration)
    write_migration("V001__again.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")
    result = h.run(env, "up")
    assert result.returncode == 2
    assert "duplicate version" in result.stderr and "V1__a.sql" in result.stderr
    assert h.history_rows(database_url) == {}


def test_a_deleted_applied_file_is_drift_that_status_shows(env, write_migration,
                                                          migrations_dir) -> None:
    a_then(write_migration)
    assert h.run(env, "up").returncode == 0
    (migrations_dir / "V1__a.sql").unlink()
    write_migration("V2__b.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")
    assert "MISSING" in h.run(env, "status").stdout
    assert h.run(env, "validate").returncode == 3
    result = h.run(env, "up")
    assert result.returncode == 3 and "file not found" in result.stderr


def test_an_edited_applied_file_is_drift_but_line_endings_and_bom_are_not(
    env, write_migration, migrations_dir
) -> None:
    path = write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    assert h.run(env, "up").returncode == 0
    text = path.read_text(encoding="utf-8")
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    assert h.run(env, "validate").returncode == 0
    path.write_text(text.replace("id int", "id bigint"), encoding="utf-8")
    result = h.run(env, "validate")
    assert result.returncode == 3 and "changed" in result.stderr
    assert h.run(env, "up").returncode == 3


def test_a_down_failing_half_way_rolls_back_and_keeps_the_history(
    env, write_migration, database_url
) -> None:
    a_then(write_migration)
    write_migration("V2__b.sql", "CREATE TABLE b (id int);\nCREATE TABLE c (id int);",
                    "DROP TABLE c;\nDROP TABLE nope;\nDROP TABLE b;")
    write_migration("V3__d.sql", "CREATE TABLE d (id int);", "DROP TABLE d;")
    assert h.run(env, "up").returncode == 0
    result = h.run(env, "down", "--all")
    assert result.returncode == 5, result.stderr
    assert "V2__b.sql:" in result.stderr and "rolled back" in result.stderr
    assert h.history_rows(database_url) == {"1": ("applied", 0), "2": ("applied", 0)}
    tables = {r[0] for r in h.query(database_url, "SELECT tablename FROM pg_tables "
                                                  "WHERE schemaname = 'public'")}
    assert tables == {"a", "b", "c"}
    assert h.run(env, "validate").returncode == 0


def test_a_locked_history_table_makes_up_wait_then_fail_clearly(env, write_migration,
                                                                database_url) -> None:
    a_then(write_migration)
    assert h.run(env, "up").returncode == 0
    write_migration("V2__b.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")
    locker = psycopg2.connect(database_url, application_name="tamperer")
    locker.cursor().execute("LOCK pgshift.history IN ACCESS EXCLUSIVE MODE")
    try:
        started = time.monotonic()
        result = h.run(env, "up", "--lock-wait", "2s", timeout=60)
        assert time.monotonic() - started < 30
    finally:
        locker.close()
    assert result.returncode in (4, 5), result.stderr
    assert "history" in result.stderr
    assert "internal error" not in result.stderr
    assert h.history_rows(database_url) == {"1": ("applied", 0)}
    assert h.run(env, "up").returncode == 0


@pytest.mark.parametrize("tamper", [
    "DELETE FROM pgshift.history WHERE key = '1'",
    "UPDATE pgshift.history SET checksum = 'x'",
    "UPDATE pgshift.history SET version = 'banana'",
    "ALTER TABLE pgshift.history DROP COLUMN checksum",
    "DROP TABLE pgshift.history",
])
def test_a_tampered_history_gives_a_clear_error_never_an_internal_one(
    tamper, env, write_migration, database_url
) -> None:
    a_then(write_migration)
    assert h.run(env, "up").returncode == 0
    h.query(database_url, tamper)
    for verb in ("status", "validate", "up"):
        result = h.run(env, verb)
        assert result.returncode in (0, 2, 3, 5), (verb, result.stderr)
        assert "internal error" not in result.stderr, (verb, result.stderr)
    assert h.query(database_url, "SELECT count(*) FROM pg_tables WHERE tablename = 'a'") == [
        (1,)]


# -- connections ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    f"postgresql://app:{SECRET}@127.0.0.1:notaport/db",
    f"postgres//app:{SECRET}@127.0.0.1/db",
    f"postgresql://app:{SECRET}@[::1/db",
    f"host=127.0.0.1 port=1 user=app password={SECRET}",
    f"postgresql://app:{SECRET}@127.0.0.1:1/db",
    f"postgresql://app@127.0.0.1:1/db?password={SECRET}",
    # Malformed: libpq reads "app:<password>" as host and port, and quotes the "port".
    f"postgresql://app:{SECRET}/z@127.0.0.1:1/db",
    f"postgresql://app:Xy9/{SECRET}@127.0.0.1:1/db",
    f"postgresql:/app:{SECRET}%40x@127.0.0.1:1/db",  # one slash: the password is in the path
])
def test_a_bad_or_unreachable_url_is_exit_2_and_never_prints_the_password(
    url, migrations_dir, write_migration
) -> None:
    a_then(write_migration)
    env = h.env_for(url, migrations_dir)
    for args in (["status"], ["up"], ["--url", url, "up", "--debug"], ["doctor"]):
        result = h.run(env, *args)
        assert result.returncode == (1 if args == ["doctor"] else 2), (args, result.stderr)
        output = result.stdout + result.stderr
        assert SECRET not in output and '"Xy9"' not in output, output
        assert "internal error" not in result.stderr


def test_a_wrong_password_is_exit_2_and_never_printed(pg_server_factory, migrations_dir,
                                                      write_migration) -> None:
    server = pg_server_factory(settings={"password_encryption": "scram-sha-256"})
    h.query(server.url, f"CREATE ROLE app LOGIN PASSWORD '{SECRET}'")
    hba = server.datadir / "pg_hba.conf"
    hba.write_text("host all app 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
    h.query(server.url, "SELECT pg_reload_conf()")
    a_then(write_migration)
    good = f"postgresql://app:{SECRET}@127.0.0.1:{server.port}/postgres"
    assert h.run(h.env_for(good, migrations_dir), "status").returncode == 0
    wrong = good.replace(SECRET, "Wr0ng-" + SECRET)
    for env in (h.env_for(wrong, migrations_dir),
                {**h.env_for(good.replace(f":{SECRET}", ""), migrations_dir),
                 "PGPASSWORD": "Wr0ng-" + SECRET}):
        result = h.run(env, "up")
        assert result.returncode == 2, result.stderr
        assert "password authentication failed" in result.stderr
        assert SECRET not in result.stdout + result.stderr
