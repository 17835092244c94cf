"""Sigstore bundles v0.1 to v0.3 verified offline against an explicit ``trusted_root.json``.

Keyless bundles go through :class:`sigstore.verify.Verifier` (certificate chain at the signing
time, SCT, Rekor inclusion proof + checkpoint + SET, RFC 3161 timestamps, and the log-entry
consistency check that closes CVE-2022-36056). chainproof adds what sigstore-python lacks:

* managed-key bundles (``verificationMaterial.publicKey``), verified against ``--key``;
* Rekor ``intoto/0.0.2`` entries (older cosign attestations);
* TSA validity windows as closed intervals (the trusted-root spec's ``TimeRange``);
* regexp identities, and a hard refusal of root CAs inside a bundle's certificate chain.

The subclass reaches into a few of sigstore-python's private hooks; the dependency is pinned to
one major version and the conformance suite in the tests notices any drift.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from pydantic import ValidationError
from sigstore._internal.trust import KeyringPurpose
from sigstore.errors import Error as SigstoreError
from sigstore.hashes import Hashed
from sigstore.models import Bundle, InvalidBundle, TransparencyLogEntry, TrustedRoot
from sigstore_models.bundle.v1 import Bundle as _BundleModelBase
from sigstore_models.bundle.v1 import VerificationMaterial as _VerificationMaterialBase
from sigstore_models.common.v1 import HashAlgorithm
from sigstore_models.rekor import v2 as rekor_v2
from sigstore_models.rekor.v1 import InclusionProof
from sigstore_models.rekor.v1 import TransparencyLogEntry as _LogEntryModelBase

from chainproof import _jsonutil as _json
from chainproof.errors import MalformedError, SignatureError
from chainproof.oci.model import Manifest
from chainproof.trust import _x509
from chainproof.trust.envelopes.dsse import INTOTO_PAYLOAD_TYPE, pae
from chainproof.trust.envelopes.intoto import COSIGN_SIGN_PREDICATE, Statement, parse_statement
from chainproof.trust.interface import (
    MissingTrustInputError,
    SignatureFormat,
    SignatureVerification,
    TrustInputs,
)
from chainproof.trust.sigstore.verifier import (
    IdentityPolicy,
    SigstoreVerifier,
    check_intoto_v002_body,
    first_line,
    load_trusted_root,
)

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

    from chainproof.oci.digest import Digest
    from chainproof.oci.model import Descriptor
    from chainproof.oci.sources.interface import ImageSource
    from chainproof.trust.interface import IdentityRule
    from chainproof.trust.keys.model import VerificationKey


#: Bundles carry a certificate chain, a log entry and perhaps a few timestamps.
MAX_BUNDLE_BYTES = 8 * 1024 * 1024


BUNDLE_MEDIA_TYPES = frozenset(str(t) for t in Bundle.BundleType)


#: The artifactType cosign v3 gives a bundle attached as an OCI referrer.
BUNDLE_ARTIFACT_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"


#: Bounds the work one image's referrers can cause.
MAX_REFERRERS = 64


@dataclass(frozen=True)
class BundleVerification:
    """What a verified bundle proved."""

    content: str  # "messageSignature" | "dsseEnvelope"
    signer: str  # "<san> (issuer <iss>)" or "key <key id>"
    payload_type: str = ""
    payload: bytes = b""
    message_digest: bytes = b""  # sha256 the message signature covers, when it says
    statement: Statement | None = None  # the in-toto statement of a DSSE bundle, parsed
    certificate: Certificate | None = None  # a keyless bundle's signing certificate


class _SetOnlyEntry(TransparencyLogEntry):
    """A v0.1 log entry with an inclusion promise but no inclusion proof (allowed in v0.1)."""

    def _validate(self) -> None:
        if self._inner.inclusion_promise is None or not self._inner.integrated_time:
            raise SignatureError("v0.1 bundle log entry has neither inclusion proof nor promise")

    def _verify(self, keyring: Any) -> None:
        self._verify_set(keyring)


class _Bundle(Bundle):
    """Upstream's bundle checks, except that v0.1 may rely on the SET alone (as the spec says)."""

    def _verify(self) -> None:
        inner = self._inner
        entries = inner.verification_material.tlog_entries
        if not (
            inner.media_type == str(Bundle.BundleType.BUNDLE_0_1)
            and len(entries) == 1
            and entries[0].inclusion_proof is None
        ):
            super()._verify()
            return
        chain = inner.verification_material.x509_certificate_chain
        if chain is None or not chain.certificates:
            raise InvalidBundle("expected non-empty certificate chain in bundle")
        self._signing_certificate = _x509.load_der(chain.certificates[0].raw_bytes, "bundle")
        if _x509.is_ca(self._signing_certificate):
            raise InvalidBundle("the first certificate of the chain is not a leaf")
        self._log_entry = _SetOnlyEntry(entries[0])


