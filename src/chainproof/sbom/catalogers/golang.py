"""Go binaries: the build information the Go linker embeds (``runtime/debug.BuildInfo``).

Found by the ``\\xff Go buildinf:`` magic in executables (ELF with an exec bit, Windows
``.exe``). Go ≥ 1.18 stores the Go version and the module information inline after the
32-byte header as length-prefixed strings. Older binaries (Go 1.13-1.17) store two pointers
after the magic, pointer size and flags: to the Go string headers (data pointer, length) of
``runtime.buildVersion`` and ``runtime.modinfo``. Those are virtual addresses, mapped to file
offsets through the ELF ``PT_LOAD`` segments or the PE sections (as Go's
``debug/buildinfo`` does).
"""

from __future__ import annotations

import struct
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


def _pe_segments(data: bytes) -> list[tuple[int, int, int]]:
    """[(virtual address, file offset, raw size)] of a PE file's sections."""
    import pefile

    try:
        pe = pefile.PE(data=data, fast_load=True)
    except pefile.PEFormatError as exc:
        raise MalformedError(f"not a readable PE file ({exc})") from None
    try:
        base = int(pe.OPTIONAL_HEADER.ImageBase)
        return [
            (base + int(s.VirtualAddress), int(s.PointerToRawData), int(s.SizeOfRawData))
            for s in pe.sections
        ]
    finally:
        pe.close()


def _segments(data: bytes) -> list[tuple[int, int, int]]:
    if data[:2] == b"MZ":
        return _pe_segments(data)
    return _elf_segments(data)[1]


def _elf_segments(data: bytes) -> tuple[str, list[tuple[int, int, int]]]:
    """(struct byte order, [(vaddr, file offset, file size)]) of an ELF file's PT_LOAD."""
    if data[:4] != b"\x7fELF" or len(data) < 64:
        raise MalformedError("Go binary older than Go 1.18 that is neither ELF nor PE")
    wide, order = data[4] == 2, "<" if data[5] == 1 else ">"
    if wide:
        (phoff,) = struct.unpack_from(f"{order}Q", data, 32)
        entsize, count = struct.unpack_from(f"{order}HH", data, 54)
    else:
        (phoff,) = struct.unpack_from(f"{order}I", data, 28)
        entsize, count = struct.unpack_from(f"{order}HH", data, 42)
    if count > 4096 or phoff + entsize * count > len(data) or entsize < (56 if wide else 32):
        raise MalformedError("ELF program headers out of range")
    segments = []
    for index in range(count):
        at = phoff + index * entsize
        if wide:
            kind, _, offset, vaddr, _, filesz = struct.unpack_from(f"{order}IIQQQQ", data, at)
        else:
            kind, offset, vaddr, _, filesz = struct.unpack_from(f"{order}IIIII", data, at)
        if kind == 1:  # PT_LOAD
            segments.append((vaddr, offset, filesz))
    return order, segments


def _pointer_form(data: bytes, at: int, flags: int) -> tuple[str, str]:
    pointer = data[at + 14]
    if pointer not in (4, 8):
        raise MalformedError(f"Go build info pointer size {pointer}")
    segments = _segments(data)
    order = ">" if flags & 0x1 else "<"
    word = f"{order}{'Q' if pointer == 8 else 'I'}"

    def read(address: int, size: int) -> bytes:
        for vaddr, offset, filesz in segments:
            if vaddr <= address and address + size <= vaddr + filesz:
                start = offset + address - vaddr
                if start + size <= len(data):
                    return data[start : start + size]
        raise MalformedError(f"Go build info address {address:#x} outside the file")

    def go_string(header_address: int) -> str:
        header = read(header_address, 2 * pointer)
        pointer_to, length = (
            struct.unpack_from(word, header)[0],
            struct.unpack_from(word, header, pointer)[0],
        )
        if length > MAX_STRING:
            raise MalformedError("Go build info string out of range")
        return read(pointer_to, length).decode("utf-8", "replace") if length else ""

    version_at, modinfo_at = (
        struct.unpack_from(word, data, at + 16)[0],
        struct.unpack_from(word, data, at + 16 + pointer)[0],
    )
    return go_string(version_at), go_string(modinfo_at)


def build_info(data: bytes, what: str) -> tuple[str, str] | None:
    """(Go version, module info text) of a Go binary, or None when it is not one."""
    at = data.find(MAGIC)
    if at < 0 or at + 32 > len(data):
        return None
    flags = data[at + 15]
    try:
        if flags & _INLINE_STRINGS:
            version, offset = _string(data, at + 32)
            modinfo, _ = _string(data, offset)
        else:
            version, modinfo = _pointer_form(data, at, flags)
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
