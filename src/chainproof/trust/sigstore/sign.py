"""Key-signed Sigstore bundles (v0.3) attached as OCI referrers, as cosign v3 writes them offline.

``cosign sign --key K --new-bundle-format --tlog-upload=false IMAGE`` signs a DSSE envelope
holding an in-toto Statement v1 whose subject is the image digest and whose predicate type is
``https://sigstore.dev/cosign/sign/v1``; the bundle's verification material is the key's
``publicKey.hint`` with no transparency-log entry, and it is attached as a referrer with
``artifactType application/vnd.dev.sigstore.bundle.v0.3+json``. ``cosign verify --key
--insecure-ignore-tlog`` (and ``chainproof verify --key --insecure-ignore-tlog``) accepts it.

Without Fulcio and Rekor (no network here) nothing else can be written: a keyless bundle needs a
Fulcio certificate, a logged one a Rekor entry. Such a bundle proves that the key signed, not
when; that is why verifiers accept it only when told to ignore the log.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import TYPE_CHECKING, Any

from chainproof.errors import UnsupportedError
from chainproof.trust.envelopes.dsse import INTOTO_PAYLOAD_TYPE, sign_envelope
from chainproof.trust.envelopes.intoto import COSIGN_SIGN_PREDICATE, statement_bytes
from chainproof.trust.sigstore.bundle import BUNDLE_ARTIFACT_TYPE

if TYPE_CHECKING:
    from chainproof.oci.model import Descriptor
    from chainproof.trust.attachment import Attachment
    from chainproof.trust.keys.interface import Signer

#: Sigstore's algorithm registry has no ML-DSA yet; these keys are what a bundle can carry.
_BUNDLE_ALGORITHMS = ("ecdsa", "rsa", "ed25519")


def key_hint(key: Signer) -> str:
    """The ``publicKey.hint`` sigstore-go and cosign write: base64(SHA-256(SPKI DER))."""
    return base64.b64encode(hashlib.sha256(key.public.der()).digest()).decode()


def statement(
    target: Descriptor,
    name: str,
    predicate_type: str = COSIGN_SIGN_PREDICATE,
    predicate: Any = None,
    annotations: dict[str, str] | None = None,
) -> bytes:
    return statement_bytes(
        name,
        {"sha256": target.digest.encoded},
        predicate_type,
        predicate if predicate is not None else {},
        annotations,
    )


def dsse_bundle(payload: bytes, key: Signer) -> bytes:
    """A v0.3 bundle: a DSSE envelope over ``payload`` signed by ``key``, no log entry."""
    if not key.algorithm.startswith(_BUNDLE_ALGORITHMS):
        raise UnsupportedError(
            f"Sigstore bundles cannot carry {key.algorithm} signatures; sign without --bundle "
            "(the cosign tag layout takes hybrid and ML-DSA signatures)"
        )
    envelope = sign_envelope(INTOTO_PAYLOAD_TYPE, payload, key).to_json()
    bundle = {
        "mediaType": BUNDLE_ARTIFACT_TYPE,
        "verificationMaterial": {"publicKey": {"hint": key_hint(key)}, "tlogEntries": []},
        # The protobuf-specs JSON mapping orders the envelope's fields by number.
        "dsseEnvelope": {
            "payload": envelope["payload"],
            "payloadType": envelope["payloadType"],
            "signatures": [{"sig": s["sig"], "keyid": s["keyid"]} for s in envelope["signatures"]],
        },
    }
    return json.dumps(bundle, separators=(",", ":")).encode()


def bundle_attachment(
    target: Descriptor,
    key: Signer,
    name: str,
    *,
    predicate_type: str = COSIGN_SIGN_PREDICATE,
    predicate: Any = None,
    annotations: dict[str, str] | None = None,
) -> Attachment:
    """The referrer manifest (and blobs) of a bundle signing or attesting ``target``."""
    from chainproof.trust.attachment import referrer_attachment

    data = dsse_bundle(statement(target, name, predicate_type, predicate, annotations), key)
    return referrer_attachment(
        target,
        BUNDLE_ARTIFACT_TYPE,
        [(BUNDLE_ARTIFACT_TYPE, data, {})],
        annotations={
            "dev.sigstore.bundle.content": "dsse-envelope",
            "dev.sigstore.bundle.predicateType": predicate_type,
        },
    )