class _LogEntryModel(_LogEntryModelBase):
    # Optional in bundle v0.1 (the SET suffices); the bundle checks demand it for v0.2+.
    inclusion_proof: InclusionProof | None = None  # type: ignore[assignment]


class _VerificationMaterialModel(_VerificationMaterialBase):
    tlog_entries: list[_LogEntryModel]  # type: ignore[assignment]


class _BundleModel(_BundleModelBase):
    verification_material: _VerificationMaterialModel


def _parse(data: bytes) -> _BundleModel:
    if len(data) > MAX_BUNDLE_BYTES:
        raise MalformedError(f"bundle: {len(data)} bytes exceeds the {MAX_BUNDLE_BYTES} limit")
    obj = _json.loads_object(data, "bundle")
    media_type = obj.get("mediaType")
    if media_type not in BUNDLE_MEDIA_TYPES:
        raise MalformedError(f"bundle: unsupported bundle media type {media_type!r}")
    try:
        return _BundleModel.from_json(data)
    except (ValidationError, ValueError) as exc:
        raise MalformedError(f"bundle: {first_line(exc)}") from None


def _reject_root_in_chain(model: _BundleModel, trusted_root: TrustedRoot) -> None:
    """A root CA inside the bundle is refused unless it is one of our own trust anchors.

    Trust only ever comes from the trusted root; a foreign root in the chain is a sign of a
    forged or mis-assembled bundle. Old sigstore-js bundles repeat the real Fulcio root, which
    grants nothing and is accepted.
    """
    chain = model.verification_material.x509_certificate_chain
    if chain is None:
        return
    anchors = trusted_root.get_fulcio_certs()
    for raw in chain.certificates[1:]:
        cert = _x509.load_der(raw.raw_bytes, "bundle certificate chain")
        if _x509.is_ca(cert) and _x509.is_self_signed(cert) and cert not in anchors:
            raise SignatureError("bundle certificate chain contains an untrusted root certificate")


def verify_bundle(
    data: bytes,
    trusted_root: TrustedRoot | None,
    *,
    artifact: bytes | None = None,
    artifact_sha256: bytes | None = None,
    identities: tuple[IdentityRule, ...] = (),
    keys: tuple[VerificationKey, ...] = (),
    ignore_tlog: bool = False,
) -> BundleVerification:
    """Verify one bundle; raise SignatureError (failed) or MalformedError (unreadable).

    ``artifact`` / ``artifact_sha256`` is what a message signature must cover, or the digest
    an in-toto statement in a DSSE bundle must name as a subject. Keyless bundles need an
    ``identities`` match and a trusted root; managed-key bundles need one of ``keys``.
    ``ignore_tlog`` (cosign's ``--insecure-ignore-tlog``) accepts a managed-key bundle without
    a transparency-log entry (what ``cosign sign --key --tlog-upload=false`` and ``chainproof
    sign --bundle`` write); such a bundle proves the key signed, not when.
    """
    model = _parse(data)
    if artifact is not None:
        artifact_sha256 = hashlib.sha256(artifact).digest()
    try:
        if model.verification_material.public_key is not None:
            result = _verify_managed_key(model, trusted_root, keys, artifact_sha256, ignore_tlog)
        else:
            if trusted_root is None:
                raise MissingTrustInputError("keyless Sigstore bundle but no trusted root given")
            result = _verify_keyless(model, trusted_root, identities, artifact_sha256)
    except (SigstoreError, InvalidBundle) as exc:
        raise SignatureError(first_line(exc)) from None
    except (ValidationError, *_x509.PARSE_ERRORS) as exc:
        raise SignatureError(f"bundle: {first_line(exc)}") from None
    if result.content == "dsseEnvelope" and result.payload_type == INTOTO_PAYLOAD_TYPE:
        statement = parse_statement(result.payload)
        if artifact_sha256 is not None and not statement.has_subject(
            "sha256", artifact_sha256.hex()
        ):
            raise SignatureError(f"no in-toto subject has digest sha256:{artifact_sha256.hex()}")
        result = dataclasses.replace(result, statement=statement)
    elif result.content == "dsseEnvelope" and artifact_sha256 is not None:
        raise SignatureError(f"DSSE payload type {result.payload_type!r} names no subjects")
    return result


