"""Referrers of a subject, with the OCI 1.1 tag-schema fallback.

Registries without the referrers API (distribution 2.x, many mirrors) keep an image index under
the tag ``<alg>-<hex>`` listing the referrers; cosign and notation write and read it. Sources may
implement the fallback themselves; when ``referrers()`` finds nothing, the formats look at that
tag too, so a source that only speaks the API still finds signatures on older registries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainproof import _jsonutil as _json
from chainproof.errors import MalformedError
from chainproof.oci.model import Descriptor

if TYPE_CHECKING:
    from chainproof.oci.digest import Digest
    from chainproof.oci.sources.interface import ImageSource

#: A referrers index is small; one this large is not one.
MAX_INDEX_BYTES = 4 * 1024 * 1024


def fallback_tag(subject: Digest) -> str:
    return f"{subject.algorithm}-{subject.encoded}"


def find_referrers(source: ImageSource, subject: Digest, artifact_type: str) -> list[Descriptor]:
    found = source.referrers(subject, artifact_type)
    if found:
        return [d for d in found if d.artifact_type in ("", artifact_type)]
    raw = source.get_tag(fallback_tag(subject))
    if raw is None:
        return []
    what = f"referrers index {fallback_tag(subject)}"
    index = _json.loads_object(raw.data, what, max_bytes=MAX_INDEX_BYTES)
    manifests = index.get("manifests")
    if not isinstance(manifests, list):
        raise MalformedError(f"{what}: no manifests list")
    descriptors = [Descriptor.from_json(m, what) for m in manifests]
    return [d for d in descriptors if d.artifact_type == artifact_type]
