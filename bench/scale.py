"""Benchmark: how pgshift's cost grows with the size of what it works on.

Each case runs at a size and at twice that size, and prints both times and their ratio: about
2x is linear; 4x would be quadratic. A fixed cost shows as a ratio well under 2x.

  status / status --json / validate / no-op up      a directory of N migrations, all applied
  up of the last 10                                 N migrations, the last 10 pending
  data load, transactional                          one file of N INSERT statements
  data load, no-transaction                         the same file, '-- pgshift:no-transaction'
                                                    (progress recorded after each statement)

The applied migrations are recorded with 'pgshift baseline' (not run: the point is pgshift's
cost, not the server's for 10,000 tables). Each time is the best of ``--repeat`` runs, warm (the
caches of an earlier run of the same files).

Run: ``.venv/bin/python bench/scale.py [--files 5000] [--statements 10000] [--repeat 3]``. It
starts a throwaway server unless PGSHIFT_BENCH_URL is set.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from scratch_databases import ScratchDatabases

_SCRIPT = Path(sys.executable).with_name("pgshift")
PGSHIFT = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "pgshift"]


def write_directory(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True)
    for i in range(1, count + 1):
        (folder / f"V{i:05d}__table_{i}.sql").write_text(
            f"CREATE TABLE t_{i} (id bigint PRIMARY KEY, name text);\n"
            f"CREATE INDEX t_{i}_name ON t_{i} (name);\n\n-- pgshift:down\nDROP TABLE t_{i};\n")
    return folder


def write_load(folder: Path, count: int, *, transactional: bool) -> Path:
    """A table, then one file of ``count`` INSERTs of about 250 bytes (5 MB for 20,000)."""
    folder.mkdir(parents=True)
    (folder / "V1__data.sql").write_text(
        "CREATE TABLE data (id bigint PRIMARY KEY, name text, pad text);\n"
        "-- pgshift:down\nDROP TABLE data;\n")
    pad = "x" * 200
    head = "" if transactional else "-- pgshift:no-transaction\n"
    rows = "".join(f"INSERT INTO data VALUES ({i}, 'name {i}', '{pad}');\n" for i in range(count))
    (folder / "V2__load.sql").write_text(f"{head}{rows}\n-- pgshift:down\nDELETE FROM data;\n")
    return folder


class Scale(ScratchDatabases):
    prefix = "scale"

    def __init__(self, admin_url: str, work: Path, repeat: int) -> None:
        super().__init__(admin_url)
        self.work, self.repeat = work, repeat

    def pgshift(self, url: str, directory: Path, *args: str) -> float:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PGSHIFT_")}
        env.update(PGSHIFT_URL=url, PGSHIFT_DIR=str(directory), PGSHIFT_LINT="false",
                   XDG_CACHE_HOME=str(self.work / "cache"))
        started = time.perf_counter()
        subprocess.run([*PGSHIFT, *args], env=env, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - started

    def best(self, run: Callable[[], float]) -> float:
        return min(run() for _ in range(self.repeat))

    def directory_cases(self, count: int) -> dict[str, float]:
        folder = write_directory(self.work / f"dir{count}", count)
        url = self.fresh_database()
        self.pgshift(url, folder, "baseline", "--to", str(count - 10))
        times = {"up of the last 10": self.best(lambda: self._up_last_ten(url, folder, count))}
        self.pgshift(url, folder, "up")
        for name, args in (("status", ["status"]), ("status --json", ["status", "--json"]),
                           ("validate", ["validate"]), ("no-op up", ["up"])):
            times[name] = self.best(lambda args=args: self.pgshift(url, folder, *args))
        return times

    def _up_last_ten(self, url: str, folder: Path, count: int) -> float:
        with contextlib.suppress(subprocess.CalledProcessError):  # none applied yet
            self.pgshift(url, folder, "down", "--to", str(count - 10))
        return self.pgshift(url, folder, "up")

    def load_case(self, count: int, *, transactional: bool) -> float:
        kind = "tx" if transactional else "notx"
        folder = write_load(self.work / f"load-{kind}-{count}", count,
                            transactional=transactional)

        def once() -> float:
            url = self.fresh_database()
            self.pgshift(url, folder, "up", "--to", "1")  # the table, and warm caches
            return self.pgshift(url, folder, "up")

        return self.best(once)


def report(name: str, size: int, small: float, large: float) -> None:
    print(f"{name:<40} {size:>7,} {small * 1000:>8.0f}ms {2 * size:>7,} {large * 1000:>8.0f}ms"
          f" {large / small:>6.2f}x")


def run(url: str, work: Path, args: argparse.Namespace) -> None:
    scale = Scale(url, work, args.repeat)
    print(f"{'case':<40} {'size':>7} {'time':>10} {'2x size':>7} {'time':>10} {'ratio':>7}")
    try:
        small = scale.directory_cases(args.files)
        large = scale.directory_cases(2 * args.files)
        scale.drop_scratch()
        for name in small:
            report(f"{name} (migrations)", args.files, small[name], large[name])
        for transactional in (True, False):
            name = "data load, " + ("transactional" if transactional else "no-transaction")
            times = [scale.load_case(n, transactional=transactional)
                     for n in (args.statements, 2 * args.statements)]
            scale.drop_scratch()
            report(f"{name} (statements)", args.statements, *times)
    finally:
        scale.drop_scratch()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--statements", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("PGSHIFT_BENCH_URL")
        if url:
            run(url, Path(tmp), args)
            return
        from pgshift.server import ThrowawayServer

        with ThrowawayServer() as server:
            print(f"server: PostgreSQL {server.version_num} from {server.bindir}")
            run(server.url, Path(tmp), args)


if __name__ == "__main__":
    main()