def _verify_keyless(
    model: _BundleModel,
    trusted_root: TrustedRoot,
    identities: tuple[IdentityRule, ...],
    artifact_sha256: bytes | None,
) -> BundleVerification:
    if not identities:
        raise MissingTrustInputError(
            "keyless bundle but no certificate identity to verify it against"
        )
    _reject_root_in_chain(model, trusted_root)
    bundle = _Bundle(model)
    verifier = SigstoreVerifier(trusted_root=trusted_root)
    policy = IdentityPolicy(identities)
    leaf = bundle.signing_certificate
    if model.dsse_envelope is not None:
        payload_type, payload = verifier.verify_dsse(bundle, policy)
        return BundleVerification(
            "dsseEnvelope", policy.matched, payload_type, payload, certificate=leaf
        )
    signature = model.message_signature
    if signature is None:
        raise SignatureError("bundle has neither a message signature nor a DSSE envelope")
    digest = artifact_sha256
    if digest is None:
        if signature.message_digest is None:
            raise SignatureError("no artifact given and the bundle names no message digest")
        digest = signature.message_digest.digest
    verifier.verify_artifact(
        Hashed(algorithm=HashAlgorithm.SHA2_256, digest=digest), bundle, policy
    )
    return BundleVerification(
        "messageSignature", policy.matched, message_digest=digest, certificate=leaf
    )


def _verify_managed_key(
    model: _BundleModel,
    trusted_root: TrustedRoot | None,
    keys: tuple[VerificationKey, ...],
    artifact_sha256: bytes | None,
    ignore_tlog: bool = False,
) -> BundleVerification:
    if not keys:
        raise MissingTrustInputError("bundle is signed with a managed key but no --key was given")
    entries = model.verification_material.tlog_entries
    if not entries:
        if not ignore_tlog:
            raise SignatureError(
                "managed-key bundle has no transparency log entry: accept it with "
                "--insecure-ignore-tlog (as cosign does), or sign with a transparency log"
            )
        return _verify_managed_key_untimed(model, keys, artifact_sha256)
    if trusted_root is None:
        raise MissingTrustInputError("Sigstore bundle with a log entry but no trusted root given")
    if len(entries) != 1:
        raise SignatureError(f"expected exactly one transparency log entry, got {len(entries)}")
    is_v01 = model.media_type == str(Bundle.BundleType.BUNDLE_0_1)
    if is_v01 and entries[0].inclusion_promise is None:
        raise SignatureError("v0.1 bundle without an inclusion promise")
    entry = (
        _SetOnlyEntry(entries[0])
        if is_v01 and entries[0].inclusion_proof is None
        else TransparencyLogEntry(entries[0])
    )
    # Inclusion proof, checkpoint and (when present) SET, against the root's Rekor keys.
    entry._verify(trusted_root.rekor_keyring(KeyringPurpose.VERIFY))
    signature = (
        model.dsse_envelope.signatures[0].sig
        if model.dsse_envelope is not None and model.dsse_envelope.signatures
        else model.message_signature.signature
        if model.message_signature is not None
        else b""
    )
    _managed_key_time(model, entry, trusted_root, signature)

    if model.dsse_envelope is not None:
        envelope = model.dsse_envelope
        if len(envelope.signatures) != 1:
            raise SignatureError("DSSE envelope must carry exactly one signature")
        message = pae(envelope.payload_type, envelope.payload)
        key = _first_key(keys, signature, message, prehashed=False)
        _check_managed_dsse_body(entry, envelope.payload, signature, key, message)
        return BundleVerification(
            "dsseEnvelope", f"key {key.key_id}", envelope.payload_type, envelope.payload
        )

    digest = _signed_digest(model, artifact_sha256)
    key = _first_key(keys, signature, digest, prehashed=True)
    _check_managed_hashedrekord_body(entry, signature, key, digest)
    return BundleVerification("messageSignature", f"key {key.key_id}", message_digest=digest)


def _verify_managed_key_untimed(
    model: _BundleModel, keys: tuple[VerificationKey, ...], artifact_sha256: bytes | None
) -> BundleVerification:
    """The signature alone, with no log entry or timestamp to check (``--insecure-ignore-tlog``)."""
    if model.dsse_envelope is not None:
        envelope = model.dsse_envelope
        if len(envelope.signatures) != 1:
            raise SignatureError("DSSE envelope must carry exactly one signature")
        message = pae(envelope.payload_type, envelope.payload)
        key = _first_key(keys, envelope.signatures[0].sig, message, prehashed=False)
        return BundleVerification(
            "dsseEnvelope", f"key {key.key_id}", envelope.payload_type, envelope.payload
        )
    digest = _signed_digest(model, artifact_sha256)
    assert model.message_signature is not None  # noqa: S101 - _signed_digest checked it
    key = _first_key(keys, model.message_signature.signature, digest, prehashed=True)
    return BundleVerification("messageSignature", f"key {key.key_id}", message_digest=digest)


