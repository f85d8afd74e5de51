"""Many targets: several databases, or one schema per tenant in one database, migrated together.

The ``[targets]`` table of the config names them; every key is optional and they add up::

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

``up_all`` migrates every target with bounded parallelism; a failure on one does not stop the
others unless ``fail_fast`` (those not started are then ``skipped``), and a rerun picks up
where each target stopped, since each keeps its own history. Ctrl-C or SIGTERM (which reach the
main thread only) cancel the statement each running target is at, as they do for one database,
and start no other target: ``up_all`` raises ``FleetInterrupted``, which carries the results.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from pgshift.config import NAMEDATALEN, Settings, schema_name
from pgshift.errors import ConfigError, PgshiftError

KEYS = ("databases", "databases_query", "databases_file", "schemas", "schemas_query",
        "schemas_file")
Status = Literal["applied", "up-to-date", "failed", "skipped"]
T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    """One database or tenant schema, with the Settings that aim pgshift at it."""

    name: str
    kind: Literal["database", "schema"]
    settings: Settings
    # The name PostgreSQL cut a long tenant's history schema to, before history_schema hashed it.
    cut_history: str | None = None


@dataclass(frozen=True)
class TargetResult:
    """What ``up`` did on one target."""

    target: str
    status: Status
    applied: int = 0
    error: str | None = None
    exit_code: int = 0
    duration_ms: float = 0.0


@dataclass(frozen=True)
class TargetStatus:
    """One target's line in the fleet view."""

    target: str
    applied: int = 0
    pending: int = 0
    failed: int = 0
    drift: int = 0
    head: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class FleetResult:
    """Every target's result, in target order."""

    results: list[TargetResult]

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def exit_code(self) -> int:
        """0 when no target failed, else the first failed target's exit code."""
        return next((r.exit_code for r in self.results if r.status == "failed"), 0)


# -- finding the targets --------------------------------------------------------------------------


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


# -- running --------------------------------------------------------------------------------------


class FleetInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped ``up_all``: ``fleet`` has each target's result, the running
    ones ``failed`` (their statement cancelled), those not started ``skipped``."""

    def __init__(self, fleet: FleetResult) -> None:
        super().__init__()
        self.fleet = fleet


INTERRUPTED = "interrupted: its running statement was cancelled and rolled back"


def up_all(settings: Settings, *, parallel: int = 4, fail_fast: bool = False,
           dry_run: bool = False, on_done: Callable[[TargetResult], None] | None = None,
           targets: list[Target] | None = None, **up_options: Any) -> FleetResult:
    """``api.up`` on every target (``targets``, else those configured), ``parallel`` at a
    time; ``up_options`` go to each ``api.up``. See the module docstring.

    Raises FleetInterrupted (a KeyboardInterrupt) once the running targets have stopped, when a
    signal interrupts it.
    """
    targets = resolve_targets(settings) if targets is None else targets
    stop = threading.Event()
    running = _Running()

    def run(target: Target) -> TargetResult:
        if not running.enter(stop):
            result = TargetResult(target.name, "skipped")
        else:
            started = time.perf_counter()
            try:
                result = _up_one(target, dry_run, up_options)
            except KeyboardInterrupt:  # the fleet was interrupted: see _fleet_wait
                result = TargetResult(target.name, "failed", error=INTERRUPTED, exit_code=130,
                                      duration_ms=_since(started))
            finally:
                running.leave()
            if result.status == "failed" and fail_fast:
                stop.set()
        if on_done is not None:
            on_done(result)
        return result

    def interrupt() -> None:
        stop.set()
        running.interrupt()

    with _waiting_interruptibly():
        results = _map(run, targets, parallel, on_interrupt=interrupt)
    fleet = FleetResult([r if r is not None else TargetResult(t.name, "skipped")
                         for t, r in zip(targets, results, strict=True)])
    if stop.is_set() and running.interrupted:
        raise FleetInterrupted(fleet)
    return fleet


def status_all(settings: Settings, *, parallel: int = 4) -> list[TargetStatus]:
    """Every target's counts (applied, pending, failed, drift) and head version."""
    return [line for line in _map(_status_one, resolve_targets(settings), parallel)
            if line is not None]


def _up_one(target: Target, dry_run: bool, options: dict[str, Any]) -> TargetResult:
    from pgshift import api

    started = time.perf_counter()
    try:
        _refuse_cut_history(target)
        if target.kind == "schema" and not dry_run:
            _create_schema(target)
        result = api.up(target.settings, dry_run=dry_run, **options)
    except PgshiftError as exc:
        return TargetResult(target.name, "failed", error=_safe(str(exc), target),
                            exit_code=exc.exit_code, duration_ms=_since(started))
    except Exception as exc:  # a bug on one target must not hide the others' results
        return TargetResult(target.name, "failed", exit_code=70, duration_ms=_since(started),
                            error=_safe(f"internal error: {type(exc).__name__}: {exc}", target))
    count = len(result.selected) if dry_run else len(result.outcomes)
    return TargetResult(target.name, "applied" if count else "up-to-date", count,
                        duration_ms=_since(started))


