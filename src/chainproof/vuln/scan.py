"""The library entry point behind ``chainproof scan``: components in, filtered findings out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainproof.checks.interface import Severity
from chainproof.vuln.db import AdvisoryDB
from chainproof.vuln.matcher import SEVERITY_ORDER, Matcher, MatchResult

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from chainproof.vuln.sbom_input import SbomComponent


def scan_components(
    components: Iterable[SbomComponent], db_path: Path, *, ignore_unfixed: bool = False
) -> MatchResult:
    with AdvisoryDB(db_path, create=False) as db:
        result = Matcher(db).match(components)
    if ignore_unfixed:
        result.findings = [f for f in result.findings if f.fixed or f.kb]
    return result


def at_or_above(result: MatchResult, threshold: Severity) -> int:
    """How many findings reach ``threshold`` (what ``--fail-on`` counts)."""
    floor = SEVERITY_ORDER[threshold]
    return sum(1 for f in result.findings if SEVERITY_ORDER[f.severity] >= floor)
