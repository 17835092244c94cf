"""PKCS#11 keys in a real SoftHSM2 token: sign inside the token, verify by URI and by PEM."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from chainproof.errors import InputError, MalformedError, NotFoundError, UsageError
from chainproof.oci.digest import Digest
from chainproof.trust.cosign.sign import sign_image
from chainproof.trust.cosign.verify import CosignSignatures
from chainproof.trust.interface import TrustInputs
from chainproof.trust.keys.pkcs11 import parse_uri
from chainproof.trust.keys.private import public_pem
from chainproof.trust.keys.registry import load_key, load_signer
from tests.trust.memsource import MemorySource

if TYPE_CHECKING:
    from collections.abc import Iterator

MODULES = [
    Path("/usr/lib/softhsm/libsofthsm2.so"),
    Path("/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"),
]
MODULE = next((m for m in MODULES if m.is_file()), None)
IMAGE = Digest.of(b"hsm-signed image")


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SoftHSM2 token with one ECDSA P-256 and one RSA-3072 key pair.

    Module-scoped: SoftHSM reads its configuration once per process, when the library is
    first initialised, so every test in the process must share one token directory.
    """
    pkcs11 = pytest.importorskip("pkcs11")
    if MODULE is None or shutil.which("softhsm2-util") is None:
        pytest.skip("SoftHSM2 is not installed (apt install softhsm2)")
    from pkcs11 import Attribute, KeyType
    from pkcs11.util.ec import encode_named_curve_parameters

    tmp_path = tmp_path_factory.mktemp("softhsm")
    (tmp_path / "tokens").mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\n")
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            "chainproof",
            "--pin",
            "1234",
            "--so-pin",
            "5678",
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "SOFTHSM2_CONF": str(conf)},
    )
    lib = pkcs11.lib(str(MODULE))
    with lib.get_token(token_label="chainproof").open(rw=True, user_pin="1234") as session:
        params = session.create_domain_parameters(
            KeyType.EC,
            {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
            local=True,
        )
        params.generate_keypair(store=True, label="ec-signer", id=b"\x01")
        session.generate_keypair(KeyType.RSA, 3072, store=True, label="rsa-signer", id=b"\x02")
    yield f"pkcs11:token=chainproof;object={{}}?module-path={MODULE}&pin-value=1234"
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


@pytest.mark.integration
@pytest.mark.parametrize("label", ["ec-signer", "rsa-signer"])
def test_sign_in_token_and_verify(token: str, label: str, tmp_path: Path) -> None:
    uri = token.format(label)
    signer = load_signer(uri)
    source = MemorySource()
    attachment = sign_image(IMAGE, signer, "registry.example/hsm")
    source.blobs.update(attachment.blobs)
    source.tags[attachment.tag] = attachment.manifest
    # Verify by URI (public key read from the token) …
    by_uri = load_key(uri)
    assert by_uri.key_id == signer.public.key_id
    results = CosignSignatures().verify(source, IMAGE, TrustInputs(keys=(by_uri,)))
    assert [r.verified for r in results] == [True]
    # … and by the exported PEM, as a cosign user would.
    pem = tmp_path / "hsm.pub"
    pem.write_bytes(public_pem(signer))
    assert (
        CosignSignatures()
        .verify(source, IMAGE, TrustInputs(keys=(load_key(str(pem)),)))[0]
        .verified
    )


@pytest.mark.integration
def test_token_errors(token: str) -> None:
    with pytest.raises(NotFoundError):
        load_key(token.format("no-such-key"))
    with pytest.raises(InputError, match="PIN is incorrect"):
        load_signer(token.format("ec-signer").replace("pin-value=1234", "pin-value=0000"))
    with pytest.raises(NotFoundError):
        load_key(token.format("ec-signer").replace("token=chainproof", "token=absent"))


def test_uri_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pin = tmp_path / "pin"
    pin.write_text("4321\n")
    ref = parse_uri(f"pkcs11:token=My%20Token;id=%01%02?module-path=/m.so&pin-source=file:{pin}")
    assert (ref.token, ref.key_id, ref.module_path, ref.pin) == (
        "My Token",
        b"\x01\x02",
        "/m.so",
        "4321",
    )
    for bad in (
        "pkcs11:token=a",
        "pkcs11:object=a;object=b",
        "pkcs11:object=a;bogus=1",
        "pkcs11:object",
        "pkcs11:object=a;slot-id=x",
    ):
        with pytest.raises(MalformedError):
            parse_uri(bad)
    monkeypatch.delenv("PKCS11_MODULE", raising=False)
    with pytest.raises(UsageError, match="module-path"):
        _ = parse_uri("pkcs11:object=a").module


@pytest.mark.integration
def test_token_key_signs_notation_and_bundles(token: str, tmp_path: Path) -> None:
    """The new referrer formats take key URIs too: the ECDSA key signs inside the token; the
    RSA key is refused for Notation (PSS), with the reason."""
    import datetime as dt
    import json

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from chainproof.errors import UnsupportedError
    from chainproof.oci.model import Descriptor
    from chainproof.trust.notation.envelope import JWS_MEDIA_TYPE, parse_envelope
    from chainproof.trust.notation.sign import NotationSigner, jws_envelope
    from chainproof.trust.notation.trustpolicy import TrustPolicy
    from chainproof.trust.notation.truststore import TrustStore
    from chainproof.trust.notation.verify import verify_envelope
    from chainproof.trust.sigstore.bundle import verify_bundle
    from chainproof.trust.sigstore.sign import dsse_bundle, statement
    from tests.trust.notary_pki import _name, make_cert

    signer = load_signer(token.format("ec-signer"))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = make_cert("HSM Root", ca_key, None, ca=True)
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("HSM Signer"))
        .issuer_name(ca.subject)
        .public_key(signer.public.public_key)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    target = Descriptor("application/vnd.oci.image.manifest.v1+json", IMAGE, 321)
    envelope = parse_envelope(
        jws_envelope(target, NotationSigner(signer, (leaf, ca)), now, None), JWS_MEDIA_TYPE
    )
    store = tmp_path / "x509" / "ca" / "hsm"
    store.mkdir(parents=True)
    (store / "root.der").write_bytes(ca.public_bytes(serialization.Encoding.DER))
    policy = TrustPolicy.parse(
        json.dumps(
            {
                "version": "1.0",
                "trustPolicies": [
                    {
                        "name": "hsm",
                        "registryScopes": ["*"],
                        "signatureVerification": {"level": "strict"},
                        "trustStores": ["ca:hsm"],
                        "trustedIdentities": ["*"],
                    }
                ],
            }
        ).encode()
    )
    outcome = verify_envelope(
        envelope, policy.for_reference("r/x:1"), TrustStore(tmp_path), target=target, now=now
    )
    assert outcome.verified, outcome.reason

    bundle = dsse_bundle(statement(target, "r/x"), signer)
    verified = verify_bundle(
        bundle,
        None,
        artifact_sha256=bytes.fromhex(IMAGE.encoded),
        keys=(signer.public,),
        ignore_tlog=True,
    )
    assert verified.signer == f"key {signer.public.key_id}"

    with pytest.raises(UnsupportedError, match="RSASSA-PSS"):
        NotationSigner(load_signer(token.format("rsa-signer")), (leaf, ca))
