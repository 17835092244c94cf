"""A failed ``db import`` leaves no database behind: an empty one would later scan clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chainproof.cli.main import main
from tests.vuln.conftest import DATA


def test_failed_import_creates_no_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "advisories.db"
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    good = sorted((DATA / "osv").rglob("*.json"))[0]
    # The good file is imported first, in the same transaction: it must not survive either.
    assert main(["db", "import", "--db", str(db), str(good), str(bad)]) == 2
    assert "neither an MSRC CVRF document nor an OSV record" in capsys.readouterr().err
    assert not list(tmp_path.glob("advisories.db*"))
    assert main(["scan", "--db", str(db), "--sbom", str(DATA / "syft-debian.spdx.json")]) == 2
    assert "no advisory database" in capsys.readouterr().err
    assert main(["db", "import", "--db", str(db), str(good)]) == 0
    assert db.is_file()


def test_failed_import_keeps_an_existing_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "advisories.db"
    good = sorted((DATA / "osv").rglob("*.json"))[0]
    assert main(["db", "import", "--db", str(db), str(good)]) == 0
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["db", "import", "--db", str(db), str(bad)]) == 2
    capsys.readouterr()
    assert db.is_file()
    main(["db", "status", "--db", str(db), "--format", "json"])
    assert json.loads(capsys.readouterr().out)["advisories"] == 1
