"""pgshift: zero-downtime PostgreSQL schema migrations.

The public API is ``pgshift.api`` (one function per verb), re-exported here lazily so that
``import pgshift`` stays cheap for the CLI.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Settings": "pgshift.config",
    "load_settings": ("pgshift.config", "load"),
    "PgshiftError": "pgshift.errors",
    "Migration": "pgshift.migrations.model",
    "Version": "pgshift.migrations.model",
    "Plan": "pgshift.plan",
    "PlanItem": "pgshift.plan",
    "HistoryEntry": "pgshift.state.history",
    "RunResult": "pgshift.api",
    "RepairResult": "pgshift.api",
    "adopt": "pgshift.api",
    "AdoptResult": "pgshift.adopt",
    "up_targets": "pgshift.api",
    "status_targets": "pgshift.api",
    "FleetResult": "pgshift.targets",
    "TargetResult": "pgshift.targets",
    "TargetStatus": "pgshift.targets",
    "backfill": "pgshift.api",
    "backfill_progress": "pgshift.api",
    "create_recipe": "pgshift.api",
    "BackfillOptions": "pgshift.backfill.options",
    "baseline": "pgshift.api",
    "schema_file_diff": "pgshift.api",
    "create": "pgshift.api",
    "create_from_drift": "pgshift.api",
    "DriftCapture": "pgshift.verify.drift.migration",
    "doctor": "pgshift.api",
    "down": "pgshift.api",
    "dump_migrations_schema": "pgshift.api",
    "dump_schema": "pgshift.api",
    "write_schema_file": "pgshift.api",
    "kill": "pgshift.api",
    "kill_stuck": "pgshift.api",
    "plan_locks": "pgshift.api",
    "ps": "pgshift.api",
    "rollback_plan": "pgshift.api",
    "log": "pgshift.api",
    "Run": "pgshift.state.runs",
    "schema_drift": "pgshift.api",
    "SchemaDrift": "pgshift.verify.schema_drift",
    "script": "pgshift.api",
    "Script": "pgshift.script",
    "squash": "pgshift.api",
    "Squash": "pgshift.squash",
    "BlockerWatch": "pgshift.monitor.blockers",
    "Snapshot": "pgshift.monitor.sessions",
    "redo": "pgshift.api",
    "repair": "pgshift.api",
    "status": "pgshift.api",
    "status_report": "pgshift.api",
    "StatusReport": "pgshift.api",
    "up": "pgshift.api",
    "validate": "pgshift.api",
    "verify": "pgshift.api",
    "VerifyOptions": "pgshift.verify",
    "VerifyReport": "pgshift.verify",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'pgshift' has no attribute {name!r}")
    module, attribute = target if isinstance(target, tuple) else (target, name)
    return getattr(import_module(module), attribute)
