"""Landlock and prctl for the jail's processes (runtime; standard library only).

``landlock(read, write)`` confines the calling process and its future children: read and
execute only under ``read``, write only under ``write``; no TCP, no signals out of the
domain where the kernel's ABI allows. ``prctl`` sets the process flags the worker and its
children rely on (parent-death signal, not dumpable, child subreaper, no new privileges).
"""
import ctypes
import os
import stat
import struct

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38

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


_LL_EXECUTE, _LL_WRITE_FILE, _LL_READ_FILE, _LL_READ_DIR = 1, 2, 4, 8
_LL_TRUNCATE, _LL_IOCTL_DEV = 1 << 14, 1 << 15
_LL_FILE_RIGHTS = _LL_EXECUTE | _LL_WRITE_FILE | _LL_READ_FILE | _LL_TRUNCATE | _LL_IOCTL_DEV
_LL_READ = _LL_EXECUTE | _LL_READ_FILE | _LL_READ_DIR
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446


def landlock(read, write) -> str:
    """Restrict this process and its future children with Landlock (Linux >= 5.13): read
    and execute only under ``read``, write only under ``write`` (and to /dev's devices);
    no TCP (ABI >= 4); no signals to, or abstract sockets of, processes outside this
    domain (ABI >= 6: not the worker, not the grader). Returns what was applied, or why not.
    """
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
                if not stat.S_ISDIR(os.fstat(pfd).st_mode):
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
