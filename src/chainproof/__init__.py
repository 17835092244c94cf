"""chainproof: supply-chain verification for container images, Windows images first-class.

The supported library API is what this module exports (``__all__``) — nothing else.
Every other module under ``chainproof`` is internal and may change between releases; the rule
is written down in ``docs/architecture.md``. A test pins these names so they do not change by
accident.

::

    import chainproof

    policy = chainproof.Policy.load("policy.yaml")
    verdict = chainproof.verify("mcr.microsoft.com/windows/servercore:ltsc2022", policy=policy)
    if not verdict.passed:
        for check in verdict.failing:
            print(check.id, check.message)

Errors a caller can meet derive from :class:`Error` (``chainproof.errors``); each carries a
one-line, user-facing message. Names are imported lazily, so ``import chainproof`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chainproof._version import __version__

if TYPE_CHECKING:
    from collections.abc import Sequence

    from chainproof.checks.interface import CheckResult, Severity, Status
    from chainproof.errors import (
        Error,
        InputError,
        IntegrityError,
        RegistryError,
        SignatureError,
        UsageError,
    )
    from chainproof.layers.scan import Progress
    from chainproof.oci.open import OpenOptions
    from chainproof.oci.registry.options import RegistryOptions
    from chainproof.policy import Policy, PolicyError
    from chainproof.report.verdict import ImageIdentity, PolicySection, Verdict, WaiverUse
    from chainproof.sbom.model import Component, Sbom

__all__ = [
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

_LAZY = {
    "CheckResult": "chainproof.checks.interface",
    "Severity": "chainproof.checks.interface",
    "Status": "chainproof.checks.interface",
    "Error": "chainproof.errors",
    "InputError": "chainproof.errors",
    "IntegrityError": "chainproof.errors",
    "RegistryError": "chainproof.errors",
    "SignatureError": "chainproof.errors",
    "UsageError": "chainproof.errors",
    "OpenOptions": "chainproof.oci.open",
    "RegistryOptions": "chainproof.oci.registry.options",
    "Policy": "chainproof.policy",
    "PolicyError": "chainproof.policy",
    "ImageIdentity": "chainproof.report.verdict",
    "PolicySection": "chainproof.report.verdict",
    "Verdict": "chainproof.report.verdict",
    "WaiverUse": "chainproof.report.verdict",
    "Component": "chainproof.sbom.model",
    "Sbom": "chainproof.sbom.model",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'chainproof' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


def verify(
    reference: str,
    policy: Policy | None = None,
    *,
    options: OpenOptions | None = None,
    families: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> Verdict:
    """Verify the image ``reference`` names under ``policy``; returns the verdict.

    ``reference`` is any IMAGE of the CLI (``oci:DIR[:TAG]``, ``oci-archive:``,
    ``docker-archive:``, ``docker://…`` or a registry name). Without a policy the default
    checks run with no trust inputs (signatures are skipped, not passed). ``options`` says how
    to reach the image (platform, registry TLS and credentials, layer cache); ``families``
    restricts the checks (integrity always runs); ``progress(layer, done, total)`` is called
    while layers stream.

    Bad input raises an :class:`Error` (exit 2 on the CLI); a verification that fails is a
    verdict with ``passed == False``, never an exception — fail closed: a verdict with no
    checks does not pass.
    """
    from chainproof.pipeline.run import verify_image

    return verify_image(
        reference,
        options,
        policy=policy,
        families=frozenset(families) if families is not None else None,
        progress=progress,
    )


def build_sbom(reference: str, *, options: OpenOptions | None = None) -> Sbom:
    """The SBOM of the (one) platform image ``reference`` names, every layer verified.

    (Not ``chainproof.sbom``: that name is the ``chainproof.sbom`` package.)

    An index with several platforms needs ``options=OpenOptions(platform=…)``.
    """
    from chainproof.errors import UsageError
    from chainproof.oci.open import open_target
    from chainproof.sbom.catalog import sbom_for_image

    source, target = open_target(reference, options)
    with source:
        if len(target.images) != 1:
            raise UsageError(f"{reference}: several platforms selected; choose one (platform=…)")
        return sbom_for_image(source, target.images[0], target.reference, None)
