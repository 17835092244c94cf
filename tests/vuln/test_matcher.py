from __future__ import annotations

import pytest

from chainproof.checks.interface import Severity
from chainproof.vuln.db import AdvisoryDB
from chainproof.vuln.matcher import Matcher
from chainproof.vuln.sbom_input import SbomComponent, read_sbom

from .conftest import DATA

JAN_2022_CORE_CVES = 36


def _os(version: str, installation: str = "", name: str = "windows") -> SbomComponent:
    props = (("chainproof:windows:installation", installation),) if installation else ()
    return SbomComponent(name, version, type="operating-system", properties=props)


@pytest.mark.parametrize(
    ("version", "installation", "count", "kb", "fixed"),
    [
        ("10.0.20348.2159", "Server Core", 36, "KB5034129", "10.0.20348.2227"),
        ("10.0.20348.2226", "Server Core", 36, "KB5034129", "10.0.20348.2227"),
        ("10.0.20348.2227", "Server Core", 0, None, None),
        ("10.0.20348.2340", "Server Core", 0, None, None),
        ("10.0.17763.5328", "Server Core", 33, "KB5034127", "10.0.17763.5329"),
        ("10.0.25398.584", "Server Core", 35, "KB5034130", "10.0.25398.643"),
        ("10.0.20348.2159", "Nano Server", 36, "KB5034129", "10.0.20348.2227"),
    ],
)
def test_windows_os(  # noqa: PLR0917 - one parameter per table column
    db: AdvisoryDB, version: str, installation: str, count: int, kb: str | None, fixed: str | None
) -> None:
    result = Matcher(db).match([_os(version, installation)])
    assert len(result.findings) == count
    if count:
        assert {(f.kb, f.fixed, f.kind) for f in result.findings} == {(kb, fixed, "windows")}
        assert all(f.version == version for f in result.findings)


def test_full_server_uses_the_full_server_product(db: AdvisoryDB) -> None:
    core = {f.vuln_id for f in Matcher(db).match([_os("10.0.20348.2159", "Server Core")]).findings}
    full = Matcher(db).match([_os("10.0.20348.2159", "Server")]).findings
    assert {f.component for f in full} == {"Windows Server 2022"}
    # Desktop Experience carries every Server Core component and more.
    assert core <= {f.vuln_id for f in full}


def test_unknown_installation_is_assumed_core_and_said(db: AdvisoryDB) -> None:
    result = Matcher(db).match([_os("10.0.20348.2159")])
    assert len(result.findings) == JAN_2022_CORE_CVES
    assert any("installation type unknown" in n for n in result.notes)


def test_unknown_build_is_a_note(db: AdvisoryDB) -> None:
    result = Matcher(db).match([_os("10.0.99999.1", "Server Core")])
    assert result.findings == []
    assert "not a Windows Server release" in result.notes[0]


@pytest.mark.parametrize(
    ("version", "vulnerable"),
    [
        ("6.0.4", True),
        ("12.0.3", True),
        ("9.0.1", True),
        ("13.0.1", False),
        ("13.0.3", False),
        ("13.0.4", False),
    ],
)
def test_newtonsoft_json(db: AdvisoryDB, version: str, vulnerable: bool) -> None:
    component = SbomComponent(
        "Newtonsoft.Json", version, purl=f"pkg:nuget/Newtonsoft.Json@{version}"
    )
    findings = Matcher(db).match([component]).findings
    assert [(f.vuln_id, f.fixed) for f in findings] == (
        [("CVE-2024-21907", "13.0.1")] if vulnerable else []
    )
    if vulnerable:
        assert set(findings[0].ids) == {"GHSA-5crp-9r3c-p9vr", "CVE-2024-21907"}
        assert findings[0].severity is Severity.HIGH


@pytest.mark.parametrize(
    ("version", "fixed"),
    [("8.0.4", "8.0.5"), ("6.0.9", "6.0.10"), ("8.0.5", None), ("7.0.0", None)],
)
def test_system_text_json_two_ranges(db: AdvisoryDB, version: str, fixed: str | None) -> None:
    c = SbomComponent("System.Text.Json", version, purl=f"pkg:nuget/system.text.json@{version}")
    findings = Matcher(db).match([c]).findings
    assert [f.fixed for f in findings] == ([fixed] if fixed else [])


