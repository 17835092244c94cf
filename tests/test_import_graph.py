"""Dependencies point one way: no import cycle between modules, nor between top-level packages.

Every import statement counts, lazy ones inside functions and ``TYPE_CHECKING`` ones included: a
cycle that only a lazy import closes is still two rooms that each need the other. The graph is
read from the source (``ast``), nothing is imported; /work/shared/tools/import_cycles.py does the
same for the package level.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "chainproof"


def _modules() -> dict[str, Path]:
    found = {}
    for path in (SRC / PACKAGE).rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def module_graph() -> dict[str, set[str]]:
    """module → the chainproof modules it imports (a package import counts as its __init__)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*parent, *([node.module] if node.module else [])])
                # ``from pkg import sub`` imports the submodule when there is one.
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            for target in targets:
                known = target
                while known and known not in modules:
                    known = known.rpartition(".")[0]  # ``import a.b.c`` of a name in a.b
                if known and known != name:
                    graph[name].add(known)
    return graph


def room(module: str) -> str:
    """The top-level package (``oci``, ``trust``…) or root module (``verify``…) of a module."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, targets in module_graph().items():
        edges = graph.setdefault(room(module), set())
        edges.update(room(t) for t in targets if room(t) != room(module))
    return graph


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def test_the_graph_is_read() -> None:
    # A walker that saw no edges would find no cycles: check it sees the ones we know exist.
    graph = module_graph()
    assert "chainproof.trust.keys.model" in graph["chainproof.trust.keys.registry"]
    assert "chainproof.oci.digest" in graph["chainproof.trust.cosign.verify"]
    assert "trust" in package_graph()["cli"]


def test_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [frozenset({"a", "b", "c"})]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_modules() -> None:
    found = [sorted(c) for c in cycles(module_graph())]
    assert found == [], f"module import cycles: {found}"


def test_no_import_cycle_between_packages() -> None:
    found = [sorted(c) for c in cycles(package_graph())]
    assert found == [], f"package import cycles: {found}"
