"""The package's layering: imports go only down the stages, and no module imports
itself back through others (docs/ARCHITECTURE.md).

Every import counts: at module level, inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "daybook"

# Lowest first: a module may import modules of its own layer's package and of lower layers.
# ``daybook`` is the package's own __init__ (its exports and ``__version__``), nothing below it.
LAYERS: list[tuple[str, ...]] = [
    ("daybook.errors", "daybook.model"),
    ("daybook", "daybook.urls", "daybook.lockfile", "daybook.git_pack", "daybook.gc_pause"),
    ("daybook.net",),
    ("daybook.store",),
    ("daybook.ingest",),
    ("daybook.enrich", "daybook.relate"),
    ("daybook.render", "daybook.datasheet"),
    ("daybook.publish",),
    ("daybook.search", "daybook.export"),
    ("daybook.serve", "daybook.site_repo"),
    ("daybook.update",),
    ("daybook.cli",),
    ("daybook.__main__",),  # python -m daybook
]


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, name: str, modules: set[str]) -> set[str]:
    """The daybook modules ``path`` (module ``name``) imports, anywhere in it."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            for alias in node.names:
                # ``from daybook.publish import feeds`` imports the module daybook.publish.feeds
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {m for m in found if m == "daybook" or m.startswith("daybook.")} - {name}


def graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    paths = {module_name(p, root): p for p in root.rglob("*.py")}
    return {name: imports(path, name, set(paths)) for name, path in paths.items()}


def layer(name: str) -> int:
    best = max((prefix for layer in LAYERS for prefix in layer
                if name == prefix or (prefix != "daybook" and name.startswith(prefix + "."))),
               key=len, default=None)  # fmt: skip
    if best is None:
        raise AssertionError(f"{name} is in no layer: add it to LAYERS")
    return next(i for i, layer in enumerate(LAYERS) if best in layer)


def stage(name: str) -> str:
    """The package (or top-level module) ``name`` belongs to: daybook.publish, daybook.urls..."""
    return ".".join(name.split(".")[:2])


def upward(edges: dict[str, set[str]]) -> list[str]:
    wrong = []
    for name, targets in sorted(edges.items()):
        for target in sorted(targets):
            if stage(target) != stage(name) and layer(target) >= layer(name):
                wrong.append(f"{name} (layer {layer(name)}) imports {target} (layer {layer(target)})")
    return wrong


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected set of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in edges.get(node, ()):
            if other not in edges:
                continue
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_module_has_a_layer() -> None:
    for name in graph():
        layer(name)


def test_no_import_goes_up() -> None:
    assert upward(graph()) == []


def test_no_import_cycle() -> None:
    assert cycles(graph()) == []


def test_no_module_is_long() -> None:
    long = {p.name: n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 800}
    assert long == {}


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"store.py": "from daybook.ingest import reconcile\n", "ingest/__init__.py": ""}, "up"),
        ({"publish/build.py": "import daybook.publish.explore\n",
          "publish/explore.py": "def f():\n    from daybook.publish.build import Build\n",
          "publish/__init__.py": ""}, "cycle"),
        ({"publish/explore.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
          "    from daybook.cli import main\n", "publish/__init__.py": "", "cli.py": ""}, "up"),
    ],
)  # fmt: skip
def test_the_checks_catch(tmp_path: Path, files: dict[str, str], problem: str) -> None:
    """An upward import (even a lazy or a type-checking one) and a cycle are caught."""
    root = tmp_path / "daybook"
    for name, text in {"__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    edges = graph(root)
    assert (upward(edges) if problem == "up" else cycles(edges)) != []


def test_the_command_line_starts_without_the_stages() -> None:
    """`daybook relate` (and --help) loads no stage it does not call: each command imports
    its stages inside its function, so that a run with nothing to do starts fast (issue 13)."""
    heavy = ["httpx", "rich", "jinja2", "lxml", "mwparserfromhell", "daybook.publish", "daybook.ingest"]
    script = (
        "import sys\nfrom daybook.cli import cli\n"
        "cli.main(['relate', '--help'], standalone_mode=False)\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "--ranker" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"
