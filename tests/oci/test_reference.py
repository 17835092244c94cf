from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainproof.errors import InvalidReferenceError
from chainproof.oci.digest import Digest
from chainproof.oci.reference import LocalRef, RegistryRef, parse, parse_registry

HEX = "a" * 64


@pytest.mark.parametrize(
    ("text", "host", "repository", "tag"),
    [
        ("ubuntu", "docker.io", "library/ubuntu", "latest"),
        ("ubuntu:22.04", "docker.io", "library/ubuntu", "22.04"),
        ("library/ubuntu", "docker.io", "library/ubuntu", "latest"),
        ("bitnami/nginx:1.25", "docker.io", "bitnami/nginx", "1.25"),
        ("index.docker.io/library/ubuntu", "docker.io", "library/ubuntu", "latest"),
        (
            "mcr.microsoft.com/windows/servercore:ltsc2022",
            "mcr.microsoft.com",
            "windows/servercore",
            "ltsc2022",
        ),
        ("localhost/app", "localhost", "app", "latest"),
        ("localhost:5000/team/app:v1", "localhost:5000", "team/app", "v1"),
        ("127.0.0.1:5000/app", "127.0.0.1:5000", "app", "latest"),
        ("[::1]:5000/app:x", "[::1]:5000", "app", "x"),
        ("docker://ghcr.io/org/img:tag", "ghcr.io", "org/img", "tag"),
    ],
)
def test_registry_references_normalise_like_docker(
    text: str, host: str, repository: str, tag: str
) -> None:
    ref = parse(text)
    assert isinstance(ref, RegistryRef)
    assert (ref.host, ref.repository, ref.tag) == (host, repository, tag)


def test_docker_hub_api_host() -> None:
    assert parse_registry("ubuntu").api_host == "registry-1.docker.io"
    assert parse_registry("quay.io/a/b").api_host == "quay.io"


def test_digest_reference_keeps_tag_and_digest() -> None:
    ref = parse_registry(f"mcr.microsoft.com/windows/nanoserver:ltsc2022@sha256:{HEX}")
    assert ref.tag == "ltsc2022"
    assert ref.digest == Digest("sha256", HEX)
    assert ref.identifier == f"sha256:{HEX}"
    assert str(ref) == f"mcr.microsoft.com/windows/nanoserver:ltsc2022@sha256:{HEX}"


def test_digest_only_reference_has_no_default_tag() -> None:
    ref = parse_registry(f"alpine@sha256:{HEX}")
    assert ref.tag == ""
    assert ref.identifier == f"sha256:{HEX}"


@pytest.mark.parametrize(
    ("text", "path", "tag", "digest"),
    [
        ("oci:/tmp/layout", "/tmp/layout", "", None),
        ("oci:/tmp/layout:v1", "/tmp/layout", "v1", None),
        (f"oci:/tmp/layout@sha256:{HEX}", "/tmp/layout", "", Digest("sha256", HEX)),
        ("oci-archive:img.tar", "img.tar", "", None),
        ("oci-archive:img.tar:ltsc2022", "img.tar", "ltsc2022", None),
        ("docker-archive:save.tar", "save.tar", "", None),
        ("docker-archive:save.tar:app:v2", "save.tar", "app:v2", None),
        ("docker-archive:save.tar@1", "save.tar", "@1", None),
    ],
)
def test_local_references(text: str, path: str, tag: str, digest: Digest | None) -> None:
    ref = parse(text)
    assert isinstance(ref, LocalRef)
    assert (ref.path, ref.tag, ref.digest) == (path, tag, digest)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "UPPER/case",
        "docker:/missing-slashes",
        "repo:bad tag",
        "repo@sha256:short",
        f"repo@md5:{HEX}",
        "./relative/dir",
        "/abs/dir",
        "oci:",
        "a" * 300,
        "host:notaport/x/",
        "repo:-badstart",
    ],
)
def test_invalid_references_raise_one_clear_error(text: str) -> None:
    with pytest.raises(InvalidReferenceError) as info:
        parse(text)
    assert "\n" not in str(info.value)
    assert str(info.value)


_component = st.from_regex(r"[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,8}){0,2}", fullmatch=True)
_tag = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)
_host = st.sampled_from(["registry.example.com", "localhost:5000", "10.0.0.1:443", "ghcr.io"])


@given(host=_host, parts=st.lists(_component, min_size=1, max_size=3), tag=_tag)
def test_formatting_a_parsed_reference_parses_back_to_itself(
    host: str, parts: list[str], tag: str
) -> None:
    ref = parse_registry(f"{host}/{'/'.join(parts)}:{tag}")
    assert parse_registry(str(ref)) == ref
    assert ref.repository == "/".join(parts)
    assert ref.tag == tag


@given(st.text(max_size=80))
def test_arbitrary_text_either_parses_or_raises_a_chainproof_error(text: str) -> None:
    try:
        ref = parse(text)
    except InvalidReferenceError:
        return
    assert isinstance(ref, RegistryRef | LocalRef)
