"""The wire format between the grader, the sandbox worker and its module children.

Standard library and numpy only: this file is copied next to the sandbox's runtime
(``sandbox/runtime/``) and imported by it inside the jail, and imported by the grader, so it
must not import anything from the ``autograder`` package.

A frame is ``b"AGW1"`` + an 8-byte big-endian payload length + the payload.  The payload is a
4-byte big-endian header length, a UTF-8 JSON header (a dict), and then the blobs the header
lists in ``"blobs"`` (their byte lengths), each blob starting at a multiple of 64 bytes of
the payload so arrays can be used in place, aligned.  Arrays travel as ``.npy`` blobs
(``np.save(..., allow_pickle=False)``); they are read back by validating the ``.npy`` header
first (dtype kind, shape, element count, exact data length) and only then viewing the data,
so a forged header can't make the reader allocate or unpickle anything.

Values inside a header are plain JSON (None, bool, int, float, str, lists) or a one-key
tag object:

=========  =================================================================
``a``      blob index: an ndarray
``s``      blob index: a numpy scalar (requests and ``args_after`` only)
``b``      blob index: bytes
``t``      list: a tuple
``d``      list of ``[key, value]`` pairs: a dict
``c``      ``[real, imag]``: a Python complex
``fn``     ``"module.name"``: a :class:`FunctionRef` (requests, ``args_after``)
``same``   blob index of a request argument that the call left unchanged
``u``      text: an argument that could not be sent back (``args_after`` only)
=========  =================================================================
"""

from __future__ import annotations

import io
import json
import os
import re
import select
import struct
import time
import types

import numpy as np

MAGIC = b"AGW1"
_PREFIX = struct.Struct(">4sQ")
_HLEN = struct.Struct(">I")
_ALIGN = 64
NUMERIC_KINDS = "biufc"
_NPY_MAGIC = b"\x93NUMPY"


class WireError(Exception):
    """A frame or value that breaks the protocol (malformed, too large, forbidden type)."""


class BadValue(Exception):
    """A value that can't be sent back; the message is meant for the student."""


class Caps:
    """Size limits applied on both sides of the wire."""

    __slots__ = ("max_array_elements", "max_frame_bytes", "max_depth", "max_items", "max_str")

    def __init__(self, max_array_elements=2**24, max_frame_bytes=256 * 2**20, max_depth=16,
                 max_items=100_000, max_str=2**20):
        self.max_array_elements = int(max_array_elements)
        self.max_frame_bytes = int(max_frame_bytes)
        self.max_depth = int(max_depth)
        self.max_items = int(max_items)
        self.max_str = int(max_str)

    def as_dict(self):
        return {k: getattr(self, k) for k in self.__slots__}


_REF_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


class FunctionRef:
    """A function passed as an argument by name: ``FunctionRef("activations.sigmoid")`` is the
    student's function (imported from the submission), ``FunctionRef("numpy.sin")`` numpy's."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        if not isinstance(name, str) or not _REF_RE.match(name):
            raise ValueError(f"FunctionRef needs 'module.function', got {name!r}")
        object.__setattr__(self, "name", name)

    def __setattr__(self, key, value):
        raise AttributeError("FunctionRef is immutable")

    @property
    def module(self) -> str:
        return self.name.rsplit(".", 1)[0]

    @property
    def function(self) -> str:
        return self.name.rsplit(".", 1)[1]

    def __repr__(self):
        return f"FunctionRef({self.name!r})"

    def __eq__(self, other):
        return type(other) is FunctionRef and other.name == self.name

    def __hash__(self):
        return hash(("FunctionRef", self.name))


class Unsendable:
    """Stands in ``args_after`` for an argument the student's call turned into something
    that can't be sent back (e.g. a list it appended a function to)."""

    __slots__ = ("description",)

    def __init__(self, description: str):
        self.description = description

    def __repr__(self):
        return f"Unsendable({self.description!r})"

    def __eq__(self, other):
        return type(other) is Unsendable and other.description == self.description

    __hash__ = None


# ----------------------------------------------------------------------------- frames


