"""The ``-- pgshift:backfill`` directive: its options, and which statements it marks.

A backfill is an ``UPDATE`` that pgshift runs in batches, each in its own short transaction,
instead of as one statement. Mark it with a comment line right above it::

    -- pgshift:no-transaction
    ALTER TABLE users ADD COLUMN timezone text;
    -- pgshift:backfill batch-size=auto target=100ms
    UPDATE users SET timezone = 'UTC' WHERE timezone IS NULL;

The file must be ``no-transaction``: batches commit one by one, which no migration transaction
could hold. The runner runs the file's statements in order; statements before the backfill are
done when it starts, statements after it run once it has finished (e.g. ``SET NOT NULL``).

Options, all optional, as ``name=value`` separated by spaces:

============== ========= =================================================================
option         default   meaning
============== ========= =================================================================
batch-size     auto      keys per batch; ``auto`` adapts it to hit ``target``
target         100ms     the batch duration ``auto`` aims at
pause          10ms      sleep between batches (lets the application's queries through)
vacuum         auto      VACUUM the table every N batches; ``auto``: after every 20% of
                         the table's rows were updated; ``off``: never
max-lag        10s       wait while a standby's replay lag (pg_stat_replication) is above it
max-batch      200000    the largest batch ``auto`` may grow to
============== ========= =================================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pgshift.config import parse_duration
from pgshift.errors import InputError

if TYPE_CHECKING:
    from pgshift.migrations.statements import Statement

DIRECTIVE = "-- pgshift:backfill"
_OPTION = re.compile(r"^(?P<name>[a-z-]+)=(?P<value>\S+)$")


@dataclass(frozen=True)
class BackfillOptions:
    """How a backfill runs. ``batch_size`` None means adaptive; durations are in seconds."""

    batch_size: int | None = None
    target: float = 0.1
    pause: float = 0.01
    vacuum_every: int | None = None  # batches; None = auto
    vacuum: bool = True
    max_lag: float = 10.0
    max_batch: int = 200_000
    min_batch: int = 100
    first_batch: int = 1000

    @property
    def adaptive(self) -> bool:
        return self.batch_size is None


def parse_options(text: str) -> BackfillOptions:
    """``'batch-size=auto target=100ms'`` -> BackfillOptions; ValueError names what is wrong."""
    pairs: list[tuple[str, str]] = []
    for word in text.split():
        match = _OPTION.match(word)
        if match is None:
            raise ValueError(f"backfill option '{word}' is not name=value")
        pairs.append((match["name"], match["value"]))
    return options_from(pairs)


def options_from(pairs: list[tuple[str, str]]) -> BackfillOptions:
    """Options from (name, value) pairs, each value taken whole (a command line's flags:
    ``--batch-size 'auto target=5'`` is a bad batch size, not two options)."""
    options = BackfillOptions()
    for name, value in pairs:
        options = _set(options, name, value.strip())
    return options


_MAX_INT = 2**31 - 1  # the checkpoint's integer columns (pgshift.backfill.progress)


def _positive_int(name: str, value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= _MAX_INT:
        raise ValueError(f"{name} needs a whole number from 1 to {_MAX_INT}, not '{value}'")
    return int(value)


def _set(options: BackfillOptions, name: str, value: str) -> BackfillOptions:
    if name == "batch-size":
        size = None if value == "auto" else _positive_int(name, value)
        return replace(options, batch_size=size)
    if name in ("target", "pause", "max-lag"):
        seconds = parse_duration(value)
        if name == "target" and seconds <= 0:
            raise ValueError("target must be above 0")
        return replace(options, **{name.replace("-", "_"): seconds})
    if name == "vacuum":
        if value == "off":
            return replace(options, vacuum=False)
        if value == "auto":
            return replace(options, vacuum=True, vacuum_every=None)
        return replace(options, vacuum=True, vacuum_every=_positive_int(name, value))
    if name == "max-batch":
        return replace(options, max_batch=_positive_int(name, value))
    known = "batch-size, target, pause, vacuum, max-lag, max-batch"
    raise ValueError(f"unknown backfill option '{name}' (known: {known})")


def check_directive(argument: str, path: Path, line: int) -> None:
    """Validate a directive's options while the file is parsed (InputError at its line)."""
    try:
        parse_options(argument)
    except ValueError as exc:
        raise InputError(str(exc), path=path, line=line) from None


def marked_statements(source: str, statements: list[Statement]) -> dict[int, BackfillOptions]:
    """Index of each statement a ``-- pgshift:backfill`` line marks -> its options.

    A directive marks the next statement: the first one that ends after the directive line.
    """
    if DIRECTIVE not in source:
        return {}
    from pgshift.migrations.parse import directive_lines

    marks: list[tuple[int, str]] = []
    for match in directive_lines(source):  # comments only, not a string's lines
        name, _, argument = match[1].strip().partition(" ")
        if name == "backfill":
            marks.append((match.start(), argument.strip()))
    found: dict[int, BackfillOptions] = {}
    for mark_offset, argument in marks:
        index = next((i for i, s in enumerate(statements)
                      if s.offset + len(s.text) > mark_offset), None)
        if index is not None:
            found[index] = parse_options(argument)
    return found
