"""Tests of the sandbox (autograder/sandbox/, its runtime/ and wire.py).

Every behaviour is checked in both isolation levels ("process" and "bubblewrap"; the
bubblewrap cases skip when bwrap is not installed or can't run here).  Student modules are
written into a temporary folder.  Timeouts are kept small so the whole file runs in seconds.
"""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from autograder import runner, wire
from autograder.errors import GradingError
from autograder.sandbox import FunctionRef, Limits, Sandbox, SandboxError, Unsendable

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LIMITS = Limits(call_timeout=0.4, import_timeout=0.6, grace=1.0, file_bytes=4 * 2**20,
                memory_bytes=1024 * 2**20, processes=48)

MODULES = {
    "good": """
        import numpy as np

        def sigmoid(x):
            x = np.asarray(x)
            if x.dtype.kind != "f":
                x = x.astype(np.float64)
            return 1.0 / (1.0 + np.exp(-x))

        def scalar(x):
            return np.float64(x) * 2

        def plain(x):
            return [1, 2.5, "s", None, True, (3, b"by"), {"k": np.arange(3), 7: 1j}]

        def kw(x, alpha=0.01, timeout=None):
            return np.where(np.asarray(x) > 0, x, alpha * np.asarray(x)), timeout

        def raises(x):
            raise ValueError("nope, x was " + str(len(x)))

        def hang(x):
            while True:
                pass

        def sleeps(x):
            import time
            time.sleep(100)

        def stubborn(x):
            import signal, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            time.sleep(100)

        def exits(x):
            import os
            os._exit(3)

        def sysexit(x):
            import sys
            sys.exit(2)

        def quits(x):
            exit(6)  # the builtin site adds, also in a worker started without site (-S)

        def segfault(x):
            import ctypes
            return ctypes.string_at(0)

        def suicide(x):
            import os, signal
            os.kill(os.getpid(), signal.SIGKILL)

        def recurse(x):
            return recurse(x)

        def interrupt(x):
            raise KeyboardInterrupt

        def bomb(x):
            return np.ones(10**10)

        def grow(x):
            hoard = []
            while True:
                hoard.append(np.empty(50 * 2**20))

        def chatty(x):
            print("hello from sigmoid")
            return np.asarray(x)

        def flood(n):
            import os, sys
            line = "x" * 99 + "\\n"
            for _ in range(n // 100):
                sys.stdout.write(line)
            os.write(2, b"raw fd 2 bytes\\n" * 1000)
            return np.zeros(2)

        def overflow(x):
            return np.exp(np.asarray(x))

        def zero_div(x):
            x = np.asarray(x, dtype=float)
            return x / 0.0, np.zeros(1) / np.zeros(1)

        def underflow(x):
            return np.exp(-np.asarray(x, dtype=float))

        def write_in_place(x):
            x[0] = 99.0
            return x

        def unlock_and_write(x):
            x.setflags(write=True)
            x[0] = 99.0
            return x

        def append(lst):
            lst.append(4)
            lst.append(print)
            return len(lst)

        def apply_each(fs, x):
            for f in fs:
                f(x), f(x), f(1.0)
            return fs[0](x) + 0 * len(fs)

        def apply(f, x):
            return f(x)

        def randomness(x):
            import random
            return np.random.rand(3), random.random()

        def loop(x):
            import math
            return np.array([1.0 / (1.0 + math.exp(-v)) for v in np.ravel(x).tolist()])

        def vectorized(x):
            return np.vectorize(lambda v: max(v, 0.0))(x)

        def exec_loop(x):
            scope = {"x": x, "out": []}
            exec("for v in x:\\n    out.append(v * 2)", scope)
            return np.array(scope["out"])

        def untraced(x):
            import sys
            sys.settrace(None)
            return [v for v in x]

        def settrace_replaced(x):  # the grader took sys.settrace before student code ran
            import sys
            sys.settrace = lambda f: None
            return [v for v in x]

        class Sub(np.ndarray):
            def __eq__(self, other):
                return True

        class Liar:
            def __eq__(self, other):
                return True
            __hash__ = None

        def subclass(x):
            return np.asarray(x, dtype=float).view(Sub)

        def liar(x):
            return Liar()

        def objects(x):
            return np.array([1, "a", None], dtype=object)

        def strings(x):
            return np.array(["a", "b"])

        def functions(x):
            return [np.sin, np.cos]

        def nested_bad(x):
            return (np.zeros(2), {"W": [1, (i for i in range(3))]})

        def huge(x):
            return np.zeros(2**24 + 1, dtype=np.uint8)

        def deep(x):
            v = 1
            for _ in range(100):
                v = [v]
            return v

        def figure(x):
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
            fig, axes = plt.subplots(1, 2)
            axes[0].plot([1, 2, 3])
            return fig

        def forks(n):
            import os, time
            made = 0
            for _ in range(n):
                try:
                    pid = os.fork()
                except OSError:
                    break
                if pid == 0:
                    time.sleep(100)
                    os._exit(0)
                made += 1
            return made

        _copies = []

        def fork_and_return(x):
            import os
            pid = os.fork()  # parent and copy both return x: only the child we forked may answer
            _copies.append(pid)
            return x

        def reap_copies(x):
            import os
            for pid in _copies:
                os.waitpid(pid, 0)
            return len(_copies)

        def escape(x):
            import os, time
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    time.sleep(100)
                os._exit(0)
            time.sleep(100)

        def kill_parent(x):
            import os
            os.kill(os.getppid(), 9)
            return 1

        def stop_parent(x):
            import os, signal
            os.kill(os.getppid(), signal.SIGSTOP)
            return 1

        def read_file(path):
            with open(path, "rb") as f:
                return len(f.read())

        def write_file(path):
            with open(path, "a") as f:
                f.write("# " + "pwned".upper())
            return True

        def connect(port):
            import socket
            s = socket.create_connection(("127.0.0.1", port), timeout=0.3)
            s.close()
            return True

        def listdir(path):
            import os
            return sorted(os.listdir(path))

        def whoami(x):
            import os
            try:
                top = sorted(os.listdir("/"))
            except OSError:  # Landlock
                top = ["<not readable>"]
            return os.getuid(), top, len([p for p in os.listdir("/proc") if p.isdigit()])

        def tamper(x):
            import os
            for fd in range(3, 40):
                try:
                    os.write(fd, b"AGW1" + bytes(8) + b"garbage")
                except OSError:
                    pass
            return 1

        def counter(x):
            global COUNT
            COUNT = globals().get("COUNT", 0) + 1
            return COUNT
    """,
    "derivs": """
        from good import sigmoid

        def sigmoid_grad(x):
            s = sigmoid(x)
            return s * (1 - s)
    """,
    "import_hang": """
        import time
        time.sleep(100)
        def f(x):
            return x
    """,
    "import_raises": """
        import numpy as np
        X = 1 / 0
        def f(x):
            return x
    """,
    "syntax": """
        def f(x)
            return x
    """,
    "import_exit": """
        import os
        print("about to exit")
        os._exit(0)
    """,
    "import_kills_parent": """
        import os
        os.kill(os.getppid(), 9)
    """,
    "random": """
        def f(x):
            return 42
    """,
    "wire": """
        def f(x):
            return "the student's wire"
    """,
    "draws": """
        import sys

        def started(x):
            # this module would draw with matplotlib (its source says so): the worker
            # never starts it for it (the grader draws the feedback's figures itself)
            return "matplotlib.figure" in sys.modules
    """,
    "clean": """
        import sys

        def loaded(x):
            # nothing of the grader, the reference or the checks may be loaded here
            return sorted(m for m in sys.modules
                          if m.split(".")[0] in ("autograder", "solutions", "pytest", "_pytest",
                                                 "judge", "reference", "runner"))
    """,
}


