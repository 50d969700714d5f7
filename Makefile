# The two set-up commands: `make lab` and `make test`. Each creates .venv when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP_LAB  := $(VENV)/.installed-lab
STAMP_TEST := $(VENV)/.installed-test
WORKSPACE ?= descentlab-course

.PHONY: lab instructor test venv clean-venv assign system-packages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

## Packages are installed by uv (itself from PyPI, like everything else): the same versions
## pip resolves, in 10 s instead of 53 s on a fresh machine with no cache (measured with both).
## Unlike pip, uv writes no bytecode unless asked; where PYTHONDONTWRITEBYTECODE is set, no
## process writes it either, and every process (each Jupyter kernel, nbgrader and descentlab
## command) compiled its imports from source: a kernel's start took 1.04 CPU-s instead of
## 0.48. So the venv is compiled at install, and descentlab's own sources with it.
$(BIN)/uv: $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
INSTALL = $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python
COMPILE_OWN = $(BIN)/python -m compileall -q src >/dev/null

## jsonschema's optional rfc3987-syntax (pulled in by jupyter-events) builds a parser when
## imported: 2.8 s at the start of every process that imports nbformat (each nbgrader and
## descentlab command, the Jupyter server). Without it jsonschema just skips the "iri" format.
DROP_SLOW_IMPORTS = $(BIN)/uv pip uninstall --quiet --python $(BIN)/python rfc3987-syntax 2>/dev/null || true

$(STAMP_LAB): $(BIN)/uv pyproject.toml
	$(INSTALL) -e .
	$(DROP_SLOW_IMPORTS)
	$(COMPILE_OWN)
	touch $@

$(STAMP_TEST): $(BIN)/uv pyproject.toml
	$(INSTALL) -e '.[test]'
	$(DROP_SLOW_IMPORTS)
	$(COMPILE_OWN)
	touch $@ $(STAMP_LAB)

venv: $(STAMP_LAB)

## make lab: install, enable nbgrader's JupyterLab extension, copy the course into a
## git-ignored workspace (never overwriting work) and start JupyterLab there.
lab: $(STAMP_LAB) $(VENV)/.learner-view
	$(BIN)/descentlab start $(WORKSPACE)

## make instructor: JupyterLab in this repository with nbgrader's formgrader and instructor
## tools on, from a Jupyter configuration folder of its own (the learner view stays as is).
instructor: $(STAMP_LAB)
	$(BIN)/descentlab instructor

## The learner's JupyterLab keeps nbgrader's Validate button and hides the instructor's
## tools (Nbgrader menu, Create Assignment, Formgrader, exchange lists), in this venv only.
## tests/e2e checks the same settings in a browser.
INSTRUCTOR_LAB_PLUGINS := @jupyter/nbgrader:menu @jupyter/nbgrader:create-assignment \
	@jupyter/nbgrader:formgrader @jupyter/nbgrader:assignment-list @jupyter/nbgrader:course-list
INSTRUCTOR_SERVER_EXTENSIONS := nbgrader.server_extensions.formgrader \
	nbgrader.server_extensions.assignment_list nbgrader.server_extensions.course_list
$(VENV)/.learner-view: $(STAMP_LAB)
	$(BIN)/jupyter labextension enable --level=sys_prefix @jupyter/nbgrader:validate-assignment >/dev/null
	$(BIN)/jupyter server extension enable --sys-prefix nbgrader.server_extensions.validate_assignment >/dev/null
	$(BIN)/jupyter labextension disable --level=sys_prefix $(INSTRUCTOR_LAB_PLUGINS) >/dev/null
	$(BIN)/jupyter labextension lock --level=sys_prefix $(INSTRUCTOR_LAB_PLUGINS) >/dev/null
	$(BIN)/jupyter server extension disable --sys-prefix $(INSTRUCTOR_SERVER_EXTENSIONS) >/dev/null
	touch $@

## make test: install with the test extras (and the browser-test system packages) and
## run the whole suite.
test: $(STAMP_TEST) system-packages
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest -n auto --dist loadgroup --no-loadscope-reorder

## Debian packages the suite needs: Chromium for the browser tests, bubblewrap for the
## grader's sandbox, PostgreSQL for the shared-gradebook tests (a private server the tests
## start themselves). Installed when missing and we may (root with apt-get); otherwise the
## tests that need them say loudly what is missing.
SYSTEM_PACKAGES := chromium bubblewrap postgresql
system-packages:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"; \
	{ command -v pg_ctl || ls /usr/lib/postgresql/*/bin/pg_ctl; } >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "WARNING: missing Debian packages:$$missing (run as root: apt-get install$$missing)"; \
	  fi; \
	fi

assign: $(STAMP_LAB)
	$(BIN)/descentlab assign

clean-venv:
	rm -rf $(VENV)
