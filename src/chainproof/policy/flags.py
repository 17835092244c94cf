"""The implicit policy the command line's flags describe.

``chainproof verify --key K --vuln-fail-on medium IMAGE`` is the policy "one rule, matching
every image, requiring a signature by K and failing on medium vulnerabilities". Building it as
a policy document — validated and compiled like any policy file — keeps one path from
configuration to checks; its digest is recorded in the verdict and the audit log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chainproof.errors import Error, UsageError
from chainproof.policy.document import PolicyError
from chainproof.policy.model import SCHEMA_ID
from chainproof.policy.policy import Policy

IMPLICIT_NAME = "command-line"


@dataclass(frozen=True)
class TrustFlags:
    """cosign- and notation-named verification flags."""

    keys: tuple[str, ...] = ()
    certificate_identity: str = ""
    certificate_identity_regexp: str = ""
    certificate_oidc_issuer: str = ""
    certificate_oidc_issuer_regexp: str = ""
    trusted_root: str = ""
    trust_policy: str = ""
    trust_store: str = ""
    threshold: int = 1
    fips: bool = False
    insecure_ignore_tlog: bool = False
    attestation_types: tuple[str, ...] = ()

    @property
    def given(self) -> bool:
        return bool(
            self.keys
            or self.certificate_identity
            or self.certificate_identity_regexp
            or self.certificate_oidc_issuer
            or self.certificate_oidc_issuer_regexp
            or self.trust_policy
        )


@dataclass(frozen=True)
class CheckFlags:
    """Every flag that configures checks (all of them conflict with ``--policy``)."""

    trust: TrustFlags = field(default_factory=TrustFlags)
    vuln_db: str = ""
    vuln_fail_on: str = "high"
    vex: tuple[str, ...] = ()
    ignore_unfixed: bool = False
    #: The lint config file's mapping (``--lint-config``), already read.
    lint: dict[str, Any] | None = None

    def conflicts(self) -> list[str]:
        """The flags given that a policy file would have to say instead."""
        t = self.trust
        named = {
            "--key": bool(t.keys),
            "--certificate-identity[-regexp]": bool(
                t.certificate_identity or t.certificate_identity_regexp
            ),
            "--certificate-oidc-issuer[-regexp]": bool(
                t.certificate_oidc_issuer or t.certificate_oidc_issuer_regexp
            ),
            "--trusted-root": bool(t.trusted_root),
            "--trust-policy": bool(t.trust_policy),
            "--trust-store": bool(t.trust_store),
            "--threshold": t.threshold != 1,
            "--fips": t.fips,
            "--insecure-ignore-tlog": t.insecure_ignore_tlog,
            "--attestation-type": bool(t.attestation_types),
            "--vuln-fail-on": self.vuln_fail_on != "high",
            "--vex": bool(self.vex),
            "--ignore-unfixed": self.ignore_unfixed,
            "--lint-config": self.lint is not None,
        }
        return [name for name, given in named.items() if given]


def _signatures(trust: TrustFlags) -> dict[str, Any]:
    spec: dict[str, Any] = {"threshold": trust.threshold}
    if trust.keys:
        spec["keys"] = list(trust.keys)
    identity = trust.certificate_identity or trust.certificate_identity_regexp
    issuer = trust.certificate_oidc_issuer or trust.certificate_oidc_issuer_regexp
    if identity or issuer:
        if not identity or not issuer:
            raise UsageError(
                "keyless verification needs both --certificate-identity[-regexp] and "
                "--certificate-oidc-issuer[-regexp]"
            )
        keyless: dict[str, str] = {}
        if trust.certificate_identity:
            keyless["identity"] = trust.certificate_identity
        else:
            keyless["identity_regex"] = trust.certificate_identity_regexp
        if trust.certificate_oidc_issuer:
            keyless["issuer"] = trust.certificate_oidc_issuer
        else:
            keyless["issuer_regex"] = trust.certificate_oidc_issuer_regexp
        spec["keyless"] = [keyless]
    if trust.trusted_root:
        spec["trusted_root"] = trust.trusted_root
    if trust.trust_policy:
        spec["notation"] = {"trust_policy": trust.trust_policy}
        if trust.trust_store:
            spec["notation"]["trust_store"] = trust.trust_store
    if trust.fips:
        spec["fips"] = True
    if trust.insecure_ignore_tlog:
        spec["ignore_tlog"] = True
    return spec


def _flag_message(error: Error) -> str:
    """Say it in flag names: the user wrote flags, not a policy."""
    text = str(error).removeprefix(f"{IMPLICIT_NAME}: ")
    replacements = {
        "rules[0].signatures.keys": "--key",
        "rules[0].signatures.trusted_root": "--trusted-root",
        "rules[0].signatures.notation.trust_policy": "--trust-policy",
        "rules[0].signatures.notation.trust_store": "--trust-store",
        "rules[0].signatures.threshold": "--threshold",
        "rules[0].signatures.keyless[0]": "keyless verification",
        "rules[0].signatures": "signature flags",
        "rules[0].vulnerabilities.vex": "--vex",
        "rules[0].lint": "--lint-config",
        "rules[0]": "flags",
    }
    for path, flag in replacements.items():
        # "rules[0].signatures.keys[1]" → "--key": the index means nothing on a command line.
        text = re.sub(re.escape(path) + r"(?:\[\d+\])?", flag, text)
    text = text.replace(
        "keyless signers need trusted_root", "keyless verification needs --trusted-root"
    )
    return text.replace(
        "give at least one of keys, keyless, notation",
        "give --key, --certificate-identity or --trust-policy",
    )


def command_line_policy(flags: CheckFlags | None = None) -> Policy:
    """The implicit policy of ``flags`` (paths relative to the working directory)."""
    flags = flags or CheckFlags()
    rule: dict[str, Any] = {"name": IMPLICIT_NAME, "match": {"images": ["*"]}}
    if flags.trust.given or flags.trust.trusted_root:
        rule["signatures"] = _signatures(flags.trust)
    if flags.trust.attestation_types:
        if "signatures" not in rule:
            raise UsageError(
                "--attestation-type needs trust inputs for the attestations' signers "
                "(--key, --certificate-identity, --trust-policy)"
            )
        rule["attestations"] = [{"type": t} for t in flags.trust.attestation_types]
    vulns: dict[str, Any] = {
        "fail_on": flags.vuln_fail_on,
        "ignore_unfixed": flags.ignore_unfixed,
        "vex": list(flags.vex),
    }
    if flags.vuln_db:
        vulns["database"] = flags.vuln_db
    rule["vulnerabilities"] = vulns
    if flags.lint is not None:
        lint = dict(flags.lint.get("lint", flags.lint))
        # A lint config file without fail_on means `chainproof lint`'s default, "low".
        lint.setdefault("fail_on", "low")
        rule["lint"] = lint
    data = {"schema": SCHEMA_ID, "name": IMPLICIT_NAME, "rules": [rule]}
    try:
        return Policy.from_data(data, where=IMPLICIT_NAME, base_dir=Path.cwd(), implicit=True)
    except PolicyError as exc:
        raise UsageError(_flag_message(exc)) from None
    except Error as exc:  # a key file that is missing stays a NotFoundError, and so on
        raise type(exc)(_flag_message(exc)) from None
