"""Write signature and attestation attachments where the image lives: an OCI layout or a registry.

Two placements, as cosign, notation and oras use them:

* **tag schema** (cosign legacy): the attachment's manifest under the tag ``sha256-<hex>.sig``
  / ``.att``. In a layout a tag is an ``index.json`` entry named by
  ``org.opencontainers.image.ref.name`` (what ``cosign save`` and skopeo write); in a registry,
  a manifest PUT by tag.
* **referrers** (OCI 1.1): a manifest whose ``subject`` is the image. A layout lists it in
  ``index.json`` untagged (``LayoutSource.referrers`` scans for the subject); a registry indexes it
  itself when it supports the referrers API (``OCI-Subject`` answer), otherwise the writer keeps the
  tag-schema fallback index ``sha256-<hex>`` up to date (distribution 2.x, which Debian ships).

Never a partial write: every blob goes first, the manifest next, the tag (or ``index.json``,
replaced atomically) last, so a failure leaves at most unreferenced blobs behind, never a tag to
a manifest whose blobs are missing.
"""

from __future__ import annotations

import abc
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from chainproof import _jsonutil
from chainproof._files import write_atomic
from chainproof.errors import InputError, MalformedError, NotFoundError, UsageError
from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.reference import LocalRef, RegistryRef
from chainproof.oci.sources.interface import RawManifest
from chainproof.oci.sources.layout import MAX_INDEX_JSON, REF_NAME
from chainproof.trust._referrers import MAX_INDEX_BYTES, fallback_tag
from chainproof.trust.attachment import Attachment

if TYPE_CHECKING:
    from chainproof.oci.reference import ImageRef
    from chainproof.oci.registry.client import RegistryClient
    from chainproof.oci.registry.options import RegistryOptions


class AttachmentDestination(abc.ABC):
    """Where signatures and attestations of one image are written."""

    location: str

    @abc.abstractmethod
    def existing(self, tag: str) -> RawManifest | None:
        """The manifest currently under ``tag`` (to append a signature to), or None."""

    @abc.abstractmethod
    def write(self, attachment: Attachment) -> Digest:
        """Store the attachment under its tag (tag schema); returns the manifest digest."""

    @abc.abstractmethod
    def write_referrer(self, attachment: Attachment, subject: Digest) -> Digest:
        """Store a manifest whose ``subject`` is ``subject`` so referrer lookups find it."""

    def close(self) -> None:  # noqa: B027 - a layout holds nothing open
        pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _descriptor(attachment: Attachment) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "mediaType": attachment.media_type,
        "digest": str(attachment.digest),
        "size": len(attachment.manifest),
    }
    if attachment.artifact_type:
        entry["artifactType"] = attachment.artifact_type
        document = json.loads(attachment.manifest)
        if isinstance(document.get("annotations"), dict):
            entry["annotations"] = document["annotations"]
    return entry


def _atomic_write(path: Path, data: bytes) -> None:
    # Owner-only (mkstemp's mode), as this writer always made them.
    write_atomic(path, data, mode=0o600)


