"""cosign's tag-schema signatures and attestations (``sha256-<hex>.sig`` / ``.att``).

A ``.sig`` tag names an OCI manifest whose layers are simple-signing payloads; each layer carries
its signature (and, keyless, a Fulcio certificate, chain and Rekor bundle) in annotations. The
signature is over the payload blob's exact bytes, and the payload must name the verified digest
(``critical.image.docker-manifest-digest``) — a valid signature for another image is a failure.

A ``.att`` tag's layers are DSSE envelopes holding in-toto statements; the statement must name the
image digest as a subject.

Keyless signatures verify offline: the certificate chains to a Fulcio CA of the trusted root at the
Rekor integrated time, carries a valid SCT, matches an identity rule, and the Rekor bundle's SET
verifies with the root's Rekor key; its log body must record this very signature, payload hash and
certificate (the CVE-2022-36056 cross-check).
"""

from __future__ import annotations

import abc
import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import rfc8785
from cryptography import x509
from sigstore._internal.sct import verify_sct
from sigstore._internal.timestamp import TimestampSource, TimestampVerificationResult
from sigstore._internal.trust import KeyringPurpose
from sigstore._utils import KeyID
from sigstore.errors import Error as SigstoreError

from chainproof import _jsonutil as _json
from chainproof.errors import MalformedError, SignatureError
from chainproof.oci.digest import Digest
from chainproof.oci.image import read_blob
from chainproof.oci.model import Manifest, parse_manifest
from chainproof.trust import _x509
from chainproof.trust.envelopes.dsse import INTOTO_PAYLOAD_TYPE, parse_envelope
from chainproof.trust.envelopes.intoto import parse_statement
from chainproof.trust.interface import (
    MissingTrustInputError,
    SignatureFormat,
    SignatureVerification,
    TrustInputs,
)
from chainproof.trust.keys.model import VerificationKey

if TYPE_CHECKING:
    from sigstore.models import TrustedRoot

    from chainproof.oci.model import Descriptor
    from chainproof.oci.sources.interface import ImageSource
    from chainproof.trust.interface import IdentityRule

SIMPLESIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE_MEDIA_TYPE = "application/vnd.dsse.envelope.v1+json"
ANN_SIGNATURE = "dev.cosignproject.cosign/signature"
ANN_CERTIFICATE = "dev.sigstore.cosign/certificate"
ANN_CHAIN = "dev.sigstore.cosign/chain"
ANN_BUNDLE = "dev.sigstore.cosign/bundle"
#: chainproof's post-quantum extension: the ML-DSA-65 half of a hybrid signature.
ANN_PQ_SIGNATURE = "dev.chainproof.pq/signature"
#: Both spellings appear in the wild (cosign, and the older "atomic" simple signing).
SIMPLESIGNING_TYPES = frozenset({"cosign container image signature", "atomic container signature"})

MAX_PAYLOAD_BYTES = 1024 * 1024
MAX_ATTESTATION_BYTES = 64 * 1024 * 1024
#: A signature manifest with more layers than this is refused rather than walked.
MAX_LAYERS = 256


def attachment_tag(digest: Digest, suffix: str) -> str:
    """cosign's tag for an attachment: ``sha256-<hex>.sig``."""
    return f"{digest.algorithm}-{digest.encoded}.{suffix}"


@dataclass(frozen=True)
class _Layer:
    descriptor: Descriptor
    payload: bytes
    annotations: dict[str, str]


def check_simplesigning(payload: bytes, subject: Digest) -> dict[str, Any]:
    """Parse a simple-signing payload and require it to name ``subject``; returns it."""
    doc = _json.loads_object(payload, "simple-signing payload", max_bytes=MAX_PAYLOAD_BYTES)
    critical = doc.get("critical")
    if not isinstance(critical, dict):
        raise SignatureError("simple-signing payload has no 'critical' section")
    kind = critical.get("type")
    if kind not in SIMPLESIGNING_TYPES:
        raise SignatureError(f"simple-signing payload has unexpected type {kind!r}")
    image = critical.get("image")
    named = image.get("docker-manifest-digest") if isinstance(image, dict) else None
    if named != str(subject):
        raise SignatureError(f"payload signs {named}, not {subject}")
    return doc


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{what} is not valid base64") from None


@dataclass(frozen=True)
class _Keyless:
    """A keyless signer, verified up to the point of the signature itself."""

    certificate: x509.Certificate
    signer: str
    body: dict[str, Any]


