"""Keys inside PKCS#11 tokens (HSMs, SoftHSM2, smart cards), named by RFC 7512 URIs.

``pkcs11:token=signing;object=cosign?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234``

Path attributes select the token (``token``, ``serial``, ``slot-id``) and the key (``object`` =
label, ``id`` = CKA_ID, percent-encoded). Query attributes give the module (``module-path``, else
``$PKCS11_MODULE``) and the user PIN (``pin-value``, ``pin-source=file:…``, else ``$PKCS11_PIN``).
The private key never leaves the token: signing happens inside it (ECDSA over a SHA-256/384
digest, RSA PKCS#1 v1.5 with SHA-256), and the signature is returned in cosign's DER encoding.

Needs the optional ``python-pkcs11`` package (``pip install chainproof[pkcs11]``).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from chainproof._files import read_bounded
from chainproof.errors import (
    InputError,
    MalformedError,
    NotFoundError,
    UnsupportedError,
    UsageError,
)
from chainproof.trust.keys.interface import KeyBackend, Signer
from chainproof.trust.keys.model import VerificationKey

MODULE_ENV = "PKCS11_MODULE"
PIN_ENV = "PKCS11_PIN"
_PATH_ATTRS = frozenset(
    {"token", "object", "id", "serial", "slot-id", "manufacturer", "model", "type"}
)
_QUERY_ATTRS = frozenset({"module-path", "module-name", "pin-value", "pin-source"})


@dataclass(frozen=True)
class Pkcs11Uri:
    token: str = ""
    serial: str = ""
    slot_id: int | None = None
    label: str = ""
    key_id: bytes | None = None
    module_path: str = ""
    pin: str = ""

    @property
    def module(self) -> str:
        module = self.module_path or os.environ.get(MODULE_ENV, "")
        if not module:
            raise UsageError(f"PKCS#11 URI needs module-path=… or ${MODULE_ENV}")
        return module


def parse_uri(uri: str) -> Pkcs11Uri:
    """Parse an RFC 7512 ``pkcs11:`` URI (the subset that names one key)."""
    if not uri.startswith("pkcs11:"):
        raise MalformedError(f"{uri!r} is not a pkcs11: URI")
    path, _, query = uri[len("pkcs11:") :].partition("?")
    attrs: dict[str, bytes] = {}
    for part, allowed, sep in ((path, _PATH_ATTRS, ";"), (query, _QUERY_ATTRS, "&")):
        for item in filter(None, part.split(sep)):
            name, eq, value = item.partition("=")
            if not eq:
                raise MalformedError(f"PKCS#11 URI attribute {item!r} has no value")
            if name not in allowed:
                raise MalformedError(f"PKCS#11 URI attribute {name!r} is not supported here")
            if name in attrs:
                raise MalformedError(f"PKCS#11 URI repeats {name!r}")
            attrs[name] = unquote_to_bytes(value)
    pin = attrs.get("pin-value", b"").decode()
    if "pin-source" in attrs:
        source = attrs["pin-source"].decode()
        path_text = source.removeprefix("file:")
        pin = read_bounded(path_text, "PKCS#11 pin-source", 4096).decode("utf-8", "replace").strip()
    slot = attrs.get("slot-id")
    try:
        slot_id = int(slot) if slot is not None else None
    except ValueError:
        raise MalformedError("PKCS#11 URI slot-id must be a number") from None
    if "object" not in attrs and "id" not in attrs:
        raise MalformedError("PKCS#11 URI must name the key with object= or id=")
    return Pkcs11Uri(
        token=attrs.get("token", b"").decode(),
        serial=attrs.get("serial", b"").decode(),
        slot_id=slot_id,
        label=attrs.get("object", b"").decode(),
        key_id=attrs.get("id"),
        module_path=attrs.get("module-path", b"").decode(),
        pin=pin or os.environ.get(PIN_ENV, ""),
    )


def _lib(module: str) -> Any:
    try:
        import pkcs11
    except ImportError:
        raise UnsupportedError(
            "pkcs11: keys need python-pkcs11 (pip install chainproof[pkcs11])"
        ) from None
    try:
        return pkcs11.lib(module)
    except (RuntimeError, OSError) as exc:
        raise NotFoundError(f"PKCS#11 module {module} cannot be loaded ({exc})") from None


def _token(ref: Pkcs11Uri) -> Any:
    import pkcs11.exceptions

    lib = _lib(ref.module)
    try:
        if ref.slot_id is not None:
            slots = [s for s in lib.get_slots(token_present=True) if s.slot_id == ref.slot_id]
            tokens = [s.get_token() for s in slots]
        else:
            tokens = list(
                lib.get_tokens(
                    token_label=ref.token or None, token_serial=(ref.serial.encode() or None)
                )
            )
    except pkcs11.exceptions.PKCS11Error as exc:
        raise NotFoundError(f"PKCS#11 token lookup failed ({type(exc).__name__})") from None
    if not tokens:
        raise NotFoundError(f"no PKCS#11 token matches {ref.token or ref.serial or ref.slot_id}")
    if len(tokens) > 1:
        raise UsageError("the PKCS#11 URI matches more than one token; add token= or serial=")
    return tokens[0]


def _find(session: Any, object_class: Any, ref: Pkcs11Uri) -> Any:
    from pkcs11 import Attribute

    template: dict[Any, Any] = {Attribute.CLASS: object_class}
    if ref.label:
        template[Attribute.LABEL] = ref.label
    if ref.key_id is not None:
        template[Attribute.ID] = ref.key_id
    found = list(session.get_objects(template))
    if not found:
        raise NotFoundError(f"no PKCS#11 key object {ref.label or ref.key_id!r} in the token")
    if len(found) > 1:
        raise UsageError("the PKCS#11 URI matches more than one key; add id=")
    return found[0]


def _public_key(session: Any, ref: Pkcs11Uri) -> VerificationKey:
    from pkcs11 import Attribute, KeyType, ObjectClass
    from pkcs11.util.ec import encode_ec_public_key
    from pkcs11.util.rsa import encode_rsa_public_key

    obj = _find(session, ObjectClass.PUBLIC_KEY, ref)
    key_type = obj[Attribute.KEY_TYPE]
    if key_type == KeyType.EC:
        der = encode_ec_public_key(obj)  # SubjectPublicKeyInfo
    elif key_type == KeyType.RSA:
        der = _pkcs1_to_spki(encode_rsa_public_key(obj))  # python-pkcs11 gives PKCS#1
    else:
        raise UnsupportedError(f"PKCS#11 key type {key_type} is not supported")
    try:
        public_key = serialization.load_der_public_key(der)
    except ValueError:
        raise MalformedError("PKCS#11 public key does not encode to a usable key") from None
    return VerificationKey.from_public_key(public_key, "pkcs11")


def _pkcs1_to_spki(der: bytes) -> bytes:
    from asn1crypto import keys

    info = keys.PublicKeyInfo(
        {
            "algorithm": keys.PublicKeyAlgorithm({"algorithm": "rsa"}),
            "public_key": keys.RSAPublicKey.load(der),
        }
    )
    return bytes(info.dump())


class Pkcs11Signer(Signer):
    """Signs inside the token; every call opens (and closes) its own session."""

    def __init__(self, uri: str) -> None:
        self._uri = uri
        self._ref = parse_uri(uri)
        # Some tokens mark public objects private; log in when a PIN is at hand.
        self._public: VerificationKey = self._with_session(
            lambda s: _public_key(s, self._ref), user=bool(self._ref.pin)
        )

    @property
    def public(self) -> VerificationKey:
        return self._public

    def _with_session(self, action: Any, *, user: bool) -> Any:
        import pkcs11.exceptions

        token = _token(self._ref)
        if user and not self._ref.pin:
            raise UsageError(f"PKCS#11 signing needs a PIN (pin-value=… or ${PIN_ENV})")
        try:
            with token.open(user_pin=self._ref.pin if user else None) as session:
                return action(session)
        except pkcs11.exceptions.PinIncorrect:
            raise InputError("PKCS#11 PIN is incorrect") from None
        except pkcs11.exceptions.PKCS11Error as exc:
            raise InputError(f"PKCS#11 operation failed ({type(exc).__name__})") from None

    def sign(self, data: bytes) -> bytes:
        from pkcs11 import Mechanism, ObjectClass

        public = self._public.public_key

        def do_sign(session: Any) -> bytes:
            private = _find(session, ObjectClass.PRIVATE_KEY, self._ref)
            if isinstance(public, ec.EllipticCurvePublicKey):
                digest = (hashlib.sha384 if public.curve.name == "secp384r1" else hashlib.sha256)(
                    data
                )
                raw = bytes(private.sign(digest.digest(), mechanism=Mechanism.ECDSA))
                half = len(raw) // 2
                return encode_dss_signature(
                    int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
                )
            if isinstance(public, rsa.RSAPublicKey):
                return bytes(private.sign(data, mechanism=Mechanism.SHA256_RSA_PKCS))
            raise UnsupportedError(
                f"PKCS#11 signing with {self._public.algorithm} is not supported"
            )

        result: bytes = self._with_session(do_sign, user=True)
        return result


class Pkcs11KeyBackend(KeyBackend):
    schemes = ("pkcs11",)

    def load_public(self, uri: str) -> VerificationKey:
        key = Pkcs11Signer(uri).public
        return VerificationKey(key.public_key, uri, key.key_id)

    def signer(self, uri: str) -> Signer:
        return Pkcs11Signer(uri)
