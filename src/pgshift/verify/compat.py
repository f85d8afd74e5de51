"""Backwards compatibility: the application's queries, prepared before a migration, after it.

``QueryProbe`` plays the application: on a session of its own it prepares every query against
the schema before a migration (as apps with server-side prepared statements do) and runs it once
(``NULL`` for each parameter, rolled back). After the migration it reports, per query:

- a query that no longer prepares (a dropped or renamed column, a changed type);
- a statement prepared before and executed after that now fails, the subtle case being
  ``SELECT *`` after ``ADD COLUMN``: "cached plan must not change result type" (when the same
  query prepared afresh fails too, every app sees it, not only those that prepare);
- an INSERT that leaves out a column the migration made required (``pgshift.verify.inserts``):
  run with ``NULL`` parameters, it fails before and after alike, so running it cannot tell;
- with plans on: a lost index scan or an estimated cost growth beyond the threshold.

Each query runs in a transaction that is rolled back, but a session-level advisory lock it takes
outlives that: after each pass the session lets go of what the queries left in it (as DISCARD
ALL would, but keeping the statements prepared), so no migration waits on the app's session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg2
from psycopg2 import sql

from pgshift.verify.plans import PlanSummary, compare_plans, explain, explain_generic
from pgshift.verify.report import Finding

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.verify.queries import Query

STATEMENT_TIMEOUT_MS = 10_000
# What DISCARD ALL does but DEALLOCATE ALL and DISCARD PLANS (the statements prepared before a
# migration, plans cached, are what ``after`` runs), then the probe's own setting again: what a
# query left in the session beyond its rolled-back transaction (a pg_advisory_lock) is let go of.
_RELEASE_SQL = ("SELECT pg_advisory_unlock_all();CLOSE ALL;UNLISTEN *;DISCARD TEMP;"
                "DISCARD SEQUENCES;RESET ALL;"
                f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")


@dataclass
class _Prepared:
    query: Query
    name: str
    parameters: int = 0
    executed: bool = False
    plan: PlanSummary | None = None
    left_out: tuple[str, ...] = ()  # an INSERT's required columns it gives no value


class QueryProbe:
    """The application's session on the scratch database (autocommit, holds no locks idle)."""

    def __init__(self, conn: Connection, queries: Sequence[Query], *, plans: bool = False,
                 cost_threshold: float = 0.5) -> None:
        self.conn = conn
        self.queries = list(queries)
        self.plans = plans
        self.cost_threshold = cost_threshold
        self._prepared: list[_Prepared] = []
        self._unprepared: dict[Query, str] = {q: "" for q in self.queries}
        self._unplanned: dict[Query, str] = {}  # EXPLAIN failed: the error
        conn.autocommit = True
        self.release()

    def release(self) -> None:
        """Let go of what the queries left in the session (a session-level advisory lock
        survives the rollback of the query that took it), keeping the prepared statements."""
        with self.conn.cursor() as cur:
            cur.execute(_RELEASE_SQL)

    def before(self) -> None:
        """Prepare (and run once) every query against the current schema."""
        self._prepared = []
        with self.conn.cursor() as cur:
            cur.execute("DEALLOCATE ALL")
            for number, query in enumerate(self.queries, start=1):
                name = f"pgshift_q{number}"
                error = _try(cur, _prepare_sql(name, query))
                if error is not None:
                    if query in self._unprepared:
                        self._unprepared[query] = _not_preparable(query) or error
                    continue
                self._unprepared.pop(query, None)
                self._prepared.append(_Prepared(query, name))
            counts = _parameter_counts(cur)  # one read: the view lists every statement
            for item in self._prepared:
                item.parameters = counts.get(item.name, 0)
                item.executed = _try_execute(cur, item.name, item.parameters) is None
                item.left_out = _left_out(cur, item.query)
                if self.plans:
                    item.plan = self._explain(cur, item)
        self.release()

    def after(self) -> list[Finding]:
        """What broke for the queries prepared by ``before``."""
        findings: list[Finding] = []
        with self.conn.cursor() as cur:
            for item in self._prepared:
                findings.extend(self._check(cur, item))
        self.release()
        return findings

    def _check(self, cur: Any, item: _Prepared) -> list[Finding]:
        query, fresh = item.query, f"{item.name}_after"
        error = _try(cur, _prepare_sql(fresh, query))
        if error is not None:
            return [Finding("compat", f"query no longer prepares: {query.describe()}",
                            (f"ERROR: {error}",))]
        found: list[Finding] = []
        left_out = [c for c in _left_out(cur, query) if c not in item.left_out]
        if left_out:
            found.append(Finding(
                "compat", f"INSERT gives no value for {', '.join(left_out)}, required (NOT "
                          f"NULL without a default) after the migration: {query.describe()}",
                ("the application's INSERTs that leave it out fail",)))
        if item.executed:
            error = _try_execute(cur, item.name, item.parameters)
            if error is not None and not (left_out and error.endswith("[23502]")):
                found.append(_failed_after(cur, item, fresh, error))
        after = self._explain(cur, item, fresh) if self.plans and item.plan else None
        if item.plan is not None and after is not None:
            problems = compare_plans(item.plan, after, threshold=self.cost_threshold)
            if problems:
                found.append(Finding("plan", f"{'; '.join(problems)}: {query.describe()}",
                                     (f"before: {item.plan.describe()}",
                                      f"after:  {after.describe()}")))
        cur.execute(sql.SQL("DEALLOCATE {}").format(sql.Identifier(fresh)))
        return found

    def _explain(self, cur: Any, item: _Prepared, name: str | None = None
                 ) -> PlanSummary | None:
        """The plan of ``item`` (prepared as ``name``); when NULL parameters make it fail (a
        NOT NULL domain refuses them), its generic plan from 16 on; else None: noted, and
        not compared."""
        try:
            return explain(cur, name or item.name, item.parameters)
        except psycopg2.Error as exc:
            error = _message(exc)
        if self.conn.server_version >= 160000:
            try:
                return explain_generic(cur, item.query.text)
            except psycopg2.Error as exc:
                error = _message(exc)
        self._unplanned.setdefault(item.query, error)
        return None

    @property
    def notes(self) -> list[str]:
        """The queries that never prepared, before any migration: they were not checked; and
        those whose plans could not be compared."""
        return [f"never prepared, so not checked: {q.describe()}: {error}"
                for q, error in self._unprepared.items() if error] + [
                f"plan not compared: {q.describe()}: {error}"
                for q, error in self._unplanned.items()]


