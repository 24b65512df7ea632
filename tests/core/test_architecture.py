"""The dependency graph points one way: core <- domain apps <- recs <- tasks.

Read from the source with ``ast`` (every import, late ones inside functions included), so a
cycle or a core module reaching into a domain app fails here before it makes the code hard to
change. ``recs/engine`` stays framework-free: it imports no Django and no project app.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Lowest first: an app may import only apps before it. ``movierec`` is the shared core.
LAYERS = ("movierec", "movies", "users", "ratings", "playlists", "recs", "tasks")
APPS = frozenset(LAYERS)

#: Core modules that compose the apps into one project and so may name them: settings
#: (INSTALLED_APPS, the beat schedule), the root GraphQL schema, the ``make run`` demo and
#: the first boot of a deployment (compose's ``bootstrap``: a catalogue, then a model).
COMPOSITION_ROOT = (
    "movierec/settings/",
    "movierec/schema.py",
    "movierec/demo.py",
    "movierec/bootstrap.py",
)

#: Development tools outside the production package; no app may import them.
DEV_ONLY = frozenset({"tools", "bench", "tests"})


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _sources(app: str, root: Path = ROOT) -> list[Path]:
    return sorted(p for p in (root / app).rglob("*.py") if "migrations" not in p.parts)


def import_edges(root: Path = ROOT) -> dict[tuple[str, str], list[str]]:
    """``(importer app, imported top-level package) -> ["file:line module", ...]``."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for app in LAYERS:
        for path in sorted(p for p in (root / app).rglob("*.py") if "migrations" not in p.parts):
            relative = path.relative_to(root).as_posix()
            for line, module in _imported_modules(path):
                top = module.split(".")[0]
                if top != app and (top in APPS or top in DEV_ONLY):
                    edges[(app, top)].append(f"{relative}:{line} {module}")
    return edges


def _is_composition_root(where: str) -> bool:
    return where.startswith(COMPOSITION_ROOT)


def _app_graph() -> tuple[dict[str, set[str]], dict[tuple[str, str], list[str]]]:
    """App-level graph without the composition root's edges (it composes, it is not a layer)."""
    graph: dict[str, set[str]] = defaultdict(set)
    kept: dict[tuple[str, str], list[str]] = {}
    for (source, target), where in import_edges().items():
        where = [w for w in where if not _is_composition_root(w)]
        if where and target in APPS:
            graph[source].add(target)
            kept[(source, target)] = where
    return graph, kept


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as ``[a, b, ..., a]``, or None (depth-first search)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_finds_one_and_accepts_a_dag():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle_between_apps():
    graph, edges = _app_graph()
    cycle = find_cycle(graph)
    if cycle:
        hops = [f"{a} -> {b}: {edges[(a, b)][0]}" for a, b in zip(cycle, cycle[1:], strict=False)]
        raise AssertionError("import cycle between apps:\n  " + "\n  ".join(hops))


def test_imports_point_down_the_layers():
    _, edges = _app_graph()
    rank = {app: i for i, app in enumerate(LAYERS)}
    upward = [
        f"{source} imports {target} ({where[0]})"
        for (source, target), where in sorted(edges.items())
        if rank[target] > rank[source]
    ]
    assert upward == [], "imports must point to lower layers " + " < ".join(LAYERS)


def test_the_core_imports_no_domain_app():
    """Outside the composition root, the core registers hooks instead (health checks, the
    GraphQL authentication class, type extensions, events)."""
    offending = [
        w
        for (source, target), where in import_edges().items()
        if source == "movierec" and target in APPS
        for w in where
        if not _is_composition_root(w)
    ]
    assert offending == []


def test_no_app_imports_development_tools():
    offending = [
        w for (_, target), where in import_edges().items() if target in DEV_ONLY for w in where
    ]
    assert offending == []


def test_recs_engine_imports_no_django_and_no_app():
    framework = {"django", "graphene", "graphene_django", "rest_framework", "celery"}
    offending = []
    for path in _sources("recs/engine"):
        for line, module in _imported_modules(path):
            top = module.split(".")[0]
            if top in framework or (top in APPS and not module.startswith("recs.engine")):
                offending.append(f"{path.relative_to(ROOT)}:{line} {module}")
    assert offending == []


