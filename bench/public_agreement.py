"""How well the public sample predicts the grade, on the corpora of tests/corpus/.

For every corpus submission (one-bug variants, different-but-correct variants, do-nothing
fakes) it runs the public sample as ``python -m autograder check`` does and the hidden
checks of the modules the submission changes (the rest of it is the reference), and prints
each submission's public pass rate next to its hidden score, then:

- caught: of the submissions that lose hidden points, how many fail at least one public case;
- false alarms: of those with full hidden marks, how many fail a public case;
- Spearman's rank correlation between public pass rate and hidden score, over all of them.

Both rates are over the cases and checks of the changed modules.

    .venv/bin/python bench/public_agreement.py [--jobs 2] [--only ID,ID]
"""
from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from autograder import runner  # noqa: E402
from tests.corpus.agreement import by_id, public_failures, public_total  # noqa: E402


def measure(submission_id: str) -> tuple[str, str, float, float, int]:
    """(id, group, public pass rate, hidden score fraction, public failures)."""
    s = by_id()[submission_id]
    with tempfile.TemporaryDirectory() as tmp:
        folder = s.build(Path(tmp) / s.id)
        failed = public_failures(folder, modules=s.modules)
        hidden = runner.grade(folder, select=s.select, lane_count=1)
    total = public_total(s.modules)
    return s.id, s.group, 1 - len(failed) / total, hidden.score / hidden.max_score, len(failed)


def spearman(a, b) -> float:
    def ranks(v):
        v = np.asarray(v, dtype=np.float64)
        order = np.argsort(v, kind="stable")
        r = np.empty(len(v))
        r[order] = np.arange(len(v))
        for value in np.unique(v):  # ties share their mean rank
            r[v == value] = r[v == value].mean()
        return r
    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--only", help="comma-separated submission ids")
    args = p.parse_args()
    ids = args.only.split(",") if args.only else list(by_id())
    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        rows = list(pool.map(measure, ids))
    print(f"{'submission':<44} {'group':<10} {'public':>7} {'hidden':>7}  failed")
    for sid, group, public, hidden, failed in rows:
        print(f"{sid:<44} {group:<10} {public:>7.1%} {hidden:>7.1%}  {failed}")
    losing = [r for r in rows if r[3] < 1]
    full = [r for r in rows if r[3] >= 1]
    caught = [r for r in losing if r[4] > 0]
    alarms = [r for r in full if r[4] > 0]
    print(f"\n{len(rows)} submissions: {len(losing)} lose hidden points, {len(full)} get full marks")
    print(f"caught: {len(caught)} of {len(losing)} that lose hidden points fail a public case"
          + (f"; missed: {', '.join(r[0] for r in losing if r[4] == 0)}" if len(caught) < len(losing) else ""))
    print(f"false alarms: {len(alarms)} of {len(full)} with full marks fail a public case"
          + (f": {', '.join(r[0] for r in alarms)}" if alarms else ""))
    if len(rows) > 2:
        print(f"Spearman rank correlation, public pass rate against hidden score: "
              f"{spearman([r[2] for r in rows], [r[3] for r in rows]):.2f}")


if __name__ == "__main__":
    main()
