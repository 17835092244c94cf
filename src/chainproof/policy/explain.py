"""``chainproof policy explain``: which rules apply to an image and what they require.

Reads no image: it answers from the reference alone, so it runs before an image exists
(in review of a policy change) and says why an admission would be denied early.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chainproof.policy.model import Rule
    from chainproof.policy.policy import Policy


def _signatures(rule: Rule) -> dict[str, Any] | None:
    spec = rule.signatures
    if spec is None:
        return None
    out: dict[str, Any] = {"threshold": spec.threshold}
    if spec.keys:
        out["keys"] = list(spec.keys)
    if spec.keyless:
        out["keyless"] = [k.model_dump(exclude_none=True) for k in spec.keyless]
    if spec.notation:
        out["notation"] = spec.notation.trust_policy
    if spec.fips:
        out["fips"] = True
    if spec.algorithm != "any":
        out["algorithm"] = spec.algorithm
    return out


def explain(policy: Policy, reference: str) -> dict[str, Any]:
    """A JSON-ready account of what ``policy`` requires of ``reference``."""
    requirements = policy.requirements_for(reference)
    rules: list[dict[str, Any]] = []
    for index in requirements.rule_indexes:
        rule = policy.rule(index)
        requires: dict[str, Any] = {}
        if rule.require_digest:
            requires["digest"] = "the reference must be pinned by @sha256"
        signatures = _signatures(rule)
        if signatures:
            requires["signatures"] = signatures
        if rule.attestations:
            requires["attestations"] = [
                a.model_dump(exclude_none=True, exclude_defaults=True, exclude={"signed_by"})
                for a in rule.attestations
            ]
        for key in ("vulnerabilities", "sbom", "lint", "base_image", "windows"):
            value = getattr(rule, key)
            if value is not None:
                requires[key] = value.model_dump(mode="json", exclude_defaults=True) or "defaults"
        if rule.rego:
            requires["rego"] = list(rule.rego)
        rules.append({"name": rule.name, "description": rule.description, "requires": requires})
    return {
        "policy": {
            "name": policy.name,
            "digest": policy.digest,
            "matching": policy.document.matching,
        },
        "image": reference,
        "decided_by_reference": [r.to_json() for r in requirements.gate],
        "denied_without_reading": requirements.blocked,
        "rules": rules,
        "waivers": [
            {"check": w.check, "vulnerability": w.vulnerability, "expires": w.expires}
            for w in policy.waivers
            if any(p.matches(_parse(reference)) for p in w.patterns)
        ],
    }


def _parse(reference: str) -> Any:
    from chainproof.oci import reference as references

    return references.parse(reference)


def to_text(report: dict[str, Any]) -> str:
    lines = [
        f"policy:  {report['policy']['name']} ({report['policy']['digest'][:19]}…, "
        f"matching: {report['policy']['matching']})",
        f"image:   {report['image']}",
        "",
    ]
    for result in report["decided_by_reference"]:
        lines.append(f"  {result['status'].upper():5} {result['id']:22} {result['message']}")
    if report["denied_without_reading"]:
        lines += ["", "denied from the reference alone: the image would not be read"]
        return "\n".join(lines)
    for rule in report["rules"]:
        lines += [
            "",
            f"rule {rule['name']}" + (f": {rule['description']}" if rule["description"] else ""),
        ]
        if not rule["requires"]:
            lines.append("  requires nothing beyond the default checks")
        for key, value in rule["requires"].items():
            lines.append(f"  {key}: {_inline(value)}")
    if report["waivers"]:
        lines += ["", "waivers that may apply:"]
        for waiver in report["waivers"]:
            vuln = f" {waiver['vulnerability'].upper()}" if waiver["vulnerability"] else ""
            lines.append(f"  {waiver['check']}{vuln} until {waiver['expires']}")
    return "\n".join(lines)


def _inline(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
