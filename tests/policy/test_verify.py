"""``verify --policy`` end to end on a real signed, attested Windows-format image."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

import pytest

from chainproof.checks.interface import Status
from chainproof.cli.main import main
from chainproof.errors import NotFoundError
from chainproof.pipeline.run import verify_image
from chainproof.policy import Policy, PolicyError
from tests.policy.conftest import BUILDER, SOURCE, Sample, write_policy

if TYPE_CHECKING:
    from pathlib import Path

    from chainproof.report.verdict import Verdict


def _text(sample: Sample, rule: str = "", **top: str) -> str:
    extra = "".join(f"{k}: {v}\n" for k, v in top.items())
    return f"""\
schema: chainproof.policy/v1
name: test
{extra}rules:
  - name: sample
    match: {{images: ["oci:{sample.directory.parent}/**"]}}
    signatures: {{keys: [{sample.key}]}}
{rule}"""


def _policy(tmp_path: Path, sample: Sample, rule: str = "", **top: str) -> Policy:
    return Policy.load(write_policy(tmp_path, _text(sample, rule, **top)))


def _status(verdict: Verdict, check_id: str) -> set[str]:
    return {str(c.status) for c in verdict.checks if c.id == check_id}


def test_signed_image_passes_and_the_verdict_names_the_policy(
    tmp_path: Path, sample: Sample
) -> None:
    policy = _policy(tmp_path, sample)
    verdict = verify_image(sample.reference, policy=policy)
    assert verdict.passed, [c.message for c in verdict.failing]
    assert _status(verdict, "policy.match") == {"pass"}
    assert _status(verdict, "signature.verified") == {"pass"}
    section = verdict.to_json()["policy"]
    assert section["name"] == "test"
    assert section["digest"] == policy.digest
    assert section["rules_matched"] == ["sample"]
    # every result carries its compliance controls
    signature = next(c for c in verdict.checks if c.id == "signature.verified")
    assert "NIST-800-190:4.1.5" in signature.controls
    assert "CIS-Docker:4.5" in signature.to_json()["controls"]


def test_wrong_key_fails(tmp_path: Path, sample: Sample) -> None:
    text = f"""\
schema: chainproof.policy/v1
name: test
rules:
  - name: sample
    match: {{images: ["*"]}}
    signatures: {{keys: [{sample.stranger}]}}
"""
    verdict = verify_image(sample.reference, policy=Policy.load(write_policy(tmp_path, text)))
    assert not verdict.passed
    assert _status(verdict, "signature.verified") == {"fail"}


def test_unmatched_image_is_denied_without_reading_it(tmp_path: Path, sample: Sample) -> None:
    policy = _policy(tmp_path, sample)
    # The layout does not exist: reading it would raise NotFoundError.
    verdict = verify_image(f"oci:{tmp_path}/nowhere:1", policy=policy)
    assert [c.id for c in verdict.checks] == ["policy.match"]
    assert not verdict.passed
    assert "no rule of policy test matches" in verdict.checks[0].message
    allowing = _policy(tmp_path, sample, unmatched="allow")
    with pytest.raises(NotFoundError):
        verify_image(f"oci:{tmp_path}/nowhere:1", policy=allowing)


def test_registry_lists_and_digest_pinning_decide_from_the_reference(
    tmp_path: Path, sample: Sample
) -> None:
    text = """\
schema: chainproof.policy/v1
name: registries
registries:
  allow: [mcr.microsoft.com, "*.azurecr.io"]
  deny: [bad.azurecr.io]
rules:
  - name: any
    match: {images: ["*"]}
    require_digest: true
"""
    policy = Policy.load(write_policy(tmp_path, text))
    # None of these hosts resolve: a decision that needed the network would raise.
    for reference, failing in [
        ("docker.io/library/nginx:1", {"policy.registry", "policy.digest-pinned"}),
        ("bad.azurecr.io/app@sha256:" + "a" * 64, {"policy.registry"}),
        ("mcr.microsoft.com.evil.example/windows:1", {"policy.registry", "policy.digest-pinned"}),
        ("contoso.azurecr.io/app:1", {"policy.digest-pinned"}),
    ]:
        verdict = verify_image(reference, policy=policy)
        assert {c.id for c in verdict.failing} == failing, reference


def test_attestation_conditions(tmp_path: Path, sample: Sample) -> None:
    good = f"""\
    attestations:
      - type: slsa-provenance-v1
        builder_id: {BUILDER}
        source_repository: {SOURCE}
        source_ref: refs/heads/main
        conditions:
          - jmespath: predicate.buildDefinition.externalParameters.workflow.path
            equals: b.yml
