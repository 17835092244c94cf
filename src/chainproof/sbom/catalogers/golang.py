"""Go binaries: the build information the Go linker embeds (``runtime/debug.BuildInfo``).

Found by the ``\\xff Go buildinf:`` magic in executables (ELF with an exec bit, Windows
``.exe``). Go ≥ 1.18 stores the Go version and the module information inline after the
32-byte header as length-prefixed strings; older binaries (pointer form) are reported as a
warning rather than guessed at.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainproof.errors import MalformedError
from chainproof.layers.walker import EntryKind, View
from chainproof.sbom.catalogers._util import purl
from chainproof.sbom.interface import FileCataloger
from chainproof.sbom.model import Component, ComponentType

if TYPE_CHECKING:
    from collections.abc import Iterator

    from chainproof.layers.walker import LayerEntry
    from chainproof.sbom.interface import FoundFile

MAGIC = b"\xff Go buildinf:"
_INLINE_STRINGS = 0x2
#: Go binaries below this are rare; skipping small executables keeps the pass cheap.
MIN_BINARY_BYTES = 256 * 1024
MAX_STRING = 1024 * 1024


def _varint(data: bytes, offset: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if offset >= len(data) or shift > 35:
            raise MalformedError("truncated Go build info")
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, offset


def _string(data: bytes, offset: int) -> tuple[str, int]:
    length, offset = _varint(data, offset)
    if length > MAX_STRING or offset + length > len(data):
        raise MalformedError("Go build info string out of range")
    return data[offset : offset + length].decode("utf-8", "replace"), offset + length


def build_info(data: bytes, what: str) -> tuple[str, str] | None:
    """(Go version, module info text) of a Go binary, or None when it is not one."""
    at = data.find(MAGIC)
    if at < 0 or at + 32 > len(data):
        return None
    flags = data[at + 15]
    if not flags & _INLINE_STRINGS:
        raise MalformedError(f"{what}: Go binary older than Go 1.18 (build info not read)")
    try:
        version, offset = _string(data, at + 32)
        modinfo, _ = _string(data, offset)
    except MalformedError as exc:
        raise MalformedError(f"{what}: {exc}") from None
    # The module info is framed by 16-byte sentinels.
    if len(modinfo) >= 33 and modinfo[-17] == "\n":
        modinfo = modinfo[16:-16]
    return version, modinfo


class GoBinaryCataloger(FileCataloger):
    name = "go-binary"
    max_bytes = 128 * 1024 * 1024

    def wants(self, entry: LayerEntry) -> bool:
        if entry.kind != EntryKind.FILE or entry.size < MIN_BINARY_BYTES:
            return False
        if entry.view == View.FILES:
            return entry.path.casefold().endswith(".exe") and not entry.path.casefold().startswith(
                "windows/"
            )
        return entry.view == View.ROOT and bool(entry.mode & 0o111)

    def parse(self, found: FoundFile, data: bytes) -> Iterator[Component]:
        info = build_info(data, found.evidence)
        if info is None:
            return
        go_version, modinfo = info
        main_path = main_version = ""
        deps: list[tuple[str, str]] = []
        replaced: dict[str, tuple[str, str]] = {}
        for line in modinfo.splitlines():
            fields = line.split("\t")
            if fields[0] == "path" and len(fields) > 1:
                main_path = fields[1]
            elif fields[0] == "mod" and len(fields) > 2:
                main_path, main_version = fields[1], fields[2]
            elif fields[0] == "dep" and len(fields) > 2:
                deps.append((fields[1], fields[2]))
            elif fields[0] == "=>" and len(fields) > 2 and deps:
                replaced[deps[-1][0]] = (fields[1], fields[2])
        props = (("chainproof:go:toolchain", go_version),)
        yield Component(
            ComponentType.LIBRARY,
            "stdlib",
            go_version,
            "golang",
            self.name,
            purl=purl("golang", "stdlib", go_version),
            layer=found.layer,
            evidence=(found.evidence,),
        )
        if main_path:
            yield Component(
                ComponentType.APPLICATION,
                main_path,
                main_version or "(devel)",
                "golang",
                self.name,
                purl=purl("golang", main_path, main_version if main_version != "(devel)" else ""),
                layer=found.layer,
                evidence=(found.evidence,),
                properties=props,
            )
        for path, version in deps:
            actual_path, actual_version = replaced.get(path, (path, version))
            yield Component(
                ComponentType.LIBRARY,
                actual_path,
                actual_version,
                "golang",
                self.name,
                purl=purl("golang", actual_path, actual_version),
                layer=found.layer,
                evidence=(found.evidence,),
                properties=props,
            )
