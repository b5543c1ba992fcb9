"""The SQLite gradebook of a class, and the CSV files exported from it.

One row per submission in ``submissions``, and for each graded one a row in ``grades``:
its checks' scores and messages, packed in check order, with the sums per function and the
student's rows of ``grades_long.csv`` as they are written there (so the CSV files are put
together from these rows, never rebuilt check by check). What every student shares, each
check's name, function, kind, points and whether it is public, is kept once per list of
checks in ``checks`` (a *suite*, named by a hash of that list: one per grader, in
practice). ``tests`` is a view that gives the per-check rows back (student, number, name,
function, kind, score, max_score, status, output, public), for queries. One row per figure
the grader drew for the student's feedback in ``figures``, which names its PNG by content
hash: the PNG itself is kept once in ``pngs``, however many students' verified results drew
it (every correct run of an experiment draws the same picture, so a class of any size holds
about four). ``found`` says in which submissions folder each was last found and when it was
handed in; ``removed`` lists the students whose submission is no longer in the folder it
was found in: their grade is kept (the history) but leaves every export, until a
submission of theirs comes back. (A gradebook shared by batches over different folders
loses nobody: only a folder's own students can leave it.) ``unexported`` lists the grades
committed whose feedback and results.json may not be written yet (a batch killed between
the two), so a rerun writes exactly those again; ``meta`` counts the commits that change
what the CSV files show, so they are written only when that count moved since they last
were. A submission's rows are replaced in one transaction, so a batch killed at any
moment leaves either its old grade or its new one, never a mix. The WAL journal and a busy
timeout let two batch runs share a gradebook: readers never block, writers wait their turn.

The schema's version is SQLite's ``user_version`` (``SCHEMA_VERSION``): an older gradebook
is brought up to date when opened, in one transaction (version 0 kept a copy of every PNG
per student; versions 0 and 1 a ``tests`` table of every check's name, function, kind and
points in every student's rows, which become ``checks`` and ``grades``), one made by a
newer grader is refused with a message (grade with that version, or another --out).

Everything else a batch writes (CSV, feedback, results.json) is derived from here, so it
can always be rebuilt from the gradebook alone.
"""
from __future__ import annotations

import csv
import functools
import hashlib
import io
import itertools
import json
import operator
import os
import sqlite3
import tempfile
import threading
from pathlib import Path

from ..errors import InputError
from ..report.gradescope import json_number
from ..results import GradeResult, TestResult

