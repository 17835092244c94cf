"""``verify``: what the policy requires, the checks it configures, one verdict.

1. The policy's rules are matched against the reference; what the reference alone decides
   (no rule matches, a denied registry, a tag where a digest is required) denies the image
   without reading it.
2. The image is resolved; every check is built from the requirements and runs over each
   platform image, all of them fed by one streaming pass over the layers.
3. The policy judges what the checks found (SBOM rules, screening, Rego), applies waivers and
   attaches compliance controls; the verdict names the policy, its digest and the rules.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING

from chainproof.checks.context import CheckContext
from chainproof.checks.interface import CheckResult, Severity, Status
from chainproof.errors import Error, IntegrityError
from chainproof.oci import reference as references
from chainproof.oci.open import OpenOptions, open_target
from chainproof.pipeline.integrity import CONSUMERS_KEY, PROGRESS_KEY
from chainproof.pipeline.registry import build_checks
from chainproof.policy.evaluate import evaluate, with_controls
from chainproof.policy.requirements import ImageFacts
from chainproof.report.verdict import ImageIdentity, Verdict, WaiverUse

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

    from chainproof.checks.interface import Check
    from chainproof.layers.scan import Progress
    from chainproof.oci.image import PlatformImage
    from chainproof.oci.sources.interface import ImageSource
    from chainproof.policy.policy import Policy


def _run(check: Check, context: CheckContext) -> list[CheckResult]:
    try:
        return list(check.run(context))
    except Error as exc:
        # An expected failure inside a check (unreadable blob, bad signature payload) is a
        # result of that check; the rest of the pipeline still runs.
        return [CheckResult(f"{check.family}.error", Status.ERROR, Severity.HIGH, str(exc))]


def _tag(results: Sequence[CheckResult], platform: str) -> list[CheckResult]:
    return [dataclasses.replace(r, evidence={**r.evidence, "platform": platform}) for r in results]


def _verify_platform(
    image: PlatformImage,
    source: ImageSource,
    checks: Sequence[Check],
    progress: Progress | None,
) -> tuple[list[CheckResult], CheckContext]:
    context = CheckContext(image, source)
    if progress is not None:
        context.shared[PROGRESS_KEY] = progress
    # Every check that needs file contents rides on the integrity check's single pass.
    context.shared[CONSUMERS_KEY] = [
        consumer for check in checks for consumer in check.layer_consumers(context)
    ]
    results: list[CheckResult] = []
    for check in checks:
        results.extend(_run(check, context))
    return results, context


def _facts(image: PlatformImage, results: list[CheckResult], context: CheckContext) -> ImageFacts:
    from chainproof.sbom.check import SBOM_KEY
    from chainproof.trust.check import SHARED_ATTESTATIONS

    try:
        config = json.loads(image.config.raw)
    except ValueError:  # already parsed once when verified; cannot happen, stay total
        config = {}
    return ImageFacts(
        reference=image.reference,
        digest=str(image.digest),
        platform=str(image.platform),
        os_version=image.platform.os_version,
        config=config if isinstance(config, dict) else {},
        results=tuple(results),
        sbom=context.shared.get(SBOM_KEY),
        attestations=tuple(context.shared.get(SHARED_ATTESTATIONS) or ()),
    )


def verify_image(
    reference: str,
    open_options: OpenOptions | None = None,
    *,
    policy: Policy | None = None,
    families: frozenset[str] | None = None,
    progress: Progress | None = None,
    today: dt.date | None = None,
) -> Verdict:
    """Verify ``reference`` under ``policy`` (default: no trust inputs, default thresholds).

    Raises chainproof errors only for bad input (exit 2). Integrity failures met while
    resolving (a manifest or config that does not match its digest) are not exceptions here:
    they become a failing verdict naming the document.
    """
    from chainproof.policy import default_policy

    open_options = open_options or OpenOptions()
    policy = policy or default_policy()
    parsed = references.parse(reference)
    requirements = policy.requirements_for(parsed)
    gate = list(requirements.gate)
    if requirements.blocked:
        identity = ImageIdentity(str(parsed), str(parsed.digest or ""), open_options.platform, "")
        return Verdict(identity, tuple(with_controls(gate)), policy.section(requirements.rules))
    try:
        source, target = open_target(reference, open_options)
    except IntegrityError as exc:
        identity = ImageIdentity(str(parsed), str(parsed.digest or ""), open_options.platform, "")
        failure = CheckResult("integrity.manifest", Status.FAIL, Severity.CRITICAL, str(exc))
        return Verdict(
            identity, tuple(with_controls([*gate, failure])), policy.section(requirements.rules)
        )
    checks = build_checks(requirements, open_options, families)
    results: list[CheckResult] = list(with_controls(gate))
    waivers: dict[tuple[str, str, bool], WaiverUse] = {}
    with source:
        for image in target.images:
            image_results, context = _verify_platform(image, source, checks, progress)
            facts = _facts(image, image_results, context)
            evaluation = evaluate(policy, requirements, facts, today=today)
            for use in evaluation.waivers:
                key = (use.check, use.vulnerability, use.expired)
                previous = waivers.get(key)
                merged = (
                    use.applied_to if previous is None else previous.applied_to + use.applied_to
                )
                waivers[key] = dataclasses.replace(use, applied_to=tuple(dict.fromkeys(merged)))
            image_results = list(evaluation.results)
            if len(target.images) > 1:
                image_results = _tag(image_results, str(image.platform))
            results.extend(image_results)
    if len(target.images) == 1:
        only = target.images[0]
        identity = ImageIdentity(
            target.reference, str(target.digest), only.platform.name, only.platform.os_version
        )
    else:
        identity = ImageIdentity(
            target.reference,
            str(target.digest),
            ",".join(str(i.platform) for i in target.images),
            "",
        )
    section = policy.section(requirements.rules, tuple(waivers.values()))
    return Verdict(identity, tuple(results), section)
