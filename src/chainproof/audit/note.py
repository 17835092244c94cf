"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 (type 0x01) and ECDSA (type 0x02).

A note is text ending in a newline, a blank line, then lines ``— <name> base64(keyid‖sig)``.
Verification follows the spec: signatures from unknown keys are ignored, a known key's bad
signature rejects the note, and a note with no verified known signature is rejected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from chainproof.errors import InputError, IntegrityError, MalformedError, NotFoundError

SIG_ED25519 = 0x01
SIG_ECDSA = 0x02
#: Notes are small (a checkpoint is ~150 bytes); the cap bounds memory on untrusted input.
MAX_NOTE_BYTES = 1 << 20
MAX_SIGNATURES = 64
_DASH = "\u2014 "


class UnknownKeyError(InputError):
    """A note carries no signature from any key we were told to trust."""


class SignatureError(IntegrityError):
    """A signature from a trusted key does not verify: the note was altered or forged."""


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


PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)


def _public_identity(key: PublicKey, name: str) -> tuple[int, int, bytes]:
    """(signature type, key ID, vkey key material) for a public key under ``name``."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return SIG_ED25519, _key_id(name, SIG_ED25519, raw), raw
    if not isinstance(key.curve, _CURVES):
        raise InputError(f"ECDSA curve {key.curve.name} is not P-256, P-384 or P-521")
    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # signed-note 0x02 (transparency-dev/witness): key ID is SHA-256 of the SPKI DER alone.
    return SIG_ECDSA, int.from_bytes(hashlib.sha256(spki).digest()[:4], "big"), spki


@dataclass(frozen=True)
class Verifier:
    """A trusted public key; ``name`` None means "whatever name the key ID matches"."""

    key: PublicKey
    name: str | None = None

    def matches(self, sig: NoteSignature) -> bool:
        if self.name is not None and sig.name != self.name:
            return False
        try:
            _check_name(sig.name)
        except InputError:
            return False
        return _public_identity(self.key, sig.name)[1] == sig.key_id

    def check(self, text: str, signature: bytes) -> bool:
        try:
            if isinstance(self.key, ed25519.Ed25519PublicKey):
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
        kind = "Ed25519" if isinstance(self.key, ed25519.Ed25519PublicKey) else "ECDSA"
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

    def sign(self, text: str) -> NoteSignature:
        _, key_id, _ = _public_identity(self.key.public_key(), self.name)
        if isinstance(self.key, ed25519.Ed25519PrivateKey):
            sig = self.key.sign(text.encode())
        else:
            sig = self.key.sign(text.encode(), ec.ECDSA(hashes.SHA256()))
        return NoteSignature(self.name, key_id, sig)


def sign_note(text: str, signers: list[Signer]) -> str:
    _check_text(text)
    return Note(text, tuple(s.sign(text) for s in signers)).format()


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise MalformedError("note text must end with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise MalformedError("note text contains control characters")


def open_note(data: str | bytes, verifiers: list[Verifier], what: str = "signed note") -> Note:
    """Parse and verify; return the note with only the verified signatures."""
    note = parse_note(data, what)
    verified: list[NoteSignature] = []
    for sig in note.signatures:
        for v in verifiers:
            if v.matches(sig):
                if not v.check(note.text, sig.signature):
                    raise SignatureError(f"{what}: signature by {sig.name} does not verify")
                verified.append(sig)
                break
    if not verified:
        names = ", ".join(sorted({f"{s.name}+{s.key_id:08x}" for s in note.signatures}))
        raise UnknownKeyError(f"{what}: signed only by unknown keys ({names})")
    return Note(note.text, tuple(verified))


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


def load_private_key(path: str | Path, name: str) -> Signer:
    """A PEM (PKCS#8 or SEC1) Ed25519 or ECDSA private key, signing as ``name``."""
    data = _read_key(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise MalformedError(f"{path}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        raise InputError(f"{path}: only Ed25519 and ECDSA keys can sign checkpoints")
    return Signer(name, key)


def load_verifier(spec: str) -> Verifier:
    """A vkey string, or a PEM public or private key file (Ed25519 or ECDSA)."""
    if "+" in spec and not Path(spec).exists():
        return parse_vkey(spec)
    data = _read_key(spec)
    key: object
    try:
        if b"PRIVATE KEY" in data:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise MalformedError(f"{spec}: not a PEM public or private key ({exc})") from None
    if not isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise InputError(f"{spec}: only Ed25519 and ECDSA keys verify checkpoints")
    return Verifier(key)


def _read_key(path: str | Path) -> bytes:
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"key file {path} does not exist") from None
    except OSError as exc:
        raise InputError(f"cannot read key file {path}: {exc.strerror}") from None
    if len(data) > 64 * 1024:
        raise MalformedError(f"{path}: too large for a key file")
    return data
