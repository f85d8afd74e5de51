"""verify on a scratch database: the seeded faults are each caught, a clean set passes."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import psycopg2
import pytest
from tests.fixtures.pg import explain_every_plan

from pgshift import api
from pgshift.config import Settings
from pgshift.errors import CheckFailedError, InputError
from pgshift.verify import VerifyOptions, VerifyReport

DATA = Path(__file__).resolve().parent.parent / "data" / "verify"


def settings_for(url: str, name: str, **values: object) -> Settings:
    """Settings for a migration set of tests/data/verify; lint off unless a test turns it on."""
    return Settings(url=url, dir=DATA / name / "migrations", **{"lint": False, **values})


def findings(report: VerifyReport, label: str) -> list[tuple[str, str, tuple[str, ...]]]:
    check = next(m for m in report.migrations if m.label == label)
    return [(f.kind, f.message, f.detail) for f in check.findings if f.is_failure]


def scratch_databases(url: str) -> list[str]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT datname FROM pg_database WHERE datname LIKE 'pgshift_verify_%'")
            return [row[0] for row in cur.fetchall()]
    finally:
        conn.close()


def test_clean_migration_set_passes_every_check(database_url: str) -> None:
    options = VerifyOptions(queries_file=DATA / "clean" / "queries.sql", with_data=True, rows=500)
    report = api.verify(settings_for(database_url, "clean", lint=True), options)
    assert report.ok, report.failures()
    assert report.notes == []  # linted, every query prepared, rows generated for every table
    assert [m.label for m in report.migrations] == ["V001", "V002", "V003"]
    assert all(m.up_ms is not None and m.down_ms is not None for m in report.migrations)
    assert report.queries == 3


def test_verify_never_changes_the_target_and_drops_its_scratch_database(database_url: str
                                                                        ) -> None:
    before = scratch_databases(database_url)
    report = api.verify(settings_for(database_url, "clean"))
    assert report.ok
    assert api.status(settings_for(database_url, "clean")).pending()  # all still pending
    assert scratch_databases(database_url) == before


def test_down_that_forgets_an_index_fails_with_a_diff_naming_the_index(database_url: str
                                                                       ) -> None:
    report = api.verify(settings_for(database_url, "forgets_index"))
    assert not report.ok
    kind, message, detail = findings(report, "V002")[0]
    assert kind == "roundtrip"
    assert "down does not restore" in message
    assert any("index public.users_email_idx: present after down" in line for line in detail)
    assert findings(report, "V001") == []


def test_down_that_leaves_a_column_default_behind_fails(database_url: str) -> None:
    report = api.verify(settings_for(database_url, "leaves_default"))
    [(kind, _, detail)] = findings(report, "V002")
    assert kind == "roundtrip"
    assert detail == ("column public.orders.total: default is '0' after down, "
                      "was none before up",)


def test_a_column_added_back_last_is_a_note_not_a_failure(settings, write_migration) -> None:
    """PostgreSQL cannot add a column in place: a down that restores a dropped column can only
    put it last, so verify says so without failing the migration."""
    write_migration("V1__t.sql", "CREATE TABLE t (a int, b int NOT NULL DEFAULT 0, c text);",
                    "DROP TABLE t;")
    api.up(settings)
    write_migration("V2__drop_b.sql", "ALTER TABLE t DROP COLUMN b;",
                    "ALTER TABLE t ADD COLUMN b int NOT NULL DEFAULT 0;")
    report = api.verify(settings)
    assert report.ok
    [note] = report.migrations[0].findings
    assert (note.kind, note.is_failure) == ("column-order", False)
    assert note.detail == ("column public.t.b: position is 3 after down, was 2 before up",
                           "column public.t.c: position is 2 after down, was 3 before up")
    write_migration("V2__drop_b.sql", "ALTER TABLE t DROP COLUMN b;",
                    "ALTER TABLE t ADD COLUMN b int;")  # now NOT NULL and the default are lost
    assert not api.verify(settings).ok


def test_up_that_fails_after_its_down_is_reported_as_not_repeatable(database_url: str) -> None:
    report = api.verify(settings_for(database_url, "not_repeatable"))
    [(kind, message, detail)] = findings(report, "V002")
    assert kind == "repeatable"
    assert "up after down failed: duplicate key" in message
    assert "at V002__beta_flag.sql:2" in detail


def test_migration_over_its_budget_fails_and_names_the_budget(database_url: str) -> None:
    report = api.verify(settings_for(database_url, "over_budget"))
    [(kind, message, _)] = findings(report, "V002")
    assert kind == "budget"
    assert message == "up ran over its 0.3s budget"
    assert findings(report, "V001") == []


def test_a_budget_of_0_is_none_for_verify_as_for_up(database_url: str) -> None:
    report = api.verify(settings_for(database_url, "clean", timeout=0.0))
    assert report.ok and all(m.budget_s == float("inf") for m in report.migrations)


def test_dropped_column_still_used_by_a_query_is_a_compatibility_break(database_url: str
                                                                       ) -> None:
    options = VerifyOptions(queries_file=DATA / "compat" / "queries.sql")
    report = api.verify(settings_for(database_url, "compat"), options)
    broken = findings(report, "V002")
    assert ("compat", "query no longer prepares: queries.sql:3: SELECT nickname FROM users "
            "WHERE email = $1", ('ERROR: column "nickname" does not exist [42703]',)) in broken


def test_select_star_prepared_before_add_column_fails_after_it(database_url: str) -> None:
    options = VerifyOptions(queries_file=DATA / "compat" / "queries.sql")
    report = api.verify(settings_for(database_url, "compat"), options)
    [(kind, message, detail)] = findings(report, "V003")
    assert kind == "compat"
    assert "prepared before the migration fails after it" in message
    assert "SELECT * FROM users" in message
    assert detail[0] == "ERROR: cached plan must not change result type [0A000]"


def test_index_drop_that_turns_an_index_scan_into_a_seq_scan_is_flagged(database_url: str
                                                                        ) -> None:
    options = VerifyOptions(queries_file=DATA / "index_drop" / "queries.sql", with_data=True,
                            rows=2000)
    report = api.verify(settings_for(database_url, "index_drop"), options)
    [(kind, message, detail)] = findings(report, "V002")
    assert kind == "plan"
    assert "lost index scan on users_email_idx (now seq scan on users)" in message
    assert detail[0].startswith("before: cost") and "index users_email_idx" in detail[0]


def test_data_script_loads_sample_rows_on_the_replayed_schema(database_url: str) -> None:
    api.up(settings_for(database_url, "index_drop"), to="1")
    options = VerifyOptions(queries_file=DATA / "index_drop" / "queries.sql", with_data=True,
                            data_script=DATA / "index_drop" / "data.sql")
    report = api.verify(settings_for(database_url, "index_drop"), options)
    assert report.replayed == ["V001__create_users.sql"]
    [(kind, _, detail)] = findings(report, "V002")
    assert kind == "plan"
    assert "seq scan on users" in detail[1]


def test_only_pending_migrations_are_checked_after_replaying_the_applied_ones(
        database_url: str) -> None:
    api.up(settings_for(database_url, "forgets_index"), to="1")
    report = api.verify(settings_for(database_url, "forgets_index"))
    assert report.replayed == ["V001__create_users.sql"]
    assert [m.label for m in report.migrations] == ["V002"]


def test_from_url_starts_from_a_schema_only_copy_of_that_database(database_url: str) -> None:
    api.up(settings_for(database_url, "leaves_default"), to="1")
    options = VerifyOptions(source_url=database_url)
    report = api.verify(settings_for(database_url, "leaves_default"), options)
    assert report.copied_from  # where the schema came from, without a password
    assert report.replayed == ["V001__create_users.sql"]
    assert [m.label for m in report.migrations] == ["V002"]
    assert findings(report, "V002")[0][0] == "roundtrip"


def test_irreversible_migration_is_noted_not_failed(database_url: str, tmp_path: Path) -> None:
    (tmp_path / "V001__t.sql").write_text("-- pgshift:irreversible\nCREATE TABLE t (id int);\n")
    report = api.verify(Settings(url=database_url, dir=tmp_path, lint=False))
    assert report.ok
    assert [f.kind for f in report.migrations[0].findings] == ["irreversible"]


@pytest.mark.parametrize("name", ["clean"])
def test_report_json_lists_each_migration_with_durations(database_url: str, name: str) -> None:
    report = api.verify(settings_for(database_url, name))
    data = report.as_json()
    assert data["ok"] is True and data["failures"] == 0
    assert [m["migration"] for m in data["migrations"]] == ["V001", "V002", "V003"]
    assert all(m["up_ms"] is not None and m["budget_s"] == 600 for m in data["migrations"])


def test_queries_from_stats_checks_the_statements_the_application_ran(pg_server_factory) -> None:
    server = pg_server_factory(settings={"shared_preload_libraries": "pg_stat_statements"})
    settings = settings_for(server.url, "compat")
    api.up(settings, to="1")
    conn = psycopg2.connect(server.url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE EXTENSION pg_stat_statements")
        for email in ("a@example.com", "b@example.com"):
            cur.execute("SELECT nickname FROM users WHERE email = %s", (email,))
    conn.close()
    report = api.verify(settings, VerifyOptions(queries_from_stats=server.url))
    assert report.queries == 1
    [(kind, message, _)] = findings(report, "V002")
    assert kind == "compat"
    assert message == ("query no longer prepares: pg_stat_statements #1: "
                       "SELECT nickname FROM users WHERE email = $1")


def test_queries_from_stats_without_the_extension_is_an_input_error(database_url: str) -> None:
    from pgshift.errors import InputError

    with pytest.raises(InputError, match="pg_stat_statements is not installed"):
        api.verify(settings_for(database_url, "clean"),
                   VerifyOptions(queries_from_stats=database_url))


def test_lint_error_in_a_pending_migration_fails_verify(database_url: str, tmp_path: Path
                                                        ) -> None:
    (tmp_path / "V001__users.sql").write_text(
        "CREATE TABLE users (id int PRIMARY KEY, email text);\n"
        "-- pgshift:down\nDROP TABLE users;\n")
    (tmp_path / "V002__index.sql").write_text(
        "CREATE INDEX users_email_idx ON users (email);\n"
        "-- pgshift:down\nDROP INDEX users_email_idx;\n")
    api.up(Settings(url=database_url, dir=tmp_path, lint=False), to="1")
    report = api.verify(Settings(url=database_url, dir=tmp_path))
    [(kind, message, detail)] = findings(report, "V002")
    assert kind == "lint"
    assert message.startswith("create-index-non-concurrent: ")
    assert detail == ("V002__index.sql:1",)


def test_schema_snapshots_are_read_without_jit_in_a_transaction_they_end(
    database_url: str,
) -> None:
    """A snapshot is taken before and after each step of a round trip: on a big or churned
    catalog, JIT-compiling its reads would cost more than running them."""
    from pgshift.verify.snapshot import take_snapshot

    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE users (id int PRIMARY KEY, email text)")
    jit_available = explain_every_plan(conn)
    snapshot = take_snapshot(conn)
    assert any("users" in name for name in snapshot["table"])
    plans = "".join(conn.notices)
    assert "Query Text" in plans and "JIT:" not in plans
    with conn.cursor() as cur:
        cur.execute("SELECT current_setting('jit'), current_setting('search_path'),"
                    " pg_current_xact_id_if_assigned(), now() = statement_timestamp()")
        assert cur.fetchone() == ("on", '"$user", public', None, True)
    conn.close()
    if not jit_available:
        pytest.skip("this server has no JIT (llvmjit): the reads were checked, not the JIT")


def test_a_snapshot_inside_a_callers_transaction_leaves_it_as_it_was(database_url: str) -> None:
    from pgshift.verify.snapshot import take_snapshot

    conn = psycopg2.connect(database_url)  # not autocommit: a library user's transaction
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE drafts (id int)")
        snapshot = take_snapshot(conn)
        assert any("drafts" in name for name in snapshot["table"])
        cur.execute("SELECT current_setting('search_path'), current_setting('jit'), "
                    "to_regclass('drafts') IS NOT NULL")
        assert cur.fetchone() == ('"$user", public', "on", True)
    conn.rollback()  # the caller's own work was still uncommitted: it goes with its rollback
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('drafts')")
        assert cur.fetchone() == (None,)
    conn.close()


def test_roles_a_migration_creates_are_gone_after_verify_and_schema_drift(
    settings, write_migration, query
) -> None:
    role = f"verify_reader_{uuid.uuid4().hex[:8]}"
    write_migration("V001__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    write_migration("V002__role.sql", f'CREATE ROLE "{role}" NOLOGIN;',
                    f'DROP ROLE "{role}";')
    assert api.verify(settings).ok
    assert query("SELECT count(*) FROM pg_roles WHERE rolname = %s", role) == [(0,)]
    api.up(settings)  # the role exists on the server now: a replay there cannot make it again
    with pytest.raises(CheckFailedError, match="already exists") as raised:
        api.schema_drift(settings)
    assert "pass --embedded" in (raised.value.hint or "")
    query(f'DROP ROLE "{role}"')


SERVER_WIDE_STATE = """
    SELECT (SELECT coalesce(array_agg(s.setdatabase || ':' || s.setrole || ':'
                                      || array_to_string(s.setconfig, ',') ORDER BY 1), '{}')
              FROM pg_db_role_setting s),
           (SELECT coalesce(array_agg(m.roleid || ':' || m.member ORDER BY 1), '{}')
              FROM pg_auth_members m),
           (SELECT coalesce(array_agg(c.objoid || ':' || c.description ORDER BY 1), '{}')
              FROM pg_shdescription c),
           (SELECT coalesce(array_agg(d.datname || ':' || coalesce(d.datacl::text, '-')
                                      ORDER BY 1), '{}') FROM pg_database d),
           (SELECT coalesce(array_agg(r.rolname || ':' || r.rolconnlimit ORDER BY 1), '{}')
              FROM pg_roles r)
