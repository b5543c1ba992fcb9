"""The sandbox worker: the only process that runs student code (in children it forks).

Run as ``python -B -s worker.py CONFIG_JSON`` by ``sandbox.py``, inside bubblewrap or as a
plain child process, as an unprivileged uid.  It imports only the standard library, numpy and
``wire.py`` (copied next to it); never the ``autograder`` package or the reference solutions.

Protocol: frames (see ``wire.py``) on fd 0 (requests from the grader) and fd 1 (replies);
the worker moves them to private fds at once and points fds 0/1 at /dev/null and stderr.

The worker keeps numpy warm and forks one child per student module on first use.  The child
starts a new session, sets its rlimits, sends fds 1 and 2 to a capture file, imports the
module and serves calls for it over a pair of pipes.  The worker enforces every wall-clock
limit from outside: a call past its timeout, or a child that dies, gets the child's process
group killed (SIGKILL), and the next call to that module forks a new child.  The worker is a
child subreaper, so processes a student detaches (setsid, double fork) come back to it and
are killed with the child.
"""

import os
import sys

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
             "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ.setdefault(_var, "1")

import ctypes  # noqa: E402
import fcntl  # noqa: E402
import importlib  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import select  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402

_RUNTIME = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _RUNTIME)
import wire  # noqa: E402

sys.path[:] = [p for p in sys.path if p not in (_RUNTIME, "")]
sys.dont_write_bytecode = True

import numpy as np  # noqa: E402

_perf = time.perf_counter
_mono = time.monotonic
_errstate, _seed = np.errstate, np.random.seed
_settrace, _gettrace = sys.settrace, sys.gettrace  # taken before student code can replace them

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
_F_SETPIPE_SZ = 1031

try:
    _libc = ctypes.CDLL(None, use_errno=True)
    _prctl = _libc.prctl
    _prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                       ctypes.c_ulong]
except (OSError, AttributeError):  # pragma: no cover - not glibc
    _prctl = None


def prctl(option, arg):
    if _prctl is not None:
        _prctl(option, arg, 0, 0, 0)


_FP_KINDS = (("overflow", "overflow"), ("invalid", "invalid"), ("divide", "divide"))


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


def reply_frame(header, blobs=()):
    base = {"ok": False, "value": None, "type_name": None, "error": None, "error_kind": None,
            "warnings": [], "output": "", "seconds": 0.0, "args_after": [], "kwargs_after": None}
    base.update(header)
    return wire.pack(base, blobs)


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


# ============================================================================ Landlock

_LL_EXECUTE, _LL_WRITE_FILE, _LL_READ_FILE, _LL_READ_DIR = 1, 2, 4, 8
_LL_TRUNCATE, _LL_IOCTL_DEV = 1 << 14, 1 << 15
_LL_FILE_RIGHTS = _LL_EXECUTE | _LL_WRITE_FILE | _LL_READ_FILE | _LL_TRUNCATE | _LL_IOCTL_DEV
_LL_READ = _LL_EXECUTE | _LL_READ_FILE | _LL_READ_DIR
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
PR_SET_NO_NEW_PRIVS = 38


