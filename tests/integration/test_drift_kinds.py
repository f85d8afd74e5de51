"""``create NAME --from-drift`` for every kind of object the schema snapshot compares: each
kind (and each attribute of it) has a writer, which writes its changes as SQL or leaves a TODO
line in both parts; the SQL it writes makes a database built by the migrations match the
drifted one, and its down part takes that back."""

from __future__ import annotations

import pytest
from tests.fixtures.project import schema_of, server_role

from pgshift import api
from pgshift.verify.drift.kinds import HANDLED
from pgshift.verify.snapshot import diff_apart_from_order


@pytest.fixture
def reader(query, fresh, database_url):
    """A role to grant to; roles are the server's, so its name carries the test database's,
    and each database the test made drops what it grants the role before it goes."""
    name = f"drift_kinds_{query('SELECT current_database()')[0][0]}"
    with server_role(query, name, databases=(database_url, fresh.url)):
        yield name


# One object of every kind the snapshot compares.
EVERY_KIND = """
CREATE SCHEMA app;
CREATE EXTENSION hstore;
CREATE TYPE mood AS ENUM ('ok', 'meh');
CREATE SEQUENCE tickets;
CREATE TABLE t (id int PRIMARY KEY, code text NOT NULL UNIQUE, a int, b int,
                CHECK (a > 0));
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
CREATE POLICY t_mine ON t USING (a > 0);
ALTER TABLE t REPLICA IDENTITY USING INDEX t_code_key;
CREATE INDEX t_a ON t (a);
CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER t_stamp BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION stamp();
CREATE RULE t_keep AS ON DELETE TO t DO INSTEAD NOTHING;
CREATE STATISTICS t_ab (dependencies) ON a, b FROM t;
CREATE AGGREGATE total(int) (SFUNC = int4pl, STYPE = int);
CREATE COLLATION bytes (provider = libc, locale = 'C');
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
CREATE FUNCTION on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE EVENT TRIGGER ddl_seen ON ddl_command_end EXECUTE FUNCTION on_ddl();
CREATE PUBLICATION t_pub FOR TABLE t;
CREATE FOREIGN DATA WRAPPER drift_fdw;
CREATE SERVER files FOREIGN DATA WRAPPER drift_fdw OPTIONS (root '/srv');
CREATE USER MAPPING FOR CURRENT_USER SERVER files OPTIONS (user 'me', password 'hunter2');
"""


def test_every_kind_and_attribute_of_the_snapshot_has_a_writer(query, database_url) -> None:
    """The next kind (or attribute) added to the snapshot fails here until drift.kinds says
    how its changes are written; until then a migration says it in a TODO line."""
    for statement in EVERY_KIND.strip().split(";\n"):
        query(statement)
    snapshot = schema_of(database_url)
    assert [kind for kind, found in snapshot.items() if not found] == [], (
        "add an object of this kind to EVERY_KIND")
    assert sorted(snapshot) == sorted(HANDLED), "drift.kinds.HANDLED lags behind the snapshot"
    assert "hunter2" not in repr(snapshot)  # a user mapping's password: as a digest only
    for kind, objects in snapshot.items():
        for key, state in objects.items():
            assert set(state) <= HANDLED[kind], f"{kind} {key}: {set(state) - HANDLED[kind]}"


