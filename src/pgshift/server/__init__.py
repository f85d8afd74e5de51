"""Throwaway PostgreSQL servers, for the demo, ``verify --embedded`` and the tests::

    with ThrowawayServer(settings={"shared_preload_libraries": "pg_stat_statements"}) as server:
        conn = psycopg2.connect(server.url)

Only the standard library is imported at load time.
"""

from pgshift.server.binaries import (
    ServerError,
    detect_version_num,
    find_bindir,
    find_wheel_bindir,
)
from pgshift.server.cluster import ThrowawayServer

__all__ = [
    "ServerError",
    "ThrowawayServer",
    "detect_version_num",
    "find_bindir",
    "find_wheel_bindir",
]
