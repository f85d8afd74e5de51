"""lint_paths: directories in version order, files with their history, cache, other tools."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from pgshift.errors import ConfigError
from pgshift.lint import LintOptions, lint_migrations, lint_paths
from pgshift.lint.files import migration_files
from pgshift.migrations.model import Migration


def write(directory: Path, name: str, sql: str, *, age: float = 3600) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sql, "utf-8")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_directory_runs_in_version_order_without_down_files(tmp_path: Path) -> None:
    for name in ("V10__c.sql", "V2__b.sql", "V1__a.sql", "U2__b.sql", "R__views.sql",
                 "002_x.down.sql", ".hidden.sql", "notes.txt"):
        write(tmp_path, name, "SELECT 1;")
    names = [Path(p).name for p in migration_files(tmp_path)]
    assert names == ["V1__a.sql", "V2__b.sql", "V10__c.sql", "R__views.sql"]


def test_files_in_subfolders_are_linted_in_version_order_with_the_others(
        tmp_path: Path) -> None:
    write(tmp_path, "V1__users.sql", "CREATE TABLE users (id int, email varchar(100));")
    write(tmp_path / "release_10", "V2__widen.sql",
          "ALTER TABLE users ALTER COLUMN email TYPE varchar(200);")
    write(tmp_path / "archive", "R__views.sql", "SELECT 1;")
    names = [Path(p).name for p in migration_files(tmp_path)]
    assert names == ["V1__users.sql", "V2__widen.sql", "R__views.sql"]
    report = lint_paths([tmp_path], LintOptions())
    assert report.violations == []  # V1 known first: widening a varchar rewrites nothing


def test_earlier_migrations_give_later_ones_their_schema(tmp_path: Path) -> None:
    write(tmp_path, "V1__users.sql", "CREATE TABLE users (id int, email varchar(100));")
    write(tmp_path, "V2__widen.sql", "ALTER TABLE users ALTER COLUMN email TYPE varchar(200);\n"
                                     "ALTER TABLE users ALTER COLUMN id TYPE bigint;\n")
    report = lint_paths([tmp_path], LintOptions())
    assert [(Path(v.path).name, v.line, v.rule) for v in report.violations] == [
        ("V2__widen.sql", 2, "alter-column-type-rewrite")]
    assert report.files == 2 and report.exit_code == 1


def test_a_file_named_alone_is_linted_after_its_earlier_siblings(tmp_path: Path) -> None:
    write(tmp_path, "V1__users.sql", "CREATE TABLE users (id int, email varchar(100));")
    target = write(tmp_path, "V2__widen.sql",
                   "ALTER TABLE users ALTER COLUMN email TYPE varchar(200);")
    write(tmp_path, "V3__later.sql", "DROP TABLE users;")
    report = lint_paths([target], LintOptions())
    assert report.violations == [] and report.files == 1


def test_a_schema_file_gives_the_existing_schema(tmp_path: Path) -> None:
    dump = write(tmp_path, "schema.sql", "SET search_path = '';\n\\restrict abc\n"
                 "CREATE TABLE public.users (id integer NOT NULL, email character varying(100));\n"
                 "ALTER TABLE ONLY public.users ADD CONSTRAINT users_pkey PRIMARY KEY (id);\n")
    target = write(tmp_path / "m", "V5__x.sql",
                   "ALTER TABLE users ALTER COLUMN email TYPE text;\n"
                   "ALTER TABLE users ALTER COLUMN id SET NOT NULL;\n")
    report = lint_paths([target], LintOptions(schema_file=dump))
    assert report.violations == []


def test_unparseable_file_is_a_failure_and_the_others_are_still_linted(tmp_path: Path) -> None:
    write(tmp_path, "V1__bad.sql", "CREATE TABLE (;")
    write(tmp_path, "V2__ok.sql", "DROP TABLE t;")
    report = lint_paths([tmp_path], LintOptions())
    assert [v.rule for v in report.violations] == ["drop-table"]
    assert len(report.failures) == 1 and report.failures[0].line == 1
    assert "syntax error" in report.failures[0].message and report.exit_code == 2


def test_unknown_rule_in_select_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no-such-rule"):
        lint_paths([tmp_path], LintOptions(select=frozenset({"no-such-rule"})))


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no such file"):
        lint_paths([tmp_path / "nope"], LintOptions())


def test_warm_run_answers_from_the_cache_with_the_same_findings(tmp_path: Path) -> None:
    migrations, cache = tmp_path / "m", tmp_path / "cache"
    write(migrations, "V1__a.sql", "CREATE TABLE t (id int);")
    write(migrations, "V2__b.sql", "CREATE INDEX i ON users (a);\nDROP TABLE x;")
    options = LintOptions(cache_dir=cache)
    cold = lint_paths([migrations], options)
    warm = lint_paths([migrations], options)
    assert cold.cached == 0 and warm.cached == 2
    assert warm.violations == cold.violations


def test_changing_an_earlier_file_relints_the_later_ones(tmp_path: Path) -> None:
    migrations, cache = tmp_path / "m", tmp_path / "cache"
    write(migrations, "V1__a.sql", "CREATE TABLE t (id int);")
    write(migrations, "V2__b.sql", "ALTER TABLE t ALTER COLUMN id TYPE bigint;")
    options = LintOptions(cache_dir=cache)
    assert [v.rule for v in lint_paths([migrations], options).violations] == [
        "alter-column-type-rewrite"]
    write(migrations, "V1__a.sql", "CREATE TABLE t (id bigint);", age=7200)
    report = lint_paths([migrations], options)
    assert report.cached == 0 and report.violations == []


def test_parallel_workers_give_the_same_findings_as_one_process(tmp_path: Path) -> None:
    migrations = tmp_path / "m"
    write(migrations, "V0001__t.sql", "".join(f"CREATE TABLE t{n} (id int, v varchar(5));"
                                              for n in range(2, 700)))
    for n in range(2, 700):
        sql = (f"ALTER TABLE t{n} ALTER COLUMN id TYPE bigint;" if n % 7 == 0
               else f"ALTER TABLE t{n} ALTER COLUMN v TYPE varchar(10);")
        write(migrations, f"V{n:04d}__x.sql", sql)
    one = lint_paths([migrations], LintOptions(jobs=1))
    two = lint_paths([migrations], LintOptions(jobs=2))
    assert len(one.violations) == 99 and two.violations == one.violations


# Set by the test before the fork: where a worker notes its signal handlers, and the task
# runner it wraps.
_NOTING: dict[str, Any] = {}


def _run_noting_signals(task: Any) -> Any:  # module level: the pool sends it to workers by name
    import signal

    with open(_NOTING["path"], "a") as out:
        out.write(f"{signal.getsignal(signal.SIGTERM)} {signal.getsignal(signal.SIGINT)}\n")
    return _NOTING["run"](task)


def test_parallel_workers_end_on_their_own_and_keep_no_signal_handler_of_the_cli(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI turns SIGTERM into KeyboardInterrupt. Workers forked with that handler and
    signalled by the pool's terminate() while one held its queue's lock once hung `pgshift
    lint` forever. Workers now die of SIGTERM and leave Ctrl-C to the main process, and a
    finished pool ends on its end-of-work marks, without terminate()."""
    import multiprocessing.pool
    import signal

    from pgshift.lint import workers

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    def no_terminate(self: Any) -> None:
        raise AssertionError("a finished pool was terminated")

    monkeypatch.setitem(_NOTING, "path", tmp_path / "signals")
    monkeypatch.setitem(_NOTING, "run", workers.run)
    monkeypatch.setattr(workers, "run", _run_noting_signals)
    monkeypatch.setattr(multiprocessing.pool.Pool, "terminate", no_terminate)
    migrations = tmp_path / "m"
    for n in range(400):
        write(migrations, f"V{n:04d}__x.sql", f"CREATE TABLE t{n} (id int);")
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        assert lint_paths([migrations], LintOptions(jobs=2)).violations == []
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert multiprocessing.active_children() == []
    noted = set((tmp_path / "signals").read_text().splitlines())
    assert noted == {f"{signal.SIG_DFL} {signal.SIG_IGN}"}


