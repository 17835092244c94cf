"""The cache options on the command line: where entries go, opting out, bad locations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from chainproof.cli.main import main
from chainproof.oci.layout_writer import LayerFile, LayoutWriter


@pytest.fixture
def image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    # The default locations follow the XDG variables (platformdirs): keep them in tmp_path.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    writer = LayoutWriter(tmp_path / "img")
    layers = [writer.add_layer([LayerFile(f"f{i}", b"x" * i)]) for i in range(3)]
    writer.tag(writer.add_image(layers, tag="t"))
    return f"oci:{tmp_path / 'img'}:t"


def _entries(directory: Path) -> int:
    database = sqlite3.connect(directory / "layers.sqlite")
    try:
        (count,) = database.execute("SELECT count(*) FROM layers").fetchone()
    finally:
        database.close()
    return int(count)


def _verify(*argv: str) -> int:
    return main(["verify", "--no-progress", "--checks", "integrity", *argv])


def test_explicit_cache_directory_and_key(image: str, tmp_path: Path) -> None:
    argv = ("--layer-cache", str(tmp_path / "c"), "--layer-cache-key", str(tmp_path / "k"))
    assert _verify(*argv, image) == 0
    assert _entries(tmp_path / "c") == 3
    assert (tmp_path / "k").stat().st_mode & 0o777 == 0o600
    assert _verify(*argv, image) == 0  # served from the cache, same verdict


def test_default_cache_lives_in_the_user_cache_dir(image: str, tmp_path: Path) -> None:
    assert _verify(image) == 0
    assert _entries(tmp_path / "xdg-cache" / "chainproof" / "layers") == 3
    assert (tmp_path / "xdg-config" / "chainproof" / "layer-cache.key").is_file()


def test_no_layer_cache_records_nothing(image: str, tmp_path: Path) -> None:
    assert _verify("--no-layer-cache", image) == 0
    assert not (tmp_path / "xdg-cache").exists()
    assert not (tmp_path / "xdg-config").exists()


def test_unusable_cache_location_is_bad_input(
    image: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("not a directory")
    assert _verify("--layer-cache", str(tmp_path / "file"), image) == 2
    err = capsys.readouterr().err
    assert err.startswith("chainproof: error: layer cache") and err.count("\n") == 1


def test_a_key_others_can_read_disables_the_default_cache_only(
    image: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "xdg-config" / "chainproof" / "layer-cache.key"
    key.parent.mkdir(parents=True)
    key.write_text("ab" * 32)
    key.chmod(0o644)
    assert _verify(image) == 0  # default location: streamed, nothing recorded
    assert not (tmp_path / "xdg-cache" / "chainproof" / "layers").exists()
    assert _verify("--layer-cache-key", str(key), image) == 2
    assert "readable or writable by others" in capsys.readouterr().err