def _signed_digest(model: _BundleModel, artifact_sha256: bytes | None) -> bytes:
    """The SHA-256 a message-signature bundle signed: the artifact's, which must agree with the
    digest the bundle names, or the bundle's own when no artifact is given."""
    message_signature = model.message_signature
    if message_signature is None:
        raise SignatureError("bundle has neither a message signature nor a DSSE envelope")
    digest = artifact_sha256
    if message_signature.message_digest is not None:
        if digest is not None and digest != message_signature.message_digest.digest:
            raise SignatureError("bundle message digest does not match the artifact")
        digest = digest or message_signature.message_digest.digest
    if digest is None:
        raise SignatureError("no artifact given and the bundle names no message digest")
    return digest


def _managed_key_time(
    model: _BundleModel, entry: TransparencyLogEntry, trusted_root: TrustedRoot, signature: bytes
) -> None:
    """At least one verified time source, as for keyless bundles (keys do not expire)."""
    times = 0
    if entry._inner.integrated_time and entry._inner.inclusion_promise:
        times += 1
    tsa = model.verification_material.timestamp_verification_data
    if tsa is not None and tsa.rfc3161_timestamps:
        from rfc3161_client import decode_timestamp_response

        verifier = SigstoreVerifier(trusted_root=trusted_root)
        for stamp in tsa.rfc3161_timestamps:
            response = decode_timestamp_response(stamp.signed_timestamp)
            if verifier._verify_signed_timestamp(response, signature) is not None:
                times += 1
    if times == 0:
        raise SignatureError("not enough sources of verified time")


def _first_key(
    keys: tuple[VerificationKey, ...], signature: bytes, message: bytes, *, prehashed: bool
) -> VerificationKey:
    for key in keys:
        if key.verify(signature, message, prehashed=prehashed):
            return key
    raise SignatureError("signature does not verify with any of the given keys")


def _same_key(pem_or_der: bytes, key: VerificationKey) -> bool:
    try:
        if pem_or_der.lstrip().startswith(b"-----BEGIN"):
            other = serialization.load_pem_public_key(pem_or_der)
        else:
            other = serialization.load_der_public_key(pem_or_der)
    except ValueError:
        return False
    return (
        other.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        == key.der()
    )


def _check_managed_hashedrekord_body(
    entry: TransparencyLogEntry, signature: bytes, key: VerificationKey, digest: bytes
) -> None:
    kind = entry._inner.kind_version
    body = entry._inner.canonicalized_body
    inconsistent = SignatureError("transparency log entry is inconsistent with other materials")
    if (kind.kind, kind.version) == ("hashedrekord", "0.0.1"):
        try:
            spec = json.loads(body)["spec"]
            logged_sig = base64.b64decode(spec["signature"]["content"])
            logged_key = base64.b64decode(spec["signature"]["publicKey"]["content"])
            logged_hash = spec["data"]["hash"]
        except (KeyError, TypeError, ValueError):
            raise inconsistent from None
        if (
            logged_sig != signature
            or not _same_key(logged_key, key)
            or logged_hash.get("algorithm") != "sha256"
            or logged_hash.get("value") != digest.hex()
        ):
            raise inconsistent
        return
    if (kind.kind, kind.version) == ("hashedrekord", "0.0.2"):
        try:
            logged = rekor_v2.entry.Entry.from_json(body).spec.hashed_rekord_v002
        except (ValidationError, ValueError):
            raise inconsistent from None
        if (
            logged is None
            or logged.data.digest != digest
            or logged.signature.content != signature
            or logged.signature.verifier.public_key is None
            or not _same_key(logged.signature.verifier.public_key.raw_bytes, key)
        ):
            raise inconsistent
        return
    raise SignatureError(f"unsupported log entry type {kind.kind}/{kind.version}")


