"""The house rules of the layout, checked by reading every module's imports with `ast` (at
module level and inside functions): states live in `state/`, not in `pages/`; only the UI
layers import Reflex; no state imports a page; no import cycle among BitChange's modules."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import bitchange

PACKAGE = Path(bitchange.__file__).parent
# The UI layers and the app module: the only places that may import Reflex.
UI = ("bitchange.pages", "bitchange.state", "bitchange.components")
APP_MODULE = "bitchange.bitchange"


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # what it imports: a module, or the package whose name it takes
    line: int


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _sources() -> dict[str, tuple[Path, ast.Module]]:
    return {_module_name(path): (path, ast.parse(path.read_text(), str(path)))
            for path in sorted(PACKAGE.rglob("*.py"))}


def _under(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    is_package = _sources()[module][0].name == "__init__.py"
    base = module.split(".")[: len(module.split(".")) - node.level + is_package]
    return ".".join(base + ([node.module] if node.module else []))


def imports() -> list[Import]:
    """Every import statement of every bitchange module, wherever it stands in the module."""
    known = _sources()
    found = []
    for module, (_path, tree) in known.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [Import(module, alias.name, node.lineno) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(module, node)
                for alias in node.names:  # `from bitchange import db` imports bitchange.db
                    submodule = f"{source}.{alias.name}"
                    found.append(Import(module, submodule if submodule in known else source,
                                        node.lineno))
    return found


def _derives_from_state(node: ast.ClassDef, states: set[str]) -> bool:
    def name(base: ast.expr) -> str:
        return ast.unparse(base.func if isinstance(base, ast.Call) else base)

    return any(name(base) in states or name(base).endswith("rx.State") or name(base) == "State"
               for base in node.bases)


def state_classes() -> list[tuple[str, str]]:
    """(module, class) for every class deriving rx.State, directly or from another state
    (a Reflex mixin too)."""
    classes = [(module, node) for module, (_path, tree) in _sources().items()
               for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    states: set[str] = set()
    while True:
        more = {node.name for _module, node in classes if _derives_from_state(node, states)}
        if more <= states:
            return [(module, node.name) for module, node in classes if node.name in states]
        states |= more


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module, or a module importing
    itself (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
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
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges.get(node, ()):
                    found.append(sorted(component))
    return found


def test_no_state_is_defined_under_pages():
    offenders = [f"{module}.{name}" for module, name in state_classes()
                 if _under(module, "bitchange.pages")]
    assert offenders == []


def test_only_the_ui_layers_and_the_app_module_import_reflex():
    offenders = sorted({f"{i.module}:{i.line} imports {i.target}" for i in imports()
                        if i.target.split(".")[0].startswith("reflex")
                        and not _under(i.module, *UI) and i.module != APP_MODULE})
    assert offenders == []


def test_no_state_imports_a_page():
    offenders = sorted({f"{i.module}:{i.line} imports {i.target}" for i in imports()
                        if _under(i.module, "bitchange.state")
                        and _under(i.target, "bitchange.pages")})
    assert offenders == []


def import_graph() -> dict[str, set[str]]:
    """module -> the bitchange modules its imports run: the target, and the packages above it
    (their `__init__` runs first) that do not hold the importer."""
    packages = {name for name, (path, _tree) in _sources().items() if path.name == "__init__.py"}
    edges: dict[str, set[str]] = {}
    for i in imports():
        if not _under(i.target, "bitchange"):
            continue
        parts = i.target.split(".")
        above = {".".join(parts[:n]) for n in range(2, len(parts))}
        edges.setdefault(i.module, set()).update(
            {i.target} | {p for p in above & packages if not _under(i.module, p)})
    return edges


def test_no_import_cycle_among_bitchange_modules():
    assert cycles(import_graph()) == []


def imports_inside_functions() -> list[str]:
    """module:line of every import inside a function that does not say why on its line or the
    one above (a `# cycle: ...` or other reason comment): imports stand at the top."""
    found = []
    for module, (path, tree) in _sources().items():
        lines = path.read_text().splitlines()
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    said = lines[node.lineno - 1] + (lines[node.lineno - 2]
                                                     if node.lineno > 1 else "")
                    if "#" not in said:
                        found.append(f"{module}:{node.lineno}")
    return found


def test_no_import_inside_a_function_without_a_reason():
    assert imports_inside_functions() == []


def test_the_checks_see_what_they_check():
    """The readers find what the rules are about (else every rule would pass on nothing)."""
    assert ("bitchange.state.trade", "TradeState") in state_classes()
    assert any(i.module == "bitchange.state.events" and i.target == "reflex" for i in imports())
    assert "bitchange.ledger" in import_graph()["bitchange.trading.service"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"a"}, "b": {"a"}}) == [["a"]]
