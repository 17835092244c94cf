from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from packaging.version import Version as Pep440

from chainproof.vuln import versions as ver
from chainproof.vuln.interface import OsvRange


def _r(kind: str, *events: tuple[str, str]) -> OsvRange:
    return OsvRange(kind, events)


@pytest.mark.parametrize(
    ("ecosystem", "version", "events", "expected"),
    [
        ("NuGet", "9.0.1", [("introduced", "0"), ("fixed", "13.0.1")], True),
        ("NuGet", "13.0.1", [("introduced", "0"), ("fixed", "13.0.1")], False),
        ("NuGet", "6.0.4", [("introduced", "0"), ("fixed", "13.0.1")], True),
        ("NuGet", "13.0.1+build.7", [("introduced", "0"), ("fixed", "13.0.1")], False),
        ("PyPI", "1.0rc1", [("introduced", "0"), ("fixed", "1.0")], True),
        ("PyPI", "1.0.post1", [("introduced", "0"), ("fixed", "1.0")], False),
        ("Debian", "1:1.0-1", [("introduced", "0"), ("fixed", "2.0-1")], False),  # epoch wins
        ("Debian", "3.0.11-1~deb12u1", [("introduced", "0"), ("fixed", "3.0.11-1")], True),
        ("Alpine", "1.2.3-r9", [("introduced", "0"), ("fixed", "1.2.3-r10")], True),
        ("Maven", "1.0-SNAPSHOT", [("introduced", "1.0-alpha"), ("fixed", "1.0")], True),
        ("Go", "v1.2.3", [("introduced", "0"), ("fixed", "1.2.4")], True),
        ("PyPI", "0.10.1", [("introduced", "0.9.0"), ("last_affected", "0.10.1")], True),
        ("PyPI", "0.10.2", [("introduced", "0.9.0"), ("last_affected", "0.10.1")], False),
        # two intervals in one range: [1.0, 1.5) and [2.0, 2.3)
        (
            "npm",
            "1.7.0",
            [
                ("introduced", "1.0.0"),
                ("fixed", "1.5.0"),
                ("introduced", "2.0.0"),
                ("fixed", "2.3.0"),
            ],
            False,
        ),
        (
            "npm",
            "2.1.0",
            [
                ("introduced", "1.0.0"),
                ("fixed", "1.5.0"),
                ("introduced", "2.0.0"),
                ("fixed", "2.3.0"),
            ],
            True,
        ),
    ],
)
def test_ecosystem_ranges(
    ecosystem: str, version: str, events: list[tuple[str, str]], expected: bool
) -> None:
    assert ver.in_range(ecosystem, version, _r("ECOSYSTEM", *events)) is expected


def test_semver_range_uses_semver_rules_whatever_the_ecosystem() -> None:
    rng = _r("SEMVER", ("introduced", "1.0.0"), ("fixed", "1.0.1"))
    assert ver.in_range("crates.io", "1.0.1-alpha", rng)
    assert not ver.in_range("crates.io", "1.0.1", rng)


def test_git_ranges_never_match() -> None:
    assert not ver.in_range("PyPI", "1.0", _r("GIT", ("introduced", "0"), ("fixed", "abc")))


def test_versions_list_uses_ecosystem_equality() -> None:
    assert ver.in_versions("PyPI", "2.28.1", ("2.28.1",))
    assert ver.in_versions("PyPI", "1.0.0", ("1.0",))
    assert not ver.in_versions("PyPI", "1.0.1", ("1.0",))


def test_names_normalised_per_ecosystem() -> None:
    assert ver.name_key("PyPI", "Requests_Toolbelt") == "requests-toolbelt"
    assert ver.name_key("NuGet", "Newtonsoft.Json") == "newtonsoft.json"
    assert ver.name_key("npm", "Left-Pad") == "Left-Pad"
    assert ver.split_ecosystem("Alpine:v3.19") == ("Alpine", "3.19")
    assert ver.split_ecosystem("Debian:12") == ("Debian", "12")


def test_unparseable_version_is_an_error() -> None:
    with pytest.raises(ver.VersionError):
        ver.parse("NuGet", "not a version")
    with pytest.raises(ver.VersionError):
        ver.parse("Nope", "1.0")


_VERSIONS = st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30)).map(
    lambda t: ".".join(map(str, t))
)


@given(v=_VERSIONS, lo=_VERSIONS, hi=_VERSIONS)
def test_single_interval_agrees_with_packaging(v: str, lo: str, hi: str) -> None:
    """introduced/fixed is the half-open interval [lo, hi) under PEP 440 ordering."""
    assume(Pep440(lo) < Pep440(hi))  # an inverted range is invalid OSV
    rng = _r("ECOSYSTEM", ("introduced", lo), ("fixed", hi))
    expected = Pep440(lo) <= Pep440(v) < Pep440(hi)
    assert ver.in_range("PyPI", v, rng) is expected


@given(v=_VERSIONS, lo=_VERSIONS, last=_VERSIONS)
def test_last_affected_is_inclusive(v: str, lo: str, last: str) -> None:
    assume(Pep440(lo) <= Pep440(last))
    rng = _r("ECOSYSTEM", ("introduced", lo), ("last_affected", last))
    assert ver.in_range("npm", v, rng) is (Pep440(lo) <= Pep440(v) <= Pep440(last))