def _write_submission(folder):
    folder.mkdir(parents=True, exist_ok=True)
    for name, src in MODULES.items():
        (folder / f"{name}.py").write_text(textwrap.dedent(src))
    return folder


def _bwrap_usable():
    try:
        with Sandbox(_write_submission(_tmp_dir() / "probe"), isolation="bubblewrap") as sb:
            return sb.call("random", "f", 1).value == 42
    except SandboxError:
        return False


def _tmp_dir():
    import tempfile
    from pathlib import Path

    return Path(tempfile.mkdtemp(prefix="test-sandbox-"))


_BWRAP = None


def bwrap_ok():
    global _BWRAP
    if _BWRAP is None:
        _BWRAP = _bwrap_usable()
    return _BWRAP


@pytest.fixture(scope="module", params=["process", "bubblewrap"])
def isolation(request):
    if request.param == "bubblewrap" and not bwrap_ok():
        pytest.skip("bubblewrap is not installed or can't run here")
    return request.param


@pytest.fixture(scope="module")
def submission(tmp_path_factory):
    return _write_submission(tmp_path_factory.mktemp("submission"))


@pytest.fixture(scope="module")
def sb(submission, isolation):
    with Sandbox(submission, isolation=isolation, limits=LIMITS) as box:
        assert box.isolation == isolation
        yield box


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _descendants(pid):
    kids = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def _uid_pids(uid):
    if not uid:
        return []
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/status") as f:
                    for line in f:
                        if line.startswith("Uid:"):
                            if str(uid) in line.split()[1:] and _alive(name):
                                out.append(int(name))
                            break
            except OSError:
                continue
    return out


def _gone(pids, within=3.0):
    end = time.monotonic() + within
    while time.monotonic() < end:
        left = [p for p in pids if _alive(p)]
        if not left:
            return []
        time.sleep(0.02)
    return left


# ============================================================================ wire


