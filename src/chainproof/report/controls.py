"""Compliance controls: which NIST SP 800-190 countermeasure and CIS item each check serves.

One table serves the verdict (every result's ``controls``), the compliance report and the docs
(``docs/compliance.md``). Control ids are ``<catalog>:<item>``:

- ``NIST-800-190:4.1.1`` … — NIST Special Publication 800-190, *Application Container Security
  Guide* (September 2017), section 4 "Countermeasures for Major Risks",
  https://doi.org/10.6028/NIST.SP.800-190
- ``CIS-Docker:4.1`` … — CIS Docker Benchmark v1.6.0, section 4 "Container Images and Build
  File Configuration", https://www.cisecurity.org/benchmark/docker
- ``CIS-Windows:…`` — CIS Microsoft Windows Server benchmarks (2019 / 2022), the items the
  ``windows.*`` hardening checks read from the image's registry hives.

A mapping entry is a check-id glob; results get the controls of every entry that matches.
"""

from __future__ import annotations

import fnmatch
import functools
from dataclasses import dataclass


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    #: Whether a static image verifier can judge it at all (else: "not covered", honestly).
    judgeable: bool = True


_NIST = "NIST-800-190"
_CIS = "CIS-Docker"

CONTROLS: tuple[Control, ...] = (
    Control(f"{_NIST}:4.1.1", "Image vulnerabilities"),
    Control(f"{_NIST}:4.1.2", "Image configuration defects"),
    Control(f"{_NIST}:4.1.3", "Embedded malware"),
    Control(f"{_NIST}:4.1.4", "Embedded clear text secrets"),
    Control(f"{_NIST}:4.1.5", "Use of untrusted images"),
    Control(f"{_NIST}:4.2.1", "Insecure connections to registries"),
    Control(f"{_NIST}:4.2.2", "Stale images in registries"),
    Control(f"{_NIST}:4.2.3", "Insufficient authentication and authorization restrictions", False),
    Control(f"{_NIST}:4.3.1", "Unbounded administrative access", False),
    Control(f"{_NIST}:4.3.2", "Unauthorized access", False),
    Control(f"{_NIST}:4.3.3", "Poorly separated inter-container network traffic", False),
    Control(f"{_NIST}:4.3.4", "Mixing of workload sensitivity levels", False),
    Control(f"{_NIST}:4.3.5", "Orchestrator node trust", False),
    Control(f"{_NIST}:4.4.1", "Vulnerabilities within the runtime software", False),
    Control(f"{_NIST}:4.4.2", "Unbounded network access from containers", False),
    Control(f"{_NIST}:4.4.3", "Insecure container runtime configurations"),
    Control(f"{_NIST}:4.4.4", "App vulnerabilities"),
    Control(f"{_NIST}:4.4.5", "Rogue containers"),
    Control(f"{_NIST}:4.5.1", "Large attack surface", False),
    Control(f"{_NIST}:4.5.2", "Shared kernel", False),
    Control(f"{_NIST}:4.5.3", "Host OS component vulnerabilities", False),
    Control(f"{_NIST}:4.5.4", "Improper user access rights", False),
    Control(f"{_NIST}:4.5.5", "Host file system tampering", False),
    Control(f"{_CIS}:4.1", "Ensure that a user for the container has been created"),
    Control(f"{_CIS}:4.2", "Ensure that containers use only trusted base images"),
    Control(f"{_CIS}:4.3", "Ensure that unnecessary packages are not installed in the container"),
    Control(f"{_CIS}:4.4", "Ensure images are scanned and rebuilt to include security patches"),
    Control(f"{_CIS}:4.5", "Ensure Content trust for Docker is Enabled"),
    Control(f"{_CIS}:4.6", "Ensure that HEALTHCHECK instructions have been added"),
    Control(f"{_CIS}:4.7", "Ensure update instructions are not used alone in Dockerfiles"),
    Control(f"{_CIS}:4.8", "Ensure setuid and setgid permissions are removed"),
    Control(f"{_CIS}:4.9", "Ensure that COPY is used instead of ADD in Dockerfiles"),
    Control(f"{_CIS}:4.10", "Ensure secrets are not stored in Dockerfiles"),
    Control(f"{_CIS}:4.11", "Ensure only verified packages are installed"),
    Control(f"{_CIS}:4.12", "Ensure all signed artifacts are validated"),
)

