"""Patch age against a database built from real (trimmed) CVRF months."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from chainproof.errors import Error, InputError, MalformedError, NotFoundError, UnsupportedError
from chainproof.vuln.db import AdvisoryDB
from chainproof.vuln.load import read_path
from chainproof.vuln.patch_level import CumulativeUpdate, patch_level
from tests.vuln.conftest import DATA


def test_image_at_a_cumulative_update(months_db: Path) -> None:
    level = patch_level(months_db, "10.0.20348.2227")
    assert level.product == "Windows Server 2022 (Server Core installation)"
    assert (level.build, level.ubr) == (20348, 2227)
    assert level.installed == CumulativeUpdate("KB5034129", 20348, 2227, dt.date(2024, 1, 9))
    assert level.newest == CumulativeUpdate("KB5044281", 20348, 2762, dt.date(2024, 10, 8))
    assert [u.kb for u in level.missing] == ["KB5034770", "KB5035857", "KB5044281"]
    assert level.days_behind == (dt.date(2024, 10, 8) - dt.date(2024, 1, 9)).days == 273


def test_hotpatch_builds_are_not_cumulative_updates(months_db: Path) -> None:
    # .2333 is March 2024's hotpatch (KB5035959): the image still carries February's update.
    level = patch_level(months_db, "10.0.20348.2333")
    assert level.installed is not None and level.installed.kb == "KB5034770"
    assert "KB5035959" not in {u.kb for u in level.missing}
    assert level.missing[0].kb == "KB5035857"
    everything = {u.kb for u in patch_level(months_db, "10.0.20348.1").missing}
    assert not everything & {"KB5035959", "KB5023786", "KB5032304", "KB5033464", "KB5019080"}


def test_release_date_is_patch_tuesday_of_its_month(months_db: Path) -> None:
    # 2022-Nov's hotpatch KB5019080 (.1251) is above the cumulative update and is ignored.
    level = patch_level(months_db, "10.0.20348.1249")
    assert level.installed == CumulativeUpdate("KB5019081", 20348, 1249, dt.date(2022, 11, 8))


def test_image_older_than_every_known_update(months_db: Path) -> None:
    level = patch_level(months_db, "10.0.20348.169", "Server Core")
    assert level.installed is None and level.days_behind is None
    assert level.missing[0] == CumulativeUpdate("KB5005575", 20348, 230, dt.date(2021, 9, 14))
    assert level.newest == level.missing[-1]


def test_newest_image_is_zero_days_behind(months_db: Path) -> None:
    level = patch_level(months_db, "10.0.20348.2900")
    assert level.installed == level.newest and level.missing == () and level.days_behind == 0


def test_installations(months_db: Path) -> None:
    assert patch_level(months_db, "10.0.17763.5329", "Nano Server").product == (
        "Windows Server 2019 (Server Core installation)"
    )
    full = patch_level(months_db, "10.0.20348.2227", "Server")
    assert full.product == "Windows Server 2022" and full.installed is not None
    core_only = patch_level(months_db, "10.0.25398.643", "Server")
    assert core_only.product == "Windows Server 2022, 23H2 Edition (Server Core installation)"
    assert core_only.installed is not None and core_only.installed.kb == "KB5034130"


def test_product_without_rows_in_the_database(months_db: Path) -> None:
    level = patch_level(months_db, "10.0.19042.1000")  # 20H2: no row in these months
    assert (level.installed, level.newest, level.missing, level.days_behind) == (
        None,
        None,
        (),
        None,
    )


@pytest.mark.parametrize(
    ("version", "installation", "error", "text"),
    [
        ("5.15.0-91-generic", "", MalformedError, "not a Windows build number"),
        ("10.0.19045.3803", "", UnsupportedError, "not a Windows Server release"),
        ("10.0.20348.2227", "Client", InputError, "unknown Windows installation type"),
    ],
)
def test_bad_input(
    months_db: Path, version: str, installation: str, error: type[Error], text: str
) -> None:
    with pytest.raises(error, match=text):
        patch_level(months_db, version, installation)


def test_database_without_msrc_data(tmp_path: Path) -> None:
    path = tmp_path / "osv-only.db"
    with AdvisoryDB(path) as db:
        db.import_batches(read_path(DATA / "osv"))
    with pytest.raises(NotFoundError, match="no MSRC data"):
        patch_level(path, "10.0.20348.2227")
    with pytest.raises(InputError, match="no advisory database"):
        patch_level(tmp_path / "missing.db", "10.0.20348.2227")


def test_database_imported_before_subtypes_were_stored(tmp_path: Path) -> None:
    import sqlite3

    from chainproof.vuln import db as dbmod

    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path)
    conn.executescript(dbmod._MIGRATIONS[0])
    conn.execute(
        "INSERT INTO msrc_fixes VALUES ('CVE-2024-21429', '2024-Mar', '11924', "
        "'Windows Server 2022 (Server Core installation)', "
        "'windows server 2022 (server core installation)', 'windows', '5035959', "
        "'10.0.20348.2333', 20348, 2333, '', 'Important', 7.5, '', 0, 't', '2024-03-12')"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with pytest.raises(InputError, match="cannot be told from hotpatches"):
        patch_level(path, "10.0.20348.2227")
