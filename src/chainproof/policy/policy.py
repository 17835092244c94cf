"""A loaded policy: the document compiled, its files read, ready to match and judge.

Loading does every check that does not need an image: patterns parse and can match, keys load
(a key file that does not exist is an error naming its path in the policy), trust policies,
VEX documents, screening lists and Rego modules are read and compiled. A policy that loads
therefore never fails half-way through a verification for a reason it could have known.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chainproof.checks.interface import CheckResult, Severity, Status
from chainproof.errors import Error, InputError
from chainproof.oci import reference as references
from chainproof.policy.document import PolicyError, load_document, read_file, validate
from chainproof.policy.matching import CompiledRule, RuleIndex
from chainproof.policy.patterns import ImagePattern, PatternError, host_matches, parse_host_pattern
from chainproof.policy.requirements import Requirements, WindowsRequirement

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from chainproof.lint.config import LintConfig
    from chainproof.policy.model import Attestation, PolicyDocument, Rule, Signatures
    from chainproof.policy.rego import RegoEngine
    from chainproof.policy.screening import ScreeningList
    from chainproof.provenance.base_image import BaseImageRequirement
    from chainproof.report.verdict import PolicySection, WaiverUse
    from chainproof.trust.check import AttestationRequirement, SignatureRequirement
    from chainproof.trust.interface import TrustInputs

_SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
MAX_REFERENCED_FILE_BYTES = 16 * 1024 * 1024
MAX_TRUST_STORE_FILES = 1000


@dataclass
class _CompiledRule:
    model: Rule
    match: CompiledRule
    signatures: SignatureRequirement | None
    attestations: tuple[AttestationRequirement, ...]
    lint: LintConfig | None
    vex: tuple[Path, ...]
    database: Path | None
    base_image: BaseImageRequirement | None
    rego: RegoEngine | None


@dataclass(frozen=True)
class _Waiver:
    index: int
    check: str
    vulnerability: str
    patterns: tuple[ImagePattern, ...]
    reason: str
    expires: str  # ISO date


class Policy:
    """A compiled ``chainproof.policy/v1`` document; build with :meth:`load` or
    :meth:`from_data`."""

    def __init__(
        self,
        document: PolicyDocument,
        *,
        where: str,
        base_dir: Path,
        source: str,
        implicit: bool = False,
        database: Path | None = None,
    ) -> None:
        self.document = document
        self.where = where
        self.base_dir = base_dir
        self.source = source
        #: Built from command-line flags rather than read from a policy file.
        self.implicit = implicit
        #: The advisory database when the policy names none (``--vuln-db``).
        self.default_database = database
        self._files: dict[str, str] = {}
        self.digest = "sha256:" + hashlib.sha256(self.canonical_json()).hexdigest()
        self._rules = [self._compile_rule(i, rule) for i, rule in enumerate(document.rules)]
        self._index = RuleIndex([r.match for r in self._rules], document.matching == "first")
        self._registries = self._compile_registries()
        self._waivers = self._compile_waivers()
        self._screening = self._load_screening()
        self._rego = self._load_rego(document.rego, "rego")
        self.material_digest = self._material_digest()

    # -- construction -------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path, *, database: Path | None = None) -> Policy:
        """Read, validate and compile the policy file at ``path``."""
        file = Path(path)
        document, _raw = load_document(file)
        return cls(
            document,
            where=str(file),
            base_dir=file.resolve().parent,
            source=str(file),
            database=database,
        )

    @classmethod
    def from_data(
        cls,
        data: Any,
        *,
        where: str = "policy",
        base_dir: Path | None = None,
        implicit: bool = False,
        database: Path | None = None,
    ) -> Policy:
        """A policy from an already-parsed mapping (paths relative to ``base_dir``)."""
        return cls(
            validate(data, where),
            where=where,
            base_dir=base_dir or Path.cwd(),
            source="command line" if implicit else where,
            implicit=implicit,
            database=database,
        )

    @property
    def name(self) -> str:
        return self.document.name

    @property
    def rule_names(self) -> tuple[str, ...]:
        return tuple(r.model.name for r in self._rules)

    def canonical_json(self) -> bytes:
        """The document in canonical JSON (RFC 8785): what :attr:`digest` is computed over."""
        import rfc8785

        data = self.document.model_dump(mode="json", by_alias=True)
        return rfc8785.dumps(data)

    def _fail(self, path: str, message: str) -> PolicyError:
        return PolicyError(f"{self.where}: {path}: {message}")

    def _again(self, path: str, exc: Error) -> Error:
        """``exc`` with the policy path in front, keeping its class (NotFoundError stays one)."""
        return type(exc)(f"{self.where}: {path}: {exc}")

    def _path(self, text: str) -> Path:
        path = Path(text)
        return path if path.is_absolute() else self.base_dir / path

    def _file(self, path: str, text: str, what: str, *, directory: bool = False) -> Path:
        """A referenced file or directory that must exist; recorded for the material digest."""
        resolved = self._path(text)
        if directory:
            if not resolved.is_dir():
                raise self._fail(path, f"{what} {text}: no such directory")
            self._record_directory(path, resolved)
            return resolved
        try:
            data = read_file(resolved, what, MAX_REFERENCED_FILE_BYTES)
        except InputError as exc:
            raise self._again(path, exc) from None
        self._files[f"{path}={text}"] = hashlib.sha256(data).hexdigest()
        return resolved

    def _record_directory(self, path: str, directory: Path) -> None:
        files = sorted(p for p in directory.rglob("*") if p.is_file())
        if len(files) > MAX_TRUST_STORE_FILES:
            raise self._fail(path, f"{directory} holds more than {MAX_TRUST_STORE_FILES} files")
        for file in files:
            data = read_file(file, "trust store file", MAX_REFERENCED_FILE_BYTES)
            relative = file.relative_to(directory).as_posix()
            self._files[f"{path}/{relative}"] = hashlib.sha256(data).hexdigest()

    def _material_digest(self) -> str:
        lines = "".join(f"{key}\0{value}\n" for key, value in sorted(self._files.items()))
        return "sha256:" + hashlib.sha256(lines.encode()).hexdigest()

    def _patterns(self, path: str, texts: Iterable[str]) -> tuple[ImagePattern, ...]:
        out = []
        for i, text in enumerate(texts):
            try:
                out.append(ImagePattern.parse(text))
            except PatternError as exc:
                raise self._fail(f"{path}[{i}]", f"pattern {text!r}: {exc}") from None
        return tuple(out)

    def _trust(self, path: str, spec: Signatures) -> TrustInputs:
        from chainproof.trust.interface import IdentityRule, TrustInputs
        from chainproof.trust.keys.registry import is_file_key, load_key

        keys = []
        for i, text in enumerate(spec.keys):
            where = f"{path}.keys[{i}]"
            file_key = is_file_key(text)
            uri = str(self._file(where, text.removeprefix("file://"), "key")) if file_key else text
            try:
                key = load_key(uri)
            except Error as exc:
                raise self._again(where, exc) from None
            if not file_key:
                # An HSM or KMS key: its identity is its public key.
                self._files[f"{where}={text}"] = key.key_id
            problem = _algorithm_problem(key, spec.algorithm)
            if problem:
                raise self._fail(where, problem)
            if spec.fips:
                from chainproof.trust.fips import refusal

                reason = refusal(key)
                if reason:
                    raise self._fail(where, f"FIPS mode refuses key {text}: {reason}")
            keys.append(key)
        identities = tuple(
            IdentityRule(
                k.identity or "", k.identity_regex or "", k.issuer or "", k.issuer_regex or ""
            )
            for k in spec.keyless
        )
        trusted_root = (
            self._file(f"{path}.trusted_root", spec.trusted_root, "trusted root")
            if spec.trusted_root
            else None
        )
        trust_policy = trust_store = None
        if spec.notation is not None:
            trust_policy = self._file(
                f"{path}.notation.trust_policy", spec.notation.trust_policy, "trust policy"
            )
            store = spec.notation.trust_store
            trust_store = self._file(
                f"{path}.notation.trust_store",
                store or str(trust_policy.parent / "truststore"),
                "trust store",
                directory=True,
            )
        return TrustInputs(
            keys=tuple(keys),
            identities=identities,
            trusted_root=trusted_root,
            trust_policy=trust_policy,
            trust_store=trust_store,
            fips=spec.fips,
            ignore_tlog=spec.ignore_tlog,
        )

    def _compile_rule(self, index: int, rule: Rule) -> _CompiledRule:
        from chainproof.trust.check import AttestationRequirement, SignatureRequirement

        path = f"rules[{index}]"
        match = CompiledRule(
            index,
            rule.name,
            self._patterns(f"{path}.match.images", rule.match.images),
            self._patterns(f"{path}.match.exclude", rule.match.exclude),
        )
        signatures = None
        trust = None
        if rule.signatures is not None:
            trust = self._trust(f"{path}.signatures", rule.signatures)
            signatures = SignatureRequirement(trust, rule.signatures.threshold, rule.name)
        attestations = []
        for i, attestation in enumerate(rule.attestations):
            where = f"{path}.attestations[{i}]"
            signer = (
                self._trust(f"{where}.signed_by", attestation.signed_by)
                if attestation.signed_by is not None
                else trust
            )
            if signer is None:  # the model requires signed_by or the rule's signatures
                raise self._fail(where, "needs signed_by or the rule's signatures")
            attestations.append(
                AttestationRequirement(
                    attestation.type,
                    signer,
                    rule.name,
                    self._statement_test(where, attestation),
                    _conditional(attestation),
                )
            )
        vex: tuple[Path, ...] = ()
        database = None
        if rule.vulnerabilities is not None:
            vulns = rule.vulnerabilities
            vex = tuple(
                self._file(f"{path}.vulnerabilities.vex[{i}]", v, "VEX document")
                for i, v in enumerate(vulns.vex)
            )
            if vulns.database is not None:
                database = self._path(vulns.database)
        return _CompiledRule(
            model=rule,
            match=match,
            signatures=signatures,
            attestations=tuple(attestations),
            lint=self._lint(f"{path}.lint", rule) if rule.lint is not None else None,
            vex=vex,
            database=database,
            base_image=self._base_image(path, rule),
            rego=self._load_rego(rule.rego, f"{path}.rego"),
        )

    def _statement_test(self, path: str, attestation: Attestation) -> Any:
        from chainproof.policy.conditions import compile_condition, statement_test

        for i, condition in enumerate(attestation.conditions):
            try:
                compile_condition(condition)
            except ValueError as exc:
                raise self._fail(f"{path}.conditions[{i}]", str(exc)) from None
        return statement_test(attestation, self._load_rego(attestation.rego, f"{path}.rego"))

    def _lint(self, path: str, rule: Rule) -> LintConfig:
        from chainproof.lint.config import from_mapping

        try:
            return from_mapping(rule.lint.model_dump() if rule.lint else {}, path)
        except InputError as exc:
            raise PolicyError(f"{self.where}: {exc}") from None

    def _base_image(self, path: str, rule: Rule) -> BaseImageRequirement | None:
        from chainproof.provenance.base_image import BaseImageRequirement

        if rule.base_image is None:
            return None
        patterns = self._patterns(f"{path}.base_image.allowed", rule.base_image.allowed)
        concrete = tuple(
            p.text for p in patterns if p.kind == "registry" and not any(c in p.text for c in "*?")
        )

        def allowed(ref: references.ImageRef) -> bool:
            return any(p.matches(ref) for p in patterns)

        return BaseImageRequirement(allowed, concrete, rule.base_image.required, rule.name)

    def _load_rego(self, texts: Sequence[str], path: str) -> RegoEngine | None:
        if not texts:
            return None
        from chainproof.policy.rego import MAX_MODULE_BYTES, RegoEngine, RegoError, RegoModule

        modules = []
        for i, text in enumerate(texts):
            where = f"{path}[{i}]"
            file = self._file(where, text, "Rego module")
            data = read_file(file, "Rego module", MAX_MODULE_BYTES)
            try:
                modules.append(RegoModule.parse(text, data.decode("utf-8")))
            except UnicodeDecodeError:
                raise self._fail(where, f"Rego module {text}: not UTF-8") from None
            except RegoError as exc:
                raise self._fail(where, str(exc)) from None
        try:
            return RegoEngine(modules)
        except RegoError as exc:
            raise self._fail(path, str(exc)) from None

    def _compile_registries(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]] | None:
        spec = self.document.registries
        if spec is None:
            return None
        lists = []
        for key, hosts in (("allow", spec.allow), ("deny", spec.deny)):
            compiled = []
            for i, host in enumerate(hosts):
                try:
                    compiled.append(parse_host_pattern(host))
                except PatternError as exc:
                    raise self._fail(f"registries.{key}[{i}]", str(exc)) from None
            lists.append(compiled)
        return lists[0], lists[1]

    def _compile_waivers(self) -> tuple[_Waiver, ...]:
        out = []
        for i, waiver in enumerate(self.document.waivers):
            out.append(
                _Waiver(
                    i,
                    waiver.check,
                    (waiver.vulnerability or "").casefold(),
                    self._patterns(f"waivers[{i}].images", waiver.images),
                    waiver.reason,
                    waiver.expires.isoformat(),
                )
            )
        return tuple(out)

    def _load_screening(self) -> tuple[ScreeningList, ...]:
        spec = self.document.screening
        if spec is None:
            return ()
        from chainproof.policy.screening import ScreeningList

        lists = []
        for i, text in enumerate(spec.lists):
            where = f"screening.lists[{i}]"
            file = self._file(where, text, "screening list")
            try:
                lists.append(ScreeningList.load(file, text))
            except InputError as exc:
                raise self._again(where, exc) from None
        return tuple(lists)

    # -- matching -----------------------------------------------------------------------

    def matching_rules(self, reference: str | references.ImageRef) -> tuple[str, ...]:
        ref = references.parse(reference) if isinstance(reference, str) else reference
        return tuple(self._rules[i].model.name for i in self._index.matching(ref))

    def requirements_for(self, reference: str | references.ImageRef) -> Requirements:
        """Merge the rules that apply to ``reference`` into one set of requirements."""
        ref = references.parse(reference) if isinstance(reference, str) else reference
        text = reference if isinstance(reference, str) else str(ref)
        indexes = tuple(self._index.matching(ref))
        rules = [self._rules[i] for i in indexes]
        gate = self._gate(ref, rules)
        if any(result.blocking for result in gate):
            return Requirements(
                text, tuple(r.model.name for r in rules), gate, rule_indexes=indexes
            )
        return Requirements(
            reference=text,
            rules=tuple(r.model.name for r in rules),
            gate=gate,
            trust=self._trust_config(rules, text),
            vuln=self._vuln_config(rules),
            lint=_merge_lint([r.lint for r in rules if r.lint is not None]),
            base_images=tuple(r.base_image for r in rules if r.base_image is not None),
            windows=_merge_windows(rules),
            rule_indexes=indexes,
        )

    def _gate(
        self, ref: references.ImageRef, rules: Sequence[_CompiledRule]
    ) -> tuple[CheckResult, ...]:
        out: list[CheckResult] = []
        names = [r.model.name for r in rules]
        if names:
            # The command line's implicit rule matches everything: nothing to report.
            if not self.implicit:
                out.append(
                    CheckResult(
                        "policy.match",
                        Status.PASS,
                        Severity.INFO,
                        f"policy {self.name}: rule(s) {', '.join(names)} apply",
                        {"rules": names, "matching": self.document.matching},
                    )
                )
        elif self.document.unmatched == "deny":
            out.append(
                CheckResult(
                    "policy.match",
                    Status.FAIL,
                    Severity.HIGH,
                    f"no rule of policy {self.name} matches {ref}, and unmatched images are denied",
                    {"rules": []},
                )
            )
        else:
            out.append(
                CheckResult(
                    "policy.match",
                    Status.WARN,
                    Severity.LOW,
                    f"no rule of policy {self.name} matches {ref}; the policy allows "
                    "unmatched images with the default checks",
                    {"rules": []},
                )
            )
        registry = self._registry_result(ref)
        if registry is not None:
            out.append(registry)
        pinning = [r.model.name for r in rules if r.model.require_digest]
        if pinning:
            pinned = ref.digest is not None
            out.append(
                CheckResult(
                    "policy.digest-pinned",
                    Status.PASS if pinned else Status.FAIL,
                    Severity.INFO if pinned else Severity.HIGH,
                    f"{ref} is pinned by digest"
                    if pinned
                    else f"{ref} is not pinned by digest (@sha256:…), as rule(s) "
                    f"{', '.join(pinning)} require: a tag can move",
                    {"rules": pinning},
                )
            )
        return tuple(out)

    def _registry_result(self, ref: references.ImageRef) -> CheckResult | None:
        if self._registries is None or not isinstance(ref, references.RegistryRef):
            return None
        allow, deny = self._registries
        host = references.normalize_host(ref.host)
        evidence = {"registry": host}
        for exact, suffix in deny:
            if host_matches(exact, suffix, host):
                return CheckResult(
                    "policy.registry",
                    Status.FAIL,
                    Severity.HIGH,
                    f"registry {host} is on the policy's deny list",
                    evidence,
                )
        if allow and not any(host_matches(e, s, host) for e, s in allow):
            return CheckResult(
                "policy.registry",
                Status.FAIL,
                Severity.HIGH,
                f"registry {host} is not on the policy's allow list",
                evidence,
            )
        return CheckResult(
            "policy.registry", Status.PASS, Severity.INFO, f"registry {host} is allowed", evidence
        )

    def _trust_config(self, rules: Sequence[_CompiledRule], reference: str) -> Any:
        from chainproof.trust.check import TrustConfig

        def for_image(trust: TrustInputs) -> TrustInputs:
            return dataclasses.replace(trust, reference=reference)

        return TrustConfig(
            signatures=tuple(
                dataclasses.replace(r.signatures, trust=for_image(r.signatures.trust))
                for r in rules
                if r.signatures is not None
            ),
            attestations=tuple(
                dataclasses.replace(a, trust=for_image(a.trust))
                for r in rules
                for a in r.attestations
            ),
        )

    def _vuln_config(self, rules: Sequence[_CompiledRule]) -> Any:
        from chainproof.vuln.check import VulnConfig

        specs = [r.model.vulnerabilities for r in rules if r.model.vulnerabilities is not None]
        database = next((r.database for r in rules if r.database is not None), None)
        database = database or self.default_database
        if not specs:
            return VulnConfig(database=database)
        fail_on = min((s.fail_on for s in specs), key=_SEVERITY_RANK.__getitem__)
        return VulnConfig(
            database=database,
            fail_on=Severity(fail_on),
            ignore_unfixed=all(s.ignore_unfixed for s in specs),
            vex=tuple(dict.fromkeys(p for r in rules for p in r.vex)),
            # A policy file that asks for vulnerabilities fails closed without a database;
            # the command line's flags keep today's "skip with a hint".
            database_required=not self.implicit,
        )

    # -- judgement after the checks ------------------------------------------------------

    def rule(self, index: int) -> Rule:
        return self._rules[index].model

    def rule_rego(self, index: int) -> RegoEngine | None:
        return self._rules[index].rego

    @property
    def rego(self) -> RegoEngine | None:
        return self._rego

    @property
    def screening(self) -> tuple[ScreeningList, ...]:
        return self._screening

    @property
    def waivers(self) -> tuple[_Waiver, ...]:
        return self._waivers

    def section(self, rules: Sequence[str], waivers: Sequence[WaiverUse] = ()) -> PolicySection:
        from chainproof.report.verdict import PolicySection

        return PolicySection(
            self.name, self.digest, self.material_digest, tuple(rules), tuple(waivers), self.source
        )


def _conditional(attestation: Attestation) -> bool:
    from chainproof.policy.conditions import is_conditional

    return is_conditional(attestation)


def _algorithm_problem(key: Any, algorithm: str) -> str:
    if algorithm == "any":
        return ""
    name = key.algorithm
    hybrid = key.pq is not None
    if algorithm == "hybrid" and not hybrid:
        return f"key {key.uri} is {name}, not a hybrid ECDSA + ML-DSA key (algorithm: hybrid)"
    if algorithm == "post-quantum" and not (hybrid or name.startswith("mldsa")):
        return f"key {key.uri} is {name}, not ML-DSA or hybrid (algorithm: post-quantum)"
    return ""


def _merge_lint(configs: Sequence[LintConfig]) -> LintConfig | None:
    """Strictest wins: the lowest fail_on, rules disabled only when every rule disables them,
    the higher of two severities, registries both lists allow."""
    if not configs:
        return None
    if len(configs) == 1:
        return configs[0]
    from chainproof.lint.config import LintConfig
    from chainproof.lint.model import SEVERITY_ORDER

    fail_on = min((c.fail_on for c in configs), key=lambda s: SEVERITY_ORDER[s])
    disabled = frozenset.intersection(*(c.disabled for c in configs))
    severity: dict[str, Any] = {}
    for config in configs:
        for rule, value in config.severity.items():
            if rule not in severity or SEVERITY_ORDER[value] > SEVERITY_ORDER[severity[rule]]:
                severity[rule] = value
    lists = [set(c.allowed_registries) for c in configs if c.allowed_registries]
    registries = tuple(sorted(set.intersection(*lists))) if lists else ()
    return LintConfig(registries, disabled, severity, fail_on)


def _merge_windows(rules: Sequence[_CompiledRule]) -> WindowsRequirement:
    specs = [r.model.windows for r in rules if r.model.windows is not None]
    if not specs:
        return WindowsRequirement()
    if any(s.enforce == "all" for s in specs):
        enforce: frozenset[str] | str = "all"
    else:
        enforce = frozenset(name for s in specs for name in s.enforce)
    skip = frozenset.intersection(*(frozenset(s.skip) for s in specs))
    return WindowsRequirement(enforce, skip)
