"""``chainproof keygen``: a key pair in cosign's file format (``cosign.key`` / ``cosign.pub``)."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from chainproof._files import read_bounded, write_new_files
from chainproof.errors import UsageError

if TYPE_CHECKING:
    import argparse

#: chainproof's own variable first, then the one cosign reads, so cosign scripts keep working.
PASSWORD_ENV = "CHAINPROOF_PASSWORD"  # noqa: S105 - a variable name, not a password
COSIGN_PASSWORD_ENV = "COSIGN_PASSWORD"  # noqa: S105 - a variable name, not a password

#: A password file holds one line.
MAX_PASSWORD_FILE_BYTES = 64 * 1024


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from chainproof.trust.keys.algorithms import ALGORITHMS, DEFAULT_ALGORITHM

    parser = subparsers.add_parser(
        "keygen",
        help="generate a signing key pair (cosign-compatible encrypted private key)",
        description="Write PREFIX.key (encrypted, cosign format) and PREFIX.pub. A hybrid key "
        "also writes PREFIX.mldsa.key; its PREFIX.pub holds both public keys.",
    )
    parser.add_argument(
        "--algorithm", choices=ALGORITHMS, default=DEFAULT_ALGORITHM, help="key algorithm"
    )
    parser.add_argument(
        "--output-key-prefix", default="cosign", metavar="PREFIX", help="file name prefix"
    )
    parser.add_argument(
        "--password-file",
        metavar="FILE",
        help=f"read the password from FILE (else ${PASSWORD_ENV} or ${COSIGN_PASSWORD_ENV}, "
        "else a prompt)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    parser.set_defaults(handler=run)


def read_password(password_file: str | None, *, confirm: bool) -> bytes:
    """Password from a file, the environment, or an interactive prompt (in that order)."""
    if password_file:
        return read_bounded(password_file, "password file", MAX_PASSWORD_FILE_BYTES).rstrip(b"\r\n")
    for variable in (PASSWORD_ENV, COSIGN_PASSWORD_ENV):
        if variable in os.environ:
            return os.environ[variable].encode()
    if not sys.stdin.isatty():
        raise UsageError(
            f"no password: use --password-file or set {PASSWORD_ENV} (or {COSIGN_PASSWORD_ENV})"
        )
    first = getpass.getpass("Enter password for private key: ")
    if confirm and getpass.getpass("Enter password for private key again: ") != first:
        raise UsageError("passwords do not match")
    return first.encode()


def run(args: argparse.Namespace) -> int:
    from chainproof.trust.keys.private import (
        HybridSigningKey,
        encrypt_private_key,
        generate,
        public_pem,
    )

    password = read_password(args.password_file, confirm=True)
    key = generate(args.algorithm)
    prefix = Path(args.output_key_prefix)
    files: dict[Path, tuple[bytes, int]] = {}
    if isinstance(key, HybridSigningKey):
        files[prefix.with_name(prefix.name + ".key")] = (
            encrypt_private_key(key.classic, password),
            0o600,
        )
        files[prefix.with_name(prefix.name + ".mldsa.key")] = (
            encrypt_private_key(key.pq, password),
            0o600,
        )
        public = public_pem(key.classic) + public_pem(key.pq)
    else:
        files[prefix.with_name(prefix.name + ".key")] = (encrypt_private_key(key, password), 0o600)
        public = public_pem(key)
    files[prefix.with_name(prefix.name + ".pub")] = (public, 0o644)
    # All the files or none: a half-written pair is worse than no key.
    write_new_files(files, force=args.force)
    print(f"Private key written to {prefix}.key")
    print(f"Public key written to {prefix}.pub")
    return 0
