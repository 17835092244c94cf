"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 (type 0x01), ECDSA (type 0x02) and
ML-DSA-44 checkpoint cosignatures (type 0x06, c2sp.org/tlog-cosignature).

A note is text ending in a newline, a blank line, then lines ``— <name> base64(keyid‖sig)``.
Verification follows the spec: signatures from unknown keys are ignored, a known key's bad
signature rejects the note, and a note with no verified known signature is rejected. On top
of that, :func:`open_note` can demand one verified signature per *family* (classic and
post-quantum) among the trusted keys, so stripping a cosignature is detected.

An ML-DSA-44 cosignature does not sign the note text: it signs the binary
``cosigned_message`` of tlog-cosignature (label ``subtree/v1\\n\\0``, cosigner name,
timestamp, origin, start 0, end = tree size, root hash), so it only applies to checkpoints.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa

from chainproof._files import read_bounded
from chainproof.errors import InputError, IntegrityError, MalformedError

SIG_ED25519 = 0x01
SIG_ECDSA = 0x02
#: tlog-cosignature: timestamped ML-DSA-44 (sub)tree cosignature.
SIG_MLDSA44_COSIGNATURE = 0x06
_COSIGN_LABEL = b"subtree/v1\n\x00"
_MLDSA44_PUBLIC_BYTES = 1312
_MLDSA44_SIGNATURE_BYTES = 2420
#: Notes are small (a checkpoint is ~150 bytes); the cap bounds memory on untrusted input.
MAX_NOTE_BYTES = 1 << 20
MAX_SIGNATURES = 64
_DASH = "\u2014 "


class UnknownKeyError(InputError):
    """A note carries no signature from any key we were told to trust."""


class SignatureError(IntegrityError):
    """A signature from a trusted key does not verify: the note was altered or forged."""


class MissingSignatureError(IntegrityError):
    """Trusted keys of a family (classic or ML-DSA-44) exist but none of them signed."""

    def __init__(self, message: str, *, post_quantum: bool) -> None:
        super().__init__(message)
        self.post_quantum = post_quantum


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: int
    signature: bytes  # without the 4-byte key ID

    def line(self) -> str:
        blob = struct.pack(">I", self.key_id) + self.signature
        return f"{_DASH}{self.name} {base64.b64encode(blob).decode()}\n"


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[NoteSignature, ...]

    def format(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def _check_name(name: str) -> None:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise InputError(f"key name {name!r} must be non-empty without spaces or '+'")


def parse_note(data: str | bytes, what: str = "signed note") -> Note:
    """Parse (not verify) a signed note; raise MalformedError on any format violation."""
    if len(data) > MAX_NOTE_BYTES:
        raise MalformedError(f"{what}: larger than {MAX_NOTE_BYTES} bytes")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedError(f"{what}: not UTF-8") from None
    if any(ord(c) < 0x20 and c != "\n" for c in data):
        raise MalformedError(f"{what}: contains control characters")
    if not data.endswith("\n"):
        raise MalformedError(f"{what}: does not end with a newline")
    split = data.rfind("\n\n")
    if split < 0:
        raise MalformedError(f"{what}: no blank line between text and signatures")
    text, sig_block = data[: split + 1], data[split + 2 :]
    sigs: list[NoteSignature] = []
    for line in sig_block.splitlines():
        if not line.startswith(_DASH):
            raise MalformedError(f"{what}: signature line does not start with '— '")
        parts = line[len(_DASH) :].split(" ")
        if len(parts) != 2:
            raise MalformedError(f"{what}: signature line is not '— <name> <base64>'")
        name, b64 = parts
        try:
            blob = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedError(f"{what}: signature of {name!r} is not base64") from None
        if len(blob) < 5:
            raise MalformedError(f"{what}: signature of {name!r} is too short")
        sigs.append(NoteSignature(name, struct.unpack(">I", blob[:4])[0], blob[4:]))
    if not sigs:
        raise MalformedError(f"{what}: has no signatures")
    if len(sigs) > MAX_SIGNATURES:
        raise MalformedError(f"{what}: more than {MAX_SIGNATURES} signatures")
    return Note(text, tuple(sigs))


def _key_id(name: str, sig_type: int, public: bytes) -> int:
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public).digest()
    return int.from_bytes(digest[:4], "big")


PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | mldsa.MLDSA44PrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | mldsa.MLDSA44PublicKey
_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)


def _public_identity(key: PublicKey, name: str) -> tuple[int, int, bytes]:
    """(signature type, key ID, vkey key material) for a public key under ``name``."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return SIG_ED25519, _key_id(name, SIG_ED25519, raw), raw
    if isinstance(key, mldsa.MLDSA44PublicKey):
        raw = key.public_bytes_raw()
        return SIG_MLDSA44_COSIGNATURE, _key_id(name, SIG_MLDSA44_COSIGNATURE, raw), raw
    if not isinstance(key.curve, _CURVES):
        raise InputError(f"ECDSA curve {key.curve.name} is not P-256, P-384 or P-521")
    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # signed-note 0x02 (transparency-dev/witness): key ID is SHA-256 of the SPKI DER alone.
    return SIG_ECDSA, int.from_bytes(hashlib.sha256(spki).digest()[:4], "big"), spki


def cosigned_message(name: str, timestamp: int, text: str) -> bytes | None:
    """tlog-cosignature's ML-DSA-44 ``cosigned_message`` for a checkpoint body (None if
    ``text`` is not a checkpoint or a field is out of range)."""
    lines = text.split("\n")
    if len(lines) < 4:
        return None
    origin, size, root_b64 = lines[0].encode(), lines[1], lines[2]
    try:
        root = base64.b64decode(root_b64, validate=True)
        end = int(size)
    except (binascii.Error, ValueError):
        return None
    cosigner = name.encode()
    if (
        not 1 <= len(cosigner) <= 255
        or not 1 <= len(origin) <= 255
        or len(root) != 32
        or not 0 <= end < 1 << 64
        or not 0 <= timestamp < 1 << 63
    ):
        return None
    return b"".join(
        (
            _COSIGN_LABEL,
            bytes([len(cosigner)]),
            cosigner,
            struct.pack(">Q", timestamp),
            bytes([len(origin)]),
            origin,
            struct.pack(">QQ", 0, end),  # start 0: a whole checkpoint, not a subtree
            root,
        )
    )


@dataclass(frozen=True)
class Verifier:
    """A trusted public key; ``name`` None means "whatever name the key ID matches"."""

    key: PublicKey
    name: str | None = None

    @property
    def post_quantum(self) -> bool:
        return isinstance(self.key, mldsa.MLDSA44PublicKey)

    def matches(self, sig: NoteSignature) -> bool:
        if self.name is not None and sig.name != self.name:
            return False
        try:
            _check_name(sig.name)
        except InputError:
            return False
        return _public_identity(self.key, sig.name)[1] == sig.key_id

    def check(self, text: str, signature: bytes, name: str = "") -> bool:
        try:
            if isinstance(self.key, mldsa.MLDSA44PublicKey):
                # timestamped_signature: u64 timestamp ‖ 2420-byte ML-DSA-44 signature.
                if len(signature) != 8 + _MLDSA44_SIGNATURE_BYTES:
                    return False
                when = struct.unpack(">Q", signature[:8])[0]
                message = cosigned_message(name or self.name or "", when, text)
                if message is None:
                    return False
                self.key.verify(signature[8:], message)
            elif isinstance(self.key, ed25519.Ed25519PublicKey):
                self.key.verify(signature, text.encode())
            else:
                self.key.verify(signature, text.encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return False
        return True

    def vkey(self, name: str) -> str:
        sig_type, key_id, material = _public_identity(self.key, name)
        return f"{name}+{key_id:08x}+{base64.b64encode(bytes([sig_type]) + material).decode()}"

    def describe(self) -> str:
        if isinstance(self.key, mldsa.MLDSA44PublicKey):
            kind = "ML-DSA-44"
        elif isinstance(self.key, ed25519.Ed25519PublicKey):
            kind = "Ed25519"
        else:
            kind = "ECDSA"
        return f"{kind} key {self.name}" if self.name else f"{kind} key"


@dataclass(frozen=True)
class Signer:
    name: str
    key: PrivateKey

    def __post_init__(self) -> None:
        _check_name(self.name)
        _public_identity(self.key.public_key(), self.name)

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.key.public_key(), self.name)

    @property
    def post_quantum(self) -> bool:
        return isinstance(self.key, mldsa.MLDSA44PrivateKey)

    def sign(self, text: str, timestamp: int | None = None) -> NoteSignature:
        """Sign ``text``; ``timestamp`` (POSIX seconds, default now) is used by cosignatures."""
        _, key_id, _ = _public_identity(self.key.public_key(), self.name)
        if isinstance(self.key, mldsa.MLDSA44PrivateKey):
            when = int(time.time()) if timestamp is None else timestamp
            message = cosigned_message(self.name, when, text)
            if message is None:
                raise InputError(
                    "an ML-DSA-44 cosignature signs only checkpoints with origin and cosigner "
                    "names of 1-255 bytes"
                )
            sig = struct.pack(">Q", when) + self.key.sign(message)
        elif isinstance(self.key, ed25519.Ed25519PrivateKey):
            sig = self.key.sign(text.encode())
        else:
            sig = self.key.sign(text.encode(), ec.ECDSA(hashes.SHA256()))
        return NoteSignature(self.name, key_id, sig)


def sign_note(text: str, signers: list[Signer], timestamp: int | None = None) -> str:
    _check_text(text)
    return Note(text, tuple(s.sign(text, timestamp) for s in signers)).format()


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise MalformedError("note text must end with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise MalformedError("note text contains control characters")


def open_note(
    data: str | bytes,
    verifiers: list[Verifier],
    what: str = "signed note",
    *,
    every_family: bool = False,
) -> Note:
    """Parse and verify; return the note with only the verified signatures.

    With ``every_family``, a note must carry a verified signature from a classic
    (Ed25519/ECDSA) key if any is trusted *and* from an ML-DSA-44 key if any is trusted:
    a configured cosignature is required, not merely accepted.
    """
    note = parse_note(data, what)
    verified: list[tuple[NoteSignature, Verifier]] = []
    for sig in note.signatures:
        for v in verifiers:
            if v.matches(sig):
                if not v.check(note.text, sig.signature, sig.name):
                    raise SignatureError(f"{what}: signature by {sig.name} does not verify")
                verified.append((sig, v))
                break
    if not verified:
        names = ", ".join(sorted({f"{s.name}+{s.key_id:08x}" for s in note.signatures}))
        raise UnknownKeyError(f"{what}: signed only by unknown keys ({names})")
    if every_family:
        for pq, family in ((False, "Ed25519/ECDSA signature"), (True, "ML-DSA-44 cosignature")):
            trusted = [v for v in verifiers if v.post_quantum is pq]
            if trusted and not any(v.post_quantum is pq for _, v in verified):
                raise MissingSignatureError(
                    f"{what}: lacks the {family} of "
                    + ", ".join(sorted({v.describe() for v in trusted})),
                    post_quantum=pq,
                )
    return Note(note.text, tuple(s for s, _ in verified))


def parse_vkey(vkey: str) -> Verifier:
    """``name+hexid+base64(type‖key)`` (golang.org/x/mod/sumdb/note verifier key)."""
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3 or len(parts[1]) != 8:
        raise MalformedError("verifier key is not name+keyid+base64")
    name, hex_id, b64 = parts
    _check_name(name)
    try:
        key_id = int(hex_id, 16)
        blob = base64.b64decode(b64, validate=True)
    except (ValueError, binascii.Error):
        raise MalformedError("verifier key has a bad key ID or base64") from None
    if not blob:
        raise MalformedError("verifier key is empty")
    key: PublicKey
    if blob[0] == SIG_ED25519 and len(blob) == 33:
        try:
            key = ed25519.Ed25519PublicKey.from_public_bytes(blob[1:])
        except ValueError:
            raise MalformedError("verifier key holds an invalid Ed25519 public key") from None
    elif blob[0] == SIG_ECDSA:
        try:
            loaded = serialization.load_der_public_key(blob[1:])
        except ValueError:
            raise MalformedError("verifier key holds an invalid ECDSA public key") from None
        if not isinstance(loaded, ec.EllipticCurvePublicKey):
            raise MalformedError("verifier key of type 0x02 is not an ECDSA key")
        key = loaded
    elif blob[0] == SIG_MLDSA44_COSIGNATURE:
        if len(blob) != 1 + _MLDSA44_PUBLIC_BYTES:
            raise MalformedError("verifier key of type 0x06 is not a 1312-byte ML-DSA-44 key")
        try:
            key = mldsa.MLDSA44PublicKey.from_public_bytes(blob[1:])
        except ValueError:
            raise MalformedError("verifier key holds an invalid ML-DSA-44 public key") from None
    else:
        raise MalformedError(f"verifier key type 0x{blob[0]:02x} is not supported")
    verifier = Verifier(key, name)
    if _public_identity(key, name)[1] != key_id:
        raise MalformedError(f"verifier key {name}: key ID does not match the key")
    return verifier


def parse_skey(skey: str) -> Signer:
    """``PRIVATE+KEY+name+hexid+base64(0x01‖seed)`` (Go sumdb/note signer key, Ed25519)."""
    parts = skey.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise MalformedError("signer key is not PRIVATE+KEY+name+keyid+base64")
    try:
        blob = base64.b64decode(parts[4], validate=True)
    except (binascii.Error, ValueError):
        raise MalformedError("signer key is not base64") from None
    if len(blob) != 33 or blob[0] != SIG_ED25519:
        raise MalformedError("signer key is not an Ed25519 key")
    signer = Signer(parts[2], ed25519.Ed25519PrivateKey.from_private_bytes(blob[1:]))
    if f"{_public_identity(signer.key.public_key(), signer.name)[1]:08x}" != parts[3]:
        raise MalformedError("signer key: key ID does not match the key")
    return signer


def load_private_key(path: str | Path, name: str, *, post_quantum: bool = False) -> Signer:
    """A PEM (PKCS#8 or SEC1) Ed25519 or ECDSA private key, signing as ``name``; with
    ``post_quantum`` an ML-DSA-44 PKCS#8 key, cosigning as ``name``."""
    data = _read_key(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise MalformedError(f"{path}: not an unencrypted PEM private key ({exc})") from None
    if post_quantum:
        if not isinstance(key, mldsa.MLDSA44PrivateKey):
            raise InputError(f"{path}: a checkpoint cosignature key must be ML-DSA-44")
    elif not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        raise InputError(f"{path}: only Ed25519 and ECDSA keys can sign checkpoints")
    return Signer(name, key)


def load_verifier(spec: str) -> Verifier:
    """A vkey string, or a PEM public or private key file (Ed25519, ECDSA or ML-DSA-44)."""
    if "+" in spec and not _is_file(spec):
        return parse_vkey(spec)
    data = _read_key(spec)
    key: object
    try:
        if b"PRIVATE KEY" in data:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise MalformedError(f"{spec}: not a PEM public or private key ({exc})") from None
    if not isinstance(
        key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | mldsa.MLDSA44PublicKey
    ):
        raise InputError(f"{spec}: only Ed25519, ECDSA and ML-DSA-44 keys verify checkpoints")
    return Verifier(key)


def _is_file(spec: str) -> bool:
    try:
        return Path(spec).exists()
    except OSError:
        # An ML-DSA-44 vkey is ~1,800 characters: too long a name for the file system.
        return False


#: Checkpoint keys are a few hundred bytes of PEM (ML-DSA-44 a few KiB).
MAX_KEY_FILE_BYTES = 64 * 1024


def _read_key(path: str | Path) -> bytes:
    return read_bounded(path, "key file", MAX_KEY_FILE_BYTES)
