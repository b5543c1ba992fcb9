"""Fault injection on batch grading: what the world can do to a running batch.

- SIGKILL of the sandbox processes that run student code (bubblewrap, the worker, its
  module children), at seeded random moments, as the out-of-memory killer would;
- SIGKILL of the batch's grader processes;
- a full disk under the output folder (a small tmpfs when this machine lets us mount one,
  and always a low RLIMIT_FSIZE: writes fail with EFBIG like ENOSPC);
- hostile submissions in the same batch as honest ones.

Every test compares with one uninterrupted batch of the same small class (``baseline``):
scores per check, never timings. After any fault, every submission has a row, each row is
either the uninterrupted grade or says it is not one (``error_kind = 'grader'``, retried
next run), and a rerun without ``--regrade`` ends with exactly the uninterrupted output.
"""
from __future__ import annotations

import os
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from autograder import config
from autograder.workflows import batch, gradebook
from tests.corpus import Variant, build, swap
from tests.corpus.activation_bugs import BUGS, CORRECT
from tests.test_batch import run_cli, snapshot

_BY_ID = {v.id: v for v in [*BUGS, *CORRECT]}
# Two correct submissions (the reference, and one written differently) and a buggy one.
CLASS = {"ann": _BY_ID["sigmoid-via-tanh"], "ben": _BY_ID["sigmoid-exp-overflow"], "cat": None}


def make_submission(student: str, variant: Variant | None, folder: Path) -> Path:
    if variant is None:
        shutil.copytree(config.SOLUTIONS, folder / student, ignore=shutil.ignore_patterns("__pycache__"))
        return folder / student
    return build(variant, folder / student)


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults") / "class"
    folder.mkdir()
    for student, variant in CLASS.items():
        make_submission(student, variant, folder)
    return folder


@pytest.fixture(scope="module")
def baseline(klass, tmp_path_factory):
    """The class graded once, nothing going wrong: (out folder, grades by student)."""
    out = tmp_path_factory.mktemp("faults-baseline") / "out"
    rows = batch.grade_all(klass, out, jobs=2)
    assert all(r["error"] is None for r in rows)
    grades = read_grades(out)
    full = grades["ann"]["max_score"]
    assert [grades[s]["score"] == full for s in sorted(CLASS)] == [True, False, True]
    return out, grades