BEFORE = """
CREATE TABLE t (id int PRIMARY KEY, code text NOT NULL UNIQUE, a int, b int);
CREATE TABLE u (id int PRIMARY KEY, a int);
ALTER TABLE u REPLICA IDENTITY FULL;
CREATE INDEX u_a ON u (a);
CREATE TABLE r (id int NOT NULL, k int NOT NULL);
CREATE UNIQUE INDEX r_key ON r (id);
ALTER TABLE r REPLICA IDENTITY USING INDEX r_key;
CREATE VIEW t_view AS SELECT id, a FROM t;
CREATE RULE t_view_insert AS ON INSERT TO t_view
    DO INSTEAD INSERT INTO t (id, code, a) VALUES (new.id, 'x', new.a);
CREATE FUNCTION t_view_update() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN UPDATE t SET a = NEW.a WHERE id = OLD.id; RETURN NEW; END $$;
CREATE TRIGGER t_view_update INSTEAD OF UPDATE ON t_view
    FOR EACH ROW EXECUTE FUNCTION t_view_update();
CREATE RULE u_keep AS ON DELETE TO u DO INSTEAD NOTHING;
CREATE RULE u_log AS ON INSERT TO u DO ALSO NOTIFY u_changed;
CREATE STATISTICS t_ab (dependencies) ON a, b FROM t;
CREATE STATISTICS u_gone ON id, a FROM u;
CREATE FUNCTION add_state(s int, v int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT s + v $$;
CREATE AGGREGATE total(int) (SFUNC = add_state, STYPE = int, INITCOND = '0');
CREATE AGGREGATE old_total(int) (SFUNC = int4pl, STYPE = int);
CREATE COLLATION gone_c (provider = libc, locale = 'C');
CREATE FUNCTION on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE EVENT TRIGGER ddl_seen ON ddl_command_end EXECUTE FUNCTION on_ddl();
CREATE EVENT TRIGGER ddl_gone ON sql_drop EXECUTE FUNCTION on_ddl();
CREATE PUBLICATION pub_t FOR TABLE t;
CREATE PUBLICATION pub_gone FOR TABLE u WITH (publish = 'insert');
CREATE FOREIGN DATA WRAPPER drift_fdw;
CREATE SERVER kept_server FOREIGN DATA WRAPPER drift_fdw OPTIONS (host 'a', port '1');
CREATE SERVER gone_server FOREIGN DATA WRAPPER drift_fdw;
CREATE USER MAPPING FOR CURRENT_USER SERVER kept_server OPTIONS (user 'me');
CREATE USER MAPPING FOR PUBLIC SERVER gone_server;
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER TABLE u ALTER COLUMN a SET STATISTICS 300;
CREATE STATISTICS u_kept ON id, a FROM u;
"""

BEFORE_DOWN = """
ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC;
DROP USER MAPPING FOR PUBLIC SERVER gone_server;
DROP USER MAPPING FOR CURRENT_USER SERVER kept_server;
DROP SERVER gone_server; DROP SERVER kept_server; DROP FOREIGN DATA WRAPPER drift_fdw;
DROP PUBLICATION pub_gone; DROP PUBLICATION pub_t;
DROP EVENT TRIGGER ddl_gone; DROP EVENT TRIGGER ddl_seen; DROP FUNCTION on_ddl();
DROP COLLATION gone_c;
DROP AGGREGATE old_total(int); DROP AGGREGATE total(int); DROP FUNCTION add_state(int, int);
DROP VIEW t_view; DROP FUNCTION t_view_update(); DROP TABLE r; DROP TABLE u; DROP TABLE t;
"""