"""

# Statements a pending migration may hold that reach past any one database: {db} is the
# target's, {old} and {other} are roles that were on the server before.
SERVER_WIDE = {
    "database setting": ("ALTER DATABASE {db} SET work_mem = '7MB';",
                         "ALTER DATABASE {db} RESET work_mem;", "ALTER DATABASE {db}"),
    "database timeout": ("ALTER DATABASE {db} SET statement_timeout = '1ms';",
                         "ALTER DATABASE {db} RESET statement_timeout;", "ALTER DATABASE {db}"),
    "database comment": ("COMMENT ON DATABASE {db} IS 'shop';",
                         "COMMENT ON DATABASE {db} IS NULL;", "COMMENT ON DATABASE {db}"),
    "database grant": ("REVOKE CONNECT ON DATABASE {db} FROM PUBLIC;",
                       "GRANT CONNECT ON DATABASE {db} TO PUBLIC;", "GRANT ON DATABASE {db}"),
    "role setting": ("ALTER ROLE {old} SET work_mem = '7MB';", "ALTER ROLE {old} RESET work_mem;",
                     "ALTER ROLE {old}"),
    "role attribute": ("ALTER ROLE {old} CONNECTION LIMIT 3;",
                       "ALTER ROLE {old} CONNECTION LIMIT -1;", "ALTER ROLE {old}"),
    "membership": ("GRANT {old} TO {other};", "REVOKE {old} FROM {other};",
                   "GRANT {old} TO {other}"),
    "alter system": ("ALTER SYSTEM SET work_mem = '7MB';",
                     "ALTER SYSTEM RESET work_mem;", "ALTER SYSTEM"),
    "do block": ("DO $$ BEGIN EXECUTE 'ALTER DATABASE {db} SET work_mem = ''7MB'''; END $$;",
                 "SELECT 1;", "a DO block runs ALTER DATABASE {db}"),
}


@pytest.mark.parametrize("case", list(SERVER_WIDE))
def test_a_pending_statement_on_the_server_is_refused_before_the_replay_and_changes_nothing(
    settings, write_migration, query, old_roles, migrations_dir, case: str
) -> None:
    db = query("SELECT current_database()")[0][0]
    up, down, what = (text.format(db=db, old=old_roles[0], other=old_roles[1])
                      for text in SERVER_WIDE[case])
    write_migration("V001__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    api.up(settings)
    header = "-- pgshift:no-transaction" if case == "alter system" else ""
    write_migration("V002__server.sql", f"SELECT 1;\n{up}", down, header=header)
    before = query(SERVER_WIDE_STATE)
    with pytest.raises(InputError, match=rf"sql:\d+: {re.escape(what)}: databases, roles and "
                       "tablespaces belong to the whole server") as raised:
        api.verify(settings)
    assert (raised.value.path, raised.value.line) == (
        str(migrations_dir / "V002__server.sql"), 3 if header else 2)
    assert "--embedded" in (raised.value.hint or "")
    assert query(SERVER_WIDE_STATE) == before
    assert [m.name for m in api.status(settings).pending()] == ["V002__server.sql"]


def test_an_applied_statement_on_the_server_is_not_replayed_for_schema_drift(
    settings, write_migration, query
) -> None:
    db = query("SELECT current_database()")[0][0]
    write_migration("V001__setting.sql", f"ALTER DATABASE {db} SET work_mem = '7MB';",
                    f"ALTER DATABASE {db} RESET work_mem;")
    api.up(settings)
    query(f"ALTER DATABASE {db} SET work_mem = '9MB'")  # a replay would put back 7MB
    with pytest.raises(InputError, match=rf"sql:1: ALTER DATABASE {db}: databases, roles"):
        api.schema_drift(settings)
    assert query("SELECT setconfig FROM pg_db_role_setting s JOIN pg_database d "
                 "ON d.oid = s.setdatabase WHERE d.datname = %s", db) == [(["work_mem=9MB"],)]


def test_statements_on_roles_the_replay_creates_are_replayed_and_the_roles_dropped(
    settings, write_migration, query, old_roles
) -> None:
    role = f"verify_new_{uuid.uuid4().hex[:8]}"
    write_migration("V001__role.sql",
                    f"CREATE ROLE {role} NOLOGIN;\nALTER ROLE {role} SET work_mem = '7MB';\n"
                    f"COMMENT ON ROLE {role} IS 'readers';\nGRANT {old_roles[0]} TO {role};\n"
                    f"GRANT {role} TO {old_roles[1]};",
                    f"REVOKE {role} FROM {old_roles[1]};\nDROP ROLE {role};")
    before = query(SERVER_WIDE_STATE)
    report = api.verify(settings)
    assert report.ok, report.failures()
    assert query(SERVER_WIDE_STATE) == before


def test_with_embedded_the_scratch_database_takes_the_targets_name(
    settings, write_migration, query
) -> None:
    db = query("SELECT current_database()")[0][0]
    write_migration("V001__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    api.up(settings)
    write_migration("V002__setting.sql", f"ALTER DATABASE {db} SET statement_timeout = '1ms';",
                    f"ALTER DATABASE {db} RESET statement_timeout;")
    before = query(SERVER_WIDE_STATE)
    report = api.verify(settings, VerifyOptions(embedded=True))
    assert report.ok, report.failures()
    assert report.scratch == f"{db} on a throwaway server"
    assert query(SERVER_WIDE_STATE) == before


def test_with_embedded_a_database_the_throwaway_server_lacks_fails_saying_so(
    settings, write_migration
) -> None:
    write_migration("V001__setting.sql", "ALTER DATABASE elsewhere SET work_mem = '7MB';",
                    "ALTER DATABASE elsewhere RESET work_mem;")
    report = api.verify(settings, VerifyOptions(embedded=True))
    [(kind, message, detail)] = findings(report, "V001")
    assert kind == "failed"
    assert message.startswith('up failed: database "elsewhere" does not exist')
    assert "named like the target's database" in detail[-1]
