"""The up gate's fingerprint of the catalog, computed by the server: it changes exactly when the
linter would see the schema differently, and a remembered one costs one row, not the catalog."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import psycopg2
import pytest

from pgshift.lint.catalog_rows import Catalog, fetch_catalog, fetch_catalog_unless

SCHEMA = """
CREATE TABLE users (id bigint PRIMARY KEY, name text CHECK (name <> ''));
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users);
CREATE TABLE events (id bigint, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE DOMAIN amount AS integer;
CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE FUNCTION one() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 1';
CREATE SCHEMA pgshift;
CREATE TABLE pgshift.history (version int);
"""


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg2.extensions.connection]:
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(SCHEMA)
    yield conn
    conn.close()


def run(conn: psycopg2.extensions.connection, statement: str) -> None:
    with conn.cursor() as cur:
        cur.execute(statement)


def fingerprint(conn: psycopg2.extensions.connection) -> str:
    digest, catalog = fetch_catalog_unless(conn, lambda _digest: True, 10_000, "pgshift")
    assert catalog is None
    return digest


def ordered(catalog: Catalog | None) -> list[list[str]]:
    assert catalog is not None
    return [sorted(map(repr, part)) for part in catalog]


CHANGES = [
    "ALTER TABLE users ADD COLUMN note text",
    "ALTER TABLE users ALTER COLUMN name SET NOT NULL",
    "CREATE INDEX users_name ON users (name)",
    "ALTER TABLE orders DROP CONSTRAINT orders_user_id_fkey; CREATE TABLE archive (id bigint "
    "PRIMARY KEY); ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES archive",
    "ALTER TABLE events DETACH PARTITION events_2024",
    "ALTER DOMAIN amount ADD CONSTRAINT amount_positive CHECK (VALUE > 0)",
    "ALTER FUNCTION one() VOLATILE",
    "ALTER TYPE mood RENAME TO feeling",
    "CREATE SCHEMA tenant_2",
    "INSERT INTO users SELECT g, 'u' FROM generate_series(1, 20000) g; ANALYZE users",
]


@pytest.mark.parametrize("change", CHANGES)
def test_the_servers_fingerprint_changes_with_what_the_linter_reads(conn, change) -> None:
    before = fingerprint(conn)
    run(conn, change)
    assert fingerprint(conn) != before


def test_the_servers_fingerprint_ignores_what_the_linter_does_not_read(conn) -> None:
    """Row estimates on the same side of the tiny-table threshold, pgshift's own history,
    sessions' temporary tables: none changes a finding, so none costs the memo a hit."""
    run(conn, "INSERT INTO users SELECT g, 'u' FROM generate_series(1, 20000) g; ANALYZE users")
    before = fingerprint(conn)
    run(conn, "INSERT INTO users SELECT g, 'u' FROM generate_series(20001, 50000) g; "
              "ANALYZE users; INSERT INTO orders VALUES (1, 1); ANALYZE orders; "
              "INSERT INTO pgshift.history SELECT generate_series(1, 20000); "
              "ANALYZE pgshift.history; CREATE TEMP TABLE scratch (id int)")
    assert fingerprint(conn) == before


def test_two_databases_with_the_same_schema_have_the_same_fingerprint(conn, fresh) -> None:
    """The memo serves the next of many targets: object ids differ, names do not."""
    other = psycopg2.connect(fresh.url)
    other.autocommit = True
    try:
        run(other, "CREATE TABLE filler (id int); DROP TABLE filler;" + SCHEMA)  # other oids
        assert fingerprint(other) == fingerprint(conn)
    finally:
        other.close()


def test_a_remembered_fingerprint_sends_no_rows_and_a_new_one_the_catalog(conn) -> None:
    seen: list[str] = []

    def known(digest: str) -> Callable[[str], bool]:
        return lambda offered: seen.append(offered) or offered == digest

    digest, catalog = fetch_catalog_unless(conn, known("other"), 10_000, "pgshift")
    assert ordered(catalog) == ordered(fetch_catalog(conn))
    assert fetch_catalog_unless(conn, known(digest), 10_000, "pgshift") == (digest, None)
    assert seen == [digest, digest]
    assert conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE


def test_the_fingerprinted_read_does_not_wait_behind_an_apps_lock(conn, app_session) -> None:
    """pg_relation_size would wait for the lock: sizes come from the statistics instead, and
    the fingerprint is the same (a never-analyzed empty table is empty either way)."""
    run(conn, "CREATE TABLE unrelated (id int)")
    unlocked = fingerprint(conn)
    app = app_session("batch-job")
    with app.cursor() as cur:
        cur.execute("LOCK TABLE unrelated")
    started = time.monotonic()
    digest, catalog = fetch_catalog_unless(conn, lambda _digest: False, 10_000, "pgshift")
    assert time.monotonic() - started < 5
    assert digest == unlocked and catalog is not None
    assert any(row[1] == "unrelated" for row in catalog[0])


def test_a_read_in_the_callers_transaction_leaves_its_lock_timeout(database_url) -> None:
    caller = psycopg2.connect(database_url)
    try:
        with caller.cursor() as cur:
            cur.execute("SET LOCAL lock_timeout = '7s'")
            fetch_catalog_unless(caller, lambda _digest: False, 10_000, "pgshift")
            cur.execute("SHOW lock_timeout")
            assert cur.fetchone() == ("7s",)
    finally:
        caller.close()
