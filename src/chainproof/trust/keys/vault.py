"""Keys in HashiCorp Vault / OpenBao Transit, named as cosign names them.

``hashivault://<key>`` reads ``$VAULT_ADDR`` and ``$VAULT_TOKEN``; ``openbao://<key>`` reads
``$BAO_ADDR`` / ``$BAO_TOKEN`` (falling back to the Vault variables). The Transit mount is
``$TRANSIT_SECRET_ENGINE_PATH`` (default ``transit``), as in cosign. The private key stays in the
server: chainproof sends the SHA-256 digest (``prehashed``) for ECDSA and the message for Ed25519,
and asks for PKCS#1 v1.5 signatures from RSA keys so they verify like cosign's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from chainproof import _jsonutil as _json
from chainproof.errors import AuthError, MalformedError, NotFoundError, RegistryError, UsageError
from chainproof.trust.keys.interface import KeyBackend, Signer
from chainproof.trust.keys.model import VerificationKey, public_key_from_pem

#: Transit answers are small JSON documents; no reason to wait long for one.
TIMEOUT = httpx.Timeout(15.0)


def _settings(uri: str) -> tuple[str, str, str, str]:
    """(address, token, mount, key name) for a hashivault:// or openbao:// URI."""
    scheme, _, name = uri.partition("://")
    name = name.strip("/")
    if not name or "/" in name:
        raise MalformedError(f"{uri}: expected {scheme}://<transit key name>")
    env = os.environ
    if scheme == "openbao":
        address = env.get("BAO_ADDR") or env.get("VAULT_ADDR", "")
        token = env.get("BAO_TOKEN") or env.get("VAULT_TOKEN", "")
    else:
        address, token = env.get("VAULT_ADDR", ""), env.get("VAULT_TOKEN", "")
    if not address:
        raise UsageError(f"{uri}: set {'BAO_ADDR' if scheme == 'openbao' else 'VAULT_ADDR'}")
    if not token:
        raise UsageError(f"{uri}: set {'BAO_TOKEN' if scheme == 'openbao' else 'VAULT_TOKEN'}")
    mount = env.get("TRANSIT_SECRET_ENGINE_PATH", "transit").strip("/")
    return address.rstrip("/"), token, mount, name


class _Transit:
    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.address, self._token, self.mount, self.name = _settings(uri)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"{self.address}/v1/{self.mount}/{path}"
        try:
            response = httpx.request(
                method, url, json=body, headers={"X-Vault-Token": self._token}, timeout=TIMEOUT
            )
        except httpx.HTTPError as exc:
            raise RegistryError(f"{self.uri}: cannot reach {self.address} ({exc})") from None
        if response.status_code in (401, 403):
            raise AuthError(f"{self.uri}: the token is not allowed to use transit key {self.name}")
        if response.status_code == 404:
            raise NotFoundError(f"{self.uri}: no transit key {self.name} at {self.mount}/")
        if response.status_code >= 400:
            raise RegistryError(f"{self.uri}: transit answered HTTP {response.status_code}")
        doc = _json.loads_object(response.content, f"{self.uri} response", max_bytes=1 << 20)
        data = doc.get("data")
        if not isinstance(data, dict):
            raise MalformedError(f"{self.uri}: transit response has no data")
        return data

    def public(self) -> tuple[VerificationKey, str, int]:
        """The latest key version's public key, the transit key type, and the version."""
        data = self.call("GET", f"keys/{self.name}")
        kind = str(data.get("type", ""))
        version = data.get("latest_version")
        versions = data.get("keys")
        if not isinstance(version, int) or not isinstance(versions, dict):
            raise MalformedError(f"{self.uri}: transit key has no versions")
        entry = versions.get(str(version))
        pem = entry.get("public_key") if isinstance(entry, dict) else None
        if not isinstance(pem, str) or not pem:
            raise UsageError(f"{self.uri}: transit key type {kind!r} has no public key")
        if kind == "ed25519" and "BEGIN" not in pem:
            # Older servers hand out the raw Ed25519 key, base64-encoded.
            try:
                raw = base64.b64decode(pem)
            except (binascii.Error, ValueError):
                raise MalformedError(f"{self.uri}: Ed25519 public key is not base64") from None
            public = ed25519.Ed25519PublicKey.from_public_bytes(raw)
            pem = public.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ).decode()
        key = VerificationKey.from_public_key(public_key_from_pem(pem.encode(), self.uri), self.uri)
        return key, kind, version


class TransitSigner(Signer):
    def __init__(self, uri: str) -> None:
        self._transit = _Transit(uri)
        self._public, self._kind, self._version = self._transit.public()

    @property
    def public(self) -> VerificationKey:
        return self._public

    def sign(self, data: bytes) -> bytes:
        key = self._public.public_key
        body: dict[str, Any] = {"key_version": self._version}
        path = f"sign/{self._transit.name}"
        if isinstance(key, ec.EllipticCurvePublicKey):
            algorithm = {"secp384r1": ("sha2-384", hashlib.sha384)}.get(
                key.curve.name, ("sha2-256", hashlib.sha256)
            )
            path += f"/{algorithm[0]}"
            body |= {
                "input": base64.b64encode(algorithm[1](data).digest()).decode(),
                "prehashed": True,
                "marshaling_algorithm": "asn1",
            }
        elif isinstance(key, rsa.RSAPublicKey):
            path += "/sha2-256"
            body |= {"input": base64.b64encode(data).decode(), "signature_algorithm": "pkcs1v15"}
        else:
            body |= {"input": base64.b64encode(data).decode()}
        signature = self._transit.call("POST", path, body).get("signature")
        # "vault:v<version>:<base64>"
        if not isinstance(signature, str) or signature.count(":") != 2:
            raise MalformedError(f"{self._transit.uri}: transit returned no signature")
        try:
            return base64.b64decode(signature.rsplit(":", 1)[1], validate=True)
        except (binascii.Error, ValueError):
            raise MalformedError(f"{self._transit.uri}: transit signature is not base64") from None


class TransitKeyBackend(KeyBackend):
    schemes = ("hashivault", "openbao")

    def load_public(self, uri: str) -> VerificationKey:
        key, _, _ = _Transit(uri).public()
        return key

    def signer(self, uri: str) -> Signer:
        return TransitSigner(uri)
