"""The catalog queries of a schema snapshot (see ``verify.snapshot``): one per category.

Every query takes the excluded schema names as %(skip)s and returns (key, attributes...): the
key names the object (schema-qualified, never an OID), the attributes are compared.
"""

from __future__ import annotations

_NAMESPACE_FILTER = """
    n.nspname <> ALL(%(skip)s) AND n.nspname NOT LIKE 'pg\\_toast%%'
    AND n.nspname NOT LIKE 'pg\\_temp\\_%%'"""
_NOT_EXTENSION = """
    NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = {catalog}::regclass
                AND d.objid = {oid} AND d.deptype = 'e')"""
# An ACL as its items' text, in order; none when it holds what the object's default does (a
# grant revoked again leaves the owner's own privileges written out, and that is no drift).
_ACL = """array(SELECT x::text FROM unnest(
              CASE WHEN {acl} @> acldefault('{kind}', {owner})
                    AND {acl} <@ acldefault('{kind}', {owner}) THEN NULL ELSE {acl} END)
              AS x ORDER BY 1)"""
# Who owns an object, said only when not the role that ran the migrations (%(runner)s; see
# snapshot.migrations_role), whatever its name: so a round trip whose down forgets to give an
# object back shows, and so does an object a database has under another role, but not every
# object when a role other than the migrations' reads. None where the owner follows another
# object's.
_OWNER = "NULLIF({owner}::regrole::text, %(runner)s)"
_STORAGE = """CASE {storage} WHEN 'p' THEN 'PLAIN' WHEN 'e' THEN 'EXTERNAL' WHEN 'm' THEN 'MAIN'
                 WHEN 'x' THEN 'EXTENDED' END"""
_MAPPED = """CASE WHEN u.umuser = 0 THEN 'PUBLIC' WHEN u.umuser::regrole::text = %(runner)s
                  THEN 'CURRENT_USER' ELSE quote_ident(u.usename) END"""
_SHOWN = "ARRAY['user', 'username', 'password_required', 'sslcert', 'sslkey']"
# An aggregate's FINALFUNC_MODIFY (or MFINALFUNC_MODIFY), said where it has that function.
_MODIFY = """CASE WHEN {fn} <> 0 THEN CASE {modify} WHEN 'r' THEN 'READ_ONLY'
              WHEN 's' THEN 'SHAREABLE' WHEN 'w' THEN 'READ_WRITE' END END"""

