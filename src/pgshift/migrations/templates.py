"""The files ``pgshift create`` writes: the next migration, in the directory's own format.

A directory of another tool (see ``migrations.flavors``) gets that tool's files, as the tool's
own ``create``/``new`` command would write them, so that the tool and pgshift both read it:

=============== ========================================== =====================================
flavor          files                                      version
=============== ========================================== =====================================
pgshift         ``V008__name.sql`` with ``-- pgshift:down`` the last one + 1, same padding; or
                                                           a UTC timestamp when the last one is
                                                           one, or when asked (``--timestamp``)
flyway          ``V008__name.sql`` (a ``U008__name.sql``    as pgshift
                undo file is its down part; not written)
pgmigrate       ``V0008__name.sql`` (no down parts)        as pgshift
node-pg-migrate ``1700000000000_name.sql``, ``-- Up/Down   milliseconds since 1970
                Migration``
dbmate          ``20240101120000_name.sql``, ``-- migrate: UTC ``YYYYMMDDHHMMSS``
                up``/``-- migrate:down``
golang-migrate  ``000008_name.up.sql`` + ``.down.sql``      the last one + 1 (``-seq``), or a
                                                           timestamp when the last one is one
=============== ========================================== =====================================

A timestamp version is never below the last version + 1, so the new file always sorts last.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from pgshift.errors import InputError
from pgshift.migrations.model import Migration, Version

_PGSHIFT = ("-- {title}\n-- Runs in one transaction with lock_timeout; see "
            "'pgshift lint --explain all' for safe patterns.\n\n\n-- pgshift:down\n\n")
_TIMESTAMP_DIGITS = 14  # YYYYMMDDHHMMSS


def write_new(directory: Path, name: str, flavor: str, existing: Sequence[Migration],
              now: datetime | None = None, *, timestamp: bool = False) -> list[Path]:
    """Write the migration after ``existing`` named ``name`` in ``flavor``; the files, up first.

    ``timestamp``: a ``V…`` file gets a UTC timestamp version even after sequence numbers
    (teams on many branches: two new files rarely get the same version)."""
    words = _words(name)
    if len(words) > MAX_WORDS:  # file systems stop at 255 bytes a name
        raise InputError(f"the migration name is {len(words)} characters long; at most "
                         f"{MAX_WORDS}", hint="say what it does in a few words")
    last = max((m.version for m in existing if m.version is not None), default=None)
    moment = now or datetime.now(timezone.utc)
    files = _files(flavor, words, name.strip(), last, moment, timestamp)
    paths = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for file_name, text in files:
            path = directory / file_name
            path.write_text(text, encoding="utf-8")
            paths.append(path)
    except OSError as exc:
        raise InputError(f"cannot write the migration: {exc.strerror}",
                         path=exc.filename or directory) from None
    return paths


MAX_WORDS = 150


# Latin letters that NFKD does not take apart into an ASCII letter and an accent.
_LATIN = str.maketrans({"ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
                        "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d",
                        "Ð": "D", "þ": "th", "Þ": "TH", "ı": "i"})


def _words(name: str) -> str:
    """``name`` as the words of a file name: ASCII letters and digits joined by ``_``, accents
    dropped (``Ünïcode näme`` -> ``unicode_name``). A name stays ASCII because the history
    knows a migration by its file's name, and macOS writes accented letters decomposed: the
    same checkout would name the file differently there. Letters with no ASCII form are
    refused rather than silently left out."""
    import unicodedata

    plain = "".join(c for c in unicodedata.normalize("NFKD", name.strip())
                    if not unicodedata.combining(c)).translate(_LATIN)
    foreign = sorted({c for c in plain if c.isalnum() and not c.isascii()})
    if foreign:
        raise InputError(f"the migration name has letters a portable file name cannot hold: "
                         f"{''.join(foreign)}", hint="name it in ASCII words "
                         "(the title line of the file keeps the name as given)")
    words = re.sub(r"[^0-9A-Za-z]+", "_", plain).strip("_").lower()
    if not words:
        raise InputError(f"not a usable migration name: '{name}'")
    return words


def _files(flavor: str, words: str, title: str, last: Version | None,
           moment: datetime, timestamp: bool) -> list[tuple[str, str]]:
    if flavor == "node-pg-migrate":
        number = _timestamp(str(int(moment.timestamp() * 1000)), last)
        return [(f"{number}_{words.replace('_', '-')}.sql",
                 "-- Up Migration\n\n-- Down Migration\n")]
    if flavor == "dbmate":
        number = _timestamp(moment.strftime("%Y%m%d%H%M%S"), last)
        return [(f"{number}_{words}.sql", "-- migrate:up\n\n\n-- migrate:down\n\n")]
    if flavor == "golang-migrate":
        if last is not None and len(last.text) == _TIMESTAMP_DIGITS:
            number = _timestamp(moment.strftime("%Y%m%d%H%M%S"), last)
        else:
            number = _next(last, "000001")
        return [(f"{number}_{words}.up.sql", f"-- {title}\n"), (f"{number}_{words}.down.sql", "")]
    stamped = timestamp or (last is not None and len(last.text) == _TIMESTAMP_DIGITS)
    stamp = _timestamp(moment.strftime("%Y%m%d%H%M%S"), last)
    if flavor == "flyway":
        number = stamp if stamped else _next(last, "001")
        return [(f"V{number}__{words}.sql",
                 f"-- {title}\n-- Its down part, if any, goes in U{number}__{words}.sql.\n\n")]
    if flavor == "pgmigrate":
        number = stamp if stamped else _next(last, "0001")
        return [(f"V{number}__{words}.sql", f"-- {title}\n\n")]
    number = stamp if stamped else _next(last, "001")
    return [(f"V{number}__{words}.sql", _PGSHIFT.format(title=title))]


def _next(last: Version | None, first: str) -> str:
    """The version after ``last``, padded as it is (``007`` -> ``008``); ``first`` if none."""
    if last is None:
        return first
    head = last.text.replace("_", ".").split(".")[0]
    return str(last.key[0] + 1).zfill(len(head))


def _timestamp(now: str, last: Version | None) -> str:
    """``now``, unless the last version is not below it: then the last one + 1."""
    if last is not None and last.key[0] >= int(now):
        return str(last.key[0] + 1)
    return now
