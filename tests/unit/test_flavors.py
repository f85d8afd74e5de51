"""Other tools' migration directories read as they are: detection, up/down parts, transactions."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgshift.adopt import flyway_checksum
from pgshift.errors import ConfigError, InputError
from pgshift.migrations.discover import discover_migrations
from pgshift.placeholders import check_resolved, substitute


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_node_pg_migrate_files_split_at_their_up_and_down_comments(tmp_path: Path) -> None:
    write(tmp_path, "1700000000000_create-users.sql",
          "-- Up Migration\nCREATE TABLE users (id int);\n\n-- Down Migration\nDROP TABLE users;\n")
    write(tmp_path, "1700000000001_add-email.sql", "ALTER TABLE users ADD COLUMN email text;\n")
    first, second = discover_migrations(tmp_path)
    assert str(first.version) == "1700000000000" and first.description == "create-users"
    assert "CREATE TABLE users" in first.up_sql and "DROP" not in first.up_sql
    assert first.down_sql is not None and first.down_sql.strip() == "DROP TABLE users;"
    assert first.down_line == 5 and first.transactional
    assert second.down_sql is None and second.directives.irreversible  # no markers: all up


def test_dbmate_files_keep_their_line_numbers_and_transaction_false(tmp_path: Path) -> None:
    write(tmp_path, "20240101120000_create_users.sql",
          "-- migrate:up\nCREATE TABLE users (id int);\n\n-- migrate:down\nDROP TABLE users;\n")
    write(tmp_path, "20240102120000_users_idx.sql",
          "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON users (id);\n\n"
          "-- migrate:down\nDROP INDEX CONCURRENTLY i;\n")
    first, second = discover_migrations(tmp_path)
    assert first.up_sql.split("\n")[1] == "CREATE TABLE users (id int);"  # still line 2
    assert first.down_sql is not None and first.down_sql.strip() == "DROP TABLE users;"
    assert first.transactional and not second.transactional
    assert second.description == "users idx"


def test_golang_migrate_pairs_up_and_down_files(tmp_path: Path) -> None:
    write(tmp_path, "000001_create_users.up.sql", "CREATE TABLE users (id int);\n")
    write(tmp_path, "000001_create_users.down.sql", "DROP TABLE users;\n")
    write(tmp_path, "000002_idx.up.sql", "CREATE INDEX CONCURRENTLY i ON users (id);\n")
    first, second = discover_migrations(tmp_path)
    assert first.down_path == tmp_path / "000001_create_users.down.sql"
    assert first.reversible and not first.directives.irreversible
    assert not second.reversible and second.directives.irreversible
    assert not second.transactional  # a lone CONCURRENTLY statement runs outside a transaction


def test_golang_migrate_down_file_without_up_file_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "1_a.up.sql", "SELECT 1;\n")
    write(tmp_path, "2_b.down.sql", "SELECT 1;\n")
    with pytest.raises(InputError, match="has no up file"):
        discover_migrations(tmp_path)


def test_flyway_directory_is_detected_by_its_config_and_missing_undo_is_irreversible(
    tmp_path: Path,
) -> None:
    (tmp_path / "flyway.conf").write_text("flyway.locations=filesystem:sql\n")
    folder = tmp_path / "sql"
    folder.mkdir()
    write(folder, "V1__init.sql", "CREATE TABLE t (id int);\n")
    write(folder, "U1__init.sql", "DROP TABLE t;\n")
    write(folder, "V2__more.sql", "ALTER TABLE t ADD COLUMN x int;\n")
    write(folder, "V3__idx.sql", "CREATE INDEX CONCURRENTLY i ON t (x);\n")
    write(folder, "V4__conf.sql", "SELECT 1;\n")
    write(folder, "V4__conf.sql.conf", "executeInTransaction=false\n")
    v1, v2, v3, v4 = discover_migrations(folder)
    assert v1.reversible and not v1.directives.irreversible
    assert v2.directives.irreversible
    assert not v3.transactional and not v4.transactional
    # Without the config file the same names are pgshift's: no silent irreversibility.
    (tmp_path / "flyway.conf").unlink()
    (folder / "V4__conf.sql.conf").unlink()
    assert not discover_migrations(folder)[1].directives.irreversible
    assert discover_migrations(folder, flavor="flyway")[1].directives.irreversible


def test_pgmigrate_nontransactional_names_run_outside_a_transaction(tmp_path: Path) -> None:
    write(tmp_path, "V0001__init.sql", "CREATE TABLE t (id int);\n")
    write(tmp_path, "V0002__NONTRANSACTIONAL_idx.sql", "CREATE INDEX CONCURRENTLY i ON t (id);\n")
    first, second = discover_migrations(tmp_path, flavor="pgmigrate")
    assert first.transactional and first.directives.irreversible
    assert not second.transactional


@pytest.mark.parametrize(("name", "text", "line", "tool"), [
    # a goose file named as node-pg-migrate's would otherwise be all 'up', its Down included
    ("20240102120000_audit.sql",
     "-- +goose Up\nCREATE TABLE audit (x int);\n\n-- +goose Down\nDROP TABLE audit;\n", 1,
     "goose"),
    ("V1__audit.sql", "CREATE TABLE audit (x int);\n-- +goose NO TRANSACTION\n", 2, "goose"),
    ("V1__audit.sql", "-- pgshift:down\n--+goose StatementBegin\n", 2, "goose"),
    ("1_audit.up.sql", "-- +migrate Up notransaction\nCREATE TABLE audit (x int);\n", 1,
     "sql-migrate"),
    ("20240101120000_audit.sql",
     "-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 1;\n-- +migrate Down\n", 5,
     "sql-migrate"),
])
def test_goose_and_sql_migrate_files_are_refused_in_every_flavor(
    tmp_path: Path, name: str, text: str, line: int, tool: str
) -> None:
    write(tmp_path, name, text)
    with pytest.raises(InputError, match=f"is a {tool} line: pgshift does not run") as info:
        discover_migrations(tmp_path)
    assert (info.value.path, info.value.line) == (str(tmp_path / name), line)
    assert "dbmate and golang-migrate" in (info.value.hint or "")


def test_goose_lines_in_a_golang_down_file_or_flyway_undo_file_are_refused(
    tmp_path: Path,
) -> None:
    write(tmp_path, "1_a.up.sql", "SELECT 1;\n")
    write(tmp_path, "1_a.down.sql", "SELECT 1;\n-- +goose Down\n")
    with pytest.raises(InputError, match="goose") as info:
        discover_migrations(tmp_path)
    assert (info.value.path, info.value.line) == (str(tmp_path / "1_a.down.sql"), 2)
    for path in tmp_path.iterdir():
        path.unlink()
    write(tmp_path, "V1__a.sql", "SELECT 1;\n")
    write(tmp_path, "U1__a.sql", "-- +migrate Down\nSELECT 1;\n")
    with pytest.raises(InputError, match="sql-migrate") as info:
        discover_migrations(tmp_path, flavor="flyway")
    assert (info.value.path, info.value.line) == (str(tmp_path / "U1__a.sql"), 1)


@pytest.mark.parametrize(("text", "message", "line"), [
    ("CREATE TYPE mood AS ENUM ('a');\n-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 1;\n",
     "statement before '-- migrate:up'", 1),
    ("-- a comment\n\n-- migrate:up\nSELECT 1;\n-- migrate:up\nSELECT 2;\n-- migrate:down\n",
     "a second '-- migrate:up' line", 5),
    ("-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 1;\n-- migrate:down\nSELECT 2;\n",
     "a second '-- migrate:down' line", 5),
    ("-- migrate:up\nCREATE TABLE a (x int);\n",
     "dbmate migration without a '-- migrate:down' line", None),
    ("-- a comment\n-- migrate:down\nDROP TABLE a;\n-- migrate:up\nCREATE TABLE a (x int);\n",
     "'-- migrate:down' comes before '-- migrate:up'", 2),
])
def test_dbmate_files_whose_sql_dbmate_would_not_run_as_read_are_refused(
    tmp_path: Path, text: str, message: str, line: int | None
) -> None:
    write(tmp_path, "20240101120000_a.sql", text)
    with pytest.raises(InputError, match=message) as info:
        discover_migrations(tmp_path)
    assert info.value.line == line


def test_an_empty_dbmate_down_part_is_a_down_that_does_nothing(tmp_path: Path) -> None:
    """dbmate's way to say a migration has nothing to undo; only a missing marker is refused."""
    write(tmp_path, "20240101120000_a.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down\n")
    (migration,) = discover_migrations(tmp_path)
    assert migration.reversible and migration.down_sql.strip() == ""


