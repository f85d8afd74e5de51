"""verify looks into DO blocks and the functions its migrations create: what they run on a
database, a role or a tablespace of the server is refused before the replay, naming the line in
the body; what only reaches the scratch database (``current_database()``) is replayed."""

from __future__ import annotations

import re
import uuid

import pytest
from tests.integration.test_verify import SERVER_WIDE_STATE

from pgshift import api
from pgshift.errors import InputError

# A pending migration (V002) whose body runs a server-wide statement: its up part, the line
# named, and what the refusal says. {db}: the target's database; {old}, {other}: roles that
# were on the server before.
IN_BODIES = {
    "plpgsql function called by the migration": (
        "CREATE FUNCTION bump() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n"
        "  EXECUTE 'ALTER ROLE ' || quote_ident('{old}') || ' SET work_mem = ''7MB''';\n"
        "END $$;\nSELECT bump();", 3, "function bump runs ALTER ROLE {old}"),
    "sql function": (
        "CREATE FUNCTION mem() RETURNS void LANGUAGE sql AS $$\n"
        "  ALTER DATABASE {db} SET work_mem = '7MB'\n$$;\nSELECT mem();",
        2, "function mem runs ALTER DATABASE {db}"),
    "trigger function the migration never names": (
        "CREATE TABLE t (id int);\n"
        "CREATE FUNCTION t_grant() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
        "  GRANT {old} TO {other};\n  RETURN NEW;\nEND $$;\n"
        "CREATE TRIGGER t_grant BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION t_grant();\n"
        "INSERT INTO t VALUES (1);", 4, "function t_grant runs GRANT {old} TO {other}"),
    "procedure": (
        "CREATE PROCEDURE cap() LANGUAGE plpgsql AS $$ BEGIN\n"
        "  ALTER ROLE {old} CONNECTION LIMIT 3; END $$;\nCALL cap();",
        2, "procedure cap runs ALTER ROLE {old}"),
    "database named in format()": (
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET work_mem = ''7MB''', '{db}'); "
        "END $$;", 1, "a DO block runs ALTER DATABASE {db}"),
    "role name from a variable": (
        "DO $$\nDECLARE r text := '{old}';\nBEGIN\n"
        "  EXECUTE 'ALTER ROLE ' || r || ' SET work_mem = ''7MB''';\nEND $$;",
        4, "a DO block runs SQL built at run time that says ALTER ROLE"),
    "keyword from a variable": (
        "DO $$\nDECLARE k text := 'DATABASE';\nBEGIN\n"
        "  EXECUTE format('ALTER %s %I SET work_mem = ''7MB''', k, '{db}');\nEND $$;",
        4, "a DO block runs SQL built at run time that says DATABASE"),
    "sql passed to a function that runs it": (
        "CREATE FUNCTION run_sql(q text) RETURNS void LANGUAGE plpgsql AS $$\n"
        "BEGIN EXECUTE q; END $$;\n"
        "SELECT run_sql('ALTER DATABASE {db} SET work_mem = ''7MB''');",
        3, "a call that passes 'ALTER DATABASE'"),
    "function made by a DO block": (
        "DO $do$ BEGIN\n  CREATE FUNCTION later() RETURNS void LANGUAGE sql\n"
        "    AS 'ALTER ROLE {old} SET work_mem = ''7MB''';\nEND $do$;\nSELECT later();",
        2, "a DO block runs function later runs ALTER ROLE {old}"),
}


@pytest.mark.parametrize("case", list(IN_BODIES))
def test_a_server_wide_statement_in_a_do_block_or_function_body_is_refused_at_its_line(
    settings, write_migration, query, old_roles, migrations_dir, case: str
) -> None:
    db = query("SELECT current_database()")[0][0]
    up, line, what = (text.format(db=db, old=old_roles[0], other=old_roles[1])
                      if isinstance(text, str) else text for text in IN_BODIES[case])
    write_migration("V001__t.sql", "CREATE TABLE base (id int);", "DROP TABLE base;")
    api.up(settings)
    write_migration("V002__body.sql", up, "SELECT 1;")
    before = query(SERVER_WIDE_STATE)
    refusal = rf"^V002__body\.sql:{line}: {re.escape(what)}: databases, roles and tablespaces "
    with pytest.raises(InputError, match=refusal + "belong to the whole server") as raised:
        api.verify(settings)
    assert (raised.value.path, raised.value.line) == (
        str(migrations_dir / "V002__body.sql"), line)
    assert "--embedded" in (raised.value.hint or "")
    assert query(SERVER_WIDE_STATE) == before
    assert [m.name for m in api.status(settings).pending()] == ["V002__body.sql"]


# Bodies that only reach the database they run in (the scratch one), or no server-wide
# object at all: replayed, and the server is as it was.
SCRATCH_ONLY = {
    "setting of current_database() via format()": (
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET work_mem = ''7MB''', "
        "current_database()); END $$;",
        "DO $$ BEGIN EXECUTE 'ALTER DATABASE ' || quote_ident(current_database()) "
        "|| ' RESET work_mem'; END $$;"),
    "function setting current_database()": (
        "CREATE FUNCTION tz() RETURNS void LANGUAGE plpgsql AS $$ BEGIN\n"
        "  EXECUTE 'ALTER DATABASE ' || current_database() || ' SET timezone = ''UTC''';\n"
        "END $$;\nSELECT tz();",
        "DROP FUNCTION tz();\nDO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET timezone', "
        "current_database()); END $$;"),
    "table privileges granted to an old role": (
        "CREATE TABLE t (id int);\nDO $$ BEGIN EXECUTE format('GRANT SELECT ON %I TO %I', "
        "'t', '{old}'); END $$;", "DROP TABLE t;"),
    "a comment that names ALTER DATABASE": (
        "DO $$ BEGIN\n  -- no ALTER DATABASE here, nor GRANT x TO y\n"
        "  CREATE TABLE t (id int);\nEND $$;", "DROP TABLE t;"),
    "a role the body makes, then alters": (
        "DO $$ BEGIN\n  CREATE ROLE {new} NOLOGIN;\n  ALTER ROLE {new} SET work_mem = '7MB';\n"
        "END $$;", "DROP ROLE {new};"),
}


@pytest.mark.parametrize("case", list(SCRATCH_ONLY))
def test_a_body_that_only_reaches_the_scratch_database_is_replayed_and_changes_nothing(
    settings, write_migration, query, old_roles, case: str
) -> None:
    new = f"verify_new_{uuid.uuid4().hex[:8]}"
    up, down = (text.format(old=old_roles[0], new=new) for text in SCRATCH_ONLY[case])
    write_migration("V001__body.sql", up, down)
    before = query(SERVER_WIDE_STATE)
    report = api.verify(settings)
    assert report.ok, report.failures()
    assert query(SERVER_WIDE_STATE) == before
    assert query("SELECT count(*) FROM pg_roles WHERE rolname = %s", new) == [(0,)]
