"""Batched backfills: ``run_backfill`` walks a table in short transactions (see batched.py).

``pgshift.backfill`` is also the library's verb (``pgshift.backfill(settings, table, …)``,
see ``one_off.backfill``). Importing any module of this package makes Python set the package
itself as ``pgshift.backfill``, hiding the verb; so the package can be called as the verb.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any


class _VerbPackage(ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from pgshift.backfill.one_off import backfill

        return backfill(*args, **kwargs)


sys.modules[__name__].__class__ = _VerbPackage
