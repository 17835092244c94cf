"""``sbom.*`` checks: build the SBOM during the shared layer pass and hand it on.

Contract with the pipeline (docs/sbom.md): before the layer pass, the lead calls
:meth:`SbomCheck.layer_consumers` and adds the returned consumers to
``context.shared["layers.consumers"]``; the integrity check streams the layers once; then
:meth:`SbomCheck.run` finishes the catalogers, stores the components under
``context.shared["sbom.components"]`` (a tuple of :class:`chainproof.sbom.model.Component`)
and the whole :class:`~chainproof.sbom.model.Sbom` under ``context.shared["sbom"]``.
If ``run`` is called without a prior layer pass, it makes its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainproof.checks.interface import Check, CheckResult, Severity, Status
from chainproof.sbom.builder import SbomBuilder, assemble
from chainproof.sbom.catalog import builder_for
from chainproof.sbom.table import os_summary

if TYPE_CHECKING:
    from collections.abc import Iterator

    from chainproof.checks.context import CheckContext
    from chainproof.layers.scan import EntryConsumer

COMPONENTS_KEY = "sbom.components"
SBOM_KEY = "sbom"
_BUILDER_KEY = "sbom.builder"
_REPORTS_KEY = "layers.reports"


class SbomCheck(Check):
    family = "sbom"

    def layer_consumers(self, context: CheckContext) -> list[EntryConsumer]:
        builder = builder_for(context.image)
        context.shared[_BUILDER_KEY] = builder
        return [builder]

    def run(self, context: CheckContext) -> Iterator[CheckResult]:
        builder = context.shared.pop(_BUILDER_KEY, None)
        reports = context.shared.get(_REPORTS_KEY, ())
        if not isinstance(builder, SbomBuilder):
            from chainproof.layers.scan import scan_image

            builder = builder_for(context.image)
            reports = scan_image(context.source, context.image, consumers=[builder])
        sbom = assemble(builder, context.image, context.image.reference, reports)
        context.shared[SBOM_KEY] = sbom
        context.shared[COMPONENTS_KEY] = sbom.components
        present = len(sbom.present())
        evidence = {
            "components": len(sbom.components),
            "present": present,
            "ecosystems": sorted({c.ecosystem for c in sbom.components}),
        }
        yield CheckResult(
            "sbom.catalog",
            Status.PASS,
            Severity.INFO,
            f"{len(sbom.components)} components cataloged ({present} present in the final image)",
            evidence,
        )
        system = sbom.operating_system
        if system is not None:
            status = Status.WARN if system.warnings else Status.PASS
            yield CheckResult(
                "sbom.os-identity",
                status,
                Severity.MEDIUM if system.warnings else Severity.INFO,
                os_summary(system) + ("; " + "; ".join(system.warnings) if system.warnings else ""),
                {
                    "name": system.name,
                    "version": system.version,
                    "properties": dict(system.properties),
                },
            )
        for warning in sbom.warnings:
            yield CheckResult("sbom.partial", Status.WARN, Severity.LOW, warning, {})
