"""``pgshift create`` in another tool's directory writes that tool's format; discovery reads it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pgshift import api
from pgshift.config import Settings
from pgshift.errors import InputError
from pgshift.migrations.discover import discover_migrations
from pgshift.migrations.flavors import detect_flavor

# Per flavor: the files of a project that tool made, and the name the new migration must have.
PROJECTS = {
    "dbmate": ({"20240101120000_create_users.sql":
                "-- migrate:up\nCREATE TABLE users (id int);\n\n"
                "-- migrate:down\nDROP TABLE users;\n"},
               r"\d{14}_add_users_email\.sql"),
    "golang-migrate": ({"000007_create_users.up.sql": "CREATE TABLE users (id int);\n",
                        "000007_create_users.down.sql": "DROP TABLE users;\n"},
                       r"000008_add_users_email\.up\.sql"),
    "node-pg-migrate": ({"1700000000000_create-users.sql":
                         "-- Up Migration\nCREATE TABLE users (id int);\n"
                         "-- Down Migration\nDROP TABLE users;\n"},
                        r"\d{13}_add-users-email\.sql"),
    "flyway": ({"V7__create_users.sql": "CREATE TABLE users (id int);\n",
                "../flyway.conf": "flyway.locations=filesystem:migrations\n"},
               r"V8__add_users_email\.sql"),
    "pgmigrate": ({"V0007__create_users.sql": "CREATE TABLE users (id int);\n",
                   "../migrations.yml": "callbacks: {}\n"},
                  r"V0008__add_users_email\.sql"),
    "pgshift": ({"V007__create_users.sql": "CREATE TABLE users (id int);\n-- pgshift:down\n"
                                           "DROP TABLE users;\n"},
                r"V008__add_users_email\.sql"),
}


def make_project(tmp_path: Path, files: dict[str, str]) -> Path:
    directory = tmp_path / "migrations"
    directory.mkdir()
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def flavor_of(directory: Path) -> str:
    return detect_flavor(directory, lambda p: p.read_text(encoding="utf-8"), lambda _: False)


@pytest.mark.parametrize("flavor", list(PROJECTS))
def test_create_writes_the_next_migration_in_the_tools_own_format_which_discovery_reads(
    tmp_path: Path, flavor: str
) -> None:
    files, expected = PROJECTS[flavor]
    directory = make_project(tmp_path, files)
    path = api.create(Settings(dir=directory), "Add users email")
    assert re.fullmatch(expected, path.name), path.name
    assert flavor_of(directory) == flavor  # the new file does not change what the directory is
    migrations = discover_migrations(directory)
    assert len(migrations) == 2
    assert migrations[-1].path == path and migrations[-1].version > migrations[0].version
    assert migrations[-1].description.replace("-", " ") == "add users email"


def test_dbmate_gets_its_up_and_down_markers(tmp_path: Path) -> None:
    directory = make_project(tmp_path, PROJECTS["dbmate"][0])
    path = api.create(Settings(dir=directory), "add users email")
    assert path.read_text() == "-- migrate:up\n\n\n-- migrate:down\n\n"
    path.write_text("-- migrate:up\nALTER TABLE users ADD email text;\n\n"
                    "-- migrate:down\nALTER TABLE users DROP email;\n")
    new = discover_migrations(directory)[-1]
    assert new.up_sql.strip() == "ALTER TABLE users ADD email text;"
    assert new.down_sql is not None and new.down_sql.strip() == "ALTER TABLE users DROP email;"


def test_node_pg_migrate_gets_its_up_and_down_comments(tmp_path: Path) -> None:
    directory = make_project(tmp_path, PROJECTS["node-pg-migrate"][0])
    path = api.create(Settings(dir=directory), "add users email")
    assert path.read_text() == "-- Up Migration\n\n-- Down Migration\n"
    assert int(path.name.split("_")[0]) > 1700000000000


def test_golang_migrate_gets_an_up_file_and_its_down_file(tmp_path: Path) -> None:
    directory = make_project(tmp_path, PROJECTS["golang-migrate"][0])
    path = api.create(Settings(dir=directory), "add users email")
    assert path.read_text() == "-- add users email\n"
    down = directory / "000008_add_users_email.down.sql"
    assert down.is_file()
    down.write_text("ALTER TABLE users DROP email;\n")
    assert discover_migrations(directory)[-1].down_path == down


def test_golang_migrate_with_timestamp_versions_gets_a_timestamp(tmp_path: Path) -> None:
    directory = make_project(tmp_path, {"20200101120000_a.up.sql": "SELECT 1;\n"})
    path = api.create(Settings(dir=directory), "b")
    assert re.fullmatch(r"(\d{14})_b\.up\.sql", path.name)
    assert int(path.name[:14]) > 20200101120000


def test_timestamp_versions_start_when_asked_and_then_continue(tmp_path: Path) -> None:
    """Teams on many branches: two new files rarely get the same version."""
    directory = make_project(tmp_path, PROJECTS["pgshift"][0])
    stamped = api.create(Settings(dir=directory), "a", timestamp=True)
    assert re.fullmatch(r"V\d{14}__a\.sql", stamped.name)
    after = api.create(Settings(dir=directory), "b")  # no flag: the last one is a timestamp
    assert re.fullmatch(r"V\d{14}__b\.sql", after.name)
    assert [m.path for m in discover_migrations(directory)][-2:] == [stamped, after]
    assert "-- pgshift:down" in after.read_text()


def test_flyway_gets_no_pgshift_down_section_flyway_would_run(tmp_path: Path) -> None:
    directory = make_project(tmp_path, PROJECTS["flyway"][0])
    path = api.create(Settings(dir=directory), "add users email")
    assert "pgshift:down" not in path.read_text()
    assert "U8__add_users_email.sql" in path.read_text()  # where its down part would go


def test_timestamps_created_in_the_same_second_still_sort_after_the_last(tmp_path: Path) -> None:
    directory = make_project(tmp_path, PROJECTS["dbmate"][0])
    first = api.create(Settings(dir=directory), "one")
    second = api.create(Settings(dir=directory), "two")
    assert int(second.name[:14]) > int(first.name[:14])
    assert [m.path for m in discover_migrations(directory)][-2:] == [first, second]


def test_a_configured_flavor_applies_to_a_new_directory(tmp_path: Path) -> None:
    directory = tmp_path / "db"
    path = api.create(Settings(dir=directory, flavor="golang-migrate"), "create users")
    assert path.name == "000001_create_users.up.sql"
    assert (directory / "000001_create_users.down.sql").is_file()
    dbmate = api.create(Settings(dir=tmp_path / "other", flavor="dbmate"), "x")
    assert dbmate.read_text().startswith("-- migrate:up\n")


@pytest.mark.parametrize(("name", "file"), [
    ("Ünïcode näme", "V001__unicode_name.sql"),
    ("Straße ﬁx for Łódź", "V001__strasse_fix_for_lodz.sql"),
    ("add users.email (v2)!", "V001__add_users_email_v2.sql"),
])
def test_create_names_files_in_ascii_words_dropping_accents(
        tmp_path: Path, name: str, file: str) -> None:
    """The history knows a migration by its file name, which macOS would write decomposed."""
    settings = Settings(dir=tmp_path)
    path = api.create(settings, name)
    assert path.name == file
    assert path.read_text().startswith(f"-- {name}\n")  # the title keeps the name as given


def test_create_refuses_a_name_whose_letters_have_no_ascii_form(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="letters a portable file name cannot hold: "):
        api.create(Settings(dir=tmp_path), "добавить users")
    assert list(tmp_path.iterdir()) == []