class TestWire:
    caps = wire.Caps(max_array_elements=1000)

    def _blob(self, arr):
        return wire.array_blob(arr)

    def test_roundtrip_plain_values(self):
        value = [np.arange(6.0).reshape(2, 3), np.float32(1.5), 3, 2.5, float("nan"), "s",
                 None, True, (1, b"x"), {"a": 1, 2: [1j]}, FunctionRef("numpy.sin")]
        enc = wire.Encoder(self.caps, "request")
        tree = enc.encode(value)
        frame = wire.pack({"v": tree}, enc.blobs)
        hdr, blobs = wire.unpack(bytearray(frame[12:]))
        out = wire.Decoder(blobs, self.caps, allow={"s", "fn"}).decode(hdr["v"])
        assert type(out[0]) is np.ndarray and np.array_equal(out[0], value[0])
        assert type(out[1]) is np.float32 and out[1] == 1.5
        assert out[2:4] == [3, 2.5] and np.isnan(out[4])
        assert out[5:] == ["s", None, True, (1, b"x"), {"a": 1, 2: [1j]},
                           FunctionRef("numpy.sin")]

    def test_forged_header_is_rejected_before_allocating(self):
        import io

        for shape in [(10**12,), (2**31, 2**31), (4, -1)]:
            buf = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                buf, {"descr": "<f8", "fortran_order": False, "shape": shape})
            with pytest.raises(wire.WireError):
                wire.load_array(buf.getvalue() + bytes(32), wire.Caps())
        good = self._blob(np.zeros(4))
        with pytest.raises(wire.WireError, match="length"):
            wire.load_array(good[:-8], self.caps)  # data shorter than the header says

    def test_oversized_header_is_refused_before_it_is_parsed(self, monkeypatch):
        huge = b'{"v": "' + b"x" * (40 * 2**20) + b'"}'
        payload = bytearray(wire._HLEN.pack(len(huge)) + huge)
        monkeypatch.setattr(wire.json, "loads", lambda *a, **k: pytest.fail("parsed"))
        with pytest.raises(wire.WireError, match="more than the"):
            wire.unpack(payload)

    def test_pickles_objects_and_strings_are_rejected(self):
        import io
        import pickle

        with pytest.raises(wire.WireError):
            wire.load_array(pickle.dumps(np.zeros(3)), self.caps)
        buf = io.BytesIO()
        np.save(buf, np.array([1, None], dtype=object), allow_pickle=True)
        with pytest.raises(wire.WireError, match="not numeric"):
            wire.load_array(buf.getvalue(), self.caps)
        buf = io.BytesIO()
        np.save(buf, np.array(["a"]))
        with pytest.raises(wire.WireError, match="not numeric"):
            wire.load_array(buf.getvalue(), self.caps)
        with pytest.raises(wire.WireError):
            wire.load_array(self._blob(np.zeros(2000)), self.caps)  # over the element cap

    def test_malformed_trees_are_rejected(self):
        dec = wire.Decoder([], self.caps)
        for bad in ({"a": 5}, {"x": 1}, {"a": 1, "b": 2}, {"fn": "numpy.sin"}, {"same": 0},
                    {"d": [[[1], 2]]}):
            with pytest.raises(wire.WireError):
                dec.decode(bad)
        deep = 1
        for _ in range(40):
            deep = [deep]
        with pytest.raises(wire.WireError):
            wire.Decoder([], self.caps).decode(deep)

    def test_grader_side_refuses_unsendable_arguments(self):
        with pytest.raises(TypeError):
            wire.Encoder(self.caps, "request").encode([lambda x: x])
        with pytest.raises(TypeError):
            wire.Encoder(self.caps, "request").encode(np.array([None], dtype=object))

    def test_function_ref_validates(self):
        assert FunctionRef("activations.sigmoid").module == "activations"
        for bad in ("sigmoid", "a..b", "os.system; rm", 3):
            with pytest.raises(ValueError):
                FunctionRef(bad)


# ============================================================================ calls


def test_normal_call_returns_plain_arrays(sb):
    x = np.linspace(-3, 3, 7)
    r = sb.call("good", "sigmoid", x, readonly=True)
    assert r.ok, r.error
    assert type(r.value) is np.ndarray and r.value.dtype == np.float64
    np.testing.assert_allclose(r.value, 1 / (1 + np.exp(-x)), rtol=1e-12)
    assert r.type_name == "ndarray" and r.error is None and r.error_kind is None
    assert r.warnings == [] and r.output == "" and 0 < r.seconds < 0.4
    r32 = sb.call("good", "sigmoid", x.astype(np.float32))
    assert r32.value.dtype == np.float32
    r0 = sb.call("good", "sigmoid", 2)
    assert r0.value.shape == () and r0.type_name == "float64"
    rs = sb.call("good", "scalar", 1.5)
    assert type(rs.value) is np.ndarray and rs.value.shape == () and rs.value == 3.0
    assert rs.type_name == "float64"
    rp = sb.call("good", "plain", 0)
    assert rp.ok and rp.type_name == "list"
    assert rp.value[:6] == [1, 2.5, "s", None, True, (3, b"by")]
    assert np.array_equal(rp.value[6]["k"], np.arange(3)) and rp.value[6][7] == 1j
    rk = sb.call("good", "kw", np.array([-1.0, 2.0]), alpha=0.5, kwargs={"timeout": "mine"})
    assert rk.ok and np.array_equal(rk.value[0], [-0.5, 2.0]) and rk.value[1] == "mine"
    rd = sb.call("derivs", "sigmoid_grad", np.zeros(3))
    assert rd.ok and np.allclose(rd.value, 0.25)


