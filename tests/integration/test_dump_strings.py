"""``pgshift dump``: what pg_dump writes inside a string is the database's, kept as it is, and a
database in another encoding than UTF-8 is dumped too."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import psycopg2
import pytest
from psycopg2 import sql
from tests.fixtures.pg import _admin_connect, drop_database, url_with_dbname
from tests.fixtures.project import scalar

from pgshift import api

COMMENTED = (r"CREATE TABLE snippets (id int);" "\n"
             r"COMMENT ON TABLE snippets IS E'psql tips:\n\\dt lists tables\n\n\n\n\\q quits';")


def test_lines_of_a_string_that_start_with_a_backslash_stay_in_the_dump(
    settings, fresh, write_migration
) -> None:
    write_migration("V001__snippets.sql", COMMENTED, "DROP TABLE snippets;")
    api.up(settings)
    text = api.dump_schema(settings)
    assert "\\dt lists tables\n\n\n\n\\q quits';" in text
    conn = psycopg2.connect(fresh.url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(text)  # the dump runs, and builds the same comment
    conn.close()
    comment = "SELECT obj_description('snippets'::regclass)"
    assert scalar(fresh.url, comment) == scalar(settings.url, comment)


@pytest.fixture
def latin1_url(admin_url: str, query) -> Iterator[str]:
    name = f"{query('SELECT current_database()')[0][0]}_latin1"
    conn = _admin_connect(admin_url)
    with conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'LATIN1' "
                            "LC_COLLATE 'C' LC_CTYPE 'C'").format(sql.Identifier(name)))
    conn.close()
    yield url_with_dbname(admin_url, name)
    drop_database(admin_url, name)


def test_a_database_in_latin1_is_dumped_in_utf8(settings, latin1_url: str) -> None:
    conn = psycopg2.connect(latin1_url, client_encoding="UTF8")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE café (id int); COMMENT ON TABLE café IS 'crème brûlée'")
    conn.close()
    text = api.dump_schema(dataclasses.replace(settings, url=latin1_url))
    assert "SET client_encoding = 'UTF8';" in text
    assert "COMMENT ON TABLE public.\"café\" IS 'crème brûlée';" in text
