"""Run an experiment module as a lab script (given: nothing to write here).

``python linear_collapse.py OUT_DIR`` (likewise ``dying_relu.py`` and ``saturation.py``) runs
that module's experiments one step at a time through a ``Lab``: every step says what it runs
and how long it took, every figure is written the moment it is drawn (and the script says
where), and a step that runs far longer than the reference's (about a second at most) is
stopped with a message naming the function, instead of hanging. The bound only stops a
hang: no grade depends on these scripts (the autograder runs and times nothing of them).
Set ``LAB_STEP_SECONDS`` to change it.
"""
import _thread
import os
import sys
import threading
import time
from pathlib import Path

STEP_SECONDS = 60.0  # per step; the reference's longest step takes about a second


class TooSlow(Exception):
    """A step ran past the time bound."""


class Lab:
    """Numbered, timed, time-bounded steps writing figures into ``out_dir``."""

    def __init__(self, out_dir, steps, limit=None, stream=None):
        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.steps, self.done = steps, 0
        self.limit = float(os.environ.get("LAB_STEP_SECONDS", STEP_SECONDS) if limit is None else limit)
        self.stream = stream or sys.stdout
        self.written = []

    def say(self, text):
        print(text, file=self.stream, flush=True)

    def run(self, label, function, *args, **kwargs):
        """``function(*args, **kwargs)`` as the next step, announced, timed and bounded."""
        self.done += 1
        print(f"[{self.done}/{self.steps}] {label} ...", end="", file=self.stream, flush=True)
        start = time.perf_counter()
        result = bounded(self.limit, label, function, *args, **kwargs)
        self.say(f" {time.perf_counter() - start:.2f} s")
        return result

    def figure(self, filename, draw, *args, **kwargs):
        """Draw a figure as the next step and write it to ``out_dir/filename`` at once."""
        fig = self.run(f"drawing {filename}", draw, *args, **kwargs)
        path = self.out / filename
        fig.savefig(path, dpi=100)
        self.written.append(path)
        self.say(f"      wrote {path}")
        return path


def bounded(limit, label, function, *args, **kwargs):
    """``function(*args, **kwargs)``, stopped with ``TooSlow`` after ``limit`` seconds.

    A timer interrupts the main thread (as Ctrl-C would), so the student's own code stops
    wherever it is looping, on every platform."""
    fired = threading.Event()

    def expire():
        fired.set()
        _thread.interrupt_main()

    timer = threading.Timer(limit, expire)
    timer.daemon = True
    timer.start()
    try:
        return function(*args, **kwargs)
    except KeyboardInterrupt:
        if not fired.is_set():
            raise
        raise TooSlow(
            f"stopped: {label} ran for more than {limit:g} s; the reference takes about a "
            "second. A Python loop over the elements, rows or steps of an array is the usual "
            "cause: use whole-array numpy operations. (LAB_STEP_SECONDS sets the bound.)") from None
    finally:
        timer.cancel()


def script(main, argv=None):
    """Run ``main(out_dir)`` as a command: OUT_DIR from ``argv`` (``sys.argv[1:]``), "out" by
    default. A too-slow step or a function not written yet ends it with a message, not a
    traceback; exit status 1 then."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        main(*argv[:1])
    except TooSlow as exc:
        print(f"\n{exc}", file=sys.stderr)
        sys.exit(1)
    except NotImplementedError as exc:
        print(f"\nstopped: {exc} is not written yet (it raises NotImplementedError); write it "
              "and run the script again.", file=sys.stderr)
        sys.exit(1)