class LayoutDestination(AttachmentDestination):
    """An OCI image layout directory (``oci:PATH``)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.location = f"oci:{self.root}"
        if not (self.root / "oci-layout").is_file() or not (self.root / "index.json").is_file():
            raise InputError(f"{self.root} is not an OCI image layout (oci-layout, index.json)")

    def _index(self) -> dict[str, Any]:
        path = self.root / "index.json"
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}") from None
        index = _jsonutil.loads_object(data, str(path), max_bytes=MAX_INDEX_JSON)
        if not isinstance(index.get("manifests"), list):
            raise MalformedError(f"{path}: 'manifests' must be a list")
        return index

    def _blob(self, digest: Digest) -> Path:
        return self.root / "blobs" / digest.algorithm / digest.encoded

    def _put_blob(self, data: bytes) -> None:
        path = self._blob(Digest.of(data))
        if path.is_file() and path.stat().st_size == len(data):
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(path, data)
        except OSError as exc:
            raise InputError(f"cannot write to {self.root}: {exc.strerror}") from None

    def _store(self, attachment: Attachment, entry: dict[str, Any], tag: str) -> Digest:
        for data in attachment.blobs.values():
            self._put_blob(data)
        self._put_blob(attachment.manifest)
        index = self._index()
        kept = [
            m
            for m in index["manifests"]
            if not (isinstance(m, dict) and tag and m.get("annotations", {}).get(REF_NAME) == tag)
            and not (isinstance(m, dict) and not tag and m.get("digest") == entry["digest"])
        ]
        index["manifests"] = [*kept, entry]
        try:
            _atomic_write(self.root / "index.json", json.dumps(index, indent=2).encode())
        except OSError as exc:
            raise InputError(f"cannot write {self.root / 'index.json'}: {exc.strerror}") from None
        return attachment.digest

    def existing(self, tag: str) -> RawManifest | None:
        for entry in self._index()["manifests"]:
            if isinstance(entry, dict) and (entry.get("annotations") or {}).get(REF_NAME) == tag:
                digest = Digest.parse(str(entry.get("digest", "")))
                try:
                    data = self._blob(digest).read_bytes()
                except OSError:
                    raise NotFoundError(
                        f"{self.location}: tag {tag} names a missing blob {digest.short()}"
                    ) from None
                return RawManifest(data, str(entry.get("mediaType", "")))
        return None

    def write(self, attachment: Attachment) -> Digest:
        entry = _descriptor(attachment)
        entry["annotations"] = {**entry.get("annotations", {}), REF_NAME: attachment.tag}
        return self._store(attachment, entry, attachment.tag)

    def write_referrer(self, attachment: Attachment, subject: Digest) -> Digest:
        return self._store(attachment, _descriptor(attachment), "")


class RegistryDestination(AttachmentDestination):
    """A repository in a registry, written with ``push`` scope."""

    def __init__(self, ref: RegistryRef, options: RegistryOptions | None = None) -> None:
        from chainproof.oci.registry.client import RegistryClient

        self.ref = ref
        self.location = ref.name
        self.client: RegistryClient = RegistryClient(ref.host, options)

    def existing(self, tag: str) -> RawManifest | None:
        try:
            raw, _ = self.client.get_manifest(self.ref.repository, tag)
        except NotFoundError:
            return None
        return raw

    def _push_blobs(self, attachment: Attachment) -> None:
        for data in attachment.blobs.values():
            self.client.push_blob(self.ref.repository, data)

    def write(self, attachment: Attachment) -> Digest:
        self._push_blobs(attachment)
        pushed = self.client.put_manifest(
            self.ref.repository, attachment.tag, attachment.manifest, attachment.media_type
        )
        return pushed.digest

    def write_referrer(self, attachment: Attachment, subject: Digest) -> Digest:
        self._push_blobs(attachment)
        repository = self.ref.repository
        pushed = self.client.put_manifest(
            repository, str(attachment.digest), attachment.manifest, attachment.media_type
        )
        if pushed.subject_processed or self.client.supports_referrers(repository, subject):
            return pushed.digest
        # No referrers API: keep the fallback index that cosign, notation and oras read.
        tag = fallback_tag(subject)
        manifests: list[Any] = []
        current = self.existing(tag)
        if current is not None:
            index = _jsonutil.loads_object(
                current.data, f"referrers index {tag}", max_bytes=MAX_INDEX_BYTES
            )
            manifests = [m for m in index.get("manifests") or [] if isinstance(m, dict)]
        entry = _descriptor(attachment)
        manifests = [m for m in manifests if m.get("digest") != entry["digest"]] + [entry]
        index_doc = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": manifests}
        self.client.put_manifest(
            repository, tag, json.dumps(index_doc, separators=(",", ":")).encode(), mt.OCI_INDEX
        )
        return pushed.digest

    def close(self) -> None:
        self.client.close()


def open_destination(
    reference: ImageRef, options: RegistryOptions | None = None
) -> AttachmentDestination:
    """The destination for an IMAGE argument: its layout directory or its repository."""
    if isinstance(reference, RegistryRef):
        return RegistryDestination(reference, options)
    if isinstance(reference, LocalRef) and reference.transport == "oci":
        return LayoutDestination(reference.path)
    raise UsageError(
        f"cannot write signatures into {reference.transport}:{reference.path}; "
        "unpack it to an OCI layout directory (oci:DIR) or push it to a registry first"
    )
