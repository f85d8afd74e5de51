"""Every lint rule, imported through this explicit list (no directory scanning).

Importing a module registers its rule (``@register``). Tier A rules run by default; tier B
rules are advisory and run only when selected (``--select tier-b`` or by id).
"""

from __future__ import annotations

from importlib import import_module

TIER_A = (
    "create_index_non_concurrent",
    "drop_index_non_concurrent",
    "concurrently_in_transaction",
    "reindex_non_concurrent",
    "add_column_volatile_default",
    "add_column_serial_or_identity",
    "add_column_generated_stored",
    "add_column_not_null_no_default",
    "add_column_constrained_domain",
    "set_not_null_without_check",
    "add_check_without_not_valid",
    "add_foreign_key_without_not_valid",
    "validate_in_same_transaction",
    "add_unique_constraint_without_index",
    "add_primary_key_without_index",
    "add_exclusion_constraint",
    "alter_column_type_rewrite",
    "drop_column",
    "rename_column",
    "rename_table",
    "drop_table",
    "drop_schema_or_database",
    "drop_not_null",
    "truncate_cascade",
    "missing_lock_timeout",
    "vacuum_full_or_cluster",
    "refresh_matview_non_concurrent",
    "detach_partition_non_concurrent",
    "attach_partition_without_check",
    "create_partition_of",
    "alter_table_rewrite_option",
    "lock_table_explicit",
    "rename_enum_value",
    "rename_schema",
    "unbatched_backfill",
    "uncommitted_transaction",
    "transaction_nesting",
    "alter_domain_add_constraint",
    "enum_value_used_in_transaction",
)
META = ("unused_ignore",)
TIER_B = (
    "missing_statement_timeout",
    "create_index_in_exclusive_transaction",
    "concurrent_index_pg14_corruption",
    "create_domain_with_constraint",
    "enum_value_ordering",
    "add_column_json",
    "prefer_robust_stmts",
    "prefer_bigint",
    "prefer_identity",
    "prefer_timestamptz",
    "prefer_text_field",
    "ban_char_field",
    "identifier_too_long",
    "require_table_schema",
    "wide_non_unique_index",
    "drop_foreign_key",
    "drop_constraint",
    "create_trigger_on_hot_table",
    "unique_may_fail_on_duplicates",
    "change_default_partial_inserts",
    "naming_convention",
    "column_alignment",
    "ban_duplicate_column_assignments",
)
MODULES = TIER_A + META + TIER_B

for _name in MODULES:
    import_module(f"{__name__}.{_name}")