def test_exception_is_reported_with_message(sb):
    r = sb.call("good", "raises", np.zeros(3))
    assert not r.ok and r.error_kind == "exception"
    assert "ValueError: nope, x was 3" in r.error and "good.py, line" in r.error
    r = sb.call("good", "recurse", 1)
    assert r.error_kind == "exception" and "RecursionError" in r.error
    r = sb.call("good", "interrupt", 1)
    assert r.error_kind == "exception" and "KeyboardInterrupt" in r.error
    assert sb.call("good", "sigmoid", 0.0).ok


def test_missing_function_and_module(sb):
    r = sb.call("good", "nope", 1)
    assert r.error_kind == "missing" and "no function nope" in r.error
    r = sb.call("absent", "f", 1)
    assert r.error_kind == "missing" and "absent.py" in r.error


@pytest.mark.parametrize("fn", ["hang", "sleeps", "stubborn"])
def test_hang_times_out_then_module_still_works(sb, fn):
    t0 = time.monotonic()
    r = sb.call("good", fn, 1, timeout=0.3)
    took = time.monotonic() - t0
    assert r.error_kind == "timeout" and "0.3 s" in r.error
    assert 0.3 <= took < 1.0
    assert sb.call("good", "sigmoid", 0.0).value == 0.5  # a fresh child, same module
    t0 = time.monotonic()
    again = sb.call("good", fn, 1, timeout=0.3)
    assert again.error_kind == "timeout" and "timed out earlier" in again.error
    assert time.monotonic() - t0 < 0.05


@pytest.mark.parametrize("fn, words", [("exits", "exit status 3"), ("sysexit", "sys.exit(2)"),
                                       ("quits", "sys.exit(6)"),
                                       ("segfault", "segmentation fault"),
                                       ("suicide", "SIGKILL")])
def test_crashes_are_reported_and_replaced(sb, fn, words):
    r = sb.call("good", fn, 1)
    assert not r.ok and r.error_kind == "crash" and words in r.error, r.error
    assert sb.call("good", "sigmoid", 0.0).value == 0.5


@pytest.mark.parametrize("fn", ["bomb", "grow"])
def test_memory_bomb_is_stopped_fast(sb, fn):
    t0 = time.monotonic()
    r = sb.call("good", fn, 1, timeout=3.0)
    assert r.error_kind in ("memory", "crash"), r
    if fn == "bomb":
        assert r.error_kind == "memory" and "memory" in r.error
    assert time.monotonic() - t0 < 2.5
    assert sb.call("good", "sigmoid", 0.0).value == 0.5


def test_output_is_captured_capped_and_never_breaks_the_protocol(sb):
    r = sb.call("good", "chatty", np.ones(2))
    assert r.ok and r.output == "hello from sigmoid\n"
    r = sb.call("good", "flood", 1_000_000)
    assert r.ok and np.array_equal(r.value, np.zeros(2))
    assert r.output.startswith("x" * 99 + "\n") and "more bytes of output not shown" in r.output
    assert len(r.output) < LIMITS.output_bytes + 100
    r = sb.call("good", "flood", 8_000_000)  # past RLIMIT_FSIZE: writes fail, nothing dies
    assert r.error_kind == "exception" and "MB allowed" in r.error
    r = sb.call("good", "sigmoid", np.zeros(3))
    assert r.ok and r.output == "" and np.allclose(r.value, 0.5)


def test_import_hang_costs_one_timeout(sb):
    t0 = time.monotonic()
    r = sb.call("import_hang", "f", 1)
    assert r.error_kind == "import" and "took longer" in r.error
    assert LIMITS.import_timeout <= time.monotonic() - t0 < LIMITS.import_timeout + 0.7
    t0 = time.monotonic()
    for _ in range(5):
        again = sb.call("import_hang", "g", 1)
        assert again.error_kind == "import" and again.error == r.error
    assert time.monotonic() - t0 < 0.05


@pytest.mark.parametrize("module, words", [
    ("import_raises", "ZeroDivisionError: division by zero (import_raises.py, line 3)"),
    ("syntax", "syntax error"), ("import_exit", "while importing import_exit.py")])
def test_import_failures_are_remembered(sb, module, words):
    r = sb.call(module, "f", 1)
    assert r.error_kind == "import" and words in r.error, r.error
    assert sb.call(module, "f", 1).error == r.error


