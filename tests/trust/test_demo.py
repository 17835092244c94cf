"""The signing demo signs in memory, verifies, and shows a wrong key failing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainproof.trust.demo import signing_demo
from tests.trust.dumpsource import DumpSource
from tests.trust.test_check import _dump_context

if TYPE_CHECKING:
    from pathlib import Path


def test_signing_demo(signing: Path) -> None:
    base = signing / "cosign-simplesigning-connaisseur"
    dump = (base, DumpSource(base / "securesystemsengineering" / "testimage"))
    context = _dump_context(dump, "keyless")
    steps = signing_demo(context.context.source, context.context.image, "registry.example/demo")
    assert [s.passed for s in steps] == [True, True, True, True]
    assert steps[1].detail.startswith("pass")
    assert steps[3].detail.startswith("fail")
