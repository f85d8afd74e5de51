"""Other tools' directories, placeholders and callbacks, applied on a real PostgreSQL."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pgshift import api, config
from pgshift.config import Settings
from pgshift.errors import InputError, IrreversibleError, MigrationFailedError


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def test_status_up_and_down_work_on_a_dbmate_directory_unchanged(
    settings: Settings, migrations_dir: Path, query
) -> None:
    write(migrations_dir, "20240101120000_create_users.sql",
          "-- migrate:up\nCREATE TABLE users (id int);\n\n-- migrate:down\nDROP TABLE users;\n")
    write(migrations_dir, "20240102120000_users_idx.sql",
          "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY users_id ON users (id);\n\n"
          "-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY users_id;\n")
    assert [i.state for i in api.status(settings).items] == ["pending", "pending"]
    assert len(api.up(settings).outcomes) == 2
    assert query("SELECT to_regclass('users_id') IS NOT NULL") == [(True,)]
    assert len(api.down(settings, everything=True).outcomes) == 2
    assert query("SELECT to_regclass('users')") == [(None,)]


def test_a_failing_golang_migrate_file_names_its_own_line(
    settings: Settings, migrations_dir: Path
) -> None:
    write(migrations_dir, "1_init.up.sql",
          "CREATE TABLE t (id int);\n\nINSERT INTO nope VALUES (1);\n")
    write(migrations_dir, "1_init.down.sql", "DROP TABLE t;\n")
    with pytest.raises(MigrationFailedError) as info:
        api.up(settings)
    assert str(info.value).startswith("1_init.up.sql:3: ")


def test_placeholders_from_config_and_environment_fill_the_sql(
    settings: Settings, migrations_dir: Path, query, tmp_path: Path
) -> None:
    write(migrations_dir, "V1__table.sql",
          "CREATE TABLE ${table_name} (id int);\nCOMMENT ON TABLE ${table_name} IS '${Note}';\n"
          "-- pgshift:down\nDROP TABLE ${table_name};\n")
    toml = tmp_path / "pgshift.toml"
    toml.write_text('[placeholders]\ntable_name = "from_file"\nnote = "file note"\n')
    loaded = config.load(config=toml, env={"PGSHIFT_PLACEHOLDER_NOTE": "env note"})
    assert loaded.placeholders == {"table_name": "from_file", "note": "env note"}
    api.up(dataclasses.replace(settings, placeholders=loaded.placeholders))
    assert query("SELECT obj_description('from_file'::regclass)") == [("env note",)]
    assert api.status(settings).items[0].state == "applied"  # the raw file's checksum


def test_an_undefined_placeholder_stops_up_before_anything_runs(
    settings: Settings, migrations_dir: Path, query
) -> None:
    write(migrations_dir, "V1__a.sql", "CREATE TABLE a (id int);\n-- pgshift:down\nDROP TABLE a;\n")
    write(migrations_dir, "V2__b.sql",
          "\nGRANT SELECT ON a TO ${reader};\n-- pgshift:down\nSELECT 1;\n")
    with pytest.raises(InputError) as info:
        api.up(settings)
    assert str(info.value).startswith("V2__b.sql:2: no value for placeholder ${reader}")
    assert query("SELECT to_regclass('a')") == [(None,)]


def test_callbacks_run_around_the_run_and_inside_each_migration(
    settings: Settings, migrations_dir: Path, query
) -> None:
    query("CREATE TABLE log (event text, at serial)")
    write(migrations_dir, "V1__a.sql", "CREATE TABLE a (id int);\n-- pgshift:down\nDROP TABLE a;\n")
    write(migrations_dir, "V2__b.sql", "CREATE TABLE b (id int);\n-- pgshift:down\nDROP TABLE b;\n")
    write(migrations_dir, "beforeMigrate.sql", "INSERT INTO log VALUES ('before');\n")
    (migrations_dir / "callbacks").mkdir()
    write(migrations_dir / "callbacks", "afterEachMigrate__count.sql",
          "INSERT INTO log SELECT 'after ' || count(*) FROM pgshift.history;\n")
    write(migrations_dir, "afterMigrate.sql", "INSERT INTO log VALUES ('${done}');\n")
    write(migrations_dir, "afterUndo.sql", "INSERT INTO log VALUES ('undone');\n")
    api.up(dataclasses.replace(settings, placeholders={"done": "after all"}))
    events = [r[0] for r in query("SELECT event FROM log ORDER BY at")]
    assert events == ["before", "after 0", "after 1", "after all"]  # each runs before its row
    api.down(dataclasses.replace(settings, placeholders={"done": "x"}))
    assert query("SELECT event FROM log ORDER BY at DESC LIMIT 1") == [("undone",)]


def test_callbacks_in_their_folder_alone_are_found(
    settings: Settings, migrations_dir: Path, query
) -> None:
    write(migrations_dir, "V1__a.sql", "CREATE TABLE a (id int);\n-- pgshift:down\nDROP TABLE a;\n")
    (migrations_dir / "callbacks").mkdir()
    write(migrations_dir / "callbacks", "afterMigrate.sql", "CREATE TABLE after_run (id int);\n")
    api.up(settings)
    assert query("SELECT to_regclass('after_run') IS NOT NULL") == [(True,)]


def test_every_callback_name_begins_as_the_quick_look_expects() -> None:
    """``up`` and ``down`` glance at the directory's names before loading callbacks."""
    from pgshift.callbacks import EVENTS, FOLDER
    from pgshift.locked_run import CALLBACK_NAME_STARTS

    assert all(name.startswith(CALLBACK_NAME_STARTS) for name in (*EVENTS, FOLDER))


