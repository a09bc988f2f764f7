# Two entry points, both safe on a fresh clone with only Python 3.11 and make:
#   make demo   create .venv, install, plan all 40 institutions against the embedded sandbox
#   make test   create .venv, install with test extras, run linters, types, layers and tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test lint typecheck layers unit repo-checks rehearse benchmark clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# Stamps re-run the install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[test]'
	touch $(VENV)/.installed $@

# The demo plan is meant to show safety violations, so exit 3 (plan refused) is a success here.
demo: $(VENV)/.installed
	$(BIN)/alma-groups validate
	@$(BIN)/alma-groups plan --all --sandbox; code=$$?; \
	if [ $$code -eq 3 ]; then echo "(exit 3: some plans break safety rules; apply would refuse them)"; \
	elif [ $$code -ne 0 ]; then exit $$code; fi

lint: $(VENV)/.installed-test
	$(BIN)/ruff check reconciler tests benchmarks scripts
	$(BIN)/ruff format --check reconciler tests benchmarks scripts

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

layers: $(VENV)/.installed-test
	$(BIN)/lint-imports

# CODEOWNERS must match the owners in every institution.yaml (generated, then committed).
repo-checks: $(VENV)/.installed-test
	$(BIN)/alma-groups codeowners --check .github/CODEOWNERS

unit: $(VENV)/.installed-test
	$(BIN)/pytest -q

# The GitOps loop (plan comment, apply on merge, drift) played locally against the sandbox and a
# fake GitHub: see scripts/rehearse.py.
rehearse: $(VENV)/.installed-test
	$(BIN)/python scripts/rehearse.py

test: lint typecheck layers repo-checks unit rehearse

# Timing targets are reported, never asserted in tests: these machines are shared and noisy.
benchmark: $(VENV)/.installed
	$(BIN)/python benchmarks/validate.py
	$(BIN)/python benchmarks/plan.py
	$(BIN)/python benchmarks/survey.py
	$(BIN)/python benchmarks/client_throughput.py
	$(BIN)/python benchmarks/ingest.py --size-mb 50
	$(BIN)/python benchmarks/scale.py --skip-full
	$(BIN)/python benchmarks/apply.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .sandbox
