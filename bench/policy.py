"""Policy evaluation for a verdict already computed (issue 11's benchmark).

1. **Matching**: a 200-rule policy over 1 000 image references — chainproof's host-indexed
   matcher, beside the same rules written in Rego (``glob.match`` per rule, OPA's idiom for
   Kyverno-style image patterns) evaluated by regopy on the same references. Target ≤ 20 µs.
2. **Evaluation** of one image's facts (the check results of a real verification of the demo
   sample, and a synthetic image with 400 components): without Rego, with a typical Rego
   module, and with a screening list of ~15 000 entries in the CSL shape. Targets: ≤ 1 ms
   without Rego, ≤ 5 ms with.

Run: ``.venv/bin/python bench/policy.py`` (a few seconds). Prints medians of repeated runs.
"""

from __future__ import annotations

import dataclasses
import json
import random
import resource
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from chainproof.checks.interface import CheckResult, Severity, Status
from chainproof.demo.sample import SAMPLE_TAG, build_sample
from chainproof.oci import reference as references
from chainproof.oci.open import OpenOptions
from chainproof.pipeline.run import verify_image
from chainproof.policy import ImageFacts, Policy
from chainproof.policy.evaluate import evaluate
from chainproof.sbom.model import Component, ComponentType, ImageSubject, Sbom

HOSTS = [
    "mcr.microsoft.com",
    "contoso.azurecr.io",
    "ghcr.io",
    "docker.io",
    "quay.io",
    "registry.corp.example:5000",
    "fabrikam.azurecr.io",
    "public.ecr.aws",
]
WORDS = [
    "windows",
    "servercore",
    "nanoserver",
    "apps",
    "web",
    "api",
    "dotnet",
    "iis",
    "batch",
    "tools",
    "base",
    "ml",
    "payments",
    "agent",
    "sql",
    "cache",
]


def _rules(rng: random.Random, n: int) -> list[dict[str, Any]]:
    rules = []
    for i in range(n):
        host = rng.choice(HOSTS)
        repo = "/".join(rng.sample(WORDS, rng.randint(1, 2)))
        tail = rng.choice(["/*", "/**", "", ":ltsc2022"])
        rules.append({"name": f"r{i}", "match": {"images": [f"{host}/{repo}{tail}"]}})
    return rules


