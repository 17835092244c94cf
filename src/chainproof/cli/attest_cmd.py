"""``chainproof attest IMAGE --key K --predicate F --type T``: a DSSE in-toto attestation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainproof.cli.common import add_format_option, add_image_options, open_options_from_args
from chainproof.cli.sign_cmd import (
    add_bundle_option,
    add_key_options,
    bundle_note,
    fips_check,
    load_signing_key,
    render,
    single_key,
)

if TYPE_CHECKING:
    import argparse

#: A predicate is a document, not an image layer; cosign's own limit is in this range.
MAX_PREDICATE_BYTES = 32 * 1024 * 1024


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "attest",
        help="attest an image: DSSE in-toto v1 statement in cosign's .att tag",
        description="Wrap the JSON predicate in an in-toto v1 statement naming the digest "
        "IMAGE resolves to, sign it as a DSSE envelope and write cosign's legacy "
        "attestation manifest (sha256-<digest>.att) beside the image. --platform and "
        "--all-platforms choose the subjects as for sign.",
    )
    parser.add_argument("image", metavar="IMAGE")
    add_key_options(parser)
    parser.add_argument(
        "--predicate", required=True, metavar="FILE", help="the predicate (a JSON document)"
    )
    parser.add_argument(
        "--type",
        default="custom",
        metavar="TYPE",
        help="predicate type: a URI, or slsaprovenance, slsaprovenance02, slsaprovenance1, "
        "slsa-provenance-v0.2, slsa-provenance-v1, cyclonedx, spdx, spdxjson, openvex, vuln, "
        "custom (default)",
    )
    add_bundle_option(parser)
    add_image_options(parser)
    add_format_option(parser)
    parser.set_defaults(handler=run)


def _predicate(path: str) -> object:
    from chainproof import _jsonutil
    from chainproof._files import read_bounded

    data = read_bounded(path, "predicate", MAX_PREDICATE_BYTES)
    return _jsonutil.loads_bounded(data, f"predicate {path}", max_bytes=MAX_PREDICATE_BYTES)


def run(args: argparse.Namespace) -> int:
    from chainproof.trust.publishing.publish import (
        attest_reference,
        attest_reference_bundle,
        predicate_type_uri,
    )

    predicate_type = predicate_type_uri(args.type)
    predicate = _predicate(args.predicate)
    key = load_signing_key(args.key, args.password_file)
    if args.fips:
        fips_check(key)
    options = open_options_from_args(args)
    if args.bundle:
        published = attest_reference_bundle(
            args.image,
            single_key(key, "a Sigstore bundle"),
            predicate_type,
            predicate,
            options=options,
        )
    else:
        published = attest_reference(args.image, key, predicate_type, predicate, options=options)
    render(published, "attested", args.format)
    if args.bundle:
        bundle_note(args.format)
    return 0