def _migration(path: Path, sql: str) -> Migration:
    return Migration(kind="versioned", version=None, description="m", path=path, checksum="",
                     up_sql=sql)


def test_up_gate_treats_tables_from_earlier_pending_migrations_as_new(tmp_path: Path) -> None:
    applied = [_migration(tmp_path / "V1__a.sql", "CREATE TABLE users (id bigint);")]
    pending = [
        _migration(tmp_path / "V2__b.sql", "CREATE TABLE events (id bigint, user_id bigint);"),
        _migration(tmp_path / "V3__c.sql", "CREATE INDEX events_user ON events (user_id);\n"
                                           "CREATE INDEX users_id ON users (id);"),
    ]
    report = lint_migrations(pending, LintOptions(), prior=applied)
    assert [(v.path.name, v.line, v.rule) for v in report.violations] == [
        ("V3__c.sql", 2, "create-index-non-concurrent")]


def test_editing_the_last_migration_resumes_from_a_schema_checkpoint(tmp_path: Path) -> None:
    migrations, cache = tmp_path / "m", tmp_path / "cache"
    write(migrations, "V1__t.sql", "CREATE TABLE t (id int, v varchar(5));")
    for n in range(2, 40):
        write(migrations, f"V{n}__x.sql", f"ALTER TABLE t ADD COLUMN c{n} int;")
    write(migrations, "V40__last.sql", "ALTER TABLE t ALTER COLUMN v TYPE varchar(9);")
    options = LintOptions(cache_dir=cache)
    assert lint_paths([migrations], options).violations == []
    write(migrations, "V40__last.sql", "ALTER TABLE t ALTER COLUMN c39 TYPE bigint;", age=7200)
    report = lint_paths([migrations], options)
    assert report.cached == 39
    assert [(Path(v.path).name, v.rule) for v in report.violations] == [
        ("V40__last.sql", "alter-column-type-rewrite")]
    assert "integer to bigint" in report.violations[0].message


