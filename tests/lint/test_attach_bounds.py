"""attach-partition-without-check agrees with PostgreSQL on when ATTACH PARTITION skips its scan.

Each scenario is run on the server: with ``client_min_messages = debug1`` PostgreSQL says
"partition constraint for table … is implied by existing constraints" when it skips the scan.
The rule may pass an ATTACH only when PostgreSQL skips the scan (never a false pass), and
passes the scenarios below whether the schema comes from replayed SQL or from the catalog.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import psycopg2
import pytest

from pgshift.lint.engine import Engine
from pgshift.lint.linter import lint_migrations
from pgshift.lint.options import LintOptions
from pgshift.lint.schema import Schema
from pgshift.migrations.model import Migration

RULE = "attach-partition-without-check"


YEAR = "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')"


class Scenario(NamedTuple):
    schema: str
    attach: str
    lint_passes: bool
    server_skips: bool  # what PostgreSQL does; lint_passes implies it


SCENARIOS = [
    Scenario("CREATE TABLE m1 (at timestamptz) PARTITION BY RANGE (at);"
             "CREATE TABLE m1_a (at timestamptz);"
             "ALTER TABLE m1_a ADD CHECK (at >= '2024-01-01' AND at < '2025-01-01');",
             "ALTER TABLE m1 ATTACH PARTITION m1_a " + YEAR,
             False, False),
    Scenario("CREATE TABLE m2 (at timestamptz) PARTITION BY RANGE (at);"
             "CREATE TABLE m2_a (at timestamptz);"
             "ALTER TABLE m2_a ADD CHECK (at IS NOT NULL AND at >= '2024-01-01' "
             "AND at < '2025-01-01');",
             "ALTER TABLE m2 ATTACH PARTITION m2_a " + YEAR,
             True, True),
    Scenario("CREATE TABLE m3 (at timestamp NOT NULL) PARTITION BY RANGE (at);"
             "CREATE TABLE m3_a (at timestamp NOT NULL);"
             "ALTER TABLE m3_a ADD CHECK (at >= '2024-01-01 00:00' AND at < '2024-07-01');",
             "ALTER TABLE m3 ATTACH PARTITION m3_a " + YEAR,
             True, True),
    Scenario("CREATE TABLE m4 (at timestamptz NOT NULL) PARTITION BY RANGE (at);"
             "CREATE TABLE m4_a (at timestamptz NOT NULL);"
             "ALTER TABLE m4_a ADD CHECK (at >= '2024-01-01' AND at <= '2025-01-01');",
             "ALTER TABLE m4 ATTACH PARTITION m4_a " + YEAR,
             False, False),
    Scenario("CREATE TABLE n1 (n int) PARTITION BY RANGE (n);"
             "CREATE TABLE n1_a (n int NOT NULL); ALTER TABLE n1_a ADD CHECK (n BETWEEN 0 AND 9);"
             "CREATE TABLE n1_b (n int NOT NULL); ALTER TABLE n1_b ADD CHECK (n > 19 AND n < 30);"
             "CREATE TABLE n1_c (n int NOT NULL); ALTER TABLE n1_c ADD CHECK (n IN (40, 45));",
             "ALTER TABLE n1 ATTACH PARTITION n1_a FOR VALUES FROM (0) TO (10)",
             True, True),
    Scenario("", "ALTER TABLE n1 ATTACH PARTITION n1_b FOR VALUES FROM (20) TO (30)", False, False),
    Scenario("", "ALTER TABLE n1 ATTACH PARTITION n1_c FOR VALUES FROM (40) TO (50)", True, True),
    Scenario("CREATE TABLE n2 (n bigint) PARTITION BY RANGE (n);"
             "CREATE TABLE n2_a (n bigint NOT NULL); ALTER TABLE n2_a ADD CHECK (n < -5);",
             "ALTER TABLE n2 ATTACH PARTITION n2_a FOR VALUES FROM (MINVALUE) TO (0)", True, True),
    Scenario("CREATE TABLE l1 (r text) PARTITION BY LIST (r);"
             "CREATE TABLE l1_a (r text); ALTER TABLE l1_a ADD CHECK (r IN ('de', 'fr'));"
             "CREATE TABLE l1_b (r text); ALTER TABLE l1_b ADD CHECK (r IN ('cn'));"
             "CREATE TABLE l1_c (r text NOT NULL); ALTER TABLE l1_c ADD CHECK (r = 'jp');",
             "ALTER TABLE l1 ATTACH PARTITION l1_a FOR VALUES IN ('de', 'fr')", False, False),
    Scenario("", "ALTER TABLE l1 ATTACH PARTITION l1_b FOR VALUES IN ('cn', NULL)", True, True),
    Scenario("", "ALTER TABLE l1 ATTACH PARTITION l1_c FOR VALUES IN ('jp', 'kr')", True, True),
    Scenario("CREATE TABLE l2 (r varchar(8)) PARTITION BY LIST (r);"
             "CREATE TABLE l2_a (r varchar(8) NOT NULL); ALTER TABLE l2_a ADD CHECK (r IN ('x'));",
             "ALTER TABLE l2 ATTACH PARTITION l2_a FOR VALUES IN ('x', 'y')", True, True),
    Scenario("CREATE TABLE d1 (d date NOT NULL) PARTITION BY RANGE (d);"
             "CREATE TABLE d1_a (d date NOT NULL);"
             "ALTER TABLE d1_a ADD CHECK (d >= '2024-01-01'::timestamptz AND d < '2025-01-01');",
             "ALTER TABLE d1 ATTACH PARTITION d1_a " + YEAR,
             False, False),
    Scenario("CREATE TABLE g (at date NOT NULL, k text NOT NULL) PARTITION BY RANGE (at);"
             "CREATE TABLE g_2024 PARTITION OF g FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')"
             " PARTITION BY LIST (k);"
             "CREATE TABLE g_a (at date NOT NULL, k text NOT NULL); ALTER TABLE g_a ADD CHECK "
             "(k = 'a');"
             "CREATE TABLE g_b (at date NOT NULL, k text NOT NULL); ALTER TABLE g_b ADD CHECK "
             "(k = 'b' AND at >= '2024-01-01' AND at < '2025-01-01');",
             "ALTER TABLE g_2024 ATTACH PARTITION g_a FOR VALUES IN ('a')", False, False),
    Scenario("", "ALTER TABLE g_2024 ATTACH PARTITION g_b FOR VALUES IN ('b')", True, True),
    Scenario("CREATE TABLE h (n int NOT NULL) PARTITION BY HASH (n);"
             "CREATE TABLE h_0 (n int NOT NULL);",
             "ALTER TABLE h ATTACH PARTITION h_0 FOR VALUES WITH (MODULUS 2, REMAINDER 0)",
             False, False),
]


def _static(scenario_index: int) -> bool:
    """Whether the rule passes the ATTACH with the schema replayed from the SQL."""
    engine = Engine(LintOptions(select=frozenset({RULE})))
    schema = Schema()
    engine.replay("".join(s.schema for s in SCENARIOS), Path("schema.sql"), schema, plain=True)
    return not engine.lint(SCENARIOS[scenario_index].attach + ";", Path("V2__a.sql"), schema)


@pytest.mark.parametrize("index", range(len(SCENARIOS)))
def test_the_rule_passes_an_attach_only_when_postgresql_skips_the_scan(index: int) -> None:
    scenario = SCENARIOS[index]
    assert not scenario.lint_passes or scenario.server_skips
    assert _static(index) == scenario.lint_passes


def test_the_rule_agrees_with_the_server_and_reads_checks_from_the_catalog(
    database_url: str,
) -> None:
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("".join(s.schema for s in SCENARIOS))
        migrations = [Migration(kind="versioned", version=None, description="a",
                                path=Path(f"V{i}__a.sql"), checksum="", up_sql=s.attach + ";")
                      for i, s in enumerate(SCENARIOS)]
        found = []
        for migration in migrations:
            report = lint_migrations([migration], LintOptions(select=frozenset({RULE})),
                                     conn=conn)
            found.append(not report.violations)
        skipped = []
        with conn.cursor() as cur:
            cur.execute("SET client_min_messages = debug1")
            for scenario in SCENARIOS:
                del conn.notices[:]
                cur.execute(scenario.attach)
                skipped.append(any("is implied by existing constraints" in n
                                   for n in conn.notices))
    finally:
        conn.close()
    assert skipped == [s.server_skips for s in SCENARIOS]
    assert found == [s.lint_passes for s in SCENARIOS]
