"""Generate the student stubs in ``assignments/`` from the reference in ``solutions/``.

The reference is the single source. Each ``### BEGIN SOLUTION`` ... ``### END SOLUTION``
block (nbgrader's markers) inside a function is replaced by a TODO and
``raise NotImplementedError("<function>")``; each ``### BEGIN HINTS`` ... ``### END HINTS``
block of a docstring (what the grader's feedback reveals, stage by stage: ``hints.py``) is
dropped; everything else (docstrings, given helpers, modules without markers) is copied
unchanged, so the stubs always import cleanly.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

from ..errors import InputError
from ..hints import BEGIN_HINTS, END_HINTS

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
_MARKER = re.compile(r"^(?P<indent>[ \t]*)### (?P<which>BEGIN|END) SOLUTION\s*$")
_HEADER = (
    "# Student version of {name}, generated from the reference solution.\n"
    "# Replace every `raise NotImplementedError` with your code; keep the names and signatures.\n"
)


class MarkerError(InputError):
    """A solution file whose markers can't be stripped safely."""

    def __init__(self, path: str, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line = path, line


def _enclosing_functions(source: str, path: str) -> list[tuple[int, int, str]]:
    """(first line, last line, name) of every function, innermost last when nested."""
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        raise MarkerError(path, exc.lineno or 0, f"not valid Python: {exc.msg}") from None
    return [
        (node.lineno, node.end_lineno, node.name)
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]


def strip_solutions(source: str, path: str = "<source>") -> str:
    """Return ``source`` with every solution block replaced by a stub.

    Raises ``MarkerError`` (with file and line) for a marker outside a function, a BEGIN
    inside a block, an END without a BEGIN, a BEGIN never closed, or an END at another
    indentation than its BEGIN.
    """
    functions = _enclosing_functions(source, path)
    out: list[str] = []
    open_block: tuple[int, str, str] | None = None  # (line, indent, function name)
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        marker = _MARKER.match(line.rstrip("\r\n"))
        if marker is None and ("### BEGIN SOLUTION" in line or "### END SOLUTION" in line):
            raise MarkerError(path, number, "a solution marker must stand alone on its line")
        if marker is None:
            if open_block is None:
                out.append(line)
            continue
        indent, which = marker["indent"], marker["which"]
        if which == "BEGIN":
            if open_block is not None:
                raise MarkerError(path, number, f"BEGIN SOLUTION inside the block opened at line {open_block[0]}")
            inside = [f for f in functions if f[0] < number <= f[1]]
            if not inside:
                raise MarkerError(path, number, "solution block outside a function: the stub would not import")
            name = max(inside, key=lambda f: f[0])[2]
            open_block = (number, indent, name)
        else:
            if open_block is None:
                raise MarkerError(path, number, "END SOLUTION without a BEGIN SOLUTION")
            if indent != open_block[1]:
                raise MarkerError(path, number, f"END SOLUTION indented differently from its BEGIN at line {open_block[0]}")
            out.append(f"{indent}# TODO: your code here (read the docstring above)\n")
            out.append(f'{indent}raise NotImplementedError("{open_block[2]}")\n')
            open_block = None
    if open_block is not None:
        raise MarkerError(path, open_block[0], "BEGIN SOLUTION is never closed by END SOLUTION")
    return "".join(out)


def strip_hints(source: str, path: str = "<source>") -> str:
    """``source`` without its hint blocks (and the blank line before each)."""
    out: list[str] = []
    opened = 0
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        mark = line.strip()
        if mark == BEGIN_HINTS:
            if opened:
                raise MarkerError(path, number, f"BEGIN HINTS inside the block opened at line {opened}")
            opened = number
            if out and not out[-1].strip():
                out.pop()
        elif mark == END_HINTS:
            if not opened:
                raise MarkerError(path, number, "END HINTS without a BEGIN HINTS")
            opened = 0
        elif not opened:
            out.append(line)
    if opened:
        raise MarkerError(path, opened, "BEGIN HINTS is never closed by END HINTS")
    return "".join(out)


def render(solutions: Path) -> dict[str, str]:
    """The stub text of every module in ``solutions`` (file name -> text)."""
    stubs = {}
    for path in sorted(solutions.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        stub = strip_solutions(strip_hints(source, str(path)), str(path))
        stubs[path.name] = _HEADER.format(name=path.name) + stub if stub != source else source
    return stubs


def write(solutions: Path, assignments: Path) -> list[str]:
    """Regenerate ``assignments`` from ``solutions``; return the names written.

    Every stub is rendered before any file is written, so a marker error leaves the
    old stubs untouched. Stale ``.py`` files with no reference are removed.
    """
    stubs = render(solutions)
    assignments.mkdir(parents=True, exist_ok=True)
    for stale in set(p.name for p in assignments.glob("*.py")) - set(stubs):
        (assignments / stale).unlink()
    for name, text in stubs.items():
        (assignments / name).write_text(text, encoding="utf-8")
    return sorted(stubs)


def drift(solutions: Path, assignments: Path) -> list[str]:
    """Names of stubs in ``assignments`` that differ from what ``render`` produces."""
    stubs = render(solutions)
    present = {p.name for p in assignments.glob("*.py")}
    changed = [n for n, text in stubs.items()
               if n not in present or (assignments / n).read_text(encoding="utf-8") != text]
    return sorted(changed + sorted(present - set(stubs)))
