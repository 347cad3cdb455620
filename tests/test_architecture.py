"""The import contract: the pipeline flows one way (docs/architecture.md).

    foundation → specification → survey → engine → resampling → modelfit
      → measurement → propositions → report → results/fitting → power → cli

A module may import from its own layer or a lower one, never from a higher one; there are no
import cycles between modules; a function-level import is only for an optional dependency
(matplotlib, dask, tqdm, ...), never for a cbec_sem module.  Imports under
``if TYPE_CHECKING:`` are type hints only and are not counted.  (This is what import-linter's
"layers" and "independence" contracts check; a test keeps CI free of another tool.)
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "cbec_sem"

#: lowest first; a module belongs to the longest prefix listed
LAYERS: list[tuple[str, ...]] = [
    ("cbec_sem._version", "cbec_sem.errors", "cbec_sem.protocol", "cbec_sem.plotting", "cbec_sem.apa",
     "cbec_sem.caching",
     "cbec_sem.validation", "cbec_sem.arguments"),
    ("cbec_sem.specification",),
    ("cbec_sem.survey", "cbec_sem.simulate", "cbec_sem.datasets"),
    ("cbec_sem.engine", "cbec_sem.pls"),
    ("cbec_sem.parallel", "cbec_sem.resampling"),
    ("cbec_sem.modelfit",),
    ("cbec_sem.measurement",),
    ("cbec_sem.propositions",),
    ("cbec_sem.report",),
    ("cbec_sem.results", "cbec_sem.fitting"),
    ("cbec_sem.power", "cbec_sem.interop"),
    ("cbec_sem.cli", "cbec_sem"),
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _layer(module: str) -> int:
    best, layer = -1, None
    for k, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, layer = len(prefix), k
    assert layer is not None, f"{module} is in no layer: add it to LAYERS"
    return layer


def _statements(body: list[ast.stmt]):
    """Every statement in ``body`` and in the statement lists nested in it (bodies of
    functions, classes, if/for/while/with/try/match, their else/finally/except branches).
    An import is a statement and occurs only in such lists, so this finds every import that
    ``ast.walk`` finds while skipping the expression nodes (nine in ten of the nodes: the
    full walk cost ~2.5 s per run)."""
    for node in body:
        yield node
        for field in ("body", "orelse", "finalbody"):
            child = getattr(node, field, None)
            if isinstance(child, list):
                yield from _statements(child)
        for handler in getattr(node, "handlers", ()):
            yield from _statements(handler.body)
        for case in getattr(node, "cases", ()):
            yield from _statements(case.body)


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in _statements(tree.body):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


@lru_cache(maxsize=None)
def _imports() -> tuple:
    """(module, imported cbec_sem module, line, function-level?) for every import (parsed once
    per worker, on first use: at collection it cost every xdist worker ~2.5 s of CPU)."""
    out = []
    for path in sorted(SRC.rglob("*.py")):
        module = _module_name(path)
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        hints = _type_checking_lines(tree)
        top_level = {id(n) for n in tree.body}
        for node in _statements(tree.body):
            if not isinstance(node, (ast.Import, ast.ImportFrom)) or node.lineno in hints:
                continue
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                names = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
            else:
                names = [a.name for a in node.names]
            for name in names:
                if name == "cbec_sem" or name.startswith("cbec_sem."):
                    out.append((module, _existing(name), node.lineno, id(node) not in top_level))
    return tuple(out)


def _existing(name: str) -> str:
    """The module a dotted name refers to (``cbec_sem.x.y`` may be a name inside ``x``)."""
    while name.count("."):
        path = SRC.parent / Path(*name.split("."))
        if path.with_suffix(".py").exists() or (path / "__init__.py").exists():
            return name
        name = name.rsplit(".", 1)[0]
    return name


def test_no_backward_imports() -> None:
    backward = [f"{m}:{line} imports {t} (layer {_layer(t)} > {_layer(m)})"
                for m, t, line, _ in _imports() if _layer(t) > _layer(m)]
    assert not backward, "\n".join(backward)


def test_function_level_imports_are_only_for_optional_dependencies() -> None:
    local = [f"{m}:{line} imports {t} inside a function" for m, t, line, inner in _imports()
             if inner]
    assert not local, "\n".join(local)


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {}
    for m, t, _, _ in _imports():
        if t != m and not m.startswith(t + "."):  # a module may import its own package
            graph.setdefault(m, set()).add(t)
    cycles = _strongly_connected(graph)
    assert not cycles, "\n".join(" → ".join(sorted(c)) for c in cycles)


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm; components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


#: every module of the package (a superset of the modules with a cbec_sem import; the file
#: names are enough, so collection parses nothing)
MODULES = sorted(_module_name(p) for p in SRC.rglob("*.py"))


@pytest.mark.parametrize("module", MODULES)
def test_every_module_has_a_layer(module: str) -> None:
    _layer(module)
