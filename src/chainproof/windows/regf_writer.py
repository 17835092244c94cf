"""Write small registry hives (REGF): the demo sample's SOFTWARE hive and its layer delta.

Only what the demo needs: keys with ASCII names, REG_SZ and REG_DWORD values, one hive bin.
chainproof's reader is tested against real hives and hives written by Debian's ``hivexsh``,
never only against this writer; its own test reads its output back with ``hivexget``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

_NO_OFFSET = 0xFFFFFFFF
_KEY_COMP_NAME = 0x0020
_ROOT_FLAGS = 0x0004 | 0x0008 | _KEY_COMP_NAME  # HIVE_ENTRY | NO_DELETE | COMP_NAME
_REG_SZ, _REG_DWORD = 1, 4


@dataclass
class Key:
    name: str
    values: dict[str, str | int] = field(default_factory=dict)
    subkeys: list[Key] = field(default_factory=list)

    def child(self, path: str) -> Key:
        """The key at ``path`` below this one, created as needed."""
        current = self
        for part in (p for p in path.split("\\") if p):
            found = next((k for k in current.subkeys if k.name.casefold() == part.casefold()), None)
            if found is None:
                found = Key(part)
                current.subkeys.append(found)
            current = found
        return current


class _Bin:
    def __init__(self) -> None:
        self.data = bytearray()

    def cell(self, payload: bytes) -> int:
        """Append an allocated cell; returns its offset relative to the first hive bin."""
        size = (len(payload) + 4 + 7) & ~7
        offset = 32 + len(self.data)
        self.data += struct.pack("<i", -size) + payload + bytes(size - 4 - len(payload))
        return offset

    def patch(self, offset: int, at: int, fmt: str, *values: int) -> None:
        struct.pack_into(fmt, self.data, offset - 32 + 4 + at, *values)


def _nk(key: Key, parent: int, flags: int) -> bytes:
    name = key.name.encode("ascii")
    header = struct.pack(
        "<2sHQIIIIIIIIIIIIIIIHH",
        b"nk",
        flags,
        0,
        0,  # access bits (layered-key semantics live in byte 13: none)
        parent,
        len(key.subkeys),
        0,
        _NO_OFFSET,  # subkey list, patched
        _NO_OFFSET,
        len(key.values),
        _NO_OFFSET,  # value list, patched
        _NO_OFFSET,
        _NO_OFFSET,
        max((len(k.name) * 2 for k in key.subkeys), default=0),
        0,
        max((len(v) * 2 for v in key.values), default=0),
        0,
        0,
        len(name),
        0,
    )
    return header + name


def _write_key(hbin: _Bin, key: Key, parent: int, flags: int) -> int:
    offset = hbin.cell(_nk(key, parent, flags))
    if key.values:
        value_offsets = []
        for name, value in key.values.items():
            encoded = name.encode("ascii")
            if isinstance(value, int):
                vk = struct.pack(
                    "<2sHIIIHH", b"vk", len(encoded), 0x80000004, value, _REG_DWORD, 1, 0
                )
            else:
                data = (value + "\0").encode("utf-16-le")
                data_offset = hbin.cell(data)
                vk = struct.pack(
                    "<2sHIIIHH", b"vk", len(encoded), len(data), data_offset, _REG_SZ, 1, 0
                )
            value_offsets.append(hbin.cell(vk + encoded))
        hbin.patch(
            offset, 40, "<I", hbin.cell(struct.pack(f"<{len(value_offsets)}I", *value_offsets))
        )
    if key.subkeys:
        children = [
            (_write_key(hbin, child, offset, _KEY_COMP_NAME), child)
            for child in sorted(key.subkeys, key=lambda k: k.name.upper())
        ]
        leaf = struct.pack("<2sH", b"lf", len(children)) + b"".join(
            struct.pack("<I4s", child_offset, child.name.encode("ascii")[:4].ljust(4, b"\0"))
            for child_offset, child in children
        )
        hbin.patch(offset, 28, "<I", hbin.cell(leaf))
    return offset


def write_hive(root: Key, file_name: str = "", *, layered: bool = False) -> bytes:
    """The hive file for ``root`` (``layered``: a container layer delta)."""
    hbin = _Bin()
    root_offset = _write_key(hbin, root, _NO_OFFSET, _ROOT_FLAGS)
    bin_size = (32 + len(hbin.data) + 4095) & ~4095
    free = bin_size - 32 - len(hbin.data)
    if free:
        hbin.data += struct.pack("<i", free) + bytes(free - 4)  # one unallocated cell
    hbin_bytes = struct.pack("<4sIIIIQI", b"hbin", 0, bin_size, 0, 0, 0, 0) + bytes(hbin.data)
    base = bytearray(4096)
    struct.pack_into(
        "<4sIIQIIIIIII", base, 0, b"regf", 1, 1, 0, 1, 5, 0, 1, root_offset, bin_size, 1
    )
    encoded_name = file_name.encode("utf-16-le")[:64]
    base[48 : 48 + len(encoded_name)] = encoded_name
    struct.pack_into("<I", base, 0x90, 0x2 if layered else 0)
    checksum = 0
    for (word,) in struct.iter_unpack("<I", bytes(base[:508])):
        checksum ^= word
    checksum = 1 if checksum == 0 else 0xFFFFFFFE if checksum == 0xFFFFFFFF else checksum
    struct.pack_into("<I", base, 508, checksum)
    return bytes(base) + hbin_bytes
