"""Recipe partition-table: turn a loaded table into a range-partitioned one without copying it.

The table is not rewritten. A partitioned twin is built beside it, empty, with a first partition
for the rows to come; a validated CHECK proves every existing row is below the cutoff; then, in
one short transaction, the table steps aside, the twin takes its name and the table becomes the
twin's partition for everything below the cutoff (the CHECK spares ATTACH's scan). The app sees
the same name and columns throughout.

What the twin cannot inherit without a rewrite or a scan under a lock (identity and generated
columns, foreign keys that point at the table, views, triggers, row security, publications,
column privileges, inheritance, constraints not validated yet) is refused up front by a guard,
which names what it found.
"""

from __future__ import annotations

import re
from dataclasses import replace

from pgshift.recipes.constraints import validated
from pgshift.recipes.model import (
    RecipeParams,
    Step,
    bare,
    ident,
    literal,
    object_name,
    qualified,
    schema_prefix,
)

# What the guard refuses: each query yields a reason (naming what it found) for relation ``t``,
# or nothing; the guard collects them into one message.
_REFUSALS = (
    ("SELECT 'is not a plain permanent table' WHERE NOT EXISTS (SELECT 1 FROM pg_class "
     "WHERE oid = t AND relkind = 'r' AND relpersistence = 'p' AND NOT relispartition)"),
    ("SELECT 'inherits or is inherited: ' || string_agg(CASE WHEN inhrelid = t "
     "THEN inhparent ELSE inhrelid END::regclass::text, ', ') FROM pg_inherits "
     "WHERE t IN (inhrelid, inhparent) HAVING count(*) > 0"),
    ("SELECT 'identity or generated columns: ' || string_agg(quote_ident(attname), ', ') "
     "FROM pg_attribute WHERE attrelid = t AND attnum > 0 AND NOT attisdropped "
     "AND (attidentity <> '' OR attgenerated <> '') HAVING count(*) > 0"),
    ("SELECT 'foreign keys that reference it: ' || string_agg(conrelid::regclass::text || '.' "
     "|| quote_ident(conname), ', ') FROM pg_constraint WHERE confrelid = t AND contype = 'f' "
     "HAVING count(*) > 0"),
    ("SELECT 'views or rules that use it: ' || string_agg(DISTINCT r.ev_class::regclass::text, "
     "', ') FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid WHERE d.classid = "
     "'pg_rewrite'::regclass AND d.refobjid = t AND r.ev_class <> t HAVING count(*) > 0"),
    ("SELECT 'triggers: ' || string_agg(quote_ident(tgname), ', ') FROM pg_trigger "
     "WHERE tgrelid = t AND NOT tgisinternal HAVING count(*) > 0"),
    ("SELECT 'row level security' FROM pg_class WHERE oid = t AND relrowsecurity"),
    ("SELECT 'publications: ' || string_agg(p.pubname, ', ') FROM pg_publication_rel r "
     "JOIN pg_publication p ON p.oid = r.prpubid WHERE r.prrelid = t HAVING count(*) > 0"),
    ("SELECT 'column privileges on: ' || string_agg(quote_ident(attname), ', ') "
     "FROM pg_attribute WHERE attrelid = t AND attacl IS NOT NULL HAVING count(*) > 0"),
    # A partitioned table takes no NOT VALID foreign key (before PostgreSQL 18), and ATTACH
    # would have to validate the partition's under its lock: VALIDATE them first.
    ("SELECT 'constraints not validated yet (VALIDATE them first): ' || "
     "string_agg(quote_ident(conname), ', ') FROM pg_constraint WHERE conrelid = t "
     "AND NOT convalidated HAVING count(*) > 0"),
)


