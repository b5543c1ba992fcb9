"""Exercise notebooks (nbgrader's ``<module>.ipynb``) turned into the modules the grader runs.

A notebook's module is its code cells in order, without nbgrader's test cells (their hidden
part calls the grader). Each cell is parsed alone: a cell with a syntax error is left out
with a note naming it, so it costs only the functions it defines, not the whole notebook.
Every message the grader writes about a line of the module (``(activations.py, line 73)``,
``activations.py has a syntax error ... (line 73)``) is rewritten to name the notebook, the
cell (by nbgrader's ``grade_id``, else the cell's id) and the line in that cell: the student
never had the ``.py``.

Standard library only: the course's ``nbimport.py`` ships this module's code, so notebooks
import each other the way the grader reads them.
"""
import ast
import json
import re
from dataclasses import dataclass, field

SEPARATOR = "\n\n\n"  # between two cells in the module (keeps line numbers countable)
# The course's helper that lets one notebook import another (nbgrader_course.py ships it).
# The grader has the modules as files, so a notebook's `import nbimport` is left out.
IMPORTER = "nbimport"
# The course's visible cell that runs the public checks (test_public.py) in the kernel: not
# part of the module (it would run the checks at every import).
PUBLIC_CHECKS = "public-checks"


@dataclass
class Cell:
    label: str       # "cell 'relu-5-solution'"
    first_line: int  # of the cell in the module, 1-based
    lines: int


@dataclass
class Converted:
    source: str
    cells: list[Cell] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _label(cell: dict, index: int) -> str:
    meta = cell.get("metadata", {}) if isinstance(cell.get("metadata"), dict) else {}
    nb = meta.get("nbgrader", {}) if isinstance(meta.get("nbgrader"), dict) else {}
    name = nb.get("grade_id") or cell.get("id")
    return f"cell '{name}'" if isinstance(name, str) and name else f"cell {index + 1}"


def _is_test_cell(cell: dict) -> bool:
    """nbgrader's test cells and the course's public-checks cell: not the module's code."""
    meta = cell.get("metadata", {})
    nb = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    if not isinstance(nb, dict):
        return False
    return (bool(nb.get("grade")) and not nb.get("solution")) or \
        str(nb.get("grade_id", "")).endswith(f"-{PUBLIC_CHECKS}")


def _text(cell: dict) -> str:
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else str(source)
    # IPython-only lines (%magic, !shell) are not Python, and the importer is not needed:
    # kept as comments, so line numbers stay
    return "\n".join("# " + line if line.lstrip().startswith(("%", "!"))
                     or line.split("#")[0].strip() == f"import {IMPORTER}" else line
                     for line in source.splitlines())


def convert(data: bytes, name: str) -> Converted:
    """The module of the notebook ``name`` (e.g. ``activations.ipynb``) whose file holds
    ``data``. Raises ValueError when the file is not a notebook."""
    try:
        notebook = json.loads(data.decode("utf-8"))
        cells = notebook["cells"]
        if not isinstance(cells, list):
            raise TypeError("cells is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{name} is not a readable notebook ({exc})") from None
    out = Converted("")
    parts: list[str] = []
    line = 1
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code" or _is_test_cell(cell):
            continue
        text, label = _text(cell), _label(cell, index)
        try:
            ast.parse(text)
        except SyntaxError as exc:
            out.notes.append(f"{name}, {label} has a syntax error: {exc.msg} (line {exc.lineno} "
                             f"of the cell). The cell was left out, so whatever it defines "
                             f"scores 0; the other cells were graded.")
            text = f"# {label}: left out (a syntax error)"
        parts.append(text)
        out.cells.append(Cell(label, line, text.count("\n") + 1))
        line += text.count("\n") + SEPARATOR.count("\n")  # the separator's blank lines
    out.source = SEPARATOR.join(parts) + "\n"
    return out


def where(notebook: str, cells: list[Cell], line: int) -> str | None:
    """``notebook, cell '...', line k`` for line ``line`` of the module, or None."""
    for cell in cells:
        if cell.first_line <= line < cell.first_line + cell.lines:
            return f"{notebook}, {cell.label}, line {line - cell.first_line + 1}"
    return None


def locate(text: str, converted: dict[str, Converted]) -> str:
    """``text`` with every reference to a line of a converted module (``module`` -> its
    ``Converted``) rewritten to the notebook's cell; other modules are left as they are."""
    if not converted or not text:
        return text

    def fix(match: re.Match) -> str:
        module, line = match.group("module"), int(match.group("line"))
        found = module in converted and where(f"{module}.ipynb", converted[module].cells, line)
        return f"({found})" if found else match.group(0)

    text = re.sub(r"\((?P<module>\w+)\.py, line (?P<line>\d+)\)", fix, text)
    for module in converted:  # any other mention of the module's file
        text = text.replace(f"{module}.py", f"{module}.ipynb")
    return text
