"""Zero-downtime benchmark: the application's latency while each migration runs.

For every scenario (see scenarios.py) a fresh copy of a 2,000,000-row ``accounts`` table is
cloned from a template database, 8 client processes run an open-loop load on it (60% point
selects, 20% updates, 20% inserts), the migration runs, and the table reports the app's p50,
p99 and max latency and failed queries over the migration's run, its throughput against a
baseline without migration, and for backfills rows/s against the single-UPDATE ceiling.

Run: ``.venv/bin/python bench/zdt/run.py [--rows 2000000] [--rate 1200] [--only a,b]``.
It starts a throwaway server (``--pg 15``: the system's binaries) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
from psycopg2 import sql

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import Load, Stats, summarize
from scenarios import SCENARIOS, _backfill

from pgshift.server import ThrowawayServer

TEMPLATE = "zdt_template"
SERVER_SETTINGS = {"shared_buffers": "2GB", "max_wal_size": "8GB", "checkpoint_timeout": "30min",
                   "max_connections": 50}

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS pg_prewarm;
CREATE TABLE owners (id int PRIMARY KEY);
INSERT INTO owners SELECT g FROM generate_series(1, 10000) g;
CREATE TABLE accounts (
    id bigserial PRIMARY KEY,
    owner_id int NOT NULL,
    email text NOT NULL,
    balance bigint NOT NULL DEFAULT 0,
    region text,
    note text,
    code text,
    legacy text,
    score int,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO accounts (owner_id, email, balance, region, note, code, legacy)
SELECT 1 + g %% 10000, 'user' || g || '@example.com', g %% 5000, 'eu',
       md5(g::text) || md5((g * 7)::text), (g %% 100000)::text, 'legacy'
FROM generate_series(1, %(rows)s) g;
"""


def build_template(admin_url: str, url_for, rows: int) -> None:
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
    conn.close()
    conn = psycopg2.connect(url_for(TEMPLATE))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(SCHEMA, {"rows": rows})
        cur.execute("VACUUM ANALYZE")
    conn.close()


def fresh_database(admin_url: str, url_for, name: str) -> str:
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        cur.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
            sql.Identifier(name), sql.Identifier(TEMPLATE)))
    conn.close()
    url = url_for(name)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT pg_prewarm('accounts'), pg_prewarm('accounts_pkey'), "
                    "pg_prewarm('owners')")
    conn.close()
    return url


def run_one(name: str, url: str, args: argparse.Namespace, workdir: Path) -> dict:
    if name.startswith("backfill:"):  # any options, e.g. backfill:target=50ms pause=0
        scenario = _backfill(name.partition(":")[2])
    else:
        _, scenario = SCENARIOS[name] if name != "baseline" else (None, None)
    load = Load(url, clients=args.clients, rate=args.rate, seconds=args.max_seconds,
                max_id=args.rows)
    time.sleep(args.warmup + 0.3)
    started = time.monotonic()
    rows = scenario(url, workdir) if scenario is not None else (time.sleep(args.baseline), 0)[1]
    ended = time.monotonic()
    time.sleep(0.3)  # let the queries queued at the end answer
    samples = load.collect()
    stats: Stats = summarize(samples, started, ended)
    return {"scenario": name, "seconds": ended - started, "rows": rows,
            "rows_per_s": rows / (ended - started) if rows else None, **stats.__dict__}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rate", type=float, default=1200, help="total app queries/s")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--baseline", type=float, default=8.0)
    parser.add_argument("--max-seconds", type=float, default=240.0,
                        help="the longest a scenario's load runs")
    parser.add_argument("--pg", type=int, default=15)
    parser.add_argument("--only", help="comma-separated scenarios (default: all)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    names = ["baseline", *(args.only.split(",") if args.only else SCENARIOS)]
    results = []
    with ThrowawayServer(prefer_major=args.pg, settings=SERVER_SETTINGS) as server, \
            tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        build_template(server.url, server.url_for, args.rows)
        print(f"template: {args.rows} rows in {time.monotonic() - t0:.0f}s "
              f"(PostgreSQL {server.version_num})", file=sys.stderr, flush=True)
        for index, name in enumerate(names):
            url = fresh_database(server.url, server.url_for, f"zdt_{index}")
            workdir = Path(tmp) / name
            workdir.mkdir()
            result = run_one(name, url, args, workdir)
            results.append(result)
            print(json.dumps(result), file=sys.stderr, flush=True)
            fresh_database_drop(server.url, f"zdt_{index}")
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def fresh_database_drop(admin_url: str, name: str) -> None:
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
    conn.close()


def render(results: list[dict]) -> str:
    base = next(r for r in results if r["scenario"] == "baseline")
    ceiling = next((r["rows_per_s"] for r in results if r["scenario"] == "update-single"), None)
    lines = ["| scenario | migration s | rows/s | of ceiling | app p50 ms | app p99 ms | "
             "app max ms | failed | app q/s (of baseline) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        label = SCENARIOS[r["scenario"]][0] if r["scenario"] in SCENARIOS else (
            "backfill" if r["scenario"].startswith("backfill:") else "no migration")
        rate = f"{r['rows_per_s']:,.0f}" if r["rows_per_s"] else "-"
        share = f"{r['rows_per_s'] / ceiling:.2f}" if r["rows_per_s"] and ceiling else "-"
        lines.append(
            f"| {r['scenario']}: {label} | {r['seconds']:.1f} | {rate} | {share} | "
            f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.0f} | {r['failed']} | "
            f"{r['qps']:,.0f} ({r['qps'] / base['qps']:.2f}) |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
