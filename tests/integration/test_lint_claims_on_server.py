"""The lock and rewrite rules' claims, checked on a real server (tests/lint/claims.py).

Each claim's statement runs in a transaction, rolled back, on a table of 1,000 rows built in a
schema of its own; what PostgreSQL did is read before the transaction ends: the locks the
backend holds on the relation (``pg_locks``), whether its relfilenode changed (a rewrite) and
whether it read the relation's rows (``pg_stat_get_xact_tuples_returned``: sequential scans,
which index builds and rewrites make too; the backend's counters, not yet flushed).

Three checks: PostgreSQL does what the table says; the rule flags exactly the claims marked
flagged, and its message names the lock and the rewrite or scan the table has; the linter's
lock model (``pgshift.lint.locks``, behind ``missing-lock-timeout`` and ``plan_locks``) gives
the lock PostgreSQL takes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql
from tests.fixtures.pg import create_database, drop_database, url_with_dbname, version_matches
from tests.lint.claims import BASE, CLAIMS, MODES, SHARE, Claim

from pgshift.lint import lint_paths
from pgshift.lint.catalog_rows import catalog_fingerprint, fetch_catalog
from pgshift.lint.engine import Engine, prepare
from pgshift.lint.options import LintOptions
from pgshift.lint.rule import Violation
from pgshift.lint.schema import Schema

_PG_MODES = dict(zip(("AccessShareLock", "RowShareLock", "RowExclusiveLock",
                      "ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock",
                      "ExclusiveLock", "AccessExclusiveLock"), MODES, strict=True))
# Longest first, so "SHARE ROW EXCLUSIVE" is not read as "SHARE".
_NAMED_MODE = re.compile("|".join(sorted(MODES, key=len, reverse=True)))
_SAYS_REWRITE = re.compile(r"rewrit|copies all|empties")
_SAYS_READS_ALL = re.compile(r"rewrit|copies all|rebuil|scan|every (existing )?row|build")


@dataclass(frozen=True)
class Observed:
    lock: str | None
    rewrites: bool
    scans: bool
    effective: str | None  # on the relation or one of the indexes it had


def _strongest(modes: list[str]) -> str | None:
    return max(modes, key=MODES.index) if modes else None


@pytest.fixture(scope="module")
def conn(admin_url: str, template_database: str) -> Iterator[psycopg2.extensions.connection]:
    name = create_database(admin_url, template_database)
    connection = psycopg2.connect(url_with_dbname(admin_url, name))
    connection.autocommit = True
    yield connection
    connection.close()
    drop_database(admin_url, name)


def _observe(conn: psycopg2.extensions.connection, claim: Claim, number: int) -> Observed:
    schema = sql.Identifier(f"claim_{number}")
    counters = "SELECT pg_relation_filenode(%(oid)s), pg_stat_get_xact_tuples_returned(%(oid)s)"
    with conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE SCHEMA {0}; SET search_path = {0}, public").format(schema))
        try:
            cur.execute(BASE + ";" + claim.setup)
            cur.execute("BEGIN")
            cur.execute("SELECT %s::regclass::oid", (claim.on,))
            oid = cur.fetchone()[0]
            cur.execute(counters, {"oid": oid})
            node, scans = cur.fetchone()
            cur.execute("SELECT array_agg(indexrelid) FROM pg_index WHERE indrelid = %s", (oid,))
            indexes = cur.fetchone()[0] or []
            cur.execute(claim.sql)
            cur.execute(counters, {"oid": oid})
            node_after, scans_after = cur.fetchone()
            lock, effective = _held(cur, [oid]), _held(cur, [oid, *indexes])
        finally:  # a ROLLBACK outside a transaction only warns
            cur.execute(sql.SQL("ROLLBACK; RESET search_path; DROP SCHEMA {} CASCADE").format(
                schema))
    return Observed(lock, node_after is not None and node_after != node, scans_after > scans,
                    effective)


def _held(cur: psycopg2.extensions.cursor, oids: list[int]) -> str | None:
    """The strongest lock this backend holds on any of ``oids``."""
    cur.execute("SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND granted"
                " AND locktype = 'relation' AND relation = ANY(%s::oid[])", (oids,))
    return _strongest([_PG_MODES[mode] for (mode,) in cur.fetchall()])


def _applies(claim: Claim, server_version: int) -> None:
    if claim.pg and not version_matches(claim.pg, server_version):
        pytest.skip(f"holds on PostgreSQL {claim.pg}")


def _lint(claim: Claim, major: int) -> tuple[list[Violation], list[tuple[str, str]]]:
    options = LintOptions(pg_version=major, select=frozenset({claim.rule}))
    engine = Engine(options)
    schema = Schema()
    engine.replay(BASE + ";\n" + claim.setup + ";\n", Path("schema.sql"), schema, plain=True)
    path = Path("V2__claim.sql")
    locks: list[tuple[str, str]] = []
    found = engine.lint_prepared(prepare(claim.sql + ";\n", path, options), path, schema,
                                 locks=locks)
    return [v for v in found if v.rule == claim.rule], locks


@pytest.mark.parametrize("number", range(len(CLAIMS)), ids=[c.id for c in CLAIMS])
def test_postgres_takes_the_lock_and_does_the_work_the_claim_says(
    conn: psycopg2.extensions.connection, server_version: int, number: int,
) -> None:
    claim = CLAIMS[number]
    _applies(claim, server_version)
    assert _observe(conn, claim, number) == Observed(claim.lock, claim.rewrites, claim.scans,
                                                     claim.app_lock)


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_the_rule_flags_and_names_what_postgres_does(claim: Claim, server_version: int) -> None:
    _applies(claim, server_version)
    found, _ = _lint(claim, server_version // 10000)
    assert bool(found) == claim.flagged, [v.message for v in found]
    for violation in found:
        message = violation.message
        if not re.search(rf"\b{re.escape(claim.on)}\b", message):
            continue  # the message is about another relation of the statement
        named = set(_NAMED_MODE.findall(message))
        assert not named or {claim.lock, claim.app_lock} <= named, message
        assert bool(_SAYS_REWRITE.search(message)) == claim.rewrites, message
        if claim.scans:
            assert _SAYS_READS_ALL.search(message), message
        else:
            assert not re.search(r"\bscans\b", message), message


@pytest.mark.parametrize("claim", [
    pytest.param(c, marks=pytest.mark.xfail(reason=c.model_gap, strict=True)) if c.model_gap
    else c for c in CLAIMS], ids=[c.id for c in CLAIMS])
def test_the_linters_lock_model_gives_the_lock_postgres_takes(
    claim: Claim, server_version: int,
) -> None:
    """``missing-lock-timeout`` and ``plan_locks`` see locks of SHARE or stronger, as the app
    meets them (an index's lock is its table's)."""
    _applies(claim, server_version)
    _, locks = _lint(claim, server_version // 10000)
    lock = claim.app_lock
    expected = lock if lock and MODES.index(lock) >= MODES.index(SHARE) else None
    assert _strongest([mode for key, mode in locks if key == claim.on]) == expected, locks


def test_a_domain_default_is_read_from_the_live_database(
    conn: psycopg2.extensions.connection, tmp_path: Path,
) -> None:
    """The catalog gives each domain's default expression: a volatile one is flagged, and
    changing it changes the up gate's fingerprint of the catalog."""
    migration = tmp_path / "V2__jitter.sql"
    migration.write_text("ALTER TABLE live.t ADD COLUMN jitter live.noise;\n", "utf-8")
    options = LintOptions(database_url=conn.dsn, select=frozenset({"add-column-volatile-default"}))
    with conn.cursor() as cur:
        cur.execute("CREATE SCHEMA live; SET search_path = live;" + BASE
                    + "; CREATE DOMAIN noise AS float8 DEFAULT random()")
    try:
        volatile = fetch_catalog(conn)
        assert [v.rule for v in lint_paths([migration], options).violations] == [
            "add-column-volatile-default"]
        with conn.cursor() as cur:
            cur.execute("ALTER DOMAIN noise SET DEFAULT 0.5")
        assert lint_paths([migration], options).violations == []
        assert catalog_fingerprint(fetch_catalog(conn), 10_000, "pgshift") != (
            catalog_fingerprint(volatile, 10_000, "pgshift"))
    finally:
        with conn.cursor() as cur:
            cur.execute("RESET search_path; DROP SCHEMA live CASCADE")
