"""Signature verification throughput: chainproof's formats next to their peers and the floor.

Inputs are the shared signing fixtures, served from memory (no registry on this branch):

* cosign ``.sig`` with three key-based layers (connaisseur dump, keys alice/bob/charlie)
* cosign ``.sig`` keyless (Fulcio chain + SCT + Rekor SET + log cross-check)
* a Sigstore bundle v0.3 DSSE attestation attached as a referrer
* Notation JWS and COSE signatures (RSASSA-PSS) attached as referrers

"cold" re-creates sources and clears the parsed-trusted-root cache before every round; "warm"
reuses them. Peers on the same inputs: sigstore-python's own ``Verifier.verify_dsse`` for the
bundle, and bare ``cryptography`` ECDSA-P256 / RSA-PSS verifications (the floor).

A second part ("registry") does what the issue asks literally: one image in a real local
``docker-registry`` carrying **5 signatures in mixed formats**, all written by chainproof (cosign
``.sig`` ECDSA, cosign ``.sig`` hybrid ECDSA+ML-DSA-65, key-signed Sigstore bundle, Notation JWS
ECDSA, Notation COSE RSA-3072-PSS), verified through the real ``SignatureCheck`` over HTTP:
cold = a new source per round (new connection, nothing cached), warm = one source whose
manifests-by-digest are cached (content-addressed, so safe to cache; tags and the referrers
fallback index are still read live, as a verifier must).

    .venv/bin/python bench/trust.py [--rounds N] [--no-registry]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from tests.conftest import SHARED_FIXTURES
from tests.trust.dumpsource import DumpSource
from tests.trust.memsource import MemorySource

from chainproof.oci.digest import Digest
from chainproof.oci.sources.interface import ImageSource, RawManifest
from chainproof.trust.cosign.verify import CosignSignatures
from chainproof.trust.interface import IdentityRule, TrustInputs
from chainproof.trust.keys.registry import load_key
from chainproof.trust.notation.envelope import ARTIFACT_TYPE, COSE_MEDIA_TYPE, JWS_MEDIA_TYPE
from chainproof.trust.notation.verify import NotationSignatures
from chainproof.trust.sigstore import verifier as sigstore_verifier
from chainproof.trust.sigstore.bundle import BUNDLE_ARTIFACT_TYPE, SigstoreBundles

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from chainproof.oci.model import Descriptor

SIGNING = SHARED_FIXTURES / "signing"
THREE = Digest.parse("sha256:bfec161fecb0a887df7cb85e4da327c65986ccda7060cf3cd92171c6c90d7533")
KEYLESS = Digest.parse("sha256:31dc72a13a0c34b40eb95419d2b2fd67320c856baf3b72da518023ee8d370aee")
BUNDLE_SUBJECT = Digest.parse(
    "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4"
)
NOTATION_TARGET = Digest.parse(
    "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0"
)


def _notation_setup(tmp: Path) -> tuple[MemorySource, TrustInputs]:
    base = SIGNING / "notation-notation-go"
    source = MemorySource()
    blob = base / "oci-layout" / "blobs" / "sha256" / NOTATION_TARGET.encoded
    source.manifests[str(NOTATION_TARGET)] = blob.read_bytes()
    for name, media_type in (
        ("jws_signature.sig", JWS_MEDIA_TYPE),
        ("cose_signature.sig", COSE_MEDIA_TYPE),
    ):
        source.add_artifact(
            [(media_type, (base / name).read_bytes(), {})],
            artifact_type=ARTIFACT_TYPE,
            subject=NOTATION_TARGET,
            subject_size=481,
        )
    store = tmp / "truststore" / "x509" / "ca" / "alpine"
    store.mkdir(parents=True)
    shutil.copy(base / "alpine-selfsigned-2000-2123.pem", store)
    policy = tmp / "trustpolicy.json"
    policy.write_text(
        '{"version": "1.0", "trustPolicies": [{"name": "all", "registryScopes": ["*"],'
        ' "signatureVerification": {"level": "strict"}, "trustStores": ["ca:alpine"],'
        ' "trustedIdentities": ["*"]}]}'
    )
    return source, TrustInputs(trust_policy=policy, reference="registry.example/alpine:v2")


def _bundle_source() -> MemorySource:
    source = MemorySource()
    data = (
        SIGNING / "cosign-oci-bundle-attestation" / "oci-attestation.sigstore.json"
    ).read_bytes()
    source.add_artifact(
        [(BUNDLE_ARTIFACT_TYPE, data, {})],
        artifact_type=BUNDLE_ARTIFACT_TYPE,
        subject=BUNDLE_SUBJECT,
    )
    return source


def _timed(label: str, rounds: int, per_round: int, fn: Callable[[], int]) -> float:
    fn()  # imports and first-use costs are not what we measure
    start = time.perf_counter()
    verified = 0
    for _ in range(rounds):
        verified += fn()
    elapsed = time.perf_counter() - start
    assert verified == rounds * per_round, f"{label}: {verified} != {rounds * per_round}"
    per_sec = rounds * per_round / elapsed
    print(f"  {label:<48} {elapsed / rounds * 1000:8.2f} ms/round  {per_sec:9.1f} verifications/s")
    return per_sec


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--no-registry", action="store_true", help="skip the registry part")
    args = parser.parse_args()
    rounds = args.rounds
    tmp = Path(tempfile.mkdtemp(prefix="chainproof-bench-"))
    try:
        _run(rounds, tmp)
        if not args.no_registry:
            _registry(rounds, tmp)
    finally:
        shutil.rmtree(tmp)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB (one core, single process)")


def _run(rounds: int, tmp: Path) -> None:
    dump_root = (
        SIGNING / "cosign-simplesigning-connaisseur" / "securesystemsengineering" / "testimage"
    )
    keys_dir = SIGNING / "cosign-simplesigning-connaisseur"
    keys = TrustInputs(
        keys=tuple(load_key(str(keys_dir / f"{n}.key")) for n in ("alice", "bob", "charlie"))
    )
    keyless = TrustInputs(
        identities=(
            IdentityRule(
                "philipp.belitz@securesystems.de", issuer="https://github.com/login/oauth"
            ),
        ),
        trusted_root=SIGNING / "sigstore-trusted-roots" / "production.trusted_root.json",
    )
    bundle_trust = TrustInputs(
        identities=(IdentityRule("cody@soyland.com", issuer="https://github.com/login/oauth"),),
        trusted_root=SIGNING / "cosign-oci-bundle-attestation" / "trusted_root_pgi.json",
    )
    notation_source, notation_trust = _notation_setup(tmp)

    def all_formats(cold: bool) -> int:
        if cold:
            sigstore_verifier.clear_caches()
        dump = DumpSource(dump_root) if cold else warm_dump
        bundles = _bundle_source() if cold else warm_bundles
        count = 0
        count += sum(r.verified for r in CosignSignatures().verify(dump, THREE, keys))
        count += sum(r.verified for r in CosignSignatures().verify(dump, KEYLESS, keyless))
        count += sum(
            r.verified for r in SigstoreBundles().verify(bundles, BUNDLE_SUBJECT, bundle_trust)
        )
        count += sum(
            r.verified
            for r in NotationSignatures().verify(notation_source, NOTATION_TARGET, notation_trust)
        )
        return count

    warm_dump = DumpSource(dump_root)
    warm_bundles = _bundle_source()
    print(f"chainproof trust benchmark, {rounds} rounds, 7 signatures per round (4 formats)")
    cold = _timed("chainproof, all formats, cold", rounds, 7, lambda: all_formats(True))
    warm = _timed("chainproof, all formats, warm", rounds, 7, lambda: all_formats(False))

    print("per format (warm):")
    _timed(
        "cosign key-based (3 layers x 3 keys)",
        rounds,
        3,
        lambda: sum(r.verified for r in CosignSignatures().verify(warm_dump, THREE, keys)),
    )
    _timed(
        "cosign keyless (chain+SCT+SET)",
        rounds,
        1,
        lambda: sum(r.verified for r in CosignSignatures().verify(warm_dump, KEYLESS, keyless)),
    )
    ours = _timed(
        "chainproof Sigstore bundle (DSSE, referrer)",
        rounds,
        1,
        lambda: sum(
            r.verified for r in SigstoreBundles().verify(warm_bundles, BUNDLE_SUBJECT, bundle_trust)
        ),
    )
    _timed(
        "notation JWS + COSE (RSASSA-PSS)",
        rounds,
        2,
        lambda: sum(
            r.verified
            for r in NotationSignatures().verify(notation_source, NOTATION_TARGET, notation_trust)
        ),
    )

    peer, floor_ec, floor_rsa = _peers(rounds, bundle_trust)
    print("ratios:")
    print(f"  warm / cold throughput                       {warm / cold:6.2f}x")
    print(f"  chainproof bundle vs sigstore-python          {ours / peer:6.2f}x (higher is faster)")
    print(f"  ECDSA floor / chainproof mixed (warm)         {floor_ec / warm:6.1f}x")
    print(f"  RSA-PSS floor / chainproof mixed (warm)       {floor_rsa / warm:6.1f}x")
    _signing(rounds, tmp)


def _signing(rounds: int, tmp: Path) -> None:
    """Signing: in memory, and sign + write into an OCI layout, next to the bare-sign floor.

    No signing peer runs offline here: cosign is not packaged, and sigstore-python signs only
    keyless (Fulcio + Rekor over the network). The floor is one ECDSA-P256 signature.
    """
    from chainproof.demo.sample import SAMPLE_TAG, build_sample
    from chainproof.trust.cosign.sign import sign_image
    from chainproof.trust.keys.private import generate_key
    from chainproof.trust.publishing.publish import sign_reference

    print("signing (ECDSA-P256; the count is signatures):")
    key = generate_key()
    subject = Digest.of(b"bench subject")
    memory = _timed(
        "sign_image, in memory (payload + manifest)",
        rounds * 10,
        1,
        lambda: int(bool(sign_image(subject, key, "registry.example/bench"))),
    )
    layout = tmp / "sign-layout"
    build_sample(layout)
    image = f"oci:{layout}:{SAMPLE_TAG}"
    # Each round appends one layer to the .sig manifest, as cosign does, so later rounds
    # rewrite a slightly larger manifest.
    written = _timed(
        "sign + write into an OCI layout (resolve, append)",
        rounds,
        1,
        lambda: int(bool(sign_reference(image, key))),
    )
    floor_key = ec.generate_private_key(ec.SECP256R1())
    floor = _timed(
        "cryptography ECDSA-P256 sign (floor)",
        rounds * 50,
        1,
        lambda: int(bool(floor_key.sign(b"payload", ec.ECDSA(hashes.SHA256())))),
    )
    print(f"  sign floor / in-memory sign_image              {floor / memory:6.1f}x")
    print(f"  sign floor / sign into a layout                {floor / written:6.1f}x")


def _peers(rounds: int, bundle_trust: TrustInputs) -> tuple[float, float, float]:
    """sigstore-python on the same bundle, and bare cryptography verifications."""
    print("peers:")
    from sigstore.models import Bundle, TrustedRoot
    from sigstore.verify import Verifier, policy

    root = TrustedRoot.from_file(str(bundle_trust.trusted_root))
    data = (
        SIGNING / "cosign-oci-bundle-attestation" / "oci-attestation.sigstore.json"
    ).read_bytes()
    identity = policy.Identity(identity="cody@soyland.com", issuer="https://github.com/login/oauth")

    def sigstore_python() -> int:
        Verifier(trusted_root=root).verify_dsse(Bundle.from_json(data), identity)
        return 1

    peer = _timed("sigstore-python Verifier.verify_dsse (same bundle)", rounds, 1, sigstore_python)

    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_sig = ec_key.sign(b"payload", ec.ECDSA(hashes.SHA256()))
    rsa_key = rsa.generate_private_key(65537, 3072)
    pss = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)
    rsa_sig = rsa_key.sign(b"payload", pss, hashes.SHA256())
    floor_rounds = rounds * 50

    def ecdsa() -> int:
        ec_key.public_key().verify(ec_sig, b"payload", ec.ECDSA(hashes.SHA256()))
        return 1

    def rsa_pss() -> int:
        rsa_key.public_key().verify(rsa_sig, b"payload", pss, hashes.SHA256())
        return 1

    floor_ec = _timed("cryptography ECDSA-P256 verify (floor)", floor_rounds, 1, ecdsa)
    floor_rsa = _timed("cryptography RSA-3072-PSS verify (floor)", floor_rounds, 1, rsa_pss)
    return peer, floor_ec, floor_rsa


class _CachedManifests(ImageSource):
    """A source whose manifests-by-digest are cached (the "warm" case)."""

    def __init__(self, inner: ImageSource) -> None:
        self.inner = inner
        self.cache: dict[Digest, RawManifest] = {}

    def resolve(self) -> tuple[RawManifest, Digest | None]:
        return self.inner.resolve()

    def get_manifest(self, digest: Digest) -> RawManifest:
        if digest not in self.cache:
            self.cache[digest] = self.inner.get_manifest(digest)
        return self.cache[digest]

    def get_tag(self, tag: str) -> RawManifest | None:
        return self.inner.get_tag(tag)

    def open_blob(self, descriptor: Descriptor) -> Iterator[bytes]:
        return self.inner.open_blob(descriptor)

    def referrers(self, subject: Digest, artifact_type: str = "") -> list[Descriptor]:
        return self.inner.referrers(subject, artifact_type)

    def close(self) -> None:
        self.inner.close()


def _registry_image(tmp: Path) -> tuple[Any, str, dict[str, Any]]:
    """Start a registry, push the demo sample, sign it five ways; returns (registry, image,
    verification options)."""
    import json

    from cryptography.hazmat.primitives import serialization
    from tests.oci.registry import _servers
    from tests.trust.notary_pki import make_cert

    from chainproof.demo.sample import SAMPLE_TAG, build_sample
    from chainproof.oci.open import OpenOptions
    from chainproof.oci.registry.options import RegistryOptions
    from chainproof.trust.keys.private import SigningKey, generate, generate_hybrid, public_pem
    from chainproof.trust.notation.sign import NotationSigner
    from chainproof.trust.publishing.publish import (
        sign_reference,
        sign_reference_bundle,
        sign_reference_notation,
    )

    registry = _servers.start_registry(tmp / "registry")
    build_sample(tmp / "sample")
    registry.push(tmp / "sample", SAMPLE_TAG, "bench/app:v1")
    image = f"{registry.host}/bench/app:v1"
    options = OpenOptions(
        registry=RegistryOptions(
            insecure_registries=frozenset({registry.host}), authfile=tmp / "no-auth"
        )
    )
    key, hybrid = generate(), generate_hybrid()
    assert isinstance(key, SigningKey)
    (tmp / "k.pub").write_bytes(public_pem(key))
    (tmp / "h.pub").write_bytes(public_pem(hybrid.classic) + public_pem(hybrid.pq))
    sign_reference(image, key, options=options)
    sign_reference(image, hybrid, options=options)
    sign_reference_bundle(image, key, options=options)
    ca_key = ec.generate_private_key(ec.SECP384R1())
    ca = make_cert("Bench Root", ca_key, None, ca=True)
    ec_leaf_key = ec.generate_private_key(ec.SECP256R1())
    rsa_leaf_key = rsa.generate_private_key(65537, 3072)
    for leaf_key, envelope in ((ec_leaf_key, "jws"), (rsa_leaf_key, "cose")):
        leaf = make_cert("Bench Signer", leaf_key, ("Bench Root", ca_key), ca=False)  # type: ignore[arg-type]
        signer = NotationSigner(SigningKey(leaf_key), (leaf, ca))
        sign_reference_notation(image, signer, options=options, envelope=envelope)
    store = tmp / "truststore" / "x509" / "ca" / "bench"
    store.mkdir(parents=True)
    (store / "root.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp / "trustpolicy.json").write_text(
        json.dumps(
            {
                "version": "1.0",
                "trustPolicies": [
                    {
                        "name": "bench",
                        "registryScopes": ["*"],
                        "signatureVerification": {"level": "strict"},
                        "trustStores": ["ca:bench"],
                        "trustedIdentities": ["*"],
                    }
                ],
            }
        )
    )
    check_options = {
        "keys": [str(tmp / "k.pub"), str(tmp / "h.pub")],
        "insecure_ignore_tlog": True,
        "trust_policy": str(tmp / "trustpolicy.json"),
        "threshold": 3,
        "reference": image,
    }
    return registry, image, {"open": options, "check": check_options}


def _registry(rounds: int, tmp: Path) -> None:
    from chainproof.checks.context import CheckContext
    from chainproof.checks.interface import Status
    from chainproof.oci.image import resolve
    from chainproof.oci.open import open_target
    from chainproof.trust.check import SignatureCheck

    registry, image, options = _registry_image(tmp)
    try:
        print(
            "registry: 1 image, 5 signatures (cosign ECDSA, cosign hybrid, bundle, "
            "Notation JWS ECDSA, Notation COSE RSA-PSS), docker-registry on loopback"
        )

        def verify(source: ImageSource | None) -> int:
            own = source is None
            if source is None:
                source, target = open_target(image, options["open"])
            else:
                target = resolve(source, image)
            try:
                context = CheckContext(target.images[0], source, dict(options["check"]))
                results = {r.id: r for r in SignatureCheck().run(context)}
            finally:
                if own:
                    source.close()
            verdict = results["signature.verified"]
            assert verdict.status == Status.PASS, verdict.message
            return sum(
                sum(1 for s in r.evidence.get("signatures", []) if s["verified"])
                for r in results.values()
                if r.id != "signature.verified"
            )

        cold = _timed("verify 5 signatures, cold (new source)", rounds, 5, lambda: verify(None))
        warm_source, _ = open_target(image, options["open"])
        cached = _CachedManifests(warm_source)
        try:
            warm = _timed(
                "verify 5 signatures, warm (manifests cached)", rounds, 5, lambda: verify(cached)
            )
        finally:
            cached.close()
        print(
            f"  cold latency {5 / cold * 1000:8.1f} ms   warm latency {5 / warm * 1000:8.1f} ms"
            f"   warm/cold {warm / cold:5.2f}x"
        )
        _, floor_ec, floor_rsa = _floors(rounds)
        print(f"  ECDSA floor / warm registry verification   {floor_ec / warm:8.1f}x")
        print(f"  RSA-PSS floor / warm registry verification {floor_rsa / warm:8.1f}x")
    finally:
        registry.stop()


def _floors(rounds: int) -> tuple[float, float, float]:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_sig = ec_key.sign(b"payload", ec.ECDSA(hashes.SHA256()))
    rsa_key = rsa.generate_private_key(65537, 3072)
    pss = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)
    rsa_sig = rsa_key.sign(b"payload", pss, hashes.SHA256())

    def ecdsa() -> int:
        ec_key.public_key().verify(ec_sig, b"payload", ec.ECDSA(hashes.SHA256()))
        return 1

    def rsa_pss() -> int:
        rsa_key.public_key().verify(rsa_sig, b"payload", pss, hashes.SHA256())
        return 1

    floor_ec = _timed("cryptography ECDSA-P256 verify (floor)", rounds * 50, 1, ecdsa)
    floor_rsa = _timed("cryptography RSA-3072-PSS verify (floor)", rounds * 50, 1, rsa_pss)
    return 0.0, floor_ec, floor_rsa


if __name__ == "__main__":
    main()
