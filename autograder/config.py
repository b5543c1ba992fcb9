"""Everything a course team may want to tune, in one place."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"      # the reference: imported by the grader only
ASSIGNMENTS = ROOT / "assignments"  # the generated student stubs
CHECKS = Path(__file__).resolve().parent / "checks"  # the hidden pytest tests
# With two cores or more, the hidden checks run in these lanes side by side, each in its own
# copy of the grader with its own sandbox (runner.lanes). Balanced by measured cost: the
# experiments (and matplotlib's start in each lane's sandbox) weigh as much as the rest.
CHECK_LANES = (("activations", "derivatives", "dying_relu"), ("linear_collapse", "saturation"))

# The exercise modules a submission provides (SPEC.md "A submission"); the given helpers
# (datasets.py, mlp.py) are taken from the reference, not from the student.
EXERCISE_MODULES = ("activations", "derivatives", "linear_collapse", "dying_relu", "saturation")
GIVEN_MODULES = ("datasets", "mlp")

# The one seed every check derives its random inputs from: same submission, same result.
SEED = 20261128

# Accuracy, from SPEC.md "Array contract".
RTOL64, ATOL64 = 1e-7, 1e-12
RTOL32, ATOL32 = 1e-5, 1e-6

# Per-call wall-clock limits in seconds (the sandbox enforces them from outside).
CALL_TIMEOUT = 2.0
EXPERIMENT_TIMEOUT = 10.0
# Vectorised means "runs the same Python lines whatever the input's size" (SPEC.md's "numpy
# time, not Python loop time"), judged without a clock, so load can't change it: the lines
# the submission's own code runs are counted (in the sandbox) on the first VECTOR_SIZES[0]
# and VECTOR_SIZES[1] elements of an input, and may grow by at most VECTOR_LINES_PER_ELEMENT
# per extra element. A loop over the elements runs one line or more per element; a loop over
# chunks of 10 (about 10x numpy's time, where timing used to draw the line) 0.2 or more.
VECTOR_SIZES = (1_000, 8_000)
VECTOR_LINES_PER_ELEMENT = 0.1
# Where the reference's experiment runs that the grader replays are kept between grades
# (replays.py): computed once per reference and machine. Beside the grader's code, so as
# well protected; delete it freely, it is made again.
REPLAY_CACHE = ROOT / ".replays"
# A whole submission in `batch`: a safety net for a grader that hangs (each call already
# has its own limit above); the grader process is killed and the submission retried next run.
BATCH_SUBMISSION_TIMEOUT = 600.0
# `batch` on a Dask cluster (cluster.py, docs/scale.md): how often a submission whose Dask
# worker died under it is tried on another (Dask's allowed-failures) before it is recorded
# as the grader's failure (graded again next run), and how many submissions the client keeps
# queued on the scheduler at once (enough for every worker; bounds the scheduler's memory).
CLUSTER_RETRIES = 1
CLUSTER_IN_FLIGHT = 2000
# The Pythons of the Gradescope base images the autograder zip installs on, with the image
# and its glibc (which manylinux wheels it takes): requirements are resolved for each one.
# Ubuntu 20.04's Python 3.8 is older than the project supports: setup.sh stops there and says so.
GRADESCOPE_PYTHONS = {"3.10": ("Ubuntu 22.04", (2, 35)), "3.11": ("Debian 12", (2, 36)),
                      "3.12": ("Ubuntu 24.04", (2, 39))}
# A whole run on Gradescope, in seconds: keep it under the assignment's own limit there
# (10 minutes by default), so run_autograder still has time to write results.json.
GRADESCOPE_TIMEOUT = 480

# Kinds of check (SPEC.md "How a submission is graded").
KINDS = ("correctness", "gradient-check", "behaviour", "experiment")

# How many stages of a hint (a nudge, the idea, the recipe: hints.py) a failed check shows in
# grades and feedback; a student asks for more with `python -m autograder check --hints 3`.
HINT_LEVEL = 2
