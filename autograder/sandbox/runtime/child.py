"""The module child: imports one student module and serves calls to it (runtime).

Forked by the worker (``worker.py``) once per student module, it starts a new session, sets
its rlimits and Landlock, sends fds 1 and 2 to a capture file, imports the module and
answers call and line-count requests over a pair of pipes, until the worker kills it.
Every value goes back as plain data (``wire``); nothing the module does reaches the grader
otherwise.
"""
import functools
import importlib
import importlib.util
import os
import random
import resource
import signal
import sys
import time
import traceback

import numpy as np

import wire
from landlock import PR_SET_PDEATHSIG, landlock, prctl

_perf = time.perf_counter
_errstate, _seed = np.errstate, np.random.seed
_may_share = np.may_share_memory
_settrace, _gettrace = sys.settrace, sys.gettrace  # taken before student code can replace them

_FP_KINDS = (("overflow", "overflow"), ("invalid", "invalid"), ("divide", "divide"))

CFG = None  # the worker's Config, set in child_main


def _aliases(value, inputs, limit=10_000) -> int:
    """How many arrays in a returned value share memory with an array argument (the grader
    only ever sees copies, so only here can "new arrays, not aliases" be checked). Walks
    plain lists, tuples and dicts only, and at most ``limit`` items."""
    todo, seen, n = [value], 0, 0
    inputs = [a for a in inputs if type(a) is np.ndarray]
    while todo and seen < limit and inputs:
        v = todo.pop()
        seen += 1
        t = type(v)
        if t is np.ndarray:
            n += any(_may_share(v, a) for a in inputs)
        elif t in (list, tuple):
            todo.extend(list.__iter__(v) if t is list else tuple.__iter__(v))
        elif t is dict:
            todo.extend(dict.values(v))
    return n


REF_CALLS_KEPT = 10_000  # sizes recorded per counted function, at most


def reply_frame(header, blobs=()):
    base = {"ok": False, "value": None, "type_name": None, "error": None, "error_kind": None,
            "warnings": [], "output": "", "seconds": 0.0, "args_after": [], "kwargs_after": None}
    base.update(header)
    return wire.pack(base, blobs)



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
        self.ref_calls = None  # name -> sizes of the first argument, while a call counts
        self.orig_streams = (sys.stdout, sys.stderr)
        self.pid = os.getpid()

    def quit_if_copy(self):
        """A process the student forked returns from their code as a copy of us: it must not
        answer (a second reply would be read as the next call's) nor take requests."""
        if os.getpid() != self.pid:
            os._exit(0)

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
        fn = self._resolve_ref(ref)
        if self.ref_calls is None:
            return fn
        sizes = self.ref_calls.setdefault(ref.name, [])

        @functools.wraps(fn)
        def counted(*args, **kwargs):
            if len(sizes) < REF_CALLS_KEPT:
                try:
                    sizes.append(int(np.size(args[0])) if args else -1)
                except Exception:  # noqa: BLE001 - the student's own odd argument
                    sizes.append(-1)
            return fn(*args, **kwargs)
        return counted

    def _resolve_ref(self, ref):
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
            rid = None
            try:
                hdr, blobs = wire.unpack(payload)
                rid = hdr.get("id")
                if hdr.get("op") == "lines":
                    out = self.do_lines(hdr, blobs)
                else:
                    out = self.do_call(hdr, blobs)
            except MemoryError:
                rid = _safe_id(payload) if rid is None else rid
                out = reply_frame({"id": rid, "error_kind": "memory", "error": "ran out of memory"})
            except Exception as e:  # noqa: BLE001 - a bad request, or code that broke ours
                rid = _safe_id(payload) if rid is None else rid
                out = reply_frame({"id": rid, "error_kind": "crash",
                                   "error": f"the sandbox could not run the call "
                                            f"({_exc_text(e)})"})
            del payload
            self.quit_if_copy()
            # the route, for the worker (which passes the reply on unread), then the reply
            wire.write_all(self.resp_fd, wire.pack({"id": rid}))
            wire.write_all(self.resp_fd, out)

    def _prepare(self, hdr, blobs, readonly):
        """(decoder, args, kwargs, function) of a request, or (None, reply) saying why it can't
        run: an argument naming a function that is missing or doesn't import, or no such
        function in the module."""
        self.ref_calls = {} if hdr.get("count_refs") else None
        dec = wire.Decoder(blobs, CFG.caps, allow={"s", "fn"}, readonly=readonly,
                           copy=not readonly, resolve_ref=self.resolve_ref)
        try:
            args = dec.decode(hdr.get("args", []))
            kwargs = dec.decode(hdr.get("kwargs", {"d": []}))
        except RefFailure as e:
            return None, reply_frame({"id": hdr.get("id"), "error_kind": e.kind, "error": e.message})
        if type(args) is not list or type(kwargs) is not dict or any(
                type(k) is not str for k in kwargs):
            raise wire.WireError("bad arguments")
        fn, err = self.lookup(str(hdr.get("function")))
        if fn is None:
            return None, reply_frame({"id": hdr.get("id"), "error_kind": "missing", "error": err})
        return dec, args, kwargs, fn

    def do_call(self, hdr, blobs):
        cid = hdr.get("id")
        readonly = bool(hdr.get("readonly"))
        prepared = self._prepare(hdr, blobs, readonly)
        if prepared[0] is None:
            return prepared[1]
        dec, args, kwargs, fn = prepared
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
               "warnings": sorted({k for k, word in _FP_KINDS for f in fp if word in f}),
               "ref_calls": self.ref_calls}
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
                out["aliases"] = _aliases(value, [a for a, *_ in dec.arrays.values()])
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
        prepared = self._prepare(hdr, blobs, readonly)
        if prepared[0] is None:
            return prepared[1]
        _dec, args, kwargs, fn = prepared
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


def child_main(module, req_fd, resp_fd, worker_pid, cfg):
    """Runs in the forked child; never returns."""
    global CFG
    CFG = cfg
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
    for ours in ("wire", "landlock", "child", "proc_table"):  # a student module may be named so
        sys.modules.pop(ours, None)
    child = Child(module, req_fd, resp_fd, cap_fd)
    random.seed(0)
    _seed(0)
    try:
        child.module = child.load(module)
    except BaseException as e:  # noqa: BLE001
        child.quit_if_copy()
        kind = "memory" if isinstance(e, MemoryError) else "import"
        msg = child.import_error(module, e)
        out = child.output()
        try:
            wire.write_all(resp_fd, wire.pack({"ready": False, "error": msg, "kind": kind,
                                               "output": out}))
        finally:
            os._exit(0)
    child.quit_if_copy()
    child.output()
    wire.write_all(resp_fd, wire.pack({"ready": True}))
    child.serve()
    os._exit(0)
