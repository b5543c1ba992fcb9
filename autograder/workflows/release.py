"""Build the student bundle: the stubs, the given helpers and the public checks.

    python -m autograder release OUT

OUT gets the stubs generated from ``solutions/`` (``stubs.render``: solution blocks never
leave), the given helper modules unchanged, ``test_public.py`` with ``public_checks.json``
(the cases of ``public_cases.py`` with the reference's results), a README, a
``requirements.txt``, and a GitHub Classroom workflow in Classroom's current form
(``classroom-resources/autograding-command-grader`` steps and the grading reporter, on push
and ``repository_dispatch``) that runs the public checks, labelled as a sample with its own
maximum. Nothing else of the grader ships: not the hidden checks,
not the reference, not the autograder package.
"""
from __future__ import annotations

import base64
import copy
import json
import shutil
import sys
import tempfile
from pathlib import Path
from string import Template

import numpy as np

from .. import config, contract, hints, reference
from ..errors import InputError
from . import stubs
from .public_cases import CASES, Case, Function

TEMPLATES = Path(__file__).resolve().parent / "templates"


class ReleaseError(InputError):
    """The bundle can't be built without leaking or breaking something."""


def encode(value):
    """A value as JSON-able data that ``templates/test_public.py`` decodes back."""
    if isinstance(value, (np.ndarray, np.generic)):
        return {"ndarray": np.asarray(value).tolist(), "dtype": np.asarray(value).dtype.str}
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {"dict": {str(k): encode(v) for k, v in value.items()}}
    if isinstance(value, Function):
        return {"function": value.path}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ReleaseError(f"a public case holds a {type(value).__name__}, which can't be written as JSON")


def _resolve(value):
    """Arguments as the reference receives them: functions looked up in the reference."""
    if isinstance(value, Function):
        module, _, name = value.path.rpartition(".")
        return reference.function(module, name)
    if isinstance(value, (list, tuple)):
        return type(value)(_resolve(v) for v in value)
    if isinstance(value, dict):
        return {k: _resolve(v) for k, v in value.items()}
    return copy.deepcopy(value)


