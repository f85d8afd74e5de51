"""``ThrowawayServer``: a private PostgreSQL cluster in a temp dir, removed on close.

It runs ``initdb`` into a fresh temp dir (under ``/dev/shm`` when it has room: on disk,
CREATE DATABASE is ~20x slower), starts the server with ``pg_ctl -w`` on a free port on
127.0.0.1 (its unix socket in the same temp dir, durability off since the data is
disposable), and on ``close()`` stops it with ``-m immediate`` and removes the dir.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from pgshift.server.binaries import ServerError, detect_version_num, find_bindir
from pgshift.server.user import reachable_bindir, service_user, traversable_by

_SUPERUSER = "postgres"
_OWNER_FILE = "owner.pid"  # the pid of the process that created the cluster
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes on Linux; leave room for ".s.PGSQL.NNNNN"
_SHM = Path("/dev/shm")
_SHM_MIN_FREE = 2 * 1024**3  # a cluster is ~40 MB, but tests may load data; Docker's is 64 MB

_LOG_LINE = re.compile(r"^.*?\b(LOG|WARNING|ERROR|FATAL|PANIC):\s+(.*)$", re.M)

_DEFAULT_SETTINGS: dict[str, str] = {
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    # Dynamic shared memory in files of the data directory (pg_dynshmem), not /dev/shm: a
    # server that dies without its shutdown (SIGKILL, an orphan reaped) leaves its segments
    # behind, and only in the directory removed with it do they not outlive it.
    "dynamic_shared_memory_type": "mmap",
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _reap_abandoned(parent: Path) -> None:
    """Stop and remove the clusters in ``parent`` whose creating process died (SIGKILL...).

    A process killed without running ``close()`` leaves its server running; in /dev/shm that
    holds memory until reboot.
    """
    for tmp in parent.glob("pgshift-*"):
        try:
            owner = int((tmp / _OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # not a cluster (a copy of binaries), or still being created
        if _alive(owner):
            continue
        postmaster = _postmaster_pid(tmp / "data")
        if postmaster is not None:
            with contextlib.suppress(OSError):
                os.kill(postmaster, signal.SIGQUIT)  # immediate shutdown
            deadline = time.monotonic() + 10
            while _alive(postmaster) and time.monotonic() < deadline:
                time.sleep(0.05)
        shutil.rmtree(tmp, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (an orphan's reaper may be slow)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def _postmaster_pid(datadir: Path) -> int | None:
    """The running postmaster of ``datadir`` (checked against its command line), or None."""
    try:
        pid = int((datadir / "postmaster.pid").read_text().split("\n", 1)[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if str(datadir).encode() in cmdline else None


def _has_room(path: Path) -> bool:
    """Whether ``path`` is a writable directory with room for a few clusters."""
    try:
        st = os.statvfs(path)
    except OSError:
        return False
    return os.access(path, os.W_OK | os.X_OK) and st.f_bavail * st.f_frsize >= _SHM_MIN_FREE


def _conf_value(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


class ThrowawayServer:
    """A private PostgreSQL cluster in a temp dir, removed on ``close()``.

    ``settings`` are extra ``postgresql.conf`` settings (e.g.
    ``{"shared_preload_libraries": "pg_stat_statements"}``); they override the defaults
    (fsync, full_page_writes and synchronous_commit off). ``base_dir`` is where the temp
    dir goes (default: ``/dev/shm`` if it has 2 GiB free, else the system temp dir).
    ``prefer_major`` picks a major version when no ``bindir`` is given. ``standby_of`` makes
    this server a streaming replica (read-only, ``pg_is_in_recovery()``) of a running one,
    cloned with ``pg_basebackup``; ``promote()`` turns it into a primary.
    """

    def __init__(
        self,
        bindir: str | Path | None = None,
        *,
        prefer_major: int | None = None,
        settings: Mapping[str, str | int | float | bool] | None = None,
        base_dir: str | Path | None = None,
        standby_of: ThrowawayServer | None = None,
        start_timeout: int = 120,
    ) -> None:
        if standby_of is not None and bindir is None and prefer_major is None:
            bindir = standby_of.bindir
        self.bindir = find_bindir(prefer_major, bindir=bindir)
        self.standby_of = standby_of
        self.version_num = detect_version_num(self.bindir)
        self.settings: dict[str, str | int | float | bool] = {
            **_DEFAULT_SETTINGS,
            **(settings or {}),
        }
        self.port = 0
        self._base_dir = Path(base_dir) if base_dir is not None else None
        self._start_timeout = start_timeout
        self._user = service_user()
        self._tmp: Path | None = None
        self._running = False

    # -- public surface ---------------------------------------------------

    @property
    def url(self) -> str:
        """Superuser URL to the ``postgres`` maintenance database."""
        return self.url_for("postgres")

    def url_for(self, dbname: str) -> str:
        """Superuser URL to database ``dbname`` on this server."""
        from urllib.parse import quote

        return f"postgresql://{_SUPERUSER}@127.0.0.1:{self.port}/{quote(dbname, safe='')}"

    @property
    def datadir(self) -> Path:
        return self._root / "data"

    @property
    def socket_dir(self) -> Path:
        return self._root

    @property
    def log_path(self) -> Path:
        return self._root / "server.log"

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        """Start the server, running ``initdb`` first the first time."""
        if self._running:
            return
        if self._tmp is None:
            self._create()
        for attempt in range(3):
            if attempt or not self.port:
                self.port = _free_port()
                self._write_port()
            try:
                self._pg_ctl(
                    "start", "-w", "-t", str(self._start_timeout), "-l", str(self.log_path)
                )
            except ServerError:
                if _port_in_use(self.port) and attempt < 2:
                    continue  # another process took the port between pick and bind
                raise
            self._running = True
            return

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server (``pg_ctl stop -m mode``), keeping its data dir."""
        if not self._running:
            return
        self._pg_ctl("stop", "-w", "-m", mode, "-t", str(self._start_timeout))
        self._running = False

    def restart(self, mode: str = "fast") -> None:
        """Stop with ``mode`` (``fast`` or ``immediate``: crash recovery follows), then start."""
        self.stop(mode)
        self.start()

    def promote(self) -> None:
        """Promote a standby (``standby_of``) to a primary, waiting until it accepts writes."""
        self._pg_ctl("promote", "-w", "-t", str(self._start_timeout))

    def close(self) -> None:
        """Stop the server with ``-m immediate`` and remove its temp dir."""
        atexit.unregister(self.close)
        try:
            if not self._running and self._tmp is not None and (
                    self.datadir / "postmaster.pid").exists():
                self._running = True  # a start cut short (Ctrl-C) may have left one running
            self.stop("immediate")
        except ServerError:
            self._running = False
        finally:
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)
                self._tmp = None

    def __enter__(self) -> ThrowawayServer:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self._running else "stopped"
        return f"ThrowawayServer({self.version_num}, port={self.port}, {state}, {self._tmp})"

    # -- internals --------------------------------------------------------

    @property
    def _root(self) -> Path:
        if self._tmp is None:
            raise ServerError("the throwaway server has not been started")
        return self._tmp

    def _create(self) -> None:
        self.bindir = reachable_bindir(self.bindir, self._user)
        parent = self._parent_dir()
        if len(str(parent / "pgshift-12345678" / ".s.PGSQL.65535")) > _SOCKET_PATH_MAX:
            parent = Path("/tmp")
        _reap_abandoned(parent)
        self._tmp = Path(tempfile.mkdtemp(prefix="pgshift-", dir=parent))
        (self._tmp / _OWNER_FILE).write_text(str(os.getpid()))
        atexit.register(self.close)
        if self._user is not None:
            os.chown(self._tmp, self._user.uid, self._user.gid)
        if self.standby_of is not None:
            self._run(
                "pg_basebackup", "-D", str(self.datadir), "-d", self.standby_of.url,
                "-R", "-X", "stream", "-c", "fast", "--no-sync",
            )  # fmt: skip
        else:
            self._run(
                "initdb", "-D", str(self.datadir), "-A", "trust", "-E", "UTF8", "--no-locale",
                "-U", _SUPERUSER, "--no-sync",
            )  # fmt: skip
        lines = [f"{key} = {_conf_value(value)}" for key, value in self.settings.items()]
        lines += [
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = {_conf_value(str(self._tmp))}",
        ]
        self._append_conf(lines)

    def _parent_dir(self) -> Path:
        """Where the temp dir goes: ``base_dir``, else a roomy tmpfs, else the temp dir.

        Whatever is picked must be reachable by the service user when we are root.
        """
        choices = [self._base_dir] if self._base_dir is not None else []
        if _has_room(_SHM):
            choices.append(_SHM)
        choices += [Path(tempfile.gettempdir()), Path("/tmp")]
        for path in choices:
            if self._user is None or traversable_by(path, self._user):
                return path
        return Path("/tmp")

    def _write_port(self) -> None:
        self._append_conf([f"port = {self.port}"])

    def _append_conf(self, lines: list[str]) -> None:
        conf = self.datadir / "postgresql.conf"
        with conf.open("a", encoding="utf-8") as fh:
            fh.write("\n# pgshift throwaway server\n" + "\n".join(lines) + "\n")

    def _pg_ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.datadir), *args)

    def _run(self, program: str, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        kwargs: dict[str, object] = {}
        if self._user is not None:
            env["HOME"] = str(self._root)
            env["USER"] = env["LOGNAME"] = self._user.name
            kwargs = {"user": self._user.uid, "group": self._user.gid, "extra_groups": []}
        cmd = [str(self.bindir / program), *args]
        try:
            proc = subprocess.run(
                cmd,
                cwd=self._root,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=self._start_timeout + 60,
                check=False,
                **kwargs,  # type: ignore[arg-type]
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise ServerError(f"{program} failed: {exc}") from exc
        if proc.returncode != 0:
            detail = _last_line(proc.stderr) or _last_line(proc.stdout)
            if program == "pg_ctl":
                detail = _log_error(self.log_path) or detail
            action = next((a for a in args if a in ("start", "stop", "promote")), "")
            raise ServerError(
                f"{' '.join(filter(None, (program, action)))} failed: {detail or 'no output'}",
                hint=f"server log: {self.log_path}",
            )


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _log_error(log: Path) -> str:
    """The server log's last FATAL/PANIC line and the line before it (often the cause)."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    entries = [m.groups() for m in _LOG_LINE.finditer(text)]
    fatal = [i for i, (level, _) in enumerate(entries) if level in ("FATAL", "PANIC")]
    if not fatal:
        return ""
    last = fatal[-1]
    picked = entries[max(0, last - 1) : last + 1]
    return "; ".join(message.strip() for _, message in picked)
