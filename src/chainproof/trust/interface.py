"""The signature-format extension point of :mod:`chainproof.trust` and what it verifies against.

A :class:`SignatureFormat` finds the signatures attached to an image digest through the
:class:`~chainproof.oci.sources.interface.ImageSource` API (referrers, tag fallbacks, blobs) and
verifies each against explicit :class:`TrustInputs`; it never reaches out to the network for
trust material. Each signature found yields one :class:`SignatureVerification`, verified or not,
so a check can count them against a threshold and say why the others failed.

Keys are the other extension point: :mod:`chainproof.trust.keys.interface`.
"""

from __future__ import annotations

import abc
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chainproof.errors import SignatureError

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from chainproof.oci.digest import Digest
    from chainproof.oci.sources.interface import ImageSource
    from chainproof.trust.keys.model import VerificationKey


@dataclass(frozen=True)
class IdentityRule:
    """A keyless signer we accept: certificate SAN and OIDC issuer, each exact or a regex.

    An empty field matches anything only when its regex twin is also empty *and* the other
    half of the rule is set; :meth:`matches` refuses a rule with neither identity nor issuer.
    """

    identity: str = ""
    identity_regexp: str = ""
    issuer: str = ""
    issuer_regexp: str = ""

    def matches(self, identity: str, issuer: str) -> bool:
        if not (self.identity or self.identity_regexp) or not (self.issuer or self.issuer_regexp):
            return False
        return _field_matches(identity, self.identity, self.identity_regexp) and _field_matches(
            issuer, self.issuer, self.issuer_regexp
        )

    def __str__(self) -> str:
        who = self.identity or f"/{self.identity_regexp}/"
        by = self.issuer or f"/{self.issuer_regexp}/"
        return f"{who} from {by}"


def _field_matches(value: str, exact: str, regexp: str) -> bool:
    if exact:
        return value == exact
    # cosign anchors nothing implicitly; full-match is the safe reading of a user's regexp.
    return re.fullmatch(regexp, value) is not None


@dataclass(frozen=True)
class TrustInputs:
    """Everything a signature may be checked against; nothing else is trusted."""

    keys: tuple[VerificationKey, ...] = ()
    identities: tuple[IdentityRule, ...] = ()
    #: Sigstore trusted_root.json (Fulcio CAs, Rekor and CT log keys, TSAs).
    trusted_root: Path | None = None
    #: Notation trustpolicy.json and the trust-store directory beside it.
    trust_policy: Path | None = None
    trust_store: Path | None = None
    #: The reference the user asked for (Notation scopes, cosign identity checks).
    reference: str = ""
    #: Verification time; None means now. Tests pin it to keep fixtures valid.
    now: datetime | None = None
    #: FIPS mode: signatures by keys or certificates outside FIPS 186-5/204 do not count.
    fips: bool = False
    #: cosign's --insecure-ignore-tlog: managed-key bundles without a log entry are accepted.
    ignore_tlog: bool = False


@dataclass(frozen=True)
class SignatureVerification:
    """The outcome for one signature found on one subject digest."""

    format: str  # "cosign", "sigstore-bundle", "notation"
    subject: Digest
    location: str  # tag or referrer digest the signature came from
    verified: bool
    reason: str  # why it failed, or what it proved
    signer: str = ""  # key id, certificate identity, or subject DN
    #: For attestations: the in-toto statement payload, verified.
    statement: dict[str, Any] | None = field(default=None, hash=False, compare=False)
    #: Notation "audit"/"permissive" outcomes that pass with a logged failure.
    warnings: tuple[str, ...] = ()
    #: True for attestations (in-toto statements with a predicate); False for image signatures,
    #: including cosign v3's DSSE "sign" statements.
    attestation: bool = False
    #: The signature could not be judged because a trust input for its kind was not given
    #: (a Notation signature without --trust-policy, a keyless one without an identity).
    unconfigured: bool = False


class MissingTrustInputError(SignatureError):
    """A signature needs a kind of trust input the user did not give."""


class SignatureFormat(abc.ABC):
    """One signature or attestation wire format."""

    name: str

    @abc.abstractmethod
    def verify(
        self, source: ImageSource, subject: Digest, trust: TrustInputs
    ) -> list[SignatureVerification]:
        """Find this format's signatures on ``subject`` and verify each; [] when none found.

        Expected failures (bad signature, unknown signer, malformed envelope) are results with
        ``verified=False``; only a source that cannot be read raises.
        """
