"""Batch grading on a Dask cluster (``batch --cluster local``, ``autograder/workflows/cluster.py``).

A small class (the reference, the stubs, two buggy variants, a broken zip) is graded once by
a local batch (``baseline``); a cluster batch must leave exactly the same output, also when
one of its workers is SIGKILLed mid-grade or its client is killed and the batch run again,
and must leave no process behind. Results from a worker with another grader or a weaker
sandbox are refused; a grade that overruns the batch timeout is stopped inside its task.
"""
from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from autograder import config  # noqa: E402
from autograder.workflows import batch, cluster, gradebook  # noqa: E402
from tests.corpus import Variant, build  # noqa: E402
from tests.corpus.activation_bugs import BUGS  # noqa: E402
from tests.corpus.experiment_bugs import BUGS as EXPERIMENT_BUGS  # noqa: E402
from tests.test_batch import run_cli, snapshot  # noqa: E402
from tests.test_batch_faults import descendants, finish, make_submission, still_alive  # noqa: E402

_BUG = {v.id: v for v in BUGS}
GRADED = {"ann": None, "ben": _BUG["sigmoid-exp-overflow"], "dan": EXPERIMENT_BUGS[0], "bob": "stubs"}
# Every call of sigmoid sleeps until the sandbox's call limit stops it: no grade ends soon.
HANGS = Variant("sigmoid-sleeps", "activations", "def sigmoid(x):\n    import time\n    time.sleep(10**6)")


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    from autograder.workflows import stubs

    folder = tmp_path_factory.mktemp("cluster") / "class"
    folder.mkdir()
    for student, variant in GRADED.items():
        if variant == "stubs":
            (folder / student).mkdir()
            for name, text in stubs.render(config.SOLUTIONS).items():
                (folder / student / name).write_text(text)
        else:
            make_submission(student, variant, folder)
    (folder / "carol.zip").write_bytes(b"PK\x03\x04 not really a zip")
    return folder


@pytest.fixture(scope="module")
def baseline(klass, tmp_path_factory):
    out = tmp_path_factory.mktemp("cluster-baseline") / "out"
    rows = batch.grade_all(klass, out, jobs=2)
    scores = {r["student"]: r["score"] for r in rows}
    assert scores["ann"] > max(scores["ben"], scores["dan"]) and scores["bob"] == 0
    return out


@pytest.fixture(scope="module")
def client():
    """A cluster of two single-threaded worker processes, shared by the tests that don't
    kill anything."""
    with cluster.connect(cluster="local", workers=2) as c:
        yield c


def worker_pids(client) -> dict[str, int]:
    return client.run(os.getpid)


def sandboxes(pid: int) -> dict[int, tuple]:
    """Processes under ``pid`` that run (or wrap) student code: bwrap, worker.py, its children."""
    return {p: i for p, i in descendants(pid).items() if "worker.py" in i[2]}


def graders(pid: int) -> dict[int, tuple]:
    return {p: i for p, i in descendants(pid).items() if "autograder.workflows.cluster import serve" in i[2]}


def committed(out: Path) -> set[str]:
    """The students with a row in the gradebook (read-only; none while it is new)."""
    try:
        conn = sqlite3.connect(f"file:{out / gradebook.FILE}?mode=ro", uri=True, timeout=5)
        try:
            return {r[0] for r in conn.execute("SELECT student FROM submissions")}
        finally:
            conn.close()
    except sqlite3.Error:
        return set()


