"""``chainproof sign IMAGE --key K``: a cosign signature (``sha256-<hex>.sig``) beside the image."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from chainproof._files import read_bounded
from chainproof.cli.common import add_format_option, add_image_options, open_options_from_args
from chainproof.errors import UsageError

#: Private key files are small; a larger file is not a key.
MAX_KEY_FILE_BYTES = 256 * 1024

if TYPE_CHECKING:
    import argparse
    from datetime import timedelta

    from cryptography import x509

    from chainproof.trust.keys.interface import Signer
    from chainproof.trust.keys.private import HybridSigningKey
    from chainproof.trust.publishing.publish import Published


def add_key_options(parser: argparse.ArgumentParser) -> None:
    from chainproof.cli.keygen_cmd import COSIGN_PASSWORD_ENV, PASSWORD_ENV

    parser.add_argument(
        "--key",
        required=True,
        metavar="KEY",
        help="private key: a cosign key file (encrypted; a hybrid key's PREFIX.mldsa.key is "
        "picked up beside PREFIX.key), a PEM private key (PKCS#8/SEC 1/PKCS#1, as notation "
        "uses), or a key URI (pkcs11:, hashivault://, openbao://, awskms://)",
    )
    parser.add_argument(
        "--password-file",
        metavar="FILE",
        help=f"read the key password from FILE (else ${PASSWORD_ENV} or ${COSIGN_PASSWORD_ENV}, "
        "else a prompt); never from the command line",
    )
    parser.add_argument(
        "--fips",
        action="store_true",
        help="refuse keys (and Notation certificates) outside FIPS 186-5 / FIPS 204",
    )


def fips_check(
    key: Signer | HybridSigningKey, certificates: tuple[x509.Certificate, ...] = ()
) -> None:
    """``--fips``: refuse a key or certificate outside FIPS 186-5/204 (exit 2, nothing written);
    warn when the crypto backend itself is not running a FIPS provider."""
    import sys

    from chainproof.trust.fips import backend_fips_enabled, certificate_refusal, refusal
    from chainproof.trust.keys.private import HybridSigningKey

    halves = [key.classic, key.pq] if isinstance(key, HybridSigningKey) else [key]
    for half in halves:
        if reason := refusal(half.public):
            raise UsageError(f"FIPS mode refuses the signing key: {reason}")
    for cert in certificates:
        if reason := certificate_refusal(cert):
            raise UsageError(f"FIPS mode refuses the {reason}")
    if not backend_fips_enabled():
        print(
            "chainproof: warning: FIPS mode: algorithms restricted, but the OpenSSL backend is "
            "not running a FIPS-validated provider",
            file=sys.stderr,
        )


def load_signing_key(uri: str, password_file: str | None) -> Signer | HybridSigningKey:
    """The signer ``--key`` names; fails (exit 2) before anything is written."""
    from chainproof.cli.keygen_cmd import read_password
    from chainproof.trust.keys.private import HybridSigningKey, decrypt_private_key
    from chainproof.trust.keys.registry import is_file_key, load_signer

    if not is_file_key(uri):
        return load_signer(uri)
    path = Path(uri.removeprefix("file://"))
    from chainproof.trust.keys.private import is_cosign_key, load_pem_private_key

    head = read_bounded(path, "key file", MAX_KEY_FILE_BYTES)
    if not is_cosign_key(head) and b"PRIVATE KEY-----" in head:
        # A plain PEM key; only an encrypted PKCS#8 one needs a password.
        encrypted = b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in head
        secret = read_password(password_file, confirm=False) if encrypted else None
        return load_pem_private_key(head, secret, str(path))
    password = read_password(password_file, confirm=False)
    classic = load_signer(uri, password)
    companion = path.with_name(path.name.removesuffix(".key") + ".mldsa.key")
    if path.name.endswith(".key") and companion.is_file():
        # keygen's hybrid pair: both halves sign, so the hybrid public key verifies.
        companion_key = read_bounded(companion, "key file", MAX_KEY_FILE_BYTES)
        pq = decrypt_private_key(companion_key, password, str(companion))
        return HybridSigningKey(classic, pq)
    return classic


def bundle_note(output_format: str) -> None:
    """What a reader of ``sign --bundle`` must know to verify what was written."""
    if output_format == "text":
        print(
            "note: the bundle has no transparency-log entry (chainproof signs offline): verify "
            "it with --insecure-ignore-tlog, as cosign does",
            file=sys.stderr,
        )


def render(written: list[Published], what: str, output_format: str) -> None:
    if output_format == "json":
        print(json.dumps([published.to_json() for published in written], indent=2))
        return
    for published in written:
        if published.placement == "referrer":
            print(
                f"{what} {published.subject}: {published.location} referrer "
                f"{published.digest.short()}"
            )
            continue
        print(
            f"{what} {published.subject}: {published.location} tag {published.tag} "
            f"({published.digest.short()}, {published.entries} in total)"
        )


def _annotations(values: list[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise UsageError(f"--annotation {value!r}: expected KEY=VALUE")
        result[key] = text
    return result


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sign",
        help="sign an image (cosign .sig tag, Sigstore bundle, Notation) in its registry or layout",
        description="Sign the digest IMAGE resolves to (the index of a multi-arch image) and "
        "write cosign's legacy signature manifest beside it: a registry repository (push "
        "access needed) or an OCI layout directory. An existing signature manifest gets one "
        "more layer, as cosign does. With --platform the selected platform's manifest is "
        "signed instead; with --all-platforms the index and every platform manifest "
        "(cosign's --recursive). --bundle writes a key-signed Sigstore bundle and --notation "
        "a Notation signature (with your --certificate chain) as OCI referrers instead.",
    )
    parser.add_argument("image", metavar="IMAGE")
    add_key_options(parser)
    parser.add_argument(
        "-a",
        "--annotation",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra claim in the signed payload's 'optional' section (repeatable)",
    )
    formats = parser.add_argument_group("signature format (default: cosign's .sig tag)")
    add_bundle_option(formats)
    formats.add_argument(
        "--notation",
        action="store_true",
        help="write a Notation (Notary Project) signature as a referrer; needs --certificate",
    )
    formats.add_argument(
        "--certificate",
        metavar="FILE",
        help="Notation: the signing certificate (PEM; may hold the whole chain, leaf first)",
    )
    formats.add_argument(
        "--certificate-chain",
        metavar="FILE",
        help="Notation: intermediates and root (PEM), when --certificate holds the leaf only",
    )
    formats.add_argument(
        "--signature-format",
        choices=("jws", "cose"),
        default="jws",
        help="Notation envelope (default jws, as notation; Microsoft's images use cose)",
    )
    formats.add_argument(
        "--expiry",
        metavar="DURATION",
        help="Notation: signature expiry after signing, e.g. 24h, 30m, 7d (default none)",
    )
    add_image_options(parser)
    add_format_option(parser)
    parser.set_defaults(handler=run)


def add_bundle_option(parser: argparse._ArgumentGroup | argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bundle",
        action="store_true",
        help="write a key-signed Sigstore bundle v0.3 as a referrer (cosign v3 "
        "--new-bundle-format without a transparency log; verify with --insecure-ignore-tlog)",
    )


def parse_duration(text: str) -> timedelta:
    """``90s``, ``30m``, ``24h``, ``7d`` (notation's --expiry)."""
    from datetime import timedelta

    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not number.isdigit() or int(number) <= 0:
        raise UsageError(f"--expiry {text!r}: expected a positive number and s, m, h or d")
    return timedelta(**{units[unit]: int(number)})


def single_key(key: Signer | HybridSigningKey, what: str) -> Signer:
    from chainproof.trust.keys.private import HybridSigningKey

    if isinstance(key, HybridSigningKey):
        raise UsageError(
            f"{what} cannot carry a hybrid ECDSA+ML-DSA signature; sign hybrid keys without "
            "--bundle/--notation (cosign's tag layout) or pass the classic key alone"
        )
    return key


def run(args: argparse.Namespace) -> int:
    from chainproof.trust.publishing.publish import (
        sign_reference,
        sign_reference_bundle,
        sign_reference_notation,
    )

    annotations = _annotations(args.annotation)
    if args.bundle and args.notation:
        raise UsageError("--bundle and --notation are different formats: choose one")
    notation_only = [
        flag
        for flag, value in (
            ("--certificate", args.certificate),
            ("--certificate-chain", args.certificate_chain),
            ("--expiry", args.expiry),
        )
        if value
    ]
    if notation_only and not args.notation:
        raise UsageError(f"{notation_only[0]} applies to --notation signatures only")
    if args.notation and not args.certificate:
        raise UsageError("--notation needs --certificate (the signing certificate chain)")
    if args.notation and annotations:
        raise UsageError("-a/--annotation has no place in a Notation signature")
    options = open_options_from_args(args)
    if args.notation:
        from chainproof.trust.notation.sign import NotationSigner, load_chain

        chain = load_chain(
            Path(args.certificate), Path(args.certificate_chain) if args.certificate_chain else None
        )
        expiry = parse_duration(args.expiry) if args.expiry else None
        key = single_key(load_signing_key(args.key, args.password_file), "a Notation signature")
        if args.fips:
            fips_check(key, chain)
        signer = NotationSigner(key, chain)
        published = sign_reference_notation(
            args.image, signer, options=options, envelope=args.signature_format, expiry=expiry
        )
    elif args.bundle:
        key = single_key(load_signing_key(args.key, args.password_file), "a Sigstore bundle")
        if args.fips:
            fips_check(key)
        published = sign_reference_bundle(args.image, key, options=options, annotations=annotations)
    else:
        any_key = load_signing_key(args.key, args.password_file)
        if args.fips:
            fips_check(any_key)
        published = sign_reference(args.image, any_key, options=options, annotations=annotations)
    render(published, "signed", args.format)
    if args.bundle:
        bundle_note(args.format)
    return 0
