"""Turn a submission (a folder or a ``.zip`` of one) into a private folder of modules.

Only regular top-level ``.py`` files are taken (or those of the one folder a zip wraps
them in), and exercise notebooks (``activations.ipynb``, nbgrader's layout) in place of a
missing module (see ``notebooks.py``: messages then name the notebook's cells); symbolic links, paths that climb out (``../``, absolute), oversized files and
zip bombs are left behind with a note. The given helper modules are laid in from the
reference, so a student's edited or missing copy changes nothing.
"""
from __future__ import annotations

import difflib
import re
import shutil
import stat
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import notebooks
from .errors import InputError
from .config import (EXERCISE_MODULES, GIVEN_MODULES, MAX_ENTRIES, MAX_FILE_BYTES,
                     MAX_NOTEBOOK_BYTES, MAX_TOTAL_BYTES, SOLUTIONS)



class SubmissionError(InputError):
    """The submission could not be read at all (no such path, not a zip, ...)."""


@dataclass
class Collected:
    folder: Path
    notes: list[str] = field(default_factory=list)
    notebooks: dict = field(default_factory=dict)  # module -> notebooks.Converted
    found: list[str] = field(default_factory=list)  # every file handed in (two levels), by path

    def locate(self, text: str) -> str:
        """``text`` with lines of modules made from notebooks named by notebook and cell."""
        return notebooks.locate(text, self.notebooks)


def _is_source(name: str) -> bool:
    return name.endswith(".py") or name in NOTEBOOKS


def _cap(name: str) -> int:
    return MAX_NOTEBOOK_BYTES if name in NOTEBOOKS else MAX_FILE_BYTES


NOTEBOOKS = frozenset(f"{m}.ipynb" for m in EXERCISE_MODULES)


def _module_names(names) -> set[str]:
    return {PurePosixPath(n).name for n in names if n.endswith(".py")}


def _pick_root(paths: list[PurePosixPath]) -> PurePosixPath | None:
    """The folder holding the modules: the top level, or the one folder that wraps them."""
    wanted = {f"{m}.py" for m in EXERCISE_MODULES} | NOTEBOOKS
    tops = {p.parent for p in paths if p.name in wanted}
    if PurePosixPath(".") in tops or not tops:
        return PurePosixPath(".")
    # the shallowest folder, if only one is that shallow (copies nested deeper inside it,
    # e.g. a backup or a junk folder, don't make the submission ambiguous)
    depth = min(len(p.parts) for p in tops)
    shallowest = [p for p in tops if len(p.parts) == depth]
    return shallowest[0] if len(shallowest) == 1 else None


def _from_folder(src: Path, dst: Path, notes: list[str], found: list[str]) -> None:
    # The top level and one wrapping folder: nothing deeper is ever graded.
    found += sorted(p.relative_to(src).as_posix() for pattern in ("*", "*/*")
                    for p in src.glob(pattern) if not p.is_dir())[:MAX_ENTRIES]
    entries = sorted(p for pattern in ("*.py", "*/*.py", "*.ipynb", "*/*.ipynb")
                     for p in src.glob(pattern) if _is_source(p.name))[:MAX_ENTRIES]
    rel = [PurePosixPath(p.relative_to(src).as_posix()) for p in entries]
    root = _pick_root(rel)
    if root is None:
        notes.append("Your files are spread over several folders; only the top level was graded.")
        root = PurePosixPath(".")
    elif root != PurePosixPath("."):
        notes.append(f"Your modules were inside the folder '{root}'; they were graded from there.")
    total = 0
    for path, r in zip(entries, rel):
        if r.parent != root:
            continue
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
            notes.append(f"Ignored '{r}': not a regular file (symbolic links are not followed).")
            continue
        if info.st_size > _cap(r.name) or total + info.st_size > MAX_TOTAL_BYTES:
            notes.append(f"Ignored '{r}': {info.st_size} bytes is too large for an exercise module.")
            continue
        total += info.st_size
        (dst / r.name).write_bytes(path.read_bytes())


def _from_zip(src: Path, dst: Path, notes: list[str], found: list[str]) -> None:
    try:
        archive = zipfile.ZipFile(src)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{src} is not a readable zip file ({exc})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise SubmissionError(f"{src} lists {len(infos)} entries; at most {MAX_ENTRIES} are read")
        found += sorted(i.filename for i in infos
                        if not i.is_dir() and "__MACOSX" not in i.filename.split("/"))
        safe = []
        for info in infos:
            p = PurePosixPath(info.filename.replace("\\", "/"))
            if info.is_dir() or not _is_source(p.name) or "__MACOSX" in p.parts:
                continue
            if p.is_absolute() or ".." in p.parts:
                notes.append(f"Ignored '{info.filename}': its path leaves the submission folder.")
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                notes.append(f"Ignored '{info.filename}': symbolic links are not followed.")
                continue
            safe.append((p, info))
        root = _pick_root([p for p, _ in safe])
        if root is None:
            notes.append("Your zip holds modules in several folders; only the top level was graded.")
            root = PurePosixPath(".")
        elif root != PurePosixPath("."):
            notes.append(f"Your modules were inside the folder '{root}' of the zip; they were graded from there.")
        total = 0
        for p, info in safe:
            if p.parent != root:
                continue
            with archive.open(info) as f:  # read at most the cap: a zip bomb's header may lie
                data = f.read(_cap(p.name) + 1)
            if len(data) > _cap(p.name) or total + len(data) > MAX_TOTAL_BYTES:
                notes.append(f"Ignored '{info.filename}': too large for an exercise module.")
                continue
            total += len(data)
            (dst / p.name).write_bytes(data)