QUERIES: dict[str, str] = {
    "schema": f"""
        SELECT n.nspname, {_ACL.format(acl="n.nspacl", kind="n", owner="n.nspowner")} AS grants,
               obj_description(n.oid, 'pg_namespace') AS comment,
               {_OWNER.format(owner="n.nspowner")} AS owner
        FROM pg_namespace n WHERE {_NAMESPACE_FILTER}
          AND {_NOT_EXTENSION.format(catalog="'pg_namespace'", oid="n.oid")}""",
    "table": f"""
        SELECT format('%%I.%%I', n.nspname, c.relname), c.relkind AS kind,
               c.relpersistence AS persistence, c.relrowsecurity AS row_security,
               c.relforcerowsecurity AS force_row_security, c.reloptions AS options,
               CASE WHEN c.relkind IN ('r', 'p') AND c.relreplident <> 'd'
                    THEN c.relreplident END AS replica_identity,
               (SELECT quote_ident(ic.relname) FROM pg_index ri
                JOIN pg_class ic ON ic.oid = ri.indexrelid
                WHERE c.relreplident = 'i' AND ri.indrelid = c.oid AND ri.indisreplident)
                   AS replica_index,
               pg_get_partkeydef(c.oid) AS partition_key,
               CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END
                   AS partition_bound,
               array(SELECT i.inhparent::regclass::text FROM pg_inherits i
                     WHERE i.inhrelid = c.oid ORDER BY i.inhseqno) AS inherits,
               {_ACL.format(acl="c.relacl", kind="r", owner="c.relowner")} AS grants,
               obj_description(c.oid, 'pg_class') AS comment,
               CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS definition,
               {_OWNER.format(owner="c.relowner")} AS owner
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {_NAMESPACE_FILTER}
          AND {_NOT_EXTENSION.format(catalog="'pg_class'", oid="c.oid")}""",
    "column": f"""
        SELECT format('%%I.%%I.%%I', n.nspname, c.relname, a.attname),
               row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum) AS position,
               format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
               pg_get_expr(ad.adbin, ad.adrelid) AS default,
               NULLIF(a.attidentity, '') AS identity, NULLIF(a.attgenerated, '') AS generated,
               CASE WHEN a.attcollation <> t.typcollation THEN a.attcollation::regcollation::text
               END AS collation,
               NULLIF(a.attstattarget, -1) AS statistics_target,  -- 17+: NULL, before: -1
               -- SET STORAGE, where not its type's (and then what its type's is: what a
               -- reset goes back to); SET COMPRESSION, where set
               CASE WHEN a.attstorage <> t.typstorage THEN format('%%s (its type has %%s)',
                    {_STORAGE.format(storage="a.attstorage")},
                    {_STORAGE.format(storage="t.typstorage")}) END AS storage,
               CASE a.attcompression WHEN 'p' THEN 'pglz' WHEN 'l' THEN 'lz4' END AS compression,
               {_ACL.format(acl="a.attacl", kind="c", owner="c.relowner")} AS grants,
               col_description(c.oid, a.attnum) AS comment
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_type t ON t.oid = a.atttypid
        LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
        WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND {_NAMESPACE_FILTER}
          AND {_NOT_EXTENSION.format(catalog="'pg_class'", oid="c.oid")}""",
    "constraint": f"""
        SELECT format('%%I.%%I on %%s', n.nspname, co.conname,
                      CASE WHEN co.conrelid <> 0 THEN co.conrelid::regclass::text
                           ELSE co.contypid::regtype::text END),
               co.contype AS type, pg_get_constraintdef(co.oid) AS definition,
               co.convalidated AS valid, co.condeferrable AS deferrable,
               co.condeferred AS deferred
        FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace
        WHERE {_NAMESPACE_FILTER} AND co.conparentid = 0 AND co.conislocal
          AND {_NOT_EXTENSION.format(catalog="'pg_constraint'", oid="co.oid")}""",
    "index": f"""
        SELECT format('%%I.%%I', n.nspname, c.relname), pg_get_indexdef(c.oid) AS definition,
               i.indisvalid AS valid, i.indisready AS ready, i.indisprimary AS primary,
               i.indisclustered AS clustered,
               (SELECT h.inhparent::regclass::text FROM pg_inherits h
                WHERE h.inhrelid = c.oid) AS partition_of
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {_NAMESPACE_FILTER}
          AND {_NOT_EXTENSION.format(catalog="'pg_class'", oid="i.indrelid")}""",
    # Its settings (an identity column's sequence too), not its current value (last_value,
    # is_called): that is data, and a round trip that inserts rows moves it on, rightly. One
    # OWNED BY a column (serial, identity) has its table's owner: never said apart.
    "sequence": f"""
        SELECT format('%%I.%%I', n.nspname, c.relname), format_type(s.seqtypid, NULL) AS type,
               s.seqstart AS start, s.seqincrement AS increment, s.seqmin AS min,
               s.seqmax AS max, s.seqcache AS cache, s.seqcycle AS cycle, o.owned_by,
               {_ACL.format(acl="c.relacl", kind="s", owner="c.relowner")} AS grants,
               CASE WHEN o.owned_by IS NULL THEN {_OWNER.format(owner="c.relowner")} END AS owner
        FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN LATERAL (
            SELECT format('%%s.%%I', d.refobjid::regclass, a.attname) AS owned_by
            FROM pg_depend d JOIN pg_attribute a
              ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
            WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
              AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0 LIMIT 1) o ON true
        WHERE {_NAMESPACE_FILTER}
          AND {_NOT_EXTENSION.format(catalog="'pg_class'", oid="c.oid")}""",
    "function": f"""
        SELECT format('%%I.%%I(%%s)', n.nspname, p.proname,
                      pg_get_function_identity_arguments(p.oid)),
               p.prokind AS kind, pg_get_functiondef(p.oid) AS definition,
               {_ACL.format(acl="p.proacl", kind="f", owner="p.proowner")} AS grants,
               obj_description(p.oid, 'pg_proc') AS comment,
               {_OWNER.format(owner="p.proowner")} AS owner
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.prokind <> 'a' AND {_NAMESPACE_FILTER}
          AND {_NOT_EXTENSION.format(catalog="'pg_proc'", oid="p.oid")}
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                          AND d.objid = p.oid AND d.deptype = 'i')  -- a range's constructors""",
    "trigger": f"""
        SELECT format('%%I on %%s', t.tgname, t.tgrelid::regclass),
               pg_get_triggerdef(t.oid) AS definition, t.tgenabled AS enabled
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND {_NAMESPACE_FILTER}
          AND {_NOT_EXTENSION.format(catalog="'pg_class'", oid="c.oid")}""",
    "type": f"""
        SELECT format('%%I.%%I', n.nspname, t.typname), t.typtype AS kind,
               CASE WHEN t.typtype = 'e' THEN array(
                   SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid
                   ORDER BY e.enumsortorder) END AS labels,
               CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END
                   AS base_type,
               CASE WHEN t.typtype = 'd' THEN t.typnotnull END AS not_null,
               t.typdefault AS default,
               CASE WHEN t.typtype = 'c' THEN array(
                   SELECT format('%%I %%s', a.attname, format_type(a.atttypid, a.atttypmod))
                   FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0
                     AND NOT a.attisdropped ORDER BY a.attnum) END AS attributes,
               (SELECT concat_ws(', ', 'SUBTYPE = ' || format_type(r.rngsubtype, NULL),
                       format('SUBTYPE_OPCLASS = %%I.%%I', ocn.nspname, oc.opcname),
                       'COLLATION = ' || NULLIF(r.rngcollation, 0)::regcollation::text,
                       'CANONICAL = ' || NULLIF(r.rngcanonical, 0)::regproc::text,
                       'SUBTYPE_DIFF = ' || NULLIF(r.rngsubdiff, 0)::regproc::text,
                       (SELECT 'MULTIRANGE_TYPE_NAME = ' || d.objid::regtype::text
                        FROM pg_depend d JOIN pg_type m ON m.oid = d.objid
                        WHERE d.classid = 'pg_type'::regclass AND d.refobjid = t.oid
                          AND d.deptype = 'i' AND m.typtype = 'm'))
                FROM pg_range r JOIN pg_opclass oc ON oc.oid = r.rngsubopc
                JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace
                WHERE r.rngtypid = t.oid) AS range,
               {_ACL.format(acl="t.typacl", kind="T", owner="t.typowner")} AS grants,
               CASE WHEN t.typtype <> 'm'  -- a multirange has its range's
                    THEN {_OWNER.format(owner="t.typowner")} END AS owner
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        LEFT JOIN pg_class c ON c.oid = t.typrelid
        WHERE t.typtype IN ('e', 'd', 'c', 'r', 'm') AND (c.oid IS NULL OR c.relkind = 'c')
          AND {_NAMESPACE_FILTER}
          AND {_NOT_EXTENSION.format(catalog="'pg_type'", oid="t.oid")}""",
    "policy": f"""
        SELECT format('%%I on %%I.%%I', p.policyname, p.schemaname, p.tablename),
               p.permissive, p.roles::text[] AS roles, p.cmd AS command, p.qual AS using,
               p.with_check
        FROM pg_policies p JOIN pg_namespace n ON n.nspname = p.schemaname
        WHERE {_NAMESPACE_FILTER}""",
    "extension": """
        SELECT e.extname, e.extversion AS version, n.nspname AS schema
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname <> 'plpgsql'""",
    "rule": f"""
        SELECT format('%%I on %%s', r.rulename, r.ev_class::regclass),
               pg_get_ruledef(r.oid) AS definition, r.ev_enabled AS enabled
        FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE r.rulename <> '_RETURN' AND {_NAMESPACE_FILTER}
          AND {_NOT_EXTENSION.format(catalog="'pg_class'", oid="c.oid")}""",
    "statistics": f"""
        SELECT format('%%I.%%I', n.nspname, s.stxname),
               pg_get_statisticsobjdef(s.oid) AS definition,
               NULLIF(s.stxstattarget, -1) AS statistics_target,  -- 17+: NULL, before: -1
               {_OWNER.format(owner="s.stxowner")} AS owner
        FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
        WHERE {_NAMESPACE_FILTER}
          AND {_NOT_EXTENSION.format(catalog="'pg_statistic_ext'", oid="s.oid")}""",
    "aggregate": f"""
        SELECT format('%%I.%%I(%%s)', n.nspname, p.proname,
                      pg_get_function_identity_arguments(p.oid)),
               concat_ws(', ', 'SFUNC = ' || a.aggtransfn::text,
                         'STYPE = ' || format_type(a.aggtranstype, NULL),
                         'FINALFUNC = ' || NULLIF(a.aggfinalfn, 0)::regproc::text,
                         'COMBINEFUNC = ' || NULLIF(a.aggcombinefn, 0)::regproc::text,
                         'INITCOND = ' || quote_literal(a.agginitval),
                         'KIND = ' || a.aggkind::text,
                         CASE WHEN a.aggfinalextra THEN 'FINALFUNC_EXTRA' END,
                         'FINALFUNC_MODIFY = ' || {_MODIFY.format(fn="a.aggfinalfn",
                                                                   modify="a.aggfinalmodify")},
                         'SERIALFUNC = ' || NULLIF(a.aggserialfn, 0)::regproc::text,
                         'DESERIALFUNC = ' || NULLIF(a.aggdeserialfn, 0)::regproc::text,
                         'MSFUNC = ' || NULLIF(a.aggmtransfn, 0)::regproc::text,
                         'MINVFUNC = ' || NULLIF(a.aggminvtransfn, 0)::regproc::text,
                         'MSTYPE = ' || format_type(NULLIF(a.aggmtranstype, 0), NULL),
                         'MSSPACE = ' || NULLIF(a.aggmtransspace, 0),
                         'MFINALFUNC = ' || NULLIF(a.aggmfinalfn, 0)::regproc::text,
                         CASE WHEN a.aggmfinalextra THEN 'MFINALFUNC_EXTRA' END,
                         'MFINALFUNC_MODIFY = ' || {_MODIFY.format(fn="a.aggmfinalfn",
                                                                    modify="a.aggmfinalmodify")},
                         'MINITCOND = ' || quote_literal(a.aggminitval),
                         'SORTOP = OPERATOR(' || NULLIF(a.aggsortop, 0)::regoper::text || ')',
                         'SSPACE = ' || NULLIF(a.aggtransspace, 0),
                         'PARALLEL = ' || CASE p.proparallel WHEN 's' THEN 'SAFE'
                                          WHEN 'r' THEN 'RESTRICTED' END) AS definition,
               {_ACL.format(acl="p.proacl", kind="f", owner="p.proowner")} AS grants,
               obj_description(p.oid, 'pg_proc') AS comment,
               {_OWNER.format(owner="p.proowner")} AS owner
        FROM pg_proc p JOIN pg_aggregate a ON a.aggfnoid = p.oid
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE {_NAMESPACE_FILTER}
          AND {_NOT_EXTENSION.format(catalog="'pg_proc'", oid="p.oid")}""",
    "collation": f"""
        SELECT format('%%I.%%I', n.nspname, c.collname),
               (to_jsonb(c) - 'oid' - 'collname' - 'collnamespace' - 'collowner'
                - 'collversion')::text AS definition,
               {_OWNER.format(owner="c.collowner")} AS owner
        FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace
        WHERE {_NAMESPACE_FILTER}
          AND {_NOT_EXTENSION.format(catalog="'pg_collation'", oid="c.oid")}""",
    # Whose they are is said only when not the role that ran the migrations: the replay's
    # role need not be the one that ran them on the target. So that role's own privileges
    # are OWNER's, whatever its name.
    "default privileges": """
        SELECT concat_ws(' ', 'for role ' || NULLIF(d.defaclrole::regrole::text, %(runner)s),
                         'in schema ' || n.nspname,
                         'on ' || CASE d.defaclobjtype WHEN 'r' THEN 'tables'
                                  WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions'
                                  WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas'
                                  ELSE d.defaclobjtype::text END),
               array(SELECT format('%%s %%s%%s', CASE WHEN x.grantee = 0 THEN 'PUBLIC'
                                                  WHEN x.grantee = d.defaclrole THEN 'OWNER'
                                                  ELSE x.grantee::regrole::text END,
                                   x.privilege_type,
                                   CASE WHEN x.is_grantable THEN ' WITH GRANT OPTION' END)
                     FROM aclexplode(d.defaclacl) x ORDER BY 1) AS grants
        FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
        WHERE n.oid IS NULL OR n.nspname <> ALL(%(skip)s)""",
    "event trigger": f"""
        SELECT e.evtname, e.evtevent AS event, e.evtfoid::regproc::text AS function,
               e.evtenabled AS enabled, e.evttags::text[] AS tags,
               {_OWNER.format(owner="e.evtowner")} AS owner
        FROM pg_event_trigger e
        WHERE {_NOT_EXTENSION.format(catalog="'pg_event_trigger'", oid="e.oid")}""",
    # Each table as CREATE PUBLICATION takes it: its column list and row filter with it.
    "publication": f"""
        SELECT p.pubname, (to_jsonb(p) - 'oid' - 'pubname' - 'pubowner')::text AS options,
               array(SELECT concat(r.prrelid::regclass::text, ' (' || (
                          SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                          FROM pg_attribute a WHERE a.attrelid = r.prrelid
                            AND a.attnum = ANY(r.prattrs::int2[])) || ')',
                          ' WHERE (' || pg_get_expr(r.prqual, r.prrelid) || ')')
                     FROM pg_publication_rel r WHERE r.prpubid = p.oid ORDER BY 1) AS tables,
               array(SELECT s.pnnspid::regnamespace::text FROM pg_publication_namespace s
                     WHERE s.pnpubid = p.oid ORDER BY 1) AS schemas,
               {_OWNER.format(owner="p.pubowner")} AS owner
        FROM pg_publication p""",
    "foreign data wrapper": f"""
        SELECT w.fdwname, NULLIF(w.fdwhandler, 0)::regproc::text AS handler,
               NULLIF(w.fdwvalidator, 0)::regproc::text AS validator, w.fdwoptions AS options,
               {_ACL.format(acl="w.fdwacl", kind="F", owner="w.fdwowner")} AS grants,
               {_OWNER.format(owner="w.fdwowner")} AS owner
        FROM pg_foreign_data_wrapper w
        WHERE {_NOT_EXTENSION.format(catalog="'pg_foreign_data_wrapper'", oid="w.oid")}""",
    "foreign server": f"""
        SELECT s.srvname, w.fdwname AS wrapper, s.srvtype AS type, s.srvversion AS version,
               s.srvoptions AS options,
               {_ACL.format(acl="s.srvacl", kind="S", owner="s.srvowner")} AS grants,
               {_OWNER.format(owner="s.srvowner")} AS owner
        FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
        WHERE {_NOT_EXTENSION.format(catalog="'pg_foreign_server'", oid="s.oid")}""",
    # Options but a few known harmless ones may hold a password: their values are compared as
    # a digest (``secrets``, never shown), and only their names listed. The role that reads is
    # CURRENT_USER, whatever its name (as for default privileges).
    "user mapping": f"""
        SELECT format('for %%s server %%I', {_MAPPED}, u.srvname), {_MAPPED} AS role,
               u.srvname AS server,
               array(SELECT o.option_name || '=' || CASE WHEN o.option_name = ANY({_SHOWN})
                                                   THEN o.option_value ELSE '********' END
                     FROM pg_options_to_table(u.umoptions) o ORDER BY 1) AS options,
               (SELECT encode(sha256(convert_to(string_agg(o.option_name || '=' || o.option_value,
                                                           E'\n' ORDER BY o.option_name),
                                                'UTF8')), 'hex')
                FROM pg_options_to_table(u.umoptions) o
                WHERE o.option_name <> ALL({_SHOWN})) AS secrets
        FROM pg_user_mappings u""",
}
