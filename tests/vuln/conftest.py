"""Fixtures of the vulnerability tests: paths to real data, a database built from it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as DET
import pytest

from chainproof.vuln.db import AdvisoryDB
from chainproof.vuln.load import read_path

DATA = Path(__file__).parent / "data"

_REMEDIATION_NUM = {"Workaround": 0, "Mitigation": 1, "Vendor Fix": 2, "Known Issue": 5}
_THREAT_NUM = {"Impact": 0, "Exploit Status": 1, "Severity": 3}


@pytest.fixture(scope="session")
def windows_fixtures(shared_fixtures: Path) -> Path:
    return shared_fixtures / "windows"


@pytest.fixture(scope="session")
def cvrf_xml(windows_fixtures: Path) -> Path:
    return windows_fixtures / "msrc-cvrf" / "cvrfDocument-2024-Jan.xml"


def _t(e: Element | None) -> str:
    return "" if e is None or e.text is None else e.text.strip()


def cvrf_xml_to_json(xml: bytes) -> bytes:
    """The JSON form of the same API document, as the MSRC API serves it (numeric enums)."""
    root = DET.fromstring(xml)
    tracking = root.find("{*}DocumentTracking")
    assert tracking is not None
    products = [
        {"ProductID": p.get("ProductID"), "Value": _t(p)}
        for p in root.iter()
        if p.tag.endswith("}FullProductName")
    ]
    vulns: list[dict[str, Any]] = []
    for v in root.findall("{*}Vulnerability"):
        vulns.append(
            {
                "Title": {"Value": _t(v.find("{*}Title"))},
                "CVE": _t(v.find("{*}CVE")),
                "Threats": [
                    {
                        "Description": {"Value": _t(t.find("{*}Description"))},
                        "ProductID": [_t(p) for p in t.findall("{*}ProductID")],
                        "Type": _THREAT_NUM.get(t.get("Type", ""), 9),
                    }
                    for t in v.iterfind("{*}Threats/{*}Threat")
                ],
                "CVSSScoreSets": [
                    {
                        "BaseScore": float(_t(s.find("{*}BaseScore")) or 0),
                        "Vector": _t(s.find("{*}Vector")),
                        "ProductID": [_t(p) for p in s.findall("{*}ProductID")],
                    }
                    for s in v.iterfind("{*}CVSSScoreSets/{*}ScoreSet")
                ],
                "Remediations": [
                    {
                        "Description": {"Value": _t(r.find("{*}Description"))},
                        "URL": _t(r.find("{*}URL")),
                        "Supercedence": _t(r.find("{*}Supercedence")),
                        "ProductID": [_t(p) for p in r.findall("{*}ProductID")],
                        "Type": _REMEDIATION_NUM.get(r.get("Type", ""), 3),
                        "SubType": _t(r.find("{*}SubType")),
                        "FixedBuild": _t(r.find("{*}FixedBuild")),
                        "RestartRequired": {"Value": _t(r.find("{*}RestartRequired"))},
                    }
                    for r in v.iterfind("{*}Remediations/{*}Remediation")
                ],
            }
        )
    doc = {
        "DocumentTitle": {"Value": _t(root.find("{*}DocumentTitle"))},
        "DocumentTracking": {
            "Identification": {"ID": {"Value": _t(tracking.find("{*}Identification/{*}ID"))}},
            "InitialReleaseDate": _t(tracking.find("{*}InitialReleaseDate")),
            "CurrentReleaseDate": _t(tracking.find("{*}CurrentReleaseDate")),
        },
        "ProductTree": {"Branch": [{"Items": []}], "FullProductName": products},
        "Vulnerability": vulns,
    }
    return json.dumps(doc).encode()


@pytest.fixture(scope="session")
def cvrf_json(cvrf_xml: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cvrf") / "2024-Jan.json"
    path.write_bytes(cvrf_xml_to_json(cvrf_xml.read_bytes()))
    return path


@pytest.fixture(scope="session")
def fixture_db(
    cvrf_xml: Path, windows_fixtures: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A database holding the January 2024 CVRF document, the GHSA records and test records."""
    path = tmp_path_factory.mktemp("db") / "advisories.db"
    with AdvisoryDB(path) as db:
        batches = [
            pair
            for source in (cvrf_xml, windows_fixtures / "ghsa-nuget", DATA / "osv")
            for pair in read_path(source)
        ]
        db.import_batches(batches)
    return path


@pytest.fixture
def db(fixture_db: Path) -> Any:
    with AdvisoryDB(fixture_db) as opened:
        yield opened
