"""Build images and run catalogers for the SBOM tests."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from chainproof.layers.walker import View
from chainproof.oci.digest import Digest
from chainproof.oci.layout_writer import LayerFile, LayoutWriter
from chainproof.oci.model import parse_config
from chainproof.sbom.interface import CatalogContext, Content, FoundFile, evidence_for

if TYPE_CHECKING:
    from pathlib import Path

    from chainproof.oci.model import ImageConfig
    from chainproof.sbom.interface import Cataloger
    from chainproof.sbom.model import Component


def config(os: str = "windows", os_version: str = "10.0.20348.2227") -> ImageConfig:
    raw = json.dumps(
        {"os": os, "os.version": os_version, "rootfs": {"type": "layers", "diff_ids": []}}
    ).encode()
    return parse_config(raw, Digest.of(raw))


def run_files(
    cataloger: Cataloger,
    files: list[tuple[str, bytes]],
    *,
    view: View = View.FILES,
    windows: bool = True,
    one_layer: bool = False,
) -> tuple[list[Component], list[str]]:
    """Feed files to one cataloger as the builder would (file N in layer N unless
    ``one_layer``); returns (components, warnings)."""
    for index, (path, data) in enumerate(files):
        layer = 0 if one_layer else index
        found = FoundFile(layer, view, path, evidence_for(view, path), len(data))
        cataloger.add(found, Content(data))
    context = CatalogContext(config() if windows else config("linux", ""), windows, len(files))
    components = list(cataloger.finish(context))
    return components, context.warnings


def write_image(
    root: Path,
    layers: list[list[LayerFile]],
    *,
    os: str = "windows",
    os_version: str = "10.0.20348.2227",
    tag: str = "test",
) -> str:
    writer = LayoutWriter(root)
    added = [writer.add_layer(files) for files in layers]
    descriptor = writer.add_image(
        added,
        os=os,
        os_version=os_version if os == "windows" else "",
        history=[
            {"created": "2024-01-09T00:00:00Z", "created_by": f"layer {i}"}
            for i in range(len(layers))
        ],
        tag=tag,
    )
    writer.tag(descriptor)
    return f"oci:{root}:{tag}"