def partition_table(p: RecipeParams) -> list[Step]:
    """Four migrations: the partitioned twin; the cutoff CHECK NOT VALID; VALIDATE; the swap."""
    if not (p.table and p.column and p.cutoff and p.until):
        p.need("partition-table", "table", "column", "cutoff", "until")
    assert p.table and p.column and p.cutoff and p.until
    name = bare(p.table)
    twin_name, legacy_name = (object_name(name, suffix="partitioned"),
                              object_name(name, suffix="legacy"))
    schema = schema_prefix(p.table)
    table, key = qualified(p.table), ident(p.column)
    twin, legacy = schema + ident(twin_name), schema + ident(legacy_name)
    first = schema + ident(first_partition(p))
    check = object_name(name, suffix="below_cutoff")
    cutoff, until = p.cutoff.strip(), p.until.strip()

    create = Step(
        f"create_{name}_partitioned",
        f"Build {p.table}'s partitioned twin, empty, with a first partition for "
        f"{p.column} from {cutoff} to {until}.",
        [_guard(table),
         f"CREATE TABLE {twin} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
         f"INCLUDING STORAGE INCLUDING COMMENTS) PARTITION BY RANGE ({key});",
         f"CREATE TABLE {first} (LIKE {table} INCLUDING ALL);",
         f"ALTER TABLE {twin} ATTACH PARTITION {first} FOR VALUES FROM ({cutoff}) TO ({until});",
         _copy_foreign_keys(table, twin),
         copy_access(table, (twin, first))],
        [f"DROP TABLE IF EXISTS {twin};"],
        notes=["The twin and its partition copy the table's columns, defaults, CHECKs, NOT "
               "NULLs, foreign keys, owner and privileges; the partition also copies its "
               "indexes. The twin itself has no index: each partition has the table's own.",
               "The guard stops here, before anything changes, if the table has what a "
               "partitioned twin cannot take over without a scan under a lock."])

    below = f"CHECK ({key} IS NOT NULL AND {key} < {cutoff})"
    guarded = validated(p.table, check, below, "check constraint")
    guarded[0].notes[:] = [
        f"From here on {p.table} refuses rows with {p.column} >= {cutoff}: choose a cutoff "
        "beyond every value the app writes before the swap (the last step) runs.",
        "A NULL key is refused from here on, and an existing one fails VALIDATE: no range "
        "partition can hold it."]
    guarded[1] = replace(guarded[1], down=[_unvalidate_if_there(table, check, below)], notes=[
        "The down part makes the CHECK NOT VALID again, unless the swap's down dropped it: "
        "the rows it moved back are past the cutoff, and so may be the app's next ones."])

    swap = Step(
        f"swap_{name}_for_partitioned",
        f"Swap: {p.table} becomes the partition of its twin for {p.column} below {cutoff}; "
        "the twin takes the name. No copy, no scan.",
        [_guard(table), _require_validated(table, check),
         f"ALTER TABLE {table} RENAME TO {ident(legacy_name)};",
         "-- pgshift:ignore rename-table -- no code uses the twin's name: it was made for this",
         f"ALTER TABLE {twin} RENAME TO {ident(name)};",
         f"ALTER TABLE {table} ATTACH PARTITION {legacy} FOR VALUES FROM (MINVALUE) "
         f"TO ({cutoff});",
         _move_sequences(legacy, table)],
        [f"ALTER TABLE {table} DETACH PARTITION {legacy};",
         _move_sequences(table, legacy),
         f"ALTER TABLE {table} RENAME TO {ident(twin_name)};",
         f"ALTER TABLE {legacy} RENAME TO {ident(name)};",
         _drop_check_if_rows(table, twin, check, p.column, cutoff),
         f"INSERT INTO {table} SELECT * FROM {twin};",
         f"TRUNCATE {twin};"],
        notes=["The swap holds ACCESS EXCLUSIVE on the table for a moment (renames and a "
               "catalog-only ATTACH), under lock_timeout with retries like every migration.",
               "Sequences owned by the table's columns pass to the twin's. The CHECK stays on "
               "the old table, now a partition: it says what its bounds say.",
               "ON CONFLICT needs a unique index on the partitioned table, which has none: "
               "check the app's queries first ('pgshift verify --queries').",
               "The down part moves the rows written since the swap back into the table. If "
               "there are any, they are past the cutoff and the CHECK goes: to swap again, "
               "roll back to before the CHECK and choose a later cutoff."])
    return [create, *guarded, swap]


def first_partition(p: RecipeParams) -> str:
    """The name of the twin's first partition (from the cutoff): --partition, or derived."""
    assert p.table and p.cutoff
    return p.partition or object_name(bare(p.table), suffix=_words(p.cutoff))


def refusals_from(target: str) -> str:
    """A query for why the table ``target`` (an SQL expression of type regclass) cannot be
    swapped: one row per reason, none when it can. The guard runs it, and so does ``create``
    when the database is reachable, to refuse before writing anything."""
    checks = "\n    UNION ALL ".join(f"({sql})" for sql in _REFUSALS)
    return (f"SELECT reason FROM (SELECT {target} AS t) AS target, LATERAL (\n"
            f"    {checks}\n  ) AS refused(reason)")


def _guard(table: str) -> str:
    """A DO block that raises, naming everything found, if the table cannot be swapped."""
    return (
        "DO $pgshift$\nDECLARE\n  found text;\nBEGIN\n"
        "  SELECT string_agg(reason, '; ') INTO found FROM (\n"
        f"  {refusals_from(literal(table) + '::regclass')}\n  ) AS why;\n"
        "  IF found IS NOT NULL THEN\n"
        f"    RAISE EXCEPTION 'recipe partition-table cannot swap %: %', {literal(table)}, found\n"
        "      USING HINT = 'see the partition-table recipe in docs/zero-downtime.md';\n"
        "  END IF;\nEND $pgshift$;")


