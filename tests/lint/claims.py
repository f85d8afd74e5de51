"""What PostgreSQL does for the statements the lock and rewrite rules judge: a table of claims.

Each ``Claim`` says, for one statement run in a transaction on a table with rows (``BASE`` plus
the claim's committed ``setup``), the strongest lock it takes on one relation (``on``), whether
it rewrites that relation (a new relfilenode), whether it reads all of it (a scan, an index
build or a rewrite), and whether its rule flags it. tests/integration/test_lint_claims_on_server
checks the table against a real server and the linter against the table.

``pg``: the server versions a claim holds on (``">=18"``); a claim that differs by version is
written once per version range.
"""

from __future__ import annotations

from dataclasses import dataclass

ACCESS_SHARE = "ACCESS SHARE"
ROW_SHARE = "ROW SHARE"
ROW_EXCLUSIVE = "ROW EXCLUSIVE"
SHARE_UPDATE_EXCLUSIVE = "SHARE UPDATE EXCLUSIVE"
SHARE = "SHARE"
SHARE_ROW_EXCLUSIVE = "SHARE ROW EXCLUSIVE"
EXCLUSIVE = "EXCLUSIVE"
ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"
# Weakest first, as PostgreSQL numbers them.
MODES = (ACCESS_SHARE, ROW_SHARE, ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, SHARE,
         SHARE_ROW_EXCLUSIVE, EXCLUSIVE, ACCESS_EXCLUSIVE)

BASE = """
CREATE TABLE parent (id integer PRIMARY KEY);
INSERT INTO parent SELECT generate_series(1, 100);
CREATE TABLE t (id integer NOT NULL, n integer, s text, v varchar(20), ts timestamp,
                parent_id integer);
INSERT INTO t SELECT g, g, 'x' || g, 'v' || g, '2024-01-01'::timestamp + g * interval '1 hour',
                     1 + g % 100 FROM generate_series(1, 1000) g;
CREATE INDEX t_n ON t (n);
"""
_PARTITIONED = ("CREATE TABLE pt (id integer NOT NULL, n integer, s text, v varchar(20), "
                "ts timestamp, parent_id integer) PARTITION BY RANGE (id)")
_FK = "ALTER TABLE t ADD CONSTRAINT t_parent FOREIGN KEY (parent_id) REFERENCES parent"
# A grandchild: g references t, which references parent.
_FK_CHAIN = _FK + "; ALTER TABLE t ADD PRIMARY KEY (id); CREATE TABLE g (t_id integer REFERENCES t)"
_AMOUNT = "CREATE DOMAIN amount AS integer; ALTER TABLE t ADD COLUMN a amount DEFAULT 1"


@dataclass(frozen=True)
class Claim:
    rule: str
    sql: str
    lock: str | None  # the strongest lock taken on ``on``; None: none at all
    rewrites: bool
    scans: bool
    flagged: bool = True
    setup: str = ""
    on: str = "t"
    pg: str = ""
    # The strongest lock on ``on`` or one of its indexes, when stronger than ``lock``: planning
    # any query of a table opens all its indexes, so an index's lock is the table's for the app.
    effective: str | None = None
    # Why the linter's lock model (pgshift.lint.locks) does not give this lock yet.
    model_gap: str = ""

    @property
    def app_lock(self) -> str | None:
        return self.effective or self.lock

    @property
    def id(self) -> str:
        after = f" after {self.setup}" if self.setup else ""
        return f"{self.rule}:{self.sql}{after}:on {self.on}{':' + self.pg if self.pg else ''}"


def _c(rule: str, sql: str, lock: str | None, rewrites: bool, scans: bool, **kw: object
       ) -> Claim:
    return Claim(rule, sql, lock, rewrites, scans, **kw)  # type: ignore[arg-type]


