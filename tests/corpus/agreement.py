"""Every corpus submission with what the hidden grade says of it, for measuring the public
sample against it (bench/public_agreement.py, tests/test_public_sample.py).

A ``Submission`` is one variant of the corpora: the one-bug variants (which the corpus tests
show lose hidden points on what they break), the different-but-correct ones (full marks),
and the do-nothing fakes (nothing earned on what they fake). ``public_failures`` runs the
public sample on it as ``python -m autograder check`` does.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from autograder.workflows import public_check
from tests.corpus import build as build_variant
from tests.corpus import activation_bugs, do_nothing, do_nothing_experiments, experiment_bugs

ELEMENTWISE = ("activations", "derivatives")


@dataclass(frozen=True)
class Submission:
    id: str
    group: str                 # "bug", "correct" or "do-nothing"
    modules: tuple             # the modules it changes (the rest is the reference)
    build: Callable[[Path], Path]
    why: str = ""

    @property
    def loses_points(self) -> bool:
        """What the corpus tests assert of its hidden grade: bugs and fakes lose points,
        correct variants earn full marks."""
        return self.group != "correct"

    @property
    def select(self) -> str:
        """The hidden checks of the modules it changes (a pytest -k expression)."""
        return " or ".join(f"test_{m}" for m in self.modules)


def _variant(v, group) -> Submission:
    modules = ELEMENTWISE if v.module in ELEMENTWISE else (v.module,)
    return Submission(v.id, group, modules, lambda folder, v=v: build_variant(v, folder), v.why)


def submissions() -> list[Submission]:
    out = [_variant(v, "bug") for v in (*activation_bugs.BUGS, *experiment_bugs.BUGS)]
    out += [_variant(v, "correct") for v in (*activation_bugs.CORRECT, *experiment_bugs.CORRECT)]
    out += [Submission(v.id, "do-nothing", ELEMENTWISE,
                       lambda folder, v=v: do_nothing.build(v, folder), v.why)
            for v in do_nothing.VARIANTS]
    out += [_variant(v, "do-nothing") for v in do_nothing_experiments.FAKES]
    return out


def public_failures(folder: Path, modules: tuple | None = None) -> dict[str, str]:
    """The public cases (of ``modules``, default all) the submission in ``folder`` fails:
    id -> message."""
    result = public_check.run(folder, modules=modules)
    return {t.name: t.output for t in result.tests if not t.passed}


def public_total(modules: tuple | None = None) -> int:
    return sum(modules is None or c["module"] in modules for c in public_check.cases())


def by_id() -> dict[str, Submission]:
    subs = submissions()
    ids = {s.id: s for s in subs}
    assert len(ids) == len(subs), "two corpus submissions share an id"
    return ids
