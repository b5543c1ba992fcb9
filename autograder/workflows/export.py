"""A batch's grades in the form an LMS gradebook imports, from its gradebook alone.

    python -m autograder export OUT --format canvas|moodle|csv --assignment NAME --points P
        [--roster roster.csv] [--due WHEN] [--extensions extensions.csv] [--late-penalty F]

OUT is a batch's output folder; ``export-<format>.csv`` is written there. Each grade is the
grader's score rescaled to the assignment's ``--points``, minus a late penalty: with a due
date, a submission handed in after it (nbgrader's ``timestamp.txt``, else its newest file;
``extensions.csv``, columns ``student,due``, gives a student a due date of their own) loses
``--late-penalty`` of the points per started day late, never below 0 (nbgrader's
``late_submission_penalty``). A submission that could not be graded scores 0.

The roster (CSV, columns ``student,id,name,email,lms_id``; ``student`` is the batch's name
of the submission: the folder, zip or LMS name) maps submissions to people. Everyone on the
roster gets a row, 0 without a submission; a submission nobody on the roster matches is
exported under its own name and listed in the returned warnings.

- ``canvas``: Canvas's gradebook import, keyed by its columns ``Student, ID, SIS User ID,
  SIS Login ID, Section`` (``ID`` is the roster's ``lms_id``), then one column named after
  the assignment.
- ``moodle``: Moodle's grade import, keyed by ``ID number`` or ``Email address``, then the
  assignment's column.
- ``csv``: nbgrader's export columns (``assignment, duedate, timestamp, student_id,
  last_name, first_name, email, raw_score, late_submission_penalty, score, max_score``).
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..errors import InputError
from . import gradebook

FORMATS = ("canvas", "moodle", "csv")
ROSTER_COLUMNS = ("student", "id", "name", "email", "lms_id")


class ExportError(InputError):
    """Bad input to an export: a roster, a date, a gradebook that isn't there."""


@dataclass
class Grade:
    student: str          # the batch's name
    person: dict          # the roster's row (student, id, name, email, lms_id)
    raw: float            # the grader's score
    raw_max: float | None
    submitted: str        # ISO 8601, "" when nothing was handed in
    due: datetime | None
    penalty: float        # points taken for lateness
    score: float          # what the LMS gets, out of the assignment's points


def _when(text: str, what: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ExportError(f"{what}: {text!r} is not a date and time (e.g. 2026-12-08T23:59:00+00:00)") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _read_csv(path: Path, columns: tuple[str, ...], what: str) -> list[dict]:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ExportError(f"can't read the {what} {path}: {exc.strerror}") from None
    rows = list(csv.DictReader(io.StringIO(text)))
    missing = [c for c in columns if rows and c not in rows[0]] or ([] if rows else list(columns))
    if missing:
        raise ExportError(f"the {what} {path} needs the columns {', '.join(columns)}; "
                          f"missing: {', '.join(missing)}")
    return [{c: (r.get(c) or "").strip() for c in r} for r in rows]


def read_roster(path: Path | None) -> dict[str, dict]:
    """student -> the roster's row; {} without a roster."""
    if path is None:
        return {}
    rows = _read_csv(path, ("student",), "roster")
    people = {}
    for r in rows:
        if r["student"] in people:
            raise ExportError(f"the roster {path} lists '{r['student']}' twice")
        people[r["student"]] = {c: r.get(c, "") for c in ROSTER_COLUMNS}
    return people


def grades(out: Path, points: float, *, roster: dict[str, dict] | None = None,
           due: str | None = None, extensions: Path | None = None,
           late_penalty: float = 0.0) -> tuple[list[Grade], list[str]]:
    """Every row to export, sorted by student, and warnings for the instructor."""
    if not points > 0:
        raise ExportError(f"--points must be positive, not {points:g}")
    if not 0 <= late_penalty <= 1:
        raise ExportError(f"--late-penalty is a fraction of the points per day, 0 to 1, not {late_penalty:g}")
    path = Path(out) / gradebook.FILE
    if not path.is_file():
        raise ExportError(f"no gradebook in {out}: run `python -m autograder batch ... --out {out}` first")
    try:
        conn = gradebook.connect(path)
    except gradebook.GradebookError as exc:
        raise ExportError(str(exc)) from None
    try:
        rows, times = gradebook.submissions(conn), gradebook.submitted_at(conn)
    finally:
        conn.close()
    roster = roster or {}
    default_due = _when(due, "--due") if due else None
    own_due = {r["student"]: _when(r["due"], f"{extensions}, {r['student']}")
               for r in (_read_csv(extensions, ("student", "due"), "extensions") if extensions else [])}
    warnings = [f"'{s}' has a submission but is not on the roster: exported under that name"
                for s in rows if roster and s not in roster]
    out_rows = []
    for student in sorted(set(rows) | set(roster)):
        row = rows.get(student)
        person = roster.get(student) or {"student": student, "id": student, "name": student,
                                         "email": "", "lms_id": ""}
        raw = row["score"] if row and not row["error"] else 0.0
        raw_max = row["max_score"] if row else None
        scaled = raw / raw_max * points if raw_max else 0.0
        submitted = times.get(student, "") if row else ""
        deadline = own_due.get(student, default_due)
        penalty = 0.0
        if deadline and submitted:
            late = (_when(submitted, "submission time") - deadline).total_seconds()
            if late > 0:
                penalty = min(scaled, math.ceil(late / 86400) * late_penalty * points)
        out_rows.append(Grade(student, person, raw, raw_max, submitted, deadline,
                              round(penalty, 2), round(max(0.0, scaled - penalty), 2)))
    return out_rows, warnings


def _name_parts(name: str) -> tuple[str, str]:
    """(last, first) of "First Last" (or "Last, First")."""
    if "," in name:
        last, first = (p.strip() for p in name.split(",", 1))
        return last, first
    first, _, last = name.rpartition(" ")
    return last, first


def table(rows: list[Grade], fmt: str, assignment: str, points: float) -> tuple[list[str], list[list]]:
    """(header, rows) of the export in ``fmt``."""
    if fmt == "canvas":
        return (["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment],
                [[g.person["name"], g.person["lms_id"], g.person["id"], g.person["email"], "",
                  f"{g.score:g}"] for g in rows])
    if fmt == "moodle":
        return (["ID number", "Email address", "Full name", assignment],
                [[g.person["id"], g.person["email"], g.person["name"], f"{g.score:g}"] for g in rows])
    if fmt == "csv":
        return (["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
                 "email", "raw_score", "late_submission_penalty", "score", "max_score"],
                [[assignment, g.due.isoformat() if g.due else "", g.submitted, g.person["id"],
                  *_name_parts(g.person["name"]), g.person["email"], f"{g.raw:g}",
                  f"{g.penalty:g}", f"{g.score:g}", f"{points:g}"] for g in rows])
    raise ExportError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")


def export(out: Path, fmt: str, assignment: str, points: float, *, roster: Path | None = None,
           due: str | None = None, extensions: Path | None = None,
           late_penalty: float = 0.0) -> tuple[Path, list[str]]:
    """Write ``OUT/export-<fmt>.csv``; return it and the warnings."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    rows, warnings = grades(out, points, roster=read_roster(roster), due=due,
                            extensions=extensions, late_penalty=late_penalty)
    header, body = table(rows, fmt, assignment, points)
    target = Path(out) / f"export-{fmt}.csv"
    gradebook.write_atomic(target, gradebook.csv_text(header, body))
    return target, warnings