def _convert_notebooks(folder: Path, notes: list[str]) -> dict:
    """Replace each exercise notebook in ``folder`` by its module (unless the module is
    there too: then the ``.py`` is graded); module -> ``notebooks.Converted``."""
    converted = {}
    for nb in sorted(folder.glob("*.ipynb")):
        data = nb.read_bytes()
        nb.unlink()
        module = folder / f"{nb.stem}.py"
        if module.exists():
            notes.append(f"Both {module.name} and {nb.name} were handed in: {module.name} was graded.")
            continue
        try:
            done = notebooks.convert(data, nb.name)
        except ValueError as exc:
            notes.append(f"{exc}; it was not graded.")
            continue
        module.write_text(done.source, encoding="utf-8")
        notes.extend(done.notes)
        converted[nb.stem] = done
    return converted


@contextmanager
def submission(path: Path):
    """Yield a ``Collected`` private copy of the submission; removed afterwards."""
    path = Path(path)
    if not path.exists():
        raise SubmissionError(f"no such submission: {path}")
    if not path.is_dir() and not zipfile.is_zipfile(path):
        raise SubmissionError(f"{path} is not a readable zip file" if path.suffix.lower() == ".zip"
                              else f"{path} is neither a folder nor a zip file")
    folder = Path(tempfile.mkdtemp(prefix="submission-"))
    try:
        folder.chmod(0o755)  # the sandbox's unprivileged uid must read it
        notes: list[str] = []
        found: list[str] = []
        (_from_folder if path.is_dir() else _from_zip)(path, folder, notes, found)
        converted = _convert_notebooks(folder, notes)
        for given in GIVEN_MODULES:
            if (SOLUTIONS / f"{given}.py").exists():
                shutil.copyfile(SOLUTIONS / f"{given}.py", folder / f"{given}.py")
        for f in folder.iterdir():
            f.chmod(0o644)
        yield Collected(folder, notes, converted, found)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


SHOWN_FILES = 20  # at most this many of the files found are named in a message


def _plain(name: str) -> str:
    """A file name as a student may have mangled it: lower case, without a copy's suffix
    ("activations (1).py", "activations-2.py", "activations copy.py")."""
    stem = PurePosixPath(name).name.lower().split(".")[0]
    return re.sub(r"[\s_-]*(\(\d+\)|copy|\d+)$", "", stem.strip())


def suggestion(module: str, found: list[str]) -> str | None:
    """The file in ``found`` that was most likely meant as ``module``.py, or None."""
    candidates = [f for f in found if PurePosixPath(f).name != f"{module}.py"
                  and PurePosixPath(f).suffix.lower() in (".py", ".ipynb", ".txt", "")]
    same = [f for f in candidates if _plain(f) == module]
    if same:
        return same[0]
    close = difflib.get_close_matches(module, [_plain(f) for f in candidates], n=1, cutoff=0.8)
    return next((f for f in candidates if close and _plain(f) == close[0]), None)


def problems(folder: Path, found: list[str] | None = None) -> list[str]:
    """Submission-level messages: which exercise modules are missing, with the file that
    was probably meant (``found``: the files handed in), and what was found instead."""
    present = {p.stem for p in folder.glob("*.py")}
    found = found or []
    out = []
    for m in EXERCISE_MODULES:
        if m in present:
            continue
        message = f"{m}.py is missing from your submission: the checks that need it score 0."
        meant = suggestion(m, found)
        if meant:
            message += (f" Found '{meant}': is that it? Name it exactly {m}.py (names are "
                        f"case-sensitive; a copy's suffix such as ' (1)' must go).")
        out.append(message)
    if out:
        files = [f for f in found if not PurePosixPath(f).name.startswith(".")]
        if not files:
            out.append("Nothing else was found: the submission holds no file at all.")
        else:
            shown = ", ".join(files[:SHOWN_FILES]) + (
                f" and {len(files) - SHOWN_FILES} more" if len(files) > SHOWN_FILES else "")
            out.append(f"Files found in your submission: {shown}.")
    return out