def test_dbmate_transaction_false_applies_to_its_own_marker_only(tmp_path: Path) -> None:
    write(tmp_path, "20240101120000_a.sql",
          "-- migrate:up\nCREATE TABLE a (x int);\n-- migrate:down transaction:false\n"
          "DROP TABLE a;\n")
    write(tmp_path, "20240102120000_b.sql",
          "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON a (x);\n"
          "-- migrate:down\nSELECT 1;\n")
    first, second = discover_migrations(tmp_path)
    assert first.transactional_in("up") and not first.transactional_in("down")
    assert not second.transactional_in("up") and second.transactional_in("down")


def test_a_down_file_of_its_own_decides_its_own_transaction(tmp_path: Path) -> None:
    write(tmp_path, "1_t.up.sql", "CREATE TABLE t (x int);\nCREATE INDEX t_x ON t (x);\n")
    write(tmp_path, "1_t.down.sql", "DROP INDEX CONCURRENTLY t_x;\n")
    write(tmp_path, "2_u.up.sql", "CREATE INDEX CONCURRENTLY u ON t (x);\n")
    write(tmp_path, "2_u.down.sql", "DROP TABLE t;\n")
    first, second = discover_migrations(tmp_path)
    assert first.transactional_in("up") and not first.transactional_in("down")
    assert not second.transactional_in("up") and second.transactional_in("down")


