# tradewire: two entry points, `make run` and `make test`. Both create the environment first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test lint bench system-deps venv web clean

# The mypyc-compiled order path (tradewire._native.NATIVE_MODULES) is rebuilt when its sources change;
# until then tradewire runs them from source (see src/tradewire/_native.py).
NATIVE_SRC := src/tradewire/_native.py $(wildcard src/tradewire/model/*.py src/tradewire/core/*.py \
	src/tradewire/execution/*.py src/tradewire/portfolio/*.py src/tradewire/risk/*.py src/tradewire/venues/paper/*.py)

$(STAMP): requirements.lock pyproject.toml setup.py src/tradewire/data/_book_core.pyx $(NATIVE_SRC)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

# Dashboard (web/, TypeScript + Vite) built into the package's static/dist; needs node + npm.
WEB_DIST := src/tradewire/api/static/dist/index.html
WEB_SRC := $(wildcard web/src/*) web/index.html web/package.json web/package-lock.json web/vite.config.ts web/tsconfig.json
# `npm install` (not `npm ci`): it installs the locked versions, and tolerates the optional platform
# packages (rollup/esbuild binaries for other OSes) that npm leaves out of the lock on this setup.
web/node_modules/.package-lock.json: web/package-lock.json web/package.json
	cd web && npm install --no-audit --no-fund
$(WEB_DIST): web/node_modules/.package-lock.json $(WEB_SRC)
	cd web && npm run build
web: $(WEB_DIST)

# Debian packages the tests use: chromium (browser tests) and postgresql (persistence suite).
system-deps:
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  need=""; \
	  [ -x /usr/bin/chromium ] || need="$$need chromium"; \
	  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$$need postgresql"; \
	  if [ -n "$$need" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; fi; \
	else echo "system-deps: not root or no apt-get; install chromium and postgresql yourself"; fi

run: $(STAMP) web
	$(BIN)/tradewire run --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

# Browser tests run in their own pytest process: Playwright's sync API keeps an event loop running in the
# main thread for the rest of a session, which would break later tests that call asyncio.run().
# The order path's unit tests run a second time from source (TRADEWIRE_PURE_PYTHON=1): the fallback
# used where the native build is missing or stale.
PURE_TESTS := tests/unit/model tests/unit/execution tests/unit/portfolio tests/unit/risk tests/unit/venues/paper \
	tests/unit/core
test: $(STAMP) system-deps web
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -c "import tradewire._native as n; print('order path:', n.IMPLEMENTATION, '-', n.REASON)"
	$(BIN)/python -m pytest -n 2 -m "not browser" $(PYTEST_ARGS)
	TRADEWIRE_PURE_PYTHON=1 $(BIN)/python -m pytest -n 2 -m "not browser" $(PURE_TESTS) $(PYTEST_ARGS)
	$(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

bench: $(STAMP)
	for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) tradewire-data web/node_modules src/tradewire/api/static/dist