def test_bad_outputs_become_bad_output(sb):
    r = sb.call("good", "subclass", [1.0, 2.0])
    assert r.ok and type(r.value) is np.ndarray and r.type_name == "Sub"
    assert not (r.value == np.array([5.0, 5.0])).all()
    cases = {
        "liar": "returned a Liar object; expected a numpy array",
        "objects": "dtype object",
        "strings": "dtype <U1",
        "functions": "returned a list of functions; expected a numpy array",
        "nested_bad": "element [1]['W'][1] is a generator",
        "huge": "16777217 elements",
        "deep": "nested more than",
    }
    for fn, words in cases.items():
        r = sb.call("good", fn, 1)
        assert not r.ok and r.error_kind == "bad-output" and words in r.error, (fn, r.error)
        assert r.value is None


def test_writing_to_the_protocol_pipe_is_caught(sb):
    r = sb.call("good", "tamper", 0)
    assert not r.ok and r.error_kind in ("bad-output", "crash"), r
    assert sb.call("good", "sigmoid", np.zeros(2)).ok


def test_a_forked_copy_of_the_child_never_answers(sb):
    # a copy that answered too would leave a second reply in the pipe, read as the next call's
    for x in (1, 2, 3):
        r = sb.call("good", "fork_and_return", x)
        assert r.ok and r.value == x, r
        assert sb.call("good", "sigmoid", 0.0).value == 0.5
    assert sb.call("good", "reap_copies", 0).value == 3  # the copies exited: no zombie left


def test_module_names_that_shadow_ours(sb):
    assert sb.call("random", "f", 0).value == 42  # the stdlib's random was imported first
    assert sb.call("wire", "f", 0).value == "the student's wire"


def test_worker_holds_nothing_of_the_grader(sb):
    assert sb.call("clean", "loaded", 0).value == []


def test_a_figure_is_not_plain_data(sb):
    # Student code draws nothing for the grader: a Figure is refused like any object.
    r = sb.call("good", "figure", 1, timeout=10)
    assert not r.ok and r.error_kind == "bad-output" and "Figure" in r.error, r.error


def test_the_worker_never_starts_matplotlib(sb):
    r = sb.call("draws", "started", 0)
    assert r.ok and r.value is False, r.error


def test_floating_point_warnings_are_recorded(sb):
    r = sb.call("good", "overflow", 1000.0)
    assert r.ok and r.warnings == ["overflow"] and np.isinf(r.value)
    assert sb.call("good", "zero_div", np.ones(2)).warnings == ["divide", "invalid"]
    assert sb.call("good", "underflow", 1000.0).warnings == []  # underflow is fine
    assert sb.call("good", "sigmoid", np.array([-1000.0, 1000.0])).warnings == ["overflow"]


def test_readonly_arguments_and_args_after(sb):
    x = np.array([1.0, 2.0, 3.0])
    r = sb.call("good", "write_in_place", x, readonly=True)
    assert r.error_kind == "exception" and "read-only" in r.error
    assert r.args_after[0] is x
    r = sb.call("good", "unlock_and_write", x, readonly=True)
    assert r.error_kind == "exception" and "WRITEABLE" in r.error
    r = sb.call("good", "write_in_place", x)
    assert r.ok and r.args_after[0][0] == 99.0 and x[0] == 1.0  # ours is never touched
    assert r.args_after[0] is not x
    r = sb.call("good", "sigmoid", x)
    assert r.args_after[0] is x  # unchanged: the very object we sent
    r = sb.call("good", "append", [1, 2])
    assert r.value == 4 and r.args_after[0][:3] == [1, 2, 4]
    assert isinstance(r.args_after[0][3], Unsendable)


def test_function_refs(sb):
    x = np.linspace(-1, 1, 5)
    r = sb.call("good", "apply", FunctionRef("numpy.sin"), x)
    assert r.ok and np.allclose(r.value, np.sin(x))
    assert r.args_after[0] == FunctionRef("numpy.sin")
    r = sb.call("derivs", "sigmoid_grad", x)
    r2 = sb.call("good", "apply", FunctionRef("derivs.sigmoid_grad"), x)
    assert r2.ok and np.array_equal(r.value, r2.value)
    for name, kind in [("os.system", "missing"), ("absent.f", "missing"),
                       ("good.nope", "missing"), ("import_raises.f", "import")]:
        r = sb.call("good", "apply", FunctionRef(name), x)
        assert r.error_kind == kind, (name, r)


def test_calls_of_function_refs_are_counted_when_asked(sb):
    x, refs = np.zeros(7), [FunctionRef("numpy.abs"), FunctionRef("numpy.exp")]
    plain = sb.call("good", "apply_each", refs, x)
    counted = sb.call("good", "apply_each", refs, x, count_refs=True)
    assert plain.ok and counted.ok and np.array_equal(plain.value, counted.value)
    assert plain.ref_calls == {} and counted.ref_calls == {"numpy.abs": [7, 7, 1, 7],
                                                           "numpy.exp": [7, 7, 1]}
    assert counted.args_after[0] == refs  # handed back as the refs they were


