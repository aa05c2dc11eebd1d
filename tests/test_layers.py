"""The package's modules import each other in one direction, along declared layers.

The import graph is read from the source with :mod:`ast`: every ``import`` and
``from ... import`` statement of every module under ``spectro/``, including
the ones inside functions (imported lazily, but imported all the same). An
edge goes from a module to each module it names: ``from .. import xanes`` to
``spectro.xanes``, ``from ..model import validate`` to ``spectro.model``,
``from ..xanes import analyze`` to ``spectro.xanes`` (a package's ``__init__``).
A module's own ancestor packages are no edge (``from .. import __version__``
in ``spectro.model``): Python imports them before the module in any case.

Layers, bottom to top (a module may import its own layer and the layers
below, never above; the same table is in ``docs/architecture.md``)::

    errors, options, calibration_line   errors; options as values; the generic x -> y line fit
    model, grid, io, references         the data model, readers, the catalogue
    xanes, xes, lcf, pressure           the analyses
    valence, spin, simulate             calibrations on analysis results; simulators
    plot                                figures of the results
    batch                               many files, maps
    demo, cli                           the demo and the command line

Run ``python tests/test_layers.py`` to print the graph's cycles and layer
violations.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "spectro"

#: Each top-level part of the package (module or subpackage) and its layer.
LAYERS: dict[str, int] = {
    "errors": 0,
    "options": 0,
    "_lazy": 0,
    "_variations": 0,
    "calibration_line": 0,
    "_clean": 1,
    "_apply": 1,
    "model": 1,
    "grid": 1,
    "io": 1,
    "references": 1,
    "xanes": 2,
    "xes": 2,
    "lcf": 2,
    "pressure": 2,
    "valence": 3,
    "spin": 3,
    "simulate": 3,
    "plot": 4,
    "batch": 5,
    "demo": 6,
    "cli": 6,
    "__main__": 6,
    "budget": 3,
    "repeats": 3,
    "dispersive": 2,
}

def module_name(path: Path) -> str:
    """``spectro/xes/api.py`` -> ``spectro.xes.api``; ``spectro/xes/__init__.py`` -> ``spectro.xes``."""
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _resolve(importer: str, is_package: bool, level: int, name: str | None) -> str:
    """Absolute name of ``from <level dots><name> import ...`` in module ``importer``."""
    if level == 0:
        return name or ""
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    base = package[: len(package) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def imports_of(name: str, path: Path, known: set[str]) -> Iterator[tuple[str, int]]:
    """``(imported module, line)`` for each module of the package that ``name`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(name, is_package, node.level, node.module)
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in known:
                    yield submodule, node.lineno
                elif source in known:
                    yield source, node.lineno


def import_graph() -> dict[str, dict[str, int]]:
    """``{module: {imported module: first line}}`` over the package (itself excluded)."""
    found = modules()
    known = set(found)
    graph: dict[str, dict[str, int]] = {}
    for name, path in found.items():
        edges = graph.setdefault(name, {})
        ancestors = {name.rsplit(".", k)[0] for k in range(1, name.count(".") + 1)}
        for target, line in imports_of(name, path, known):
            if target != name and target not in ancestors:
                edges.setdefault(target, line)
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _path_within(graph: dict[str, dict[str, int]], component: frozenset[str]) -> list[str]:
    """One cycle through ``component`` (module names, first repeated at the end)."""
    start = min(component)
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v]):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [start, *reversed(path[:-1]), start] if len(path) > 1 else [start, start]
                if w in component and w not in parents:
                    parents[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no cycle through {start}")  # a component of size > 1 always has one


def describe(graph: dict[str, dict[str, int]], component: frozenset[str]) -> str:
    """The modules of ``component`` and one of its cycles, ``a (line 3) -> b (line 10) -> a``."""
    path = _path_within(graph, component)
    steps = " -> ".join(f"{a} (line {graph[a][b]})" for a, b in pairwise(path))
    return f"{sorted(component)}: {steps} -> {path[-1]}"


def layer_of(module: str) -> int | None:
    """The layer of a module (None for the package's own ``__init__``)."""
    parts = module.split(".")
    return LAYERS[parts[1]] if len(parts) > 1 else None


def violations(graph: dict[str, dict[str, int]]) -> list[str]:
    """Every import of a module from a higher layer, as ``importer:line imports target``."""
    out = []
    for importer, edges in sorted(graph.items()):
        low = layer_of(importer)
        for target, line in sorted(edges.items()):
            high = layer_of(target)
            if low is not None and high is not None and high > low:
                out.append(f"{importer}:{line} imports {target} (layer {high} above {low})")
    return out


GRAPH = import_graph()


def test_the_graph_sees_top_level_lazy_and_relative_imports():
    # spectro/__init__.py: from . import errors, options; spectro/xes/api.py: from ..model import ...;
    # spectro/batch/pipeline.py imports the analyses inside its functions
    assert {"spectro.errors", "spectro.options"} <= set(GRAPH["spectro"])
    assert "spectro.model" in GRAPH["spectro.xes.api"]
    assert {"spectro.xanes", "spectro.xes"} <= set(GRAPH["spectro.batch.pipeline"])
    assert GRAPH["spectro.errors"] == {}


def test_every_part_of_the_package_has_a_layer():
    parts = {m.split(".")[1] for m in GRAPH if "." in m}
    assert parts == set(LAYERS), "add new modules or subpackages to LAYERS"


def test_no_import_cycles():
    found = list(cycles(GRAPH))
    assert not found, "import cycles:\n" + "\n".join(describe(GRAPH, c) for c in found)


def test_imports_go_down_the_layers():
    found = violations(GRAPH)
    assert not found, "imports from a higher layer:\n" + "\n".join(found)


def test_xanes_and_xes_import_no_calibration_batch_plot_or_cli():
    above = ("spectro.valence", "spectro.spin", "spectro.batch", "spectro.cli", "spectro.plot", "spectro.demo")
    found = [
        f"{m} imports {t}"
        for m, edges in GRAPH.items()
        if m.startswith(("spectro.xanes", "spectro.xes"))
        for t in edges
        if t.startswith(above)
    ]
    assert not found


def test_nothing_below_batch_imports_batch():
    found = [
        f"{m} imports {t}"
        for m, edges in GRAPH.items()
        if (layer_of(m) or 0) < LAYERS["batch"]
        for t in edges
        if t.startswith("spectro.batch")
    ]
    assert not found


def shadowed_names() -> list[str]:
    """Public submodules of the package whose name is also another object of their package.

    ``spectro.plot.valence`` once was a module beside the function
    ``valence_line``, and ``spectro.xes.iad`` a module and a function: whichever was
    bound last won, and ``import spectro.xes.iad as m`` gave the function.
    """
    found = []
    for name in sorted(GRAPH):
        package, _, leaf = name.rpartition(".")
        if not package or leaf.startswith("_"):
            continue
        value = getattr(importlib.import_module(package), leaf, None)
        if value is not sys.modules.get(name) and value is not None:
            found.append(f"{name} is a module and {package}.{leaf} a {type(value).__name__}")
    return found


def test_no_public_module_and_function_of_the_same_name():
    for name in ("spectro.plot", "spectro.xes", "spectro.simulate", "spectro.xanes"):
        importlib.import_module(name)
    found = list(shadowed_names())
    assert not found


def test_plot_valence_is_the_function():
    import spectro.plot

    assert callable(spectro.plot.valence) and spectro.plot.valence.__module__ == "spectro.plot._valence"


def test_calibration_line_imports_only_errors():
    assert "spectro.calibration_line" in GRAPH
    assert set(GRAPH["spectro.calibration_line"]) <= {"spectro.errors"}


if __name__ == "__main__":
    for component in cycles(GRAPH):
        print("cycle:", describe(GRAPH, component))
    for line in violations(GRAPH):
        print("layer:", line)
