from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from chainproof.errors import MalformedError, UnsupportedError
from chainproof.vuln.load import parse_bytes, read_path
from chainproof.vuln.osv import OsvFeed

from .conftest import DATA


def test_ghsa_records(windows_fixtures: Path) -> None:
    data = (windows_fixtures / "ghsa-nuget" / "GHSA-5crp-9r3c-p9vr.json").read_bytes()
    batch = parse_bytes(data, "ghsa")
    (adv,) = batch.advisories
    assert adv.id == "GHSA-5crp-9r3c-p9vr"
    assert adv.aliases == ("CVE-2024-21907",)
    assert adv.severity == "high"
    assert adv.cvss_score == 7.5
    (pkg,) = adv.affected
    assert (pkg.ecosystem, pkg.name) == ("NuGet", "Newtonsoft.Json")
    assert pkg.ranges[0].events == (("introduced", "0"), ("fixed", "13.0.1"))


def test_two_ranges_of_system_text_json(windows_fixtures: Path) -> None:
    batch = parse_bytes(
        (windows_fixtures / "ghsa-nuget" / "GHSA-8g4q-xg66-9fp4.json").read_bytes(), "x"
    )
    (adv,) = batch.advisories
    assert adv.aliases == ("CVE-2024-43485",)
    fixed = sorted(
        e[1] for p in adv.affected for r in p.ranges for e in r.events if e[0] == "fixed"
    )
    assert fixed == ["6.0.10", "8.0.5"]


def _record(**over: object) -> dict[str, object]:
    rec: dict[str, object] = {
        "id": "TEST-1",
        "modified": "2024-01-01T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": "npm", "name": "left-pad"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.3.0"}]}],
            }
        ],
    }
    rec.update(over)
    return rec


def test_unknown_ecosystem_is_a_logged_skip() -> None:
    rec = _record(affected=[{"package": {"ecosystem": "Nonexistent", "name": "x"}}])
    batch = OsvFeed().parse(json.dumps([rec, _record(id="TEST-2")]).encode(), "arr")
    assert [a.id for a in batch.advisories] == ["TEST-2"]
    assert batch.skipped == ["arr: TEST-1: unknown ecosystem 'Nonexistent'"]


@pytest.mark.parametrize(
    "ranges",
    [
        [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "not!a!version"}]}],
        [{"type": "SEMVER", "events": [{"fixed": "1.0.0"}]}],
        [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1"}]}],
        [{"type": "WEIRD", "events": [{"introduced": "0"}]}],
    ],
)
def test_broken_range_is_a_logged_skip(ranges: list[object]) -> None:
    rec = _record(affected=[{"package": {"ecosystem": "npm", "name": "x"}, "ranges": ranges}])
    batch = OsvFeed().parse(json.dumps(rec).encode(), "r.json")
    assert batch.advisories == []
    assert len(batch.skipped) == 1
    assert "TEST-1" in batch.skipped[0]


def test_malformed_json_is_an_error() -> None:
    with pytest.raises(MalformedError):
        OsvFeed().parse(b'{"id": "x", ', "bad.json")


def test_unrecognised_document_is_unsupported() -> None:
    with pytest.raises(UnsupportedError):
        parse_bytes(b"hello", "x.txt")


def test_directory_and_zip_export(tmp_path: Path) -> None:
    ((batch, _),) = list(read_path(DATA / "osv"))
    assert sorted(a.id for a in batch.advisories) == ["TEST-DEB-0001", "TEST-PYSEC-0002"]
    export = tmp_path / "all.zip"
    with zipfile.ZipFile(export, "w") as z:
        for f in (DATA / "osv").iterdir():
            z.write(f, f.name)
        z.writestr("BROKEN.json", "{nope")
    ((zbatch, origin),) = list(read_path(export))
    assert origin == str(export)
    assert len(zbatch.advisories) == 2
    assert len(zbatch.skipped) == 1 and "BROKEN.json" in zbatch.skipped[0]
    assert zbatch.source.newest == "2024-01-11T00:00:00Z"


def test_truncated_zip_is_an_error(tmp_path: Path) -> None:
    export = tmp_path / "all.zip"
    with zipfile.ZipFile(export, "w") as z:
        for f in (DATA / "osv").iterdir():
            z.write(f, f.name)
    data = export.read_bytes()
    export.write_bytes(data[: len(data) // 2])
    with pytest.raises((MalformedError, UnsupportedError)):
        list(read_path(export))


def test_large_export_arrives_in_chunks_and_reports_once(tmp_path: Path) -> None:
    from chainproof.vuln.db import AdvisoryDB
    from chainproof.vuln.load import iter_zip

    export = tmp_path / "all.zip"
    with zipfile.ZipFile(export, "w") as z:
        for i in range(25):
            record = {
                "id": f"T-{i}",
                "affected": [
                    {"package": {"ecosystem": "npm", "name": f"p{i}"}, "versions": ["1.0.0"]}
                ],
            }
            z.writestr(f"T-{i}.json", json.dumps(record))
    assert [len(b.advisories) for b in iter_zip(export, chunk=10)] == [10, 10, 5]
    with AdvisoryDB(tmp_path / "a.db") as db:
        reports = db.import_batches(read_path(export))
        assert [(r.source_id, r.advisories) for r in reports] == [("all.zip", 25)]
        assert db.status().sources[0].records == 25