def test_a_flyway_undo_file_decides_its_own_transaction(tmp_path: Path) -> None:
    write(tmp_path, "V1__t.sql", "CREATE INDEX t_x ON t (x);\n")
    write(tmp_path, "U1__t.sql", "DROP INDEX CONCURRENTLY t_x;\n")
    write(tmp_path, "V2__u.sql", "SELECT 1;\n")
    write(tmp_path, "U2__u.sql", "SELECT 1;\n")
    write(tmp_path, "U2__u.sql.conf", "executeInTransaction=false\n")
    write(tmp_path, "V3__w.sql", "CREATE INDEX CONCURRENTLY w ON t (x);\n")
    write(tmp_path, "U3__w.sql", "DROP TABLE t;\n")
    first, second, third = discover_migrations(tmp_path, flavor="flyway")
    assert first.transactional_in("up") and not first.transactional_in("down")
    assert second.transactional_in("up") and not second.transactional_in("down")
    assert not third.transactional_in("up") and third.transactional_in("down")


def test_a_pgshift_no_transaction_file_runs_both_ways_outside_a_transaction(
    tmp_path: Path,
) -> None:
    write(tmp_path, "V1__idx.sql", "-- pgshift:no-transaction\nCREATE INDEX CONCURRENTLY i ON t"
          " (x);\n-- pgshift:down\nDROP INDEX CONCURRENTLY i;\n")
    write(tmp_path, "V2__t.sql", "-- pgshift:no-transaction\nSELECT 1;\n")
    write(tmp_path, "U2__t.sql", "SELECT 1;\n")
    first, second = discover_migrations(tmp_path)
    assert not first.transactional_in("up") and not first.transactional_in("down")
    assert not second.transactional_in("down")  # a pgshift U file: the V file's directives


def test_unknown_flavor_is_a_config_error_naming_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown flavor 'liquibase'") as info:
        discover_migrations(tmp_path, flavor="liquibase")
    assert "dbmate" in (info.value.hint or "")


def test_callback_files_are_not_migrations(tmp_path: Path) -> None:
    write(tmp_path, "V1__init.sql", "SELECT 1;\n-- pgshift:down\nSELECT 1;\n")
    write(tmp_path, "afterMigrate.sql", "GRANT SELECT ON ALL TABLES IN SCHEMA public TO PUBLIC;\n")
    write(tmp_path, "beforeEachMigrate__audit.sql", "SELECT 1;\n")
    assert [m.name for m in discover_migrations(tmp_path)] == ["V1__init.sql"]


