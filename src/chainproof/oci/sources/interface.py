"""The image-source extension point: where manifests and blobs come from.

A source hands out *unverified* bytes; :mod:`chainproof.oci.image` checks every manifest and
blob against the digest and size asked for. Keeping verification out of the sources means a new
transport cannot forget it.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import TracebackType

    from chainproof.oci.digest import Digest
    from chainproof.oci.model import Descriptor

#: Blob chunks as sources yield them; big enough to amortise Python overhead per chunk.
CHUNK_SIZE = 1024 * 1024


@dataclass(frozen=True)
class RawManifest:
    """Manifest bytes as served, with the media type the source reported (may be empty)."""

    data: bytes
    media_type: str


class ImageSource(abc.ABC):
    """Read access to one image repository, local or remote."""

    #: Human-readable location used in messages: "oci:/tmp/img", "registry.example/app".
    location: str
    #: The verified-layer cache the layer pass may consult (``chainproof.layers.cache``);
    #: set by :func:`chainproof.oci.open.open_target` from ``OpenOptions.layer_cache``.
    #: Typed ``object``: oci sits below layers and never imports it; the layer pass checks it.
    layer_cache: object | None = None

    @abc.abstractmethod
    def resolve(self) -> tuple[RawManifest, Digest | None]:
        """The manifest or index the reference names, and the digest it must have if the
        reference pinned one (or the source knows it, e.g. from index.json)."""

    @abc.abstractmethod
    def get_manifest(self, digest: Digest) -> RawManifest:
        """A manifest or index by digest (children of an index, referrers)."""

    @abc.abstractmethod
    def open_blob(self, descriptor: Descriptor) -> Iterator[bytes]:
        """Stream a blob's bytes in chunks. Raises NotFoundError if the blob is absent."""

    def blob_fingerprint(self, descriptor: Descriptor) -> str | None:
        """A cheap token that changes whenever the stored bytes of a blob may have changed.

        Local files: device, inode, size, mtime and ctime (as git's index); the layer cache
        trusts a verified layer again only while this is unchanged. ``""`` for stores that
        serve a blob by its digest or not at all (registries). ``None`` (the default) when the
        source cannot tell: the layer is then always streamed again.
        """
        del descriptor
        return None

    def get_tag(self, tag: str) -> RawManifest | None:
        """The manifest a tag of this repository names, or None when there is no such tag.

        Used for tag-schema attachments (cosign ``sha256-<hex>.sig`` / ``.att``); the bytes are
        unverified like every other manifest, since a tag pins no digest. Sources without
        tags keep the default.
        """
        del tag
        return None

    def referrers(self, subject: Digest, artifact_type: str = "") -> list[Descriptor]:
        """Manifests whose ``subject`` is ``subject`` (OCI referrers); none by default."""
        del subject, artifact_type
        return []

    def close(self) -> None:  # noqa: B027 - optional hook, most sources hold nothing open
        """Release files or connections."""

    def __enter__(self) -> ImageSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