def test_a_failing_each_migration_callback_rolls_its_migration_back(
    settings: Settings, migrations_dir: Path, query
) -> None:
    write(migrations_dir, "V1__a.sql", "CREATE TABLE a (id int);\n-- pgshift:down\nDROP TABLE a;\n")
    write(migrations_dir, "afterEachMigrate.sql", "SELECT 1;\nINSERT INTO missing VALUES (1);\n")
    with pytest.raises(MigrationFailedError) as info:
        api.up(settings)
    assert str(info.value).startswith("afterEachMigrate.sql:2: ")
    assert query("SELECT to_regclass('a')") == [(None,)]


def test_a_migration_created_in_a_golang_migrate_directory_goes_up_and_down(
    settings: Settings, migrations_dir: Path, query
) -> None:
    write(migrations_dir, "000001_create_users.up.sql", "CREATE TABLE users (id int);\n")
    write(migrations_dir, "000001_create_users.down.sql", "DROP TABLE users;\n")
    up = api.create(settings, "add users email")
    up.write_text("ALTER TABLE users ADD COLUMN email text;\n")
    up.with_name("000002_add_users_email.down.sql").write_text(
        "ALTER TABLE users DROP COLUMN email;\n")
    assert len(api.up(settings).outcomes) == 2
    assert query("SELECT count(*) FROM information_schema.columns WHERE column_name = 'email'"
                 ) == [(1,)]
    assert len(api.down(settings).outcomes) == 1
    assert [i.state for i in api.status(settings).items] == ["applied", "pending"]


def test_a_goose_file_is_refused_before_anything_runs(
    settings: Settings, migrations_dir: Path, query
) -> None:
    write(migrations_dir, "20240102120000_audit.sql",
          "-- +goose Up\nCREATE TABLE audit (x int);\n\n-- +goose Down\nDROP TABLE audit;\n")
    with pytest.raises(InputError, match="goose") as info:
        api.up(settings)
    assert info.value.exit_code == 2
    assert query("SELECT to_regclass('audit')") == [(None,)]


def test_a_dbmate_down_without_transaction_leaves_a_failing_up_in_one(
    settings: Settings, migrations_dir: Path, query
) -> None:
    write(migrations_dir, "20240101120000_a.sql",
          "-- migrate:up\nCREATE TABLE a (x int);\nSELECT 1/0;\n\n"
          "-- migrate:down transaction:false\nDROP TABLE a;\n")
    with pytest.raises(MigrationFailedError, match="rolled back"):
        api.up(settings)
    assert query("SELECT to_regclass('a')") == [(None,)]


@pytest.mark.parametrize(("flavor", "up", "down"), [
    ("golang-migrate", "1_t.up.sql", "1_t.down.sql"),
    ("flyway", "V1__t.sql", "U1__t.sql"),
])
def test_a_down_file_of_drop_index_concurrently_rolls_back(
    settings: Settings, migrations_dir: Path, query, flavor: str, up: str, down: str
) -> None:
    write(migrations_dir, up, "CREATE TABLE t (x int);\nCREATE INDEX t_x ON t (x);\n")
    write(migrations_dir, down, "DROP INDEX CONCURRENTLY t_x;\n")
    settings = dataclasses.replace(settings, flavor=flavor)
    assert len(api.up(settings).outcomes) == 1
    assert len(api.down(settings).outcomes) == 1
    assert query("SELECT to_regclass('t_x')") == [(None,)]
    assert [i.state for i in api.status(settings).items] == ["pending"]


def test_down_of_another_tools_file_without_a_down_part_says_so(
    settings, migrations_dir
) -> None:
    (migrations_dir / "1_a.up.sql").write_text("CREATE TABLE a ();\n")  # no 1_a.down.sql
    golang = dataclasses.replace(settings, flavor="golang-migrate")
    api.up(golang)
    with pytest.raises(IrreversibleError, match=r"is irreversible \(it has no down part\)"):
        api.down(golang)
