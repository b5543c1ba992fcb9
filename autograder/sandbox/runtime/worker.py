"""The sandbox worker: the only process that runs student code (in children it forks).

Run as ``python -B -S worker.py CONFIG_JSON`` by the sandbox (``autograder/sandbox``), inside
bubblewrap or as a plain child process, as an unprivileged uid.  It imports only the standard
library, numpy and its runtime (``child.py``, ``landlock.py`` and ``wire.py``, copied next to
it); never the ``autograder`` package or the reference solutions.

Protocol: frames (see ``wire.py``) on fd 0 (requests from the grader) and fd 1 (replies);
the worker moves them to private fds at once and points fds 0/1 at /dev/null and stderr.
Each request and each child's reply comes after a small route frame, the only part the
worker reads: the request and the reply themselves are passed on unread (``Worker.handle``).

The worker keeps numpy warm and forks one child per student module on first use.  The child
starts a new session, sets its rlimits, sends fds 1 and 2 to a capture file, imports the
module and serves calls for it over a pair of pipes.  The worker enforces every wall-clock
limit from outside: a call past its timeout, or a child that dies, gets the child's process
group killed (SIGKILL), and the next call to that module forks a new child.  The worker is a
child subreaper, so processes a student detaches (setsid, double fork) come back to it and
are killed with the child.
"""

import json
import os
import sys

# The interpreter starts without its site module (-S, see jail.worker_command): the
# folders of its packages (numpy's) come in the configuration, after the standard library
# as site would put them; exit(), quit() and help() are what site would add to builtins.
sys.path += json.loads(sys.argv[1])["site"]
import site  # noqa: E402 - imported without being run: -S
site.setquit()
site.sethelper()

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
             "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ.setdefault(_var, "1")

import fcntl  # noqa: E402
import resource  # noqa: E402
import select  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402

_RUNTIME = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _RUNTIME)
import wire  # noqa: E402
from child import child_main, reply_frame  # noqa: E402
from landlock import (PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE, PR_SET_PDEATHSIG,  # noqa: E402
                      landlock, prctl)
from proc_table import processes  # noqa: E402

sys.path[:] = [p for p in sys.path if p not in (_RUNTIME, "")]
sys.dont_write_bytecode = True

import numpy as np  # noqa: E402

_perf = time.perf_counter
_mono = time.monotonic
_errstate = np.errstate
_F_SETPIPE_SZ = 1031

class Config:
    def __init__(self, raw):
        self.submission = raw["submission"]
        self.tmp = raw["tmp"]
        lim = raw["limits"]
        self.import_timeout = float(lim["import_timeout"])
        self.memory_bytes = int(lim["memory_bytes"])
        self.cpu_seconds = int(lim["cpu_seconds"])
        self.file_bytes = int(lim["file_bytes"])
        self.open_files = int(lim["open_files"])
        self.processes = int(lim["processes"])
        self.output_bytes = int(lim["output_bytes"])
        self.caps = wire.Caps(**raw["caps"])
        self.nproc = bool(raw.get("nproc"))
        # the uid is ours alone and there is no pid namespace: when the grader dies, kill
        # every process of the uid (kill(-1) as that uid), detached ones included
        self.kill_uid = bool(raw.get("kill_uid"))
        self.parent = int(raw.get("parent") or 0)
        # Landlock: what student code may read (and execute) and write; None: not applied
        ll = raw.get("landlock")
        self.landlock = None if not ll else (list(ll["read"]), list(ll["write"]))


CFG: Config = None  # set in main()
IN_FD = OUT_FD = -1


def _pipe():
    r, w = os.pipe()
    for fd in (r, w):
        try:
            fcntl.fcntl(fd, _F_SETPIPE_SZ, 1 << 20)
        except OSError:
            pass
    return r, w


def _nonblocking(fd):
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)


def send_to_grader(data):
    wire.write_all(OUT_FD, data)