def test_count_lines_separates_loops_from_numpy(sb):
    """A vectorised function runs the same lines of the submission's code on 1,000 and on
    8,000 elements; a loop, np.vectorize over the student's code, exec'd code run more."""
    rng = np.random.default_rng(1)
    xs = [rng.normal(size=1000), rng.normal(size=8000)]
    vec = sb.count_lines("good", "sigmoid", xs)
    assert vec.ok and vec.lines[0] == vec.lines[1] > 0, vec
    for looping in ("loop", "vectorized", "exec_loop"):
        slow = sb.count_lines("good", looping, xs)
        assert slow.ok and slow.lines[1] - slow.lines[0] >= 7000, (looping, slow)
    assert sb.count_lines("good", "loop", xs) == sb.count_lines("good", "loop", xs)  # no clock
    bad = sb.count_lines("good", "untraced", xs)
    assert bad.error_kind == "exception" and "tracer" in bad.error, bad
    fooled = sb.count_lines("good", "settrace_replaced", xs)
    assert fooled.ok and fooled.lines[1] - fooled.lines[0] >= 7000, fooled
    bad = sb.count_lines("good", "raises", xs)
    assert bad.error_kind == "exception"
    kw = sb.count_lines("good", "kw", xs, 0.5, timeout=5)  # extra arguments
    assert kw.ok and kw.lines[0] == kw.lines[1]
    hung = sb.count_lines("good", "hang", xs, timeout=0.3)  # a clock only bounds a hang
    assert hung.error_kind == "timeout"


def test_deterministic_across_calls_and_sandboxes(sb, submission, isolation):
    a = sb.call("good", "randomness", 0)
    b = sb.call("good", "randomness", 0)
    with Sandbox(submission, isolation=isolation, limits=LIMITS) as other:
        c = other.call("good", "randomness", 0)
    assert np.array_equal(a.value[0], b.value[0]) and np.array_equal(a.value[0], c.value[0])
    assert a.value[1] == b.value[1] == c.value[1]


# ============================================================================ the worker


def test_killed_or_stopped_worker_is_restarted_a_bounded_number_of_times(submission,
                                                                         isolation):
    lim = Limits(call_timeout=0.2, import_timeout=0.5, grace=0.1, max_worker_restarts=2,
                 max_worker_restarts_total=4)
    # without Landlock, which would stop the student signalling the worker at all
    with Sandbox(submission, isolation=isolation, limits=lim, landlock=False) as box:
        first = box.worker_pid
        assert box.call("good", "counter", 0).value == 1
        r = box.call("good", "kill_parent", 0)
        assert not r.ok and r.error_kind == "crash" and "sandbox worker" in r.error
        assert box.call("good", "sigmoid", 0.0).value == 0.5  # a new worker
        assert box.restarts == 1 and box.worker_pid != first and _gone([first]) == []
        t0 = time.monotonic()
        assert "earlier" in box.call("good", "kill_parent", 0).error
        assert time.monotonic() - t0 < 0.05
        # killing the worker at import time marks the module as failed to import
        r = box.call("import_kills_parent", "f", 0)
        assert r.error_kind == "import" and "importing import_kills_parent.py" in r.error
        assert box.call("import_kills_parent", "g", 0).error == r.error
        assert box.call("good", "sigmoid", 0.0).ok and box.restarts == 2
        # a stopped (SIGSTOP) worker is noticed by the grader's own deadline
        t0 = time.monotonic()
        r = box.call("good", "stop_parent", 0)
        assert r.error_kind == "timeout" and "stopped answering" in r.error
        assert time.monotonic() - t0 < 0.2 + 0.5 + 0.1 + 0.5
        assert "no other function of good.py is called again" in r.error
        # the second time: good.py is given up, its losses cost no other module anything
        t0 = time.monotonic()
        r = box.call("good", "sigmoid", 0.0)
        assert r.error_kind == "timeout" and "good.py stopped the sandbox worker 2 times" in r.error
        assert time.monotonic() - t0 < 0.05
        assert box.call("random", "f", 1).value == 42 and box.restarts == 3
        # out of restarts in all: once the worker is gone again, every later call fails at once
        for restarts in (4, None):
            box._st.proc.kill()  # the worker dies between calls
            box._st.proc.wait()
            t0 = time.monotonic()
            r = box.call("random", "f", 1)
            if restarts is not None:
                assert r.value == 42 and box.restarts == restarts
        assert r.error_kind == "crash" and "restarted 4 times" in r.error
        assert time.monotonic() - t0 < 0.05


def test_landlock_stops_signals_to_the_worker(sb):
    if "Landlock" not in sb.isolation_detail or "signals" not in sb.isolation_detail:
        pytest.skip("Landlock with signal scoping (ABI 6) is not available here")
    first = sb.worker_pid
    r = sb.call("good", "kill_parent", 0)
    assert r.error_kind == "exception" and "PermissionError" in r.error, r
    assert sb.worker_pid == first and sb.call("good", "sigmoid", 0.0).value == 0.5


