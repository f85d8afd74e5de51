"""Settings and where they come from: the only module that reads config files and the environment.

Precedence, lowest first: ``Settings`` defaults, ``pgshift.toml`` or ``[tool.pgshift]`` in
``pyproject.toml`` (the nearest found walking up; ``--config`` overrides the search),
``PGSHIFT_*`` environment variables (``DATABASE_URL`` for the URL too), then command-line flags.
With no URL at all, libpq's own ``PG*`` variables apply.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from pgshift.errors import ConfigError

_UNITS = {"ms": 0.001, "s": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: str | float | int) -> float:
    """``'500ms'``, ``'3s'``, ``'10m'``, ``'1h'`` or a number of seconds -> seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _bounded(float(value), value)
    text = str(value).strip().lower()
    for unit in sorted(_UNITS, key=len, reverse=True):
        if text.endswith(unit):
            number = text[: -len(unit)].strip()
            break
    else:
        unit, number = "s", text
    try:
        seconds = float(number) * _UNITS[unit]
    except ValueError:
        raise ValueError(f"not a duration: '{value}' (use e.g. 500ms, 3s, 10m)") from None
    return _bounded(seconds, value)


# PostgreSQL's timeouts are whole milliseconds in an int: about 24.8 days at most. pgshift's own
# waits keep to the same bound (a longer one is a typo, and infinity is no time at all).
MAX_DURATION = 2_147_483.647


def _bounded(seconds: float, given: object) -> float:
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN, inf
        raise ValueError(f"not a duration: '{given}' (use e.g. 500ms, 3s, 10m)")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative: '{given}'")
    if seconds > MAX_DURATION:
        raise ValueError(f"'{given}' is longer than PostgreSQL's timeouts allow (24 days)")
    return seconds


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
_FILE_ONLY = {"placeholders", "targets"}
PLACEHOLDER_ENV = "PGSHIFT_PLACEHOLDER_"
_NOT_CONFIGURABLE = {"config_path"}


def _coerce(key: str, value: Any, source: str) -> Any:
    try:
        if key in _DURATIONS:
            return parse_duration(value)
        if key in _INTS:
            return _integer(key, value)
        if key in _BOOLS:
            if isinstance(value, bool):
                return value
            lowered = str(value).strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"not a boolean: '{value}'")
        if key in _LISTS:
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(i).strip() for i in items if str(i).strip())
        if key == "lint_runner" and value not in ("pgshift", "psql"):
            raise ValueError(f"runner must be 'pgshift' or 'psql', not '{value}'")
        if key in ("dir", "lint_schema", "cache_dir", "schema_file", "pg_dump"):
            if not str(value).strip():
                raise ValueError("an empty path")
            return Path(value)
        if key == "schema":
            return schema_name(str(value))
        if key == "placeholders":
            if not isinstance(value, Mapping):
                raise ValueError("placeholders must be a table of name = value")
            return {str(k): str(v) for k, v in value.items()}
        if key == "targets":
            if not isinstance(value, Mapping):
                raise ValueError("targets must be a table (see docs/targets)")
            return dict(value)
        return str(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ConfigError(
            f"{key}: {exc}", path=source if source.endswith("toml") else None
        ) from None


# What an integer setting may be: retries and a major version are small; the lock key is a
# bigint.
_INT_RANGES = {"lock_retries": (0, 1000), "pg_version": (9, 99),
               "lock_key": (-(1 << 63), (1 << 63) - 1)}


def _integer(key: str, value: Any) -> int:
    if isinstance(value, float) and not value.is_integer():  # also NaN and infinity
        raise ValueError(f"not a whole number: {value}")
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"not a whole number: '{value}'") from None
    low, high = _INT_RANGES[key]
    if not low <= number <= high:
        raise ValueError(f"{value} is out of range ({low} to {high})")
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
    """The nearest ``pgshift.toml``, or ``pyproject.toml`` with a ``[tool.pgshift]`` table."""
    for folder in (start, *start.parents):
        candidate = folder / "pgshift.toml"
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        # A cheap text check first: tomllib costs start-up time we only pay when it matters.
        if pyproject.is_file():
            try:
                text = pyproject.read_text("utf-8", "replace")
            except OSError as exc:
                raise ConfigError(f"cannot read config: {exc.strerror}", path=pyproject) from None
            if "[tool.pgshift" in text:
                return pyproject
    return None


def _read_file(path: Path) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        data = tomllib.loads(path.read_text("utf-8-sig"))  # a BOM is fine, as in migrations
    except OSError as exc:
        raise ConfigError(f"cannot read config: {exc.strerror}", path=path) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=path) from None
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        data = tool.get("pgshift", {}) if isinstance(tool, dict) else None
        if not isinstance(data, dict):
            raise ConfigError("tool.pgshift is not a table", path=path,
                              hint="write the settings under a [tool.pgshift] header")
    return data


def _from_file(path: Path) -> dict[str, Any]:
    known = {f.name for f in fields(Settings)} - _NOT_CONFIGURABLE
    values: dict[str, Any] = {}
    for raw_key, value in _read_file(path).items():
        key = raw_key.replace("-", "_")
        if key == "lint" and isinstance(value, Mapping):  # [lint] select/ignore/pg-version table
            for sub, subvalue in value.items():
                name = sub.replace("-", "_")
                target = name if name == "pg_version" else f"lint_{name}"
                if target not in known:
                    raise ConfigError(f"unknown key 'lint.{sub}'", path=path)
                values[target] = _coerce(target, subvalue, str(path))
            continue
        if key not in known:
            raise ConfigError(
                f"unknown key '{raw_key}'", path=path, hint="see README: Configuration"
            )
        values[key] = _coerce(key, value, str(path))
    for key in ("dir", "lint_schema", "schema_file"):  # paths in a config file are relative to it
        if key in values and not values[key].is_absolute():
            values[key] = path.parent / values[key]
    return values


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if env.get("DATABASE_URL"):
        values["url"] = env["DATABASE_URL"]
    known = {f.name for f in fields(Settings)} - _NOT_CONFIGURABLE - _FILE_ONLY
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
        if key in known and value != "":
            values[key] = _coerce(key, value, name)
    return values


def load(
    *,
    config: Path | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build Settings from defaults, the config file, the environment and ``overrides`` (flags)."""
    env = os.environ if env is None else env
    cwd = cwd or Path.cwd()
    config = config or (Path(env["PGSHIFT_CONFIG"]) if env.get("PGSHIFT_CONFIG") else None)
    if config is not None and not config.is_file():
        raise ConfigError("config file not found", path=config)
    path = config or find_config(cwd)
    values: dict[str, Any] = {}
    if path is not None:
        values.update(_from_file(path))
        values["config_path"] = path
    from_env = _from_env(env)
    if "placeholders" in from_env:  # PGSHIFT_PLACEHOLDER_X adds to (or overrides) the file's
        from_env["placeholders"] = {**values.get("placeholders", {}), **from_env["placeholders"]}
    values.update(from_env)
    for key, value in overrides.items():
        if value is not None:
            values[key] = value if key in ("url", "dir") else _coerce(key, value, f"--{key}")
    if "dir" in values:
        values["dir"] = Path(values["dir"])
    values.setdefault("cache_dir", default_cache_dir(env))
    return Settings(**values)


def default_cache_dir(env: Mapping[str, str]) -> Path:
    """The user's cache (``$XDG_CACHE_HOME/pgshift``), never the project: a cache a pull request
    could commit would let it forge lint results."""
    base = env.get("XDG_CACHE_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"),
                                                     ".cache")
    return Path(base) / "pgshift"
