"""The Gradescope autograder: build its zip here, run it there.

    python -m autograder gradescope OUT.zip

The zip holds ``setup.sh`` (bubblewrap, a venv, the pinned requirements), ``run_autograder``,
``requirements.txt`` (every package the grader needs, resolved by pip for each Python of
``config.GRADESCOPE_PYTHONS``, the Pythons of Gradescope's base images: building the zip
needs the package index; setup.sh stops with a message on any other Python), the
``autograder`` package (hidden checks included) and ``solutions/``. Upload it as the
assignment's autograder; students never see it.

On Gradescope, ``run_autograder`` calls ``python -m autograder.workflows.gradescope ROOT`` (``run``
below): grade ``ROOT/submission`` and write ``ROOT/results/results.json``, always, with a
score of 0 and a clear message when the submission can't be read or the grader fails; if
even Python fails, ``run_autograder`` writes that message itself. ROOT is ``/autograder``
there; ``AUTOGRADER_ROOT`` moves it (for our tests).
"""
from __future__ import annotations

import functools
import importlib.metadata
import json
import sys
import traceback
import zipfile
from pathlib import Path

from .. import config

TEMPLATES = Path(__file__).resolve().parent / "templates"
PACKAGE = Path(__file__).resolve().parent.parent  # the autograder package
EPOCH = (1980, 1, 1, 0, 0, 0)  # every entry's date: the same sources give the same zip


def dependencies() -> list[str]:
    """The project's runtime requirements, as pyproject.toml states them (read from the
    installed metadata: tomllib needs Python 3.11, the project supports 3.10)."""
    from packaging.requirements import Requirement

    requires = importlib.metadata.requires("better-activations-course") or []
    return [r for r in requires if Requirement(r).marker is None]


class ResolveError(RuntimeError):
    """The requirements could not be resolved for a Gradescope image's Python."""


def _environment(python: str) -> dict:
    """The marker environment of CPython ``python`` ("3.10") on x86_64 Linux."""
    return {"python_version": python, "python_full_version": f"{python}.0", "os_name": "posix",
            "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
            "implementation_name": "cpython", "platform_python_implementation": "CPython",
            "extra": ""}


def pip_target(python: str, glibc: tuple[int, int], folder: Path) -> list[str]:
    """pip options that take wheels only, for CPython ``python`` on manylinux x86_64 with
    ``glibc`` or older, into ``folder`` (which pip wants for a foreign Python)."""
    platforms = [f"manylinux_{glibc[0]}_{minor}_x86_64" for minor in range(17, glibc[1] + 1)]
    return ["--only-binary", ":all:", "--implementation", "cp", "--python-version", python,
            *[arg for p in [*platforms, "manylinux2014_x86_64"] for arg in ("--platform", p)],
            "--target", str(folder)]


