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
