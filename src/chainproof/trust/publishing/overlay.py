"""An image source with signatures added in memory: sign without writing anywhere.

``AttachmentOverlay(base)`` serves everything ``base`` serves, plus the attachments put into it
(cosign ``.sig`` / ``.att`` tags and their blobs). The demo signs a sample image this way, and a
``sign --dry-run`` can show what would be pushed and that it verifies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainproof.oci.digest import Digest
from chainproof.oci.sources.interface import ImageSource, RawManifest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from chainproof.oci.model import Descriptor
    from chainproof.trust.attachment import Attachment


class AttachmentOverlay(ImageSource):
    def __init__(self, base: ImageSource) -> None:
        self.base = base
        self.location = f"{base.location} (+ signatures in memory)"
        self._tags: dict[str, RawManifest] = {}
        self._blobs: dict[str, bytes] = {}

    def put(self, attachment: Attachment) -> None:
        """Add (or replace) one attachment; its tag now resolves to it."""
        self._blobs.update(attachment.blobs)
        self._tags[attachment.tag] = RawManifest(attachment.manifest, attachment.media_type)

    def resolve(self) -> tuple[RawManifest, Digest | None]:
        return self.base.resolve()

    def get_manifest(self, digest: Digest) -> RawManifest:
        for raw in self._tags.values():
            if Digest.of(raw.data) == digest:
                return raw
        return self.base.get_manifest(digest)

    def get_tag(self, tag: str) -> RawManifest | None:
        if tag in self._tags:
            return self._tags[tag]
        return self.base.get_tag(tag)

    def open_blob(self, descriptor: Descriptor) -> Iterator[bytes]:
        data = self._blobs.get(str(descriptor.digest))
        if data is not None:
            yield data
            return
        yield from self.base.open_blob(descriptor)

    def referrers(self, subject: Digest, artifact_type: str = "") -> list[Descriptor]:
        return self.base.referrers(subject, artifact_type)

    def close(self) -> None:
        self.base.close()