def test_a_worker_killed_mid_grade_costs_nothing_and_leaves_no_process(klass, baseline, tmp_path):
    """SIGKILL one of two workers while it grades: its submission is graded again on
    another worker, the gradebook equals the local batch's row for row (per-check rows,
    figures, CSV, feedback and results.json too), and nothing it started outlives it;
    once the cluster is closed, no grader or sandbox process is left at all."""
    out, seen, killed = tmp_path / "out", {}, []
    with cluster.connect(cluster="local", workers=2) as c:
        pids = worker_pids(c)
        assert len(pids) == 2
        failure = []

        def grade():
            try:
                batch.grade_all(klass, out, pool=cluster.pool(c))
            except BaseException as exc:  # noqa: BLE001 - reported by the test below
                failure.append(exc)

        run = threading.Thread(target=grade)
        run.start()
        victim_tree = {}
        deadline = time.monotonic() + 300
        while run.is_alive() and time.monotonic() < deadline:
            for pid in pids.values():
                seen |= sandboxes(pid) | graders(pid)
            if not killed:
                busy = [pid for pid in sorted(pids.values()) if sandboxes(pid)]
                if busy:
                    victim_tree = descendants(busy[0])
                    os.kill(busy[0], signal.SIGKILL)
                    killed.append(busy[0])
            time.sleep(0.05)
        run.join(timeout=max(0.0, deadline - time.monotonic()))
        assert not run.is_alive(), "the cluster batch did not finish"
        assert not failure, failure
        assert killed, "no worker was seen grading"
        assert not still_alive(victim_tree), "processes of the killed worker outlived it"
        for pid in worker_pids(c).values():  # the batch is over: no sandbox is open anywhere
            assert not sandboxes(pid)
    assert not still_alive(seen), "grader or sandbox processes outlived the cluster"
    assert snapshot(out) == snapshot(baseline)


def test_a_killed_client_loses_only_what_was_in_flight_and_the_rerun_resumes(klass, baseline, tmp_path):
    """SIGKILL the client (``batch --cluster local``) once a first grade is committed: its
    workers, graders and sandboxes go with it; a rerun grades only what has no row yet
    and ends exactly where the local batch did."""
    out = tmp_path / "out"
    run = run_cli(klass, out, "--cluster", "local", "--jobs", "2")
    seen, kept = {}, set()
    deadline = time.monotonic() + 300
    while run.poll() is None and time.monotonic() < deadline:
        seen |= descendants(run.pid)
        kept = committed(out)
        if kept:
            seen |= descendants(run.pid)
            run.kill()
            break
        time.sleep(0.05)
    finish(run)
    everyone = [*GRADED, "carol"]  # carol's broken zip too is found out by a grader
    assert kept and len(kept) < len(everyone), ("the client was not killed mid-run", kept)
    assert any("autograder.workflows.cluster import serve" in i[2] for i in seen.values())
    # workers notice their client is gone, graders their worker, sandboxes their grader
    left = still_alive(seen, grace=15)
    assert not left, ("processes outlived the killed client", left)
    kept = committed(out)  # what it had committed by the time it died
    again = run_cli(klass, out, "--cluster", "local", "--jobs", "2")
    stdout, stderr = finish(again)
    assert again.returncode == 0, (stdout, stderr)
    assert f"{len(everyone) - len(kept)} graded now, {len(kept)} unchanged" in stdout, stdout
    assert snapshot(out) == snapshot(baseline)


def test_a_worker_with_another_grader_is_refused(client, klass, tmp_path):
    """A worker whose grader fingerprint is not the client's does not grade: every row says
    why, as the grader's fault (graded again by the next run)."""
    folder = tmp_path / "class"
    folder.mkdir()
    make_submission("ann", None, folder)
    rows = batch.grade_all(folder, tmp_path / "out", pool=lambda folder, grader: cluster.DaskGraders(
        client, folder, "0123456789abcdef"))
    (ann,) = rows
    assert ann["error_kind"] == "grader" and ann["max_score"] is None
    assert "Refused" in ann["error"] and "0123456789abcdef" in ann["error"]
    assert batch.grader_fingerprint() in ann["error"] and "same" in ann["error"]


def test_a_running_scheduler_grades_with_the_same_command(client, klass, baseline, tmp_path):
    """``--scheduler ADDRESS``: the client connects to a cluster it did not start and
    grades as with any other; the rows are the local batch's."""
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copytree(klass / "bob", folder / "bob")
    shutil.copy(klass / "carol.zip", folder / "carol.zip")
    run = run_cli(folder, tmp_path / "out", "--scheduler", client.scheduler.address)
    stdout, stderr = finish(run)
    assert run.returncode == 0 and "2 graded now" in stdout, (stdout, stderr)
    local = snapshot(baseline)["submissions"]
    assert snapshot(tmp_path / "out")["submissions"] == [r for r in local if r[0] in ("bob", "carol")]