def test_dotnet_runtime_is_counted_once_and_undeployed_packs_ignored(db: AdvisoryDB) -> None:
    components = read_sbom(DATA / "chainproof-nanoserver.cdx.json")
    result = Matcher(db).match(components)
    dotnet = [f for f in result.findings if f.kind == "dotnet"]
    cves = [f.vuln_id for f in dotnet]
    assert len(cves) == len(set(cves)) == 3  # three .NET 8.0 CVEs in January 2024
    assert {(f.fixed, f.kb) for f in dotnet} == {("8.0.1", "KB5033741")}
    # the runtime pack in deps.json and the shared framework are one runtime
    assert all(
        f.also == ("runtimepack.Microsoft.NETCore.App.Runtime.win-x64@8.0.0",) for f in dotnet
    )
    # the WindowsDesktop pack is declared but not installed: never matched
    assert result.not_installed == 1
    assert not any("WindowsDesktop" in f.component for f in result.findings)
    pwsh = [f for f in result.findings if f.kind == "powershell"]
    assert [(f.vuln_id, f.fixed) for f in pwsh] == [("CVE-2024-0057", "7.4.1")]
    windows = [f for f in result.findings if f.kind == "windows"]
    assert len(windows) == 36 and not result.notes  # Nano Server given explicitly
    assert not any(f.component == "Newtonsoft.Json" for f in result.findings)


def test_distro_packages_by_source_name_and_release(db: AdvisoryDB) -> None:
    def deb(distro: str) -> SbomComponent:
        return SbomComponent(
            "libssl3",
            "3.0.11-1~deb12u1",
            purl=f"pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64&upstream=openssl&distro={distro}",
        )

    found = Matcher(db).match([deb("debian-12")]).findings
    assert [(f.vuln_id, f.fixed, f.severity) for f in found] == [
        ("CVE-0000-0001", "3.0.13-1~deb12u1", Severity.MEDIUM)
    ]
    # Debian 11's fixed version is lower than the installed one: not affected there.
    assert Matcher(db).match([deb("debian-11")]).findings == []


def test_pypi_versions_list_ranges_and_git(db: AdvisoryDB) -> None:
    result = Matcher(db).match(read_sbom(DATA / "syft-debian.spdx.json"))
    by_name = {f.component: f for f in result.findings}
    assert by_name["requests"].fixed == "2.31.0"
    assert by_name["requests"].vuln_id == "CVE-0000-0002"
    assert by_name["requests"].severity is Severity.MEDIUM  # from the CVSS 3.1 vector (4.2)
    assert by_name["Requests_Toolbelt"].fixed == ""  # last_affected: no fix known
    assert "libssl3" in by_name


def test_trivy_windows_sbom(db: AdvisoryDB) -> None:
    result = Matcher(db).match(read_sbom(DATA / "trivy-windows-servercore.cdx.json"))
    kinds = [f.kind for f in result.findings]
    assert kinds.count("windows") == 36
    packages = sorted((f.component, f.version) for f in result.findings if f.kind == "package")
    assert packages == [("Newtonsoft.Json", "9.0.1"), ("System.Text.Json", "8.0.4")]


@pytest.mark.parametrize(
    ("purl", "expected"),
    [
        ("pkg:nuget/Newtonsoft.Json@13.0.1", ("NuGet", "Newtonsoft.Json", "", "")),
        (
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            ("Maven", "org.apache.logging.log4j:log4j-core", "", ""),
        ),
        (
            "pkg:golang/github.com/gorilla/websocket@v1.4.0",
            ("Go", "github.com/gorilla/websocket", "", ""),
        ),
        ("pkg:npm/%40babel/core@7.0.0", ("npm", "@babel/core", "", "")),
        (
            "pkg:apk/alpine/libcrypto3@3.1.4-r0?arch=x86_64&distro=alpine-3.19.0",
            ("Alpine", "libcrypto3", "3.19.0", ""),
        ),
        (
            "pkg:deb/debian/libssl3@3.0.11?upstream=openssl%403.0.11&distro=debian-12",
            ("Debian", "libssl3", "12", "openssl"),
        ),
        ("pkg:generic/thing@1", None),
        ("not a purl", None),
    ],
)
def test_purl_to_osv_package(purl: str, expected: tuple[str, str, str, str] | None) -> None:
    from chainproof.vuln.matcher import package_ref

    ref = package_ref(SbomComponent("x", "1", purl=purl))
    assert (
        None if ref is None else (ref.ecosystem, ref.name, ref.release, ref.source_name)
    ) == expected
