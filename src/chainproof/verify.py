"""``verify``: resolve an image, run the check pipeline, fold the results into a verdict."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chainproof.checks.context import CheckContext
from chainproof.checks.integrity import CONSUMERS_KEY, PROGRESS_KEY
from chainproof.checks.interface import Check, CheckResult, Severity, Status
from chainproof.checks.registry import default_checks
from chainproof.errors import Error, IntegrityError
from chainproof.oci import reference as references
from chainproof.oci.open import OpenOptions, open_target
from chainproof.verdict import ImageIdentity, Verdict

if TYPE_CHECKING:
    from collections.abc import Sequence

    from chainproof.layers.scan import Progress


def _run(check: Check, context: CheckContext) -> list[CheckResult]:
    try:
        return list(check.run(context))
    except Error as exc:
        # An expected failure inside a check (unreadable blob, bad signature payload) is a
        # result of that check; the rest of the pipeline still runs.
        return [CheckResult(f"{check.family}.error", Status.ERROR, Severity.HIGH, str(exc))]


def _tag(results: list[CheckResult], platform: str) -> list[CheckResult]:
    return [
        CheckResult(r.id, r.status, r.severity, r.message, {**r.evidence, "platform": platform})
        for r in results
    ]


def verify_image(
    reference: str,
    open_options: OpenOptions | None = None,
    *,
    checks: Sequence[Check] | None = None,
    options: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> Verdict:
    """Verify ``reference``; raises chainproof errors only for bad input (exit 2).

    Integrity failures met while resolving (a manifest or config that does not match its
    digest) are not exceptions here: they become a failing verdict naming the document.
    """
    open_options = open_options or OpenOptions()
    pipeline = list(checks) if checks is not None else default_checks()
    try:
        source, target = open_target(reference, open_options)
    except IntegrityError as exc:
        parsed = references.parse(reference)
        digest = getattr(parsed, "digest", None)
        return Verdict(
            ImageIdentity(str(parsed), str(digest or ""), open_options.platform, ""),
            (CheckResult("integrity.manifest", Status.FAIL, Severity.CRITICAL, str(exc)),),
        )
    results: list[CheckResult] = []
    with source:
        for image in target.images:
            context = CheckContext(image, source, dict(options or {}))
            if progress is not None:
                context.shared[PROGRESS_KEY] = progress
            # Every check that needs file contents rides on the integrity check's single pass.
            context.shared[CONSUMERS_KEY] = [
                consumer for check in pipeline for consumer in check.layer_consumers(context)
            ]
            image_results: list[CheckResult] = []
            for check in pipeline:
                image_results.extend(_run(check, context))
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
    return Verdict(identity, tuple(results))
