"""The rich console of the live views (``ps --watch``, the backfill and fleet progress bars).

rich is imported only when one is made: ``status`` and ``up`` never need it.
"""

from __future__ import annotations

import os
from typing import Any


def console(**options: Any) -> Any:  # -> rich.console.Console
    """A rich Console that honours ``NO_COLOR`` (set and not empty, as no-color.org says)
    fully: rich alone drops colours but still writes bold, dim and reverse; this one writes no
    style at all. Live views still move the cursor, which is no colour."""
    from rich.console import Console

    if os.environ.get("NO_COLOR"):
        options.setdefault("color_system", None)
    return Console(**options)