def test_fork_bomb_is_contained_and_cleaned_up(submission, isolation):
    with Sandbox(submission, isolation=isolation, limits=LIMITS) as box:
        # a detached (setsid, double fork) grandchild dies with the child that timed out
        r = box.call("good", "escape", 0, timeout=0.3)
        assert r.error_kind == "timeout"
        time.sleep(0.05)
        tree = _descendants(box.worker_pid)
        assert len(tree) <= (2 if box.isolation == "bubblewrap" else 1), tree  # init, worker
        r = box.call("good", "forks", 400, timeout=5)
        assert r.ok
        if box.uid:  # RLIMIT_NPROC only bites for a real unprivileged uid
            assert r.value < LIMITS.processes
        tree = _descendants(box.worker_pid)
        assert len(tree) >= r.value
        everything = tree + _uid_pids(box.uid) + [box.worker_pid]
    assert _gone(everything) == []
    assert _uid_pids(box.uid) == []


def test_close_leaves_no_process(submission, isolation):
    box = Sandbox(submission, isolation=isolation, limits=LIMITS)
    box.call("good", "forks", 3)
    box.call("derivs", "sigmoid_grad", 0.0)
    pids = _descendants(box.worker_pid) + [box.worker_pid]
    assert len(pids) >= 4
    root = box._st.root
    box.close()
    box.close()  # idempotent
    assert _gone(pids) == [] and _uid_pids(box.uid) == []
    assert not os.path.exists(root)
    with pytest.raises(SandboxError):
        box.call("good", "sigmoid", 0.0)


def _adopt_and_use(box):
    box.adopt()
    first = box.worker_pid
    values = [box.call("good", "sigmoid", 0.0).value]
    box._st.proc.kill()  # the adopted worker dies between calls: this process starts its own
    box._st.proc.wait()
    values += [box.call("good", "sigmoid", 0.0).value, box.restarts, box.worker_pid != first]
    box.close()
    return values


def _adopt_and_die(box, pids_file):
    box.adopt()
    box.call("good", "forks", 2)
    pids = _descendants(box.worker_pid) + [box.worker_pid]
    pids_file.write_text(" ".join(map(str, pids)))
    os._exit(1)


def test_a_sandbox_handed_to_a_forked_lane_serves_it_and_its_starter_ends_it(submission,
                                                                           isolation):
    box = Sandbox(submission, isolation=isolation, limits=LIMITS, wait=False)
    first, root = box.worker_pid, box._st.root
    join = runner._fork(_adopt_and_use, box)
    reap = box.hand_over()
    with pytest.raises(SandboxError):
        box.call("good", "sigmoid", 0.0)  # let go of here
    assert join() == [0.5, 0.5, 1, True]
    assert os.path.exists(f"/proc/{first}")  # dead, and only its parent, this process, reaps it
    reap()
    assert not os.path.exists(f"/proc/{first}") and not os.path.exists(root)
    assert _uid_pids(box.uid) == []


def test_a_lane_that_dies_with_a_handed_over_sandbox_leaves_nothing(submission, isolation,
                                                                    tmp_path):
    box = Sandbox(submission, isolation=isolation, limits=LIMITS, wait=False)
    root = box._st.root
    join = runner._fork(_adopt_and_die, box, tmp_path / "pids")
    reap = box.hand_over()
    with pytest.raises(GradingError, match="died before it reported"):
        join()
    pids = [int(p) for p in (tmp_path / "pids").read_text().split()]
    assert len(pids) >= 4  # the worker, its module child and its forks, as the lane died
    reap()
    assert _gone(pids) == [] and _uid_pids(box.uid) == [] and not os.path.exists(root)


def test_grader_exception_inside_with_cleans_up(submission, isolation):
    with pytest.raises(RuntimeError):
        with Sandbox(submission, isolation=isolation, limits=LIMITS) as box:
            box.call("good", "forks", 2)
            pids = _descendants(box.worker_pid) + [box.worker_pid]
            raise RuntimeError("grader bug")
    assert len(pids) >= 4 and _gone(pids) == []


