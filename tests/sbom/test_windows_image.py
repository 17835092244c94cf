"""Whole Windows-format images: hives written by hivexsh, real manifests, one layer pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainproof.oci.layout_writer import LayerFile
from chainproof.sbom.catalog import generate
from chainproof.sbom.cyclonedx import to_cyclonedx, to_cyclonedx_library
from chainproof.sbom.model import ComponentType, Sbom
from chainproof.sbom.spdx import to_spdx, to_spdx_library
from tests.hivex import software_base, software_delta
from tests.sbom.helpers import write_image

SXS_PSREADLINE = (
    "Files/Windows/WinSxS/amd64_microsoft-windows-psreadline_31bf3856ad364e35_10.0.20348.1_none/"
    "PSReadLine.psd1"
)
PS51_MODULES = "Files/Windows/System32/WindowsPowerShell/v1.0/Modules"


def _launcher() -> bytes:
    import pip

    path = Path(pip.__file__).parent / "_vendor" / "distlib" / "t64.exe"
    if not path.is_file():
        pytest.skip("pip's distlib launcher t64.exe is not available")
    return path.read_bytes()


def _image(shared: Path, tmp: Path, os_version: str) -> str:
    hives = tmp / "hives"
    hives.mkdir()
    base = software_base(shared, hives).read_bytes()
    delta = software_delta(shared, hives).read_bytes()
    ps = shared / "windows/powershell-modules"
    dotnet = shared / "windows/dotnet"
    base_layer = [
        LayerFile("Files", kind="dir"),
        LayerFile("Files/Windows/System32/config/SOFTWARE", base),
        LayerFile("Hives/SOFTWARE_BASE", base),
        LayerFile(SXS_PSREADLINE, (ps / "PSReadLine.psd1").read_bytes()),
        LayerFile(
            f"{PS51_MODULES}/PSReadLine/PSReadLine.psd1", kind="hardlink", target=SXS_PSREADLINE
        ),
        LayerFile(
            f"{PS51_MODULES}/PSReadLine/en-US/PSReadLine.psd1",
            b"ConvertFrom-StringData @'\na=b\n'@",
        ),
        LayerFile("Files/Windows/System32/ntdll.dll", _launcher()),
        LayerFile("Files/Windows/System32/notepad.exe", b"MZ not cataloged: OS file"),
    ]
    update_layer = [LayerFile("Hives/Software_Delta", delta)]
    app_layer = [
        LayerFile("Files/app/pwsh.deps.json", (dotnet / "pwsh.deps.json").read_bytes()),
        LayerFile(
            "Files/app/pwsh.runtimeconfig.json", (dotnet / "pwsh.runtimeconfig.json").read_bytes()
        ),
        LayerFile(
            "Files/app/old.deps.json", (dotnet / "trivy/datacollector.deps.json").read_bytes()
        ),
        LayerFile("Files/app/truncated.deps.json", b'{"libraries": {"A/1'),
        LayerFile("Files/app/launcher.exe", _launcher()),
        LayerFile("Files/app/broken.dll", b"MZ" + bytes(64)),
        LayerFile(
            "Files/Program Files/PowerShell/Modules/PowerShellGet/2.2.5/PowerShellGet.psd1",
            (ps / "PowerShellGet.psd1").read_bytes(),
        ),
        LayerFile(
            "Files/Program Files/PowerShell/Modules/Evil/Evil.psd1",
            b"@{ ModuleVersion = (Get-Date) }",
        ),
    ]
    cleanup_layer = [
        LayerFile("Files/app/.wh.old.deps.json"),
        LayerFile(
            "Files/Program Files/dotnet/shared/Microsoft.NETCore.App/8.0.1/coreclr.dll", b"MZ"
        ),
    ]
    return write_image(
        tmp / "image", [base_layer, update_layer, app_layer, cleanup_layer], os_version=os_version
    )


def _sbom(shared: Path, tmp: Path, os_version: str) -> Sbom:
    (sbom,) = generate(_image(shared, tmp, os_version))
    return sbom


def _one(sbom: Sbom, ecosystem: str, name: str) -> object:
    matches = [c for c in sbom.components if c.ecosystem == ecosystem and c.name == name]
    assert len(matches) == 1, (ecosystem, name, matches)
    return matches[0]


@pytest.mark.integration
def test_windows_image_sbom(shared_fixtures: Path, tmp_path: Path) -> None:
    sbom = _sbom(shared_fixtures, tmp_path, "10.0.20348.2340")
    system = sbom.operating_system
    assert system is not None
    assert (system.name, system.version, system.layer) == (
        "Windows Server 2022",
        "10.0.20348.2340",
        0,
    )
    assert system.warnings == ()  # config and merged hive agree
    props = dict(system.properties)
    assert props["chainproof:windows:cumulative-update"] == "KB5035857"
    assert props["chainproof:windows:edition"] == "ServerDatacenter"
    assert props["chainproof:windows:installation-type"] == "Server Core"
    assert props["chainproof:windows:registry-ubr"] == "2340"  # from the layer 1 delta
    assert props["chainproof:windows:registry-product-name"] == "Windows Server 2016 Datacenter"
    assert props["chainproof:windows:current-version-changed-by-layers"] == "1"
    # The first base hive read is used (config\SOFTWARE precedes Hives\SOFTWARE_BASE here).
    assert system.evidence == ("C:\\Windows\\System32\\config\\SOFTWARE", "Hives\\Software_Delta")

    updates = {(c.name, c.version, c.layer) for c in sbom.by_ecosystem("windows-update")}
    assert updates == {("RollupFix", "20348.2227.1.10", 0), ("RollupFix", "20348.2340.1.10", 1)}
    programs = {c.name: c for c in sbom.by_ecosystem("windows-program")}
    assert programs["GitKraken"].removed_by == 1  # tombstoned by the delta
    assert (programs["7-Zip 23.01 (x64)"].layer, programs["7-Zip 23.01 (x64)"].supplier) == (
        1,
        "Igor Pavlov",
    )
    assert (
        programs["Microsoft Visual C++ 2015 x86 Runtime"].property("chainproof:windows:wow6432node")
        == "true"
    )
    onedrive = programs["Microsoft OneDrive"]
    assert (onedrive.version, onedrive.layer) == ("24.010.0114.0003", 0)
    assert onedrive.property("chainproof:windows:registry-changed-by-layers") == "1"
    framework = _one(sbom, "dotnet-framework", ".NET Framework")
    assert framework.version == "4.8.04161"  # type: ignore[attr-defined]
    assert framework.property("chainproof:windows:ndp-release-version") == "4.8"  # type: ignore[attr-defined]

    psreadline = _one(sbom, "powershell", "PSReadLine")
    assert psreadline.version == "2.4.5" and psreadline.layer == 0  # type: ignore[attr-defined]
    assert psreadline.evidence[0].endswith("Modules\\PSReadLine\\PSReadLine.psd1")  # type: ignore[attr-defined]
    assert psreadline.property("chainproof:powershell:signed") == "true"  # type: ignore[attr-defined]
    powershellget = _one(sbom, "powershell", "PowerShellGet")
    assert powershellget.purl == "pkg:nuget/PowerShellGet@2.2.5"  # type: ignore[attr-defined]

    newtonsoft = {
        (c.version, c.layer, c.removed_by) for c in sbom.components if c.name == "Newtonsoft.Json"
    }
    assert newtonsoft == {("13.0.4", 2, None), ("9.0.1", 2, 3)}  # old.deps.json whited out
    runtimes = {(c.name, c.version, c.cataloger) for c in sbom.by_ecosystem("dotnet-runtime")}
    assert ("Microsoft.NETCore.App", "8.0.1", "dotnet-shared-runtime") in runtimes
    assert (
        "Microsoft.NETCore.App",
        "11.0.0-preview.3.26207.106",
        "dotnet-runtimeconfig",
    ) in runtimes
    launcher = _one(sbom, "pe", "Simple Launcher")
    assert launcher.supplier == "Simple Launcher User"  # type: ignore[attr-defined]
    ntdll = _one(sbom, "pe", "ntdll.dll")
    assert ntdll.type == ComponentType.FILE  # type: ignore[attr-defined]
    # Our stand-in ntdll.dll is not a Windows build: the cross-check says so.
    assert any("differs from the config's os.version build 20348" in w for w in ntdll.warnings)  # type: ignore[attr-defined]
    assert not any(c.name == "notepad.exe" for c in sbom.components)

    assert any("truncated.deps.json" in w for w in sbom.warnings)
    assert any("Evil.psd1" in w and "not a PowerShell data file" in w for w in sbom.warnings)
    assert any("broken.dll" in w for w in sbom.warnings)
    assert not any("en-US" in w for w in sbom.warnings)  # string tables are not manifests

    # The direct CycloneDX writer gives the library's document, byte for byte, and it is
    # schema-valid (ADR 0013).
    direct = to_cyclonedx(sbom, "2024-01-09T00:00:00Z", validate=True)
    assert direct == to_cyclonedx_library(sbom, "2024-01-09T00:00:00Z", validate=True)
    spdx = to_spdx(sbom, "2024-01-09T00:00:00Z", validate=True)
    assert spdx == to_spdx_library(sbom, "2024-01-09T00:00:00Z")


@pytest.mark.integration
def test_config_and_hive_disagreement_is_reported(shared_fixtures: Path, tmp_path: Path) -> None:
    sbom = _sbom(shared_fixtures, tmp_path, "10.0.20348.2227")
    system = sbom.operating_system
    assert system is not None and system.version == "10.0.20348.2227"
    assert any("disagrees with the SOFTWARE hive" in w and "UBR 2340" in w for w in system.warnings)


def test_windows_image_without_hives(tmp_path: Path) -> None:
    reference = write_image(
        tmp_path / "img", [[LayerFile("Files/app/x.txt", b"x")]], os_version="10.0.17763.5329"
    )
    (sbom,) = generate(reference)
    system = sbom.operating_system
    assert system is not None
    assert (system.name, system.version, system.layer) == (
        "Windows Server 2019",
        "10.0.17763.5329",
        None,
    )
    assert system.property("chainproof:windows:cumulative-update") == "KB5034127"
    assert system.property("chainproof:windows:source") == "config"
    assert any("no SOFTWARE hive" in w for w in system.warnings)


def test_corrupt_hive_is_a_warning_on_the_os(tmp_path: Path) -> None:
    reference = write_image(
        tmp_path / "img",
        [[LayerFile("Hives/SOFTWARE_BASE", b"regf" + bytes(8188))]],
        os_version="10.0.20348.473",
    )
    (sbom,) = generate(reference)
    system = sbom.operating_system
    assert system is not None and system.version == "10.0.20348.473"
    assert system.property("chainproof:windows:cumulative-update") == "KB5010796"
    assert any("SOFTWARE hive unreadable" in w for w in system.warnings)
