"""The layering of docs/architecture.md, read from the source: no module of the apps imports
another in a circle (a function-level import counts too), and the lower layers never import the
apps above them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "institutions", "badges", "endorsement", "learners", "webhooks", "pathways")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(REPO).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """The project modules that `path` imports, anywhere in the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & MODULES.keys()
            names.update(submodules or {node.module})  # `from badges import credentials` imports a submodule
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    resolved = set()
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name:
            resolved.add(name)
    return resolved


GRAPH = {name: _imports(path) - {name} for name, path in MODULES.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
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
                    work.append((child, iter(sorted(graph.get(child, ())))))
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
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_circle_of_three_and_ignores_a_chain():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_module_of_the_apps_imports_another_in_a_circle():
    assert cycles(GRAPH) == []


# The lower layers and what they may import of the project (docs/architecture.md, "Layers").
LOWER_LAYERS = {
    "badges.credentials": set(),  # plain Python: nothing of the project, and no Django
    "config.tasking": set(),
    "config.errors": set(),
    "config.postgres": set(),  # psycopg alone
    "config.fsm": {"config.errors"},
    "endorsement.audit": {"endorsement.models"},
    "endorsement.audit_labels": {"endorsement.audit", "endorsement.models", "institutions.models"},
    "badges.status": {"badges.models", "badges.credentials", "institutions.keys", "institutions.models"},
}


@pytest.mark.parametrize("layer", sorted(LOWER_LAYERS))
def test_a_lower_layer_imports_nothing_above_it(layer):
    allowed = LOWER_LAYERS[layer]
    members = [name for name in MODULES if name == layer or name.startswith(layer + ".")]
    assert members, layer
    above = {
        (member, imported)
        for member in members
        for imported in GRAPH[member]
        if not (imported == layer or imported.startswith(layer + "."))
        and not any(imported == a or imported.startswith(a + ".") for a in allowed)
    }
    assert above == set()


def test_the_credential_library_does_not_import_django():
    offenders = [
        str(path.relative_to(REPO)) for name, path in MODULES.items()
        if name.startswith("badges.credentials")
        and any(n == "django" or n.startswith("django.") for n in _all_imported_names(path))
    ]
    assert offenders == []


def _all_imported_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_every_task_a_service_names_is_a_celery_task():
    """Services enqueue tasks by dotted name (config.tasking): each name in the code must resolve."""
    from config.tasking import task_named

    named = set()
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) in {"enqueue_on_commit", "task_named"}
                    and node.args and isinstance(node.args[0], ast.Constant)):
                named.add(node.args[0].value)
    assert len(named) >= 8
    for name in sorted(named):
        assert task_named(name).name == name


def test_a_misspelt_task_name_is_refused_where_it_is_enqueued():
    from config.tasking import enqueue_on_commit

    with pytest.raises(LookupError, match=r"badges\.tasks\.no_such_task"):
        enqueue_on_commit("badges.tasks.no_such_task", 1)
    with pytest.raises(LookupError):
        enqueue_on_commit("badges.models.Award", 1)


def test_every_transactional_test_restores_the_migrated_rows():
    """A `transaction=True` test without `serialized_rollback=True` flushes the database and lets
    `post_migrate` re-create the content types under new keys; the next serialized test then fails to
    load its rows ("duplicate key … django_content_type"). Every transactional test marks both."""
    offenders = []
    for path in sorted((REPO / "tests").rglob("test_*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "django_db(" in line and "transaction=True" in line and "serialized_rollback=True" not in line:
                offenders.append(f"{path.relative_to(REPO)}:{number}")
    assert offenders == []