def test_the_local_batch_imports_no_dask(tmp_path):
    """The default path (``--jobs``) never imports Dask: it costs start-up, and the
    cluster extra may not be installed."""
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "carol.zip").write_bytes(b"not a zip")
    code = ("import sys; from autograder import cli; cli.main(sys.argv[1:]); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    done = subprocess.run([sys.executable, "-c", code, "batch", str(folder), "--out",
                           str(tmp_path / "out"), "--jobs", "1"], cwd=config.ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout


def test_slurm_needs_a_number_of_workers():
    with pytest.raises(cluster.ClusterError, match="--jobs"):
        with cluster.connect(cluster="slurm"):
            pass


def _outcome(isolation: str, grader: str = "fp", reply=None) -> cluster.Outcome:
    reply = reply or {"result": {"isolation": isolation}, "figures": {}, "seconds": 1.0}
    return cluster.Outcome(reply, grader, isolation, "node7 (pid 42)")


@pytest.mark.parametrize("asked, got, kept", [
    ("bubblewrap", "bubblewrap", True), ("bubblewrap", "process", False),
    ("bubblewrap", "bubblewrap + process", False), ("process", "process", True),
    ("process", "bubblewrap", True), ("bubblewrap", "none (no check ran)", True),
    ("bubblewrap", "chroot", False)])
def test_every_result_is_checked_for_the_isolation_asked(asked, got, kept):
    pool = cluster.DaskGraders(None, Path("/class"), "fp", isolation=asked)
    outcome = _outcome(got)
    reply = pool.accept(outcome)
    if kept:
        assert reply is outcome.reply
    else:
        assert reply["kind"] == "grader" and "result" not in reply
        assert "Refused" in reply["error"] and "node7" in reply["error"]
        assert f"weaker than the '{asked}'" in reply["error"] and "--isolation process" in reply["error"]


def test_every_result_is_checked_for_the_grader_and_failed_tasks_are_the_graders():
    from distributed import KilledWorker

    pool = cluster.DaskGraders(None, Path("/class"), "fp")
    reply = pool.accept(_outcome("bubblewrap", grader="another"))
    assert reply["kind"] == "grader" and "another" in reply["error"] and "fp" in reply["error"]
    died = pool.accept(KilledWorker("autograder-ann-1", None, config.CLUSTER_RETRIES))
    assert died["kind"] == "grader" and "died 2 times" in died["error"] and "next run" in died["error"]
    broke = pool.accept(ModuleNotFoundError("No module named 'autograder'"))
    assert broke["kind"] == "grader" and "No module named 'autograder'" in broke["error"]


def test_a_worker_configured_weaker_than_asked_refuses_to_grade(tmp_path, monkeypatch):
    """A worker whose own configuration says plain process isolation does not grade when
    the batch asks for bubblewrap, and the client's message says what to do."""
    folder = tmp_path / "class"
    folder.mkdir()
    path = make_submission("ann", None, folder)
    monkeypatch.setenv("AUTOGRADER_ISOLATION", "process")
    job = cluster.Job(str(folder), "ann", batch.content_hash(path), "fp", "bubblewrap", 60.0)
    outcome = cluster.grade_task(job)
    assert outcome.reply is None and outcome.isolation == "process"
    assert "weaker than the 'bubblewrap'" in cluster.DaskGraders(None, folder, "fp").accept(outcome)["error"]