def pack(header: dict, blobs=()) -> bytes:
    """Build a whole frame (prefix included) from a JSON-able header and blobs."""
    blobs = list(blobs)
    header = dict(header)
    header["blobs"] = [len(b) for b in blobs]
    hjson = json.dumps(header, separators=(",", ":"), allow_nan=True).encode()
    parts = [b"", _HLEN.pack(len(hjson)), hjson]
    pos = _HLEN.size + len(hjson)
    for b in blobs:
        pad = (-pos) % _ALIGN
        if pad:
            parts.append(b"\0" * pad)
            pos += pad
        parts.append(b)
        pos += len(b)
    parts[0] = _PREFIX.pack(MAGIC, pos)
    return b"".join(parts)


# The JSON header carries plain values only (arrays travel as blobs); a header past this is
# refused before it is parsed: parsing a 40 MB one took 3.4 s and 195 MB.
MAX_HEADER_BYTES = 8 * 2**20


def unpack(payload, max_blobs: int = 100_000, max_header: int = MAX_HEADER_BYTES):
    """Split a payload into (header dict, list of memoryview blobs). Raises WireError."""
    mv = memoryview(payload)
    if len(mv) < _HLEN.size:
        raise WireError("truncated frame")
    (hlen,) = _HLEN.unpack_from(mv, 0)
    start = _HLEN.size
    if hlen > len(mv) - start:
        raise WireError("frame header longer than the frame")
    if hlen > max_header:
        raise WireError(f"frame header of {hlen} bytes, more than the {max_header} allowed "
                        "(plain values are capped; arrays travel as blobs)")
    try:
        header = json.loads(bytes(mv[start:start + hlen]).decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise WireError(f"frame header is not JSON ({e.__class__.__name__})") from None
    if type(header) is not dict:
        raise WireError("frame header is not a JSON object")
    sizes = header.get("blobs", [])
    if type(sizes) is not list or len(sizes) > max_blobs:
        raise WireError("bad blob table")
    pos = start + hlen
    blobs = []
    for n in sizes:
        if type(n) is not int or n < 0:
            raise WireError("bad blob size")
        pos += (-pos) % _ALIGN
        if pos + n > len(mv):
            raise WireError("blob runs past the end of the frame")
        blobs.append(mv[pos:pos + n])
        pos += n
    if pos != len(mv):
        raise WireError("trailing bytes after the last blob")
    return header, blobs


def _poll_wait(fd: int, events: int, deadline):
    if deadline is None:
        timeout_ms = -1
    else:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        timeout_ms = max(1, int(left * 1000) + 1)
    p = select.poll()
    p.register(fd, events)
    while True:
        try:
            ready = p.poll(timeout_ms)
        except InterruptedError:  # pragma: no cover - PEP 475 retries for us
            continue
        if not ready:
            raise TimeoutError
        return ready[0][1]


def write_all(fd: int, data, deadline=None):
    """Write all of ``data`` to ``fd``. With a deadline the fd must be non-blocking."""
    mv = memoryview(data)
    while mv:
        if deadline is not None:
            _poll_wait(fd, select.POLLOUT, deadline)
        try:
            n = os.write(fd, mv[: 1 << 20])
        except BlockingIOError:
            continue
        mv = mv[n:]


def _read_into(fd: int, buf: memoryview, deadline):
    got = 0
    f = io.FileIO(fd, "rb", closefd=False)
    while got < len(buf):
        if deadline is not None:
            _poll_wait(fd, select.POLLIN, deadline)
        try:
            n = f.readinto(buf[got:])
        except BlockingIOError:
            n = None
        if n is None:
            continue
        if n == 0:
            raise EOFError("pipe closed")
        got += n


def prefix(payload_len: int) -> bytes:
    """The prefix to put before a payload to forward it as a frame."""
    return _PREFIX.pack(MAGIC, payload_len)


def read_frame(fd: int, max_bytes: int, deadline=None) -> bytearray:
    """Read one frame's payload. EOFError on a closed pipe, TimeoutError past the deadline
    (monotonic seconds), WireError on a bad prefix or a frame over ``max_bytes``."""
    pre = bytearray(_PREFIX.size)
    _read_into(fd, memoryview(pre), deadline)
    magic, n = _PREFIX.unpack(pre)
    if magic != MAGIC:
        raise WireError("bad frame prefix (something else wrote to the pipe)")
    if n > max_bytes:
        raise WireError(f"frame of {n} bytes is over the {max_bytes}-byte limit")
    payload = bytearray(n)
    _read_into(fd, memoryview(payload), deadline)
    return payload


# ----------------------------------------------------------------------------- arrays


_blob_header_cache: dict = {}


def array_blob(a: np.ndarray) -> bytes:
    """``a`` in the ``.npy`` format, byte for byte what ``np.save(f, a, allow_pickle=False)``
    writes; the header (numpy's own ``np.lib.format`` code) is cached per dtype and shape."""
    if a.dtype.kind not in NUMERIC_KINDS or a.dtype.hasobject:
        raise ValueError(f"not a numeric array: {a.dtype}")
    fortran = bool(a.flags.f_contiguous and not a.flags.c_contiguous)
    key = (a.dtype.str, a.shape, fortran)
    head = _blob_header_cache.get(key)
    if head is None:
        d = {"descr": np.lib.format.dtype_to_descr(a.dtype), "fortran_order": fortran,
             "shape": a.shape}
        buf = io.BytesIO()
        try:
            np.lib.format.write_array_header_1_0(buf, d)
        except ValueError:
            buf = io.BytesIO()
            np.lib.format.write_array_header_2_0(buf, d)
        head = buf.getvalue()
        if len(_blob_header_cache) > 512:
            _blob_header_cache.clear()
        _blob_header_cache[key] = head
    return head + a.tobytes(order="F" if fortran else "C")


_header_cache: dict = {}


def load_array(blob, caps: Caps, readonly: bool = False, copy: bool = False) -> tuple:
    """Validate and view an ``.npy`` blob. Returns (array, data memoryview, fortran order).

    The array is a view of ``blob`` (read-only for good with ``readonly``: its buffer is
    read-only, so ``setflags(write=True)`` fails) unless ``copy`` asks for its own memory."""
    mv = memoryview(blob)
    if len(mv) < 10 or bytes(mv[:6]) != _NPY_MAGIC:
        raise WireError("array blob is not in .npy format")
    # the header's length is in the bytes after the magic (2 bytes for v1, 4 for v2/v3)
    major = mv[6]
    hl_end = 10 if major == 1 else 12
    if len(mv) < hl_end:
        raise WireError("array blob is not in .npy format")
    hlen = int.from_bytes(mv[8:hl_end], "little")
    offset = hl_end + hlen
    if offset > len(mv) or hlen > 65536:
        raise WireError("bad .npy header length")
    key = bytes(mv[:offset])
    parsed = _header_cache.get(key)
    if parsed is None:
        f = io.BytesIO(key)
        try:
            major, minor = np.lib.format.read_magic(f)
            if (major, minor) == (1, 0):
                parsed = np.lib.format.read_array_header_1_0(f)
            elif (major, minor) in ((2, 0), (3, 0)):
                parsed = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"npy version {major}.{minor}")
        except (ValueError, SyntaxError, TypeError, OverflowError, MemoryError) as e:
            raise WireError(f"bad .npy header: {e}") from None
        if f.tell() != offset:
            raise WireError("bad .npy header length")
        if len(_header_cache) > 512:
            _header_cache.clear()
        _header_cache[key] = parsed
    shape, fortran, dtype = parsed
    if dtype.kind not in NUMERIC_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise WireError(f"array of dtype {dtype} is not numeric")
    if any(type(d) is not int or d < 0 for d in shape) or len(shape) > 32:
        raise WireError("bad array shape")
    count = 1
    for d in shape:
        count *= d
    if count > caps.max_array_elements:
        raise WireError(f"array of {count} elements is over the {caps.max_array_elements} limit")
    if len(mv) - offset != count * dtype.itemsize:
        raise WireError("array data length does not match its header")
    data = mv[offset:]
    src = data.toreadonly() if readonly else data
    arr = np.frombuffer(src, dtype=dtype, count=count).reshape(shape, order="F" if fortran else "C")
    if readonly:
        arr.flags.writeable = False
    elif copy or not arr.flags.writeable:
        arr = arr.copy(order="K")
    return arr, data, fortran


