"""``chainproof scan IMAGE``: the SBOM catalogers feed the matcher, in memory and via files.

The images are built with the layout writer in the Windows layer format: a SOFTWARE hive that
names the build, UBR and installation type, an installed shared .NET runtime, a self-contained
PowerShell 7.4.0 and an app whose deps.json declares things that are not on disk.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chainproof.cli.main import main
from chainproof.oci.layout_writer import LayerFile, LayoutWriter
from chainproof.windows.regf_writer import Key, write_hive

_CORELIB = b"MZ" + bytes(126)


def _software_hive(build: int, ubr: int, installation: str) -> bytes:
    root = Key("ROOT")
    root.child(r"Microsoft\Windows NT\CurrentVersion").values.update(
        CurrentBuildNumber=str(build),
        CurrentBuild=str(build),
        UBR=ubr,
        EditionID="ServerDatacenter",
        InstallationType=installation,
        ProductName="Windows Server 2016 Datacenter",
    )
    return write_hive(root, r"\SystemRoot\System32\Config\SOFTWARE")


def _deps(target: str, libraries: dict[str, tuple[str, dict[str, Any]]]) -> bytes:
    """A deps.json: ``libraries`` maps NAME/VERSION to (type, target entry)."""
    return json.dumps(
        {
            "runtimeTarget": {"name": target, "signature": ""},
            "targets": {target: {key: entry for key, (_, entry) in libraries.items()}},
            "libraries": {
                key: {"type": kind, "serviceable": kind == "package", "sha512": ""}
                for key, (kind, _) in libraries.items()
            },
        }
    ).encode()


def _pwsh_deps() -> bytes:
    # The shape of PowerShell's own pwsh.deps.json (fixtures/windows/dotnet), at 7.4.0 / .NET 8.0.0.
    return _deps(
        ".NETCoreApp,Version=v8.0/win7-x64",
        {
            "pwsh/7.4.0": ("project", {"runtime": {"pwsh.dll": {}}}),
            "runtimepack.Microsoft.NETCore.App.Runtime.win-x64/8.0.0": (
                "runtimepack",
                {"runtime": {"System.Private.CoreLib.dll": {}, "System.Runtime.dll": {}}},
            ),
            "Newtonsoft.Json/13.0.1": (
                "package",
                {"runtime": {"lib/net6.0/Newtonsoft.Json.dll": {}}},
            ),
        },
    )


def _app_deps() -> bytes:
    return _deps(
        ".NETCoreApp,Version=v8.0",
        {
            "app/1.0.0": ("project", {"runtime": {"app.dll": {}}}),
            "Newtonsoft.Json/12.0.3": (
                "package",
                {"runtime": {"lib/netstandard2.0/Newtonsoft.Json.dll": {}}},
            ),
            # Compile-time only (no runtime assets): nothing of it is loaded.
            "System.Text.Json/8.0.4": (
                "package",
                {"compile": {"lib/net8.0/System.Text.Json.dll": {}}},
            ),
            # Declared, but its files are not beside the deps.json: not shipped.
            "runtimepack.Microsoft.NETCore.App.Runtime.win-x64/7.0.0": (
                "runtimepack",
                {"runtime": {"System.Private.CoreLib.dll": {}}},
            ),
        },
    )


def _old_deps() -> bytes:
    return _deps(
        ".NETCoreApp,Version=v6.0",
        {"Newtonsoft.Json/9.0.1": ("package", {"runtime": {"lib/Newtonsoft.Json.dll": {}}})},
    )


def _windows_manifest(
    writer: LayoutWriter, *, ubr: int = 2159, installation: str = "Server Core", tag: str = ""
) -> dict[str, Any]:
    hive = _software_hive(20348, ubr, installation)
    base = writer.add_layer(
        [
            LayerFile("Files/Windows/System32/config/SOFTWARE", hive),
            LayerFile("Hives/SOFTWARE_BASE", hive),
            LayerFile(
                "Files/Program Files/dotnet/shared/Microsoft.NETCore.App/8.0.0/"
                "System.Private.CoreLib.dll",
                _CORELIB,
            ),
            LayerFile("Files/Program Files/PowerShell/7/pwsh.deps.json", _pwsh_deps()),
            LayerFile("Files/Program Files/PowerShell/7/System.Private.CoreLib.dll", _CORELIB),
            LayerFile("Files/old/old.deps.json", _old_deps()),
        ]
    )
    app = writer.add_layer(
        [
            LayerFile("Files/app/app.deps.json", _app_deps()),
            # Deleted by the app layer: not in a running container.
            LayerFile("Files/old/.wh.old.deps.json"),
        ]
    )
    return writer.add_image([base, app], os="windows", os_version=f"10.0.20348.{ubr}", tag=tag)


def build_image(root: Path, *, ubr: int = 2159, installation: str = "Server Core") -> str:
    writer = LayoutWriter(root)
    writer.tag(_windows_manifest(writer, ubr=ubr, installation=installation, tag="t"))
    return f"oci:{root}:t"


def _scan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["scan", "--format", "json", *argv])
    return code, json.loads(capsys.readouterr().out)


def _key(finding: dict[str, Any]) -> tuple[str, ...]:
    return (
        finding["kind"],
        finding["id"],
        finding["component"],
        finding["version"],
        finding["fixed"],
        finding["kb"],
        ",".join(finding["also"]),
    )


@pytest.fixture(scope="module")
def december_image(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_image(tmp_path_factory.mktemp("img") / "layout")


def test_scan_image_reports_windows_dotnet_powershell_and_nuget(
    december_image: str, fixture_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = _scan(capsys, "--db", str(fixture_db), december_image)
    assert code == 0
    assert report["target"].startswith(december_image.rsplit(":", 1)[0])
    findings = report["findings"]
    windows = [f for f in findings if f["kind"] == "windows"]
    assert windows
    assert {f["kb"] for f in windows} == {"KB5034129"}
    assert {f["fixed"] for f in windows} == {"10.0.20348.2227"}
    assert {f["component"] for f in windows} == {"Windows Server 2022 (Server Core installation)"}
    assert {f["version"] for f in windows} == {"10.0.20348.2159"}
    # The hive said Server Core: nothing was assumed.
    assert not [n for n in report["notes"] if "installation type unknown" in n]

    dotnet = [f for f in findings if f["kind"] == "dotnet"]
    # The shared runtime and PowerShell's bundled runtime pack are one .NET 8.0.0: once per CVE.
    assert sorted(f["id"] for f in dotnet) == ["CVE-2024-0056", "CVE-2024-0057", "CVE-2024-21319"]
    assert {f["fixed"] for f in dotnet} == {"8.0.1"}
    assert all(f["also"] for f in dotnet), dotnet
    # The app's runtime pack 7.0.0 is declared but not shipped: no .NET 7.0 findings.
    assert not [f for f in findings if f["version"] == "7.0.0"]

    powershell = [f for f in findings if f["kind"] == "powershell"]
    assert [(f["component"], f["version"], f["id"], f["fixed"]) for f in powershell] == [
        ("pwsh", "7.4.0", "CVE-2024-0057", "7.4.1")
    ]

    packages = [(f["component"], f["version"], f["id"], f["fixed"]) for f in findings]
    assert ("Newtonsoft.Json", "12.0.3", "CVE-2024-21907", "13.0.1") in packages
    assert not [p for p in packages if p[0] == "Newtonsoft.Json" and p[1] == "13.0.1"]
    # System.Text.Json 8.0.4 is in the GHSA range, but compile-time only in the deps.json.
    assert not [p for p in packages if p[0] == "System.Text.Json"]
    # Newtonsoft.Json 9.0.1 was deleted by a later layer.
    assert not [p for p in packages if p[1] == "9.0.1"]
    assert report["not_installed"] == 3


def test_sbom_files_give_the_same_findings_as_scan_image(
    december_image: str,
    fixture_db: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, direct = _scan(capsys, "--db", str(fixture_db), december_image)
    assert direct["findings"]
    for fmt in ("cyclonedx-json", "spdx-json"):
        sbom = tmp_path / f"sbom.{fmt}"
        assert main(["sbom", "--format", fmt, "-o", str(sbom), december_image]) == 0
        capsys.readouterr()
        _, via_file = _scan(capsys, "--db", str(fixture_db), "--sbom", str(sbom))
        assert sorted(map(_key, via_file["findings"])) == sorted(map(_key, direct["findings"])), fmt
        assert via_file["notes"] == direct["notes"], fmt
        assert via_file["not_installed"] == direct["not_installed"], fmt


@pytest.mark.parametrize(
    ("installation", "product"),
    [
        ("Server", "Windows Server 2022"),
        ("Nano Server", "Windows Server 2022 (Server Core installation)"),
    ],
)
def test_installation_type_from_the_hive_picks_the_msrc_product(
    installation: str,
    product: str,
    fixture_db: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    image = build_image(tmp_path / "layout", installation=installation)
    _, report = _scan(capsys, "--db", str(fixture_db), image)
    assert {f["component"] for f in report["findings"] if f["kind"] == "windows"} == {product}


def test_patched_build_and_exit_codes(
    fixture_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    patched = build_image(tmp_path / "patched", ubr=2227)
    code, report = _scan(capsys, "--db", str(fixture_db), "--fail-on", "high", patched)
    assert not [f for f in report["findings"] if f["kind"] == "windows"]
    # Newtonsoft.Json 12.0.3 (high) is still there.
    assert code == 1
    # The fixture's stated boundary: .2226 still needs KB5034129, .2227 is it.
    last_unpatched = build_image(tmp_path / "2226", ubr=2226)
    _, report = _scan(capsys, "--db", str(fixture_db), last_unpatched)
    assert {f["kb"] for f in report["findings"] if f["kind"] == "windows"} == {"KB5034129"}
    unpatched = build_image(tmp_path / "unpatched")
    assert main(["scan", "--db", str(fixture_db), "--fail-on", "critical", unpatched]) == 1
    table = capsys.readouterr().out
    assert "KB5034129 (10.0.20348.2227)" in table
    assert main(["scan", "--db", str(fixture_db), "--format", "sarif", unpatched]) == 0
    sarif = json.loads(capsys.readouterr().out)
    assert any("KB5034129" in r["message"]["text"] for r in sarif["runs"][0]["results"])


def test_scan_needs_exactly_one_input(
    december_image: str, fixture_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", "--db", str(fixture_db)]) == 2
    assert "exactly one" in capsys.readouterr().err
    both = ["scan", "--db", str(fixture_db), "--sbom", str(tmp_path / "x.json"), december_image]
    assert main(both) == 2
    capsys.readouterr()
    # A missing database is reported before any layer is read.
    assert main(["scan", "--db", str(tmp_path / "none.db"), december_image]) == 2
    assert "none.db" in capsys.readouterr().err


def test_powershell_named_by_deps_json_and_pe_resources_is_one_identity(
    fixture_db: Path,
) -> None:
    from chainproof.vuln.db import AdvisoryDB
    from chainproof.vuln.matcher import Matcher
    from chainproof.vuln.sbom_input import SbomComponent

    with AdvisoryDB(fixture_db) as db:
        result = Matcher(db).match(
            [
                SbomComponent("pwsh", "7.4.0", type="application"),
                # pwsh.exe's version resource, as the PE cataloger reports it.
                SbomComponent("PowerShell", "7.4.0 SHA: 0123abcd", type="application"),
            ]
        )
    assert [(f.kind, f.vuln_id, f.fixed, f.also) for f in result.findings] == [
        ("powershell", "CVE-2024-0057", "7.4.1", ("PowerShell@7.4.0",))
    ]


def test_multi_platform_index(
    fixture_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    writer = LayoutWriter(tmp_path / "layout")
    linux = writer.add_image(
        [writer.add_layer([LayerFile("etc/os-release", b"ID=debian\nVERSION_ID=12\n")])],
        os="linux",
    )
    writer.tag(writer.add_index([_windows_manifest(writer), linux], tag="multi"))
    image = f"oci:{tmp_path / 'layout'}:multi"
    db = ["--db", str(fixture_db)]
    code, report = _scan(capsys, *db, "--platform", "windows/amd64", image)
    assert code == 0 and "windows/amd64" in report["target"]
    assert {f["kb"] for f in report["findings"] if f["kind"] == "windows"} == {"KB5034129"}
    assert main(["scan", *db, "--all-platforms", image]) == 0
    tables = capsys.readouterr().out
    assert "(windows/amd64" in tables and "(linux/amd64)" in tables
    assert main(["scan", *db, "--all-platforms", "--format", "json", image]) == 2
    assert "--platform" in capsys.readouterr().err
