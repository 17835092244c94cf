"""Writers (validated CycloneDX 1.6 / SPDX 2.3, table), CLI, check contract, builder bounds."""

from __future__ import annotations

import dataclasses
import io
import json
from typing import IO, TYPE_CHECKING

import pytest

from chainproof.checks.context import CheckContext
from chainproof.checks.interface import Status
from chainproof.cli.main import main
from chainproof.demo.sample import SAMPLE_TAG, build_sample
from chainproof.errors import MalformedError
from chainproof.layers.walker import EntryKind, LayerEntry, View
from chainproof.oci.open import open_target
from chainproof.pipeline.integrity import CONSUMERS_KEY, IntegrityCheck
from chainproof.sbom.builder import SbomBuilder
from chainproof.sbom.catalogers.dotnet import DepsJsonCataloger
from chainproof.sbom.check import COMPONENTS_KEY, SbomCheck
from chainproof.sbom.cyclonedx import to_cyclonedx, to_cyclonedx_library, validate_cyclonedx
from chainproof.sbom.interface import CatalogContext, Content, FoundFile
from chainproof.sbom.model import Component, ComponentType, ImageSubject, Sbom
from chainproof.sbom.spdx import to_spdx, to_spdx_library
from tests.sbom.helpers import config

if TYPE_CHECKING:
    from pathlib import Path


def _sample(tmp_path: Path) -> str:
    build_sample(tmp_path / "sample")
    return f"oci:{tmp_path / 'sample'}:{SAMPLE_TAG}"


def _sbom() -> Sbom:
    components = (
        Component(
            ComponentType.OPERATING_SYSTEM,
            "Windows Server 2022",
            "10.0.20348.2227",
            "windows",
            "t",
            layer=0,
        ),
        Component(
            ComponentType.LIBRARY,
            "Newtonsoft.Json",
            "13.0.1",
            "nuget",
            "t",
            purl="pkg:nuget/Newtonsoft.Json@13.0.1",
            licenses=("MIT",),
            layer=1,
            removed_by=2,
            evidence=("C:\\app\\a.deps.json",),
        ),
        Component(
            ComponentType.LIBRARY, "weird", "1", "deb", "t", licenses=("GPL-2+ and BSD-like",)
        ),
    )
    return Sbom(
        ImageSubject("oci:x", "sha256:" + "a" * 64, "windows/amd64", "10.0.20348.2227"),
        components,
        ("w",),
    )


def test_cyclonedx_is_valid_and_deterministic() -> None:
    text = to_cyclonedx(_sbom(), "2024-01-09T00:00:00Z", validate=True)
    assert text == to_cyclonedx(_sbom(), "2024-01-09T00:00:00Z")
    document = json.loads(text)
    assert document["specVersion"] == "1.6"
    by_name = {c["name"]: c for c in document["components"]}
    props = {p["name"]: p["value"] for p in by_name["Newtonsoft.Json"]["properties"]}
    assert props["chainproof:layer"] == "1" and props["chainproof:removed-by-layer"] == "2"
    occurrences = by_name["Newtonsoft.Json"]["evidence"]["occurrences"]
    assert [o["location"] for o in occurrences] == ["C:\\app\\a.deps.json"]
    assert by_name["Windows Server 2022"]["type"] == "operating-system"
    document["components"][0]["type"] = "not-a-type"
    with pytest.raises(Exception, match="does not validate"):
        validate_cyclonedx(json.dumps(document))


def test_cyclonedx_direct_writer_equals_library() -> None:
    mixed = Component(
        ComponentType.LIBRARY,
        "x",
        "1",
        "npm",
        "t",
        purl="pkg:npm/%40scope/x@1",
        supplier="Me",
        licenses=("MIT OR Apache-2.0", "BSD-3-Clause"),
        evidence=("/b", "/a"),
        properties=(("z", "1"), ("a", "2")),
    )
    named = dataclasses.replace(mixed, name="y", licenses=("Apache-2.0", "mit", "Foo License"))
    unparsable = dataclasses.replace(mixed, name="z", licenses=("MIT OR Apache-2.0", "Foo"))
    sbom = dataclasses.replace(_sbom(), components=(*_sbom().components, mixed, named, unparsable))
    direct = to_cyclonedx(sbom, "2024-01-09T00:00:00Z", validate=True)
    assert direct == to_cyclonedx_library(sbom, "2024-01-09T00:00:00Z", validate=True)
    by_name = {c["name"]: c for c in json.loads(direct)["components"]}
    # An expression may only stand alone: SPDX parts are joined, anything else kept by name.
    assert by_name["x"]["licenses"] == [{"expression": "(MIT OR Apache-2.0) AND (BSD-3-Clause)"}]
    assert by_name["y"]["licenses"] == [
        {"license": {"id": "Apache-2.0"}},
        {"license": {"id": "MIT"}},
        {"license": {"name": "Foo License"}},
    ]
    assert by_name["z"]["licenses"] == [
        {"license": {"name": "Foo"}},
        {"license": {"name": "MIT OR Apache-2.0"}},
    ]
    empty = dataclasses.replace(_sbom(), components=())
    assert to_cyclonedx(empty, validate=True) == to_cyclonedx_library(empty, validate=True)
    # The SPDX writer likewise equals spdx-tools' output and passes its validation.
    for each in (sbom, empty, dataclasses.replace(empty, warnings=())):
        text = to_spdx(each, "2024-01-09T00:00:00Z", validate=True)
        assert text == to_spdx_library(each, "2024-01-09T00:00:00Z", validate=True)


