"""The policy document, ``chainproof.policy/v1``, as typed models.

These models are the one definition of the file format: loading validates against them (an
unknown key is an error with its path, never ignored), and the published JSON Schema
(``chainproof policy schema``, ``docs/policy.schema.json``) is generated from them. Every key is
documented in ``docs/policy.md``.

Paths inside a policy (keys, trust policies, VEX documents, Rego modules, screening lists) are
relative to the policy file's directory.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_ID = "chainproof.policy/v1"

Severity = Literal["critical", "high", "medium", "low", "info"]
_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
"""A rule name or a check name: short, readable, safe in messages and metric labels."""
Name = Annotated[str, Field(pattern=_NAME_PATTERN)]
NonEmpty = Annotated[str, Field(min_length=1, max_length=4096)]
ImagePatternText = Annotated[str, Field(min_length=1, max_length=512)]
PathText = Annotated[str, Field(min_length=1, max_length=4096)]


class _Model(BaseModel):
    # strict: a YAML string "1" is not a number, "yes" in quotes is not a boolean.
    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, use_attribute_docstrings=True
    )


class ImageMatch(_Model):
    """Which image references a rule applies to (``docs/policy.md``, "Matching")."""

    images: Annotated[list[ImagePatternText], Field(min_length=1, max_length=1000)]
    exclude: Annotated[list[ImagePatternText], Field(max_length=1000)] = []


class KeylessIdentity(_Model):
    """A keyless (Fulcio certificate) signer: SAN and OIDC issuer, each exact or a regex."""

    identity: NonEmpty | None = None
    identity_regex: NonEmpty | None = None
    issuer: NonEmpty | None = None
    issuer_regex: NonEmpty | None = None

    @model_validator(mode="after")
    def _one_of_each(self) -> KeylessIdentity:
        if (self.identity is None) == (self.identity_regex is None):
            raise ValueError("give exactly one of identity, identity_regex")
        if (self.issuer is None) == (self.issuer_regex is None):
            raise ValueError("give exactly one of issuer, issuer_regex")
        for pattern in (self.identity_regex, self.issuer_regex):
            if pattern is not None:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
        return self


class NotationTrust(_Model):
    """A Notary Project trust policy (``trustpolicy.json``) and its trust store."""

    trust_policy: PathText
    trust_store: PathText | None = None
    """Default: ``truststore/`` beside the trust policy, as notation does."""


class Signatures(_Model):
    """Who must have signed the image: ``threshold`` distinct trusted signers among the
    material given. For "Microsoft's signature *and* ours", write two rules that match the
    same images (every matching rule must pass)."""

    keys: Annotated[list[PathText], Field(max_length=100)] = []
    keyless: Annotated[list[KeylessIdentity], Field(max_length=100)] = []
    trusted_root: PathText | None = None
    """Sigstore ``trusted_root.json`` (Fulcio, Rekor, CT logs, TSAs) for keyless and bundles."""
    notation: NotationTrust | None = None
    threshold: Annotated[int, Field(ge=1, le=100)] = 1
    fips: bool = False
    """Count only keys and certificates with FIPS 186-5 / FIPS 204 algorithms."""
    algorithm: Literal["any", "post-quantum", "hybrid"] = "any"
    """``post-quantum``: only ML-DSA or hybrid keys count; ``hybrid``: only hybrid keys."""
    ignore_tlog: bool = False
    """cosign's --insecure-ignore-tlog: accept key-signed bundles without a log entry."""

    @model_validator(mode="after")
    def _has_material(self) -> Signatures:
        if not (self.keys or self.keyless or self.notation):
            raise ValueError("give at least one of keys, keyless, notation")
        if self.keyless and self.trusted_root is None:
            raise ValueError("keyless signers need trusted_root (the Sigstore trusted_root.json)")
        if self.algorithm != "any" and (self.keyless or self.notation):
            raise ValueError(
                f"algorithm {self.algorithm!r} applies to keys only: no keyless or Notation "
                "certificate authority issues post-quantum certificates"
            )
        return self


