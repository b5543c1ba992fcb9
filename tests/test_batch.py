"""Batch grading: a class in one command; resumable, safe to kill, safe to run twice at once.

One small class is graded once (``baseline``); every other test compares against it, so a
gradebook that differs in anything but timings after a rerun, a kill or a concurrent run
fails here.
"""
import csv
import errno
import io
import json
import multiprocessing
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from autograder import config
from autograder.workflows import batch, gradebook, stubs

STUDENTS = ["README.txt", "alice", "bob", "carol", "dave", "erin"]
GRADED = ["alice", "bob", "dave", "erin"]  # the ones that reach the grader


def make_class(folder: Path) -> Path:
    """One of each: a zipped reference wrapped in a folder, the stubs with stray and
    misnamed files, a broken zip, an empty folder, nbgrader's layout, a stray file."""
    folder.mkdir()
    with zipfile.ZipFile(folder / "alice.zip", "w") as z:
        for p in sorted(config.SOLUTIONS.glob("*.py")):
            z.write(p, f"homework/{p.name}")
    bob = folder / "bob"
    bob.mkdir()
    for name, text in stubs.render(config.SOLUTIONS).items():
        (bob / name).write_text(text)
    (bob / "notes.txt").write_text("my notes")
    (bob / "derivatives.py").rename(bob / "Derivatives.py")
    (folder / "carol.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    (folder / "dave").mkdir()
    (folder / "erin" / "ps1").mkdir(parents=True)
    for p in config.SOLUTIONS.glob("*.py"):
        shutil.copy(p, folder / "erin" / "ps1" / p.name)
    (folder / "README.txt").write_text("submissions downloaded on Monday")
    (folder / ".DS_Store").write_bytes(b"\0")
    return folder


def snapshot(out: Path) -> dict:
    """Everything in a batch's output except timings and timestamps."""
    conn = sqlite3.connect(out / gradebook.FILE)
    keep = [c for c in gradebook.SUBMISSION_COLUMNS if c not in ("seconds", "graded_at")]
    data = {
        "submissions": conn.execute(f"SELECT {', '.join(keep)} FROM submissions ORDER BY student").fetchall(),
        "tests": conn.execute("SELECT * FROM tests ORDER BY student, number").fetchall(),
        "figures": conn.execute("SELECT student, name, pngs.png FROM figures JOIN pngs "
                                "ON pngs.sha256 = figures.png ORDER BY student, name").fetchall(),
        "pngs": conn.execute("SELECT count(*) FROM pngs").fetchone(),  # none left unused
    }
    conn.close()
    for name in ("grades.csv", "grades_long.csv"):
        data[name] = (out / name).read_text()
    for path in sorted(p for p in (out / "feedback").rglob("*") if p.is_file()):
        data[path.relative_to(out).as_posix()] = path.read_bytes()
    for path in sorted((out / "results").glob("*.json")):
        data[path.relative_to(out).as_posix()] = {
            k: v for k, v in json.loads(path.read_text()).items() if k != "execution_time"}
    return data


@pytest.fixture(scope="module")
def subs(tmp_path_factory):
    return make_class(tmp_path_factory.mktemp("batch") / "class")


@pytest.fixture(scope="module")
def baseline(subs, tmp_path_factory):
    out = tmp_path_factory.mktemp("baseline") / "out"
    rows = batch.grade_all(subs, out, jobs=2)
    return out, {r["student"]: r for r in rows}


def run_cli(subs, out, *extra, **popen):
    env = dict(os.environ, CI="1", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    return subprocess.Popen([sys.executable, "-m", "autograder", "batch", str(subs), "--out", str(out),
                             *extra], cwd=config.ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **popen)


def test_every_submission_gets_a_row_and_the_broken_ones_say_why(baseline):
    _, rows = baseline
    assert sorted(rows) == STUDENTS  # .DS_Store is not a student
    assert all(rows[s]["graded_now"] for s in STUDENTS)
    alice, bob, carol, dave, erin = (rows[s] for s in ["alice", "bob", "carol", "dave", "erin"])
    assert alice["error"] is None and alice["max_score"] > 0 and alice["score"] > bob["score"]
    assert (alice["score"], alice["max_score"]) == (erin["score"], erin["max_score"])
    assert bob["score"] == 0 and bob["max_score"] == alice["max_score"]
    assert any("homework" in p for p in json.loads(alice["problems"]))
    assert any("ps1" in p for p in json.loads(erin["problems"]))
    assert any("derivatives.py is missing" in p and "Found 'Derivatives.py'" in p
               for p in json.loads(bob["problems"]))
    assert dave["score"] == 0 and len(json.loads(dave["problems"])) == len(config.EXERCISE_MODULES) + 1
    assert "holds no file at all" in json.loads(dave["problems"])[-1]
    assert carol["error_kind"] == "submission" and "carol.zip" in carol["error"] and "zip" in carol["error"]
    assert carol["max_score"] is None and carol["source"] == "carol.zip"
    assert "neither a folder nor a zip" in rows["README.txt"]["error"]
    assert str(config.ROOT) not in carol["error"]  # messages name the file, not where it lives
    assert len({r["grader"] for r in rows.values()}) == 1


def test_gradebook_and_csv_agree(baseline):
    out, rows = baseline
    conn = sqlite3.connect(out / gradebook.FILE)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tests = conn.execute("SELECT student, number, function, score, max_score, status FROM tests").fetchall()
    conn.close()
    for s in GRADED:
        mine = [t for t in tests if t[0] == s]
        assert mine and [t[1] for t in mine] == list(range(1, len(mine) + 1))
        assert sum(t[3] for t in mine) == pytest.approx(rows[s]["score"])
        assert sum(t[4] for t in mine) == pytest.approx(rows[s]["max_score"])
        assert all(t[5] == ("passed" if t[3] >= t[4] else "failed") for t in mine)
    assert not [t for t in tests if t[0] in ("carol", "README.txt")]

    wide = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text("utf-8-sig"))))
    assert [r["student"] for r in wide] == STUDENTS
    functions = list(wide[0])[5:]
    assert "sigmoid" in functions and "sigmoid_grad" in functions
    for r in wide:
        row = rows[r["student"]]
        assert float(r["score"]) == pytest.approx(row["score"])
        assert r["error"] == (row["error"] or "")
        assert r["problems"] == " ".join(json.loads(row["problems"]))
        if row["error"] is None:
            assert sum(float(r[f]) for f in functions) == pytest.approx(row["score"])
            assert float(r["sigmoid"]) == pytest.approx(
                sum(t[3] for t in tests if t[0] == r["student"] and t[2] == "sigmoid"))
    long = list(csv.DictReader(io.StringIO((out / "grades_long.csv").read_text("utf-8-sig"))))
    assert len(long) == len(tests)
    assert {(r["student"], int(r["number"]), r["function"]) for r in long} == {t[:3] for t in tests}


