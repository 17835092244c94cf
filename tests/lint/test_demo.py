"""The lint part of ``chainproof demo``."""

from __future__ import annotations

from chainproof.demo.lint import lint_sample


def test_demo_dockerfile_shows_the_windows_mistakes_and_the_history_is_clean() -> None:
    demo = lint_sample()
    assert {(f.rule, f.line) for f in demo.dockerfile} == {
        ("CP103", 2),
        ("CP001", 6),
        ("CP009", 9),
        ("CP002", 10),
        ("CP010", 14),
    }
    # The sample's config sets User ContainerUser and its history has no download.
    assert demo.history == []
