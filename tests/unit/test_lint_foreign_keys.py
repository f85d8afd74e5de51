"""Foreign keys in the linter's schema: the table each references, read from DDL, and the
locks that follow from it (DROP TABLE, TRUNCATE … CASCADE, dropping a key or its column).

What PostgreSQL locks is checked on a real server by tests/integration/test_lint_claims_on_server;
these pin how the replay reads ``REFERENCES`` and what the rules and the lock model make of it.
"""

from __future__ import annotations

from pathlib import Path

from pgshift.lint.engine import Engine, prepare
from pgshift.lint.options import LintOptions
from pgshift.lint.rule import Violation
from pgshift.lint.schema import Schema

SCHEMA = """
CREATE TABLE parent (id integer PRIMARY KEY);
CREATE TABLE t (id integer PRIMARY KEY, parent_id integer REFERENCES parent);
CREATE TABLE g (id integer, t_id integer, CONSTRAINT g_t FOREIGN KEY (t_id) REFERENCES t);
CREATE TABLE lone (id integer);
"""
PATH = Path("V2__change.sql")


def replayed(sql: str = SCHEMA) -> Schema:
    schema = Schema()
    Engine(LintOptions()).replay(sql, Path("schema.sql"), schema, plain=True)
    return schema


def lint(sql: str, *rules: str, schema: str = SCHEMA
         ) -> tuple[list[Violation], list[tuple[str, str]]]:
    options = LintOptions(select=frozenset(rules) or None)
    locks: list[tuple[str, str]] = []
    found = Engine(options).lint_prepared(prepare(sql, PATH, options), PATH, replayed(schema),
                                          locks=locks)
    return found, locks


def locked(sql: str, schema: str = SCHEMA) -> set[str]:
    return {table for table, mode in lint(sql, "missing-lock-timeout", schema=schema)[1]
            if mode == "ACCESS EXCLUSIVE"}


def test_the_replay_records_the_table_each_foreign_key_references() -> None:
    schema = replayed(SCHEMA + """
        CREATE SCHEMA audit;
        CREATE TABLE audit.log (id integer, t_id integer);
        ALTER TABLE audit.log ADD CONSTRAINT log_t FOREIGN KEY (t_id) REFERENCES t NOT VALID;
        ALTER TABLE lone ADD COLUMN log_id integer REFERENCES audit.log (id);
    """)
    assert schema.tables["t"].constraints["t_parent_id_fkey"].references == "parent"
    assert schema.tables["g"].constraints["g_t"].references == "t"
    assert schema.tables["audit.log"].constraints["log_t"].references == "t"
    assert schema.tables["lone"].constraints["lone_log_id_fkey"].references == "audit.log"
    assert schema.tables["t"].constraints["t_pkey"].references == ""
    assert schema.referencing_tables("t") == ["g", "audit.log"]


def test_a_renamed_table_keeps_its_foreign_keys_and_a_dropped_one_takes_them_along() -> None:
    schema = replayed(SCHEMA + "ALTER TABLE t RENAME TO t2;")
    assert schema.tables["g"].constraints["g_t"].references == "t2"
    schema = replayed(SCHEMA + "DROP TABLE t CASCADE;")
    assert "g_t" not in schema.tables["g"].constraints


def test_drop_table_locks_the_tables_its_foreign_keys_reference() -> None:
    assert locked("DROP TABLE g;") == {"g", "t"}
    assert locked("DROP TABLE t, g;") == {"t", "g", "parent"}


def test_drop_table_cascade_also_locks_the_tables_that_reference_it() -> None:
    assert locked("DROP TABLE t CASCADE;") == {"t", "parent", "g"}
    assert locked("DROP TABLE parent CASCADE;") == {"parent", "t"}  # not g: only t's key goes


def test_a_table_referencing_itself_or_created_in_the_file_adds_no_lock_of_its_own() -> None:
    selfref = "CREATE TABLE tree (id integer PRIMARY KEY, up integer REFERENCES tree);"
    assert locked("DROP TABLE tree;", SCHEMA + selfref) == {"tree"}
    assert locked("CREATE TABLE n (id integer PRIMARY KEY);\n"
                  "CREATE TABLE m (n_id integer REFERENCES n);\nDROP TABLE n CASCADE;") == set()


def test_truncate_cascade_locks_every_table_referencing_it_recursively() -> None:
    assert locked("TRUNCATE parent CASCADE;") == {"parent", "t", "g"}
    assert locked("TRUNCATE parent;") == {"parent"}


def test_dropping_a_foreign_key_or_its_column_locks_the_referenced_table() -> None:
    assert locked("ALTER TABLE g DROP CONSTRAINT g_t;") == {"g", "t"}
    assert locked("ALTER TABLE g DROP COLUMN t_id;") == {"g", "t"}
    assert locked("ALTER TABLE g DROP COLUMN id;") == {"g"}


def test_drop_table_names_the_tables_foreign_keys_link_it_to() -> None:
    found, _ = lint("DROP TABLE t CASCADE;", "drop-table")
    assert found[0].message.endswith(
        "ACCESS EXCLUSIVE is taken on it and on parent, g (linked to it by foreign keys)")
    found, _ = lint("DROP TABLE lone;", "drop-table")
    assert found[0].message.endswith("ACCESS EXCLUSIVE is taken on it")
    found, _ = lint("DROP TABLE unseen;", "drop-table")  # its foreign keys are not known
    assert found[0].message.endswith("and on every table a foreign key links it to")


def test_truncate_cascade_names_the_tables_it_empties() -> None:
    found, _ = lint("TRUNCATE parent CASCADE;", "truncate-cascade")
    assert "also empties t, g and any other table that references it" in found[0].message
    found, _ = lint("TRUNCATE lone CASCADE;", "truncate-cascade")
    assert "also empties every table that references it" in found[0].message