def _status_one(target: Target) -> TargetStatus:
    from pgshift import api

    try:
        _refuse_cut_history(target)
        plan = api.status(target.settings)
    except PgshiftError as exc:
        return TargetStatus(target.name, error=_safe(str(exc), target))
    applied = plan.applied()
    return TargetStatus(
        target.name, applied=len(applied), pending=len(plan.pending()),
        failed=sum(1 for i in plan.items if i.state == "failed"), drift=len(plan.drift()),
        head=applied[-1].version if applied else None)


def _refuse_cut_history(target: Target) -> None:
    """A long tenant's history may sit in the name PostgreSQL cut it to, perhaps shared with
    another tenant: starting afresh would rerun every migration, so the user picks the owner."""
    if target.cut_history is None:
        return
    from pgshift.db import connect

    conn = connect(target.settings)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT array_agg(nspname) FROM pg_namespace WHERE nspname = ANY(%s)",
                        ([target.cut_history, target.settings.schema],))
            found = cur.fetchone()[0] or []
    finally:
        conn.close()
    if found == [target.cut_history]:
        raise ConfigError(
            f"tenant {target.name}: its history is in {target.cut_history}, a name PostgreSQL "
            f"cut short and that another long tenant may share",
            hint=f'if it is this tenant\'s, ALTER SCHEMA "{target.cut_history}" RENAME TO '
                 f'"{target.settings.schema}"')


def _create_schema(target: Target) -> None:
    """A tenant's schema must exist, or its tables would land in ``public``."""
    from psycopg2 import sql

    from pgshift.db import connect

    conn = connect(target.settings)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = %s)",
                        (target.name,))
            if cur.fetchone()[0]:
                cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    sql.Identifier(target.name)))
    finally:
        conn.close()


def _map(function: Callable[[Target], T], targets: list[Target], parallel: int, *,
         on_interrupt: Callable[[], None] | None = None) -> list[T | None]:
    """``function`` on every target, ``parallel`` at a time, in target order. On Ctrl-C:
    without ``on_interrupt``, leave at once; with it, call it, start no other target (its
    result is None) and wait for the running ones. A second Ctrl-C leaves at once."""
    if parallel < 1:
        raise ConfigError(f"--parallel must be at least 1, not {parallel}")
    pool = ThreadPoolExecutor(max_workers=min(parallel, max(1, len(targets))),
                              thread_name_prefix="pgshift-target")
    try:
        futures = [pool.submit(function, target) for target in targets]
        try:
            return [future.result() for future in futures]
        except KeyboardInterrupt:
            if on_interrupt is None:
                raise
            for future in futures:
                future.cancel()
            on_interrupt()
            return [None if future.cancelled() else future.result() for future in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


class _Running:
    """The threads running a target now; ``interrupt`` has each cancel its statement."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: set[int] = set()
        self.interrupted = False

    def enter(self, stop: threading.Event) -> bool:
        with self._lock:
            if stop.is_set():
                return False
            self._threads.add(threading.get_ident())
            return True

    def leave(self) -> None:
        with self._lock:
            self._threads.discard(threading.get_ident())
            _TO_INTERRUPT.discard(threading.get_ident())

    def interrupt(self) -> None:
        with self._lock:
            self.interrupted = True
            _TO_INTERRUPT.update(self._threads)


# The threads whose next wait for the server is interrupted, once: a signal reaches only the
# main thread, and the worker threads' statements must be cancelled as the main thread's are.
_TO_INTERRUPT: set[int] = set()


@contextmanager
def _waiting_interruptibly() -> Iterator[None]:
    """psycopg2's wait callback is the process's: ``_fleet_wait`` while targets run."""
    import psycopg2.extensions

    before = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(_fleet_wait)
    try:
        yield
    finally:
        psycopg2.extensions.set_wait_callback(before)


def _fleet_wait(conn: Any) -> None:
    """``pgshift.db``'s wait callback, and one thing more: a worker thread in
    ``_TO_INTERRUPT`` acts as if Ctrl-C had reached it (once): it cancels its statement on the
    server and raises KeyboardInterrupt."""
    from pgshift.db import _interruptible_wait

    _interruptible_wait(conn, _interrupted_here)


def _interrupted_here() -> bool:
    """Whether this worker thread is to stop (asked once: it stops then)."""
    me = threading.get_ident()
    if me in _TO_INTERRUPT:
        _TO_INTERRUPT.discard(me)
        return True
    return False




def _safe(text: str, target: Target) -> str:
    from pgshift.db import redact

    return redact(text, target.settings.url)


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
