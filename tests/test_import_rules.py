"""The map of the rooms, checked: the imports each room may not make (DESIGN.md: data flows
samplers -> renderers -> training -> models; body and geometry are the floor; the pictures room
vis draws what the others compute and nothing below it draws). Every import
statement of every module is read with ``ast`` (function-level imports included), so a
forbidden import anywhere in a room fails this test with the file and the line."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ABOVE_THE_FLOOR = ("mocap_hmr.data", "mocap_hmr.models", "mocap_hmr.training", "mocap_hmr.evaluation",
                   "mocap_hmr.studies", "mocap_hmr.vis", "renderers", "samplers")
# room (a folder of the repository) -> module prefixes it never imports
RULES = {
    "mocap_hmr/geometry": ("mocap_hmr.body", *ABOVE_THE_FLOOR),
    "mocap_hmr/body": ABOVE_THE_FLOOR,
    "samplers": ("renderers", "mocap_hmr.training", "mocap_hmr.evaluation", "mocap_hmr.studies", "mocap_hmr.vis"),
    "renderers": ("mocap_hmr.training", "mocap_hmr.evaluation", "mocap_hmr.studies", "mocap_hmr.vis"),
    "mocap_hmr/data": ("renderers", "mocap_hmr.training", "mocap_hmr.evaluation", "mocap_hmr.studies",
                       "mocap_hmr.vis"),
    "mocap_hmr/models": ("renderers", "samplers", "mocap_hmr.training", "mocap_hmr.evaluation",
                         "mocap_hmr.studies", "mocap_hmr.vis"),
    "mocap_hmr/vis": ("mocap_hmr.training", "mocap_hmr.evaluation", "mocap_hmr.studies"),
}


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("room", RULES)
def test_rooms_never_import_what_they_must_not(room):
    files = sorted((ROOT / room).rglob("*.py"))
    assert files, f"{room}: no Python files (a renamed room must be renamed here too)"
    broken = [f"{path.relative_to(ROOT)}:{line} imports {module}"
              for path in files for line, module in imports(path)
              if any(module == banned or module.startswith(banned + ".") for banned in RULES[room])]
    assert not broken, "\n".join(broken)


def test_the_checker_sees_function_level_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import os\n\ndef f():\n    from renderers.synthetic import SyntheticRenderer\n")
    assert imports(module) == [(1, "os"), (4, "renderers.synthetic")]