@pytest.mark.parametrize("runner", ["pgshift", "psql"])
def test_a_dbmate_file_up_refuses_cannot_be_linted_and_says_why_as_up_does(
    tmp_path: Path, runner: str
) -> None:
    """SQL before '-- migrate:up' never runs under dbmate, which refuses the file; up refuses
    it too, and lint reports the same error at the same line instead of linting that SQL."""
    from pgshift.errors import InputError
    from pgshift.migrations.discover import discover_migrations

    write(tmp_path, "20240101120000_users.sql",
          "-- users\nCREATE INDEX users_email ON users (email);\n-- migrate:up\n"
          "CREATE TABLE users (id bigint, email text);\n-- migrate:down\nDROP TABLE users;\n")
    with pytest.raises(InputError) as refused:
        discover_migrations(tmp_path)
    report = lint_paths([tmp_path], LintOptions(runner=runner))  # type: ignore[arg-type]
    assert report.violations == [] and report.exit_code == 2
    [failure] = report.failures
    assert (failure.message, failure.line, failure.hint) == (
        refused.value.message, refused.value.line, refused.value.hint) == (
        "statement before '-- migrate:up': dbmate refuses such a file", 2,
        "move it below the '-- migrate:up' line")


def test_a_dbmate_file_runs_its_up_part_as_its_own_marker_says(tmp_path: Path) -> None:
    """transaction:false after '-- migrate:up' takes the up part out of the transaction (as
    pgshift up runs it); after '-- migrate:down' it is about the down part only."""
    write(tmp_path, "20240101120001_email.sql",
          "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY users_email ON users "
          "(email);\n-- migrate:down\nDROP INDEX users_email;\n")
    write(tmp_path, "20240101120002_name.sql",
          "-- migrate:up\nCREATE INDEX CONCURRENTLY users_name ON users (name);\n"
          "-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY users_name;\n")
    write(tmp_path, "20240101120003_drop.sql",  # dbmate's markers need no space after '--'
          "--migrate:up\nSELECT 1;\n--migrate:down\nDROP TABLE users;\n")
    for runner in ("pgshift", "psql"):
        report = lint_paths([tmp_path], LintOptions(runner=runner))  # type: ignore[arg-type]
        assert [(Path(v.path).name, v.line, v.rule) for v in report.violations] == [
            ("20240101120002_name.sql", 2, "concurrently-in-transaction")]
