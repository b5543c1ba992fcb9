"""Hints that feedback reveals when a check fails, stage by stage, from the single source.

The reference's docstrings (``solutions/``) hold them in ``### BEGIN HINTS`` ...
``### END HINTS`` blocks, which the stubs drop (``stubs.strip_hints``): what the lecture
leaves to the student (a derivative, a reduction, an overflow-safe recipe) is not handed
over in the stub, but explained when the matching check fails. Each line ``topic: text``
(continued on more-indented lines) is the next stage of that topic's hint: a nudge, then
the idea, then the recipe. Feedback shows the stages up to ``level()``: config.HINT_LEVEL,
or ``$AUTOGRADER_HINTS`` (``python -m autograder check --hints 3`` shows the recipes).
"""
from __future__ import annotations

import ast
import os
import re
from functools import lru_cache

from . import config
from .reference import module as _module

BEGIN_HINTS, END_HINTS = "### BEGIN HINTS", "### END HINTS"

_STAGE = re.compile(r"^(?P<topic>[a-z0-9_]+): (?P<text>.+)$")
STAGES = ("", "Next: ", "Recipe: ")


def parse(docstring: str) -> dict[str, list[str]]:
    """topic -> its stages, from the hint block of one docstring."""
    topics: dict[str, list[str]] = {}
    inside, last = False, None
    for line in (docstring or "").splitlines():
        mark = line.strip()
        if mark in (BEGIN_HINTS, END_HINTS):
            inside, last = mark == BEGIN_HINTS, None
        elif inside and mark:
            stage = _STAGE.match(mark)
            if stage:
                last = topics.setdefault(stage["topic"], [])
                last.append(stage["text"])
            elif last is not None:
                last[-1] += " " + mark
    return topics


@lru_cache(maxsize=None)
def _docstrings(module: str) -> dict[str, str]:
    source = open(_module(module).__file__, encoding="utf-8").read()
    return {node.name: ast.get_docstring(node, clean=True) or ""
            for node in ast.walk(ast.parse(source)) if isinstance(node, ast.FunctionDef)}


@lru_cache(maxsize=None)
def of(module: str, function: str) -> dict[str, list[str]]:
    """The hints of the reference's ``module.function`` (read from its source, not run)."""
    return parse(_docstrings(module).get(function, ""))


def level() -> int:
    try:
        return max(1, min(len(STAGES), int(os.environ.get("AUTOGRADER_HINTS", config.HINT_LEVEL))))
    except ValueError:
        return config.HINT_LEVEL


def hint(module: str, function: str, topic: str, fallback: str = "") -> str:
    """The staged hint for ``topic`` of ``module.function`` up to ``level()``, or ``fallback``
    when the reference has none."""
    stages = of(module, function).get(topic)
    if not stages:
        return fallback
    shown = [prefix + text for prefix, text in zip(STAGES, stages[:level()])]
    more = "" if level() >= len(stages) else f" (`check --hints {len(stages)}` shows more.)"
    return " ".join(shown) + more