def test_a_worker_that_sees_other_files_than_the_client_refuses_to_grade(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    make_submission("ann", None, folder)
    for missing, words in ((False, "other files at"), (True, "nothing at")):
        job = cluster.Job(str(folder), "nobody" if missing else "ann", "0" * 64, "fp", "process", 60.0)
        outcome = cluster.grade_task(job)
        assert outcome.reply["kind"] == "grader" and words in outcome.reply["error"]
        assert "shares" in outcome.reply["error"]


def test_a_hung_submission_is_stopped_at_the_timeout_inside_its_task(client, tmp_path):
    """A grade that can't end (every call of sigmoid sleeps) is stopped when the batch
    timeout runs out, inside the Dask task (Dask can't cancel it): its grader process is
    killed with its sandbox, it is the grader's fault, and the worker grades on."""
    folder = tmp_path / "class"
    folder.mkdir()
    stub = folder / "bob"
    stub.mkdir()
    (stub / "activations.py").write_text("")  # nothing to grade: quick, warms the grader
    hung = build(HANGS, folder / "hal")
    address, pid = sorted(worker_pids(client).items())[0]
    fingerprint = batch.grader_fingerprint()

    def job(path, timeout):
        return cluster.Job(str(folder), path.name, batch.content_hash(path), fingerprint,
                           "bubblewrap", timeout)

    warm = client.submit(cluster.grade_task, job(stub, 300.0), workers=[address], pure=False).result()
    assert warm.reply and "result" in warm.reply, warm
    before = graders(pid)
    assert before
    timeout, seen = 6.0, {}
    start = time.monotonic()
    future = client.submit(cluster.grade_task, job(hung, timeout), workers=[address], pure=False)
    while not future.done():
        seen |= sandboxes(pid)
        time.sleep(0.05)
    elapsed = time.monotonic() - start
    outcome = future.result()
    assert seen, "the hung submission's sandbox was never seen"
    assert outcome.reply["kind"] == "grader" and f"took longer than {timeout:g} s" in outcome.reply["error"]
    assert timeout <= elapsed < timeout + 20, elapsed
    assert not still_alive(seen) and not still_alive(before), "the hung grade's processes live on"
    again = client.submit(cluster.grade_task, job(stub, 300.0), workers=[address], pure=False).result()
    assert again.reply and "result" in again.reply, again


def test_a_grader_process_killed_mid_grade_is_started_again(client, klass, baseline):
    """SIGKILL the worker's grader process (not the worker) while it grades: the task starts
    a new grader and grades the submission once more, to the same grade as a local batch."""
    address, pid = sorted(worker_pids(client).items())[0]
    path = klass / "bob"
    job = cluster.Job(str(klass), "bob", batch.content_hash(path), batch.grader_fingerprint(),
                      "bubblewrap", 300.0)
    future = client.submit(cluster.grade_task, job, workers=[address], pure=False)
    killed = None
    while not future.done() and killed is None:
        for grader in graders(pid):
            if sandboxes(grader):
                os.kill(grader, signal.SIGKILL)
                killed = grader
        time.sleep(0.05)
    outcome = future.result()
    assert killed, "the grader was never seen grading"
    assert killed not in graders(pid) and graders(pid), "no new grader took over"
    got = [(t["name"], t["score"]) for t in outcome.reply["result"]["tests"]]
    with sqlite3.connect(baseline / gradebook.FILE) as conn:
        assert got == conn.execute("SELECT name, score FROM tests WHERE student = 'bob' "
                                   "ORDER BY number").fetchall()


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")  # another cluster's dashboard
def test_slurm_workers_run_single_threaded_from_the_clients_venv():
    """The Slurm job script a batch submits: one single-threaded worker per core, the
    client's interpreter (a shared venv), the profiler off (no Slurm needed to render it)."""
    made = cluster.Slurm(cores=4, memory="8GB", walltime="01:00:00", queue="short").cluster()
    try:
        script = made.job_script()
    finally:
        made.close()
    assert sys.executable in script and "--nworkers 4" in script and "--nthreads 1" in script
    assert "#SBATCH -p short" in script and "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False" in script


def test_slurm_without_cores_or_memory_says_so(monkeypatch):
    import dask

    with dask.config.set({"jobqueue.slurm.cores": None, "jobqueue.slurm.memory": None}):
        with pytest.raises(cluster.ClusterError, match="Slurm cluster could not be set up"):
            cluster.Slurm().cluster()
