# Quickstart: `make demo` and `make test` on a fresh machine (Python 3.11, pip, gcc).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSSTAMP := $(VENV)/.system-deps

.PHONY: demo test lint venv system-deps schema constraints clean

# Versions come from constraints.txt (pinned), ranges from pyproject.toml.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,eval,deploy]'
	touch $(STAMP)

venv: $(STAMP)

# Debian packages the checks need: Prometheus (prometheus + promtool) for the dashboard/rules tests.
$(SYSSTAMP):
	@if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then \
		echo "installing Debian package prometheus"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
	fi
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	touch $(SYSSTAMP)

system-deps: $(SYSSTAMP)

demo: $(STAMP)
	$(BIN)/insight-stream demo

lint: $(STAMP)
	$(BIN)/ruff check insight_stream tests examples deploy

test: $(STAMP) $(SYSSTAMP) lint
	$(BIN)/python -m pytest -q

schema: $(STAMP)
	$(BIN)/insight-stream schema --out schemas --doc docs/outputs.md

# Re-pin after changing a range in pyproject.toml: install the newest allowed versions, freeze them.
constraints:
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade -e '.[dev,eval,deploy]'
	{ sed -n '/^#/p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	touch $(STAMP)

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
