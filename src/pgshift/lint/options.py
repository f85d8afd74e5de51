"""LintOptions: how to lint (server version, runner, rules, where the schema comes from)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pgshift.errors import ConfigError
from pgshift.lint.catalog_rows import SMALL_TABLE_ROWS

Runner = Literal["pgshift", "psql"]
DEFAULT_PG_VERSION = 15
# Selection keywords besides rule ids.
GROUPS = ("all", "default", "tier-a", "tier-b")


@dataclass(frozen=True)
class LintOptions:
    """Options of one lint run.

    ``select`` None means the default rules (tier A); otherwise exactly the named rules, where
    ``all``, ``default``/``tier-a`` and ``tier-b`` name groups. ``ignore`` removes rules.
    ``lock_timeout`` is what ``--runner pgshift`` sets for every statement (0: nothing).
    ``cache_dir`` None disables the result cache; ``jobs`` None uses every CPU.
    """

    pg_version: int = DEFAULT_PG_VERSION
    runner: Runner = "pgshift"
    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    schema_file: Path | None = None
    database_url: str | None = None
    lock_timeout: float = 0.5
    small_table_rows: int = SMALL_TABLE_ROWS
    cache_dir: Path | None = None
    jobs: int | None = None
    # ``${name}`` values filled before linting, as ``up`` fills them ([placeholders]).
    placeholders: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.runner not in ("pgshift", "psql"):
            raise ConfigError(f"unknown runner '{self.runner}'", hint="use pgshift or psql")
        if not 9 <= self.pg_version <= 30:
            raise ConfigError(f"unsupported PostgreSQL version {self.pg_version}",
                              hint="give the major version, e.g. --pg-version 15")

    def rule_ids(self) -> frozenset[str]:
        """The ids of the rules to run; unknown ids are a ConfigError."""
        from pgshift.lint.rule import all_rules

        rules = all_rules()
        tiers = {"all": {"A", "B", "meta"}, "default": {"A", "meta"}, "tier-a": {"A", "meta"},
                 "tier-b": {"B"}}
        chosen: set[str] = set()
        for name in self.select if self.select is not None else ("default",):
            if name in tiers:
                chosen |= {i for i, r in rules.items() if r.tier in tiers[name]}
            elif name in rules:
                chosen.add(name)
            else:
                raise _unknown(name, "--select")
        for name in self.ignore:
            if name not in rules and name not in tiers:
                raise _unknown(name, "--ignore")
            if name in rules and rules[name].always:
                raise ConfigError(
                    f"rule {name} cannot be ignored: it finds statements PostgreSQL refuses "
                    "to run where they are, so the migration would fail",
                    hint=f"fix the file instead; 'pgshift lint --explain {name}' says how")
            chosen -= {i for i, r in rules.items() if r.tier in tiers[name]} if name in tiers \
                else {name}
        return frozenset(chosen | {i for i, r in rules.items() if r.always})

    def fingerprint(self) -> str:
        """What the lint result depends on, besides the files (for the cache key)."""
        parts = [str(self.pg_version), self.runner, ",".join(sorted(self.rule_ids())),
                 repr(self.lock_timeout > 0), str(self.small_table_rows),
                 repr(self.placeholders)]
        if self.schema_file is not None:
            try:
                parts.append(hashlib.sha256(self.schema_file.read_bytes()).hexdigest())
            except OSError:
                parts.append(str(self.schema_file))
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _unknown(name: str, flag: str) -> ConfigError:
    return ConfigError(f"{flag}: unknown rule '{name}'",
                       hint="'pgshift lint --explain all' lists the rules")
