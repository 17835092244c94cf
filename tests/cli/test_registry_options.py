"""The shared registry options of image-reading commands."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from chainproof.cli.options import add_registry_options, registry_options_from_args


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="chainproof verify")
    add_registry_options(parser)
    return parser.parse_args(list(argv))


def test_defaults_are_the_secure_ones() -> None:
    options = registry_options_from_args(_parse())
    assert options.min_tls == "1.3"
    assert options.insecure_registries == frozenset()
    assert options.foreign_hosts == frozenset()
    assert options.ca_file is None and options.authfile is None


def test_every_option_reaches_registry_options() -> None:
    args = _parse(
        "--insecure-registry",
        "localhost:5000",
        "--insecure-registry",
        "10.0.0.1",
        "--min-tls",
        "1.2",
        "--cacert",
        "/etc/ca.pem",
        "--authfile",
        "/tmp/auth.json",
        "--allow-foreign-host",
        "mcr.microsoft.com",
    )
    options = registry_options_from_args(args)
    assert options.insecure_registries == {"localhost:5000", "10.0.0.1"}
    assert options.min_tls == "1.2"
    assert options.ca_file == Path("/etc/ca.pem")
    assert options.authfile == Path("/tmp/auth.json")
    assert options.foreign_hosts == {"mcr.microsoft.com"}
    assert registry_options_from_args(_parse("--ca-file", "x.pem")).ca_file == Path("x.pem")


def test_tls_below_12_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        _parse("--min-tls", "1.1")
    assert exited.value.code == 2
    assert "invalid choice: '1.1'" in capsys.readouterr().err
