"""Throughput of `batch --cluster local` against a local `batch --jobs 2`, same class, one run.

    .venv/bin/python bench/cluster_vs_local.py [--n 12] [--jobs 2] [--rounds 1] [--flood 400] [--work DIR]

Makes N submissions (the reference and buggy variants from tests/corpus, in a cycle) and
grades them, alternately, with the local pool of grader processes and on a Dask
``LocalCluster`` of JOBS single-threaded workers, each into a fresh gradebook, ROUNDS
times. Prints submissions per minute of each (the cluster's start-up is timed apart: a
cluster serves many batches), their ratio (goal: within 15%), and what the client spends
per result.

The client's cost per result is measured on a flood: FLOOD submissions (copies of the
reference) whose tasks return at once one real grade's reply, figures and all (recorded
from the first run), so the workers never make the client wait. Twice: on the
``LocalCluster`` (its scheduler and nannies live in the client's process, as with
``--cluster``), and on a scheduler and workers started as processes of their own, which
the client reaches by address (``--scheduler``, as on a real cluster). Printed for each: the
client's wall time per result (the rate one client can absorb), the CPU of its main thread
(discover and hash, check each result, commit it to the gradebook, write the student's
feedback, results.json and figure links, then at the end the CSV files and whatever
exports are still unwritten) and of its whole process (that, plus Dask's client threads,
and with ``--cluster`` the scheduler and nannies). Goal: under 5 ms a result for the whole
client process with the scheduler outside (what a class on a real cluster costs its
client), so one client keeps up with several hundred workers grading a submission every
2 s. Last, the same flood again: a rerun that finds nothing to grade (discover, hash, the
CSV files), per submission.

WORK (default: a new temporary folder) holds the classes and the outputs: put it on the
disk the instructor's ``--out`` would be on. Creating a file costs the client kernel CPU,
and how much depends on the file system and its state (0.01-0.6 ms measured on this
machine's one ext4 disk), and each result creates a few.

Both paths must agree on every grade; the script checks that before printing.
"""
from __future__ import annotations

import argparse
import os
import pickle
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.workflows import batch, cluster, gradebook  # noqa: E402
from tests.corpus import build  # noqa: E402
from tests.corpus.activation_bugs import BUGS  # noqa: E402
from tests.test_batch_faults import make_submission  # noqa: E402


def make_class(folder: Path, n: int) -> None:
    folder.mkdir()
    for i in range(n):
        variant = None if i % 3 == 0 else BUGS[i % len(BUGS)]
        if variant is None:
            make_submission(f"s{i:04d}", None, folder)
        else:
            build(variant, folder / f"s{i:04d}")


def grades(out: Path) -> list:
    with closing(sqlite3.connect(out / gradebook.FILE)) as conn:
        return conn.execute("SELECT student, score, max_score, error FROM submissions "
                            "ORDER BY student").fetchall()


_canned = None  # on a worker: the recorded reply, read once


def canned_task(job: cluster.Job) -> cluster.Outcome:
    """A task that grades nothing: it returns the recorded reply of a real grade."""
    global _canned
    if _canned is None:
        _canned = pickle.loads(Path(job.folder, "..", "reply.pickle").read_bytes())
    return cluster.Outcome(_canned, job.grader, "bubblewrap", "canned")


class Canned(cluster.DaskGraders):
    """The cluster's pool with the canned task; counts the main thread's CPU in ``done``
    (the gradebook commit and the student's exports, the same as a local batch's)."""

    task = staticmethod(canned_task)
    in_run = in_done = 0.0

    def run(self, work, done):
        def timed_done(sub, reply):
            start = time.thread_time()
            done(sub, reply)
            Canned.in_done += time.thread_time() - start
        start = time.thread_time()
        super().run(work, timed_done)
        Canned.in_run += time.thread_time() - start


