"""``chainproof verify-bundle``: one Sigstore bundle against a file or digest, offline.

The command line follows sigstore-conformance's client protocol (and ``cosign verify-blob``)::

    chainproof verify-bundle --bundle B (--certificate-identity I --certificate-oidc-issuer U
        | --key K) [--trusted-root T] FILE|sha256:HEX
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from chainproof.errors import NotFoundError, SignatureError, UsageError

if TYPE_CHECKING:
    import argparse

    from chainproof.trust.interface import IdentityRule
    from chainproof.trust.keys.model import VerificationKey


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "verify-bundle",
        help="verify a Sigstore bundle over a file or digest, offline",
        description="Verify a Sigstore bundle (v0.1-v0.3) against a trusted_root.json.",
    )
    parser.add_argument("artifact", metavar="FILE|sha256:HEX", help="what the bundle must sign")
    parser.add_argument(
        "--bundle", required=True, metavar="FILE", help="the bundle (.sigstore.json)"
    )
    parser.add_argument(
        "--trusted-root",
        metavar="FILE",
        help="trusted_root.json (required unless --key with --insecure-ignore-tlog)",
    )
    parser.add_argument(
        "--insecure-ignore-tlog",
        action="store_true",
        help="accept a key-signed bundle without a transparency-log entry (as cosign)",
    )
    parser.add_argument("--key", action="append", default=[], metavar="KEY", help="managed key")
    parser.add_argument("--certificate-identity", metavar="SAN")
    parser.add_argument("--certificate-identity-regexp", metavar="RE")
    parser.add_argument("--certificate-oidc-issuer", metavar="URL")
    parser.add_argument("--certificate-oidc-issuer-regexp", metavar="RE")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(handler=run)


def _artifact(text: str) -> tuple[bytes | None, bytes | None]:
    """(artifact bytes, sha256) from a path or ``sha256:HEX``."""
    if text.startswith("sha256:"):
        try:
            digest = bytes.fromhex(text.removeprefix("sha256:"))
        except ValueError:
            raise UsageError(f"{text!r} is not a sha256 digest") from None
        if len(digest) != 32:
            raise UsageError(f"{text!r} is not a sha256 digest")
        return None, digest
    try:
        return Path(text).read_bytes(), None
    except OSError as exc:
        raise NotFoundError(f"artifact {text}: {exc.strerror}") from None


def _trust(
    args: argparse.Namespace,
) -> tuple[tuple[VerificationKey, ...], tuple[IdentityRule, ...]]:
    """Keys and keyless identities from the flags, validated by the policy model's rules."""
    from pydantic import ValidationError

    from chainproof.policy.model import KeylessIdentity
    from chainproof.trust.interface import IdentityRule
    from chainproof.trust.keys.registry import load_key

    keys = tuple(load_key(k) for k in args.key)
    given = {
        "identity": args.certificate_identity,
        "identity_regex": args.certificate_identity_regexp,
        "issuer": args.certificate_oidc_issuer,
        "issuer_regex": args.certificate_oidc_issuer_regexp,
    }
    given = {k: v for k, v in given.items() if v}
    if not given:
        return keys, ()
    try:
        spec = KeylessIdentity.model_validate(given)
    except ValidationError as exc:
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise UsageError(
            f"keyless verification: {message} (--certificate-identity[-regexp], "
            "--certificate-oidc-issuer[-regexp])"
        ) from None
    rule = IdentityRule(
        spec.identity or "", spec.identity_regex or "", spec.issuer or "", spec.issuer_regex or ""
    )
    return keys, (rule,)


def run(args: argparse.Namespace) -> int:
    from chainproof._files import read_bounded
    from chainproof.trust.sigstore.bundle import MAX_BUNDLE_BYTES, verify_bundle
    from chainproof.trust.sigstore.verifier import load_trusted_root

    keys, identities = _trust(args)
    if not keys and not identities:
        raise UsageError("give --key or --certificate-identity[-regexp] with an issuer")
    artifact, digest = _artifact(args.artifact)
    data = read_bounded(args.bundle, "bundle", MAX_BUNDLE_BYTES)
    if args.trusted_root is None and not (args.insecure_ignore_tlog and keys):
        raise UsageError("--trusted-root is required (unless --key with --insecure-ignore-tlog)")
    root = load_trusted_root(Path(args.trusted_root)) if args.trusted_root else None
    try:
        result = verify_bundle(
            data,
            root,
            artifact=artifact,
            artifact_sha256=digest,
            identities=identities,
            keys=keys,
            ignore_tlog=args.insecure_ignore_tlog,
        )
    except SignatureError as exc:
        _print(args.format, {"verified": False, "reason": str(exc)})
        return 1
    sha256 = digest if digest is not None else hashlib.sha256(artifact or b"").digest()
    _print(
        args.format,
        {
            "verified": True,
            "signer": result.signer,
            "content": result.content,
            "artifact": f"sha256:{sha256.hex()}",
            "predicate_type": result.statement.predicate_type if result.statement else "",
        },
    )
    return 0


def _print(fmt: str, outcome: dict[str, object]) -> None:
    if fmt == "json":
        print(json.dumps(outcome, indent=2))
    elif outcome["verified"]:
        print(f"Verified OK: {outcome['content']} signed by {outcome['signer']}")
    else:
        print(f"Verification FAILED: {outcome['reason']}", file=sys.stderr)