def test_feedback_and_gradescope_results_for_everyone(baseline):
    out, rows = baseline
    for s in STUDENTS:
        feedback = (out / "feedback" / f"{s}.md").read_text()
        results = json.loads((out / "results" / f"{s}.json").read_text())
        assert results["score"] == pytest.approx(rows[s]["score"])
        if rows[s]["error"]:
            assert rows[s]["error"] in feedback and rows[s]["error"] in results["output"]
        else:
            assert f"**Score: {rows[s]['score']:g} / {rows[s]['max_score']:g}**" in feedback
            assert len(results["tests"]) == sum(1 for _ in results["tests"]) > 0
    bob = (out / "feedback" / "bob.md").read_text()
    assert "## What to fix" in bob and "not written yet" in bob
    assert "def test_" not in bob and "assert " not in bob  # messages, never check code


def test_rerun_grades_nothing(subs, baseline, tmp_path):
    out, rows = baseline
    shutil.copytree(out, tmp_path / "out")
    csv_files = sorted((tmp_path / "out").glob("*.csv"))
    written = [p.stat().st_mtime_ns for p in csv_files]
    again = batch.grade_all(subs, tmp_path / "out", jobs=2)
    assert not any(r["graded_now"] for r in again)
    assert [p.stat().st_mtime_ns for p in csv_files] == written  # nothing they show changed
    assert {r["student"]: r["graded_at"] for r in again} == {s: rows[s]["graded_at"] for s in rows}
    assert snapshot(tmp_path / "out") == snapshot(out)


