""".NET Framework 4.x CVEs on Server Core images: real CVRF rows, hives written by hivexsh,
a real .NET Framework 4.8.1 ``System.dll`` (tests/vuln/data/dotnet-framework/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainproof.oci.layout_writer import LayerFile
from chainproof.vuln import dotnet_framework as netfx
from chainproof.vuln.msrc import MsrcCvrfFeed
from chainproof.vuln.scan import scan_image
from chainproof.windows.pe import version_info
from tests.conftest import MSRC_MONTHS
from tests.hivex import software_base
from tests.sbom.helpers import write_image
from tests.vuln.conftest import DATA

SYSTEM_DLL = DATA / "dotnet-framework" / "System.dll"
FRAMEWORK64 = "Files/Windows/Microsoft.NET/Framework64/v4.0.30319"
ROLLUP_481 = "Package_for_DotNetRollup_481~31bf3856ad364e35~amd64~~10.0.{}.1"
ROLLUP_48 = "Package_for_DotNetRollup~31bf3856ad364e35~amd64~~10.0.{}.2"
NDP_481 = (533325, "4.8.09032")  # Release and Version of 4.8.1 on Server 2022
NDP_48 = (528449, "4.8.04161")
JANUARY = {"CVE-2024-0056", "CVE-2024-0057", "CVE-2024-21312"}  # KB5034272
OCTOBER = {"CVE-2024-43483", "CVE-2024-43484"}  # KB5044099
NOVEMBER = {"CVE-2023-36560", "CVE-2023-36049"}  # KB5032336


def test_product_names_and_fixed_builds_of_real_rows() -> None:
    batch = MsrcCvrfFeed().parse((MSRC_MONTHS / "cvrf-2024-Oct.xml").read_bytes(), "oct")
    rows = {
        (f.product_name, f.fixed_build, f.framework_line, f.framework_build, f.os_product)
        for f in batch.windows_fixes
        if f.kind == "dotnet-framework" and f.cve == "CVE-2024-43483"
    }
    core = "Windows Server 2022 (Server Core installation)"
    assert (
        f"Microsoft .NET Framework 3.5 AND 4.8.1 on {core}",
        "4.8.1.9277.03",
        "4.8.1",
        9277,
        core,
    ) in rows
    assert (
        f"Microsoft .NET Framework 3.5 AND 4.8 on {core}",
        "4.8.04762.02",
        "4.8",
        4762,
        core,
    ) in rows


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("4.8.4465.0", "4.8", 4465),
        ("3.5.04556.03", "4.8", 4556),
        ("10.0.04614.06", "4.8", 4614),
        ("04590.02", "4.8", 4590),
        ("4.8.1.9256.03", "4.8.1", 9256),
        ("3.0.50727.8976", "4.6.2-4.7.2", None),
    ],
)
def test_fixed_build_spellings_msrc_used(text: str, line: str, expected: int | None) -> None:
    product = netfx.FrameworkProduct(line, "Windows Server 2022", 20348)
    fix = netfx.parse_fix(text, product)
    assert (fix.framework_build if isinstance(fix, netfx.FrameworkFix) else None) == expected


def test_os_build_fixes() -> None:
    on_2016 = netfx.parse_product(
        "Microsoft .NET Framework 3.5 AND 4.7.2 on Windows Server 2016  (Server Core installation)"
    )
    assert on_2016 == netfx.FrameworkProduct(
        "4.6.2-4.7.2", "Windows Server 2016 (Server Core installation)", 14393
    )
    assert netfx.parse_fix("10.0.14393.6614", on_2016) == netfx.FrameworkFix(None, 14393, 6614)
    # 2023-Jun: a Server 2016 OS build given for "3.5 AND 4.8 on Windows Server 2022".
    on_2022 = netfx.FrameworkProduct("4.8", "Windows Server 2022", 20348)
    assert "not the 20348" in str(netfx.parse_fix("10.0.14393.5989", on_2022))
    assert netfx.parse_product("Microsoft .NET Framework 4.8 on Windows 10 Version 21H2") is None


def test_real_system_dll_version_resource() -> None:
    fields = version_info(SYSTEM_DLL.read_bytes(), "System.dll")
    assert fields["FileVersion"] == "4.8.9321.0 built by: NET481REL1LAST_25H2_B"
    assert netfx.version_build("4.8.1", fields["FileVersion"]) == 9321
    assert netfx.version_build("4.8", fields["FileVersion"]) is None  # a 4.8.1 build


def _image(
    shared: Path,
    tmp: Path,
    *,
    ndp: tuple[int, str] | None,
    packages: tuple[str, ...],
    system_dll: bool = False,
    os_version: str = "10.0.20348.2227",
) -> str:
    hives = tmp / "hives"
    hives.mkdir(parents=True)
    hive = software_base(
        shared, hives, ubr=int(os_version.rsplit(".", 1)[1]), ndp=ndp, packages=packages
    )
    base = [LayerFile("Files", kind="dir"), LayerFile("Hives/SOFTWARE_BASE", hive.read_bytes())]
    if system_dll:
        sxs = "Files/Windows/WinSxS/msil_system_b77a5c561934e089_4.0.15912.321_none_0/System.dll"
        base += [
            LayerFile(sxs, SYSTEM_DLL.read_bytes()),
            # Real layers hard-link the Microsoft.NET copy to WinSxS.
            LayerFile(f"{FRAMEWORK64}/System.dll", kind="hardlink", target=sxs),
        ]
    return write_image(tmp / "image", [base], os_version=os_version)


def _framework_findings(reference: str, db: Path) -> dict[str, tuple[str, str, str]]:
    (result,) = scan_image(reference, db)
    return {
        f.vuln_id: (f.kb, f.fixed, f.version)
        for f in result.result.findings
        if f.kind == "dotnet-framework"
    }


@pytest.mark.integration
def test_481_level_from_the_cbs_package(
    shared_fixtures: Path, tmp_path: Path, months_db: Path
) -> None:
    reference = _image(
        shared_fixtures,
        tmp_path,
        ndp=NDP_481,
        packages=(ROLLUP_481.format(9186), ROLLUP_481.format(9206)),
    )
    found = _framework_findings(reference, months_db)
    assert set(found) == JANUARY | OCTOBER  # November 2023's 9206 is installed
    assert found["CVE-2024-0056"] == ("KB5034272", "4.8.9214", "4.8.9206")
    assert found["CVE-2024-43483"] == ("KB5044099", "4.8.9277", "4.8.9206")


@pytest.mark.integration
def test_481_level_from_the_file_version(
    shared_fixtures: Path, tmp_path: Path, months_db: Path
) -> None:
    reference = _image(
        shared_fixtures,
        tmp_path,
        ndp=NDP_481,
        packages=(ROLLUP_481.format(9206),),
        system_dll=True,
    )
    (result,) = scan_image(reference, months_db)
    # System.dll 4.8.9321 (through its WinSxS hard link) is above every 4.8.1 fix here.
    assert not [f for f in result.result.findings if f.kind == "dotnet-framework"]
    assert any(f.kind == "windows" for f in result.result.findings)  # the OS still matches


@pytest.mark.integration
def test_48_line_and_nothing_without_the_framework(
    shared_fixtures: Path, tmp_path: Path, months_db: Path
) -> None:
    reference = _image(
        shared_fixtures, tmp_path / "a", ndp=NDP_48, packages=(ROLLUP_48.format(4690),)
    )
    found = _framework_findings(reference, months_db)
    assert set(found) == OCTOBER
    assert found["CVE-2024-43484"] == ("KB5044099", "4.8.4762", "4.8.4690")
    # Only the NDP Version: the line's release build, every fix of the line is reported.
    bare = _image(shared_fixtures, tmp_path / "b", ndp=NDP_48, packages=())
    assert set(_framework_findings(bare, months_db)) >= JANUARY | OCTOBER | NOVEMBER
    # Nano Server has no .NET Framework: no NDP key, no findings.
    nano = _image(shared_fixtures, tmp_path / "c", ndp=None, packages=())
    assert _framework_findings(nano, months_db) == {}


def test_level_rule() -> None:
    level = netfx.image_level(
        533325,
        "4.8.09032",
        [
            ("DotNetRollup_481", "10.0.9206.1"),
            ("DotNetRollup", "10.0.4690.2"),
            ("RollupFix", "20348.2227.1.10"),
        ],
        [("System.dll", "4.8.9321.0 built by: NET481REL1LAST_25H2_B"), ("clr.dll", "4.8.4690.0")],
    )
    assert level is not None
    assert (level.line, level.build) == ("4.8.1", 9321)
    assert any("newer than every installed" in n for n in level.notes)
    assert any("clr.dll 4.8.4690.0" in n for n in level.notes)  # a 4.8 file on a 4.8.1 image
    assert netfx.image_level(379893, "4.5.2", [], []) is None
