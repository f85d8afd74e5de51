"""Adopting databases other tools migrated, from history tables as those tools create them.

Each tool's table is created with that tool's own DDL (quoted from its source, see the
comments), and filled the way the tool fills it. tests/integration/test_adopt_real_tools.py
does the same with the real tools where they are installed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pgshift import api
from pgshift.adopt import flyway_checksum
from pgshift.config import Settings
from pgshift.errors import DriftError, InputError

# Flyway: flyway-core .../database/postgresql/createMetaDataTable.sql (schema public, default
# table name flyway_schema_history).
FLYWAY_DDL = """
CREATE TABLE "public"."flyway_schema_history" (
    "installed_rank" INT NOT NULL,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INTEGER,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
    "execution_time" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL
);
ALTER TABLE "public"."flyway_schema_history" ADD CONSTRAINT "flyway_schema_history_pk"
    PRIMARY KEY ("installed_rank");
CREATE INDEX "flyway_schema_history_s_idx" ON "public"."flyway_schema_history" ("success");
"""
# node-pg-migrate 9 (src/runner.ts ensureMigrationsTable), as it ran against PostgreSQL.
NODE_DDL = ('CREATE TABLE "public"."pgmigrations" (id SERIAL PRIMARY KEY, '
            "name varchar(255) NOT NULL, run_on timestamp NOT NULL)")
# dbmate 2 (pkg/driver/postgres: CreateMigrationsTable).
DBMATE_DDL = "create table if not exists public.schema_migrations (version varchar primary key)"
# golang-migrate v4 (database/postgres/postgres.go: ensureVersionTable).
GOLANG_DDL = ('CREATE TABLE IF NOT EXISTS "public"."schema_migrations" '
              "(version bigint not null primary key, dirty boolean not null)")
# yandex pgmigrate 1.0 (pgmigrate.py: _init_schema, schema public).
PGMIGRATE_DDL = """
CREATE TYPE public.schema_version_type AS ENUM ('auto', 'manual');
CREATE TABLE public.schema_version (version BIGINT NOT NULL PRIMARY KEY,
    description TEXT NOT NULL, type public.schema_version_type NOT NULL DEFAULT 'auto',
    installed_by TEXT NOT NULL, installed_on TIMESTAMP WITHOUT time ZONE DEFAULT now() NOT NULL)
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def pgshift_rows(query) -> list[tuple[str, str]]:
    if not query("SELECT to_regclass('pgshift.history')")[0][0]:
        return []
    return query("SELECT script, status FROM pgshift.history ORDER BY kind DESC, key")


@pytest.fixture
def flyway_project(migrations_dir: Path, query):
    """Flyway applied V1, V2 and R__view; V3 is new."""
    files = {
        "V1__init.sql": "CREATE TABLE users (id bigint PRIMARY KEY);\n",
        "V2__add_email.sql": "ALTER TABLE users ADD COLUMN email text;\n",
        "R__user_view.sql": "CREATE OR REPLACE VIEW user_emails AS SELECT email FROM users;\n",
    }
    query(FLYWAY_DDL)
    for rank, (name, text) in enumerate(files.items(), start=1):
        path = write(migrations_dir, name, text)
        query(text)
        version = name[1:].split("__")[0] if name.startswith("V") else None
        query("INSERT INTO flyway_schema_history (installed_rank, version, description, type, "
              "script, checksum, installed_by, execution_time, success) "
              "VALUES (%s, %s, %s, 'SQL', %s, %s, 'postgres', 7, true)",
              rank, version, name.split("__")[1][:-4].replace("_", " "), name,
              flyway_checksum(path.read_bytes()))
    write(migrations_dir, "V3__add_name.sql", "ALTER TABLE users ADD COLUMN name text;\n")
    return migrations_dir


