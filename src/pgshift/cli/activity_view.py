"""How ``pgshift ps`` shows a Snapshot: plain text, JSON, and rich renderables for ``--watch``.

Plain text and JSON import nothing heavy; rich is imported only by ``watch_renderable``.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from pgshift.cli import render

if TYPE_CHECKING:
    from pgshift.backfill.progress import BackfillProgress
    from pgshift.monitor.progress import Progress
    from pgshift.monitor.sessions import Session, Snapshot
    from pgshift.state.lock import LockHolder

STATEMENT_WIDTH = 60


# -- words shared by every output ---------------------------------------------------------------


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 120:
        return f"{value:.1f}s"
    if value < 7200:
        return f"{int(value // 60)}m{int(value % 60):02d}s"
    return f"{int(value // 3600)}h{int(value % 3600 // 60):02d}m"


def role_text(session: Session) -> str:
    if session.role == "migration":
        number = f", statement {session.statement}" if (session.statement or 1) > 1 else ""
        return f"migration {session.migration} ({session.direction}{number})"
    if session.role == "pgshift":
        words = session.application_name.split(" ", 1)
        return f"pgshift {words[1] if len(words) > 1 else 'runner'}"
    if session.role == "ddl":
        if session.command is None:
            strongest = max(session.holds, key=lambda lock: lock.rank)
            return f"DDL (holds {strongest.mode})"
        return f"DDL {session.command}"
    if session.role == "maintenance":
        command = session.progress.command if session.progress is not None else ""
        from pgshift.monitor.sessions import AUTOVACUUM

        autovacuum = "autovacuum " if session.backend_type == AUTOVACUUM else ""
        return (autovacuum + command).strip() or session.role
    return session.role


def client_text(session: Session) -> str:
    who = f"{session.user or '?'}@{session.client}"
    if session.role in ("migration", "pgshift") or not session.application_name:
        return who
    return f"{session.application_name} {who}"


def state_text(session: Session) -> str:
    state = "hidden" if session.hidden else session.state or session.backend_type or "?"
    if session.wait_event_type and session.wait_event_type != "Client":
        state += f", waits {session.wait_event_type}:{session.wait_event}"
    return state


def lock_text(session: Session) -> str:
    if session.waiting_for is not None:
        return f"waits {session.waiting_for.describe()}"
    if not session.holds:
        return "-"
    strongest = max(session.holds, key=lambda lock: lock.rank)
    more = f" (+{len(session.holds) - 1})" if len(session.holds) > 1 else ""
    return f"holds {strongest.describe()}{more}"


def statement_text(session: Session, width: int = STATEMENT_WIDTH) -> str:
    from pgshift.monitor.ddl import main_statement, running_statement

    query = session.query
    if session.hidden:
        return query  # "<insufficient privilege>": no statement to find in it
    if session.statement:
        statement = running_statement(query, session.statement, session.migration)
        if statement is None and session.migration:
            return f"(statement {session.statement}: past the text the server shows)"
    else:
        statement = None
    text = " ".join((statement or main_statement(query)).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def blocking_lines(snapshot: Snapshot) -> list[str]:
    """The blocking tree: each session that blocks others, with those it blocks indented under."""
    tree = snapshot.blocked_by_pid()
    lines: list[str] = []

    def walk(session: Session, depth: int, seen: frozenset[int]) -> None:
        prefix = "  " + "   " * (depth - 1) + "└─ " if depth else "  "
        lines.append(prefix + _node_text(session))
        for child in tree.get(session.pid, []):
            if child.pid not in seen:
                walk(child, depth + 1, seen | {child.pid})

    for root in snapshot.blocking_roots():
        walk(root, 0, frozenset({root.pid}))
    return lines


def _node_text(session: Session) -> str:
    head = f"{session.pid} {role_text(session)} [{client_text(session)}]"
    if session.waiting:
        what = session.waiting_for.describe() if session.waiting_for else session.wait_event
        doing = f"waiting {seconds(session.wait_s)} for {what}"
    elif session.idle_in_transaction:
        doing = f"idle in transaction for {seconds(session.state_age_s)}"
    else:
        doing = f"{session.state} for {seconds(session.query_age_s)}"
    return f"{head}, {doing}: {statement_text(session, 50)}"


def progress_text(progress: Progress, *, with_pid: bool = True) -> str:
    target = progress.relation or "?"
    if progress.index:
        target += f" ({progress.index})"
    text = f"{progress.pid}  " if with_pid else ""
    text += f"{progress.command} on {target}: {progress.phase}"
    if progress.total:
        text += f", {progress.unit} {progress.done}/{progress.total} ({progress.percent:.1f}%)"
    elif progress.done:
        text += f", {progress.unit} {progress.done}"
    if progress.waiting_for_pid:
        text += f", waiting for pid {progress.waiting_for_pid}"
    return text


def backfill_text(backfill: BackfillProgress) -> str:
    text = f"{backfill.id} on {backfill.table_name}: {backfill.rows_done} rows"
    if backfill.keys_total:
        fraction = backfill.fraction or 0.0
        text += f", keys {backfill.keys_done}/{backfill.keys_total} ({fraction * 100:.1f}%)"
    if backfill.rows_per_second:
        text += f", {backfill.rows_per_second:,.0f} rows/s"
    eta = backfill.eta_seconds
    if eta is not None and backfill.status == "running":
        text += f", ETA {seconds(eta)}"
    return f"{text} [{backfill.status}]"


def header_lines(snapshot: Snapshot) -> list[str]:
    major, minor = divmod(snapshot.server_version, 10000)
    lines = [f"Database {snapshot.database} (PostgreSQL {major}.{minor}) at "
             f"{snapshot.taken_at:%Y-%m-%d %H:%M:%S%z}"]
    holder = snapshot.migration_lock
    lines.append(f"Migration lock: held by {_holder_text(holder)}" if holder
                 else "Migration lock: free")
    if not snapshot.pgshift_installed:
        lines.append("(pgshift is not installed on this database)")
    elif not snapshot.backfills_readable:
        lines.append("(this role may not read pgshift's tables: backfills are not shown)")
    return lines


def _holder_text(holder: LockHolder) -> str:
    """Who holds the migration lock; a role that may not see the holder's session (another
    role's, without pg_read_all_stats) has no start time nor client address for it."""
    if holder.since is not None:
        return holder.describe()
    return f"pid {holder.pid} ({holder.application_name or 'unknown application'})"


