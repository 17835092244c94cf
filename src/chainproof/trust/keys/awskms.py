"""Keys in AWS KMS, named as cosign names them: ``awskms://[ENDPOINT]/KEY``.

``KEY`` is a key id, a key ARN or ``alias/NAME``; ``ENDPOINT`` (optional) overrides the service
endpoint (``https://ENDPOINT``). Region and credentials come from boto3's usual chain
(``AWS_REGION``, profiles, instance roles); an ARN's region wins. The private key never leaves KMS.

Messages up to 4096 bytes are sent whole (``MessageType=RAW``, KMS hashes them); longer ones
(large attestations) as their SHA-256/384 digest (``MessageType=DIGEST``) — KMS's documented
limit. Needs the optional ``boto3`` package (``pip install chainproof[aws]``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography.hazmat.primitives import serialization

from chainproof.errors import (
    AuthError,
    MalformedError,
    NotFoundError,
    RegistryError,
    UnsupportedError,
    UsageError,
)
from chainproof.trust.keys.interface import KeyBackend, Signer
from chainproof.trust.keys.model import VerificationKey

#: KMS accepts RAW messages up to this size; beyond it only a digest.
MAX_RAW_MESSAGE = 4096

_ALGORITHMS = {
    "ECC_NIST_P256": ("ECDSA_SHA_256", hashlib.sha256),
    "ECC_NIST_P384": ("ECDSA_SHA_384", hashlib.sha384),
    "RSA_2048": ("RSASSA_PKCS1_V1_5_SHA_256", hashlib.sha256),
    "RSA_3072": ("RSASSA_PKCS1_V1_5_SHA_256", hashlib.sha256),
    "RSA_4096": ("RSASSA_PKCS1_V1_5_SHA_256", hashlib.sha256),
}


def parse_uri(uri: str) -> tuple[str, str]:
    """(endpoint or "", key id / ARN / alias) of an ``awskms://`` URI."""
    if not uri.startswith("awskms://"):
        raise MalformedError(f"{uri!r} is not an awskms:// URI")
    rest = uri[len("awskms://") :]
    endpoint, sep, key = rest.partition("/")
    if not sep or not key:
        raise MalformedError(f"{uri}: expected awskms://[ENDPOINT]/KEY")
    return endpoint, key


def _client(uri: str) -> tuple[Any, str]:
    try:
        import boto3
    except ImportError:
        raise UnsupportedError("awskms: keys need boto3 (pip install chainproof[aws])") from None
    endpoint, key = parse_uri(uri)
    options: dict[str, Any] = {}
    if key.startswith("arn:aws:kms:"):
        options["region_name"] = key.split(":")[3]
    if endpoint:
        options["endpoint_url"] = f"https://{endpoint}"
    return boto3.client("kms", **options), key


def _call(uri: str, action: Any) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    try:
        return action()
    except (NoCredentialsError, NoRegionError) as exc:
        raise UsageError(f"{uri}: {exc}") from None
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "NotFoundException":
            raise NotFoundError(f"{uri}: no such KMS key") from None
        if code in ("AccessDeniedException", "UnrecognizedClientException"):
            raise AuthError(f"{uri}: KMS refused access ({code})") from None
        raise RegistryError(f"{uri}: KMS error {code}") from None
    except BotoCoreError as exc:
        raise RegistryError(f"{uri}: cannot reach KMS ({exc})") from None


class KmsSigner(Signer):
    def __init__(self, uri: str) -> None:
        self._uri = uri
        self._client, self._key = _client(uri)
        answer = _call(uri, lambda: self._client.get_public_key(KeyId=self._key))
        # KeySpec; CustomerMasterKeySpec is its deprecated twin, still all some servers send.
        spec = answer.get("KeySpec") or answer.get("CustomerMasterKeySpec", "")
        if spec not in _ALGORITHMS:
            raise UnsupportedError(f"{uri}: KMS key spec {spec!r} is not supported for signing")
        if answer.get("KeyUsage") not in (None, "SIGN_VERIFY"):
            raise UsageError(f"{uri}: KMS key is not a SIGN_VERIFY key")
        self._algorithm, self._hash = _ALGORITHMS[spec]
        public = serialization.load_der_public_key(answer["PublicKey"])
        self._public = VerificationKey.from_public_key(public, uri)

    @property
    def public(self) -> VerificationKey:
        return self._public

    def sign(self, data: bytes) -> bytes:
        if len(data) <= MAX_RAW_MESSAGE:
            message, kind = data, "RAW"
        else:
            message, kind = self._hash(data).digest(), "DIGEST"
        answer = _call(
            self._uri,
            lambda: self._client.sign(
                KeyId=self._key,
                Message=message,
                MessageType=kind,
                SigningAlgorithm=self._algorithm,
            ),
        )
        return bytes(answer["Signature"])


class AwsKmsKeyBackend(KeyBackend):
    schemes = ("awskms",)

    def load_public(self, uri: str) -> VerificationKey:
        return KmsSigner(uri).public

    def signer(self, uri: str) -> Signer:
        return KmsSigner(uri)