def read_grades(out: Path) -> dict:
    """Per student: the submission row without timings, and its checks' scores."""
    conn = sqlite3.connect(f"file:{out / gradebook.FILE}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        grades = {}
        for r in conn.execute("SELECT * FROM submissions ORDER BY student"):
            tests = [tuple(t) for t in conn.execute(
                "SELECT number, name, function, score, max_score, status FROM tests "
                "WHERE student = ? ORDER BY number", (r["student"],))]
            grades[r["student"]] = {"score": r["score"], "max_score": r["max_score"],
                                    "error": r["error"], "error_kind": r["error_kind"],
                                    "content_hash": r["content_hash"], "tests": tests}
        return grades
    finally:
        conn.close()


def same_grade(a: dict, b: dict) -> bool:
    keys = ("score", "max_score", "error", "error_kind", "content_hash", "tests")
    return all(a[k] == b[k] for k in keys)


# ---------------------------------------------------------------------------- processes


def _proc(pid: int):
    """(ppid, start time, command line) of a live process, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return None
    if fields[0] == b"Z":
        return None
    return int(fields[1]), int(fields[19]), cmdline


def descendants(root: int) -> dict[int, tuple]:
    """Every live descendant of ``root``: pid -> (ppid, start time, command line)."""
    table = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (info := _proc(int(name))) is not None:
            table[int(name)] = info
    found, frontier = {}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, info in table.items():
            if info[0] == parent and pid not in found:
                found[pid] = info
                frontier.append(pid)
    return found


def sandbox_processes(batch_pid: int) -> dict[int, tuple]:
    """Processes running (or wrapping) student code: bwrap, worker.py and its children."""
    return {p: i for p, i in descendants(batch_pid).items() if "worker.py" in i[2]}


def grader_processes(batch_pid: int) -> dict[int, tuple]:
    """The batch's own grader processes (multiprocessing spawn children)."""
    return {p: i for p, i in descendants(batch_pid).items()
            if i[0] == batch_pid and "spawn_main" in i[2]}


def still_alive(seen: dict[int, tuple], grace: float = 5.0) -> list[str]:
    """The processes of ``seen`` that still run (same pid and start time) after ``grace``
    seconds (a parent-death signal takes a moment)."""
    deadline = time.monotonic() + grace
    while True:
        alive = [f"{pid}: {info[2][:120]}" for pid, info in seen.items()
                 if (now := _proc(pid)) is not None and now[1] == info[1]]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def kill_at_random(run: subprocess.Popen, victims, rng: random.Random, kills: int,
                   delay=(0.3, 2.5)) -> tuple[list[str], dict]:
    """SIGKILL ``kills`` processes chosen by ``victims(pid)`` at seeded random moments while
    ``run`` lasts. Returns what was killed and every sandbox process seen meanwhile."""
    killed, seen = [], {}
    deadline = time.monotonic() + 240
    while run.poll() is None and len(killed) < kills and time.monotonic() < deadline:
        wake = time.monotonic() + rng.uniform(*delay)
        while time.monotonic() < wake and run.poll() is None:
            seen |= sandbox_processes(run.pid)
            time.sleep(0.05)
        candidates = sorted(victims(run.pid).items())
        if not candidates or run.poll() is not None:
            continue
        pid, info = candidates[rng.randrange(len(candidates))]
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        killed.append(f"{pid} {info[2][:60]}")
    while run.poll() is None and time.monotonic() < deadline:
        seen |= sandbox_processes(run.pid)
        time.sleep(0.05)
    return killed, seen


def finish(run: subprocess.Popen, timeout: float = 240) -> tuple[str, str]:
    try:
        return run.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        run.kill()
        run.communicate()
        pytest.fail("the batch did not finish")


def check_after_fault(out: Path, baseline, code: int, stdout: str, stderr: str) -> dict:
    """What a faulted batch must leave: a row per student, each either the uninterrupted
    grade or a grader-fault row that says why; exit code 1 exactly when there is one."""
    _, expected = baseline
    grades = read_grades(out)
    assert sorted(grades) == sorted(CLASS), stderr
    faulty = {s for s, g in grades.items() if not same_grade(g, expected[s])}
    for s in faulty:
        g = grades[s]
        assert g["error_kind"] == "grader", (s, g["score"], expected[s]["score"], g["error"])
        assert g["error"] and g["tests"] == [] and g["score"] == 0
        assert s in stdout and g["error"] in stdout  # the summary names it and says why
        assert "not your grade" in (out / "feedback" / f"{s}.md").read_text()
    assert code == (1 if faulty else 0), (code, stdout, stderr)
    assert "Traceback" not in stdout
    with sqlite3.connect(out / gradebook.FILE) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return grades


def rerun_matches_baseline(klass, out: Path, baseline, kept: set[str]) -> None:
    """A rerun without --regrade grades only what is missing or failed, and ends exactly
    where the uninterrupted run did."""
    rows = batch.grade_all(klass, out, jobs=2)
    assert not {r["student"] for r in rows if r["graded_now"]} & kept
    assert snapshot(out) == snapshot(baseline[0])
    assert not list(out.rglob("*.tmp"))


# ---------------------------------------------------------------------------- the tests


def _kill_during_batch(klass, baseline, tmp_path, victims, seed, who, outlived, **kill):
    """Run a batch, SIGKILL ``victims`` three times at seeded random moments, and check
    that nothing outlives it and that only confirmed grades were kept."""
    out = tmp_path / "out"
    run = run_cli(klass, out, "--jobs", "2")
    killed, seen = kill_at_random(run, victims, random.Random(seed), kills=3, **kill)
    stdout, stderr = finish(run)
    print("killed:", *killed, sep="\n  ")
    assert len(killed) >= 2, (f"the batch ended before its {who} could be killed", killed)
    assert not still_alive(seen), outlived
    grades = check_after_fault(out, baseline, run.returncode, stdout, stderr)
    kept = {s for s, g in grades.items() if g["error_kind"] is None}
    rerun_matches_baseline(klass, out, baseline, kept)


def test_sandbox_workers_killed_at_random_moments(klass, baseline, tmp_path):
    """SIGKILL the processes running student code (any of bwrap, the worker, a module
    child) at seeded random moments. A grade a kill changed is never recorded as the
    student's: it is confirmed by grading again, or recorded as the grader's fault."""
    _kill_during_batch(klass, baseline, tmp_path, sandbox_processes, config.SEED, "sandboxes",
                       "sandbox processes outlived the batch")


def test_grader_processes_killed_at_random_moments(klass, baseline, tmp_path):
    """SIGKILL the batch's own grader processes at seeded random moments: the submission
    a grader held is graded again by a new one, or recorded as the grader's fault."""
    _kill_during_batch(klass, baseline, tmp_path, grader_processes, config.SEED + 1, "graders",
                       "sandbox processes outlived their killed grader", delay=(0.5, 3.0))


def _can_mount_tmpfs(where: Path) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    where.mkdir(parents=True, exist_ok=True)
    ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)],
                        capture_output=True).returncode == 0
    if ok:
        subprocess.run(["umount", str(where)], check=True)
    return ok


