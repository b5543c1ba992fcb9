"""The Gradescope autograder: build its zip here, run it there.

    python -m autograder gradescope OUT.zip

The zip holds ``setup.sh`` (bubblewrap, a venv, the pinned requirements), ``run_autograder``,
``requirements.txt`` (every package the grader needs, at the version installed here), the
``autograder`` package (hidden checks included) and ``solutions/``. Upload it as the
assignment's autograder; students never see it.

On Gradescope, ``run_autograder`` calls ``python -m autograder.gradescope ROOT`` (``run``
below): grade ``ROOT/submission`` and write ``ROOT/results/results.json``, always, with a
score of 0 and a clear message when the submission can't be read or the grader fails; if
even Python fails, ``run_autograder`` writes that message itself. ROOT is ``/autograder``
there; ``AUTOGRADER_ROOT`` moves it (for our tests).
"""
from __future__ import annotations

import importlib.metadata
import json
import sys
import traceback
import zipfile
from pathlib import Path

from . import config

TEMPLATES = Path(__file__).resolve().parent / "templates"
PACKAGE = Path(__file__).resolve().parent
EPOCH = (1980, 1, 1, 0, 0, 0)  # every entry's date: the same sources give the same zip


def dependencies() -> list[str]:
    """The project's runtime requirements, as pyproject.toml states them (read from the
    installed metadata: tomllib needs Python 3.11, the project supports 3.10)."""
    from packaging.requirements import Requirement

    requires = importlib.metadata.requires("better-activations-course") or []
    return [r for r in requires if Requirement(r).marker is None]


def pinned() -> list[str]:
    """``name==version`` for the runtime requirements and everything they need, as
    installed in this environment (markers evaluated for this Python)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    todo, pins = [Requirement(r) for r in dependencies()], {}
    while todo:
        req = todo.pop()
        key = canonicalize_name(req.name)
        if key in pins:
            continue
        dist = importlib.metadata.distribution(req.name)
        pins[key] = f"{dist.metadata['Name']}=={dist.version}"
        for line in dist.requires or []:
            sub = Requirement(line)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in req.extras | {""}):
                todo.append(sub)
    return [pins[k] for k in sorted(pins)]


def _add(archive: zipfile.ZipFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = zipfile.ZipInfo(name, EPOCH)
    info.external_attr = (0o100000 | mode) << 16  # a regular file with these permissions
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def build(out: Path) -> list[str]:
    """Write the autograder zip to ``out``; return the names it holds."""
    files: dict[str, tuple[bytes, int]] = {
        "setup.sh": ((TEMPLATES / "setup.sh").read_bytes(), 0o755),
        "run_autograder": ((TEMPLATES / "run_autograder").read_text(encoding="utf-8").replace(
            "@TIMEOUT@", str(config.GRADESCOPE_TIMEOUT)).encode(), 0o755),
        "requirements.txt": (("\n".join(pinned()) + "\n").encode(), 0o644),
    }
    for root in (PACKAGE, config.SOLUTIONS):
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root.parent)
            if path.is_file() and not path.is_symlink() and not any(
                    p == "__pycache__" or p.startswith(".") for p in rel.parts):
                files[rel.as_posix()] = (path.read_bytes(), 0o644)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        for name in sorted(files):
            _add(archive, name, *files[name])
    tmp.replace(out)
    return sorted(files)


def _failure(message: str) -> dict:
    from .report.gradescope import to_gradescope
    from .results import GradeResult

    return to_gradescope(GradeResult("submission", [], "none", 0.0, [message]))


def run(root: Path) -> int:
    """Grade ``root/submission`` into ``root/results/results.json``; never leave without it."""
    from .collect import SubmissionError
    from .report import gradescope as report

    results = root / "results" / "results.json"
    try:
        from .runner import grade

        data = report.to_gradescope(grade(root / "submission"))
    except SubmissionError as exc:
        data = _failure(f"Your submission could not be read: {exc}. Upload your .py files "
                        "(or a zip of them) and submit again.")
    except BaseException:  # the grader's fault, whatever it is: still answer the student
        traceback.print_exc()
        data = _failure("The autograder itself failed while grading your submission. This is "
                        "not your grade: your instructor has been told.")
    results.parent.mkdir(parents=True, exist_ok=True)
    tmp = results.with_name("results.json.tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    tmp.replace(results)
    return 0


if __name__ == "__main__":
    sys.exit(run(Path(sys.argv[1])))
