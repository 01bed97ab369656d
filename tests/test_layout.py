"""The layout holds: small modules, no import cycle in the core, no Flask in the core, no MongoDB in the views."""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
MAX_LINES = 500
CORE, API = ROOT / "inspector", ROOT / "api"
DATABASE_LIBRARIES = ("pymongo", "gridfs", "bson", "mongomock")
QUERY_METHODS = {"find", "find_one", "insert_one", "insert_many", "update_one", "update_many", "replace_one",
                 "delete_one", "delete_many", "aggregate", "count_documents", "estimated_document_count",
                 "find_one_and_update", "bulk_write", "distinct", "create_index"}


def _modules(folder):
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path, package=None):
    """Every module name the file imports, at module level or inside functions, made absolute."""
    if package is None:
        package = _name(path) if path.name == "__init__.py" else _name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _core_graph():
    names = {_name(p): p for p in _modules(CORE)}
    return {name: {i for i in _imports(path) if i in names and i != name} for name, path in names.items()}


@pytest.mark.parametrize("folder", [CORE, API], ids=["inspector", "api"])
def test_no_module_is_over_500_lines(folder):
    long = {str(p.relative_to(ROOT)): n for p in _modules(folder) if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_the_core_has_no_import_cycle_even_inside_functions():
    graph = _core_graph()
    state, cycles = {}, []

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(path[path.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_the_cycle_check_sees_a_cycle(tmp_path):
    """The check itself: two modules importing each other, one inside a function, are a cycle."""
    (tmp_path / "a.py").write_text("from inspector.b import x\n")
    (tmp_path / "b.py").write_text("def f():\n    from inspector import a\n")
    found = {p.stem: set(_imports(p, "inspector")) for p in tmp_path.glob("*.py")}
    assert "inspector.b" in found["a"] and "inspector.a" in found["b"]


def test_the_core_imports_no_web_framework():
    users = sorted(_name(p) for p in _modules(CORE)
                   if any(i.split(".")[0] in ("flask", "flask_smorest", "werkzeug") for i in _imports(p)))
    assert users == []


def test_views_never_talk_to_mongodb():
    """Every query lives in the core beside its index; a view passes db() along but never reads a collection."""
    offenders = []
    for path in _modules(API):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                offenders += [f"{path.name}: imports {n}" for n in names if n.split(".")[0] in DATABASE_LIBRARIES]
            # db().collection or db()["collection"]: a query written in a view.
            if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.value, ast.Call) \
                    and getattr(node.value.func, "id", None) in ("db", "current_db"):
                offenders.append(f"{path.name}:{node.lineno}: reads a collection")
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in QUERY_METHODS:
                offenders.append(f"{path.name}:{node.lineno}: calls {node.func.attr}()")
    assert offenders == []