def test_full_disk_stops_the_batch_cleanly_and_a_rerun_resumes(klass, baseline, tmp_path):
    """Writes to the output folder start failing mid-batch: the batch stops with one clear
    message and a non-zero exit code; what it had committed is intact; once there is
    space, a rerun resumes and ends exactly where the uninterrupted run did.

    The disk: a tmpfs half the size of the class's whole output where this test may mount
    one (root), else RLIMIT_FSIZE below what the gradebook needs (writes fail with EFBIG
    instead of ENOSPC; SQLite reports a disk I/O error instead of a full disk). Either holds
    the first grade (most of the gradebook: the figures, kept once for the class) but not
    the class. Both pass here as root; set ``BATCH_FAULTS_DISK=rlimit`` to run the second."""
    base_out, expected = baseline
    needed = (base_out / gradebook.FILE).stat().st_size
    output = sum({(st.st_dev, st.st_ino): st.st_size for st in
                  (p.stat() for p in base_out.rglob("*") if p.is_file())}.values())
    out = tmp_path / "out"
    how = os.environ.get("BATCH_FAULTS_DISK") or ("tmpfs" if _can_mount_tmpfs(out) else "rlimit")
    preexec = None
    if how == "tmpfs":
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={output // 2}", "tmpfs", str(out)],
                       check=True)
    else:
        limit = needed * 9 // 10
        # Soft limit only: the sandbox worker raises its own (to Limits.file_bytes) as before.
        def preexec():
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    try:
        run = run_cli(klass, out, "--jobs", "2", preexec_fn=preexec)
        stdout, stderr = finish(run)
        assert run.returncode not in (0, 1), (run.returncode, stdout, stderr)
        assert "Traceback" not in stderr, stderr
        message = stderr.strip().splitlines()
        assert message and message[-1].startswith("error:"), stderr
        assert str(out) in message[-1] and ("space" in message[-1] or "full" in message[-1]), stderr
        assert "run the batch again" in message[-1] or "again" in message[-1], stderr
        with sqlite3.connect(out / gradebook.FILE) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        kept = read_grades(out)
        assert kept, "nothing was committed before the disk filled up: the test proves little"
        assert len(kept) < len(CLASS), "the disk never filled up"
        for s, g in kept.items():
            assert same_grade(g, expected[s]), s
        if how == "tmpfs":
            subprocess.run(["mount", "-o", f"remount,size={needed * 8}", str(out)], check=True)
        rerun_matches_baseline(klass, out, baseline, set(kept))
    finally:
        if how == "tmpfs":
            subprocess.run(["umount", "-l", str(out)], capture_output=True)


HOSTILE = {
    # Kills the sandbox worker (its parent) when one module is imported, and its own
    # process group when another is (modules with few checks: the grade stays quick).
    "kim": [Variant("kill-parent", "linear_collapse", "import os\nos.kill(os.getppid(), 9)"),
            Variant("kill-group", "dying_relu", "import os\nos.killpg(0, 9)")],
    # Leaves a process behind, detached and sleeping forever; floods its output: 20 MB
    # when imported, 1 MB on every call of relu6.
    "flo": [Variant("fork-sleep", "activations",
                    "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(10**6)"),
            Variant("flood-import", "activations",
                    "import sys\nfor _ in range(20):\n    sys.stdout.write('x' * 2**20)"),
            Variant("flood-call", "activations",
                    "def relu6(x):\n    import sys\n    sys.stdout.write('y' * 2**20)\n"
                    "    return np.clip(_as_float(x), 0, 6)")],
}


def test_hostile_submissions_do_not_touch_anyone_elses_grade(baseline, tmp_path):
    """Correct and buggy submissions graded beside hostile ones get exactly the grades
    they get without them; the hostile ones get a row each, and leave nothing running."""
    folder = tmp_path / "class"
    folder.mkdir()
    for student in ("ann", "ben", "cat"):
        make_submission(student, CLASS[student], folder)
    for student, variants in HOSTILE.items():
        path = make_submission(student, variants[0], folder)
        for v in variants[1:]:  # swapped into the already swapped module
            target = path / f"{v.module}.py"
            target.write_text(swap(target.read_text(), v.source))
    out = tmp_path / "out"
    run = run_cli(folder, out, "--jobs", "2")
    _, seen = kill_at_random(run, sandbox_processes, random.Random(0), kills=0)
    stdout, stderr = finish(run)
    assert run.returncode == 0, (stdout, stderr)
    assert not still_alive(seen), "hostile processes outlived the batch"
    grades = read_grades(out)
    _, expected = baseline
    assert sorted(grades) == sorted(["ann", "ben", "cat", *HOSTILE])
    for s in ("ann", "ben", "cat"):
        assert grades[s]["tests"] == expected[s]["tests"], s
        assert grades[s]["score"] == expected[s]["score"], s
    for s in HOSTILE:  # graded, and they lost points for what they did
        g = grades[s]
        assert g["error"] is None and g["max_score"] == expected["ann"]["max_score"], (s, g)
        assert g["score"] < g["max_score"], s
    with sqlite3.connect(out / gradebook.FILE) as conn:
        longest = conn.execute("SELECT MAX(LENGTH(output)) FROM tests").fetchone()[0]
    assert longest < 20_000, "a flood of output reached the gradebook"
