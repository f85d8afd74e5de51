"""Owners of extended statistics, publications, event triggers, foreign-data wrappers and
foreign servers: ``validate --schema-drift`` names one changed by hand, ``create --from-drift``
writes its ``ALTER … OWNER TO`` (after the object where the file makes it), ``verify`` reports
a down that forgets to give one back, and an owner that is the role owning pgshift's history
is no drift for another role's check."""

from __future__ import annotations

import dataclasses

import pytest
from tests.fixtures.project import schema_of, server_role

from pgshift import api
from pgshift.verify.snapshot import diff_apart_from_order

SCHEMA = """
CREATE TABLE t (id int PRIMARY KEY, a int, b int);
CREATE STATISTICS t_ab (dependencies) ON a, b FROM t;
CREATE PUBLICATION t_pub FOR TABLE t;
CREATE FUNCTION on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE EVENT TRIGGER ddl_seen ON ddl_command_end EXECUTE FUNCTION on_ddl();
CREATE FOREIGN DATA WRAPPER owners_fdw;
CREATE SERVER owners_server FOREIGN DATA WRAPPER owners_fdw;
"""
DOWN = """
DROP SERVER owners_server; DROP FOREIGN DATA WRAPPER owners_fdw;
DROP EVENT TRIGGER ddl_seen; DROP FUNCTION on_ddl();
DROP PUBLICATION t_pub; DROP TABLE t;
"""
# Each kept object given to the role (event triggers and wrappers need a superuser owner).
REOWN = [
    'ALTER STATISTICS t_ab OWNER TO "{role}"',
    'ALTER PUBLICATION t_pub OWNER TO "{role}"',
    'ALTER EVENT TRIGGER ddl_seen OWNER TO "{role}"',
    'ALTER FOREIGN DATA WRAPPER owners_fdw OWNER TO "{role}"',
    'ALTER SERVER owners_server OWNER TO "{role}"',
]


@pytest.fixture
def superuser(query, fresh, database_url):
    """A superuser role to give objects to; roles are the server's, so its name carries the
    test database's (and a space, to be quoted), and each database the test made drops what
    the role owns before it goes."""
    name = f"Owners Super {query('SELECT current_database()')[0][0]}"
    with server_role(query, name, attributes="SUPERUSER LOGIN",
                     databases=(database_url, fresh.url)):
        yield name


def _owner_line(what: str, role: str) -> str:
    return (f"{what}: owner is '\"{role}\"' in the database, was the migrations' role after "
            "the migrations")


def test_a_changed_owner_of_each_is_drift_naming_the_object(
    settings, write_migration, query, superuser
) -> None:
    write_migration("V001__schema.sql", SCHEMA, DOWN)
    api.up(settings)
    assert api.schema_drift(settings).ok
    for statement in REOWN:
        query(statement.format(role=superuser))
    drift = api.schema_drift(settings)
    assert sorted(drift.differences) == sorted(_owner_line(what, superuser) for what in (
        "statistics object public.t_ab", "publication t_pub", "event trigger ddl_seen",
        "foreign-data wrapper owners_fdw", "foreign server owners_server"))


BY_HAND_MADE = [  # objects the database has and the migrations do not, given to the role
    "CREATE STATISTICS t_made ON id, a FROM t",
    'ALTER STATISTICS t_made OWNER TO "{role}"',
    "CREATE PUBLICATION made_pub FOR TABLE t",
    'ALTER PUBLICATION made_pub OWNER TO "{role}"',
    "CREATE EVENT TRIGGER ddl_made ON sql_drop EXECUTE FUNCTION on_ddl()",
    'ALTER EVENT TRIGGER ddl_made OWNER TO "{role}"',
    "CREATE FOREIGN DATA WRAPPER made_fdw",
    'ALTER FOREIGN DATA WRAPPER made_fdw OWNER TO "{role}"',
    "CREATE SERVER made_server FOREIGN DATA WRAPPER owners_fdw",
    'ALTER SERVER made_server OWNER TO "{role}"',
    # one dropped and made again with another definition: made anew, under the role
    "DROP STATISTICS t_ab",
    "CREATE STATISTICS t_ab (ndistinct) ON a, b FROM t",
    'ALTER STATISTICS t_ab OWNER TO "{role}"',
]


