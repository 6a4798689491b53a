"""Which failures are worth trying again as they are.

A *transient* failure comes from a dependency that is away or busy (NATS, Redis, PostgreSQL, a
network peer): the same message will succeed once it is back, so it is retried without limit. Any
other failure is *permanent* for that message (a value PostgreSQL refuses, a bug met by one input):
it is tried a bounded number of times and then given up as a dead letter.
"""

from __future__ import annotations

import asyncpg

from callisto_runtime.errors import BusError, CallistoError, RemoteError

# SQLSTATE classes that say "the server, not this statement": connection exceptions, insufficient
# resources, operator intervention (shutdown), system errors; and retryable concurrency failures.
_TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "57", "58")
_TRANSIENT_SQLSTATES = ("40001", "40P01")
# redis-py's errors do not derive from the built-in ones; named here so the runtime need not import it
_TRANSIENT_NAMES = frozenset({"ConnectionError", "TimeoutError", "BusyLoadingError", "TryAgainError"})


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, RemoteError):
        return exc.status >= 500
    if isinstance(exc, BusError):
        return True
    if isinstance(exc, CallistoError):
        return exc.status in (502, 503, 504)
    if isinstance(exc, OSError | TimeoutError | asyncpg.InterfaceError):
        return True
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(exc, asyncpg.PostgresError) and isinstance(sqlstate, str):
        return sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES or sqlstate in _TRANSIENT_SQLSTATES
    return type(exc).__module__.startswith("redis") and type(exc).__name__ in _TRANSIENT_NAMES
