"""The binding construction of docs/tee.md, recomputed independently, and checked against
the fields of real evidence."""

from __future__ import annotations

import hashlib

import pytest

from chainproof.errors import UsageError
from chainproof.tee.binding import ExpectedBinding, binding_message, check_binding, expected_binding
from chainproof.tee.expectations import Expectations
from chainproof.tee.snp import verify_report
from tests.tee.conftest import SNP_AT, fixture

POLICY = "sha256:" + "11" * 32
IMAGES = ["sha256:" + "bb" * 32, "sha256:" + "aa" * 32]
#: The test vector printed in docs/tee.md.
VECTOR = "aa1f7440cb7e7648b845e41ee467e1322c3e0ce0b982c934b807df601374c70c"


def test_documented_vector() -> None:
    assert expected_binding(POLICY, IMAGES).hex() == VECTOR


def test_recomputed_from_the_specification() -> None:
    text = (
        "chainproof.tee.binding/v1\n"
        f"policy {POLICY}\n"
        f"image sha256:{'aa' * 32}\n"
        f"image sha256:{'bb' * 32}\n"
    )
    assert binding_message(POLICY, IMAGES) == text.encode()
    assert expected_binding(POLICY, IMAGES) == hashlib.sha256(text.encode()).digest()


def test_order_and_duplicates_do_not_matter_but_content_does() -> None:
    base = expected_binding(POLICY, IMAGES)
    assert expected_binding(POLICY, [*reversed(IMAGES), IMAGES[0]]) == base
    assert expected_binding(POLICY, IMAGES[:1]) != base
    assert expected_binding("sha256:" + "12" * 32, IMAGES) != base


@pytest.mark.parametrize(
    ("policy", "images"),
    [
        ("sha256:" + "AA" * 32, IMAGES),  # upper case is not an OCI digest
        ("11" * 32, IMAGES),
        (POLICY, ["sha256:abc"]),
        (POLICY, ["md5:" + "aa" * 16]),
        (POLICY, []),
    ],
)
def test_invalid_inputs(policy: str, images: list[str]) -> None:
    with pytest.raises(UsageError):
        expected_binding(policy, images)


def test_check_binding_on_each_field() -> None:
    bound = ExpectedBinding.of(POLICY, IMAGES, "report-data")
    # Hand-made fields: no hardware here can launch a guest that carries our binding.
    report_data = bound.value + bytes(32)
    assert check_binding(bound, bytes(32), report_data).passed
    assert not check_binding(bound, bound.value, bytes(64)).passed
    in_host = ExpectedBinding.of(POLICY, IMAGES, "host-data")
    assert check_binding(in_host, bound.value, bytes(64)).passed


def test_real_report_does_not_carry_an_unrelated_binding() -> None:
    """Azure's report carries its CCE policy hash in host_data, not our binding: it fails,
    and the message shows what the field holds."""
    bound = ExpectedBinding.of(POLICY, IMAGES, "host-data")
    result = verify_report(
        fixture("snp/ccf-milan-v3.bin"),
        fixture("snp/ccf-milan-vcek.pem"),
        at=SNP_AT,
        expectations=Expectations(binding=bound),
    )
    assert [f.name for f in result.failures] == ["binding"]
    assert "4f4448c67f3c8dfc" in result.failures[0].message
