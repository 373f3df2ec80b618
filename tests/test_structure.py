"""The shape of the package, kept by tests: imports run one way, no private name crosses a module
boundary, any module imports first and alone, the root stays light, and mypy passes.

The import graph is read with ``ast`` from the files themselves: every ``import`` statement counts,
top-level or inside a function (a function-local import only hides a cycle until the function
runs); only imports under ``if TYPE_CHECKING:`` are left out, since they never run.
"""

from __future__ import annotations

import ast
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "upsamplekit"
HEAVY = ("optuna", "sqlalchemy", "matplotlib", "skimage", "tqdm", "PIL")


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name, for its ``__init__``)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _type_checking_only(tree: ast.Module) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            skipped.update(id(inner) for inner in ast.walk(node))
    return skipped


def _imports(module: str) -> list[tuple[str, str | None, int]]:
    """``(imported module, imported name or None, line)`` for each import in ``module`` that runs."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), filename=str(path))
    skipped = _type_checking_only(tree)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.extend((alias.name, None, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.extend((target, alias.name, node.lineno) for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    """The file-level import graph: an edge to a submodule when one is imported by name, else to the module."""
    edges: dict[str, set[str]] = {module: set() for module in MODULES}
    for module in MODULES:
        for target, name, _ in _imports(module):
            if name is not None and f"{target}.{name}" in MODULES:
                edges[module].add(f"{target}.{name}")
            elif target in MODULES:
                edges[module].add(target)
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each a cycle or several."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(edges[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in edges[node]:
                components.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return components


def test_the_checker_finds_a_cycle_and_a_private_import() -> None:
    """The two ast checks below are only worth something if they can fail: show it on a made-up graph."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    assert _private("from .x import _hidden, shown, __dunder__") == ["_hidden"]


def test_no_import_cycles_between_files() -> None:
    cycles = _cycles(_graph())
    assert not cycles, "import cycles (break each by moving the shared piece to a module both import):\n" + \
        "\n".join(" <-> ".join(c) for c in cycles)


def _private(source: str) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            names.extend(a.name for a in node.names
                         if a.name.startswith("_") and not (a.name.startswith("__") and a.name.endswith("__")))
    return names


def test_no_private_name_is_imported_from_another_module() -> None:
    found = [f"{MODULES[m].relative_to(SRC)}:{line}: from {target} import {name}"
             for m in MODULES for target, name, line in _imports(m)
             if name and name.startswith("_") and not (name.startswith("__") and name.endswith("__"))]
    assert not found, "private names imported across modules (make them public where they live, or move them):\n" + \
        "\n".join(found)


_IMPORT_EACH_ALONE = r"""
import importlib, os, sys, traceback
import numpy, torch  # third-party only, shared by the forks below: upsamplekit itself is imported fresh in each
failed = []
for name in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        failed.append(name)
print("FAILED:", " ".join(failed))
sys.exit(1 if failed else 0)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_every_module_imports_first_and_alone() -> None:
    """Each module as the first upsamplekit import of a fresh process: no import order may matter."""
    modules = sorted(m for m in MODULES if m != "upsamplekit.__main__")  # running that one runs the CLI
    result = subprocess.run([sys.executable, "-c", _IMPORT_EACH_ALONE, *modules], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-6000:]


def _loaded_after(code: str) -> set[str]:
    """The top-level packages loaded in a fresh interpreter after running ``code``."""
    probe = f"import sys\n{code}\nprint('LOADED:', *sorted({{m.split('.')[0] for m in sys.modules}}))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    return set(result.stdout.rsplit("LOADED:", 1)[1].split())


def test_the_root_import_is_light() -> None:
    """``import upsamplekit`` loads no optional dependency, and not even torch until a name needs it."""
    loaded = _loaded_after("import upsamplekit")
    assert not loaded & {"torch", "numpy", *HEAVY}, sorted(loaded & {"torch", "numpy", *HEAVY})
    loaded = _loaded_after("import upsamplekit; upsamplekit.resize; upsamplekit.build_upsampler; "
                           "upsamplekit.explain; upsamplekit.fold; upsamplekit.count_macs")
    by_torch = _loaded_after("import torch")  # torch.hub imports tqdm when it is installed: not ours to avoid
    assert "torch" in loaded and not (loaded - by_torch) & set(HEAVY), sorted((loaded - by_torch) & set(HEAVY))


def test_using_resize_does_not_import_the_compiler() -> None:
    """torch._dynamo costs seconds to import: only a caller that compiles should pay for it."""
    code = ("import sys, torch, upsamplekit\n"
            "upsamplekit.resize(torch.rand(1, 1, 4, 4), scale_factor=2, method='lanczos3', convention='pillow')\n"
            "upsamplekit.build_upsampler('carafe', 1, 1, 2)(torch.rand(1, 1, 4, 4))\n"
            "print('DYNAMO' if 'torch._dynamo' in sys.modules else 'NO DYNAMO')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.stdout.strip().endswith("NO DYNAMO"), result.stdout + result.stderr[-3000:]


@pytest.mark.parametrize("argv", [["--help"], ["shapes", "--help"],
                                  ["shapes", "transpose", "16", "-k", "4", "-s", "2", "-p", "1"], ["shapes", "solve", "16", "32"]])
def test_the_command_line_answers_without_torch(argv: list[str]) -> None:
    code = f"import sys; sys.argv = ['upsamplekit', *{argv!r}]\nfrom upsamplekit.cli import main\ntry:\n    main()\n" \
           "except SystemExit as e:\n    assert not e.code, e.code"
    loaded = _loaded_after(code)
    assert not loaded & {"torch", "numpy", *HEAVY}, sorted(loaded & {"torch", "numpy", *HEAVY})


def test_explain_and_fold_are_plain_functions() -> None:
    import upsamplekit
    from upsamplekit import explainer, folding

    assert inspect.isfunction(upsamplekit.explain) and upsamplekit.explain is explainer.explain
    assert inspect.isfunction(upsamplekit.fold) and upsamplekit.fold is folding.fold
    assert sorted(upsamplekit.__all__) == sorted(n for n in dir(upsamplekit) if n in upsamplekit.__all__)
    with pytest.raises(AttributeError, match="no attribute 'resise'"):
        upsamplekit.resise  # noqa: B018


@pytest.mark.slow
def test_mypy_passes_on_src() -> None:
    result = subprocess.run([str(Path(sys.executable).parent / "mypy"), "--no-incremental", str(PACKAGE)],
                            capture_output=True, text=True, timeout=900, cwd=SRC.parent)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
