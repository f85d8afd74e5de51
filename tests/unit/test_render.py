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


ROLE = ("DO $$ BEGIN\n  EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L', '${app_role}', "
        "'${App_Password}');\nEND $$;\nALTER ROLE ${app_role} SET search_path = app;\n"
        "-- pgshift:down\nSELECT 1;\n")


def test_a_dry_run_masks_a_secret_placeholder_wherever_its_value_is(tmp_path) -> None:
    """format('… PASSWORD %L', '${pw}') has the password where no PASSWORD literal is: the
    value is masked because the placeholder's name says it is a secret; the others show."""
    import json

    from pgshift.migrations.discover import discover_migrations
    from pgshift.placeholders import secret_values

    (tmp_path / "V1__role.sql").write_text(ROLE, encoding="utf-8")
    values = {"app_role": "app_rw", "app_password": "s3cret-Pw", "api_token": "abc",
              "schema": "app"}
    migrations = discover_migrations(tmp_path, placeholders=values)
    secrets = secret_values(values)
    assert secrets == ["s3cret-Pw", "abc"]
    out = io.StringIO()
    render.dry_run(migrations, "up", out=out, secrets=secrets)
    shown = json.dumps(render.dry_run_json(migrations, "up", secrets=secrets))
    for text in (out.getvalue(), shown):
        assert "s3cret-Pw" not in text
        assert "PASSWORD %L', 'app_rw', '***');" in text
        assert "ALTER ROLE app_rw SET search_path = app;" in text


def test_a_short_secret_is_masked_only_as_a_whole_word() -> None:
    assert render.shown_sql("SELECT 'abc', 'abcd', babc;", ["abc"]) == (
        "SELECT '***', 'abcd', babc;")
