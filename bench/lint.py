"""Lint speed: 10,000 migration files made from the rule cases, linted via the library.

    .venv/bin/python bench/lint.py [--files N] [--jobs N] [--keep DIR]

Prints files/second for a cold run (empty cache: every file parsed and linted, on every CPU)
and a warm run (nothing changed: every result comes from the cache), then runs after the
newest file changed (only it is re-linted, from a schema checkpoint) and after a file in the
middle changed (it and every file after it are re-linted).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from pgshift.lint import LintOptions, lint_paths  # noqa: E402


def case_texts() -> list[str]:
    """Every ok/bad case of tests/lint/cases as a file body."""
    texts = []
    for path in sorted((ROOT / "tests" / "lint" / "cases").glob("*.sql")):
        block: list[str] = []
        for line in [*path.read_text("utf-8").split("\n"), ""]:
            if line.strip():
                block.append(line)
            elif block:
                texts.append("\n".join(block) + "\n")
                block = []
    return texts


def generate(directory: Path, count: int) -> list[Path]:
    """Migration files dated an hour ago, like files checked out of a repository."""
    texts = case_texts()
    paths = []
    an_hour_ago = time.time() - 3600
    for number in range(1, count + 1):
        path = directory / f"V{number:05d}__case_{number % len(texts)}.sql"
        path.write_text(texts[number % len(texts)], "utf-8")
        os.utime(path, (an_hour_ago, an_hour_ago))
        paths.append(path)
    return paths


def timed(label: str, directory: Path, options: LintOptions, count: int) -> None:
    started = time.perf_counter()
    report = lint_paths([directory], options)
    elapsed = time.perf_counter() - started
    print(f"{label:<34} {count / elapsed:>10,.0f} files/s  ({elapsed:.3f} s, "
          f"{len(report.violations)} findings, {report.cached} cached, "
          f"{len(report.failures)} unlintable)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: CPUs)")
    parser.add_argument("--keep", type=Path, help="generate into this directory and keep it")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="pgshift-lint-bench-"))
    migrations = workdir / "migrations"
    migrations.mkdir(parents=True, exist_ok=True)
    cache = workdir / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    paths = generate(migrations, args.files)
    options = LintOptions(cache_dir=cache, jobs=args.jobs)
    print(f"{args.files} files from {len(case_texts())} rule cases in {migrations}")
    timed("cold (empty cache)", migrations, options, args.files)
    timed("warm (nothing changed)", migrations, options, args.files)
    last = paths[-1]
    last.write_text(last.read_text("utf-8") + "-- edited\n", "utf-8")
    timed("newest file edited", migrations, options, args.files)
    middle = paths[len(paths) // 2]
    middle.write_text(middle.read_text("utf-8") + "-- edited\n", "utf-8")
    timed("one file changed mid-directory", migrations, options, args.files)
    timed("warm again", migrations, options, args.files)
    single = LintOptions(jobs=1)
    timed("no cache, one process", migrations, single, args.files)
    if args.keep is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
