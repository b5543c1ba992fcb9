"""Grade a class on a Dask cluster: ``batch --cluster local|slurm`` or ``--scheduler ADDRESS``.

The client is the same as for a local batch (``batch.grade_all``): it alone discovers,
hashes, commits each result to the gradebook as it streams in, exports and shows progress.
Only what grades differs: ``DaskGraders`` sends each submission to the cluster as one task
(``grade_task``) instead of to local grader processes. Nothing here is imported by a local
batch, and Dask only where a cluster is used.

Inside a Dask worker (a daemonic process, where multiprocessing can't start children) a
task keeps one long-lived grader process per worker, started with ``subprocess``: the loop
a local batch's grader runs (``batch._serve``), so a worker grades submission after
submission without paying the interpreter, numpy, pytest and reference start-up each time.
The grader never imports student code; each grade runs it in its own sandbox, as locally.

Every result is checked before it is recorded (``DaskGraders.accept``): it carries the
worker's grader fingerprint, which must be the client's, and the sandbox it was graded in,
which must be at least the isolation the batch asks for. A worker refuses to grade at all
when it can already tell (another fingerprint, a sandbox configured weaker, other files at
the submission's path than the client hashed).

Faults:

- a Dask worker that dies mid-grade (SIGKILL, the out-of-memory killer, a lost node) costs
  the submission one more try on another worker (``config.CLUSTER_RETRIES``, Dask's
  ``allowed-failures``, set on the clusters built here); after that it is recorded as the
  grader's failure and the next run grades it again. The worker's grader process leaves as
  soon as its worker is gone, and the sandbox with it (``batch._exit_with``,
  bubblewrap's ``--die-with-parent``);
- Dask can't stop a running task, so the task is its own watchdog: a grade (the grader's
  start included) that overruns the batch timeout has its grader process killed, sandbox
  and all, and is recorded as the grader's failure, as in a local batch. A grader process
  that dies is started again once for the same submission, as locally;
- a killed client loses only the submissions in flight: everything it received is
  committed, and the rerun resumes by content hash. A ``LocalCluster``'s workers die with
  the client; on a separate scheduler the tasks in flight finish unheard.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from .. import config
from . import batch
from ..runner import GradingError

ISOLATIONS = ("process", "bubblewrap")  # weakest first: a batch asks for one of them, or more

# Dask settings for the clusters built here (on a running scheduler, its own configuration
# decides: see docs/scale.md). One task at a time per single-threaded worker, so a task is
# never counted in a worker's death before it starts; the profiler costs CPU for nothing.
DASK_SETTINGS = {
    "distributed.scheduler.allowed-failures": config.CLUSTER_RETRIES,
    "distributed.scheduler.worker-saturation": 1.0,
    "distributed.worker.profile.enabled": False,
}

# The grader process: the course root first on its path (never the submissions folder it
# works in), then the fingerprint, then batch._serve's loop.
_SERVE = ("import sys; sys.path[0] = sys.argv[1]; "
          "from autograder.workflows.cluster import serve; serve(int(sys.argv[2]), sys.argv[3])")


class ClusterError(GradingError):
    """The cluster could not be set up or reached (not a student's fault)."""


@dataclass(frozen=True)
class Job:
    """One submission to grade, as the client sends it to a worker."""

    folder: str        # the submissions folder, at a path every worker sees as the client does
    path: str          # the submission, relative to ``folder``
    content_hash: str  # what the client hashed there (``batch.content_hash``)
    grader: str        # the client's grader fingerprint
    isolation: str     # the weakest sandbox the client accepts (one of ``ISOLATIONS``)
    timeout: float     # seconds for one grade, the grader's start included


@dataclass(frozen=True)
class Outcome:
    """What a task sends back: the grader's reply (``batch._serve``'s dict; None when the
    worker refused to grade) and what the client checks before recording it."""

    reply: dict | None
    grader: str | None  # the worker's grader fingerprint (None: its grader never started)
    isolation: str      # the sandbox it graded in, or would have
    worker: str         # which worker, for messages


# ---------------------------------------------------------------------------- worker side


def serve(fd: int, folder: str) -> None:
    """The grader process of a Dask worker: says its fingerprint, then grades as a local
    batch's grader does until the worker closes the connection or dies."""
    conn = Connection(fd)
    conn.send({"grader": batch.grader_fingerprint()})
    batch._serve(conn, folder)


class _Grader:
    """A grader process, for one submissions folder and one isolation."""

    def __init__(self, folder: str, isolation: str):
        self.key = (folder, isolation)
        ours, theirs = socket.socketpair()
        with theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _SERVE, str(config.ROOT), str(theirs.fileno()), folder],
                pass_fds=[theirs.fileno()], cwd=config.ROOT, stdin=subprocess.DEVNULL,
                env={"OPENBLAS_NUM_THREADS": "1", **os.environ, "AUTOGRADER_ISOLATION": isolation})
        self.conn = Connection(ours.detach())
        self.fingerprint: str | None = None

    def receive(self, timeout: float):
        """("reply", what it sent) | ("died", exit code) | ("timeout", None)."""
        if self.conn.poll(max(0.0, timeout)):
            try:
                return "reply", self.conn.recv()
            except (EOFError, OSError):
                pass
            return "died", self.exit_code()
        return ("died", self.process.returncode) if self.process.poll() is not None else ("timeout", None)

    def exit_code(self) -> int:
        """Its exit code, once its connection closed: killed if it does not exit soon."""
        try:
            return self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def stop(self) -> None:
        """Kill it; its sandbox, if one is open, dies with it."""
        self.conn.close()
        self.process.kill()
        self.process.wait()