def death_message(status, doing="during the call"):
    """(error_kind, message) for a child that ended with wait status ``status``."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        if sig == signal.SIGSEGV:
            return "crash", f"crashed with a segmentation fault (SIGSEGV) {doing}"
        if sig == signal.SIGBUS:
            return "crash", f"crashed with a bus error (SIGBUS) {doing}"
        if sig == signal.SIGABRT:
            return "crash", f"aborted (SIGABRT) {doing}"
        if sig == signal.SIGXCPU:
            return "timeout", f"used more than {CFG.cpu_seconds} s of CPU time {doing}"
        if sig == signal.SIGKILL:
            return "crash", f"was killed (SIGKILL) {doing}"
        return "crash", f"was killed by {name} {doing}"
    if os.WIFEXITED(status):
        return "crash", (f"exited {doing} (exit status {os.WEXITSTATUS(status)}: os._exit() "
                         f"or similar ended the process)")
    return "crash", f"ended the process {doing}"  # pragma: no cover


# ============================================================================ the worker


class ModuleProc:
    def __init__(self, module, pid, req_w, resp_r):
        self.module = module
        self.pid = pid
        self.req_w = req_w
        self.resp_r = resp_r
        try:
            self.pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self.pidfd = None
        self.status = None


class Worker:
    def __init__(self):
        self.children: dict = {}  # module -> ModuleProc
        self.by_pid: dict = {}  # pid -> ModuleProc
        self.failed: dict = {}  # module -> (kind, message, output)
        self.reaped: dict = {}  # pid -> status, for children reaped by a sweep
        self.pid = os.getpid()

    # -- processes
    def spawn(self, module):
        r1, w1 = _pipe()
        r2, w2 = _pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(w1)
                os.close(r2)
                child_main(module, r1, w2, self.pid, CFG)
            except BaseException:  # noqa: BLE001
                try:
                    traceback.print_exc()
                finally:
                    os._exit(70)
            os._exit(70)
        os.close(r1)
        os.close(w2)
        _nonblocking(w1)
        _nonblocking(r2)
        mp = ModuleProc(module, pid, w1, r2)
        self.by_pid[pid] = mp
        return mp

    def wait_frame(self, mp, deadline):
        """('frame', payload) | ('dead', status) | ('timeout', None) | ('bad', message)."""
        poller = select.poll()
        poller.register(mp.resp_r, select.POLLIN)
        if mp.pidfd is not None:
            poller.register(mp.pidfd, select.POLLIN)
        while True:
            left = deadline - _mono()
            if left <= 0:
                return "timeout", None
            events = dict(poller.poll(min(left, 0.05 if mp.pidfd is None else left) * 1000 + 1))
            if events.get(mp.resp_r):
                try:
                    # the reply is complete once its first byte is here, unless the child is
                    # hostile: give the transfer a little more time than the call had
                    payload = wire.read_frame(mp.resp_r, CFG.caps.max_frame_bytes + (1 << 20),
                                              max(deadline, _mono() + 2.0))
                    return "frame", payload
                except EOFError:
                    return "dead", self.kill(mp)
                except TimeoutError:
                    return "timeout", None
                except wire.WireError as e:
                    self.kill(mp)
                    return "bad", str(e)
            if mp.pidfd is not None and events.get(mp.pidfd):
                return "dead", self.kill(mp)
            if mp.pidfd is None:
                try:
                    pid, status = os.waitpid(mp.pid, os.WNOHANG)
                except ChildProcessError:
                    pid, status = mp.pid, self.reaped.pop(mp.pid, 0)
                if pid:
                    mp.status = status
                    return "dead", self.kill(mp)

    def kill(self, mp):
        """Kill a module child's whole process group; returns its wait status."""
        for f in (os.killpg, os.kill):
            try:
                f(mp.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if mp.status is None:
            if mp.pid in self.reaped:
                mp.status = self.reaped.pop(mp.pid)
            else:
                try:
                    mp.status = os.waitpid(mp.pid, 0)[1]
                except ChildProcessError:
                    mp.status = self.reaped.pop(mp.pid, 0)
        for fd in (mp.req_w, mp.resp_r, mp.pidfd):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        mp.req_w = mp.resp_r = mp.pidfd = None
        self.by_pid.pop(mp.pid, None)
        if self.children.get(mp.module) is mp:
            del self.children[mp.module]
        self.sweep()
        return mp.status

    def reap(self):
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            mp = self.by_pid.get(pid)
            if mp is not None:
                mp.status = status
            else:
                self.reaped[pid] = status

    def sweep(self):
        """Kill processes that were re-parented to us (we are a subreaper): what a killed
        child left behind, detached with setsid or a double fork."""
        for _ in range(200):
            self.reap()
            strays = [p.pid for p in processes()
                      if p.ppid == self.pid and p.pid not in self.by_pid]
            if not strays:
                return
            for p in strays:
                try:
                    os.kill(p, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.001)

    def shutdown(self):
        for mp in list(self.children.values()):
            self.kill(mp)
        self.sweep()

    # -- requests
    def child_for(self, module, cid):
        """The live child for ``module`` or a reply frame saying why there is none."""
        mp = self.children.get(module)
        if mp is not None:
            return mp, None
        if module in self.failed:
            kind, msg, out = self.failed[module]
            return None, reply_frame({"id": cid, "error_kind": kind, "error": msg,
                                      "output": out, "module_failed": True})
        if not os.path.isfile(os.path.join(CFG.submission, module + ".py")):
            return None, reply_frame({"id": cid, "error_kind": "missing",
                                      "error": f"no module {module}.py in the submission",
                                      "module_failed": True})
        send_to_grader(wire.pack({"event": "loading", "module": module}))
        mp = self.spawn(module)
        what, data = self.wait_frame(mp, _mono() + CFG.import_timeout)
        fail = None
        if what == "frame":
            try:
                hdr, _ = wire.unpack(data)
            except wire.WireError as e:
                hdr = {"ready": False, "error": _interfered(module, e), "kind": "import"}
            if hdr.get("ready") is True:
                self.children[module] = mp
                send_to_grader(wire.pack({"event": "loaded", "module": module}))
                return mp, None
            self.kill(mp)
            fail = (hdr.get("kind") if hdr.get("kind") in ("import", "memory") else "import",
                    str(hdr.get("error"))[:2000], str(hdr.get("output", ""))[:CFG.output_bytes])
        elif what == "timeout":
            self.kill(mp)
            fail = ("import", f"importing {module}.py took longer than "
                              f"{CFG.import_timeout:g} s (timed out)", "")
        elif what == "dead":
            fail = ("import", death_message(data, f"while importing {module}.py")[1], "")
        else:
            fail = ("import", _interfered(module, data), "")
        self.failed[module] = fail
        send_to_grader(wire.pack({"event": "loaded", "module": module}))
        return None, reply_frame({"id": cid, "error_kind": fail[0], "error": fail[1],
                                  "output": fail[2], "module_failed": True,
                                  "died": what == "dead"})

    def handle(self, route):
        """Serve one request; False when the grader asked us to exit (or its pipe broke).

        A request is a route (op, id, module, timeout: read here) and, for a call or a line
        count, the frame for the module child, passed on unread. A reply is the child's route
        (its id: read here, checked against the request's) and its reply, passed on unread."""
        try:
            hdr, _ = wire.unpack(route)
        except wire.WireError as e:
            send_to_grader(reply_frame({"id": None, "error_kind": "crash",
                                        "error": f"bad request ({e})"}))
            return True
        op = hdr.get("op")
        cid = hdr.get("id")
        if op == "exit":
            return False
        if op == "ping":
            send_to_grader(wire.pack({"id": cid, "ok": True, "pong": True}))
            return True
        try:
            payload = wire.read_frame(IN_FD, CFG.caps.max_frame_bytes + (1 << 20))
        except (EOFError, OSError, wire.WireError):
            return False
        module = str(hdr.get("module"))
        if not module.isidentifier():
            send_to_grader(reply_frame({"id": cid, "error_kind": "missing",
                                        "error": f"bad module name {module!r}"}))
            return True
        mp, err = self.child_for(module, cid)
        if err is not None:
            send_to_grader(err)
            return True
        timeout = float(hdr.get("timeout", 2.0))
        extra = CFG.import_timeout if hdr.get("ref_modules") else 0.0
        deadline = _mono() + timeout + extra + len(payload) / 200e6
        try:
            wire.write_all(mp.req_w, wire.prefix(len(payload)), deadline)
            wire.write_all(mp.req_w, payload, deadline)
        except (TimeoutError, BrokenPipeError, OSError):
            pass  # the wait below tells a dead child from a hung one
        del payload
        what, data = self.wait_frame(mp, deadline)
        good = False
        if what == "frame":
            try:
                good = wire.unpack(data)[0].get("id") == cid
            except wire.WireError:
                pass
            if good:
                what, data = self.wait_frame(mp, deadline)
        if what == "frame" and good:
            send_to_grader(wire.prefix(len(data)))
            send_to_grader(data)
        elif what == "frame":
            self.kill(mp)
            send_to_grader(reply_frame({"id": cid, "error_kind": "bad-output",
                                        "error": "wrote something other than its result "
                                                 "to the grader's pipe"}))
        elif what == "timeout":
            self.kill(mp)
            send_to_grader(reply_frame({"id": cid, "error_kind": "timeout",
                                        "error": f"did not finish within {timeout:g} s "
                                                 f"(timed out)", "seconds": timeout}))
        elif what == "dead":
            kind, msg = death_message(data)
            send_to_grader(reply_frame({"id": cid, "error_kind": kind, "error": msg}))
        else:
            send_to_grader(reply_frame({"id": cid, "error_kind": "bad-output",
                                        "error": f"sent back a malformed result ({data})"}))
        self.reap()
        return True


def _landlock_probe() -> str:
    """What ``landlock`` would apply in a child (tried in a throwaway fork)."""
    if CFG.landlock is None:
        return "off"
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.write(w, landlock(*CFG.landlock).encode()[:500])
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        got = f.read().decode("utf-8", "replace")
    os.waitpid(pid, 0)
    if not got.startswith("Landlock"):
        CFG.landlock = None  # not here: the children run without it (the grader says so)
    return got or "not applied (the probe died)"


def _interfered(module, detail) -> str:
    return (f"{module}.py interfered with the sandbox while importing: what came back could "
            f"not be read ({detail}). Don't replace Python's or numpy's own functions "
            "(builtins, json, numpy internals) in your module")


def _kill_everything(*_):
    """Kill every process of our (dedicated) uid but us, then exit."""
    if CFG is not None and CFG.kill_uid and os.getuid() != 0:
        for _ in range(3):
            try:
                os.kill(-1, signal.SIGKILL)
            except OSError:
                break
    os._exit(0)


def main():
    global CFG, IN_FD, OUT_FD
    t0 = _perf()
    CFG = Config(json.loads(sys.argv[1]))
    IN_FD = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 10)
    OUT_FD = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 10)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)

    if CFG.kill_uid:
        signal.signal(signal.SIGTERM, _kill_everything)
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    else:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if CFG.parent and os.getppid() != CFG.parent:
        _kill_everything()
    prctl(PR_SET_DUMPABLE, 0)  # no ptrace or /proc/PID/mem from the children
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # warm numpy's most used paths so the first forked child doesn't pay for them
    with _errstate(all="ignore"):
        z = np.linspace(-3.0, 3.0, 64)
        np.exp(-np.abs(z))
        np.tanh(z), np.maximum(z, 0), np.where(z > 0, z, 0.1 * z), np.allclose(z, z)
        wire.load_array(wire.array_blob(z), CFG.caps)
    w = Worker()
    send_to_grader(wire.pack({"event": "hello", "pid": os.getpid(), "uid": os.getuid(),
                              "landlock": _landlock_probe(),
                              "numpy": np.__version__, "python": sys.version.split()[0],
                              "seconds": _perf() - t0}))
    try:
        while True:
            try:
                route = wire.read_frame(IN_FD, 1 << 16)
            except (EOFError, OSError, wire.WireError):
                break
            if not w.handle(route):
                break
    finally:
        w.shutdown()
    if CFG.kill_uid:
        _kill_everything()
    os._exit(0)


if __name__ == "__main__":
    main()
