"""Hostile and broken submissions: the reference with one module attacked, or a zip made
hostile (tests/test_hostile.py grades each through the real CLI).

A ``Hostile`` case is built like a corpus ``Variant`` (``tests.corpus.swap``: the given
functions replace their namesakes; other top-level statements are appended, so they run at
the end of the module's import), or by its own ``make(folder, env) -> path`` for broken
files and zips. Sources are templates: ``__ROOT__`` (the repository), ``__CANARY__`` (a
world-writable folder the test watches), ``__OUT__`` (the grader's ``--json`` path),
``__WATCH__`` (the grader's cwd, $HOME and $TMPDIR live under it) are filled in at build time.

``attacked``: the functions that must earn nothing (0 points: what an honest failure, e.g.
``raise NotImplementedError``, earns for them); ``"*"`` is every function of ``module``.
``also``: functions that may lose points too because they import or call an attacked one
(the student's ``derivatives`` imports the student's ``sigmoid``). Every other function that
is graded must earn full points. ``words``: the student's message for the attacked
functions says what happened (one of these, case-insensitive). ``escape``: a sandbox-escape
attempt, graded under both isolation levels. ``full``: graded with every hidden check
(otherwise only the checks of ``module`` and of one module it can't affect).

Attack code tags the processes it leaves behind (``_tag``: their name starts with ``hstl``)
so the test can tell that they are gone, and whatever it manages to read from where it must
not, it puts in an exception message with the word ``LEAKED``, which must never reach
results.json.
"""
from __future__ import annotations

import io
import os
import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from autograder import config
from tests.corpus import swap

A, D, L = "activations", "derivatives", "linear_collapse"

# Checks that grade a case, by the module it attacks: the module itself, plus one the
# attack can't reach (derivatives imports activations, nothing imports derivatives).
SELECT = {
    A: "test_activations or test_linear_collapse",
    D: "test_derivatives or test_activations",
    L: "test_linear_collapse or test_activations",
}

# Gives a process a name the test can find ("hstl-..."), as a comm of 15 characters.
TAG = '''
def _tag(what="x"):
    import ctypes
    try:
        ctypes.CDLL(None).prctl(15, ("hstl-" + what)[:15].encode(), 0, 0, 0)
    except Exception:
        pass
'''


@dataclass(frozen=True)
class Hostile:
    id: str
    module: str
    attacked: tuple = ("*",)
    words: tuple = ()
    source: str = ""
    also: tuple = ()
    escape: bool = False
    full: bool = False
    make: Callable | None = None  # make(folder, env) -> submission path (folder or zip)
    why: str = ""

    @property
    def select(self) -> str | None:
        return None if self.full else SELECT[self.module]


def fill(text: str, env: dict) -> str:
    for k, v in env.items():
        text = text.replace(f"__{k}__", str(v))
    return text