BY_HAND = [
    # rules: one dropped, one made (disabled), one disabled; a view made again with its rule
    # (and its trigger)
    "DROP RULE u_keep ON u",
    "CREATE RULE t_frozen AS ON UPDATE TO t WHERE old.code = 'frozen' DO INSTEAD NOTHING",
    "ALTER TABLE t DISABLE RULE t_frozen",
    "ALTER TABLE u DISABLE RULE u_log",
    "DROP VIEW t_view",
    "CREATE VIEW t_view AS SELECT id, a, b FROM t",
    "CREATE RULE t_view_insert AS ON INSERT TO t_view "
    "DO INSTEAD INSERT INTO t (id, code, a) VALUES (new.id, 'x', new.a)",
    "CREATE TRIGGER t_view_update INSTEAD OF UPDATE ON t_view "
    "FOR EACH ROW EXECUTE FUNCTION t_view_update()",
    # extended statistics: one changed, one dropped, one on expressions made
    "DROP STATISTICS t_ab",
    "CREATE STATISTICS t_ab (ndistinct, dependencies) ON a, b FROM t",
    "DROP STATISTICS u_gone",
    "CREATE STATISTICS t_expr ON (a + b), code FROM t",
    # replica identity and clustering: changed, back to the default, a table made with its own
    "ALTER TABLE t REPLICA IDENTITY USING INDEX t_code_key",
    "ALTER TABLE u REPLICA IDENTITY DEFAULT",
    "CREATE TABLE v (id int NOT NULL)",
    "ALTER TABLE v REPLICA IDENTITY NOTHING",
    "ALTER TABLE t CLUSTER ON t_pkey",
    "ALTER TABLE u CLUSTER ON u_a",
    # an index built again with another definition: its table's identity is set again
    "DROP INDEX r_key",
    "CREATE UNIQUE INDEX r_key ON r (id, k)",
    "ALTER TABLE r REPLICA IDENTITY USING INDEX r_key",
    # aggregates: one replaced, one dropped, ordered-set, moving and sort-operator ones made
    "CREATE OR REPLACE AGGREGATE total(int) (SFUNC = add_state, STYPE = int, "
    "INITCOND = '10', PARALLEL = SAFE)",
    "CREATE AGGREGATE joined(text) (SFUNC = textcat, STYPE = text, INITCOND = 'it''s, so: ')",
    "DROP AGGREGATE old_total(int)",
    "CREATE AGGREGATE pick(float8 ORDER BY anyelement) (SFUNC = ordered_set_transition, "
    "STYPE = internal, FINALFUNC = percentile_disc_final, FINALFUNC_EXTRA)",
    "CREATE AGGREGATE msum(int) (SFUNC = int4pl, STYPE = int, MSFUNC = int4pl, "
    "MINVFUNC = int4mi, MSTYPE = int)",
    "CREATE AGGREGATE biggest(int) (SFUNC = int4larger, STYPE = int, SORTOP = >)",
    'GRANT EXECUTE ON FUNCTION msum(int) TO "{reader}"',
    "COMMENT ON AGGREGATE msum(int) IS 'moving'",
    # collations: one dropped, one made and used
    "DROP COLLATION gone_c",
    "CREATE COLLATION by_bytes (provider = libc, locale = 'C')",
    "CREATE TABLE w (name text COLLATE by_bytes)",
    # event triggers: one disabled, one dropped, one with tags made
    "ALTER EVENT TRIGGER ddl_seen DISABLE",
    "DROP EVENT TRIGGER ddl_gone",
    "CREATE EVENT TRIGGER table_made ON ddl_command_end WHEN TAG IN ('CREATE TABLE', "
    "'ALTER TABLE') EXECUTE FUNCTION on_ddl()",
    # publications: a table added and options set, one dropped, two made
    "ALTER PUBLICATION pub_t ADD TABLE u",
    "ALTER PUBLICATION pub_t SET (publish = 'insert, update', publish_via_partition_root = true)",
    "DROP PUBLICATION pub_gone",
    "CREATE PUBLICATION pub_all FOR ALL TABLES WITH (publish = 'insert')",
    "CREATE PUBLICATION pub_w FOR TABLE w, v",
    # foreign servers: version and options changed, usage granted, one dropped, one made
    "ALTER SERVER kept_server VERSION '2' OPTIONS (SET host 'b', DROP port, ADD dbname 'x')",
    'GRANT USAGE ON FOREIGN SERVER kept_server TO "{reader}"',
    "DROP USER MAPPING FOR PUBLIC SERVER gone_server",  # then its server
    "DROP SERVER gone_server",
    "CREATE SERVER \"New Server\" TYPE 'pg' VERSION '16' FOREIGN DATA WRAPPER drift_fdw "
    "OPTIONS (host 'h=1')",
    # publications: a table's row filter set, a column list and a row filter, a schema
    "ALTER PUBLICATION pub_t DROP TABLE t",
    "ALTER PUBLICATION pub_t ADD TABLE t WHERE (a > 1)",
    "CREATE PUBLICATION pub_rows FOR TABLE t (id, a) WHERE (a > 0 AND b IS NULL)",
    "CREATE SCHEMA feed",
    "CREATE TABLE feed.items (id int)",
    "CREATE PUBLICATION pub_feed FOR TABLES IN SCHEMA feed",
    # foreign-data wrappers: one made with a validator, options set, usage granted; user
    # mappings: options changed, one dropped, one made
    "CREATE FOREIGN DATA WRAPPER checked_fdw VALIDATOR postgresql_fdw_validator",
    "ALTER FOREIGN DATA WRAPPER drift_fdw OPTIONS (ADD mode 'x')",
    'GRANT USAGE ON FOREIGN DATA WRAPPER drift_fdw TO "{reader}"',
    "ALTER USER MAPPING FOR CURRENT_USER SERVER kept_server OPTIONS (SET user 'you')",
    "CREATE USER MAPPING FOR PUBLIC SERVER \"New Server\" OPTIONS (user 'anyone')",
    # statistics targets: of columns (set, reset, on a table made) and of extended statistics
    "ALTER TABLE t ALTER COLUMN a SET STATISTICS 500",
    "ALTER TABLE u ALTER COLUMN a SET STATISTICS -1",
    "ALTER TABLE v ALTER COLUMN id SET STATISTICS 50",
    "ALTER STATISTICS u_kept SET STATISTICS 0",
    "ALTER STATISTICS t_expr SET STATISTICS 200",
    # default privileges: back to the built-in ones, granted, granted in a schema, revoked
    "ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC",
    'ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO "{reader}"',
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO \"{reader}\" "
    "WITH GRANT OPTION",
    "ALTER DEFAULT PRIVILEGES REVOKE USAGE ON TYPES FROM PUBLIC",
]


