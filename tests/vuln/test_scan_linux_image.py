"""Linux images through the SBOM catalogers into the matcher: distro source packages, Go."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chainproof.cli.main import main
from chainproof.oci.layout_writer import LayerFile, LayoutWriter
from chainproof.vuln.db import AdvisoryDB
from chainproof.vuln.load import parse_bytes
from chainproof.vuln.matcher import Matcher
from chainproof.vuln.sbom_input import SbomComponent

_DPKG = b"""Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 3.0.11-1~deb12u2

Package: openssl
Status: install ok installed
Architecture: amd64
Version: 3.0.11-1~deb12u2
"""

_APK = b"""C:Q1abc=
P:libcrypto3
V:3.1.4-r1
A:x86_64
o:openssl

C:Q1def=
P:busybox
V:1.36.1-r15
A:x86_64
o:busybox
"""


def _osv(record_id: str, ecosystem: str, name: str, fixed: str, kind: str = "ECOSYSTEM") -> bytes:
    return json.dumps(
        {
            "schema_version": "1.6.0",
            "id": record_id,
            "modified": "2024-01-10T00:00:00Z",
            "aliases": [],
            "affected": [
                {
                    "package": {"ecosystem": ecosystem, "name": name},
                    "ranges": [{"type": kind, "events": [{"introduced": "0"}, {"fixed": fixed}]}],
                }
            ],
        }
    ).encode()


def _debian_image(root: Path) -> str:
    writer = LayoutWriter(root)
    layer = writer.add_layer(
        [
            LayerFile("etc/os-release", b'ID=debian\nVERSION_ID="12"\nNAME="Debian GNU/Linux"\n'),
            LayerFile("var/lib/dpkg/status", _DPKG),
        ]
    )
    writer.tag(writer.add_image([layer], os="linux", tag="t"))
    return f"oci:{root}:t"


def _findings(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, Any]]:
    assert main(["scan", "--format", "json", *argv]) == 0
    findings: list[dict[str, Any]] = json.loads(capsys.readouterr().out)["findings"]
    return findings


def test_debian_binary_packages_match_their_source_package(
    fixture_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = _debian_image(tmp_path / "layout")
    direct = _findings(capsys, "--db", str(fixture_db), image)
    # TEST-DEB-0001 names the source package openssl (Debian:12); libssl3 is built from it.
    assert sorted((f["component"], f["id"], f["fixed"]) for f in direct) == [
        ("libssl3", "CVE-0000-0001", "3.0.13-1~deb12u1"),
        ("openssl", "CVE-0000-0001", "3.0.13-1~deb12u1"),
    ]
    sbom = tmp_path / "sbom.cdx.json"
    assert main(["sbom", "--format", "cyclonedx-json", "-o", str(sbom), image]) == 0
    capsys.readouterr()
    via_file = _findings(capsys, "--db", str(fixture_db), "--sbom", str(sbom))
    assert [(f["component"], f["id"]) for f in via_file] == [
        (f["component"], f["id"]) for f in direct
    ]


def test_alpine_origin_and_go_toolchain_versions(tmp_path: Path) -> None:
    db_path = tmp_path / "a.db"
    with AdvisoryDB(db_path) as db:
        db.import_batches(
            [
                (parse_bytes(_osv("TEST-APK-1", "Alpine:v3.19", "openssl", "3.1.4-r3"), "a"), "a"),
                (parse_bytes(_osv("TEST-GO-1", "Go", "stdlib", "1.21.6", "SEMVER"), "g"), "g"),
            ]
        )
        # As chainproof's apk and Go catalogers write them.
        components = [
            SbomComponent(
                "libcrypto3",
                "3.1.4-r1",
                "pkg:apk/alpine/libcrypto3@3.1.4-r1?arch=x86_64&distro=alpine-3.19.0",
                properties=(("chainproof:apk:origin", "openssl"),),
            ),
            SbomComponent("stdlib", "go1.21.5", "pkg:golang/stdlib@go1.21.5"),
            SbomComponent("stdlib", "go1.21.6", "pkg:golang/stdlib@go1.21.6"),
        ]
        result = Matcher(db).match(components)
    assert sorted((f.component, f.version, f.vuln_id, f.fixed) for f in result.findings) == [
        ("libcrypto3", "3.1.4-r1", "TEST-APK-1", "3.1.4-r3"),
        ("stdlib", "1.21.5", "TEST-GO-1", "1.21.6"),
    ]


def test_alpine_image_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db_path = tmp_path / "a.db"
    with AdvisoryDB(db_path) as db:
        db.import_batches(
            [(parse_bytes(_osv("TEST-APK-1", "Alpine:v3.19", "openssl", "3.1.4-r3"), "a"), "a")]
        )
    writer = LayoutWriter(tmp_path / "layout")
    layer = writer.add_layer(
        [
            LayerFile("etc/os-release", b"ID=alpine\nVERSION_ID=3.19.0\n"),
            LayerFile("lib/apk/db/installed", _APK),
        ]
    )
    writer.tag(writer.add_image([layer], os="linux", tag="t"))
    findings = _findings(capsys, "--db", str(db_path), f"oci:{tmp_path / 'layout'}:t")
    assert [(f["component"], f["id"]) for f in findings] == [("libcrypto3", "TEST-APK-1")]


def test_rpm_distributions_as_chainproofs_rpm_cataloger_names_them(tmp_path: Path) -> None:
    records = [
        ("TEST-RH-9", "Red Hat:enterprise_linux:9::appstream", "openssl", "1:3.0.7-27.el9"),
        ("TEST-RH-8", "Red Hat:enterprise_linux:8::baseos", "openssl", "1:9.9.9-1.el8"),
        ("TEST-SLES", "SUSE:Linux Enterprise Server 15 SP5", "libopenssl3", "3.0.8-150500.5.14.1"),
        ("TEST-LEAP", "openSUSE:Leap 15.5", "curl", "8.0.1-150400.5.41.1"),
    ]
    db_path = tmp_path / "a.db"
    with AdvisoryDB(db_path) as db:
        db.import_batches(
            [(parse_bytes(_osv(i, eco, name, fixed), i), i) for i, eco, name, fixed in records]
        )

        def rpm(distro: str, name: str, version: str, epoch: str = "") -> SbomComponent:
            os_id = distro.rpartition("-")[0]
            return SbomComponent(
                name,
                version,
                f"pkg:rpm/{os_id}/{name}@{version}?arch=x86_64&distro={distro}",
                properties=(("chainproof:rpm:epoch", epoch),) if epoch else (),
            )

        result = Matcher(db).match(
            [
                rpm("rhel-9.3", "openssl", "3.0.7-24.el9", epoch="1"),
                # Patched: only the epoch keeps it above the fix (0:3.0.7-28 < 1:3.0.7-27).
                rpm("rhel-9.4", "openssl", "3.0.7-28.el9", epoch="1"),
                rpm("sles-15.5", "libopenssl3", "3.0.8-150500.5.8.1"),
                rpm("sles-15.4", "libopenssl3", "3.0.8-150400.4.1"),
                rpm("opensuse-leap-15.5", "curl", "8.0.1-150400.5.32.1"),
            ]
        )
    assert sorted((f.vuln_id, f.version) for f in result.findings) == [
        ("TEST-LEAP", "8.0.1-150400.5.32.1"),
        ("TEST-RH-9", "1:3.0.7-24.el9"),
        ("TEST-SLES", "3.0.8-150500.5.8.1"),
    ]
