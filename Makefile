# Two commands set everything up on a fresh machine: `make grade` and `make test`.
# The venv is made from the system interpreter when there is one: it lives under /usr,
# which the sandbox's unprivileged user can read (a pyenv under /root is mode 0700).
PYTHON ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
EXTRAS ?= dev,nbgrader,cluster

.PHONY: setup grade test stubs bench clean

$(VENV)/.installed-$(EXTRAS): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[$(EXTRAS)]'
	touch $@

# The grader's bytecode, compiled ahead: every grade reads it instead of compiling the grader
# again (about 0.1 s a grade), also where PYTHONDONTWRITEBYTECODE is set, as on these
# machines and in many container images. Only what changed is compiled again.
setup: $(VENV)/.installed-$(EXTRAS)
	@$(PY) -m compileall -q autograder solutions >/dev/null

grade: setup
	$(PY) -m autograder grade solutions --json out/results.json --junit out/junit.xml

test: setup
	PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 $(PY) -m pytest -q

stubs: setup
	$(PY) -m autograder stubs

bench: setup
	$(PY) bench/grade_one.py

clean:
	rm -rf $(VENV) out
