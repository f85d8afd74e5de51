"""verify replays migrations as ``up`` runs them (placeholders, repeatables, a database pgshift
never ran on), compares every kind of object a down may forget, and leaves nothing behind on
the server: no role, no scratch database, no throwaway server."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

import pytest

from pgshift import api
from pgshift.errors import InputError
from pgshift.verify import VerifyOptions


def failures(report) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(f.kind, f.message, f.detail) for m in report.migrations for f in m.findings
            if f.is_failure]


def test_a_repeatable_migration_that_cannot_run_again_fails_verify(
    settings, write_migration
) -> None:
    """A repeatable migration runs again over what it made each time its file changes."""
    write_migration("V001__users.sql", "CREATE TABLE users (id int, email text);",
                    "DROP TABLE users;")
    write_migration("R__emails.sql", "CREATE VIEW emails AS SELECT email FROM users;")
    [(kind, message, detail)] = failures(api.verify(settings))
    assert (kind, message) == ("repeatable", 'applied again failed: relation "emails" already '
                                             "exists [42P07]; rolled back")
    assert "at R__emails.sql:1" in detail
    write_migration("R__emails.sql", "CREATE OR REPLACE VIEW emails AS SELECT email FROM users;")
    assert api.verify(settings).ok


def test_placeholders_of_the_settings_fill_the_migrations_verify_replays(
    settings, write_migration, query
) -> None:
    write_migration("V001__schema.sql", "CREATE SCHEMA ${app};\nCREATE TABLE ${app}.t (id int);",
                    "DROP SCHEMA ${app} CASCADE;")
    with_values = dataclasses.replace(settings, placeholders={"app": "shop"})
    api.up(with_values)
    write_migration("V002__column.sql", "ALTER TABLE ${app}.t ADD COLUMN name text;",
                    "ALTER TABLE ${app}.t DROP COLUMN name;")
    report = api.verify(with_values)
    assert report.ok, report.failures()
    assert [m.label for m in report.migrations] == ["V002"]


def test_roles_made_under_a_placeholder_or_by_dynamic_sql_are_dropped_after_verify(
    settings, write_migration, query
) -> None:
    names = [f"verify_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("held", "built")]
    write_migration("V001__roles.sql",
                    "CREATE ROLE ${reader} NOLOGIN;\n"
                    f"DO $$ BEGIN EXECUTE format('CREATE ROLE %I NOLOGIN', '{names[1]}'); "
                    "END $$;",
                    f"DROP ROLE ${{reader}};\nDROP ROLE {names[1]};")
    write_migration("V002__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    report = api.verify(dataclasses.replace(settings, placeholders={"reader": names[0]}))
    assert report.ok, report.failures()
    assert query("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", names) == []


def test_a_role_whose_name_only_the_run_knows_is_refused_before_the_replay(
    settings, write_migration, query
) -> None:
    """It could not be told from another session's role afterwards, nor dropped."""
    write_migration("V001__roles.sql",
                    "DO $$ DECLARE r text := 'verify_' || md5(random()::text);\n"
                    "BEGIN EXECUTE format('CREATE ROLE %I', r); END $$;", "SELECT 1;")
    before = query("SELECT count(*) FROM pg_roles")
    with pytest.raises(InputError, match="a DO block runs SQL built at run time that says "
                       "CREATE ROLE"):
        api.verify(settings)
    assert query("SELECT count(*) FROM pg_roles") == before


def test_from_a_database_pgshift_never_ran_on_checks_every_migration(
    settings, write_migration, query, database_url: str
) -> None:
    query("CREATE TABLE legacy (id int PRIMARY KEY)")
    write_migration("V001__t.sql", "CREATE TABLE t (id int REFERENCES legacy (id));",
                    "DROP TABLE t;")
    report = api.verify(settings, VerifyOptions(source_url=database_url))
    assert report.ok, report.failures()
    assert (report.replayed, [m.label for m in report.migrations]) == ([], ["V001"])
    assert query("SELECT to_regnamespace('pgshift')") == [(None,)]  # the source: untouched


# What a down may forget besides tables, columns and indexes: (up, what the diff says).
FORGOTTEN = {
    "rule": ("CREATE RULE keep AS ON DELETE TO t DO INSTEAD NOTHING;",
             "rule keep on public.t: present after down"),
    "statistics": ("CREATE STATISTICS t_stats (dependencies) ON a, b FROM t;",
                   "statistics object public.t_stats: present after down"),
    "replica identity": ("ALTER TABLE t REPLICA IDENTITY FULL;",
                         "table public.t: replica_identity is 'f' after down, was none"),
    "default privileges": ("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC;",
                           "default privileges on tables: present after down"),
    "aggregate": ("CREATE AGGREGATE total(int) (SFUNC = int4pl, STYPE = int);",
                  "aggregate public.total(integer): present after down"),
    "event trigger": ("CREATE FUNCTION on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS "
                      "$$ BEGIN END $$;\nCREATE EVENT TRIGGER on_ddl ON ddl_command_end "
                      "EXECUTE FUNCTION on_ddl();",
                      "event trigger on_ddl: present after down"),
    "publication": ("CREATE PUBLICATION t_pub FOR TABLE t;",
                    "publication t_pub: present after down"),
}