#: (check-id glob, controls). Lint rules by id: their docs/lint-rules.md "why" names the risk.
MAPPING: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("integrity.*", (f"{_NIST}:4.1.5", f"{_NIST}:4.2.1")),
    ("signature.*", (f"{_NIST}:4.1.5", f"{_CIS}:4.5", f"{_CIS}:4.12")),
    ("attestation.*", (f"{_NIST}:4.1.5", f"{_CIS}:4.12")),
    ("provenance.base-image", (f"{_NIST}:4.1.5", f"{_CIS}:4.2")),
    ("policy.registry", (f"{_NIST}:4.1.5", f"{_CIS}:4.2")),
    ("policy.match", (f"{_NIST}:4.1.5",)),
    ("policy.digest-pinned", (f"{_NIST}:4.1.5", f"{_NIST}:4.4.5")),
    ("policy.screening", (f"{_NIST}:4.1.5",)),
    ("policy.patch-age", (f"{_NIST}:4.1.1", f"{_NIST}:4.2.2", f"{_CIS}:4.4")),
    ("policy.component", (f"{_NIST}:4.1.1", f"{_CIS}:4.3")),
    ("policy.license", ()),
    ("sbom.*", (f"{_CIS}:4.3",)),
    ("vuln.*", (f"{_NIST}:4.1.1", f"{_NIST}:4.4.4", f"{_CIS}:4.4")),
    ("lint.history", (f"{_NIST}:4.1.2",)),
    ("lint.CP001", (f"{_NIST}:4.1.3", f"{_CIS}:4.11")),
    ("lint.CP002", (f"{_NIST}:4.1.3", f"{_CIS}:4.11")),
    ("lint.CP003", (f"{_NIST}:4.1.3", f"{_CIS}:4.11")),
    ("lint.CP004", (f"{_NIST}:4.1.3", f"{_CIS}:4.9", f"{_CIS}:4.11")),
    ("lint.CP005", (f"{_NIST}:4.1.2",)),
    ("lint.CP006", (f"{_NIST}:4.1.2", f"{_NIST}:4.1.3")),
    ("lint.CP007", (f"{_NIST}:4.1.3",)),
    ("lint.CP008", (f"{_NIST}:4.1.2", f"{_CIS}:4.11")),
    ("lint.CP009", (f"{_NIST}:4.1.2",)),
    ("lint.CP010", (f"{_NIST}:4.1.4", f"{_CIS}:4.10")),
    ("lint.CP011", (f"{_NIST}:4.1.2", f"{_CIS}:4.1")),
    ("lint.CP012", (f"{_NIST}:4.1.2",)),
    ("lint.CP013", (f"{_NIST}:4.1.2",)),
    ("lint.CP014", (f"{_NIST}:4.1.2",)),
    ("lint.CP015", (f"{_NIST}:4.1.2",)),
    ("lint.CP016", (f"{_NIST}:4.1.2",)),
    ("lint.CP017", (f"{_NIST}:4.1.2", f"{_NIST}:4.4.3", f"{_CIS}:4.1")),
    ("lint.CP018", (f"{_NIST}:4.4.3",)),
    ("lint.CP10[123]", (f"{_NIST}:4.1.5", f"{_CIS}:4.2")),
    ("lint.CP104", (f"{_NIST}:4.1.5", f"{_CIS}:4.2")),
    ("lint.CP105", (f"{_NIST}:4.1.4", f"{_CIS}:4.10")),
    ("lint.CP106", (f"{_CIS}:4.9",)),
    ("lint.CP107", (f"{_NIST}:4.1.3", f"{_CIS}:4.11")),
    ("lint.CP115", (f"{_CIS}:4.7",)),
    ("lint.CP1[12]?", (f"{_NIST}:4.1.2",)),
    ("windows.*", (f"{_NIST}:4.1.2", f"{_NIST}:4.4.3")),
    ("authenticode.*", (f"{_NIST}:4.1.3",)),
)

_BY_ID = {c.id: c for c in CONTROLS}


@functools.cache
def controls_for(check_id: str) -> tuple[str, ...]:
    """Every control the check id serves, in catalogue order, without duplicates."""
    found: dict[str, None] = {}
    for pattern, controls in MAPPING:
        if fnmatch.fnmatchcase(check_id, pattern):
            found.update(dict.fromkeys(controls))
    order = {c.id: i for i, c in enumerate(CONTROLS)}
    return tuple(sorted(found, key=lambda c: order.get(c, len(order))))


def control(control_id: str) -> Control | None:
    return _BY_ID.get(control_id)
