"""``chainproof sign IMAGE --key K``: a cosign signature (``sha256-<hex>.sig``) beside the image."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from chainproof.cli.common import add_format_option, add_image_options, open_options_from_args
from chainproof.errors import NotFoundError, UsageError

if TYPE_CHECKING:
    import argparse

    from chainproof.trust.interface import Signer
    from chainproof.trust.publish import Published
    from chainproof.trust.signing import HybridSigningKey


def add_key_options(parser: argparse.ArgumentParser) -> None:
    from chainproof.cli.keygen_cmd import COSIGN_PASSWORD_ENV, PASSWORD_ENV

    parser.add_argument(
        "--key",
        required=True,
        metavar="KEY",
        help="private key: a cosign key file (encrypted; a hybrid key's PREFIX.mldsa.key is "
        "picked up beside PREFIX.key) or a key URI (pkcs11:, hashivault://, openbao://, awskms://)",
    )
    parser.add_argument(
        "--password-file",
        metavar="FILE",
        help=f"read the key password from FILE (else ${PASSWORD_ENV} or ${COSIGN_PASSWORD_ENV}, "
        "else a prompt); never from the command line",
    )


def load_signing_key(uri: str, password_file: str | None) -> Signer | HybridSigningKey:
    """The signer ``--key`` names; fails (exit 2) before anything is written."""
    from chainproof.cli.keygen_cmd import read_password
    from chainproof.trust.keys import is_file_key, load_signer
    from chainproof.trust.signing import HybridSigningKey, decrypt_private_key

    if not is_file_key(uri):
        return load_signer(uri)
    path = Path(uri.removeprefix("file://"))
    if not path.is_file():
        raise NotFoundError(f"key file {path} not found")
    password = read_password(password_file, confirm=False)
    classic = load_signer(uri, password)
    companion = path.with_name(path.name.removesuffix(".key") + ".mldsa.key")
    if path.name.endswith(".key") and companion.is_file():
        # keygen's hybrid pair: both halves sign, so the hybrid public key verifies.
        pq = decrypt_private_key(companion.read_bytes(), password, str(companion))
        return HybridSigningKey(classic, pq)
    return classic


def render(written: list[Published], what: str, output_format: str) -> None:
    if output_format == "json":
        print(json.dumps([published.to_json() for published in written], indent=2))
        return
    for published in written:
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
        help="sign an image the cosign way (sha256-<digest>.sig tag) in its registry or layout",
        description="Sign the digest IMAGE resolves to (the index of a multi-arch image) and "
        "write cosign's legacy signature manifest beside it: a registry repository (push "
        "access needed) or an OCI layout directory. An existing signature manifest gets one "
        "more layer, as cosign does. With --platform the selected platform's manifest is "
        "signed instead; with --all-platforms the index and every platform manifest "
        "(cosign's --recursive).",
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
    add_image_options(parser)
    add_format_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from chainproof.trust.publish import sign_reference

    annotations = _annotations(args.annotation)
    key = load_signing_key(args.key, args.password_file)
    published = sign_reference(
        args.image, key, options=open_options_from_args(args), annotations=annotations
    )
    render(published, "signed", args.format)
    return 0