# Each worker thread's grader, kept from task to task (one thread per worker on the clusters
# built here; a running cluster's workers may have more).
_thread = threading.local()


def _here() -> str:
    return f"{socket.gethostname()} (pid {os.getpid()})"


def _attempt(job: Job, isolation: str, deadline: float):
    """One grade of ``job`` by this thread's grader (started if needed): what ``receive``
    returns, or ("refused", None) when the grader is not the client's."""
    grader = getattr(_thread, "grader", None)
    if grader is not None and (grader.key != (job.folder, isolation) or grader.process.poll() is not None):
        _stop_grader()
        grader = None
    if grader is None:
        grader = _thread.grader = _Grader(job.folder, isolation)
        status, hello = grader.receive(deadline - time.monotonic())
        if status != "reply":
            return status, hello
        grader.fingerprint = hello["grader"]
    if grader.fingerprint != job.grader:
        return "refused", None
    try:
        grader.conn.send(job.path)
    except OSError:  # it died while idle
        return "died", grader.exit_code()
    return grader.receive(deadline - time.monotonic())


def _stop_grader() -> None:
    grader = getattr(_thread, "grader", None)
    if grader is not None:
        grader.stop()
        _thread.grader = None


def grade_task(job: Job) -> Outcome:
    """Grade one submission in this Dask worker: the task the client submits."""
    mine = os.environ.get("AUTOGRADER_ISOLATION") or "auto"
    # A worker left to choose (auto) is held to what the batch asks: without bubblewrap its
    # sandbox then refuses to start instead of grading in a weaker one.
    isolation = "bubblewrap" if mine == "auto" and job.isolation == "bubblewrap" else mine
    if isolation == "process" and job.isolation != "process":  # configured weaker: refuse
        return Outcome(None, None, isolation, _here())
    path = Path(job.folder, job.path)
    if not os.path.lexists(path) or batch.content_hash(path) != job.content_hash:
        seen = (f"other files at {path} than the client hashed" if os.path.lexists(path) else
                f"nothing at {path}, where the client found a submission")
        return Outcome({"error": f"The Dask worker on {_here()} sees {seen}: is the submissions "
                                 f"folder on a file system every worker shares, and unchanged "
                                 f"during the batch? (docs/scale.md) The next run grades it again.",
                        "kind": "grader", "seconds": 0.0}, None, isolation, _here())
    start = time.monotonic()
    for _ in range(2):  # a grader process that died gets one more try, as locally
        begun = time.monotonic()
        status, value = _attempt(job, isolation, begun + job.timeout)
        grader = getattr(_thread, "grader", None)
        fingerprint = grader.fingerprint if grader else None
        if status == "refused":
            return Outcome(None, fingerprint, isolation, _here())
        if status == "reply":
            got = value["result"]["isolation"] if "result" in value else isolation
            return Outcome(value, fingerprint, got, _here())
        _stop_grader()
        if status == "timeout":
            lost = batch.grader_lost(None, time.monotonic() - begun, job.timeout)
            return Outcome(lost, fingerprint, isolation, _here())
    return Outcome(batch.grader_lost(value, time.monotonic() - start, job.timeout),
                   fingerprint, isolation, _here())