# ----------------------------------------------------------------------------- describing

_PLURAL = {"a function": "functions", "a generator": "generators", "a class": "classes",
           "a set": "sets", "a module": "modules", "a string": "strings"}


def describe(v) -> str:
    """A short phrase for a value's kind, for messages to students."""
    t = type(v)
    if isinstance(v, (types.FunctionType, types.BuiltinFunctionType, types.MethodType,
                      types.LambdaType, np.ufunc)) or t.__name__ == "partial":
        return "a function"
    if isinstance(v, type):
        return "a class"
    if isinstance(v, types.GeneratorType):
        return "a generator"
    if isinstance(v, types.ModuleType):
        return "a module"
    if isinstance(v, (set, frozenset)):
        return "a set"
    if isinstance(v, np.ndarray):
        if v.dtype.kind not in NUMERIC_KINDS:
            return f"an array of dtype {v.dtype}"
        return "a numpy array"
    if isinstance(v, str):
        return "a string"
    if t.__name__ in ("map", "filter", "zip", "range", "reversed", "enumerate"):
        return f"a {t.__name__} object (an iterator: use np.array(list(...)))"
    name = getattr(t, "__qualname__", "?")
    art = "an" if name[:1].lower() in "aeiou" else "a"
    return f"{art} {name} object"


