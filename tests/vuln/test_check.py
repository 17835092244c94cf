from __future__ import annotations

from pathlib import Path
from typing import Any

from chainproof.checks.interface import Severity, Status
from chainproof.vuln.check import VulnCheck, VulnConfig
from chainproof.vuln.sbom_input import read_sbom

from .conftest import DATA


class _Context:
    """The attribute VulnCheck reads; a full CheckContext needs an image and a source."""

    def __init__(self, shared: dict[str, Any]) -> None:
        self.shared = shared


def test_skip_without_components(fixture_db: Path) -> None:
    results = list(VulnCheck(VulnConfig(fixture_db)).run(_Context({})))  # type: ignore[arg-type]
    assert [(r.id, r.status) for r in results] == [("vuln.scan", Status.SKIP)]


def test_findings_become_results(fixture_db: Path) -> None:
    components = read_sbom(DATA / "trivy-windows-servercore.cdx.json")
    ctx = _Context({"sbom.components": components})
    config = VulnConfig(fixture_db, fail_on=Severity.CRITICAL)
    results = list(VulnCheck(config).run(ctx))  # type: ignore[arg-type]
    windows = [r for r in results if r.id == "vuln.windows"]
    assert len(windows) == 36
    statuses = {r.status for r in windows}
    assert statuses == {Status.FAIL, Status.WARN}  # critical ones fail, the rest warn
    assert all(r.evidence["kb"] == "KB5034129" for r in windows)
    assert any(r.id == "vuln.package" for r in results)


def test_pass_when_clean(fixture_db: Path) -> None:
    ctx = _Context({"sbom.components": []})
    results = list(VulnCheck(VulnConfig(fixture_db)).run(ctx))  # type: ignore[arg-type]
    assert [(r.id, r.status) for r in results] == [("vuln.scan", Status.PASS)]


def test_vex_attestation_from_shared(fixture_db: Path) -> None:
    components = read_sbom(DATA / "trivy-windows-servercore.cdx.json")
    shared = {
        "sbom.components": components,
        "vex.documents": [(DATA / "openvex.json").read_bytes()],
    }
    results = list(VulnCheck(VulnConfig(fixture_db)).run(_Context(shared)))  # type: ignore[arg-type]
    suppressed = [r for r in results if "suppressed by VEX" in r.message]
    assert len(suppressed) == 1 and suppressed[0].status is Status.PASS