# ---------------------------------------------------------------------------- client side


class DaskGraders:
    """The cluster as ``batch.grade_all``'s pool: one Dask task per submission, at most
    ``config.CLUSTER_IN_FLIGHT`` queued at once, each result checked (``accept``) and handed
    to ``done`` as it streams in."""

    task = staticmethod(grade_task)  # what runs on a worker: Job -> Outcome

    def __init__(self, client, folder: Path, grader: str, *, isolation: str = "bubblewrap",
                 timeout: float | None = None):
        if isolation not in ISOLATIONS:
            raise ValueError(f"isolation must be one of {', '.join(ISOLATIONS)}, not {isolation!r}")
        self.client, self.folder, self.grader = client, Path(folder), grader
        self.isolation = isolation
        self.timeout = config.BATCH_SUBMISSION_TIMEOUT if timeout is None else timeout

    def job(self, sub: batch.Submission) -> Job:
        return Job(str(self.folder), sub.path.relative_to(self.folder).as_posix(),
                   sub.content_hash or batch.content_hash(sub.path), self.grader,
                   self.isolation, self.timeout)

    def accept(self, outcome) -> dict:
        """The reply to record for what a task returned: its grade only when the worker's
        grader is the client's and its sandbox at least the one asked for; otherwise a
        failure of the grader that says why (the next run grades the submission again)."""
        from distributed import KilledWorker

        if isinstance(outcome, KilledWorker):
            return _grader_fault(
                f"The Dask workers grading this submission died {outcome.allowed_failures + 1} "
                f"times (killed from outside, out of memory, or their node lost?), so it was "
                f"not graded; the next run grades it again.")
        if not isinstance(outcome, Outcome):  # the task itself failed, e.g. no grader there
            return _grader_fault(
                f"The grader failed on the Dask cluster: {type(outcome).__name__}: {outcome} "
                f"(does every worker run the grader's venv? docs/scale.md)")
        if outcome.grader is not None and outcome.grader != self.grader:
            return _grader_fault(
                f"Refused the grade of the Dask worker on {outcome.worker}: it grades with "
                f"grader {outcome.grader}, this batch with {self.grader}. Every worker must run "
                f"the client's grader (the same course files, numpy and Python: a shared venv, "
                f"docs/scale.md); the next run grades this submission again.")
        weaker = [part for part in outcome.isolation.split(" + ") if not part.startswith("none")
                  and (part not in ISOLATIONS
                       or ISOLATIONS.index(part) < ISOLATIONS.index(self.isolation))]
        if weaker:
            return _grader_fault(
                f"Refused the grade of the Dask worker on {outcome.worker}: its sandbox is "
                f"'{weaker[0]}', weaker than the '{self.isolation}' this batch asks for "
                f"(bubblewrap needs unprivileged user namespaces on the worker's node: "
                f"docs/scale.md). Enable them there, or accept plain process isolation with "
                f"--isolation process; the next run grades this submission again.")
        if outcome.reply is None:
            return _grader_fault(f"The Dask worker on {outcome.worker} refused to grade this "
                                 f"submission; the next run grades it again.")
        return outcome.reply

    def run(self, work: list[batch.Submission], done) -> None:
        """Grade every submission in ``work``; ``done(submission, reply)`` as each ends.

        Tasks are sent, and their results fetched, in batches: what finished while the
        client recorded the last batch comes in one request, and as many tasks go out in
        one message (per-future requests cost the client more than recording a result)."""
        from distributed import as_completed

        pending, held = list(reversed(work)), {}
        results = as_completed()

        def submit():
            subs = [pending.pop() for _ in range(min(len(pending), config.CLUSTER_IN_FLIGHT - len(held)))]
            if subs:
                futures = self.client.map(self.task, [self.job(sub) for sub in subs], pure=False,
                                          key=[f"autograder-{sub.student}-{os.urandom(6).hex()}"
                                               for sub in subs])
                held.update(zip(futures, subs))
                results.update(futures)

        submit()
        try:
            for finished in results.batches():
                for future, outcome in zip(finished, self._outcomes(finished)):
                    done(held.pop(future), self.accept(outcome))
                submit()
        finally:
            if held:  # the batch stops early: what never started never will
                self.client.cancel(list(held))

    def _outcomes(self, futures: list) -> list:
        """What each of ``futures`` (all done) returned, or the exception it ended with
        (``KilledWorker``, ...); the results fetched in one request."""
        from asyncio import CancelledError

        ok = [f for f in futures if f.status == "finished"]
        try:
            got = dict(zip(ok, self.client.gather(ok)))
        except Exception:  # one was lost since (its worker died): each on its own below
            got = {}
        outcomes = []
        for future in futures:
            if future in got:
                outcomes.append(got[future])
                continue
            try:
                outcomes.append(future.result())
            except (Exception, CancelledError) as exc:
                outcomes.append(exc)
        return outcomes


