"""Hostile and broken submissions (tests/corpus/hostile.py) through the real CLI.

For every case, ``python -m autograder grade SUB --json OUT`` in a subprocess must:
exit 0 with a valid results.json within ``BOUND_SECONDS``; give the attacked functions
nothing (0 points, what ``raise NotImplementedError`` earns them: see
``test_honest_failure_earns_nothing``); give every other graded function full points; say
what happened in plain words; write nothing outside OUT (the reference, the grader, the
stubs and a world-writable canary folder keep their hashes; the grader's cwd, $HOME and
$TMPDIR hold nothing new); and leave no process behind.

Most cases run only the checks of the attacked module and of one it can't affect
(``AUTOGRADER_SELECT``); the ``full`` ones run every check. The sandbox-escape cases run
under both isolation levels (``AUTOGRADER_ISOLATION``). Runs go two at a time.
"""
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from autograder import config
from autograder.reference import module as reference_module
from tests.corpus import hostile

# A hostile submission is graded in well under a minute, whatever it does (nbgrader, for
# comparison, allows 30 s per cell before it kills a hung one, and otter never stops one).
BOUND_SECONDS = 60.0
WORKERS = 2
# What an attack may aim at (other files of the repository change under concurrent work).
GUARDED = [config.SOLUTIONS, config.CHECKS, config.ASSIGNMENTS, config.ROOT / "autograder" / "config.py",
           config.ROOT / "autograder" / "__init__.py", config.ROOT / "autograder" / "sandbox",
           config.ROOT / "autograder" / "runner.py"]
MAX_RESULTS_BYTES = 2 * 2**20  # a flood of output does not bloat results.json


def _bwrap_works() -> bool:
    if not shutil.which("bwrap"):
        return False
    from autograder.sandbox import Sandbox, SandboxError

    d = Path(tempfile.mkdtemp(prefix="hostile-probe-", dir="/tmp"))
    d.chmod(0o755)
    try:
        with Sandbox(d, isolation="bubblewrap"):
            return True
    except SandboxError:
        return False
    finally:
        shutil.rmtree(d, ignore_errors=True)


ISOLATIONS = ["bubblewrap", "process"] if _bwrap_works() else ["process"]
RUNS = [(c, iso) for c in hostile.CASES for iso in (ISOLATIONS if c.escape else ["auto"])]
RUN_IDS = [f"{c.id}-{iso}" for c, iso in RUNS]


def _functions_of(name: str) -> set:
    mod = reference_module(name)
    return {n for n, v in vars(mod).items() if callable(v) and not n.startswith("_")
            and getattr(v, "__module__", name) == name}


def _tree_hash(paths) -> dict:
    out = {}
    for root in paths:
        root = Path(root)
        for p in sorted(root.rglob("*")) if root.is_dir() else [root]:
            if "__pycache__" in p.parts or p.is_dir() and not p.is_symlink():
                continue
            st = p.lstat()
            h = hashlib.sha256(p.read_bytes() if stat.S_ISREG(st.st_mode) else b"").hexdigest()
            out[str(p)] = (stat.S_IMODE(st.st_mode), h)
    return out


def _tampered(path: str, watch: Path) -> bool:
    """A change an attack made (others edit the repository's files while this runs): any
    change in the canary, a new conftest.py, a mode opened up, the attack's mark."""
    p = Path(path)
    if str(p).startswith(str(watch)) or p.name == "conftest.py":
        return True
    try:
        return stat.S_IMODE(p.lstat().st_mode) == 0o777 or b"tampered" in p.read_bytes()
    except OSError:
        return True  # removed


def _listing(folder: Path) -> set:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.exists() else set()


def _procs():
    """pid -> (session id, comm) for every live process."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                raw = f.read()
        except OSError:
            continue
        comm = raw[raw.index(b"(") + 1:raw.rindex(b")")].decode("utf-8", "replace")
        fields = raw.rsplit(b")", 1)[1].split()
        if fields[0] != b"Z":
            out[int(name)] = (int(fields[4]), comm)
    return out


def _leftovers(sid: int, within: float = 3.0) -> list:
    """Processes of the run's session or tagged by the attack code, after a short wait."""
    end = time.monotonic() + within
    while True:
        left = [(p, c) for p, (s, c) in _procs().items() if s == sid or c.startswith("hstl")]
        if not left or time.monotonic() > end:
            return left
        time.sleep(0.05)


@dataclass
class Outcome:
    rc: int | None
    seconds: float
    data: dict | None
    text: str
    stdout: str
    stderr: str
    leftovers: list = field(default_factory=list)
    changed: list = field(default_factory=list)
    stray: list = field(default_factory=list)


