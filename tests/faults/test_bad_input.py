"""Bad input: broken files, drift, a failing down, a tampered history, bad URLs and passwords."""

from __future__ import annotations

import contextlib
import itertools
import subprocess
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


def test_a_history_read_cancelled_by_a_statement_timeout_is_not_called_altered_by_hand(
        env, write_migration, database_url, query) -> None:
    """A statement_timeout set for the database cancels the read while another session holds
    the table: the table is fine, and the error says what cancelled the read."""
    a_then(write_migration)
    assert h.run(env, "up").returncode == 0
    [(name,)] = query("SELECT current_database()")
    query(f"ALTER DATABASE \"{name}\" SET statement_timeout = '300ms'")
    locker = psycopg2.connect(database_url, application_name="tamperer")
    locker.cursor().execute("LOCK pgshift.history IN ACCESS EXCLUSIVE MODE")
    try:
        result = h.run(env, "status", timeout=60)
    finally:
        locker.close()
    assert result.returncode == 2, result.stderr
    assert "a statement of pgshift's own was cancelled" in result.stderr
    assert "altered by hand" not in result.stderr


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


# -- passwords of every shape, over every kind of URL ---------------------------------------


def malformed_urls(password: str) -> list[str]:
    """The ways a password goes into a URL, right and wrong, for a server that refuses."""
    from urllib.parse import quote

    q = quote(password, safe="")
    return [
        f"postgresql://u:{password}@127.0.0.1:1/db",
        f"postgres://u:{q}@127.0.0.1:1/db",
        f"postgresql://u@127.0.0.1:1/db?password={password}",
        f"postgresql://u@127.0.0.1:1/db?password={q}&sslmode=bogus",
        f"host=127.0.0.1 port=1 user=u password={password}",
        f"host=127.0.0.1 port=1 user=u password='{password}'",
        f"postgresql://u:{password}@[::1:1/db",
        f"postgresql:/u:{password}@127.0.0.1:1/db",
        f"postgresql://u:{password}@127.0.0.1:1,127.0.0.1:2/db",
        f"postgresql://u:{q}@127.0.0.1:1/db?connect_timeout={q}",
    ]


def pieces(password: str, length: int = 4) -> set[str]:
    return {password[i:i + length] for i in range(len(password) - length + 1)}


def test_no_piece_of_a_password_survives_any_malformed_url() -> None:
    """libpq quotes what it cannot read of a URL: with an unencoded @ : / ? # or blank in the
    password, that is a piece of it. 150 random passwords, 10 URL shapes each."""
    import random
    import string

    from pgshift.config import Settings
    from pgshift.db import connect
    from pgshift.errors import DatabaseConnectionError

    rng = random.Random(20240611)
    alphabet = string.ascii_letters + string.digits + "@:/?#%&=+ ,;'\"\\[]{}$^.*()!~é表"
    for _ in range(150):
        password = "".join(rng.choice(alphabet) for _ in range(rng.randint(8, 16)))
        for url in malformed_urls(password):
            with pytest.raises(DatabaseConnectionError) as caught:
                connect(Settings(url=url))
            text = str(caught.value)
            outside = url.replace(password, "")
            leaked = [p for p in pieces(password) if p in text and p not in outside]
            assert not leaked, (password, url, text)
            assert caught.value.exit_code == 2


def test_a_url_whose_percent_encoding_is_not_utf8_is_a_clear_error() -> None:
    from pgshift.config import Settings
    from pgshift.db import connect
    from pgshift.errors import DatabaseConnectionError

    with pytest.raises(DatabaseConnectionError, match="percent-encoded value is not UTF-8"):
        connect(Settings(url="postgresql://u:caf%E9-Secret@127.0.0.1:1/db"))


@pytest.fixture
def scram_server(pg_server_factory):
    """A server that asks a password of every role but postgres over TCP and its socket."""
    server = pg_server_factory(settings={"password_encryption": "scram-sha-256"})
    hba = server.datadir / "pg_hba.conf"
    hba.write_text("local all postgres trust\nhost all postgres 127.0.0.1/32 trust\n"
                   "local all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n")
    h.query(server.url, "SELECT pg_reload_conf()")
    return server


