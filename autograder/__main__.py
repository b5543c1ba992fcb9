import os
import sys

# The grader's own numpy work is small: one BLAS thread leaves the cores to the lanes of
# checks and their sandboxes (and saves starting a thread pool per grade).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .cli import main  # noqa: E402

sys.exit(main())
