"""``chainproof demo``: the main job on an embedded Windows-format sample."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chainproof.sbom.model import Sbom


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo", help="build a sample Windows-format image, verify it, corrupt a blob, verify again"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from chainproof.demo.run import run_demo
    from chainproof.report import verdict as render

    result = run_demo()
    if args.format == "json":
        print(
            json.dumps(
                {
                    "intact": result.intact.to_json(),
                    "corrupted": result.corrupted.to_json(),
                    "corrupted_blob": str(result.corrupted_blob),
                    "as_expected": result.as_expected,
                    "sbom": _sbom_json(result.sbom),
                },
                indent=2,
            )
        )
    else:
        print("== 1. the sample Windows image (os windows, Files/ and Hives/ layers), intact ==")
        print(render.to_text(result.intact, verbose=True))
        print()
        print(
            f"== 2. the same image with one byte of blob {result.corrupted_blob.short()} flipped =="
        )
        print(render.to_text(result.corrupted))
        if result.sbom is not None:
            from chainproof.sbom.table import render_table

            print()
            print("== 3. what is inside the intact image (chainproof sbom) ==")
            print(render_table(result.sbom), end="")
        print()
        outcome = "as expected" if result.as_expected else "NOT as expected"
        intact, corrupted = result.intact.verdict, result.corrupted.verdict
        print(f"demo: intact image {intact}, corrupted copy {corrupted} ({outcome})")
    return 0 if result.as_expected else 1


def _sbom_json(sbom: Sbom | None) -> dict[str, object] | None:
    if sbom is None:
        return None
    from chainproof.sbom.table import os_summary

    system = sbom.operating_system
    return {
        "os": os_summary(system) if system is not None else None,
        "components": [
            {"ecosystem": c.ecosystem, "name": c.name, "version": c.version, "layer": c.layer}
            for c in sbom.components
        ],
        "warnings": list(sbom.warnings),
    }
