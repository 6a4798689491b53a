"""Signing keys: Ed25519, created at first start, rotated on request. The newest active key signs;
retired keys stay in the JWKS until every token they signed has expired."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: Ed25519PrivateKey
    public_jwk: dict[str, Any]

    @classmethod
    def generate(cls) -> SigningKey:
        private = Ed25519PrivateKey.generate()
        kid = os.urandom(8).hex()
        jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(private.public_key()))
        return cls(kid, private, {**jwk, "kid": kid, "alg": "EdDSA", "use": "sig"})

    def private_pem(self) -> str:
        return self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    @classmethod
    def load(cls, kid: str, private_pem: str, public_jwk: dict[str, Any]) -> SigningKey:
        private = serialization.load_pem_private_key(private_pem.encode(), password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError(f"signing key {kid} is not Ed25519")
        return cls(kid, private, public_jwk)

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.private, algorithm="EdDSA", headers={"kid": self.kid})
