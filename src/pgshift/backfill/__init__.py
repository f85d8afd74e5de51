"""Batched backfills: ``run_backfill`` walks a table in short transactions (see batched.py).

Called, the package is the library's verb ``pgshift.backfill`` (see ``pgshift.verb_packages``).
"""

from pgshift.verb_packages import callable_as

callable_as(__name__, "pgshift.backfill.one_off:backfill")
