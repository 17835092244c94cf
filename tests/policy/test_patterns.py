"""Image patterns and rule matching: exact hosts, globs, first/all, the host index."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainproof.oci import reference as references
from chainproof.policy.matching import CompiledRule, RuleIndex
from chainproof.policy.patterns import ImagePattern, PatternError

DIGEST = "sha256:" + "a" * 64
SC = "mcr.microsoft.com/windows/servercore"


@pytest.mark.parametrize(
    ("pattern", "reference", "matches"),
    [
        ("mcr.microsoft.com/windows/*", f"{SC}:ltsc2022", True),
        ("mcr.microsoft.com/windows/*", "mcr.microsoft.com/windows/servercore/iis:1", False),
        ("mcr.microsoft.com/windows/**", "mcr.microsoft.com/windows/servercore/iis:1", True),
        ("mcr.microsoft.com/windows/**", "mcr.microsoft.com/windows:1", False),
        ("contoso.azurecr.io/apps/**", "contoso.azurecr.io/apps/web:1.0", True),
        ("contoso.azurecr.io/**/web", "contoso.azurecr.io/web:1", True),
        ("contoso.azurecr.io/**/web", "contoso.azurecr.io/a/b/web:1", True),
        ("contoso.azurecr.io/a/**/web", "contoso.azurecr.io/a/web:1", True),
        # the host is compared exactly: never by prefix, suffix or substring
        ("mcr.microsoft.com/**", "mcr.microsoft.com.evil.example/windows/servercore:1", False),
        ("mcr.microsoft.com/**", "evil.example/mcr.microsoft.com/windows:1", False),
        ("mcr.microsoft.com/**", "MCR.Microsoft.COM/windows/servercore:1", True),
        ("mcr.microsoft.com/**", "xmcr.microsoft.com/windows/servercore:1", False),
        # ports are significant
        ("localhost:5000/app", "localhost:5000/app:1", True),
        ("localhost:5000/app", "localhost:5001/app:1", False),
        ("localhost/app", "localhost:5000/app:1", False),
        # one leading label wildcard
        ("*.azurecr.io/**", "contoso.azurecr.io/apps/web:1", True),
        ("*.azurecr.io/**", "azurecr.io/apps/web:1", False),
        ("*.azurecr.io/**", "a.b.azurecr.io/apps/web:1", False),
        ("*.azurecr.io/**", "azurecr.io.evil.example/apps/web:1", False),
        ("*.azurecr.io/**", "contoso.azurecr.io:443/apps/web:1", False),
        # Docker Hub, normalised as docker pull reads names
        ("nginx", "docker.io/library/nginx:1.27", True),
        ("docker.io/library/nginx", "index.docker.io/library/nginx", True),
        ("library/nginx", "registry-1.docker.io/library/nginx:1", True),
        ("bitnami/*", "bitnami/redis:7", True),
        ("nginx", "ghcr.io/library/nginx:1", False),
        # tags and digests
        (
            f"{SC}:ltsc2022",
            f"{SC}:ltsc2022",
            True,
        ),
        (
            f"{SC}:ltsc20*",
            f"{SC}:ltsc2019",
            True,
        ),
        (
            f"{SC}:ltsc2022",
            f"{SC}:1809",
            False,
        ),
        # a tag pattern never matches a reference given by digest alone (its tag is unknown)
        (
            f"{SC}:ltsc2022",
            f"{SC}@{DIGEST}",
            False,
        ),
        (
            f"{SC}@{DIGEST}",
            f"{SC}@{DIGEST}",
            True,
        ),
        (
            f"{SC}@{DIGEST}",
            f"{SC}:ltsc2022",
            False,
        ),
        # "*" is every image, local ones included; local patterns match only their transport
        ("*", "oci:/tmp/x:1", True),
        ("*", "ghcr.io/a/b:1", True),
        ("oci:/images/**", "oci:/images/app:1.0", True),
        ("oci:/images/*", "oci:/images/a/b:1.0", False),
        ("oci:/images/*:1.*", "oci:/images/app:1.0", True),
        ("oci:/images/**", "oci-archive:/images/app.tar", False),
        ("oci:/images/**", "docker.io/images/app:1", False),
        ("docker://ghcr.io/o/*", "ghcr.io/o/app:1", True),
    ],
)
def test_pattern_matches(pattern: str, reference: str, matches: bool) -> None:
    assert ImagePattern.parse(pattern).matches(references.parse(reference)) is matches


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("mcr.microsoft.com/Windows/*", "repository names are lowercase"),
        ("mcr.microsoft.com/win dows", "can never match"),
        ("mcr.microsoft.com/-windows", "can never match"),
        ("mcr.microsoft.com//windows", "empty path segment"),
        ("mcr.microsoft.com/**/**", "'**/**' is the same as '**'"),
        ("mcr.microsoft.com/win**", "'**' must be a whole path segment"),
        ("mcr.*.com/windows", "hosts are matched exactly"),
        ("*.com/windows", "'*.' must be followed by a domain name"),
        ("mcr.microsoft.com/windows:lts c", "can never match"),
        ("mcr.microsoft.com/windows@sha256:zz", "invalid digest"),
        ("mcr.microsoft.com/", "missing repository"),
    ],
)
def test_patterns_that_can_never_match_are_refused(pattern: str, reason: str) -> None:
    with pytest.raises(PatternError, match=re.escape(reason)):
        ImagePattern.parse(pattern)


_LABEL = st.text("abcdefghij0123456789-", min_size=1, max_size=8).filter(
    lambda s: not s.startswith("-") and not s.endswith("-")
)


@given(st.lists(_LABEL, min_size=1, max_size=4), st.sampled_from(["", ":5000", ":443"]))
@settings(max_examples=300, deadline=None)
def test_no_other_host_matches_an_exact_host(labels: list[str], port: str) -> None:
    name = ".".join([*labels, "example"])
    pattern = ImagePattern.parse("mcr.microsoft.com/**")
    for text in (
        f"{name}{port}/windows/servercore:1",
        f"mcr.microsoft.com.{name}{port}/windows:1",
        f"{name}{port}/mcr.microsoft.com/windows:1",
        f"{name}.mcr.microsoft.com{port}/windows:1",
        f"mcr.microsoft.com{port or ':1'}/windows:1",
    ):
        assert not pattern.matches(references.parse(text)), text


def _rules(specs: list[tuple[list[str], list[str]]]) -> list[CompiledRule]:
    return [
        CompiledRule(
            i,
            f"r{i}",
            tuple(ImagePattern.parse(p) for p in include),
            tuple(ImagePattern.parse(p) for p in exclude),
        )
        for i, (include, exclude) in enumerate(specs)
    ]


def test_first_and_all_matching() -> None:
    rules = _rules(
        [
            (["mcr.microsoft.com/windows/**"], ["mcr.microsoft.com/windows/nanoserver"]),
            (["mcr.microsoft.com/**"], []),
            (["*"], []),
        ]
    )
    servercore = references.parse(f"{SC}:ltsc2022")
    nano = references.parse("mcr.microsoft.com/windows/nanoserver:ltsc2022")
    assert RuleIndex(rules, first_only=False).matching(servercore) == [0, 1, 2]
    assert RuleIndex(rules, first_only=True).matching(servercore) == [0]
    assert RuleIndex(rules, first_only=False).matching(nano) == [1, 2]  # excluded from rule 0
    assert RuleIndex(rules, first_only=True).matching(nano) == [1]


_HOSTS = ["mcr.microsoft.com", "contoso.azurecr.io", "*.azurecr.io", "localhost:5000"]
_REPOS = ["windows/*", "windows/**", "apps/**", "app", "**"]
_PATTERNS = st.builds(lambda h, r: f"{h}/{r}", st.sampled_from(_HOSTS), st.sampled_from(_REPOS))
_REFS = st.builds(
    lambda h, r: f"{h}/{r}:1",
    st.sampled_from(["mcr.microsoft.com", "contoso.azurecr.io", "x.azurecr.io", "localhost:5000"]),
    st.sampled_from(["windows/servercore", "windows/a/b", "apps/web", "app"]),
)


@given(
    st.lists(
        st.tuples(st.lists(_PATTERNS, min_size=1, max_size=3), st.lists(_PATTERNS, max_size=2)),
        min_size=1,
        max_size=12,
    ),
    st.lists(_REFS, min_size=1, max_size=8),
    st.booleans(),
)
@settings(max_examples=200, deadline=None)
def test_index_agrees_with_a_linear_scan(
    specs: list[tuple[list[str], list[str]]], refs: list[str], first_only: bool
) -> None:
    rules = _rules(specs)
    index = RuleIndex(rules, first_only)
    for text in refs:
        ref = references.parse(text)
        expected = [r.index for r in rules if r.applies(ref)]
        assert index.matching(ref) == (expected[:1] if first_only else expected)
