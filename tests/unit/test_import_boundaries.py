"""The two services share code only through ``shared`` (the vote store is shared/votestore): no module of
admin_service imports voting_service, directly or through another module, nor the other way round. Read
from the source (every ``import`` statement, function-level ones included), so nothing is executed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("admin_service", "voting_service", "shared")


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    is_pkg = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_pkg else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base, *(f"{base}.{a.name}" for a in node.names)]
        for target in targets:
            parts = target.split(".")
            for i in range(1, len(parts) + 1):  # importing a.b.c runs a and a.b first
                if ".".join(parts[:i]) in known:
                    found.add(".".join(parts[:i]))
    return found


def _reachable(start: str, graph: dict[str, set[str]]) -> dict[str, str]:
    """module -> the module that imported it, for everything ``start`` imports, transitively."""
    via: dict[str, str] = {}
    todo = [start]
    while todo:
        mod = todo.pop()
        for dep in graph[mod]:
            if dep not in via and dep != start:
                via[dep] = mod
                todo.append(dep)
    return via


GRAPH = {name: _imports(name, path, _modules()) for name, path in _modules().items()}


def _chain(start: str, end: str, via: dict[str, str]) -> str:
    chain = [end]
    while chain[-1] != start:
        chain.append(via[chain[-1]])
    return " -> ".join(reversed(chain))


@pytest.mark.parametrize(("service", "other"), [("admin_service", "voting_service"),
                                                ("voting_service", "admin_service")])
def test_a_service_never_imports_the_other(service, other):
    assert any(m.startswith(service) for m in GRAPH)
    bad = []
    for mod in sorted(m for m in GRAPH if m == service or m.startswith(service + ".")):
        via = _reachable(mod, GRAPH)
        bad += [_chain(mod, dep, via) for dep in sorted(via) if dep == other or dep.startswith(other + ".")][:1]
    assert not bad, f"{service} reaches {other}; share it through shared/ instead:\n" + "\n".join(bad)


def test_the_walker_sees_imports_in_functions_and_relative_ones():
    assert "shared.votestore.reconcile" in GRAPH["admin_service.services.finalise"]
    assert "shared.votestore.vote" in GRAPH["voting_service.services.ballot_box"]
    assert "shared.votestore.keys" in GRAPH["shared.votestore.vote"]
