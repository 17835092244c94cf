"""cosign- and notation-named options for signature verification, shared by commands.

``add_trust_options(parser)`` adds the flags; ``trust_flags(args)`` collects them for the
implicit command-line policy (:mod:`chainproof.policy.flags`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

    from chainproof.policy.flags import TrustFlags


def add_trust_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("signatures and attestations (cosign / notation names)")
    group.add_argument(
        "--key",
        action="append",
        default=[],
        metavar="KEY",
        help="public key to trust: a PEM file or key URI (repeatable)",
    )
    group.add_argument("--certificate-identity", metavar="SAN", help="keyless signer identity")
    group.add_argument(
        "--certificate-identity-regexp", metavar="RE", help="keyless signer identity (regex)"
    )
    group.add_argument("--certificate-oidc-issuer", metavar="URL", help="keyless OIDC issuer")
    group.add_argument(
        "--certificate-oidc-issuer-regexp", metavar="RE", help="keyless OIDC issuer (regex)"
    )
    group.add_argument(
        "--trusted-root", metavar="FILE", help="Sigstore trusted_root.json (Fulcio, Rekor, TSA)"
    )
    group.add_argument("--trust-policy", metavar="FILE", help="Notation trustpolicy.json")
    group.add_argument(
        "--trust-store",
        metavar="DIR",
        help="Notation trust store (default: truststore/ beside the trust policy)",
    )
    group.add_argument(
        "--threshold",
        type=int,
        default=1,
        metavar="N",
        help="distinct trusted signers required (default 1)",
    )
    group.add_argument(
        "--fips",
        action="store_true",
        help="accept only FIPS 186-5 / FIPS 204 signature algorithms",
    )
    group.add_argument(
        "--insecure-ignore-tlog",
        action="store_true",
        help="accept key-signed Sigstore bundles without a transparency-log entry (as cosign; "
        "proves the key signed, not when)",
    )
    group.add_argument(
        "--attestation-type",
        action="append",
        default=[],
        metavar="TYPE",
        help="predicate type (URI, or slsa-provenance-v1, cyclonedx, spdx, openvex) that "
        "must be attested (repeatable)",
    )


def trust_flags(args: argparse.Namespace) -> TrustFlags:
    """The verification flags as :class:`~chainproof.policy.flags.TrustFlags`."""
    from chainproof.policy.flags import TrustFlags

    return TrustFlags(
        keys=tuple(args.key),
        certificate_identity=args.certificate_identity or "",
        certificate_identity_regexp=args.certificate_identity_regexp or "",
        certificate_oidc_issuer=args.certificate_oidc_issuer or "",
        certificate_oidc_issuer_regexp=args.certificate_oidc_issuer_regexp or "",
        trusted_root=args.trusted_root or "",
        trust_policy=args.trust_policy or "",
        trust_store=args.trust_store or "",
        threshold=args.threshold,
        fips=bool(args.fips),
        insecure_ignore_tlog=bool(getattr(args, "insecure_ignore_tlog", False)),
        attestation_types=tuple(args.attestation_type),
    )
