"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

#: ../shared/fixtures beside the checkout: real data collected from public projects
#: ($CHAINPROOF_SHARED_FIXTURES for a checkout elsewhere, e.g. a git worktree).
SHARED_FIXTURES = Path(
    os.environ.get("CHAINPROOF_SHARED_FIXTURES")
    or Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"
)


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """The shared fixture tree; tests using it skip (with the reason) when it is absent."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"shared fixtures not found at {SHARED_FIXTURES} (clone ../shared beside)")
    return SHARED_FIXTURES


@pytest.fixture
def windows_layout(tmp_path: Path) -> Path:
    """The demo's Windows-format sample as an OCI layout (tag ``ltsc2022``)."""
    from chainproof.demo.sample import build_sample

    root = tmp_path / "windows-layout"
    build_sample(root)
    return root


@pytest.fixture
def linux_layout(tmp_path: Path) -> Path:
    """A small Linux image (tag ``v1``) with a gzip, a zstd and an uncompressed layer."""
    from chainproof.oci.layout_writer import LayerFile, LayoutWriter

    root = tmp_path / "linux-layout"
    writer = LayoutWriter(root)
    layers = [
        writer.add_layer(
            [
                LayerFile("etc", kind="dir"),
                LayerFile("etc/os-release", b'ID=debian\nVERSION_ID="12"\n'),
                LayerFile("usr/bin/tool", b"\x7fELF" + bytes(100), mode=0o755),
            ],
            "gzip",
        ),
        writer.add_layer([LayerFile("app/main.py", b"print('hi')\n")], "zstd"),
        writer.add_layer([LayerFile("etc/.wh.os-release")], "none"),
    ]
    descriptor = writer.add_image(layers, config={"User": "1000"}, tag="v1")
    writer.tag(descriptor)
    return root


@pytest.fixture(autouse=True, scope="session")
def _private_user_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """CLI runs write a layer cache and its key under the user's dirs: keep them in the run."""
    base = tmp_path_factory.mktemp("user-dirs")
    saved = {name: os.environ.get(name) for name in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME")}
    os.environ["XDG_CACHE_HOME"] = str(base / "cache")
    os.environ["XDG_CONFIG_HOME"] = str(base / "config")
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


#: Ten real monthly CVRF documents (2021-Sep … 2024-Oct), trimmed (tests/vuln/data/msrc).
MSRC_MONTHS = Path(__file__).parent / "vuln" / "data" / "msrc"


@pytest.fixture(scope="session")
def months_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Those documents imported by chainproof: an advisory database with real MSRC rows."""
    from chainproof.vuln.db import AdvisoryDB
    from chainproof.vuln.load import read_path

    path = tmp_path_factory.mktemp("months") / "advisories.db"
    with AdvisoryDB(path) as db:
        db.import_batches(read_path(MSRC_MONTHS))
    return path