def _plural(desc: str) -> str:
    if desc in _PLURAL:
        return _PLURAL[desc]
    if desc.startswith("an array of dtype"):
        return "arrays of dtype" + desc[len("an array of dtype"):]
    if desc.endswith(" object"):
        return desc.split(" ", 1)[1] + "s"
    return "items that are " + desc


def _fmt_path(path) -> str:
    return "".join(f"[{p!r}]" for p in path)


# ----------------------------------------------------------------------------- encoding


class _Bad(Exception):
    def __init__(self, path, what):
        self.path = path
        self.what = what


class Encoder:
    """Turns a Python value into a JSON-able tree plus blobs.

    ``mode`` is ``"request"`` (grader side: only plain data and FunctionRef; anything else is
    a TypeError, a bug in the check), ``"result"`` (child side: converts numpy scalars to 0-d
    arrays, ndarray subclasses to plain arrays; anything else is BadValue
    with a message for the student) or ``"after"`` (child side, ``args_after``).
    """

    def __init__(self, caps: Caps, mode: str = "request", *, same=None, refs=None):
        self.caps = caps
        self.mode = mode
        self.blobs: list = []
        self.items = 0
        self.bytes = 0
        self.sent: dict = {}  # request mode: blob index -> the object sent there
        self.ref_names: list = []  # request mode: the FunctionRef names sent
        self.same = same or {}  # after mode: id(obj) -> (obj, index, data, readonly, shape, dtype)
        self.refs = refs or {}  # after mode: id(fn) -> (fn, name)

    # -- public
    def encode(self, v):
        try:
            return self._enc(v, 0, ())
        except _Bad as b:
            raise self._error(v, b.path, b.what) from None

    def _error(self, top, path, what):
        if self.mode == "request":
            return TypeError(f"can't send {what} (at {_fmt_path(path) or 'top level'})")
        if not path:
            return BadValue(f"returned {what}; expected a numpy array")
        if len(path) == 1 and isinstance(top, (list, tuple)) and not isinstance(top, np.ndarray):
            try:
                descs = {describe(x) for x in list.__iter__(top)} if isinstance(top, list) \
                    else {describe(x) for x in tuple.__iter__(top)}
            except Exception:  # pragma: no cover
                descs = set()
            if len(descs) == 1 and what == next(iter(descs)):
                kind = "list" if isinstance(top, list) else "tuple"
                return BadValue(f"returned a {kind} of {_plural(what)}; expected a numpy array")
        return BadValue(f"returned {describe_container(top)} whose element {_fmt_path(path)} "
                        f"is {what}; expected numpy arrays (or numbers, lists, tuples or dicts "
                        f"of them)")

    def _blob(self, data, path) -> int:
        self.bytes += len(data) + _ALIGN
        if self.bytes > self.caps.max_frame_bytes:
            raise _Bad(path, f"more data than the {self.caps.max_frame_bytes >> 20} MB that "
                             f"can be sent back")
        self.blobs.append(data)
        return len(self.blobs) - 1

    def _array(self, a: np.ndarray, path, tag="a", original=None):
        if a.dtype.kind not in NUMERIC_KINDS or a.dtype.fields is not None \
                or a.dtype.subdtype is not None:
            raise _Bad(path, f"an array of dtype {a.dtype}")
        if a.size > self.caps.max_array_elements:
            raise _Bad(path, f"an array of {a.size} elements (at most "
                             f"{self.caps.max_array_elements} can be sent back)")
        i = self._blob(array_blob(a), path)
        if self.mode == "request":
            self.sent[i] = a if original is None else original
        return {tag: i}

    def _enc(self, v, depth, path):
        if self.mode != "after":
            return self._enc1(v, depth, path)
        n = len(self.blobs)
        try:
            return self._enc1(v, depth, path)
        except _Bad as bad:  # args_after: mark just this part as unsendable
            del self.blobs[n:]
            return {"u": bad.what}

    def _enc1(self, v, depth, path):
        self.items += 1
        if self.items > self.caps.max_items:
            raise _Bad(path, f"more than {self.caps.max_items} items")
        if depth > self.caps.max_depth:
            raise _Bad(path, f"data nested more than {self.caps.max_depth} levels deep")
        t = type(v)
        if v is None or t is bool or t is float:
            return v
        if t is int:
            if v.bit_length() > 1024:
                raise _Bad(path, "an integer too large to send")
            return v
        if t is str:
            if len(v) > self.caps.max_str:
                raise _Bad(path, f"a string of {len(v)} characters")
            return v
        if self.mode == "after":
            hit = self.same.get(id(v))
            if hit is not None and hit[0] is v and _unchanged(*hit):
                return {"same": hit[1]}
            ref = self.refs.get(id(v))
            if ref is not None and ref[0] is v:
                return {"fn": ref[1]}
        if t is np.ndarray:
            return self._array(v, path)
        if t is complex:
            return {"c": [v.real, v.imag]}
        if t is bytes:
            return {"b": self._blob(v, path)}
        if t is list or t is tuple:
            seq = [self._enc(x, depth + 1, path + (i,)) for i, x in enumerate(v)]
            return seq if t is list else {"t": seq}
        if t is dict:
            return {"d": [[self._key(k, depth, path), self._enc(x, depth + 1, path + (k,))]
                          for k, x in dict.items(v)]}
        if isinstance(v, np.generic):
            a = np.asarray(v)
            if self.mode == "result":
                return self._array(a, path)
            return self._array(a, path, tag="s", original=v)
        if t is FunctionRef and self.mode == "request":
            self.ref_names.append(v.name)
            return {"fn": v.name}
        if self.mode == "request":
            raise _Bad(path, f"{describe(v)} ({t.__module__}.{t.__qualname__})")
        # result / after: convert what has an unambiguous plain form
        if isinstance(v, np.ndarray):  # a subclass: send the plain array it wraps
            return self._array(np.ndarray.view(v, np.ndarray), path)
        if isinstance(v, bool):  # pragma: no cover - bool can't be subclassed
            return bool(v)
        if isinstance(v, int):
            return self._enc(int.__index__(v), depth, path)
        if isinstance(v, float):
            return float.__float__(v)
        if isinstance(v, str):
            return self._enc(str.__str__(v), depth, path)
        if isinstance(v, (bytearray, memoryview)):
            return {"b": self._blob(bytes(v), path)}
        if isinstance(v, list):
            return self._enc(list(list.__iter__(v)), depth, path)
        if isinstance(v, tuple):
            return self._enc(tuple(tuple.__iter__(v)), depth, path)
        if isinstance(v, dict):
            return self._enc(dict(dict.items(v)), depth, path)
        raise _Bad(path, describe(v))

    def _key(self, k, depth, path):
        t = type(k)
        if k is None or t in (bool, int, float, str):
            return self._enc(k, depth + 1, path)
        if t is tuple and all(x is None or type(x) in (bool, int, float, str) for x in k):
            return self._enc(k, depth + 1, path)
        if self.mode != "request" and isinstance(k, np.generic) and k.dtype.kind in "biuf":
            return k.item()
        raise _Bad(path, f"a dict with a key that is {describe(k)}")


