"""Intake that explains itself (issue 12, points 4 and 6): every row whose score is zero,
or that lacks a module, says why and names the files that were found, suggesting the one
probably meant; a submission removed from the folder leaves the exports, not the record.
"""
import csv
import io
import json
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest

from autograder import config
from autograder.workflows import batch, gradebook


def wide(out: Path) -> dict[str, dict]:
    text = (out / "grades.csv").read_text(encoding="utf-8-sig")
    return {r["student"]: r for r in csv.DictReader(io.StringIO(text))}


@pytest.fixture(scope="module")
def intake(tmp_path_factory):
    """An empty folder, a zip without a .py, a capitalised and a copied module name."""
    folder = tmp_path_factory.mktemp("intake") / "class"
    folder.mkdir()
    (folder / "empty").mkdir()
    with zipfile.ZipFile(folder / "pdf.zip", "w") as z:
        z.writestr("report.pdf", b"%PDF-1.4")
        z.writestr("notes.txt", "see the pdf")
    for student, wrong in (("capital", "Activations.py"), ("copy", "activations (1).py")):
        shutil.copytree(config.SOLUTIONS, folder / student,
                        ignore=shutil.ignore_patterns("__pycache__"))
        (folder / student / "activations.py").rename(folder / student / wrong)
    out = folder.parent / "out"
    rows = {r["student"]: r for r in batch.grade_all(folder, out, jobs=2)}
    return folder, out, rows


def test_every_row_missing_something_says_why_in_the_csv(intake):
    _, out, rows = intake
    csv_rows = wide(out)
    assert set(csv_rows) == {"empty", "pdf", "capital", "copy"}
    for student, row in csv_rows.items():
        assert rows[student]["error"] is None  # graded: what is missing is said in problems
        assert "activations.py is missing" in row["problems"], (student, row)
    assert float(csv_rows["empty"]["score"]) == 0
    assert "holds no file at all" in csv_rows["empty"]["problems"]
    assert float(csv_rows["pdf"]["score"]) == 0
    assert "Files found in your submission: notes.txt, report.pdf." in csv_rows["pdf"]["problems"]
    assert "Found 'Activations.py'" in csv_rows["capital"]["problems"]
    assert "Found 'activations (1).py'" in csv_rows["copy"]["problems"]
    assert 0 < float(csv_rows["copy"]["score"]) < float(csv_rows["copy"]["max_score"])


def test_feedback_names_the_files_found_and_the_one_meant(intake):
    _, out, _ = intake
    feedback = (out / "feedback" / "capital.md").read_text()
    assert "Found 'Activations.py': is that it? Name it exactly activations.py" in feedback
    assert "Files found in your submission:" in feedback and "derivatives.py" in feedback
    assert "notes.txt" in (out / "feedback" / "pdf.md").read_text()


def test_a_removed_submission_leaves_the_exports_and_stays_in_the_record(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "carol.zip").write_bytes(b"not a zip")
    (folder / "notes.txt").write_text("")
    out = tmp_path / "out"
    batch.grade_all(folder, out, jobs=1)
    assert set(wide(out)) == {"carol", "notes.txt"}
    (folder / "notes.txt").unlink()
    rows = batch.grade_all(folder, out, jobs=1)
    assert [r["student"] for r in rows] == ["carol"]
    assert set(wide(out)) == {"carol"}
    long_csv = (out / "grades_long.csv").read_text()
    assert "notes.txt" not in long_csv
    assert not (out / "feedback" / "notes.txt.md").exists()
    assert not (out / "results" / "notes.txt.json").exists()
    conn = sqlite3.connect(out / gradebook.FILE)
    kept = conn.execute("SELECT student, error FROM submissions WHERE student = 'notes.txt'")
    assert kept.fetchone()[1]  # the history keeps its row
    assert conn.execute("SELECT student FROM removed").fetchall() == [("notes.txt",)]
    conn.close()
    (folder / "notes.txt").write_text("")  # back: in the exports again, without a regrade
    rows = {r["student"]: r for r in batch.grade_all(folder, out, jobs=1)}
    assert not rows["notes.txt"]["graded_now"] and set(wide(out)) == {"carol", "notes.txt"}
    assert (out / "feedback" / "notes.txt.md").exists()
    assert json.loads((out / "results" / "notes.txt.json").read_text())["score"] == 0


def test_nbgrader_notebooks_are_graded_cell_by_cell(tmp_path):
    """nbgrader's submitted/<student>/<assignment>/ (point 1): a syntax error costs its own
    cell, not the notebook, and every message names the notebook's cell, never a .py."""
    from autograder.workflows.nbgrader_course import ASSIGNMENT, write_course

    write_course(tmp_path / "course", points={})
    work = tmp_path / "submitted" / "ana" / ASSIGNMENT
    shutil.copytree(tmp_path / "course" / "source" / ASSIGNMENT, work)
    nb = json.loads((work / "activations.ipynb").read_text())
    for cell in nb["cells"]:
        if cell["id"].startswith("relu-") and cell["id"].endswith("-solution"):
            cell["source"] = "def relu(x):\n    return np.maximum(x 0)\n"
            relu_cell = cell["id"]
        if cell["id"].startswith("tanh-") and cell["id"].endswith("-solution"):
            cell["source"] = "def tanh(x):\n    x = np.asarray(x)\n    raise ValueError('no')\n"
            tanh_cell = cell["id"]
    (work / "activations.ipynb").write_text(json.dumps(nb))
    out = tmp_path / "out"
    [row] = batch.grade_all(tmp_path / "submitted", out, jobs=1, assignment=ASSIGNMENT)
    problems = json.loads(row["problems"])
    assert any(f"activations.ipynb, cell '{relu_cell}' has a syntax error" in p and
               "line 2 of the cell" in p for p in problems), problems
    conn = sqlite3.connect(out / gradebook.FILE)
    conn.row_factory = sqlite3.Row
    scores = gradebook.result(conn, "ana").by_function()
    conn.close()
    assert scores["relu"][0] == 0 and scores["tanh"][0] == 0
    assert scores["sigmoid"][0] == scores["sigmoid"][1] > 0  # the rest of the notebook counts
    feedback = (out / "feedback" / "ana.md").read_text()
    assert f"raised ValueError: no (activations.ipynb, cell '{tanh_cell}', line 3)" in feedback
    assert "activations.py" not in feedback
