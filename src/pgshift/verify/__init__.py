"""``pgshift verify``: prove migrations reversible, compatible and fast on a scratch database.

``run_verify(settings, VerifyOptions(...))`` returns a ``VerifyReport``; it never touches the
target beyond reading its history (or dumping its schema with ``--from``). Called, the
package is the library's verb ``pgshift.verify`` (see ``pgshift.verb_packages``).
"""

from pgshift.verb_packages import callable_as
from pgshift.verify.report import Finding, MigrationCheck, VerifyReport
from pgshift.verify.session import VerifyOptions, run_verify

callable_as(__name__, "pgshift.api:verify")

__all__ = ["Finding", "MigrationCheck", "VerifyOptions", "VerifyReport", "run_verify"]