def test_spdx_is_valid_and_deterministic() -> None:
    text = to_spdx(_sbom(), "2024-01-09T00:00:00Z", validate=True)
    assert text == to_spdx(_sbom(), "2024-01-09T00:00:00Z")
    document = json.loads(text)
    assert document["spdxVersion"] == "SPDX-2.3"
    by_name = {p["name"]: p for p in document["packages"]}
    assert by_name["Newtonsoft.Json"]["licenseDeclared"] == "MIT"
    assert (
        by_name["Newtonsoft.Json"]["externalRefs"][0]["referenceLocator"]
        == "pkg:nuget/Newtonsoft.Json@13.0.1"
    )
    assert by_name["weird"]["licenseDeclared"] == "NOASSERTION"
    assert "GPL-2+ and BSD-like" in by_name["weird"]["licenseComments"]
    assert document["relationships"][0]["relationshipType"] == "DESCRIBES"
    assert len(document["relationships"]) == 4  # DESCRIBES image + image CONTAINS 3


def test_spdx_roundtrip_through_spdx_tools(tmp_path: Path) -> None:
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    path = tmp_path / "sbom.spdx.json"
    path.write_text(to_spdx(_sbom(), validate=True), encoding="utf-8")
    document = parse_file(str(path))
    assert validate_full_spdx_document(document) == []
    assert {p.name for p in document.packages} >= {"Newtonsoft.Json", "Windows Server 2022"}


def test_cli_formats_and_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reference = _sample(tmp_path)
    assert main(["sbom", reference]) == 0
    table = capsys.readouterr().out
    assert "Windows Server 2022 (21H2) 10.0.20348.2227 cumulative update KB5034129" in table
    assert "Newtonsoft.Json" in table
    assert "Sample App" in table  # from the app layer's Software_Delta
    out = tmp_path / "bom.json"
    assert main(["sbom", reference, "--format", "cyclonedx-json", "-o", str(out)]) == 0
    first = out.read_text()
    assert main(["sbom", reference, "--format", "cyclonedx-json", "-o", str(out)]) == 0
    assert out.read_text() == first  # two runs diff clean
    validate_cyclonedx(first)
    assert main(["sbom", reference, "--format", "spdx-json"]) == 0
    assert json.loads(capsys.readouterr().out)["spdxVersion"] == "SPDX-2.3"
    assert main(["sbom", f"oci:{tmp_path / 'missing'}"]) == 2


def test_check_contract_single_layer_pass(tmp_path: Path) -> None:
    source, target = open_target(_sample(tmp_path))
    with source:
        context = CheckContext(target.images[0], source)
        check = SbomCheck()
        context.shared[CONSUMERS_KEY] = check.layer_consumers(context)
        integrity = list(IntegrityCheck().run(context))  # the one layer pass
        assert all(r.status == Status.PASS for r in integrity)
        results = {r.id: r for r in check.run(context)}
    components = context.shared[COMPONENTS_KEY]
    assert any(c.name == "Newtonsoft.Json" for c in components)
    assert results["sbom.catalog"].status == Status.PASS
    identity = results["sbom.os-identity"]
    assert identity.status == Status.PASS  # config os.version and SOFTWARE hive agree
    assert "KB5034129" in identity.message and "Server Core" in identity.message


def test_huge_entry_is_never_read() -> None:
    builder = SbomBuilder([DepsJsonCataloger()], windows=True)
    entry = LayerEntry(
        "app/huge.deps.json",
        View.FILES,
        EntryKind.FILE,
        5 * 1024**3,
        0o644,
        "",
        "Files/app/huge.deps.json",
    )

    def refuse() -> IO[bytes]:
        raise AssertionError("content of an oversized entry must not be read")

    assert builder.wants(entry)
    builder.consume(0, entry, refuse)
    assert builder.finish(CatalogContext(config(), True, 1)) == []
    assert any("exceeds the" in w and "huge.deps.json" in w for w in builder.warnings)


def test_unexpected_parser_failure_is_a_warning() -> None:
    class Exploding(DepsJsonCataloger):
        def add(self, found: FoundFile, content: Content) -> None:
            raise ZeroDivisionError("crafted input")

    builder = SbomBuilder([Exploding()], windows=True)
    entry = LayerEntry(
        "app/x.deps.json", View.FILES, EntryKind.FILE, 2, 0o644, "", "Files/app/x.deps.json"
    )
    assert builder.wants(entry)
    builder.consume(0, entry, lambda: io.BytesIO(b"{}"))
    assert builder.finish(CatalogContext(config(), True, 1)) == []
    assert any("ZeroDivisionError: crafted input" in w for w in builder.warnings)


def test_spdx_validation_catches_a_broken_document() -> None:
    from chainproof.sbom import spdx

    document = json.loads(to_spdx(_sbom(), "2024-01-09T00:00:00Z"))
    document["relationships"].append(
        {
            "spdxElementId": "SPDXRef-image",
            "relatedSpdxElement": "SPDXRef-missing",
            "relationshipType": "CONTAINS",
        }
    )
    with pytest.raises(MalformedError, match="does not validate"):
        spdx._validate_dict(document)
    del document["creationInfo"]
    with pytest.raises(MalformedError, match="does not parse"):
        spdx._validate_dict(document)
