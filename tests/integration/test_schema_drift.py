"""``validate --schema-drift``: the database's schema against its applied migrations replayed
on a scratch database. It finds changes made by hand; a database its migrations built has none."""

from __future__ import annotations

import dataclasses
import json

import pytest

from pgshift import api
from pgshift.errors import DriftError

SCHEMA = """
CREATE TYPE plan AS ENUM ('free', 'pro');
CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL,
                    plan plan NOT NULL DEFAULT 'free', note text);
CREATE FUNCTION lower_email() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN NEW.email := lower(NEW.email); RETURN NEW; END $$;
CREATE TRIGGER users_lower BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION lower_email();
CREATE VIEW pro_users AS SELECT id, email FROM users WHERE plan = 'pro';
ALTER TABLE users ADD CONSTRAINT email_has_at CHECK (email LIKE '%@%') NOT VALID;
"""


@pytest.fixture
def migrated(settings, write_migration):
    write_migration("V001__schema.sql", SCHEMA,
                    "DROP VIEW pro_users;\nDROP TABLE users;\nDROP FUNCTION lower_email();\n"
                    "DROP TYPE plan;")
    write_migration("V002__email_index.sql", "-- pgshift:no-transaction\n"
                    "CREATE INDEX CONCURRENTLY users_email ON users (email);",
                    "DROP INDEX CONCURRENTLY users_email;")
    api.up(settings)
    return settings


def test_a_database_its_migrations_built_has_no_drift(migrated, query) -> None:
    query("INSERT INTO users (email) VALUES ('A@x.org')")  # rows and sequences are not schema
    drift = api.schema_drift(migrated)
    assert drift.ok and drift.differences == [] and drift.order_notes == []
    assert drift.replayed == ["V001__schema.sql", "V002__email_index.sql"]
    assert query("SELECT count(*) FROM pg_database WHERE datname LIKE 'pgshift_verify_%'"
                 ) == [(0,)]  # the scratch database is dropped afterwards


@pytest.mark.parametrize("setting", [
    "quote_all_identifiers = on", "IntervalStyle = 'sql_standard'", "TimeZone = 'Asia/Tokyo'",
    "DateStyle = 'SQL, DMY'", "extra_float_digits = 3"])
def test_how_the_database_prints_definitions_is_no_drift(settings, write_migration, query,
                                                          setting) -> None:
    write_migration("V001__defaults.sql", "CREATE TABLE t (id int PRIMARY KEY, "
                    "wait interval DEFAULT '1 day 2 hours', since timestamptz DEFAULT "
                    "'2026-01-01 00:00+00', ratio float8 DEFAULT 0.1, "
                    "CHECK (wait < interval '30 days'));", "DROP TABLE t;")
    api.up(settings)
    [(name,)] = query("SELECT current_database()")
    query(f'ALTER DATABASE "{name}" SET {setting}')  # a DBA's, for the target only
    drift = api.schema_drift(settings)
    assert drift.ok, drift.differences


def test_a_role_other_than_the_migrations_one_reads_their_objects_as_no_drift(
    migrated, query
) -> None:
    """A monitoring role that runs the check: the objects are the migrations' role's."""
    [(database,)] = query("SELECT current_database()")
    role = f"watch_{database}"
    query(f'CREATE ROLE "{role}" LOGIN CREATEDB; GRANT pg_read_all_data TO "{role}"')
    try:
        as_monitor = dataclasses.replace(
            migrated, url=migrated.url.replace("postgres@", f"{role}@"))
        drift = api.schema_drift(as_monitor)
        assert drift.ok, drift.differences
        query("ALTER TABLE users OWNER TO pg_monitor")  # a real change of owner still shows
        assert [d for d in api.schema_drift(as_monitor).differences if "owner" in d] != []
    finally:
        query(f'DROP OWNED BY "{role}"; DROP ROLE "{role}"')


def test_changes_made_by_hand_are_each_named(migrated, query) -> None:
    query("CREATE INDEX users_plan ON users (plan)")
    query("ALTER TABLE users ALTER COLUMN note SET DEFAULT 'n/a'")
    query("ALTER TABLE users VALIDATE CONSTRAINT email_has_at")
    query("CREATE OR REPLACE FUNCTION lower_email() RETURNS trigger LANGUAGE plpgsql AS "
          "$$ BEGIN RETURN NEW; END $$")
    query("DROP INDEX users_email")
    query("CREATE TABLE scratch_copy (id int)")
    drift = api.schema_drift(migrated)
    assert not drift.ok
    assert [line.split(":")[0] for line in drift.differences] == [
        "table public.scratch_copy",
        "column public.scratch_copy.id",
        "column public.users.note",
        "constraint public.email_has_at on public.users",  # its definition, then its validity
        "constraint public.email_has_at on public.users",
        "index public.users_plan",
        "index public.users_email",
        "function public.lower_email()",
    ]
    assert ("column public.users.note: default is \"'n/a'::text\" in the database, was none "
            "after the migrations") in drift.differences
    assert ("constraint public.email_has_at on public.users: valid is True in the database, was "
            "False after the migrations") in drift.differences
    assert ("index public.users_email: missing in the database, present after the migrations "
            "(CREATE INDEX users_email ON public.users USING btree (email))") in drift.differences


