"""A real ``docker-registry`` (distribution) on loopback, and a minimal client for the tests.

Test-only: it pushes what the tests sign and reads it back through the ImageSource API. Its
``referrers()`` speaks only the API, which distribution 2.8 lacks, so the round trips exercise the
formats' own tag-schema fallback (``sha256-<hex>`` index). The product's
registry client lives in chainproof.oci; this keeps the trust tests independent of it.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from typing import TYPE_CHECKING, Any

import httpx

from chainproof.errors import NotFoundError
from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.model import Descriptor
from chainproof.oci.sources.interface import ImageSource, RawManifest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

_ACCEPT = ", ".join([*mt.ACCEPT_MANIFESTS])


class Registry:
    """``docker-registry serve`` with filesystem storage under ``root``."""

    def __init__(self, root: Path) -> None:
        binary = shutil.which("docker-registry")
        if binary is None:
            raise FileNotFoundError("docker-registry")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        config = root / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: error\n"
            f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
            "  delete:\n    enabled: true\n"
            f"http:\n  addr: 127.0.0.1:{port}\n"
        )
        self.base = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(100):
            try:
                if httpx.get(f"{self.base}/v2/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.close()
        raise RuntimeError("docker-registry did not start")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def push_blob(self, repo: str, data: bytes) -> dict[str, Any]:
        digest = str(Digest.of(data))
        start = httpx.post(f"{self.base}/v2/{repo}/blobs/uploads/")
        start.raise_for_status()
        location = start.headers["Location"]
        if location.startswith("/"):
            location = self.base + location
        sep = "&" if "?" in location else "?"
        httpx.put(
            f"{location}{sep}digest={digest}",
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        ).raise_for_status()
        return {"digest": digest, "size": len(data)}

    def push_manifest(self, repo: str, reference: str, data: bytes, media_type: str) -> Digest:
        httpx.put(
            f"{self.base}/v2/{repo}/manifests/{reference}",
            content=data,
            headers={"Content-Type": media_type},
        ).raise_for_status()
        return Digest.of(data)

    def attach_referrer(
        self, repo: str, subject: Digest, manifest: bytes, artifact_type: str
    ) -> None:
        """Push ``manifest`` and add it to the subject's ``sha256-<hex>`` referrers index."""
        digest = self.push_manifest(repo, str(Digest.of(manifest)), manifest, mt.OCI_MANIFEST)
        tag = f"{subject.algorithm}-{subject.encoded}"
        existing = httpx.get(
            f"{self.base}/v2/{repo}/manifests/{tag}", headers={"Accept": mt.OCI_INDEX}
        )
        index: dict[str, Any] = (
            existing.json()
            if existing.status_code == 200
            else {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": []}
        )
        index["manifests"].append(
            {
                "mediaType": mt.OCI_MANIFEST,
                "digest": str(digest),
                "size": len(manifest),
                "artifactType": artifact_type,
            }
        )
        self.push_manifest(repo, tag, json.dumps(index).encode(), mt.OCI_INDEX)


class RegistrySource(ImageSource):
    """Reads one repository of a :class:`Registry` (no auth, plain HTTP on loopback)."""

    def __init__(self, registry: Registry, repo: str, tag: str) -> None:
        self.base = f"{registry.base}/v2/{repo}"
        self.location = f"{registry.base}/{repo}"
        self.tag = tag
        self.client = httpx.Client(timeout=10)

    def _manifest(self, reference: str) -> RawManifest | None:
        response = self.client.get(
            f"{self.base}/manifests/{reference}", headers={"Accept": _ACCEPT}
        )
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return RawManifest(response.content, response.headers.get("Content-Type", ""))

    def resolve(self) -> tuple[RawManifest, Digest | None]:
        raw = self._manifest(self.tag)
        if raw is None:
            raise NotFoundError(f"{self.location}:{self.tag} not found")
        return raw, None

    def get_manifest(self, digest: Digest) -> RawManifest:
        raw = self._manifest(str(digest))
        if raw is None:
            raise NotFoundError(f"manifest {digest} not found")
        return raw

    def get_tag(self, tag: str) -> RawManifest | None:
        return self._manifest(tag)

    def open_blob(self, descriptor: Descriptor) -> Iterator[bytes]:
        with self.client.stream("GET", f"{self.base}/blobs/{descriptor.digest}") as response:
            if response.status_code == 404:
                raise NotFoundError(f"blob {descriptor.digest} not found")
            response.raise_for_status()
            yield from response.iter_bytes()

    def referrers(self, subject: Digest, artifact_type: str = "") -> list[Descriptor]:
        # distribution 2.8 has no referrers API (404); the formats fall back to the tag schema.
        response = self.client.get(f"{self.base}/referrers/{subject}")
        if response.status_code != 200:
            return []
        found = [Descriptor.from_json(d, "referrer") for d in response.json().get("manifests", [])]
        return [d for d in found if not artifact_type or d.artifact_type == artifact_type]

    def close(self) -> None:
        self.client.close()
