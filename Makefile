# Two commands do everything on a machine with only Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
RUN := $(UV) run --frozen

.PHONY: install demo up test bench lint typecheck schemas migration service clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

install: $(UV)
	$(UV) sync --frozen

demo: install
	$(RUN) passerelle demo

up: install
	$(RUN) passerelle up

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check shared services tests scripts bench
	$(RUN) lint-imports

typecheck: install
	$(RUN) mypy

test: install lint typecheck
	$(RUN) pytest

# Every benchmark (bench/README.md): consumer overhead, end-to-end latency, matching at 1,000,000
# offers; each prints its table with ratios against a baseline of the same run and writes bench/results/.
bench: install
	$(RUN) python bench/consumer.py
	$(RUN) python bench/end_to_end.py
	$(RUN) python bench/fan_out.py
	$(RUN) python bench/matching_at_scale.py

schemas: install
	$(RUN) passerelle contracts schemas

# make migration SERVICE=members MESSAGE="what changed"
migration: install
	$(RUN) python scripts/new_migration.py $(SERVICE) "$(MESSAGE)"

# make service NAME=gatherings: a new service in the house shape (ARCHITECTURE.md), listed in the
# workspace and deploy/base; it prints what is left to do by hand.
service: install
	$(RUN) python scripts/new_service.py $(NAME)
	$(UV) lock
	$(UV) sync --frozen

clean:
	rm -rf $(TOOLS) .venv .pytest_cache .mypy_cache .ruff_cache