def test_the_migration_from_drift_gives_each_its_owner_and_closes_the_drift(
    settings, fresh, write_migration, query, superuser
) -> None:
    write_migration("V001__schema.sql", SCHEMA, DOWN)
    # Grants move with the owner: ALTER … OWNER TO says them all (no TODO line of their own).
    write_migration("V002__grants.sql", "GRANT USAGE ON FOREIGN SERVER owners_server TO "
                    "pg_monitor WITH GRANT OPTION;",
                    "REVOKE USAGE ON FOREIGN SERVER owners_server FROM pg_monitor;")
    api.up(settings)
    for statement in [*REOWN[1:], *BY_HAND_MADE]:
        query(statement.format(role=superuser))

    captured = api.create_from_drift(settings, "owners")
    assert captured is not None and captured.migration.todo == []
    up, down = captured.migration.up, captured.migration.down
    role = f'"{superuser}"'
    for name in ("t_pub", "made_pub"):
        assert f"ALTER PUBLICATION {name} OWNER TO {role};" in up
    for name in ("ddl_seen", "ddl_made"):
        assert f"ALTER EVENT TRIGGER {name} OWNER TO {role};" in up
    for name in ("owners_fdw", "made_fdw"):
        assert f"ALTER FOREIGN DATA WRAPPER {name} OWNER TO {role};" in up
    for name in ("owners_server", "made_server"):
        assert f"ALTER SERVER {name} OWNER TO {role};" in up
    for name in ("t_ab", "t_made"):
        assert f"ALTER STATISTICS public.{name} OWNER TO {role};" in up
    for made in ("STATISTICS public.t_made", "PUBLICATION made_pub", "EVENT TRIGGER ddl_made",
                 "FOREIGN DATA WRAPPER made_fdw", "SERVER made_server"):
        create = next(i for i, s in enumerate(up)
                      if s.startswith((f"CREATE {made} ", f"CREATE {made};")))
        assert create < up.index(f"ALTER {made} OWNER TO {role};")  # the owner once it exists
    for statement in ("ALTER PUBLICATION t_pub OWNER TO CURRENT_USER;",
                      "ALTER EVENT TRIGGER ddl_seen OWNER TO CURRENT_USER;",
                      "ALTER FOREIGN DATA WRAPPER owners_fdw OWNER TO CURRENT_USER;",
                      "ALTER SERVER owners_server OWNER TO CURRENT_USER;"):
        assert statement in down
    assert not any("t_ab OWNER" in s for s in down)  # made again, as the running role's

    # A database the migrations build gets the drifted owners, its down takes them back, and
    # the drifted database, once it records the file, has no drift left.
    for step in ("up", "down", "up again"):
        if step == "down":
            api.down(fresh)
            lines, _ = diff_apart_from_order(captured.drift.expected, schema_of(fresh.url),
                                             expected_name="after V002", actual_name=step)
        else:
            api.up(fresh, allow_contract=True)
            lines, _ = diff_apart_from_order(schema_of(settings.url), schema_of(fresh.url),
                                             expected_name="drifted", actual_name=step)
        assert lines == [], step
    api.baseline(settings, captured.path.name[1:].split("__")[0])
    assert api.schema_drift(settings).ok


def test_an_owner_that_is_the_history_tables_is_no_drift_for_another_roles_check(
    settings, write_migration, query, superuser
) -> None:
    """Another role (a superuser here: the replay makes event triggers and wrappers; named so
    that it needs quoting) runs the check: the objects the migrations' role owns are no drift;
    one given away still is."""
    write_migration("V001__schema.sql", SCHEMA, DOWN)
    api.up(settings)
    as_other = dataclasses.replace(settings, url=settings.url.replace(
        "postgres@", f"{superuser.replace(' ', '%20')}@"))
    drift = api.schema_drift(as_other)
    assert drift.ok, drift.differences
    query("ALTER PUBLICATION t_pub OWNER TO pg_monitor")
    assert api.schema_drift(as_other).differences == [
        "publication t_pub: owner is 'pg_monitor' in the database, was the migrations' role "
        "after the migrations"]


def test_a_down_that_forgets_to_give_one_back_is_reported_by_verify(
    settings, write_migration, superuser
) -> None:
    write_migration("V001__schema.sql", SCHEMA, DOWN)
    api.up(settings)
    write_migration("V002__owners.sql", ";\n".join(REOWN).format(role=superuser) + ";",
                    "SELECT 1;")
    report = api.verify(settings)
    [finding] = [f for f in report.migrations[0].findings if f.kind == "roundtrip"]
    assert sorted(finding.detail) == sorted(
        f"{what}: owner is '\"{superuser}\"' after down, was the migrations' role before up"
        for what in ("statistics object public.t_ab", "publication t_pub",
                     "event trigger ddl_seen", "foreign-data wrapper owners_fdw",
                     "foreign server owners_server"))
