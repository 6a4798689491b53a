"""Digest authentication: published test vectors, the server's nonce lifetime and replay rules."""

from __future__ import annotations

import pytest

from callisto_sip.auth import (
    Challenge,
    Credentials,
    DigestAuthenticator,
    Verdict,
    answer,
    digest_response,
    ha1,
)

pytestmark = pytest.mark.unit


def test_rfc2617_md5_vector() -> None:
    secret = ha1("Mufasa", "testrealm@host.com", "Circle Of Life")
    assert (
        digest_response(
            secret,
            "GET",
            "/dir/index.html",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            nc="00000001",
            cnonce="0a4f113b",
        )
        == "6629fae49393a05397450978507c4ef1"
    )


def test_rfc7616_sha256_vector() -> None:
    secret = ha1("Mufasa", "http-auth@example.org", "Circle of Life", "SHA-256")
    got = digest_response(
        secret,
        "GET",
        "/dir/index.html",
        "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        algorithm="SHA-256",
        nc="00000001",
        cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    )
    assert got == "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_challenge_answer_verify(algorithm: str) -> None:
    server = DigestAuthenticator("callisto.example", b"s3cret", algorithm=algorithm, nonce_lifetime_s=60)
    challenge = Challenge.parse(str(server.challenge(now=1000.0)))
    stored = ha1("agent7", "callisto.example", "pw", algorithm)
    creds = answer(challenge, "REGISTER", "sip:callisto.example", "agent7", password="pw")
    header = str(creds)
    assert Credentials.parse(header) == creds
    assert server.verify("REGISTER", header, stored, now=1001.0) is Verdict.OK
    assert server.verify("REGISTER", header, stored, now=1002.0) is Verdict.REJECTED  # replayed nonce count
    again = answer(challenge, "REGISTER", "sip:callisto.example", "agent7", ha1_value=stored, nc=2)
    assert server.verify("REGISTER", str(again), stored, now=1003.0) is Verdict.OK
    late = answer(challenge, "REGISTER", "sip:callisto.example", "agent7", password="pw", nc=3)
    assert server.verify("REGISTER", str(late), stored, now=1100.0) is Verdict.STALE
    wrong = answer(challenge, "REGISTER", "sip:callisto.example", "agent7", password="guess", nc=4)
    assert server.verify("REGISTER", str(wrong), stored, now=1004.0) is Verdict.REJECTED
    assert server.verify("REGISTER", str(creds), None, now=1001.0) is Verdict.REJECTED  # unknown user
    assert (
        server.verify(
            "INVITE",
            str(answer(challenge, "REGISTER", "sip:x", "agent7", password="pw", nc=9)),
            stored,
            now=1001.0,
        )
        is Verdict.REJECTED
    )  # signed for another method


def test_foreign_or_forged_nonces_are_refused() -> None:
    server = DigestAuthenticator("r", b"one")
    other = DigestAuthenticator("r", b"two")
    stored = ha1("u", "r", "p", "SHA-256")
    creds = answer(other.challenge(), "REGISTER", "sip:r", "u", password="p")
    assert server.verify("REGISTER", str(creds), stored) is Verdict.REJECTED
    assert server.verify("REGISTER", "Digest garbage", stored) is Verdict.REJECTED
    assert server.verify("REGISTER", "Basic dXNlcjpwYXNz", stored) is Verdict.REJECTED


def test_stale_challenge_is_announced() -> None:
    assert "stale=true" in str(DigestAuthenticator("r", b"k").challenge(stale=True))
