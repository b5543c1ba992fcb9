"""Wall time of each experiment script on the reference, next to a bare numpy start.

What a student pays for ``python linear_collapse.py OUT`` (likewise ``dying_relu.py``,
``saturation.py``), run from ``solutions/`` as fresh processes, alternating, in this one run:
the median over ``--runs`` and the ratio to ``python -c "import numpy, matplotlib.figure"``
(machines differ; the ratio travels better). Target (issue 13): each script in seconds.
Also the slowest step each script reported (its ``[k/n] ... s`` lines, ``lab.py``).

    .venv/bin/python bench/experiments.py [--runs 3]
"""
from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ("linear_collapse", "dying_relu", "saturation")
STEP = re.compile(r"^\[\d+/\d+\] (?P<label>.*) \.\.\. (?P<seconds>[0-9.]+) s$")


def _run(argv: list[str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    python, solutions = sys.executable, ROOT / "solutions"
    times: dict[str, list[float]] = {name: [] for name in ("numpy start", *SCRIPTS)}
    slowest: dict[str, tuple[float, str]] = {}
    with tempfile.TemporaryDirectory() as out:
        for _ in range(runs):
            times["numpy start"].append(_run([python, "-c", "import numpy, matplotlib.figure"], solutions)[0])
            for name in SCRIPTS:
                seconds, stdout = _run([python, f"{name}.py", out], solutions)
                times[name].append(seconds)
                steps = [(float(m["seconds"]), m["label"]) for m in map(STEP.match, stdout.splitlines()) if m]
                slowest[name] = max([slowest.get(name, (0.0, "")), *steps])
    base = statistics.median(times["numpy start"])
    print(f"experiment scripts on the reference, median of {runs} (fresh processes, this machine)")
    print(f"{'script':<22}{'seconds':>9}{'x numpy start':>15}   slowest step")
    for name, values in times.items():
        median = statistics.median(values)
        step = f"{slowest[name][0]:.2f} s  {slowest[name][1]}" if name in slowest else ""
        print(f"{name + ('.py' if name in SCRIPTS else ''):<22}{median:>9.2f}{median / base:>15.1f}   {step}")


if __name__ == "__main__":
    main()