# Passwords that are short, hold regex metacharacters, URL delimiters, quotes, blanks,
# non-ASCII, or the user's or the host's name.
PASSWORDS = {
    "alice": "p@ss:w/rd?x#y%z&é",
    "bob": "Zz9",
    "carol": "a.*b+(c)[d]$^\\|",
    "dave": "it's a 'pw' = x",
    "erin": "ñandú表🔑-erin",
    "frank": "127.0.0.1:frank",
}


def url_forms(role: str, password: str, port: int, socket_dir: Path) -> dict[str, str]:
    from urllib.parse import quote

    q = quote(password, safe="")
    kv = "'" + password.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return {
        "postgresql": f"postgresql://{role}:{q}@127.0.0.1:{port}/{role}",
        "postgres": f"postgres://{role}:{q}@127.0.0.1:{port}/{role}",
        "keywords": f"host=127.0.0.1 port={port} user={role} password={kv} dbname={role}",
        "query": f"postgresql://{role}@127.0.0.1:{port}/{role}?password={q}",
        "two hosts": f"postgresql://{role}:{q}@127.0.0.1:1,127.0.0.1:{port}/{role}",
        "socket": f"postgresql://{role}:{q}@/{role}?host={quote(str(socket_dir), safe='')}"
                  f"&port={port}",
        "options": f"postgresql://{role}:{q}@127.0.0.1:{port}/{role}"
                   "?options=-c%20search_path%3Dpublic",
    }


def no_password_in(result: subprocess.CompletedProcess, *passwords: str) -> None:
    from urllib.parse import quote

    output = result.stdout + result.stderr
    for password in passwords:
        for form in {password, quote(password, safe=""), quote(password)}:
            assert form not in output, (form, output)


def test_passwords_of_every_shape_in_every_url_form_never_show(
    scram_server, tmp_path, write_migration, migrations_dir
) -> None:
    port, sockets = scram_server.port, scram_server.socket_dir
    for role, password in PASSWORDS.items():
        h.query(scram_server.url, f'CREATE ROLE "{role}" LOGIN PASSWORD %s', password)
        h.query(scram_server.url, f'CREATE DATABASE "{role}" OWNER "{role}"')
    write_migration("V1__a.sql", "CREATE TABLE IF NOT EXISTS a (id int);", "DROP TABLE a;")
    # Each pair of a password and a URL form runs one of the commands (in turn): all of them
    # see every password and every form, in a fifth of the runs.
    good = itertools.cycle([["up", "--json"], ["status"], ["log", "--json"], ["ps"],
                            ["status", "--json"]])
    bad = itertools.cycle([["status"], ["up", "--debug"], ["doctor"], ["log"]])
    for role, password in PASSWORDS.items():
        for form, url in url_forms(role, password, port, sockets).items():
            args = next(good)
            result = h.run(h.env_for(url, migrations_dir), *args)
            assert result.returncode == 0, (role, form, args, result.stderr)
            no_password_in(result, password)
            wrong = url_forms(role, "W" + password, port, sockets)[form]
            args = next(bad)
            result = h.run(h.env_for(wrong, migrations_dir), "--url", wrong, *args)
            assert result.returncode == (1 if args == ["doctor"] else 2), result.stderr
            no_password_in(result, password, "W" + password)
            if args == ["status"]:
                [line] = result.stderr.strip().splitlines()
                assert "password authentication failed" in line
                assert "(hint: check the password" in line


def test_a_password_from_pgpassword_the_passfile_or_a_service_file_never_shows(
    scram_server, tmp_path, write_migration, migrations_dir
) -> None:
    password = "p@ss word:Zz9/é"
    h.query(scram_server.url, f"CREATE ROLE app LOGIN PASSWORD '{password}'")
    h.query(scram_server.url, "CREATE DATABASE app OWNER app")
    write_migration("V1__a.sql", "SELECT 1;", "SELECT 1;")
    url = f"postgresql://app@127.0.0.1:{scram_server.port}/app"
    escaped = password.replace(":", "\\:")  # as a passfile writes it
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{scram_server.port}:*:app:{escaped}\n")
    passfile.chmod(0o600)
    wrong_passfile = tmp_path / "pgpass-wrong"
    wrong_passfile.write_text(f"*:*:*:app:W{escaped}\n")
    wrong_passfile.chmod(0o600)
    services = tmp_path / "services.conf"
    services.write_text(f"[ok]\nhost=127.0.0.1\nport={scram_server.port}\nuser=app\n"
                        f"dbname=app\npassword={password}\n[wrong]\nhost=127.0.0.1\n"
                        f"port={scram_server.port}\nuser=app\npassword=W{password}\n")
    cases = [
        ({"PGPASSWORD": password}, url, 0),
        ({"PGPASSWORD": "W" + password}, url, 2),
        ({"PGPASSFILE": str(passfile)}, url, 0),
        ({"PGPASSFILE": str(wrong_passfile)}, url, 2),
        ({}, f"{url}?passfile={passfile}", 0),
        ({"PGSERVICEFILE": str(services)}, "service=ok", 0),
        ({"PGSERVICEFILE": str(services)}, "service=wrong", 2),
        ({"PGSERVICEFILE": str(services)}, "service=nosuch", 2),
    ]
    for extra, target, code in cases:
        env = {**h.env_for(target, migrations_dir), **extra}
        for args in (["status"], ["up", "--debug"]):
            result = h.run(env, *args)
            assert result.returncode == code, (extra, target, result.stderr)
            no_password_in(result, password, "W" + password)
        if code:
            assert "Traceback" not in h.run(env, "status").stderr


