"""OCI image layouts, as a directory (``oci:``) or a tar archive of one (``oci-archive:``)."""

from __future__ import annotations

import abc
import os
import re
import tarfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from chainproof import _jsonutil
from chainproof.errors import InputError, MalformedError, NotFoundError
from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.model import Descriptor
from chainproof.oci.sources.interface import CHUNK_SIZE, ImageSource, RawManifest

if TYPE_CHECKING:
    from collections.abc import Iterator

REF_NAME = "org.opencontainers.image.ref.name"
MAX_INDEX_JSON = 4 * 1024 * 1024


class _Files(abc.ABC):
    """Read-only access to the files of a layout, wherever they are stored."""

    @abc.abstractmethod
    def open(self, relpath: str) -> IO[bytes]:
        """Open a file; raise NotFoundError if absent."""

    @abc.abstractmethod
    def size(self, relpath: str) -> int | None:
        """File size or None if absent."""

    def read_small(self, relpath: str, limit: int) -> bytes:
        size = self.size(relpath)
        if size is None:
            raise NotFoundError(f"{relpath} not found")
        if size > limit:
            raise MalformedError(f"{relpath}: {size} bytes exceeds the {limit}-byte limit")
        with self.open(relpath) as handle:
            return handle.read(limit + 1)

    def fingerprint(self, relpath: str) -> str | None:
        """Identity of the stored bytes (see ``ImageSource.blob_fingerprint``)."""
        del relpath
        return None

    def close(self) -> None:  # noqa: B027 - directories hold nothing open
        pass


def _stat_token(path: Path) -> str | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return f"{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}"


class _DirFiles(_Files):
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, relpath: str) -> Path:
        return self.root / relpath

    def open(self, relpath: str) -> IO[bytes]:
        try:
            return self._path(relpath).open("rb")
        except FileNotFoundError:
            raise NotFoundError(f"{relpath} not found in {self.root}") from None
        except OSError as exc:
            raise InputError(f"cannot read {self._path(relpath)}: {exc.strerror}") from None

    def size(self, relpath: str) -> int | None:
        try:
            return self._path(relpath).stat().st_size
        except OSError:
            return None

    def fingerprint(self, relpath: str) -> str | None:
        token = _stat_token(self._path(relpath))
        return None if token is None else f"file:{token}"


