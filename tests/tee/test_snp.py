"""SEV-SNP reports from real machines (virtee/sev, go-sev-guest, Azure via microsoft/CCF)."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import pytest

from chainproof.errors import MalformedError, UnsupportedError, UsageError
from chainproof.tee.expectations import Expectations
from chainproof.tee.snp import verify_report
from chainproof.tee.snp_report import Product, parse_report
from tests.tee.conftest import SNP_AT, fixture, flip

REAL = [
    ("snp/virtee-milan-v2.hex", "snp/virtee-milan-vcek.der", "Milan", 2),
    ("snp/ccf-milan-v3.bin", "snp/ccf-milan-vcek.pem", "Milan", 3),
    ("snp/ccf-genoa-v3.bin", "snp/ccf-genoa-vcek.pem", "Genoa", 3),
]


@pytest.mark.parametrize(("report", "cert", "product", "version"), REAL)
def test_real_reports_verify(report: str, cert: str, product: str, version: int) -> None:
    result = verify_report(fixture(report), fixture(cert), at=SNP_AT)
    assert result.verified, result.failures
    assert result.claims["product"] == product
    assert result.claims["version"] == version
    assert {f.name for f in result.findings} >= {"chain", "signature", "tcb", "chip_id"}
    assert len(result.claims["measurement"]) == 96
    assert len(result.claims["host_data"]) == 64
    assert len(result.claims["report_data"]) == 128
    assert len(result.claims["chip_id"]) == 128


def test_claims_of_the_azure_genoa_report() -> None:
    result = verify_report(
        fixture("snp/ccf-genoa-v3.bin"), fixture("snp/ccf-genoa-vcek.pem"), at=SNP_AT
    )
    assert result.claims["cpuid"] == {"family": 0x19, "model": 0x11, "stepping": 1}
    assert result.claims["reported_tcb"] == {
        "boot_loader": 10,
        "tee": 0,
        "snp": 23,
        "microcode": 84,
    }
    # Azure confidential containers: host_data is the hash of the container security policy.
    assert result.claims["host_data"] == (
        "4f4448c67f3c8dfc8de8a5e37125d807dadcc41f06cf23f615dbd52eec777d10"
    )
    assert result.claims["policy"]["debug_allowed"] is False
    assert result.claims["policy"]["smt_allowed"] is True


def test_debug_enabled_report_fails_only_on_policy() -> None:
    report, cert = (
        fixture("snp/go-sev-guest-milan-v2-debug.bin"),
        fixture("snp/go-sev-guest-milan-vcek.der"),
    )
    result = verify_report(report, cert, at=SNP_AT)
    assert not result.verified
    assert [f.name for f in result.failures] == ["policy.debug"]
    allowed = verify_report(report, cert, at=SNP_AT, expectations=Expectations(allow_debug=True))
    assert allowed.verified


@pytest.mark.parametrize(
    ("offset", "what"),
    [(0x90, "measurement"), (0xC0, "host_data"), (0x50, "report_data"), (0x2A0, "signature R")],
)
def test_one_byte_changed_fails_the_signature(offset: int, what: str) -> None:
    tampered = flip(fixture("snp/ccf-milan-v3.bin"), offset)
    result = verify_report(tampered, fixture("snp/ccf-milan-vcek.pem"), at=SNP_AT)
    assert not result.verified, what
    assert result.finding("signature") is not None
    assert not result.finding("signature").passed  # type: ignore[union-attr]


def test_one_byte_changed_in_the_vcek_breaks_the_chain() -> None:
    cert = fixture("snp/virtee-milan-vcek.der")
    # The last bytes are the ASK's RSA-PSS signature over the VCEK.
    result = verify_report(
        fixture("snp/virtee-milan-v2.hex"), flip(cert, len(cert) - 10), at=SNP_AT
    )
    assert not result.finding("chain").passed  # type: ignore[union-attr]
    assert not result.verified


def test_wrong_product_chain() -> None:
    result = verify_report(
        fixture("snp/ccf-genoa-v3.bin"),
        fixture("snp/ccf-genoa-vcek.pem"),
        at=SNP_AT,
        product=Product.MILAN,
    )
    failed = {f.name for f in result.failures}
    assert {"product", "chain"} <= failed
    assert "report CPUID says Genoa" in result.finding("product").message  # type: ignore[union-attr]


def test_vcek_of_another_chip() -> None:
    result = verify_report(
        fixture("snp/ccf-milan-v3.bin"), fixture("snp/virtee-milan-vcek.der"), at=SNP_AT
    )
    failed = {f.name for f in result.failures}
    assert {"signature", "chip_id", "tcb"} <= failed
    assert result.finding("chain").passed  # type: ignore[union-attr]


def test_certificates_outside_validity() -> None:
    later = datetime(2031, 1, 1, tzinfo=UTC)  # the virtee VCEK expired 2030-04-03
    result = verify_report(
        fixture("snp/virtee-milan-v2.hex"), fixture("snp/virtee-milan-vcek.der"), at=later
    )
    assert [f.name for f in result.failures] == ["chain.validity"]
    assert "2030-04-03" in result.failures[0].message


def test_expectations_measurement_host_data_smt() -> None:
    report, cert = fixture("snp/ccf-milan-v3.bin"), fixture("snp/ccf-milan-vcek.pem")
    parsed = parse_report(report)
    good = Expectations(measurement=parsed.measurement, host_data=parsed.host_data)
    assert verify_report(report, cert, at=SNP_AT, expectations=good).verified
    wrong = Expectations(measurement=bytes(48), host_data=bytes(32), deny_smt=True)
    failed = {f.name for f in verify_report(report, cert, at=SNP_AT, expectations=wrong).failures}
    assert failed == {"measurement", "host_data", "policy.smt"}


def test_truncated_report_is_bad_input() -> None:
    with pytest.raises(MalformedError, match="1184"):
        verify_report(
            fixture("snp/ccf-milan-v3.bin")[:1000], fixture("snp/ccf-milan-vcek.pem"), at=SNP_AT
        )


@pytest.mark.parametrize("version", [1, 4, 5, 0xFFFFFFFF])
def test_unsupported_versions(version: int) -> None:
    report = bytearray(fixture("snp/ccf-milan-v3.bin"))
    struct.pack_into("<I", report, 0, version)
    with pytest.raises(UnsupportedError, match=f"version {version} is not supported"):
        parse_report(bytes(report))


def test_unknown_signature_algorithm() -> None:
    report = bytearray(fixture("snp/ccf-milan-v3.bin"))
    struct.pack_into("<I", report, 0x34, 2)
    with pytest.raises(UnsupportedError, match="signature algorithm 2"):
        parse_report(bytes(report))


@pytest.mark.parametrize(
    "cert",
    [
        b"",
        b"not a certificate",
        b"\x30\x82\x05\x00" + bytes(20),
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ],
)
def test_malformed_certificates(cert: bytes) -> None:
    with pytest.raises(MalformedError, match="certificate"):
        verify_report(fixture("snp/ccf-milan-v3.bin"), cert, at=SNP_AT)


def test_a_certificate_that_is_not_an_endorsement_key() -> None:
    from importlib import resources

    ask = resources.files("chainproof.tee").joinpath("data", "amd", "milan-vcek.pem").read_bytes()
    with pytest.raises(MalformedError, match="neither SEV-VCEK nor SEV-VLEK"):
        verify_report(fixture("snp/ccf-milan-v3.bin"), ask, at=SNP_AT)


def test_version2_without_product_hint_uses_the_certificate() -> None:
    # Version 2 has no CPUID; the VCEK's productName extension ("Milan-B0") names the chain.
    result = verify_report(
        fixture("snp/virtee-milan-v2.hex"), fixture("snp/virtee-milan-vcek.der"), at=SNP_AT
    )
    assert result.claims["certificate_product_name"] == "Milan-B0"
    assert result.finding("product").passed  # type: ignore[union-attr]


def test_unknown_product_name_is_usage_error() -> None:
    from chainproof.tee.snp import parse_product

    with pytest.raises(UsageError, match="choose from milan, genoa, turin"):
        parse_product("naples")
