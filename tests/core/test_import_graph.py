"""The shape of domain/: a ground floor (core), dependencies pointing one way, no web layer.

Pure and fast: every module is parsed with ``ast``, nothing is imported. Imports inside
functions and ``TYPE_CHECKING`` blocks count too: a cycle hidden in a function body is
still a cycle a reader has to untangle. A package here is ``domain.<slice>``
(``domain/sessions/*`` is ``domain.sessions``); a module directly under domain/, such
as domain/documents.py, is a node of its own.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "domain"
CORE = "domain.core"

# Domain code knows nothing of GraphQL, HTTP serving or the task queue: those are
# wired in by schema/, resolvers/, workers/ and app.py. httpx is allowed: webhook
# delivery is an outgoing HTTP client, which is business (domain/webhooks/sending.py).
FORBIDDEN_IN_DOMAIN = frozenset(
    {
        "app",
        "bench",
        "resolvers",
        "schema",
        "scripts",
        "tests",
        "workers",
        "dramatiq",
        "graphql",
        "starlette",
        "strawberry",
        "uvicorn",
    }
)

MAX_MODULE_LINES = 400
SIZED_LAYERS = ("domain", "schema", "resolvers", "workers")


@dataclass(frozen=True, slots=True)
class Import:
    module: str  # the importing module, e.g. domain.sessions.service
    path: str  # its file, relative to the repository
    line: int
    target: str  # the imported module, e.g. domain.identity.documents

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.target}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_of(module: str) -> str:
    """``domain.<slice>`` for a module of a slice; a top-level module stands alone."""
    return ".".join(module.split(".")[:2])


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, node.module] if node.module else anchor)
    if node.module is None or "." not in base:
        # `from domain import x` or `from . import x`: x is a module of its own.
        return [f"{base}.{alias.name}" for alias in node.names]
    return [base]


def imports_of(path: Path) -> list[Import]:
    module = module_name(path)
    relative = path.relative_to(ROOT).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            targets = _absolute(node, module, path.name == "__init__.py")
        else:
            continue
        found += [Import(module, relative, node.lineno, target) for target in targets]
    return found


def domain_imports() -> list[Import]:
    return [found for path in sorted(DOMAIN.rglob("*.py")) for found in imports_of(path)]


def package_graph(imports: Iterable[Import]) -> dict[tuple[str, str], list[Import]]:
    """Edges between domain packages, each with the imports that make it."""
    edges: dict[tuple[str, str], list[Import]] = defaultdict(list)
    for found in imports:
        if found.target != "domain" and not found.target.startswith("domain."):
            continue
        source, target = package_of(found.module), package_of(found.target)
        if source != target and target != "domain":
            edges[(source, target)].append(found)
    return dict(edges)


def find_cycles(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """One cycle (first node repeated at the end) per tangle of mutually dependent nodes."""
    successors: dict[str, list[str]] = defaultdict(list)
    for source, target in sorted(set(edges)):
        successors[source].append(target)
    cycles = []
    for component in _strongly_connected(successors):
        if len(component) > 1:
            cycles.append(_cycle_within(component, successors))
    return sorted(cycles)


def _strongly_connected(successors: Mapping[str, list[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative so a deep graph cannot hit the recursion limit."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    nodes = sorted({*successors, *(t for ts in successors.values() for t in ts)})
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, next_child = work.pop()
            if next_child == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            children = successors.get(node, [])
            if next_child < len(children):
                work.append((node, next_child + 1))
                child = children[next_child]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components


def _cycle_within(component: set[str], successors: Mapping[str, list[str]]) -> list[str]:
    """The shortest way from the component's first node back to itself."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in successors.get(node, []):
                if child == start:
                    return [*paths[node], start]
                if child in component and child not in paths:
                    paths[child] = [*paths[node], child]
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle through {start} in {sorted(component)}")


def describe(cycle: list[str], edges: Mapping[tuple[str, str], list[Import]]) -> str:
    hops = []
    for source, target in pairwise(cycle):
        hops.append(f"  {source} -> {target}: {edges[(source, target)][0]}")
    return " -> ".join(cycle) + "\n" + "\n".join(hops)


# -- the checks -------------------------------------------------------------------


def test_no_cycle_between_domain_packages() -> None:
    edges = package_graph(domain_imports())
    cycles = find_cycles(edges)
    assert not cycles, "cycles between domain packages:\n" + "\n".join(
        describe(cycle, edges) for cycle in cycles
    )


def test_core_imports_no_other_domain_package() -> None:
    leaks = [
        str(found)
        for found in domain_imports()
        if package_of(found.module) == CORE
        and (found.target == "domain" or found.target.startswith("domain."))
        and package_of(found.target) != CORE
    ]
    assert not leaks, "domain/core is the ground floor; it imports:\n" + "\n".join(leaks)


def test_domain_imports_no_web_layer() -> None:
    leaks = [
        str(found)
        for found in domain_imports()
        if found.target.split(".")[0] in FORBIDDEN_IN_DOMAIN
    ]
    assert not leaks, "domain/ must not know the layers above it:\n" + "\n".join(leaks)


def _module_sizes() -> dict[str, int]:
    return {
        path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for layer in SIZED_LAYERS
        for path in sorted((ROOT / layer).rglob("*.py"))
    }


def test_no_module_over_the_size_limit() -> None:
    sizes = _module_sizes()
    too_big = [
        f"{path}: {lines} lines" for path, lines in sizes.items() if lines > MAX_MODULE_LINES
    ]
    assert not too_big, f"modules over {MAX_MODULE_LINES} lines (split them):\n" + "\n".join(
        too_big
    )


# -- the checker itself, on graphs made up for the purpose -----------------------


def _edge(source: str, target: str) -> tuple[str, str]:
    return (f"domain.{source}", f"domain.{target}")


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ([_edge("a", "b"), _edge("b", "c")], []),
        (
            [_edge("a", "b"), _edge("b", "a")],
            [["domain.a", "domain.b", "domain.a"]],
        ),
        (
            [_edge("core", "mfa"), _edge("mfa", "core"), _edge("x", "y"), _edge("y", "z")],
            [["domain.core", "domain.mfa", "domain.core"]],
        ),
        (
            [_edge("a", "b"), _edge("b", "c"), _edge("c", "a"), _edge("c", "d")],
            [["domain.a", "domain.b", "domain.c", "domain.a"]],
        ),
    ],
)
def test_find_cycles(edges: list[tuple[str, str]], expected: list[list[str]]) -> None:
    assert find_cycles(edges) == expected


def test_imports_inside_functions_and_relative_ones_count() -> None:
    source = (
        "from domain.core.clock import Clock\n"
        "def late() -> None:\n"
        "    from domain.identity import repository\n"
        "from .errors import SessionError\n"
        "from domain import documents\n"
    )
    path = DOMAIN / "sessions" / "example.py"
    tree_module = module_name(path)
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            found += _absolute(node, tree_module, is_package=False)
    assert sorted(found) == [
        "domain.core.clock",
        "domain.documents",
        "domain.identity",
        "domain.sessions.errors",
    ]
    assert package_of(tree_module) == "domain.sessions"
