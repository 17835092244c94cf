"""A small image in the Windows layer format, built from scratch (no network, no Docker)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chainproof.oci.layout_writer import LayerFile, LayoutWriter

if TYPE_CHECKING:
    from pathlib import Path

SAMPLE_TAG = "ltsc2022"
SAMPLE_OS_VERSION = "10.0.20348.2227"


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
        LayerFile("Files/Windows/System32/config/SOFTWARE", b"regf" + bytes(4092)),
        LayerFile("Hives", kind="dir"),
        LayerFile("Hives/SOFTWARE_BASE", b"regf" + bytes(4092)),
        LayerFile("Hives/SYSTEM_BASE", b"regf" + bytes(4092)),
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
        LayerFile("Hives/Software_Delta", b"regf" + bytes(4092)),
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
