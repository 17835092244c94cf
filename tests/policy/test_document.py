"""Reading policy files: strict YAML/JSON, errors with the path, the published schema."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from chainproof.cli.main import main
from chainproof.errors import NotFoundError
from chainproof.policy import Policy, PolicyError
from chainproof.policy.schema import dumps, json_schema
from tests.policy.conftest import write_policy

DOCS = Path(__file__).resolve().parents[2] / "docs"

MINIMAL = """
schema: chainproof.policy/v1
name: p
rules:
  - name: all
    match: {images: ["*"]}
"""


def _error(tmp_path: Path, text: str) -> str:
    path = write_policy(tmp_path, text)
    with pytest.raises(PolicyError) as info:
        Policy.load(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    return message.removeprefix(f"{path}: ")


def test_unknown_key_is_an_error_with_its_path(tmp_path: Path) -> None:
    message = _error(
        tmp_path,
        """
        schema: chainproof.policy/v1
        name: p
        rules:
          - {name: a, match: {images: ["*"]}}
          - {name: b, match: {images: ["*"]}}
          - name: c
            match: {images: ["*"]}
            signatures: {keyz: [k.pub]}
        """,
    )
    assert message == "rules[2].signatures.keyz: unknown key"


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ("matching: sometimes", "matching: input should be 'all' or 'first'"),
        (
            'rules: [{name: a, match: {images: ["*"]}, signatures: {keys: [k], threshold: "2"}}]',
            "rules[0].signatures.threshold: input should be a valid integer",
        ),
        ("rules: [{name: a, match: {images: []}}]", "rules[0].match.images: list should have"),
        ("rules: [{name: a}]", "rules[0].match: required key missing"),
        ('rules: [{name: "bad name", match: {images: ["*"]}}]', "rules[0].name: string should"),
        ("waivers: [{check: vuln.x, reason: r, expires: tomorrow}]", "waivers[0].expires"),
        ("waivers: [{check: vuln.x, expires: 2027-01-01}]", "waivers[0].reason: required key"),
        (
            'rules: [{name: a, match: {images: ["*"]}}, {name: a, match: {images: ["*"]}}]',
            "two rules are named 'a'",
        ),
        (
            'rules: [{name: a, match: {images: ["*"]}, attestations: [{type: slsa}]}]',
            "attestations[0] needs signed_by",
        ),
        (
            'rules: [{name: a, match: {images: ["*"]}, signatures: {keyless: [{identity: x}], '
            "trusted_root: r.json}}]",
            "give exactly one of issuer, issuer_regex",
        ),
        (
            'rules: [{name: a, match: {images: ["*"]}, signatures: {keyless: [{identity: x, '
            "issuer: y}]}}]",
            "keyless signers need trusted_root",
        ),
        (
            'rules: [{name: a, match: {images: ["*"]}, signatures: {keyless: [{identity_regex: '
            '"(", issuer: y}], trusted_root: r}}]',
            "invalid regular expression",
        ),
    ],
)
def test_wrong_values_name_the_key(tmp_path: Path, fragment: str, expected: str) -> None:
    text = f"schema: chainproof.policy/v1\nname: p\n{fragment}\n"
    assert expected in _error(tmp_path, text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("schema: chainproof.policy/v1\nname: p\nname: q\n", "key 'name' is given twice"),
        ("schema: chainproof.policy/v1\nname: &n p\ndescription: *n\n", "aliases (*name) are"),
        ("schema: chainproof.policy/v1\nname: p\nrules: [ {name: a\n", "malformed YAML at line"),
        ("name: p\n", "not a chainproof policy"),
        ("schema: chainproof.policy/v2\nname: p\n", "schema: input should be"),
        ("- a\n- b\n", "a policy is a mapping, not list"),
        ("schema: chainproof.policy/v1\nname: p\n---\nname: q\n", "expected one YAML document"),
        ("schema: chainproof.policy/v1\nd: " + "[" * 40 + "]" * 40 + "\n", "nested deeper"),
        ('{"schema": "chainproof.policy/v1", "name": "p",', "malformed JSON"),
    ],
)
def test_malformed_documents(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in _error(tmp_path, text)


def test_billion_laughs_is_refused_before_expanding(tmp_path: Path) -> None:
    lines = ["schema: chainproof.policy/v1", "name: p", 'a0: &a0 ["x"]']
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 30)]
    assert "aliases" in _error(tmp_path, "\n".join(lines) + "\n")


def test_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "policy.yaml"
    os.mkfifo(fifo)
    with pytest.raises(PolicyError, match="not a regular file"):
        Policy.load(fifo)  # returns at once: a FIFO is never opened
    with pytest.raises(NotFoundError, match="no such file"):
        Policy.load(tmp_path / "missing.yaml")


def test_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(MINIMAL + "#" * (1024 * 1024) + "\n")
    with pytest.raises(PolicyError, match="exceeds the 1048576-byte limit"):
        Policy.load(path)


def test_json_and_yaml_give_the_same_policy_and_digest(tmp_path: Path) -> None:
    yaml_policy = Policy.load(write_policy(tmp_path, MINIMAL))
    data = {
        "schema": "chainproof.policy/v1",
        "name": "p",
        "rules": [{"match": {"images": ["*"]}, "name": "all"}],
    }
    json_path = tmp_path / "policy.json"
    json_path.write_text(json.dumps(data))
    assert Policy.load(json_path).digest == yaml_policy.digest


def test_digest_ignores_formatting_and_defaults_but_not_values(tmp_path: Path) -> None:
    base = Policy.load(write_policy(tmp_path, MINIMAL)).digest
    reformatted = write_policy(
        tmp_path,
        """
        # a comment
        name: p
        schema: chainproof.policy/v1
        matching: all          # the default, written out
        rules:
        - match:
            images: ['*']
          name: all
        """,
        "b.yaml",
    )
    assert Policy.load(reformatted).digest == base
    changed = write_policy(tmp_path, MINIMAL.replace("name: p", "name: q"), "c.yaml")
    assert Policy.load(changed).digest != base
    assert base.startswith("sha256:") and len(base) == 71


def test_published_schema_is_current() -> None:
    assert (DOCS / "policy.schema.json").read_text() == dumps()


def test_schema_validates_the_same_documents_as_the_loader(tmp_path: Path) -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    good = {
        "schema": "chainproof.policy/v1",
        "name": "p",
        "rules": [{"name": "a", "match": {"images": ["*"]}, "require_digest": True}],
    }
    assert not list(validator.iter_errors(good))
    rule = {"name": "a", "match": {"images": ["*"]}, "signatures": {"keyz": []}}
    bad = {**good, "rules": [rule]}
    assert list(validator.iter_errors(bad))


def test_cli_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_policy(tmp_path, MINIMAL)
    assert main(["policy", "validate", str(path)]) == 0
    assert "policy p is valid: 1 rule(s)" in capsys.readouterr().out
    assert main(["policy", "validate", "--format", "json", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["rules"] == ["all"]
    bad = write_policy(tmp_path, MINIMAL + "extra: 1\n", "bad.yaml")
    assert main(["policy", "validate", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"chainproof: error: {bad}: extra: unknown key\n"


def test_cli_schema(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    assert main(["policy", "schema", "-o", str(target)]) == 0
    assert json.loads(target.read_text())["$id"].endswith("policy-v1.json")
