"""Reading a config file: ``pgshift.toml``, or the ``[tool.pgshift]`` table of a ``pyproject.toml``.

The bytes (a size limit, a BOM, UTF-8), the TOML (an error names the file and line), then the
keys: each must be a setting (``lock-timeout`` or ``lock_timeout``, once), and its value is
coerced as ``pgshift.config`` coerces every setting's. Paths are relative to the file.
``pgshift.config`` finds the file and loads this module only when there is one to read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from pgshift.config import NOT_CONFIGURABLE, PATH_SETTINGS, Settings, coerce
from pgshift.errors import ConfigError

# A config file larger than this is not one (a log or a dump named by mistake): refused before
# it is read into memory.
MAX_CONFIG_BYTES = 10 * 1024 * 1024

# A line of a pyproject.toml that may hold pgshift's table ([tool.pgshift], tool.pgshift.x = …,
# pgshift = {…} under [tool]). Only such a file is parsed: tomllib costs start-up time.
_MAYBE_OURS = (rb"(?m)^[ \t]*(?:\[[ \t]*tool[ \t]*\.[ \t]*[\"']?pgshift"
               rb"|tool[ \t]*\.[ \t]*[\"']?pgshift[\"']?[ \t]*[.=]"
               rb"|[\"']?pgshift[\"']?[ \t]*(?:=[ \t]*\{|\.))")


def pgshift_table(path: Path) -> dict[str, Any] | None:
    """The ``[tool.pgshift]`` table of a pyproject.toml, None when it has none."""
    data = _read_bytes(path)
    if b"pgshift" not in data or not re.search(_MAYBE_OURS, data):
        return None
    tool = _parse(path, data).get("tool")
    if not isinstance(tool, dict) or "pgshift" not in tool:
        return None  # '[tool.pgshift]' in a comment or a string
    if not isinstance(tool["pgshift"], dict):
        raise ConfigError("tool.pgshift is not a table", path=path,
                          hint="write the settings under a [tool.pgshift] header")
    return tool["pgshift"]


def _read_bytes(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read config: {exc.strerror or exc}", path=path,
                          hint="--config names the config file and skips the search"
                          if path.name == "pyproject.toml" else None) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"larger than {MAX_CONFIG_BYTES >> 20} MiB: not a config file",
                          path=path)
    return data


def _parse(path: Path, data: bytes) -> dict[str, Any]:
    """The TOML in ``data``; a ConfigError naming the file and line when it is not TOML."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    data = data.removeprefix(b"\xef\xbb\xbf")  # a BOM is fine, as in migrations
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", path=path,
                          line=data.count(b"\n", 0, exc.start) + 1) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        if where:
            line = int(where[1])
            message = f"{message[: where.start()]} (column {where[2]})"
        else:  # "(at end of document)"
            line = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
            message = message.replace(" (at end of document)", " (at the end of the file)")
        raise ConfigError(f"invalid TOML: {message}", path=path, line=max(line, 1)) from None


def _read_file(path: Path) -> dict[str, Any]:
    if path.name == "pyproject.toml":
        table = pgshift_table(path)
        if table is None:
            raise ConfigError("has no [tool.pgshift] table", path=path,
                              hint="write the settings under a [tool.pgshift] header")
        return table
    return _parse(path, _read_bytes(path))


def read_settings(path: Path) -> dict[str, Any]:
    """The settings ``path`` sets, as Settings holds them (``load`` adds the environment's
    and the flags')."""
    known = {f.name for f in fields(Settings)} - NOT_CONFIGURABLE
    values: dict[str, Any] = {}
    written: dict[str, str] = {}  # key -> as written, to refuse 'lock-timeout' and 'lock_timeout'

    def put(key: str, raw: str, value: Any) -> None:
        if key in written:
            raise ConfigError(f"'{raw}' sets what '{written[key]}' already set", path=path)
        written[key] = raw
        values[key] = coerce(key, value, raw.replace("-", "_"), path)

    for raw_key, value in _read_file(path).items():
        key = raw_key.replace("-", "_")
        if key == "lint" and isinstance(value, Mapping):  # [lint] select/ignore/pg-version table
            for sub, subvalue in value.items():
                name = sub.replace("-", "_")
                target = name if name == "pg_version" else f"lint_{name}"
                if target not in known:
                    raise ConfigError(f"unknown key 'lint.{sub}'", path=path,
                                      hint="see README: Configuration")
                put(target, f"lint.{sub}", subvalue)
            continue
        if key not in known:
            raise ConfigError(
                f"unknown key '{raw_key}'", path=path, hint="see README: Configuration"
            )
        put(key, raw_key, value)
    for key in PATH_SETTINGS:  # paths in a config file are relative to it, whatever the working dir
        if key in values and not values[key].is_absolute():
            values[key] = path.parent / values[key]
    return values