def test_every_kind_round_trips_through_the_captured_migration(
    settings, fresh, write_migration, query, cli, reader
) -> None:
    write_migration("V001__schema.sql", BEFORE, BEFORE_DOWN)
    api.up(settings)
    api.up(fresh)
    migrated = schema_of(fresh.url)  # what V001 makes
    for statement in BY_HAND:
        query(statement.format(reader=reader))
    drifted = schema_of(settings.url)

    result = cli("create", "every kind", "--from-drift")
    assert result.returncode == 0, result.stderr
    assert "need SQL by hand" not in result.stderr  # no TODO line: all of it is SQL
    text = (settings.dir / "V002__every_kind.sql").read_text()
    assert "TODO" not in text

    for step in ("up", "down", "up again"):
        if step == "down":
            api.down(fresh)  # takes it back
        else:
            api.up(fresh, allow_contract=True)
        lines, _ = diff_apart_from_order(migrated if step == "down" else drifted,
                                         schema_of(fresh.url), expected_name="expected",
                                         actual_name=step)
        assert lines == []
    assert api.schema_drift(fresh).ok
    api.baseline(settings, "002")  # the drifted database has the changes already
    assert api.schema_drift(settings).ok

    up, down = text.split("-- pgshift:down\n")
    for statement in (
            "DROP RULE u_keep ON public.u;", "ALTER TABLE public.t DISABLE RULE t_frozen;",
            "CREATE RULE t_view_insert AS",  # a view made again: its rule and trigger too
            "CREATE TRIGGER t_view_update INSTEAD OF UPDATE ON public.t_view FOR EACH ROW "
            "EXECUTE FUNCTION public.t_view_update();",
            "CREATE STATISTICS public.t_expr ON code, (a + b) FROM public.t;",
            "ALTER TABLE public.t REPLICA IDENTITY USING INDEX t_code_key;",
            "ALTER TABLE public.v REPLICA IDENTITY NOTHING;",
            "ALTER TABLE public.t CLUSTER ON t_pkey;",
            "CREATE UNIQUE INDEX CONCURRENTLY r_key ON public.r USING btree (id, k);",
            "ALTER TABLE public.r REPLICA IDENTITY USING INDEX r_key;",
            "CREATE OR REPLACE AGGREGATE public.total(integer) (SFUNC = public.add_state, "
            "STYPE = integer, INITCOND = '10', PARALLEL = SAFE);",
            "CREATE AGGREGATE public.joined(text) (SFUNC = textcat, STYPE = text, "
            "INITCOND = 'it''s, so: ');",
            "CREATE AGGREGATE public.biggest(integer) (SFUNC = int4larger, STYPE = integer, "
            "SORTOP = OPERATOR(pg_catalog.>));",
            "CREATE COLLATION public.by_bytes (PROVIDER = libc, LC_COLLATE = 'C', "
            "LC_CTYPE = 'C', DETERMINISTIC = true);",
            "ALTER EVENT TRIGGER ddl_seen DISABLE;",
            "CREATE EVENT TRIGGER table_made ON ddl_command_end WHEN TAG IN ('CREATE TABLE', "
            "'ALTER TABLE') EXECUTE FUNCTION public.on_ddl();",
            "ALTER PUBLICATION pub_t ADD TABLE public.u;",
            "ALTER PUBLICATION pub_t DROP TABLE public.t;",
            "ALTER PUBLICATION pub_t ADD TABLE public.t WHERE ((a > 1));",
            "CREATE PUBLICATION pub_rows FOR TABLE public.t (id, a) WHERE (((a > 0) AND (b IS "
            "NULL))) WITH (",
            "CREATE PUBLICATION pub_feed FOR TABLES IN SCHEMA feed WITH (",
            "CREATE FOREIGN DATA WRAPPER checked_fdw VALIDATOR postgresql_fdw_validator;",
            "ALTER FOREIGN DATA WRAPPER drift_fdw OPTIONS (ADD mode 'x');",
            f"GRANT USAGE ON FOREIGN DATA WRAPPER drift_fdw TO {reader};",
            "ALTER USER MAPPING FOR CURRENT_USER SERVER kept_server OPTIONS (SET \"user\" 'you');",
            "DROP USER MAPPING FOR PUBLIC SERVER gone_server;",
            "CREATE USER MAPPING FOR PUBLIC SERVER \"New Server\" OPTIONS (\"user\" 'anyone');",
            "ALTER TABLE public.t ALTER COLUMN a SET STATISTICS 500;",
            "ALTER TABLE public.u ALTER COLUMN a SET STATISTICS -1;",
            "ALTER TABLE public.v ALTER COLUMN id SET STATISTICS 50;",
            "ALTER STATISTICS public.u_kept SET STATISTICS 0;",
            "ALTER STATISTICS public.t_expr SET STATISTICS 200;",
            "ALTER SERVER kept_server OPTIONS (DROP port, SET host 'b', ADD dbname 'x');",
            "ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC;",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO {reader} "
            "WITH GRANT OPTION;"):
        assert statement in up, statement
    assert "ALTER TABLE public.u CLUSTER ON u_a;" in up and "public.u_a;" not in up  # not built
    for statement in ("ALTER TABLE public.u REPLICA IDENTITY FULL;",
                      "ALTER TABLE public.t SET WITHOUT CLUSTER;",
                      "ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;",
                      f"ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM {reader};"):
        assert statement in down, statement
    # Event triggers come after what the file makes, so that they fire on none of it; default
    # privileges that give more than PostgreSQL's come after them, so that they give it
    # nothing, and those that go back to PostgreSQL's come first.
    statements = [s for s in up.splitlines() if s and not s.startswith("-- ")]
    assert statements[0] == "ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC;"
    assert statements[-1] == "ALTER DEFAULT PRIVILEGES REVOKE USAGE ON TYPES FROM PUBLIC;"
    assert statements.index("ALTER EVENT TRIGGER ddl_seen DISABLE;") > statements.index(
        "CREATE TABLE public.w (")