"""
    verdict = verify_image(sample.reference, policy=_policy(tmp_path, sample, good))
    assert _status(verdict, "attestation.verified") == {"pass"}, verdict.failing
    bad = good.replace("source_ref: refs/heads/main", "source_ref: refs/heads/release").replace(
        "equals: b.yml", "matches: 'release-.*'"
    )
    verdict = verify_image(sample.reference, policy=_policy(tmp_path, sample, bad))
    [attestation] = [c for c in verdict.checks if c.id == "attestation.verified"]
    assert attestation.status == Status.FAIL
    assert "was built from refs/heads/main, the policy requires 'refs/heads/release'" in (
        attestation.message
    )
    [requirement] = attestation.evidence["requirements"]
    assert any("does not match 'release-.*'" in u for u in requirement["unmet"])
    missing = good.replace("slsa-provenance-v1", "https://spdx.dev/Document")
    verdict = verify_image(sample.reference, policy=_policy(tmp_path, sample, missing))
    assert "no verified attestation of type https://spdx.dev/Document" in " ".join(
        c.message for c in verdict.failing
    )


def test_bad_jmespath_is_a_load_error(tmp_path: Path, sample: Sample) -> None:
    rule = """\
    attestations:
      - type: slsa-provenance-v1
        conditions: [{jmespath: "predicate.[", exists: true}]
"""
    with pytest.raises(
        PolicyError, match=r"rules\[0\]\.attestations\[0\]\.conditions\[0\]: invalid"
    ):
        _policy(tmp_path, sample, rule)


def test_waivers_turn_failures_into_warnings_until_they_expire(
    tmp_path: Path, sample: Sample
) -> None:
    deny = """\
    sbom:
      deny: [{name: "*windows server*", reason: no Windows Server here}]
"""
    waiver = """\
waivers:
  - check: policy.component
    images: ["oci:**"]
    reason: accepted for the demo image
    expires: 2027-06-30
  - check: vuln.*
    vulnerability: CVE-2099-0001
    reason: a waiver for something else
    expires: 2027-06-30
"""
    policy = Policy.load(write_policy(tmp_path, _text(sample, deny) + waiver))
    before = verify_image(sample.reference, policy=policy, today=dt.date(2027, 6, 30))
    waived = [c for c in before.checks if c.id == "policy.component"]
    assert waived and {c.status for c in waived} == {Status.WARN}
    assert waived[0].message.startswith("waived until 2027-06-30 (accepted for the demo image)")
    assert waived[0].evidence["waiver"]["index"] == 0
    [use] = before.to_json()["policy"]["waivers"]  # the unused waiver is not listed
    assert use["applied_to"] == ["policy.component"] and use["expired"] is False
    assert before.passed
    after = verify_image(sample.reference, policy=policy, today=dt.date(2027, 7, 1))
    assert _status(after, "policy.component") == {"fail"}
    expired = [c for c in after.checks if c.id == "policy.waiver-expired"]
    assert [c.status for c in expired] == [Status.WARN, Status.WARN]
    assert "would cover policy.component" in expired[0].message
    assert not after.passed


def test_patch_age(tmp_path: Path, sample: Sample, months_db: Path) -> None:
    # The sample is 10.0.20348.2227 (KB5034129, 2024-01-09); the newest update in the
    # database is KB5044281 of 2024-10-08: 273 days behind.
    rule = f"""\
    vulnerabilities:
      database: {months_db}
      fail_on: critical
      max_patch_age_days: {{days}}
"""
    strict = verify_image(sample.reference, policy=_policy(tmp_path, sample, rule.format(days=60)))
    [age] = [c for c in strict.checks if c.id == "policy.patch-age"]
    assert age.status == Status.FAIL
    assert "273 days behind KB5044281" in age.message
    assert age.evidence["missing"] == ["KB5034770", "KB5035857", "KB5044281"]
    lenient = verify_image(
        sample.reference, policy=_policy(tmp_path, sample, rule.format(days=300))
    )
    assert _status(lenient, "policy.patch-age") == {"pass"}


def test_patch_age_fails_closed_without_a_database(tmp_path: Path, sample: Sample) -> None:
    rule = f"""\
    vulnerabilities:
      database: {tmp_path / "none.db"}
      max_patch_age_days: 30
"""
    verdict = verify_image(sample.reference, policy=_policy(tmp_path, sample, rule))
    assert _status(verdict, "policy.patch-age") == {"error"}
    assert not verdict.passed


def test_sbom_rules(tmp_path: Path, sample: Sample) -> None:
    verdict = verify_image(sample.reference, policy=_policy(tmp_path, sample))
    sbom = next(c for c in verdict.checks if c.id == "sbom.catalog")
    assert sbom.status == Status.PASS
    rule = """\
    sbom:
      required: true
      deny:
        - name: "*windows server*"
          below: "10.0.30000"
          reason: too old for this cluster
