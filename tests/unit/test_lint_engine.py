"""The lint engine: positions, DO blocks, function bodies, inline ignores, syntax errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgshift.errors import ConfigError, InputError
from pgshift.lint.engine import Engine
from pgshift.lint.options import LintOptions
from pgshift.lint.rule import Violation
from pgshift.lint.schema import Schema

PATH = Path("V7__change.sql")


def lint(sql: str, **options: object) -> list[Violation]:
    return Engine(LintOptions(**options)).lint(sql, PATH, Schema())  # type: ignore[arg-type]


def rules(found: list[Violation]) -> list[str]:
    return [v.rule for v in found]


def test_finding_points_at_the_first_token_of_its_statement() -> None:
    sql = "-- add an index\n\n   CREATE INDEX i ON t (a);\nSELECT 1;  DROP TABLE users;\n"
    found = lint(sql)
    assert [(v.rule, v.line, v.column) for v in found] == [
        ("create-index-non-concurrent", 3, 4), ("drop-table", 4, 12)]
    assert all(v.path == PATH for v in found)


def test_columns_count_characters_not_bytes() -> None:
    found = lint("SELECT 'ünïcödé';  DROP TABLE t;")
    assert (found[0].line, found[0].column) == (1, 20)


def test_ddl_inside_a_do_block_is_linted_at_its_own_line() -> None:
    sql = ("DO $body$\nBEGIN\n  IF true THEN\n    CREATE INDEX i ON t (a);\n  END IF;\n"
           "END\n$body$;\n")
    found = lint(sql)
    assert [(v.rule, v.line, v.column) for v in found] == [("create-index-non-concurrent", 4, 5)]


def test_execute_of_a_literal_in_a_do_block_is_linted() -> None:
    found = lint("DO $$ BEGIN EXECUTE 'DROP TABLE legacy'; END $$;")
    assert rules(found) == ["drop-table"]


def test_sql_in_function_bodies_comments_and_strings_is_not_linted() -> None:
    sql = (
        "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN DROP TABLE a; END $$;\n"
        "/* DROP TABLE b; */ -- DROP TABLE c;\n"
        "SELECT 'DROP TABLE d';\n"
        "CREATE PROCEDURE p() LANGUAGE sql AS $$ DELETE FROM e $$;\n"
    )
    assert lint(sql) == []


def test_dynamic_sql_built_at_run_time_is_not_guessed() -> None:
    assert lint("DO $$ BEGIN EXECUTE format('DROP TABLE %I', 'x'); END $$;") == []


def test_inline_ignore_suppresses_only_the_next_statement() -> None:
    sql = ("-- pgshift:ignore drop-table -- archived in ticket 42\n"
           "DROP TABLE a;\nDROP TABLE b;\n")
    found = lint(sql)
    assert [(v.rule, v.line) for v in found] == [("drop-table", 3)]


def test_inline_ignore_lists_several_rules() -> None:
    sql = ("-- pgshift:ignore create-index-non-concurrent, missing-lock-timeout -- tiny table\n"
           "CREATE INDEX i ON countries (name);\n")
    assert lint(sql, runner="psql") == []


def test_unused_ignore_is_reported_at_the_comment() -> None:
    sql = "SELECT 1;\n  -- pgshift:ignore drop-table\nALTER TABLE t ADD COLUMN a int;\n"
    found = lint(sql)
    assert [(v.rule, v.severity, v.line, v.column) for v in found] == [
        ("unused-ignore", "warning", 2, 3)]


def test_ignore_of_an_unknown_rule_is_reported() -> None:
    found = lint("-- pgshift:ignore drop-tabel\nDROP TABLE t;\n")
    assert sorted(rules(found)) == ["drop-table", "unused-ignore"]
    assert "unknown rule" in next(v.message for v in found if v.rule == "unused-ignore")


def test_an_ignore_cannot_suppress_a_statement_postgresql_refuses_in_a_transaction() -> None:
    """pgshift up refuses the file; lint must not pass it."""
    sql = ("-- pgshift:ignore concurrently-in-transaction -- we know\n"
           "CREATE INDEX CONCURRENTLY i ON t (a);\n")
    found = lint(sql)
    assert sorted(rules(found)) == ["concurrently-in-transaction", "unused-ignore"]
    assert "cannot suppress it" in next(v.message for v in found if v.rule == "unused-ignore")


def test_a_statement_postgresql_refuses_in_a_transaction_is_found_whatever_the_selection(
) -> None:
    found = lint("CREATE INDEX CONCURRENTLY i ON t (a);\n", select=frozenset({"drop-table"}))
    assert rules(found) == ["concurrently-in-transaction"]
    with pytest.raises(ConfigError, match="cannot be ignored"):
        lint("SELECT 1;", ignore=frozenset({"concurrently-in-transaction"}))
    assert rules(lint("CREATE INDEX CONCURRENTLY i ON t (a);\n", ignore=frozenset({"tier-a"}))
                 ) == ["concurrently-in-transaction"]


def test_syntax_error_is_an_input_error_with_the_parser_position() -> None:
    with pytest.raises(InputError) as caught:
        lint("SELECT 1;\nALTER TABLE t ADD COLUMN;\n")
    error = caught.value
    assert (error.line, error.path) == (2, str(PATH))
    assert 'syntax error at or near ";"' in error.message and "column 25" in error.message


def test_only_the_up_part_of_a_pgshift_migration_is_linted() -> None:
    sql = "CREATE TABLE t (id bigint);\n-- pgshift:down\nDROP TABLE t;\nDROP TABLE users;\n"
    assert lint(sql) == []


def test_psql_meta_commands_do_not_stop_a_psql_file_from_being_linted() -> None:
    sql = "\\set ON_ERROR_STOP on\nSET lock_timeout = '1s';\nDROP TABLE t;\n"
    assert rules(lint(sql, runner="psql")) == ["drop-table"]


def test_a_meta_command_ending_a_line_of_sql_ends_its_statement_as_psql_does() -> None:
    """``SELECT … \\gexec`` (the create-if-missing idiom) and ``\\gset`` send the query; a
    backslash in a string, a quoted name, a comment or a function body is not a command."""
    sql = ("\\set ON_ERROR_STOP on\n"
           "SELECT 'CREATE DATABASE app' WHERE NOT EXISTS (SELECT FROM pg_database) \\gexec\n"
           "SELECT count(*) AS n FROM users \\gset\n"
           "SELECT E'a\\'b\\n', 'c:\\path', \"odd\\name\" \\g\n"
           "/* \\x */ CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT '\\' $$;\n"
           "SET lock_timeout = '1s' \\; DROP TABLE t;\n")
    found = lint(sql, runner="psql")
    assert [(v.rule, v.line, v.column) for v in found] == [("drop-table", 6, 28)]


def test_the_rows_of_a_copy_from_stdin_in_a_psql_file_are_data_not_sql() -> None:
    sql = ("SET lock_timeout = '1s';\nCOPY t (id, name) FROM stdin;\n1\tone; DROP TABLE x\n"
           "2\t\\N\n\\.\nDROP TABLE t;\n")
    found = lint(sql, runner="psql")
    assert rules(found) == ["drop-table"] and found[0].line == 6


def test_tier_b_rules_run_only_when_selected() -> None:
    sql = "CREATE TABLE t (id serial, at timestamp);\n"
    assert lint(sql) == []
    found = lint(sql, select=frozenset({"tier-b"}))
    assert {"prefer-bigint", "prefer-identity", "prefer-timestamptz"} <= set(rules(found))


def test_ignore_option_removes_a_rule() -> None:
    assert lint("DROP TABLE t;", ignore=frozenset({"drop-table"})) == []


def test_every_finding_says_what_breaks_and_the_safe_way() -> None:
    found = lint("ALTER TABLE users ADD COLUMN id bigserial PRIMARY KEY;", runner="psql")
    assert {"add-column-serial-or-identity", "add-primary-key-without-index",
            "missing-lock-timeout"} <= set(rules(found))
    for violation in found:
        assert "ACCESS EXCLUSIVE" in violation.message
        assert violation.hint


def test_schema_state_flows_from_one_file_to_the_next() -> None:
    engine = Engine(LintOptions())
    schema = Schema()
    engine.lint("CREATE TABLE t (id int, name varchar(10));", Path("V1__a.sql"), schema)
    found = engine.lint("ALTER TABLE t ALTER COLUMN name TYPE varchar(20);\n"
                        "ALTER TABLE t ALTER COLUMN id TYPE bigint;", Path("V2__b.sql"), schema)
    assert [(v.rule, v.line) for v in found] == [("alter-column-type-rewrite", 2)]
    assert "integer to bigint" in found[0].message


@pytest.mark.parametrize(("sql", "recipe"), [
    ("CREATE INDEX i ON t (a);", "add-index"),
    ("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);", "add-check"),
    ("ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES u (id);", "add-foreign-key"),
    ("ALTER TABLE t ALTER COLUMN a SET NOT NULL;", "set-not-null"),
    ("ALTER TABLE t ADD COLUMN c timestamptz DEFAULT clock_timestamp();", "add-column-default"),
    ("ALTER TABLE t ALTER COLUMN a TYPE bigint;", "change-column-type"),
    ("ALTER TABLE t RENAME COLUMN a TO b;", "rename-column"),
    ("ALTER TABLE t DROP COLUMN a;", "remove-column"),
    ("ALTER TABLE p ATTACH PARTITION q FOR VALUES IN (1);", "attach-partition"),
    ("DROP TABLE t;", "remove-table"),
])
def test_a_finding_a_recipe_fixes_names_the_recipe(sql: str, recipe: str) -> None:
    [finding] = [v for v in lint(sql) if v.severity == "error"]
    assert finding.hint.endswith(f"('pgshift create --recipe {recipe}' writes it)")


def test_a_table_made_in_the_file_is_no_longer_new_once_an_existing_one_is_attached() -> None:
    """After ATTACH PARTITION of a loaded table, the partitioned table holds its rows: a CHECK
    added to it scans them (as after partition-table's swap)."""
    sql = ("CREATE TABLE p (a int) PARTITION BY RANGE (a);\n"
           "ALTER TABLE p ATTACH PARTITION loaded FOR VALUES FROM (0) TO (10);\n"
           "ALTER TABLE p ADD CONSTRAINT positive CHECK (a >= 0);")
    assert "add-check-without-not-valid" in [v.rule for v in lint(sql)]
    fresh = sql.replace("ATTACH PARTITION loaded", "ATTACH PARTITION empty").replace(
        "CREATE TABLE p", "CREATE TABLE empty (a int);\nCREATE TABLE p")
    assert "add-check-without-not-valid" not in [v.rule for v in lint(fresh)]


def test_a_new_partition_of_an_existing_table_is_a_warning_naming_add_partition() -> None:
    [finding] = lint("CREATE TABLE q PARTITION OF p FOR VALUES IN (2);")
    assert (finding.rule, finding.severity) == ("create-partition-of", "warning")
    assert finding.hint.endswith("('pgshift create --recipe add-partition' writes it)")


def test_no_recipe_is_named_where_it_would_not_work() -> None:
    """The add-index recipe builds CONCURRENTLY, which a partitioned parent refuses; the
    set-not-null recipe relies on PostgreSQL 12 skipping the scan."""
    parent = Schema()
    Engine(LintOptions()).lint("CREATE TABLE p (a int) PARTITION BY RANGE (a);", PATH, parent)
    [index] = Engine(LintOptions()).lint("CREATE INDEX i ON p (a);", PATH, parent)
    assert "--recipe" not in index.hint
    [old] = lint("ALTER TABLE t ALTER COLUMN a SET NOT NULL;", pg_version=11)
    assert "--recipe" not in old.hint


@pytest.mark.parametrize("sql", [
    "VACUUM t", "VACUUM (ANALYZE) t", "ANALYZE t", "CREATE DATABASE d", "DROP DATABASE d",
    "ALTER SYSTEM SET work_mem = '1MB'", "CREATE TABLESPACE s LOCATION '/x'",
    "DROP TABLESPACE s", "REINDEX SYSTEM d", "REINDEX DATABASE d", "REINDEX TABLE t",
    "REINDEX (CONCURRENTLY) INDEX i", "DISCARD ALL", "DISCARD PLANS",
    "ALTER DATABASE d SET TABLESPACE s", "ALTER DATABASE d SET work_mem = '1MB'",
    "CREATE INDEX CONCURRENTLY i ON t (a)", "DROP INDEX CONCURRENTLY i", "CREATE INDEX i ON t (a)",
    "ALTER TABLE p DETACH PARTITION c CONCURRENTLY", "ALTER TABLE p DETACH PARTITION c",
])
def test_the_linter_refuses_in_a_transaction_what_up_refuses(sql: str) -> None:
    """concurrently-in-transaction knows the statements pgshift up refuses in a transactional
    migration (``migrations.statements.needs_no_transaction``), on the linter's parse trees."""
    from pglast import parse_sql

    from pgshift.migrations.statements import needs_no_transaction

    refused = needs_no_transaction(parse_sql(sql)[0].stmt) is not None
    found = lint(sql + ";", select=frozenset({"concurrently-in-transaction"}))
    assert bool(found) == refused


def test_deeply_nested_expressions_are_linted_not_a_crash() -> None:
    """PostgreSQL's parser accepts expressions thousands of levels deep; so does the linter."""
    deep = "coalesce(" * 1500 + "random()" + ")" * 1500
    found = lint(f"SELECT 1;\nALTER TABLE users ADD COLUMN q int DEFAULT {deep};\n"
                 f"ALTER TABLE users ADD CONSTRAINT c CHECK ({'(' * 2000}q > 0{')' * 2000} AND "
                 f"{' AND '.join(f'(q <> {i} AND (q IS NOT NULL))' for i in range(2000))});\n")
    assert [(v.rule, v.line) for v in found] == [("add-column-volatile-default", 2),
                                                 ("add-check-without-not-valid", 3)]


def test_a_new_partition_says_the_default_partition_is_scanned_too() -> None:
    schema = Schema()
    Engine(LintOptions()).replay("CREATE TABLE e (a int) PARTITION BY RANGE (a);\n"
                                 "CREATE TABLE e_rest PARTITION OF e DEFAULT;\n", PATH, schema,
                                 plain=True)
    [finding] = Engine(LintOptions()).lint(
        "CREATE TABLE e_1 PARTITION OF e FOR VALUES FROM (0) TO (10);", PATH, schema)
    assert "scans e's DEFAULT partition e_rest" in finding.message
