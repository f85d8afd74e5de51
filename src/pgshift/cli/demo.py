"""``pgshift demo``: the example migrations applied on a throwaway PostgreSQL
(``pgshift.demo``)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pgshift.config import Settings


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    text = "apply the example migrations on a throwaway PostgreSQL"
    p = subparsers.add_parser("demo", parents=[parent], help=text, description=text,
                              formatter_class=parent.formatter_class)
    p.set_defaults(handler=demo)
    p.add_argument("--keep", action="store_true", help=argparse.SUPPRESS)


def demo(args: argparse.Namespace, settings: Settings) -> int:
    from pgshift.demo import run_demo

    return run_demo(settings, keep=args.keep)
