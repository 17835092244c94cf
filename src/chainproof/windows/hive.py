"""Read registry hives (REGF) with regipy, including container layer deltas.

Windows container layers carry hives in two forms: the base layer's full hives
(``Hives/SOFTWARE_BASE``, ``Files/Windows/System32/config/SOFTWARE``) and each child
layer's ``Hives/*_Delta``, a hive with *layered keys*: a key may be a tombstone (deleted in
this layer), supersede its lower-layer twin (``SupersedeLocal``: its values; ``SupersedeTree``:
the whole subtree), and a value may be a tombstone. regipy parses the records; the layered
bits it does not interpret are read from the raw cells here (layout per yarp,
``RegistryRecords.get_layered_key_bit_fields``: byte 13 of the ``nk`` record, bits 0-1
the semantics, 0x80 InheritClass; bit 0x0002 of the ``vk`` flags word marks a tombstone).

Every parse problem surfaces as :class:`chainproof.errors.MalformedError` with the hive's
name; callers turn it into a warning on the component that needed the hive.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chainproof.errors import MalformedError

if TYPE_CHECKING:
    from collections.abc import Iterator

#: regipy holds the whole hive in memory; a real Server Core SOFTWARE hive is ~60-100 MB.
MAX_HIVE_BYTES = 256 * 1024 * 1024
_REGF_HEADER_SIZE = 4096
_BASE_BLOCK_FLAGS_OFFSET = 0x90
#: Base-block flag: the hive supports layered keys (a container layer delta).
HIVE_FLAG_LAYERED_KEYS = 0x2
_VK_TOMBSTONE = 0x0002


class LayerSemantics(enum.IntEnum):
    NONE = 0
    TOMBSTONE = 1
    SUPERSEDE_LOCAL = 2
    SUPERSEDE_TREE = 3


def _parse_errors() -> tuple[type[BaseException], ...]:
    from construct import ConstructError
    from regipy.exceptions import RegipyException

    return (
        RegipyException,
        ConstructError,
        ValueError,
        IndexError,
        KeyError,
        OverflowError,
        struct.error,
        AttributeError,
        TypeError,
        RecursionError,
    )


@dataclass(frozen=True)
class RegValue:
    name: str
    value: Any
    type: str
    tombstone: bool = False


class RegKey:
    """One key of a hive (a thin view over regipy's ``NKRecord``)."""

    def __init__(self, hive: Hive, record: Any, path: str) -> None:
        self._hive = hive
        self._record = record
        self.name: str = record.name
        self.path = path

    @property
    def semantics(self) -> LayerSemantics:
        bits = bytes(self._record.header.access_bits)
        return LayerSemantics(bits[1] & 0x3) if len(bits) > 1 else LayerSemantics.NONE

    @property
    def inherit_class(self) -> bool:
        bits = bytes(self._record.header.access_bits)
        return len(bits) > 1 and bool(bits[1] & 0x80)

    def subkeys(self) -> Iterator[RegKey]:
        with self._hive.guard(self.path):
            children = list(self._record.iter_subkeys() or ())
        for child in children:
            yield RegKey(self._hive, child, f"{self.path}\\{child.name}")

    def subkey(self, name: str) -> RegKey | None:
        wanted = name.casefold()
        for child in self.subkeys():
            if child.name.casefold() == wanted:
                return child
        return None

    def values(self) -> dict[str, RegValue]:
        """Values by case-folded name (registry value names are case-insensitive)."""
        with self._hive.guard(self.path):
            parsed = list(self._record.iter_values(trim_values=False) or ())
            tombstones = self._hive.tombstoned_values(self._record)
        return {
            v.name.casefold(): RegValue(v.name, v.value, str(v.value_type), v.name in tombstones)
            for v in parsed
        }

    def value(self, name: str) -> Any:
        found = self.values().get(name.casefold())
        return None if found is None or found.tombstone else found.value


class Hive:
    """A hive file read whole into memory (bounded by ``max_bytes``)."""

    def __init__(self, path: str | Path, what: str, *, max_bytes: int = MAX_HIVE_BYTES) -> None:
        from regipy.registry import RegistryHive

        self.what = what
        size = Path(path).stat().st_size
        if size > max_bytes:
            raise MalformedError(
                f"{what}: hive of {size} bytes exceeds the {max_bytes}-byte limit; not read"
            )
        with Path(path).open("rb") as handle:
            head = handle.read(_REGF_HEADER_SIZE)
        if len(head) < _REGF_HEADER_SIZE or head[:4] != b"regf":
            raise MalformedError(f"{what}: not a registry hive (no 'regf' base block)")
        self.flags = int.from_bytes(
            head[_BASE_BLOCK_FLAGS_OFFSET : _BASE_BLOCK_FLAGS_OFFSET + 4], "little"
        )
        with self.guard("base block"):
            self._hive = RegistryHive(str(path))  # type: ignore[no-untyped-call]
            self.file_name: str = str(self._hive.name or "").strip("\0")
            self._raw = self._hive._stream.getbuffer()

    @property
    def layered(self) -> bool:
        """Whether this is a layer delta hive (layered keys supported)."""
        return bool(self.flags & HIVE_FLAG_LAYERED_KEYS)

    class _Guard:
        def __init__(self, hive: Hive, where: str) -> None:
            self._hive, self._where = hive, where

        def __enter__(self) -> None:
            return None

        def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
            if exc is not None and isinstance(exc, _parse_errors()):
                raise MalformedError(
                    f"{self._hive.what}: corrupt hive at {self._where} ({type(exc).__name__}: "
                    f"{str(exc)[:120]})"
                ) from None

    def guard(self, where: str) -> Hive._Guard:
        return Hive._Guard(self, where)

    @property
    def root(self) -> RegKey:
        return RegKey(self, self._hive.root, "")

    def key(self, path: str) -> RegKey | None:
        """The key at ``path`` (``Microsoft\\Windows NT\\CurrentVersion``), or None."""
        current = self.root
        for part in (p for p in path.split("\\") if p):
            child = current.subkey(part)
            if child is None:
                return None
            current = child
        return current

    def walk(self, path: str) -> Iterator[RegKey]:
        """The keys along ``path`` from the root's child down, as far as they exist."""
        current = self.root
        for part in (p for p in path.split("\\") if p):
            child = current.subkey(part)
            if child is None:
                return
            yield child
            current = child

    def tombstoned_values(self, record: Any) -> frozenset[str]:
        """Names of the values of ``record`` whose ``vk`` flags mark a tombstone."""
        count = int(record.header.values_count)
        if not count or not self.layered:
            return frozenset()
        raw = self._raw
        names: set[str] = set()
        base = _REGF_HEADER_SIZE + 4 + int(record.header.values_list_offset)
        for index in range(min(count, 65536)):
            (offset,) = struct.unpack_from("<I", raw, base + 4 * index)
            vk = _REGF_HEADER_SIZE + 4 + offset
            if bytes(raw[vk : vk + 2]) != b"vk":
                continue
            name_size, flags = (
                struct.unpack_from("<H", raw, vk + 2)[0],
                struct.unpack_from("<H", raw, vk + 16)[0],
            )
            if not flags & _VK_TOMBSTONE:
                continue
            name_bytes = bytes(raw[vk + 20 : vk + 20 + name_size])
            name = (
                name_bytes.decode("ascii", "replace")
                if flags & 0x0001
                else name_bytes.decode("utf-16-le", "replace")
            )
            names.add(name or "(default)")
        return frozenset(names)