@pytest.fixture(scope="module")
def env():
    """The watched folders: the grader's cwd, $HOME and $TMPDIR, a canary, the outputs;
    all world-writable, so only the sandbox stands between an attack and them."""
    watch = Path(tempfile.mkdtemp(prefix="hostile-", dir="/tmp"))
    watch.chmod(0o755)
    for d in ("cwd", "home", "tmp", "out", "canary", "subs"):
        (watch / d).mkdir()
        (watch / d).chmod(0o1777 if d == "tmp" else 0o777)
    for i in range(3):
        f = watch / "canary" / f"file{i}.txt"
        f.write_text(f"canary {i}\n")
        f.chmod(0o666)
    yield {"ROOT": config.ROOT, "CANARY": watch / "canary", "WATCH": watch, "OUT": None}
    shutil.rmtree(watch, ignore_errors=True)


def _run_cli(run_id, sub, out, select, isolation, watch, guarded_before):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGRADER_")}
    env.update(HOME=str(watch / "home"), TMPDIR=str(watch / "tmp"),
               PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONPATH=str(config.ROOT))
    if select:
        env["AUTOGRADER_SELECT"] = select
    if isolation != "auto":
        env["AUTOGRADER_ISOLATION"] = isolation
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "grade", str(sub), "--json",
                             str(out)], cwd=watch / "cwd", env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=BOUND_SECONDS)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        rc = None
    seconds = time.monotonic() - t0
    left = _leftovers(proc.pid)
    for pid, _ in left:  # clean up after a failure, so later cases are not disturbed
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    time.sleep(0.3)  # anything left would write now
    try:
        text = out.read_text()
        data = json.loads(text)
    except (OSError, ValueError):
        text, data = "", None
    now = _tree_hash(GUARDED + [watch / "canary"])
    changed = sorted(k for k in set(now) | set(guarded_before)
                     if now.get(k) != guarded_before.get(k) and _tampered(k, watch))
    return Outcome(rc, seconds, data, text, stdout, stderr, left, changed)


@pytest.fixture(scope="module")
def graded(env, request):
    """Every selected run graded once, two at a time: run id -> Outcome."""
    watch = env["WATCH"]
    before = _tree_hash(GUARDED + [watch / "canary"])
    wanted = {item.callspec.params["run_id"] for item in request.session.items
              if item.module is request.module and hasattr(item, "callspec")
              and "run_id" in item.callspec.params}
    jobs = {}
    for (case, iso), run_id in zip(RUNS, RUN_IDS):
        if run_id not in wanted:
            continue
        out = watch / "out" / run_id / "results.json"
        out.parent.mkdir()
        out.parent.chmod(0o777)
        sub = hostile.build(case, watch / "subs" / run_id, {**env, "OUT": out})
        jobs[run_id] = (run_id, sub, out, case.select, iso)
    stub_out = watch / "out" / "stubs.json"
    jobs["stubs"] = ("stubs", config.ASSIGNMENTS, stub_out, hostile.SELECT[hostile.D], "auto")
    wrong = watch / "subs" / "wrong"
    shutil.copytree(config.SOLUTIONS, wrong, ignore=shutil.ignore_patterns("__pycache__"))
    for m in (hostile.A, hostile.D):
        (wrong / f"{m}.py").write_text("import numpy as np\n" + "".join(
            f"\ndef {f}(x, *a, **k):\n    return np.full(np.shape(x), np.nan)\n"
            for f in sorted(_functions_of(m))))
    jobs["wrong"] = ("wrong", wrong, watch / "out" / "wrong.json", hostile.SELECT[hostile.D],
                     "auto")
    zeros = watch / "subs" / "zeros"
    shutil.copytree(wrong, zeros)
    for m in (hostile.A, hostile.D):
        p = zeros / f"{m}.py"
        p.write_text(p.read_text().replace("np.nan", "0.0"))
    jobs["zeros"] = ("zeros", zeros, watch / "out" / "zeros.json", hostile.SELECT[hostile.D],
                     "auto")
    seen = {"cwd": _listing(watch / "cwd"), "home": _listing(watch / "home"),
            "tmp": _listing(watch / "tmp")}
    # the slowest first, so the two workers finish together
    order = sorted(jobs, key=lambda r: ("hang" in r or "loop" in r or "sleep" in r
                                        or "bomb" in r or "signals" in r, "full" in r),
                   reverse=True)
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = {r: pool.submit(_run_cli, *jobs[r], watch, before) for r in order}
        results = {r: f.result() for r, f in futures.items()}
    time.sleep(1.0)
    # the grader's own lock files and matplotlib's cache (the grader renders figures)
    mine = ("autograder-sandbox-uids", ".cache", ".config")
    stray = {d: sorted(p for p in _listing(watch / d) - seen[d] if not p.startswith(mine))
             for d in seen}
    log = Path(tempfile.gettempdir()) / "hostile-timings.txt"
    log.write_text("".join(f"{o.seconds:6.1f} s  rc={o.rc}  {r}\n" for r, o in
                           sorted(results.items(), key=lambda kv: -kv[1].seconds)))
    results["_stray"] = stray
    results["_changed"] = sorted(k for k, v in _tree_hash(GUARDED + [watch / "canary"]).items()
                                 if before.get(k) != v and _tampered(k, watch))
    return results


