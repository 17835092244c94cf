"""Entry point of the ``chainproof`` command: parse, dispatch, map errors to exit codes.

Each command lives in its own module under :mod:`chainproof.cli` exposing
``register(subparsers)``; the module sets ``handler`` (``args -> int``) as a default.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import TYPE_CHECKING

from chainproof._version import __version__
from chainproof.errors import Error

if TYPE_CHECKING:
    from collections.abc import Sequence

#: Command modules, in the order ``--help`` lists them.
COMMAND_MODULES = (
    "chainproof.cli.inspect_cmd",
    "chainproof.cli.verify_cmd",
    "chainproof.cli.policy_cmd",
    "chainproof.cli.demo_cmd",
    "chainproof.cli.lint_cmd",
    "chainproof.cli.keygen_cmd",
    "chainproof.cli.verify_bundle_cmd",
    "chainproof.cli.scan_cmd",
    "chainproof.cli.db_cmd",
    "chainproof.cli.audit_cmd",
    "chainproof.cli.sbom_cmd",
    "chainproof.cli.sign_cmd",
    "chainproof.cli.attest_cmd",
    "chainproof.cli.attestation_cmd",
)


class _Parser(argparse.ArgumentParser):
    """argparse already prints ``chainproof: error: …`` and exits 2; keep that contract."""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chainproof",
        description="Supply-chain verification for container images (Windows first-class).",
    )
    parser.add_argument("--version", action="version", version=f"chainproof {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks for errors (for bug reports)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except Error as exc:
        if args.debug:
            raise
        print(f"chainproof: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("chainproof: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if args.debug:
            raise
        # A bug, not bad input: still one line, and the way to get details.
        print(
            f"chainproof: error: internal error: {type(exc).__name__}: {exc} "
            "(run with --debug for a traceback)",
            file=sys.stderr,
        )
        return 2
    return code


def entry() -> None:  # pragma: no cover - console-script shim
    sys.exit(main())
