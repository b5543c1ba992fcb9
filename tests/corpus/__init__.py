"""Submissions made from the reference by swapping one function for another version.

A ``Variant`` names a reference module and gives the full source of one or more
top-level functions (or module-level lines to append); ``build`` copies ``solutions/``
and swaps them in, so every variant differs from the reference in exactly what it says.
Buggy variants list the functions they may cost points on (the broken one, plus any
reference function that calls it); correct variants must earn full marks.
"""
from __future__ import annotations

import ast
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

from autograder import config


@dataclass(frozen=True)
class Variant:
    id: str
    module: str                  # "activations", "derivatives", ...
    source: str                  # replacement source: one or more top-level defs
    breaks: tuple[str, ...] = () # functions that must lose points (empty: a correct variant)
    also: tuple[str, ...] = ()   # functions that may lose points too (they call a broken one)
    why: str = ""                # the bug, in a few words


def swap(module_source: str, replacement: str) -> str:
    """``module_source`` with each top-level def in ``replacement`` put in place of its
    namesake (appended when the module has none)."""
    replacement = textwrap.dedent(replacement).strip("\n") + "\n"
    new_defs = {n.name: ast.get_source_segment(replacement, n, padded=True)
                for n in ast.parse(replacement).body if isinstance(n, ast.FunctionDef)}
    extra = [ast.get_source_segment(replacement, n) for n in ast.parse(replacement).body
             if not isinstance(n, ast.FunctionDef)]
    lines = module_source.splitlines(keepends=True)
    tree = ast.parse(module_source)
    for node in sorted((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in new_defs),
                       key=lambda n: n.lineno, reverse=True):
        start = node.lineno - 1 - len(node.decorator_list)
        lines[start:node.end_lineno] = [new_defs.pop(node.name) + "\n"]
    tail = "".join(f"\n\n{src}\n" for src in [*extra, *new_defs.values()])
    return "".join(lines) + tail


def build(variant: Variant, folder: Path) -> Path:
    """Write the submission for ``variant`` into ``folder`` (created) and return it."""
    shutil.copytree(config.SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    target = folder / f"{variant.module}.py"
    target.write_text(swap(target.read_text(encoding="utf-8"), variant.source), encoding="utf-8")
    return folder


def lost(result) -> dict:
    """function -> (score, max) for every function a graded result lost points on."""
    return {f: (s, m) for f, (s, m) in result.by_function().items() if s < m}


def assert_full_marks(result, label: str) -> None:
    """A correct variant (``label`` says which) loses no point anywhere."""
    failed = [f"{t.name}: {t.output}" for t in result.tests if not t.passed]
    assert not failed, f"{label} lost points:\n" + "\n".join(failed)


def assert_costs_only_what_it_breaks(variant: Variant, result) -> None:
    """A buggy variant loses points on every function it breaks and on nothing outside
    ``breaks + also``; each failed check says why, without showing hidden test code."""
    taken = lost(result)
    missed = [f for f in variant.breaks if f not in taken]
    assert not missed, f"{variant.id} ({variant.why}) cost nothing on {missed}"
    extra = sorted(set(taken) - set(variant.breaks) - set(variant.also))
    assert not extra, (f"{variant.id} ({variant.why}) also cost points on {extra}:\n"
                       + "\n".join(f"{t.name}: {t.output}" for t in result.tests
                                   if t.function in extra and not t.passed))
    for t in result.tests:
        if not t.passed:
            assert t.output.strip(), f"{t.name} failed without a message"
            assert "def " not in t.output and "assert " not in t.output, t.output