def test_corpus_is_big_enough():
    assert len({c.id for c in hostile.CASES}) == len(hostile.CASES) >= 30
    assert sum(c.escape for c in hostile.CASES) >= 6
    assert sum(c.full for c in hostile.CASES) >= 3


def test_honest_failure_earns_nothing_that_needs_the_answer(graded):
    """The stubs (every function raises NotImplementedError) earn 0 on every function; NaN
    answers earn at most the checks that don't need the answer (purity, speed)."""
    o = graded["stubs"]
    assert o.rc == 0 and o.data is not None, o.stderr
    by_fn = {}
    for t in o.data["tests"]:
        by_fn[t["tags"][1]] = by_fn.get(t["tags"][1], 0) + t["score"]
    assert by_fn and all(v == 0 for v in by_fn.values()), by_fn
    for r in ("wrong", "zeros"):
        w = graded[r].data
        assert w["score"] < 0.5 * w["extra_data"]["max_score"], (r, w["score"])


def _honest(graded) -> dict:
    """check name -> what an honest failure earns on it: the more of raising
    NotImplementedError (the stubs) and returning NaNs or zeros shaped like x (wrong
    answers: an ndarray subclass or a lying object that the wire turns into plain zeros is
    no better than that)."""
    out = {}
    for r in ("stubs", "wrong", "zeros"):
        for t in graded[r].data["tests"]:
            out[t["name"]] = max(out.get(t["name"], 0.0), t["score"])
    return out


@pytest.mark.parametrize("run_id", RUN_IDS)
def test_hostile_submission(run_id, graded):
    case, iso = RUNS[RUN_IDS.index(run_id)]
    o = graded[run_id]
    why = f"{case.id} ({case.why}), isolation {iso}"
    assert o.rc == 0, f"{why}: exit {o.rc} after {o.seconds:.1f} s\n{o.stderr[-3000:]}"
    assert o.seconds < BOUND_SECONDS, f"{why}: took {o.seconds:.1f} s"
    data = o.data
    assert data is not None, f"{why}: no valid results.json\n{o.stderr[-2000:]}"
    assert isinstance(data["score"], (int, float)) and data["tests"], why
    for t in data["tests"]:
        assert {"name", "score", "max_score", "status", "output", "tags"} <= set(t), t
    if iso != "auto":
        assert data["extra_data"]["isolation"] == iso, data["extra_data"]
    assert "LEAKED" not in o.text and "LEAKED" not in o.stdout, f"{why}: leaked"
    assert "999 passed" not in o.stdout, f"{why}: student output reached the grader's stdout"

    mod_functions = _functions_of(case.module)
    attacked = mod_functions if "*" in case.attacked else set(case.attacked)
    assert len(o.text) < MAX_RESULTS_BYTES, f"{why}: results.json has {len(o.text)} bytes"
    honest = _honest(graded)
    earned = [(t["name"], t["score"], honest.get(t["name"], 0.0)) for t in data["tests"]
              if t["tags"][1] in attacked and t["score"] > honest.get(t["name"], 0.0)]
    assert not earned, f"{why}: attacked functions earned points: {earned}"
    lost = [f"{t['name']}: {t['output'][:300]}" for t in data["tests"]
            if t["tags"][1] not in attacked and t["tags"][1] not in case.also
            and t["score"] < t["max_score"]]
    assert not lost, f"{why}: functions it did not attack lost points:\n" + "\n".join(lost)
    graded_attacked = [t for t in data["tests"] if t["tags"][1] in attacked]
    if attacked:
        assert graded_attacked, f"{why}: no check of {sorted(attacked)} ran"
    if case.words:
        said = "\n".join([t["output"] for t in graded_attacked] + [data.get("output", "")])
        assert any(w.lower() in said.lower() for w in case.words), (
            f"{why}: the student is not told what happened (wanted one of {case.words}):\n"
            + said[:1500])

    assert not o.changed, f"{why}: files changed: {o.changed}"
    assert not o.leftovers, f"{why}: processes left running: {o.leftovers}"


def test_nothing_written_outside_the_output(graded):
    assert graded["_changed"] == [], graded["_changed"]
    assert graded["_stray"] == {"cwd": [], "home": [], "tmp": []}, graded["_stray"]


def test_timings_are_reported(graded, capsys):
    rows = sorted(((o.seconds, r) for r, o in graded.items() if isinstance(o, Outcome)),
                  reverse=True)
    with capsys.disabled():
        print(f"\nslowest hostile gradings (bound {BOUND_SECONDS:g} s): "
              + ", ".join(f"{r} {s:.1f} s" for s, r in rows[:6]))
    assert rows[0][0] < BOUND_SECONDS