def test_adopt_from_flyway_records_its_applied_set_and_up_runs_only_the_new_one(
    settings: Settings, flyway_project: Path, query
) -> None:
    before = query("SELECT count(*) FROM flyway_schema_history")
    result = api.adopt(settings, "flyway")
    assert [m.name for m in result.recorded] == ["V1__init.sql", "V2__add_email.sql",
                                                 "R__user_view.sql"]
    assert [m.name for m in result.pending] == ["V3__add_name.sql"]
    assert result.table == "public.flyway_schema_history"
    assert query("SELECT count(*) FROM flyway_schema_history") == before  # left untouched
    flyway = dataclasses.replace(settings, flavor="flyway")
    states = {i.script: i.state for i in api.status(flyway).items}
    assert states == {"V1__init.sql": "applied", "V2__add_email.sql": "applied",
                      "V3__add_name.sql": "pending", "R__user_view.sql": "applied"}
    assert [o.migration.name for o in api.up(flyway).outcomes] == ["V3__add_name.sql"]
    again = api.adopt(settings, "flyway")  # idempotent: nothing new to record
    assert again.recorded == [] and len(again.already) == 3
    assert [(r.command, r.migrations) for r in api.log(settings)] == [  # newest first
        ("up", ["V3__add_name.sql"]),
        ("adopt --from flyway", ["V1__init.sql", "V2__add_email.sql", "R__user_view.sql"])]


def test_a_database_flyway_built_from_a_baseline_migration_is_built_from_it_in_pgshift(
    settings: Settings, migrations_dir: Path, query
) -> None:
    query(FLYWAY_DDL)
    write(migrations_dir, "V1__init.sql", "CREATE TABLE users (id bigint PRIMARY KEY);\n")
    write(migrations_dir, "V2__add_email.sql", "ALTER TABLE users ADD COLUMN email text;\n")
    baseline = write(migrations_dir, "B2__baseline.sql",
                     "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n")
    write(migrations_dir, "V3__add_name.sql", "ALTER TABLE users ADD COLUMN name text;\n")
    query(baseline.read_text())
    query("INSERT INTO flyway_schema_history (installed_rank, version, description, type, "
          "script, checksum, installed_by, execution_time, success) "
          "VALUES (1, '2', 'baseline', 'SQL_BASELINE', 'B2__baseline.sql', %s, 'postgres', 7, "
          "true)", flyway_checksum(baseline.read_bytes()))
    result = api.adopt(settings, "flyway")
    assert [m.name for m in result.recorded] == ["B2__baseline.sql"]
    assert [m.name for m in result.pending] == ["V3__add_name.sql"]
    flyway = dataclasses.replace(settings, flavor="flyway")
    assert [(i.script, i.state) for i in api.status(flyway).items] == [
        ("V1__init.sql", "below-baseline"), ("V2__add_email.sql", "below-baseline"),
        ("B2__baseline.sql", "applied"), ("V3__add_name.sql", "pending")]


def test_adopt_refuses_a_file_changed_since_flyway_applied_it(
    settings: Settings, flyway_project: Path, query
) -> None:
    (flyway_project / "V2__add_email.sql").write_text("ALTER TABLE users ADD COLUMN e text;\n")
    with pytest.raises(DriftError, match=r"changed since Flyway applied them.*V2 "):
        api.adopt(settings, "flyway")
    assert pgshift_rows(query) == []


def test_adopt_refuses_when_an_applied_migrations_file_is_missing(
    settings: Settings, flyway_project: Path, query
) -> None:
    (flyway_project / "V1__init.sql").unlink()
    with pytest.raises(DriftError, match=r"1 migration\(s\) whose file is not .*: V1"):
        api.adopt(settings, "flyway")
    assert pgshift_rows(query) == []


def test_adopt_reapplies_a_repeatable_changed_since_flyway_ran_it(
    settings: Settings, flyway_project: Path
) -> None:
    (flyway_project / "R__user_view.sql").write_text(
        "CREATE OR REPLACE VIEW user_emails AS SELECT id, email FROM users;\n")
    result = api.adopt(settings, "flyway")
    assert [m.name for m in result.stale] == ["R__user_view.sql"]
    plan = {i.script: i.state for i in api.status(settings).items}
    assert plan["R__user_view.sql"] == "pending"


def test_adopt_dry_run_changes_nothing(settings: Settings, flyway_project: Path, query) -> None:
    result = api.adopt(settings, "flyway", dry_run=True)
    assert result.dry_run and len(result.recorded) == 3
    assert query("SELECT to_regnamespace('pgshift')") == [(None,)]


