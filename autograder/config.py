"""Everything a course team may want to tune, in one place."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"      # the reference: imported by the grader only
ASSIGNMENTS = ROOT / "assignments"  # the generated student stubs
CHECKS = Path(__file__).resolve().parent / "checks"  # the hidden pytest tests

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
# A vectorised function may be this many times slower than a numpy baseline of similar
# work on the same array; a Python loop over the elements is 100x or more.
VECTORISATION_FACTOR = 25.0

# Kinds of check (SPEC.md "How a submission is graded").
KINDS = ("correctness", "gradient-check", "behaviour", "experiment")
