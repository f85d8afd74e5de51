"""Backwards compatibility: the application's queries, prepared before a migration, after it.

``QueryProbe`` plays the application: on a session of its own it prepares every query against
the schema before a migration (as apps with server-side prepared statements do) and runs it once
(``NULL`` for each parameter, rolled back). After the migration it reports, per query:

- a query that no longer prepares (a dropped or renamed column, a changed type);
- a statement prepared before and executed after that now fails, the subtle case being
  ``SELECT *`` after ``ADD COLUMN``: "cached plan must not change result type";
- with plans on: a lost index scan or an estimated cost growth beyond the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg2
from psycopg2 import sql

from pgshift.verify.plans import PlanSummary, compare_plans, explain
from pgshift.verify.report import Finding

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.verify.queries import Query

STATEMENT_TIMEOUT_MS = 10_000


@dataclass
class _Prepared:
    query: Query
    name: str
    parameters: int = 0
    executed: bool = False
    plan: PlanSummary | None = None


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
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")

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
                        self._unprepared[query] = error
                    continue
                self._unprepared.pop(query, None)
                item = _Prepared(query, name, _parameter_count(cur, name))
                item.executed = _try_execute(cur, name, item.parameters) is None
                if self.plans:
                    item.plan = explain(cur, name, item.parameters)
                self._prepared.append(item)

    def after(self) -> list[Finding]:
        """What broke for the queries prepared by ``before``."""
        findings: list[Finding] = []
        with self.conn.cursor() as cur:
            for item in self._prepared:
                findings.extend(self._check(cur, item))
        return findings

    def _check(self, cur: Any, item: _Prepared) -> list[Finding]:
        query, fresh = item.query, f"{item.name}_after"
        error = _try(cur, _prepare_sql(fresh, query))
        if error is not None:
            return [Finding("compat", f"query no longer prepares: {query.describe()}",
                            (f"ERROR: {error}",))]
        found: list[Finding] = []
        if item.executed:
            error = _try_execute(cur, item.name, item.parameters)
            if error is not None:
                found.append(Finding(
                    "compat", f"statement prepared before the migration fails after it: "
                              f"{query.describe()}",
                    (f"ERROR: {error}", "apps with server-side prepared statements (or a "
                     "statement cache) see this until they reconnect")))
        if self.plans and item.plan is not None:
            after = explain(cur, fresh, item.parameters)
            problems = compare_plans(item.plan, after, threshold=self.cost_threshold)
            if problems:
                found.append(Finding("plan", f"{'; '.join(problems)}: {query.describe()}",
                                     (f"before: {item.plan.describe()}",
                                      f"after:  {after.describe()}")))
        cur.execute(sql.SQL("DEALLOCATE {}").format(sql.Identifier(fresh)))
        return found

    @property
    def notes(self) -> list[str]:
        """The queries that never prepared, before any migration: they were not checked."""
        return [f"never prepared, so not checked: {q.describe()}: {error}"
                for q, error in self._unprepared.items() if error]


def _prepare_sql(name: str, query: Query) -> sql.Composed:
    return sql.SQL("PREPARE {} AS ").format(sql.Identifier(name)) + sql.SQL(query.text)


def _parameter_count(cur: Any, name: str) -> int:
    cur.execute("SELECT cardinality(parameter_types) FROM pg_prepared_statements "
                "WHERE name = %s", (name,))
    row = cur.fetchone()
    return int(row[0] or 0) if row else 0


def _try(cur: Any, statement: Any) -> str | None:
    """Run ``statement``; the error's first line if PostgreSQL refused it."""
    try:
        cur.execute(statement)
    except psycopg2.Error as exc:
        return _message(exc)
    return None


def _try_execute(cur: Any, name: str, parameters: int) -> str | None:
    """``EXECUTE name(NULL, ...)`` in a transaction that is always rolled back."""
    args = sql.SQL("")
    if parameters:
        args = sql.SQL("({})").format(sql.SQL(", ").join([sql.SQL("NULL")] * parameters))
    cur.execute("BEGIN")
    try:
        cur.execute(sql.SQL("EXECUTE {}{}").format(sql.Identifier(name), args))
    except psycopg2.Error as exc:
        return _message(exc)
    finally:
        cur.execute("ROLLBACK")
    return None


def _message(exc: psycopg2.Error) -> str:
    primary = getattr(getattr(exc, "diag", None), "message_primary", None)
    text = primary or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return f"{text} [{exc.pgcode}]" if exc.pgcode else text
