"""Run student code in a sandboxed worker process and get plain data back.

The grader never imports student code.  ``Sandbox(submission_dir)`` starts one worker per
submission (``runtime/worker.py``, standard library + numpy only) inside bubblewrap when it
works here, or as a plain child process with rlimits otherwise, as an unprivileged uid when
the grader runs as root.  The worker forks one child per student module; the child imports
the module and serves calls.  Everything that comes back is validated here
(``wire.Decoder``: exact ``np.ndarray`` of a numeric dtype, bounded sizes, no pickles).

    with Sandbox(submission_dir) as sb:
        r = sb.call("activations", "sigmoid", x, timeout=2.0, readonly=True)
        if r.ok: ... r.value ...
        n = sb.count_lines("activations", "sigmoid", [x_1000, x_8000])  # vectorised?

The package's parts: ``records`` (limits and results, typed), ``isolation`` (the pure choice
of how strongly to isolate), ``jail`` (the jail's files, secrets and bubblewrap commands),
``procs`` (uids and process clean-up), ``ledger`` (what is not called again) and
``runtime/`` (the code copied into the jail). See docs/architecture.md, "The sandbox".
"""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import weakref

from .. import wire
from ..wire import FunctionRef, Unsendable  # noqa: F401 - re-exported
from . import jail, procs
from .isolation import Facts, Unavailable, choose_isolation
from .ledger import Ledger
from .records import ERROR_KINDS, FP_WARNINGS, CallResult, LineCount, Limits, SandboxError, caps

__all__ = ["Sandbox", "FunctionRef", "Unsendable", "CallResult", "LineCount", "Limits",
           "SandboxError", "ERROR_KINDS"]

