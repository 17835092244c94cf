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
import posixpath
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from chainproof.layers import tarstream

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
#: A single tar header field or PAX record beyond this is hostile, not a real layer.
MAX_NAME_BYTES = 4096
#: Unsafe entries listed one by one; a hostile layer of a million gets a count beyond this.
MAX_UNSAFE_LISTED = 1000
_SLOW_START = frozenset(("/", "\\", "."))


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


def _normalise(name: str) -> str | None:
    """POSIX-normalised relative path, or None if the name is absolute or climbs out."""
    if name[:1] not in _SLOW_START and "\\" not in name and "/." not in name and "//" not in name:
        # Almost every name of a real layer: already normal, nothing to split.
        return name[:-1] if name.endswith("/") else name
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


_KINDS = {
    tarstream.REGULAR: EntryKind.FILE,
    tarstream.DIRECTORY: EntryKind.DIRECTORY,
    tarstream.SYMLINK: EntryKind.SYMLINK,
    tarstream.HARDLINK: EntryKind.HARDLINK,
}


class LayerWalker:
    """Iterate a layer's entries from its *uncompressed* chunk stream.

    ``windows`` selects the Windows layout. ``open_file()`` may be called on the current
    entry (only while it is current: the stream moves on) to read its content; bodies nobody
    reads are skipped without being copied (:mod:`chainproof.layers.tarstream`).
    """

    def __init__(self, chunks: Iterable[bytes], what: str, *, windows: bool = False) -> None:
        self.what = what
        self.windows = windows
        self.unsafe: list[UnsafeEntry] = []
        self.unsafe_unlisted = 0  # unsafe entries past MAX_UNSAFE_LISTED, counted only
        self._reader = tarstream.TarReader(chunks, what)

    def _reject(self, tar_name: str, reason: str) -> None:
        if len(self.unsafe) < MAX_UNSAFE_LISTED:
            self.unsafe.append(UnsafeEntry(tar_name, reason))
        else:
            self.unsafe_unlisted += 1

    def _entry(self, member: tarstream.TarMember) -> LayerEntry | None:
        name = member.name
        if len(name) > MAX_NAME_BYTES // 4 and len(name.encode("utf-8", "surrogateescape")) > (
            MAX_NAME_BYTES
        ):
            self._reject(name[:200], "name longer than 4096 bytes")
            return None
        path = _normalise(name)
        if path is None:
            self._reject(name, "absolute path or '..' component")
            return None
        kind = _KINDS.get(member.kind, EntryKind.OTHER)
        target = member.linkname
        if kind == EntryKind.HARDLINK:
            target_path = _normalise(target)
            if target_path is None:
                self._reject(name, f"hard link to {target!r} escapes the root")
                return None
            target = target_path
        elif kind == EntryKind.SYMLINK and _escapes(posixpath.dirname(path), target):
            self._reject(name, f"symlink to {target!r} escapes the root")
            return None
        view = View.ROOT
        if self.windows:
            view, path = WindowsLayout.split(path)
            if kind == EntryKind.HARDLINK:
                _, target = WindowsLayout.split(target)
        slash = path.rfind("/")
        base = path[slash + 1 :]
        if base.startswith(WHITEOUT_PREFIX):
            if base == OPAQUE_MARKER:
                kind, path = EntryKind.OPAQUE, path[: max(slash, 0)]
            else:
                kind = EntryKind.WHITEOUT
                path = path[: slash + 1] + base[len(WHITEOUT_PREFIX) :]
        if not path and kind not in (EntryKind.DIRECTORY, EntryKind.OPAQUE):
            return None
        return LayerEntry(path, view, kind, member.size, member.mode, target, name)

    def __iter__(self) -> Iterator[LayerEntry]:
        for member in self._reader:
            entry = self._entry(member)
            if entry is not None:
                yield entry
        if self.unsafe_unlisted:
            self.unsafe.append(
                UnsafeEntry("...", f"{self.unsafe_unlisted} more unsafe entries not listed")
            )

    def open_file(self) -> IO[bytes]:
        """The content of the current regular-file entry (valid until the next entry)."""
        return self._reader.open()
