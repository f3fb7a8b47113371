# Two commands do everything on a machine with only Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
RUN := $(UV) run --frozen

.PHONY: install browser demo up test bench lint typecheck schemas migration service clean

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
	$(RUN) ruff format --check shared services tests scripts bench examples
	$(RUN) lint-imports

typecheck: install
	$(RUN) mypy

# The portal's browser tests (tests/portal) drive Chromium: on Debian the distribution's package
# (Playwright's own browser download may be out of reach), elsewhere Playwright's.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser: install
	@command -v chromium >/dev/null || { \
	  if command -v apt-get >/dev/null; then \
	    $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; \
	  else $(RUN) playwright install chromium; fi; }

test: install lint typecheck browser
	$(RUN) pytest

# Every benchmark (bench/README.md): consumer overhead, end-to-end latency, matching at 1,000,000
# offers; each prints its table with ratios against a baseline of the same run and writes bench/results/.
bench: install
	$(RUN) python bench/consumer.py
	$(RUN) python bench/end_to_end.py
	$(RUN) python bench/fan_out.py
	$(RUN) python bench/matching_at_scale.py

# The events' JSON Schemas (in the contracts package) and the catalogue docs/events.md, from the registry.
schemas: install
	$(RUN) passerelle contracts schemas
	$(RUN) passerelle contracts catalogue --out docs/events.md

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
