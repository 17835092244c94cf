"""RPM databases older than sqlite: BerkeleyDB hash ``Packages`` (RHEL/CentOS ≤ 8, Amazon
Linux 2, old Fedora/SUSE) and ``ndb`` ``Packages.db`` (SUSE since 15 SP3 / Tumbleweed).

Both only store RPM header blobs (what the sqlite format keeps in ``Packages.blob``); the
layouts are read directly, as go-rpmdb and Syft do, since no maintained Python package reads
them (the ``berkeleydb`` binding needs Oracle's libdb at build time and cannot read ndb).

BerkeleyDB hash file (libdb ``dbinc/db_page.h``): page 0 is the metadata page (magic
0x061561 at offset 12, in the writer's byte order; page size at 20, last page number at 32).
Hash pages (type 2 or 13) hold an index of item offsets after the 26-byte page header; items
alternate key, value. A value is ``H_KEYDATA`` (1, inline) or ``H_OFFPAGE`` (3: first overflow
page and total length), whose overflow pages (type 7) chain through ``next_pgno`` and keep
their used length in ``hf_offset``.

ndb (rpm ``lib/backend/ndb/rpmpkg.c``): a 32-byte header (``RpmP`` magic, version 0,
generation, slot page count), slot pages of 16-byte slots (``Slot`` magic, package index,
block offset, block count; 16-byte blocks), each blob a 16-byte header (``BlbS`` magic, package
index, generation, length) followed by the header blob.

Everything is bounded by the file: offsets, page numbers, lengths and overflow chains are
checked, so a crafted database yields warnings, not a crash or a loop.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, NamedTuple

from chainproof.errors import MalformedError

if TYPE_CHECKING:
    from collections.abc import Iterator

_HASH_MAGIC = 0x061561
_PAGE_HEADER = 26
_P_HASH_UNSORTED, _P_HASH, _P_OVERFLOW = 2, 13, 7
_H_KEYDATA, _H_OFFPAGE = 1, 3


def bdb_values(data: bytes, what: str) -> Iterator[bytes]:
    """The values of a BerkeleyDB hash database (rpm's ``Packages``), in page order."""
    if len(data) < 512:
        raise MalformedError(f"{what}: not a BerkeleyDB file (too short)")
    for order in ("<", ">"):
        if struct.unpack_from(f"{order}I", data, 12)[0] == _HASH_MAGIC:
            break
    else:
        raise MalformedError(f"{what}: not a BerkeleyDB hash database (bad magic)")
    page_size, last_page = (
        struct.unpack_from(f"{order}I", data, 20)[0],
        struct.unpack_from(f"{order}I", data, 32)[0],
    )
    if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        raise MalformedError(f"{what}: BerkeleyDB page size {page_size} out of range")
    pages = min(last_page + 1, len(data) // page_size)
    for number in range(1, pages):
        page = memoryview(data)[number * page_size : (number + 1) * page_size]
        kind = page[25]
        if kind not in (_P_HASH_UNSORTED, _P_HASH):
            continue
        entries = struct.unpack_from(f"{order}H", page, 20)[0]
        if _PAGE_HEADER + 2 * entries > page_size:
            raise MalformedError(f"{what}: page {number}: index larger than the page")
        offsets = struct.unpack_from(f"{order}{entries}H", page, _PAGE_HEADER)
        # Items are laid out from the page end downwards: item i ends where item i-1 starts.
        for index in range(1, entries, 2):
            start, end = offsets[index], offsets[index - 1]
            if not _PAGE_HEADER + 2 * entries <= start < min(end, page_size):
                raise MalformedError(f"{what}: page {number}: item offset out of range")
            item_kind = page[start]
            if item_kind == _H_KEYDATA:
                yield bytes(page[start + 1 : end])
            elif item_kind == _H_OFFPAGE and start + 12 <= end:
                first, length = struct.unpack_from(f"{order}II", page, start + 4)
                yield _overflow(_Pages(data, order, page_size, pages), first, length, what)


class _Pages(NamedTuple):
    data: bytes
    order: str
    page_size: int
    pages: int


def _overflow(db: _Pages, first: int, length: int, what: str) -> bytes:
    data, order, page_size, pages = db
    if length > len(data):
        raise MalformedError(f"{what}: overflow item longer than the file")
    parts: list[bytes] = []
    collected = 0
    number = first
    seen: set[int] = set()
    while number and collected < length:
        if number >= pages or number in seen:
            raise MalformedError(f"{what}: broken overflow chain at page {number}")
        seen.add(number)
        page = memoryview(data)[number * page_size : (number + 1) * page_size]
        if page[25] != _P_OVERFLOW:
            raise MalformedError(f"{what}: page {number} is not an overflow page")
        following = struct.unpack_from(f"{order}I", page, 16)[0]
        used = struct.unpack_from(f"{order}H", page, 22)[0]
        chunk = page[_PAGE_HEADER : min(_PAGE_HEADER + used, page_size)]
        parts.append(bytes(chunk))
        collected += len(chunk)
        number = following
    if collected < length:
        raise MalformedError(f"{what}: overflow item truncated ({collected} of {length} bytes)")
    return b"".join(parts)[:length]


_NDB_MAGIC, _NDB_SLOT_MAGIC, _NDB_BLOB_MAGIC = b"RpmP", b"Slot", b"BlbS"
_NDB_PAGE = 4096
_NDB_BLOCK = 16


def ndb_blobs(data: bytes, what: str) -> Iterator[bytes]:
    """The header blobs of an rpm ndb ``Packages.db``, by slot order."""
    if len(data) < 32 or data[:4] != _NDB_MAGIC:
        raise MalformedError(f"{what}: not an rpm ndb database (bad magic)")
    version, _generation, slot_pages = struct.unpack_from("<III", data, 4)
    if version != 0:
        raise MalformedError(f"{what}: unsupported ndb version {version}")
    if slot_pages == 0 or slot_pages * _NDB_PAGE > len(data):
        raise MalformedError(f"{what}: ndb slot pages out of range")
    # The first slot page starts with the 32-byte database header (two slots' worth).
    for offset in range(32, slot_pages * _NDB_PAGE, 16):
        magic = data[offset : offset + 4]
        if magic != _NDB_SLOT_MAGIC:
            continue
        package, block_offset, block_count = struct.unpack_from("<III", data, offset + 4)
        if package == 0:
            continue  # a free slot
        start = block_offset * _NDB_BLOCK
        end = start + block_count * _NDB_BLOCK
        if start < slot_pages * _NDB_PAGE or end > len(data) or start + 16 > end:
            raise MalformedError(f"{what}: slot for package {package} points outside the file")
        blob_magic = data[start : start + 4]
        blob_package, _blob_generation, length = struct.unpack_from("<III", data, start + 4)
        if blob_magic != _NDB_BLOB_MAGIC or blob_package != package:
            raise MalformedError(f"{what}: package {package}: bad blob header")
        if start + 16 + length > end:
            raise MalformedError(f"{what}: package {package}: blob longer than its blocks")
        yield data[start + 16 : start + 16 + length]
