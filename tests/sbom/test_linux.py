"""Linux and language catalogers on real-format inputs."""

from __future__ import annotations

import io
import json
import sqlite3
import struct
import zipfile
from typing import TYPE_CHECKING

from chainproof.layers.walker import EntryKind, LayerEntry, View
from chainproof.sbom.catalogers import linux
from chainproof.sbom.interface import CatalogContext, Content, FoundFile
from tests.sbom.helpers import config, run_files

if TYPE_CHECKING:
    from pathlib import Path

    from chainproof.sbom.interface import Cataloger
    from chainproof.sbom.model import Component

DPKG_STATUS = b"""Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u4
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Description: GNU C Library: Shared libraries
 Contains the standard libraries.

Package: removed-thing
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0

Package: bash
Status: install ok installed
Architecture: amd64
Version: 5.2.15-2+b2
"""

APK_INSTALLED = b"""C:Q1abc=
P:musl
V:1.2.4-r2
A:x86_64
L:MIT
o:musl
m:Timo Teras <timo.teras@iki.fi>

C:Q1def=
P:busybox
V:1.36.1-r5
A:x86_64
L:GPL-2.0-only
o:busybox
"""


def _run_linux(catalogers: list[Cataloger], files: list[tuple[str, bytes]]) -> list[Component]:
    context = CatalogContext(config("linux", ""), False, 1)
    for cataloger in catalogers:
        for path, data in files:
            if cataloger.wants(_entry(path)):
                found = FoundFile(0, View.ROOT, path, "/" + path, len(data))
                cataloger.add(found, Content(data))
    out: list[Component] = []
    for cataloger in catalogers:
        out.extend(cataloger.finish(context))
    return out


def _entry(path: str) -> LayerEntry:
    return LayerEntry(path, View.ROOT, EntryKind.FILE, 0, 0o644, "", path)


def test_dpkg_with_distro_purls() -> None:
    os_release = (
        b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
        b'VERSION_ID="12"\nID=debian\n'
    )
    found = _run_linux(
        [linux.OsReleaseCataloger(), linux.DpkgCataloger()],
        [("etc/os-release", os_release), ("var/lib/dpkg/status", DPKG_STATUS)],
    )
    system = found[0]
    assert (system.name, system.version) == ("debian", "12")
    packages = {c.name: c for c in found[1:]}
    assert sorted(packages) == ["bash", "libc6"]  # deinstalled package skipped
    assert (
        packages["libc6"].purl
        == "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"
    )
    assert packages["libc6"].property("chainproof:deb:source") == "glibc"


def test_apk() -> None:
    found = _run_linux([linux.ApkCataloger()], [("lib/apk/db/installed", APK_INSTALLED)])
    by = {c.name: c for c in found}
    assert by["musl"].version == "1.2.4-r2" and by["musl"].licenses == ("MIT",)
    assert by["busybox"].purl == "pkg:apk/alpine/busybox@1.36.1-r5?arch=x86_64"


def _rpm_header(tags: dict[int, str]) -> bytes:
    store = b""
    index = b""
    for tag, value in tags.items():
        index += struct.pack(">IIII", tag, 6, len(store), 1)
        store += value.encode() + b"\0"
    return struct.pack(">II", len(tags), len(store)) + index + store


def test_rpm_sqlite(tmp_path: Path) -> None:
    database = tmp_path / "rpmdb.sqlite"
    connection = sqlite3.connect(database)
    connection.execute(
        "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)"
    )
    connection.execute(
        "INSERT INTO Packages (blob) VALUES (?)",
        (
            _rpm_header(
                {
                    1000: "openssl-libs",
                    1001: "3.0.7",
                    1002: "27.el9",
                    1022: "x86_64",
                    1014: "Apache-2.0",
                }
            ),
        ),
    )
    connection.execute("INSERT INTO Packages (blob) VALUES (?)", (b"\x00\x00",))  # corrupt header
    connection.commit()
    connection.close()
    cataloger = linux.RpmSqliteCataloger()
    cataloger.add(
        FoundFile(0, View.ROOT, "var/lib/rpm/rpmdb.sqlite", "/var/lib/rpm/rpmdb.sqlite", 0),
        Content(path=database),
    )
    context = CatalogContext(
        config("linux", ""), False, 1, facts={linux.DISTRO_FACT: ("rhel", "9.3")}
    )
    (component,) = list(cataloger.finish(context))
    assert (component.name, component.version, component.licenses) == (
        "openssl-libs",
        "3.0.7-27.el9",
        ("Apache-2.0",),
    )
    assert component.purl == "pkg:rpm/rhel/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=rhel-9.3"
    assert any("too short" in w for w in context.warnings)


