"""``pgshift squash``: a baseline migration written from a replay of the migrations on a
scratch database and proven on another, so that a new database built from it is the database
the migrations build; the target is never touched."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from tests.fixtures.project import scalar, schema_of

from pgshift import api
from pgshift.errors import CheckFailedError, InputError
from pgshift.verify.snapshot import diff_snapshots

MIGRATIONS = {
    "V001__users.sql": (
        "CREATE TYPE plan AS ENUM ('free', 'pro');\n"
        "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
        "    email text NOT NULL UNIQUE, plan plan NOT NULL DEFAULT 'free',\n"
        "    created_at timestamptz NOT NULL DEFAULT now());\n"
        "CREATE TABLE plan_prices (name plan PRIMARY KEY, cents int NOT NULL);\n"
        "INSERT INTO plan_prices VALUES ('free', 0), ('pro', 900);",
        "DROP TABLE plan_prices; DROP TABLE users; DROP TYPE plan;"),
    "V002__posts.sql": (
        "CREATE TABLE posts (id bigserial PRIMARY KEY,\n"
        "    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE, body text,\n"
        "    search tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(body, '')))"
        " STORED);\n"
        "CREATE INDEX posts_user ON posts (user_id);\n"
        "COMMENT ON TABLE posts IS 'what users write';",
        "DROP TABLE posts;"),
    "V003__posts_search.sql": (
        "-- pgshift:no-transaction\n"
        "CREATE INDEX CONCURRENTLY posts_search ON posts USING gin (search);",
        "DROP INDEX CONCURRENTLY posts_search;"),
    "V004__more.sql": (
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS\n"
        "$$ BEGIN NEW.created_at := now(); RETURN NEW; END $$;\n"
        "CREATE TRIGGER users_touch BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION touch();\n"
        "CREATE VIEW pro_users AS SELECT id, email FROM users WHERE plan = 'pro';\n"
        "ALTER TABLE users ADD CONSTRAINT email_has_at CHECK (email LIKE '%@%') NOT VALID;\n"
        "CREATE SCHEMA billing;\n"
        "CREATE TABLE billing.invoices (id int PRIMARY KEY, user_id bigint REFERENCES users);\n"
        "CREATE SEQUENCE billing.invoice_numbers START 1000;\n"
        "SELECT nextval('billing.invoice_numbers');",
        "DROP SEQUENCE billing.invoice_numbers; DROP TABLE billing.invoices; DROP SCHEMA billing;"
        "\nALTER TABLE users DROP CONSTRAINT email_has_at; DROP VIEW pro_users;\n"
        "DROP TRIGGER users_touch ON users; DROP FUNCTION touch();"),
    "V005__nickname.sql": ("ALTER TABLE users ADD COLUMN nickname text;",
                           "ALTER TABLE users DROP COLUMN nickname;"),
}


@pytest.fixture
def project(settings, write_migration):
    for name, (up, down) in MIGRATIONS.items():
        write_migration(name, up, down)
    return settings


def test_a_new_database_built_from_the_baseline_is_the_database_the_migrations_build(
    project, fresh, migrations_dir
) -> None:
    api.up(project)  # the target ran every migration; squash does not touch it
    before = schema_of(project.url)
    result = api.squash(project, to="4")
    assert result.path == migrations_dir / "B004__baseline.sql"
    assert result.migrations == [*list(MIGRATIONS)[:4]]
    assert result.tables == 4 and result.tables_with_rows == ["public.plan_prices"]
    text = result.path.read_text()
    assert text.startswith("-- pgshift:irreversible\n")
    assert "SET LOCAL check_function_bodies = false;" in text
    assert "SELECT pg_catalog.set_config('search_path', '', true);" in text
    assert "\nSET statement_timeout" not in text and "\nSET lock_timeout" not in text
    assert schema_of(project.url) == before

    assert api.status(project).drift() == []  # the target ran them: the baseline is unused
    assert api.up(project).outcomes == []

    lint_on = dataclasses.replace(fresh, lint=True)  # the lint gate lets the baseline through
    built = api.up(lint_on)
    assert [o.migration.name for o in built.outcomes] == ["B004__baseline.sql",
                                                           "V005__nickname.sql"]
    assert diff_snapshots(before, schema_of(fresh.url), expected_name="migrated",
                          actual_name="built from the baseline") == []
    assert scalar(fresh.url, "SELECT count(*) FROM plan_prices") == 2
    assert scalar(fresh.url, "SELECT nextval('billing.invoice_numbers')") == 1001
    assert scalar(fresh.url, "SHOW search_path") == '"$user", public'


def test_a_later_squash_starts_from_the_earlier_baseline(project, fresh, migrations_dir) -> None:
    api.squash(project, to="2", name="first")
    second = api.squash(project, name="second")
    assert second.path.name == "B005__second.sql"
    assert second.migrations == ["B002__first.sql", "V003__posts_search.sql",
                                 "V004__more.sql", "V005__nickname.sql"]
    assert [o.migration.name for o in api.up(fresh).outcomes] == ["B005__second.sql"]
    with pytest.raises(InputError, match=r"B005__second\.sql: already builds version 005"):
        api.squash(project)


def test_a_migration_with_a_placeholder_is_not_baked_into_a_baseline(
    settings, write_migration, migrations_dir
) -> None:
    write_migration("V001__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    write_migration("V002__grant.sql", "CREATE TABLE u (id int);\nGRANT SELECT ON u TO ${reader};",
                    "DROP TABLE u;")
    with pytest.raises(InputError, match=r"uses the placeholder \$\{reader\}") as raised:
        api.squash(dataclasses.replace(settings, placeholders={"reader": "app"}))
    assert (raised.value.path, raised.value.line) == (str(migrations_dir / "V002__grant.sql"), 2)
    assert sorted(p.name for p in migrations_dir.iterdir()) == ["V001__t.sql", "V002__grant.sql"]


def test_a_migration_that_fails_to_replay_writes_nothing(
    settings, write_migration, migrations_dir
) -> None:
    write_migration("V001__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    write_migration("V002__bad.sql", "SELECT 1;\nALTER TABLE nowhere ADD COLUMN x int;",
                    "SELECT 1;")
    with pytest.raises(CheckFailedError, match="replaying the migration failed") as raised:
        api.squash(settings)
    assert (raised.value.migration, raised.value.line) == ("V002", 2)
    assert sorted(p.name for p in migrations_dir.iterdir()) == ["V001__t.sql", "V002__bad.sql"]


def test_cli_squash_on_a_throwaway_server(cli, write_migration, migrations_dir) -> None:
    write_migration("V001__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    write_migration("V002__u.sql", "CREATE TABLE u (id int);", "DROP TABLE u;")
    result = cli("squash", "--embedded", "--name", "Squashed in 2026", timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(migrations_dir / "B002__squashed_in_2026.sql")
    assert "It holds 2 migration(s), V001__t.sql … V002__u.sql (2 table(s))" in result.stderr
    refused = cli("squash", "--to", "7")
    assert refused.returncode == 2
    assert refused.stderr.startswith("pgshift: error: no migration with version 7")


def test_schema_per_tenant_targets_get_no_baseline(settings, write_migration) -> None:
    write_migration("V001__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    tenants = dataclasses.replace(settings, targets={"schemas": ["tenant_a"]})
    with pytest.raises(InputError, match="schema-per-tenant targets"):
        api.squash(tenants)


def test_migrations_that_create_roles_get_no_baseline_and_leave_no_role(
    settings, write_migration, query
) -> None:
    role = f"squash_reader_{uuid.uuid4().hex[:8]}"
    write_migration("V001__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    write_migration("V002__role.sql", f"CREATE ROLE {role} NOLOGIN;\nGRANT SELECT ON t TO {role};",
                    f"REVOKE SELECT ON t FROM {role};\nDROP ROLE {role};")
    with pytest.raises(InputError, match=rf"the migrations create roles \({role}\)"):
        api.squash(settings)
    assert query("SELECT count(*) FROM pg_roles WHERE rolname = %s", role) == [(0,)]


def test_large_objects_are_refused_before_anything_is_written(
    settings, write_migration, migrations_dir
) -> None:
    write_migration("V001__blob.sql", "CREATE TABLE files (id int, body oid);\n"
                    "INSERT INTO files VALUES (1, lo_from_bytea(0, 'hello'));",
                    "DROP TABLE files;")
    with pytest.raises(InputError, match=r"large objects \(lo_\*\)"):
        api.squash(settings)
    assert [p.name for p in migrations_dir.iterdir()] == ["V001__blob.sql"]


def test_another_tools_numbered_directory_gets_no_baseline(settings, migrations_dir) -> None:
    (migrations_dir / "20240101120000_t.sql").write_text(
        "-- migrate:up\nCREATE TABLE t (id int);\n-- migrate:down\nDROP TABLE t;\n")
    with pytest.raises(InputError, match="which a dbmate directory cannot hold"):
        api.squash(settings)


# What a baseline (one database's pg_dump) cannot hold, and the line that says it.
NOT_HELD = {
    "database setting": ("ALTER DATABASE {db} SET search_path = app, public;", 2,
                         r"ALTER DATABASE {db}: a baseline holds one database's objects"),
    "database comment": ("COMMENT ON DATABASE {db} IS 'shop';", 2,
                         r"COMMENT ON DATABASE {db}: a baseline holds"),
    # The replay's own database is the scratch one: only what it leaves there tells.
    "do block": ("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET work_mem = ''7MB''', "
                 "current_database()); END $$;", None,
                 r"leaves settings \(work_mem=7MB\) on the database itself"),
    "setting made by a function": (
        "CREATE FUNCTION set_mem() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE "
        "format('ALTER ' || 'DATABASE %I SET work_mem = ''7MB''', current_database()); "
        "END $$;\nSELECT set_mem();", None,
        r"leaves settings \(work_mem=7MB\) on the database itself"),
    "pgshift's schema": ("CREATE TABLE pgshift.app_settings (k text);", 2,
                         r"uses pgshift's own schema pgshift, which a baseline leaves out"),
}


@pytest.mark.parametrize("case", list(NOT_HELD))
def test_what_a_baseline_cannot_hold_is_refused_naming_the_file(
    settings, write_migration, migrations_dir, query, case: str
) -> None:
    db = query("SELECT current_database()")[0][0]
    up, line, message = (text.replace("{db}", db) if isinstance(text, str) else text
                         for text in NOT_HELD[case])
    write_migration("V001__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    write_migration("V002__db.sql", "CREATE SCHEMA app;\n" + up, "DROP SCHEMA app CASCADE;")
    settings_before = query("SELECT count(*) FROM pg_db_role_setting")
    with pytest.raises(InputError, match=message) as raised:
        api.squash(settings)
    assert (raised.value.path, raised.value.line) == (str(migrations_dir / "V002__db.sql"), line)
    assert "versioned migration after the baseline" in (raised.value.hint or "") \
        or case == "pgshift's schema"
    assert sorted(p.name for p in migrations_dir.iterdir()) == ["V001__t.sql", "V002__db.sql"]
    assert query("SELECT count(*) FROM pg_db_role_setting") == settings_before


def test_squash_leaves_the_target_database_as_it_was(settings, write_migration, query) -> None:
    db = query("SELECT current_database()")[0][0]
    write_migration("V001__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    write_migration("V002__timeout.sql", f"ALTER DATABASE {db} SET statement_timeout = '1ms';",
                    f"ALTER DATABASE {db} RESET statement_timeout;")
    with pytest.raises(InputError, match=rf"ALTER DATABASE {db}: a baseline holds"):
        api.squash(dataclasses.replace(settings))
    assert query("SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_database d "
                 "ON d.oid = s.setdatabase WHERE d.datname = %s", db) == []


def test_migrations_that_drop_the_public_schema_get_a_baseline_without_it(
    settings, write_migration, fresh
) -> None:
    write_migration("V001__init.sql", "DROP SCHEMA public CASCADE;\nCREATE SCHEMA app;\n"
                    "CREATE TABLE app.t (i int);", header="-- pgshift:irreversible")
    result = api.squash(settings)
    built = api.up(dataclasses.replace(fresh, lint=True))
    assert [o.migration.name for o in built.outcomes] == [result.path.name]
    assert scalar(fresh.url, "SELECT to_regnamespace('public') IS NULL") is True
    assert scalar(fresh.url, "SELECT count(*) FROM app.t") == 0


def test_a_failing_pg_dump_shows_its_error_not_the_query(
    settings, write_migration, tmp_path
) -> None:
    fake = tmp_path / "pg_dump"
    fake.write_text("#!/bin/sh\necho 'pg_dump: error: query failed: ERROR:  out of memory' >&2\n"
                    "echo 'pg_dump: detail: Query was: SELECT 1' >&2\nexit 1\n")
    fake.chmod(0o755)
    write_migration("V001__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    with pytest.raises(InputError) as raised:
        api.squash(dataclasses.replace(settings, pg_dump=fake))
    assert raised.value.message == ("squash: pg_dump failed: pg_dump: error: query failed: "
                                    "ERROR:  out of memory")
