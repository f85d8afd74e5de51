"""Backwards compatibility: the application's queries, prepared before a migration, after it.

``QueryProbe`` plays the application: on a session of its own it prepares every query against
the schema before a migration (as apps with server-side prepared statements do) and runs it once
(``NULL`` for each parameter, rolled back). After the migration it reports, per query:

- a query that no longer prepares (a dropped or renamed column, a changed type);
- a statement prepared before and executed after that now fails, the subtle case being
  ``SELECT *`` after ``ADD COLUMN``: "cached plan must not change result type" (when the same
  query prepared afresh fails too, every app sees it, not only those that prepare). A query
  that the ``NULL`` stand-ins make fail on a constraint or a value (SQLSTATE class 22 or 23)
  was still planned and run: after, only an error of another kind is a break;
- an INSERT that leaves out a column the migration made required (``pgshift.verify.inserts``):
  run with ``NULL`` parameters, it fails before and after alike, so running it cannot tell;
- with plans on: a lost index scan or an estimated cost growth beyond the threshold.

A parameter PostgreSQL cannot infer a type for (``$1 IS NULL``) is declared ``text``, before
and after alike, rather than the query going unchecked; a note says so.

Each query runs in a transaction that is rolled back, but a session-level advisory lock it takes
outlives that: after each pass the session lets go of what the queries left in it (as DISCARD
ALL would, but keeping the statements prepared), so no migration waits on the app's session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg2
import psycopg2.errors
from psycopg2 import sql

from pgshift.verify.plans import PlanSummary, compare_plans, explain, explain_generic
from pgshift.verify.report import Finding, FindingKind

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
    executed: bool = False  # ran before the migration, or failed only on a NULL stand-in
    null_failed: bool = False  # it failed on a NULL stand-in (SQLSTATE class 22 or 23)
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
        self._declared: dict[Query, tuple[str, ...]] = {}  # its untyped parameters as text
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
                error = self._prepare(cur, name, query)
                if error is not None:
                    if query in self._unprepared:
                        self._unprepared[query] = _not_preparable(query) or error
                    continue
                self._unprepared.pop(query, None)
                self._prepared.append(_Prepared(query, name))
            counts = _parameter_counts(cur)  # one read: the view lists every statement
            for item in self._prepared:
                item.parameters = counts.get(item.name, 0)
                failure = _try_execute(cur, item.name, item.parameters)
                item.null_failed = failure is not None and _on_null_stand_in(failure)
                item.executed = failure is None or item.null_failed
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
        error = _try(cur, _prepare_sql(fresh, query, self._declared.get(query, ())))
        if error is not None:
            return [_finding("compat", f"query no longer prepares: {query.describe()}",
                             (f"ERROR: {error}",), query)]
        found: list[Finding] = []
        left_out = [c for c in _left_out(cur, query) if c not in item.left_out]
        if left_out:
            found.append(_finding(
                "compat", f"INSERT gives no value for {', '.join(left_out)}, required (NOT "
                          f"NULL without a default) after the migration: {query.describe()}",
                ("the application's INSERTs that leave it out fail",), query))
        if item.executed:
            failure = _try_execute(cur, item.name, item.parameters)
            if failure is not None and not _same_outcome(item, failure, bool(left_out)):
                found.append(_failed_after(cur, item, fresh, _message(failure)))
        after = self._explain(cur, item, fresh) if self.plans and item.plan else None
        if item.plan is not None and after is not None:
            problems = compare_plans(item.plan, after, threshold=self.cost_threshold)
            if problems:
                found.append(_finding("plan", f"{'; '.join(problems)}: {query.describe()}",
                                      (f"before: {item.plan.describe()}",
                                       f"after:  {after.describe()}"), query))
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

    def _prepare(self, cur: Any, name: str, query: Query) -> str | None:
        """PREPARE ``query`` as ``name``; the error if PostgreSQL refused it. A parameter it
        cannot infer a type for is declared text, as an app's driver would send a type, and
        the types found are kept: the query is prepared alike before and after a migration."""
        error = _attempt(cur, _prepare_sql(name, query, self._declared.get(query, ())))
        if error is None or query in self._declared or not _untyped(error):
            return _message(error) if error is not None else None
        from pgshift.verify.queries import parameter_count

        # Text declared where it does not fit gives another error: that parameter is left to
        # PostgreSQL again.
        types = ["unknown"] * parameter_count(query.text)
        for position in range(len(types)):
            types[position] = "text"
            retry = _attempt(cur, _prepare_sql(name, query, types))
            if retry is None:
                self._declared[query] = tuple(types)
                return None
            if not _untyped(retry):
                types[position] = "unknown"
        return _message(error)

    @property
    def notes(self) -> list[str]:
        """The queries that never prepared, before any migration: they were not checked; those
        whose plans could not be compared; and those given text for an untyped parameter."""
        return [f"never prepared, so not checked: {q.describe()}: {error}"
                for q, error in self._unprepared.items() if error] + [
                f"plan not compared: {q.describe()}: {error}"
                for q, error in self._unplanned.items()] + [
                "prepared with text for the parameters PostgreSQL cannot infer a type of (cast "
                f"them, e.g. $1::int, to check them with the type the app sends): {q.describe()}"
                for q in self._declared]


def _prepare_sql(name: str, query: Query, types: Sequence[str] = ()) -> sql.Composed:
    """``PREPARE name [(types)] AS query``: ``unknown`` leaves a parameter's type to PostgreSQL."""
    declared = sql.SQL("({})").format(sql.SQL(", ").join(map(sql.SQL, types))) if types \
        else sql.SQL("")
    return (sql.SQL("PREPARE {}{} AS ").format(sql.Identifier(name), declared)
            + sql.SQL(query.text))


