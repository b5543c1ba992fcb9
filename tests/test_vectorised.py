"""The vectorisation check decides by counting lines, not by a clock (issue 12, point 3).

Loop-based submissions lose exactly the "vectorised" point of the function that loops, and
the same submission gets the same score on an idle and on a busy machine: a loop over
chunks of 10 elements (where timing used to draw the line, and scored 0.5, 0.5, 0 on three
idle runs) and one over chunks of 32 are graded with CPU burners on every core and without.
"""
import multiprocessing
import os
from pathlib import Path

import pytest

from autograder import config, runner
from tests.corpus import Variant, build, lost
from tests.corpus.activation_bugs import BUGS

SELECT = "test_vectorised and (relu or tanh_grad)"
LOOPS = [v for v in BUGS if v.id in ("relu-python-loop", "tanh-grad-python-loop")]


def _chunked(size: int) -> Variant:
    return Variant(id=f"relu-chunks-of-{size}", module="activations", why="a loop over chunks",
                   source=f'''
def relu(x):
    x = _as_float(x)
    out = np.empty_like(x)
    flat_in, flat_out = x.reshape(-1), out.reshape(-1)
    for i in range(0, flat_in.size, {size}):
        flat_out[i:i + {size}] = np.maximum(flat_in[i:i + {size}], 0.0)
    return out
''')


def _vectorised_scores(folder: Path) -> dict:
    result = runner.grade(folder, select=SELECT, lane_count=1)
    assert result.internal == [], result.internal
    return {t.name: t.score for t in result.tests}


def _burn() -> None:
    while True:
        pass


@pytest.mark.parametrize("variant", LOOPS, ids=[v.id for v in LOOPS])
def test_a_loop_loses_exactly_its_vectorised_point(variant, tmp_path):
    result = runner.grade(build(variant, tmp_path / variant.id),
                          select="test_activations or test_derivatives")
    failed = [t for t in result.tests if not t.passed]
    assert [t.function for t in failed] == list(variant.breaks), [t.name for t in failed]
    assert "vectorised" in failed[0].name and failed[0].score == 0, failed[0]
    assert list(lost(result)) == list(variant.breaks)
    assert "lines of your Python code" in failed[0].output and "Hint:" in failed[0].output


def test_the_same_submission_scores_the_same_idle_and_under_load(tmp_path):
    folders = {"reference": config.SOLUTIONS}
    for size in (10, 32):
        folders[size] = build(_chunked(size), tmp_path / f"chunks{size}")
    idle = {k: _vectorised_scores(f) for k, f in folders.items()}
    burners = [multiprocessing.get_context("fork").Process(target=_burn, daemon=True)
               for _ in range(2 * (os.cpu_count() or 1))]
    for b in burners:
        b.start()
    try:
        busy = {k: _vectorised_scores(f) for k, f in folders.items()}
    finally:
        for b in burners:
            b.kill()
            b.join()
    assert idle == busy
    relu = next(name for name in idle["reference"] if name.startswith("relu:"))
    assert idle["reference"][relu] > 0  # vectorised: the point
    assert idle[10][relu] == 0  # 0.2 lines per element: a loop
    # 2 lines per 32 elements is under config's limit: vectorised enough, the point
    assert 2 / 32 < config.VECTOR_LINES_PER_ELEMENT and idle[32][relu] == idle["reference"][relu]