def test_killed_grader_takes_the_worker_down(submission, isolation):
    code = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {REPO!r})
        from autograder.sandbox import Sandbox
        sb = Sandbox({str(submission)!r}, isolation={isolation!r})
        sb.call("good", "forks", 2)
        print(sb.worker_pid, sb.uid or 0, flush=True)
        time.sleep(60)
    """)
    grader = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        pid, uid = map(int, grader.stdout.readline().split())
        pids = _descendants(grader.pid)
        assert pid in pids and len(pids) >= 3
    finally:
        grader.kill()
        grader.wait()
    assert _gone(pids) == []
    assert _uid_pids(uid) == []


# ============================================================================ isolation


def test_isolation_is_reported(sb, isolation):
    assert sb.isolation == isolation and sb.isolation_detail
    uid, top, nprocs = sb.call("good", "whoami", 0).value
    if os.geteuid() == 0 and sb.uid:
        assert uid == sb.uid and "unprivileged uid" in sb.isolation_detail
    if isolation == "bubblewrap":
        assert "root" not in top and "home" not in top
        assert "submission" in top or top == ["<not readable>"]  # Landlock
        assert nprocs < 10  # its own pid namespace
        r = sb.call("good", "listdir", REPO)  # at most the bound interpreter is visible
        assert not r.ok or not {"autograder", "solutions", "tests"} & set(r.value), r
        tmp = sb.call("good", "listdir", "/tmp").value  # private: nothing of the host's
        assert not [n for n in tmp if n.startswith(("autograder", "pytest", "test-"))], tmp
    elif "Landlock" in sb.isolation_detail:
        assert top == ["<not readable>"]
        assert not sb.call("good", "listdir", REPO).ok
    else:
        assert "autograder" in sb.call("good", "listdir", REPO).value


def test_student_cannot_read_outside_submission(sb, isolation):
    here = os.path.abspath(__file__)
    r = sb.call("good", "read_file", here)
    if isolation == "bubblewrap":
        assert r.error_kind == "exception" and "FileNotFoundError" in r.error
        own = sb.call("good", "read_file", "/submission/good.py")
        assert own.ok and own.value > 100
        solutions = os.path.join(REPO, "solutions")
        assert sb.call("good", "read_file", os.path.join(solutions, "activations.py")).error
    elif "Landlock" in sb.isolation_detail:
        assert r.error_kind == "exception" and "PermissionError" in r.error, r
        solutions = os.path.join(REPO, "solutions", "activations.py")
        assert "PermissionError" in sb.call("good", "read_file", solutions).error
        own = sb.call("good", "read_file", os.path.join(sb._sub, "good.py"))
        assert own.ok and own.value > 100
    else:
        assert r.ok  # a plain process can read world-readable files: why bwrap matters


def test_student_cannot_write_submission(sb, submission, isolation):
    path = "/submission/good.py" if isolation == "bubblewrap" else os.path.join(
        sb._sub, "good.py")
    r = sb.call("good", "write_file", path)
    assert r.error_kind == "exception", r
    assert "Read-only file system" in r.error or "Permission denied" in r.error \
        or os.geteuid() != 0
    assert "PWNED" not in (submission / "good.py").read_text()


def test_an_intake_folder_is_given_as_it_is_read_only(tmp_path, isolation):
    folder = _write_submission(tmp_path / "intake")
    with Sandbox(folder, isolation=isolation, copy=False) as box:
        assert box._sub == str(folder) and box.call("good", "sigmoid", 0.0).value == 0.5
        if os.geteuid() == 0:  # student code runs as another uid, or behind bubblewrap
            inside = "/submission" if box.isolation == "bubblewrap" else str(folder)
            r = box.call("good", "write_file", os.path.join(inside, "good.py"))
            assert r.error_kind == "exception", r
    assert "PWNED" not in (folder / "good.py").read_text()
    assert sorted(os.listdir(folder)) == sorted(os.listdir(_write_submission(tmp_path / "again")))


def test_network(sb, isolation):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    try:
        r = sb.call("good", "connect", srv.getsockname()[1], timeout=2)
    finally:
        srv.close()
    if isolation == "bubblewrap" or "TCP" in sb.isolation_detail:  # netns, or Landlock
        assert r.error_kind == "exception" and ("Error" in r.error), r
    else:
        assert r.ok  # no network namespace without bwrap


def test_bad_arguments():
    with pytest.raises(ValueError):
        Sandbox("/nonexistent", isolation="docker")
    with pytest.raises(SandboxError):
        Sandbox("/nonexistent/folder")



def test_folders_of_killed_graders_are_swept(tmp_path):
    """A grader killed with SIGKILL leaves its sandbox folder; the next sandbox removes the
    folders whose grader is gone, and no one else's."""
    import tempfile

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    base = tempfile.gettempdir()
    orphan = os.path.join(base, f"autograder-sandbox-{dead.pid}-orphan")
    alive = os.path.join(base, f"autograder-sandbox-{os.getppid()}-alive")
    for d in (orphan, alive):
        os.makedirs(os.path.join(d, "submission"), exist_ok=True)
    (tmp_path / "m.py").write_text("def f(x):\n    return x\n")
    try:
        with Sandbox(tmp_path, isolation="process") as sb:
            assert sb.call("m", "f", 1).value == 1
        assert not os.path.exists(orphan)
        assert os.path.isdir(alive)
    finally:
        for d in (orphan, alive):
            subprocess.run(["rm", "-rf", d])


def test_returned_arrays_that_alias_an_argument_are_counted(tmp_path):
    (tmp_path / "aliasing.py").write_text(
        "import numpy as np\n"
        "def same(a, b):\n    return a, b[1:], [np.array(a)]\n"
        "def fresh(a, b):\n    return np.array(a), b.copy()\n")
    x, y = np.arange(3.0), np.arange(4.0)
    with Sandbox(tmp_path, isolation="process") as box:
        assert box.call("aliasing", "same", x, y, readonly=True).aliases == 2
        assert box.call("aliasing", "fresh", x, y).aliases == 0
