"""refresh-matview-non-concurrent tells what REFRESH … WITH NO DATA really does.

WITH NO DATA does not block reads for long: it empties the view, so its readers fail until a
plain REFRESH fills it (CONCURRENTLY can neither be combined with it nor fill an empty view:
tests/integration/test_refresh_matview_no_data_on_server.py shows both on a server).
"""

from __future__ import annotations

from pathlib import Path

from pgshift.lint.engine import Engine
from pgshift.lint.options import LintOptions
from pgshift.lint.rule import Violation
from pgshift.lint.schema import Schema, Table

RULE = "refresh-matview-non-concurrent"


def _lint(sql: str, schema: Schema | None = None) -> list[Violation]:
    engine = Engine(LintOptions(select=frozenset({RULE})))
    return [v for v in engine.lint(sql, Path("V2__refresh.sql"), schema or Schema())
            if v.rule == RULE]


def test_refresh_with_no_data_says_the_view_is_emptied_and_reads_fail() -> None:
    (found,) = _lint("REFRESH MATERIALIZED VIEW daily_totals WITH NO DATA;")
    assert "empties daily_totals" in found.message
    assert "fails" in found.message and "blocked" not in found.message
    assert "cannot be combined with WITH NO DATA" in found.hint


def test_refresh_with_no_data_stays_an_error_on_a_tiny_view() -> None:
    """Size does not matter: an empty view fails its readers however few rows it had."""
    schema = Schema(tables={"daily_totals": Table(kind="matview", rows=3, known=True)})
    (found,) = _lint("REFRESH MATERIALIZED VIEW daily_totals WITH NO DATA;", schema)
    assert found.severity == "error"
    (plain,) = _lint("REFRESH MATERIALIZED VIEW daily_totals;", schema)
    assert plain.severity == "warning"


def test_concurrently_with_no_data_is_reported_as_refused_by_postgresql() -> None:
    (found,) = _lint("REFRESH MATERIALIZED VIEW CONCURRENTLY daily_totals WITH NO DATA;")
    assert "refuses CONCURRENTLY with WITH NO DATA" in found.message
    assert "drop WITH NO DATA" in found.hint and "drop CONCURRENTLY" in found.hint


def test_a_plain_refresh_still_suggests_concurrently() -> None:
    (found,) = _lint("REFRESH MATERIALIZED VIEW daily_totals;")
    assert "ACCESS EXCLUSIVE" in found.message
    assert found.hint.startswith("REFRESH MATERIALIZED VIEW CONCURRENTLY daily_totals")