class Condition(_Model):
    """One test over an attestation's in-toto statement, addressed by a JMESPath expression
    (``predicate.buildDefinition.buildType``). Exactly one operator."""

    jmespath: Annotated[str, Field(min_length=1, max_length=1024)]
    equals: Any = None
    one_of: list[Any] | None = None
    matches: NonEmpty | None = None
    exists: bool | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> Condition:
        given = [
            name
            for name in ("equals", "one_of", "matches", "exists")
            if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError("give exactly one of equals, one_of, matches, exists")
        if self.matches is not None:
            try:
                re.compile(self.matches)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {self.matches!r}: {exc}") from None
        return self


class Attestation(_Model):
    """An in-toto attestation the image must carry, verified by the rule's signature
    material (or ``signed_by``), and what its predicate must say."""

    type: NonEmpty
    """Predicate type URI, or a short name: slsa-provenance-v1, slsa-provenance-v0.2,
    cyclonedx, spdx, openvex, vuln.
    """
    signed_by: Signatures | None = None
    builder_id: NonEmpty | None = None
    """SLSA shortcuts: runDetails.builder.id (v1) / builder.id (v0.2), exact."""
    build_type: NonEmpty | None = None
    source_repository: NonEmpty | None = None
    """A resolvedDependencies (v1) / materials (v0.2) URI, exact, e.g. git+https://github.com/o/r"""
    source_ref: NonEmpty | None = None
    """The git ref of that dependency (``refs/heads/main``), from its URI's ``@ref`` or annotations.
    """
    conditions: Annotated[list[Condition], Field(max_length=100)] = []
    rego: Annotated[list[PathText], Field(max_length=50)] = []
    """Rego modules whose ``deny`` set is evaluated with the statement as input."""


class Vulnerabilities(_Model):
    fail_on: Severity = "high"
    ignore_unfixed: bool = False
    vex: Annotated[list[PathText], Field(max_length=100)] = []
    max_patch_age_days: Annotated[int, Field(ge=0, le=36500)] | None = None
    """A Windows image whose OS build is more than this many days behind the newest
    cumulative update the database knows for its release fails, naming the missing KBs.
    """
    database: PathText | None = None
    """The advisory database; default: the user data directory (``chainproof db update``)."""


class ComponentRule(_Model):
    """Components that must not be in the image. Globs match case-insensitively."""

    name: NonEmpty | None = None
    purl: NonEmpty | None = None
    ecosystem: NonEmpty | None = None
    below: NonEmpty | None = None
    """Denied only when the component's version is lower than this one."""
    reason: NonEmpty | None = None

    @model_validator(mode="after")
    def _selects_something(self) -> ComponentRule:
        if self.name is None and self.purl is None:
            raise ValueError("give name or purl")
        return self


class Licenses(_Model):
    deny: Annotated[list[NonEmpty], Field(max_length=1000)] = []
    """SPDX license ids (or expressions' ids) that fail the image."""


class Sbom(_Model):
    required: bool = False
    """The SBOM must have been built (the sbom.* check ran and cataloged components)."""
    deny: Annotated[list[ComponentRule], Field(max_length=1000)] = []
    licenses: Licenses | None = None


class Lint(_Model):
    fail_on: Severity = "high"
    disabled_rules: Annotated[list[NonEmpty], Field(max_length=1000)] = []
    severity: dict[str, Severity] = {}
    allowed_registries: Annotated[list[NonEmpty], Field(max_length=1000)] = []


class BaseImage(_Model):
    """The image's lower layers must be those of a base image from ``allowed``."""

    allowed: Annotated[list[ImagePatternText], Field(min_length=1, max_length=1000)]
    required: bool = True
    """An image that declares no base (no ``org.opencontainers.image.base.name``) fails."""


class Windows(_Model):
    """Hardening checks read from the image's registry hives (``docs/windows-hardening.md``)."""

    enforce: Literal["all"] | Annotated[list[Name], Field(max_length=100)] = []
    """Checks whose insecure value fails the image; the others warn. ``all`` for every one."""
    skip: Annotated[list[Name], Field(max_length=100)] = []


class Rule(_Model):
    name: Name
    description: str = ""
    match: ImageMatch
    require_digest: bool = False
    """The reference must carry ``@sha256:…`` (a tag alone can move)."""
    signatures: Signatures | None = None
    attestations: Annotated[list[Attestation], Field(max_length=100)] = []
    vulnerabilities: Vulnerabilities | None = None
    sbom: Sbom | None = None
    lint: Lint | None = None
    base_image: BaseImage | None = None
    windows: Windows | None = None
    rego: Annotated[list[PathText], Field(max_length=50)] = []

    @model_validator(mode="after")
    def _attestations_have_signers(self) -> Rule:
        for i, attestation in enumerate(self.attestations):
            if attestation.signed_by is None and self.signatures is None:
                raise ValueError(
                    f"attestations[{i}] needs signed_by, or the rule needs signatures: an "
                    "attestation is only believed when its signer is trusted"
                )
        return self


class Registries(_Model):
    """Registry hosts images may come from (exact after normalisation; ``*.example.com``
    matches exactly one more label). Deny wins over allow; with ``allow`` set, every other
    registry is denied."""

    allow: Annotated[list[NonEmpty], Field(max_length=1000)] = []
    deny: Annotated[list[NonEmpty], Field(max_length=1000)] = []


class Screening(_Model):
    """Deny-lists of entities (the U.S. Consolidated Screening List format, CSV or JSON)."""

    lists: Annotated[list[PathText], Field(min_length=1, max_length=20)]
    identities: list[Literal["signer", "labels"]] = ["signer", "labels"]
    """What is compared with the lists: signer identities, the vendor/authors labels."""


class Waiver(_Model):
    """An accepted exception: a failing result it matches turns into a warning until it
    expires. ``reason`` and ``expires`` are mandatory."""

    check: Annotated[str, Field(min_length=1, max_length=128)]
    """A check id or glob (``vuln.windows-os``, ``windows.*``)."""
    vulnerability: NonEmpty | None = None
    """For vulnerability results: the CVE or advisory id (exact, case-insensitive)."""
    images: Annotated[list[ImagePatternText], Field(min_length=1, max_length=1000)] = ["*"]
    reason: Annotated[str, Field(min_length=1, max_length=4096)]
    expires: Annotated[dt.date, Field(strict=False)]


class PolicyDocument(_Model):
    """A chainproof policy file."""

    schema_id: Literal["chainproof.policy/v1"] = Field(alias="schema")
    name: Name
    description: str = ""
    matching: Literal["all", "first"] = "all"
    """``all`` (as Kyverno): every rule whose match holds applies and must pass.
    ``first``: only the first matching rule, in file order, applies.
    """
    unmatched: Literal["deny", "allow"] = "deny"
    """What happens to an image no rule matches."""
    registries: Registries | None = None
    screening: Screening | None = None
    rules: Annotated[list[Rule], Field(max_length=10000)] = []
    waivers: Annotated[list[Waiver], Field(max_length=10000)] = []
    rego: Annotated[list[PathText], Field(max_length=200)] = []
    """Rego modules evaluated for every image."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        populate_by_name=True,
        use_attribute_docstrings=True,
    )

    @model_validator(mode="after")
    def _unique_rule_names(self) -> PolicyDocument:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"two rules are named {rule.name!r}")
            seen.add(rule.name)
        return self
