"""What the jail is made of: the interpreter's folders, the files student code may read and
write, the secrets it must never reach, and the bubblewrap command lines (and their probes).

All of it is computed in the grader; the jail's own runtime (``runtime/``) only applies it.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys

from .records import SandboxError

# The grader's package: never readable by student code (see ``secrets``).
PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNTIME = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runtime")


def runtime_files() -> dict[str, str]:
    """The files copied into the jail's /runtime: name -> source path (the runtime and the
    wire protocol it shares with the grader, nothing else of the grader)."""
    files = {n: os.path.join(RUNTIME, n) for n in sorted(os.listdir(RUNTIME))
             if n.endswith(".py") and n != "__init__.py"}
    files["wire.py"] = os.path.join(PACKAGE, "wire.py")
    return files


def copy_runtime(folder: str) -> None:
    """Copy the runtime into ``folder`` (``runtime_files``), with the bytecode ``make setup``
    compiled of it where there is some: the worker loads it rather than compiling the
    runtime at every start, where it still matches the source (its modification time, kept
    in the copy, and size: Python checks, and compiles a stale one's source instead)."""
    cache = os.path.join(folder, "__pycache__")
    for name, path in runtime_files().items():
        dst = os.path.join(folder, name)
        shutil.copy2(path, dst)
        os.chmod(dst, 0o644)
        pyc = importlib.util.cache_from_source(path)
        if os.path.isfile(pyc):
            os.makedirs(cache, mode=0o755, exist_ok=True)
            dst = os.path.join(cache, os.path.basename(pyc))
            shutil.copyfile(pyc, dst)
            os.chmod(dst, 0o644)


def worker_command(info: dict, runtime: str, config: str) -> list:
    """The worker's command line. Without the site module (-S): it would run the .pth files
    and import hooks of the grader's environment, a tenth of the worker's start; the
    interpreter's package folders come in the configuration instead (``runtime/worker.py``)."""
    return [info["executable"], "-B", "-S", os.path.join(runtime, "worker.py"), config]


def _perm_ok(st, uid, gid, bits) -> bool:
    if st.st_uid == uid:
        shift = 6
    elif st.st_gid == gid:
        shift = 3
    else:
        shift = 0
    return ((st.st_mode >> shift) & bits) == bits


def unreachable(paths, uid, gid):
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
try:
    site_dirs = [p for p in site.getsitepackages() if os.path.isdir(p)]
except Exception:
    site_dirs = []
for mod in ("numpy", "matplotlib"):
    spec = importlib.util.find_spec(mod)
    if spec and spec.origin:
        home = os.path.dirname(os.path.dirname(spec.origin))
        paths.add(home)
        site_dirs += [] if home in site_dirs else [home]
info = {"executable": sys.executable, "real": os.path.realpath(sys.executable),
        "version": list(sys.version_info[:2]),
        "paths": sorted(p for p in paths if p and os.path.isdir(p)),
        "site": site_dirs,
        "numpy": importlib.util.find_spec("numpy") is not None}
"""
_info_cache: dict = {}


def runtime_info(python: str) -> dict:
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


def runtime_binds(info) -> list:
    """Directories the interpreter needs that /usr doesn't already cover (outermost only)."""
    need = []
    for p in sorted(set(info["paths"]) | {os.path.dirname(os.path.dirname(info["executable"]))}):
        if _under(p, "/usr") or any(_under(p, q) for q in need):
            continue
        need = [q for q in need if not _under(q, p)] + [p]
    return need


# Read-only for student code under Landlock, besides the interpreter's own folders.
_SYSTEM_READ = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc",
                "/proc", "/sys/devices/system/cpu")
# Never readable by student code, even inside an allowed folder (the grader installed into
# site-packages): the grader's package, the reference, the hidden checks. And the repository
# that holds them (its history, tests, other copies): not readable as a whole, though a
# Python that lives inside it (a .venv) stays readable.
def _secrets():
    from ..config import CHECKS, SOLUTIONS

    hard = [PACKAGE, str(SOLUTIONS), str(CHECKS)]
    root = os.path.dirname(PACKAGE)
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


def bwrap_base(bwrap: str) -> list:
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


_probe_cache: dict = {}


def probe_bwrap(bwrap: str, as_uid: int | None, map_uid: int | None):
    """Can bwrap start a process here in this mode? (ok, why not)."""
    key = (bwrap, as_uid is not None, map_uid is not None)
    if key in _probe_cache:
        return _probe_cache[key]
    cmd = bwrap_base(bwrap)
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



class Probes(dict):
    """``isolation.Facts.probes`` made on first use: "as-uid" (bubblewrap started as the
    sandbox's uid), "mapped" (started as root, the uid only inside its namespace), "self"
    (as the grader's own uid) -> (works, why not)."""

    def __init__(self, bwrap: str, uid: int | None):
        super().__init__()
        self.bwrap, self.uid = bwrap, uid

    def __missing__(self, mode):
        as_uid, map_uid = {"as-uid": (self.uid, None), "mapped": (None, self.uid),
                           "self": (None, None)}[mode]
        self[mode] = probe_bwrap(self.bwrap, as_uid, map_uid)
        return self[mode]


def landlock_paths(info: dict, in_jail: bool, runtime: str, submission: str, home: str) -> dict:
    """What student code may read and write under Landlock (``runtime/landlock.py``): the
    interpreter and its libraries, the system's shared files, the submission and the runtime
    read-only; its own temp folder read-write. Never the grader's repository (the reference,
    the hidden checks), other submissions, or the grader's outputs."""
    system = [p for p in _SYSTEM_READ if os.path.exists(p)]
    if in_jail:
        read = runtime_binds(info) + system + ["/runtime", "/submission"]
        write = ["/tmp"]
    else:
        read = runtime_binds(info) + system + [runtime, submission, info["real"],
                                                info["executable"]]
        write = [home]
    return {"read": _allow_minus(read, *_secrets()), "write": write}


def worker_env(tmp: str) -> dict:
    """The worker's whole environment: nothing of the grader's."""
    return {"PATH": "/usr/bin:/bin", "HOME": tmp, "TMPDIR": tmp, "MPLCONFIGDIR": tmp,
            "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "PYTHONNOUSERSITE": "1",
            "PYTHONUTF8": "1", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


def bwrap_command(bwrap: str, info: dict, map_uid: int | None, tmp_bytes: int,
                  runtime: str, submission: str, config: str) -> list:
    """The command that runs the worker inside bubblewrap: no network, no other process
    visible, read-only runtime and submission at /runtime and /submission, a private /tmp."""
    cmd = bwrap_base(bwrap)
    if map_uid is not None:
        cmd += ["--uid", str(map_uid), "--gid", str(map_uid)]
    # The private /tmp first: a runtime that lives under /tmp (a venv there) is bound on
    # top of it, not hidden by it.
    cmd += ["--size", str(tmp_bytes), "--tmpfs", "/tmp"]
    for p in runtime_binds(info):
        cmd += ["--ro-bind", p, p]
    cmd += ["--ro-bind", runtime, "/runtime", "--ro-bind", submission, "/submission",
            "--chdir", "/tmp"]
    for k, v in worker_env("/tmp").items():
        cmd += ["--setenv", k, v]
    return cmd + worker_command(info, "/runtime", config)
