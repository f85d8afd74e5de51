"""The scratch databases a benchmark makes on one server: each run gets a fresh, empty one, and
the ones made so far are dropped when asked (a thousand tables each would fill a small disk)."""

from __future__ import annotations

import contextlib
import os

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import make_dsn, parse_dsn


class ScratchDatabases:
    prefix = "bench"
    checkpoint = False  # flush each copy's writes now, not during the next timed run

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.counter = 0
        self.scratch: list[str] = []

    def admin(self, statement: sql.Composable) -> None:
        conn = psycopg2.connect(self.admin_url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(statement)
        conn.close()

    def fresh_database(self) -> str:
        self.counter += 1
        name = f"{self.prefix}_{os.getpid()}_{self.counter}"
        self.admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.scratch.append(name)
        if self.checkpoint:  # a role that may not CHECKPOINT gets noisier figures, still fair
            with contextlib.suppress(psycopg2.Error):
                self.admin(sql.SQL("CHECKPOINT"))
        params = parse_dsn(self.admin_url)
        params["dbname"] = name
        return make_dsn(**params)

    def drop_scratch(self) -> None:
        while self.scratch:
            self.admin(sql.SQL("DROP DATABASE {}").format(sql.Identifier(self.scratch.pop())))
