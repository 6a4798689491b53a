"""auth errors.

AuthError (CallistoError)
├── BadCredentials   401 wrong login or password (one message for both: no enumeration)
├── LockedOut        429 too many failures for this login or source address
├── BadRefreshToken  401 unknown, expired, revoked or reused refresh token
├── UnknownUser      404
├── LoginTaken       409 a login that exists already
├── AgentTaken       409 an agent bound to another active user
├── LastAdministrator 409 the change would leave no active administrator
├── UnknownServiceAccount 404
├── ServiceAccountExists  409
├── BadClientSecret  401 a service account's login failed (one message for every reason)
└── UnknownSipUser   404 no active user with SIP credentials under that name
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


class AgentTaken(AuthError):
    status = 409
    error_id = "agent-taken"


class LastAdministrator(AuthError):
    status = 409
    error_id = "last-administrator"


class UnknownServiceAccount(AuthError):
    status = 404
    error_id = "unknown-service-account"


class ServiceAccountExists(AuthError):
    status = 409
    error_id = "service-account-exists"


class BadClientSecret(AuthError):
    status = 401
    error_id = "bad-client-secret"


class UnknownSipUser(AuthError):
    status = 404
    error_id = "unknown-sip-user"
