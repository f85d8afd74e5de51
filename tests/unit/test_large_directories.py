"""What a directory of 10,000 migrations costs stays proportional to it: no cache that a large
directory cycles through (and so misses on every file), no output written token by token."""

from __future__ import annotations

import io
import json
from pathlib import Path

from pgshift.cli import render
from pgshift.migrations import bodies
from pgshift.migrations.model import Migration, Version, _parse_version
from pgshift.plan import Plan, PlanItem

SIZE = 10_001  # above every cache size pgshift had before


def migration(number: int) -> Migration:
    return Migration("versioned", Version.parse(str(number)), f"m {number}",
                     Path(f"V{number}__m{number}.sql"), f"{number:064x}",
                     f"CREATE TABLE t{number} (id int);\n", f"DROP TABLE t{number};\n")


class CountingOut(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_status_json_of_ten_thousand_migrations_is_written_in_one_piece() -> None:
    plan = Plan(tuple(PlanItem("pending", migration(i), None) for i in range(1, SIZE + 1)))
    out = CountingOut()
    render.status(plan, as_json=True, out=out)
    assert out.writes == 1
    shown = json.loads(out.getvalue())
    assert len(shown["migrations"]) == SIZE and shown["pending"] == SIZE


def test_versions_of_a_directory_of_ten_thousand_are_parsed_once_each() -> None:
    texts = [str(n) for n in range(900_000, 900_000 + SIZE)]  # versions no other test parses
    for text in texts:
        Version.parse(text)
    before = _parse_version.cache_info()
    for text in texts:  # a plan's second look at every version, in the same order
        Version.parse(text)
    after = _parse_version.cache_info()
    assert after.misses == before.misses
    assert after.hits - before.hits == SIZE


def test_up_splits_each_file_of_ten_thousand_once(monkeypatch) -> None:
    splits = []
    original = bodies.statements_of

    def counting(*args, **kwargs):
        splits.append(args[1])
        return original(*args, **kwargs)

    monkeypatch.setattr(bodies, "statements_of", counting)
    migrations = [migration(n) for n in range(800_000, 800_000 + SIZE)]
    for direction in ("up", "up"):  # checked before anything runs, then run, in that order
        for item in migrations:
            bodies.body_statements(item, direction)
            bodies.session_settings_of(item, direction)
    assert len(splits) == SIZE
