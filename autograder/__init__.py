"""The hidden autograder for the 'better activation functions' exercises.

``from autograder import grade; grade(path)`` grades one submission folder or zip and
returns a ``GradeResult`` (``.to_dict()`` for plain data).
"""
from __future__ import annotations


def grade(path):
    from .runner import grade as _grade

    return _grade(path)


__all__ = ["grade"]