"""
    verdict = verify_image(sample.reference, policy=_policy(tmp_path, sample, rule))
    assert _status(verdict, "policy.sbom") == {"pass"}
    denied = [c for c in verdict.checks if c.id == "policy.component"]
    assert denied, [c.id for c in verdict.checks]
    assert "older than 10.0.30000 (too old for this cluster)" in denied[0].message


def test_rego_deny_and_warn(tmp_path: Path, sample: Sample) -> None:
    (tmp_path / "user.rego").write_text(
        """\
package contoso.user
import rego.v1

deny contains msg if {
  input.config.config.User == "ContainerUser"
  msg := sprintf("image %s runs as ContainerUser", [input.image.digest])
}

warn contains "no labels" if { not input.config.config.Labels }
"""
    )
    verdict = verify_image(
        sample.reference, policy=_policy(tmp_path, sample, "    rego: [user.rego]\n")
    )
    results = [c for c in verdict.checks if c.id == "policy.rego.contoso.user"]
    assert {(str(c.status), c.message.split(" ")[0]) for c in results} == {
        ("fail", "image"),
        ("warn", "no"),
    }


def test_rego_errors_are_load_errors_with_the_line(
    tmp_path: Path, sample: Sample, capfd: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.rego").write_text("package x\nimport rego.v1\n\ndeny contains msg if {\n")
    with pytest.raises(PolicyError, match=r"rules\[0\]\.rego.*bad\.rego:4:\d+: "):
        _policy(tmp_path, sample, "    rego: [bad.rego]\n")
    (tmp_path / "fn.rego").write_text(
        "package y\nimport rego.v1\ndeny contains m if { m := nope(1) }\n"
    )
    with pytest.raises(PolicyError, match=r"fn\.rego:3:\d+: Function not found: nope"):
        _policy(tmp_path, sample, "    rego: [fn.rego]\n")
    assert capfd.readouterr().out == ""  # regopy's own diagnostics never reach stdout


def test_missing_key_file_names_its_place_in_the_policy(tmp_path: Path, sample: Sample) -> None:
    text = f"""\
schema: chainproof.policy/v1
name: test
rules:
  - name: sample
    match: {{images: ["*"]}}
    signatures: {{keys: [{sample.key}, missing.pub]}}
"""
    path = write_policy(tmp_path, text)
    with pytest.raises(NotFoundError, match=r"rules\[0\]\.signatures\.keys\[1\]: key .*missing"):
        Policy.load(path)


def test_material_digest_follows_the_key_file(tmp_path: Path, sample: Sample) -> None:
    key = tmp_path / "k.pub"
    key.write_bytes(sample.key.read_bytes())
    text = """\
schema: chainproof.policy/v1
name: test
rules:
  - {name: a, match: {images: ["*"]}, signatures: {keys: [k.pub]}}
"""
    path = write_policy(tmp_path, text)
    first = Policy.load(path)
    key.write_bytes(sample.stranger.read_bytes())
    second = Policy.load(path)
    assert first.digest == second.digest  # the document did not change
    assert first.material_digest != second.material_digest  # what it trusts did


def test_cli_policy_and_flags_do_not_mix(
    tmp_path: Path, sample: Sample, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_policy(
        tmp_path,
        f"""\
schema: chainproof.policy/v1
name: test
rules:
  - name: sample
    match: {{images: ["*"]}}
    signatures: {{keys: [{sample.key}]}}
""",
    )
    assert main(["verify", "--policy", str(path), "--key", str(sample.key), sample.reference]) == 2
    assert "--policy cannot be combined with --key" in capsys.readouterr().err
    code = main(["verify", "--policy", str(path), "--format", "json", sample.reference])
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["policy"]["name"] == "test"
    assert code == (0 if verdict["verdict"] == "pass" else 1)


def test_flags_build_an_implicit_policy(sample: Sample, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["verify", "--key", str(sample.key), "--format", "json", sample.reference])
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["policy"]["name"] == "command-line"
    assert verdict["policy"]["source"] == "command line"
    assert not any(c["id"].startswith("policy.") for c in verdict["checks"])
    assert code in (0, 1)
    assert main(["verify", "--threshold", "0", "--key", str(sample.key), sample.reference]) == 2
    assert "--threshold" in capsys.readouterr().err


def test_audit_log_records_the_policy_digest(tmp_path: Path, sample: Sample) -> None:
    from chainproof.audit import open_log, record_verdict

    policy = _policy(tmp_path, sample)
    verdict = verify_image(sample.reference, policy=policy)
    log_path = tmp_path / "audit.db"
    entry = record_verdict(str(log_path), verdict)
    with open_log(str(log_path)) as log:
        _shard, _index, body = log.entry(entry)
    assert json.loads(body)["policy_digest"] == policy.digest