def _check_managed_dsse_body(
    entry: TransparencyLogEntry,
    payload: bytes,
    signature: bytes,
    key: VerificationKey,
    message: bytes,
) -> None:
    kind = entry._inner.kind_version
    body = entry._inner.canonicalized_body
    if (kind.kind, kind.version) == ("intoto", "0.0.2"):
        check_intoto_v002_body(body, payload, [signature], lambda pem: _same_key(pem, key))
        return
    if (kind.kind, kind.version) == ("dsse", "0.0.1"):
        try:
            spec = json.loads(body)["spec"]
            hash_ok = spec["payloadHash"]["value"] == hashlib.sha256(payload).hexdigest()
            sigs = [
                (base64.b64decode(s["signature"]), base64.b64decode(s["verifier"]))
                for s in spec["signatures"]
            ]
        except (KeyError, TypeError, ValueError):
            raise SignatureError("malformed dsse/0.0.1 log entry") from None
        if not hash_ok or len(sigs) != 1 or sigs[0][0] != signature:
            raise SignatureError("transparency log entry is inconsistent with the envelope")
        if not _same_key(sigs[0][1], key):
            raise SignatureError("transparency log entry names a different key")
        return
    if (kind.kind, kind.version) == ("hashedrekord", "0.0.2"):
        _check_managed_hashedrekord_body(entry, signature, key, hashlib.sha256(message).digest())
        return
    raise SignatureError(f"unsupported DSSE log entry type {kind.kind}/{kind.version}")


class SigstoreBundles(SignatureFormat):
    """Sigstore bundles attached as OCI referrers (cosign v3 ``--new-bundle-format``).

    A message-signature bundle must sign the subject manifest's digest; a DSSE bundle's in-toto
    statement must name it as a subject.
    """

    name = "sigstore-bundle"

    def verify(
        self, source: ImageSource, subject: Digest, trust: TrustInputs
    ) -> list[SignatureVerification]:
        from chainproof.trust._referrers import find_referrers

        descriptors = find_referrers(source, subject, BUNDLE_ARTIFACT_TYPE)
        if not descriptors:
            return []
        root = load_trusted_root(trust.trusted_root) if trust.trusted_root else None
        results = []
        for descriptor in descriptors[:MAX_REFERRERS]:
            location = f"referrer {descriptor.digest}"
            try:
                data = self._bundle_bytes(source, descriptor, location)
                if data is None:
                    continue
                # With --key, a bundle without a log entry needs no root: verify_bundle says
                # whether it is acceptable (--insecure-ignore-tlog) or which input is missing.
                if root is None and not trust.keys:
                    raise MissingTrustInputError("Sigstore bundle but no trusted root was given")
                if subject.algorithm != "sha256":
                    raise SignatureError(f"bundles sign sha256 digests, not {subject.algorithm}")
                verified = verify_bundle(
                    data,
                    root,
                    artifact_sha256=bytes.fromhex(subject.encoded),
                    identities=trust.identities,
                    keys=trust.keys,
                    ignore_tlog=trust.ignore_tlog,
                )
                if trust.fips and verified.certificate is not None:
                    from chainproof.trust.fips import certificate_refusal

                    if reason := certificate_refusal(verified.certificate):
                        raise SignatureError(f"FIPS mode: signing {reason}")
            except (SignatureError, MalformedError) as exc:
                missing = isinstance(exc, MissingTrustInputError)
                results.append(
                    SignatureVerification(
                        self.name, subject, location, False, str(exc), unconfigured=missing
                    )
                )
                continue
            statement = None
            attestation = False
            reason = "bundle signature verified"
            if verified.statement is not None:
                statement = verified.statement.to_json()
                attestation = verified.statement.predicate_type != COSIGN_SIGN_PREDICATE
                if attestation:
                    reason = f"bundle attestation {verified.statement.predicate_type} verified"
            results.append(
                SignatureVerification(
                    self.name,
                    subject,
                    location,
                    True,
                    reason,
                    verified.signer,
                    statement,
                    attestation=attestation,
                )
            )
        return results

    @staticmethod
    def _bundle_bytes(source: ImageSource, descriptor: Descriptor, location: str) -> bytes | None:
        from chainproof.oci.image import fetch_manifest, read_blob

        document, _ = fetch_manifest(source, descriptor, location)
        if not isinstance(document, Manifest):
            return None
        if document.artifact_type not in ("", BUNDLE_ARTIFACT_TYPE) and not any(
            layer.media_type in BUNDLE_MEDIA_TYPES or layer.media_type == BUNDLE_ARTIFACT_TYPE
            for layer in document.layers
        ):
            return None
        for layer in document.layers:
            if layer.media_type == BUNDLE_ARTIFACT_TYPE or layer.media_type in BUNDLE_MEDIA_TYPES:
                return read_blob(source, layer, f"{location} bundle", MAX_BUNDLE_BYTES)
        return None