def test_python_and_npm() -> None:
    metadata = (
        b"Metadata-Version: 2.1\nName: Requests_Toolbelt\nVersion: 1.0.0\n"
        b"License: Apache 2.0\n\nbody"
    )
    package = json.dumps({"name": "@babel/core", "version": "7.23.0", "license": "MIT"}).encode()
    components, warnings = run_files(
        linux.PythonCataloger(),
        [("usr/lib/python3/dist-packages/requests_toolbelt-1.0.0.dist-info/METADATA", metadata)],
        view=View.ROOT,
        windows=False,
    )
    assert warnings == []
    assert components[0].purl == "pkg:pypi/requests-toolbelt@1.0.0"
    assert components[0].licenses == ("Apache 2.0",)
    npm, _ = run_files(
        linux.NpmCataloger(),
        [("app/node_modules/@babel/core/package.json", package)],
        view=View.ROOT,
        windows=False,
    )
    assert npm[0].purl == "pkg:npm/%40babel/core@7.23.0" and npm[0].licenses == ("MIT",)
    assert not linux.NpmCataloger().wants(_entry("app/node_modules/x/lib/package.json"))


def _jar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_java_archives_and_zip_bomb() -> None:
    inner = _jar(
        {
            "META-INF/maven/org.slf4j/slf4j-api/pom.properties": (
                b"groupId=org.slf4j\nartifactId=slf4j-api\nversion=2.0.9\n"
            )
        }
    )
    fat = _jar(
        {
            "META-INF/MANIFEST.MF": (
                b"Manifest-Version: 1.0\nImplementation-Title: app\nImplementation-Version: 1.2\n"
            ),
            "BOOT-INF/lib/slf4j-api-2.0.9.jar": inner,
        }
    )
    # 200 MB of zeros claiming to be metadata: never inflated beyond the 1 MiB bound.
    bomb = _jar({"META-INF/maven/x/y/pom.properties": bytes(200 * 1024 * 1024)})
    components, warnings = run_files(
        linux.JavaArchiveCataloger(),
        [("opt/app.jar", fat), ("opt/bomb.jar", bomb), ("opt/not-a-zip.jar", b"PK\x03\x04garbage")],
        view=View.ROOT,
        windows=False,
    )
    by = {c.name: c for c in components}
    assert by["org.slf4j:slf4j-api"].purl == "pkg:maven/org.slf4j/slf4j-api@2.0.9"
    assert by["org.slf4j:slf4j-api"].evidence == (
        "/opt/app.jar",
        "/opt/app.jar!/BOOT-INF/lib/slf4j-api-2.0.9.jar",
    )
    assert by["app"].version == "1.2"
    assert len(components) == 2
    assert len(warnings) == 1 and "not-a-zip.jar" in warnings[0]


def _status(*packages: tuple[str, str]) -> bytes:
    return "".join(
        f"Package: {n}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {v}\n\n"
        for n, v in packages
    ).encode()


def test_linux_image_layers_and_removals(tmp_path: Path) -> None:
    from chainproof.oci.layout_writer import LayerFile
    from chainproof.sbom.catalog import generate
    from tests.sbom.helpers import write_image

    package = json.dumps({"name": "left-pad", "version": "1.3.0", "license": "WTFPL"}).encode()
    reference = write_image(
        tmp_path / "img",
        [
            [
                LayerFile("usr/lib/os-release", b"ID=debian\nVERSION_ID=12\n"),
                LayerFile("etc/os-release", kind="symlink", target="../usr/lib/os-release"),
                LayerFile("var/lib/dpkg/status", _status(("libc6", "2.36-9"), ("bash", "5.2-2"))),
            ],
            [
                LayerFile(
                    "var/lib/dpkg/status",
                    _status(("libc6", "2.36-9"), ("bash", "5.2-2"), ("curl", "7.88-1")),
                ),
                LayerFile("app/node_modules/left-pad/package.json", package),
            ],
            [
                LayerFile(
                    "var/lib/dpkg/status", _status(("libc6", "2.36-9+deb12u4"), ("bash", "5.2-2"))
                ),
                LayerFile("app/node_modules/.wh.left-pad"),
            ],
        ],
        os="linux",
    )
    (sbom,) = generate(reference)
    system = sbom.operating_system
    assert system is not None and (system.name, system.version) == ("debian", "12")
    debs = {(c.name, c.version): (c.layer, c.removed_by) for c in sbom.by_ecosystem("deb")}
    assert debs == {
        ("bash", "5.2-2"): (0, None),  # unchanged across snapshots: still its first layer
        ("libc6", "2.36-9"): (0, 2),  # upgraded by layer 2
        ("libc6", "2.36-9+deb12u4"): (2, None),
        ("curl", "7.88-1"): (1, 2),  # purged by layer 2
    }
    (left_pad,) = sbom.by_ecosystem("npm")
    assert (left_pad.layer, left_pad.removed_by, left_pad.licenses) == (1, 2, ("WTFPL",))
