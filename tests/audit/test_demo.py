"""The audit walk-through used by ``chainproof demo``."""

from __future__ import annotations

from chainproof.audit.demo import demonstrate
from tests.audit.conftest import make_verdict


def test_demo_catches_the_edit() -> None:
    lines: list[str] = []
    assert demonstrate([make_verdict(1, fail=True), make_verdict(2)], lines.append)
    text = "\n".join(lines)
    assert "ML-DSA-44 cosignature):\ndemo.chainproof.invalid/audit/" in text
    assert text.count("\u2014 demo.chainproof.invalid/audit ") == 2  # two signature lines
    assert "inclusion proof of entry 1" in text
    assert "audit verify: OK" in text
    assert "FAILED at entry 1 (edited-entry)" in text


def test_demo_without_verdicts_does_nothing() -> None:
    lines: list[str] = []
    assert not demonstrate([], lines.append)
    assert lines == []
