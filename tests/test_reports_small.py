"""The smaller faults of issue 12, point 11: each one a test that failed before.

- ``grade ... | head`` wrote neither --json nor --junit (BrokenPipeError first);
- --junit wrote XML no parser reads when a message held control characters;
- grades.csv had no byte order mark (Excel garbles "josé"), the gradebook was 0600 beside
  0644 CSV files;
- students were told "your instructor has been told" though nothing tells anyone.
"""
import json
import os
import stat
import subprocess
import sys
from xml.etree import ElementTree as ET

from autograder import config
from autograder.workflows import gradebook, gradescope
from autograder.report import junit
from autograder.results import GradeResult
from autograder.results import TestResult as Check


def test_junit_escapes_what_xml_cannot_hold(tmp_path):
    result = GradeResult("s", [Check("sig\x07moid: values", "sigmoid", "correctness", 0.0, 1.0,
                                     'raised ValueError("bad \x00\x1b[31m")')], "process", 0.1)
    junit.write(result, tmp_path / "junit.xml")
    failure = ET.parse(tmp_path / "junit.xml").find("testcase/failure")  # parses at all
    assert failure.text == 'raised ValueError("bad #x00#x1B[31m")'
    assert ET.parse(tmp_path / "junit.xml").find("testcase").get("name") == "sig#x07moid: values"


def test_grade_into_a_closed_pipe_still_writes_its_files(tmp_path):
    env = dict(os.environ, AUTOGRADER_SELECT="test_activations and sigmoid and values",
               PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    run = subprocess.Popen([sys.executable, "-m", "autograder", "grade", str(config.SOLUTIONS),
                            "--json", str(tmp_path / "r.json"), "--junit", str(tmp_path / "j.xml")],
                           cwd=config.ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    run.stdout.close()  # `| head` that read nothing
    stderr = run.stderr.read().decode()
    run.wait(timeout=300)
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert json.loads((tmp_path / "r.json").read_text())["score"] > 0
    ET.parse(tmp_path / "j.xml")


def test_csv_has_a_bom_and_the_gradebook_is_readable_like_it(tmp_path):
    conn = gradebook.connect(tmp_path / gradebook.FILE)
    gradebook.record(conn, {"student": "josé", "source": "josé.zip", "content_hash": "h",
                            "grader": "g", "score": 0.0, "max_score": None, "seconds": 0.0,
                            "isolation": "none", "error": "not a zip", "error_kind": "submission",
                            "graded_at": "now"}, None)
    grades, _ = gradebook.export_csv(conn, tmp_path)
    conn.close()
    data = grades.read_bytes()
    assert data.startswith("\ufeff".encode()) and "josé".encode() in data
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()
             if p.name in (gradebook.FILE, "grades.csv", "grades_long.csv")}
    assert modes == {gradebook.FILE: 0o644, "grades.csv": 0o644, "grades_long.csv": 0o644}


def test_no_message_claims_someone_was_told(tmp_path, monkeypatch):
    import autograder.runner

    def broken(path, **kwargs):
        raise RuntimeError("the grader broke")

    monkeypatch.setattr(autograder.runner, "grade", broken)
    (tmp_path / "submission").mkdir()
    gradescope.run(tmp_path)
    output = json.loads((tmp_path / "results" / "results.json").read_text())["output"]
    assert "not your grade" in output and "has been told" not in output
    assert "has been told" not in (gradescope.TEMPLATES / "run_autograder").read_text()
