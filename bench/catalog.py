"""Benchmark: the cost of `pgshift up`'s lint gate reading the catalog, as the schema grows.

The schema is a multi-tenant one: N schemas of 60 tables (each with a primary key, a CHECK, a
foreign key, an index and a domain column), plus one table with 10 partitions per tenant. At
each size it prints, best of ``--repeat``:

  rows          fetch_catalog: the rows the linter builds its schema from (a memo miss)
  MB            the size of those rows on the server (what a miss transfers)
  schema        building the linter's Schema from the rows (Python, pglast)
  memo hit      the gate's read when the fingerprint is remembered: one row per part
  memo miss     the gate's read when it is not: fingerprint and rows in one go

Run: ``.venv/bin/python bench/catalog.py [--tenants 25 50 100 200] [--repeat 3]``. It starts a
throwaway server unless PGSHIFT_BENCH_URL is set (a superuser URL; it creates and drops a
database there).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import make_dsn, parse_dsn

from pgshift.lint.catalog import schema_of
from pgshift.lint.catalog_rows import fetch_catalog, fetch_catalog_unless

TABLES = 60
PARTITIONS_PER_TENANT = 10
_DATABASE = f"catalog_bench_{os.getpid()}"


def tenant(number: int) -> str:
    tables = [sql.SQL("CREATE SCHEMA {};").format(sql.Identifier(f"tenant_{number}"))]
    for t in range(TABLES):
        name = sql.Identifier(f"tenant_{number}", f"t{t}")
        key = (sql.SQL(", parent_id bigint REFERENCES {} (id)").format(
            sql.Identifier(f"tenant_{number}", "t0")) if t else sql.SQL(""))
        tables.append(sql.SQL(
            "CREATE TABLE {} (id bigint PRIMARY KEY, name text NOT NULL, qty amount, "
            "created timestamptz DEFAULT now(), CHECK (length(name) < 100){});"
            "CREATE INDEX ON {} (name);").format(name, key, name))
    return sql.Composed(tables)


def partitions(first: int, count: int) -> sql.Composable:
    return sql.Composed([sql.SQL(
        "CREATE TABLE {} PARTITION OF events FOR VALUES FROM ({}) TO ({});").format(
            sql.Identifier(f"events_{i}"), sql.Literal(i * 100), sql.Literal((i + 1) * 100))
        for i in range(first, first + count)])


def grow(conn: Any, have: int, want: int) -> None:
    with conn.cursor() as cur:
        if have == 0:
            cur.execute("CREATE DOMAIN amount AS numeric CHECK (VALUE >= 0);"
                        "CREATE TABLE events (id bigint, at int NOT NULL, PRIMARY KEY (id, at))"
                        " PARTITION BY RANGE (at)")
        for number in range(have, want):
            cur.execute(tenant(number))
        cur.execute(partitions(have * PARTITIONS_PER_TENANT,
                               (want - have) * PARTITIONS_PER_TENANT))
        cur.execute("ANALYZE")


def best(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def measure(conn: Any, repeat: int) -> dict[str, float]:
    catalog = fetch_catalog(conn)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_class WHERE relkind IN ('r', 'p') AND "
                    "relnamespace <> 'pg_catalog'::regnamespace AND relnamespace <> "
                    "'information_schema'::regnamespace")
        relations = cur.fetchone()[0]
    size = sum(len(repr(row)) for part in catalog for row in part)
    return {
        "tables": relations,
        "rows": best(repeat, lambda: fetch_catalog(conn)),
        "MB": size / 1e6,
        "schema": best(1, lambda: schema_of(catalog)),
        "memo hit": best(repeat, lambda: fetch_catalog_unless(
            conn, lambda _d: True, 10_000, "pgshift")),
        "memo miss": best(repeat, lambda: fetch_catalog_unless(
            conn, lambda _d: False, 10_000, "pgshift")),
    }


def run(admin_url: str, args: argparse.Namespace) -> None:
    admin = psycopg2.connect(admin_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(_DATABASE)))
    params = parse_dsn(admin_url)
    params["dbname"] = _DATABASE
    conn = psycopg2.connect(make_dsn(**params))
    conn.autocommit = True
    print(f"{'tenants':>7} {'tables':>7} {'rows':>9} {'MB':>6} {'schema':>9} {'memo hit':>9} "
          f"{'memo miss':>9}")
    try:
        have = 0
        for want in args.tenants:
            grow(conn, have, want)
            have = want
            m = measure(conn, args.repeat)
            print(f"{want:>7} {m['tables']:>7,} {m['rows'] * 1000:>7.0f}ms {m['MB']:>6.1f} "
                  f"{m['schema'] * 1000:>7.0f}ms {m['memo hit'] * 1000:>7.0f}ms "
                  f"{m['memo miss'] * 1000:>7.0f}ms", flush=True)
    finally:
        conn.close()
        with admin.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(_DATABASE)))
        admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tenants", type=int, nargs="+", default=[25, 50, 100, 200])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    url = os.environ.get("PGSHIFT_BENCH_URL")
    if url:
        run(url, args)
        return
    from pgshift.server import ThrowawayServer

    # Each CREATE TABLE of a tenant takes a few locks in one transaction.
    with ThrowawayServer(settings={"max_locks_per_transaction": 1024}) as server:
        print(f"server: PostgreSQL {server.version_num} from {server.bindir}")
        run(server.url, args)


if __name__ == "__main__":
    main()