def test_placeholders_fill_the_sql_but_not_the_checksum(tmp_path: Path) -> None:
    write(tmp_path, "V1__init.sql", "CREATE TABLE ${schema}.t (id int);\n-- pgshift:down\n"
          "DROP TABLE ${Schema}.t;\n")
    raw = discover_migrations(tmp_path)[0]
    filled = discover_migrations(tmp_path, placeholders={"schema": "app"})[0]
    assert filled.up_sql.startswith("CREATE TABLE app.t") and "DROP TABLE app.t" in str(
        filled.down_sql)
    assert raw.checksum == filled.checksum and "${schema}" in raw.up_sql


def test_an_undefined_placeholder_names_its_file_line_and_variable(tmp_path: Path) -> None:
    path = tmp_path / "V1__x.sql"
    with pytest.raises(InputError) as info:
        check_resolved("SELECT 1;\nSELECT '${app_user}';\n", path)
    assert str(info.value).startswith("V1__x.sql:2: no value for placeholder ${app_user}")
    assert "PGSHIFT_PLACEHOLDER_APP_USER" in str(info.value)
    assert substitute("${a} ${B}", {"A": "1", "b": "2"}) == "1 2"  # names match in any case
    assert substitute("${a} ${b}", {"a": "1"}) == "1 ${b}"  # the others stay for the check


@pytest.mark.parametrize(
    ("content", "expected"),
    [  # expected: java.util.zip.CRC32 over each line's UTF-8 bytes, read as Flyway reads them
        (b"CREATE TABLE users (id bigint PRIMARY KEY);\n", 1812668543),
        (b"\xef\xbb\xbfCREATE TABLE users (id bigint PRIMARY KEY);\r\n", 1812668543),
        ("-- héllo\r\nSELECT 1;\r\rSELECT 2;\n\n".encode(), -1392899186),
        (b"CREATE VIEW v AS SELECT 1 AS one;\nGRANT SELECT ON v TO PUBLIC;\n", -269964590),
    ],
)
def test_flyway_checksum_matches_flyways_line_by_line_crc32(content: bytes,
                                                            expected: int) -> None:
    assert flyway_checksum(content) == expected


def test_pgshift_directives_in_another_tools_file_apply_as_in_pgshifts_own(
        tmp_path: Path) -> None:
    write(tmp_path, "20240101000000_a.sql", "-- pgshift:lock-timeout 3s\n-- pgshift:phase expand\n"
          "-- migrate:up\nALTER TABLE t ADD COLUMN b int;\n-- migrate:down\n")
    (migration,) = discover_migrations(tmp_path, flavor="dbmate")
    assert migration.directives.lock_timeout == 3 and migration.directives.phase == "expand"


@pytest.mark.parametrize(("text", "message"), [
    ("-- pgshift:no-transaction\n-- migrate:up\nSELECT 1;\n-- migrate:down\n",
     "'-- pgshift:no-transaction' in a file of another tool's format"),
    ("-- pgshift:lock-timout 3s\n-- migrate:up\nSELECT 1;\n-- migrate:down\n",
     "unknown directive '-- pgshift:lock-timout'"),
])
def test_a_pgshift_directive_another_tools_file_cannot_take_is_an_error_not_ignored(
        tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "20240101000000_a.sql", text)
    with pytest.raises(InputError, match=message) as refused:
        discover_migrations(tmp_path, flavor="dbmate")
    assert refused.value.line == 1


@pytest.mark.parametrize(("files", "message"), [
    ({"1_a.up.sql": "SELECT 1;\n", "1_a.down.sql": "-- pgshift:timeout 1s\nSELECT 1;\n"},
     "in a down file"),
    ({"20240101000000_a.sql": "-- migrate:up\nSELECT 1;\n-- pgshift:lock-timeout 3s\n"
                              "-- migrate:down\n"}, "must be at the top of the file"),
])
def test_a_directive_another_tools_file_holds_where_it_cannot_apply_is_refused(
        tmp_path: Path, files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        write(tmp_path, name, text)
    with pytest.raises(InputError, match=message):
        discover_migrations(tmp_path)
