"""A no-transaction migration's progress: each plain statement carries its own row update, in
its own round trip and transaction (no crash can fall between the two); a statement that must
run alone still records its progress right after it; and no syntax tree is built for a data
load's statements."""

from __future__ import annotations

import pytest

from pgshift import api
from pgshift.errors import MigrationFailedError

NO_TX = "-- pgshift:no-transaction"
# Reads what the row said while the statement before it was done: its count, and the
# transaction that wrote it.
SEEN = ("CREATE TABLE seen AS SELECT statements_done, xmin::text AS writer "
        "FROM pgshift.history WHERE key = '1'")


def test_a_plain_statement_and_its_progress_commit_in_one_transaction(
    settings, write_migration, query
) -> None:
    write_migration("V1__load.sql", "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n"
                    + SEEN + ";", "DROP TABLE seen;\nDROP TABLE t;", header=NO_TX)
    api.up(settings)
    assert query("SELECT statements_done FROM seen") == [(2,)]
    assert query("SELECT writer FROM seen") == query("SELECT xmin::text FROM t")


def test_a_statement_that_must_run_alone_records_its_progress_after_it(
    settings, write_migration, query
) -> None:
    write_migration("V1__index.sql", "CREATE TABLE t (id int);\n"
                    "CREATE INDEX CONCURRENTLY t_id ON t (id);\n" + SEEN + ";",
                    "DROP TABLE seen;\nDROP TABLE t;", header=NO_TX)
    api.up(settings)
    assert query("SELECT statements_done FROM seen") == [(2,)]
    assert query("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_id'::regclass") == [
        (True,)]


def test_a_failed_statement_leaves_its_progress_unrecorded_and_the_run_resumes_there(
    settings, write_migration, query
) -> None:
    path = write_migration("V1__load.sql", "CREATE TABLE t (id int PRIMARY KEY);\n"
                           "INSERT INTO t VALUES (1);\nINSERT INTO t VALUES (1);\n"
                           "INSERT INTO t VALUES (3);", "DROP TABLE t;", header=NO_TX)
    with pytest.raises(MigrationFailedError) as raised:
        api.up(settings)
    assert raised.value.line == 4
    assert query("SELECT status, statements_done FROM pgshift.history") == [("running", 2)]
    path.write_text(path.read_text().replace("VALUES (1);\nINSERT INTO t VALUES (1)",
                                             "VALUES (1);\nINSERT INTO t VALUES (2)"))
    api.up(settings)
    assert query("SELECT id FROM t ORDER BY id") == [(1,), (2,), (3,)]
    assert query("SELECT status FROM pgshift.history") == [("applied",)]


def test_a_no_transaction_data_load_builds_no_syntax_tree(
    settings, write_migration, query, monkeypatch
) -> None:
    from pglast import parser

    parsed = []
    original = parser.parse_sql
    monkeypatch.setattr(parser, "parse_sql", lambda text: parsed.append(text) or original(text))
    rows = "".join(f"INSERT INTO t VALUES ({i}, 'row {i}');\n" for i in range(200))
    write_migration("V1__table.sql", "CREATE TABLE t (id int, name text);", "DROP TABLE t;")
    write_migration("V2__load.sql", rows, "DELETE FROM t;", header=NO_TX)
    api.up(settings)
    assert query("SELECT count(*) FROM t") == [(200,)]
    assert parsed == []
