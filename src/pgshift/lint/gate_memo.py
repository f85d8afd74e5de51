"""The ``up`` lint gate's passes, remembered: the same files over the same schema pass again.

The gate lints the pending migrations against the live schema, which takes the parser and the
rules (about 70 ms to import, before any work). Deploying the same files to a database whose
schema the linter sees the same way as one where they passed (a fresh CI database, the next
of many targets, a retried deploy) needs none of it. The key covers everything the gate's
verdict depends on: the linter's code and pglast (``engine_fingerprint``), the options, the
catalog as the linter reads it (its fingerprint, computed by the server: pgshift's own schema
left out; a hit transfers it alone, not the rows, tens of MB on a big schema), and
each pending file's name, checksum and up part as it will run (placeholders filled), in
order. Only passes are remembered; a refusal is linted, and explained, every time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pgshift import cache_files

if TYPE_CHECKING:
    from pgshift.migrations.model import Migration

_FILE = "lint-gate.marshal"
_KEEP = 256  # the most recent passes


def gate_key(catalog: str, pending: Sequence[Migration], options: tuple[object, ...]) -> str:
    """The memo's key for linting ``pending`` over a database whose catalog has the fingerprint
    ``catalog`` (``pgshift.lint.catalog_rows.fetch_catalog_unless`` has the server compute it,
    and reads the rows only when the key is not remembered)."""
    from pgshift.lint.cache import engine_fingerprint

    parts = [engine_fingerprint(), repr(options), catalog]
    # The checksum covers the file (directives too); the up part as it will run covers what
    # placeholders filled in, which the checksum leaves out.
    parts += [f"{m.name}\0{m.checksum}\0{hashlib.sha256(m.up_sql.encode()).hexdigest()}"
              for m in pending]
    return hashlib.sha256("\0\0".join(parts).encode()).hexdigest()


def passed(cache_dir: Path, key: str) -> bool:
    return key in _load(cache_dir / _FILE)


def remember_pass(cache_dir: Path, key: str) -> None:
    file = cache_dir / _FILE
    earlier = [k for k in _load(file) if k != key]
    cache_files.write(file, [*earlier[-(_KEEP - 1):], key])


def _load(file: Path) -> list[str]:
    keys = cache_files.read(file)
    return [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []
