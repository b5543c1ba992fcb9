"""Run student code in a sandboxed worker process and get plain data back.

The grader never imports student code.  ``Sandbox(submission_dir)`` starts one worker per
submission (``worker.py``, standard library + numpy only) inside bubblewrap when it works
here, or as a plain child process with rlimits otherwise, as an unprivileged uid when the
grader runs as root.  The worker forks one child per student module; the child imports the
module and serves calls.  Everything that comes back is validated here
(``wire.Decoder``: exact ``np.ndarray`` of a numeric dtype, bounded sizes, no pickles).

    with Sandbox(submission_dir) as sb:
        r = sb.call("activations", "sigmoid", x, timeout=2.0, readonly=True)
        if r.ok: ... r.value ...
        n = sb.count_lines("activations", "sigmoid", [x_1000, x_8000])  # vectorised?

See docs/architecture.md, "The sandbox API".
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from . import wire
from .wire import FunctionRef, Unsendable  # noqa: F401 - re-exported

__all__ = ["Sandbox", "FunctionRef", "Unsendable", "CallResult", "LineCount", "Limits",
           "SandboxError", "ERROR_KINDS"]

ERROR_KINDS = ("exception", "timeout", "crash", "import", "missing", "bad-output", "memory")
_FP_WARNINGS = ("divide", "invalid", "overflow")
_HERE = os.path.dirname(os.path.abspath(__file__))
_F_SETPIPE_SZ = 1031


@dataclass(frozen=True)
class Limits:
    """Limits and timeouts of a sandbox (defaults; configuration may override them)."""

    call_timeout: float = 2.0  # wall-clock seconds per call, unless the call says otherwise
    lines_timeout: float = 10.0  # wall-clock seconds for a whole count_lines (a hang's bound)
    import_timeout: float = 10.0  # wall-clock seconds to import one student module
    start_timeout: float = 30.0  # to start the worker (numpy import)
    grace: float = 3.0  # extra wait before the worker itself is declared hung
    memory_bytes: int = 1536 * 2**20  # RLIMIT_AS per module child
    cpu_seconds: int = 60  # RLIMIT_CPU per module child (a backstop; walls clocks kill first)
    file_bytes: int = 64 * 2**20  # RLIMIT_FSIZE: output capture and files written
    tmp_bytes: int = 256 * 2**20  # size of the private /tmp (bubblewrap)
    open_files: int = 256  # RLIMIT_NOFILE
    processes: int = 128  # RLIMIT_NPROC for the sandbox uid (only with a dedicated uid)
    output_bytes: int = 4096  # captured output returned per call
    max_array_elements: int = 2**24
    max_frame_bytes: int = 256 * 2**20
    max_depth: int = 16
    max_items: int = 100_000
    # A module whose calls stopped the worker this many times is not called again; its
    # losses never cost another module's checks (nor depend on which lane it runs in).
    max_worker_restarts: int = 3
    max_worker_restarts_total: int = 15  # a backstop over all modules (5 exercises x 3)

    def caps(self) -> wire.Caps:
        return wire.Caps(max_array_elements=self.max_array_elements,
                         max_frame_bytes=self.max_frame_bytes, max_depth=self.max_depth,
                         max_items=self.max_items)


class SandboxError(RuntimeError):
    """The sandbox itself could not be set up (not a problem of the student's code)."""


@dataclass
class CallResult:
    ok: bool
    value: Any = None
    type_name: str | None = None
    error: str | None = None
    error_kind: str | None = None
    warnings: list = field(default_factory=list)
    output: str = ""
    seconds: float = 0.0
    args_after: tuple = ()
    kwargs_after: dict = field(default_factory=dict)


@dataclass
class LineCount:
    ok: bool
    lines: list = field(default_factory=list)  # Python lines the submission ran, per input
    error: str | None = None
    error_kind: str | None = None
    output: str = ""


# ============================================================================ the machine


_UID_BASE = 1_900_000_000  # above systemd's container ranges, below 2**31
_UID_COUNT = 10_000


def _lock_dir() -> str:
    d = os.path.join(tempfile.gettempdir(), "autograder-sandbox-uids")
    os.makedirs(d, mode=0o700, exist_ok=True)
    return d


def _allocate_uid(start: int | None = None):
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


def _pids_of_uid(uid: int) -> list:
    """Live (not zombie) processes whose real, effective or saved uid is ``uid``."""
    out = []
    want = str(uid).encode()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", "rb") as f:
                zombie = False
                for line in f:
                    if line.startswith(b"State:"):
                        zombie = b"Z" in line.split()[1:2]
                    elif line.startswith(b"Uid:"):
                        if not zombie and want in line.split()[1:4]:
                            out.append(int(name))
                        break
        except OSError:
            continue
    return out


def _kill_uid(uid: int) -> None:
    """SIGKILL every process running as ``uid`` (a uid dedicated to one sandbox)."""
    if not uid:
        return
    for _ in range(100):
        pids = _pids_of_uid(uid)
        if not pids:
            return
        for p in pids:
            try:
                os.kill(p, 9)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.005)


def _perm_ok(st, uid, gid, bits) -> bool:
    if st.st_uid == uid:
        shift = 6
    elif st.st_gid == gid:
        shift = 3
    else:
        shift = 0
    return ((st.st_mode >> shift) & bits) == bits


def _unreachable(paths, uid, gid):
    """The first of ``paths`` that uid:gid can't read (dirs: list and enter), or None."""
    for p in paths:
        p = os.path.abspath(p)
        parts = p.split(os.sep)
        cur = os.sep
        for part in parts[1:]:
            try:
                st = os.stat(cur)
            except OSError:
                return cur
            if not _perm_ok(st, uid, gid, 1):
                return cur
            cur = os.path.join(cur, part)
        try:
            st = os.stat(p)
        except OSError:
            continue  # not there: nothing to reach
        need = 5 if stat.S_ISDIR(st.st_mode) else 4
        if not _perm_ok(st, uid, gid, need):
            return p
    return None


_INFO_CODE = r"""
import json, os, site, sys, sysconfig, importlib.util
paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
for k in ("stdlib", "platstdlib", "purelib", "platlib"):
    paths.add(sysconfig.get_paths()[k])
try:
    paths.update(site.getsitepackages())
except Exception:
    pass
for mod in ("numpy", "matplotlib"):
    spec = importlib.util.find_spec(mod)
    if spec and spec.origin:
        paths.add(os.path.dirname(os.path.dirname(spec.origin)))
info = {"executable": sys.executable, "real": os.path.realpath(sys.executable),
        "version": list(sys.version_info[:2]),
        "paths": sorted(p for p in paths if p and os.path.isdir(p)),
        "numpy": importlib.util.find_spec("numpy") is not None}
"""
_info_cache: dict = {}


def _runtime_info(python: str) -> dict:
    if python in _info_cache:
        return _info_cache[python]
    if os.path.realpath(python) == os.path.realpath(sys.executable) and \
            os.path.abspath(python) == os.path.abspath(sys.executable):
        ns: dict = {}
        exec(_INFO_CODE, ns)  # noqa: S102 - our own constant code
        info = ns["info"]
    else:
        code = _INFO_CODE + "\nprint(json.dumps(info))"
        r = subprocess.run([python, "-s", "-c", code], capture_output=True, text=True,
                           timeout=60, env={"PATH": "/usr/bin:/bin"})
        if r.returncode != 0:
            raise SandboxError(f"{python} can't describe itself: {r.stderr.strip()[-500:]}")
        info = json.loads(r.stdout)
    if not info["numpy"]:
        raise SandboxError(f"{python} can't import numpy")
    _info_cache[python] = info
    return info


def _under(path, root) -> bool:
    path, root = os.path.abspath(path), os.path.abspath(root)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _runtime_binds(info) -> list:
    """Directories the interpreter needs that /usr doesn't already cover (outermost only)."""
    need = []
    for p in sorted(set(info["paths"]) | {os.path.dirname(os.path.dirname(info["executable"]))}):
        if _under(p, "/usr") or any(_under(p, q) for q in need):
            continue
        need = [q for q in need if not _under(q, p)] + [p]
    return need


_probe_cache: dict = {}

# Read-only for student code under Landlock, besides the interpreter's own folders.
_SYSTEM_READ = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc",
                "/proc", "/sys/devices/system/cpu")
# Never readable by student code, even inside an allowed folder (the grader installed into
# site-packages): the grader's package, the reference, the hidden checks. And the repository
# that holds them (its history, tests, other copies): not readable as a whole, though a
# Python that lives inside it (a .venv) stays readable.
def _secrets():
    from .config import CHECKS, SOLUTIONS

    hard = [_HERE, str(SOLUTIONS), str(CHECKS)]
    root = os.path.dirname(_HERE)
    soft = [root] if _under(str(SOLUTIONS), root) and os.path.isdir(SOLUTIONS) else []
    return hard, soft


def _allow_minus(paths, hard, soft) -> list:
    """``paths`` without the secrets: a path under a ``hard`` secret, or equal to a ``soft``
    one, is dropped; a folder that holds a secret is replaced by its other entries,
    recursively, so no allowed path reaches one."""
    out = []
    todo = list(paths)
    while todo:
        p = os.path.abspath(todo.pop())
        if any(_under(p, h) for h in hard) or p in soft:
            continue
        if any(_under(x, p) and x != p for x in hard + soft) and os.path.isdir(p) \
                and not os.path.islink(p):
            try:
                todo += [os.path.join(p, n) for n in os.listdir(p)]
            except OSError:
                pass
            continue
        out.append(p)
    return sorted(set(out))


def _bwrap_base(bwrap: str) -> list:
    cmd = [bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
           "--new-session", "--cap-drop", "ALL", "--clearenv", "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        p = "/" + name
        if os.path.islink(p):
            cmd += ["--symlink", os.readlink(p), p]
        elif os.path.isdir(p):
            cmd += ["--ro-bind", p, p]
    for p in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime"):
        if os.path.exists(p):
            cmd += ["--ro-bind", p, p]
    cmd += ["--dev", "/dev", "--proc", "/proc", "--hostname", "sandbox"]
    return cmd


def _probe_bwrap(bwrap: str, as_uid: int | None, map_uid: int | None):
    """Can bwrap start a process here in this mode? (ok, why not)."""
    key = (bwrap, as_uid is not None, map_uid is not None)
    if key in _probe_cache:
        return _probe_cache[key]
    cmd = _bwrap_base(bwrap)
    if map_uid is not None:
        cmd += ["--uid", str(map_uid), "--gid", str(map_uid)]
    cmd += ["--tmpfs", "/tmp", "/usr/bin/env", "true"]
    kw = {}
    if as_uid is not None:
        kw = dict(user=as_uid, group=as_uid, extra_groups=[])
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=20, **kw)
        res = (r.returncode == 0, r.stderr.strip()[-300:])
    except (OSError, subprocess.SubprocessError) as e:
        res = (False, str(e))
    _probe_cache[key] = res
    return res


_ROOT_PREFIX = "autograder-sandbox-"


def _sweep_orphans() -> None:
    """Remove the sandbox folders of graders that were killed (SIGKILL skips every
    clean-up): each folder is named after the pid of the grader that made it."""
    base = tempfile.gettempdir()
    for name in os.listdir(base):
        pid = name[len(_ROOT_PREFIX):].split("-", 1)[0]
        if not (name.startswith(_ROOT_PREFIX) and pid.isdigit()):
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)
        except OSError:
            pass  # alive (someone else's): leave it


# ============================================================================ the sandbox


class _State:
    """What must be cleaned up; kept apart from Sandbox so a finalizer can hold it."""

    def __init__(self):
        self.proc = None
        self.in_fd = None
        self.out_fd = None
        self.log = None
        self.root = None
        self.uid = None
        self.uid_lock = None
        self.sweep_uid = False  # the uid is ours alone: kill whatever runs as it
        self.setsid = False

    def kill_worker(self):
        proc = self.proc
        self.proc = None
        if proc is not None:
            if proc.poll() is None:
                if self.setsid:
                    try:
                        os.killpg(proc.pid, 9)
                    except (ProcessLookupError, PermissionError):
                        pass
                try:
                    proc.kill()
                except OSError:
                    pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                pass
            for f in (proc.stdin, proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass
        self.in_fd = self.out_fd = None
        if self.uid and self.sweep_uid:
            _kill_uid(self.uid)

    def close(self):
        self.kill_worker()
        if self.log is not None:
            self.log.close()
            self.log = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
        if self.uid_lock is not None:
            os.close(self.uid_lock)
            self.uid_lock = None


def _cleanup(state: _State):
    try:
        state.close()
    except Exception:  # noqa: BLE001 - best effort at exit
        pass


class Sandbox:
    """One sandboxed worker for one submission. See the module docstring.

    ``isolation``: ``"auto"`` (bubblewrap if it works here, else a plain process),
    ``"bubblewrap"`` (fail if it doesn't work) or ``"process"``.
    ``python``: the interpreter for the worker (must import numpy); default ``sys.executable``.
    ``uid``: ``None`` picks a dedicated unprivileged uid when running as root; an int forces
    one; ``False`` keeps the grader's uid.
    """

    def __init__(self, submission_dir, *, python: str | None = None, isolation: str = "auto",
                 limits: Limits | None = None, uid: int | None | bool = None,
                 landlock: bool = True):
        if isolation not in ("auto", "bubblewrap", "process"):
            raise ValueError(f"isolation must be auto, bubblewrap or process, not {isolation!r}")
        self.limits = limits or Limits()
        self._caps = self.limits.caps()
        self._python = os.path.abspath(python or sys.executable)
        self._lock = threading.RLock()
        self._st = _State()
        self._finalizer = weakref.finalize(self, _cleanup, self._st)
        self._next_id = 0
        self._failed_modules: dict = {}  # module -> (kind, error, output)
        self._given_up: dict = {}  # (module, function) -> (kind, error)
        self._lines_given_up: dict = {}
        self._dead_reason = None
        self._losses: dict = {}  # module -> times its calls stopped the worker
        self.restarts = 0
        # Student processes that died abruptly (killed or crashed, not a failure of their
        # own making such as an exception): a batch regrades to tell a kill from outside
        # apart from what the code does to itself every time.
        self.deaths: list[str] = []
        self.worker_starts = 0
        self.start_seconds = None  # wall time of the last worker start
        self.worker_info: dict = {}
        self.landlock = bool(landlock)  # confine module children with Landlock if possible
        self.closed = False
        try:
            self._setup(submission_dir, isolation, uid)
            self._start()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ setup
    @property
    def uid(self):
        """The host uid the student code runs as (None: the grader's own)."""
        return self._st.uid

    @property
    def worker_pid(self):
        """Host pid of the process the sandbox started (bwrap, or the worker itself)."""
        p = self._st.proc
        return p.pid if p is not None else None

    def _setup(self, submission_dir, isolation, uid):
        submission_dir = os.path.abspath(os.fspath(submission_dir))
        if not os.path.isdir(submission_dir):
            raise SandboxError(f"no submission folder {submission_dir}")
        info = _runtime_info(self._python)
        self._info = info
        st = self._st
        _sweep_orphans()
        st.root = tempfile.mkdtemp(prefix=f"{_ROOT_PREFIX}{os.getpid()}-")
        os.chmod(st.root, 0o711)
        sub = os.path.join(st.root, "submission")
        rt = os.path.join(st.root, "runtime")
        home = os.path.join(st.root, "home")
        for d in (sub, rt, home):
            os.mkdir(d)
            os.chmod(d, 0o755)
        for name in sorted(os.listdir(submission_dir)):
            src = os.path.join(submission_dir, name)
            if not name.endswith(".py") or not name[:-3].isidentifier():
                continue
            s = os.lstat(src)
            if not stat.S_ISREG(s.st_mode):
                continue
            dst = os.path.join(sub, name)
            shutil.copyfile(src, dst)
            os.chmod(dst, 0o644)
        for name in ("worker.py", "wire.py"):
            shutil.copyfile(os.path.join(_HERE, name), os.path.join(rt, name))
            os.chmod(os.path.join(rt, name), 0o644)
        self._sub, self._rt, self._home = sub, rt, home

        # who runs the student's code
        root = os.geteuid() == 0
        if uid is False or not root:
            st.uid = None
        elif uid is None:
            st.uid, st.uid_lock = _allocate_uid()
            st.sweep_uid = True
            _kill_uid(st.uid)  # leftovers of a grader that was killed
        else:
            st.uid, st.uid_lock = _allocate_uid(int(uid))
        needed = [info["executable"], info["real"], rt, sub] + list(info["paths"])
        blocked = _unreachable(needed, st.uid, st.uid) if st.uid else None

        bwrap = shutil.which("bwrap") or ("/usr/bin/bwrap" if os.path.exists("/usr/bin/bwrap")
                                         else None)
        self.isolation = "process"
        self.isolation_detail = ""
        self._map_uid = None
        why_not = None
        if isolation in ("auto", "bubblewrap") and bwrap:
            if st.uid and not blocked:
                ok, why = _probe_bwrap(bwrap, st.uid, None)
                if ok:
                    self.isolation = "bubblewrap"
                    self.isolation_detail = (f"bubblewrap as unprivileged uid {st.uid}: no "
                                             f"network, read-only runtime and submission, "
                                             f"private /tmp, RLIMIT_NPROC in effect")
                else:
                    why_not = f"bubblewrap as uid {st.uid} failed: {why}"
            if self.isolation == "process" and st.uid:
                ok, why = _probe_bwrap(bwrap, None, st.uid)
                if ok:
                    self.isolation = "bubblewrap"
                    self._map_uid = st.uid
                    reason = (f"{blocked} is not reachable by an unprivileged uid"
                              if blocked else why_not)
                    self.isolation_detail = (
                        f"bubblewrap started as root, uid {st.uid} only inside its user "
                        f"namespace ({reason}): no network, read-only runtime and submission, "
                        f"private /tmp; RLIMIT_NPROC has no effect")
                    st.uid = None  # processes run as host uid 0: nothing to sweep by uid
                    if st.uid_lock is not None:
                        os.close(st.uid_lock)
                        st.uid_lock = None
                else:
                    why_not = (why_not + "; " if why_not else "") + f"as root: {why}"
            elif self.isolation == "process" and not st.uid:
                ok, why = _probe_bwrap(bwrap, None, None)
                if ok:
                    self.isolation = "bubblewrap"
                    self.isolation_detail = (f"bubblewrap as the grader's uid {os.getuid()}: no "
                                             f"network, read-only runtime and submission, "
                                             f"private /tmp")
                else:
                    why_not = why
        elif isolation in ("auto", "bubblewrap"):
            why_not = "bwrap is not installed"
        if self.isolation == "process":
            if isolation == "bubblewrap":
                raise SandboxError(f"bubblewrap isolation is not available: {why_not}")
            if st.uid and blocked:
                detail = (f"plain process as the grader's uid (root): {blocked} is not "
                          f"reachable by an unprivileged uid")
                st.uid = None
                if st.uid_lock is not None:
                    os.close(st.uid_lock)
                    st.uid_lock = None
            elif st.uid:
                detail = f"plain process as unprivileged uid {st.uid} with rlimits"
            else:
                detail = f"plain process as the grader's uid {os.getuid()} with rlimits"
            detail += ("; it can read every world-readable file and use the network"
                       + (f" (bubblewrap: {why_not})" if why_not and isolation == "auto" else ""))
            self.isolation_detail = detail
            if st.uid:
                os.chown(home, st.uid, st.uid)
                os.chmod(home, 0o700)
        self._bwrap = bwrap

    def _landlock_paths(self, in_sandbox: bool) -> dict:
        """What student code may read and write under Landlock (worker.landlock): the
        interpreter and its libraries, the system's shared files, the submission and the
        runtime read-only; its own temp folder read-write. Never the grader's repository
        (the reference, the hidden checks), other submissions, or the grader's outputs."""
        runtime = _runtime_binds(self._info)
        system = [p for p in _SYSTEM_READ if os.path.exists(p)]
        if in_sandbox:
            read = runtime + system + ["/runtime", "/submission"]
            write = ["/tmp"]
        else:
            read = runtime + system + [self._rt, self._sub, self._info["real"],
                                       self._info["executable"]]
            write = [self._home]
        return {"read": _allow_minus(read, *_secrets()), "write": write}

    def _config(self, in_sandbox: bool) -> str:
        lim = dataclasses.asdict(self.limits)
        return json.dumps({
            "landlock": self._landlock_paths(in_sandbox) if self.landlock else None,
            "submission": "/submission" if in_sandbox else self._sub,
            "tmp": "/tmp" if in_sandbox else self._home,
            "limits": lim,
            "caps": self._caps.as_dict(),
            "nproc": bool(self._st.uid),
            "kill_uid": bool(self._st.uid and self._st.sweep_uid and not in_sandbox),
            "parent": 0 if in_sandbox else os.getpid(),
        })

    def _env(self, tmp: str) -> dict:
        return {"PATH": "/usr/bin:/bin", "HOME": tmp, "TMPDIR": tmp, "MPLCONFIGDIR": tmp,
                "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                "MKL_NUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1",
                "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "PYTHONNOUSERSITE": "1",
                "PYTHONUTF8": "1", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}

    def _command(self):
        st = self._st
        kw = dict(stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
        if st.uid:
            kw.update(user=st.uid, group=st.uid, extra_groups=[])
        if self.isolation == "bubblewrap":
            cmd = _bwrap_base(self._bwrap)
            if self._map_uid is not None:
                cmd += ["--uid", str(self._map_uid), "--gid", str(self._map_uid)]
            # The private /tmp first: a runtime that lives under /tmp (a venv there) is
            # bound on top of it, not hidden by it.
            cmd += ["--size", str(self.limits.tmp_bytes), "--tmpfs", "/tmp"]
            for p in _runtime_binds(self._info):
                cmd += ["--ro-bind", p, p]
            cmd += ["--ro-bind", self._rt, "/runtime", "--ro-bind", self._sub, "/submission",
                    "--chdir", "/tmp"]
            for k, v in self._env("/tmp").items():
                cmd += ["--setenv", k, v]
            cmd += [self._info["executable"], "-B", "-s", "/runtime/worker.py",
                    self._config(True)]
            kw["env"] = {"PATH": "/usr/bin:/bin"}
            st.setsid = False
        else:
            cmd = [self._info["executable"], "-B", "-s", os.path.join(self._rt, "worker.py"),
                   self._config(False)]
            kw.update(env=self._env(self._home), cwd=self._home, start_new_session=True)
            st.setsid = True
        return cmd, kw

    def _start(self):
        st = self._st
        cmd, kw = self._command()
        if st.log is None:
            st.log = open(os.path.join(st.root, "worker.log"), "w+b")
        kw["stderr"] = st.log
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(cmd, **kw)
        except OSError as e:
            raise SandboxError(f"could not start the sandbox worker: {e}") from None
        st.proc = proc
        st.in_fd = proc.stdin.fileno()
        st.out_fd = proc.stdout.fileno()
        for fd in (st.in_fd, st.out_fd):
            os.set_blocking(fd, False)
            try:
                fcntl.fcntl(fd, _F_SETPIPE_SZ, 1 << 20)
            except OSError:
                pass
        self.worker_starts += 1
        try:
            payload = wire.read_frame(st.out_fd, 1 << 20,
                                      time.monotonic() + self.limits.start_timeout)
            hello, _ = wire.unpack(payload)
            if hello.get("event") != "hello":
                raise wire.WireError("no hello")
        except (EOFError, TimeoutError, wire.WireError, OSError) as e:
            st.kill_worker()
            raise SandboxError(f"the sandbox worker did not start ({type(e).__name__}): "
                               f"{self._log_tail()}") from None
        self.start_seconds = time.perf_counter() - t0
        self.worker_info = hello
        if self.worker_starts == 1:
            ll = hello.get("landlock")
            ll = ll[:300] if type(ll) is str else "not reported"
            if ll.startswith("Landlock"):
                self.isolation_detail = self.isolation_detail.replace(
                    "; it can read every world-readable file and use the network", "")
                self.isolation_detail += (f"; student code confined by {ll}: reads only the "
                                          f"interpreter, system files and the submission, "
                                          f"writes only its temp folder")
            elif self.landlock:
                self.isolation_detail += f"; Landlock {ll}"

    def _log_tail(self) -> str:
        log = self._st.log
        if log is None:
            return ""
        try:
            log.flush()
            log.seek(0, os.SEEK_END)
            n = log.tell()
            log.seek(max(0, n - 2000))
            return log.read().decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""

    def _ensure_worker(self):
        """A live worker, or the reason there is none."""
        st = self._st
        if st.proc is not None and st.proc.poll() is None:
            return None
        st.kill_worker()
        if self.restarts >= self.limits.max_worker_restarts_total:
            return (f"the sandbox worker was restarted {self.restarts} times; no more calls are "
                    f"made ({self._dead_reason})")
        self.restarts += 1
        try:
            self._start()
        except SandboxError as e:
            return str(e)
        return None

    # ------------------------------------------------------------------ lifecycle
    def close(self):
        """Stop the worker and everything it started; remove the temp files. Idempotent."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            st = self._st
            if st.proc is not None and st.proc.poll() is None and st.in_fd is not None:
                try:
                    wire.write_all(st.in_fd, wire.pack({"op": "exit"}), time.monotonic() + 0.2)
                    st.proc.wait(timeout=1.0)
                except (OSError, TimeoutError, subprocess.TimeoutExpired):
                    pass
            self._finalizer()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        return f"<Sandbox {self.isolation} uid={self.uid} {'closed' if self.closed else 'open'}>"

    # ------------------------------------------------------------------ calls
    def call(self, module: str, function: str, /, *args, timeout: float | None = None,
             readonly: bool = False, kwargs: dict | None = None, **fkwargs) -> CallResult:
        """Call ``module.function(*args, **kwargs)`` in the sandbox.

        ``kwargs=`` passes keyword arguments whose names clash with ours (timeout, readonly).
        ``readonly=True`` makes every array argument read-only (truly: its buffer is).
        """
        kw = dict(kwargs or {})
        kw.update(fkwargs)
        t = self.limits.call_timeout if timeout is None else float(timeout)
        return self._request("call", module, function, list(args), kw, t, readonly, {})

    def count_lines(self, module: str, function: str, xs, /, *args,
                    timeout: float | None = None, readonly: bool = True,
                    kwargs: dict | None = None, **fkwargs) -> LineCount:
        """For each ``x`` in ``xs``, call ``module.function(x, *args, **kwargs)`` in the
        module's child and count the Python line events executed in the submission's own
        code (``sys.settrace``; numpy's and the standard library's code is not counted).
        Vectorised code runs the same lines whatever the size of ``x``; a Python loop over
        the elements runs more on a larger ``x``. Counts don't depend on the machine's load:
        ``timeout`` (for all the calls together) only bounds a hang."""
        kw = dict(kwargs or {})
        kw.update(fkwargs)
        t = self.limits.lines_timeout if timeout is None else float(timeout)
        return self._request("lines", module, function, [list(xs), *args], kw, t, readonly, {})

    def _fail(self, op, kind, error, output=""):
        if op == "lines":
            return LineCount(ok=False, error=error, error_kind=kind, output=output)
        return CallResult(ok=False, error=error, error_kind=kind, output=output)

    def _request(self, op, module, function, args, kwargs, timeout, readonly, extra):
        if not (isinstance(module, str) and module.isidentifier()):
            raise ValueError(f"bad module name {module!r}")
        if not (isinstance(function, str) and function.isidentifier()):
            raise ValueError(f"bad function name {function!r}")
        with self._lock:
            if self.closed:
                raise SandboxError("the sandbox is closed")
            if module in self._failed_modules:
                kind, error, output = self._failed_modules[module]
                return self._fail(op, kind, error, output)
            memo = self._lines_given_up if op == "lines" else self._given_up
            if (module, function) in memo:
                kind, error = memo[(module, function)]
                return self._fail(op, kind, error)
            enc = wire.Encoder(self._caps, "request")
            a = enc.encode(args)
            k = enc.encode(kwargs)
            ref_modules = sorted({n.rsplit(".", 1)[0] for n in enc.ref_names
                                  if not n.startswith("numpy.")} - {module})
            self._next_id += 1
            rid = self._next_id
            hdr = {"op": op, "id": rid, "module": module, "function": function, "args": a,
                   "kwargs": k, "timeout": timeout, "readonly": bool(readonly),
                   "ref_modules": ref_modules}
            hdr.update(extra)
            frame = wire.pack(hdr, enc.blobs)
            if len(frame) > self._caps.max_frame_bytes:
                raise ValueError(f"arguments too large to send ({len(frame)} bytes)")
            why = self._ensure_worker()
            if why is not None:
                self.deaths.append(f"{module}.{function}: {why}")
                return self._fail(op, "crash", why)
            reply, blobs, phase = self._exchange(frame, rid, timeout, bool(ref_modules))
            if reply is None:  # the worker died or hung: ``blobs`` says how
                return self._worker_lost(op, module, function, blobs, phase)
            if op == "lines":
                res = self._line_count(reply)
            else:
                res = self._call_result(reply, blobs, enc.sent)
            if res.error_kind == "crash" or reply.get("died") is True:
                self.deaths.append(f"{module}.{function}: {res.error}")
            if reply.get("module_failed") is True and res.error_kind in ("import", "missing",
                                                                          "memory"):
                self._failed_modules[module] = (res.error_kind, res.error, res.output)
            elif res.error_kind == "timeout":
                # a function that hung is neither called nor timed again (each would cost
                # another full timeout: a module that hangs everywhere must stay bounded)
                for m in (self._given_up, self._lines_given_up):
                    m[(module, function)] = ("timeout", f"timed out earlier (did not finish "
                                                        f"within {timeout:g} s); not called "
                                                        f"again")
            return res

    def _exchange(self, frame, rid, timeout, has_refs):
        """Send a request, wait for its reply. (header, blobs, phase) or (None, why, phase)."""
        st = self._st
        lim = self.limits
        deadline = (time.monotonic() + timeout + lim.import_timeout * (2 if has_refs else 1)
                    + lim.grace + len(frame) / 50e6)
        phase = None
        try:
            wire.write_all(st.in_fd, frame, deadline)
            while True:
                payload = wire.read_frame(st.out_fd, lim.max_frame_bytes + (1 << 20), deadline)
                hdr, blobs = wire.unpack(payload)
                ev = hdr.get("event")
                if ev == "loading":
                    phase = str(hdr.get("module"))
                    continue
                if ev == "loaded":
                    phase = None
                    continue
                if hdr.get("id") != rid:
                    raise wire.WireError("reply to another request")
                return hdr, blobs, phase
        except TimeoutError:
            why = "hung"
        except (EOFError, BrokenPipeError, ConnectionError):
            why = "died"
        except (OSError, wire.WireError) as e:
            why = f"broke the protocol ({e})"
        st.kill_worker()
        return None, why, phase

    def _worker_lost(self, op, module, function, why, phase):
        self.deaths.append(f"{module}.{function}: the sandbox worker {why}")
        if why == "hung":
            what = "stopped answering"
            kind = "timeout"
        else:
            what = "died" if why == "died" else why
            kind = "crash"
        self._dead_reason = f"the last time it {what}"
        if phase is not None:
            err = (f"importing {phase}.py made the sandbox worker stop ({what}: did it kill or "
                   f"stop its parent process?)")
            self._failed_modules[phase] = ("import", err, "")
            if phase == module:
                return self._fail(op, "import", err)
        err = (f"the call made the sandbox worker stop ({what}: did it kill or stop its parent "
               f"process?); the worker is restarted for the next call")
        memo = self._lines_given_up if op == "lines" else self._given_up
        memo[(module, function)] = (kind, f"stopped the sandbox worker earlier ({what}); not "
                                          f"called again")
        if phase is None:  # the module's own call, not an import it needed, stopped it
            losses = self._losses[module] = self._losses.get(module, 0) + 1
            if losses >= self.limits.max_worker_restarts:
                err += (f", but no other function of {module}.py is called again: it stopped "
                        f"the worker {losses} times")
                self._failed_modules[module] = (
                    kind, f"{module}.py stopped the sandbox worker {losses} times (the last time "
                          f"it {what}); none of its functions is called again", "")
        return self._fail(op, kind, err)

    # ------------------------------------------------------------------ replies
    def _call_result(self, h, blobs, sent) -> CallResult:
        def s(v, cap=2000):
            return v[:cap] if type(v) is str else None

        kind = h.get("error_kind")
        res = CallResult(ok=h.get("ok") is True)
        res.error_kind = kind if kind in ERROR_KINDS else (None if kind is None else "crash")
        res.error = s(h.get("error"))
        res.type_name = s(h.get("type_name"), 200)
        res.output = s(h.get("output"), self.limits.output_bytes + 200) or ""
        sec = h.get("seconds")
        res.seconds = float(sec) if type(sec) in (int, float) and sec >= 0 else 0.0
        w = h.get("warnings")
        res.warnings = sorted({x for x in w if x in _FP_WARNINGS}) if type(w) is list else []
        if res.ok and res.error_kind is not None:
            res.ok = False
        if not res.ok and res.error_kind is None:
            res.error_kind, res.error = "crash", res.error or "no result came back"
        try:
            if res.ok:
                res.value = wire.Decoder(blobs, self._caps).decode(h.get("value"))
        except wire.WireError as e:
            res.ok, res.value = False, None
            res.error_kind, res.error = "bad-output", f"sent back malformed data ({e})"
        try:
            dec = wire.Decoder(blobs, self._caps, allow={"s", "fn", "same", "u"},
                               originals=sent)
            after = dec.decode(h.get("args_after") or [])
            kwa = dec.decode(h.get("kwargs_after") or {"d": []})
            res.args_after = tuple(after) if type(after) is list else ()
            res.kwargs_after = kwa if type(kwa) is dict else {}
        except wire.WireError:
            res.args_after, res.kwargs_after = (), {}
        return res

    def _line_count(self, h) -> LineCount:
        kind = h.get("error_kind")
        res = LineCount(ok=h.get("ok") is True and kind is None)
        res.error_kind = kind if kind in ERROR_KINDS else (None if kind is None else "crash")
        res.error = h.get("error")[:2000] if type(h.get("error")) is str else None
        res.output = h.get("output")[:self.limits.output_bytes + 200] \
            if type(h.get("output")) is str else ""
        if res.ok:
            lines = h.get("lines")
            if type(lines) is list and all(type(n) is int and n >= 0 for n in lines):
                res.lines = lines
            else:
                res.ok, res.error_kind, res.error = False, "bad-output", "malformed line counts"
        elif res.error_kind is None:
            res.error_kind, res.error = "crash", res.error or "no result came back"
        return res
