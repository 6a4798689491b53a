"""Digest authentication for SIP (RFC 2617, RFC 8760: MD5 and SHA-256, qop=auth), both ways.

Server side (``DigestAuthenticator``): nonces are an HMAC-signed timestamp, so their lifetime is
checked without storing them; a nonce past its lifetime gets ``stale=true`` (the client retries at
once); replay is refused by requiring a growing nonce count per nonce. Client side (``answer``):
compute the Authorization value for a challenge from the password or a stored HA1.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum

from callisto_sip.errors import ParseError
from callisto_sip.grammar import WSP, quote, split_top, unquote

ALGORITHMS = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


def _h(algorithm: str, text: str) -> str:
    try:
        return ALGORITHMS[algorithm.upper()](text.encode()).hexdigest()
    except KeyError:
        raise ParseError(f"unsupported digest algorithm {algorithm!r}", error_id="bad-algorithm") from None


def ha1(username: str, realm: str, password: str, algorithm: str = "MD5") -> str:
    """H(username:realm:password): what a registrar stores instead of the password."""
    return _h(algorithm, f"{username}:{realm}:{password}")


def digest_response(
    ha1_value: str,
    method: str,
    uri: str,
    nonce: str,
    *,
    algorithm: str = "MD5",
    qop: str | None = "auth",
    nc: str = "00000001",
    cnonce: str = "",
) -> str:
    ha2 = _h(algorithm, f"{method}:{uri}")
    if qop:
        return _h(algorithm, f"{ha1_value}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return _h(algorithm, f"{ha1_value}:{nonce}:{ha2}")


def parse_params(value: str) -> tuple[str, dict[str, str]]:
    """``Digest realm="x", nonce="y", qop="auth"`` -> ("Digest", {...}); names lower-cased."""
    scheme, _, rest = value.strip(WSP).partition(" ")
    params: dict[str, str] = {}
    for item in split_top(rest, ","):
        item = item.strip(WSP)
        if not item:
            continue
        name, eq, raw = item.partition("=")
        if not eq:
            raise ParseError(f"bad authentication parameter {item[:40]!r}", error_id="bad-auth-header")
        raw = raw.strip(WSP)
        params[name.strip(WSP).lower()] = unquote(raw) if raw.startswith('"') else raw
    return scheme, params


@dataclass(frozen=True)
class Challenge:
    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: str = "auth"
    opaque: str | None = None
    stale: bool = False

    def __str__(self) -> str:
        text = (
            f"Digest realm={quote(self.realm)}, nonce={quote(self.nonce)}, algorithm={self.algorithm}, "
            f"qop={quote(self.qop)}"
        )
        if self.opaque:
            text += f", opaque={quote(self.opaque)}"
        if self.stale:
            text += ", stale=true"
        return text

    @classmethod
    def parse(cls, value: str) -> Challenge:
        scheme, p = parse_params(value)
        if scheme.lower() != "digest" or "realm" not in p or "nonce" not in p:
            raise ParseError("not a digest challenge", error_id="bad-auth-header")
        qops = [q.strip() for q in p.get("qop", "").split(",") if q.strip()]
        return cls(
            p["realm"],
            p["nonce"],
            p.get("algorithm", "MD5").upper(),
            "auth" if "auth" in qops or not qops else qops[0],
            p.get("opaque"),
            p.get("stale", "").lower() == "true",
        )


@dataclass(frozen=True)
class Credentials:
    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str = "MD5"
    qop: str | None = None
    nc: str | None = None
    cnonce: str | None = None
    opaque: str | None = None

    def __str__(self) -> str:
        text = (
            f"Digest username={quote(self.username)}, realm={quote(self.realm)}, nonce={quote(self.nonce)}, "
            f"uri={quote(self.uri)}, response={quote(self.response)}, algorithm={self.algorithm}"
        )
        if self.qop:
            text += f", qop={self.qop}, nc={self.nc}, cnonce={quote(self.cnonce or '')}"
        if self.opaque:
            text += f", opaque={quote(self.opaque)}"
        return text

    @classmethod
    def parse(cls, value: str) -> Credentials:
        scheme, p = parse_params(value)
        missing = [k for k in ("username", "realm", "nonce", "uri", "response") if k not in p]
        if scheme.lower() != "digest" or missing:
            raise ParseError(f"digest credentials lack {missing}", error_id="bad-auth-header")
        return cls(
            p["username"],
            p["realm"],
            p["nonce"],
            p["uri"],
            p["response"],
            p.get("algorithm", "MD5").upper(),
            p.get("qop"),
            p.get("nc"),
            p.get("cnonce"),
            p.get("opaque"),
        )


def answer(
    challenge: Challenge,
    method: str,
    uri: str,
    username: str,
    *,
    password: str | None = None,
    ha1_value: str | None = None,
    nc: int = 1,
    cnonce: str | None = None,
) -> Credentials:
    """The credentials a UAC sends back (Authorization or Proxy-Authorization)."""
    if ha1_value is None:
        if password is None:
            raise ValueError("a password or an HA1 is needed")
        ha1_value = ha1(username, challenge.realm, password, challenge.algorithm)
    cnonce = cnonce or os.urandom(8).hex()
    count = f"{nc:08x}"
    response = digest_response(
        ha1_value,
        method,
        uri,
        challenge.nonce,
        algorithm=challenge.algorithm,
        qop=challenge.qop,
        nc=count,
        cnonce=cnonce,
    )
    return Credentials(
        username,
        challenge.realm,
        challenge.nonce,
        uri,
        response,
        challenge.algorithm,
        challenge.qop,
        count,
        cnonce,
        challenge.opaque,
    )


class Verdict(StrEnum):
    OK = "ok"
    STALE = "stale"  # a good response to an expired nonce: challenge again with stale=true
    REJECTED = "rejected"  # wrong password, unknown user, foreign nonce, replay: 401/403


class DigestAuthenticator:
    def __init__(
        self,
        realm: str,
        secret: bytes,
        *,
        nonce_lifetime_s: float = 300.0,
        algorithm: str = "SHA-256",
        remembered_nonces: int = 100_000,
    ) -> None:
        if algorithm.upper() not in ALGORITHMS:
            raise ValueError(f"unsupported algorithm {algorithm}")
        self.realm = realm
        self.secret = secret
        self.nonce_lifetime_s = nonce_lifetime_s
        self.algorithm = algorithm.upper()
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._remembered = remembered_nonces

    def _sign(self, stamp: str, salt: str) -> str:
        return hmac.new(self.secret, f"{stamp}:{salt}:{self.realm}".encode(), hashlib.sha256).hexdigest()[:32]

    def challenge(self, *, stale: bool = False, now: float | None = None) -> Challenge:
        stamp = f"{int((now if now is not None else time.time()) * 1000):x}"
        salt = os.urandom(6).hex()
        return Challenge(
            self.realm, f"{stamp}.{salt}.{self._sign(stamp, salt)}", self.algorithm, "auth", None, stale
        )

    def _nonce_age(self, nonce: str, now: float) -> float | None:
        """The age of a nonce we issued, or None when it is not ours."""
        parts = nonce.split(".")
        if len(parts) != 3 or not hmac.compare_digest(parts[2], self._sign(parts[0], parts[1])):
            return None
        try:
            return now - int(parts[0], 16) / 1000
        except ValueError:
            return None

    def verify(
        self, method: str, header_value: str, stored_ha1: str | None, *, now: float | None = None
    ) -> Verdict:
        """Check an Authorization value; ``stored_ha1`` is the user's H(user:realm:password) for the
        credentials' algorithm (None for an unknown user: the answer is the same as a wrong password)."""
        now = now if now is not None else time.time()
        try:
            credentials = Credentials.parse(header_value)
        except ParseError:
            return Verdict.REJECTED
        if credentials.realm != self.realm or credentials.algorithm != self.algorithm:
            return Verdict.REJECTED
        age = self._nonce_age(credentials.nonce, now)
        if age is None or age < -5:
            return Verdict.REJECTED
        expected = digest_response(
            stored_ha1 or "0" * 64,
            method,
            credentials.uri,
            credentials.nonce,
            algorithm=credentials.algorithm,
            qop=credentials.qop,
            nc=credentials.nc or "",
            cnonce=credentials.cnonce or "",
        )
        if not hmac.compare_digest(expected, credentials.response) or stored_ha1 is None:
            return Verdict.REJECTED
        if age > self.nonce_lifetime_s:
            return Verdict.STALE
        if credentials.qop != "auth" or not credentials.nc:
            return Verdict.REJECTED  # without a nonce count there is no replay protection
        try:
            count = int(credentials.nc, 16)
        except ValueError:
            return Verdict.REJECTED
        if count <= self._counts.get(credentials.nonce, 0):
            return Verdict.REJECTED  # replayed
        self._counts[credentials.nonce] = count
        self._counts.move_to_end(credentials.nonce)
        while len(self._counts) > self._remembered:
            self._counts.popitem(last=False)
        return Verdict.OK
