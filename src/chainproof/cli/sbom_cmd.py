"""``chainproof sbom IMAGE``: catalog what is inside an image (Windows and Linux)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from chainproof.cli.common import (
    add_image_options,
    layer_progress,
    open_options_from_args,
    write_output,
)

if TYPE_CHECKING:
    from chainproof.sbom.model import Sbom

FORMATS = ("cyclonedx-json", "spdx-json", "table")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sbom",
        help="software bill of materials of an image (CycloneDX, SPDX, table)",
        description="Catalog the components of an image, with the layer that introduced each.",
    )
    parser.add_argument("image", metavar="IMAGE")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically)")
    add_image_options(parser)
    parser.set_defaults(handler=run)


def render(sbom: Sbom, fmt: str, created: str = "") -> str:
    if fmt == "cyclonedx-json":
        from chainproof.sbom.cyclonedx import to_cyclonedx

        return to_cyclonedx(sbom, created)
    if fmt == "spdx-json":
        from chainproof.sbom.spdx import to_spdx

        return to_spdx(sbom, created)
    from chainproof.sbom.table import render_table

    return render_table(sbom)


def run(args: argparse.Namespace) -> int:
    from chainproof.errors import UsageError
    from chainproof.oci.open import open_target
    from chainproof.sbom.catalog import sbom_for_image

    source, target = open_target(args.image, open_options_from_args(args))
    with source, layer_progress(True) as progress:
        sboms = [
            (sbom_for_image(source, image, target.reference, progress), image)
            for image in target.images
        ]
    if len(sboms) > 1 and args.format != "table":
        raise UsageError("several platforms selected: pick one with --platform for a JSON SBOM")
    text = "\n".join(render(sbom, args.format, image.config.created) for sbom, image in sboms)
    write_output(text, args.output)
    return 0
