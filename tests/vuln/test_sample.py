from __future__ import annotations

import json
from pathlib import Path

from chainproof.vuln import sample
from chainproof.vuln.db import AdvisoryDB

SAMPLE_DIR = Path(sample.__file__).parent / "sample"


def test_shipped_sample_is_the_fact_extract_of_the_real_documents(
    cvrf_xml: Path, windows_fixtures: Path
) -> None:
    records = [p.read_bytes() for p in sorted((windows_fixtures / "ghsa-nuget").glob("*.json"))]
    msrc, osv = sample.extract_facts(cvrf_xml.read_bytes(), records)
    assert (SAMPLE_DIR / sample.MSRC_FILE).read_text() == msrc
    assert (SAMPLE_DIR / sample.OSV_FILE).read_text() == osv


def test_sample_carries_no_prose() -> None:
    msrc = json.loads((SAMPLE_DIR / sample.MSRC_FILE).read_text())
    assert all("Title" not in v and "Notes" not in v for v in msrc["Vulnerability"])
    osv = json.loads((SAMPLE_DIR / sample.OSV_FILE).read_text())
    assert all("details" not in r and "summary" not in r and "references" not in r for r in osv)


def test_sample_database_and_demo(tmp_path: Path) -> None:
    db_path = sample.build_sample_database(tmp_path / "s.db")
    with AdvisoryDB(db_path) as db:
        status = db.status()
    assert {s.source_id for s in status.sources} == {"2024-Jan (sample)", sample.SAMPLE_LABEL}
    result = sample.scan_sample(tmp_path)
    kinds = {(f.kind, f.kb or f.fixed) for f in result.findings}
    assert ("windows", "KB5034129") in kinds
    assert ("package", "13.0.1") in kinds  # Newtonsoft.Json 12.0.3
    assert ("package", "8.0.5") in kinds  # System.Text.Json 8.0.4
    assert ("dotnet", "KB5033741") in kinds
    assert ("powershell", "7.4.1") in kinds
    assert len([f for f in result.findings if f.kind == "windows"]) == 36
    text = sample.render_demo(tmp_path / "again")
    assert "SAMPLE" in text and "KB5034129 (10.0.20348.2227)" in text