def _grader_fault(message: str) -> dict:
    return {"error": message, "kind": "grader", "seconds": 0.0}


@dataclass(frozen=True)
class Slurm:
    """A ``SLURMCluster``'s options; None leaves one to dask-jobqueue's configuration file
    (``~/.config/dask/jobqueue.yaml``, key ``jobqueue.slurm``: docs/scale.md)."""

    cores: int | None = None      # per Slurm job: that many single-threaded workers
    memory: str | None = None     # per Slurm job, e.g. "8GB"
    walltime: str | None = None   # per Slurm job, e.g. "02:00:00"
    queue: str | None = None      # the partition
    account: str | None = None

    def cluster(self):
        from dask_jobqueue import SLURMCluster

        import dask

        given = {k: v for k, v in vars(self).items() if v is not None}
        cores = given.get("cores") or dask.config.get("jobqueue.slurm.cores", None)
        try:
            return SLURMCluster(
                **given, **({"processes": cores} if cores else {}),  # single-threaded workers
                # the workers run the client's interpreter: a venv on a shared file system
                python=sys.executable,
                job_script_prologue=[f"export DASK_{key.upper().replace('.', '__').replace('-', '_')}"
                                     f"={value}" for key, value in DASK_SETTINGS.items()
                                     if key.startswith("distributed.worker.")])
        except ValueError as exc:  # e.g. neither an option nor the file says cores or memory
            raise ClusterError(f"the Slurm cluster could not be set up: {exc}") from exc


def _local(workers: int):
    from distributed import LocalCluster

    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                        dashboard_address=None)


@contextmanager
def connect(*, scheduler: str | None = None, cluster: str | None = None,
            workers: int | None = None, slurm: Slurm | None = None):
    """A Dask client for a batch, and the cluster it needs: a running scheduler at
    ``scheduler``, or a new ``LocalCluster`` (``cluster="local"``) or ``SLURMCluster``
    (``"slurm"``) of ``workers`` single-threaded workers, closed again on leaving."""
    try:
        import dask
        from distributed import Client
    except ImportError as exc:
        raise ClusterError(f"Dask is not installed ({exc}): pip install -e '.[cluster]'") from None
    if (scheduler is None) == (cluster is None):
        raise ClusterError("give either a scheduler's address or a kind of cluster to start")
    if cluster == "slurm" and not workers:
        raise ClusterError("say how many workers the Slurm jobs should start, with --jobs")
    workers = max(1, workers or os.cpu_count() or 1)
    made = None
    with dask.config.set(DASK_SETTINGS):
        try:
            if cluster == "local":
                made = _local(workers)
            elif cluster == "slurm":
                made = (slurm or Slurm()).cluster()
                made.scale(workers)
            elif cluster is not None:
                raise ClusterError(f"the cluster must be local or slurm, not {cluster!r}")
            client = Client(made if made is not None else scheduler)
        except OSError as exc:  # e.g. no scheduler answers at that address
            if made is not None:
                made.close()
            raise ClusterError(f"could not reach the Dask scheduler: {exc}") from exc
    try:
        yield client
    finally:
        client.close()
        if made is not None:
            made.close()


def pool(client, *, isolation: str = "bubblewrap", timeout: float | None = None):
    """``batch.grade_all``'s ``pool`` for ``client``'s cluster."""
    def make(folder: Path, grader: str) -> DaskGraders:
        return DaskGraders(client, folder, grader, isolation=isolation, timeout=timeout)
    return make