def _verify_keyless_material(
    annotations: dict[str, str],
    trusted_root: TrustedRoot,
    identities: tuple[IdentityRule, ...],
) -> _Keyless:
    """Certificate → Fulcio chain at integrated time → SCT → identity → SET; returns the body."""
    from chainproof.trust.sigstore.verifier import IdentityPolicy, SigstoreVerifier

    try:
        certificate = _x509.load_pem(annotations[ANN_CERTIFICATE].encode(), "certificate")
    except MalformedError:
        raise SignatureError("signing certificate annotation is not a PEM certificate") from None
    bundle_text = annotations.get(ANN_BUNDLE)
    if not bundle_text:
        raise SignatureError("keyless signature without a Rekor bundle cannot verify offline")
    try:
        rekor = json.loads(bundle_text)
        set_signature = base64.b64decode(rekor["SignedEntryTimestamp"])
        entry = rekor["Payload"]
        canonical = rfc8785.dumps(
            {
                "body": entry["body"],
                "integratedTime": int(entry["integratedTime"]),
                "logIndex": int(entry["logIndex"]),
                "logID": str(entry["logID"]),
            }
        )
        body = json.loads(base64.b64decode(entry["body"]))
        integrated = datetime.fromtimestamp(int(entry["integratedTime"]), tz=UTC)
        log_id = bytes.fromhex(str(entry["logID"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise SignatureError(f"malformed Rekor bundle annotation ({exc})") from None
    try:
        trusted_root.rekor_keyring(KeyringPurpose.VERIFY).verify(
            key_id=KeyID(log_id), signature=set_signature, data=canonical
        )
    except SigstoreError:
        raise SignatureError("Rekor signed entry timestamp does not verify") from None
    verifier = SigstoreVerifier(trusted_root=trusted_root)
    try:
        chain = verifier._verify_chain_at_time(
            certificate,
            TimestampVerificationResult(
                source=TimestampSource.TRANSPARENCY_SERVICE, time=integrated
            ),
        )
        verify_sct(certificate, chain, trusted_root.ct_keyring(KeyringPurpose.VERIFY))
    except SigstoreError as exc:
        raise SignatureError(f"signing certificate: {exc}") from None
    if not certificate.not_valid_before_utc <= integrated <= certificate.not_valid_after_utc:
        raise SignatureError("Rekor integrated time lies outside the certificate's validity")
    policy = IdentityPolicy(identities)
    try:
        policy.verify(certificate)
    except SigstoreError as exc:
        raise SignatureError(str(exc)) from None
    return _Keyless(certificate, policy.matched, body)


def _check_hashedrekord(
    body: dict[str, Any], payload: bytes, signature: bytes, certificate: x509.Certificate
) -> None:
    try:
        if (body["kind"], body["apiVersion"]) != ("hashedrekord", "0.0.1"):
            raise SignatureError(f"unexpected Rekor entry {body['kind']}/{body['apiVersion']}")
        spec = body["spec"]
        logged_hash = spec["data"]["hash"]
        logged_sig = base64.b64decode(spec["signature"]["content"])
        logged_cert = base64.b64decode(spec["signature"]["publicKey"]["content"])
    except (KeyError, TypeError, ValueError):
        raise SignatureError("malformed hashedrekord body in the Rekor bundle") from None
    same_cert = _x509.same_pem(logged_cert, certificate)
    if (
        logged_hash.get("algorithm") != "sha256"
        or logged_hash.get("value") != hashlib.sha256(payload).hexdigest()
        or logged_sig != signature
        or not same_cert
    ):
        raise SignatureError(
            "Rekor entry is inconsistent with the signature, payload or certificate"
        )


class _TagFormat(SignatureFormat):
    suffix: str
    layer_media_type: str
    max_layer_bytes: int

    def _layers(self, source: ImageSource, subject: Digest) -> tuple[str, list[_Layer]] | None:
        tag = attachment_tag(subject, self.suffix)
        raw = source.get_tag(tag)
        if raw is None:
            return None
        document = parse_manifest(raw.data, Digest.of(raw.data), raw.media_type or None)
        if not isinstance(document, Manifest):
            raise MalformedError(f"{tag}: expected a manifest, got an index")
        if len(document.layers) > MAX_LAYERS:
            raise MalformedError(f"{tag}: {len(document.layers)} layers exceeds {MAX_LAYERS}")
        layers = [
            _Layer(
                layer,
                read_blob(
                    source, layer, f"{tag} layer {layer.digest.short()}", self.max_layer_bytes
                ),
                layer.annotations,
            )
            for layer in document.layers
            if layer.media_type == self.layer_media_type
        ]
        return tag, layers

    def verify(
        self, source: ImageSource, subject: Digest, trust: TrustInputs
    ) -> list[SignatureVerification]:
        found = self._layers(source, subject)
        if found is None:
            return []
        tag, layers = found
        if not layers:
            return [
                SignatureVerification(
                    self.name, subject, tag, False, f"no {self.layer_media_type} layers"
                )
            ]
        trusted_root = None
        if trust.trusted_root is not None:
            from chainproof.trust.sigstore.verifier import load_trusted_root

            trusted_root = load_trusted_root(trust.trusted_root)
        results = []
        for index, layer in enumerate(layers):
            location = f"{tag}#{index}"
            try:
                results.extend(self._verify_layer(layer, subject, trust, trusted_root, location))
            except (SignatureError, MalformedError) as exc:
                results.append(SignatureVerification(self.name, subject, location, False, str(exc)))
        return results

    @abc.abstractmethod
    def _verify_layer(
        self,
        layer: _Layer,
        subject: Digest,
        trust: TrustInputs,
        trusted_root: TrustedRoot | None,
        location: str,
    ) -> list[SignatureVerification]:
        """Results for one attachment layer; raise SignatureError for a failed layer."""

    def _keyless_or_keys(
        self,
        layer: _Layer,
        signature: bytes,
        message: bytes,
        trust: TrustInputs,
        trusted_root: TrustedRoot | None,
    ) -> tuple[list[str], _Keyless | None]:
        """Signers (``key <id>`` per matching key) and the keyless material, if any."""
        signers = [
            f"key {k.key_id}"
            for k in trust.keys
            if k.verify(signature, message) and _pq_half_verifies(layer, k, message)
        ]
        keyless = None
        if not signers and ANN_CERTIFICATE in layer.annotations and trust.identities:
            if trusted_root is None:
                raise MissingTrustInputError("keyless signature but no trusted root was given")
            keyless = _verify_keyless_material(layer.annotations, trusted_root, trust.identities)
            key = VerificationKey.from_public_key(keyless.certificate.public_key(), "certificate")
            if trust.fips:
                from chainproof.trust.fips import certificate_refusal

                if reason := certificate_refusal(keyless.certificate):
                    raise SignatureError(f"FIPS mode: signing {reason}")
            if not key.verify(signature, message):
                raise SignatureError("signature does not verify with the signing certificate")
            signers = [keyless.signer]
        return signers, keyless


def _pq_half_verifies(layer: _Layer, key: VerificationKey, message: bytes) -> bool:
    """A hybrid key also needs its ML-DSA-65 signature (chainproof's extension annotation)."""
    if key.pq is None:
        return True
    text = layer.annotations.get(ANN_PQ_SIGNATURE, "")
    if not text:
        return False
    try:
        signature = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return key.pq.verify(signature, message)


class CosignSignatures(_TagFormat):
    """``.sig`` tags: simple-signing payloads signed by keys or keyless certificates."""

    name = "cosign"
    suffix = "sig"
    layer_media_type = SIMPLESIGNING_MEDIA_TYPE
    max_layer_bytes = MAX_PAYLOAD_BYTES

    def _verify_layer(
        self,
        layer: _Layer,
        subject: Digest,
        trust: TrustInputs,
        trusted_root: TrustedRoot | None,
        location: str,
    ) -> list[SignatureVerification]:
        check_simplesigning(layer.payload, subject)
        text = layer.annotations.get(ANN_SIGNATURE, "")
        if not text:
            raise SignatureError("layer has no signature annotation")
        signature = _b64(text, "signature annotation")
        signers, keyless = self._keyless_or_keys(
            layer, signature, layer.payload, trust, trusted_root
        )
        if keyless is not None:
            _check_hashedrekord(keyless.body, layer.payload, signature, keyless.certificate)
        if not signers:
            return [self._unverified(subject, location, layer, trust)]
        return [
            SignatureVerification(self.name, subject, location, True, "signature verified", s)
            for s in signers
        ]

    def _unverified(
        self, subject: Digest, location: str, layer: _Layer, trust: TrustInputs
    ) -> SignatureVerification:
        unconfigured = True
        if ANN_CERTIFICATE in layer.annotations and not trust.identities:
            reason = "keyless signature but no certificate identity was given"
        elif trust.keys:
            reason = "signature does not verify with any of the given keys"
            unconfigured = False
        else:
            reason = "no key or certificate identity to verify against"
        return SignatureVerification(
            self.name, subject, location, False, reason, unconfigured=unconfigured
        )


class CosignAttestations(_TagFormat):
    """``.att`` tags: DSSE envelopes with in-toto statements naming the image."""

    name = "cosign-attestation"
    suffix = "att"
    layer_media_type = DSSE_MEDIA_TYPE
    max_layer_bytes = MAX_ATTESTATION_BYTES

    def _verify_layer(
        self,
        layer: _Layer,
        subject: Digest,
        trust: TrustInputs,
        trusted_root: TrustedRoot | None,
        location: str,
    ) -> list[SignatureVerification]:
        envelope = parse_envelope(layer.payload, f"{location} envelope")
        if envelope.payload_type != INTOTO_PAYLOAD_TYPE:
            raise SignatureError(f"unexpected DSSE payload type {envelope.payload_type!r}")
        message = envelope.pae()
        signature = envelope.signatures[0].sig
        signers, keyless = self._keyless_or_keys(layer, signature, message, trust, trusted_root)
        if keyless is not None:
            from chainproof.trust.sigstore.verifier import check_intoto_v002_body

            cert = keyless.certificate
            check_intoto_v002_body(
                json.dumps(keyless.body).encode(),
                envelope.payload,
                [s.sig for s in envelope.signatures],
                lambda pem: _x509.same_pem(pem, cert),
            )
        if not signers:
            return [
                SignatureVerification(
                    self.name, subject, location, False, "attestation signature does not verify"
                )
            ]
        statement = parse_statement(envelope.payload, f"{location} statement")
        if not statement.has_subject(subject.algorithm, subject.encoded):
            raise SignatureError(f"attestation names no subject with digest {subject}")
        return [
            SignatureVerification(
                self.name,
                subject,
                location,
                True,
                f"attestation {statement.predicate_type} verified",
                s,
                statement=statement.to_json(),
                attestation=True,
            )
            for s in signers
        ]