def _references(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        host = rng.choice(HOSTS)
        repo = "/".join(rng.sample(WORDS, rng.randint(1, 3)))
        out.append(f"{host}/{repo}:{rng.choice(['ltsc2022', '1.0', 'latest'])}")
    return out


def _median_us(fn: Any, items: list[Any], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for item in items:
            fn(item)
        times.append((time.perf_counter() - start) / len(items))
    return statistics.median(times) * 1e6


def _rego_peer(rules: list[dict[str, Any]]) -> Any:
    from regopy import Input, Interpreter

    patterns = [r["match"]["images"][0] for r in rules]
    # Kyverno-style glob over the whole reference: "*" within a segment, "**" across.
    module = (
        "package peer\nimport rego.v1\n\npatterns := "
        + json.dumps(patterns)
        + """

matched contains i if {
  some i, p in patterns
  glob.match(p, ["/"], input.image)
}
"""
    )
    rego = Interpreter()
    rego.add_module("peer.rego", module)

    def match(reference: str) -> Any:
        rego.set_input(Input({"image": reference}))
        return rego.query("data.peer.matched")

    return match


def bench_matching(tmp: Path) -> None:
    rng = random.Random(11)
    rules = _rules(rng, 200)
    refs = _references(rng, 1000)
    data = {"schema": "chainproof.policy/v1", "name": "bench", "rules": rules}
    policy = Policy.from_data(data, base_dir=tmp)
    parsed = [references.parse(r) for r in refs]
    ours = _median_us(policy.matching_rules, parsed)
    with_parse = _median_us(policy.matching_rules, refs)
    matched = sum(1 for r in parsed if policy.matching_rules(r))
    peer = _median_us(_rego_peer(rules), refs, repeat=3)
    print("matching: 200 rules x 1000 references")
    print(
        f"  chainproof index (parsed refs)     {ours:8.1f} us/ref   ({matched} refs match a rule)"
    )
    print(f"  chainproof incl. reference parsing {with_parse:8.1f} us/ref   (target <= 20)")
    print(
        f"  Rego glob.match via regopy (peer)  {peer:8.1f} us/ref   ratio {peer / with_parse:.0f}x"
    )


def _screening_list(path: Path, n: int) -> None:
    rng = random.Random(5)
    syllables = [
        "tech",
        "nova",
        "stroy",
        "prom",
        "sino",
        "gulf",
        "petro",
        "avia",
        "elektro",
        "trans",
        "mash",
        "global",
        "star",
        "north",
        "east",
        "kom",
        "energo",
        "sib",
    ]
    forms = ["Ltd.", "LLC", "JSC", "Co., Ltd.", "GmbH", "OOO", "Trading Company", ""]
    lists = [
        "Entity List (EL) - Bureau of Industry and Security",
        "Specially Designated Nationals (SDN) - Treasury Department",
        "Military End User (MEU) List - Bureau of Industry and Security",
    ]
    results = []
    for i in range(n):
        name = " ".join("".join(rng.sample(syllables, 2)).title() for _ in range(rng.randint(1, 3)))
        results.append(
            {
                "id": f"{i:040x}",
                "source": rng.choice(lists),
                "entity_number": str(i),
                "type": rng.choice(["Entity", "Entity", "Individual", "Vessel"]),
                "programs": ["EAR"],
                "name": f"{name} {rng.choice(forms)}".strip(),
                "alt_names": [f"{name.split()[0]} {rng.choice(forms)}".strip()]
                if rng.random() < 0.5
                else [],
                "addresses": [
                    {
                        "address": f"{i} Street",
                        "city": "City",
                        "state": "",
                        "postal_code": "1",
                        "country": "ZZ",
                    }
                ],
                "federal_register_notice": "00 FR 00000",
                "start_date": "2020-01-01",
                "source_list_url": "https://example.invalid",
                "remarks": "",
            }
        )
    path.write_text(json.dumps({"total": n, "results": results}))


REGO_CONFIG = """package contoso.config
import rego.v1

deny contains msg if {
  lower(input.config.config.User) == "containeradministrator"
  msg := "runs as ContainerAdministrator"
}

deny contains msg if {
  not input.config.config.Labels["org.opencontainers.image.source"]
  msg := sprintf("%s: no source label", [input.image.reference])
}
"""

REGO = """package contoso.images
import rego.v1

deny contains msg if {
  input.config.config.User == "ContainerAdministrator"
  msg := "runs as ContainerAdministrator"
}

deny contains msg if {
  some c in input.sbom.components
  c.name == "PowerShell"
  semver.compare(c.version, "7.4.0") < 0
  msg := sprintf("PowerShell %s is out of support", [c.version])
}

warn contains msg if {
  some c in input.verdict.checks
  c.status == "warn"
  startswith(c.id, "vuln.")
  msg := sprintf("%s: %s", [c.id, c.message])
}
"""


def _synthetic_facts(real: ImageFacts, components: int) -> ImageFacts:
    rng = random.Random(3)
    parts = tuple(
        Component(
            ComponentType.LIBRARY,
            f"package-{i}",
            f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{i}",
            rng.choice(["nuget", "deb", "pypi", "windows"]),
            "bench",
            purl=f"pkg:nuget/package-{i}@1.0.{i}",
            licenses=(rng.choice(["MIT", "Apache-2.0", "GPL-3.0-only"]),),
            layer=1,
        )
        for i in range(components)
    )
    sbom = Sbom(ImageSubject(real.reference, real.digest, real.platform), parts)
    results = real.results + tuple(
        CheckResult(
            "vuln.package",
            Status.WARN,
            Severity.MEDIUM,
            f"package-{i}: CVE-2024-{i:05d}",
            {"id": f"CVE-2024-{i:05d}"},
        )
        for i in range(60)
    )
    return dataclasses.replace(real, sbom=sbom, results=results)


def _real_content_facts(tmp: Path) -> ImageFacts:
    """Facts of a real verification of the real-content image (this machine's /usr/share and
    dpkg status; bench/realcontent.py builds it once under bench/.work)."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from chainproof.oci.open import open_target
    from chainproof.pipeline.registry import build_checks
    from chainproof.pipeline.run import _facts, _verify_platform
    from realcontent import real_layout

    _root, reference = real_layout(windows=False)
    policy = Policy.from_data(
        {
            "schema": "chainproof.policy/v1",
            "name": "x",
            "rules": [{"name": "all", "match": {"images": ["*"]}}],
        },
        base_dir=tmp,
    )
    requirements = policy.requirements_for(reference)
    source, target = open_target(reference)
    with source:
        image = target.images[0]
        checks = build_checks(requirements, OpenOptions())
        results, context = _verify_platform(image, source, checks, None)
        return _facts(image, results, context)


def bench_evaluation(tmp: Path) -> None:
    build_sample(tmp / "sample")
    reference = f"oci:{tmp / 'sample'}:{SAMPLE_TAG}"
    (tmp / "bench.rego").write_text(REGO)
    (tmp / "config.rego").write_text(REGO_CONFIG)
    _screening_list(tmp / "csl.json", 15_000)
    base_rule = {
        "name": "samples",
        "match": {"images": ["oci:**"]},
        "sbom": {
            "deny": [{"name": "PowerShell", "below": "7.4"}, {"name": "*openssl*", "below": "3.0"}],
            "licenses": {"deny": ["AGPL-3.0-only"]},
        },
    }
    waivers = [
        {
            "check": "vuln.*",
            "vulnerability": f"CVE-2024-{i:05d}",
            "reason": "bench",
            "expires": "2099-01-01",
        }
        for i in range(0, 60, 3)
    ]
    variants = {
        "without Rego": {"rules": [base_rule], "waivers": waivers},
        "with Rego over the config (admission rule)": {
            "rules": [{**base_rule, "rego": ["config.rego"]}],
            "waivers": waivers,
        },
        "with Rego over SBOM + verdict + config": {
            "rules": [{**base_rule, "rego": ["bench.rego"]}],
            "waivers": waivers,
        },
        "with Rego and a 15 000-entry screening list": {
            "rules": [{**base_rule, "rego": ["bench.rego"]}],
            "waivers": waivers,
            "screening": {"lists": ["csl.json"]},
        },
    }
    verdict_policy = Policy.from_data(
        {"schema": "chainproof.policy/v1", "name": "v", **variants["without Rego"]}, base_dir=tmp
    )
    verdict = verify_image(reference, policy=verdict_policy)
    real = ImageFacts(
        reference=reference,
        digest=verdict.image.digest,
        platform=verdict.image.platform,
        os_version=verdict.image.os_version,
        config={
            "config": {
                "User": "ContainerUser",
                "Labels": {
                    "org.opencontainers.image.vendor": "Contoso Ltd",
                    "org.opencontainers.image.authors": "build@contoso.com",
                },
            }
        },
        results=tuple(c for c in verdict.checks if not c.id.startswith("policy.")),
    )
    synthetic = _synthetic_facts(real, 400)
    content = _real_content_facts(tmp)
    subjects = [("demo sample", real), ("real /usr/share image", content), ("synthetic", synthetic)]
    print("evaluation per image, median of 200 runs, ms (columns: the subjects below)")
    for name, facts in subjects:
        count = len(facts.sbom.components) if facts.sbom else 0
        print(f"  {name}: {len(facts.results)} check results, {count} components")
    for label, extra in variants.items():
        start = time.perf_counter()
        policy = Policy.from_data(
            {"schema": "chainproof.policy/v1", "name": "bench", **extra}, base_dir=tmp
        )
        load_ms = (time.perf_counter() - start) * 1e3
        requirements = policy.requirements_for(reference)
        row = []
        for _name, facts in subjects:
            evaluate(policy, requirements, facts)  # warm
            row.append(_median_us(partial(evaluate, policy, requirements), [facts] * 200) / 1e3)
        cells = "  ".join(f"{v:8.3f}" for v in row)
        print(f"  {label:45} {cells}   (policy load {load_ms:.0f} ms)")


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        bench_matching(tmp)
        bench_evaluation(tmp)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
