"""An in-memory ImageSource: manifests, blobs, tags and referrers built by the tests."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from chainproof.errors import NotFoundError
from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.model import Descriptor
from chainproof.oci.sources.interface import ImageSource, RawManifest

if TYPE_CHECKING:
    from collections.abc import Iterator

EMPTY_CONFIG = b"{}"


class MemorySource(ImageSource):
    def __init__(self) -> None:
        self.location = "memory:"
        self.manifests: dict[str, bytes] = {}
        self.blobs: dict[str, bytes] = {}
        self.tags: dict[str, bytes] = {}
        self.add_blob(EMPTY_CONFIG)

    def add_blob(self, data: bytes) -> dict[str, Any]:
        digest = Digest.of(data)
        self.blobs[str(digest)] = data
        return {"digest": str(digest), "size": len(data)}

    def add_manifest(self, doc: dict[str, Any], tag: str = "") -> Digest:
        data = json.dumps(doc).encode()
        digest = Digest.of(data)
        self.manifests[str(digest)] = data
        if tag:
            self.tags[tag] = data
        return digest

    def add_artifact(
        self,
        layers: list[tuple[str, bytes, dict[str, str]]],
        *,
        artifact_type: str = "",
        subject: Digest | None = None,
        subject_size: int = 0,
        tag: str = "",
        config_type: str = mt.OCI_EMPTY,
    ) -> Digest:
        doc: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": mt.OCI_MANIFEST,
            "config": {"mediaType": config_type, **self.add_blob(EMPTY_CONFIG)},
            "layers": [
                {"mediaType": media_type, **self.add_blob(data), "annotations": annotations}
                for media_type, data, annotations in layers
            ],
        }
        if artifact_type:
            doc["artifactType"] = artifact_type
        if subject is not None:
            doc["subject"] = {
                "mediaType": mt.OCI_MANIFEST,
                "digest": str(subject),
                "size": subject_size,
            }
        return self.add_manifest(doc, tag)

    def resolve(self) -> tuple[RawManifest, Digest | None]:
        raise NotFoundError("memory source has no default reference")

    def get_manifest(self, digest: Digest) -> RawManifest:
        if str(digest) not in self.manifests:
            raise NotFoundError(f"manifest {digest} not found")
        return RawManifest(self.manifests[str(digest)], "")

    def get_tag(self, tag: str) -> RawManifest | None:
        data = self.tags.get(tag)
        return RawManifest(data, "") if data is not None else None

    def open_blob(self, descriptor: Descriptor) -> Iterator[bytes]:
        if str(descriptor.digest) not in self.blobs:
            raise NotFoundError(f"blob {descriptor.digest} not found")
        yield self.blobs[str(descriptor.digest)]

    def referrers(self, subject: Digest, artifact_type: str = "") -> list[Descriptor]:
        found = []
        for digest, data in self.manifests.items():
            doc = json.loads(data)
            if doc.get("subject", {}).get("digest") != str(subject):
                continue
            kind = doc.get("artifactType") or doc["config"]["mediaType"]
            if artifact_type and kind != artifact_type:
                continue
            found.append(
                Descriptor(mt.OCI_MANIFEST, Digest.parse(digest), len(data), artifact_type=kind)
            )
        return found
