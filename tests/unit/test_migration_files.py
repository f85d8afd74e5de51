"""Migration files: names, versions, up/down parts, directives, and the errors for bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fixtures.project import write_file

from pgshift.errors import InputError
from pgshift.migrations.discover import discover_migrations
from pgshift.migrations.model import Version
from pgshift.migrations.parse import checksum, normalize, parse_text


def write(folder: Path, name: str, text: str | bytes) -> Path:
    return write_file(folder / name, text)


def test_versions_compare_numerically_part_by_part() -> None:
    assert Version.parse("2") < Version.parse("10")
    assert Version.parse("1.2") < Version.parse("1.10")
    assert Version.parse("001") == Version.parse("1") == Version.parse("1.0")
    assert Version.parse("1_1") == Version.parse("1.1")


def test_discovery_orders_versioned_then_repeatable_and_reads_descriptions(tmp_path: Path) -> None:
    write(tmp_path, "V10__ten.sql", "select 10;\n-- pgshift:down\nselect 1;")
    write(tmp_path, "V2__add_user_2fa.sql", "select 2;\n-- pgshift:down\nselect 1;")
    write(tmp_path, "R__views.sql", "create or replace view v as select 1;")
    write(tmp_path, "README.md", "not a migration")
    found = discover_migrations(tmp_path)
    assert [m.name for m in found] == ["V2__add_user_2fa.sql", "V10__ten.sql", "R__views.sql"]
    assert found[0].description == "add user 2fa"
    assert found[2].kind == "repeatable"


def test_in_file_down_part_keeps_file_line_numbers() -> None:
    parsed = parse_text(
        "create table a (id int);\n\n-- pgshift:down\ndrop table a;\n", Path("V1__a.sql")
    )
    assert parsed.up_sql.startswith("create table a")
    assert parsed.down_sql is not None and parsed.down_sql.strip() == "drop table a;"
    assert parsed.down_line == 4


def test_undo_file_is_the_down_part(tmp_path: Path) -> None:
    write(tmp_path, "V1__a.sql", "create table a (id int);")
    write(tmp_path, "U1__a.sql", "drop table a;")
    (migration,) = discover_migrations(tmp_path)
    assert migration.down_sql == "drop table a;"
    assert migration.down_path == tmp_path / "U1__a.sql"


def test_directives_at_the_top_set_transaction_and_timeouts() -> None:
    text = (
        "-- pgshift:no-transaction\n-- pgshift:lock-timeout 3s\n"
        "-- pgshift:statement-timeout 10m\n-- pgshift:timeout 1h\n-- pgshift:lock-retries 3\n"
        "create index concurrently i on t (c);\n"
    )
    directives = parse_text(text, Path("V1__i.sql")).directives
    assert not directives.transactional
    assert (directives.lock_timeout, directives.statement_timeout, directives.timeout) == (
        3.0,
        600.0,
        3600.0,
    )
    assert directives.lock_retries == 3


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("-- pgshift:no-transactions\nselect 1;", "unknown directive", 1),
        ("select 1;\n-- pgshift:no-transaction\n", "must be at the top", 2),
        ("-- pgshift:lock-timeout soon\nselect 1;", "not a duration", 1),
        ("-- pgshift:phase later\nselect 1;", "phase must be", 1),
        ("select 1;\n-- pgshift:down\nselect 2;\n-- pgshift:down\n", "second", 4),
    ],
)
def test_bad_directives_are_errors_with_their_line(text: str, message: str, line: int) -> None:
    with pytest.raises(InputError, match=message) as caught:
        parse_text(text, Path("V1__x.sql"))
    assert caught.value.line == line
    assert caught.value.path == "V1__x.sql"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"V1__a.sql": "select 1;", "V001__b.sql": "select 1;"}, "duplicate version"),
        ({"V1_a.sql": "select 1;"}, "does not match"),
        ({"v1__a.sql": "select 1;"}, "does not match"),
        ({"U2__a.sql": "select 1;"}, "has no V2 migration"),
        ({"V1__a.sql": b"select '\xff';"}, "not valid UTF-8"),
        ({"V1__a.sql": "select 1;\n-- pgshift:down\nselect 2;", "U1__a.sql": "x"}, "both"),
        (
            {"V1__a.sql": "-- pgshift:irreversible\nselect 1;\n-- pgshift:down\nselect 2;"},
            "irreversible but has a down",
        ),
    ],
)
def test_bad_files_are_refused_naming_the_file(tmp_path: Path, files: dict, message: str) -> None:
    for name, text in files.items():
        write(tmp_path, name, text)
    with pytest.raises(InputError, match=message) as caught:
        discover_migrations(tmp_path)
    assert caught.value.path is not None and caught.value.path.endswith(".sql")


def test_unreadable_file_is_refused_naming_it(tmp_path: Path) -> None:
    # A dangling link cannot be read, even by root (chmod 000 would not stop root).
    (tmp_path / "V1__a.sql").symlink_to(tmp_path / "gone.sql")
    with pytest.raises(InputError, match="cannot read file") as caught:
        discover_migrations(tmp_path)
    assert caught.value.path == str(tmp_path / "V1__a.sql")


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="directory not found"):
        discover_migrations(tmp_path / "nope")


def test_checksum_ignores_bom_and_line_endings_but_not_content() -> None:
    base = checksum(normalize(b"select 1;\nselect 2;\n", Path("x")))
    assert checksum(normalize(b"\xef\xbb\xbfselect 1;\r\nselect 2;\r\n", Path("x"))) == base
    assert checksum(normalize(b"select 1;\nselect 3;\n", Path("x"))) != base


def test_names_with_spaces_quotes_and_unicode_are_accepted(tmp_path: Path) -> None:
    write(tmp_path, "V1__add user's naïve column.sql", "select 1;\n-- pgshift:down\nselect 1;")
    (migration,) = discover_migrations(tmp_path)
    assert migration.description == "add user's naïve column"


def test_directive_lines_inside_strings_bodies_and_block_comments_are_sql_not_directives(
) -> None:
    text = ("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n-- pgshift:down\n"
            "  -- pgshift:lock-timeout 1s\nRETURN 1;\nEND $$;\n"
            "INSERT INTO notes VALUES ('é\n-- pgshift:irreversible\n');\n"
            "/* an example:\n-- pgshift:no-such-directive\n*/\n"
            "-- pgshift:down\nDROP FUNCTION f();\n")
    parsed = parse_text(text, Path("V1__f.sql"))
    assert parsed.down_sql is not None and parsed.down_sql.strip() == "DROP FUNCTION f();"
    assert parsed.down_line == 14
    assert parsed.directives.lock_timeout is None and not parsed.directives.irreversible
    assert "-- pgshift:down\n  -- pgshift:lock-timeout 1s" in parsed.up_sql


def test_flyway_callbacks_pgshift_does_not_run_are_neither_migrations_nor_errors(
    tmp_path: Path,
) -> None:
    from pgshift.callbacks import load_callbacks

    (tmp_path / "V1__a.sql").write_text("CREATE TABLE a (id int);\n-- pgshift:down\n"
                                        "DROP TABLE a;\n")
    for name in ("afterMigrateError.sql", "beforeValidate.sql", "afterEachMigrateStatement.sql",
                 "afterMigrate.sql"):
        (tmp_path / name).write_text("SELECT 1;\n")
    assert [m.name for m in discover_migrations(tmp_path)] == ["V1__a.sql"]
    assert [c.event for c in load_callbacks(tmp_path).files] == ["afterMigrate"]


def test_subfolders_are_read_as_flyway_reads_a_location(tmp_path: Path) -> None:
    write(tmp_path, "V1__a.sql", "select 1;\n-- pgshift:down\nselect 1;")
    (tmp_path / "release_2" / "late").mkdir(parents=True)
    write(tmp_path / "release_2", "V2__b.sql", "select 2;\n-- pgshift:down\nselect 1;")
    write(tmp_path / "release_2" / "late", "V10__c.sql", "select 10;\n-- pgshift:down\nselect 1;")
    write(tmp_path / "release_2", "U3__d.sql", "select 1;")
    write(tmp_path, "V3__d.sql", "select 3;")
    write(tmp_path / "release_2", "R__views.sql", "select 1;")
    found = discover_migrations(tmp_path)
    assert [m.name for m in found] == ["V1__a.sql", "V2__b.sql", "V3__d.sql", "V10__c.sql",
                                       "R__views.sql"]
    assert found[1].path == tmp_path / "release_2" / "V2__b.sql"
    assert found[2].down_path == tmp_path / "release_2" / "U3__d.sql"


def test_hidden_and_callbacks_folders_hold_no_migrations(tmp_path: Path) -> None:
    write(tmp_path, "V1__a.sql", "select 1;\n-- pgshift:down\nselect 1;")
    (tmp_path / ".archive").mkdir()
    write(tmp_path / ".archive", "V2__old.sql", "select 2;")
    (tmp_path / "callbacks").mkdir()
    write(tmp_path / "callbacks", "afterMigrate.sql", "select 1;")
    assert [m.name for m in discover_migrations(tmp_path)] == ["V1__a.sql"]


def test_two_files_of_one_name_in_different_folders_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "R__views.sql", "select 1;")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "R__views.sql", "select 2;")
    with pytest.raises(InputError, match="two files have this name"):
        discover_migrations(tmp_path)


def test_a_callback_in_a_subfolder_is_refused_rather_than_never_run(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "beforeMigrate.sql", "select 1;")
    with pytest.raises(InputError, match="callback in a subfolder is never run"):
        discover_migrations(tmp_path)


def test_a_link_back_up_the_tree_is_read_once(tmp_path: Path) -> None:
    write(tmp_path, "V1__a.sql", "select 1;\n-- pgshift:down\nselect 1;")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "up").symlink_to(tmp_path)
    assert [m.name for m in discover_migrations(tmp_path)] == ["V1__a.sql"]


def test_numbered_flavors_read_only_their_folder_as_their_tools_do(tmp_path: Path) -> None:
    write(tmp_path, "20240101000000_a.sql", "-- migrate:up\nselect 1;\n-- migrate:down\n")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "20240102000000_b.sql", "-- migrate:up\nselect 1;\n")
    assert [m.name for m in discover_migrations(tmp_path)] == ["20240101000000_a.sql"]


def test_each_statement_of_a_long_file_knows_its_line() -> None:
    from pgshift.migrations.statements import split_statements

    sql = "\n".join(f"-- row {i}\nINSERT INTO t\nVALUES ({i});" for i in range(20000))
    statements = split_statements(sql, Path("V1__seed.sql"), first_line=5)
    assert [s.line for s in statements[:2]] == [6, 9]
    assert statements[-1].line == 5 + 3 * 19999 + 1


def test_a_migration_in_a_nested_callbacks_folder_is_read_and_one_in_the_callbacks_folder_refused(
        tmp_path: Path) -> None:
    (tmp_path / "rel1" / "callbacks").mkdir(parents=True)
    write(tmp_path / "rel1" / "callbacks", "V3__c.sql", "select 3;\n-- pgshift:down\nselect 1;")
    assert [m.name for m in discover_migrations(tmp_path)] == ["V3__c.sql"]
    (tmp_path / "callbacks" / "sub").mkdir(parents=True)
    write(tmp_path / "callbacks", "afterMigrate.sql", "select 1;")
    assert [m.name for m in discover_migrations(tmp_path)] == ["V3__c.sql"]
    for folder in (tmp_path / "callbacks" / "sub", tmp_path / "callbacks"):
        path = write(folder, "V2__b.sql", "select 2;\n-- pgshift:down\nselect 1;")
        with pytest.raises(InputError, match="only callbacks run from the callbacks folder"):
            discover_migrations(tmp_path)
        path.unlink()


def test_a_link_to_a_folder_that_is_gone_is_refused_not_skipped(tmp_path: Path) -> None:
    write(tmp_path, "V1__a.sql", "select 1;\n-- pgshift:down\nselect 1;")
    (tmp_path / "release_3").symlink_to(tmp_path / "nowhere")
    with pytest.raises(InputError, match="a link to nothing"):
        discover_migrations(tmp_path)


@pytest.mark.parametrize(("text", "line", "message"), [
    ("CREATE TABLE c (id int);\nCOPY c FROM stdin;\n", 2, "COPY … FROM stdin: a migration has "
                                                          "no data to send after it"),
    ("CREATE TABLE c (id int);\nCOPY c FROM STDIN;\n1\n2\n\\.\n", 3, "syntax error"),
    ("CREATE TABLE c (id int);\n\nCOPY (SELECT 1) TO STDOUT;\n", 3,
     "COPY … TO stdout: a migration has no one to print rows to"),
])
def test_copy_from_stdin_is_refused_at_its_line_saying_what_to_write_instead(
        text: str, line: int, message: str) -> None:
    from pgshift.migrations.statements import split_statements

    with pytest.raises(InputError, match=message) as refused:
        split_statements(text, Path("V3__c.sql"))
    assert refused.value.line == line
    assert ("INSERT … VALUES" if "FROM" in text else "COPY TO a file") in (
        refused.value.hint or "")


@pytest.mark.parametrize("written", ["--pgshift:lock-timeout 5s", "-- PGSHIFT:lock-timeout 5s",
                                     "-- pgshift: lock-timeout 5s", "--  pgshift:down"])
def test_a_directive_written_almost_right_is_an_error_not_a_comment(written: str) -> None:
    text = f"-- add b\n{written}\nALTER TABLE t ADD b int;\n"
    with pytest.raises(InputError, match="written almost as a directive") as refused:
        parse_text(text, Path("V1__b.sql"))
    assert refused.value.line == 2


def test_a_comment_about_pgshift_or_a_body_line_is_no_directive() -> None:
    text = ("-- see pgshift: the README\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$\n"
            "--pgshift:down\nSELECT 1 $$;\n-- pgshift:down\nDROP FUNCTION f();\n")
    parsed = parse_text(text, Path("V1__f.sql"))
    assert parsed.down_sql is not None and parsed.down_sql.strip() == "DROP FUNCTION f();"


@pytest.mark.parametrize("directive", ["-- pgshift:timeout 1s", "-- pgshift:bogus",
                                       "--pgshift:no-transaction"])
def test_a_directive_in_an_undo_file_is_an_error_not_ignored(tmp_path: Path,
                                                             directive: str) -> None:
    write(tmp_path, "V1__a.sql", "CREATE TABLE a (id int);")
    write(tmp_path, "U1__a.sql", f"{directive}\nDROP TABLE a;")
    with pytest.raises(InputError) as refused:
        discover_migrations(tmp_path)
    assert refused.value.line == 1 and refused.value.path == str(tmp_path / "U1__a.sql")