def test_recs_engine_loads_without_django():
    code = (
        "import sys, pkgutil, importlib, recs.engine as e\n"
        "for m in pkgutil.iter_modules(e.__path__):\n"
        "    importlib.import_module('recs.engine.' + m.name)\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in {'django', 'graphene'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# ------------------------------------------------ one owner per table: models and raw SQL

#: Apps that own tables. Outside its owner a ``models`` module is not imported: other apps
#: read through the owner's selectors and write through its services.
OWNERS = ("movies", "users", "ratings", "playlists", "recs")

#: No app is exempt. Domain apps pass each other's model instances (``user``, ``movie``
#: arguments) through their public functions, but name the class only in type hints under
#: ``if TYPE_CHECKING:``; lookups and writes go through the owner (``movie_get``,
#: ``users_by_ids``, ``movie_rating_stats_add``). Model definitions point their foreign keys
#: at ``"app.Model"`` strings. Migrations are not scanned (``_sources``): Django generates
#: them against the historical models. Tests are outside the apps and may import anything.


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                lines.update(range(inner.lineno, (inner.end_lineno or inner.lineno) + 1))
    return lines


#: Ways to a model class without importing its module, and the app that owns what they reach.
MODEL_GETTERS = {"django.contrib.auth.get_user_model": "users"}


def foreign_model_imports(path: Path, app: str, source: str | None = None) -> list[str]:
    """Imports in ``path`` (of ``app``) of another owner's ``models`` module (or a getter of
    its model class, :data:`MODEL_GETTERS`), at run time."""
    tree = ast.parse(source if source is not None else path.read_text(), filename=str(path))
    hidden = _type_checking_lines(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            foreign_module = len(parts) >= 2 and parts[0] in OWNERS and parts[1] == "models"
            owner = parts[0] if foreign_module else MODEL_GETTERS.get(name)
            if owner is not None and owner != app and node.lineno not in hidden:
                found.append(f"{path.name}:{node.lineno} {name}")
                break
    return found


def foreign_tables(source: str, app: str, tables: dict[str, str]) -> list[str]:
    """Names of other apps' tables (``tables``: table -> owning app) in ``source``'s strings."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for word in re.findall(r"\b[a-z][a-z0-9_]*\b", node.value):
                if tables.get(word, app) != app:
                    found.append(f"{node.lineno} {word}")
    return found


def _tables() -> dict[str, str]:
    from django.apps import apps

    return {
        model._meta.db_table: model._meta.app_label
        for model in apps.get_models(include_auto_created=True)
    }


def ownership_violations(root: Path, tables: dict[str, str]) -> list[str]:
    """Every app's run-time imports of another owner's models and SQL naming its tables."""
    offending = []
    for app in LAYERS:
        for path in _sources(app, root):
            offending += [f"{app}/{hit}" for hit in foreign_model_imports(path, app)]
            hits = foreign_tables(path.read_text(), app, tables)
            offending += [f"{path.relative_to(root).as_posix()}:{hit}" for hit in hits]
    return offending


def test_apps_import_only_their_own_models_and_name_only_their_own_tables():
    tables = _tables()
    assert {"ratings_rating", "playlists_playlistitem", "movies_movie"} <= set(tables)
    assert ownership_violations(ROOT, tables) == [], (
        "read through the owner's selectors, write through its services"
    )


def test_the_ownership_guards_catch_planted_violations(tmp_path):
    planted = tmp_path / "planted.py"
    source = (
        "from typing import TYPE_CHECKING\n"
        "from ratings.models import Rating\n"
        "import playlists.models\n"
        "from movies import models\n"
        "from recs.models import ModelVersion\n"
        "if TYPE_CHECKING:\n"
        "    from users.models import User\n"
        "SQL = 'SELECT user_id FROM ratings_rating JOIN recs_modelversion ON true'\n"
    )
    hits = foreign_model_imports(planted, "recs", source)
    assert hits == [
        "planted.py:2 ratings.models",
        "planted.py:3 playlists.models",
        "planted.py:4 movies.models",
    ]
    tables = {"ratings_rating": "ratings", "recs_modelversion": "recs"}
    assert foreign_tables(source, "recs", tables) == ["8 ratings_rating"]


def test_domain_apps_are_guarded_too(tmp_path):
    """A domain app importing another's models at run time, or updating its table in SQL,
    fails; a type hint under TYPE_CHECKING and a migration do not."""
    files = {
        "ratings/services.py": (
            "from typing import TYPE_CHECKING\n"
            "from movies.models import Movie\n"
            "if TYPE_CHECKING:\n"
            "    from users.models import User\n"
            "SQL = 'UPDATE movies_movie SET rating_count = 0'\n"
        ),
        "playlists/selectors.py": "from ratings import models\n",
        "users/graphql/dataloaders.py": "import movies.models\n",
        "movies/migrations/0001_initial.py": "from users.models import User\n",
        "users/selectors.py": "from users.models import User\nSQL = 'SELECT 1 FROM users_user'\n",
        "users/backends.py": "from django.contrib.auth import get_user_model\n",
        "recs/selectors.py": "from django.contrib.auth import get_user_model, login\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    tables = {"movies_movie": "movies", "users_user": "users"}
    assert ownership_violations(tmp_path, tables) == [
        "users/dataloaders.py:1 movies.models",
        "ratings/services.py:2 movies.models",
        "ratings/services.py:5 movies_movie",
        "playlists/selectors.py:1 ratings.models",
        "recs/selectors.py:1 django.contrib.auth.get_user_model",
    ]