def describe_container(v) -> str:
    if isinstance(v, list):
        return "a list"
    if isinstance(v, tuple):
        return "a tuple"
    if isinstance(v, dict):
        return "a dict"
    return describe(v)


def _unchanged(obj, idx, data, readonly, shape, dtype, fortran) -> bool:
    """Is a decoded request argument still exactly what was received?"""
    if type(obj) is not np.ndarray:
        return True  # numpy scalars are immutable
    try:
        if obj.shape != shape or obj.dtype != dtype:
            return False
        if readonly and not obj.flags.writeable:
            return True  # a view of a read-only buffer: it can't have changed
        order = "F" if fortran else "C"
        if obj.nbytes < 65536:
            return obj.tobytes(order=order) == data
        now = np.ravel(obj, order=order).view(np.uint8)
        return bool(np.array_equal(now, np.frombuffer(data, dtype=np.uint8)))
    except Exception:
        return False


# ----------------------------------------------------------------------------- decoding


class Decoder:
    """Turns a JSON tree plus blobs back into values, validating every node.

    ``allow`` is a set of the optional tags this side accepts (``"s"``, ``"fn"``, ``"same"``,
    ``"u"``).  ``resolve_ref(name)`` maps a FunctionRef name to a callable (child
    side); without it FunctionRef objects are produced.  ``originals`` maps blob indexes of a
    request to the objects the grader sent (for ``same``).
    """

    def __init__(self, blobs, caps: Caps, *, allow=(), readonly=False, resolve_ref=None,
                 originals=None, copy=False):
        self.blobs = blobs
        self.caps = caps
        self.allow = frozenset(allow)
        self.readonly = readonly
        self.copy = copy
        self.resolve_ref = resolve_ref
        self.originals = originals or {}
        self.items = 0
        self.arrays: dict = {}  # id(obj) -> (obj, index, data, readonly, shape, dtype, fortran)
        self.refs: dict = {}  # id(fn) -> (fn, name)

    def decode(self, node):
        try:
            return self._dec(node, 0)
        except RecursionError:
            raise WireError("data nested too deeply") from None

    def _blob(self, i):
        if type(i) is not int or not 0 <= i < len(self.blobs):
            raise WireError("bad blob reference")
        return self.blobs[i]

    def _dec(self, node, depth):
        self.items += 1
        if self.items > self.caps.max_items:
            raise WireError(f"more than {self.caps.max_items} items")
        if depth > self.caps.max_depth + 1:
            raise WireError(f"data nested more than {self.caps.max_depth} levels deep")
        t = type(node)
        if node is None or t in (bool, int, float):
            return node
        if t is str:
            if len(node) > self.caps.max_str:
                raise WireError("string too long")
            return node
        if t is list:
            return [self._dec(x, depth + 1) for x in node]
        if t is not dict or len(node) != 1:
            raise WireError("malformed value")
        (tag, arg), = node.items()
        if tag == "a":
            arr, data, fortran = load_array(self._blob(arg), self.caps, self.readonly,
                                            self.copy)
            self.arrays[id(arr)] = (arr, arg, data, self.readonly, arr.shape, arr.dtype, fortran)
            return arr
        if tag == "t" and type(arg) is list:
            return tuple(self._dec(x, depth + 1) for x in arg)
        if tag == "d" and type(arg) is list:
            out = {}
            for pair in arg:
                if type(pair) is not list or len(pair) != 2:
                    raise WireError("malformed dict")
                k = self._dec(pair[0], depth + 1)
                if not (k is None or type(k) in (bool, int, float, str) or (
                        type(k) is tuple and all(x is None or type(x) in (bool, int, float, str)
                                                 for x in k))):
                    raise WireError("bad dict key")
                out[k] = self._dec(pair[1], depth + 1)
            return out
        if tag == "b":
            return bytes(self._blob(arg))
        if tag == "c" and type(arg) is list and len(arg) == 2 and all(
                type(x) in (int, float) for x in arg):
            return complex(arg[0], arg[1])
        if tag == "s" and "s" in self.allow:
            arr, data, _ = load_array(self._blob(arg), self.caps, True)
            if arr.ndim != 0:
                raise WireError("scalar blob is not 0-d")
            val = arr[()]
            self.arrays[id(val)] = (val, arg, data, True, (), arr.dtype, False)
            return val
        if tag == "fn" and "fn" in self.allow and type(arg) is str:
            ref = FunctionRef(arg)
            if self.resolve_ref is None:
                return ref
            fn = self.resolve_ref(ref)
            self.refs[id(fn)] = (fn, arg)
            return fn
        if tag == "same" and "same" in self.allow:
            if type(arg) is not int or arg not in self.originals:
                raise WireError("bad 'same' reference")
            return self.originals[arg]
        if tag == "u" and "u" in self.allow and type(arg) is str:
            return Unsendable(arg[:500])
        raise WireError(f"unexpected value tag {tag!r}")
