"""lint refuses what ``pgshift up`` refuses before running anything, with up's own error.

Up's refusal is taken from the functions ``up`` calls before it touches the database
(discovery, ``check_runnable``, the callbacks), so each test holds lint to up itself.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from pgshift.errors import ConfigError, InputError, PgshiftError
from pgshift.lint import LintOptions, lint_paths
from pgshift.lint.report import LintReport

DOWN = "\n-- pgshift:down\nSELECT 1;\n"


def write(directory: Path, files: dict[str, str | bytes]) -> Path:
    """``files`` written into ``directory``, dated an hour ago (as checked-out files are: the
    caches do not trust a file changed within the last seconds)."""
    an_hour_ago = time.time() - 3600
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        os.utime(path, (an_hour_ago, an_hour_ago))
    return directory


def refused_by_up(directory: Path, flavor: str | None = None) -> InputError:
    """What ``pgshift up`` (and ``up --dry-run``) refuses in ``directory`` before running."""
    from pgshift.callbacks import load_callbacks
    from pgshift.migrations.discover import discover_migrations
    from pgshift.preflight import check_runnable

    with pytest.raises(InputError) as refused:
        check_runnable(discover_migrations(directory, flavor=flavor))
        load_callbacks(directory)
    return refused.value


def only_failure(report: LintReport) -> PgshiftError:
    assert report.exit_code == 2, report
    [failure] = report.failures
    return failure


def assert_same(failure: PgshiftError, refused: InputError) -> None:
    assert type(failure) is type(refused)
    assert (failure.message, failure.line, failure.hint) == (
        refused.message, refused.line, refused.hint)
    assert os.path.abspath(str(failure.path)) == os.path.abspath(str(refused.path))


def assert_lint_refuses_like_up(directory: Path) -> PgshiftError:
    failure = only_failure(lint_paths([directory], LintOptions()))
    assert_same(failure, refused_by_up(directory))
    return failure


def test_lint_refuses_copy_from_stdin_like_up(tmp_path: Path) -> None:
    write(tmp_path, {"V1__t.sql": "CREATE TABLE t (id int);\nCOPY t (id) FROM stdin;\n1\n2\n\\.\n"
                                  + DOWN})
    failure = assert_lint_refuses_like_up(tmp_path)
    assert failure.line == 3 and "COPY … FROM stdin" in str(failure.hint)


def test_lint_refuses_copy_from_stdin_without_rows_like_up(tmp_path: Path) -> None:
    write(tmp_path, {"V1__t.sql": "CREATE TABLE t (id int);\ncopy t from STDIN;\n" + DOWN})
    failure = assert_lint_refuses_like_up(tmp_path)
    assert failure.message.startswith("COPY … FROM stdin") and failure.line == 2


def test_lint_refuses_copy_to_stdout_like_up(tmp_path: Path) -> None:
    write(tmp_path, {"V1__t.sql": "SELECT 1;\nCOPY (SELECT 1) TO stdout;\n" + DOWN})
    assert assert_lint_refuses_like_up(tmp_path).line == 2


def test_lint_refuses_copy_from_stdin_in_a_single_file_named_alone(tmp_path: Path) -> None:
    target = write(tmp_path, {"V1__t.sql": "COPY t FROM stdin;\n1\n\\.\n" + DOWN}) / "V1__t.sql"
    failure = only_failure(lint_paths([target], LintOptions()))
    assert_same(failure, refused_by_up(tmp_path))


def test_lint_with_the_psql_runner_skips_copy_rows_as_psql_sends_them(tmp_path: Path) -> None:
    write(tmp_path, {"t.sql": "CREATE TABLE t (id int);\nCOPY t (id) FROM stdin;\n1\n\\.\n"})
    report = lint_paths([tmp_path], LintOptions(runner="psql"))
    assert report.failures == [] and report.exit_code == 0


def test_lint_refuses_two_files_of_one_name_in_subfolders_like_up(tmp_path: Path) -> None:
    write(tmp_path, {"release_1/V1__a.sql": "SELECT 1;" + DOWN,
                     "release_2/V1__a.sql": "SELECT 2;" + DOWN})
    failure = assert_lint_refuses_like_up(tmp_path)
    assert failure.message.startswith("two files have this name") and failure.line is None


def test_lint_refuses_a_migration_in_the_callbacks_folder_like_up(tmp_path: Path) -> None:
    write(tmp_path, {"V1__a.sql": "SELECT 1;" + DOWN, "callbacks/V2__b.sql": "SELECT 1;" + DOWN})
    assert "only callbacks run" in assert_lint_refuses_like_up(tmp_path).message


def test_lint_refuses_a_callback_in_a_subfolder_of_the_callbacks_folder_like_up(
        tmp_path: Path) -> None:
    write(tmp_path, {"V1__a.sql": "SELECT 1;" + DOWN,
                     "callbacks/old/beforeMigrate.sql": "SELECT 1;\n"})
    assert "only callbacks run" in assert_lint_refuses_like_up(tmp_path).message


def test_lint_refuses_a_callback_in_a_release_subfolder_like_up(tmp_path: Path) -> None:
    write(tmp_path, {"V1__a.sql": "SELECT 1;" + DOWN,
                     "release_1/afterMigrate.sql": "SELECT 1;\n"})
    assert "is never run" in assert_lint_refuses_like_up(tmp_path).message


def test_lint_refuses_a_dangling_folder_link_like_up(tmp_path: Path) -> None:
    write(tmp_path, {"V1__a.sql": "SELECT 1;" + DOWN})
    os.symlink(tmp_path / "gone", tmp_path / "release_1")
    assert assert_lint_refuses_like_up(tmp_path).message == "a link to nothing"


@pytest.mark.parametrize("files", [
    pytest.param({"V1__a.sql": "SELECT 1;" + DOWN, "V01__b.sql": "SELECT 1;" + DOWN},
                 id="duplicate-version"),
    pytest.param({"V1-a.sql": "SELECT 1;" + DOWN}, id="name-no-migration-has"),
    pytest.param({"V1__a.SQL": "SELECT 1;" + DOWN}, id="uppercase-extension"),
    pytest.param({"V1__a.sql": "SELECT 1;" + DOWN, "x.down.sql": "SELECT 1;\n"},
                 id="down-file-of-another-tool"),
    pytest.param({"V1__a.sql": "SELECT 1;\n", "U1__a.sql": "-- pgshift:no-transaction\n"
                  "SELECT 1;\n"}, id="file-directive-in-undo-file"),
    pytest.param({"V1__a.sql": "SELECT 1;\n", "U1__a.sql": "--pgshift:ignore drop-table\n"
                  "SELECT 1;\n"}, id="near-miss-directive-in-undo-file"),
    pytest.param({"V1__a.sql": "SELECT 1;\n", "U1__a.sql": b"SELECT '\xff';\n"},
                 id="undo-file-not-utf8"),
    pytest.param({"V1__a.sql": "SELECT 1;" + DOWN, "U2__b.sql": "SELECT 1;\n"},
                 id="undo-file-without-its-migration"),
    pytest.param({"V1__a.sql": "SELECT 1;" + DOWN, "U1__a.sql": "SELECT 1;\n"},
                 id="down-part-and-undo-file"),
    pytest.param({"V1__a.sql": "-- pgshift:irreversible\nSELECT 1;" + DOWN},
                 id="irreversible-with-down-part"),
    pytest.param({"B1__a.sql": "SELECT 1;" + DOWN}, id="baseline-with-down-part"),
    pytest.param({"V1__a.sql": "-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 1;\n"},
                 id="goose-file-among-pgshift-files"),
    pytest.param({"V1__a.sql": "SELECT '${app_role}';" + DOWN}, id="placeholder-without-value"),
    pytest.param({"V1__a.sql": "--pgshift:no-transaction\nSELECT 1;" + DOWN},
                 id="near-miss-directive"),
    pytest.param({"V1__a.sql": "-- pgshift:bogus\nSELECT 1;" + DOWN}, id="unknown-directive"),
    pytest.param({"V1__a.sql": b"SELECT 1;\n-- \xff" + DOWN.encode()}, id="not-utf8"),
    pytest.param({"V1__a.sql": "SELECT 1;" + DOWN,
                  "beforeMigrate.sql": "COPY (SELECT 1) TO stdout;\n"}, id="callback-copy"),
])
def test_lint_refuses_what_up_refuses_before_running_anything(
        tmp_path: Path, files: dict[str, str | bytes]) -> None:
    assert_lint_refuses_like_up(write(tmp_path, files))


def test_lint_refuses_a_folder_named_like_a_migration_like_up(tmp_path: Path) -> None:
    write(tmp_path, {"V1__a.sql": "SELECT 1;" + DOWN})
    (tmp_path / "V2__b.sql").mkdir()
    assert "not a regular file" in assert_lint_refuses_like_up(tmp_path).message


def test_a_refusal_lint_finds_in_the_file_itself_is_reported_once(tmp_path: Path) -> None:
    write(tmp_path, {"V1__a.sql": "-- pgshift:bogus\nSELECT 1;" + DOWN})
    assert len(lint_paths([tmp_path], LintOptions()).failures) == 1


def test_the_other_files_are_still_linted_when_the_layout_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {"a/V1__a.sql": "SELECT 1;" + DOWN, "b/V1__a.sql": "SELECT 1;" + DOWN,
                     "V2__drop.sql": "DROP TABLE t;" + DOWN})
    report = lint_paths([tmp_path], LintOptions())
    assert [v.rule for v in report.violations] == ["drop-table"]
    assert len(report.failures) == 1 and report.exit_code == 2


def test_a_single_file_is_linted_alone_whatever_its_directory_holds(tmp_path: Path) -> None:
    write(tmp_path, {"a/V1__a.sql": "SELECT 1;" + DOWN, "a/V2__b.sql": "SELECT 1;" + DOWN,
                     "b/V1__a.sql": "SELECT 1;" + DOWN})
    report = lint_paths([tmp_path / "a" / "V2__b.sql"], LintOptions())
    assert report.failures == [] and report.exit_code == 0


def test_a_directory_of_another_tools_numbered_files_is_linted_file_by_file(
        tmp_path: Path) -> None:
    """up reads such a folder only as that tool's; lint need not be pointed at up's folder."""
    write(tmp_path, {"001_views.sql": "-- pgshift:no-transaction\nSELECT 1;\n",
                     "002_more.sql": "SELECT 2;\n"})
    assert lint_paths([tmp_path], LintOptions()).failures == []


def test_the_migrations_directory_is_checked_as_up_reads_it_whatever_its_names(
        tmp_path: Path) -> None:
    write(tmp_path, {"001_views.sql": "-- pgshift:no-transaction\nSELECT 1;\n"})
    failure = only_failure(lint_paths([tmp_path], LintOptions(), migrations_dir=tmp_path))
    assert_same(failure, refused_by_up(tmp_path))


def test_the_migrations_directory_is_read_in_its_configured_flavor(tmp_path: Path) -> None:
    write(tmp_path, {"20240101120000_users.sql": "-- migrate:up\nSELECT 1;\n"
                                                 "-- migrate:down\nSELECT 1;\n",
                     "V2__b.sql": "SELECT 1;" + DOWN})
    failure = only_failure(lint_paths([tmp_path], LintOptions(), migrations_dir=tmp_path,
                                      flavor="dbmate"))
    assert_same(failure, refused_by_up(tmp_path, flavor="dbmate"))
    assert "dbmate naming" in failure.message


def test_an_unknown_flavor_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown flavor"):
        lint_paths([tmp_path], LintOptions(), migrations_dir=tmp_path, flavor="liquibase")


def test_the_psql_runner_lints_any_folder_of_sql_files(tmp_path: Path) -> None:
    write(tmp_path, {"a/schema.sql": "SELECT 1;\n", "b/schema.sql": "SELECT 2;\n"})
    assert lint_paths([tmp_path], LintOptions(runner="psql")).exit_code == 0


def test_a_cached_run_refuses_as_the_first_did(tmp_path: Path) -> None:
    migrations = write(tmp_path / "m", {"V1__a.sql": "SELECT 1;" + DOWN,
                                        "U1__a.sql": "-- pgshift:lock-timeout 1s\nSELECT 1;\n"})
    options = LintOptions(cache_dir=tmp_path / "cache")
    first = only_failure(lint_paths([migrations], options))
    again = lint_paths([migrations], options)
    assert again.cached == 1
    assert_same(only_failure(again), refused_by_up(migrations))
    assert (first.message, first.line) == (again.failures[0].message, again.failures[0].line)


def test_a_clean_directory_is_checked_from_ups_discovery_cache_when_lint_caches(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pgshift.migrations import cache as discovery_cache

    migrations = write(tmp_path / "m", {"V1__a.sql": "CREATE TABLE t (id bigint);" + DOWN,
                                        "R__v.sql": "SELECT 1;\n"})
    later = time.time_ns() + 10_000_000_000  # past the racy window of files just written
    monkeypatch.setattr(discovery_cache, "time_ns", lambda: later)
    options = LintOptions(cache_dir=tmp_path / "cache")
    assert lint_paths([migrations], options).exit_code == 0

    def unread(path: Path) -> str:
        raise AssertionError(f"{path} read again")

    monkeypatch.setattr(discovery_cache, "read_text", unread)
    assert lint_paths([migrations], options).exit_code == 0


def test_every_callback_event_starts_as_the_linter_glances_for() -> None:
    from pgshift.callbacks import EVENTS
    from pgshift.lint.linter import CALLBACK_STARTS

    assert all(event.startswith(CALLBACK_STARTS) for event in EVENTS)