# Errors a run with NULL for each parameter meets past parsing and planning, because of a
# value: a constraint (class 23) or data (class 22) such as a NOT NULL domain.
_NULL_STAND_IN_CLASSES = ("22", "23")


def _on_null_stand_in(failure: psycopg2.Error) -> bool:
    return (failure.pgcode or "")[:2] in _NULL_STAND_IN_CLASSES


def _same_outcome(item: _Prepared, failure: psycopg2.Error, left_out: bool) -> bool:
    """Whether ``failure``, the run after the migration, is no break: a NULL stand-in's again
    (when one made it fail before too), or the NOT NULL of a column the INSERT leaves out,
    reported on its own."""
    if left_out and failure.pgcode == "23502":
        return True
    return item.null_failed and _on_null_stand_in(failure)


def _failed_after(cur: Any, item: _Prepared, fresh: str, error: str) -> Finding:
    """The statement prepared before fails now: for every app when the query prepared afresh
    fails too, else for those that keep prepared statements."""
    failure = _try_execute(cur, fresh, item.parameters)
    if failure is not None and not (item.null_failed and _on_null_stand_in(failure)):
        return _finding("compat", f"query fails after the migration: {item.query.describe()}",
                        (f"ERROR: {error}",), item.query)
    return _finding("compat", f"statement prepared before the migration fails after it: "
                              f"{item.query.describe()}",
                    (f"ERROR: {error}", "apps with server-side prepared statements (or a "
                     "statement cache) see this until they reconnect"), item.query)


def _finding(kind: FindingKind, message: str, detail: tuple[str, ...],
             query: Query) -> Finding:
    """A finding about ``query``, placed where the query is written (for tools)."""
    return Finding(kind, message, detail, path=query.path, line=query.line, query=query.text)


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
    error = _attempt(cur, statement)
    return _message(error) if error is not None else None


def _attempt(cur: Any, statement: Any) -> psycopg2.Error | None:
    """Run ``statement``; the error if PostgreSQL refused it."""
    try:
        cur.execute(statement)
    except psycopg2.Error as exc:
        return exc
    return None


def _untyped(error: psycopg2.Error) -> bool:
    """A parameter's type could not be inferred (PostgreSQL does not say which in a field):
    42P18, or 42P08 where a use of it (``$1 IS NULL``) came before one that would type it."""
    return isinstance(error, (psycopg2.errors.IndeterminateDatatype,
                              psycopg2.errors.AmbiguousParameter))


def _try_execute(cur: Any, name: str, parameters: int) -> psycopg2.Error | None:
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
        return exc
    return None


def _message(exc: psycopg2.Error) -> str:
    primary = getattr(getattr(exc, "diag", None), "message_primary", None)
    text = primary or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return f"{text} [{exc.pgcode}]" if exc.pgcode else text
