"""``chainproof demo``: the main job on an embedded Windows-format sample."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo", help="build a sample Windows-format image, verify it, corrupt a blob, verify again"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from chainproof.demo.lint import lint_sample
    from chainproof.demo.run import run_demo
    from chainproof.lint import render as lint_render
    from chainproof.report import verdict as render

    result = run_demo()
    linted = lint_sample()
    if args.format == "json":
        print(
            json.dumps(
                {
                    "intact": result.intact.to_json(),
                    "corrupted": result.corrupted.to_json(),
                    "corrupted_blob": str(result.corrupted_blob),
                    "as_expected": result.as_expected,
                    "lint": {
                        "dockerfile": [f.to_json() for f in linted.dockerfile],
                        "history": [f.to_json() for f in linted.history],
                    },
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
        print()
        print("== 3. lint: the sample's Dockerfile (with a few Windows mistakes) ==")
        print(lint_render.text(linted.dockerfile))
        print()
        print("== 4. lint: the sample image's history and config (no Dockerfile needed) ==")
        print(lint_render.text(linted.history))
        print()
        outcome = "as expected" if result.as_expected else "NOT as expected"
        intact, corrupted = result.intact.verdict, result.corrupted.verdict
        print(f"demo: intact image {intact}, corrupted copy {corrupted} ({outcome})")
    return 0 if result.as_expected else 1
