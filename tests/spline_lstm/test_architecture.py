"""The layout's promises hold: no Prefect in the stage logic, I/O only where it is announced."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "spline_lstm"
PURE = ("transforms", "windows", "selection", "evaluation", "reporting")
FILE_METHODS = {"open", "write_text", "write_bytes", "read_text", "read_bytes", "unlink",
                "mkdir", "rmtree", "savez", "to_csv", "to_parquet"}
FILE_MODULES = {"shutil", "tempfile", "pickle"}
ALLOWED = {("reporting/failure.py", "read_text")}  # the failure card quotes the runbook


def _modules(subpackage: str = "") -> list[Path]:
    return sorted((PACKAGE / subpackage).rglob("*.py"))


def _imports(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_stage_logic_does_not_import_prefect(path):
    imports = _imports(ast.parse(path.read_text()))
    assert not {m for m in imports if m.split(".")[0] == "prefect"}


@pytest.mark.parametrize("path", [p for s in PURE for p in _modules(s)],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_pure_subpackages_touch_no_files(path):
    tree = ast.parse(path.read_text())
    relative = str(path.relative_to(PACKAGE))
    imports = _imports(tree)
    assert not {m for m in imports if m.startswith("spline_lstm.store")}
    assert not imports & FILE_MODULES
    calls = {node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
             for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, (ast.Attribute, ast.Name))}
    assert not {c for c in calls & FILE_METHODS if (relative, c) not in ALLOWED}
