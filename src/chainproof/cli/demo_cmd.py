"""``chainproof demo``: the main job on an embedded Windows-format sample."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chainproof.demo.run import DemoResult


def _signature(verdict: Any) -> str:
    check = next((c for c in verdict.checks if c.id == "signature.verified"), None)
    return f"{check.status}: {check.message}" if check is not None else "(no signature check)"


def _signing_json(result: DemoResult) -> dict[str, Any] | None:
    signing = result.signing
    if signing is None:
        return None
    return {
        "tag": signing.tag,
        "signed": signing.signed.to_json(),
        "wrong_key": signing.wrong_key.to_json(),
        "tampered": signing.tampered.to_json(),
        "steps": [
            {"title": s.title, "passed": s.passed, "detail": s.detail} for s in signing.steps
        ],
        "as_expected": signing.as_expected,
    }


def _print_signing(result: DemoResult) -> None:
    signing = result.signing
    if signing is None:
        return
    print("== 2b. sign: ephemeral ECDSA-P256 key, cosign layout (tag " + signing.tag + ") ==")
    print(f"  verify with the key:           {_signature(signing.signed)}")
    print(f"  verify with an unrelated key:  {_signature(signing.wrong_key)}")
    print(f"  tampered copy (tag re-pointed): {_signature(signing.tampered)}")
    for step in signing.steps:
        mark = "ok " if step.passed else "BAD"
        print(f"  [{mark}] in memory, {step.title}: {step.detail}")
    print()


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="build a sample Windows-format image, verify it, corrupt a blob, verify again; "
        "sign it with an ephemeral key, verify, and show a wrong key and a tampered copy failing",
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
                    "signing": _signing_json(result),
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
        _print_signing(result)
        print("== 3. lint: the sample's Dockerfile (with a few Windows mistakes) ==")
        print(lint_render.text(linted.dockerfile))
        print()
        print("== 4. lint: the sample image's history and config (no Dockerfile needed) ==")
        print(lint_render.text(linted.history))
        print()
        outcome = "as expected" if result.as_expected else "NOT as expected"
        intact, corrupted = result.intact.verdict, result.corrupted.verdict
        signing = ""
        if result.signing is not None:
            signing = ", signature " + ("as expected" if result.signing.as_expected else "NOT ok")
        print(f"demo: intact image {intact}, corrupted copy {corrupted}{signing} ({outcome})")
    return 0 if result.as_expected else 1
