"""``chainproof demo``: the main job on an embedded Windows-format sample.

Each capability contributes one section: a title, its text, and its JSON. The demo passes
(exit 0) only if every section behaved as it should.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chainproof.demo.run import SigningResult
    from chainproof.sbom.model import Sbom


@dataclass(frozen=True)
class Section:
    title: str
    text: str
    key: str
    data: Any
    ok: bool = True


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="build a sample Windows-format image and walk through what chainproof checks "
        "(integrity, signing, lint, vulnerabilities, audit)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--write-sample",
        metavar="DIR",
        help="only write the sample image as an OCI layout at DIR (tag ltsc2022), to try the "
        "other commands on (the README's tour starts so)",
    )
    parser.set_defaults(handler=run)


def _signature(verdict: Any) -> str:
    check = next((c for c in verdict.checks if c.id == "signature.verified"), None)
    return f"{check.status}: {check.message}" if check is not None else "(no signature check)"


def _signing_section(signing: SigningResult) -> Section:
    lines = [
        f"signed a copy with an ephemeral ECDSA-P256 key: tag {signing.tag}",
        f"  verify with the key:             {_signature(signing.signed)}",
        f"  verify with an unrelated key:    {_signature(signing.wrong_key)}",
        f"  tampered copy (tag re-pointed):  {_signature(signing.tampered)}",
        *(
            f"  [{'ok ' if step.passed else 'BAD'}] in memory, {step.title}: {step.detail}"
            for step in signing.steps
        ),
    ]
    data = {
        "tag": signing.tag,
        "signed": signing.signed.to_json(),
        "wrong_key": signing.wrong_key.to_json(),
        "tampered": signing.tampered.to_json(),
        "steps": [
            {"title": s.title, "passed": s.passed, "detail": s.detail} for s in signing.steps
        ],
        "as_expected": signing.as_expected,
    }
    return Section(
        "sign: cosign signature with a fresh key, verified; a wrong key and a tampered copy fail",
        "\n".join(lines),
        "signing",
        data,
        signing.as_expected,
    )


def _sections(work: Path) -> tuple[list[Section], dict[str, Any]]:
    from chainproof.audit.demo import demonstrate
    from chainproof.demo.lint import lint_sample
    from chainproof.demo.run import run_demo
    from chainproof.lint import render as lint_render
    from chainproof.report import text as render
    from chainproof.sbom.table import render_table
    from chainproof.vuln.sample import render_demo

    result = run_demo()
    linted = lint_sample()
    audit_lines: list[str] = []
    audit_ok = demonstrate([result.intact, result.corrupted], audit_lines.append)
    blob = result.corrupted_blob.short()
    sections = [
        Section(
            "the sample Windows image (os windows, Files/ and Hives/ layers), intact",
            render.to_text(result.intact, verbose=True),
            "intact",
            result.intact.to_json(),
            result.intact.passed,
        ),
        Section(
            f"the same image with one byte of blob {blob} flipped",
            render.to_text(result.corrupted),
            "corrupted",
            result.corrupted.to_json(),
            result.as_expected,
        ),
        *([_signing_section(result.signing)] if result.signing is not None else []),
        Section(
            "what is inside the intact image (chainproof sbom: OS build, KB, components)",
            render_table(result.sbom).rstrip("\n") if result.sbom is not None else "(none)",
            "sbom",
            _sbom_json(result.sbom),
            result.sbom is not None and result.sbom.operating_system is not None,
        ),
        Section(
            "lint: the sample's Dockerfile (with a few Windows mistakes)",
            lint_render.text(linted.dockerfile),
            "lint",
            {
                "dockerfile": [f.to_json() for f in linted.dockerfile],
                "history": [f.to_json() for f in linted.history],
            },
            bool(linted.dockerfile),
        ),
        Section(
            "lint: the sample image's history and config (no Dockerfile needed)",
            lint_render.text(linted.history),
            "lint_history",
            len(linted.history),
        ),
        Section(
            "vulnerabilities: Windows OS CVEs by build, from Microsoft's own update data",
            render_demo(work / "vuln"),
            "vulnerabilities",
            "sample database",
        ),
        Section(
            "audit: both verdicts in a tamper-evident log, then an edit caught",
            "\n".join(audit_lines),
            "audit",
            {"edit_detected": audit_ok, "log": audit_lines},
            audit_ok,
        ),
    ]
    extra = {"corrupted_blob": str(result.corrupted_blob), "as_expected": result.as_expected}
    return sections, extra


def _write_sample(target: Path) -> int:
    import shutil

    from chainproof.demo.sample import SAMPLE_TAG, build_sample
    from chainproof.errors import UsageError

    if target.exists() or target.is_symlink():
        raise UsageError(f"{target} exists; --write-sample creates a new directory")
    # Built beside the target and renamed: a failure leaves no half-written layout.
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        descriptor = build_sample(scratch / "layout")
        (scratch / "layout").rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"wrote the sample image to {target} (oci:{target}:{SAMPLE_TAG}, {descriptor['digest']})")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.write_sample:
        return _write_sample(Path(args.write_sample))
    with tempfile.TemporaryDirectory(prefix="chainproof-demo-") as scratch:
        sections, extra = _sections(Path(scratch))
    ok = all(s.ok for s in sections)
    if args.format == "json":
        document = {s.key: s.data for s in sections if s.key != "lint_history"}
        print(json.dumps({**document, **extra, "demo_ok": ok}, indent=2))
    else:
        for number, section in enumerate(sections, 1):
            print(f"== {number}. {section.title} ==")
            print(section.text)
            print()
        print(f"demo: {'every step behaved as expected' if ok else 'NOT as expected'}")
    return 0 if ok else 1


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