def _prepare_sql(name: str, query: Query) -> sql.Composed:
    return sql.SQL("PREPARE {} AS ").format(sql.Identifier(name)) + sql.SQL(query.text)


def _failed_after(cur: Any, item: _Prepared, fresh: str, error: str) -> Finding:
    """The statement prepared before fails now: for every app when the query prepared afresh
    fails too, else for those that keep prepared statements."""
    if _try_execute(cur, fresh, item.parameters) is not None:
        return Finding("compat", f"query fails after the migration: {item.query.describe()}",
                       (f"ERROR: {error}",))
    return Finding("compat", f"statement prepared before the migration fails after it: "
                             f"{item.query.describe()}",
                   (f"ERROR: {error}", "apps with server-side prepared statements (or a "
                    "statement cache) see this until they reconnect"))


def _left_out(cur: Any, query: Query) -> tuple[str, ...]:
    from pgshift.verify.inserts import left_out, shape_of

    shape = shape_of(query.text) if "insert" in query.text.lower() else None
    if shape is None:
        return ()
    try:
        return tuple(left_out(cur, shape))
    except psycopg2.Error:
        return ()


_PREPARABLE = ("SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt")


def _not_preparable(query: Query) -> str | None:
    """Why PostgreSQL cannot prepare ``query`` when it is a statement of another kind (DDL,
    COPY, a transaction's BEGIN): its own error only says "syntax error"."""
    from pglast import parser

    try:
        parsed = parser.parse_sql(query.text)
    except parser.ParseError:
        return None
    kinds = [type(raw.stmt).__name__ for raw in parsed]
    if len(kinds) != 1 or kinds[0] in _PREPARABLE:
        return None
    return ("not a query PREPARE takes (only SELECT, INSERT, UPDATE, DELETE, MERGE and "
            "VALUES can be)")


def _parameter_counts(cur: Any) -> dict[str, int]:
    """How many parameters each prepared statement of the session takes, by name."""
    cur.execute("SELECT name, cardinality(parameter_types) FROM pg_prepared_statements")
    return {name: int(count or 0) for name, count in cur.fetchall()}


def _try(cur: Any, statement: Any) -> str | None:
    """Run ``statement``; the error's first line if PostgreSQL refused it."""
    try:
        cur.execute(statement)
    except psycopg2.Error as exc:
        return _message(exc)
    return None


def _try_execute(cur: Any, name: str, parameters: int) -> str | None:
    """``EXECUTE name(NULL, ...)`` in a transaction that is always rolled back, in one round
    trip. Run under ``EXPLAIN ANALYZE``: it runs as the app's would (its errors, "cached plan
    must not change result type" among them) without sending its rows over."""
    args = sql.SQL("")
    if parameters:
        args = sql.SQL("({})").format(sql.SQL(", ").join([sql.SQL("NULL")] * parameters))
    try:
        cur.execute(sql.SQL("BEGIN;EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) "
                            "EXECUTE {}{};ROLLBACK").format(sql.Identifier(name), args))
    except psycopg2.Error as exc:
        cur.execute("ROLLBACK")
        return _message(exc)
    return None


def _message(exc: psycopg2.Error) -> str:
    primary = getattr(getattr(exc, "diag", None), "message_primary", None)
    text = primary or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return f"{text} [{exc.pgcode}]" if exc.pgcode else text
