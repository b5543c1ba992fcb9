"""The reference solutions, imported in the grader process only (never in the sandbox)."""
from __future__ import annotations

import importlib
import sys
from types import ModuleType

from .config import SOLUTIONS


def module(name: str) -> ModuleType:
    """The reference module ``name`` (e.g. ``"activations"``) from ``solutions/``."""
    if str(SOLUTIONS) not in sys.path:
        sys.path.insert(0, str(SOLUTIONS))
    return importlib.import_module(name)


def function(module_name: str, function_name: str):
    return getattr(module(module_name), function_name)
