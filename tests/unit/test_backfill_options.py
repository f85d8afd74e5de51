"""The backfill directive's options, which statements it marks, and adaptive sizing (no DB)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgshift.backfill.batched import next_size
from pgshift.backfill.options import BackfillOptions, marked_statements, parse_options
from pgshift.backfill.statement import parse_backfill
from pgshift.errors import InputError
from pgshift.migrations.statements import split_statements


def test_defaults_are_adaptive_with_a_100ms_target() -> None:
    options = parse_options("")
    assert options.adaptive and options.target == 0.1 and options.vacuum


def test_options_are_parsed_with_units() -> None:
    options = parse_options("batch-size=5000 target=250ms pause=1s vacuum=10 max-lag=30s")
    assert (options.batch_size, options.target, options.pause, options.vacuum_every,
            options.max_lag) == (5000, 0.25, 1.0, 10, 30.0)
    assert not parse_options("vacuum=off").vacuum


@pytest.mark.parametrize("text, message", [
    ("batch-size=0", "whole number from 1 to 2147483647"),
    ("batch-size=99999999999999999999", "whole number from 1 to 2147483647"),
    ("speed=fast", "unknown backfill option 'speed'"),
    ("target", "is not name=value"),
    ("target=soon", "not a duration"),
])
def test_bad_options_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_options(text)


def test_directive_marks_the_statement_right_after_it() -> None:
    source = ("-- pgshift:no-transaction\nALTER TABLE t ADD COLUMN b int;\n"
              "-- pgshift:backfill batch-size=10\n-- a comment\nUPDATE t SET b = 1;\n"
              "ALTER TABLE t ALTER COLUMN b SET NOT NULL;\n")
    statements = split_statements(source, Path("V1__x.sql"))
    marked = marked_statements(source, statements)
    assert list(marked) == [1] and marked[1].batch_size == 10


def test_adaptive_size_aims_at_the_target_and_changes_at_most_twofold() -> None:
    options = BackfillOptions()
    assert next_size(options, 1000, 1000, 0.05) == 2000       # twice as fast: doubles
    assert next_size(options, 1000, 1000, 0.2) == 500         # twice too slow: halves
    assert next_size(options, 1000, 1000, 10.0) == 500        # never less than half
    assert next_size(options, 1000, 1000, 0.08) == 1250
    assert next_size(BackfillOptions(batch_size=700), 700, 700, 5.0) == 700  # fixed size
    assert next_size(options, 150_000, 150_000, 0.01) == options.max_batch


def test_backfill_statement_is_split_into_head_and_predicate() -> None:
    parsed = parse_backfill("UPDATE app.users AS u SET tz = 'UTC' FROM x WHERE u.tz IS NULL")
    assert (parsed.schema, parsed.table, parsed.reference) == ("app", "users", "u")
    assert parsed.head == "UPDATE app.users AS u SET tz = 'UTC' FROM x"
    assert parsed.predicate == "u.tz IS NULL"


@pytest.mark.parametrize("text", ["DELETE FROM t", "UPDATE t SET a = 1 RETURNING a",
                                  "UPDATE t SET a = 1; UPDATE t SET a = 2"])
def test_only_a_single_plain_update_can_be_a_backfill(text: str) -> None:
    with pytest.raises(InputError, match="backfill"):
        parse_backfill(text)
