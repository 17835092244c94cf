"""rpm databases before sqlite: BerkeleyDB ``Packages`` (written by Berkeley DB's own
``db5.3_load``) and ndb ``Packages.db``, holding real headers written by ``rpmbuild``."""

from __future__ import annotations

import shutil
import struct
import subprocess
from typing import TYPE_CHECKING

import pytest

from chainproof.errors import MalformedError
from chainproof.layers.walker import View
from chainproof.sbom.catalogers import linux, rpmdb
from chainproof.sbom.interface import CatalogContext, Content, FoundFile
from tests.sbom.helpers import config

if TYPE_CHECKING:
    from pathlib import Path

    from chainproof.sbom.model import Component

_SPEC = """Name: hello-chainproof
Version: 1.2.3
Release: 4.el8
Summary: test
License: MIT AND Apache-2.0
Vendor: chainproof tests
BuildArch: noarch
%description
A package with no files, built by rpmbuild for the rpmdb tests.
%files
"""

pytestmark = pytest.mark.integration  # rpmbuild and db5.3_load write the inputs


def _synthetic_header(tags: dict[int, str]) -> bytes:
    store = b""
    index = b""
    for tag, value in tags.items():
        index += struct.pack(">IIII", tag, 6, len(store), 1)
        store += value.encode() + b"\0"
    return struct.pack(">II", len(tags), len(store)) + index + store


def _real_header(tmp_path: Path) -> bytes:
    """The header blob (as rpm stores it in its database) of a package rpmbuild made."""
    if shutil.which("rpmbuild") is None:
        pytest.skip("rpmbuild not installed (Debian package rpm, in APT_PACKAGES)")
    top = tmp_path / "rpmbuild"
    (top / "SPECS").mkdir(parents=True)
    (top / "SPECS/hello.spec").write_text(_SPEC)
    subprocess.run(
        ["rpmbuild", "--quiet", "--define", f"_topdir {top}", "-bb", str(top / "SPECS/hello.spec")],
        check=True,
        capture_output=True,
    )
    (package,) = (top / "RPMS").rglob("*.rpm")
    data = package.read_bytes()
    # lead (96 bytes), signature header (8-aligned), then the main header; each header is
    # 8 bytes of magic, then (index count, data length, index, data): the database blob.
    offset = 96
    count, length = struct.unpack_from(">II", data, offset + 8)
    offset += 16 + 16 * count + length
    offset += -offset % 8
    assert data[offset : offset + 3] == b"\x8e\xad\xe8"
    count, length = struct.unpack_from(">II", data, offset + 8)
    return data[offset + 8 : offset + 16 + 16 * count + length]


def _bdb(tmp_path: Path, values: list[bytes]) -> Path:
    loader = shutil.which("db5.3_load") or shutil.which("db_load")
    if loader is None:
        pytest.skip("db5.3_load not installed (Debian package db5.3-util, in APT_PACKAGES)")
    # rpm's layout: key = instance number (native order), record 0 = the instance counter.
    records = [(struct.pack("<I", 0), struct.pack("<I", len(values) + 1))]
    records += [(struct.pack("<I", i + 1), v) for i, v in enumerate(values)]
    lines = ["VERSION=3", "format=bytevalue", "type=hash", "db_pagesize=4096", "HEADER=END"]
    for key, value in records:
        lines += [" " + key.hex(), " " + value.hex()]
    lines.append("DATA=END")
    dump = tmp_path / "dump.txt"
    dump.write_text("\n".join(lines) + "\n")
    database = tmp_path / "Packages"
    subprocess.run([loader, "-f", str(dump), str(database)], check=True, capture_output=True)
    return database


