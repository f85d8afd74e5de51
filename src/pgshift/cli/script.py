"""``up --script FILE`` and ``down --script FILE``: the run as a psql script
(``pgshift.script``), written, not run."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pgshift.config import Settings


def write_script(args: argparse.Namespace, settings: Settings, direction: str,
                 **selection: Any) -> int:
    """Write the script of the ``direction`` run that ``selection`` picks to ``args.script``
    ('-': standard output), and say on stderr how to run it."""
    from pgshift import api
    from pgshift.errors import InputError

    if args.dry_run or getattr(args, "all_targets", False):
        raise InputError("--script writes one database's run: it takes neither --dry-run "
                         "nor --all-targets",
                         hint="the script itself is the dry run: review it before psql runs it")
    if args.json:
        raise InputError("--script writes a psql script, not JSON: it does not take --json",
                         hint="'pgshift up --dry-run --json' gives the plan as JSON")
    script = api.script(settings, direction, **selection)  # type: ignore[arg-type]
    if not script.migrations:
        print("Nothing to apply: no script written." if direction == "up"
              else "Nothing to roll back: no script written.", file=sys.stderr)
        return 0
    if args.script == "-":
        sys.stdout.write(script.text)
    else:
        from pathlib import Path

        try:
            Path(args.script).write_text(script.text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write the script: {exc.strerror}",
                             path=Path(args.script)) from None
    flags = "".join(f" -v {name}=..." for name in script.variables)
    where = "-" if args.script == "-" else args.script
    first, last = script.migrations[0].label, script.migrations[-1].label
    span = first if first == last else f"{first} to {last}"
    print(f"Wrote the {direction} script of {len(script.migrations)} migration(s) ({span}) to "
          f"{where}; {'pipe it to' if where == '-' else 'run it with'}: "
          f"psql -X -f {where}{flags} DATABASE_URL", file=sys.stderr)
    return 0
