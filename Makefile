# The README's two commands: `make demo` and `make test`. Each installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
DB ?= example.db

.PHONY: install system-deps axe demo test quick lint bench screenshots

$(BIN)/daybook: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/daybook

# Debian packages the tests and benchmarks use (Chromium, chromium-driver, Hugo, wrk, PostgreSQL).
system-deps:
	scripts/system-deps

# axe-core, from npm, for the accessibility tests (tests/test_reader_browser.py).
axe:
	test -f .cache/axe/node_modules/axe-core/axe.min.js || npm install --prefix .cache/axe axe-core@4 --no-audit --no-fund

# The main job on the bundled example days (offline, embedded SQLite store): ingest, enrich
# from a loopback stand-in for the web serving examples/articles, relate, build (scripts/demo).
demo: install
	BIN=$(BIN) DB=$(DB) OUT=example-site scripts/demo

# The whole test suite (needs ../shared beside the project).
test: install system-deps axe
	$(BIN)/pytest

# The quick loop: the suite without the slow tests and the browser tests (no Chromium needed).
quick: install
	$(BIN)/pytest -m "not slow and not browser"

# Each page kind of the example site at 390 px and 1280 px, light and dark, into screenshots/.
screenshots: demo system-deps
	$(BIN)/python scripts/screenshots.py example-site screenshots

lint: install
	$(BIN)/ruff check daybook tests benchmarks
	$(BIN)/ruff format --check daybook tests benchmarks
	$(BIN)/mypy

bench: install system-deps
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/extract.py
	$(BIN)/python benchmarks/enrich.py
	$(BIN)/python benchmarks/relate.py
	$(BIN)/python benchmarks/rankers.py
	$(BIN)/python benchmarks/search_index.py
	$(BIN)/python benchmarks/serve.py
	$(BIN)/python benchmarks/update.py
