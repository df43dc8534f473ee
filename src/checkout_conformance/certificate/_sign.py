"""Ed25519 signatures of a certificate's digest: who vouches for it."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from ._build import content_digest


class SigningError(Exception):
    """A key that cannot sign or verify (not Ed25519 PEM, unreadable); the message says why."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def generate_key() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as PEM: (private, public)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def _raw_public(public_pem: bytes) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(public_pem)
    except ValueError as error:
        raise SigningError(f"not a PEM public key ({error})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError("not an Ed25519 public key")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign(certificate: dict[str, Any], private_pem: bytes) -> None:
    """Sign the certificate's digest with an Ed25519 key (PEM, unencrypted), in place."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(private_pem, password=None)
    except (ValueError, TypeError) as error:
        raise SigningError(f"not an unencrypted PEM private key ({error})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError("not an Ed25519 private key")
    digest = content_digest(certificate)
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    certificate["integrity"] = {
        "sha256": digest,
        "signature": {
            "algorithm": "ed25519",
            "public_key": _b64(public),
            "value": _b64(key.sign(digest.encode("ascii"))),
        },
    }


def _signature_problems(certificate: Mapping[str, Any], public_pem: bytes | None) -> list[str]:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    signature = certificate["integrity"].get("signature")
    if signature is None:
        return ["signature: the certificate is not signed (--public-key needs a signed one)"]
    embedded = base64.b64decode(signature["public_key"])
    if public_pem is not None and _raw_public(public_pem) != embedded:
        return ["signature: signed with another key than the one given"]
    try:
        Ed25519PublicKey.from_public_bytes(embedded).verify(
            base64.b64decode(signature["value"]),
            certificate["integrity"]["sha256"].encode("ascii"),
        )
    except (InvalidSignature, ValueError):
        return ["signature: does not match the certificate's digest"]
    return []