_F_SETPIPE_SZ = 1031


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
            procs.kill_uid(self.uid)

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
    ``wait=False`` returns as soon as the worker is started, before it is ready (it imports
    numpy meanwhile): the first call, or ``ready()``, waits for it, and raises
    ``SandboxError`` if it never got ready, as the constructor does by default.
    ``copy=False`` gives student code ``submission_dir`` itself, read-only, instead of a copy
    of its modules: for a folder made for it that stays unchanged while the sandbox runs, as
    ``collect.submission``'s (then the submission is copied once, by intake).
    """

    def __init__(self, submission_dir, *, python: str | None = None, isolation: str = "auto",
                 limits: Limits | None = None, uid: int | None | bool = None,
                 landlock: bool = True, wait: bool = True, copy: bool = True):
        if isolation not in ("auto", "bubblewrap", "process"):
            raise ValueError(f"isolation must be auto, bubblewrap or process, not {isolation!r}")
        self.limits = limits or Limits()
        self._caps = caps(self.limits)
        self._python = os.path.abspath(python or sys.executable)
        self._lock = threading.RLock()
        self._st = _State()
        self._finalizer = weakref.finalize(self, _cleanup, self._st)
        self._next_id = 0
        self.ledger = Ledger(self.limits)
        self.worker_starts = 0
        self.start_seconds = None  # wall time of the last worker start
        self.worker_info: dict = {}
        self.landlock = bool(landlock)  # confine module children with Landlock if possible
        self.closed = False
        self._greeted = True  # the running worker's hello has been read
        try:
            self._setup(submission_dir, isolation, uid, copy)
            self._spawn()
            if wait:
                self.ready()
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

    @property
    def restarts(self) -> int:
        return self.ledger.restarts

    @property
    def deaths(self) -> list[str]:
        """Student processes that died abruptly (killed or crashed, not a failure of their
        own making such as an exception): a batch regrades to tell a kill from outside
        apart from what the code does to itself every time."""
        return self.ledger.deaths

    def _setup(self, submission_dir, isolation, uid, copy):
        submission_dir = os.path.abspath(os.fspath(submission_dir))
        if not os.path.isdir(submission_dir):
            raise SandboxError(f"no submission folder {submission_dir}")
        info = self._info = jail.runtime_info(self._python)
        st = self._st
        procs.sweep_orphans()
        st.root = tempfile.mkdtemp(prefix=f"{procs.ROOT_PREFIX}{os.getpid()}-")
        os.chmod(st.root, 0o711)
        rt, home = os.path.join(st.root, "runtime"), os.path.join(st.root, "home")
        sub = os.path.join(st.root, "submission") if copy else submission_dir
        for d in (sub, rt, home) if copy else (rt, home):
            os.mkdir(d)
            os.chmod(d, 0o755)
        if copy:  # the modules only: regular files named as Python modules
            for name in sorted(os.listdir(submission_dir)):
                src = os.path.join(submission_dir, name)
                if name.endswith(".py") and name[:-3].isidentifier() and os.path.isfile(src) \
                        and not os.path.islink(src):
                    shutil.copyfile(src, os.path.join(sub, name))
                    os.chmod(os.path.join(sub, name), 0o644)
        jail.copy_runtime(rt)
        self._sub, self._rt, self._home = sub, rt, home

        # who runs the student's code, and how isolated
        if uid is False or os.geteuid() != 0:
            st.uid = None
        elif uid is None:
            st.uid, st.uid_lock = procs.allocate_uid()
            procs.kill_uid(st.uid)  # leftovers of a grader that was killed
        else:
            st.uid, st.uid_lock = procs.allocate_uid(int(uid))
        needed = [info["executable"], info["real"], rt, sub] + list(info["paths"])
        bwrap = shutil.which("bwrap") or ("/usr/bin/bwrap" if os.path.exists("/usr/bin/bwrap")
                                         else None)
        facts = Facts(isolation, bwrap, st.uid,
                      jail.unreachable(needed, st.uid, st.uid) if st.uid else None,
                      os.getuid(), jail.Probes(bwrap, st.uid) if bwrap else {})
        try:
            plan = choose_isolation(facts)
        except Unavailable as e:
            raise SandboxError(str(e)) from None
        self._plan, self._bwrap = plan, bwrap
        self.isolation, self.isolation_detail = plan.level, plan.detail
        st.sweep_uid = plan.owns_uid and uid is None
        if plan.run_uid is None and st.uid_lock is not None:
            os.close(st.uid_lock)
            st.uid_lock = None
        st.uid = plan.run_uid
        if plan.level == "process" and st.uid:
            os.chown(home, st.uid, st.uid)
            os.chmod(home, 0o700)

    def _config(self, in_jail: bool) -> str:
        """The worker's configuration, sent once as its argument (``runtime/worker.py``'s
        ``Config``): where things are, every limit, the Landlock lists."""
        return json.dumps({
            "landlock": jail.landlock_paths(self._info, in_jail, self._rt, self._sub,
                                            self._home) if self.landlock else None,
            "site": self._info["site"],
            "submission": "/submission" if in_jail else self._sub,
            "tmp": "/tmp" if in_jail else self._home,
            "limits": dataclasses.asdict(self.limits),
            "caps": self._caps.as_dict(),
            "nproc": bool(self._st.uid),
            "kill_uid": bool(self._st.uid and self._st.sweep_uid and not in_jail),
            "parent": 0 if in_jail else os.getpid(),
        })

    def _command(self):
        st = self._st
        kw = dict(stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
        if st.uid:
            kw.update(user=st.uid, group=st.uid, extra_groups=[])
        if self.isolation == "bubblewrap":
            cmd = jail.bwrap_command(self._bwrap, self._info, self._plan.map_uid,
                                     self.limits.tmp_bytes, self._rt, self._sub,
                                     self._config(True))
            kw["env"] = {"PATH": "/usr/bin:/bin"}
            st.setsid = False
        else:
            cmd = jail.worker_command(self._info, self._rt, self._config(False))
            kw.update(env=jail.worker_env(self._home), cwd=self._home, start_new_session=True)
            st.setsid = True
        return cmd, kw

    def _start(self):
        self._spawn()
        self.ready()

    def ready(self) -> None:
        """Wait until the worker that was started is ready to serve calls (its hello);
        ``SandboxError`` if it is not within ``start_timeout``."""
        if self._greeted:
            return
        self._greeted = True
        st = self._st
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
        self.start_seconds = time.perf_counter() - self._spawned_at
        self.worker_info = hello
        if self.worker_starts == 1:
            self._confinement(hello.get("landlock"))

    def _spawn(self):
        st = self._st
        cmd, kw = self._command()
        if st.log is None:
            st.log = open(os.path.join(st.root, "worker.log"), "w+b")
        kw["stderr"] = st.log
        self._spawned_at = time.perf_counter()
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
        self._greeted = False

    def _confinement(self, ll) -> None:
        """Say in ``isolation_detail`` what Landlock the worker's first hello reported."""
        ll = ll[:300] if type(ll) is str else "not reported"
        if ll.startswith("Landlock"):
            if self._plan.plain_caveat:
                self.isolation_detail = self.isolation_detail.replace(self._plan.plain_caveat, "")
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
        why_not = self.ledger.restart()
        if why_not is not None:  # no new worker: what the last one left goes at close()
            return why_not
        if st.proc is not None:  # it died between calls: what it left goes before a new one
            st.kill_worker()
        try:
            self._start()
        except SandboxError as e:
            return str(e)
        return None

    # ------------------------------------------------------------------ lifecycle
    def hand_over(self):
        """Let the process forked from this one after the sandbox started use it (there:
        ``adopt``): here it is let go of without being stopped. Returns what ends it here
        once that process is done: it reaps the worker (only its parent can) and stops and
        removes whatever that process left behind."""
        st = self._st
        self._finalizer.detach()
        self.closed = True
        if st.proc is not None:
            for f in (st.proc.stdin, st.proc.stdout):
                f.close()  # the worker sees the end of its requests when the other process dies
        return functools.partial(_cleanup, st)

    def adopt(self):
        """Use a sandbox handed over (``hand_over``) by the process this one was forked from:
        its worker is watched through a pidfd from here, as it is that process's child."""
        if self._st.proc is not None:
            self._st.proc = procs.Adopted(self._st.proc)

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
             readonly: bool = False, count_refs: bool = False, kwargs: dict | None = None,
             **fkwargs) -> CallResult:
        """Call ``module.function(*args, **kwargs)`` in the sandbox.

        ``kwargs=`` passes keyword arguments whose names clash with ours (timeout, readonly).
        ``readonly=True`` makes every array argument read-only (truly: its buffer is).
        ``count_refs=True`` records every call the function makes of a ``FunctionRef`` it was
        given (``CallResult.ref_calls``: the size of each call's first argument, by name):
        work done, which no machine's load changes.
        """
        kw = dict(kwargs or {})
        kw.update(fkwargs)
        t = self.limits.call_timeout if timeout is None else float(timeout)
        return self._request("call", module, function, list(args), kw, t, readonly,
                             {"count_refs": True} if count_refs else {})

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
            self.ready()
            refusal = self.ledger.refusal(op, module, function)
            if refusal is not None:
                return self._fail(op, *refusal)
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
            # the worker reads the route only; the request itself goes to the child unread
            route = wire.pack({"op": op, "id": rid, "module": module, "timeout": timeout,
                               "ref_modules": bool(ref_modules)})
            frame = wire.pack(hdr, enc.blobs)
            if len(frame) > self._caps.max_frame_bytes:
                raise ValueError(f"arguments too large to send ({len(frame)} bytes)")
            why = self._ensure_worker()
            if why is not None:
                self.ledger.deaths.append(f"{module}.{function}: {why}")
                return self._fail(op, "crash", why)
            reply, blobs, phase = self._exchange(route, frame, rid, timeout, bool(ref_modules))
            if reply is None:  # the worker died or hung: ``blobs`` says how
                return self._worker_lost(op, module, function, blobs, phase)
            if op == "lines":
                res = self._line_count(reply)
            else:
                res = self._call_result(reply, blobs, enc.sent)
            self.ledger.replied(module, function, res.error_kind, res.error, res.output,
                                died=reply.get("died") is True,
                                module_failed=reply.get("module_failed") is True, timeout=timeout)
            return res

    def _exchange(self, route, frame, rid, timeout, has_refs):
        """Send a request (its route for the worker, then the frame for the module child), wait
        for its reply. (header, blobs, phase) or (None, why, phase)."""
        st = self._st
        lim = self.limits
        deadline = (time.monotonic() + timeout + lim.import_timeout * (2 if has_refs else 1)
                    + lim.grace + len(frame) / 50e6)
        phase = None
        try:
            wire.write_all(st.in_fd, route, deadline)
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
        return self._fail(op, *self.ledger.worker_lost(op, module, function, why, phase))

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
        aliases = h.get("aliases")
        res.aliases = aliases if type(aliases) is int and aliases >= 0 else 0
        calls = h.get("ref_calls")
        if type(calls) is dict:
            res.ref_calls = {k: [n for n in v if type(n) is int] for k, v in calls.items()
                             if type(k) is str and type(v) is list}
        w = h.get("warnings")
        res.warnings = sorted({x for x in w if x in FP_WARNINGS}) if type(w) is list else []
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