def test_a_changed_submission_alone_is_regraded(subs, baseline, tmp_path):
    out, rows = baseline
    shutil.copytree(subs, tmp_path / "class")
    shutil.copytree(out, tmp_path / "out")
    shutil.copy(config.SOLUTIONS / "activations.py", tmp_path / "class" / "bob" / "activations.py")
    again = {r["student"]: r for r in batch.grade_all(tmp_path / "class", tmp_path / "out", jobs=2)}
    assert [s for s in STUDENTS if again[s]["graded_now"]] == ["bob"]
    assert again["bob"]["score"] > rows["bob"]["score"]
    assert again["bob"]["content_hash"] != rows["bob"]["content_hash"]
    new = list(csv.DictReader(io.StringIO((tmp_path / "out" / "grades.csv").read_text("utf-8-sig"))))
    assert float(next(r for r in new if r["student"] == "bob")["sigmoid"]) > 0


@pytest.fixture
def small(tmp_path):
    """A class that needs no real grading: a broken zip and a stray file."""
    folder = tmp_path / "small"
    folder.mkdir()
    (folder / "carol.zip").write_bytes(b"not a zip")
    (folder / "notes.txt").write_text("")
    return folder


def test_another_grader_or_regrade_grades_everything_again(small, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert all(r["graded_now"] for r in batch.grade_all(small, out, jobs=1))
    assert not any(r["graded_now"] for r in batch.grade_all(small, out, jobs=1))
    assert all(r["graded_now"] for r in batch.grade_all(small, out, jobs=1, regrade=True))
    monkeypatch.setattr(batch, "grader_fingerprint", lambda: "another-grader")
    rows = batch.grade_all(small, out, jobs=1)
    assert all(r["graded_now"] and r["grader"] == "another-grader" for r in rows)


def test_the_fingerprint_covers_checks_reference_and_config_only(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    shutil.copytree(config.ROOT / "autograder", root / "autograder",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(config.SOLUTIONS, root / "solutions", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(batch, "PACKAGE", root / "autograder")
    monkeypatch.setattr(config, "ROOT", root)
    monkeypatch.setattr(config, "SOLUTIONS", root / "solutions")
    before = batch.grader_fingerprint()
    for presentation in ("report/text.py", "workflows/batch.py", "workflows/templates/README.md"):
        with open(root / "autograder" / presentation, "a") as f:
            f.write("\n")
        assert batch.grader_fingerprint() == before, presentation
    for decisive in ("autograder/config.py", "autograder/checks/test_activations.py",
                     "solutions/activations.py", "autograder/new_module.py"):
        with open(root / decisive, "a") as f:
            f.write("\n# changed\n")
        after = batch.grader_fingerprint()
        assert after != before, decisive
        before = after


def test_a_grader_that_hangs_is_stopped_and_retried(small, tmp_path, monkeypatch):
    monkeypatch.setattr(config, "BATCH_SUBMISSION_TIMEOUT", 0.05)
    out = tmp_path / "out"
    rows = {r["student"]: r for r in batch.grade_all(small, out, jobs=1)}
    assert rows["carol"]["error_kind"] == "grader" and "longer than" in rows["carol"]["error"]
    assert "not your grade" in (out / "feedback" / "carol.md").read_text()
    assert rows["notes.txt"]["error_kind"] == "submission"  # the batch went on
    monkeypatch.setattr(config, "BATCH_SUBMISSION_TIMEOUT", 600.0)
    rows = {r["student"]: r for r in batch.grade_all(small, out, jobs=1)}
    assert rows["carol"]["graded_now"] and rows["carol"]["error_kind"] == "submission"
    assert not rows["notes.txt"]["graded_now"]


def test_discover_reads_nbgrader_layout_and_refuses_ambiguity(tmp_path):
    folder = tmp_path / "submitted"
    (folder / "erin" / "ps1").mkdir(parents=True)
    (folder / "erin" / "ps2").mkdir()
    (folder / "fred" / "ps2").mkdir(parents=True)
    (folder / "gina").mkdir()
    (folder / "gina.zip").write_bytes(b"")
    (folder / "out").mkdir()
    found = {s.student: s for s in batch.discover(folder, "ps1", skip=folder / "out")}
    assert sorted(found) == ["erin", "fred", "gina"]
    assert found["erin"].path == folder / "erin" / "ps1" and found["erin"].problem is None
    assert "No folder 'ps1'" in found["fred"].problem
    assert "2 submissions named 'gina'" in found["gina"].problem


def test_progress_is_quiet_when_not_a_terminal_or_under_ci(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("CI", raising=False)
    shown, log = Terminal(), io.StringIO()
    for stream in (shown, log):
        bar = batch.Progress(2, stream)
        bar.advance("alice")
        bar.close()
    assert "1/2" in shown.getvalue() and "alice" in shown.getvalue() and log.getvalue() == ""
    monkeypatch.setenv("CI", "true")
    quiet = Terminal()
    batch.Progress(2, quiet).advance("alice")
    assert quiet.getvalue() == ""


def test_sigkill_at_any_moment_then_rerun_gives_the_uninterrupted_gradebook(subs, baseline, tmp_path):
    """Kill the batch (SIGKILL, no chance to clean up) at a seeded random moment after its
    first graded commit; a rerun must end with exactly the uninterrupted run's output."""
    out = tmp_path / "out"
    run = run_cli(subs, out, "--jobs", "1", start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and run.poll() is None:
        try:
            with sqlite3.connect(f"file:{out / gradebook.FILE}?mode=ro", uri=True) as conn:
                if conn.execute("SELECT count(*) FROM submissions WHERE error IS NULL").fetchone()[0]:
                    break
        except sqlite3.OperationalError:  # not created yet
            pass
        time.sleep(0.02)
    time.sleep(random.Random(config.SEED).uniform(0.0, 1.5))
    assert run.poll() is None, "the batch finished before it could be killed"
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    # Its grader processes notice the batch is gone and leave at once, in the middle of a
    # grade (which takes longer than this), without help.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(run.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("grader processes outlived the killed batch")
    with sqlite3.connect(out / gradebook.FILE) as conn:
        kept = {r[0] for r in conn.execute("SELECT student FROM submissions")}
    assert kept & set(GRADED)
    rows = batch.grade_all(subs, out, jobs=2)
    assert not {r["student"] for r in rows if r["graded_now"]} & kept
    assert snapshot(out) == snapshot(baseline[0])


def test_two_batches_at_once_on_one_gradebook_lose_nothing(subs, baseline, tmp_path):
    """Two runs at once into one gradebook, over overlapping parts of the class: alice and
    erin are graded by both at the same time, every other student by one run only. So a
    row, a feedback file or a CSV line that one run lost, pruned or left stale can't be
    made up for by the other run writing the same thing (as it would if both graded the
    whole class)."""
    parts = {"first": ["README.txt", "alice.zip", "carol.zip", "dave", "erin"],
             "second": ["alice.zip", "bob", "erin"]}
    for name, entries in parts.items():
        (tmp_path / name).mkdir()
        for entry in entries:
            copy = shutil.copytree if (subs / entry).is_dir() else shutil.copy
            copy(subs / entry, tmp_path / name / entry)
    out = tmp_path / "out"
    runs = [run_cli(tmp_path / name, out, "--jobs", "1") for name in parts]
    for run, entries in zip(runs, parts.values()):
        stdout, stderr = run.communicate(timeout=300)
        assert run.returncode == 0, stderr
        assert f"{len(entries)} submissions" in stdout
    with sqlite3.connect(out / gradebook.FILE) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert snapshot(out) == snapshot(baseline[0])  # everyone, as if graded in one run
    assert not [p for p in out.rglob("*.tmp")]


def _connect_at(path, start):
    while time.time() < start:
        pass
    gradebook.connect(path).close()


def test_runs_opening_a_new_gradebook_at_once_all_get_it(tmp_path):
    """Switching a new database to WAL fails at once (no busy wait) while another
    connection has it open: two runs starting on a new folder must not lose that race."""
    fork = multiprocessing.get_context("fork")
    for trial in range(10):
        path = tmp_path / str(trial) / gradebook.FILE
        path.parent.mkdir()
        start = time.time() + 0.2
        runs = [fork.Process(target=_connect_at, args=(path, start)) for _ in range(4)]
        for run in runs:
            run.start()
        for run in runs:
            run.join(timeout=60)
        assert [run.exitcode for run in runs] == [0] * 4
        assert sorted(p.name for p in path.parent.iterdir() if p.suffix == ".tmp") == []
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_feedback_shows_the_figures_the_experiments_drew(baseline):
    out, _ = baseline
    figures = sorted(p.name for p in (out / "feedback" / "alice").iterdir())
    assert figures and all(f.endswith(".png") and not f.endswith(".png.png") for f in figures)
    assert all((out / "feedback" / "alice" / f).read_bytes()[:4] == b"\x89PNG" for f in figures)
    feedback = (out / "feedback" / "alice.md").read_text()
    assert all(f"alice/{f}" in feedback for f in figures)
    assert not (out / "feedback" / "bob").exists()  # the stubs drew nothing


def test_each_figure_is_kept_once_and_linked_into_every_feedback(baseline):
    """alice and erin hand in the reference: the grader draws the same figures for both
    from their verified results, and the gradebook and the disk hold each PNG once."""
    out, _ = baseline
    with sqlite3.connect(out / gradebook.FILE) as conn:
        used = conn.execute("SELECT count(DISTINCT png), count(*) FROM figures").fetchone()
        kept = conn.execute("SELECT sha256, length(png) FROM pngs").fetchall()
    assert used[1] == 2 * used[0] > 0 and len(kept) == used[0]
    for name in os.listdir(out / "feedback" / "alice"):
        alice, erin = (os.stat(out / "feedback" / s / name) for s in ("alice", "erin"))
        assert (alice.st_ino, alice.st_dev) == (erin.st_ino, erin.st_dev)
    assert sorted(p.stem for p in (out / "feedback" / batch.FIGURES).iterdir()) == sorted(s for s, _ in kept)


def test_a_rerun_writes_only_the_exports_left_unwritten(subs, baseline, tmp_path):
    """A batch killed between a commit and its exports leaves the record in ``unexported``
    (faked here, with bob's feedback gone stale); exports deleted by hand are missing.
    The rerun writes exactly those again and leaves every other student's files untouched."""
    out = tmp_path / "out"
    shutil.copytree(baseline[0], out)
    with sqlite3.connect(out / gradebook.FILE) as conn:
        assert conn.execute("SELECT count(*) FROM unexported").fetchone() == (0,)
        conn.execute("INSERT INTO unexported VALUES ('bob', 'killed')")
    (out / "feedback" / "bob.md").write_text("stale")
    (out / "results" / "dave.json").unlink()
    (out / "grades_long.csv").unlink()
    before = {p: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}
    time.sleep(0.01)
    assert not any(r["graded_now"] for r in batch.grade_all(subs, out, jobs=2))
    assert snapshot(out) == snapshot(baseline[0])
    for path, mtime in before.items():
        assert (path.stat().st_mtime_ns == mtime) == (path.name != "bob.json"), path
    with sqlite3.connect(out / gradebook.FILE) as conn:
        assert conn.execute("SELECT count(*) FROM unexported").fetchone() == (0,)


def _as_schema_1(path: Path) -> None:
    """Turn a gradebook back into schema 1: a row per student and check in ``tests``,
    no ``checks`` or ``grades``, user_version 1."""
    with sqlite3.connect(path) as conn:
        conn.executescript("""
            CREATE TABLE old_tests (
                student TEXT NOT NULL REFERENCES submissions(student) ON DELETE CASCADE,
                number INTEGER NOT NULL, name TEXT NOT NULL, function TEXT NOT NULL,
                kind TEXT NOT NULL, score REAL NOT NULL, max_score REAL NOT NULL,
                status TEXT NOT NULL, output TEXT NOT NULL, public INTEGER NOT NULL,
                PRIMARY KEY (student, number));
            INSERT INTO old_tests SELECT * FROM tests;
            DROP VIEW tests; DROP TABLE grades; DROP TABLE checks;
            ALTER TABLE old_tests RENAME TO tests;
            PRAGMA user_version = 1;""")


def _as_schema_0(path: Path) -> None:
    """Turn a gradebook back into schema 0: every figure a PNG blob of its own, no
    ``pngs`` or ``unexported`` table, user_version 0."""
    _as_schema_1(path)
    with sqlite3.connect(path) as conn:
        conn.executescript("""
            CREATE TABLE old_figures (student TEXT NOT NULL REFERENCES submissions(student)
                ON DELETE CASCADE, name TEXT NOT NULL, png BLOB NOT NULL, PRIMARY KEY (student, name));
            INSERT INTO old_figures SELECT student, name, pngs.png FROM figures
                JOIN pngs ON pngs.sha256 = figures.png;
            DROP TABLE figures; DROP TABLE pngs; DROP TABLE unexported;
            ALTER TABLE old_figures RENAME TO figures;
            PRAGMA user_version = 0;""")


def test_an_old_gradebook_is_brought_up_to_date_and_resumes(subs, baseline, tmp_path):
    """A gradebook of schema 0 (a PNG per student and figure, the exports rewritten at
    every run's end, results.json indented) resumes: nothing is graded again, the figures
    move to ``pngs`` once each, and every export is written again in the new form."""
    out = tmp_path / "out"
    shutil.copytree(baseline[0], out)
    _as_schema_0(out / gradebook.FILE)
    for path in (out / "results").glob("*.json"):
        path.write_text(json.dumps(json.loads(path.read_text()), indent=2))
    shutil.rmtree(out / "feedback" / batch.FIGURES)
    assert not any(r["graded_now"] for r in batch.grade_all(subs, out, jobs=2))
    assert snapshot(out) == snapshot(baseline[0])
    assert all(p.read_bytes() == (baseline[0] / "results" / p.name).read_bytes()
               for p in (out / "results").glob("*.json"))
    with sqlite3.connect(out / gradebook.FILE) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == gradebook.SCHEMA_VERSION


def test_a_gradebook_of_schema_1_keeps_its_grades_and_exports(subs, baseline, tmp_path):
    """A gradebook of schema 1 (every check's name, function, kind and points in every
    student's rows) is brought up to date when opened: each check is kept once, nothing
    is graded or exported again, and the CSV files it writes are the same bytes."""
    out = tmp_path / "out"
    shutil.copytree(baseline[0], out)
    path = out / gradebook.FILE
    _as_schema_1(path)
    with sqlite3.connect(path) as conn:
        v1_rows = conn.execute("SELECT * FROM tests ORDER BY student, number").fetchall()
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and p.suffix != ".sqlite"
              and ".sqlite-" not in p.name}
    (out / "grades_long.csv").unlink()  # the CSV files written again, from the converted gradebook
    time.sleep(0.01)
    assert not any(r["graded_now"] for r in batch.grade_all(subs, out, jobs=2))
    assert snapshot(out) == snapshot(baseline[0])
    for p, mtime in before.items():
        assert (p.stat().st_mtime_ns == mtime) == (p.suffix != ".csv"), p
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == gradebook.SCHEMA_VERSION == 2
        assert conn.execute("SELECT * FROM tests ORDER BY student, number").fetchall() == v1_rows
        suites = conn.execute("SELECT count(DISTINCT suite), count(*) FROM checks").fetchone()
        graded = conn.execute("SELECT count(*) FROM grades").fetchone()[0]
    assert suites[0] == 1 and suites[1] == len(v1_rows) / graded  # each check once, not per student


def test_the_gradebook_keeps_each_check_once_and_gives_back_what_it_was_given(tmp_path):
    """Each student's row holds only scores and messages; the checks' names, functions,
    kinds and points are kept once for the class, yet ``tests`` (a view), ``result`` and
    the CSV files give back exactly the per-check rows, also for names and messages that
    need quoting in CSV or hold a '%'."""
    from autograder.results import GradeResult, TestResult

    def result(scores):
        names = ['relu: "a", b', "elu: 100% \\", "tanh: line\nbreak", "gelu: é"]
        return GradeResult("x", [TestResult(n, n.split(":")[0], "speed%" if i else "correctness",
                                            score, 1.0 + i, "" if score else f"lost, \"{n}\"\r\n%s",
                                            public=i == 2)
                                 for i, (n, score) in enumerate(zip(names, scores))],
                           "bubblewrap", 1.0, ["p, 1"])

    given = {"ann": result([1.0, 2.0, 0.0, 4.0]), "bo,b": result([0.0, 0.5, 3.0, 1 / 3])}
    conn = gradebook.connect(tmp_path / gradebook.FILE)
    row = {"source": "s", "content_hash": "h", "grader": "g", "graded_at": "now",
           "error": None, "error_kind": None}
    for student, r in given.items():
        gradebook.record(conn, {**row, "student": student}, r)
    gradebook.record(conn, {**row, "student": "cy", "score": 0.0, "max_score": None,
                            "seconds": 0.0, "isolation": "none", "error": "not a zip",
                            "error_kind": "submission"}, None)
    gradebook.export_csv(conn, tmp_path)
    rows = [(s, i, t.name, t.function, t.kind, t.score, t.max_score, t.status, t.output, int(t.public))
            for s, r in sorted(given.items()) for i, t in enumerate(r.tests, start=1)]
    assert [tuple(r) for r in conn.execute("SELECT * FROM tests ORDER BY student, number")] == rows
    assert conn.execute("SELECT count(*) FROM checks").fetchone()[0] == 4
    for student, r in given.items():
        assert gradebook.result(conn, student).tests == r.tests
    conn.close()
    long = io.StringIO()
    csv.writer(long, lineterminator="\n").writerows(
        [["student", "number", "name", "function", "kind", "score", "max_score", "status", "output"]]
        + [[s, i, n, f, k, gradebook._num(sc), gradebook._num(m), st, o] for s, i, n, f, k, sc, m, st, o, _ in rows])
    assert (tmp_path / "grades_long.csv").read_bytes().decode() == "\ufeff" + long.getvalue()
    wide = list(csv.reader(io.StringIO((tmp_path / "grades.csv").read_text(encoding="utf-8-sig"))))
    assert wide[0] == ["student", "score", "max_score", "error", "problems", "relu", "elu", "tanh", "gelu"]
    assert wide[1:] == [["ann", "7", "10", "", "p, 1", "1", "2", "0", "4"],
                        ["bo,b", "3.833333", "10", "", "p, 1", "0", "0.5", "3", "0.333333"],
                        ["cy", "0", "", "not a zip", "", "", "", "", ""]]


def test_a_gradebook_of_a_newer_grader_is_refused_with_a_message(small, tmp_path):
    out = tmp_path / "out"
    batch.grade_all(small, out, jobs=1)
    with sqlite3.connect(out / gradebook.FILE) as conn:
        conn.execute(f"PRAGMA user_version = {gradebook.SCHEMA_VERSION + 1}")
    run = run_cli(small, out)
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 2 and "Traceback" not in stderr, stderr
    assert "newer version of the grader" in stderr and str(out) in stderr


def test_figures_are_copies_where_the_file_system_has_no_hard_links(tmp_path, monkeypatch):
    from autograder.results import GradeResult, TestResult

    result = GradeResult("ann", [TestResult("t", "relu", "experiment", 1.0, 1.0)], "bubblewrap")
    result.figures = {"circles.png": b"\x89PNG circles"}
    batch.write_exports(tmp_path, "ann", result)  # linked
    assert os.stat(tmp_path / "feedback" / "ann" / "circles.png").st_nlink == 2

    def no_links(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_links)
    batch.write_exports(tmp_path, "bob", result)
    bob = tmp_path / "feedback" / "bob" / "circles.png"
    assert bob.read_bytes() == b"\x89PNG circles" and bob.stat().st_nlink == 1
    assert "bob/circles.png" in (tmp_path / "feedback" / "bob.md").read_text()
    assert not list(tmp_path.rglob("*.tmp"))
