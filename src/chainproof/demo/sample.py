"""A small image in the Windows layer format, built from scratch (no network, no Docker)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chainproof.oci.layout_writer import LayerFile, LayoutWriter
from chainproof.windows.regf_writer import Key, write_hive

if TYPE_CHECKING:
    from pathlib import Path

SAMPLE_TAG = "ltsc2022"
SAMPLE_OS_VERSION = "10.0.20348.2227"


def _software_hive() -> bytes:
    """The base layer's SOFTWARE hive: what ``chainproof sbom`` reads the OS identity from."""
    root = Key("ROOT")
    root.child(r"Microsoft\Windows NT\CurrentVersion").values.update(
        CurrentBuildNumber="20348",
        CurrentBuild="20348",
        UBR=2227,
        EditionID="ServerDatacenter",
        InstallationType="Server Core",
        # What every Windows Server since 2016 says here: the product comes from the build.
        ProductName="Windows Server 2016 Datacenter",
        DisplayVersion="21H2",
    )
    root.child(r"Microsoft\NET Framework Setup\NDP\v4\Full").values.update(
        Release=528040, Version="4.8.04161"
    )
    packages = root.child(r"Microsoft\Windows\CurrentVersion\Component Based Servicing\Packages")
    packages.child("Package_for_RollupFix~31bf3856ad364e35~amd64~~20348.2227.1.10").values[
        "CurrentState"
    ] = 0x70
    return write_hive(root, r"\SystemRoot\System32\Config\SOFTWARE")


def _software_delta() -> bytes:
    """The app layer's delta: the program its installer registered."""
    root = Key("ROOT")
    root.child(r"Microsoft\Windows\CurrentVersion\Uninstall\SampleApp").values.update(
        DisplayName="Sample App", DisplayVersion="1.0.0", Publisher="chainproof"
    )
    return write_hive(root, r"SandboxState\Hives\Software_Delta", layered=True)


def _base_layer() -> list[LayerFile]:
    return [
        LayerFile("Files", kind="dir"),
        LayerFile("Files/Windows", kind="dir"),
        LayerFile("Files/Windows/System32", kind="dir"),
        LayerFile("Files/Windows/System32/config", kind="dir"),
        LayerFile("Files/Windows/System32/drivers/etc/hosts", b"127.0.0.1 localhost\r\n"),
        LayerFile(
            "Files/Windows/System32/WindowsPowerShell/v1.0/Modules/Sample/Sample.psd1",
            b"@{ ModuleVersion = '1.0.0'; GUID = '6b3c1d3e-0000-4000-8000-000000000001' }\r\n",
        ),
        LayerFile("Files/Windows/System32/config/SOFTWARE", _software_hive()),
        LayerFile("Hives", kind="dir"),
        LayerFile("Hives/SOFTWARE_BASE", _software_hive()),
        LayerFile("Hives/SYSTEM_BASE", write_hive(Key("ROOT", subkeys=[Key("ControlSet001")]))),
        LayerFile("UtilityVM/Files/EFI/Microsoft/Boot/bootmgfw.efi", b"MZ" + bytes(510)),
    ]


def _app_layer() -> list[LayerFile]:
    return [
        LayerFile("Files/app", kind="dir"),
        LayerFile("Files/app/app.dll", b"MZ" + bytes(1022)),
        LayerFile(
            "Files/app/app.deps.json",
            b'{"targets": {}, "libraries": {"Newtonsoft.Json/13.0.1": {"type": "package"}}}',
        ),
        # Deletes a base-layer file: an OCI whiteout inside the Windows Files/ tree.
        LayerFile("Files/Windows/System32/drivers/etc/.wh.hosts"),
        LayerFile("Hives/Software_Delta", _software_delta()),
    ]


def build_sample(root: Path) -> dict[str, Any]:
    """Write the sample as an OCI layout under ``root``; returns its manifest descriptor."""
    writer = LayoutWriter(root)
    base = writer.add_layer(_base_layer())
    app = writer.add_layer(_app_layer())
    descriptor = writer.add_image(
        [base, app],
        os="windows",
        os_version=SAMPLE_OS_VERSION,
        config={"User": "ContainerUser", "Entrypoint": ["C:\\app\\app.exe"]},
        history=[
            {"created": "2024-01-09T00:00:00Z", "created_by": "Apply image 10.0.20348.2227"},
            {
                "created": "2024-01-10T00:00:00Z",
                "created_by": r"cmd /S /C copy app C:\app && del "
                r"C:\Windows\System32\drivers\etc\hosts",
            },
        ],
        tag=SAMPLE_TAG,
    )
    writer.tag({**descriptor, "annotations": {"org.opencontainers.image.ref.name": SAMPLE_TAG}})
    return descriptor
