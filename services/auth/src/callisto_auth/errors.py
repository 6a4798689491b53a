"""auth errors.

AuthError (CallistoError)
├── BadCredentials   401 wrong login or password (one message for both: no enumeration)
├── LockedOut        429 too many failures for this login or source address
├── BadRefreshToken  401 unknown, expired, revoked or reused refresh token
├── UnknownUser      404
└── Conflict         409 a login that exists already
"""

from __future__ import annotations

from callisto_runtime import CallistoError


class AuthError(CallistoError):
    error_id = "auth-error"


class BadCredentials(AuthError):
    status = 401
    error_id = "bad-credentials"


class LockedOut(AuthError):
    status = 429
    error_id = "locked-out"


class BadRefreshToken(AuthError):
    status = 401
    error_id = "bad-refresh-token"


class UnknownUser(AuthError):
    status = 404
    error_id = "unknown-user"


class LoginTaken(AuthError):
    status = 409
    error_id = "login-taken"