# -- plain text and JSON ------------------------------------------------------------------------


def print_snapshot(snapshot: Snapshot, out: TextIO) -> None:
    for line in header_lines(snapshot):
        out.write(line + "\n")
    out.write("\n")
    if not snapshot.sessions:
        out.write("Nothing is migrating: no pgshift session, DDL, index build or blocker.\n")
    else:
        rows = [[str(s.pid), role_text(s), client_text(s), state_text(s),
                 seconds(s.xact_age_s if s.xact_age_s is not None else s.query_age_s),
                 lock_text(s), statement_text(s)] for s in snapshot.sessions]
        render.table(rows, ["PID", "ROLE", "CLIENT", "STATE", "AGE", "LOCK", "STATEMENT"], out)
    sections = [("Blocking", blocking_lines(snapshot)),
                ("Progress", ["  " + progress_text(s.progress) for s in snapshot.sessions
                              if s.progress is not None]),
                ("Backfills", ["  " + backfill_text(b) for b in snapshot.backfills])]
    for title, lines in sections:
        if lines:
            out.write(f"\n{title}:\n" + "\n".join(lines) + "\n")


def snapshot_json(snapshot: Snapshot) -> dict[str, Any]:
    sessions = []
    for session in snapshot.sessions:
        data = dataclasses.asdict(session)
        data["wait_s"] = session.wait_s
        # "statement" is the text the table shows; the migration's statement number (the
        # table's "statement 2") keeps a key of its own
        data["statement_number"] = session.statement
        data["statement"] = statement_text(session, 10_000)
        if session.progress is not None:
            data["progress"]["percent"] = session.progress.percent
        sessions.append(data)
    backfills = []
    for backfill in snapshot.backfills:
        data = dataclasses.asdict(backfill)
        data["fraction"], data["eta_s"] = backfill.fraction, backfill.eta_seconds
        backfills.append(data)
    lock = snapshot.migration_lock
    return {
        "taken_at": snapshot.taken_at, "database": snapshot.database,
        "server_version": snapshot.server_version,
        "pgshift_installed": snapshot.pgshift_installed,
        "backfills_readable": snapshot.backfills_readable,
        "migration_lock": dataclasses.asdict(lock) if lock else None,
        "sessions": sessions,
        "blocking": [{"pid": pid, "blocks": [s.pid for s in blocked]}
                     for pid, blocked in sorted(snapshot.blocked_by_pid().items())],
        "backfills": backfills,
    }


def dump_json(snapshot: Snapshot, out: TextIO) -> None:
    render.print_json(snapshot_json(snapshot), out, default=_json_default)


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)



# -- rich, for --watch --------------------------------------------------------------------------


def watch_renderable(snapshot: Snapshot, interval: float) -> Any:
    """The screen ``ps --watch`` draws: header, sessions table, blocking tree, progress bars."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = [Text("\n".join(header_lines(snapshot)) +
                             f"  (every {interval:g}s, Ctrl-C to quit)", style="bold")]
    if not snapshot.sessions:
        parts.append(Text("Nothing is migrating: no pgshift session, DDL, index build or "
                          "blocker."))
    else:
        table = Table(expand=False, show_edge=False, pad_edge=False)
        for column in ("PID", "ROLE", "CLIENT", "STATE", "AGE", "LOCK", "STATEMENT"):
            table.add_column(column, overflow="fold" if column == "STATEMENT" else "ellipsis")
        for s in snapshot.sessions:
            style = {"migration": "cyan", "blocker": "red", "waiting": "yellow"}.get(s.role)
            table.add_row(str(s.pid), role_text(s), client_text(s), state_text(s),
                          seconds(s.xact_age_s if s.xact_age_s is not None else s.query_age_s),
                          lock_text(s), statement_text(s, 40), style=style)
        parts.append(table)
    blocking = blocking_lines(snapshot)
    if blocking:
        parts.append(Text("Blocking:\n" + "\n".join(blocking), style="red"))
    progress = [s.progress for s in snapshot.sessions if s.progress is not None]
    if progress:
        parts.append(Text("Progress:\n" + "\n".join(f"  {_bar(p.percent)} {progress_text(p)}"
                                                    for p in progress)))
    if snapshot.backfills:
        parts.append(Text("Backfills:\n" + "\n".join(
            f"  {_bar((b.fraction or 0) * 100 if b.fraction is not None else None)} "
            f"{backfill_text(b)}" for b in snapshot.backfills)))
    return Group(*parts)


def _bar(percent: float | None, width: int = 20) -> str:
    if percent is None:
        return "[" + "?" * width + "]"
    filled = int(width * percent / 100)
    return "[" + "#" * filled + "." * (width - filled) + "]"
