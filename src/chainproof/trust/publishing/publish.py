"""Sign or attest an IMAGE reference and write the result next to it (``chainproof sign/attest``).

The image is resolved (and its manifest digest checked) first, the attachment built in memory, and
only then written through an
:class:`~chainproof.trust.publishing.destination.AttachmentDestination`, blobs
first and tag last. What is signed is the digest the reference resolves to — for a multi-arch image
the index, as cosign does; the verifier accepts a signature on the index for every platform.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from chainproof.errors import UsageError
from chainproof.oci import reference as references
from chainproof.oci.model import Descriptor
from chainproof.oci.open import OpenOptions, open_target
from chainproof.trust.cosign.sign import attest_image, sign_image
from chainproof.trust.cosign.verify import attachment_tag
from chainproof.trust.envelopes.intoto import PREDICATE_KINDS
from chainproof.trust.publishing.destination import open_destination

if TYPE_CHECKING:
    from datetime import timedelta

    from chainproof.oci.digest import Digest
    from chainproof.oci.image import ResolvedTarget
    from chainproof.oci.model import Index, Manifest
    from chainproof.trust.attachment import Attachment
    from chainproof.trust.keys.interface import Signer
    from chainproof.trust.keys.private import HybridSigningKey
    from chainproof.trust.notation.sign import NotationSigner

#: cosign's ``attest --type`` names, and chainproof's own short names, for predicate type URIs.
PREDICATE_TYPE_ALIASES: dict[str, str] = {
    "slsaprovenance": "https://slsa.dev/provenance/v0.2",
    "slsaprovenance02": "https://slsa.dev/provenance/v0.2",
    "slsaprovenance1": "https://slsa.dev/provenance/v1",
    "spdx": "https://spdx.dev/Document",
    "spdxjson": "https://spdx.dev/Document",
    "cyclonedx": "https://cyclonedx.org/bom",
    "openvex": "https://openvex.dev/ns",
    "vuln": "https://cosign.sigstore.dev/attestation/vuln/v1",
    "custom": "https://cosign.sigstore.dev/attestation/v1",
    **{kind: uri for uri, kind in reversed(PREDICATE_KINDS.items()) if kind.startswith("slsa")},
}


def predicate_type_uri(value: str) -> str:
    """A predicate type from ``--type``: a known name or an absolute URI."""
    if value in PREDICATE_TYPE_ALIASES:
        return PREDICATE_TYPE_ALIASES[value]
    if "://" in value and " " not in value:
        return value
    names = ", ".join(sorted(PREDICATE_TYPE_ALIASES))
    raise UsageError(f"unknown predicate --type {value!r}: use a URI or one of {names}")


def repository_name(reference: references.ImageRef) -> str:
    """The ``docker-reference`` cosign records: registry/repository (go-containerregistry spells
    Docker Hub ``index.docker.io``), or the layout's path."""
    if isinstance(reference, references.RegistryRef):
        if reference.host == references.DOCKER_HUB:
            return f"index.docker.io/{reference.repository}"
        return reference.name
    return f"{reference.transport}:{reference.path}"


@dataclass(frozen=True)
class Published:
    """What was written: the attachment's tag and digest, for which image, where."""

    subject: Digest
    tag: str
    digest: Digest
    location: str
    entries: int  # signatures (or attestations) now under the tag
    placement: str = "tag"  # "tag" (cosign legacy) or "referrer" (bundle, Notation)

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": str(self.subject),
            "tag": self.tag,
            "digest": str(self.digest),
            "location": self.location,
            "entries": self.entries,
            "placement": self.placement,
        }


def _subjects(target: ResolvedTarget, options: OpenOptions) -> list[Descriptor]:
    def descriptor(document: Manifest | Index) -> Descriptor:
        return Descriptor(document.media_type, document.digest, len(document.raw))

    if options.platform:
        return [descriptor(image.manifest) for image in target.images]
    subjects = [descriptor(target.top)]
    if options.all_platforms:  # cosign's --recursive
        subjects += [
            descriptor(image.manifest) for image in target.images if image.digest != target.digest
        ]
    return subjects


