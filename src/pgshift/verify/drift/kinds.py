"""What the drift writer knows of each kind of object in the catalog snapshot
(``pgshift.verify.snapshot``), and a TODO line for whatever it does not.

``HANDLED`` names, for each kind, the attributes its writer takes care of: it writes their
changes as SQL, or says in a TODO line of its own that they are to write by hand. A kind the
snapshot has and this does not (one added to the snapshot later), or an attribute of a known
kind that this does not name, is never left out of a migration in silence: ``unhandled`` makes
it a TODO line. A test reads a snapshot holding an object of every kind and fails where this
lags behind it. Owners are written apart (``drift.owners``): the writers here never see them.
"""

from __future__ import annotations

from pgshift.verify.drift.change import Catalogs, differing

HANDLED: dict[str, frozenset[str]] = {kind: frozenset(attributes) for kind, attributes in {
    "schema": ("grants", "comment", "owner"),
    "table": ("kind", "persistence", "row_security", "force_row_security", "options",
              "replica_identity", "replica_index", "partition_key", "partition_bound",
              "inherits", "grants", "comment", "definition", "owner"),
    "column": ("position", "type", "not_null", "default", "identity", "generated", "collation",
               "statistics_target", "storage", "compression", "grants", "comment"),
    "constraint": ("type", "definition", "valid", "deferrable", "deferred"),
    "index": ("definition", "valid", "ready", "primary", "clustered", "partition_of"),
    "sequence": ("type", "start", "increment", "min", "max", "cache", "cycle", "owned_by",
                 "grants", "owner"),
    "function": ("kind", "definition", "grants", "comment", "owner"),
    "trigger": ("definition", "enabled"),
    "type": ("kind", "labels", "base_type", "not_null", "default", "attributes", "range",
             "grants", "owner"),
    "policy": ("permissive", "roles", "command", "using", "with_check"),
    "extension": ("version", "schema"),
    "rule": ("definition", "enabled"),
    "statistics": ("definition", "statistics_target", "owner"),
    "aggregate": ("definition", "grants", "comment", "owner"),
    "collation": ("definition", "owner"),
    "default privileges": ("grants",),
    "event trigger": ("event", "function", "enabled", "tags", "owner"),
    "publication": ("options", "tables", "schemas", "owner"),
    "foreign data wrapper": ("handler", "validator", "options", "grants", "owner"),
    "foreign server": ("wrapper", "type", "version", "options", "grants", "owner"),
    "user mapping": ("role", "server", "options", "secrets"),
}.items()}

# What a new (or dropped) table, column or function is written with: its writer makes the
# others TODO lines (``unwritten``).
_WITH_IT = {"table": {"kind", "persistence", "definition", "partition_key", "partition_bound",
                      "inherits", "row_security", "force_row_security", "replica_identity",
                      "replica_index", "grants", "comment"},
            "column": {"position", "type", "not_null", "default", "identity", "generated",
                       "collation", "statistics_target", "storage", "compression", "grants",
                       "comment"},
            "function": {"kind", "definition", "grants", "comment"}}


def unwritten(catalogs: Catalogs) -> None:
    """A TODO line for what a new (or dropped) table, column or function has that is not
    written with it (a table's storage settings)."""
    for category, written in _WITH_IT.items():
        for key, before, after in catalogs.pairs(category):
            if before is not None and after is not None:
                continue  # changes: said where they are handled
            state = after if after is not None else before
            assert state is not None
            extra = sorted(a for a, v in state.items()
                           if a not in written and a in HANDLED[category]
                           and v not in (None, [], False))
            if category == "table" and state.get("persistence") not in (None, "p", "u"):
                extra.append("persistence")
            if extra:
                catalogs.todo.append(f"{category} {key}: {', '.join(extra)} not written")


def unhandled(catalogs: Catalogs) -> None:
    """A TODO line for each object of a kind this does not know, and for each attribute of a
    known kind that it does not name and that differs (or that an object made or dropped
    has)."""
    kinds = list(dict.fromkeys([*catalogs.expected, *catalogs.actual]))
    for category in kinds:
        known = HANDLED.get(category)
        for key, before, after in catalogs.pairs(category):
            if known is None:
                what = ("only in the database" if before is None else "dropped from the "
                        "database" if after is None else
                        f"{', '.join(differing(before, after))} differ")
                catalogs.todo.append(f"{category} {key}: {what} (no writer for this kind yet)")
                continue
            if before is not None and after is not None:
                rest = differing(before, after, tuple(known))
            else:
                state = after if after is not None else before
                assert state is not None
                rest = sorted(a for a, v in state.items()
                              if a not in known and v not in (None, [], False))
            if rest:
                catalogs.todo.append(f"{category} {key}: {', '.join(rest)} not written (no "
                                     f"writer for {'it' if len(rest) == 1 else 'them'} yet)")
