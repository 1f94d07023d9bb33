"""The map of the rooms, checked: the imports each room may not make, read from the one place
they are written, the table under "Map of the rooms" in README.md (data flows samplers ->
renderers -> training -> models; body and geometry are the floor; the pictures room vis draws
what the others compute and nothing below it draws). Every import statement of every module is
read with ``ast`` (function-level imports included), so a forbidden import anywhere in a room
fails this test with the file and the line."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP_LEVEL = ("renderers", "samplers")  # rooms beside mocap_hmr/; every other room is mocap_hmr/<room>
MARKER = "<!-- import rules: read by tests/test_import_rules.py -->"


def _module(room: str) -> str:
    return room if room in TOP_LEVEL else f"mocap_hmr.{room}"


def read_rules(readme: Path = ROOT / "README.md") -> dict[str, tuple[str, ...]]:
    """Folder of a room -> the module prefixes it never imports, from the README's table."""
    text = readme.read_text()
    assert MARKER in text, f"{readme}: no import-rules table (the line {MARKER!r} and a fenced table after it)"
    block = text.split(MARKER, 1)[1].split("```")[1]
    rows = [line.split() for line in block.strip().splitlines()[1:]]  # after the header row
    return {_module(room).replace(".", "/"): tuple(_module(r) for r in banned) for room, *banned in rows}


RULES = read_rules()


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
    assert files, f"{room}: no Python files (a renamed room must be renamed in README.md's table too)"
    broken = [f"{path.relative_to(ROOT)}:{line} imports {module}"
              for path in files for line, module in imports(path)
              if any(module == banned or module.startswith(banned + ".") for banned in RULES[room])]
    assert not broken, "\n".join(broken)


def test_the_table_names_only_rooms_that_exist():
    rooms = {folder for folder in RULES} | {m.replace(".", "/") for banned in RULES.values() for m in banned}
    assert all((ROOT / room).is_dir() for room in rooms), sorted(r for r in rooms if not (ROOT / r).is_dir())


def test_the_checker_sees_function_level_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import os\n\ndef f():\n    from renderers.synthetic import SyntheticRenderer\n")
    assert imports(module) == [(1, "os"), (4, "renderers.synthetic")]


def test_the_table_is_read_as_written(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"{MARKER}\n```\nroom  never imports\ngeometry  body renderers\nsamplers  training\n```\n")
    assert read_rules(readme) == {"mocap_hmr/geometry": ("mocap_hmr.body", "renderers"),
                                  "samplers": ("mocap_hmr.training",)}
