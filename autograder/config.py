"""Everything a course team may want to tune, in one place."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"      # the reference: imported by the grader only
ASSIGNMENTS = ROOT / "assignments"  # the generated student stubs
CHECKS = Path(__file__).resolve().parent / "checks"  # the hidden pytest tests
# With two cores or more, the hidden checks run in these lanes side by side, each in its own
# copy of the grader with its own sandbox (runner.lanes). Balanced by measured cost (each
# file alone, in one lane, CPU of the grader and its sandbox counted); the results are joined
# in the check files' order whatever the lanes.
CHECK_LANES = (("activations", "linear_collapse", "dying_relu"), ("derivatives", "saturation"))

# The exercise modules a submission provides (SPEC.md "A submission"); the given helpers
# (datasets.py, mlp.py, and lab.py, which runs the experiment modules as scripts) are taken
# from the reference, not from the student.
EXERCISE_MODULES = ("activations", "derivatives", "linear_collapse", "dying_relu", "saturation")
GIVEN_MODULES = ("datasets", "mlp", "lab")

# The one seed every check derives its random inputs from: same submission, same result.
SEED = 20261128

# Accuracy, from SPEC.md "Array contract".
RTOL64, ATOL64 = 1e-7, 1e-12
RTOL32, ATOL32 = 1e-5, 1e-6
# The public sample's small experiment runs against the reference's results computed at
# release (public_cases.py): training on another machine may round differently.
PUBLIC_RUN_RTOL, PUBLIC_RUN_ATOL = 1e-6, 1e-9

# Per-call wall-clock limits in seconds (the sandbox enforces them from outside).
CALL_TIMEOUT = 2.0
EXPERIMENT_TIMEOUT = 10.0


@dataclass(frozen=True)
class SandboxLimits:
    """Every limit of the sandbox, in one place (SECURITY.md's table lists them). Sent to
    the sandbox's worker once, as its configuration; a test or a caller may pass others."""

    call_timeout: float = CALL_TIMEOUT  # wall-clock seconds a call, unless it says otherwise
    lines_timeout: float = 10.0  # wall-clock seconds for a whole count_lines (a hang's bound)
    import_timeout: float = 10.0  # wall-clock seconds to import one student module
    start_timeout: float = 30.0  # to start the worker (numpy import)
    grace: float = 3.0  # extra wait before the worker itself is declared hung
    memory_bytes: int = 1536 * 2**20  # RLIMIT_AS per module child
    cpu_seconds: int = 60  # RLIMIT_CPU per module child (a backstop; walls clocks kill first)
    file_bytes: int = 64 * 2**20  # RLIMIT_FSIZE: output capture and files written
    tmp_bytes: int = 256 * 2**20  # size of the private /tmp (bubblewrap)
    open_files: int = 256  # RLIMIT_NOFILE
    processes: int = 128  # RLIMIT_NPROC for the sandbox uid (only with a dedicated uid)
    output_bytes: int = 4096  # captured output returned per call
    max_array_elements: int = 2**24
    max_frame_bytes: int = 256 * 2**20
    max_depth: int = 16
    max_items: int = 100_000
    # A module whose calls stopped the worker this many times is not called again; its
    # losses never cost another module's checks (nor depend on which lane it runs in).
    max_worker_restarts: int = 3
    max_worker_restarts_total: int = 15  # a backstop over all modules (5 exercises x 3)


# What intake (collect.py) takes from a submission.
MAX_FILE_BYTES = 1 << 20       # a source file larger than 1 MiB is not an exercise module
MAX_NOTEBOOK_BYTES = 8 << 20   # a notebook may hold its figures' outputs too
MAX_TOTAL_BYTES = 16 << 20     # all files taken together
MAX_ENTRIES = 2000             # a zip listing more entries than this is refused

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
