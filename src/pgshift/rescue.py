"""Watch and rescue: what is migrating now (``ps``), cancelling or terminating a session
(``kill``, ``kill_stuck``) and an emergency rollback's plan (``rollback_plan``). ``ps`` and
``kill`` open a session named for the verb, which ``ps`` tells from the migrations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pgshift.api import _session, _status

if TYPE_CHECKING:
    from pgshift.config import Settings
    from pgshift.monitor.kill import KillResult
    from pgshift.monitor.rollback import RollbackPlan
    from pgshift.monitor.sessions import Snapshot


def ps(settings: Settings) -> Snapshot:
    """What is migrating now: pgshift's sessions, other DDL, locks, blockers and progress.

    Reads only, and works on a database where pgshift is not installed.
    """
    from pgshift.monitor.activity import snapshot

    with _session(settings, application_name=f"{settings.application_name} ps") as conn:
        return snapshot(conn, settings)


def kill(settings: Settings, pid: int, *, terminate: bool = False, grace: float | None = None,
         force: bool = False) -> KillResult:
    """Cancel a migration or DDL session's statement; terminate it (now, or after ``grace``).

    Refuses (InputError) a session that is neither a migration nor DDL unless ``force``.
    """
    from pgshift.monitor.kill import kill_session

    with _session(settings, application_name=f"{settings.application_name} kill") as conn:
        return kill_session(conn, settings, pid, terminate=terminate, grace=grace, force=force)


def kill_stuck(settings: Settings, *, older_than: float | None = None, terminate: bool = False,
               grace: float | None = None) -> list[KillResult]:
    """``kill`` every migration or DDL session running longer than ``older_than`` (the budget)."""
    from pgshift.config import DEFAULT_TIMEOUT
    from pgshift.monitor.kill import kill_stuck as kill_all

    # A budget of 0 is none: then 'stuck' is past the default budget, never every migration.
    limit = (settings.timeout or DEFAULT_TIMEOUT) if older_than is None else older_than
    with _session(settings, application_name=f"{settings.application_name} kill") as conn:
        return kill_all(conn, settings, older_than=limit, terminate=terminate, grace=grace)


def rollback_plan(settings: Settings, to: str) -> RollbackPlan:
    """Which migrations an emergency rollback to ``to`` takes down, and which cannot go.

    Reads only. Run it with ``plan.check()`` (refuses irreversible ones) then ``down(to=...)``.
    """
    from pgshift.monitor.rollback import plan_rollback

    return plan_rollback(_status(settings), to)

