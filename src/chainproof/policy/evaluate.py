"""The policy's judgement of one platform image, once the checks have run.

Adds the ``policy.*`` results that need what the checks found (SBOM rules, the screening
lists, Rego), then applies the waivers to every failing result — a waived result becomes a
warning that names the waiver, an expired waiver is reported and applies to nothing — and
attaches the compliance controls each result bears on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chainproof.checks.interface import CheckResult, Severity, Status
from chainproof.report.controls import controls_for
from chainproof.report.verdict import WaiverUse

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from chainproof.oci import reference as references
    from chainproof.policy.model import ComponentRule, Rule
    from chainproof.policy.policy import Policy, _Waiver
    from chainproof.policy.rego import RegoEngine
    from chainproof.policy.requirements import ImageFacts, Requirements
    from chainproof.sbom.model import Component


@dataclass(frozen=True)
class Evaluation:
    results: tuple[CheckResult, ...]
    waivers: tuple[WaiverUse, ...]


def evaluate(
    policy: Policy,
    requirements: Requirements,
    facts: ImageFacts,
    *,
    today: dt.date | None = None,
) -> Evaluation:
    """Judge ``facts`` (one platform image) against the rules in ``requirements``."""
    rules = [policy.rule(i) for i in requirements.rule_indexes]
    added: list[CheckResult] = []
    added += _patch_age_results(rules, requirements, facts)
    added += _sbom_results(rules, facts)
    added += _screening_results(policy, facts)
    added += _rego_results(policy, requirements, facts)
    results = [*facts.results, *added]
    today = today or dt.datetime.now(dt.UTC).date()
    results, uses = _apply_waivers(policy, facts.reference, results, today)
    return Evaluation(tuple(with_controls(results)), tuple(uses))


def with_controls(results: Iterable[CheckResult]) -> list[CheckResult]:
    return [
        r if r.controls else dataclasses.replace(r, controls=controls_for(r.id)) for r in results
    ]


# -- patch age ----------------------------------------------------------------------------


def _installation(facts: ImageFacts) -> str:
    system = facts.sbom.operating_system if facts.sbom is not None else None
    value = system.property("chainproof:windows:installation-type") if system else None
    return value or ""


def _patch_age_results(
    rules: Sequence[Rule], requirements: Requirements, facts: ImageFacts
) -> list[CheckResult]:
    limits = [
        (r.name, r.vulnerabilities.max_patch_age_days)
        for r in rules
        if r.vulnerabilities is not None and r.vulnerabilities.max_patch_age_days is not None
    ]
    if not limits:
        return []
    rule_name, limit = min(limits, key=lambda item: item[1])
    evidence: dict[str, Any] = {"rule": rule_name, "max_days": limit}
    if facts.config.get("os") != "windows" or not facts.os_version:
        return [
            CheckResult(
                "policy.patch-age",
                Status.SKIP,
                Severity.INFO,
                "not a Windows image: the maximum patch age applies to Windows OS builds",
                evidence,
            )
        ]
    from chainproof.errors import Error
    from chainproof.vuln.patch_level import patch_level
    from chainproof.vuln.paths import default_path

    database = requirements.vuln.database or default_path()
    try:
        level = patch_level(database, facts.os_version, _installation(facts))
    except Error as exc:
        # Fail closed: an age that cannot be established is not "young enough".
        return [
            CheckResult(
                "policy.patch-age",
                Status.ERROR,
                Severity.HIGH,
                f"cannot establish the patch age of {facts.os_version}: {exc}",
                evidence,
            )
        ]
    missing = [u.kb for u in level.missing]
    evidence.update(
        product=level.product,
        build=f"{level.build}.{level.ubr}",
        installed=level.installed.kb if level.installed else None,
        newest=level.newest.kb if level.newest else None,
        newest_released=level.newest.released.isoformat() if level.newest else None,
        days_behind=level.days_behind,
        missing=missing,
    )
    if level.newest is None:
        return [
            CheckResult(
                "policy.patch-age",
                Status.ERROR,
                Severity.HIGH,
                f"the advisory database knows no cumulative update for {level.product}",
                evidence,
            )
        ]
    shown = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
    if level.days_behind is None:
        return [
            CheckResult(
                "policy.patch-age",
                Status.FAIL,
                Severity.HIGH,
                f"{level.product} build {level.build}.{level.ubr} is older than every cumulative "
                f"update the database knows (newest {level.newest.kb} of "
                f"{level.newest.released}); missing {shown}",
                evidence,
            )
        ]
    if level.days_behind > limit:
        return [
            CheckResult(
                "policy.patch-age",
                Status.FAIL,
                Severity.HIGH,
                f"{level.product} build {level.build}.{level.ubr} is {level.days_behind} days "
                f"behind {level.newest.kb} ({level.newest.released}), more than the {limit} "
                f"rule {rule_name} allows; missing {shown}",
                evidence,
            )
        ]
    installed = level.installed.kb if level.installed else "?"
    return [
        CheckResult(
            "policy.patch-age",
            Status.PASS,
            Severity.INFO,
            f"{level.product} build {level.build}.{level.ubr} ({installed}) is "
            f"{level.days_behind} days behind the newest cumulative update {level.newest.kb} "
            f"(limit {limit})",
            evidence,
        )
    ]


# -- SBOM ---------------------------------------------------------------------------------


def _version_below(ecosystem: str, version: str, bound: str) -> bool | None:
    """Whether ``version`` < ``bound`` in the ecosystem's order; None when either won't parse."""
    from chainproof.vuln import versions

    try:
        return bool(versions.parse(ecosystem, version) < versions.parse(ecosystem, bound))
    except Exception:  # noqa: S110 - an unknown ecosystem or version: try a dotted compare
        pass
    try:
        core = version.split("+", 1)[0].split("-", 1)[0]
        ours = tuple(int(p) for p in core.split("."))
        theirs = tuple(int(p) for p in bound.split("."))
    except ValueError:
        return None
    return ours < theirs


def _denied_by(rule: ComponentRule, component: Component) -> str | None:
    """Why ``rule`` denies ``component``, or None."""
    name = component.name.casefold()
    if rule.name is not None and not fnmatch.fnmatchcase(name, rule.name.casefold()):
        return None
    if rule.purl is not None and not fnmatch.fnmatchcase(
        component.purl.casefold(), rule.purl.casefold()
    ):
        return None
    if rule.ecosystem is not None and component.ecosystem.casefold() != rule.ecosystem.casefold():
        return None
    if rule.below is not None:
        below = _version_below(component.ecosystem, component.version, rule.below)
        if below is None:
            return f"version {component.version!r} cannot be compared with {rule.below!r}"
        if not below:
            return None
        return f"older than {rule.below}"
    return "denied"


@functools.cache
def _spdx_licensing() -> Any:
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()  # ~20 ms to build: once per process


@functools.lru_cache(maxsize=4096)
def _license_denied(expression: str, denied: frozenset[str]) -> bool:
    """AND: any denied part denies; OR: denied only when every alternative is."""
    if not any(c in expression for c in " ()"):
        return expression.casefold() in denied  # a plain id: no parse needed
    from license_expression import ExpressionError

    try:
        parsed = _spdx_licensing().parse(expression, validate=False)
    except ExpressionError:
        return expression.casefold() in denied
    if parsed is None:
        return False

    def walk(node: Any) -> bool:
        operator = type(node).__name__
        if operator == "AND":
            return any(walk(a) for a in node.args)
        if operator == "OR":
            return all(walk(a) for a in node.args)
        key = getattr(node, "key", str(node))
        return str(key).casefold() in denied

    return walk(parsed)


def _sbom_results(rules: Sequence[Rule], facts: ImageFacts) -> list[CheckResult]:
    out: list[CheckResult] = []
    specs = [(r.name, r.sbom) for r in rules if r.sbom is not None]
    if not specs:
        return out
    if any(spec.required for _, spec in specs):
        requiring = [name for name, spec in specs if spec.required]
        if facts.sbom is None or not facts.sbom.components:
            out.append(
                CheckResult(
                    "policy.sbom",
                    Status.FAIL,
                    Severity.HIGH,
                    f"rule(s) {', '.join(requiring)} require an SBOM, but none was built "
                    "(the sbom check did not run or found nothing)",
                    {"rules": requiring},
                )
            )
        else:
            out.append(
                CheckResult(
                    "policy.sbom",
                    Status.PASS,
                    Severity.INFO,
                    f"SBOM built: {len(facts.sbom.components)} components",
                    {"rules": requiring},
                )
            )
    if facts.sbom is None:
        return out
    present = facts.sbom.present()
    for rule_name, spec in specs:
        for component in present:
            for deny in spec.deny:
                why = _denied_by(deny, component)
                if why is None:
                    continue
                reason = f" ({deny.reason})" if deny.reason else ""
                out.append(
                    CheckResult(
                        "policy.component",
                        Status.FAIL,
                        Severity.HIGH,
                        f"{component.name} {component.version} is denied by rule {rule_name}: "
                        f"{why}{reason}",
                        {
                            "rule": rule_name,
                            "component": component.name,
                            "version": component.version,
                            "purl": component.purl,
                            "layer": component.layer,
                        },
                    )
                )
                break
        if spec.licenses is not None and spec.licenses.deny:
            denied = frozenset(x.casefold() for x in spec.licenses.deny)
            for component in present:
                bad = [lic for lic in component.licenses if _license_denied(lic, denied)]
                if bad:
                    out.append(
                        CheckResult(
                            "policy.license",
                            Status.FAIL,
                            Severity.MEDIUM,
                            f"{component.name} {component.version} is licensed "
                            f"{' AND '.join(bad)}, denied by rule {rule_name}",
                            {"rule": rule_name, "component": component.name, "licenses": bad},
                        )
                    )
    return out


# -- screening ----------------------------------------------------------------------------

_LABELS = ("org.opencontainers.image.vendor", "org.opencontainers.image.authors")


def _screening_results(policy: Policy, facts: ImageFacts) -> list[CheckResult]:
    spec = policy.document.screening
    if spec is None or not policy.screening:
        return []
    from chainproof.policy.screening import identities_of_signer

    identities: list[tuple[str, str]] = []  # (where, name)
    if "signer" in spec.identities:
        for signer in facts.signers:
            identities += [(f"signer {signer}", name) for name in identities_of_signer(signer)]
    if "labels" in spec.identities:
        labels = facts.labels
        for label in _LABELS:
            if labels.get(label):
                identities += [
                    (f"label {label}", part.strip())
                    for part in labels[label].replace(";", ",").split(",")
                    if part.strip()
                ]
    out: list[CheckResult] = []
    for where, name in identities:
        for screening in policy.screening:
            entry = screening.find(name)
            if entry is not None:
                out.append(
                    CheckResult(
                        "policy.screening",
                        Status.FAIL,
                        Severity.CRITICAL,
                        f"{where}: {name!r} matches {entry.name!r} on {entry.source or 'a list'} "
                        f"(screening list {entry.list_name})",
                        {
                            "identity": name,
                            "from": where,
                            "list": entry.list_name,
                            "source": entry.source,
                            "entry": entry.name,
                            "matched": entry.matched,
                        },
                    )
                )
    if not out:
        lists = ", ".join(s.name for s in policy.screening)
        entries = sum(s.records for s in policy.screening)
        out.append(
            CheckResult(
                "policy.screening",
                Status.PASS,
                Severity.INFO,
                f"{len(identities)} identit{'y' if len(identities) == 1 else 'ies'} screened "
                f"against {lists} ({entries} entries): no match",
                {"identities": [n for _, n in identities], "lists": lists},
            )
        )
    return out


# -- Rego ---------------------------------------------------------------------------------


def rego_input(
    facts: ImageFacts, rules: Sequence[str], keys: frozenset[str] | None = None
) -> dict[str, Any]:
    """The one document every Rego module sees (``docs/policy.md``, "Rego input"); with
    ``keys``, only those top-level parts (the rest no module reads)."""
    wanted = keys if keys is not None else frozenset(_INPUT_PARTS)
    sbom: dict[str, Any] = {"components": []}
    if facts.sbom is not None and "sbom" in wanted:
        sbom["components"] = [
            {
                "name": c.name,
                "version": c.version,
                "ecosystem": c.ecosystem,
                "type": str(c.type),
                "purl": c.purl,
                "licenses": list(c.licenses),
                "layer": c.layer,
                "present": c.present,
            }
            for c in facts.sbom.components
        ]
    parts: dict[str, Any] = {
        "image": lambda: {
            "reference": facts.reference,
            "digest": facts.digest,
            "platform": facts.platform,
            "os_version": facts.os_version,
        },
        "verdict": lambda: {"checks": [c.to_json() for c in facts.results]},
        "config": lambda: facts.config,
        "sbom": lambda: sbom,
        "attestations": lambda: list(facts.attestations),
        "signers": lambda: list(facts.signers),
        "policy": lambda: {"rules": list(rules)},
    }
    return {key: build() for key, build in parts.items() if key in wanted}


_INPUT_PARTS = ("image", "verdict", "config", "sbom", "attestations", "signers", "policy")


def _rego_results(
    policy: Policy, requirements: Requirements, facts: ImageFacts
) -> list[CheckResult]:
    candidates: list[tuple[str, RegoEngine | None]] = [("", policy.rego)]
    candidates += [(policy.rule(i).name, policy.rule_rego(i)) for i in requirements.rule_indexes]
    engines = [(name, engine) for name, engine in candidates if engine is not None]
    if not engines:
        return []
    out: list[CheckResult] = []
    for rule_name, engine in engines:
        findings = engine.evaluate(rego_input(facts, requirements.rules, engine.input_keys))
        packages = sorted({m.package for m in engine.modules})
        for finding in findings:
            deny = finding.kind == "deny"
            out.append(
                CheckResult(
                    f"policy.rego.{finding.package}",
                    Status.FAIL if deny else Status.WARN,
                    Severity.HIGH if deny else Severity.MEDIUM,
                    finding.message,
                    {"package": finding.package, **({"rule": rule_name} if rule_name else {})},
                )
            )
        for package in packages:
            if not any(f.package == package and f.kind == "deny" for f in findings):
                out.append(
                    CheckResult(
                        f"policy.rego.{package}",
                        Status.PASS,
                        Severity.INFO,
                        f"Rego package {package}: nothing denied",
                        {"package": package, **({"rule": rule_name} if rule_name else {})},
                    )
                )
    return out


# -- waivers ------------------------------------------------------------------------------


def _vulnerability_ids(result: CheckResult) -> set[str]:
    evidence = result.evidence
    ids = {str(evidence.get("id", ""))}
    for key in ("ids", "also"):
        value = evidence.get(key)
        if isinstance(value, list):
            ids.update(str(v) for v in value)
    return {i.casefold() for i in ids if i}


def _waiver_covers(waiver: _Waiver, result: CheckResult, ref: references.ImageRef) -> bool:
    if not fnmatch.fnmatchcase(result.id, waiver.check):
        return False
    if waiver.vulnerability and waiver.vulnerability not in _vulnerability_ids(result):
        return False
    return any(p.matches(ref) for p in waiver.patterns)


def _apply_waivers(
    policy: Policy, reference: str, results: list[CheckResult], today: dt.date
) -> tuple[list[CheckResult], list[WaiverUse]]:
    if not policy.waivers:
        return results, []
    from chainproof.oci import reference as references

    ref = references.parse(reference)
    today_text = today.isoformat()
    applied: dict[int, list[str]] = {}
    expired_hits: dict[int, list[str]] = {}
    out: list[CheckResult] = []
    for result in results:
        if result.status != Status.FAIL:
            out.append(result)
            continue
        covering = [w for w in policy.waivers if _waiver_covers(w, result, ref)]
        active = next((w for w in covering if w.expires >= today_text), None)
        label = result.id + (f" {result.evidence['id']}" if "id" in result.evidence else "")
        for waiver in covering:
            if waiver.expires < today_text:
                expired_hits.setdefault(waiver.index, []).append(label)
        if active is None:
            out.append(result)
            continue
        applied.setdefault(active.index, []).append(label)
        out.append(
            dataclasses.replace(
                result,
                status=Status.WARN,
                message=f"waived until {active.expires} ({active.reason}): {result.message}",
                evidence={
                    **result.evidence,
                    "waiver": {
                        "index": active.index,
                        "reason": active.reason,
                        "expires": active.expires,
                    },
                },
            )
        )
    uses: list[WaiverUse] = []
    for waiver in policy.waivers:
        if waiver.index in applied:
            uses.append(_use(waiver, applied[waiver.index], expired=False))
        elif waiver.expires < today_text and any(p.matches(ref) for p in waiver.patterns):
            uses.append(_use(waiver, expired_hits.get(waiver.index, []), expired=True))
            hits = expired_hits.get(waiver.index, [])
            out.append(
                CheckResult(
                    "policy.waiver-expired",
                    Status.WARN,
                    Severity.MEDIUM,
                    f"waiver {waiver.index} for {waiver.check}"
                    + (f" {waiver.vulnerability.upper()}" if waiver.vulnerability else "")
                    + f" expired on {waiver.expires} and no longer applies"
                    + (f" (it would cover {', '.join(hits)})" if hits else ""),
                    {"waiver": waiver.index, "expires": waiver.expires, "would_cover": hits},
                )
            )
    return out, uses


def _use(waiver: _Waiver, applied_to: list[str], *, expired: bool) -> WaiverUse:
    return WaiverUse(
        waiver.check,
        waiver.vulnerability.upper() if waiver.vulnerability else "",
        waiver.reason,
        waiver.expires,
        tuple(applied_to),
        expired,
    )
