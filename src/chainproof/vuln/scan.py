"""The library entry point behind ``chainproof scan``: components in, filtered findings out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chainproof.checks.interface import Severity
from chainproof.vuln.db import AdvisoryDB
from chainproof.vuln.matcher import SEVERITY_ORDER, Matcher, MatchResult
from chainproof.vuln.vex import apply_vex

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    from chainproof.layers.scan import Progress
    from chainproof.oci.open import OpenOptions
    from chainproof.vuln.sbom_input import SbomComponent
    from chainproof.vuln.vex import VexStatement


def scan_components(
    components: Iterable[SbomComponent],
    db_path: Path,
    *,
    ignore_unfixed: bool = False,
    vex: Sequence[VexStatement] = (),
) -> MatchResult:
    with AdvisoryDB(db_path, create=False) as db:
        result = Matcher(db).match(components)
    if vex:
        apply_vex(result, list(vex))
    if ignore_unfixed:
        result.findings = [f for f in result.findings if f.fixed or f.kb]
    return result


def at_or_above(result: MatchResult, threshold: Severity) -> int:
    """How many findings reach ``threshold`` (what ``--fail-on`` counts)."""
    floor = SEVERITY_ORDER[threshold]
    return sum(1 for f in result.findings if SEVERITY_ORDER[f.severity] >= floor)


@dataclass(frozen=True)
class ImageScan:
    """One platform image of a scanned reference and what matched."""

    target: str  # "REFERENCE@DIGEST (os/arch)": what the reports name
    digest: str
    platform: str
    result: MatchResult
    sbom_warnings: tuple[str, ...] = ()


def scan_image(
    reference: str,
    db_path: Path,
    options: OpenOptions | None = None,
    *,
    ignore_unfixed: bool = False,
    vex: Sequence[VexStatement] = (),
    progress: Progress | None = None,
) -> list[ImageScan]:
    """Catalog each selected platform image of ``reference`` (one layer pass, SBOM kept in
    memory) and match its components, exactly as ``scan --sbom`` would match that SBOM."""
    from chainproof.oci.open import open_target
    from chainproof.sbom.catalog import sbom_for_image
    from chainproof.vuln.sbom_input import as_sbom_components

    # Fail on a missing database before streaming any layer.
    AdvisoryDB(db_path, create=False).close()
    source, target = open_target(reference, options)
    scans: list[ImageScan] = []
    with source:
        for image in target.images:
            sbom = sbom_for_image(source, image, target.reference, progress)
            result = scan_components(
                as_sbom_components(sbom.components),
                db_path,
                ignore_unfixed=ignore_unfixed,
                vex=vex,
            )
            platform = str(image.platform)
            scans.append(
                ImageScan(
                    f"{target.reference}@{image.digest} ({platform})",
                    str(image.digest),
                    platform,
                    result,
                    sbom.warnings,
                )
            )
    return scans
