"""Dependencies point one way: notifier ← channels ← workers ← admin_ui. The domain imports no
web framework, queue or provider SDK, so its rules hold wherever they are called from.

Every import statement is read (module level or inside a function), not only what a test run
happens to load.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("notifier", "channels", "workers", "admin_ui")
# What each layer may not import, beyond the layers above it.
FORBIDDEN = {
    "notifier": {"flask", "flask_talisman", "werkzeug", "rq", "twilio", "aiosmtplib", "apprise",
                 "aiohttp", "playwright"},
    "channels": {"flask", "flask_talisman", "werkzeug", "rq"},
    "workers": {"flask", "flask_talisman", "werkzeug"},
    "admin_ui": set(),
}
# `python -m notifier` (DESIGN §6) is a composition root, like the Procfile: its `resume`
# command wires the workers' sweep. The domain's modules themselves never do.
COMPOSITION_ROOTS = {"notifier/__main__.py": {"workers"}}


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every absolute import in `path`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def violations(layer: str) -> list[str]:
    above = set(LAYERS[LAYERS.index(layer) + 1:])
    banned = above | FORBIDDEN[layer]
    out = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        allowed = COMPOSITION_ROOTS.get(str(path.relative_to(ROOT)), set())
        for line, package in imported(path):
            if package in banned - allowed:
                out.append(f"{path.relative_to(ROOT)}:{line} imports {package}")
    return out


@pytest.mark.parametrize("layer", LAYERS)
def test_no_layer_imports_upward_or_what_it_must_not_depend_on(layer):
    assert violations(layer) == []


def test_the_check_sees_an_upward_import(tmp_path, monkeypatch):
    # The walk itself: a domain module importing Flask inside a function is found.
    (tmp_path / "notifier").mkdir()
    (tmp_path / "notifier" / "bad.py").write_text("def f():\n    from flask import g\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert violations("notifier") == ["notifier/bad.py:2 imports flask"]


def test_every_channel_module_is_registered_under_its_own_name():
    import importlib

    from channels.registry import IMPLEMENTATIONS
    from notifier import channel_specs

    # A module with a CHANNEL that no spec names would never send: each one is registered.
    modules = {}
    for path in sorted((ROOT / "channels").glob("*.py")):
        found = getattr(importlib.import_module(f"channels.{path.stem}"), "CHANNEL", None)
        if found is not None:
            modules[path.stem] = found
    assert set(modules) == set(channel_specs.NAMES) == set(IMPLEMENTATIONS)
    assert all(found.name == name for name, found in modules.items())
