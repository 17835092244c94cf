"""Walk the tar stream of one layer: safe paths, whiteouts, and the Windows layer layout.

Nothing is ever written to disk. Entries with ``..`` or absolute names, and links whose target
escapes the root, are reported as :class:`UnsafeEntry` and not handed to callers.

Windows layers (hcsshim's layout) keep the container's ``C:\\`` under ``Files/``, registry
hives under ``Hives/`` (``SOFTWARE_BASE`` in base layers, ``*_Delta`` in child layers) and the
utility VM under ``UtilityVM/``. Callers see ``Files/Windows/System32/x`` as
``Windows/System32/x`` in the ``files`` view, and hives in the ``hives`` view.
"""

from __future__ import annotations

import enum
import io
import posixpath
import tarfile
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from chainproof.errors import MalformedError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
#: A single tar header field or PAX record beyond this is hostile, not a real layer.
MAX_NAME_BYTES = 4096


class EntryKind(enum.StrEnum):
    FILE = "file"
    DIRECTORY = "directory"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    WHITEOUT = "whiteout"  # path deleted from lower layers
    OPAQUE = "opaque"  # directory whose lower-layer contents are hidden
    OTHER = "other"  # devices, fifos


class View(enum.StrEnum):
    ROOT = "root"  # Linux layers: the root filesystem
    FILES = "files"  # Windows: Files/ → C:\
    HIVES = "hives"  # Windows: Hives/
    UTILITY_VM = "utilityvm"  # Windows: UtilityVM/
    WINDOWS_META = "windows-meta"  # Windows: anything else at the top of the layer


@dataclass(frozen=True)
class LayerEntry:
    """One entry of a layer, with its path in the view callers reason about."""

    path: str  # normalised, no leading slash; for whiteouts, the path deleted
    view: View
    kind: EntryKind
    size: int
    mode: int
    link_target: str
    tar_name: str  # the name as stored in the tar, for evidence

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)


@dataclass(frozen=True)
class UnsafeEntry:
    tar_name: str
    reason: str


class _ChunkReader(io.RawIOBase):
    """A read-only file object over an iterator of byte chunks (for tarfile's stream mode)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""
        self._offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        while self._offset >= len(self._buffer):
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
            self._offset = 0
        size = min(len(target), len(self._buffer) - self._offset)
        target[:size] = memoryview(self._buffer)[self._offset : self._offset + size]
        self._offset += size
        return size

    def drain(self) -> None:
        """Consume the rest of the stream, so digests over it complete."""
        for _ in self._chunks:
            pass
        self._buffer = b""


def _normalise(name: str) -> str | None:
    """POSIX-normalised relative path, or None if the name is absolute or climbs out."""
    if name.startswith(("/", "\\")):
        return None
    parts: list[str] = []
    for part in name.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            return None
        parts.append(part)
    return "/".join(parts)


def _escapes(link_dir: str, target: str) -> bool:
    """Whether a relative symlink target, resolved from ``link_dir``, climbs above the root."""
    if target.startswith("/"):
        # Absolute targets resolve inside the container's root at run time; they cannot
        # escape it, and are common (/etc/alternatives).
        return False
    depth = len([p for p in link_dir.split("/") if p])
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


class WindowsLayout:
    """Maps tar names of a Windows layer onto views."""

    @staticmethod
    def split(path: str) -> tuple[View, str]:
        head, _, rest = path.partition("/")
        lowered = head.lower()
        if lowered == "files":
            return View.FILES, rest
        if lowered == "hives":
            return View.HIVES, rest
        if lowered == "utilityvm":
            return View.UTILITY_VM, rest
        return View.WINDOWS_META, path


def _classify(member: tarfile.TarInfo) -> EntryKind:
    if member.isreg():
        return EntryKind.FILE
    if member.isdir():
        return EntryKind.DIRECTORY
    if member.issym():
        return EntryKind.SYMLINK
    if member.islnk():
        return EntryKind.HARDLINK
    return EntryKind.OTHER


class LayerWalker:
    """Iterate a layer's entries from its *uncompressed* chunk stream.

    ``windows`` selects the Windows layout. ``open_file()`` may be called on the current
    entry (only while it is current: the stream moves on) to read its content.
    """

    def __init__(self, chunks: Iterable[bytes], what: str, *, windows: bool = False) -> None:
        self.what = what
        self.windows = windows
        self.unsafe: list[UnsafeEntry] = []
        self._reader = _ChunkReader(chunks)
        self._tar: tarfile.TarFile | None = None
        self._current: tarfile.TarInfo | None = None

    def _entry(self, member: tarfile.TarInfo) -> LayerEntry | None:
        name = member.name
        if len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
            self.unsafe.append(UnsafeEntry(name[:200], "name longer than 4096 bytes"))
            return None
        path = _normalise(name)
        if path is None:
            self.unsafe.append(UnsafeEntry(name, "absolute path or '..' component"))
            return None
        kind = _classify(member)
        target = member.linkname
        if kind == EntryKind.HARDLINK:
            target_path = _normalise(target)
            if target_path is None:
                self.unsafe.append(UnsafeEntry(name, f"hard link to {target!r} escapes the root"))
                return None
            target = target_path
        elif kind == EntryKind.SYMLINK and _escapes(posixpath.dirname(path), target):
            self.unsafe.append(UnsafeEntry(name, f"symlink to {target!r} escapes the root"))
            return None
        view = View.ROOT
        if self.windows:
            view, path = WindowsLayout.split(path)
            if kind == EntryKind.HARDLINK:
                _, target = WindowsLayout.split(target)
        base = posixpath.basename(path)
        if base == OPAQUE_MARKER:
            kind, path = EntryKind.OPAQUE, posixpath.dirname(path)
        elif base.startswith(WHITEOUT_PREFIX):
            kind = EntryKind.WHITEOUT
            path = posixpath.join(posixpath.dirname(path), base[len(WHITEOUT_PREFIX) :])
        if not path and kind not in (EntryKind.DIRECTORY, EntryKind.OPAQUE):
            return None
        return LayerEntry(path, view, kind, member.size, member.mode, target, name)

    def __iter__(self) -> Iterator[LayerEntry]:
        try:
            with tarfile.open(
                fileobj=self._reader,
                mode="r|",
                errorlevel=2,
                # Stream mode reads (and skips unread content) in bufsize blocks, and copies
                # the rest of its buffer on every read: 10 KiB (default) means ~100k reads
                # per GB, 1 MiB means a 1 MiB copy per header; 64 KiB measured fastest.
                bufsize=64 * 1024,
            ) as tar:
                self._tar = tar
                for member in tar:
                    entry = self._entry(member)
                    if entry is None:
                        continue
                    self._current = member
                    yield entry
                    self._current = None
        except tarfile.ReadError as exc:
            raise MalformedError(f"{self.what}: corrupt tar stream ({exc})") from None
        except tarfile.TarError as exc:
            raise MalformedError(f"{self.what}: bad tar entry ({exc})") from None
        finally:
            self._tar = None
        self._reader.drain()

    def open_file(self) -> IO[bytes]:
        """The content of the current regular-file entry (valid until the next entry)."""
        if self._tar is None or self._current is None or not self._current.isreg():
            raise MalformedError(f"{self.what}: no current file entry to read")
        handle = self._tar.extractfile(self._current)
        if handle is None:  # pragma: no cover - regular files always have content
            raise MalformedError(f"{self.what}: cannot read {self._current.name}")
        return handle