def _drop_check_if_rows(table: str, twin: str, check: str, column: str, cutoff: str) -> str:
    """A DO block dropping the cutoff CHECK when rows written since the swap (all past the
    cutoff) are about to come back; with none, the table is left exactly as before the swap."""
    news = (f"rows with {column} >= {cutoff} were written since the swap: they go back into "
            f"{table}, and CHECK {check} is dropped")
    return (
        "DO $pgshift$\nBEGIN\n"
        f"  IF EXISTS (SELECT 1 FROM {twin}) THEN\n"
        f"    ALTER TABLE {table} DROP CONSTRAINT {ident(check)};\n"
        f"    RAISE NOTICE '%', {literal(news)};\n"
        "  END IF;\nEND $pgshift$;")


def _unvalidate_if_there(table: str, check: str, definition: str) -> str:
    """A DO block putting the CHECK back to NOT VALID (drop it, add it NOT VALID: no scan), if
    it is still there."""
    return (
        "DO $pgshift$\nBEGIN\n"
        "  IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = "
        f"{literal(table)}::regclass AND conname = {literal(check)}) THEN\n"
        f"    ALTER TABLE {table} DROP CONSTRAINT {ident(check)};\n"
        f"    ALTER TABLE {table} ADD CONSTRAINT {ident(check)} {definition} NOT VALID;\n"
        "  END IF;\nEND $pgshift$;")


def _require_validated(table: str, check: str) -> str:
    """A DO block that raises unless the cutoff CHECK is there and validated: without it,
    ATTACH would read the whole table under its lock."""
    return (
        "DO $pgshift$\nBEGIN\n"
        "  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = "
        f"{literal(table)}::regclass\n"
        f"                 AND conname = {literal(check)} AND convalidated) THEN\n"
        f"    RAISE EXCEPTION 'CHECK {check} is missing or not validated: ATTACH would scan "
        f"{table} under its lock'\n"
        "      USING HINT = 'roll back to before the migration that adds it, then apply "
        "again';\n"
        "  END IF;\nEND $pgshift$;")


def copy_access(source: str, targets: tuple[str, ...]) -> str:
    """A DO block giving ``targets`` the owner and table privileges of ``source``."""
    names = ", ".join(f"{literal(t)}::regclass" for t in targets)
    return (
        "DO $pgshift$\nDECLARE\n"
        f"  src regclass := {literal(source)}::regclass;\n"
        "  dst regclass;\n  owner name;\n  r record;\nBEGIN\n"
        "  SELECT pg_get_userbyid(relowner) INTO owner FROM pg_class WHERE oid = src;\n"
        f"  FOREACH dst IN ARRAY ARRAY[{names}] LOOP\n"
        "    IF owner <> current_user THEN\n"
        "      EXECUTE format('ALTER TABLE %s OWNER TO %I', dst, owner);\n"
        "    END IF;\n"
        "    FOR r IN SELECT a.privilege_type, a.grantee, a.is_grantable\n"
        "             FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = src LOOP\n"
        "      EXECUTE format('GRANT %s ON %s TO %s%s', r.privilege_type, dst,\n"
        "        CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee))"
        " END,\n"
        "        CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);\n"
        "    END LOOP;\n  END LOOP;\nEND $pgshift$;")


def _copy_foreign_keys(source: str, target: str) -> str:
    """A DO block adding ``source``'s foreign keys to ``target`` under the same names: on the
    empty twin they check nothing, and ATTACH later adopts the table's own as the partition's."""
    return (
        "DO $pgshift$\nDECLARE\n  r record;\nBEGIN\n"
        "  FOR r IN SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint\n"
        f"           WHERE conrelid = {literal(source)}::regclass AND contype = 'f' LOOP\n"
        "    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', "
        f"{literal(target)}::regclass, r.conname, r.def);\n"
        "  END LOOP;\nEND $pgshift$;")


def _move_sequences(source: str, target: str) -> str:
    """A DO block passing the sequences owned by ``source``'s columns to ``target``'s columns
    of the same names, so dropping ``source`` one day does not take them along."""
    return (
        "DO $pgshift$\nDECLARE\n  r record;\nBEGIN\n"
        "  FOR r IN SELECT d.objid::regclass AS seq, a.attname\n"
        "           FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid "
        "AND a.attnum = d.refobjsubid\n"
        "           JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'\n"
        "           WHERE d.classid = 'pg_class'::regclass AND d.refclassid = "
        "'pg_class'::regclass\n"
        f"             AND d.refobjid = {literal(source)}::regclass AND d.deptype = 'a' LOOP\n"
        "    EXECUTE format('ALTER SEQUENCE %s OWNED BY %s.%I', r.seq, "
        f"{literal(target)}::regclass, r.attname);\n"
        "  END LOOP;\nEND $pgshift$;")


def _words(value: str) -> str:
    """A name part from an SQL value: ``'2027-01-01'`` -> ``2027_01_01``."""
    return re.sub(r"[^0-9a-zA-Z]+", "_", value).strip("_").lower() or "next"
