"""No import cycles among diagkit's modules.

Every ``import`` / ``from ... import`` in every module of ``diagkit/`` is read with ``ast``: at
module level and inside functions and classes alike (an import moved into a function to dodge a
cycle still ties the two modules together). Only imports under ``if TYPE_CHECKING:`` are left
out: they never run, and they are the sanctioned way to name a type across a boundary.

``from pkg import name`` counts as an edge to ``pkg.name`` when that is a module, else to ``pkg``
(its ``__init__``). The implicit import of parent packages is not an edge: every module would
otherwise sit in a cycle with its package's ``__init__``.

Nothing is allowlisted. A failure lists each strongly-connected component with its modules and
the import lines that close it. Run ``python tests/test_import_cycles.py`` for the same report.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = "diagkit"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    text: str


def module_files(root: Path = REPO / PACKAGE) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of the package."""
    modules: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import node that can run, at any depth (the bodies of ``if TYPE_CHECKING:`` aside)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_edges(modules: dict[str, Path]) -> list[Edge]:
    """Edges between modules of the package, with the line that makes each."""
    edges: list[Edge] = []
    for module, path in modules.items():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        is_package = path.name == "__init__.py"
        for node in _imports(ast.parse(source, filename=str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = _resolve(module, is_package, node)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in modules else base)
            for target in targets:
                # ``import a.b.c`` names the deepest module that exists in the package.
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != module:
                    text = lines[node.lineno - 1].strip()
                    edges.append(Edge(module, target, node.lineno, text))
    return edges


def strongly_connected(nodes: list[str], edges: list[Edge]) -> list[list[str]]:
    """Tarjan's algorithm (iterative); components of more than one module, sorted."""
    graph: dict[str, list[str]] = {node: [] for node in nodes}
    for edge in edges:
        graph[edge.source].append(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = graph[node]
            if child < len(successors):
                work.append((node, child + 1))
                nxt = successors[child]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return sorted(components)


def cycle_report() -> str:
    modules = module_files()
    edges = import_edges(modules)
    lines: list[str] = []
    for component in strongly_connected(list(modules), edges):
        members = set(component)
        lines.append(f"cycle among {len(component)} modules: {', '.join(component)}")
        for edge in sorted(edges, key=lambda e: (e.source, e.line, e.target)):
            if edge.source in members and edge.target in members:
                where = modules[edge.source].relative_to(REPO)
                lines.append(f"  {where}:{edge.line}: {edge.text}  -> {edge.target}")
    return "\n".join(lines)


def test_finder_sees_function_level_and_relative_imports(tmp_path: Path) -> None:
    # The finder itself must find what it claims to: a cycle closed by a function-level relative
    # import, and nothing for an import that only type checkers read.
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from .. import a\n")
    (pkg / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n"
    )
    (pkg / "d.py").write_text("import pkg.c\n")
    modules = module_files(pkg)
    edges = import_edges(modules)
    assert strongly_connected(list(modules), edges) == [["pkg.a", "pkg.sub.b"]]
    assert {(e.source, e.target) for e in edges} == {
        ("pkg.a", "pkg.sub.b"),
        ("pkg.sub.b", "pkg.a"),
        ("pkg.d", "pkg.c"),
    }


def test_no_import_cycles_among_diagkit_modules() -> None:
    report = cycle_report()
    assert not report, "import cycles in diagkit/ (break them, do not allowlist):\n" + report


if __name__ == "__main__":
    print(cycle_report() or "no import cycles")
    sys.exit(0)
