"""How ``pgshift log`` shows runs: one line each, long runs shortened, errors kept."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

from pgshift.cli import render
from pgshift.state.runs import Run

START = datetime(2026, 11, 24, 22, 0, 0, tzinfo=timezone.utc)


def run(number: int, command: str, status: str, migrations: list[str], error: str | None = None,
        took: float | None = 1.5) -> Run:
    finished = START + timedelta(seconds=took) if took is not None else None
    return Run(number, command, status, "deploy", "ci-7", START, finished, migrations, error)


def lines(*runs: Run) -> list[str]:
    out = io.StringIO()
    render.runs(list(runs), out=out)
    return [" ".join(line.split()) for line in out.getvalue().splitlines()]


def test_a_long_run_is_shortened_to_its_first_and_last_migrations() -> None:
    names = [f"V{i:03d}__m{i}.sql" for i in range(1, 11)]
    assert lines(run(7, "up", "done", names))[1] == (
        "7 2026-11-24 22:00:00 1.5 s deploy@ci-7 up done V001, V002 … V010 (10) applied")


def test_a_failed_run_shows_what_it_finished_then_its_error() -> None:
    failed = run(3, "up", "failed", ["V001__a.sql"], "V002__b.sql:2: division by zero")
    assert lines(failed)[1].endswith("up failed V001 applied; V002__b.sql:2: division by zero")


def test_an_interrupted_script_run_has_no_duration() -> None:
    stopped = run(4, "down --script", "interrupted", ["R__views.sql"], took=None)
    assert lines(stopped)[1] == (
        "4 2026-11-24 22:00:00 - deploy@ci-7 down --script interrupted R__views.sql rolled back")


def test_no_runs() -> None:
    assert lines() == ["No runs recorded."]
