"""The reference's experiment runs the grader replays, kept on disk from one grade to the next.

A replay (``judge.replayed``) depends only on the reference in ``solutions/``, numpy, Python,
the machine and the call's arguments: the same every time. Computing the checks' replays
costs about a third of a full grade's CPU, so each one is computed once per reference and
machine, written to ``config.REPLAY_CACHE`` and read back by every later grade. A grade
never depends on the cache being there: one that can't be read, or can't be written (a
read-only install, a full disk), is passed over and the replay is computed again.

The cache sits beside the grader's own code, with the same protection: code that could
write there could as well rewrite the grader. It is stored in the wire format's plain data
(``wire.pack``: JSON and ``.npy`` blobs, never a pickle), and each file names the
reference, the versions (a folder per fingerprint) and the call (a hash of its arguments) it
holds, so a stale one is never read.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import tempfile
from functools import lru_cache

from . import config, wire

FORMAT = "replays 1"
_CAPS = wire.Caps(max_items=10**7)


@lru_cache(maxsize=1)
def reference_fingerprint() -> str:
    """A hash of what a replay's value depends on besides its arguments."""
    h = hashlib.sha256(FORMAT.encode())
    for f in sorted(config.SOLUTIONS.glob("*.py")):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    h.update(f"numpy {importlib.metadata.version('numpy')} python {platform.python_version()} "
             f"{platform.machine()}".encode())
    return h.hexdigest()[:20]


def _path(key) -> str:
    call = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
    return os.path.join(config.REPLAY_CACHE, reference_fingerprint(), f"{call}.agw")


def load(key):
    """The replay stored for ``key`` (``judge._key`` of the call), or None."""
    try:
        with open(_path(key), "rb") as f:
            payload = wire.read_frame(f.fileno(), _CAPS.max_frame_bytes)
        header, blobs = wire.unpack(payload, max_blobs=_CAPS.max_items)
        return wire.Decoder(blobs, _CAPS, readonly=True).decode(header["value"])
    except (OSError, EOFError, ValueError, KeyError, wire.WireError):
        return None


def store(key, value) -> None:
    """Keep ``value`` for ``key``; quietly nothing when it can't be written."""
    path = _path(key)
    try:
        enc = wire.Encoder(_CAPS)
        frame = wire.pack({"value": enc.encode(value)}, enc.blobs)
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(frame)
            os.replace(tmp, path)  # whole or not at all: two lanes may store the same replay
        except BaseException:
            os.unlink(tmp)
            raise
    except (OSError, TypeError, ValueError):
        pass
