"""The ``[targets]`` config table: the databases and tenant schemas to migrate together, each a
Target with the Settings that aim pgshift at it.

Every key of the table is optional and they add up::

    [targets]
    databases = ["shard_1", "postgresql://app@db2/shard_2"]  # a name (on the main URL) or a URL
    databases_query = "SELECT datname FROM pg_database WHERE datname LIKE 'shard\\_%'"
    databases_file = "shards.txt"                            # one per line, '#' comments
    schemas = ["tenant_a"]                                   # schema-per-tenant, main URL
    schemas_query = "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\\_%'"
    schemas_file = "tenants.txt"

Queries run on the main URL; files are relative to the config file. Each target has its own lock
and history: a database target uses the usual ones in its database; a schema target runs with
``search_path`` set to its schema (then ``public``), keeps its history in its own schema
(``pgshift_<tenant>``; past PostgreSQL's 63 bytes, the first 54 and a hash of the tenant) and
takes a lock of its own. A tenant name PostgreSQL would truncate or refuse (over 63 bytes,
``pg_*``, ``information_schema``, a ``"``) is a ConfigError before anything runs.
``${pgshift:target}`` and ``${pgshift:schema}`` name the target in SQL. pgshift's own schemas
are not tenants: a query's ``pgshift`` or ``pgshift_<tenant>`` (another tenant's history) is
left out, as it would otherwise become a tenant on the next run; listed, it is a ConfigError.
"""

from __future__ import annotations

import dataclasses
import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pgshift.config import NAMEDATALEN, Settings, schema_name
from pgshift.errors import ConfigError

KEYS = ("databases", "databases_query", "databases_file", "schemas", "schemas_query",
        "schemas_file")


@dataclass(frozen=True)
class Target:
    """One database or tenant schema, with the Settings that aim pgshift at it."""

    name: str
    kind: Literal["database", "schema"]
    settings: Settings
    # The name PostgreSQL cut a long tenant's history schema to, before history_schema hashed it.
    cut_history: str | None = None


def resolve_targets(settings: Settings) -> list[Target]:
    """The targets ``settings.targets`` names, in order, without duplicates."""
    spec = dict(settings.targets)
    unknown = sorted(set(spec) - set(KEYS))
    if unknown:
        raise ConfigError(f"unknown key 'targets.{unknown[0]}'", path=settings.config_path,
                          hint=f"known: {', '.join(KEYS)}")
    if not spec:
        raise ConfigError("no targets configured", path=settings.config_path,
                          hint="add a [targets] table with databases or schemas (see "
                               "docs/coming-from.md)")
    names: dict[str, list[str]] = {"database": [], "schema": []}
    given: set[str] = set()  # the tenants listed or in a file, not only found by a query
    for kind, key in (("database", "databases"), ("schema", "schemas")):
        listed = _listed(spec.get(key, []), key)
        queried = (_from_query(settings, str(spec[f"{key}_query"]), f"{key}_query")
                   if spec.get(f"{key}_query") else [])
        filed = (_from_file(settings, Path(str(spec[f"{key}_file"])), f"{key}_file")
                 if spec.get(f"{key}_file") else [])
        names[kind] = listed + queried + filed
        given |= set(listed + filed) if kind == "schema" else set()
    targets = [database_target(settings, n) for n in dict.fromkeys(names["database"])]
    tenants = _not_own(settings, list(dict.fromkeys(names["schema"])), given)
    targets += [schema_target(settings, n) for n in tenants]
    return targets


def _not_own(settings: Settings, tenants: list[str], given: set[str]) -> list[str]:
    """``tenants`` without pgshift's own schemas: its schema and the tenants' history schemas.

    A query listing every schema finds them after the first run; as tenants, they would get
    tables in a history schema and a history schema of their own, one level more every run.
    """
    own = {settings.schema: "pgshift's own schema"}
    own |= {history_schema(settings.schema, t): f"the history schema of tenant {t}"
            for t in tenants}
    for tenant in tenants:
        if tenant in own and tenant in given:
            raise ConfigError(f"tenant schema '{tenant}' is {own[tenant]}, not a tenant",
                              path=settings.config_path,
                              hint="leave it out of [targets]")
    return [t for t in tenants if t not in own]


