"""How a file runs: which statements share a transaction, and which timeouts are in force.

``--runner pgshift``: the whole file is one transaction (unless ``-- pgshift:no-transaction``)
and pgshift sets ``lock_timeout`` for every statement. ``--runner psql`` (any other tool that
just sends the file): only explicit ``BEGIN``/``COMMIT`` make a transaction, and nothing sets a
timeout unless the file does. ``SET LOCAL`` stops applying when its transaction ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pgshift.lint.nodes import Node, const_value, func_name
from pgshift.lint.search_path import SearchPath, parse_path

_TIMEOUTS = ("lock_timeout", "statement_timeout", "transaction_timeout")


def timeout_enabled(value: object) -> bool:
    """Whether a timeout setting's value turns it on (0, '0', '0ms' and DEFAULT mean off)."""
    if value is None:
        return False
    if isinstance(value, (int, float)):
        return value > 0
    text = str(value).strip().lower()
    digits = text.rstrip("abcdefghijklmnopqrstuvwxyz ").strip()
    try:
        return float(digits) > 0
    except ValueError:
        return bool(text)


# Time zones that are UTC under another name (tzdata links and aliases, with or without Etc/).
_UTC_NAMES = frozenset({"UTC", "UCT", "GMT", "GMT0", "GMT+0", "GMT-0", "GREENWICH", "UNIVERSAL",
                        "ZULU", "Z"})


def zero_offset(value: object) -> bool:
    """Whether a TimeZone setting's value is UTC: ``'UTC'``, ``'Etc/UTC'``, ``'GMT'``,
    ``'Zulu'``, an offset of zero (``0``, ``'+00'``, ``INTERVAL '+00:00'``)..."""
    text = str(value).strip().upper()
    if text.removeprefix("ETC/") in _UTC_NAMES:
        return True
    digits = text.lstrip("+-").replace(":", "").replace(".", "")
    return bool(digits) and set(digits) == {"0"}


@dataclass
class Transaction:
    """The transaction and session state while walking a file's statements."""

    runner_transaction: bool
    wrapper: str = "pgshift"
    open: bool = False
    explicit: bool = False
    serial: int = 0
    begin_index: int | None = None
    session: dict[str, bool] = field(default_factory=dict)
    local: dict[str, bool] = field(default_factory=dict)
    utc_session: bool = False
    utc_local: bool = False
    exclusive: set[str] = field(default_factory=set)
    path_session: SearchPath | None = None
    path_local: SearchPath | None = None
    # The session state at BEGIN: a ROLLBACK undoes the session SETs made inside the block too.
    before_block: tuple[dict[str, bool], bool, SearchPath | None] | None = None

    @classmethod
    def start(cls, *, runner: str, transactional: bool, lock_timeout: bool,
              statement_timeout: bool = False, wrapper: str = "pgshift") -> Transaction:
        """``wrapper``: who runs the file in a transaction (pgshift, or goose, dbmate…)."""
        state = cls(runner_transaction=runner == "pgshift" and transactional, wrapper=wrapper)
        state.open = state.runner_transaction
        state.session = {"lock_timeout": lock_timeout, "statement_timeout": statement_timeout}
        return state

    def in_force(self, name: str) -> bool:
        if self.open and name in self.local:
            return self.local[name]
        return self.session.get(name, False)

    @property
    def search_path(self) -> SearchPath | None:
        """The ``search_path`` the file set (None: the server's, which leads with public)."""
        if self.open and self.path_local is not None:
            return self.path_local
        return self.path_session

    @property
    def utc(self) -> bool:
        return self.utc_local if self.open and self.utc_local else self.utc_session

    def begin(self, index: int) -> None:
        self.open, self.explicit, self.begin_index = True, True, index
        self.serial += 1
        self.before_block = (dict(self.session), self.utc_session, self.path_session)

    def end(self, chain: bool = False, rolled_back: bool = False) -> None:
        if rolled_back and self.before_block is not None:
            session, self.utc_session, self.path_session = self.before_block
            self.session = dict(session)
        self.local.clear()
        self.utc_local = False
        self.path_local = None
        self.exclusive.clear()
        self.serial += 1
        if not chain:
            self.open, self.explicit, self.begin_index = False, False, None

    def after_statement(self) -> None:
        """Outside a transaction block each statement is its own transaction."""
        if not self.open:
            self.exclusive.clear()
            self.serial += 1

    def set_variable(self, stmt: Node) -> None:
        """Follow ``SET``/``RESET`` of the timeouts and the time zone."""
        name = (stmt.get("name") or "").lower()
        kind = stmt.get("kind")
        args = stmt.get("args") or []
        value: object = const_value(args[0]) if args else None
        if name == "search_path":
            path = parse_path([const_value(a) for a in args]) if kind == "VAR_SET_VALUE" \
                else None
            self._store_path(path, bool(stmt.get("is_local")))
        elif name in ("timezone", "time zone"):
            utc = kind == "VAR_SET_VALUE" and zero_offset(value)
            self._store_utc(utc, bool(stmt.get("is_local")))
        elif name in _TIMEOUTS:
            enabled = kind == "VAR_SET_VALUE" and timeout_enabled(value)
            self._store(name, enabled, bool(stmt.get("is_local")))
        elif kind == "VAR_RESET_ALL":
            self.session.clear()
            self.local.clear()
            self.path_session = self.path_local = None

    def set_config_calls(self, stmt: Node) -> None:
        """``SELECT set_config('lock_timeout', '2s', is_local)`` works like SET."""
        for target in stmt.get("targetList") or ():
            call = ((target.get("ResTarget") or {}).get("val") or {}).get("FuncCall")
            if call is None or func_name(call) != "set_config":
                continue
            args = call.get("args") or []
            if len(args) != 3:
                continue
            name = str(const_value(args[0]) or "").lower()
            if name == "search_path" and isinstance(const_value(args[1]), str):
                self._store_path(parse_path([const_value(args[1])]), bool(const_value(args[2])))
            elif name in _TIMEOUTS:
                self._store(name, timeout_enabled(const_value(args[1])), bool(
                    const_value(args[2])))

    def _store(self, name: str, enabled: bool, local: bool) -> None:
        if local:
            if self.open:
                self.local[name] = enabled
        else:
            self.session[name] = enabled
            self.local.pop(name, None)

    def _store_path(self, path: SearchPath | None, local: bool) -> None:
        if local:
            if self.open:
                self.path_local = path
        else:
            self.path_session = path
            self.path_local = None

    def _store_utc(self, utc: bool, local: bool) -> None:
        if local:
            if self.open:
                self.utc_local = utc
        else:
            self.utc_session = utc