def test_a_column_only_in_another_position_is_a_note_not_drift(migrated, query) -> None:
    query("ALTER TABLE users DROP COLUMN plan CASCADE")  # and the view that reads it
    query("ALTER TABLE users ADD COLUMN plan plan NOT NULL DEFAULT 'free'")  # as a down part would
    query("CREATE VIEW pro_users AS SELECT id, email FROM users WHERE plan = 'pro'")
    drift = api.schema_drift(migrated)
    assert drift.ok and drift.differences == []
    assert drift.order_notes == [
        "column public.users.note: position is 3 in the database, was 4 after the migrations",
        "column public.users.plan: position is 4 in the database, was 3 after the migrations"]


def test_an_edited_file_is_file_drift_before_any_replay(migrated, write_migration) -> None:
    write_migration("V002__email_index.sql", "-- pgshift:no-transaction\n"
                    "CREATE INDEX CONCURRENTLY users_email ON users (lower(email));",
                    "DROP INDEX CONCURRENTLY users_email;")
    with pytest.raises(DriftError, match=r"V002__email_index\.sql"):
        api.schema_drift(migrated)


def test_cli_lists_the_differences_and_exits_3(migrated, cli, query) -> None:
    ok = cli("validate", "--schema-drift")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[0] == "OK: 2 applied migration(s) match their files."
    assert ok.stdout.splitlines()[1].startswith(
        "OK: the schema is what the 2 applied migration(s) make (replayed in pgshift_verify_")
    assert "Replaying V001 schema ..." in ok.stderr
    query("CREATE INDEX users_plan ON users (plan)")
    drifted = cli("validate", "--schema-drift")
    assert drifted.returncode == 3
    assert "  index public.users_plan: present in the database, absent after the migrations " \
           "(CREATE INDEX users_plan ON public.users USING btree (plan))" in drifted.stdout
    assert drifted.stderr.splitlines()[-1] == (
        "pgshift: error: the schema differs from what its applied migrations make: "
        "1 difference(s) (hint: a change made outside migrations: write a migration that "
        "makes it, or undo it)")
    as_json = cli("validate", "--schema-drift", "--json")
    assert as_json.returncode == 3
    report = json.loads(as_json.stdout)
    assert report["ok"] is False and len(report["schema"]["differences"]) == 1
    assert report["schema"]["replayed"] == ["V001__schema.sql", "V002__email_index.sql"]
    alone = cli("validate", "--embedded")
    assert alone.returncode == 2 and "--embedded goes with --schema-drift" in alone.stderr


def test_embedded_replays_on_a_throwaway_server_of_the_same_major(migrated, query) -> None:
    query("ALTER TABLE users ALTER COLUMN note SET DEFAULT 'n/a'")
    drift = api.schema_drift(migrated, embedded=True)
    assert "a throwaway server" in drift.scratch
    assert drift.differences == [
        "column public.users.note: default is \"'n/a'::text\" in the database, was none after "
        "the migrations"]


def test_publication_filters_wrappers_mappings_and_statistics_targets_are_drift(
    migrated, query
) -> None:
    query("CREATE PUBLICATION pub_users FOR TABLE users (id, email) WHERE (id > 10)")
    query("CREATE FOREIGN DATA WRAPPER hand_fdw")
    query("CREATE SERVER hand_server FOREIGN DATA WRAPPER hand_fdw")
    query("CREATE USER MAPPING FOR PUBLIC SERVER hand_server OPTIONS (user 'x', password 'pw1')")
    query("ALTER TABLE users ALTER COLUMN email SET STATISTICS 800")
    query("CREATE SCHEMA feed")
    query("CREATE PUBLICATION pub_feed FOR TABLES IN SCHEMA feed")
    drift = api.schema_drift(migrated)
    assert drift.differences == [
        "schema feed: present in the database, absent after the migrations",
        "column public.users.email: statistics_target is 800 in the database, was none after "
        "the migrations",
        "publication pub_feed: present in the database, absent after the migrations",
        "publication pub_users: present in the database, absent after the migrations",
        "foreign-data wrapper hand_fdw: present in the database, absent after the migrations",
        "foreign server hand_server: present in the database, absent after the migrations",
        "user mapping for PUBLIC server hand_server: present in the database, absent after the "
        "migrations"]
    assert drift.actual["publication"]["pub_users"]["tables"] == [
        "public.users (id, email) WHERE ((id > 10))"]
    assert drift.actual["publication"]["pub_feed"]["schemas"] == ["feed"]
    assert drift.actual["user mapping"]["for PUBLIC server hand_server"]["options"] == [
        "password=********", "user=x"]
