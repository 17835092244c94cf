"""What the relying party requires beyond authenticity, common to every evidence format."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from chainproof.tee.binding import ExpectedBinding, check_binding
from chainproof.tee.result import Finding


@dataclass(frozen=True)
class Expectations:
    """Requirements on the evidence's claims. Defaults fail closed: a debuggable guest or one
    that a migration agent may move is refused unless explicitly allowed."""

    allow_debug: bool = False
    allow_migration_agent: bool = False
    deny_smt: bool = False
    measurement: bytes | None = None
    host_data: bytes | None = None
    binding: ExpectedBinding | None = None


def check_expectations(
    expectations: Expectations,
    *,
    debug: bool,
    migration_agent: bool | None,
    smt: bool | None,
    measurement: bytes,
    host_data: bytes,
    report_data: bytes,
) -> list[Finding]:
    """Findings for the guest's policy flags, pinned values and the binding.

    ``None`` for a flag means the format does not have it (TDX has no migration agent).
    """
    findings = [
        Finding(
            "policy.debug",
            expectations.allow_debug or not debug,
            "debugging is enabled (the host can read and change guest memory)"
            if debug
            else "debugging is disabled",
        )
    ]
    if migration_agent is not None:
        findings.append(
            Finding(
                "policy.migration_agent",
                expectations.allow_migration_agent or not migration_agent,
                "a migration agent may be associated with the guest"
                if migration_agent
                else "no migration agent allowed",
            )
        )
    if smt is not None:
        findings.append(
            Finding(
                "policy.smt",
                not (expectations.deny_smt and smt),
                "SMT is allowed" if smt else "SMT is not allowed",
            )
        )
    if expectations.measurement is not None:
        same = hmac.compare_digest(expectations.measurement, measurement)
        findings.append(
            Finding(
                "measurement",
                same,
                "measurement matches"
                if same
                else f"measurement {measurement.hex()} is not {expectations.measurement.hex()}",
            )
        )
    if expectations.host_data is not None:
        same = hmac.compare_digest(expectations.host_data, host_data[: len(expectations.host_data)])
        findings.append(
            Finding(
                "host_data",
                same,
                "host_data matches"
                if same
                else f"host_data {host_data.hex()} is not {expectations.host_data.hex()}",
            )
        )
    if expectations.binding is not None:
        findings.append(check_binding(expectations.binding, host_data, report_data))
    return findings
