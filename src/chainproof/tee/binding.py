"""Binding evidence to a chainproof policy and the image digests it admitted.

The construction (``chainproof.tee.binding/v1``, specified in ``docs/tee.md``)::

    lines   = ["chainproof.tee.binding/v1",
               "policy " + policy_digest,
               *("image " + d for d in sorted(set(image_digests)))]
    binding = SHA-256("\\n".join(lines) + "\\n")          # 32 bytes

Digests are OCI digest strings (``sha256:<64 hex>`` or ``sha512:<128 hex>``), lower case.
The 32-byte binding is placed, by whoever launches the workload, in the first 32 bytes of
one evidence field: ``host_data`` (SEV-SNP HOST_DATA, MAA ``x-ms-sevsnpvm-hostdata``, TDX
MRCONFIGID) or ``report_data`` (SEV-SNP REPORT_DATA, MAA ``x-ms-sevsnpvm-reportdata``, TDX
REPORTDATA). Which field is checked is always named explicitly; there is no "either".
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from chainproof.errors import UsageError
from chainproof.tee.result import Finding

if TYPE_CHECKING:
    from collections.abc import Sequence

BINDING_DOMAIN = "chainproof.tee.binding/v1"
BINDING_SIZE = 32

BindingField = Literal["host-data", "report-data"]
BINDING_FIELDS: tuple[BindingField, ...] = ("host-data", "report-data")

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")


def _checked_digest(value: str, what: str) -> str:
    if not _DIGEST.fullmatch(value):
        raise UsageError(
            f"{what} {value!r} is not a digest: expected sha256:<64 lower-case hex> "
            "or sha512:<128 lower-case hex>"
        )
    return value


def binding_message(policy_digest: str, image_digests: Sequence[str]) -> bytes:
    """The exact bytes that are hashed; exposed so others can check a recomputation."""
    policy = _checked_digest(policy_digest, "policy digest")
    images = sorted({_checked_digest(d, "image digest") for d in image_digests})
    if not images:
        raise UsageError("a binding needs at least one admitted image digest")
    lines = [BINDING_DOMAIN, f"policy {policy}", *(f"image {d}" for d in images)]
    return ("\n".join(lines) + "\n").encode("ascii")


def expected_binding(policy_digest: str, image_digests: Sequence[str]) -> bytes:
    """The 32-byte value a workload's evidence must carry (see the module docstring)."""
    return hashlib.sha256(binding_message(policy_digest, image_digests)).digest()


@dataclass(frozen=True)
class ExpectedBinding:
    """What to require of the evidence: ``value`` in the first 32 bytes of ``field``."""

    value: bytes
    field: BindingField
    policy_digest: str
    image_digests: tuple[str, ...]

    @classmethod
    def of(
        cls, policy_digest: str, image_digests: Sequence[str], field: BindingField
    ) -> ExpectedBinding:
        if field not in BINDING_FIELDS:
            raise UsageError(f"binding field {field!r}: choose from {', '.join(BINDING_FIELDS)}")
        return cls(
            value=expected_binding(policy_digest, image_digests),
            field=field,
            policy_digest=policy_digest,
            image_digests=tuple(sorted(set(image_digests))),
        )


def check_binding(expected: ExpectedBinding, host_data: bytes, report_data: bytes) -> Finding:
    """Whether the evidence field named by ``expected.field`` starts with the binding."""
    carried = host_data if expected.field == "host-data" else report_data
    name = "binding"
    if len(carried) < BINDING_SIZE:
        return Finding(name, False, f"{expected.field} is {len(carried)} bytes, too short")
    actual = carried[:BINDING_SIZE]
    if actual == expected.value:
        return Finding(
            name,
            True,
            f"{expected.field} carries the binding of policy {expected.policy_digest} and "
            f"{len(expected.image_digests)} image digest(s)",
        )
    return Finding(
        name,
        False,
        f"{expected.field} starts with {actual.hex()}, expected binding {expected.value.hex()}",
    )
