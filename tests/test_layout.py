"""The shape of the code (docs/design.md §9): dependencies point one way, the store has one
owner, modules stay small and say what they own, and every pointer into docs/design.md lands."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "pipeline"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_LINES = 400
SQL = re.compile(r"\.(?:execute|executemany|executescript)\(|read_sql")


def test_the_dependency_rule_holds():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.skip("import-linter is not installed (pip install '.[test]')")
    done = subprocess.run([lint, "--config", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_is_small_and_says_what_it_owns(path: Path):
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_LINES
    if path.name != "__main__.py":
        assert ast.get_docstring(ast.parse(text)), f"{path.name} has no docstring"


def test_only_the_roster_package_speaks_sql():
    outside = [str(p.relative_to(PACKAGE)) for p in MODULES
               if "roster" not in p.relative_to(PACKAGE).parts and SQL.search(p.read_text(encoding="utf-8"))]
    assert outside == []


def test_every_pointer_into_the_design_lands():
    sections = {int(n) for n in re.findall(r"^## (\d+)\.", (ROOT / "docs" / "design.md").read_text(encoding="utf-8"),
                                              re.M)}
    texts = [p.read_text(encoding="utf-8") for p in [*MODULES, *ROOT.glob("tests/**/*.py"), ROOT / "README.md"]]
    pointed = {int(n) for text in texts for n in re.findall(r"docs/design\.md §(\d+)", text)}
    assert pointed and pointed <= sections
    assert not any(re.search("DESIGN" + r" §", text) for text in texts)  # a document outside the repository
