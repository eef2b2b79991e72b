"""The floor plan holds: no import cycles between the package's modules; no private attribute
of another object read or set outside ``resilient_s3/_internals.py`` (the one home of private
botocore, urllib3 and awscrt access); one home per name a module exports."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import resilient_s3

ROOT = Path(resilient_s3.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def import_graph() -> dict[str, set[str]]:
    """module -> the modules of ours it imports at run time (lazy imports included, imports
    for type checkers only left out)."""
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        skipped = _type_checking_lines(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or node.lineno in skipped:
                continue
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                full = f"{target}.{alias.name}"
                if full in modules:
                    graph[name].add(full)
                elif target in modules:
                    graph[name].add(target)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for nxt in sorted(graph[node]):
            if nxt.startswith(node + "."):  # a package importing its own rooms
                continue
            found = visit(nxt, [*path, node])
            if found:
                return found
        done.add(node)
        return None

    for start in sorted(graph):
        found = visit(start, [])
        if found:
            return found
    return None


def test_no_import_cycles() -> None:
    graph = import_graph()
    assert len(graph) > 50
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_facade_does_not_import_the_batch_package_at_import_time() -> None:
    graph = import_graph()
    assert "resilient_s3.batch._engine.state" in graph["resilient_s3._shared"]  # lazily
    for name in ("_client.py", "_shared.py"):
        top_level = (ROOT / name).read_text().split("\nclass ", 1)[0]
        assert "from .batch" not in top_level.replace("    from .batch", "")


#: The one module allowed to read or set another object's private attributes.
INTERNALS = ROOT / "_internals.py"
#: Names several modules define on purpose: the CLI's subcommand modules each have these two.
PROTOCOL_NAMES = frozenset({"add_parser", "run"})
#: Names the asyncio door defines again for its twin of the sync door's (``aio.client``).
DOOR_TWINS = {"client": ["resilient_s3._factory", "resilient_s3.aio"]}


def _own_names(tree: ast.Module) -> set[str]:
    """Names a module defines for itself: functions, classes, variables, ``self.``/``cls.``
    attributes and ``__slots__`` (a module may read its own classes' private attributes)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id in ("self", "cls")
        ):
            names.add(node.attr)
        elif isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__slots__" for target in node.targets
        ):
            names.update(
                child.value
                for child in ast.walk(node.value)
                if isinstance(child, ast.Constant) and isinstance(child.value, str)
            )
    return names


def private_reads(source: str) -> list[tuple[int, str]]:
    """``(line, attribute)`` of each private attribute of another object that ``source``
    reads or sets (``x._y``, ``getattr(x, "_y")``, ``vars(m)["_y"]``), its own names aside."""
    tree = ast.parse(source)
    own = _own_names(tree)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Attribute):
            base = node.value
            if not (isinstance(base, ast.Name) and base.id in ("self", "cls")):
                name = node.attr
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            name = node.args[1].value
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "vars"
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        ):
            name = node.slice.value
        if name and name.startswith("_") and not name.startswith("__") and name not in own:
            found.append((getattr(node, "lineno", 0), name))
    return found


def test_private_attributes_are_read_in_one_module() -> None:
    offences = [
        f"{path.relative_to(ROOT.parent)}:{line}: {name}"
        for path in sorted(ROOT.rglob("*.py"))
        if path != INTERNALS
        for line, name in private_reads(path.read_text())
    ]
    assert not offences, "private attributes read outside _internals.py:\n" + "\n".join(offences)
    assert private_reads(INTERNALS.read_text())  # it is where they are


def test_the_private_access_check_finds_each_form() -> None:
    source = (
        "class A:\n"
        "    def f(self, other):\n"
        "        self._mine = 1\n"
        "        other._mine\n"  # a name of this module's own classes: allowed
        "        other._theirs\n"
        "        getattr(other, '_hidden')\n"
        "        other._set = 2\n"
        "        vars(other)['_table']\n"
    )
    assert [name for _, name in private_reads(source)] == ["_theirs", "_hidden", "_set", "_table"]


def test_one_home_per_exported_name() -> None:
    """A name in a module's ``__all__`` that the module defines is defined by no other module
    that exports it (one ``Progress``, one ``Endpoint``, one ``body_size``...)."""
    homes: dict[str, list[str]] = defaultdict(list)
    for path in sorted(ROOT.rglob("*.py")):
        tree = ast.parse(path.read_text())
        defined: set[str] = set()
        exported: set[str] = set()
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defined.add(node.name)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                defined.add(node.target.id)
            elif isinstance(node, ast.Assign):
                targets = {t.id for t in node.targets if isinstance(t, ast.Name)}
                if "__all__" in targets:
                    exported = set(ast.literal_eval(node.value))
                defined |= targets
        for name in exported & defined - PROTOCOL_NAMES:
            homes[name].append(_module_name(path))
    twice = {name: where for name, where in homes.items() if len(where) > 1}
    assert twice == DOOR_TWINS, twice
