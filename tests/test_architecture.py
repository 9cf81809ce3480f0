"""The shape of the code: no import cycles, and each layer imports only what it may.

``rules/`` is the pure domain (no Telegram, no database, no clock of its own); ``storage/`` holds
all SQL and knows nothing of the bot; the emulator and the demo are tooling, outside ``bot/``.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "rules", "storage", "tgemu", "demo", "bench")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The project modules ``name`` imports (a package's own ``__init__`` excluded)."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".") if is_package else name.split(".")[:-1]
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                out.add(target)
    return out


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return found


def test_the_project_has_no_import_cycle():
    assert _cycles() == []


def test_the_cycle_finder_finds_a_cycle():
    GRAPH["rules.errors"].add("rules.policy")       # rules.policy imports rules.errors
    try:
        assert any({"rules.errors", "rules.policy"} <= set(component) for component in _cycles())
    finally:
        GRAPH["rules.errors"].discard("rules.policy")


def _third_party(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


LAYERS = [
    ("rules", {"bot", "handlers", "storage", "tgemu", "demo", "telegram", "aiosqlite", "jinja2"}),
    ("storage", {"bot", "handlers", "tgemu", "demo", "telegram", "jinja2"}),
    ("bot", {"handlers", "tgemu", "demo"}),
    ("handlers", {"tgemu", "demo", "aiosqlite"}),
]


@pytest.mark.parametrize(("package", "forbidden"), LAYERS, ids=[p for p, _ in LAYERS])
def test_each_layer_imports_only_what_it_may(package, forbidden):
    # bot/cli.py starts the emulator for `heatbot emulator`, importing it only when asked; bot/app.py
    # is the one wiring module, which registers the handlers.
    allowed = {"bot.cli": {"tgemu"}, "bot.app": {"handlers"}}
    wrong = {
        name: sorted(_third_party(path) & forbidden - allowed.get(name, set()))
        for name, path in MODULES.items() if name.split(".")[0] == package
    }
    assert {name: bad for name, bad in wrong.items() if bad} == {}