def database_target(settings: Settings, name: str) -> Target:
    """A database: a URL or DSN as it is, or a name on the main URL's server."""
    from psycopg2.extensions import make_dsn

    from pgshift.db import describe

    if "://" in name or "=" in name:
        return Target(describe(name), "database", dataclasses.replace(
            settings, url=name, placeholders=_named(settings, describe(name), "public")))
    url = _with_dbname(settings.url or "", name) or make_dsn(settings.url or "", dbname=name)
    return Target(name, "database", dataclasses.replace(
        settings, url=url, placeholders=_named(settings, name, "public")))


def _with_dbname(url: str, name: str) -> str | None:
    """``url`` (a postgres:// URL) on database ``name``; None for a keyword DSN. A URL stays a
    URL, so that messages name the target as ``host:port/name``, not as a list of keywords."""
    from urllib.parse import quote, urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not parts.scheme.startswith("postgres") or "dbname=" in parts.query:
        return None
    return urlunsplit(parts._replace(path="/" + quote(name, safe="")))


def schema_target(settings: Settings, schema: str) -> Target:
    """A tenant schema in the main database: its search_path, history schema and lock."""
    from psycopg2.extensions import make_dsn, parse_dsn

    try:
        schema_name(schema)
    except ValueError as exc:
        raise ConfigError(f"tenant schema {exc}", path=settings.config_path,
                          hint="rename the schema or leave it out of [targets]") from None
    quoted = '"' + schema.replace('"', '""') + '"'
    option = "-c search_path=" + f"{quoted},public".replace("\\", "\\\\").replace(" ", "\\ ")
    existing = parse_dsn(settings.url or "").get("options", "")
    url = make_dsn(settings.url or "", options=f"{existing} {option}".strip())
    key = (settings.lock_key + zlib.crc32(schema.encode())) % (1 << 63)
    history = history_schema(settings.schema, schema)
    full = f"{settings.schema}_{schema}"
    cut = None if history == full else full.encode()[:NAMEDATALEN].decode("utf-8", "ignore")
    return Target(schema, "schema", dataclasses.replace(
        settings, url=url, schema=history, lock_key=key,
        placeholders=_named(settings, schema, schema)), cut_history=cut)


def history_schema(own: str, tenant: str) -> str:
    """Where a tenant's history lives: ``<own>_<tenant>``, or, when that is longer than
    PostgreSQL keeps (it would cut it, and two long tenants would share one history), its first
    54 bytes and 8 hex digits of the tenant's SHA-256. Names that fit never change, so
    databases migrated before keep their history."""
    name = f"{own}_{tenant}"
    if len(name.encode()) <= NAMEDATALEN:
        return name
    digest = hashlib.sha256(tenant.encode()).hexdigest()[:8]
    head = name.encode()[: NAMEDATALEN - 9].decode("utf-8", "ignore")  # whole characters only
    return f"{head}_{digest}"


def _named(settings: Settings, target: str, schema: str) -> dict[str, str]:
    return {**settings.placeholders, "pgshift:target": target, "pgshift:schema": schema}


def _listed(value: Any, key: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ConfigError(f"targets.{key} must be a list of names")
    return [str(v).strip() for v in value if str(v).strip()]


def _from_query(settings: Settings, query: str, key: str) -> list[str]:
    import psycopg2

    from pgshift.db import connect, redact

    # Read-only and rolled back: listing the targets must never change the database.
    conn = connect(settings, autocommit=False)
    try:
        with conn.cursor() as cur:
            cur.execute("SET TRANSACTION READ ONLY")
            cur.execute(query)
            if cur.description is None:
                raise ConfigError(f"targets.{key} returned no rows set", path=settings.config_path,
                                  hint="make it a SELECT of one column of names")
            return [str(row[0]) for row in cur.fetchall() if row and row[0] is not None]
    except psycopg2.Error as exc:
        diag = getattr(exc, "diag", None)
        first = (getattr(diag, "message_primary", None) or str(exc).strip()
                 or type(exc).__name__).splitlines()[0]
        raise ConfigError(f"targets.{key} failed: {redact(first, settings.url)}",
                          path=settings.config_path,
                          hint="make it a SELECT of one column of names") from None
    finally:
        conn.close()  # discards the transaction


def _from_file(settings: Settings, path: Path, key: str) -> list[str]:
    if not path.is_absolute() and settings.config_path is not None:
        path = settings.config_path.parent / path
    try:
        lines = path.read_text("utf-8-sig").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read targets.{key}: {exc.strerror}", path=path) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"targets.{key} is not UTF-8 (byte {exc.start + 1})", path=path,
                          hint="save it as UTF-8, one name per line") from None
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]