def test_a_server_that_never_answers_times_out_with_a_hint(tmp_path, migrations_dir) -> None:
    """libpq applies connect_timeout only to blocking connects; pgshift's are not (Ctrl-C
    must work), so it applies the timeout itself. Without it, this run hung for good."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                accepted.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    try:
        url = f"postgresql://app:Secr3t-pw@127.0.0.1:{port}/db"
        for args, budget in ((["status"], "?connect_timeout=2"), (["--connect-wait", "2s",
                                                                  "status"], "")):
            started = time.monotonic()
            result = h.run(h.env_for(url + budget, migrations_dir), *args, timeout=60)
            assert time.monotonic() - started < 20
            assert result.returncode == 2, result.stderr
            assert "timeout expired" in result.stderr and "Secr3t-pw" not in result.stderr
            assert "(hint: check the host and port" in result.stderr
        result = h.run(h.env_for(url + "?connect_timeout=soon", migrations_dir), "status")
        assert result.returncode == 2
        assert 'invalid integer value "soon" for connection option "connect_timeout"' in (
            result.stderr)
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


def test_every_host_of_a_multi_host_url_says_why_it_failed(
    scram_server, migrations_dir
) -> None:
    """The second host's wrong password, not the first one's refusal, is what to fix: and it
    is not worth waiting for with --connect-wait."""
    h.query(scram_server.url, "CREATE ROLE app LOGIN PASSWORD 'right-pw'")
    url = f"postgresql://app:Wrong-pw@127.0.0.1:1,127.0.0.1:{scram_server.port}/postgres"
    started = time.monotonic()
    result = h.run(h.env_for(url, migrations_dir), "--connect-wait", "30s", "status")
    assert time.monotonic() - started < 15 and "Waiting" not in result.stderr
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "Connection refused; " in line and "password authentication failed" in line
    assert "Wrong-pw" not in line and "FATAL" not in line


def test_a_server_starting_up_is_waited_for_and_else_hints_at_connect_wait(
    migrations_dir
) -> None:
    """A stand-in server that answers every connection as PostgreSQL does while it starts."""
    import socket
    import struct
    import threading

    fields = b"".join(code + text + b"\0" for code, text in (
        (b"S", b"FATAL"), (b"V", b"FATAL"), (b"C", b"57P03"),
        (b"M", b"the database system is starting up"))) + b"\0"
    reply = b"E" + struct.pack("!i", len(fields) + 4) + fields
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn = listener.accept()[0]
            except OSError:
                continue
            with conn:
                conn.recv(1024)  # the startup packet
                conn.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = (f"postgresql://app:Secr3t-pw@127.0.0.1:{listener.getsockname()[1]}/db"
           "?sslmode=disable&gssencmode=disable")
    try:
        result = h.run(h.env_for(url, migrations_dir), "status")
        assert result.returncode == 2, result.stderr
        [line] = result.stderr.strip().splitlines()
        assert "the database system is starting up" in line
        assert "--connect-wait waits for a server that is starting" in line
        result = h.run(h.env_for(url, migrations_dir), "--connect-wait", "1s", "status")
        assert result.returncode == 2 and "(waited 1s)" in result.stderr
        assert "Waiting up to 1s" in result.stderr and "Secr3t-pw" not in result.stderr
    finally:
        stop.set()
        thread.join()
        listener.close()
