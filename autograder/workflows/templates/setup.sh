#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image. It installs
# what the grader needs; run_autograder then grades each submission.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
cd "$(dirname "$0")"

# requirements.txt pins wheels for these Pythons only (Gradescope's base images @IMAGES@);
# on another, e.g. Ubuntu 20.04's 3.8, stop here with a message instead of half-installing.
PY=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo none)
case " @PYTHONS@ " in
    *" $PY "*) ;;
    *) echo "setup.sh: this autograder installs on Python @PYTHONS@ (base images @IMAGES@), but" \
            "this image's python3 is $PY. Choose one of those base images in the assignment's" \
            "autograder settings (Ubuntu 22.04 or newer)." >&2
       exit 1 ;;
esac

# bubblewrap is the stronger sandbox (without it, or where the container forbids user
# namespaces, the grader isolates student code in a plain limited process and says so).
if ! command -v bwrap >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends bubblewrap
fi

# The grader's own venv, made from the system python3 under /usr: the sandbox's
# unprivileged user must be able to run it (python3-venv provides ensurepip).
if ! python3 -m venv --clear "$ROOT/venv" >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv
    python3 -m venv --clear "$ROOT/venv"
fi
"$ROOT/venv/bin/python" -m pip install --quiet --no-cache-dir -r requirements.txt
# The grader's bytecode, compiled once here: each submission's run then reads it instead of
# compiling the grader again (about 0.1 s a run), also where PYTHONDONTWRITEBYTECODE is set.
"$ROOT/venv/bin/python" -m compileall -q "$ROOT/source" >/dev/null

# The sandbox runs student code as an unprivileged user, who must read the worker.
chmod -R a+rX "$ROOT/source" "$ROOT/venv"

# Grade the reference once: the grader keeps the reference's experiment runs it replays
# (autograder/replays.py), so each student's run starts with them computed (about a third
# of a grade's CPU). Only a speed-up: a failure here changes no grade.
(cd "$ROOT/source" && "$ROOT/venv/bin/python" -m autograder grade solutions --json /dev/null) \
    >/dev/null 2>&1 || true