FILE = "gradebook.sqlite"
BUSY_TIMEOUT_MS = 120_000  # another batch run may hold the write lock for one commit

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    student      TEXT PRIMARY KEY,
    source       TEXT NOT NULL,  -- the folder or zip graded, relative to the batch folder
    content_hash TEXT NOT NULL,  -- sha256 over the submission's files
    grader       TEXT NOT NULL,  -- fingerprint of what decides a verdict (checks, reference, ...)
    score        REAL NOT NULL,
    max_score    REAL,           -- NULL when nothing could be graded
    seconds      REAL NOT NULL,
    isolation    TEXT NOT NULL,
    error        TEXT,           -- why there is no grade, or NULL
    error_kind   TEXT,           -- 'submission': final for this content; 'grader': retried next run
    problems     TEXT NOT NULL,  -- JSON list: messages for the student
    internal     TEXT NOT NULL,  -- JSON list: checks that broke, for the instructor
    graded_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checks (
    suite     TEXT NOT NULL,     -- which list of checks (``suite``): one per grader, in practice
    number    INTEGER NOT NULL,  -- the check's position in the run, as in results.json
    name      TEXT NOT NULL,
    function  TEXT NOT NULL,
    kind      TEXT NOT NULL,
    max_score REAL NOT NULL,
    public    INTEGER NOT NULL,
    PRIMARY KEY (suite, number)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS grades (
    student   TEXT PRIMARY KEY REFERENCES submissions(student) ON DELETE CASCADE,
    suite     TEXT NOT NULL,     -- the checks run (``checks``), in order
    scores    TEXT NOT NULL,     -- JSON list: each check's score
    outputs   TEXT NOT NULL,     -- JSON list: each check's message
    functions TEXT NOT NULL,     -- JSON object: function -> its checks' scores summed (grades.csv)
    long_csv  TEXT NOT NULL      -- the student's rows of grades_long.csv, as written there
);
CREATE VIEW IF NOT EXISTS tests AS  -- a row per check, as schema 1 kept them
    SELECT grades.student AS student, checks.number AS number, checks.name AS name,
           checks.function AS function, checks.kind AS kind, s.value AS score,
           checks.max_score AS max_score,
           CASE WHEN s.value >= checks.max_score THEN 'passed' ELSE 'failed' END AS status,
           json_extract(grades.outputs, '$[' || s.key || ']') AS output,
           checks.public AS public
    FROM grades JOIN json_each(grades.scores) AS s
         JOIN checks ON checks.suite = grades.suite AND checks.number = s.key + 1;
CREATE TABLE IF NOT EXISTS pngs (
    sha256    TEXT PRIMARY KEY,  -- of the PNG's bytes
    png       BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS figures (
    student   TEXT NOT NULL REFERENCES submissions(student) ON DELETE CASCADE,
    name      TEXT NOT NULL,     -- as the check named it
    png       TEXT NOT NULL REFERENCES pngs(sha256),  -- what the grader drew from the student's verified results
    PRIMARY KEY (student, name)
);
CREATE INDEX IF NOT EXISTS figures_by_png ON figures(png);
CREATE TABLE IF NOT EXISTS found (
    student    TEXT PRIMARY KEY,
    folder     TEXT NOT NULL,    -- the submissions folder it was last found in
    at         TEXT NOT NULL     -- when it was handed in (nbgrader's timestamp.txt, else the newest file)
);
CREATE TABLE IF NOT EXISTS removed (
    student    TEXT PRIMARY KEY REFERENCES submissions(student) ON DELETE CASCADE,
    removed_at TEXT NOT NULL     -- when a batch first found the submission gone
);
CREATE TABLE IF NOT EXISTS meta (
    key        TEXT PRIMARY KEY, -- 'changes': counts commits that change what the CSV files show;
    value      INTEGER NOT NULL  -- 'csv': the count they were last written at
);
INSERT OR IGNORE INTO meta VALUES ('changes', 1), ('csv', 0);
CREATE TABLE IF NOT EXISTS unexported (
    student    TEXT PRIMARY KEY REFERENCES submissions(student) ON DELETE CASCADE,
    token      TEXT NOT NULL     -- which commit of the student's grade (``record``'s return)
);
"""
SCHEMA_VERSION = 2

SUBMISSION_COLUMNS = ("student", "source", "content_hash", "grader", "score", "max_score",
                      "seconds", "isolation", "error", "error_kind", "problems", "internal",
                      "graded_at")
LONG_COLUMNS = ("student", "number", "name", "function", "kind", "score", "max_score",
                "status", "output")  # grades_long.csv's


def _open(path: Path) -> sqlite3.Connection:
    # Autocommit mode: every write below opens its own BEGIN IMMEDIATE, which takes the
    # write lock up front (waiting on the busy timeout) instead of failing mid-transaction.
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _create(path: Path) -> None:
    """A new gradebook, built aside and linked into place: switching a database to WAL
    fails at once ("database is locked", no busy wait) while another connection has it
    open, as when two batch runs start on the same new folder."""
    fd, tmp = tempfile.mkstemp(prefix=".gradebook-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o644)  # readable like the CSV files beside it (mkstemp makes it 0600)
    try:
        conn = _open(Path(tmp))
        conn.execute("PRAGMA journal_mode = WAL")  # kept in the file: every later open is WAL
        conn.executescript(SCHEMA)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.close()
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another run made it first: use theirs
        except OSError:  # no hard links on this file system: a rename (racy, but works)
            if not path.exists():
                os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the gradebook at ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        _create(path)
    conn = _open(path)
    try:
        _upgrade(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


class GradebookError(InputError):
    """A gradebook this grader can't use (made by a newer version of it)."""


def _upgrade(conn: sqlite3.Connection, path: Path) -> None:
    """Bring a gradebook of an older schema up to ``SCHEMA_VERSION``, in one transaction;
    refuse one of a newer schema."""
    with transaction(conn):
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise GradebookError(
                f"{path} was written by a newer version of the grader (gradebook schema "
                f"{version}; this one knows {SCHEMA_VERSION}): grade with that version, or "
                f"give --out another folder.")
        if version == SCHEMA_VERSION:
            return
        columns = {r[1]: r[2] for r in conn.execute("PRAGMA table_info(figures)")}
        if columns.get("png") == "BLOB":  # version 0: every student's own copy of each PNG
            conn.execute("ALTER TABLE figures RENAME TO figures_v0")
        kinds = dict(conn.execute("SELECT name, type FROM sqlite_master"))
        if kinds.get("tests") == "table":  # versions 0 and 1: a row per student and check
            conn.execute("ALTER TABLE tests RENAME TO tests_v1")
        for statement in _statements(SCHEMA):
            conn.execute(statement)
        if columns.get("png") == "BLOB":
            for student, name, png in conn.execute("SELECT student, name, png FROM figures_v0").fetchall():
                conn.execute("INSERT OR IGNORE INTO pngs VALUES (?, ?)", (sha256(png), png))
                conn.execute("INSERT INTO figures VALUES (?, ?, ?)", (student, name, sha256(png)))
            conn.execute("DROP TABLE figures_v0")
        if kinds.get("tests") == "table":
            rows = conn.execute("SELECT student, name, function, kind, score, max_score, output, "
                                "public FROM tests_v1 ORDER BY student, number").fetchall()
            for student, checks in itertools.groupby(rows, key=lambda r: r[0]):
                _insert_grade(conn, _grade(student, [TestResult(*t[1:7], bool(t[7])) for t in checks]))
            conn.execute("DROP TABLE tests_v1")
        if version == 0:
            # Version 0 rewrote every export at the end of each run; from here on only what
            # ``unexported`` lists is: start from everyone, so a killed old run loses nothing.
            conn.execute("INSERT OR IGNORE INTO unexported SELECT student, '' FROM submissions")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _statements(script: str) -> list[str]:
    """``script``'s SQL statements one by one (``executescript`` would commit first)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements


@functools.lru_cache(maxsize=64)  # a result's PNGs are hashed to record and to write them
def sha256(png: bytes) -> str:
    """The name a PNG is kept under (in ``pngs`` and ``feedback/.figures/``)."""
    return hashlib.sha256(png).hexdigest()


@functools.lru_cache(maxsize=16)
def _suite(checks: tuple) -> str:
    """The name of a list of checks (name, function, kind, max points, public), as a hash:
    a grader runs the same list for every submission, so ``checks`` keeps it once."""
    return hashlib.sha256(json.dumps(checks).encode()).hexdigest()[:16]


def _grade(student: str, tests: list[TestResult]) -> tuple:
    """What ``grades`` and ``checks`` keep of ``tests``: (the suite's checks, the student's
    row in ``grades``), computed outside the transaction that writes them."""
    checks = tuple(map(_CHECK, tests))
    suite = _suite(checks)
    scores, outputs = list(map(_SCORE, tests)), list(map(_OUTPUT, tests))
    sums: dict[str, float] = {}
    for t in tests:  # in the order of the checks, as grades.csv always summed them
        sums[t.function] = sums.get(t.function, 0.0) + t.score
    rows = [""] * (4 * len(tests))
    rows[0::4] = [_csv_field(student)] * len(tests)
    rows[1::4] = map(_num, scores)
    rows[2::4] = map(_STATUS, tests)
    rows[3::4] = [_csv_field(o) if o else "" for o in outputs]  # most checks say nothing
    row = (student, suite, f"[{', '.join(map(json_number, scores))}]", json.dumps(outputs),
           json.dumps(sums), _long_template(checks) % tuple(rows))
    return checks, row


_CHECK = operator.attrgetter("name", "function", "kind", "max_score", "public")
_SCORE, _OUTPUT, _STATUS = (operator.attrgetter(a) for a in ("score", "output", "status"))


@functools.lru_cache(maxsize=16)
def _long_template(checks: tuple) -> str:
    """A suite's rows of grades_long.csv, as the CSV writer writes them, with a %s for each
    of a student's columns (student, score, status, message): what every student shares
    is written once."""
    return "".join(f"%s,{_csv_line([i, name, function, kind]).replace('%', '%%')},%s,"
                   f"{_num(most)},%s,%s\n"
                   for i, (name, function, kind, most, _) in enumerate(checks, start=1))


def _csv_line(fields: list) -> str:
    """``fields`` as one line of ``csv_text``, without its line end."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(fields)
    return buffer.getvalue()[:-1]


def _csv_field(text: str) -> str:
    """``text`` as the CSV writer writes it beside other fields (quoted when it must be)."""
    return _csv_line([text]) if text else ""


def _insert_grade(conn: sqlite3.Connection, grade: tuple) -> None:
    """Write ``_grade``'s rows (in the caller's transaction); a suite's checks only once."""
    checks, row = grade
    suite = row[1]
    if checks and conn.execute("SELECT 1 FROM checks WHERE suite = ?", (suite,)).fetchone() is None:
        conn.executemany("INSERT INTO checks VALUES (?, ?, ?, ?, ?, ?, ?)",
                         [(suite, i, *c) for i, c in enumerate(checks, start=1)])
    conn.execute("INSERT INTO grades VALUES (?, ?, ?, ?, ?, ?)", row)


class transaction:
    """``with transaction(conn):`` one BEGIN IMMEDIATE ... COMMIT, rolled back on error."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            try:
                self.conn.execute("COMMIT")
                return False
            except BaseException:  # e.g. the disk filled up: the commit failed, roll back
                self._rollback()
                raise
        self._rollback()
        return False  # the error that stopped the transaction, not one from the rollback

    def _rollback(self):
        # SQLite may have rolled back already (a full disk does that); a second ROLLBACK
        # would fail and hide why.
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass


def record(conn: sqlite3.Connection, row: dict, result: GradeResult | None,
           exported: list[tuple[str, str]] = ()) -> tuple[str, list[str]]:
    """Replace everything known about ``row['student']`` in one transaction, and list the
    student in ``unexported`` until its exports are written.

    ``row`` holds the submission columns other than the ones ``result`` provides;
    ``result`` is None when the submission could not be graded (``row['error']`` says why).
    ``exported``: (student, token) of earlier records whose exports are written now,
    acknowledged in the same transaction (``acknowledge``). Returns this record's token and
    what ``acknowledge`` returns.
    """
    student = row["student"]
    values = dict(row)
    if result is not None:
        values.update(score=result.score, max_score=result.max_score, seconds=result.seconds,
                      isolation=result.isolation, problems=result.problems,
                      internal=result.internal)
    values["problems"] = json.dumps(values.get("problems", []))
    values["internal"] = json.dumps(values.get("internal", []))
    grade = _grade(student, result.tests) if result is not None else None
    pngs = {name: (sha256(png), png) for name, png in (result.figures if result else {}).items()}
    token = os.urandom(8).hex()
    with transaction(conn):
        again = _acknowledge(conn, exported)
        old = [r[0] for r in conn.execute("SELECT png FROM figures WHERE student = ?", (student,))]
        conn.execute("DELETE FROM grades WHERE student = ?", (student,))
        conn.execute("DELETE FROM figures WHERE student = ?", (student,))
        conn.execute("DELETE FROM removed WHERE student = ?", (student,))
        conn.execute(f"INSERT OR REPLACE INTO submissions ({', '.join(SUBMISSION_COLUMNS)}) "
                     f"VALUES ({', '.join('?' * len(SUBMISSION_COLUMNS))})",
                     [values[c] for c in SUBMISSION_COLUMNS])
        if grade is not None:
            _insert_grade(conn, grade)
        kept = {r[0] for r in conn.execute(  # the class's few PNGs: most are kept already
            f"SELECT sha256 FROM pngs WHERE sha256 IN ({', '.join('?' * len(pngs))})",
            [sha for sha, _ in pngs.values()])}
        conn.executemany("INSERT OR IGNORE INTO pngs VALUES (?, ?)",
                         sorted(p for p in pngs.values() if p[0] not in kept))
        conn.executemany("INSERT INTO figures VALUES (?, ?, ?)",
                         [(student, name, sha) for name, (sha, _) in sorted(pngs.items())])
        # A PNG no figure uses any more (this student's, before) goes.
        conn.executemany("DELETE FROM pngs WHERE sha256 = ? AND NOT EXISTS "
                         "(SELECT 1 FROM figures WHERE png = ?)", [(sha, sha) for sha in set(old)])
        conn.execute("INSERT OR REPLACE INTO unexported VALUES (?, ?)", (student, token))
        _changed(conn)
    return token, again


def _acknowledge(conn: sqlite3.Connection, exported) -> list[str]:
    again = []
    for student, token in exported:
        if not conn.execute("DELETE FROM unexported WHERE student = ? AND token = ?",
                            (student, token)).rowcount:
            again.append(student)
    return again


def acknowledge(conn: sqlite3.Connection, exported: list[tuple[str, str]]) -> list[str]:
    """Take the records ``exported`` (student, ``record``'s token) off ``unexported``: their
    exports are written. Returns the students recorded again since, by another batch run on
    this gradebook (their exports, written from the older record, must be written again
    from the gradebook), in one transaction."""
    if not exported:
        return []
    with transaction(conn):
        return _acknowledge(conn, exported)


def unexported(conn: sqlite3.Connection) -> dict[str, str]:
    """student -> token of every record whose exports may not be written (a batch was
    killed between the two, or another run is writing them), removed students left out."""
    return {r[0]: r[1] for r in conn.execute(
        "SELECT student, token FROM unexported WHERE student NOT IN (SELECT student FROM removed)")}


def submissions(conn: sqlite3.Connection, removed: bool = False) -> dict[str, dict]:
    """Every submission row still in the folder (``removed``: the removed ones too), by
    student."""
    where = "" if removed else " WHERE student NOT IN (SELECT student FROM removed)"
    return {r["student"]: dict(r) for r in
            conn.execute(f"SELECT * FROM submissions{where} ORDER BY student")}


def submitted_at(conn: sqlite3.Connection) -> dict[str, str]:
    """student -> when the submission was handed in, as last found."""
    return {r[0]: r[1] for r in conn.execute("SELECT student, at FROM found")}


def mark_present(conn: sqlite3.Connection, folder: str, times: dict[str, str],
                 when: str) -> list[str]:
    """Record that exactly the students of ``times`` (student -> when handed in) are in the
    submissions ``folder`` now: those last found there before and gone now are marked
    removed at ``when``; these no longer are. Returns the newly removed."""
    with transaction(conn):
        known = {r[0] for r in conn.execute("SELECT student FROM submissions")}
        mine = {r[0] for r in conn.execute("SELECT student FROM found WHERE folder = ?", (folder,))}
        gone = {r[0] for r in conn.execute("SELECT student FROM removed")}
        new = sorted((mine & known) - set(times) - gone)
        conn.executemany("INSERT OR REPLACE INTO found VALUES (?, ?, ?)",
                         [(s, folder, at) for s, at in sorted(times.items())])
        conn.executemany("DELETE FROM removed WHERE student = ?", [(s,) for s in sorted(times)])
        conn.executemany("INSERT INTO removed VALUES (?, ?)", [(s, when) for s in new])
        if new or gone & set(times):  # someone left the exports, or came back
            _changed(conn)
    return new


def _changed(conn: sqlite3.Connection) -> None:
    """Count a change of what the CSV files show (in the caller's transaction)."""
    conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'changes'")


def _meta(conn: sqlite3.Connection, key: str) -> int:
    return conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0]


def result(conn: sqlite3.Connection, student: str) -> GradeResult | None:
    """The ``GradeResult`` stored for ``student`` (None if it has none, or no grade)."""
    row = conn.execute("SELECT * FROM submissions WHERE student = ?", (student,)).fetchone()
    if row is None or row["error"] is not None:
        return None
    suite, scores, outputs = conn.execute(
        "SELECT suite, scores, outputs FROM grades WHERE student = ?", (student,)).fetchone()
    checks = conn.execute("SELECT name, function, kind, max_score, public FROM checks "
                          "WHERE suite = ? ORDER BY number", (suite,)).fetchall()
    tests = [TestResult(name, function, kind, score, most, output, bool(public))
             for (name, function, kind, most, public), score, output
             in zip(checks, json.loads(scores), json.loads(outputs))]
    result = GradeResult(student, tests, row["isolation"], row["seconds"],
                         json.loads(row["problems"]), json.loads(row["internal"]))
    result.figures = {r[0]: r[1] for r in conn.execute(
        "SELECT name, pngs.png FROM figures JOIN pngs ON pngs.sha256 = figures.png "
        "WHERE student = ? ORDER BY name", (student,))}
    return result


_TEMPORARY = itertools.count()


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` so a reader (or a rerun after a kill) never sees half of it.

    The temporary name is unique (process, thread, a counter), so two batch runs writing
    the same file don't collide; the folder is made when it is missing.
    """
    path = Path(path)
    tmp = path.parent / f".{path.name}.{os.getpid()}-{threading.get_ident()}-{next(_TEMPORARY)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(tmp, flags, 0o644)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, flags, 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(fd, 0o644)  # readable like the files beside it, whatever the umask
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@functools.lru_cache(maxsize=4096)  # a class's scores take few distinct values
def _num(value) -> str:
    return "" if value is None else format(round(value, 6), ".10g")


def csv_text(header, rows) -> str:
    """CSV text starting with a byte order mark: Excel reads UTF-8 ("josé") only with it;
    Python's csv reads it with encoding="utf-8-sig", LMS imports accept it."""
    buffer = io.StringIO("\ufeff")
    buffer.seek(1)
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def export_csv(conn: sqlite3.Connection, out: Path) -> tuple[Path, Path]:
    """Write ``grades.csv`` (a row per student: why it has no grade, or what is wrong with
    the submission as a whole (missing modules and the files found instead), and a column
    per function) and
    ``grades_long.csv`` (a row per check) into ``out``, each atomically, from one snapshot;
    left as they are when nothing they show changed since they were written (``meta``)."""
    grades, grades_long = Path(out) / "grades.csv", Path(out) / "grades_long.csv"
    force = False
    while True:
        changes = _write_csv(conn, grades, grades_long, force)
        if changes is None:
            return grades, grades_long
        with transaction(conn):
            if conn.execute("UPDATE meta SET value = ? WHERE key = 'csv' AND ? = "
                            "(SELECT value FROM meta WHERE key = 'changes')",
                            (changes, changes)).rowcount:
                return grades, grades_long
        # Another run committed while these were written: they may have replaced its
        # newer files with older ones, so write them again, from a new snapshot.
        force = True


def _write_csv(conn: sqlite3.Connection, grades: Path, grades_long: Path, force: bool) -> int | None:
    """Write the CSV files from one snapshot; return the change count they show, or None
    (nothing written) when they are up to date already and ``force`` is not set."""
    with transaction(conn):  # one consistent view even while another run commits
        changes = _meta(conn, "changes")
        if (not force and _meta(conn, "csv") == changes and grades.exists()
                and grades_long.exists()):
            return None
        subs = list(submissions(conn).values())
        # The function columns: in the order checks first reach them (removed students'
        # included, as ever); each present student's sum per function; the long rows as
        # each grade wrote them.
        first = dict(conn.execute("SELECT function, min(number) FROM checks WHERE suite IN "
                                  "(SELECT suite FROM grades) GROUP BY function"))
        functions = sorted(first, key=lambda f: (first[f], f))
        present = "WHERE student NOT IN (SELECT student FROM removed) ORDER BY student"
        per_function = {student: json.loads(sums) for student, sums in
                        conn.execute(f"SELECT student, functions FROM grades {present}")}
        long_rows = "".join(r[0] for r in conn.execute(f"SELECT long_csv FROM grades {present}"))
    wide = [[s["student"], _num(s["score"]), _num(s["max_score"]), s["error"] or "",
             " ".join(json.loads(s["problems"])),
             *[_num(per_function.get(s["student"], {}).get(f)) for f in functions]]
            for s in subs]
    write_atomic(grades, csv_text(["student", "score", "max_score", "error", "problems", *functions],
                              wide))
    write_atomic(grades_long, csv_text(LONG_COLUMNS, []) + long_rows)
    return changes
