"""Write OCI image layouts: used by ``chainproof demo``, the tests and the benchmarks."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest


@dataclass(frozen=True)
class LayerFile:
    """One tar entry to put in a layer: a file (``data``), directory, or link."""

    name: str
    data: bytes = b""
    kind: str = "file"  # file, dir, symlink, hardlink
    target: str = ""
    mode: int = 0o644


def tar_bytes(entries: list[LayerFile]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            info = tarfile.TarInfo(entry.name)
            info.mode = entry.mode
            info.mtime = 0
            if entry.kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            elif entry.kind in ("symlink", "hardlink"):
                info.type = tarfile.SYMTYPE if entry.kind == "symlink" else tarfile.LNKTYPE
                info.linkname = entry.target
                tar.addfile(info)
            else:
                info.size = len(entry.data)
                tar.addfile(info, io.BytesIO(entry.data))
    return buffer.getvalue()


OCI_LAYOUT_FILE = {"imageLayoutVersion": "1.0.0"}


class LayoutWriter:
    """Build an OCI layout directory blob by blob."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        (self.root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (self.root / "oci-layout").write_text(json.dumps(OCI_LAYOUT_FILE))
        self.index: list[dict[str, Any]] = []

    def blob_path(self, digest: Digest) -> Path:
        return self.root / "blobs" / digest.algorithm / digest.hex

    def add_blob(self, data: bytes, media_type: str) -> dict[str, Any]:
        digest = Digest.of(data)
        self.blob_path(digest).write_bytes(data)
        return {"mediaType": media_type, "digest": str(digest), "size": len(data)}

    def add_blob_from(self, stream: IO[bytes], media_type: str) -> dict[str, Any]:
        """Stream a (possibly huge) blob to disk, hashing as it goes."""
        hasher = hashlib.sha256()
        temporary = self.root / "blobs" / "sha256" / ".incoming"
        size = 0
        with temporary.open("wb") as out:
            while chunk := stream.read(1 << 20):
                hasher.update(chunk)
                out.write(chunk)
                size += len(chunk)
        digest = Digest("sha256", hasher.hexdigest())
        temporary.replace(self.blob_path(digest))
        return {"mediaType": media_type, "digest": str(digest), "size": size}

    def add_layer(
        self, entries: list[LayerFile], compression: str = "gzip"
    ) -> tuple[dict[str, Any], Digest]:
        """Add a layer; returns its descriptor and its diff_id."""
        plain = tar_bytes(entries)
        diff_id = Digest.of(plain)
        if compression == "gzip":
            return self.add_blob(gzip.compress(plain, mtime=0), mt.OCI_LAYER_GZIP), diff_id
        if compression == "zstd":
            try:
                from compression.zstd import compress  # type: ignore[import-not-found,unused-ignore]
            except ImportError:
                from backports.zstd import compress
            return self.add_blob(compress(plain), mt.OCI_LAYER_ZSTD), diff_id
        return self.add_blob(plain, mt.OCI_LAYER), diff_id

    def add_image(
        self,
        layers: list[tuple[dict[str, Any], Digest]],
        *,
        os: str = "linux",
        architecture: str = "amd64",
        os_version: str = "",
        history: list[dict[str, Any]] | None = None,
        config: dict[str, Any] | None = None,
        tag: str = "",
    ) -> dict[str, Any]:
        """Add config and manifest; returns the manifest descriptor (tagged in index.json)."""
        config_doc: dict[str, Any] = {
            "architecture": architecture,
            "os": os,
            "created": "2024-01-09T00:00:00Z",
            "config": config or {},
            "rootfs": {"type": "layers", "diff_ids": [str(d) for _, d in layers]},
            "history": history
            or [{"created": "2024-01-09T00:00:00Z", "created_by": "chainproof sample"}],
        }
        if os_version:
            config_doc["os.version"] = os_version
        config_desc = self.add_blob(json.dumps(config_doc).encode(), mt.OCI_CONFIG)
        manifest = {
            "schemaVersion": 2,
            "mediaType": mt.OCI_MANIFEST,
            "config": config_desc,
            "layers": [desc for desc, _ in layers],
        }
        descriptor = self.add_blob(json.dumps(manifest, indent=2).encode(), mt.OCI_MANIFEST)
        descriptor["platform"] = {"architecture": architecture, "os": os}
        if os_version:
            descriptor["platform"]["os.version"] = os_version
        if tag:
            descriptor["annotations"] = {"org.opencontainers.image.ref.name": tag}
        return descriptor

    def add_index(self, manifests: list[dict[str, Any]], tag: str = "") -> dict[str, Any]:
        index = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": manifests}
        descriptor = self.add_blob(json.dumps(index, indent=2).encode(), mt.OCI_INDEX)
        if tag:
            descriptor["annotations"] = {"org.opencontainers.image.ref.name": tag}
        return descriptor

    def tag(self, descriptor: dict[str, Any]) -> None:
        """List a manifest or index in index.json (with its ref.name annotation if any)."""
        entry = {k: v for k, v in descriptor.items() if k != "platform"}
        self.index.append(entry)
        self.save()

    def save(self) -> None:
        doc = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": self.index}
        (self.root / "index.json").write_text(json.dumps(doc, indent=2))
