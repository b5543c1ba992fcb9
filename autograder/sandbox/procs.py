"""The sandbox's processes on the host: a dedicated uid per sandbox, the one ``/proc``
scanner that finds what runs as it, killing it all, and the folders of killed graders."""
from __future__ import annotations

import fcntl
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time

from .records import SandboxError
from .runtime.proc_table import processes

_UID_BASE = 1_900_000_000  # above systemd's container ranges, below 2**31
_UID_COUNT = 10_000


def _lock_dir() -> str:
    d = os.path.join(tempfile.gettempdir(), "autograder-sandbox-uids")
    os.makedirs(d, mode=0o700, exist_ok=True)
    return d


def allocate_uid(start: int | None = None):
    """A uid no other live sandbox on this machine uses, held by an flock. (uid, lock fd)."""
    d = _lock_dir()
    first = (os.getpid() * 7) % _UID_COUNT if start is None else 0
    for i in range(_UID_COUNT):
        uid = start if start is not None else _UID_BASE + (first + i) % _UID_COUNT
        fd = os.open(os.path.join(d, str(uid)), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return uid, fd
        except OSError:
            os.close(fd)
            if start is not None:
                return uid, None  # a fixed uid shared with another sandbox: no lock
    raise SandboxError("no free sandbox uid")


def pids_of_uid(uid: int) -> list:
    """Live (not zombie) processes whose real, effective or saved uid is ``uid``."""
    return [p.pid for p in processes() if not p.zombie and uid in p.uids]


def kill_uid(uid: int) -> None:
    """SIGKILL every process running as ``uid`` (a uid dedicated to one sandbox)."""
    if not uid:
        return
    for _ in range(100):
        pids = pids_of_uid(uid)
        if not pids:
            return
        for p in pids:
            try:
                os.kill(p, 9)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.005)


def can_adopt() -> bool:
    """Whether this system lets a process watch one it did not start (a pidfd: Linux 5.3)."""
    try:
        os.close(os.pidfd_open(os.getpid()))
        return True
    except (AttributeError, OSError):
        return False


class Adopted:
    """``Popen``'s poll, wait and kill for a process another one started: the worker of a
    sandbox handed to a forked lane (``Sandbox.adopt``), watched through a pidfd. Only its
    parent can reap it and read its exit status: here it is gone once it has exited."""

    def __init__(self, proc: subprocess.Popen):
        self.pid, self.stdin, self.stdout = proc.pid, proc.stdin, proc.stdout
        self.returncode = None
        self._fd = os.pidfd_open(proc.pid)  # the pid can't be reused: its parent waits last
        proc.returncode = -1  # this copy of the Popen must not wait for a child it lacks

    def poll(self):
        if self.returncode is None and select.select([self._fd], [], [], 0)[0]:
            self.returncode = -1
            os.close(self._fd)
        return self.returncode

    def wait(self, timeout=None):
        if self.poll() is None:
            select.select([self._fd], [], [], timeout)
            if self.poll() is None:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
        return self.returncode

    def kill(self):
        if self.poll() is None:
            signal.pidfd_send_signal(self._fd, signal.SIGKILL)


ROOT_PREFIX = "autograder-sandbox-"


def sweep_orphans() -> None:
    """Remove the sandbox folders of graders that were killed (SIGKILL skips every
    clean-up): each folder is named after the pid of the grader that made it."""
    base = tempfile.gettempdir()
    for name in os.listdir(base):
        pid = name[len(ROOT_PREFIX):].split("-", 1)[0]
        if not (name.startswith(ROOT_PREFIX) and pid.isdigit()):
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)
        except OSError:
            pass  # alive (someone else's): leave it


