"""Each Notary Project certificate rule, tested on chains built here and on the real fixtures.

The rules are those of the Notary Project signature specification ("Certificate Requirements")
and trust-store/trust-policy specification ("Certificate Revocation Evaluation"); docs/adr/0019
says which of them ``cryptography.x509.verification`` enforces and which chainproof checks
itself. Every case builds the smallest chain that breaks one rule and nothing else.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from chainproof.errors import SignatureError
from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.model import Descriptor
from chainproof.trust.notation.certificates import (
    CA_POLICY,
    SIGNING_POLICY,
    revocation_unavailable,
    verify_chain,
)
from chainproof.trust.notation.envelope import JWS_MEDIA_TYPE, parse_envelope
from chainproof.trust.notation.trustpolicy import PolicyStatement, TrustPolicy
from chainproof.trust.notation.truststore import TrustStore
from chainproof.trust.notation.verify import NotationOutcome, verify_envelope
from tests.trust.notary_pki import make_jws

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
TARGET = Descriptor(mt.OCI_MANIFEST, Digest.of(b"windows image manifest"), 1234)
CODE_SIGNING = [ExtendedKeyUsageOID.CODE_SIGNING]
Key = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _usage(**set_bits: bool) -> x509.KeyUsage:
    bits = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    return x509.KeyUsage(**{**bits, **set_bits})


@dataclass
class Spec:
    """One certificate: what a rule-abiding one has, each field overridable."""

    cn: str
    ca: bool
    key: Key = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    basic_constraints: x509.BasicConstraints | None = None  # None: the default for ca
    bc_critical: bool = True
    omit_bc: bool = False
    key_usage: x509.KeyUsage | None = None
    ku_critical: bool = True
    omit_ku: bool = False
    eku: list[x509.ObjectIdentifier] | None = None
    extra: list[tuple[x509.ExtensionType, bool]] = field(default_factory=list)
    start: dt.datetime = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    end: dt.datetime = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    hash: hashes.HashAlgorithm = field(default_factory=hashes.SHA256)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "WA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def build(*specs: Spec) -> list[x509.Certificate]:
    """The chain leaf first; each certificate issued by the next, the last self-signed."""
    chain: list[x509.Certificate] = []
    for spec, issuer in zip(specs, [*specs[1:], specs[-1]], strict=True):
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(spec.cn))
            .issuer_name(_name(issuer.cn))
            .public_key(spec.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(spec.start)
            .not_valid_after(spec.end)
        )
        if not spec.omit_bc:
            constraints = spec.basic_constraints or x509.BasicConstraints(spec.ca, None)
            builder = builder.add_extension(constraints, critical=spec.bc_critical)
        if not spec.omit_ku:
            usage = spec.key_usage or (
                _usage(key_cert_sign=True, crl_sign=True)
                if spec.ca
                else _usage(digital_signature=True)
            )
            builder = builder.add_extension(usage, critical=spec.ku_critical)
        eku = spec.eku if spec.eku is not None else (None if spec.ca else CODE_SIGNING)
        if eku:
            builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        for extension, critical in spec.extra:
            builder = builder.add_extension(extension, critical=critical)
        chain.append(builder.sign(issuer.key, spec.hash))  # type: ignore[arg-type]
    return chain


def check(chain: list[x509.Certificate], anchors: list[x509.Certificate] | None = None) -> str:
    """ "" when the chain validates to its root (or ``anchors``), else the refusal."""
    try:
        verify_chain(chain, anchors if anchors is not None else [chain[-1]])
    except SignatureError as exc:
        return str(exc)
    return ""


def leaf(**kw: object) -> Spec:
    return Spec("Signer", ca=False, **kw)  # type: ignore[arg-type]


def ca(cn: str = "Root", **kw: object) -> Spec:
    return Spec(cn, ca=True, **kw)  # type: ignore[arg-type]


def test_a_compliant_chain_validates_and_the_policies_are_notarys() -> None:
    assert check(build(leaf(), ca("Intermediate"), ca())) == ""
    # The extension policies are the objects handed to cryptography (not webpki defaults).
    assert CA_POLICY is not SIGNING_POLICY


# --------------------------------------------------------------------- path length


def test_path_length_constraint() -> None:
    root_zero = ca(basic_constraints=x509.BasicConstraints(True, 0))
    assert "path length" in check(build(leaf(), ca("Intermediate"), root_zero))
    root_one = ca(basic_constraints=x509.BasicConstraints(True, 1))
    assert check(build(leaf(), ca("Intermediate"), root_one)) == ""
    middle_zero = ca("Intermediate", basic_constraints=x509.BasicConstraints(True, 0))
    assert "path length" in check(build(leaf(), ca("Issuing"), middle_zero, ca()))
    assert check(build(leaf(), middle_zero, ca())) == ""


def test_chain_longer_than_the_envelope_allows() -> None:
    chain = build(leaf(), *[ca(f"CA {i}") for i in range(10)])
    assert "1 to 10 certificates" in check(chain)


# --------------------------------------------------------------------- name constraints


def _constrained(subtree: x509.GeneralName) -> Spec:
    return ca(
        "Intermediate",
        extra=[(x509.NameConstraints(permitted_subtrees=[subtree], excluded_subtrees=None), True)],
    )


def _with_san(name: str) -> Spec:
    return leaf(extra=[(x509.SubjectAlternativeName([x509.DNSName(name)]), False)])


def test_name_constraints_are_enforced() -> None:
    permitted = _constrained(x509.DNSName("example.com"))
    assert "name constraint" in check(build(_with_san("signer.evil.org"), permitted, ca()))
    assert check(build(_with_san("signer.example.com"), permitted, ca())) == ""


def test_directory_name_constraints_are_refused_not_ignored() -> None:
    # cryptography cannot evaluate directoryName subtrees; chainproof fails closed (ADR 0019).
    subtree = x509.DirectoryName(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "X")]))
    assert "directoryName" in check(build(leaf(), _constrained(subtree), ca()))


# --------------------------------------------------------------------- code-signing EKU


@pytest.mark.parametrize(
    ("eku", "ok"),
    [
        ([], True),  # absent: allowed
        (CODE_SIGNING, True),
        ([ExtendedKeyUsageOID.SERVER_AUTH], False),
        ([ExtendedKeyUsageOID.CODE_SIGNING, ExtendedKeyUsageOID.CLIENT_AUTH], False),
        ([ExtendedKeyUsageOID.CODE_SIGNING, ExtendedKeyUsageOID.TIME_STAMPING], False),
        ([ExtendedKeyUsageOID.CODE_SIGNING, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE], False),
        ([ExtendedKeyUsageOID.EMAIL_PROTECTION], False),
    ],
)
def test_code_signing_eku(eku: list[x509.ObjectIdentifier], ok: bool) -> None:
    problem = check(build(leaf(eku=eku), ca()))
    assert (problem == "") == ok, problem
    if not ok:
        assert "extended key usage is not code signing" in problem


# --------------------------------------------------------------------- key usage


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        (leaf(omit_ku=True), "keyUsage extension: Certificate is missing required extension"),
        (leaf(ku_critical=False), "keyUsage extension: Certificate extension has incorrect"),
        (leaf(key_usage=_usage(content_commitment=True)), "lacks the digitalSignature"),
        (leaf(key_usage=_usage(digital_signature=True, key_cert_sign=True)), "must not have"),
        (leaf(key_usage=_usage(digital_signature=True, key_encipherment=True)), "must not have"),
        (leaf(key_usage=_usage(digital_signature=True, crl_sign=True)), "must not have"),
    ],
)
def test_signing_certificate_key_usage(spec: Spec, reason: str) -> None:
    assert reason in check(build(spec, ca()))


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        (ca("Intermediate", key_usage=_usage(crl_sign=True)), "lacks the keyCertSign"),
        (ca("Intermediate", omit_ku=True), "keyUsage extension: Certificate is missing"),
        (ca("Intermediate", ku_critical=False), "keyUsage extension: Certificate extension has"),
    ],
)
def test_ca_key_usage(spec: Spec, reason: str) -> None:
    assert reason in check(build(leaf(), spec, ca()))


# --------------------------------------------------------------------- CA basic constraints


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        (ca("Intermediate", omit_bc=True), "CA certificate has no basicConstraints"),
        (ca("Intermediate", bc_critical=False), "basicConstraints extension: Certificate exten"),
        (ca("Intermediate", basic_constraints=x509.BasicConstraints(False, None)), "CA"),
    ],
)
def test_ca_basic_constraints(spec: Spec, reason: str) -> None:
    assert reason in check(build(leaf(), spec, ca()))


def test_signing_certificate_basic_constraints() -> None:
    signer_ca = leaf(
        basic_constraints=x509.BasicConstraints(True, None),
        key_usage=_usage(digital_signature=True),
    )
    assert "signing certificate is a CA certificate" in check(build(signer_ca, ca()))
    assert check(build(leaf(omit_bc=True), ca())) == ""  # optional for a leaf
    assert check(build(leaf(bc_critical=False), ca())) == ""


# --------------------------------------------------------------------- chain shape and anchors


def test_envelope_chain_must_be_the_ordered_path_to_a_root() -> None:
    leaf_cert, intermediate, root = build(leaf(), ca("Intermediate"), ca())
    assert "is not issued by" in check([leaf_cert, root, intermediate], [root])
    assert "does not end in a self-signed root" in check([leaf_cert, intermediate], [intermediate])
    stranger = build(ca("Stranger"))[0]
    assert "is not issued by" in check([leaf_cert, intermediate, root, stranger], [root])


def test_any_certificate_of_the_chain_may_be_the_anchor() -> None:
    leaf_cert, intermediate, root = build(leaf(), ca("Intermediate"), ca())
    assert check([leaf_cert, intermediate, root], [intermediate]) == ""
    assert check([leaf_cert, intermediate, root], [leaf_cert]) == ""
    other_root = build(ca("Other"))[0]
    assert "trust stores" in check([leaf_cert, intermediate, root], [other_root])


def test_single_self_signed_signing_certificate() -> None:
    # "If the certificate chain contains only a root certificate then the root certificate
    # MUST meet Leaf Certificates requirements."
    (alone,) = build(leaf(omit_bc=True))
    assert check([alone]) == ""
    (ca_alone,) = build(ca())
    assert check([ca_alone]) == "signing certificate is a CA certificate"


# --------------------------------------------------------------------- algorithms, extensions


def test_sha1_certificate_signatures_are_refused(tmp_path: Path) -> None:
    # cryptography will not make a SHA-1 signature; openssl (a test dependency) still does.
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not installed (apt-get install openssl; `make test` installs it)")
    root_spec = ca()
    (root,) = build(root_spec)
    (tmp_path / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "root.key").write_bytes(
        root_spec.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (tmp_path / "ext").write_text(
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n"
    )
    run = functools.partial(subprocess.run, check=True, capture_output=True, cwd=tmp_path)
    run(
        [
            openssl,
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-subj",
            "/CN=Signer",
            "-out",
            "leaf.csr",
        ]
    )
    run([openssl, "x509", "-req", "-in", "leaf.csr", "-CA", "root.pem", "-CAkey", "root.key",
         "-sha1", "-days", "10", "-extfile", "ext", "-out", "leaf.pem"])  # fmt: skip
    sha1_leaf = x509.load_pem_x509_certificate((tmp_path / "leaf.pem").read_bytes())
    assert sha1_leaf.signature_hash_algorithm is not None
    assert sha1_leaf.signature_hash_algorithm.name == "sha1"
    now = dt.datetime.now(dt.UTC)
    assert sha1_leaf.not_valid_before_utc <= now  # (openssl dates it from now)
    assert "CN=Signer is signed with SHA1, which is refused" in check([sha1_leaf, root])


def test_short_rsa_keys_are_refused() -> None:
    weak = rsa.generate_private_key(65537, 1024)  # noqa: S505 - the point of the test
    assert "RSA-1024 key; 2048 bits is the minimum" in check(build(leaf(key=weak), ca()))
    assert check(build(leaf(key=rsa.generate_private_key(65537, 2048)), ca())) == ""
    weak_ca = ca("Intermediate", key=rsa.generate_private_key(65537, 1024))  # noqa: S505
    assert "RSA-1024" in check(build(leaf(), weak_ca, ca()))
    k1 = leaf(key=ec.generate_private_key(ec.SECP256K1()))
    assert "not P-256/384/521" in check(build(k1, ca()))


def test_unknown_critical_extension_is_refused() -> None:
    # RFC 5280 4.2 (fail closed), not the Notary "fail open" clause: ADR 0019.
    unknown = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x05\x00")
    assert "critical extension" in check(build(leaf(extra=[(unknown, True)]), ca()))
    assert check(build(leaf(extra=[(unknown, False)]), ca())) == ""


# --------------------------------------------------------------------- validity


def test_validity_is_judged_at_signing_time_not_by_the_path_check() -> None:
    # Expired now, valid at signing: the path check passes; the time is the
    # authentic-timestamp step's (validity_problem with the signing or TSA time).
    expired = build(leaf(end=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)), ca())
    assert check(expired) == ""
    never = build(
        leaf(
            start=dt.datetime(2020, 1, 1, tzinfo=dt.UTC), end=dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
        ),
        ca(),
    )
    assert "never valid at the same time" in check(never)


def test_validity_nesting_is_not_required() -> None:
    # "MUST NOT enforce validity period nesting": a leaf may outlive its issuer.
    chain = build(leaf(end=dt.datetime(2040, 1, 1, tzinfo=dt.UTC)), ca())
    assert check(chain) == ""


def _statement(level: str, override: dict[str, str] | None = None) -> PolicyStatement:
    verification: dict[str, object] = {"level": level}
    if override:
        verification["override"] = override
    doc = {
        "version": "1.0",
        "trustPolicies": [
            {
                "name": "p",
                "registryScopes": ["*"],
                "signatureVerification": verification,
                "trustStores": ["ca:example", "signingAuthority:example"],
                "trustedIdentities": ["*"],
            }
        ],
    }
    return TrustPolicy.parse(json.dumps(doc).encode()).statements[0]


def _store(tmp_path: Path, root: x509.Certificate) -> TrustStore:
    for kind in ("ca", "signingAuthority"):
        folder = tmp_path / "x509" / kind / "example"
        folder.mkdir(parents=True)
        (folder / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    return TrustStore(tmp_path)


def test_signing_authority_time_decides_validity(tmp_path: Path) -> None:
    # Expired now (June), valid at the authentic signing time (May 1st): verified.
    signer = leaf(end=dt.datetime(2026, 5, 15, tzinfo=dt.UTC))
    chain = build(signer, ca())
    store = _store(tmp_path, chain[-1])
    strict = _statement("strict")
    for when, ok in (("2026-05-01T10:00:00Z", True), ("2026-05-20T10:00:00Z", False)):
        data = make_jws(_ec(signer), chain, TARGET, signing_authority=True, signing_time=when)
        outcome = verify_envelope(
            parse_envelope(data, JWS_MEDIA_TYPE), strict, store, target=TARGET, now=NOW
        )
        assert outcome.verified == ok, outcome.reason
        if not ok:
            assert "expired" in outcome.reason
    assert chain[0].not_valid_after_utc < NOW


def _ec(spec: Spec) -> ec.EllipticCurvePrivateKey:
    assert isinstance(spec.key, ec.EllipticCurvePrivateKey)
    return spec.key


# --------------------------------------------------------------------- revocation


def test_revocation_strict_fails_closed_when_status_cannot_be_determined(tmp_path: Path) -> None:
    """Notary Project trust-store and trust-policy specification, "Certificate Revocation
    Evaluation": "If the revocation status of any of the certificates is revoked or cannot be
    determined (revocation unavailable), fail this step"; ``strict`` enforces revocation.
    chainproof verifies offline, so a certificate naming OCSP or a CRL cannot be checked."""
    ocsp = x509.AuthorityInformationAccess(
        [
            x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP,
                x509.UniformResourceIdentifier("http://ocsp.example.test"),
            )
        ]
    )
    signer = leaf(extra=[(ocsp, False)])
    chain = build(signer, ca())
    store = _store(tmp_path, chain[-1])
    envelope = parse_envelope(make_jws(_ec(signer), chain, TARGET), JWS_MEDIA_TYPE)

    def outcome(level: str, override: dict[str, str] | None = None) -> NotationOutcome:
        statement = _statement(level, override)
        return verify_envelope(envelope, statement, store, target=TARGET, now=NOW)

    strict = outcome("strict")
    assert not strict.verified
    assert "revocation status" in strict.reason and "cannot be determined" in strict.reason
    permissive = outcome("permissive")
    assert permissive.verified and any(w.startswith("revocation:") for w in permissive.warnings)
    assert outcome("strict", {"revocation": "log"}).verified
    skipped = outcome("strict", {"revocation": "skip"})
    assert skipped.verified and not skipped.warnings
    # Without OCSP or CRL information strict verification passes, and says nothing.
    plain_signer = leaf()
    plain = build(plain_signer, ca())
    plain_envelope = parse_envelope(make_jws(_ec(plain_signer), plain, TARGET), JWS_MEDIA_TYPE)
    quiet = verify_envelope(
        plain_envelope,
        _statement("strict"),
        _store(tmp_path / "plain", plain[-1]),
        target=TARGET,
        now=NOW,
    )
    assert quiet.verified and quiet.warnings == (), quiet


def test_no_revocation_information_means_not_revoked() -> None:
    # "If the certificate being validated doesn't include information OCSP or CRLs then no
    # revocation check is performed and the certificate is considered valid (not revoked)."
    assert revocation_unavailable(build(leaf(), ca())) == ""
    crl = x509.CRLDistributionPoints(
        [
            x509.DistributionPoint(
                [x509.UniformResourceIdentifier("http://crl.example.test/ca.crl")],
                None,
                None,
                None,
            )
        ]
    )
    with_crl = build(leaf(), ca(extra=[(crl, False)]))
    assert "a CRL" in revocation_unavailable(with_crl)


# --------------------------------------------------------------------- the real fixtures


def test_real_notation_go_envelopes_pass_strict_without_revocation_warning(
    shared_fixtures: Path,
) -> None:
    base = shared_fixtures / "signing" / "notation-notation-go"
    anchor = x509.load_pem_x509_certificate((base / "alpine-selfsigned-2000-2123.pem").read_bytes())
    for name in ("jws_signature.sig", "cose_signature.sig"):
        media = JWS_MEDIA_TYPE if name.startswith("jws") else "application/cose"
        envelope = parse_envelope((base / name).read_bytes(), media)
        assert verify_chain(envelope.chain, [anchor]) == [anchor]
        assert revocation_unavailable(envelope.chain) == ""


def test_real_timestamp_chains_meet_the_leaf_rules(shared_fixtures: Path) -> None:
    base = shared_fixtures / "signing" / "notation-notation-go"
    trusted = base / "truststore" / "x509" / "ca" / "valid-trust-store" / "TestTimestamp.crt"
    anchor = x509.load_pem_x509_certificate(trusted.read_bytes())
    envelope = parse_envelope(
        (base / "timestamp" / "sigEnv" / "jwsWithTimestamp.sig").read_bytes(), JWS_MEDIA_TYPE
    )
    assert verify_chain(envelope.chain, [anchor])
    # The real Microsoft root: a CA certificate, so never a signing certificate, and it did not
    # issue the notation-go test certificate.
    microsoft = x509.load_der_x509_certificate(
        (
            shared_fixtures
            / "signing"
            / "microsoft-supplychain-root"
            / "Microsoft_Supply_Chain_RSA_Root_CA_2022.crt"
        ).read_bytes()
    )
    assert check([microsoft]) == "signing certificate is a CA certificate"
    assert "is not issued by" in check([envelope.chain[0], microsoft], [microsoft])