def test_what_it_cannot_write_of_these_kinds_is_a_todo_line_in_both_parts(
    settings, write_migration, query, cli
) -> None:
    write_migration("V001__schema.sql", """
CREATE TABLE t (id int NOT NULL);
CREATE UNIQUE INDEX t_id ON t (id);
CREATE COLLATION c1 (provider = libc, locale = 'C');
CREATE PUBLICATION some_tables FOR TABLE t;
CREATE FOREIGN DATA WRAPPER fdw_a;
CREATE FOREIGN DATA WRAPPER fdw_b;
CREATE SERVER s1 FOREIGN DATA WRAPPER fdw_a;
""", "DROP SERVER s1; DROP FOREIGN DATA WRAPPER fdw_b; DROP FOREIGN DATA WRAPPER fdw_a;\n"
     "DROP PUBLICATION some_tables; DROP COLLATION c1; DROP TABLE t;")
    api.up(settings)
    for statement in (
            # a collation in use cannot be dropped and made again: by hand
            "DROP COLLATION c1", "CREATE COLLATION c1 (provider = libc, locale = 'POSIX')",
            "DROP PUBLICATION some_tables", "CREATE PUBLICATION some_tables FOR ALL TABLES",
            "DROP SERVER s1", "CREATE SERVER s1 FOREIGN DATA WRAPPER fdw_b",
            "ALTER TABLE t REPLICA IDENTITY USING INDEX t_id", "DROP INDEX t_id"):
        query(statement)

    result = cli("create", "by hand", "--from-drift")
    assert result.returncode == 0, result.stderr
    assert "; 4 need SQL by hand (its TODO lines)" in result.stderr
    up, down = (settings.dir / "V002__by_hand.sql").read_text().split("-- pgshift:down\n")
    todo = [line.removeprefix("-- TODO: ") for line in up.splitlines()
            if line.startswith("-- TODO: ")]
    assert todo == [
        "foreign server s1: wrapper is 'fdw_b' in the database, was 'fdw_a' after the "
        "migrations",
        "collation public.c1: collcollate is 'POSIX' in the database, was 'C' after the "
        "migrations; collctype is 'POSIX' in the database, was 'C' after the migrations (what "
        "uses it keeps it: it cannot be dropped and made again)",
        "publication some_tables: FOR ALL TABLES in the database, not after the migrations "
        "(ALTER PUBLICATION cannot change that: drop it and make it again)",
        "table public.t: its replica identity in the database is an index that is gone (as "
        "NOTHING): set one"]
    assert [line.removeprefix("-- TODO: undo: ") for line in down.splitlines()
            if line.startswith("-- TODO: ")] == todo