def test_adopt_from_flyway_honours_a_baseline_and_undo_rows(
    settings: Settings, migrations_dir: Path, query
) -> None:
    for number in range(1, 5):
        write(migrations_dir, f"V{number}__step_{number}.sql", f"SELECT {number};\n")
    query(FLYWAY_DDL)
    rows = [(1, "2", "<< Flyway Baseline >>", "BASELINE", "<< Flyway Baseline >>", None),
            (2, "3", "step 3", "SQL", "V3__step_3.sql",
             flyway_checksum(b"SELECT 3;\n")),
            (3, "3", "step 3", "UNDO_SQL", "U3__step_3.sql", None)]
    for row in rows:
        query("INSERT INTO flyway_schema_history (installed_rank, version, description, type, "
              "script, checksum, installed_by, execution_time, success) "
              "VALUES (%s, %s, %s, %s, %s, %s, 'postgres', 0, true)", *row)
    result = api.adopt(settings, "flyway")
    assert [m.name for m in result.recorded] == ["V1__step_1.sql", "V2__step_2.sql"]
    assert [m.name for m in result.pending] == ["V3__step_3.sql", "V4__step_4.sql"]


def test_adopting_again_after_flyway_undid_a_migration_withdraws_only_its_adopted_row(
    settings: Settings, flyway_project: Path, query
) -> None:
    api.adopt(settings, "flyway")
    flyway = dataclasses.replace(settings, flavor="flyway")
    api.up(flyway)  # V3: pgshift's own, which Flyway never saw
    write(flyway_project, "U2__add_email.sql", "ALTER TABLE users DROP COLUMN email;\n")
    query("ALTER TABLE users DROP COLUMN email CASCADE")  # Flyway Teams undoes V2 (and R__)
    query("INSERT INTO flyway_schema_history (installed_rank, version, description, type, "
          "script, checksum, installed_by, execution_time, success) VALUES (4, '2', "
          "'add email', 'UNDO_SQL', 'U2__add_email.sql', NULL, 'postgres', 3, true)")
    again = api.adopt(settings, "flyway")
    assert [m.name for m in again.withdrawn] == ["V2__add_email.sql"]
    states = {i.script: i.state for i in api.status(flyway).items}
    assert states["V2__add_email.sql"] == "out-of-order"  # below V3: pgshift's own stays
    assert states["V3__add_name.sql"] == "applied"
    api.up(flyway, out_of_order=True)
    assert query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' "
                 "AND column_name = 'email'") == [(1,)]


def test_adopt_from_node_pg_migrate_matches_rows_by_file_name(
    settings: Settings, migrations_dir: Path, query
) -> None:
    write(migrations_dir, "1700000000000_create-users.sql",
          "-- Up Migration\nCREATE TABLE users (id int);\n-- Down Migration\nDROP TABLE users;\n")
    write(migrations_dir, "1700000000001_add-email.sql",
          "-- Up Migration\nALTER TABLE users ADD email text;\n-- Down Migration\n"
          "ALTER TABLE users DROP email;\n")
    query(NODE_DDL)
    query("CREATE TABLE users (id int)")
    query("INSERT INTO pgmigrations (name, run_on) VALUES "
          "('1700000000000_create-users', '2024-01-02 03:04:05')")
    result = api.adopt(settings, "node-pg-migrate")
    assert [m.name for m in result.recorded] == ["1700000000000_create-users.sql"]
    assert result.detected_flavor == "node-pg-migrate"
    assert query("SELECT applied_at = '2024-01-02 03:04:05'::timestamp::timestamptz "
                 "FROM pgshift.history") == [(True,)]
    assert [o.migration.name for o in api.up(settings).outcomes] == [
        "1700000000001_add-email.sql"]
    assert [o.migration.name for o in api.down(settings, everything=True).outcomes] == [
        "1700000000001_add-email.sql", "1700000000000_create-users.sql"]
    assert query("SELECT to_regclass('users')") == [(None,)]


def test_adopt_from_dbmate_matches_rows_by_version(
    settings: Settings, migrations_dir: Path, query
) -> None:
    write(migrations_dir, "20240101120000_create_users.sql",
          "-- migrate:up\nCREATE TABLE users (id int);\n\n-- migrate:down\nDROP TABLE users;\n")
    write(migrations_dir, "20240102120000_more.sql",
          "-- migrate:up\nSELECT 1;\n-- migrate:down\n")
    query(DBMATE_DDL)
    query("INSERT INTO schema_migrations (version) VALUES ('20240101120000')")
    result = api.adopt(settings, "dbmate")
    assert [m.name for m in result.recorded] == ["20240101120000_create_users.sql"]
    assert [m.name for m in result.pending] == ["20240102120000_more.sql"]


