"""The CLI package's shape: no import cycle among its modules (and ``diagkit.__main__``), and
no group module reaching for another group module's private helpers."""

from __future__ import annotations

import ast
from pathlib import Path

import diagkit

PKG = Path(diagkit.__file__).parent
GROUPS = {"gui", "hosts", "probes", "run", "logs", "bundle", "cases", "kb", "metrics", "monitor",
          "store"}


def _modules() -> dict[str, Path]:
    found = {f"diagkit.cli.{p.stem}": p for p in (PKG / "cli").glob("*.py")}
    found["diagkit.cli"] = found.pop("diagkit.cli.__init__")
    found["diagkit.__main__"] = PKG / "__main__.py"
    return found


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out.extend((a.name, []) for a in node.names)
    return out


def test_no_import_cycle_among_cli_modules() -> None:
    mods = _modules()
    edges: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        for module, names in _imports(path):
            # "from diagkit.cli import bundle" imports the submodule, not the package's code
            subs = [f"{module}.{n}" for n in names if f"{module}.{n}" in mods]
            for target in subs or [module]:
                if target in mods and target != name:
                    edges[name].add(target)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in edges[start]:
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cyclic = sorted(m for m in mods if reaches(m, m, {m}))
    # the package __init__ re-exports main() from app, which imports the groups: a group may
    # import diagkit.cli.common/output (submodules), never diagkit.cli itself
    assert cyclic == [], f"import cycle through {cyclic}"


def test_groups_share_helpers_only_through_common_and_output() -> None:
    offenders = []
    for name, path in _modules().items():
        for module, names in _imports(path):
            if module.removeprefix("diagkit.cli.") in GROUPS and module != name:
                offenders += [f"{name} imports {module}.{n}" for n in names if n.startswith("_")]
    assert offenders == []
