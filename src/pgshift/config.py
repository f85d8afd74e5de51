"""Settings and where they come from: with ``pgshift.config_file`` (which reads a config file),
the only module that reads config files and the environment.

Precedence, lowest first: ``Settings`` defaults, ``pgshift.toml`` or ``[tool.pgshift]`` in
``pyproject.toml`` (the nearest found walking up; ``--config`` overrides the search),
``PGSHIFT_*`` environment variables (``DATABASE_URL`` for the URL too), then command-line flags.
With no URL at all, libpq's own ``PG*`` variables apply.

A bad value names where it came from: the file and key, the variable (``PGSHIFT_TIMEOUT``) or
the flag (``--timeout``). An environment variable set to nothing (or blanks) counts as unset.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from pgshift.errors import ConfigError

_UNITS = {"ms": 0.001, "s": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0}
# A number in ASCII digits (no exponent, no '_', no other script's digits), then a unit.
_DURATION = r"\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))\s*(ms|s|min|m|h)?\s*"
_NOT_A_DURATION = "not a duration: '{}' (use e.g. 500ms, 3s, 10m)"


def parse_duration(value: str | float | int) -> float:
    """``'500ms'``, ``'3s'``, ``'10m'``, ``'1h'`` or a number of seconds -> seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _bounded(float(value), value)
    match = re.fullmatch(_DURATION, value, re.I) if isinstance(value, str) else None
    if match is None:
        raise ValueError(_NOT_A_DURATION.format(_shown(value)))
    return _bounded(float(match[1]) * _UNITS[(match[2] or "s").lower()], value)


# PostgreSQL's timeouts are whole milliseconds in an int: about 24.8 days at most. pgshift's own
# waits keep to the same bound (a longer one is a typo, and infinity is no time at all).
MAX_DURATION = 2_147_483.647


def _bounded(seconds: float, given: object) -> float:
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN, inf
        raise ValueError(_NOT_A_DURATION.format(given))
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative: '{given}'")
    if seconds > MAX_DURATION:
        raise ValueError(f"'{given}' is longer than PostgreSQL's timeouts allow (24 days)")
    return seconds


