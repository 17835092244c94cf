"""C2SP tlog-checkpoint bodies: ``origin\\nsize\\nbase64(root)\\n[extension lines]``."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from chainproof.audit.merkle import HASH_SIZE
from chainproof.audit.note import Note, Signer, Verifier, open_note, parse_note, sign_note
from chainproof.errors import MalformedError

_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        lines = [
            self.origin,
            str(self.size),
            base64.b64encode(self.root).decode(),
            *self.extensions,
        ]
        return "\n".join(lines) + "\n"

    def sign(self, signers: list[Signer], timestamp: int | None = None) -> str:
        """``timestamp`` (POSIX seconds) dates ML-DSA-44 cosignatures; default now."""
        return sign_note(self.body(), signers, timestamp)


def parse_body(text: str, what: str = "checkpoint") -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise MalformedError(f"{what}: needs origin, size and root hash lines")
    origin, size, root_b64, *ext = lines[:-1]
    if not origin:
        raise MalformedError(f"{what}: empty origin line")
    if not _SIZE.fullmatch(size) or int(size) >= 1 << 64:
        raise MalformedError(f"{what}: tree size {size!r} is not a decimal uint64")
    try:
        root = base64.b64decode(root_b64, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedError(f"{what}: root hash is not base64") from None
    if len(root) != HASH_SIZE:
        raise MalformedError(f"{what}: root hash is {len(root)} bytes, not {HASH_SIZE}")
    if any(not line for line in ext):
        raise MalformedError(f"{what}: empty extension line")
    return Checkpoint(origin, int(size), root, tuple(ext))


def parse_checkpoint(note: str | bytes, what: str = "checkpoint") -> tuple[Checkpoint, Note]:
    """Parse without verifying signatures (for display and format checks)."""
    parsed = parse_note(note, what)
    return parse_body(parsed.text, what), parsed


def open_checkpoint(
    note: str | bytes, verifiers: list[Verifier], what: str = "checkpoint"
) -> Checkpoint:
    """Verify the note's signatures, then parse its body.

    One verified signature per trusted key family is required: a classic one when an
    Ed25519/ECDSA key is trusted, an ML-DSA-44 cosignature when an ML-DSA-44 key is.
    """
    parse_checkpoint(note, what)
    return parse_body(open_note(note, verifiers, what, every_family=True).text, what)
