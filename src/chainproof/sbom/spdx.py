"""SPDX 2.3 JSON with spdx-tools, validated by the library before writing.

The image is the described package; every component is a package the image CONTAINS.
Layer provenance and evidence go into each package's comment (SPDX 2.3 has no property
bag); declared licences that are not valid SPDX expressions go to the licence comment.
The document namespace derives from the image digest, ``created`` from the image, so the
output is deterministic.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
from typing import TYPE_CHECKING, Any

from chainproof import __version__
from chainproof.errors import MalformedError
from chainproof.sbom.cyclonedx import _timestamp, provenance_properties
from chainproof.sbom.model import ComponentType

if TYPE_CHECKING:
    from chainproof.sbom.model import Component, Sbom


def _spdx_id(text: str) -> str:
    return "SPDXRef-" + hashlib.sha256(text.encode()).hexdigest()[:20]


@functools.cache
def _licensing() -> Any:
    # Building the SPDX licence index takes ~50 ms: once per process, not per package.
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


@functools.lru_cache(maxsize=4096)
def _license(expressions: tuple[str, ...]) -> tuple[Any, str]:
    """(declared licence expression or NOASSERTION, comment with what did not parse)."""
    from license_expression import ExpressionError
    from spdx_tools.spdx.model import SpdxNoAssertion

    if not expressions:
        return SpdxNoAssertion(), ""
    licensing = _licensing()
    text = " AND ".join(f"({e})" if len(expressions) > 1 else e for e in expressions)
    try:
        info = licensing.validate(text)
        if not info.errors and not info.invalid_symbols:
            return licensing.parse(text), ""
    except ExpressionError:
        pass
    return SpdxNoAssertion(), "declared licence: " + "; ".join(expressions)


def _package(component: Component) -> Any:
    from spdx_tools.spdx.model import (
        Actor,
        ActorType,
        ExternalPackageRef,
        ExternalPackageRefCategory,
        Package,
        PackagePurpose,
        SpdxNoAssertion,
    )

    purposes = {
        ComponentType.OPERATING_SYSTEM: PackagePurpose.OPERATING_SYSTEM,
        ComponentType.APPLICATION: PackagePurpose.APPLICATION,
        ComponentType.LIBRARY: PackagePurpose.LIBRARY,
        ComponentType.FRAMEWORK: PackagePurpose.FRAMEWORK,
        ComponentType.FILE: PackagePurpose.FILE,
    }
    declared, license_comment = _license(component.licenses)
    lines = [f"{k}={v}" for k, v in provenance_properties(component)]
    lines += [f"evidence={e}" for e in component.evidence]
    return Package(
        spdx_id=_spdx_id(component.bom_ref),
        name=component.name,
        download_location=SpdxNoAssertion(),
        version=component.version or None,
        supplier=Actor(ActorType.ORGANIZATION, component.supplier) if component.supplier else None,
        files_analyzed=False,
        license_declared=declared,
        license_concluded=SpdxNoAssertion(),
        license_comment=license_comment or None,
        copyright_text=SpdxNoAssertion(),
        comment="\n".join(lines),
        primary_package_purpose=purposes[component.type],
        external_references=[
            ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", component.purl)
        ]
        if component.purl
        else [],
    )


def to_spdx(sbom: Sbom, created: str = "", *, validate: bool = False) -> str:
    """The SBOM as SPDX 2.3 JSON text.

    ``validate`` runs spdx-tools' full validation (raises MalformedError on a problem); the
    tests do, the CLI does not by default: it is quadratic in the number of packages.
    """
    from spdx_tools.spdx.model import (
        Actor,
        ActorType,
        CreationInfo,
        Document,
        Package,
        PackagePurpose,
        Relationship,
        RelationshipType,
        SpdxNoAssertion,
    )
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
    from spdx_tools.spdx.writer.json import json_writer

    subject = sbom.subject
    when = _timestamp(created).astimezone(dt.UTC).replace(microsecond=0, tzinfo=None)
    info = CreationInfo(
        spdx_version="SPDX-2.3",
        spdx_id="SPDXRef-DOCUMENT",
        name=f"chainproof SBOM of {subject.reference}",
        document_namespace=(
            f"https://chainproof.invalid/spdx/{subject.digest.replace(':', '-')}/"
            f"{hashlib.sha256(subject.platform.encode()).hexdigest()[:12]}"
        ),
        creators=[Actor(ActorType.TOOL, f"chainproof-{__version__}")],
        created=when,
        document_comment="\n".join(f"warning={w}" for w in sbom.warnings) or None,
    )
    image = Package(
        spdx_id="SPDXRef-image",
        name=subject.reference,
        download_location=SpdxNoAssertion(),
        version=subject.digest or None,
        files_analyzed=False,
        primary_package_purpose=PackagePurpose.CONTAINER,
        comment="\n".join(
            [f"platform={subject.platform}", f"os-version={subject.os_version}"]
            + [f"layer:{i}={d}" for i, d in enumerate(subject.layer_digests)]
        ),
    )
    packages = [image]
    relationships = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, "SPDXRef-image")]
    seen: set[str] = set()
    for component in sbom.components:
        package = _package(component)
        if package.spdx_id in seen:
            continue
        seen.add(package.spdx_id)
        packages.append(package)
        relationships.append(
            Relationship("SPDXRef-image", RelationshipType.CONTAINS, package.spdx_id)
        )
    document = Document(info, packages=packages, relationships=relationships)
    problems = validate_full_spdx_document(document) if validate else []
    if problems:
        raise MalformedError(
            f"generated SPDX does not validate: {problems[0].validation_message} "
            f"({len(problems)} problems)"
        )
    out = io.StringIO()
    json_writer.write_document_to_stream(document, out, validate=False)
    return out.getvalue() + "\n"
