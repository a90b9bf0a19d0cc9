# Two commands on a fresh clone with only Python 3.11+ and make:
#   make run    the whole system on the embedded stack (kefu up)
#   make test   every test tier (unit, integration, e2e on the real embedded stack)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test test-unit test-integration test-e2e lint bench clean browser

# The console's browser tests drive Debian's chromium (Playwright cannot download one
# here). Installed when missing and we may (root, apt); otherwise the exact command.
CHROMIUM := /usr/bin/chromium
BROWSER_PACKAGES := chromium fonts-wqy-microhei

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[embedded,dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

run: $(STAMP)
	$(BIN)/kefu up $(ARGS)

browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the console's browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null || exit 1; \
	  else \
	    echo "The console's browser tests need Debian's chromium. Run:" >&2; \
	    echo "  sudo apt-get install -y $(BROWSER_PACKAGES)" >&2; \
	    exit 1; \
	  fi; \
	fi

# Two workers, a test module each at a time (--dist loadfile). The unit and integration
# tiers are CPU-bound and share nothing. Every e2e module starts its own broker and Redis
# on free ports, and its time is mostly spent waiting on real processes and SLA clocks,
# so two modules at once take half the time; it runs after the CPU-bound tiers.
PYTEST_WORKERS := -n 2 --dist loadfile
test: $(STAMP) browser
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_WORKERS) --durations=10 tests/unit tests/integration
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_WORKERS) --durations=25 tests/e2e

test-unit: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_WORKERS) tests/unit

test-integration: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_WORKERS) tests/integration

test-e2e: $(STAMP) browser
	$(BIN)/python -m pytest -q $(PYTEST_WORKERS) tests/e2e

lint: $(STAMP)
	$(BIN)/ruff check contracts services tests benchmarks

bench: $(STAMP)
	$(BIN)/python -m benchmarks.router_bench
	$(BIN)/python -m benchmarks.roles_bench
	$(BIN)/python -m benchmarks.firing_bench
	$(BIN)/python -m benchmarks.notifier_bench
	$(BIN)/python -m benchmarks.gateway_bench
	$(BIN)/python -m benchmarks.console_bench

clean:
	rm -rf $(VENV) var .pytest_cache