def _ndb(tmp_path: Path, values: list[bytes]) -> Path:
    """An ndb Packages.db laid out as rpm's lib/backend/ndb/rpmpkg.c writes it."""
    slot_pages = 1
    header = b"RpmP" + struct.pack("<III", 0, 7, slot_pages) + bytes(16)
    slots = b""
    blobs = b""
    next_block = slot_pages * 4096 // 16
    for index, value in enumerate(values, start=1):
        blob = b"BlbS" + struct.pack("<III", index, 7, len(value)) + value
        blob += bytes(-len(blob) % 16 + 16)  # rpm leaves a trailer block; padding is fine
        slots += b"Slot" + struct.pack("<III", index, next_block, len(blob) // 16)
        blobs += blob
        next_block += len(blob) // 16
    page = header + slots
    page += b"Slot" + bytes(12)  # a free slot
    page += bytes(4096 - len(page))
    database = tmp_path / "Packages.db"
    database.write_bytes(page + blobs)
    return database


def _catalog(path: Path, where: str) -> tuple[list[Component], list[str]]:
    cataloger = linux.RpmDatabaseCataloger()
    found = FoundFile(0, View.ROOT, where, "/" + where, path.stat().st_size)
    cataloger.add(found, Content(path=path))
    context = CatalogContext(
        config("linux", ""), False, 1, facts={linux.DISTRO_FACT: ("rhel", "8.9")}
    )
    return list(cataloger.finish(context)), context.warnings


def test_berkeleydb_packages(tmp_path: Path) -> None:
    real = _real_header(tmp_path)
    big = _synthetic_header(
        {1000: "glibc", 1001: "2.28", 1002: "236.el8", 1022: "x86_64", 1005: "x" * 9000}
    )
    small = _synthetic_header({1000: "bash", 1001: "4.4.20", 1002: "4.el8", 1022: "x86_64"})
    database = _bdb(tmp_path, [real, big, small])
    components, warnings = _catalog(database, "var/lib/rpm/Packages")
    assert warnings == []
    by = {c.name: c for c in components}
    assert sorted(by) == ["bash", "glibc", "hello-chainproof"]
    hello = by["hello-chainproof"]
    assert (hello.version, hello.licenses, hello.supplier) == (
        "1.2.3-4.el8",
        ("MIT AND Apache-2.0",),
        "chainproof tests",
    )
    assert hello.purl == "pkg:rpm/rhel/hello-chainproof@1.2.3-4.el8?arch=noarch&distro=rhel-8.9"
    assert hello.property("chainproof:rpm:database") == "bdb"
    # glibc's header (9 KB) lives on overflow pages, bash's inline on the hash page.
    assert by["glibc"].version == "2.28-236.el8" and by["bash"].version == "4.4.20-4.el8"


def test_ndb_packages(tmp_path: Path) -> None:
    real = _real_header(tmp_path)
    small = _synthetic_header({1000: "bash", 1001: "5.2", 1002: "1.1", 1022: "x86_64"})
    database = _ndb(tmp_path, [real, small])
    components, warnings = _catalog(database, "usr/lib/sysimage/rpm/Packages.db")
    assert warnings == []
    assert sorted((c.name, c.version) for c in components) == [
        ("bash", "5.2-1.1"),
        ("hello-chainproof", "1.2.3-4.el8"),
    ]
    assert components[0].property("chainproof:rpm:database") == "ndb"


def test_damaged_databases_are_warnings(tmp_path: Path) -> None:
    small = _synthetic_header({1000: "bash", 1001: "4.4.20", 1002: "4.el8"})
    good = _bdb(tmp_path, [small]).read_bytes()
    # Not a database at all, and a truncated one.
    for name, data in (("junk", b"\x00" * 4096), ("short", good[:100])):
        path = tmp_path / name
        path.write_bytes(data)
        components, warnings = _catalog(path, "var/lib/rpm/Packages")
        assert components == [] and len(warnings) == 1, name
    # An overflow chain that loops on itself is caught, not followed forever.
    page_size = 4096
    looped = bytearray(page_size * 3)
    struct.pack_into("<I", looped, 12, 0x061561)
    struct.pack_into("<II", looped, 20, page_size, 0)
    struct.pack_into("<I", looped, 32, 2)
    hash_page = page_size
    looped[hash_page + 25] = 13
    struct.pack_into("<H", looped, hash_page + 20, 2)
    struct.pack_into("<HH", looped, hash_page + 26, 4000, 3000)
    looped[hash_page + 3000] = 3  # H_OFFPAGE
    struct.pack_into("<II", looped, hash_page + 3004, 2, 5000)
    overflow = 2 * page_size
    looped[overflow + 25] = 7
    struct.pack_into("<I", looped, overflow + 16, 2)  # next page: itself
    struct.pack_into("<H", looped, overflow + 22, 100)
    with pytest.raises(MalformedError, match="overflow chain"):
        list(rpmdb.bdb_values(bytes(looped), "Packages"))
    # ndb: a slot pointing past the end of the file.
    broken = bytearray(_ndb(tmp_path, [small]).read_bytes())
    struct.pack_into("<I", broken, 32 + 8, 10_000_000)
    with pytest.raises(MalformedError, match="outside the file"):
        list(rpmdb.ndb_blobs(bytes(broken), "Packages.db"))


def test_paths_wanted() -> None:
    from chainproof.layers.walker import EntryKind, LayerEntry

    cataloger = linux.RpmDatabaseCataloger()

    def wants(path: str) -> bool:
        return cataloger.wants(LayerEntry(path, View.ROOT, EntryKind.FILE, 1, 0o644, "", path))

    assert wants("var/lib/rpm/Packages") and wants("usr/lib/sysimage/rpm/Packages.db")
    assert wants("var/lib/rpm/rpmdb.sqlite")
    assert not wants("usr/share/doc/Packages") and not wants("var/lib/rpm/Basenames")


def test_image_with_a_berkeleydb_rpmdb(tmp_path: Path) -> None:
    """End to end: a CentOS-8-like image; an upgrade in layer 1 rewrites the database."""
    from chainproof.oci.layout_writer import LayerFile
    from chainproof.sbom.catalog import generate
    from tests.sbom.helpers import write_image

    real = _real_header(tmp_path)
    old = _synthetic_header({1000: "bash", 1001: "4.4.19", 1002: "1.el8", 1022: "x86_64"})
    new = _synthetic_header({1000: "bash", 1001: "4.4.20", 1002: "4.el8", 1022: "x86_64"})
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = _bdb(tmp_path / "a", [real, old]).read_bytes()
    second = _bdb(tmp_path / "b", [real, new]).read_bytes()
    release = b'ID="centos"\nVERSION_ID="8"\n'
    reference = write_image(
        tmp_path / "image",
        [
            [LayerFile("etc/os-release", release), LayerFile("var/lib/rpm/Packages", first)],
            [LayerFile("var/lib/rpm/Packages", second)],
        ],
        os="linux",
    )
    (sbom,) = generate(reference)
    rpms = {(c.name, c.version): (c.layer, c.removed_by) for c in sbom.by_ecosystem("rpm")}
    assert rpms == {
        ("hello-chainproof", "1.2.3-4.el8"): (0, None),
        ("bash", "4.4.19-1.el8"): (0, 1),
        ("bash", "4.4.20-4.el8"): (1, None),
    }
    (bash,) = [c for c in sbom.by_ecosystem("rpm") if c.version == "4.4.20-4.el8"]
    assert bash.purl == "pkg:rpm/centos/bash@4.4.20-4.el8?arch=x86_64&distro=centos-8"
    assert not [w for w in sbom.warnings if "rpm" in w.lower()]