AE, SRE, SUE = ACCESS_EXCLUSIVE, SHARE_ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE
CLAIMS = [
    # ADD COLUMN: metadata-only unless every row needs a value computed or checked
    _c("add-column-volatile-default", "ALTER TABLE t ADD COLUMN c float8 DEFAULT random()",
       AE, True, True),
    _c("add-column-volatile-default", "ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now()",
       AE, False, False, flagged=False),
    _c("add-column-volatile-default", "ALTER TABLE t ADD COLUMN c integer NOT NULL DEFAULT 1 + 2",
       AE, False, False, flagged=False),
    _c("add-column-volatile-default", "ALTER TABLE t ADD COLUMN c integer DEFAULT f()",
       AE, True, True,
       setup="CREATE FUNCTION f() RETURNS integer LANGUAGE plpgsql AS 'BEGIN RETURN 1; END'"),
    _c("add-column-volatile-default", "ALTER TABLE t ADD COLUMN c integer DEFAULT f()",
       AE, False, False, flagged=False,
       setup="CREATE FUNCTION f() RETURNS integer IMMUTABLE LANGUAGE sql AS 'SELECT 1'"),
    _c("add-column-volatile-default", "ALTER TABLE t ADD COLUMN c d",
       AE, True, True, setup="CREATE DOMAIN d AS float8 DEFAULT random()"),
    _c("add-column-volatile-default", "ALTER TABLE t ADD COLUMN c d2",
       AE, True, True, setup="CREATE DOMAIN d AS float8 DEFAULT random(); CREATE DOMAIN d2 AS d"),
    _c("add-column-volatile-default", "ALTER TABLE t ADD COLUMN c d DEFAULT NULL",
       AE, False, False, flagged=False, setup="CREATE DOMAIN d AS float8 DEFAULT random()"),
    _c("add-column-volatile-default", "ALTER TABLE t ADD COLUMN c d DEFAULT 1",
       AE, False, False, flagged=False, setup="CREATE DOMAIN d AS float8 DEFAULT random()"),
    _c("add-column-volatile-default", "ALTER TABLE t ADD COLUMN c d",
       AE, False, False, flagged=False, setup="CREATE DOMAIN d AS timestamptz DEFAULT now()"),
    _c("add-column-volatile-default", "ALTER TABLE t ADD COLUMN c d",
       AE, False, False, flagged=False,
       setup="CREATE DOMAIN d AS float8 DEFAULT random(); ALTER DOMAIN d DROP DEFAULT"),
    _c("add-column-serial-or-identity", "ALTER TABLE t ADD COLUMN c bigserial", AE, True, True),
    _c("add-column-serial-or-identity",
       "ALTER TABLE t ADD COLUMN c bigint GENERATED ALWAYS AS IDENTITY", AE, True, True),
    _c("add-column-generated-stored",
       "ALTER TABLE t ADD COLUMN c integer GENERATED ALWAYS AS (n * 2) STORED", AE, True, True),
    _c("add-column-generated-stored",
       "ALTER TABLE t ADD COLUMN c integer GENERATED ALWAYS AS (n * 2) VIRTUAL",
       AE, False, False, flagged=False, pg=">=18"),
    _c("add-column-generated-stored", "ALTER TABLE t ALTER COLUMN g SET EXPRESSION AS (n * 3)",
       AE, True, True, pg=">=17",
       setup="ALTER TABLE t ADD COLUMN g integer GENERATED ALWAYS AS (n * 2) STORED"),
    _c("add-column-constrained-domain", "ALTER TABLE t ADD COLUMN c positive", AE, True, True,
       setup="CREATE DOMAIN positive AS integer CHECK (VALUE > 0)"),
    _c("add-column-constrained-domain", "ALTER TABLE t ADD COLUMN c label", AE, False, False,
       flagged=False, setup="CREATE DOMAIN label AS text"),
    _c("add-check-without-not-valid", "ALTER TABLE t ADD COLUMN c integer CHECK (c > 0)",
       AE, False, True),
    # constraints: a scan unless NOT VALID or proven
    _c("add-check-without-not-valid", "ALTER TABLE t ADD CONSTRAINT c CHECK (n > 0)",
       AE, False, True),
    _c("add-check-without-not-valid", "ALTER TABLE t ADD CONSTRAINT c CHECK (n > 0) NOT VALID",
       AE, False, False, flagged=False),
    _c("set-not-null-without-check", "ALTER TABLE t ALTER COLUMN n SET NOT NULL", AE, False, True),
    _c("set-not-null-without-check", "ALTER TABLE t ALTER COLUMN n SET NOT NULL", AE, False,
       False, flagged=False, setup="ALTER TABLE t ADD CONSTRAINT n_nn CHECK (n IS NOT NULL)"),
    _c("set-not-null-without-check", "ALTER TABLE t ALTER COLUMN id SET NOT NULL", AE, False,
       False, flagged=False),
    _c("set-not-null-without-check", "ALTER TABLE t ADD CONSTRAINT n_nn NOT NULL n",
       AE, False, True, pg=">=18"),
    _c("set-not-null-without-check", "ALTER TABLE t ADD CONSTRAINT n_nn NOT NULL n NOT VALID",
       AE, False, False, flagged=False, pg=">=18"),
    _c("set-not-null-without-check", "ALTER TABLE t VALIDATE CONSTRAINT n_nn", SUE, False, True,
       flagged=False, pg=">=18", setup="ALTER TABLE t ADD CONSTRAINT n_nn NOT NULL n NOT VALID"),
    _c("set-not-null-without-check", "ALTER TABLE t ALTER COLUMN n SET NOT NULL", AE, False,
       False, flagged=False, pg=">=18", setup="ALTER TABLE t ADD CONSTRAINT n_nn NOT NULL n NOT "
       "VALID; ALTER TABLE t VALIDATE CONSTRAINT n_nn"),
    _c("set-not-null-without-check", "ALTER TABLE t ADD PRIMARY KEY USING INDEX t_n_key",
       AE, False, True, setup="CREATE UNIQUE INDEX t_n_key ON t (n)"),
    _c("set-not-null-without-check", "ALTER TABLE t ADD PRIMARY KEY USING INDEX t_id_key",
       AE, False, False, flagged=False, setup="CREATE UNIQUE INDEX t_id_key ON t (id)"),
    _c("add-foreign-key-without-not-valid",
       "ALTER TABLE t ADD FOREIGN KEY (parent_id) REFERENCES parent", SRE, False, True),
    _c("add-foreign-key-without-not-valid",
       "ALTER TABLE t ADD FOREIGN KEY (parent_id) REFERENCES parent", SRE, False, True,
       on="parent"),
    _c("add-foreign-key-without-not-valid",
       "ALTER TABLE t ADD FOREIGN KEY (parent_id) REFERENCES parent NOT VALID", SRE, False, False,
       flagged=False),
    _c("add-foreign-key-without-not-valid",
       "ALTER TABLE t ADD COLUMN c integer REFERENCES parent", AE, False, False, flagged=False),
    _c("add-foreign-key-without-not-valid",
       "ALTER TABLE t ADD COLUMN c integer DEFAULT 1 REFERENCES parent", AE, False, True),
    _c("add-foreign-key-without-not-valid",
       "ALTER TABLE t ADD COLUMN c integer DEFAULT 1 REFERENCES parent", SRE, False, True,
       on="parent"),
    _c("validate-in-same-transaction", "ALTER TABLE t ADD CONSTRAINT c CHECK (n > 0) NOT VALID;"
       " ALTER TABLE t VALIDATE CONSTRAINT c", AE, False, True),
    _c("validate-in-same-transaction", "ALTER TABLE t VALIDATE CONSTRAINT c", SUE, False, True,
       flagged=False, setup="ALTER TABLE t ADD CONSTRAINT c CHECK (n > 0) NOT VALID"),
    _c("validate-in-same-transaction", "ALTER TABLE t VALIDATE CONSTRAINT t_parent", SUE, False,
       True, flagged=False, setup=_FK + " NOT VALID"),
    _c("validate-in-same-transaction", "ALTER TABLE t VALIDATE CONSTRAINT t_parent", ROW_SHARE,
       False, True, flagged=False, setup=_FK + " NOT VALID", on="parent"),
    # index builds
    _c("add-unique-constraint-without-index", "ALTER TABLE t ADD CONSTRAINT u UNIQUE (n)",
       AE, False, True),
    _c("add-unique-constraint-without-index", "ALTER TABLE t ADD COLUMN c integer UNIQUE",
       AE, False, True),
    _c("add-unique-constraint-without-index",
       "ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX t_n_key", AE, False, False,
       flagged=False, setup="CREATE UNIQUE INDEX t_n_key ON t (n)"),
    _c("add-primary-key-without-index", "ALTER TABLE t ADD PRIMARY KEY (n)", AE, False, True),
    _c("add-exclusion-constraint", "ALTER TABLE t ADD CONSTRAINT x EXCLUDE USING btree (n WITH =)",
       AE, False, True),
    _c("create-index-non-concurrent", "CREATE INDEX t_s ON t (s)", SHARE, False, True),
    _c("create-index-non-concurrent", "CREATE INDEX t_s ON ONLY pt (s)", SHARE, False, False,
       flagged=False, setup=_PARTITIONED, on="pt"),
    _c("create-index-in-exclusive-transaction",
       "ALTER TABLE t ADD COLUMN c integer; CREATE INDEX t_s ON t (s)", AE, False, True),
    _c("drop-index-non-concurrent", "DROP INDEX t_n", AE, False, False),
    _c("reindex-non-concurrent", "REINDEX INDEX t_n", SHARE, False, True, effective=AE),
    _c("reindex-non-concurrent", "REINDEX TABLE t", SHARE, False, True, effective=AE),
    # type changes
    _c("alter-column-type-rewrite", "ALTER TABLE t ALTER COLUMN n TYPE bigint", AE, True, True),
    _c("alter-column-type-rewrite", "ALTER TABLE t ALTER COLUMN v TYPE varchar(40)", AE, False,
       False, flagged=False),
    _c("alter-column-type-rewrite", "ALTER TABLE t ALTER COLUMN v TYPE text", AE, False, False,
       flagged=False),
    _c("alter-column-type-rewrite", "ALTER TABLE t ALTER COLUMN v TYPE varchar(10)", AE, True,
       True),
    _c("alter-column-type-rewrite", "ALTER TABLE t ALTER COLUMN s TYPE varchar", AE, False,
       False, flagged=False),
    _c("alter-column-type-rewrite", "SET LOCAL TimeZone = 'UTC';"
       " ALTER TABLE t ALTER COLUMN ts TYPE timestamptz", AE, False, False, flagged=False),
    _c("alter-column-type-rewrite", "SET LOCAL TimeZone = 'Europe/Paris';"
       " ALTER TABLE t ALTER COLUMN ts TYPE timestamptz", AE, True, True),
    _c("alter-column-type-rewrite", "ALTER TABLE t ALTER COLUMN n TYPE integer USING n + 1",
       AE, True, True),
    _c("alter-domain-add-constraint", "ALTER DOMAIN amount ADD CONSTRAINT c CHECK (VALUE > 0)",
       SHARE, False, True, setup=_AMOUNT),
    _c("alter-domain-add-constraint", "ALTER DOMAIN amount ADD CONSTRAINT c CHECK (VALUE > 0)",
       SHARE, False, True, setup="CREATE DOMAIN amount AS integer; CREATE DOMAIN money2 AS "
       "amount; ALTER TABLE t ADD COLUMN a money2"),
    _c("alter-domain-add-constraint",
       "ALTER DOMAIN amount ADD CONSTRAINT c CHECK (VALUE > 0) NOT VALID", None, False, False,
       flagged=False, setup=_AMOUNT),
    _c("alter-domain-add-constraint", "ALTER DOMAIN amount VALIDATE CONSTRAINT c", SHARE, False,
       True, setup=_AMOUNT + "; ALTER DOMAIN amount ADD CONSTRAINT c CHECK (VALUE > 0) NOT VALID"),
    _c("alter-domain-add-constraint", "ALTER DOMAIN amount SET NOT NULL", SHARE, False, True,
       setup=_AMOUNT),
    # copies of the whole table
    _c("alter-table-rewrite-option", "ALTER TABLE t SET UNLOGGED", AE, True, True),
    _c("vacuum-full-or-cluster", "CLUSTER t USING t_n", AE, True, True),
    _c("refresh-matview-non-concurrent", "REFRESH MATERIALIZED VIEW mv", AE, True, False,
       setup="CREATE MATERIALIZED VIEW mv AS SELECT id, n FROM t", on="mv"),
    _c("refresh-matview-non-concurrent", "REFRESH MATERIALIZED VIEW CONCURRENTLY mv", EXCLUSIVE,
       False, True, flagged=False, on="mv",
       setup="CREATE MATERIALIZED VIEW mv AS SELECT id, n FROM t; CREATE UNIQUE INDEX ON mv (id)"),
    # partitions
    _c("attach-partition-without-check", "ALTER TABLE pt ATTACH PARTITION t FOR VALUES FROM (0)"
       " TO (5000)", AE, False, True, setup=_PARTITIONED),
    _c("attach-partition-without-check", "ALTER TABLE pt ATTACH PARTITION t FOR VALUES FROM (0)"
       " TO (5000)", SUE, False, False, setup=_PARTITIONED, on="pt"),
    _c("attach-partition-without-check", "ALTER TABLE pt ATTACH PARTITION t FOR VALUES FROM (0)"
       " TO (5000)", AE, False, False, flagged=False,
       setup=_PARTITIONED + "; ALTER TABLE t ADD CONSTRAINT b CHECK (id >= 0 AND id < 5000)"),
    _c("detach-partition-non-concurrent", "ALTER TABLE pt DETACH PARTITION t", AE, False, False,
       setup=_PARTITIONED + "; ALTER TABLE pt ATTACH PARTITION t FOR VALUES FROM (0) TO (5000)",
       on="pt"),
    _c("create-partition-of", "CREATE TABLE pt2 PARTITION OF pt FOR VALUES FROM (5000) TO (6000)",
       AE, False, False, on="pt",
       setup=_PARTITIONED + "; ALTER TABLE pt ATTACH PARTITION t FOR VALUES FROM (0) TO (5000)"),
    _c("create-partition-of", "CREATE TABLE pt2 PARTITION OF pt FOR VALUES FROM (5000) TO (6000)",
       AE, False, True, setup=_PARTITIONED + "; ALTER TABLE pt ATTACH PARTITION t DEFAULT"),
    # brief locks: the rule is about the app, but the lock still has to be right
    _c("drop-column", "ALTER TABLE t DROP COLUMN s", AE, False, False),
    _c("drop-not-null", "ALTER TABLE t ALTER COLUMN id DROP NOT NULL", AE, False, False),
    _c("rename-column", "ALTER TABLE t RENAME COLUMN s TO s2", AE, False, False),
    _c("rename-table", "ALTER TABLE t RENAME TO t2", AE, False, False),
    _c("drop-table", "DROP TABLE t", AE, False, False, setup=_FK, on="parent"),
    _c("drop-table", "DROP TABLE parent CASCADE", AE, False, False, setup=_FK),
    _c("drop-table", "DROP TABLE t CASCADE", AE, False, False, setup=_FK_CHAIN, on="g"),
    _c("drop-table", "DROP TABLE t CASCADE", AE, False, False, setup=_FK_CHAIN, on="parent"),
    _c("truncate-cascade", "TRUNCATE parent CASCADE", AE, True, False, setup=_FK),
    _c("truncate-cascade", "TRUNCATE parent CASCADE", AE, True, False, setup=_FK_CHAIN, on="g"),
    # dropping a foreign key drops its triggers on the table it references
    _c("drop-foreign-key", "ALTER TABLE t DROP CONSTRAINT t_parent", AE, False, False,
       setup=_FK, on="parent"),
    _c("drop-column", "ALTER TABLE t DROP COLUMN parent_id", AE, False, False, setup=_FK,
       on="parent"),
    _c("lock-table-explicit", "LOCK TABLE t IN SHARE MODE", SHARE, False, False),
    _c("lock-table-explicit", "LOCK TABLE t", AE, False, False),
    _c("lock-table-explicit", "LOCK TABLE t IN ROW EXCLUSIVE MODE", ROW_EXCLUSIVE, False, False,
       flagged=False),
    _c("create-trigger-on-hot-table", "CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW "
       "EXECUTE FUNCTION tf()", SRE, False, False,
       setup="CREATE FUNCTION tf() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'"),
    _c("unbatched-backfill", "UPDATE t SET n = n + 1", ROW_EXCLUSIVE, False, True),
    _c("unbatched-backfill", "ALTER TABLE t ADD COLUMN c integer; UPDATE t SET c = n", AE, False,
       True),
]
