"""LMS layouts in, LMS gradebooks out (issue 12, point 5).

Canvas's "Download Submissions" (loose files named ``<lastfirst>_<id>_<submission>_<name>``)
and Moodle's folders are understood as one submission per student; ``export`` writes
Canvas's, Moodle's and nbgrader's CSV columns from the gradebook, through a roster, rescaled
to the assignment's points, with late penalties from a due date and per-student extensions.
"""
import csv
import io
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from autograder import config
from autograder.workflows import batch, export

DUE = datetime(2026, 12, 8, 23, 59, tzinfo=timezone.utc)


def _at(path, when):
    os.utime(path, (when.timestamp(), when.timestamp()))


@pytest.fixture(scope="module")
def canvas(tmp_path_factory):
    """garciajose: the reference, handed in 1 day late (he has an extension); leeann: only a
    (resubmitted, late) activations.py, 2 days late; the batch graded."""
    folder = tmp_path_factory.mktemp("canvas") / "submissions"
    folder.mkdir()
    for m in config.EXERCISE_MODULES:
        target = folder / f"garciajose_10234_998877_{m}.py"
        shutil.copy(config.SOLUTIONS / f"{m}.py", target)
        _at(target, DUE.replace(day=9, hour=12))
    late = folder / "leeann_LATE_20001_998900_activations-1.py"
    shutil.copy(config.SOLUTIONS / "activations.py", late)
    _at(late, DUE.replace(day=10, hour=12))
    out = folder.parent / "out"
    rows = {r["student"]: r for r in batch.grade_all(folder, out, jobs=2)}
    roster = folder.parent / "roster.csv"
    roster.write_text("student,id,name,email,lms_id\n"
                      "garciajose,s1,José García,jose@example.edu,10234\n"
                      "absent,s3,Ann Absent,ann@example.edu,30003\n", encoding="utf-8")
    extensions = folder.parent / "extensions.csv"
    extensions.write_text("student,due\ngarciajose,2026-12-10T00:00:00+00:00\n")
    return folder, out, rows, roster, extensions


def read(path):
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_canvas_files_are_one_submission_per_student(canvas):
    folder, _, rows, _, _ = canvas
    assert sorted(rows) == ["garciajose", "leeann"]
    assert rows["garciajose"]["error"] is None
    assert rows["garciajose"]["score"] == rows["garciajose"]["max_score"] > 0
    assert "activations.py is missing" not in rows["leeann"]["problems"]  # -1 taken off
    assert 0 < rows["leeann"]["score"] < rows["leeann"]["max_score"]
    assert rows["leeann"]["source"] == "leeann_LATE_20001_998900_activations-1.py"
    again = batch.grade_all(folder, canvas[1], jobs=1)  # nothing changed: nothing regraded
    assert not any(r["graded_now"] for r in again)


def test_moodle_folders_are_named_after_the_student(tmp_path):
    (tmp_path / "Jose Garcia_123456_assignsubmission_file_").mkdir()
    (tmp_path / "Lee Ann_123457_assignsubmission_onlinetext_").mkdir()
    found = [s.student for s in batch.discover(tmp_path)]
    assert found == ["Jose Garcia_123456", "Lee Ann_123457"]


def test_canvas_export_rescaled_through_the_roster_with_late_penalties(canvas):
    _, out, rows, roster, extensions = canvas
    path, warnings = export.export(out, "canvas", "Activations lab", 100, roster=roster,
                                   due=DUE.isoformat(), extensions=extensions, late_penalty=0.1)
    assert path == out / "export-canvas.csv"
    table = read(path)
    assert list(table[0]) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                              "Activations lab"]
    by_id = {r["SIS User ID"]: r for r in table}
    assert by_id["s1"]["Student"] == "José García" and by_id["s1"]["ID"] == "10234"
    assert by_id["s1"]["Activations lab"] == "100"  # late, but within his extension
    assert by_id["s3"]["Activations lab"] == "0"    # on the roster, nothing handed in
    leeann = rows["leeann"]["score"] / rows["leeann"]["max_score"] * 100
    assert float(by_id["leeann"]["Activations lab"]) == pytest.approx(max(0, leeann - 20), abs=0.01)
    assert warnings == ["'leeann' has a submission but is not on the roster: exported under that name"]


def test_moodle_and_nbgrader_style_csv(canvas):
    _, out, rows, roster, _ = canvas
    moodle = read(export.export(out, "moodle", "Lab 1", 10, roster=roster)[0])
    assert list(moodle[0]) == ["ID number", "Email address", "Full name", "Lab 1"]
    assert {r["ID number"]: r["Lab 1"] for r in moodle}["s1"] == "10"
    plain = read(export.export(out, "csv", "Lab 1", 10, roster=roster, due=DUE.isoformat(),
                               late_penalty=0.5)[0])
    assert list(plain[0]) == ["assignment", "duedate", "timestamp", "student_id", "last_name",
                              "first_name", "email", "raw_score", "late_submission_penalty",
                              "score", "max_score"]
    jose = next(r for r in plain if r["student_id"] == "s1")
    assert (jose["last_name"], jose["first_name"]) == ("García", "José")
    assert jose["late_submission_penalty"] == "5" and jose["score"] == "5"  # 1 day, no extension
    assert jose["timestamp"] == "2026-12-09T12:59:00+00:00" and jose["max_score"] == "10"
    assert float(jose["raw_score"]) == rows["garciajose"]["score"]


def test_bad_input_gets_a_clear_error(canvas, tmp_path):
    _, out, _, _, _ = canvas
    bad = tmp_path / "roster.csv"
    bad.write_text("name,email\nJosé,j@x\n")
    with pytest.raises(export.ExportError, match="needs the columns student"):
        export.export(out, "canvas", "Lab", 10, roster=bad)
    with pytest.raises(export.ExportError, match="not a date"):
        export.export(out, "csv", "Lab", 10, due="next friday")
    run = subprocess.run([sys.executable, "-m", "autograder", "export", str(tmp_path),
                          "--assignment", "Lab", "--points", "10"], cwd=config.ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "no gradebook in" in run.stderr
