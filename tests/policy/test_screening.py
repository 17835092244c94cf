"""Screening signers and vendor labels against lists in the Consolidated Screening List format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chainproof.checks.interface import CheckResult, Severity, Status
from chainproof.errors import MalformedError
from chainproof.policy import ImageFacts, Policy
from chainproof.policy.evaluate import evaluate
from chainproof.policy.screening import ScreeningList, identities_of_signer, normalize
from tests.policy.conftest import write_policy

SAMPLE = Path(__file__).resolve().parents[2] / "src/chainproof/policy/data/screening-sample.csv"


@pytest.mark.parametrize(
    ("name", "normalized"),
    [
        ("Fabrikam Shadow Tooling Co., Ltd.", "fabrikam shadow tooling"),
        ("FABRIKAM-SHADOW TOOLING LIMITED", "fabrikam shadow tooling"),
        ("Ｆａｂｒｉｋａｍ Shadow Tooling", "fabrikam shadow tooling"),  # noqa: RUF001 - NFKC
        ("The Northwind GmbH & Co. KG", "northwind"),
        ("ООО Ромашка", "ромашка"),  # noqa: RUF001 - Cyrillic legal form
        ("Ltd.", ""),
    ],
)
def test_normalize(name: str, normalized: str) -> None:
    assert normalize(name) == normalized


def test_csv_in_the_real_header_shape() -> None:
    screening = ScreeningList.load(SAMPLE, "sample.csv")
    assert screening.records == 2  # the vessel row is not indexed
    entry = screening.find(["O", "FABRIKAM SHADOW TOOLING LIMITED"][1])
    assert entry is not None
    assert entry.source.startswith("Entity List (EL)")
    assert screening.find("FST Holdings") is not None  # an alias
    assert screening.find("fabrikamshadow") is not None  # space-less form (e-mail domains)
    assert screening.find("Contoso Freighter") is None  # vessels do not sign software
    assert screening.find("Fabrikam Shadow Toolin") is None  # no fuzzy matching


def test_json_in_the_bulk_file_shape() -> None:
    data = {
        "total": 1,
        "results": [
            {
                "id": "x",
                "source": "Military End User (MEU) List - Bureau of Industry and Security",
                "name": "Tailspin Quiet Systems JSC",
                "alt_names": ["Tailspin QS"],
                "addresses": [{"address": "1 Road", "city": "X", "country": "ZZ"}],
                "type": "Entity",
            }
        ],
    }
    screening = ScreeningList.parse(json.dumps(data).encode(), "csl.json")
    assert screening.find("TAILSPIN QUIET SYSTEMS") is not None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"_id,source,name\n1,EL,Good\n2,EL,Bad,extra\n", "line 3: more fields than the header"),
        (b"_id,source,name\n1,EL,\n", "line 2: empty name"),
        (b"_id,source\n1,EL\n", "without a 'name' column"),
        (b'{"results": [{"source": "EL"}]}', "record 0 has no 'name'"),
        (b'{"results": [{"name": "a", "alt_names": 3}]}', "alt_names must be a list"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_broken_lists(data: bytes, message: str) -> None:
    with pytest.raises(MalformedError, match=message):
        ScreeningList.parse(data, "list")


@pytest.mark.parametrize(
    ("signer", "names"),
    [
        (
            "CN=Release Signing,O=Fabrikam Shadow Tooling Co\\, Ltd.,C=ZZ",
            ["Release Signing", "Fabrikam Shadow Tooling Co, Ltd."],
        ),
        ("build@fabrikamshadow.com", ["fabrikamshadow"]),
        ("dev@mail.fabrikam-shadow.co.uk", ["fabrikam-shadow"]),
        ("https://ci.northwind-covert.example/builder", ["northwind-covert"]),
        ("9f2c" * 16, []),
    ],
)
def test_identities_of_a_signer(signer: str, names: list[str]) -> None:
    assert identities_of_signer(signer) == names


def _facts(signers: list[str], labels: dict[str, str]) -> ImageFacts:
    verified = CheckResult(
        "signature.verified", Status.PASS, Severity.INFO, "ok", {"signers": signers}
    )
    return ImageFacts(
        reference="contoso.azurecr.io/app:1",
        digest="sha256:" + "b" * 64,
        platform="windows/amd64",
        os_version="",
        config={"config": {"Labels": labels}},
        results=(verified,),
    )


def _screening_policy(tmp_path: Path) -> Policy:
    (tmp_path / "list.csv").write_bytes(SAMPLE.read_bytes())
    text = """
    schema: chainproof.policy/v1
    name: screened
    screening: {lists: [list.csv]}
    rules: [{name: all, match: {images: ["*"]}}]
    """
    return Policy.load(write_policy(tmp_path, text))


def test_a_listed_signer_or_vendor_fails(tmp_path: Path) -> None:
    policy = _screening_policy(tmp_path)
    requirements = policy.requirements_for("contoso.azurecr.io/app:1")
    hits = [
        r
        for r in evaluate(policy, requirements, _facts(["CN=x,O=FST Holdings Ltd"], {})).results
        if r.id == "policy.screening"
    ]
    assert [r.status for r in hits] == [Status.FAIL]
    assert hits[0].evidence["entry"] == "Fabrikam Shadow Tooling Co., Ltd."
    assert hits[0].evidence["list"] == "list.csv"
    labels = {"org.opencontainers.image.vendor": "Northwind Covert Builds, L.L.C."}
    vendor = evaluate(policy, requirements, _facts([], labels)).results
    assert [r.status for r in vendor if r.id == "policy.screening"] == [Status.FAIL]
    clean = evaluate(policy, requirements, _facts(["build@contoso.com"], {})).results
    [result] = [r for r in clean if r.id == "policy.screening"]
    assert result.status == Status.PASS
    assert result.message == "1 identity screened against list.csv (2 entries): no match"
