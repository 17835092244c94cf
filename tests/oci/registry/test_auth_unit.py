"""WWW-Authenticate parsing, config.json lookup rules, option validation."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainproof.errors import AuthError, TransportSecurityError, UsageError
from chainproof.oci.registry import RegistryOptions, _auth, _tls


def test_bearer_challenge_with_quoted_commas() -> None:
    header = (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:samalba/my-app:pull,push"'
    )
    (challenge,) = _auth.parse_challenges(header)
    assert challenge.scheme == "bearer"
    assert challenge.params == {
        "realm": "https://auth.docker.io/token",
        "service": "registry.docker.io",
        "scope": "repository:samalba/my-app:pull,push",
    }


def test_several_challenges_and_escapes() -> None:
    header = 'Basic realm="a \\"quoted\\" realm", Bearer realm="https://t.example/token"'
    challenges = _auth.parse_challenges(header)
    assert [c.scheme for c in challenges] == ["basic", "bearer"]
    assert challenges[0].params["realm"] == 'a "quoted" realm'
    assert challenges[1].params["realm"] == "https://t.example/token"


@given(st.text(max_size=200))
def test_challenge_parser_never_crashes(header: str) -> None:
    for challenge in _auth.parse_challenges(header):
        assert challenge.scheme == challenge.scheme.lower()


def _write(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document))
    return path


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_docker_hub_uses_the_index_v1_key(tmp_path: Path) -> None:
    config = _write(
        tmp_path / "config.json",
        {"auths": {"https://index.docker.io/v1/": {"auth": _b64("hubuser:hubpass")}}},
    )
    found = _auth.lookup("docker.io", config)
    assert found is not None
    assert (found.username, found.password) == ("hubuser", "hubpass")
    assert _auth.lookup("ghcr.io", config) is None


def test_exact_key_wins_and_hosts_do_not_cross(tmp_path: Path) -> None:
    config = _write(
        tmp_path / "config.json",
        {
            "auths": {
                "https://reg.example:5000/v2/": {"auth": _b64("a:1")},
                "reg.example:5000": {"auth": _b64("b:2")},
                "reg.example": {"auth": _b64("c:3")},
            }
        },
    )
    found = _auth.lookup("reg.example:5000", config)
    assert found is not None and found.username == "b"
    other = _auth.lookup("reg.example", config)
    assert other is not None and other.username == "c"


def test_bad_auth_field_is_an_auth_error(tmp_path: Path) -> None:
    config = _write(tmp_path / "config.json", {"auths": {"r.example": {"auth": "!!!"}}})
    with pytest.raises(AuthError, match="not base64"):
        _auth.lookup("r.example", config)


def test_malformed_config_is_an_auth_error(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text("{not json")
    with pytest.raises(AuthError, match="malformed JSON"):
        _auth.lookup("r.example", config)


def _helper(directory: Path, body: str) -> None:
    script = directory / "docker-credential-unit"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_helper_not_found_answer_falls_back_to_auths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _helper(tmp_path, 'echo "credentials not found in native keychain"; exit 1\n')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    config = _write(
        tmp_path / "config.json",
        {"credsStore": "unit", "auths": {"r.example": {"auth": _b64("u:p")}}},
    )
    found = _auth.lookup("r.example", config)
    assert found is not None and found.username == "u"


def test_helper_garbage_and_failure_are_auth_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    config = _write(tmp_path / "config.json", {"credHelpers": {"r.example": "unit"}})
    _helper(tmp_path, "echo garbage\n")
    with pytest.raises(AuthError, match="not JSON"):
        _auth.lookup("r.example", config)
    _helper(tmp_path, "echo 'keychain locked' >&2; exit 3\n")
    with pytest.raises(AuthError, match="keychain locked"):
        _auth.lookup("r.example", config)


def test_helper_token_username_means_identity_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _helper(tmp_path, 'cat >/dev/null; echo \'{"Username":"<token>","Secret":"refresh"}\'\n')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    config = _write(tmp_path / "config.json", {"credHelpers": {"r.example": "unit"}})
    found = _auth.lookup("r.example", config)
    assert found is not None
    assert found.identity_token == "refresh" and not found.has_basic


def test_options_validate_and_normalise(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--min-tls"):
        RegistryOptions(min_tls="1.1")
    options = RegistryOptions(insecure_registries=frozenset({"HTTP://Reg.Example:5000/"}))
    assert options.is_insecure("reg.example:5000")
    assert not options.is_insecure("reg.example")
    with pytest.raises(TransportSecurityError, match="does not exist"):
        _tls.make_context(RegistryOptions(ca_file=tmp_path / "missing.pem"))
    assert _tls.make_context(RegistryOptions()).minimum_version.name == "TLSv1_3"
    assert _tls.make_context(RegistryOptions(min_tls="1.2")).minimum_version.name == "TLSv1_2"


def test_authfile_default_honours_docker_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert RegistryOptions().resolved_authfile == tmp_path / "config.json"
    monkeypatch.delenv("DOCKER_CONFIG")
    assert RegistryOptions().resolved_authfile == Path.home() / ".docker" / "config.json"
