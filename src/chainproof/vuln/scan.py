"""The library entry point behind ``chainproof scan``: components in, filtered findings out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainproof.checks.interface import Severity
from chainproof.vuln.db import AdvisoryDB
from chainproof.vuln.matcher import SEVERITY_ORDER, Matcher, MatchResult
from chainproof.vuln.vex import apply_vex

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

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
