"""``vuln.*`` results for ``chainproof verify``.

Reads the components that the SBOM check left in ``context.shared["sbom.components"]`` (a
sequence of :class:`~chainproof.vuln.sbom_input.SbomComponent`) and the database a
:class:`VulnConfig` names (default: the user's data directory). VEX documents found as
attestations are read from
``context.shared["vex.documents"]`` (raw bytes: OpenVEX, CycloneDX VEX, in-toto Statement or
DSSE envelope) — the trust checks put them there once their signatures verified.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chainproof.checks.interface import Check, CheckResult, Severity, Status
from chainproof.vuln.matcher import SEVERITY_ORDER
from chainproof.vuln.paths import default_path
from chainproof.vuln.sbom_input import as_sbom_components
from chainproof.vuln.scan import scan_components
from chainproof.vuln.vex import parse_vex, read_vex

if TYPE_CHECKING:
    from collections.abc import Iterable

    from chainproof.checks.context import CheckContext

SHARED_KEY = "sbom.components"


@dataclass(frozen=True)
class VulnConfig:
    #: None: the user data directory's database, skipped when it was never built.
    database: Path | None = None
    #: Findings at or above this severity fail; lower ones warn.
    fail_on: Severity = Severity.HIGH
    ignore_unfixed: bool = False
    vex: tuple[Path, ...] = ()
    #: Fail closed when no database exists (a policy that asks for vulnerabilities does).
    database_required: bool = False


class VulnCheck(Check):
    family = "vuln"

    def __init__(self, config: VulnConfig | None = None) -> None:
        self.config = config or VulnConfig()

    def run(self, context: CheckContext) -> Iterable[CheckResult]:
        shared = context.shared.get(SHARED_KEY)
        if shared is None:
            yield CheckResult(
                "vuln.scan",
                Status.SKIP,
                Severity.INFO,
                "no SBOM components to match (the SBOM check did not run)",
            )
            return
        components = as_sbom_components(shared)
        config = self.config
        db_path = config.database or default_path()
        if config.database is None and not db_path.exists():
            # No database was asked for and none was ever built: say how to get one rather
            # than fail every verification of a fresh install — unless a policy requires the
            # match. An explicit --vuln-db that is missing is an error (the scan below raises).
            yield CheckResult(
                "vuln.scan",
                Status.FAIL if config.database_required else Status.SKIP,
                Severity.HIGH if config.database_required else Severity.MEDIUM,
                f"no advisory database at {db_path}: run 'chainproof db update' (or pass "
                "--vuln-db) to match vulnerabilities",
                {"db": str(db_path)},
            )
            return
        threshold = config.fail_on
        statements = [s for p in config.vex for s in read_vex(p)]
        for i, doc in enumerate(context.shared.get("vex.documents") or []):
            statements.extend(parse_vex(doc, f"VEX attestation {i + 1}"))
        # In-toto statements whose signatures the attestation check verified.
        for i, statement in enumerate(context.shared.get("attestations") or []):
            if isinstance(statement, dict) and "openvex" in str(statement.get("predicateType")):
                data = json.dumps(statement).encode()
                statements.extend(parse_vex(data, f"verified VEX attestation {i + 1}"))
        result = scan_components(
            components,
            db_path,
            ignore_unfixed=config.ignore_unfixed,
            vex=statements,
        )
        floor = SEVERITY_ORDER[threshold]
        for f in result.findings:
            blocking = SEVERITY_ORDER[f.severity] >= floor
            fix = f"{f.kb} ({f.fixed})" if f.kb else (f.fixed or "no fix")
            yield CheckResult(
                f"vuln.{f.kind}",
                Status.FAIL if blocking else Status.WARN,
                f.severity,
                f"{f.component} {f.version}: {f.vuln_id}, fixed by {fix}",
                evidence=f.to_json(),
            )
        for f in result.suppressed:
            yield CheckResult(
                f"vuln.{f.kind}",
                Status.PASS,
                Severity.INFO,
                f"{f.component} {f.version}: {f.vuln_id} suppressed by VEX ({f.vex_status})",
                evidence=f.to_json(),
            )
        if not result.findings:
            yield CheckResult(
                "vuln.scan",
                Status.PASS,
                Severity.INFO,
                f"no known vulnerabilities in {result.components} components",
                evidence={"notes": result.notes, "db": str(db_path)},
            )