def _text(value) -> str:
    if isinstance(value, np.ndarray):
        return f"np.array({value.tolist()!r}" + (", dtype=np.float32)" if value.dtype == np.float32 else ")")
    if isinstance(value, Function):
        return value.path
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_text(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _tolerance(case: Case, expected) -> tuple[float, float]:
    """SPEC's accuracy: float32 results are held to the float32 tolerance (widened by
    float32's own rounding, as the expected value is the reference's float32 result, not its
    float64 one); the experiments' runs to ``config.PUBLIC_RUN_RTOL`` / ``ATOL`` (another
    machine's BLAS may round a training run differently)."""
    if case.keys or case.claim:
        return config.PUBLIC_RUN_RTOL, config.PUBLIC_RUN_ATOL
    leaves = expected if isinstance(expected, tuple) else (expected,)
    if any(np.asarray(v).dtype == np.float32 for v in leaves):
        return config.RTOL32 + float(np.finfo(np.float32).eps), config.ATOL32
    return config.RTOL64, config.ATOL64


def _part(value, keys: tuple) -> dict:
    """The parts ``keys`` (paths into nested dicts) of a returned dict, nested as they were."""
    out: dict = {}
    for path in keys:
        into, got = out, value
        for k in path[:-1]:
            into, got = into.setdefault(k, {}), got[k]
        into[path[-1]] = got[path[-1]]
    return out


def _expected(case: Case):
    """What the reference returns for the case (only ``keys`` of a dict), or the exception
    the case expects it to raise."""
    f = reference.function(case.module, case.function)
    try:
        with np.errstate(all="ignore"):
            value = f(*_resolve(case.args), **_resolve(case.kwargs))
    except Exception as exc:
        if case.raises == type(exc).__name__:
            return None
        raise ReleaseError(f"the reference fails the public case {case.module}.{case.function}"
                           f"-{case.label}: {type(exc).__name__}: {exc}") from exc
    if case.raises:
        raise ReleaseError(f"the reference does not raise {case.raises} in the public case "
                           f"{case.module}.{case.function}-{case.label}")
    # A dict result is compared on its ``keys`` only: none when a claim judges it alone.
    return _part(value, case.keys) if case.keys or case.claim else value


def _spoiler(text: str) -> str:
    """A hint stage as the bundle stores it: base64, so that a student who opens
    public_checks.json doesn't read the recipe before a failure asks for it (a spoiler tag,
    not a secret: test_public.py decodes it)."""
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _call_text(case: Case) -> str:
    return (f"{case.function}(" + ", ".join([_text(a) for a in case.args]
                                           + [f"{k}={_text(v)}" for k, v in case.kwargs.items()]) + ")")


def public_checks() -> dict:
    """The public cases with the reference's results and hints, as written to
    public_checks.json: the data test_public.py and ``check`` judge by."""
    cases, ids = [], set()
    for case in CASES:
        expected = _expected(case)
        rtol, atol = _tolerance(case, expected)
        record = {"id": f"{case.module}.{case.function}-{case.label}", "module": case.module,
                  "function": case.function, "kind": case.kind, "call": _call_text(case),
                  "args": encode(list(case.args)), "kwargs": encode(case.kwargs)["dict"],
                  "expected": encode(expected), "rtol": rtol, "atol": atol,
                  "properties": list(case.properties), "timeout": case.timeout,
                  "hints": [_spoiler(t) for t in hints.of(case.module, case.function).get(case.topic, [])]}
        if record["id"] in ids:
            raise ReleaseError(f"two public cases are called {record['id']}")
        ids.add(record["id"])
        if case.kinks:
            lo, hi = contract.accepted(case.function, *_resolve(case.args))
            record.update(lo=encode(lo), hi=encode(hi))
        if case.vector:
            record.update(vector=[-5.0, 5.0, list(config.VECTOR_SIZES)],
                          lines_per_element=config.VECTOR_LINES_PER_ELEMENT)
        if case.claim:
            record["claim"] = case.claim
        if case.raises:
            record["raises"] = case.raises
        cases.append(record)
    return {"about": "Public checks: a sample. The hidden autograder checks more.",
            "hint_level": config.HINT_LEVEL, "cases": cases}


def classroom_steps(cases: list[dict]) -> tuple[str, str, int]:
    """GitHub Classroom's current workflow form: one ``autograding-command-grader`` step per
    module (all or nothing, worth its number of public cases), then the reporter's
    ``runners`` and its env. Returns (steps, reporter env and runners, the sample's maximum)."""
    modules = sorted({c["module"] for c in cases}, key=[c["module"] for c in cases].index)
    steps, env = [], []
    for m in modules:
        points = sum(c["module"] == m for c in cases)
        steps.append(f"""      - name: public sample, {m}.py
        id: {m.replace("_", "-")}
        uses: classroom-resources/autograding-command-grader@v1
        with:
          test-name: "public sample: {m}.py ({points} calls)"
          setup-command: ""
          # "-k {m}." selects the ids "{m}.<function>-<n>" only
          command: python -m pytest -q test_public.py -k {m}.
          timeout: 5
          max-score: {points}""")
        env.append(f"          {m.upper()}_RESULTS: "
                   f"\"${{{{ steps.{m.replace('_', '-')}.outputs.result }}}}\"")
    reporter = ("        env:\n" + "\n".join(env) + "\n        with:\n          runners: "
                + ",".join(m.replace("_", "-") for m in modules))
    return "\n".join(steps), reporter, len(cases)


def modules() -> dict[str, str]:
    """File name -> text of every module students get: the exercise stubs and the helpers.

    Refuses an exercise module with no solution block (its stub would be the reference
    itself) and leaves out any other file of ``solutions/``.
    """
    rendered = stubs.render(config.SOLUTIONS)
    missing = [m for m in (*config.EXERCISE_MODULES, *config.GIVEN_MODULES) if f"{m}.py" not in rendered]
    if missing:
        raise ReleaseError(f"no reference for {', '.join(missing)} in {config.SOLUTIONS}")
    for m in config.EXERCISE_MODULES:
        if rendered[f"{m}.py"] == (config.SOLUTIONS / f"{m}.py").read_text(encoding="utf-8"):
            raise ReleaseError(f"solutions/{m}.py has no solution block: its stub would publish the reference")
    return {f"{m}.py": rendered[f"{m}.py"] for m in (*config.EXERCISE_MODULES, *config.GIVEN_MODULES)}


def public_files(checks: dict | None = None) -> dict[str, str]:
    """``test_public.py`` and ``public_checks.json`` (``checks``: ``public_checks()``)."""
    checks = checks or public_checks()
    # One case per line: readable, and a diff between two releases shows what changed.
    head = f'{{"about": {json.dumps(checks["about"])}, "hint_level": {checks["hint_level"]}, "cases": [\n'
    return {"public_checks.json": (head
                                   + ",\n".join(json.dumps(c) for c in checks["cases"]) + "\n]}\n"),
            "test_public.py": (TEMPLATES / "test_public.py").read_text(encoding="utf-8")}


def build(out: Path) -> list[str]:
    """Write the bundle to ``out`` (absent or empty); return the files written.

    It is assembled in a temporary folder and moved into place at the end, so a failure
    leaves no half-built bundle.
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ReleaseError(f"{out} exists and is not empty: choose a new folder")
    from .gradescope import dependencies

    checks = public_checks()
    files = dict(modules())
    files.update(public_files(checks))
    files["requirements.txt"] = "\n".join(dependencies()) + "\n"
    files["README.md"] = Template((TEMPLATES / "README.md").read_text(encoding="utf-8")).substitute(
        modules="\n".join(f"- `{m}.py`" for m in config.EXERCISE_MODULES), n_cases=len(checks["cases"]))
    steps, reporter, sample_max = classroom_steps(checks["cases"])
    files[".github/workflows/classroom.yml"] = Template(
        (TEMPLATES / "classroom.yml").read_text(encoding="utf-8")).substitute(
        python=f"{sys.version_info.major}.{sys.version_info.minor}", steps=steps,
        reporter=reporter, sample_max=sample_max)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".release-", dir=out.parent))
    try:
        for name, text in files.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_text(text, encoding="utf-8")
        staging.chmod(0o755)
        if out.exists():
            out.rmdir()
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sorted(files)