def _publish(
    reference: str,
    options: OpenOptions | None,
    build: Any,
    suffix: str,
) -> list[Published]:
    """Tag schema (``suffix`` "sig"/"att": ``build(subject digest, repository, existing)``) or
    referrers (``suffix`` "": ``build(subject descriptor, repository)``)."""
    options = options or OpenOptions()
    parsed = references.parse(reference)
    # Without --platform the index itself is signed; resolving every platform checks them all
    # and does not depend on a default platform being present.
    resolve_options = replace(options, all_platforms=not options.platform)
    source, target = open_target(reference, resolve_options)
    source.close()
    written = []
    with open_destination(parsed, options.registry) as destination:
        for subject in _subjects(target, options):
            attachment: Attachment
            if not suffix:
                attachment = build(subject, repository_name(parsed))
                digest = destination.write_referrer(attachment, subject.digest)
                written.append(
                    Published(subject.digest, "", digest, destination.location, 1, "referrer")
                )
                continue
            existing = destination.existing(attachment_tag(subject.digest, suffix))
            attachment = build(subject.digest, repository_name(parsed), existing)
            digest = destination.write(attachment)
            layers = len(json.loads(attachment.manifest)["layers"])
            written.append(
                Published(subject.digest, attachment.tag, digest, destination.location, layers)
            )
    return written


def sign_reference(
    reference: str,
    key: Signer | HybridSigningKey,
    *,
    options: OpenOptions | None = None,
    annotations: dict[str, str] | None = None,
) -> list[Published]:
    """Add a cosign signature of the image ``reference`` names, beside it (``.sig`` tag).

    Signed: the digest the reference names (an index for a multi-arch image); with
    ``options.platform`` the selected platform manifest instead; with ``options.all_platforms``
    the index and every platform manifest (cosign's ``--recursive``)."""

    def build(subject: Digest, repository: str, existing: Any) -> Attachment:
        return sign_image(subject, key, repository, existing=existing, annotations=annotations)

    return _publish(reference, options, build, "sig")


def attest_reference(
    reference: str,
    key: Signer | HybridSigningKey,
    predicate_type: str,
    predicate: Any,
    *,
    options: OpenOptions | None = None,
) -> list[Published]:
    """Add a DSSE in-toto v1 attestation of the image, beside it (``.att`` tag); the subjects
    are chosen as for :func:`sign_reference`."""

    def build(subject: Digest, repository: str, existing: Any) -> Attachment:
        return attest_image(subject, key, repository, predicate_type, predicate, existing=existing)

    return _publish(reference, options, build, "att")


def sign_reference_bundle(
    reference: str,
    key: Signer,
    *,
    options: OpenOptions | None = None,
    annotations: dict[str, str] | None = None,
) -> list[Published]:
    """Attach a key-signed Sigstore bundle (cosign v3's ``--new-bundle-format`` with
    ``--tlog-upload=false``) to the image as a referrer; subjects as for :func:`sign_reference`."""
    from chainproof.trust.sigstore.sign import bundle_attachment

    def build(subject: Descriptor, repository: str) -> Attachment:
        return bundle_attachment(subject, key, repository, annotations=annotations)

    return _publish(reference, options, build, "")


def attest_reference_bundle(
    reference: str,
    key: Signer,
    predicate_type: str,
    predicate: Any,
    *,
    options: OpenOptions | None = None,
) -> list[Published]:
    """Attach a key-signed Sigstore bundle holding an in-toto attestation, as a referrer."""
    from chainproof.trust.sigstore.sign import bundle_attachment

    def build(subject: Descriptor, repository: str) -> Attachment:
        return bundle_attachment(
            subject, key, repository, predicate_type=predicate_type, predicate=predicate
        )

    return _publish(reference, options, build, "")


def sign_reference_notation(
    reference: str,
    signer: NotationSigner,
    *,
    options: OpenOptions | None = None,
    envelope: str = "jws",
    expiry: timedelta | None = None,
) -> list[Published]:
    """Attach a Notation signature (JWS or COSE, ``notary.x509``) as a referrer, as
    ``notation sign`` does; subjects as for :func:`sign_reference`."""
    from chainproof.trust.notation.sign import notation_attachment

    def build(subject: Descriptor, repository: str) -> Attachment:
        del repository  # Notation signs the descriptor only
        return notation_attachment(subject, signer, envelope=envelope, expiry=expiry)

    return _publish(reference, options, build, "")
