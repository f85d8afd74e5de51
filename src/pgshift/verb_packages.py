"""Packages that share their name with a library verb: ``pgshift.backfill``, ``pgshift.adopt``,
``pgshift.verify``.

``pgshift.backfill(settings, …)`` is a verb (``pgshift.__init__`` resolves it lazily), and
``pgshift.backfill`` is a package. Importing any module of the package makes Python set the
package itself as the attribute, hiding the verb: the next ``pgshift.backfill(…)`` raised
"'module' object is not callable". Such a package is made callable as its verb instead.
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
from typing import Any


class VerbPackage(ModuleType):
    """A package module that, called, runs the verb ``__verb__`` (``module:function``)."""

    __verb__: str

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        module, _, name = self.__verb__.partition(":")
        return getattr(import_module(module), name)(*args, **kwargs)


def callable_as(package: str, verb: str) -> None:
    """Make the (already imported) ``package`` callable as ``verb`` (``module:function``)."""
    module = sys.modules[package]
    module.__class__ = VerbPackage
    module.__verb__ = verb
