"""The demo's hive writer, checked by a third-party reader (hivexget) and by regipy."""

from __future__ import annotations

import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest

from chainproof.windows.hive import Hive
from chainproof.windows.regf_writer import Key, write_hive

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.integration
def test_written_hive_reads_back_with_hivexget(tmp_path: Path) -> None:
    if shutil.which("hivexget") is None:
        pytest.skip("hivexget not installed (Debian package libhivex-bin)")
    root = Key("ROOT")
    root.child(r"Microsoft\Windows NT\CurrentVersion").values.update(
        CurrentBuildNumber="20348", UBR=2227
    )
    for name in ("Zeta", "alpha", "Mid"):
        root.child(rf"Microsoft\Windows\CurrentVersion\Uninstall\{name}").values["DisplayName"] = (
            name
        )
    path = tmp_path / "SOFTWARE"
    path.write_bytes(write_hive(root, "SOFTWARE"))
    out = subprocess.run(
        ["hivexget", str(path), r"Microsoft\Windows NT\CurrentVersion"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert '"CurrentBuildNumber"="20348"' in out and '"UBR"=dword:000008b3' in out
    hive = Hive(path, "SOFTWARE")
    assert not hive.layered
    uninstall = hive.key(r"Microsoft\Windows\CurrentVersion\Uninstall")
    assert uninstall is not None
    assert sorted((k.name for k in uninstall.subkeys()), key=str.casefold) == [
        "alpha",
        "Mid",
        "Zeta",
    ]
    assert Hive(_delta(tmp_path), "delta").layered


def _delta(tmp_path: Path) -> Path:
    path = tmp_path / "Software_Delta"
    path.write_bytes(write_hive(Key("ROOT", subkeys=[Key("Microsoft")]), layered=True))
    return path