def flood_class(work: Path, n: int, reply: dict) -> Path:
    """``n`` copies of the reference, beside the canned reply their tasks return."""
    (work / "reply.pickle").write_bytes(pickle.dumps(reply))
    folder = work / "flood"
    folder.mkdir()
    for i in range(n):
        shutil.copytree(ROOT / "solutions", folder / f"f{i:05d}",
                        ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def flood(client, folder: Path, out: Path):
    """The client's (wall, main thread CPU, process CPU) seconds and the main thread's
    split (``Canned``'s) for the canned results of ``folder``, the same for a rerun that
    grades nothing, and the bytes per result of the gradebook and of the feedback and
    results files."""
    Canned.in_run = Canned.in_done = 0.0
    first = timed(lambda: batch.grade_all(folder, out, pool=lambda f, g: Canned(client, f, g)))
    split = (Canned.in_run, Canned.in_done)
    again = timed(lambda: batch.grade_all(folder, out, pool=lambda f, g: Canned(client, f, g)))
    n = len(os.listdir(folder))
    gradebook_bytes = (out / gradebook.FILE).stat().st_size + wal_size(out)
    files_bytes = size(out / "feedback") + size(out / "results")
    return first, split, again, (gradebook_bytes / n, files_bytes / n)


@contextmanager
def outside(workers: int):
    """A client of a Dask scheduler and ``workers`` single-threaded workers running as
    processes of their own (set up as docs/scale.md says), as ``--scheduler`` reaches one."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=str(ROOT), DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="1",
               DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION="1.0",
               DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED="False")
    quiet = {"cwd": ROOT, "env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host",
                                   "127.0.0.1", "--port", str(port), "--no-dashboard"], **quiet)]
    try:
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers",
             str(workers), "--nthreads", "1", "--no-dashboard"], **quiet))
        for _ in range(300):  # the scheduler takes a few seconds to listen
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        with cluster.connect(scheduler=address) as client:
            client.wait_for_workers(workers, timeout=60)
            yield client
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def recorded_reply(out: Path, student: str) -> dict:
    """A reply as a grader sends it, rebuilt from a gradebook row (figures included)."""
    with closing(sqlite3.connect(out / gradebook.FILE)) as conn:
        conn.row_factory = sqlite3.Row
        result = gradebook.result(conn, student)
    return {"result": result.to_dict(), "figures": result.figures, "seconds": result.seconds}


def timed(run) -> tuple[float, float, float]:
    """(wall seconds, main thread CPU seconds, process CPU seconds) of ``run()``."""
    wall, thread, process = time.perf_counter(), time.thread_time(), time.process_time()
    run()
    return time.perf_counter() - wall, time.thread_time() - thread, time.process_time() - process


def children_cpu() -> float:
    """CPU seconds of the waited-for child processes so far (a local batch's graders, and
    the sandboxes they waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wal_size(out: Path) -> int:
    wal = out / (gradebook.FILE + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def size(folder: Path) -> int:
    """Bytes on disk of the files under ``folder``, a file with several hard links once."""
    files = {(st.st_dev, st.st_ino): st.st_size
             for st in (p.stat() for p in folder.rglob("*") if p.is_file())}
    return sum(files.values())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=12, help="submissions (default 12)")
    p.add_argument("--jobs", type=int, default=2, help="local grader processes = cluster workers")
    p.add_argument("--rounds", type=int, default=1, help="alternations of the two (default 1)")
    p.add_argument("--flood", type=int, default=400, help="canned results for the client's cost")
    p.add_argument("--work", type=Path, help="where the classes and outputs go (default: a temporary folder)")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cluster-bench-", dir=args.work))
    folder = work / "class"
    make_class(folder, args.n)
    start = time.perf_counter()
    with cluster.connect(cluster="local", workers=args.jobs) as client:
        started = time.perf_counter() - start
        local, dask, seen = [], [], {}
        for r in range(args.rounds):
            out = work / f"local-{r}"
            before = children_cpu()
            local.append(timed(lambda: batch.grade_all(folder, out, jobs=args.jobs)))
            cpu = (children_cpu() - before) / args.n
            seen.setdefault("local", grades(out))
            out = work / f"cluster-{r}"
            dask.append(timed(lambda: batch.grade_all(folder, out, pool=cluster.pool(client))))
            seen.setdefault("cluster", grades(out))
        reply = recorded_reply(work / "local-0", "s0000")
        folder = flood_class(work, args.flood, reply)
        floods = {"--cluster local (scheduler in the client's process)":
                  flood(client, folder, work / "flood-in")}
    with outside(args.jobs) as client:
        floods["--scheduler (scheduler and workers outside)"] = flood(client, folder, work / "flood-out")
    if seen["local"] != seen["cluster"]:
        sys.exit("the cluster graded differently from the local batch: no figures printed")
    for label, out in (("--cluster", work / "flood-in"), ("--scheduler", work / "flood-out")):
        if any(g[3] for g in grades(out)):  # a canned result refused is no measure of one recorded
            sys.exit(f"the flood on {label} recorded errors: {grades(out)[0]}")
    failed = [g for g in seen["local"] if g[3]]
    assert not [g for g in failed if "could not" in (g[3] or "")], failed

    def rate(runs):
        return 60 * args.n / min(w for w, _, _ in runs)

    best_local, best_dask = rate(local), rate(dask)
    print(f"{args.n} submissions, {args.jobs} jobs, best of {args.rounds} round(s):")
    print(f"  local batch --jobs {args.jobs}:      {best_local:6.1f} submissions/min")
    print(f"  batch --cluster local:       {best_dask:6.1f} submissions/min "
          f"(cluster start-up {started:.1f} s, not counted)")
    print(f"  cluster / local:             {best_dask / best_local:6.2f}  (goal: >= 0.85)")
    out = work / "local-0"
    print(f"  CPU per submission (local batch's grader and sandbox processes): {cpu:.2f} s")
    print(f"  output per submission: gradebook {(out / gradebook.FILE).stat().st_size / args.n / 1000:.0f} kB, "
          f"feedback and results.json {(size(out / 'feedback') + size(out / 'results')) / args.n / 1000:.0f} kB")
    print(f"client per result, {args.flood} results with {len(reply['figures'])} figures "
          f"({len(pickle.dumps(reply)) / 1000:.0f} kB) each (goal: < 5 ms, whole process, "
          f"scheduler outside):")
    for label, (flooded, split, rerun, per_result) in floods.items():
        wall, thread, process = (1000 * x / args.flood for x in flooded)
        in_run, in_done = (1000 * x / args.flood for x in split)
        print(f"  {label}:")
        print(f"    wall time:                 {wall:6.2f} ms")
        print(f"    CPU, main thread:          {thread:6.2f} ms, of which")
        print(f"      submit, receive, check:  {in_run - in_done:6.2f} ms  (the cluster's own part)")
        print(f"      commit and export:       {in_done:6.2f} ms  (batch.grade_all's, as locally)")
        print(f"      discover, hash, CSV:     {thread - in_run:6.2f} ms  (batch.grade_all's, as locally)")
        print(f"    CPU, whole process:        {process:6.2f} ms  (Dask's threads included)")
        wall, thread, _ = (1000 * x / args.flood for x in rerun)
        print(f"    a rerun with nothing to grade, per submission: wall {wall:.2f} ms, "
              f"CPU main thread {thread:.2f} ms")
    print(f"output per result of the flood: gradebook {per_result[0] / 1000:.0f} kB, "
          f"feedback and results.json {per_result[1] / 1000:.0f} kB (each PNG on disk once)")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
