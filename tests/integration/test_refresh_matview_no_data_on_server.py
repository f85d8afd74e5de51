"""What refresh-matview-non-concurrent says of WITH NO DATA, shown on a real server."""

from __future__ import annotations

import psycopg2
import psycopg2.errors
import pytest

VIEW = ("CREATE MATERIALIZED VIEW totals AS SELECT 1 AS id;\n"
        "CREATE UNIQUE INDEX totals_id ON totals (id);")


@pytest.fixture
def conn(database_url: str):
    connection = psycopg2.connect(database_url)
    connection.autocommit = True
    with connection.cursor() as cur:
        cur.execute(VIEW)
    yield connection
    connection.close()


def test_postgresql_refuses_concurrently_with_no_data(conn) -> None:
    """When it runs the statement (SQLSTATE 42601), though the parser accepts it."""
    with conn.cursor() as cur, pytest.raises(psycopg2.errors.SyntaxError,
                                             match="cannot be used together"):
        cur.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY totals WITH NO DATA")


def test_after_with_no_data_reads_fail_until_a_plain_refresh(conn) -> None:
    with conn.cursor() as cur:
        cur.execute("REFRESH MATERIALIZED VIEW totals WITH NO DATA")
        with pytest.raises(psycopg2.errors.ObjectNotInPrerequisiteState,
                           match="has not been populated"):
            cur.execute("SELECT * FROM totals")
        with pytest.raises(psycopg2.errors.FeatureNotSupported, match="not populated"):
            cur.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY totals")
        cur.execute("REFRESH MATERIALIZED VIEW totals")
        cur.execute("SELECT id FROM totals")
        assert cur.fetchall() == [(1,)]
