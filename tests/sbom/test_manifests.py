"""Real Windows image configs and manifests (foreign MCR base layers not available here)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from chainproof.oci import mediatypes as mt
from chainproof.oci.layout_writer import LayoutWriter
from chainproof.sbom.catalog import generate

if TYPE_CHECKING:
    from pathlib import Path

MANIFESTS = "windows/image-manifests"


def _layout(shared: Path, tmp: Path, name: str) -> str:
    """A layout holding the real config and the real layer descriptors (blobs absent)."""
    config = (shared / MANIFESTS / f"{name}.config.json").read_bytes()
    original = json.loads((shared / MANIFESTS / f"{name}.manifest.json").read_bytes())
    writer = LayoutWriter(tmp / name)
    config_descriptor = writer.add_blob(config, original["config"]["mediaType"])
    manifest = {**original, "config": config_descriptor}
    descriptor = writer.add_blob(json.dumps(manifest).encode(), mt.DOCKER_MANIFEST)
    writer.tag({**descriptor, "annotations": {"org.opencontainers.image.ref.name": "t"}})
    return f"oci:{tmp / name}:t"


@pytest.mark.parametrize(
    "case",
    [
        (
            "dotnet-framework-runtime-4.8-ltsc2022",
            "10.0.20348.473",
            "Windows Server 2022",
            "KB5010796",
        ),
        (
            "lippertmarkus_test-crane_1.0-1909",
            "10.0.18363.1556",
            "Windows Server, version 1909",
            "KB5003169",
        ),
    ],
)
def test_real_config_os_identity(
    shared_fixtures: Path, tmp_path: Path, case: tuple[str, str, str, str]
) -> None:
    name, version, product, kb = case
    (sbom,) = generate(_layout(shared_fixtures, tmp_path, name))
    system = sbom.operating_system
    assert system is not None
    assert (system.name, system.version) == (product, version)
    assert system.property("chainproof:windows:cumulative-update") == kb
    assert system.property("chainproof:windows:source") == "config"
    # The MCR base layers are foreign and not in the layout: said, not hidden.
    assert "foreign layer, https://mcr.microsoft.com/v2/windows/" in sbom.warnings[0]
    assert "components are missing" in sbom.warnings[0]
