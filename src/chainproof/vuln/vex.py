"""VEX: OpenVEX and CycloneDX VEX statements that suppress or annotate findings.

Accepted documents: an OpenVEX document (v0.0.x and v0.2.x spellings), a CycloneDX BOM with
``vulnerabilities[].analysis`` (VEX), and either of them as an attestation — an in-toto
Statement whose ``predicate`` is the document, or a DSSE envelope carrying such a Statement.
Signatures on attestations are the trust checks' business (``attestation.*``); this module
only reads the content it is given.

A statement applies to a finding when its vulnerability is one of the finding's ids (CVE,
GHSA, …) and one of its products names the finding's component: the same purl (a purl
without version covers every version), or the component name. Among the statements that
apply, the latest (by timestamp, then document order) wins. ``not_affected`` and ``fixed``
suppress the finding (kept in the report's ``suppressed`` list with the justification);
``affected`` and ``under_investigation`` annotate it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from packageurl import PackageURL

from chainproof._files import read_bounded
from chainproof._jsonutil import MAX_JSON_BYTES, loads_object
from chainproof.errors import MalformedError, UnsupportedError
from chainproof.trust.envelopes.dsse import envelope_from_json

if TYPE_CHECKING:
    from pathlib import Path

    from chainproof.vuln.matcher import Finding, MatchResult

SUPPRESSING = {"not_affected", "fixed"}
#: CycloneDX analysis.state → OpenVEX status.
_CDX_STATES = {
    "not_affected": "not_affected",
    "false_positive": "not_affected",
    "resolved": "fixed",
    "resolved_with_pedigree": "fixed",
    "exploitable": "affected",
    "in_triage": "under_investigation",
}
_OPENVEX_STATUSES = {"not_affected", "affected", "fixed", "under_investigation"}


@dataclass(frozen=True)
class VexStatement:
    vulnerability: tuple[str, ...]  # id and aliases the statement names
    products: tuple[str, ...]  # purls or names
    status: str
    justification: str
    detail: str
    timestamp: str
    order: int


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _openvex(doc: dict[str, Any], origin: str) -> list[VexStatement]:
    out: list[VexStatement] = []
    default_time = _str(doc.get("timestamp"))
    for i, raw in enumerate(doc.get("statements") or []):
        if not isinstance(raw, dict):
            raise MalformedError(f"{origin}: a VEX statement is not an object")
        vuln = raw.get("vulnerability")
        if isinstance(vuln, dict):
            ids = [_str(vuln.get("name")), _str(vuln.get("@id"))]
            ids += [a for a in vuln.get("aliases") or [] if isinstance(a, str)]
        else:
            ids = [_str(vuln)]
        products: list[str] = []
        for p in raw.get("products") or []:
            if isinstance(p, str):
                products.append(p)
            elif isinstance(p, dict):
                products.append(_str(p.get("@id")))
                identifiers = p.get("identifiers")
                if isinstance(identifiers, dict):
                    products.append(_str(identifiers.get("purl")))
        status = _str(raw.get("status"))
        if status not in _OPENVEX_STATUSES:
            raise MalformedError(f"{origin}: statement {i} has unknown status {status!r}")
        out.append(
            VexStatement(
                vulnerability=tuple(x for x in ids if x),
                products=tuple(x for x in products if x),
                status=status,
                justification=_str(raw.get("justification")),
                detail=_str(raw.get("impact_statement")) or _str(raw.get("status_notes")),
                timestamp=_str(raw.get("timestamp")) or default_time,
                order=i,
            )
        )
    return out


def _cyclonedx(doc: dict[str, Any], origin: str) -> list[VexStatement]:
    refs: dict[str, str] = {}
    for comp in doc.get("components") or []:
        if isinstance(comp, dict) and comp.get("bom-ref"):
            refs[str(comp["bom-ref"])] = _str(comp.get("purl")) or _str(comp.get("name"))
    out: list[VexStatement] = []
    for i, raw in enumerate(doc.get("vulnerabilities") or []):
        if not isinstance(raw, dict):
            raise MalformedError(f"{origin}: a CycloneDX vulnerability is not an object")
        analysis = raw.get("analysis")
        if not isinstance(analysis, dict) or not analysis.get("state"):
            continue  # a vulnerability without analysis is a finding, not a VEX statement
        state = _str(analysis.get("state"))
        if state not in _CDX_STATES:
            raise MalformedError(f"{origin}: unknown analysis state {state!r}")
        ids = [_str(raw.get("id"))]
        ids += [_str(r.get("id")) for r in raw.get("references") or [] if isinstance(r, dict)]
        products = []
        for affect in raw.get("affects") or []:
            ref = _str(affect.get("ref")) if isinstance(affect, dict) else ""
            # "urn:cdx:<serial>/<version>#<bom-ref>" points into another BOM
            local = ref.rsplit("#", 1)[-1] if ref.startswith("urn:cdx:") else ref
            products.append(refs.get(local, local))
        out.append(
            VexStatement(
                vulnerability=tuple(x for x in ids if x),
                products=tuple(x for x in products if x),
                status=_CDX_STATES[state],
                justification=_str(analysis.get("justification")),
                detail=_str(analysis.get("detail")),
                timestamp=_str(analysis.get("lastUpdated")) or _str(analysis.get("firstIssued")),
                order=i,
            )
        )
    return out


def _unwrap(doc: dict[str, Any], origin: str) -> dict[str, Any]:
    """DSSE envelope → in-toto Statement → predicate; anything else is returned as is."""
    if "payloadType" in doc and "payload" in doc:
        # The user vouches for a --vex file; signatures are the trust check's business.
        envelope = envelope_from_json(doc, f"{origin}: DSSE envelope", signed=False)
        doc = loads_object(envelope.payload, f"{origin} (DSSE payload)")
    if _str(doc.get("_type")).startswith("https://in-toto.io/Statement"):
        predicate = doc.get("predicate")
        if not isinstance(predicate, dict):
            raise MalformedError(f"{origin}: in-toto statement without a predicate object")
        return predicate
    return doc


def parse_vex(data: bytes, origin: str) -> list[VexStatement]:
    doc = _unwrap(loads_object(data, origin), origin)
    if "openvex" in _str(doc.get("@context")) or "statements" in doc:
        return _openvex(doc, origin)
    if doc.get("bomFormat") == "CycloneDX":
        return _cyclonedx(doc, origin)
    raise UnsupportedError(f"{origin}: not an OpenVEX or CycloneDX VEX document")


def read_vex(path: Path) -> list[VexStatement]:
    return parse_vex(read_bounded(path, "VEX document", MAX_JSON_BYTES), str(path))


def _purl_covers(statement_product: str, purl: str) -> bool:
    if statement_product == purl:
        return True
    try:
        want, have = PackageURL.from_string(statement_product), PackageURL.from_string(purl)
    except ValueError:
        return False
    same = (want.type, want.namespace, want.name.lower()) == (
        have.type,
        have.namespace,
        have.name.lower(),
    )
    return same and (not want.version or want.version == have.version)


def _applies(statement: VexStatement, finding: Finding) -> bool:
    if not set(statement.vulnerability) & set(finding.ids):
        return False
    for product in statement.products:
        if product.startswith("pkg:") and finding.purl:
            if _purl_covers(product, finding.purl):
                return True
        elif product in (finding.component, f"{finding.component}@{finding.version}"):
            return True
    return False


def apply_vex(result: MatchResult, statements: list[VexStatement]) -> MatchResult:
    """Suppress or annotate ``result``'s findings in place; returns it for chaining."""
    kept: list[Finding] = []
    for finding in result.findings:
        matching = [s for s in statements if _applies(s, finding)]
        if not matching:
            kept.append(finding)
            continue
        winner = max(matching, key=lambda s: (s.timestamp, s.order))
        annotated = replace(
            finding, vex_status=winner.status, vex_justification=winner.justification
        )
        if winner.status in SUPPRESSING:
            result.suppressed.append(annotated)
        else:
            kept.append(annotated)
    result.findings = kept
    return result