def test_adopt_tells_dbmates_table_from_golang_migrates(
    settings: Settings, migrations_dir: Path, query
) -> None:
    write(migrations_dir, "1_init.up.sql", "SELECT 1;\n")
    query(GOLANG_DDL)
    with pytest.raises(InputError, match="golang-migrate's table"):
        api.adopt(dataclasses.replace(settings, flavor="golang-migrate"), "dbmate")


def test_adopt_from_golang_migrate_takes_every_version_up_to_its_row(
    settings: Settings, migrations_dir: Path, query
) -> None:
    for number in (1, 2, 3):
        write(migrations_dir, f"00000{number}_step.up.sql", f"SELECT {number};\n")
        write(migrations_dir, f"00000{number}_step.down.sql", "SELECT 0;\n")
    query(GOLANG_DDL)
    query("INSERT INTO schema_migrations (version, dirty) VALUES (2, false)")
    result = api.adopt(settings, "golang-migrate")
    assert [str(m.version) for m in result.recorded] == ["000001", "000002"]
    assert [str(m.version) for m in result.pending] == ["000003"]


def test_adopt_refuses_a_dirty_golang_migrate_database(
    settings: Settings, migrations_dir: Path, query
) -> None:
    write(migrations_dir, "1_step.up.sql", "SELECT 1;\n")
    query(GOLANG_DDL)
    query("INSERT INTO schema_migrations (version, dirty) VALUES (1, true)")
    with pytest.raises(DriftError, match="dirty at version 1") as info:
        api.adopt(settings, "golang-migrate")
    assert "migrate force 1" in (info.value.hint or "")
    assert pgshift_rows(query) == []


def test_adopt_from_pgmigrate_counts_everything_up_to_its_baseline(
    settings: Settings, migrations_dir: Path, query
) -> None:
    for number in (1, 2, 3, 4):
        write(migrations_dir, f"V000{number}__step_{number}.sql", f"SELECT {number};\n")
    query(PGMIGRATE_DDL)
    query("INSERT INTO public.schema_version (version, description, type, installed_by) "
          "VALUES (2, 'Forced baseline', 'manual', 'postgres'), "
          "(3, 'step 3', 'auto', 'postgres')")
    result = api.adopt(settings, "pgmigrate")
    assert [m.name for m in result.recorded] == ["V0001__step_1.sql", "V0002__step_2.sql",
                                                 "V0003__step_3.sql"]
    assert [m.name for m in result.pending] == ["V0004__step_4.sql"]


def test_adopt_without_the_tools_table_says_which_table_it_looked_for(
    settings: Settings, migrations_dir: Path
) -> None:
    with pytest.raises(InputError, match=r"no pgmigrate history table 'public\.schema_version'"):
        api.adopt(settings, "pgmigrate")


def test_adopt_from_flyway_finds_files_in_the_subfolders_of_its_location(
    settings: Settings, migrations_dir: Path, query
) -> None:
    (migrations_dir / "release_1" / "views").mkdir(parents=True)
    v1 = write(migrations_dir / "release_1", "V1__init.sql",
               "CREATE TABLE users (id bigint PRIMARY KEY);\n")
    view = write(migrations_dir / "release_1" / "views", "R__users.sql",
                 "CREATE OR REPLACE VIEW v_users AS SELECT id FROM users;\n")
    query(FLYWAY_DDL)
    for rank, (version, path, script) in enumerate(
            [("1", v1, "release_1/V1__init.sql"), (None, view, "release_1/views/R__users.sql")],
            start=1):
        query(path.read_text())
        query("INSERT INTO flyway_schema_history (installed_rank, version, description, type, "
              "script, checksum, installed_by, execution_time, success) "
              "VALUES (%s, %s, 'x', 'SQL', %s, %s, 'postgres', 7, true)",
              rank, version, script, flyway_checksum(path.read_bytes()))
    result = api.adopt(settings, "flyway")
    assert [m.name for m in result.recorded] == ["V1__init.sql", "R__users.sql"]
    assert result.stale == [] and result.pending == []
