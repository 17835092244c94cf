"""``chainproof lint DOCKERFILE... | --image IMAGE``: Dockerfile and image-history linting."""

from __future__ import annotations

import argparse
from typing import Any

from chainproof.cli import common
from chainproof.errors import UsageError


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "lint",
        help="lint Dockerfiles or an image's history (PowerShell and cmd aware)",
        description="Lint Dockerfiles, or an image's config and history with --image.",
    )
    parser.add_argument("dockerfiles", nargs="*", metavar="DOCKERFILE")
    parser.add_argument("--image", metavar="IMAGE", help="lint an image's history instead")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    parser.add_argument("--config", metavar="FILE", help="lint config (TOML)")
    parser.add_argument(
        "--fail-on",
        choices=("critical", "high", "medium", "low", "info"),
        help="exit 1 when a finding is at or above this severity (default: config, else low)",
    )
    # --platform narrows an index; without it every platform's history is linted.
    common.add_image_options(parser)
    parser.set_defaults(handler=run)


def _image_findings(args: argparse.Namespace, config: Any) -> tuple[list[Any], list[str]]:
    from dataclasses import replace

    from chainproof.lint import lint_history
    from chainproof.oci.open import open_target

    reference = args.image
    options = common.open_options_from_args(args)
    if not options.platform:
        options = replace(options, all_platforms=True)
    source, target = open_target(reference, options)
    try:
        findings: list[Any] = []
        names: list[str] = []
        for image in target.images:
            name = f"{reference}@{image.digest}" if len(target.images) > 1 else reference
            names.append(name)
            findings += lint_history(image.config, config, name=name)
        return findings, names
    finally:
        source.close()


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from chainproof.checks.interface import Severity
    from chainproof.lint import LintConfig, lint_file, load_config, render

    if bool(args.dockerfiles) == bool(args.image):
        raise UsageError("give either DOCKERFILE paths or --image IMAGE")
    config = load_config(args.config) if args.config else LintConfig()
    if args.fail_on:
        config = replace(config, fail_on=Severity(args.fail_on))
    if args.image:
        findings, files = _image_findings(args, config)
    else:
        findings = []
        for path in args.dockerfiles:
            findings += lint_file(path, config)
        files = list(args.dockerfiles)
    if args.format == "json":
        print(render.dumps(render.to_json(findings, files)))
    elif args.format == "sarif":
        print(render.dumps(render.sarif(findings)))
    else:
        print(render.text(findings))
    return 1 if render.at_or_above(findings, config.fail_on) else 0
