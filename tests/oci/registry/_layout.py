"""A small OCI image-layout writer for the registry tests (tarfile + gzip, deterministic)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ND_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
REF_NAME = "org.opencontainers.image.ref.name"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mtime = 0
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


@dataclass
class Layout:
    """Writes blobs as they are added; ``tag`` records entries of index.json."""

    root: Path
    entries: list[dict[str, Any]] = field(default_factory=list)
    blobs: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        (self.root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (self.root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
        self._write_index()

    def add_blob(self, data: bytes, media_type: str, **extra: Any) -> dict[str, Any]:
        digest = sha256(data)
        (self.root / "blobs" / "sha256" / digest.split(":")[1]).write_bytes(data)
        self.blobs[digest] = data
        return {"mediaType": media_type, "digest": digest, "size": len(data), **extra}

    def image(
        self,
        layers: list[dict[str, bytes]],
        *,
        os: str = "linux",
        architecture: str = "amd64",
        os_version: str = "",
        layer_media_type: str = OCI_LAYER_GZIP,
        layer_urls: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """An image manifest (descriptor returned) with gzip layers holding ``layers``."""
        layer_descriptors = []
        diff_ids = []
        for files in layers:
            tar = tar_bytes(files)
            diff_ids.append(sha256(tar))
            extra: dict[str, Any] = {"urls": list(layer_urls)} if layer_urls else {}
            layer_descriptors.append(
                self.add_blob(gzip.compress(tar, mtime=0), layer_media_type, **extra)
            )
        config: dict[str, Any] = {
            "architecture": architecture,
            "os": os,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "config": {},
            "history": [{"created_by": f"layer {i}"} for i in range(len(layers))],
        }
        if os_version:
            config["os.version"] = os_version
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": self.add_blob(canonical(config), OCI_CONFIG),
            "layers": layer_descriptors,
        }
        platform = {"os": os, "architecture": architecture}
        if os_version:
            platform["os.version"] = os_version
        return self.add_blob(canonical(manifest), OCI_MANIFEST, platform=platform)

    def artifact(
        self, subject: dict[str, Any], artifact_type: str, payload: bytes
    ) -> dict[str, Any]:
        """A referrer: an artifact manifest whose ``subject`` is ``subject``."""
        empty = self.add_blob(b"{}", OCI_EMPTY)
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": empty,
            "layers": [self.add_blob(payload, "application/octet-stream")],
            "subject": {k: subject[k] for k in ("mediaType", "digest", "size")},
        }
        return self.add_blob(canonical(manifest), OCI_MANIFEST, artifactType=artifact_type)

    def index(self, manifests: list[dict[str, Any]]) -> dict[str, Any]:
        document = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}
        return self.add_blob(canonical(document), OCI_INDEX)

    def tag(self, descriptor: dict[str, Any], name: str) -> None:
        entry = {k: v for k, v in descriptor.items() if k != "platform"}
        entry["annotations"] = {REF_NAME: name}
        self.entries.append(entry)
        self._write_index()

    def _write_index(self) -> None:
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": self.entries}
        (self.root / "index.json").write_text(json.dumps(index))