def landlock(read, write) -> str:
    """Restrict this process and its future children with Landlock (Linux >= 5.13): read
    and execute only under ``read``, write only under ``write`` (and to /dev's devices);
    no TCP (ABI >= 4); no signals to, or abstract sockets of, processes outside this
    domain (ABI >= 6: not the worker, not the grader). Returns what was applied, or why not.
    """
    import struct

    if _prctl is None:
        return "not applied (no libc)"
    sc = _libc.syscall
    sc.restype = ctypes.c_long
    abi = sc(ctypes.c_long(_SYS_CREATE_RULESET), None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if abi < 1:
        return f"not available here ({os.strerror(ctypes.get_errno())})"
    handled = (1 << 13) - 1
    for need, bit in ((2, 1 << 13), (3, _LL_TRUNCATE), (5, _LL_IOCTL_DEV)):
        if abi >= need:
            handled |= bit
    net = 3 if abi >= 4 else 0  # LANDLOCK_ACCESS_NET_BIND_TCP | CONNECT_TCP
    scoped = 3 if abi >= 6 else 0  # LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | SIGNAL
    attr = struct.pack("=QQQ", handled, net, scoped)[:8 if abi < 4 else 16 if abi < 6 else 24]
    buf = ctypes.create_string_buffer(attr, len(attr))
    rfd = sc(ctypes.c_long(_SYS_CREATE_RULESET), buf, ctypes.c_size_t(len(attr)),
             ctypes.c_uint32(0))
    if rfd < 0:
        return f"not applied ({os.strerror(ctypes.get_errno())})"
    rules = [(p, _LL_READ) for p in read] + [(p, handled) for p in write]
    rules.append(("/dev", _LL_READ | _LL_WRITE_FILE | (handled & _LL_IOCTL_DEV)))
    try:
        for path, access in rules:
            try:
                pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                import stat as _stat
                if not _stat.S_ISDIR(os.fstat(pfd).st_mode):
                    access &= _LL_FILE_RIGHTS
                rule = ctypes.create_string_buffer(struct.pack("=Qi", access & handled, pfd), 12)
                if sc(ctypes.c_long(_SYS_ADD_RULE), ctypes.c_int(rfd), ctypes.c_int(1), rule,
                      ctypes.c_uint32(0)) != 0:
                    return f"not applied (rule for {path}: {os.strerror(ctypes.get_errno())})"
            finally:
                os.close(pfd)
        prctl(PR_SET_NO_NEW_PRIVS, 1)
        if sc(ctypes.c_long(_SYS_RESTRICT_SELF), ctypes.c_int(rfd), ctypes.c_uint32(0)) != 0:
            return f"not applied ({os.strerror(ctypes.get_errno())})"
    finally:
        os.close(rfd)
    what = "files" + (", TCP" if net else "") + (", signals" if scoped else "")
    return f"Landlock ABI {abi} ({what})"


# ============================================================================ the child


class RefFailure(Exception):
    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind
        self.message = message


def _where(tb) -> str:
    """' (activations.py, line 12)' for the deepest frame in the submission, or ''."""
    best = ""
    for fr in traceback.extract_tb(tb):
        if fr.filename and os.path.dirname(os.path.abspath(fr.filename)) == CFG.submission:
            best = f" ({os.path.basename(fr.filename)}, line {fr.lineno})"
    return best


def _exc_text(e: BaseException) -> str:
    try:
        msg = str(e)
    except BaseException:  # noqa: BLE001 - student __str__ can do anything
        msg = "<unprintable>"
    msg = msg.strip().replace("\n", " ")
    if len(msg) > 300:
        msg = msg[:300] + "..."
    name = type(e).__name__
    return f"{name}: {msg}" if msg else name


class Child:
    """State inside a forked module child."""

    def __init__(self, module, req_fd, resp_fd, cap_fd):
        self.module_name = module
        self.req_fd = req_fd
        self.resp_fd = resp_fd
        self.cap_fd = cap_fd
        self.module = None
        self.orig_streams = (sys.stdout, sys.stderr)

    # -- output capture
    def reset_output(self):
        # truncate, flush what an earlier call left in Python's buffers (a flush can fail
        # once the file reached RLIMIT_FSIZE), and truncate again: each call starts empty
        for flush in (False, True):
            if flush:
                self.flush()
            try:
                os.ftruncate(self.cap_fd, 0)
                os.lseek(self.cap_fd, 0, os.SEEK_SET)
            except OSError:
                pass

    def flush(self):
        for s in (sys.stdout, sys.stderr) + self.orig_streams:
            try:
                s.flush()
            except BaseException:  # noqa: BLE001
                pass

    def output(self) -> str:
        self.flush()
        try:
            size = os.fstat(self.cap_fd).st_size
            data = os.pread(self.cap_fd, CFG.output_bytes, 0)
        except OSError:
            return ""
        text = data.decode("utf-8", "replace")
        if size > len(data):
            text += f"\n... [{size - len(data)} more bytes of output not shown]"
        return text

    # -- importing
    def load(self, name):
        """Import a student module by name from the submission folder."""
        path = os.path.join(CFG.submission, name + ".py")
        mod = sys.modules.get(name)
        if mod is not None and getattr(mod, "__file__", None) == path:
            return mod
        if mod is None:
            mod = importlib.import_module(name)
            if getattr(mod, "__file__", None) == path:
                return mod
        # a module of that name was already imported from elsewhere (e.g. the stdlib)
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        return mod

    def import_error(self, name, e) -> str:
        if isinstance(e, SyntaxError) and not isinstance(e, ImportError):
            where = os.path.basename(e.filename or name + ".py")
            return f"{where} has a syntax error: {e.msg} (line {e.lineno})"
        if isinstance(e, MemoryError):
            return f"ran out of memory while importing {name}.py"
        if isinstance(e, SystemExit):
            return f"called sys.exit({e.code!r}) while importing {name}.py"
        return f"importing {name}.py raised {_exc_text(e)}{_where(e.__traceback__)}"

    def resolve_ref(self, ref):
        mod_name, fn_name = ref.module, ref.function
        if mod_name == "numpy" or mod_name.startswith("numpy."):
            obj = np
            for part in ref.name.split(".")[1:]:
                obj = getattr(obj, part, None)
            if obj is None or not callable(obj):
                raise RefFailure("missing", f"{ref.name} is not a numpy function")
            return obj
        if "." in mod_name or not os.path.isfile(os.path.join(CFG.submission, mod_name + ".py")):
            raise RefFailure("missing", f"no module {mod_name}.py in the submission "
                                        f"(needed for {ref.name})")
        try:
            mod = self.load(mod_name)
        except BaseException as e:  # noqa: BLE001
            if isinstance(e, MemoryError):
                raise RefFailure("memory", self.import_error(mod_name, e)) from None
            raise RefFailure("import", self.import_error(mod_name, e)) from None
        fn = getattr(mod, fn_name, None)
        if fn is None:
            raise RefFailure("missing", f"{mod_name}.py has no function {fn_name}")
        if not callable(fn):
            raise RefFailure("missing", f"{ref.name} is {wire.describe(fn)}, not a function")
        return fn

    def lookup(self, name):
        fn = getattr(self.module, name, None)
        if fn is None:
            return None, f"{self.module_name}.py has no function {name}"
        if not callable(fn):
            return None, f"{self.module_name}.{name} is {wire.describe(fn)}, not a function"
        return fn, None

    # -- serving
    def serve(self):
        while True:
            try:
                payload = wire.read_frame(self.req_fd, CFG.caps.max_frame_bytes)
            except (EOFError, OSError, wire.WireError):
                os._exit(0)
            try:
                hdr, blobs = wire.unpack(payload)
                if hdr.get("op") == "lines":
                    out = self.do_lines(hdr, blobs)
                else:
                    out = self.do_call(hdr, blobs)
            except MemoryError:
                out = reply_frame({"id": _safe_id(payload), "error_kind": "memory",
                                   "error": "ran out of memory"})
            except Exception as e:  # noqa: BLE001 - a bad request, or code that broke ours
                out = reply_frame({"id": _safe_id(payload), "error_kind": "crash",
                                   "error": f"the sandbox could not run the call "
                                            f"({_exc_text(e)})"})
            del payload
            wire.write_all(self.resp_fd, out)

    def _prepare(self, hdr, blobs, readonly):
        dec = wire.Decoder(blobs, CFG.caps, allow={"s", "fn"}, readonly=readonly,
                           copy=not readonly, resolve_ref=self.resolve_ref)
        args = dec.decode(hdr.get("args", []))
        kwargs = dec.decode(hdr.get("kwargs", {"d": []}))
        if type(args) is not list or type(kwargs) is not dict or any(
                type(k) is not str for k in kwargs):
            raise wire.WireError("bad arguments")
        return dec, args, kwargs

    def do_call(self, hdr, blobs):
        cid = hdr.get("id")
        readonly = bool(hdr.get("readonly"))
        try:
            dec, args, kwargs = self._prepare(hdr, blobs, readonly)
        except RefFailure as e:
            return reply_frame({"id": cid, "error_kind": e.kind, "error": e.message})
        fn, err = self.lookup(str(hdr.get("function")))
        if fn is None:
            return reply_frame({"id": cid, "error_kind": "missing", "error": err})
        fp = set()

        def on_fp(kind, flag):
            fp.add(kind)

        self.reset_output()
        random.seed(0)
        _seed(0)
        exc = None
        value = None
        t0 = _perf()
        try:
            with _errstate(over="call", invalid="call", divide="call", under="ignore",
                           call=on_fp):
                value = fn(*args, **kwargs)
        except BaseException as e:  # noqa: BLE001 - SystemExit, KeyboardInterrupt too
            exc = e
        seconds = _perf() - t0
        out = {"id": cid, "seconds": seconds, "output": self.output(),
               "warnings": sorted({k for k, word in _FP_KINDS for f in fp if word in f})}
        enc = wire.Encoder(CFG.caps, "result")
        if exc is not None:
            if isinstance(exc, MemoryError):
                out.update(error_kind="memory", error=f"ran out of memory (the limit is "
                           f"{CFG.memory_bytes / 2**30:.1f} GB){_where(exc.__traceback__)}")
            elif isinstance(exc, SystemExit):
                out.update(error_kind="crash", error=f"called sys.exit({exc.code!r})"
                           f"{_where(exc.__traceback__)}")
            elif isinstance(exc, OSError) and exc.errno == 27:  # EFBIG
                out.update(error_kind="exception", error=f"printed or wrote more than the "
                           f"{CFG.file_bytes >> 20} MB allowed")
            else:
                out.update(error_kind="exception",
                           error=f"raised {_exc_text(exc)}{_where(exc.__traceback__)}")
            exc = None
        else:
            out["type_name"] = type(value).__name__
            try:
                out["value"] = enc.encode(value)
                out["ok"] = True
            except wire.BadValue as e:
                out.update(error_kind="bad-output", error=str(e))
                enc.blobs.clear()
            except MemoryError:
                out.update(error_kind="memory", error="ran out of memory sending the result back")
                enc.blobs.clear()
            except BaseException as e:  # noqa: BLE001 - e.g. a value whose methods misbehave
                out.update(error_kind="bad-output",
                           error=f"returned a value that could not be sent back ({_exc_text(e)})")
                enc.blobs.clear()
        value = None
        enc.mode = "after"
        enc.same, enc.refs = dec.arrays, dec.refs
        after = []
        for a in args:
            after.append(self._after(enc, a))
        out["args_after"] = after
        out["kwargs_after"] = {"d": [[k, self._after(enc, v)] for k, v in kwargs.items()]}
        return reply_frame(out, enc.blobs)

    @staticmethod
    def _after(enc, v):
        n = len(enc.blobs)
        try:
            return enc.encode(v)
        except BaseException as e:  # noqa: BLE001
            del enc.blobs[n:]
            return {"u": str(e)[:300] if isinstance(e, wire.BadValue) else wire.describe(v)}

    def do_lines(self, hdr, blobs):
        """Call ``function(x, *args)`` once per ``x`` in the first argument (a list of inputs)
        and count, for each call, the Python line events executed in the submission's own
        code. Counted: code whose file is in the submission folder, and code compiled from a
        string (exec, eval); numpy's and the standard library's own Python code is not. A count
        is the same on an idle and on a busy machine."""
        cid = hdr.get("id")
        readonly = bool(hdr.get("readonly", True))
        try:
            _dec, args, kwargs = self._prepare(hdr, blobs, readonly)
        except RefFailure as e:
            return reply_frame({"id": cid, "error_kind": e.kind, "error": e.message})
        fn, err = self.lookup(str(hdr.get("function")))
        if fn is None:
            return reply_frame({"id": cid, "error_kind": "missing", "error": err})
        if not args or type(args[0]) is not list:
            raise wire.WireError("bad inputs to count lines on")
        self.reset_output()
        counts = []
        with _errstate(all="ignore"):
            for x in args[0]:
                random.seed(0)
                _seed(0)
                counter = _LineCounter(CFG.submission)
                try:
                    counter.start()
                    try:
                        fn(x, *args[1:], **kwargs)
                    finally:
                        tampered = counter.stop()
                except BaseException as e:  # noqa: BLE001
                    kind = "memory" if isinstance(e, MemoryError) else "exception"
                    return reply_frame({"id": cid, "error_kind": kind, "output": self.output(),
                                        "error": f"raised {_exc_text(e)}{_where(e.__traceback__)}"})
                if tampered:
                    return reply_frame({"id": cid, "error_kind": "exception",
                                        "output": self.output(),
                                        "error": "changed the line tracer (sys.settrace) the "
                                                 "grader counts lines with"})
                counts.append(counter.lines)
        return reply_frame({"id": cid, "ok": True, "lines": counts, "output": self.output()})


class _LineCounter:
    """Counts line events (``sys.settrace``) in the submission's code: a frame of code whose
    file is in ``folder``, or whose "file" is a string's (``<string>``), gets a local tracer
    that counts; every other frame (numpy, the standard library) gets none, so costs one
    call event."""

    def __init__(self, folder: str):
        self.folder = folder
        self.lines = 0
        self._ours: dict = {}

    def _counted(self, filename: str) -> bool:
        ours = self._ours.get(filename)
        if ours is None:
            # plain string methods: student code may have replaced os.path's functions
            ours = self._ours[filename] = (filename.startswith("<")
                                           or filename.rpartition("/")[0] == self.folder)
        return ours

    def _local(self, frame, event, arg):
        if event == "line":
            self.lines += 1
        return self._local

    def _global(self, frame, event, arg):
        if event == "call" and self._counted(frame.f_code.co_filename):
            return self._local
        return None

    def start(self) -> None:
        _settrace(self._global)

    def stop(self) -> bool:
        """Stop counting; True if the code replaced or removed the tracer meanwhile."""
        tampered = _gettrace() != self._global
        _settrace(None)
        return tampered


def _safe_id(payload):
    try:
        return wire.unpack(payload)[0].get("id")
    except Exception:  # noqa: BLE001
        return None


def child_main(module, req_fd, resp_fd, worker_pid):
    """Runs in the forked child; never returns."""
    os.setsid()
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != worker_pid:
        os._exit(0)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    cap_path = os.path.join(CFG.tmp, f".output-{os.getpid()}")
    cap_fd = os.open(cap_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    os.unlink(cap_path)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(cap_fd, 1)
    os.dup2(cap_fd, 2)
    os.close(null)
    keep = sorted({0, 1, 2, req_fd, resp_fd, cap_fd})
    lo = 3
    for fd in keep:
        if fd >= lo:
            os.closerange(lo, fd)
            lo = fd + 1
    os.closerange(lo, 1 << 16)

    def lim(which, value):
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass

    lim(resource.RLIMIT_CORE, 0)
    lim(resource.RLIMIT_AS, CFG.memory_bytes)
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (CFG.cpu_seconds, CFG.cpu_seconds + 5))
    except (ValueError, OSError):
        pass
    lim(resource.RLIMIT_FSIZE, CFG.file_bytes)
    lim(resource.RLIMIT_NOFILE, CFG.open_files)
    if CFG.nproc:
        lim(resource.RLIMIT_NPROC, CFG.processes)

    if CFG.landlock is not None:
        got = landlock(*CFG.landlock)
        if not got.startswith("Landlock"):
            # the grader asked for it and it worked in the probe: refuse to run unconfined
            wire.write_all(resp_fd, wire.pack({"ready": False, "kind": "import", "output": "",
                                               "error": f"the sandbox could not confine "
                                                        f"{module}.py: Landlock {got}"}))
            os._exit(0)
    os.chdir(CFG.tmp)
    sys.path[:] = [CFG.submission] + sys.path
    sys.modules.pop("wire", None)  # a student module may be called wire
    child = Child(module, req_fd, resp_fd, cap_fd)
    random.seed(0)
    _seed(0)
    try:
        child.module = child.load(module)
    except BaseException as e:  # noqa: BLE001
        kind = "memory" if isinstance(e, MemoryError) else "import"
        msg = child.import_error(module, e)
        out = child.output()
        try:
            wire.write_all(resp_fd, wire.pack({"ready": False, "error": msg, "kind": kind,
                                               "output": out}))
        finally:
            os._exit(0)
    child.output()
    wire.write_all(resp_fd, wire.pack({"ready": True}))
    child.serve()
    os._exit(0)


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
                child_main(module, r1, w2, self.pid)
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
            strays = [p for p in _children_of(self.pid) if p not in self.by_pid]
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

    def handle(self, payload):
        """Serve one request; False when the grader asked us to exit."""
        try:
            hdr, _ = wire.unpack(payload)
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
        if what == "frame":
            try:
                rh, _ = wire.unpack(data)
                good = rh.get("id") == cid
            except wire.WireError:
                good = False
            if good:
                send_to_grader(wire.prefix(len(data)))
                send_to_grader(data)
            else:
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


def _children_of(ppid):
    out = []
    try:
        names = os.listdir("/proc")
    except OSError:  # pragma: no cover
        return out
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        try:
            fields = stat.rsplit(b")", 1)[1].split()
            if int(fields[1]) == ppid:
                out.append(int(name))
        except (IndexError, ValueError):
            continue
    return out


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
                payload = wire.read_frame(IN_FD, CFG.caps.max_frame_bytes + (1 << 20))
            except (EOFError, OSError, wire.WireError):
                break
            if not w.handle(payload):
                break
    finally:
        w.shutdown()
    if CFG.kill_uid:
        _kill_everything()
    os._exit(0)


if __name__ == "__main__":
    main()
