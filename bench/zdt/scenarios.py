"""The migrations the harness runs under load: plain (unsafe) statements, recipes, backfills.

Each scenario is a function ``(url, workdir) -> rows`` that runs its migration on the database
at ``url`` and returns how many rows it updated (for backfills), else 0.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg2

from pgshift import api
from pgshift.backfill.options import parse_options
from pgshift.config import Settings
from pgshift.recipes import RecipeParams

Scenario = Callable[[str, Path], int]

BACKFILL_SET, BACKFILL_WHERE = "score = balance % 1000", "score IS NULL"


def _plain(statement: str) -> Scenario:
    def run(url: str, workdir: Path) -> int:
        conn = psycopg2.connect(url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(statement)
            rows = max(0, cur.rowcount)
        conn.close()
        return rows
    return run


def _settings(url: str, workdir: Path) -> Settings:
    return Settings(url=url, dir=workdir / "migrations", lint=False, lock_timeout=0.1,
                    lock_retries=30)


def _recipe(name: str, params: RecipeParams) -> Scenario:
    def run(url: str, workdir: Path) -> int:
        settings = _settings(url, workdir)
        api.create_recipe(settings, name, params)
        api.up(settings, allow_contract=True)
        return 0
    return run


# A partitioned parent for `accounts` to join: creating it touches nothing the app uses.
PARENT = ("CREATE TABLE accounts_all (LIKE accounts INCLUDING DEFAULTS) "
          "PARTITION BY RANGE (id)")
BOUNDS = "FROM (1) TO (1000000000000)"
BOUNDS_CHECK = "id IS NOT NULL AND id >= 1 AND id < 1000000000000"


def _with_parent(scenario: Scenario) -> Scenario:
    def run(url: str, workdir: Path) -> int:
        _plain(PARENT)(url, workdir)
        return scenario(url, workdir)
    return run


# Partitioning accounts by id: the rows are all below the cutoff, the app's new ids too.
CUTOFF, UNTIL = "1000000000", "2000000000"
PLAIN_PARTITION = f"""
CREATE TABLE accounts_p (LIKE accounts INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
  PARTITION BY RANGE (id);
CREATE TABLE accounts_next PARTITION OF accounts_p FOR VALUES FROM ({CUTOFF}) TO ({UNTIL});
ALTER TABLE accounts RENAME TO accounts_legacy;
ALTER TABLE accounts_p RENAME TO accounts;
ALTER TABLE accounts ATTACH PARTITION accounts_legacy FOR VALUES FROM (MINVALUE) TO ({CUTOFF});
"""


def _backfill(options: str) -> Scenario:
    def run(url: str, workdir: Path) -> int:
        result = api.backfill(_settings(url, workdir), "accounts", BACKFILL_SET, BACKFILL_WHERE,
                              options=parse_options(options))
        return result.rows
    return run


SCENARIOS: dict[str, tuple[str, Scenario]] = {
    "update-single": ("single UPDATE of every row (the ceiling)",
                      _plain(f"UPDATE accounts SET {BACKFILL_SET} WHERE {BACKFILL_WHERE}")),
    "backfill-1000": ("backfill, fixed 1,000-key batches",
                      _backfill("batch-size=1000 pause=0 vacuum=off")),
    "backfill-10000-pause20": ("backfill, fixed 10,000, 20 ms pause",
                               _backfill("batch-size=10000 pause=20ms vacuum=off")),
    "backfill-50000": ("backfill, fixed 50,000", _backfill("batch-size=50000 pause=0 vacuum=off")),
    "backfill-auto": ("backfill, adaptive (defaults)", _backfill("")),
    "backfill-auto-novacuum": ("backfill, adaptive, vacuum=off", _backfill("vacuum=off")),
    "plain-add-column-volatile": (
        "ADD COLUMN DEFAULT clock_timestamp() (rewrite)",
        _plain("ALTER TABLE accounts ADD COLUMN seen_at timestamptz DEFAULT clock_timestamp()")),
    "recipe-add-column-default": ("recipe add-column-default (clock_timestamp())", _recipe(
        "add-column-default", RecipeParams(table="accounts", column="seen_at",
                                           type="timestamptz", default="clock_timestamp()"))),
    "plain-create-index": ("CREATE INDEX", _plain("CREATE INDEX ON accounts (email)")),
    "recipe-add-index": ("recipe add-index (CONCURRENTLY)",
                         _recipe("add-index", RecipeParams(table="accounts", columns="email"))),
    "plain-add-check": ("ADD CHECK (validating)", _plain(
        "ALTER TABLE accounts ADD CONSTRAINT balance_ok CHECK (balance >= 0)")),
    "recipe-add-check": ("recipe add-check (NOT VALID + VALIDATE)", _recipe(
        "add-check", RecipeParams(table="accounts", check="balance >= 0"))),
    "plain-add-foreign-key": ("ADD FOREIGN KEY (validating)", _plain(
        "ALTER TABLE accounts ADD FOREIGN KEY (owner_id) REFERENCES owners (id)")),
    "recipe-add-foreign-key": ("recipe add-foreign-key (NOT VALID + VALIDATE)", _recipe(
        "add-foreign-key", RecipeParams(table="accounts", column="owner_id",
                                        references="owners(id)"))),
    "plain-set-not-null": ("SET NOT NULL", _plain(
        "ALTER TABLE accounts ALTER COLUMN region SET NOT NULL")),
    "recipe-set-not-null": ("recipe set-not-null (CHECK pattern)", _recipe(
        "set-not-null", RecipeParams(table="accounts", column="region"))),
    "recipe-add-enum": ("recipe add-enum", _recipe("add-enum", RecipeParams(
        table="accounts", column="tier", type="account_tier", values=("free", "pro"),
        default="free"))),
    "recipe-rename-column": ("recipe rename-column (all 3 steps)", _recipe(
        "rename-column", RecipeParams(table="accounts", column="note", new_column="memo"))),
    "recipe-change-column-type": ("recipe change-column-type text->int (all 3 steps)", _recipe(
        "change-column-type", RecipeParams(table="accounts", column="code", type="integer",
                                           new_column="code_int"))),
    "recipe-remove-column": ("recipe remove-column", _recipe(
        "remove-column", RecipeParams(table="accounts", column="legacy"))),
    "plain-attach-partition": ("ATTACH PARTITION (scans the table)", _with_parent(_plain(
        f"ALTER TABLE accounts_all ATTACH PARTITION accounts FOR VALUES {BOUNDS}"))),
    "recipe-attach-partition": ("recipe attach-partition (CHECK, VALIDATE, ATTACH)",
                                _with_parent(_recipe("attach-partition", RecipeParams(
                                    table="accounts_all", partition="accounts", bounds=BOUNDS,
                                    check=BOUNDS_CHECK)))),
    "plain-partition-table": ("partition by swap + ATTACH, one transaction (scans the table)",
                              _plain(PLAIN_PARTITION)),
    "recipe-partition-table": ("recipe partition-table (twin, CHECK, VALIDATE, swap)", _recipe(
        "partition-table", RecipeParams(table="accounts", column="id", cutoff=CUTOFF,
                                        until=UNTIL))),
}
