"""``provenance.base-image``: the image's lower layers are exactly an allowed base image's.

The base is the one the image declares (the ``org.opencontainers.image.base.name`` and
``…base.digest`` annotations on the manifest, or the same keys as config labels — what
BuildKit writes with ``--annotation``/``LABEL``); when it declares none, each allowed entry that
names one concrete image (no wildcard) is tried. The base's manifest and config are fetched
**by digest** — never its layers (Windows base layers are gigabytes and often foreign) — and
its ``rootfs.diff_ids`` must be a prefix of the image's. A base swapped under the same tag, or
layers slipped under the declared base, break the prefix and fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chainproof.checks.interface import Check, CheckResult, Severity, Status
from chainproof.errors import Error, InvalidReferenceError
from chainproof.oci import reference as references

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from chainproof.checks.context import CheckContext
    from chainproof.oci.digest import Digest
    from chainproof.oci.open import OpenOptions

BASE_NAME = "org.opencontainers.image.base.name"
BASE_DIGEST = "org.opencontainers.image.base.digest"


@dataclass(frozen=True)
class BaseImageRequirement:
    #: Whether a base image reference is allowed (the policy's image patterns).
    allowed: Callable[[references.ImageRef], bool]
    #: Concrete references among the allowed entries, tried when the image declares no base.
    candidates: tuple[str, ...]
    #: An image whose base cannot be established fails (else: skip).
    required: bool
    rule: str = ""


def declared_base(context: CheckContext) -> tuple[str, str]:
    """(name, digest) the image declares as its base, or ("", "")."""
    annotations = context.image.manifest.annotations
    labels = context.image.config.config.get("Labels") or {}
    if not isinstance(labels, dict):
        labels = {}
    name = annotations.get(BASE_NAME) or str(labels.get(BASE_NAME) or "")
    digest = annotations.get(BASE_DIGEST) or str(labels.get(BASE_DIGEST) or "")
    return name, digest


def base_diff_ids(reference: str, platform: str, open_options: OpenOptions) -> tuple[Digest, ...]:
    """The diff_ids of ``reference`` (pinned by digest) for ``platform``: manifest + config."""
    from dataclasses import replace

    from chainproof.oci.open import open_target

    source, target = open_target(reference, replace(open_options, platform=platform))
    with source:
        return target.images[0].config.diff_ids


class BaseImageCheck(Check):
    family = "provenance"

    def __init__(
        self, requirements: Sequence[BaseImageRequirement], open_options: OpenOptions
    ) -> None:
        self.requirements = tuple(requirements)
        self.open_options = open_options

    def run(self, context: CheckContext) -> Iterator[CheckResult]:
        for requirement in self.requirements:
            yield self._judge(context, requirement)

    def _judge(self, context: CheckContext, requirement: BaseImageRequirement) -> CheckResult:
        rule = {"rule": requirement.rule} if requirement.rule else {}
        name, digest = declared_base(context)
        platform = _platform_of(context)
        diff_ids = context.image.config.diff_ids
        if name:
            return self._declared(context, requirement, (name, digest), platform, rule)
        for candidate in requirement.candidates:
            try:
                base = base_diff_ids(candidate, platform, self.open_options)
            except Error:
                continue
            if base and diff_ids[: len(base)] == base:
                return CheckResult(
                    "provenance.base-image",
                    Status.PASS,
                    Severity.INFO,
                    f"the lower {len(base)} layer(s) are those of {candidate} "
                    "(the image declares no base; matched an allowed base)",
                    {"base": candidate, "layers": len(base), "declared": False, **rule},
                )
        return CheckResult(
            "provenance.base-image",
            Status.FAIL if requirement.required else Status.SKIP,
            Severity.HIGH if requirement.required else Severity.INFO,
            f"the image declares no base image ({BASE_NAME}) and its layers do not start with "
            "any concrete allowed base",
            {"tried": list(requirement.candidates), **rule},
        )

    def _declared(
        self,
        context: CheckContext,
        requirement: BaseImageRequirement,
        base: tuple[str, str],
        platform: str,
        rule: dict[str, str],
    ) -> CheckResult:
        name, digest = base
        evidence = {"base": name, "base_digest": digest, "declared": True, **rule}
        try:
            parsed = references.parse_registry(name)
        except InvalidReferenceError as exc:
            return _fail(
                f"declared base image {name!r} is not a registry reference: {exc}", evidence
            )
        if not requirement.allowed(parsed):
            return _fail(f"base image {name} is not an allowed base", evidence)
        if not digest:
            return _fail(
                f"base image {name} is declared without {BASE_DIGEST}: a tag alone does not "
                "say which layers it had",
                evidence,
            )
        pinned = f"{parsed.name}@{digest}"
        try:
            base_ids = base_diff_ids(pinned, platform, self.open_options)
        except Error as exc:
            return CheckResult(
                "provenance.base-image",
                Status.ERROR,
                Severity.HIGH,
                f"cannot read base image {pinned}: {exc}",
                evidence,
            )
        diff_ids = context.image.config.diff_ids
        evidence["layers"] = len(base_ids)
        if len(base_ids) > len(diff_ids):
            return _fail(
                f"base image {pinned} has {len(base_ids)} layers, the image only {len(diff_ids)}",
                evidence,
            )
        for i, (ours, theirs) in enumerate(zip(diff_ids, base_ids, strict=False)):
            if ours != theirs:
                evidence["first_difference"] = i
                return _fail(
                    f"layer {i} is {ours.short()}, but base image {pinned} has {theirs.short()} "
                    "there: the image was not built on the declared base",
                    evidence,
                )
        return CheckResult(
            "provenance.base-image",
            Status.PASS,
            Severity.INFO,
            f"the lower {len(base_ids)} layer(s) are exactly those of {pinned}",
            evidence,
        )


def _fail(message: str, evidence: dict[str, object]) -> CheckResult:
    return CheckResult("provenance.base-image", Status.FAIL, Severity.HIGH, message, dict(evidence))


def _platform_of(context: CheckContext) -> str:
    platform = context.image.platform
    text = f"{platform.os}/{platform.architecture}"
    if platform.variant:
        text += f"/{platform.variant}"
    if platform.os_version:
        text += f":{platform.os_version}"
    return text