def build(case: Hostile, folder: Path, env: dict) -> Path:
    """Write the submission for ``case`` under ``folder`` and return its path."""
    folder = Path(folder)
    if case.make is not None:
        return case.make(folder, env)
    shutil.copytree(config.SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    target = folder / f"{case.module}.py"
    src = fill(TAG + "\n" + case.source, env)
    target.write_text(swap(target.read_text(encoding="utf-8"), src), encoding="utf-8")
    return folder


# ------------------------------------------------------------------ custom builders

def _reference_copy(folder: Path) -> Path:
    shutil.copytree(config.SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def _syntax_error(folder, env):
    _reference_copy(folder)
    (folder / "derivatives.py").write_text("import numpy as np\n\ndef sigmoid_grad(x)\n"
                                           "    return x\n")
    return folder


def _not_utf8(folder, env):
    _reference_copy(folder)
    src = (config.SOLUTIONS / "derivatives.py").read_bytes()
    (folder / "derivatives.py").write_bytes(b"# caf\xe9 \xff\xfe\n" + src)
    return folder


def _missing(folder, env):
    _reference_copy(folder)
    (folder / "derivatives.py").unlink()
    return folder


def _symlinked_module(folder, env):
    _reference_copy(folder)
    (folder / "derivatives.py").unlink()
    (folder / "derivatives.py").symlink_to(config.SOLUTIONS / "derivatives.py")
    return folder


def _symlinked_dirs(folder, env):
    """Symlinked folders next to a module that looks for the reference through them."""
    _reference_copy(folder)
    (folder / "ref").symlink_to(config.SOLUTIONS, target_is_directory=True)
    (folder / "checks").symlink_to(config.CHECKS, target_is_directory=True)
    (folder / "sub").mkdir()
    (folder / "sub" / "derivatives.py").symlink_to(config.SOLUTIONS / "derivatives.py")
    target = folder / "derivatives.py"
    target.write_text(swap(target.read_text(), fill(TAG + READ_REFERENCE, env)))
    return folder


def _huge_file(folder, env):
    _reference_copy(folder)
    src = (config.SOLUTIONS / "derivatives.py").read_text()
    pad = ("# " + "x" * 97 + "\n") * (30 * 2**20 // 100)  # 30 MB of comments
    (folder / "derivatives.py").write_text(src + pad)
    return folder


def _zip_of_reference(z: zipfile.ZipFile, skip=()):
    for p in sorted(config.SOLUTIONS.glob("*.py")):
        if p.name not in skip:
            z.write(p, f"hw/{p.name}")


def _zip_traversal(folder, env):
    folder.mkdir(parents=True)
    path = folder / "submission.zip"
    canary = Path(env["CANARY"])
    evil = "raise SystemExit('I should never be written anywhere')\n"
    with zipfile.ZipFile(path, "w") as z:
        _zip_of_reference(z, skip=("derivatives.py",))
        z.writestr("hw/../../derivatives.py", evil)
        z.writestr("../" * 12 + str(canary).lstrip("/") + "/pwned.py", evil)
        z.writestr(str(canary / "abs.py"), evil)  # absolute path
        z.writestr("/" + str(config.SOLUTIONS / "derivatives.py").lstrip("/"), evil)
        z.writestr("hw\\..\\..\\winpath.py", evil)
        z.writestr("C:/Windows/derivatives.py", evil)
    return path


def _zip_symlink(folder, env):
    folder.mkdir(parents=True)
    path = folder / "submission.zip"
    with zipfile.ZipFile(path, "w") as z:
        _zip_of_reference(z, skip=("derivatives.py",))
        for name, target in (("hw/derivatives.py", str(config.SOLUTIONS / "derivatives.py")),
                             ("hw/checks.py", str(config.CHECKS / "test_derivatives.py"))):
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, target)
    return path


def _zip_bomb(folder, env):
    """derivatives.py inflates to 256 MB from about 250 KB; a second member lies about
    its size in the header."""
    folder.mkdir(parents=True)
    path = folder / "submission.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        _zip_of_reference(z, skip=("derivatives.py",))
        with z.open("hw/derivatives.py", "w", force_zip64=True) as f:
            block = b"#" * (1 << 20)
            for _ in range(256):
                f.write(block)
    return path


def _zip_many(folder, env):
    """The reference plus 1500 junk entries and 300 nested folders of modules."""
    folder.mkdir(parents=True)
    path = folder / "submission.zip"
    with zipfile.ZipFile(path, "w") as z:
        _zip_of_reference(z)
        for i in range(1500):
            z.writestr(f"hw/junk/{i}.txt", b"x")
        for i in range(300):
            z.writestr(f"hw/deep/{'d/' * 20}{i}/derivatives.py", "raise SystemExit(1)\n")
    return path


def _zip_bad_name(folder, env):
    """Module-looking names that are not identifiers, NUL bytes, a duplicate entry."""
    folder.mkdir(parents=True)
    path = folder / "submission.zip"
    with zipfile.ZipFile(path, "w") as z:
        _zip_of_reference(z)
        z.writestr("hw/os.py", "raise SystemExit('shadowing os')\n")
        z.writestr("hw/numpy.py", "raise SystemExit('shadowing numpy')\n")
        z.writestr("hw/wire.py", "raise SystemExit('shadowing the wire')\n")
        z.writestr("hw/worker.py", "raise SystemExit('shadowing the worker')\n")
        z.writestr("hw/my module.py", "x = 1\n")
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            z.writestr("hw/derivatives.py", "raise SystemExit('a duplicate entry')\n")
    return path


# ------------------------------------------------------------------ attack sources

READ_REFERENCE = '''
def sigmoid_grad(x):
    """Find the reference derivatives.py or the hidden checks anywhere and use them."""
    import glob, os
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [
        "__ROOT__/solutions/derivatives.py", "/autograder/source/solutions/derivatives.py",
        here + "/ref/derivatives.py", here + "/sub/derivatives.py",
        "/proc/1/cwd/solutions/derivatives.py", "/proc/1/root__ROOT__/solutions/derivatives.py",
        "/proc/%d/cwd/solutions/derivatives.py" % os.getppid(),
        "/proc/%d/root__ROOT__/solutions/derivatives.py" % os.getppid(),
    ] + glob.glob("/tmp/*/derivatives.py") + glob.glob("/tmp/*/*/derivatives.py")
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            candidates.append("/proc/%s/cwd/solutions/derivatives.py" % pid)
    for path in candidates:
        try:
            with open(path) as f:
                src = f.read()
        except Exception:
            continue
        if "def sigmoid_grad" in src and "LEAKED" not in src and path != __file__:
            ns = {"__name__": "leaked"}
            exec(compile(src, path, "exec"), ns)
            return ns["sigmoid_grad"](x)
    for path in ["__ROOT__/autograder/checks/test_derivatives.py", here + "/checks/test_derivatives.py",
                 "__ROOT__/autograder/config.py"]:
        try:
            with open(path) as f:
                raise RuntimeError("LEAKED " + f.read(60))
        except OSError:
            pass
    raise RuntimeError("found no reference to copy")
'''

CASES = [
    # --- ending the process ---------------------------------------------------------
    Hostile("import-os-exit", D, words=("exited",), why="os._exit(0) at import",
            source="import os\nos._exit(0)\n"),
    Hostile("import-sys-exit", D, words=("sys.exit",), why="sys.exit(0) at import",
            source="import sys\nsys.exit(0)\n"),
    Hostile("call-os-exit", D, ("sigmoid_grad",), ("exited",), why="os._exit(0) during a call",
            also=("gelu_grad", "swish_grad"), source='''
def sigmoid_grad(x):
    import os
    os._exit(0)
'''),
    Hostile("call-sys-exit", D, ("tanh_grad",), ("sys.exit",), why="sys.exit(0) during a call",
            source='''
def tanh_grad(x):
    import sys
    sys.exit(0)
'''),
    Hostile("call-keyboard-interrupt", D, ("relu_grad",), ("KeyboardInterrupt",),
            why="raises KeyboardInterrupt and GeneratorExit", source='''
def relu_grad(x):
    raise KeyboardInterrupt("stop the grader")
'''),
    # --- never finishing ------------------------------------------------------------
    Hostile("import-infinite-loop", D, words=("timed out",), why="while True at import",
            source="while True:\n    pass\n"),
    Hostile("call-infinite-loop", D, ("relu_grad",), ("timed out",), why="while True in a call",
            source='''
def relu_grad(x):
    while True:
        pass
'''),
    Hostile("call-sleep", D, ("relu6_grad",), ("timed out",), why="sleeps in a call", source='''
def relu6_grad(x):
    import time
    time.sleep(3600)
'''),
    Hostile("ignore-signals", D, ("leaky_relu_grad",), ("timed out",),
            why="ignores SIGTERM/SIGINT/SIGALRM/SIGXCPU/SIGHUP, then spins", source='''
def leaky_relu_grad(x, alpha=0.01):
    import signal
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGXCPU, signal.SIGHUP,
              signal.SIGUSR1, signal.SIGPIPE):
        signal.signal(s, signal.SIG_IGN)
    signal.alarm(0)
    while True:
        pass
'''),
    Hostile("every-call-hangs", D, words=("timed out",), why="numpy patched at import so that "
            "every function of the module hangs", source='''
import numpy as _np_mod
_hang = lambda *a, **k: [None for _ in iter(int, 1)]
_np_mod.asarray = _hang
_np_mod.where = _hang
_np_mod.exp = _hang
'''),
    # --- resources ------------------------------------------------------------------
    Hostile("memory-bomb", D, ("elu_grad",), ("memory",), why="asks for 80 GB", source='''
def elu_grad(x, alpha=1.0):
    import numpy as np
    return np.ones(10**10)
'''),
    # 128 MB a round reaches the 1.5 GB cap in about 0.6 s; on a loaded machine the 2 s
    # call limit can come first, and then "timed out" is what happened.
    Hostile("memory-grow", D, ("gelu_grad",), ("memory", "timed out"), why="grows until it dies", source='''
def gelu_grad(x):
    import numpy as np
    hoard = []
    while True:
        hoard.append(np.ones(2**24))
'''),
    Hostile("import-memory-bomb", D, words=("memory",), why="80 GB at import",
            source="import numpy\n_hoard = numpy.ones(10**10)\n"),
    # A copy whose own fork fails raises out of prelu_grad: the copy must exit unheard (a
    # second reply would be read as the next call's, numerical_derivative's, and blame it).
    Hostile("fork-bomb", D, ("prelu_grad",), ("timed out",),
            also=("prelu_backward",),
            why="forks 100 sleepers (some detached) and then sleeps", source='''
def prelu_grad(x, alpha):
    import os, time
    for i in range(100):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            _tag("fork")
            if i % 2:
                os.setsid()
                if os.fork():
                    os._exit(0)
                _tag("fork")
            time.sleep(3600)
            os._exit(0)
    time.sleep(3600)
'''),
    Hostile("thread-bomb", D, ("prelu_backward",), ("timed out",),
            why="200 spinning threads", source='''
def prelu_backward(grad_out, x, alpha):
    import threading
    def spin():
        while True:
            pass
    for _ in range(200):
        try:
            threading.Thread(target=spin, daemon=True).start()
        except RuntimeError:
            break
    spin()
'''),
    Hostile("flood-output", D, (), (), also=("numerical_derivative", "gradient_check"),
            why="prints 200 MB to stdout and stderr, then returns the right answer", source='''
def numerical_derivative(f, x, h=1e-5):
    import os, sys
    import numpy as np
    line = "flood " * 1000 + "\\n"
    try:
        for _ in range(20000):
            sys.stdout.write(line)
            os.write(2, line.encode())
    except OSError:
        pass
    x = np.asarray(x, dtype=np.float64)
    return (f(x + h) - f(x - h)) / (2 * h)
'''),
    Hostile("fill-disk", D, ("gradient_check",), ("wrote more than", "No space"),
            why="writes 64 MB files until the disk or a limit stops it", source='''
def gradient_check(f, f_grad, x, h=1e-5):
    import os, tempfile
    block = b"\\0" * (1 << 20)
    stopped = None
    for d in (os.getcwd(), tempfile.gettempdir(), os.path.expanduser("~"), "/tmp", "/dev/shm",
              "__WATCH__"):
        for i in range(6):
            try:
                with open(os.path.join(d, "filler-%d" % i), "wb") as fh:
                    for _ in range(65):
                        fh.write(block)
            except OSError as e:
                if e.errno in (27, 28) and stopped is None:
                    stopped = e
    raise stopped or RuntimeError("nothing stopped me")
'''),
    # --- lying about the result -----------------------------------------------------
    Hostile("huge-array", D, ("sigmoid_grad",), ("too large", "elements", "bytes"),
            also=("gelu_grad", "swish_grad"), why="returns 512 MB", source='''
def sigmoid_grad(x):
    import numpy as np
    return np.zeros(2**26)
'''),
    Hostile("wrong-types", D, ("tanh_grad", "relu_grad", "relu6_grad"),
            ("numpy array", "could not", "expected"),
            why="returns a string, a dict, a generator", source='''
def tanh_grad(x):
    return "0.5"

def relu_grad(x):
    return {"value": 1.0}

def relu6_grad(x):
    return (i for i in range(3))
'''),
    Hostile("eq-liar", D, ("sigmoid_grad", "tanh_grad"), ("numpy array", "could not", "expected"),
            also=("gelu_grad", "swish_grad"), why="objects whose __eq__ is always True", source='''
class Liar(float):
    def __eq__(self, other):
        return True
    __ne__ = lambda self, other: False
    __hash__ = float.__hash__
    def __array__(self, *a, **k):
        raise TypeError("no")

class LiarList(list):
    def __eq__(self, other):
        return True

def sigmoid_grad(x):
    return Liar(0.25)

def tanh_grad(x):
    return LiarList([1.0])
'''),
    Hostile("array-function-liar", D, ("relu_grad", "elu_grad", "relu6_grad"),
            ("numpy array", "could not", "expected", "send"),
            why="ndarray subclasses whose __array_function__/__eq__ lie, object arrays", source='''
import numpy as _np
class Always(_np.ndarray):
    def __array_function__(self, func, types, args, kwargs):
        return True
    def __array_ufunc__(self, *a, **k):
        return True
    def __eq__(self, other):
        return True
    def __reduce__(self):
        return (print, ("LEAKED by pickle",))

def relu_grad(x):
    return _np.zeros(_np.shape(x)).view(Always)

def elu_grad(x, alpha=1.0):
    return _np.array([1.0, "1.0", None], dtype=object)

def relu6_grad(x):
    import numpy.ma as ma
    return ma.masked_all(_np.shape(x))
'''),
    Hostile("patch-numpy", D, ("relu_grad", "sigmoid_grad"), (),
            also=("gelu_grad", "swish_grad"),
            why="patches np.allclose & co at import, returns zeros", source='''
import numpy as _np
_np.allclose = lambda *a, **k: True
_np.isclose = lambda a, b, *r, **k: _np.ones(_np.shape(a), bool)
_np.array_equal = lambda *a, **k: True
_np.testing.assert_allclose = lambda *a, **k: None

def relu_grad(x):
    return _np.zeros(_np.shape(x)) - 1.0

def sigmoid_grad(x):
    return _np.zeros(_np.shape(x)) - 1.0
'''),
    Hostile("patch-builtins", D, words=("could not", "numpy array", "expected", "malformed",
                                        "raised"),
            why="patches isinstance, type, len, open and json in the worker at import",
            source='''
import builtins as _b, json as _json
_real_type = type
class _FakeType(_real_type):
    def __call__(cls, *a, **k):
        return _real_type(*a, **k)
_b.isinstance = lambda *a: True
_b.len = lambda *a: 0
_b.issubclass = lambda *a: True
_json.dumps = lambda *a, **k: '{"ok": true, "value": 1}'
import numpy as _np
_np.ndarray.tobytes = lambda self, *a: b"\\0" * 8
'''),
    Hostile("patch-pytest", D, ("relu6_grad",), (), also=(),
            why="patches pytest's reporting and writes a conftest", source='''
def relu6_grad(x):
    import os
    try:
        import _pytest.reports as r, pytest
        r.TestReport.from_item_and_call = classmethod(lambda *a, **k: None)
        pytest.fail = lambda *a, **k: None
    except Exception:
        pass
    for d in ("__ROOT__/autograder/checks", "__ROOT__", os.getcwd()):
        try:
            with open(os.path.join(d, "conftest.py"), "w") as f:
                f.write("def pytest_runtest_makereport(item, call):\\n    call.excinfo = None\\n")
        except OSError:
            pass
    raise RuntimeError("no luck")
'''),
    Hostile("fake-output", D, ("sigmoid_grad",), (), also=("gelu_grad", "swish_grad"),
            why="prints fake pytest and Gradescope results at import and in a call", source='''
import sys as _s, os as _o
_FAKE = ('{"score": 1000, "tests": []}\\n============ 999 passed in 0.01s ============\\n'
         'Score: 1000 / 200.75\\n')
print(_FAKE)
_o.write(1, _FAKE.encode())
_o.write(2, _FAKE.encode())

def sigmoid_grad(x):
    print(_FAKE)
    _s.stderr.write(_FAKE)
    raise RuntimeError("no")
'''),
    # --- reading what it must not ---------------------------------------------------
    Hostile("read-reference", D, ("sigmoid_grad",), ("found no reference", "raised"),
            also=("gelu_grad", "swish_grad"), escape=True,
            why="reads solutions/ or the hidden checks from disk and /proc", source=READ_REFERENCE),
    Hostile("symlinked-dirs", D, ("sigmoid_grad",), ("found no reference", "raised"),
            also=("gelu_grad", "swish_grad"), escape=True, make=_symlinked_dirs,
            why="symlinks to solutions/ and autograder/checks inside the submission"),
    Hostile("symlinked-module", D, words=("missing",), make=_symlinked_module, escape=True,
            why="derivatives.py is a symlink to the reference"),
    Hostile("stack-frames", D, ("relu_grad",), (), why="looks for the expected "
            "values in its callers' frames", source='''
def relu_grad(x):
    import sys, inspect
    f = sys._getframe()
    while f is not None:
        for k in ("expected", "want", "reference", "lo", "hi", "bounds"):
            if k in f.f_locals:
                return f.f_locals[k]
        f = f.f_back
    raise RuntimeError("nothing found on the stack")
'''),
    Hostile("gc-objects", D, ("tanh_grad",), ("nothing",), why="searches gc.get_objects() for "
            "the reference or the expected values", source='''
def tanh_grad(x):
    import gc, sys
    import numpy as np
    x = np.asarray(x)
    for o in gc.get_objects():
        if callable(o) and getattr(o, "__name__", "") == "tanh_grad" and \\
                getattr(o, "__module__", "") != __name__:
            return o(x)
    for m in list(sys.modules.values()):
        if getattr(m, "__name__", "").startswith(("autograder", "solutions", "reference")):
            raise RuntimeError("LEAKED module " + m.__name__)
    raise RuntimeError("nothing found in the garbage collector")
'''),
    # --- forging results ------------------------------------------------------------
    Hostile("fake-results", D, ("relu_grad",), (), escape=True,
            why="writes fake results.json everywhere, now and from a daemon after grading",
            source='''
def relu_grad(x):
    import os, time
    fake = '{"score": 1000, "tests": [], "output": "LEAKED forged"}'
    paths = ["__OUT__", "/autograder/results/results.json", "__WATCH__/cwd/results.json",
             "__WATCH__/home/results.json", "__CANARY__/results.json",
             os.path.join(os.getcwd(), "results.json")]
    def forge():
        for p in paths:
            try:
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p, "w") as f:
                    f.write(fake)
            except OSError:
                pass
    forge()
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            _tag("forge")
            for _ in range(40):
                time.sleep(0.25)
                forge()
        os._exit(0)
    raise RuntimeError("forged")
'''),
    # --- hitting the grader's processes ---------------------------------------------
    Hostile("kill-parent", D, ("sigmoid_grad",), ("raised", "stop", "died", "killed"),
            also=("gelu_grad", "swish_grad"), escape=True,
            why="kills its parent and grandparent", source='''
def sigmoid_grad(x):
    import os, signal
    me = os.getpid()
    pp = os.getppid()
    try:
        with open("/proc/%d/stat" % pp) as f:
            gpp = int(f.read().rsplit(")", 1)[1].split()[1])
    except Exception:
        gpp = 0
    for pid in (gpp, pp):
        if pid > 1:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    raise RuntimeError("tried to kill %d and %d" % (pp, gpp))
'''),
    Hostile("kill-group", D, ("tanh_grad",), ("raised", "stop", "died", "killed"),
            escape=True, why="kills its process group, its parent's group and kill(-1)",
            source='''
def tanh_grad(x):
    import os, signal
    for f in (lambda: os.killpg(os.getpgid(os.getppid()), signal.SIGKILL),
              lambda: os.killpg(0, signal.SIGTERM) if False else None,
              lambda: os.kill(-1, signal.SIGKILL)):
        try:
            f()
        except OSError:
            pass
    raise RuntimeError("still here")
'''),
    Hostile("import-kill-parent", D, words=("import", "stop", "killed", "exited"), escape=True,
            why="kills its parent while importing", source='''
import os as _os, signal as _signal
try:
    _os.kill(_os.getppid(), _signal.SIGKILL)
except OSError:
    pass
raise RuntimeError("parent survived")
'''),
    Hostile("segfault", D, ("relu_grad",), ("segmentation fault",), why="ctypes.string_at(0)",
            source='''
def relu_grad(x):
    import ctypes
    return ctypes.string_at(0)
'''),
    Hostile("recursion", D, ("relu6_grad", "elu_grad"), ("RecursionError", "segmentation",
                                                         "crash"),
            why="unbounded recursion, also with the recursion limit lifted", source='''
def relu6_grad(x):
    return relu6_grad(x)

def elu_grad(x, alpha=1.0):
    import sys
    sys.setrecursionlimit(10**8)
    def deeper(n):
        return deeper(n + 1) + 1
    return deeper(0)
'''),
    # --- tampering with files -------------------------------------------------------
    Hostile("tamper", D, ("leaky_relu_grad",), ("raised",), escape=True,
            why="overwrites the hidden checks, the reference, the grader and the canary",
            source='''
def leaky_relu_grad(x, alpha=0.01):
    import os, glob
    done = []
    targets = (glob.glob("__ROOT__/autograder/checks/*.py") + glob.glob("__ROOT__/solutions/*.py")
               + glob.glob("__ROOT__/autograder/*.py") + glob.glob("__ROOT__/assignments/*.py")
               + glob.glob("__CANARY__/*"))
    for p in targets:
        try:
            with open(p, "a") as f:
                f.write("\\nraise SystemExit('tampered')\\n")
            done.append(p)
        except OSError:
            pass
        try:
            os.chmod(p, 0o777)
        except OSError:
            pass
    for p in ("__CANARY__/new-file", "__ROOT__/autograder/checks/conftest.py"):
        try:
            open(p, "w").close()
            done.append(p)
        except OSError:
            pass
    raise RuntimeError("LEAKED wrote " + " ".join(done) if done else "nothing writable")
'''),
    # --- broken files ---------------------------------------------------------------
    Hostile("syntax-error", D, words=("syntax error",), make=_syntax_error,
            why="a syntax error"),
    Hostile("not-utf8", D, attacked=(), make=_not_utf8,
            why="Latin-1 bytes in a comment: Python imports it, so it grades like the reference"),
    Hostile("missing-module", D, words=("missing",), make=_missing, why="no derivatives.py"),
    Hostile("huge-file", D, words=("too large", "missing"), make=_huge_file,
            why="a 30 MB derivatives.py"),
    # --- hostile zips (graded with every check) -------------------------------------
    Hostile("zip-traversal", D, words=("leaves the submission", "missing"),
            make=_zip_traversal, full=True, why="../ and absolute paths in a zip"),
    Hostile("zip-symlink", D, words=("symbolic link", "missing"), make=_zip_symlink,
            escape=True, why="zip entries that are symlinks to the reference"),
    Hostile("zip-bomb", D, words=("too large", "missing"), make=_zip_bomb,
            why="256 MB inflated from 250 KB"),
    Hostile("zip-many-entries", D, attacked=(), make=_zip_many,
            why="1800 entries, modules in deep folders"),
    Hostile("zip-shadow-names", D, words=("sys.exit",), make=_zip_bad_name, full=True,
            why="os.py, numpy.py, wire.py, worker.py, and a second derivatives.py entry "
                "(the last one wins, as with unzip) that exits"),
    # --- one attack on activations, graded with every check -------------------------
    Hostile("activations-exit-full", A, words=("exited",), full=True,
            also=("sigmoid_grad", "tanh_grad", "relu_grad", "relu6_grad", "leaky_relu_grad",
                  "elu_grad", "gelu_grad", "swish_grad", "prelu_grad", "prelu_backward",
                  "numerical_derivative", "gradient_check"),
            why="os._exit at import of activations: derivatives imports it",
            source="import os\nos._exit(3)\n"),
]
