"""Create cosign-compatible signature and attestation attachments (tag schema).

``sign_image`` returns the ``sha256-<hex>.sig`` manifest cosign would write (appending a layer to an
existing signature manifest, as cosign does); ``attest_image`` the ``.att`` manifest holding a DSSE
in-toto statement. Writing them to a registry or OCI layout is the job of the destination; the
:class:`Attachment` carries the tag, the manifest and every blob it references.

Post-quantum signatures are an extension a cosign verifier can ignore: a hybrid key puts its ECDSA
signature in cosign's own annotation and its ML-DSA-65 signature (over the same bytes) in
``dev.chainproof.pq/signature``; a pure ML-DSA key's layer is typed with
``dev.chainproof.pq/algorithm: ML-DSA-65`` so no verifier mistakes it for an ECDSA signature.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from chainproof import _jsonutil as _json
from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.trust.attachment import Attachment
from chainproof.trust.cosign.verify import (
    ANN_PQ_SIGNATURE,
    ANN_SIGNATURE,
    DSSE_MEDIA_TYPE,
    SIMPLESIGNING_MEDIA_TYPE,
    attachment_tag,
)
from chainproof.trust.envelopes.dsse import INTOTO_PAYLOAD_TYPE, DsseSignature, Envelope, pae
from chainproof.trust.envelopes.intoto import statement_bytes
from chainproof.trust.keys.interface import Signer
from chainproof.trust.keys.private import HybridSigningKey

if TYPE_CHECKING:
    from chainproof.oci.sources.interface import RawManifest


ANN_PQ_ALGORITHM = "dev.chainproof.pq/algorithm"


PQ_ALGORITHM = "ML-DSA-65"


def simplesigning_payload(
    subject: Digest, repository: str, annotations: dict[str, str] | None = None
) -> bytes:
    """cosign's payload, byte for byte (compact JSON; ``optional`` is null or the sorted
    ``-a key=value`` annotations, as Go marshals a map)."""
    doc = {
        "critical": {
            "identity": {"docker-reference": repository},
            "image": {"docker-manifest-digest": str(subject)},
            "type": "cosign container image signature",
        },
        "optional": dict(sorted(annotations.items())) if annotations else None,
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def _signature_annotations(key: Signer | HybridSigningKey, message: bytes) -> dict[str, str]:
    if isinstance(key, HybridSigningKey):
        return {
            ANN_SIGNATURE: base64.b64encode(key.classic.sign(message)).decode(),
            ANN_PQ_SIGNATURE: base64.b64encode(key.pq.sign(message)).decode(),
            ANN_PQ_ALGORITHM: PQ_ALGORITHM,
        }
    annotations = {ANN_SIGNATURE: base64.b64encode(key.sign(message)).decode()}
    if key.algorithm == "mldsa-65":
        annotations[ANN_PQ_ALGORITHM] = PQ_ALGORITHM
    return annotations


def _assemble(
    tag: str,
    layers: list[tuple[str, bytes, dict[str, str]]],
    existing: RawManifest | None,
    blobs: dict[str, bytes],
) -> Attachment:
    old_layers: list[dict[str, Any]] = []
    if existing is not None:
        old = _json.loads_object(existing.data, "existing signature manifest")
        old_layers = list(old.get("layers", []))
    new_layers = []
    for media_type, data, notes in layers:
        digest = Digest.of(data)
        blobs[str(digest)] = data
        new_layers.append(
            {
                "mediaType": media_type,
                "size": len(data),
                "digest": str(digest),
                "annotations": notes,
            }
        )
    all_layers = old_layers + new_layers
    config = json.dumps(
        {
            "architecture": "",
            "created": "0001-01-01T00:00:00Z",
            "history": [{"created": "0001-01-01T00:00:00Z"}],
            "os": "",
            "rootfs": {"type": "layers", "diff_ids": [layer["digest"] for layer in all_layers]},
            "config": {},
        },
        separators=(",", ":"),
    ).encode()
    blobs[str(Digest.of(config))] = config
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": {
            "mediaType": mt.OCI_CONFIG,
            "size": len(config),
            "digest": str(Digest.of(config)),
        },
        "layers": all_layers,
    }
    return Attachment(
        tag, json.dumps(manifest, separators=(",", ":")).encode(), mt.OCI_MANIFEST, blobs
    )


def sign_image(
    subject: Digest,
    key: Signer | HybridSigningKey,
    repository: str,
    *,
    existing: RawManifest | None = None,
    annotations: dict[str, str] | None = None,
) -> Attachment:
    """The ``.sig`` attachment with one more signature of ``subject``."""
    payload = simplesigning_payload(subject, repository, annotations)
    layer = (SIMPLESIGNING_MEDIA_TYPE, payload, _signature_annotations(key, payload))
    return _assemble(attachment_tag(subject, "sig"), [layer], existing, {})


def statement(subject: Digest, name: str, predicate_type: str, predicate: Any) -> bytes:
    return statement_bytes(name, {subject.algorithm: subject.encoded}, predicate_type, predicate)


def attest_image(
    subject: Digest,
    key: Signer | HybridSigningKey,
    repository: str,
    predicate_type: str,
    predicate: Any,
    *,
    existing: RawManifest | None = None,
) -> Attachment:
    """The ``.att`` attachment with one more DSSE in-toto attestation of ``subject``."""
    payload = statement(subject, repository, predicate_type, predicate)
    message = pae(INTOTO_PAYLOAD_TYPE, payload)
    annotations = _signature_annotations(key, message)
    # A hybrid key's ML-DSA half stays in the layer annotation; the envelope has the classic one.
    signature = base64.b64decode(annotations.pop(ANN_SIGNATURE))
    envelope = Envelope(INTOTO_PAYLOAD_TYPE, payload, (DsseSignature(signature),)).dumps()
    annotations.update({ANN_SIGNATURE: "", "predicateType": predicate_type})
    return _assemble(
        attachment_tag(subject, "att"), [(DSSE_MEDIA_TYPE, envelope, annotations)], existing, {}
    )