def _shown(value: object) -> str:
    """A value as the user wrote it, for a message (TOML's true, not Python's True)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# The budget of a migration when none is set (the spec's 10 minutes).
DEFAULT_TIMEOUT = 600.0


@dataclass(frozen=True)
class Settings:
    """Everything a pgshift operation needs to know. Durations are in seconds."""

    url: str | None = None
    dir: Path = Path("migrations")
    schema: str = "pgshift"
    lock_timeout: float = 0.5
    lock_retries: int = 10
    statement_timeout: float | None = None
    timeout: float = DEFAULT_TIMEOUT
    lock_wait: float = 60.0
    connect_wait: float = 0.0  # how long to wait for a server that is not up yet (see db)
    lock_key: int = 7_348_201_564
    application_name: str = "pgshift"
    single_transaction: bool = False
    lint: bool = True
    unsafe: bool = False
    pg_version: int | None = None
    lint_select: tuple[str, ...] = ()
    lint_ignore: tuple[str, ...] = ()
    lint_runner: str | None = None
    lint_schema: Path | None = None
    lint_database: str | None = None
    placeholders: Mapping[str, str] = field(default_factory=dict)
    flavor: str | None = None
    targets: Mapping[str, Any] = field(default_factory=dict)
    cache_dir: Path | None = None
    discovery_cache: bool = True  # see pgshift.migrations.cache; off: read every file each run
    schema_file: Path | None = None  # rewritten with `pgshift dump` after up, down and redo
    pg_dump: Path | None = None  # else the server's own version's (see pgshift.pgdump)
    config_path: Path | None = None

    def with_overrides(self, **values: Any) -> Settings:
        """A copy with the given (already parsed) values; ``None`` means 'not given'."""
        given = {k: v for k, v in values.items() if v is not None}
        return dataclasses.replace(self, **given)


_DURATIONS = {"lock_timeout", "statement_timeout", "timeout", "lock_wait", "connect_wait"}
_INTS = {"lock_retries", "lock_key", "pg_version"}
_BOOLS = {"single_transaction", "lint", "unsafe", "discovery_cache"}
_LISTS = {"lint_select", "lint_ignore"}
PATH_SETTINGS = {"dir", "lint_schema", "cache_dir", "schema_file", "pg_dump"}
_FILE_ONLY = {"placeholders", "targets"}
PLACEHOLDER_ENV = "PGSHIFT_PLACEHOLDER_"
NOT_CONFIGURABLE = {"config_path"}


def coerce(key: str, value: Any, label: str, path: Path | None = None) -> Any:
    """``value`` of setting ``key`` as Settings holds it; a ConfigError that starts with
    ``label`` (the key, variable or flag it came from) when it is not one."""
    try:
        return _coerced(key, value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ConfigError(f"{label}: {exc}", path=path) from None


def _coerced(key: str, value: Any) -> Any:
    if key in _DURATIONS:
        return parse_duration(value)
    if key in _INTS:
        return _integer(key, value)
    if key in _BOOLS:
        return _boolean(value)
    if key in _LISTS:
        return _names(value)
    if key == "placeholders":
        if not isinstance(value, Mapping):
            raise ValueError("placeholders must be a table of name = value")
        return {str(k): _scalar(f"placeholder '{k}'", v) for k, v in value.items()}
    if key == "targets":
        if not isinstance(value, Mapping):
            raise ValueError("targets must be a table (see docs/targets)")
        return dict(value)
    text = _text(value)
    if key == "lint_runner" and text not in ("pgshift", "psql"):
        raise ValueError(f"runner must be 'pgshift' or 'psql', not '{text}'")
    if key in PATH_SETTINGS:
        if not text.strip():
            raise ValueError("an empty path")
        return Path(text).expanduser()  # a config file's "~/…" is no shell's to expand
    if key == "schema":
        return schema_name(text)
    return text


def _kind(value: object) -> str:
    """What a TOML value is, for a message."""
    kinds = ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"),
             (list, "an array"), (Mapping, "a table"))
    return next((name for kind, name in kinds if isinstance(value, kind)), "a date or time")


def _text(value: object) -> str:
    if isinstance(value, Path):  # from the library's callers
        return str(value)
    if not isinstance(value, str):  # a number's value helps; an array's may hold a password
        shown = f": {_shown(value)}" if isinstance(value, (bool, int, float)) else ""
        raise ValueError(f"must be a string, not {_kind(value)}{shown}")
    return value


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a boolean: '{_shown(value)}' (use true or false)")


def _names(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        items: list[object] = list(value.split(","))
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise ValueError(f"must be an array of strings, not {_kind(value)}")
    bad = next((item for item in items if not isinstance(item, str)), None)
    if bad is not None:
        raise ValueError(f"must be an array of strings; {_shown(bad)} is {_kind(bad)}")
    return tuple(str(i).strip() for i in items if str(i).strip())


def _scalar(what: str, value: object) -> str:
    if isinstance(value, (list, Mapping)):
        raise ValueError(f"{what} must be a string, not {_kind(value)}")
    return _shown(value)


# What an integer setting may be: retries and a major version are small; the lock key is a
# bigint.
_INT_RANGES = {"lock_retries": (0, 1000), "pg_version": (9, 99),
               "lock_key": (-(1 << 63), (1 << 63) - 1)}


def _integer(key: str, value: Any) -> int:
    if isinstance(value, float):
        if not value.is_integer():  # also NaN and infinity
            raise ValueError(f"not a whole number: {value}")
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]+\s*", value):
        number = int(value)  # ASCII digits only: int() also takes '1_0' and '١٠'
    else:
        raise ValueError(f"not a whole number: '{_shown(value)}'")
    low, high = _INT_RANGES[key]
    if not low <= number <= high:
        raise ValueError(f"{number} is out of range ({low} to {high})")
    return number


# The longest identifier PostgreSQL keeps, in bytes; it silently cuts longer ones.
NAMEDATALEN = 63


def schema_name(name: str) -> str:
    """A schema name PostgreSQL lets a user create as given (pgshift's own, or a tenant's)."""
    if not name or len(name.encode()) > NAMEDATALEN:
        raise ValueError(f"'{name}' is not a schema name (1 to {NAMEDATALEN} bytes)")
    if name.lower().startswith("pg_") or name.lower() == "information_schema":
        raise ValueError(f"'{name}' is reserved by PostgreSQL")
    # Some of pgshift's SQL names its schema inside a quoted string ('"name".history'); a '"'
    # there would break it, and no real schema needs one.
    if '"' in name or "\0" in name:
        raise ValueError(f"'{name}' has a character pgshift does not take in a schema name "
                         "(a double quote or NUL)")
    return name


def find_config(start: Path) -> Path | None:
    """The nearest ``pgshift.toml``, or ``pyproject.toml`` with a ``[tool.pgshift]`` table.

    A ``pgshift.toml`` that is not a file (a directory, a dangling link) is an error rather
    than a reason to look further up, where another project's settings may be.
    """
    for folder in (start, *start.parents):
        candidate = folder / "pgshift.toml"
        if candidate.is_file():
            return candidate
        if os.path.lexists(candidate):
            raise ConfigError("not a regular file (a directory, or a link to nothing?)",
                              path=candidate, hint="remove it, or name the config file "
                              "with --config")
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            from pgshift.config_file import pgshift_table  # only when there is a file to read

            if pgshift_table(pyproject) is not None:
                return pyproject
    return None


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if env.get("DATABASE_URL", "").strip():
        values["url"] = env["DATABASE_URL"].strip()
    known = {f.name for f in fields(Settings)} - NOT_CONFIGURABLE - _FILE_ONLY
    for name, value in env.items():
        if (
            not name.startswith("PGSHIFT_")
            or name in ("PGSHIFT_CONFIG",)
            or name.startswith("PGSHIFT_TEST_")
        ):
            continue
        if name.startswith(PLACEHOLDER_ENV) and len(name) > len(PLACEHOLDER_ENV):
            values.setdefault("placeholders", {})[name[len(PLACEHOLDER_ENV) :].lower()] = value
            continue
        key = name[len("PGSHIFT_") :].lower()
        if key in known and value.strip():
            values[key] = coerce(key, value.strip() if key == "url" else value, name)
        elif key not in known and not name.startswith(_OTHERS_ENV):
            _refuse_misspelt(name, key, known)
    return values


# Variables of pgshift's own test suite and benchmarks, not settings.
_OTHERS_ENV = ("PGSHIFT_TEST_", "PGSHIFT_BENCH_", "PGSHIFT_FAULTS_")


def _refuse_misspelt(name: str, key: str, known: set[str]) -> None:
    """A ConfigError for a variable that names a setting only the config file holds, or one so
    close to a setting's variable that it must be a typo (which would silently do nothing).
    Other PGSHIFT_* names are left alone: a deploy script may have its own."""
    if key in _FILE_ONLY:
        raise ConfigError(f"{name}: {key} can only be set in the config file",
                          hint="see README: Configuration")
    from difflib import SequenceMatcher

    for setting in sorted(known | {"config"}):
        if (abs(len(setting) - len(key)) <= 2
                and SequenceMatcher(None, key, setting).ratio() >= 0.8):
            raise ConfigError(f"{name} is not a pgshift variable",
                              hint=f"did you mean PGSHIFT_{setting.upper()}?")


def _config_file(config: Path | str | None, cwd: Path, env: Mapping[str, str]) -> Path | None:
    """The file ``--config`` (else ``PGSHIFT_CONFIG``) names, checked; None when neither does."""
    source = "--config"
    if config is None and env.get("PGSHIFT_CONFIG", "").strip():
        config, source = env["PGSHIFT_CONFIG"], "PGSHIFT_CONFIG"
    if config is None:
        return None
    if not str(config).strip():
        raise ConfigError(f"{source} is empty", hint="name a config file, or leave it out to "
                          "use the nearest pgshift.toml")
    path = cwd / Path(config).expanduser()
    if not path.exists():
        raise ConfigError(f"config file not found: {config}",
                          hint=f"{source} names a file that does not exist")
    if not path.is_file():
        raise ConfigError(f"{source} names {'a directory' if path.is_dir() else 'no regular file'}"
                          f", not a config file: {config}")
    return path


def load(
    *,
    config: Path | str | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build Settings from defaults, the config file, the environment and ``overrides`` (flags)."""
    env = os.environ if env is None else env
    cwd = cwd or Path.cwd()
    path = _config_file(config, cwd, env) or find_config(cwd)
    values: dict[str, Any] = {}
    if path is not None:
        from pgshift.config_file import read_settings

        values.update(read_settings(path))
        values["config_path"] = path
    from_env = _from_env(env)
    if "placeholders" in from_env:  # PGSHIFT_PLACEHOLDER_X adds to (or overrides) the file's
        from_env["placeholders"] = {**values.get("placeholders", {}), **from_env["placeholders"]}
    values.update(from_env)
    for key, value in overrides.items():
        if value is not None:
            values[key] = _flag(key, value)
    values.setdefault("cache_dir", default_cache_dir(env))
    return Settings(**values)


def _flag(key: str, value: Any) -> Any:
    """A flag's value (or a library caller's override) as Settings holds it."""
    flag = f"--{key.replace('_', '-')}"
    if key == "url" and isinstance(value, str):
        if not value.strip():  # --url "$UNSET": never fall back to whatever PG* points at
            raise ConfigError(f"{flag} is empty", hint="give a URL, or leave --url out to use "
                              "PGSHIFT_URL, DATABASE_URL or the PG* variables")
        return value.strip()
    if key == "dir" and isinstance(value, Path):
        return value
    return coerce(key, value, flag)


def default_cache_dir(env: Mapping[str, str]) -> Path:
    """The user's cache (``$XDG_CACHE_HOME/pgshift``), never the project: a cache a pull request
    could commit would let it forge lint results."""
    base = env.get("XDG_CACHE_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"),
                                                     ".cache")
    return Path(base) / "pgshift"
