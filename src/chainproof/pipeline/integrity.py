"""``integrity.*``: every document and blob matches the digest and size that names it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainproof.checks.interface import Check, CheckResult, Severity, Status
from chainproof.layers.scan import scan_image

if TYPE_CHECKING:
    from collections.abc import Iterator

    from chainproof.checks.context import CheckContext
    from chainproof.layers.scan import LayerReport

CONSUMERS_KEY = "layers.consumers"
PROGRESS_KEY = "layers.progress"
REPORTS_KEY = "layers.reports"


def _layer_result(report: LayerReport) -> CheckResult:
    descriptor = report.descriptor
    evidence = {
        "index": report.index,
        "digest": str(descriptor.digest),
        "size": descriptor.size,
        "media_type": descriptor.media_type,
        "diff_id": str(report.diff_id) if report.diff_id else None,
    }
    if report.skipped:
        return CheckResult(
            "integrity.layer",
            Status.SKIP,
            Severity.MEDIUM,
            f"layer {report.index} {descriptor.digest.short()} not verified: {report.skipped}",
            {**evidence, "urls": list(descriptor.urls)},
        )
    if report.error:
        return CheckResult(
            "integrity.layer", Status.FAIL, Severity.CRITICAL, report.error, evidence
        )
    cached = " (verified earlier: layer cache)" if report.from_cache else ""
    return CheckResult(
        "integrity.layer",
        Status.PASS,
        Severity.INFO,
        f"layer {report.index} {descriptor.digest.short()}: digest, size and diff_id match{cached}",
        {
            **evidence,
            "uncompressed_size": report.uncompressed_size,
            **({"from_cache": True} if report.from_cache else {}),
        },
    )


class IntegrityCheck(Check):
    """Documents were verified while resolving; here the layers are streamed and verified."""

    family = "integrity"

    def run(self, context: CheckContext) -> Iterator[CheckResult]:
        image = context.image
        for doc in image.verified:
            yield CheckResult(
                f"integrity.{doc.what}",
                Status.PASS,
                Severity.INFO,
                f"{doc.what} {doc.digest.short()} matches its digest",
                {"digest": str(doc.digest), "size": doc.size, "media_type": doc.media_type},
            )
        layers, diff_ids = len(image.manifest.layers), len(image.config.diff_ids)
        if layers != diff_ids:
            yield CheckResult(
                "integrity.diff-ids",
                Status.FAIL,
                Severity.CRITICAL,
                f"manifest lists {layers} layers but the config has {diff_ids} diff_ids",
                {"layers": layers, "diff_ids": diff_ids},
            )
        reports = scan_image(
            context.source,
            image,
            consumers=context.shared.get(CONSUMERS_KEY, ()),
            progress=context.shared.get(PROGRESS_KEY),
        )
        context.shared[REPORTS_KEY] = reports
        for report in reports:
            yield _layer_result(report)
            for unsafe in report.unsafe:
                yield CheckResult(
                    "integrity.tar-entry",
                    Status.FAIL,
                    Severity.HIGH,
                    f"layer {report.index}: unsafe tar entry {unsafe.tar_name!r}: {unsafe.reason}",
                    {"layer": report.index, "entry": unsafe.tar_name, "reason": unsafe.reason},
                )