class _TarFiles(_Files):
    """Members of a tar archive, read in place (never extracted)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._tar = tarfile.open(path, "r:*")  # noqa: SIM115 - kept open for the source's life
            members = self._tar.getmembers()
        except FileNotFoundError:
            raise NotFoundError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise InputError(f"{path} is a directory, not an archive") from None
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise MalformedError(f"{path}: not a readable tar archive ({exc})") from None
        self._members: dict[str, tarfile.TarInfo] = {}
        for member in members:
            if member.isfile():
                self._members[os.path.normpath(member.name).lstrip("/")] = member

    def open(self, relpath: str) -> IO[bytes]:
        member = self._members.get(os.path.normpath(relpath))
        if member is None:
            raise NotFoundError(f"{relpath} not found in archive {self.path}")
        handle = self._tar.extractfile(member)
        if handle is None:  # pragma: no cover - only regular files are indexed
            raise NotFoundError(f"{relpath} is not a regular file in {self.path}")
        return handle

    def size(self, relpath: str) -> int | None:
        member = self._members.get(os.path.normpath(relpath))
        return member.size if member is not None else None

    def fingerprint(self, relpath: str) -> str | None:
        member = self._members.get(os.path.normpath(relpath))
        token = _stat_token(self.path)
        if member is None or token is None:
            return None
        return f"archive:{token}:{member.offset_data}"

    def names(self) -> list[str]:
        return list(self._members)

    def close(self) -> None:
        self._tar.close()


def _blob_path(digest: Digest) -> str:
    return f"blobs/{digest.algorithm}/{digest.hex}"


def _stream(files: _Files, relpath: str) -> Iterator[bytes]:
    with files.open(relpath) as handle:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk


_ATTACHMENT_TAG = re.compile(r"^[a-z0-9]+-[0-9a-f]{32,128}(\.[a-z]+)?$")


def _is_attachment(entry: Descriptor) -> bool:
    name = entry.annotations.get(REF_NAME, "")
    if name:
        return bool(_ATTACHMENT_TAG.match(name))
    return bool(entry.artifact_type)


class LayoutSource(ImageSource):
    """An OCI image layout: ``oci-layout``, ``index.json`` and ``blobs/<alg>/<hex>``."""

    def __init__(self, files: _Files, location: str, tag: str = "", digest: Digest | None = None):
        self._files = files
        self.location = location
        self.tag = tag
        self.digest = digest
        self._check_layout()
        self.index = self._read_index()

    @classmethod
    def from_directory(
        cls, path: str | Path, tag: str = "", digest: Digest | None = None
    ) -> LayoutSource:
        root = Path(path)
        if not root.exists():
            raise NotFoundError(f"{root}: no such directory")
        if not root.is_dir():
            raise InputError(f"{root} is not a directory (for an archive use oci-archive:)")
        return cls(_DirFiles(root), f"oci:{root}", tag, digest)

    @classmethod
    def from_archive(
        cls, path: str | Path, tag: str = "", digest: Digest | None = None
    ) -> LayoutSource:
        files = _TarFiles(Path(path))
        try:
            return cls(files, f"oci-archive:{path}", tag, digest)
        except BaseException:
            files.close()
            raise

    def _check_layout(self) -> None:
        try:
            marker = _jsonutil.loads_object(
                self._files.read_small("oci-layout", 64 * 1024), "oci-layout"
            )
        except NotFoundError:
            raise InputError(
                f"{self.location} is not an OCI image layout (no oci-layout file)"
            ) from None
        version = marker.get("imageLayoutVersion")
        if not isinstance(version, str) or not version.startswith("1."):
            raise InputError(
                f"{self.location}: unsupported imageLayoutVersion {version!r} (want 1.x)"
            )

    def _read_index(self) -> dict[str, Any]:
        try:
            raw = self._files.read_small("index.json", MAX_INDEX_JSON)
        except NotFoundError:
            raise InputError(
                f"{self.location} is not an OCI image layout (no index.json)"
            ) from None
        index = _jsonutil.loads_object(raw, f"{self.location}/index.json")
        if not isinstance(index.get("manifests"), list):
            raise MalformedError(f"{self.location}/index.json: 'manifests' must be a list")
        return index

    def _entries(self) -> list[Descriptor]:
        return [
            Descriptor.from_json(entry, f"{self.location}/index.json entry {i}")
            for i, entry in enumerate(self.index["manifests"])
        ]

    def tags(self) -> list[str]:
        return [d.annotations[REF_NAME] for d in self._entries() if REF_NAME in d.annotations]

    def _choose(self) -> Descriptor:
        # Signatures, attestations and referrers written into the layout (cosign save, oras,
        # chainproof sign) are not candidates for "the" image of an untagged reference.
        entries = [e for e in self._entries() if not _is_attachment(e)]
        if self.tag:
            found = [d for d in entries if d.annotations.get(REF_NAME) == self.tag]
            if not found:
                raise NotFoundError(
                    f"tag {self.tag!r} not found in {self.location}; "
                    f"tags: {', '.join(self.tags()) or '(none)'}"
                )
            return found[0]
        if len(entries) == 1:
            return entries[0]
        if not entries:
            raise NotFoundError(f"{self.location}: index.json lists no images")
        raise NotFoundError(
            f"{self.location} holds {len(entries)} images; choose one with :TAG or @DIGEST "
            f"(tags: {', '.join(self.tags()) or '(none)'})"
        )

    def resolve(self) -> tuple[RawManifest, Digest | None]:
        if self.digest is not None:
            media_type = next(
                (d.media_type for d in self._entries() if d.digest == self.digest), ""
            )
            return self.get_manifest(self.digest, media_type), self.digest
        chosen = self._choose()
        return self.get_manifest(chosen.digest, chosen.media_type), chosen.digest

    def get_manifest(self, digest: Digest, media_type: str = "") -> RawManifest:
        path = _blob_path(digest)
        try:
            data = self._files.read_small(path, 4 * 1024 * 1024)
        except NotFoundError:
            raise NotFoundError(f"manifest {digest} not found in {self.location}") from None
        return RawManifest(data, media_type)

    def get_tag(self, tag: str) -> RawManifest | None:
        """Tags of a layout are index.json entries named by ``ref.name`` (how cosign and
        skopeo store ``sha256-<hex>.sig`` tags in a layout)."""
        for entry in self._entries():
            if entry.annotations.get(REF_NAME) == tag:
                return self.get_manifest(entry.digest, entry.media_type)
        return None

    def open_blob(self, descriptor: Descriptor) -> Iterator[bytes]:
        path = _blob_path(descriptor.digest)
        if self._files.size(path) is None:
            raise NotFoundError(f"blob {descriptor.digest} not found in {self.location}")
        return _stream(self._files, path)

    def blob_fingerprint(self, descriptor: Descriptor) -> str | None:
        return self._files.fingerprint(_blob_path(descriptor.digest))

    def referrers(self, subject: Digest, artifact_type: str = "") -> list[Descriptor]:
        """Manifests in this layout whose ``subject`` is ``subject`` (what ``oras``/cosign
        write into layouts); the layout has no referrers API, so scan index.json entries."""
        found: list[Descriptor] = []
        for entry in self._entries():
            if entry.media_type not in (mt.OCI_MANIFEST,) or entry.size > 4 * 1024 * 1024:
                continue
            raw = self.get_manifest(entry.digest).data
            doc = _jsonutil.loads_bounded(raw, f"manifest {entry.digest.short()}")
            if not isinstance(doc, dict):
                continue
            subj = doc.get("subject")
            if not isinstance(subj, dict) or subj.get("digest") != str(subject):
                continue
            kind = str(doc.get("artifactType") or (doc.get("config") or {}).get("mediaType", ""))
            if artifact_type and kind != artifact_type:
                continue
            found.append(
                Descriptor(
                    entry.media_type,
                    entry.digest,
                    entry.size,
                    annotations=dict(doc.get("annotations") or {}),
                    artifact_type=kind,
                )
            )
        return found

    def close(self) -> None:
        self._files.close()
