"""``docker save`` archives (``docker-archive:FILE[:REF|@N]``), several images per archive.

The archive has no registry manifest, so — like skopeo — we synthesise a Docker schema-2
manifest from ``manifest.json``: the config is named by its digest, and each layer's digest
is taken from its ``blobs/<alg>/<hex>`` name (Docker ≥ 25) or, for the legacy
``<id>/layer.tar`` files, is the config's ``diff_id`` (those layers are stored uncompressed).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chainproof import _jsonutil
from chainproof.errors import InputError, InvalidReferenceError, MalformedError, NotFoundError
from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.model import Descriptor
from chainproof.oci.reference import parse_registry
from chainproof.oci.sources.interface import ImageSource, RawManifest
from chainproof.oci.sources.layout import _stream, _TarFiles

if TYPE_CHECKING:
    from collections.abc import Iterator

_BLOB_NAME = re.compile(r"^blobs/(sha256|sha512)/([0-9a-f]+)$")
_LEGACY_CONFIG = re.compile(r"^([0-9a-f]{64})\.json$")
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _normalise_tag(text: str) -> str:
    try:
        ref = parse_registry(text)
    except InvalidReferenceError:
        return text
    return str(ref)


class DockerArchiveSource(ImageSource):
    def __init__(self, path: str | Path, ref: str = "") -> None:
        self.location = f"docker-archive:{path}"
        self._files = _TarFiles(Path(path))
        try:
            self._entry = self._select(ref)
            self._config_path, self._config_digest = self._config()
            self._blobs: dict[Digest, tuple[str, str]] = {}
            self._manifest = self._synthesise()
        except BaseException:
            self._files.close()
            raise

    def _entries(self) -> list[dict[str, Any]]:
        try:
            raw = self._files.read_small("manifest.json", 4 * 1024 * 1024)
        except NotFoundError:
            raise InputError(
                f"{self.location} is not a docker-archive (no manifest.json); "
                "for an OCI layout archive use oci-archive:"
            ) from None
        entries = _jsonutil.loads_bounded(raw, f"{self.location}/manifest.json")
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise MalformedError(f"{self.location}/manifest.json: expected a list of objects")
        return entries

    def _select(self, ref: str) -> dict[str, Any]:
        entries = self._entries()
        if not entries:
            raise NotFoundError(f"{self.location} holds no images")
        tags = [str(t) for e in entries for t in (e.get("RepoTags") or [])]
        if ref.startswith("@"):
            position = int(ref[1:])
            if position >= len(entries):
                raise NotFoundError(
                    f"{self.location} holds {len(entries)} images; @{position} is out of range"
                )
            return entries[position]
        if ref:
            wanted = _normalise_tag(ref)
            for entry in entries:
                if any(_normalise_tag(str(t)) == wanted for t in entry.get("RepoTags") or []):
                    return entry
            raise NotFoundError(
                f"{ref!r} not found in {self.location}; tags: {', '.join(tags) or '(none)'}"
            )
        if len(entries) == 1:
            return entries[0]
        raise NotFoundError(
            f"{self.location} holds {len(entries)} images; choose one with :NAME:TAG or @N "
            f"(tags: {', '.join(tags) or '(none)'})"
        )

    def _config(self) -> tuple[str, Digest]:
        path = self._entry.get("Config")
        if not isinstance(path, str):
            raise MalformedError(f"{self.location}/manifest.json: entry without Config")
        named = _BLOB_NAME.match(path)
        if named:
            return path, Digest.parse(f"{named[1]}:{named[2]}")
        legacy = _LEGACY_CONFIG.match(Path(path).name)
        if legacy:
            return path, Digest("sha256", legacy[1])
        raise MalformedError(f"{self.location}: config {path!r} is not named by its digest")

    def _sniff(self, path: str) -> str:
        with self._files.open(path) as handle:
            head = handle.read(4)
        if head.startswith(_GZIP_MAGIC):
            return mt.DOCKER_LAYER_GZIP
        if head.startswith(_ZSTD_MAGIC):
            return mt.OCI_LAYER_ZSTD
        return mt.DOCKER_LAYER

    def _synthesise(self) -> bytes:
        config_size = self._files.size(self._config_path)
        if config_size is None:
            raise NotFoundError(f"config {self._config_path} missing from {self.location}")
        config = _jsonutil.loads_object(
            self._files.read_small(self._config_path, 16 * 1024 * 1024), "config"
        )
        diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
        layer_paths = self._entry.get("Layers") or []
        if not isinstance(layer_paths, list):
            raise MalformedError(f"{self.location}/manifest.json: Layers must be a list")
        layers: list[dict[str, Any]] = []
        for position, path in enumerate(layer_paths):
            size = self._files.size(str(path))
            if size is None:
                raise NotFoundError(f"layer {path} missing from {self.location}")
            media_type = self._sniff(str(path))
            named = _BLOB_NAME.match(str(path))
            if named:
                digest = Digest.parse(f"{named[1]}:{named[2]}")
            elif media_type == mt.DOCKER_LAYER and position < len(diff_ids):
                digest = Digest.parse(str(diff_ids[position]))
            else:
                digest = self._hash_member(str(path))
            self._blobs[digest] = (str(path), media_type)
            layers.append({"mediaType": media_type, "size": size, "digest": str(digest)})
        self._blobs[self._config_digest] = (self._config_path, mt.DOCKER_CONFIG)
        manifest = {
            "schemaVersion": 2,
            "mediaType": mt.DOCKER_MANIFEST,
            "config": {
                "mediaType": mt.DOCKER_CONFIG,
                "size": config_size,
                "digest": str(self._config_digest),
            },
            "layers": layers,
        }
        return json.dumps(manifest, indent=3).encode()

    def _hash_member(self, path: str) -> Digest:
        hasher = Digest("sha256", "0" * 64).hasher()
        for chunk in _stream(self._files, path):
            hasher.update(chunk)
        return Digest("sha256", hasher.hexdigest())

    def resolve(self) -> tuple[RawManifest, Digest | None]:
        # Synthesised: nothing to pin it against, its digest is computed by the caller.
        return RawManifest(self._manifest, mt.DOCKER_MANIFEST), None

    def get_manifest(self, digest: Digest) -> RawManifest:
        if Digest.of(self._manifest, digest.algorithm) == digest:
            return RawManifest(self._manifest, mt.DOCKER_MANIFEST)
        raise NotFoundError(f"manifest {digest} not found in {self.location}")

    def open_blob(self, descriptor: Descriptor) -> Iterator[bytes]:
        entry = self._blobs.get(descriptor.digest)
        if entry is None:
            raise NotFoundError(f"blob {descriptor.digest} not found in {self.location}")
        return _stream(self._files, entry[0])

    def blob_fingerprint(self, descriptor: Descriptor) -> str | None:
        entry = self._blobs.get(descriptor.digest)
        return self._files.fingerprint(entry[0]) if entry is not None else None

    def close(self) -> None:
        self._files.close()
