"""Imports point one way: families -> the family pipeline and tasks -> harness and judging -> the
sandbox layer (and nothing in a lower layer imports a higher one, nor harness and judging each
other). Read from the source with `ast`, so a new import that breaks the order fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import redline_evals

PACKAGE = Path(redline_evals.__file__).parent

RANK = {
    "__init__": 0,
    "resources": 0,
    "sandbox": 1,
    "params": 1,
    "images": 1,
    "providers": 2,
    "judging": 2,
    "harness": 2,
    "doctor": 2,
    "spec": 3,
    "family": 4,
    "task": 5,
    "families": 6,
    "controls": 7,
    "reporting": 7,
    "analysis": 7,
    "validity": 8,
    "cli": 9,
    "_registry": 9,
}
"""Each part of the package (a subpackage or a top-level module) and its layer: a part may import
only parts of lower layers (and itself)."""


def part(module: str) -> str:
    """The part a module belongs to (a name imported from the package itself is `__init__`)."""
    pieces = module.split(".")
    known = len(pieces) > 1 and any(
        (PACKAGE / pieces[1]).with_suffix(s).exists() for s in ("", ".py")
    )
    return pieces[1] if known else "__init__"


def imports() -> list[tuple[str, str, str]]:
    """(importing module, its part, imported part) for every import of another part."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        module = module.removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("redline_evals"):
                continue
            targets = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
            found += [(module, part(module), part(t)) for t in targets if part(t) != part(module)]
    return found


def test_every_part_has_a_layer() -> None:
    parts = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()}
    parts = {p for p in parts if not p.startswith(("__pycache__", "py")) and p != "tasks"}
    parts -= {"sandboxes"}  # data folders of an installed wheel
    assert parts <= set(RANK), sorted(parts - set(RANK))


def test_imports_point_down() -> None:
    wrong = [f"{m} imports {t}" for m, p, t in imports() if RANK[t] >= RANK[p]]
    assert not wrong, wrong


def test_the_check_sees_imports() -> None:
    assert ("redline_evals.family", "family", "judging") in imports()
