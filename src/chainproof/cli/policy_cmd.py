"""``chainproof policy validate|explain|test|schema``: write, review and test a policy."""

from __future__ import annotations

import argparse
import json
import sys

from chainproof.cli.common import add_format_option, write_output


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "policy", help="validate, explain, test a chainproof policy; print its JSON Schema"
    )
    commands = parser.add_subparsers(dest="policy_command", metavar="SUBCOMMAND", required=True)

    validate = commands.add_parser("validate", help="load a policy and every file it names")
    validate.add_argument("file", metavar="FILE")
    add_format_option(validate)
    validate.set_defaults(handler=_validate)

    explain = commands.add_parser(
        "explain", help="which rules apply to IMAGE and what they require (reads no image)"
    )
    explain.add_argument("file", metavar="FILE")
    explain.add_argument("image", metavar="IMAGE")
    add_format_option(explain)
    explain.set_defaults(handler=_explain)

    test = commands.add_parser(
        "test", help="run the policy test cases (chainproof.policy-test/v1) under DIR"
    )
    test.add_argument("directory", metavar="DIR")
    add_format_option(test)
    test.set_defaults(handler=_test)

    schema = commands.add_parser("schema", help="print the policy file's JSON Schema")
    schema.add_argument("-o", "--output", metavar="FILE", help="write it to FILE")
    schema.set_defaults(handler=_schema)


def _validate(args: argparse.Namespace) -> int:
    from chainproof.policy import Policy

    policy = Policy.load(args.file)
    summary = {
        "valid": True,
        "name": policy.name,
        "digest": policy.digest,
        "material_digest": policy.material_digest,
        "rules": list(policy.rule_names),
        "waivers": len(policy.waivers),
    }
    if args.format == "json":
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"{args.file}: policy {policy.name} is valid: {len(policy.rule_names)} rule(s), "
            f"{len(policy.waivers)} waiver(s), digest {policy.digest}"
        )
    return 0


def _explain(args: argparse.Namespace) -> int:
    from chainproof.policy import Policy
    from chainproof.policy.explain import explain, to_text

    report = explain(Policy.load(args.file), args.image)
    print(json.dumps(report, indent=2) if args.format == "json" else to_text(report))
    return 0


def _test(args: argparse.Namespace) -> int:
    from pathlib import Path

    from chainproof.pipeline.policy_tests import run_tests

    results = run_tests(Path(args.directory))
    failed = [r for r in results if not r.passed]
    if args.format == "json":
        print(
            json.dumps(
                {
                    "cases": len(results),
                    "failed": len(failed),
                    "results": [
                        {
                            "file": r.file,
                            "case": r.case,
                            "passed": r.passed,
                            "verdict": r.verdict,
                            "problems": list(r.problems),
                        }
                        for r in results
                    ],
                },
                indent=2,
            )
        )
    else:
        for r in results:
            print(f"{'PASS' if r.passed else 'FAIL'}  {r.case}  ({r.file})")
            for problem in r.problems:
                print(f"        {problem}")
        print(f"\n{len(results) - len(failed)} of {len(results)} case(s) passed", file=sys.stderr)
    return 1 if failed else 0


def _schema(args: argparse.Namespace) -> int:
    from chainproof.policy.schema import dumps

    write_output(dumps(), args.output)
    return 0