def test_a_user_mappings_password_is_compared_but_never_shown_nor_written(
    settings, write_migration, query, cli
) -> None:
    write_migration("V001__fdw.sql", """
CREATE FOREIGN DATA WRAPPER pw_fdw;
CREATE SERVER pw FOREIGN DATA WRAPPER pw_fdw;
CREATE USER MAPPING FOR CURRENT_USER SERVER pw OPTIONS (user 'app', password 'hunter2-a');
""", "DROP USER MAPPING FOR CURRENT_USER SERVER pw; DROP SERVER pw; DROP FOREIGN DATA WRAPPER "
     "pw_fdw;")
    api.up(settings)
    query("ALTER USER MAPPING FOR CURRENT_USER SERVER pw OPTIONS (SET password 'hunter2-b')")
    query("CREATE USER MAPPING FOR PUBLIC SERVER pw OPTIONS (user 'guest', password 'hunter2-c')")

    drifted = cli("validate", "--schema-drift")
    assert drifted.returncode == 3
    assert ("user mapping for CURRENT_USER server pw: secrets differ (not shown)"
            in drifted.stdout)
    assert ("user mapping for PUBLIC server pw: present in the database, absent after the "
            "migrations") in drifted.stdout
    as_json = cli("validate", "--schema-drift", "--json")
    made = cli("create", "mappings", "--from-drift")
    assert made.returncode == 0, made.stderr
    text = (settings.dir / "V002__mappings.sql").read_text()
    for output in (drifted.stdout, drifted.stderr, as_json.stdout, made.stdout, made.stderr,
                   text):
        assert "hunter2" not in output
    up, down = text.split("-- pgshift:down\n")
    assert "CREATE USER MAPPING FOR PUBLIC SERVER pw OPTIONS (\"user\" 'guest');" in up
    assert "DROP USER MAPPING FOR PUBLIC SERVER pw;" in down
    todo = [line for line in up.splitlines() if line.startswith("-- TODO: ")]
    assert todo == [
        "-- TODO: user mapping for CURRENT_USER server pw: password differ; set by hand (ALTER "
        "USER MAPPING FOR CURRENT_USER SERVER pw OPTIONS (ADD, SET or DROP …)): a value that "
        "may be a password is never written",
        "-- TODO: user mapping for PUBLIC server pw: password differ; set by hand (ALTER USER "
        "MAPPING FOR PUBLIC SERVER pw OPTIONS (ADD, SET or DROP …)): a value that may be a "
        "password is never written"]