def _pip_resolve(requirements: list[str], python: str, glibc: tuple[int, int]) -> list[dict]:
    """pip's resolution of ``requirements`` for CPython ``python`` on manylinux x86_64 up to
    ``glibc``: the report's ``install`` entries (nothing is installed)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="resolve-") as tmp:
        report = Path(tmp) / "report.json"
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                   "--quiet", "--report", str(report),
                   *pip_target(python, glibc, Path(tmp) / "target"), *requirements]
        run = subprocess.run(command, capture_output=True, text=True)
        if run.returncode != 0:
            raise ResolveError(f"pip could not resolve {' '.join(requirements)} for Python "
                               f"{python} (building the Gradescope zip needs the package "
                               f"index):\n{run.stderr[-2000:]}")
        return json.loads(report.read_text(encoding="utf-8"))["install"]


def _unmarked(requirement) -> str:
    """The requirement without its marker (pip would evaluate it for its own Python)."""
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    return f"{requirement.name}{extras}{requirement.specifier}"


def resolve(python: str, glibc: tuple[int, int]) -> list[str]:
    """``name==version`` of the runtime requirements and everything they need on CPython
    ``python``, each with a wheel for that Python. pip evaluates environment markers for
    the Python running it, not for ``--python-version``: a package another needs only on
    ``python`` (pytest's ``exceptiongroup; python_version < "3.11"``) is found from the
    resolved packages' metadata and resolved with them, until nothing is missing."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    env, wanted = _environment(python), [_unmarked(Requirement(r)) for r in dependencies()]
    while True:
        installs = _pip_resolve(wanted, python, glibc)
        have = {canonicalize_name(i["metadata"]["name"]) for i in installs}
        missing = sorted({_unmarked(r) for i in installs
                          for r in map(Requirement, i["metadata"].get("requires_dist") or [])
                          if (r.marker is None or r.marker.evaluate(env))
                          and canonicalize_name(r.name) not in have})
        if not missing:
            return sorted((f"{i['metadata']['name']}=={i['metadata']['version']}" for i in installs),
                          key=str.lower)
        wanted += missing


@functools.lru_cache(maxsize=1)  # one resolution per process: the same zip when built twice
def requirements() -> str:
    """requirements.txt for every Python of config.GRADESCOPE_PYTHONS: a pin shared by all
    of them as is, the others with a ``python_version`` marker."""
    pins = {python: resolve(python, glibc) for python, (_, glibc) in config.GRADESCOPE_PYTHONS.items()}
    lines = []
    for pin in sorted({p for ps in pins.values() for p in ps}, key=str.lower):
        where = [python for python, ps in pins.items() if pin in ps]
        if len(where) == len(pins):
            lines.append(pin)
        else:
            lines.append(f"{pin}; " + " or ".join(f'python_version == "{v}"' for v in where))
    header = ("# Resolved for the Pythons setup.sh accepts ("
              + ", ".join(f"{v}: {image}" for v, (image, _) in config.GRADESCOPE_PYTHONS.items())
              + "), each pin with a wheel for its Python.\n")
    return header + "\n".join(lines) + "\n"


def _add(archive: zipfile.ZipFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = zipfile.ZipInfo(name, EPOCH)
    info.external_attr = (0o100000 | mode) << 16  # a regular file with these permissions
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def build(out: Path) -> list[str]:
    """Write the autograder zip to ``out``; return the names it holds."""
    files: dict[str, tuple[bytes, int]] = {
        "setup.sh": ((TEMPLATES / "setup.sh").read_text(encoding="utf-8").replace(
            "@PYTHONS@", " ".join(config.GRADESCOPE_PYTHONS)).replace(
            "@IMAGES@", ", ".join(image for image, _ in config.GRADESCOPE_PYTHONS.values())).encode(),
            0o755),
        "run_autograder": ((TEMPLATES / "run_autograder").read_text(encoding="utf-8").replace(
            "@TIMEOUT@", str(config.GRADESCOPE_TIMEOUT)).encode(), 0o755),
        "requirements.txt": (requirements().encode(), 0o644),
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
    from ..report.gradescope import to_gradescope
    from ..results import GradeResult

    return to_gradescope(GradeResult("submission", [], "none", 0.0, [message]))


def run(root: Path) -> int:
    """Grade ``root/submission`` into ``root/results/results.json``; never leave without it."""
    from ..collect import SubmissionError
    from ..report import gradescope as report

    results = root / "results" / "results.json"
    try:
        from ..runner import grade

        data = report.to_gradescope(grade(root / "submission"))
    except SubmissionError as exc:
        data = _failure(f"Your submission could not be read: {exc}. Upload your .py files "
                        "(or a zip of them) and submit again.")
    except BaseException:  # the grader's fault, whatever it is: still answer the student
        traceback.print_exc()
        data = _failure("The autograder itself failed while grading your submission. This is "
                        "not your grade: please tell your instructor, who can have it graded again.")
    results.parent.mkdir(parents=True, exist_ok=True)
    tmp = results.with_name("results.json.tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    tmp.replace(results)
    return 0


if __name__ == "__main__":
    sys.exit(run(Path(sys.argv[1])))
