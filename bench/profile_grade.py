"""Where a grade's time goes: one submission's checks in one lane, in this process, timed.

Prints the sandbox's start, the pytest session's own cost (collection and per-test
overhead), each check file's and kind's time, and how much of it the student's code took
inside the sandbox (calls, line counts) against the grader's side (replays, verifiers,
comparisons). Run it twice: the first run also fills the replays' disk cache
(``autograder/replays.py``), the second shows a grade's usual cost.

    .venv/bin/python bench/profile_grade.py [--submission solutions] [--cold]
"""
from __future__ import annotations

import argparse
import collections
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

from autograder import config, judge, runner, sandbox, session  # noqa: E402


class _Clock:
    def __init__(self):
        self.spent = collections.Counter()
        self.count = collections.Counter()

    def wrap(self, owner, name, label):
        inner = getattr(owner, name)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.spent[label] += time.perf_counter() - start
                self.count[label] += 1

        setattr(owner, name, timed)


class _PerCheck:
    def __init__(self, clock):
        self.clock = clock

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        start = time.perf_counter()
        try:
            return (yield)
        finally:
            key = f"checks {item.path.name} {session.metadata(item)['kind']}"
            self.clock.spent[key] += time.perf_counter() - start
            self.clock.count[key] += 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--submission", default="solutions")
    ap.add_argument("--cold", action="store_true", help="empty the replays' cache first")
    args = ap.parse_args()
    if args.cold:
        shutil.rmtree(config.REPLAY_CACHE, ignore_errors=True)
    clock = _Clock()
    clock.wrap(sandbox.Sandbox, "call", "in the sandbox: calls")
    clock.wrap(sandbox.Sandbox, "count_lines", "in the sandbox: line counts")
    clock.wrap(judge, "replayed", "grader: replays (cache or computed)")
    clock.wrap(sandbox.Sandbox, "ready", "sandbox start: waiting for the worker")
    clock.wrap(runner, "Sandbox", "sandbox start: setting up, starting the worker")
    main_ = pytest.main
    session.pytest.main = lambda argv, plugins: main_(argv, plugins=[*plugins, _PerCheck(clock)])
    start = time.perf_counter()
    outcome = session.run_session(runner.start_sandbox(ROOT / args.submission))
    results = [t for tests in outcome.tests.values() for t in tests]
    total = time.perf_counter() - start
    checks = sum(v for k, v in clock.spent.items() if k.startswith("checks "))
    print(f"one lane, {len(results)} checks of {args.submission}: {total:.2f} s")
    start = sum(v for k, v in clock.spent.items() if k.startswith("sandbox start"))
    for label in ("sandbox start: setting up, starting the worker",
                  "sandbox start: waiting for the worker"):
        print(f"  {label:<48} {clock.spent[label]:6.2f} s")
    print(f"  {'pytest session (collection, per-test overhead)':<48} "
          f"{total - checks - start:6.2f} s")
    print(f"  {'the checks themselves':<48} {checks:6.2f} s, of which")
    for label in ("in the sandbox: calls", "in the sandbox: line counts",
                  "grader: replays (cache or computed)"):
        print(f"    {label:<46} {clock.spent[label]:6.2f} s  ({clock.count[label]} calls)")
    print("  by check file and kind:")
    for key, spent in clock.spent.most_common():
        if key.startswith("checks "):
            print(f"    {key[7:]:<46} {spent:6.2f} s  ({clock.count[key]} checks)")


if __name__ == "__main__":
    main()
