"""An ImageSource over connaisseur's byte-exact registry dump (manifests/<tag>.json, blobs/)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainproof.errors import NotFoundError
from chainproof.oci.digest import Digest
from chainproof.oci.sources.interface import ImageSource, RawManifest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from chainproof.oci.model import Descriptor


class DumpSource(ImageSource):
    """Serves what the registry served: manifests by tag or digest, blobs by digest."""

    def __init__(self, root: Path, tag: str = "") -> None:
        self.root = root
        self.location = f"dump:{root}"
        self.tag = tag
        self.by_digest = {
            str(Digest.of(path.read_bytes())): path for path in (root / "manifests").glob("*.json")
        }

    def resolve(self) -> tuple[RawManifest, Digest | None]:
        raw = self.get_tag(self.tag)
        if raw is None:
            raise NotFoundError(f"tag {self.tag} not in {self.root}")
        return raw, None

    def get_manifest(self, digest: Digest) -> RawManifest:
        path = self.by_digest.get(str(digest))
        if path is None:
            raise NotFoundError(f"manifest {digest} not in {self.root}")
        return RawManifest(path.read_bytes(), "")

    def get_tag(self, tag: str) -> RawManifest | None:
        path = self.root / "manifests" / f"{tag}.json"
        return RawManifest(path.read_bytes(), "") if path.is_file() else None

    def open_blob(self, descriptor: Descriptor) -> Iterator[bytes]:
        path = self.root / "blobs" / f"{descriptor.digest}.json"
        if not path.is_file():
            raise NotFoundError(f"blob {descriptor.digest} not in {self.root}")
        yield path.read_bytes()
