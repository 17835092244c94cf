"""The public API: what ``chainproof`` exports is a promise; changing it is deliberate."""

from __future__ import annotations

import inspect
import subprocess
import sys
from typing import TYPE_CHECKING

import chainproof

if TYPE_CHECKING:
    from pathlib import Path

PUBLIC = [
    "CheckResult",
    "Component",
    "Error",
    "ImageIdentity",
    "InputError",
    "IntegrityError",
    "OpenOptions",
    "Policy",
    "PolicyError",
    "PolicySection",
    "RegistryError",
    "RegistryOptions",
    "Sbom",
    "Severity",
    "SignatureError",
    "Status",
    "UsageError",
    "Verdict",
    "WaiverUse",
    "__version__",
    "build_sbom",
    "verify",
]


def test_public_names_do_not_change_by_accident() -> None:
    assert sorted(chainproof.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(chainproof, name) is not None, name


def test_every_public_callable_is_documented_and_typed() -> None:
    for name in PUBLIC:
        value = getattr(chainproof, name)
        if name == "__version__":
            continue
        assert inspect.getdoc(value), f"{name} has no docstring"
        if inspect.isfunction(value):
            signature = inspect.signature(value)
            assert signature.return_annotation is not inspect.Signature.empty, name
            for parameter in signature.parameters.values():
                assert parameter.annotation is not inspect.Parameter.empty, (name, parameter)


def test_errors_share_one_root() -> None:
    for name in ("InputError", "IntegrityError", "PolicyError", "RegistryError", "UsageError"):
        assert issubclass(getattr(chainproof, name), chainproof.Error)


def test_import_is_cheap() -> None:
    """``import chainproof`` loads none of the verification machinery."""
    code = "import sys, chainproof; print(sorted(m for m in sys.modules if 'chainproof' in m))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "['chainproof', 'chainproof._version']"


def test_verify_through_the_public_api(tmp_path: Path) -> None:
    from chainproof.demo.sample import SAMPLE_TAG, build_sample

    build_sample(tmp_path / "img")
    verdict = chainproof.verify(f"oci:{tmp_path / 'img'}:{SAMPLE_TAG}", families=["integrity"])
    assert isinstance(verdict, chainproof.Verdict)
    assert verdict.passed
    assert {c.id for c in verdict.checks} >= {"integrity.manifest", "integrity.layer"}
    sbom = chainproof.build_sbom(f"oci:{tmp_path / 'img'}:{SAMPLE_TAG}")
    assert isinstance(sbom, chainproof.Sbom) and sbom.operating_system is not None
