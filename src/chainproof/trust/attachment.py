"""What signing produces before anything is written: an :class:`Attachment`.

The cosign tag schema (:mod:`chainproof.trust.cosign.sign`) and the OCI 1.1 referrers that
Sigstore bundles and Notation signatures use (:func:`referrer_attachment`) both end in one: the
manifest, its media type and every blob it references. The destinations of
:mod:`chainproof.trust.publishing` write it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest

if TYPE_CHECKING:
    from chainproof.oci.model import Descriptor


@dataclass(frozen=True)
class Attachment:
    tag: str
    manifest: bytes
    media_type: str
    blobs: dict[str, bytes] = field(default_factory=dict)
    #: Set for OCI 1.1 referrers (manifests with a ``subject``); empty for cosign's tag schema.
    artifact_type: str = ""

    @property
    def digest(self) -> Digest:
        return Digest.of(self.manifest)


#: The OCI empty descriptor's content, used as the config of artifact manifests.
_EMPTY = b"{}"


def referrer_attachment(
    subject: Descriptor,
    artifact_type: str,
    layers: list[tuple[str, bytes, dict[str, str]]],
    *,
    annotations: dict[str, str] | None = None,
) -> Attachment:
    """An OCI 1.1 artifact manifest (empty config, ``artifactType``, ``subject``)."""
    blobs = {str(Digest.of(_EMPTY)): _EMPTY}
    descriptors = []
    for media_type, data, notes in layers:
        blobs[str(Digest.of(data))] = data
        entry: dict[str, Any] = {
            "mediaType": media_type,
            "digest": str(Digest.of(data)),
            "size": len(data),
        }
        if notes:
            entry["annotations"] = notes
        descriptors.append(entry)
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": mt.OCI_EMPTY, "digest": str(Digest.of(_EMPTY)), "size": 2},
        "layers": descriptors,
        "subject": {
            "mediaType": subject.media_type,
            "digest": str(subject.digest),
            "size": subject.size,
        },
    }
    if annotations:
        manifest["annotations"] = annotations
    data = json.dumps(manifest, separators=(",", ":")).encode()
    return Attachment("", data, mt.OCI_MANIFEST, blobs, artifact_type)