@pytest.mark.parametrize("case", list(FORGOTTEN))
def test_a_down_that_forgets_an_object_of_any_kind_fails_the_round_trip(
    settings, write_migration, case: str
) -> None:
    up, said = FORGOTTEN[case]
    write_migration("V001__t.sql", "CREATE TABLE t (a int, b int);", "DROP TABLE t;")
    api.up(settings)
    write_migration("V002__forgotten.sql", up, "SELECT 1;")
    report = api.verify(settings)
    roundtrip = [f for f in report.migrations[0].findings if f.kind == "roundtrip"]
    assert roundtrip, report.migrations[0].findings
    assert any(line.startswith(said) for line in roundtrip[0].detail), roundtrip[0].detail


def test_with_embedded_a_missing_extension_is_said_to_be_the_throwaway_servers(
    settings, write_migration
) -> None:
    write_migration("V001__ext.sql", "CREATE EXTENSION pgshift_no_such_extension;",
                    "DROP EXTENSION pgshift_no_such_extension;")
    report = api.verify(settings, VerifyOptions(embedded=True))
    [(kind, _, detail)] = failures(report)
    assert kind == "failed"
    assert detail[-1] == ("the throwaway server has no extension pgshift_no_such_extension: "
                          "where the target's server has it, verify there (without --embedded)")


def test_a_throwaway_server_interrupted_while_starting_is_removed(
    settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during initdb or pg_ctl start: its data directory must not stay behind."""
    from pgshift.server import ThrowawayServer
    from pgshift.verify.scratch import ScratchDatabase

    made: list[Path] = []
    real_start = ThrowawayServer.start

    def interrupted(server: ThrowawayServer) -> None:
        real_start(server)
        made.append(server._root)
        raise KeyboardInterrupt

    monkeypatch.setattr(ThrowawayServer, "start", interrupted)
    with pytest.raises(KeyboardInterrupt), ScratchDatabase(settings, embedded=True):
        pass
    assert made and not made[0].exists()


def test_a_subscription_made_without_connecting_is_replayed_and_its_database_dropped(
    settings, write_migration, query
) -> None:
    """A database that holds a subscription cannot be dropped: verify detaches it first,
    without reaching its publisher."""
    write_migration("V001__sub.sql", "CREATE SUBSCRIPTION feed CONNECTION "
                    "'host=127.0.0.1 port=1 dbname=nowhere' PUBLICATION p "
                    "WITH (connect = false);",
                    "ALTER SUBSCRIPTION feed SET (slot_name = NONE);\nDROP SUBSCRIPTION feed;")
    report = api.verify(settings)
    assert report.ok, report.failures()
    assert query("SELECT datname FROM pg_database WHERE datname LIKE 'pgshift_verify_%'") == []
    assert query("SELECT count(*) FROM pg_subscription") == [(0,)]


# Subscription statements that would reach the publisher (another server), and what the
# refusal names.
TO_THE_PUBLISHER = {
    "connecting": ("CREATE SUBSCRIPTION feed CONNECTION 'host=127.0.0.1 port=1 dbname=x' "
                   "PUBLICATION p;", "SELECT 1;", 1, "CREATE SUBSCRIPTION feed"),
    "enabled": ("CREATE SUBSCRIPTION feed CONNECTION 'host=127.0.0.1 port=1 dbname=x' "
                "PUBLICATION p WITH (connect = false);\nALTER SUBSCRIPTION feed ENABLE;",
                "SELECT 1;", 2, "ALTER SUBSCRIPTION feed ENABLED"),
    "dropped with its slot": ("CREATE SUBSCRIPTION feed CONNECTION 'host=127.0.0.1 port=1 "
                              "dbname=x' PUBLICATION p WITH (connect = false);",
                              "DROP SUBSCRIPTION feed;", 4, "DROP SUBSCRIPTION feed"),
}


@pytest.mark.parametrize("embedded", [False, True], ids=["configured", "embedded"])
@pytest.mark.parametrize("case", list(TO_THE_PUBLISHER))
def test_a_subscription_that_would_reach_its_publisher_is_refused_on_any_server(
    settings, write_migration, migrations_dir, case: str, embedded: bool
) -> None:
    up, down, line, what = TO_THE_PUBLISHER[case]
    write_migration("V001__sub.sql", up, down)
    with pytest.raises(InputError, match=f"^V001__sub.sql:{line}: {what}: a subscription "
                       "reaches its publisher") as raised:
        api.verify(settings, VerifyOptions(embedded=embedded))
    assert raised.value.path == str(migrations_dir / "V001__sub.sql")
    assert "connect = false" in (raised.value.hint or "")


@pytest.mark.parametrize("up", ["COPY t TO '{path}';", "COPY t FROM PROGRAM 'touch {path}';"])
def test_copy_to_a_file_or_a_program_is_refused_and_nothing_is_written(
    settings, write_migration, tmp_path: Path, up: str
) -> None:
    path = tmp_path / "export.csv"
    write_migration("V001__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    api.up(settings)
    write_migration("V002__copy.sql", up.format(path=path), "SELECT 1;")
    with pytest.raises(InputError, match=r"^V002__copy.sql:1: COPY .*: a replay would do that "
                       "on the database server's machine, whatever server the replay runs on"):
        api.verify(settings)
    assert not path.exists()
